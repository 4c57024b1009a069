import fs from 'node:fs';
import path from 'node:path';
import { parseStatement } from '../src/import';
import { auditedTransaction, verifyAuditChain } from '../src/services/audit';
import { recordBankLines } from '../src/services/bank-lines';
import { systemActor } from '../src/services/context';
import { externalIdsOf } from '../src/services/imports';
import { checkInvariants, createBooks, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

let ledger: TestLedger;
let books: Books;
const FIXTURES = path.join(__dirname, 'fixtures', 'import');
const read = (name: string) => fs.readFileSync(path.join(FIXTURES, name));

beforeAll(async () => {
  ledger = await startTestLedger();
  books = await createBooks(ledger, {
    name: 'Import LLC',
    accounts: { checking: 'checking', savings: 'savings', card: 'credit_card', software: 'expense_category', meals: 'expense_category', revenue: 'income_category', other: 'checking', raw: 'checking', manual: 'checking', repeats: 'checking' },
  });
});
afterAll(() => ledger.close());

function upload(accountId: string, name: string, bytes: Buffer, fields: Record<string, string> = {}, idempotencyKey = key('import')) {
  let request = ledger.http.post(`/accounts/${accountId}/imports`).set('Idempotency-Key', idempotencyKey).attach('file', bytes, name);
  for (const [field, value] of Object.entries(fields)) request = request.field(field, value);
  return request;
}

async function lineCount(accountId: string): Promise<number> {
  const row = await ledger.deps.db.selectFrom('bankLines').select((eb) => eb.fn.countAll<string>().as('count')).where('accountId', '=', accountId).executeTakeFirstOrThrow();
  return Number(row.count);
}

const csv = (rows: string[]) => Buffer.from(['Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #', ...rows].join('\n'));

describe('statement import', () => {
  it('imports a file, and importing it again imports nothing and says why', async () => {
    const accountId = books.accounts.checking as string;
    const first = await upload(accountId, 'chase-checking.csv', read('chase-checking.csv')).expect(201);
    expect(first.body).toMatchObject({ format: 'csv', csvPreset: 'chase-checking', new: 4, skippedExact: 0, queuedForReview: 0, errors: [] });
    expect(first.body.accounts).toEqual([expect.objectContaining({ accountId, lines: 4, totalCents: 500_000 - 1_500 - 450 - 450 })]);
    const again = await upload(accountId, 'chase-checking.csv', read('chase-checking.csv')).expect(201);
    expect(again.body).toMatchObject({ new: 0, skippedExact: 4, queuedForReview: 0 });
    expect(await lineCount(accountId)).toBe(4);
    const stored = await ledger.http.get(`/imports/${first.body.importId}`).expect(200);
    expect(stored.body).toMatchObject({ importId: first.body.importId, new: 4, fileName: 'chase-checking.csv' });
  });

  it('imports only the new lines of an overlapping statement, counting identical rows by their ordinal', async () => {
    const accountId = books.accounts.checking as string;
    // Two rows already imported, one identical coffee more (a third purchase that day), one new day.
    const overlap = csv([
      'DEBIT,11/04/2026,STARBUCKS #123,-4.50,DEBIT_CARD,4980.50,,',
      'DEBIT,11/04/2026,STARBUCKS #123,-4.50,DEBIT_CARD,4976.00,,',
      'DEBIT,11/04/2026,STARBUCKS #123,-4.50,DEBIT_CARD,4971.50,,',
      'DEBIT,11/05/2026,LYFT RIDE,-12.30,DEBIT_CARD,4959.20,,',
    ]);
    const report = await upload(accountId, 'overlap.csv', overlap).expect(201);
    expect(report.body).toMatchObject({ new: 2, skippedExact: 2 });
    expect(await lineCount(accountId)).toBe(6);
  });

  it('gives lines without a bank id, made in SQL, the very ids externalIdsOf gives (repeats, NFKC, spacing, case)', async () => {
    const accountId = books.accounts.repeats as string;
    const rows = [
      'Date,Description,Amount,Memo',
      '2026-10-01,Café  Noir,-3.10,table 4',
      '2026-10-01,café noir,-3.10,TABLE 4',
      '2026-10-01,ＣＡＦÉ NOIR,-3.10, table  4 ',
      '2026-10-01,Café Noir,-3.10,table 4',
      '2026-10-02,"Rent, October",-1200.00,',
      '2026-10-02,"Rent, October",-1200.00,',
      '2026-10-03,Tab\tSeparated,5.00,x',
    ];
    const bytes = Buffer.from(`${rows.join('\n')}\n`);
    const report = await upload(accountId, 'repeats.csv', bytes).expect(201);
    expect(report.body).toMatchObject({ new: 7, skippedExact: 0 });
    const parsed = await parseStatement(bytes, { file: 'repeats.csv' });
    const expected = externalIdsOf(parsed.accounts[0]?.lines ?? []);
    // Four rows of one identity (ordinals 0–3), two of another: seven distinct ids.
    expect(new Set(expected).size).toBe(7);
    const stored = await ledger.deps.db.selectFrom('bankLines').select(['externalId', 'raw']).where('accountId', '=', accountId).execute();
    const byLine = stored.map((line) => ({ line: (line.raw as { line: number }).line, externalId: line.externalId })).sort((a, b) => a.line - b.line);
    expect(byLine.map((line) => line.externalId)).toEqual(expected);
    // And so the same file again is all duplicates.
    expect((await upload(accountId, 'repeats.csv', bytes).expect(201)).body).toMatchObject({ new: 0, skippedExact: 7 });
  });

  it('sends a near-duplicate from another source to review with the reason, and the owner decides', async () => {
    const accountId = books.accounts.card as string;
    await auditedTransaction(ledger.deps.db, (trx) =>
      recordBankLines(trx, { accountId, source: 'plaid' }, [{ externalId: 'plaid-tx-1', postedOn: '2026-11-03', amountCents: -18_999, payee: 'Amazon Mktplace' }, { externalId: 'plaid-tx-2', postedOn: '2026-11-05', amountCents: -18_999, payee: 'Amazon Mktplace' }], systemActor('plaid test')),
    );
    const report = await upload(accountId, 'card.qif', read('card.qif')).expect(201);
    expect(report.body).toMatchObject({ format: 'qif', new: 2, skippedExact: 0, queuedForReview: 1 });
    const queue = await ledger.http.get(`/entities/${books.entityId}/review-queue`).expect(200);
    expect(queue.body.items).toHaveLength(1);
    const item = queue.body.items[0];
    expect(item.line).toMatchObject({ status: 'review', amountCents: -18_999, payee: 'AMAZON MKTPLACE', source: 'qif' });
    expect(item.reviewOf).toMatchObject({ externalId: 'plaid-tx-1', source: 'plaid' });
    // The closer of the two Plaid lines explains it; the one four days away is outside the window.
    expect(item.line.statusReason).toBe('possible duplicate of a plaid line of 2026-11-03 (Amazon Mktplace): same amount, 2 days apart, payee similarity 1.00');
    const rejected = await ledger.http.post(`/bank-lines/${item.line.id}/review`).set('Idempotency-Key', key()).send({ decision: 'reject', reason: 'Plaid already has it' }).expect(200);
    expect(rejected.body).toMatchObject({ status: 'ignored', statusReason: 'rejected in review: Plaid already has it' });
    const twice = await ledger.http.post(`/bank-lines/${item.line.id}/review`).set('Idempotency-Key', key()).send({ decision: 'accept', reason: 'changed my mind' }).expect(409);
    expect(twice.body.error.code).toBe('bank_line_state');
    expect((await ledger.http.get(`/entities/${books.entityId}/review-queue`).expect(200)).body.items).toHaveLength(0);
  });

  it('refuses a malformed file naming the file and line, and writes nothing', async () => {
    const accountId = books.accounts.other as string;
    const imports = async () => Number((await ledger.deps.db.selectFrom('imports').select((eb) => eb.fn.countAll<string>().as('c')).executeTakeFirstOrThrow()).c);
    const before = await imports();
    const bad = Buffer.from('Date,Description,Amount\n2026-11-01,Good,1.00\n2026-11-02,Bad,1.2.3\n');
    const response = await upload(accountId, 'broken.csv', bad).expect(422);
    expect(response.body.error).toEqual({
      code: 'import_invalid',
      message: 'broken.csv:3: "1.2.3" is not an amount',
      details: { errors: [{ file: 'broken.csv', line: 3, message: '"1.2.3" is not an amount' }] },
    });
    expect(await lineCount(accountId)).toBe(0);
    expect(await imports()).toBe(before);
    // A damaged file with NUL bytes inside a field (found by the hardening fuzzer: it was a 500 from the database).
    const qif = read('card.qif');
    const at = qif.indexOf('\n', Math.floor(qif.length * 0.3)) + 2;
    const damaged = Buffer.concat([qif.subarray(0, at), Buffer.alloc(64), qif.subarray(at)]);
    const line = qif.subarray(0, at).toString('utf8').split('\n').length;
    // A file refused on its first line, while the COPY into the staging table is still opening (found by the
    // hardening fuzzer: ending the COPY early broke the connection, answered 503 database_unavailable).
    const early = await upload(accountId, 'early.csv', Buffer.from(`Date,Description,Amount\n0${'X'.repeat(200_000)}\n`)).expect(422);
    expect(early.body.error.code).toBe('import_invalid');
    expect(early.body.error.message).toMatch(/^early\.csv:2: "0X{59}…" \(200,001 characters\) is not a date/);
    const refused = await upload(accountId, 'card.qif', damaged).expect(422);
    expect(refused.body.error).toMatchObject({ code: 'import_invalid', message: expect.stringMatching(new RegExp(`^card\\.qif:${line}: a NUL byte`)) });
    expect(await lineCount(accountId)).toBe(0);
    expect(await imports()).toBe(before);
  });

  it('asks for an account mapping when a file holds several accounts, and imports with one', async () => {
    const refused = await upload(books.accounts.other as string, 'xml-v2.ofx', read('xml-v2.ofx')).expect(422);
    expect(refused.body.error.code).toBe('import_mapping_required');
    expect(refused.body.error.details.statementAccounts.map((account: { statementAccountId: string }) => account.statementAccountId)).toEqual(['5550001', '5550002']);
    const accountMap = JSON.stringify({ '5550001': books.accounts.other, '5550002': books.accounts.savings });
    const report = await ledger.http
      .post(`/entities/${books.entityId}/imports`)
      .set('Idempotency-Key', key())
      .attach('file', read('xml-v2.ofx'), 'xml-v2.ofx')
      .field('accountMap', accountMap)
      .expect(201);
    expect(report.body.accounts.map((account: { accountId: string; new: number; totalCents: number }) => [account.accountId, account.new, account.totalCents])).toEqual([
      [books.accounts.other, 3, -4_210 + 150_000 - 25_000],
      [books.accounts.savings, 1, 25_000],
    ]);
    expect(report.body.accounts[0].balances).toEqual([
      { kind: 'ledger', amountCents: 320_790, asOn: '2026-11-05' },
      { kind: 'available', amountCents: 310_000, asOn: '2026-11-05' },
    ]);
  });

  it('takes a raw body named by X-File-Name, replays a retry with the same key, and refuses another file under it', async () => {
    const accountId = books.accounts.raw as string;
    const idempotencyKey = key('raw');
    const send = (bytes: Buffer) =>
      ledger.http.post(`/accounts/${accountId}/imports`).set('Idempotency-Key', idempotencyKey).set('Content-Type', 'application/octet-stream').set('X-File-Name', 'german.csv').send(bytes);
    const first = await send(read('german-1252.csv')).expect(201);
    expect(first.body).toMatchObject({ encoding: 'windows1252', new: 3 });
    const replay = await send(read('german-1252.csv')).expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    const conflict = await send(read('tsv-utf16.tsv')).expect(409);
    expect(conflict.body.error.code).toBe('idempotency_conflict');
    expect(await lineCount(accountId)).toBe(3);
  });

  it('remembers a CSV mapping per account when asked, and uses it next time', async () => {
    const accountId = books.accounts.savings as string;
    const bytes = Buffer.from('when;who;value\n02/01/2026;Interest;1,50\n');
    const mapping = JSON.stringify({ headerLine: 1, date: 'when', payee: 'who', amount: 'value', dateOrder: 'dmy', decimalSeparator: ',' });
    const first = await upload(accountId, 'savings.csv', bytes, { mapping, saveMapping: 'true' }).expect(201);
    expect(first.body.new).toBe(1);
    const saved = await ledger.http.get(`/accounts/${accountId}/csv-mapping`).expect(200);
    expect(saved.body.mapping).toMatchObject({ date: 'when', amount: 'value', dateOrder: 'dmy', decimalSeparator: ',', delimiter: ';' });
    const next = await upload(accountId, 'savings-2.csv', Buffer.from('when;who;value\n02/02/2026;Interest;1,75\n')).expect(201);
    expect(next.body.accounts[0].totalCents).toBe(175);
  });
});

describe('categorisation rules', () => {
  it('are created in order, previewed, applied on import through the booking path, edited and deleted with an audit trail', async () => {
    const { entityId } = books;
    const figma = await ledger.http
      .post(`/entities/${entityId}/rules`)
      .set('Idempotency-Key', key())
      .send({ name: 'Figma is software', conditions: { payeeContains: 'figma' }, action: { categoryAccountId: books.accounts.software } })
      .expect(201);
    await ledger.http
      .post(`/entities/${entityId}/rules`)
      .set('Idempotency-Key', key())
      .send({ name: 'Coffee is meals', conditions: { payeeRegex: '^starbucks', amountMinCents: -2_000, amountMaxCents: 0 }, action: { categoryAccountId: books.accounts.meals } })
      .expect(201);
    const list = await ledger.http.get(`/entities/${entityId}/rules`).expect(200);
    expect(list.body.items.map((rule: { name: string; position: number }) => [rule.name, rule.position])).toEqual([
      ['Figma is software', 0],
      ['Coffee is meals', 1],
    ]);
    // The waiting lines from earlier imports: the preview says what the rules would book, and writes nothing.
    const preview = await ledger.http.post(`/entities/${entityId}/rules/preview`).send({}).expect(200);
    const figmaLine = preview.body.items.find((item: { payee: string }) => item.payee === 'FIGMA, INC.');
    expect(figmaLine).toMatchObject({ ruleId: figma.body.id, categoryAccountId: books.accounts.software, amountCents: -1_500 });
    expect(preview.body.items.filter((item: { ruleName: string | null }) => item.ruleName === 'Coffee is meals')).toHaveLength(3);
    const draft = await ledger.http
      .post(`/entities/${entityId}/rules/preview`)
      .send({ rules: [{ name: 'Everything under $20 is meals', conditions: { amountMinCents: -2_000, amountMaxCents: -1 }, action: { categoryAccountId: books.accounts.meals } }] })
      .expect(200);
    expect(draft.body.items.filter((item: { ruleName: string | null }) => item.ruleName !== null).length).toBeGreaterThan(3);
    expect((await ledger.http.get(`/entities/${entityId}/rules`).expect(200)).body.items).toHaveLength(2);

    // A fresh account's import books what the rules decide, and leaves the rest unmatched.
    const { accounts } = await createBooks(ledger, { name: 'unused', accounts: {} }).then(async () => ({
      accounts: { fresh: (await ledger.http.post(`/entities/${entityId}/accounts`).set('Idempotency-Key', key()).send({ name: 'Fresh checking', kind: 'checking' }).expect(201)).body.id as string },
    }));
    const report = await upload(accounts.fresh, 'chase-checking.csv', read('chase-checking.csv')).expect(201);
    expect(report.body).toMatchObject({ new: 4, booked: 3 });
    const lines = await ledger.http.get(`/accounts/${accounts.fresh}/bank-lines`).expect(200);
    const byPayee = Object.fromEntries(lines.body.items.map((line: { payee: string; status: string }) => [`${line.payee}:${line.status}`, true]));
    expect(Object.keys(byPayee).sort()).toEqual(['CLIENT ACME PAYMENT:unmatched', 'FIGMA, INC.:booked', 'STARBUCKS #123:booked']);
    const software = await ledger.http.get(`/entities/${entityId}/balances`).expect(200);
    expect(JSON.stringify(software.body)).toContain(books.accounts.software as string);

    const edited = await ledger.http
      .put(`/rules/${figma.body.id}`)
      .set('Idempotency-Key', key())
      .send({ name: 'Figma and Adobe are software', conditions: { payeeRegex: 'figma|adobe' }, action: { categoryAccountId: books.accounts.software } })
      .expect(200);
    expect(edited.body).toMatchObject({ name: 'Figma and Adobe are software', position: 0 });
    await ledger.http.delete(`/rules/${figma.body.id}`).set('Idempotency-Key', key()).expect(200);
    await ledger.http.get(`/entities/${entityId}/rules`).expect(200).then((response) => expect(response.body.items).toHaveLength(1));
    const bad = await ledger.http.post(`/entities/${entityId}/rules`).set('Idempotency-Key', key()).send({ name: 'x', conditions: { payeeRegex: '(' }, action: { categoryAccountId: books.accounts.meals } }).expect(400);
    expect(bad.body.error.message).toMatch(/payeeRegex is not a regular expression/);
    const audit = await ledger.deps.db.selectFrom('auditLog').select('action').where('action', 'like', 'rule.%').execute();
    expect(audit.map((row) => row.action).sort()).toEqual(['rule.created', 'rule.created', 'rule.deleted', 'rule.updated']);
    expect((await verifyAuditChain(ledger.deps.db)).ok).toBe(true);
    expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0 });
  });

  it("refuses a rule that names another entity's account, as not found", async () => {
    const other = await createBooks(ledger, { kind: 'personal', name: 'Owner', accounts: { groceries: 'expense_category' } });
    const response = await ledger.http
      .post(`/entities/${books.entityId}/rules`)
      .set('Idempotency-Key', key())
      .send({ name: 'x', conditions: { payeeContains: 'whole foods' }, action: { categoryAccountId: other.accounts.groceries } })
      .expect(404);
    expect(response.body.error.code).toBe('not_found');
  });
});

