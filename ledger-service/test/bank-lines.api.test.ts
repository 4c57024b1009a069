import { auditedTransaction, verifyAuditChain } from '../src/services/audit';
import { recordBankLines, setBankLineStatus, type BankLineDraft } from '../src/services/bank-lines';
import { systemActor } from '../src/services/context';
import { createBooks, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';
import { withdrawBankLine } from '../src/services/bank-booking';

let ledger: TestLedger;
let books: Books;
let personal: Books;
const actor = systemActor('bank-lines test');

beforeAll(async () => {
  ledger = await startTestLedger();
  books = await createBooks(ledger, { name: 'Lines LLC', accounts: { checking: 'checking', card: 'credit_card', software: 'expense_category', travel: 'expense_category' } });
  personal = await createBooks(ledger, { kind: 'personal', name: 'Lines Owner', accounts: { groceries: 'expense_category' } });
});
afterAll(() => ledger.close());

function record(accountId: string, drafts: BankLineDraft[], source: 'csv' | 'plaid' = 'csv') {
  return auditedTransaction(ledger.deps.db, (trx) => recordBankLines(trx, { accountId, source }, drafts, actor));
}

const line = (externalId: string, postedOn: string, amountCents: number, payee = 'Payee'): BankLineDraft => ({ externalId, postedOn, amountCents, payee });

describe('bank lines', () => {
  it('stores each external id once per account and reports every duplicate, including repeats within one call', async () => {
    const first = await record(books.accounts.checking as string, [line('A', '2026-03-01', -1_250), line('B', '2026-03-02', 90_000), line('A', '2026-03-01', -1_250)]);
    expect(first.inserted.map((l) => l.externalId)).toEqual(['A', 'B']);
    expect(first.duplicates).toEqual([{ externalId: 'A', existingId: first.inserted[0]?.id }]);
    const again = await record(books.accounts.checking as string, [line('B', '2026-03-02', 90_000), line('C', '2026-03-03', -500)]);
    expect(again.inserted.map((l) => l.externalId)).toEqual(['C']);
    expect(again.duplicates).toEqual([{ externalId: 'B', existingId: first.inserted[1]?.id }]);
    // The same external id on another account is another line.
    const card = await record(books.accounts.card as string, [line('A', '2026-03-01', -1_250)]);
    expect(card.inserted).toHaveLength(1);
  });

  it('lists newest first with a stable cursor and filters, and answers one line by id', async () => {
    const accountId = books.accounts.checking as string;
    const page1 = await ledger.http.get(`/accounts/${accountId}/bank-lines?limit=2`).expect(200);
    expect(page1.body.items.map((l: { externalId: string }) => l.externalId)).toEqual(['C', 'B']);
    expect(page1.body.items[1]).toMatchObject({ amountCents: 90_000, source: 'csv', status: 'unmatched', currency: 'USD', pending: false });
    const page2 = await ledger.http.get(`/accounts/${accountId}/bank-lines?limit=2&cursor=${page1.body.nextCursor}`).expect(200);
    expect(page2.body.items.map((l: { externalId: string }) => l.externalId)).toEqual(['A']);
    expect(page2.body.nextCursor).toBeNull();
    const ranged = await ledger.http.get(`/accounts/${accountId}/bank-lines?from=2026-03-02&to=2026-03-02`).expect(200);
    expect(ranged.body.items.map((l: { externalId: string }) => l.externalId)).toEqual(['B']);
    const one = await ledger.http.get(`/bank-lines/${page1.body.items[0].id}`).expect(200);
    expect(one.body.externalId).toBe('C');
    await ledger.http.get(`/accounts/${accountId}/bank-lines?cursor=bogus`).expect(400);
  });

  it('moves a line through its statuses with an audit trail', async () => {
    const { inserted } = await record(books.accounts.checking as string, [line('D', '2026-03-04', -700)]);
    const id = inserted[0]?.id as string;
    const removed = await auditedTransaction(ledger.deps.db, (trx) => setBankLineStatus(trx, id, { status: 'removed', reason: 'withdrawn by the bank' }, actor));
    expect(removed).toMatchObject({ status: 'removed', statusReason: 'withdrawn by the bank' });
    const filtered = await ledger.http.get(`/accounts/${books.accounts.checking}/bank-lines?status=removed`).expect(200);
    expect(filtered.body.items.map((l: { id: string }) => l.id)).toEqual([id]);
    const audit = await ledger.deps.db.selectFrom('auditLog').select(['action']).where('objectId', '=', id).execute();
    expect(audit.map((row) => row.action)).toEqual(['bank_line.status_changed']);
    expect((await verifyAuditChain(ledger.deps.db)).ok).toBe(true);
  });

  it('refuses lines on an income or expense category, and stores nothing of a failed batch', async () => {
    await expect(record(books.accounts.software as string, [line('X', '2026-03-01', 5)])).rejects.toMatchObject({ code: 'account_kind_mismatch' });
    await expect(record(books.accounts.checking as string, [line('Y', '2026-03-01', 5), line('Z', 'not-a-date', 5)])).rejects.toThrow();
    const stored = await ledger.deps.db.selectFrom('bankLines').select('externalId').where('externalId', 'in', ['X', 'Y', 'Z']).execute();
    expect(stored).toEqual([]);
  });
});

describe('booking bank lines', () => {
  const book = (id: string, body: object) => ledger.http.post(`/bank-lines/${id}/book`).set('Idempotency-Key', key()).send(body);
  const balance = async (accountId: string) => (await ledger.http.get(`/accounts/${accountId}`).expect(200)).body.balanceCents as number;

  it('books a card charge against its category once, however often it is asked', async () => {
    const card = books.accounts.card as string;
    const { inserted } = await record(card, [line('charge-1', '2026-04-02', -4_999, 'Figma')]);
    const id = inserted[0]?.id as string;
    const before = await balance(card);
    const booked = await book(id, { categoryAccountId: books.accounts.software }).expect(201);
    expect(booked.body.line).toMatchObject({ status: 'booked', entryId: booked.body.entry.id });
    expect(booked.body.entry).toMatchObject({ postedOn: '2026-04-02', description: 'Figma', source: 'import' });
    expect(booked.body.entry.postings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ accountId: card, amountCents: -4_999 }),
        expect.objectContaining({ accountId: books.accounts.software, amountCents: 4_999 }),
      ]),
    );
    expect(await balance(card)).toBe(before - 4_999);
    const again = await book(id, { categoryAccountId: books.accounts.travel }).expect(409);
    expect(again.body.error.code).toBe('bank_line_state');
    expect(await balance(card)).toBe(before - 4_999);
  });

  it('a line whose entry the owner reverses waits again, and is booked again under a new entry key, each time once', async () => {
    const card = books.accounts.card as string;
    const { inserted } = await record(card, [line('charge-wrong', '2026-04-05', -2_500, 'Delta')]);
    const id = inserted[0]?.id as string;
    const before = await balance(card);
    const first = await book(id, { categoryAccountId: books.accounts.software }).expect(201);
    expect(first.body.entry.idempotencyKey).toBe(`bank-line:${id}`);
    // The owner reverses the wrong category: the line is waiting again, with the reason.
    await ledger.http.post(`/entries/${first.body.entry.id}/reverse`).set('Idempotency-Key', key()).send({}).expect(201);
    const waiting = await ledger.http.get(`/bank-lines/${id}`).expect(200);
    expect(waiting.body).toMatchObject({ status: 'unmatched', entryId: null, statusReason: expect.stringMatching(/reversed/) });
    expect(await balance(card)).toBe(before);
    // Booked again, to travel: a new entry (not the reversed one replayed), once however often it is asked.
    const second = await book(id, { categoryAccountId: books.accounts.travel }).expect(201);
    expect(second.body.entry.id).not.toBe(first.body.entry.id);
    expect(second.body.entry.idempotencyKey).toBe(`bank-line:${id}#2`);
    expect(second.body.entry.postings).toEqual(expect.arrayContaining([expect.objectContaining({ accountId: books.accounts.travel, amountCents: 2_500 })]));
    await book(id, { categoryAccountId: books.accounts.travel }).expect(409);
    expect(await balance(card)).toBe(before - 2_500);
    // And a third time, after a second reversal.
    await ledger.http.post(`/entries/${second.body.entry.id}/reverse`).set('Idempotency-Key', key()).send({}).expect(201);
    const third = await book(id, { categoryAccountId: books.accounts.software }).expect(201);
    expect(third.body.entry.idempotencyKey).toBe(`bank-line:${id}#3`);
    expect(await balance(card)).toBe(before - 2_500);
    expect(await verifyAuditChain(ledger.deps.db)).toMatchObject({ ok: true });
  });

  it('books a split that adds up, and refuses one that does not, a pending line, and a crossing into other books', async () => {
    const checking = books.accounts.checking as string;
    const { inserted } = await record(checking, [
      line('split-1', '2026-04-03', -10_000, 'Delta'),
      { ...line('pending-1', '2026-04-03', -2_500), pending: true },
    ]);
    const [split, pending] = inserted.map((l) => l.id) as [string, string];
    const short = await book(split, { splits: [{ accountId: books.accounts.travel, amountCents: -6_000 }, { accountId: books.accounts.software, amountCents: -3_000 }] }).expect(422);
    expect(short.body.error.code).toBe('unbalanced_entry');
    const crossing = await book(split, { categoryAccountId: personal.accounts.groceries }).expect(422);
    expect(crossing.body.error.code).toBe('veil_crossing_unclassified');
    expect((await book(pending, { categoryAccountId: books.accounts.travel }).expect(409)).body.error.code).toBe('bank_line_pending');
    const booked = await book(split, { splits: [{ accountId: books.accounts.travel, amountCents: -7_000 }, { accountId: books.accounts.software, amountCents: -3_000 }] }).expect(201);
    expect(booked.body.entry.postings).toHaveLength(3);
    await book(split, {}).expect(400);
  });

  it('reverses the entry of a line the bank withdraws, and ignores lines with a reason', async () => {
    const checking = books.accounts.checking as string;
    const { inserted } = await record(checking, [line('gone-1', '2026-04-05', -1_500, 'Typo'), line('dup-1', '2026-04-05', -800, 'Twice')]);
    const [gone, dup] = inserted.map((l) => l.id) as [string, string];
    const before = await balance(checking);
    const booked = await book(gone, { categoryAccountId: books.accounts.software }).expect(201);
    expect(await balance(checking)).toBe(before - 1_500);
    const withdrawn = await auditedTransaction(ledger.deps.db, (trx) => withdrawBankLine(trx, gone, 'removed by Plaid', actor));
    expect(withdrawn.line.status).toBe('removed');
    expect(await balance(checking)).toBe(before);
    const original = await ledger.http.get(`/entries/${booked.body.entry.id}`).expect(200);
    expect(original.body.reversedByEntryId).toBe(withdrawn.reversalEntryId);
    const ignored = await ledger.http.post(`/bank-lines/${dup}/ignore`).set('Idempotency-Key', key()).send({ reason: 'booked by hand' }).expect(200);
    expect(ignored.body).toMatchObject({ status: 'ignored', statusReason: 'booked by hand' });
    expect((await book(dup, { categoryAccountId: books.accounts.software }).expect(409)).body.error.code).toBe('bank_line_state');
  });
});
