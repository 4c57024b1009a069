import { checkInvariants, createBooks, entryCount, type Books } from './support/books';
import { BACKEND, key, startTestLedger, type TestLedger } from './support/harness';

// Money Veil booked before the bank said so (a Transfer, a draw, a bill paid in Veil, a typed entry): the bank's
// own line, arriving later by import, Plaid sync or by hand, stands for that entry and is never booked again, not
// by a rule and not as a transfer between two of the lines.

let ledger: TestLedger;
let books: Books;

beforeAll(async () => {
  ledger = await startTestLedger();
  books = await createBooks(ledger, {
    name: 'Matching LLC',
    accounts: { checking: 'checking', savings: 'savings', owed: 'checking', software: 'expense_category', transfers: 'expense_category', opening: 'opening_balance' },
  });
  // A rule that would book any line mentioning a transfer: matching must come before it.
  await ledger.http
    .post(`/entities/${books.entityId}/rules`)
    .set('Idempotency-Key', key())
    .send({ name: 'Transfers', conditions: { payeeContains: 'transfer' }, action: { categoryAccountId: books.accounts.transfers } })
    .expect(201);
});
afterAll(() => ledger.close());

const account = (name: string) => books.accounts[name] as string;

async function book(postedOn: string, description: string, postings: [string, number][]) {
  const response = await ledger.http
    .post(`/entities/${books.entityId}/entries`)
    .set('Idempotency-Key', key())
    .send({ postedOn, description, postings: postings.map(([name, amountCents]) => ({ accountId: account(name), amountCents })) })
    .expect(201);
  return response.body.id as string;
}

function importCsv(accountName: string, rows: string[]) {
  const bytes = Buffer.from(['Date,Description,Amount', ...rows].join('\n'));
  return ledger.http.post(`/accounts/${account(accountName)}/imports`).set('Idempotency-Key', key()).attach('file', bytes, 'statement.csv').expect(201);
}

async function linesOf(accountName: string) {
  return ledger.deps.db
    .selectFrom('bankLines')
    .select(['id', 'postedOn', 'amountCents', 'status', 'entryId', 'statusReason'])
    .where('accountId', '=', account(accountName))
    .orderBy('postedOn')
    .orderBy('amountCents')
    .execute();
}