describe('manual bank lines', () => {
  it('are stored once per Idempotency-Key and booked by the rules like any other line', async () => {
    const accountId = books.accounts.manual as string;
    const idempotencyKey = key('manual');
    const body = { postedOn: '2026-11-07', amountCents: -650, payee: 'Starbucks Reserve' };
    const first = await ledger.http.post(`/accounts/${accountId}/bank-lines`).set('Idempotency-Key', idempotencyKey).send(body).expect(201);
    expect(first.body).toMatchObject({ source: 'manual', status: 'booked', amountCents: -650 });
    const replay = await ledger.http.post(`/accounts/${accountId}/bank-lines`).set('Idempotency-Key', idempotencyKey).send(body).expect(201);
    expect(replay.body.id).toBe(first.body.id);
    expect(await lineCount(accountId)).toBe(1);
    const invalid = await ledger.http.post(`/accounts/${accountId}/bank-lines`).set('Idempotency-Key', key()).send({ postedOn: '2026-13-01', amountCents: 1 }).expect(400);
    expect(invalid.body.error.code).toBe('invalid_request');
  });
});

describe('transfer matching', () => {
  const simple = (rows: string[]) => Buffer.from(['Date,Description,Amount', ...rows].join('\n'));

  it("books one entry for money moved between two of an entity's accounts, from either statement", async () => {
    const own = await createBooks(ledger, { name: 'Transfer LLC', accounts: { checking: 'checking', savings: 'savings' } });
    const out = await upload(own.accounts.checking as string, 'checking.csv', simple(['2026-11-04,Online transfer to savings,-250.00', '2026-11-04,Coffee,-3.00'])).expect(201);
    expect(out.body).toMatchObject({ new: 2, transfersBooked: 0 });
    const arrive = await upload(own.accounts.savings as string, 'savings.csv', simple(['2026-11-06,Transfer from checking,250.00'])).expect(201);
    expect(arrive.body).toMatchObject({ new: 1, transfersBooked: 1, transferProposals: 0 });
    const [outLine] = (await ledger.http.get(`/accounts/${own.accounts.checking}/bank-lines`).query({ status: 'booked' }).expect(200)).body.items;
    const [inLine] = (await ledger.http.get(`/accounts/${own.accounts.savings}/bank-lines`).expect(200)).body.items;
    expect(outLine).toMatchObject({ amountCents: -25_000, status: 'booked' });
    expect(inLine).toMatchObject({ amountCents: 25_000, status: 'matched', entryId: outLine.entryId });
    const entry = await ledger.http.get(`/entries/${outLine.entryId}`).expect(200);
    expect(entry.body.postings.map((posting: { accountId: string; amountCents: number }) => [posting.accountId, posting.amountCents]).sort()).toEqual(
      [
        [own.accounts.checking, -25_000],
        [own.accounts.savings, 25_000],
      ].sort(),
    );
    const balances = await ledger.http.get(`/entities/${own.entityId}/balances`).expect(200);
    const balanceOf = (id: string) => balances.body.accounts.find((account: { id: string }) => account.id === id)?.balanceCents;
    // The coffee waits unmatched (no rule in this entity): only the transfer is booked.
    expect([balanceOf(own.accounts.checking as string), balanceOf(own.accounts.savings as string)]).toEqual([-25_000, 25_000]);
  });

  it('proposes, never books, a mirror across entities, with Entity Guard judging it', async () => {
    const llc = await createBooks(ledger, { name: 'Crossing LLC', accounts: { checking: 'checking' } });
    const owner = await createBooks(ledger, { kind: 'personal', name: 'Crossing Owner', accounts: { checking: 'checking' } });
    await upload(llc.accounts.checking as string, 'llc.csv', simple(['2026-11-10,Transfer to J Doe personal,-1000.00'])).expect(201);
    const entriesBefore = await ledger.deps.db.selectFrom('journalEntries').select('id').where('entityId', 'in', [llc.entityId, owner.entityId]).execute();
    const personal = await upload(owner.accounts.checking as string, 'personal.csv', simple(['2026-11-11,Transfer from Crossing LLC,1000.00'])).expect(201);
    expect(personal.body).toMatchObject({ new: 1, transfersBooked: 0, transferProposals: 1 });
    const entriesAfter = await ledger.deps.db.selectFrom('journalEntries').select('id').where('entityId', 'in', [llc.entityId, owner.entityId]).execute();
    expect(entriesAfter.length).toBe(entriesBefore.length);
    for (const entityId of [llc.entityId, owner.entityId]) {
      const proposals = await ledger.http.get(`/entities/${entityId}/transfer-proposals`).expect(200);
      expect(proposals.body.items).toEqual([
        expect.objectContaining({ outflowEntityId: llc.entityId, inflowEntityId: owner.entityId, amountCents: 100_000, status: 'open', guardDecision: expect.stringMatching(/^(document|block)$/) }),
      ]);
      expect(proposals.body.items[0].guardVerdict.reasons.length).toBeGreaterThan(0);
    }
    const lines = await ledger.http.get(`/accounts/${owner.accounts.checking}/bank-lines`).expect(200);
    expect(lines.body.items.map((line: { status: string }) => line.status)).toEqual(['unmatched']);
  });
});