describe(`bank lines for entries already booked (${BACKEND})`, () => {
  it('both sides of a Transfer booked in Veil match its one entry: no transfer pair booked, no rule', async () => {
    const entryId = await book('2026-03-02', 'Move to savings', [
      ['savings', 120_000],
      ['checking', -120_000],
    ]);
    const before = await entryCount(ledger.deps.db, books.entityId);
    const checking = await importCsv('checking', ['2026-03-04,ONLINE TRANSFER TO SAV 1234,-1200.00']);
    const savings = await importCsv('savings', ['2026-03-03,ONLINE TRANSFER FROM CHK 9876,1200.00']);
    expect(checking.body).toMatchObject({ new: 1, booked: 0, matchedToEntries: 1, transfersBooked: 0 });
    expect(savings.body).toMatchObject({ new: 1, booked: 0, matchedToEntries: 1, transfersBooked: 0 });
    expect(await entryCount(ledger.deps.db, books.entityId)).toBe(before);
    for (const name of ['checking', 'savings']) {
      const [line] = await linesOf(name);
      expect(line).toMatchObject({ status: 'matched', entryId });
      expect(line?.statusReason).toMatch(/Move to savings/);
    }
    // The stored report says the same when read back.
    const stored = await ledger.http.get(`/imports/${checking.body.importId}`).expect(200);
    expect(stored.body.matchedToEntries).toBe(1);
    const invariants = await checkInvariants(ledger.deps.db);
    expect(invariants).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
  });

  it('each posting takes one line: two equal entries match two lines, a third equal line is left to the rules', async () => {
    const first = await book('2026-04-10', 'Figma seat', [
      ['software', 1_500],
      ['owed', -1_500],
    ]);
    const second = await book('2026-04-12', 'Figma seat', [
      ['software', 1_500],
      ['owed', -1_500],
    ]);
    const before = await entryCount(ledger.deps.db, books.entityId);
    const report = await importCsv('owed', ['2026-04-11,FIGMA,-15.00', '2026-04-13,FIGMA,-15.00', '2026-04-14,FIGMA,-15.00']);
    expect(report.body).toMatchObject({ new: 3, matchedToEntries: 2, booked: 0 });
    const lines = await linesOf('owed');
    // Closest date wins: the line of the 11th takes the entry of the 10th, the 13th the 12th's; the 14th is left.
    expect(lines.map((line) => [line.postedOn, line.status, line.entryId])).toEqual([
      ['2026-04-11', 'matched', first],
      ['2026-04-13', 'matched', second],
      ['2026-04-14', 'unmatched', null],
    ]);
    expect(await entryCount(ledger.deps.db, books.entityId)).toBe(before);
    // Importing the same statement again imports nothing and matches nothing twice.
    const again = await importCsv('owed', ['2026-04-11,FIGMA,-15.00', '2026-04-13,FIGMA,-15.00', '2026-04-14,FIGMA,-15.00']);
    expect(again.body).toMatchObject({ new: 0, skippedExact: 3, matchedToEntries: 0 });
  });

  it('leaves alone what is not the same money: another amount, too far in time, an opening balance, a line already matched', async () => {
    await book('2026-05-01', 'Opening balance', [
      ['checking', 50_000],
      ['opening', -50_000],
    ]);
    await book('2026-05-01', 'Transfer a month ago', [
      ['savings', 7_000],
      ['checking', -7_000],
    ]);
    const before = await entryCount(ledger.deps.db, books.entityId);
    const report = await importCsv('checking', ['2026-05-02,DEPOSIT,500.00', '2026-06-05,TRANSFER TO SAV,-70.00', '2026-05-03,TRANSFER TO SAV,-70.01']);
    expect(report.body).toMatchObject({ new: 3, matchedToEntries: 0 });
    // The two transfer lines met the rule instead (booked to the transfers category); the deposit waits for the owner.
    expect(report.body.booked).toBe(2);
    expect(await entryCount(ledger.deps.db, books.entityId)).toBe(before + 2);
  });

  it('never matches an entry that was reversed, nor its reversal: a corrected mistake moved no money', async () => {
    const mistake = await book('2026-08-03', 'Printer paper (typo)', [
      ['software', 1_234],
      ['checking', -1_234],
    ]);
    await ledger.http.post(`/entries/${mistake}/reverse`).set('Idempotency-Key', key()).send({}).expect(201);
    const report = await importCsv('checking', ['2026-08-04,OFFICE DEPOT,-12.34', '2026-08-04,OFFICE DEPOT REFUND,12.34']);
    expect(report.body).toMatchObject({ new: 2, matchedToEntries: 0 });
    const lines = (await linesOf('checking')).filter((line) => line.postedOn === '2026-08-04');
    expect(lines.map((line) => [line.status, line.entryId])).toEqual([
      ['unmatched', null],
      ['unmatched', null],
    ]);
  });

  it('a line typed in by hand matches too, and the bank line it stands for is the entry on that account only', async () => {
    const entryId = await book('2026-07-01', 'Owner transfer in', [
      ['checking', 30_000],
      ['savings', -30_000],
    ]);
    const line = await ledger.http
      .post(`/accounts/${account('checking')}/bank-lines`)
      .set('Idempotency-Key', key())
      .send({ postedOn: '2026-07-02', amountCents: 30_000, payee: 'Transfer from savings' })
      .expect(201);
    expect(line.body).toMatchObject({ status: 'matched', entryId });
    // The savings side is a different posting of the same entry: a line there matches it as well, once.
    const savings = await ledger.http
      .post(`/accounts/${account('savings')}/bank-lines`)
      .set('Idempotency-Key', key())
      .send({ postedOn: '2026-07-01', amountCents: -30_000, payee: 'Transfer to checking' })
      .expect(201);
    expect(savings.body).toMatchObject({ status: 'matched', entryId });
    const third = await ledger.http
      .post(`/accounts/${account('savings')}/bank-lines`)
      .set('Idempotency-Key', key())
      .send({ postedOn: '2026-07-01', amountCents: -30_000, payee: 'Transfer to checking', externalId: 'second-one' })
      .expect(201);
    expect(third.body.entryId).not.toBe(entryId);
  });
});