describe('reconciliation', () => {
  it("sets each stated balance against the books on its day and reports the difference and what is not booked yet", async () => {
    const own = await createBooks(ledger, { name: 'Reconcile LLC', accounts: { checking: 'checking', fees: 'expense_category' } });
    const accountId = own.accounts.checking as string;
    // The statement says the account ends Nov 5 at 3207.90 after three lines; nothing is booked yet.
    const ofx = read('xml-v2.ofx').toString('utf8').replace(/<STMTTRNRS>\s*<TRNUID>2[\s\S]*?<\/STMTTRNRS>/, '');
    const report = await upload(accountId, 'one-account.ofx', Buffer.from(ofx)).expect(201);
    expect(report.body.accounts[0].balances).toHaveLength(2);
    const first = await ledger.http.get(`/accounts/${accountId}/reconciliation`).expect(200);
    expect(first.body.rows).toEqual([
      expect.objectContaining({ asOn: '2026-11-05', kind: 'ledger', statedCents: 320_790, bookCents: 0, differenceCents: 320_790, unbookedLineCount: 3, unbookedCents: 120_790, reconciled: false }),
    ]);
    // The owner states the balance before the statement (the opening), books it, then books the lines: reconciled.
    await ledger.http
      .post(`/entities/${own.entityId}/entries`)
      .set('Idempotency-Key', key())
      .send({ postedOn: '2026-10-31', description: 'Opening', postings: [{ accountId, amountCents: 200_000 }, { accountId: own.accounts.fees, amountCents: -200_000 }] })
      .expect(201);
    const lines = (await ledger.http.get(`/accounts/${accountId}/bank-lines`).expect(200)).body.items;
    for (const line of lines) {
      await ledger.http.post(`/bank-lines/${line.id}/book`).set('Idempotency-Key', key()).send({ categoryAccountId: own.accounts.fees }).expect(201);
    }
    const asserted = await ledger.http.post(`/accounts/${accountId}/balance-assertions`).set('Idempotency-Key', key()).send({ asOn: '2026-10-31', balanceCents: 200_000 }).expect(201);
    expect(asserted.body.rows.map((row: { asOn: string; differenceCents: number; reconciled: boolean; unbookedLineCount: number }) => [row.asOn, row.differenceCents, row.reconciled, row.unbookedLineCount])).toEqual([
      ['2026-11-05', 0, true, 0],
      ['2026-10-31', 0, true, 0],
    ]);
  });
});
