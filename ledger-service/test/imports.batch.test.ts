import { sql } from 'kysely';
import { addDays } from '../src/domain/dates';
import { auditedTransaction, verifyAuditChain } from '../src/services/audit';
import { recordBankLines } from '../src/services/bank-lines';
import { entryHash } from '../src/services/journal';
import { systemActor } from '../src/services/context';
import { checkInvariants, createBooks, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// The import pipeline works set-based (bank lines 2,000 a statement, transfer mirrors looked up 2,000 lines a
// query, bookings 1,000 entries a journal batch). These files are larger than every chunk, so a line lost or
// booked twice at a chunk boundary shows up in the counts.

let ledger: TestLedger;
let books: Books;

const TRANSFERS = 2_500;
const RULED = 1_500;
const LEFT = 500;
const START = '2026-01-01';

beforeAll(async () => {
  ledger = await startTestLedger();
  books = await createBooks(ledger, { name: 'Batch LLC', accounts: { checking: 'checking', savings: 'savings', rent: 'expense_category' } });
});
afterAll(() => ledger.close());

function upload(accountId: string, name: string, rows: string[]) {
  return ledger.http
    .post(`/accounts/${accountId}/imports`)
    .set('Idempotency-Key', key('import'))
    .attach('file', Buffer.from(['Date,Description,Amount', ...rows].join('\n')), name);
}

const money = (cents: number) => `${cents < 0 ? '-' : ''}${Math.trunc(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;

async function count(query: string): Promise<number> {
  const { rows } = await sql<{ count: string }>`${sql.raw(query)}`.execute(ledger.deps.db);
  return Number(rows[0]?.count);
}

describe('a statement larger than every batch', () => {
  it('stores, matches and books every line exactly once, and a second import stores nothing', async () => {
    const checking = books.accounts.checking as string;
    const savings = books.accounts.savings as string;
    await ledger.http
      .post(`/entities/${books.entityId}/rules`)
      .set('Idempotency-Key', key())
      .send({ name: 'Rent', conditions: { payeeContains: 'rent' }, action: { categoryAccountId: books.accounts.rent } })
      .expect(201);
    // The savings side of each transfer is already waiting, one day after the checking side.
    const mirrors = Array.from({ length: TRANSFERS }, (_, index) => ({
      externalId: `savings-${index}`,
      postedOn: addDays(START, (index % 300) + 1),
      amountCents: 10_000 + index,
      payee: 'Transfer from checking',
    }));
    // One amount with two candidate mirrors: the nearer date (1 day) wins over the farther (3 days).
    mirrors.push({ externalId: 'far', postedOn: '2026-12-13', amountCents: 77_777, payee: 'Far' }, { externalId: 'near', postedOn: '2026-12-11', amountCents: 77_777, payee: 'Near' });
    await auditedTransaction(ledger.deps.db, (trx) => recordBankLines(trx, { accountId: savings, source: 'manual' }, mirrors, systemActor('test')));
    const rows = [
      ...Array.from({ length: TRANSFERS }, (_, index) => `${addDays(START, index % 300)},Transfer to savings ${index},${money(-(10_000 + index))}`),
      ...Array.from({ length: RULED }, (_, index) => `${addDays(START, index % 300)},Office rent ${index},${money(-(200_000 + index))}`),
      ...Array.from({ length: LEFT }, (_, index) => `${addDays(START, index % 300)},Unknown ${index},${money(-(300_000 + index))}`),
      '2026-12-10,Transfer to savings (two mirrors),-777.77',
    ];
    const lines = rows.length;
    const report = await upload(checking, 'big.csv', rows).expect(201);
    expect(report.body).toMatchObject({ new: lines, skippedExact: 0, queuedForReview: 0, booked: RULED, transfersBooked: TRANSFERS + 1, transferProposals: 0, errors: [] });

    expect(await count(`select count(*) from bank_lines where account_id = '${checking}'`)).toBe(lines);
    expect(await count(`select count(*) from bank_lines where account_id = '${checking}' and status = 'booked'`)).toBe(TRANSFERS + 1 + RULED);
    expect(await count(`select count(*) from bank_lines where account_id = '${checking}' and status = 'unmatched'`)).toBe(LEFT);
    expect(await count(`select count(*) from bank_lines where account_id = '${checking}' and rule_id is not null`)).toBe(RULED);
    // Each mirror is matched to the very entry that booked its checking line, and one is left over.
    expect(await count(`select count(*) from bank_lines where account_id = '${savings}' and status = 'matched'`)).toBe(TRANSFERS + 1);
    expect(
      await count(`select count(*) from bank_lines s join bank_lines c on c.entry_id = s.entry_id and c.account_id = '${checking}' where s.account_id = '${savings}' and s.status = 'matched' and c.amount_cents = -s.amount_cents`),
    ).toBe(TRANSFERS + 1);
    const leftOver = await ledger.deps.db.selectFrom('bankLines').select(['externalId', 'status']).where('accountId', '=', savings).where('status', '=', 'unmatched').execute();
    expect(leftOver).toEqual([{ externalId: 'far', status: 'unmatched' }]);
    // One entry per booked line, no more: the entry key is the line's.
    expect(await count(`select count(*) from journal_entries where entity_id = '${books.entityId}'`)).toBe(TRANSFERS + 1 + RULED);
    expect(await count(`select count(*) from (select entry_id from bank_lines where entry_id is not null and status = 'booked' group by entry_id having count(*) > 1) x`)).toBe(0);
    const balances = await ledger.http.get(`/entities/${books.entityId}/balances`).expect(200);
    const balanceOf = (id: string) => balances.body.accounts.find((account: { id: string }) => account.id === id)?.balanceCents;
    const sum = (from: number, n: number) => n * from + (n * (n - 1)) / 2;
    expect(balanceOf(savings)).toBe(sum(10_000, TRANSFERS) + 77_777);
    expect(balanceOf(checking)).toBe(-(sum(10_000, TRANSFERS) + 77_777 + sum(200_000, RULED)));
    expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
    expect((await verifyAuditChain(ledger.deps.db)).ok).toBe(true);
    // The rule's lines are booked set-based: each entry still has its audit row, its event, and the content hash the
    // journal computes for the same entry (so a replay of its key is told from a conflict exactly as before).
    expect(await count(`select count(*) from audit_log where action = 'entry.booked' and entity_id = '${books.entityId}'`)).toBe(TRANSFERS + 1 + RULED);
    expect(await count(`select count(*) from ledger_events where type = 'entry.posted' and entity_id = '${books.entityId}'`)).toBe(TRANSFERS + 1 + RULED);
    const ruled = await ledger.deps.db.selectFrom('bankLines').select('entryId').where('accountId', '=', checking).where('ruleId', 'is not', null).execute();
    const entryIds = ruled.map((row) => row.entryId as string);
    const entries = await ledger.deps.db.selectFrom('journalEntries').select(['id', 'postedOn', 'description', 'source', 'contentHash']).where('id', 'in', entryIds).execute();
    const postings = await ledger.deps.db.selectFrom('postings').select(['entryId', 'accountId', 'amountCents', 'memo']).where('entryId', 'in', entryIds).orderBy('id').execute();
    expect(entries).toHaveLength(RULED);
    for (const entry of entries) {
      const draft = {
        postedOn: entry.postedOn,
        description: entry.description,
        source: entry.source as 'import',
        postings: postings.filter((posting) => posting.entryId === entry.id).map((posting) => ({ accountId: posting.accountId, amountCents: Number(posting.amountCents), memo: posting.memo ?? undefined })),
      };
      expect(entry.contentHash).toBe(entryHash(draft));
    }
    const audited = await sql<{ after: { id: string; postings: unknown[]; createdAt: string } }>`select after from audit_log where action = 'entry.booked' and object_id = ${entryIds[0]}`.execute(ledger.deps.db);
    const served = await ledger.http.get(`/entries/${entryIds[0]}`).expect(200);
    expect(audited.rows[0]?.after).toMatchObject({ id: entryIds[0], createdAt: served.body.createdAt, postings: served.body.postings });

    const again = await upload(checking, 'big-again.csv', rows).expect(201);
    expect(again.body).toMatchObject({ new: 0, skippedExact: lines, booked: 0, transfersBooked: 0 });
    expect(await count(`select count(*) from bank_lines where account_id = '${checking}'`)).toBe(lines);
    expect(await count(`select count(*) from journal_entries where entity_id = '${books.entityId}'`)).toBe(TRANSFERS + 1 + RULED);
  });

  it('stores a line a rule decided once, wherever an earlier step takes it (transfer, review, booked entry, repeat)', async () => {
    // Rule-decided lines wait to be stored booked with their entry; a step before the rules that claims one stores
    // it first. Every line here is one the rule would book, so each outcome shows that step ran on a waiting line.
    const own = await createBooks(ledger, { name: 'Waiting LLC', accounts: { checking: 'checking', savings: 'savings', rent: 'expense_category', cash: 'cash' } });
    const checking = own.accounts.checking as string;
    const rule = await ledger.http
      .post(`/entities/${own.entityId}/rules`)
      .set('Idempotency-Key', key())
      .send({ name: 'Rent', conditions: { payeeContains: 'rent' }, action: { categoryAccountId: own.accounts.rent } })
      .expect(201);
    await auditedTransaction(ledger.deps.db, async (trx) => {
      await recordBankLines(trx, { accountId: own.accounts.savings as string, source: 'manual' }, [{ externalId: 'save-1', postedOn: '2026-03-02', amountCents: 50_000, payee: 'From checking' }], systemActor('test'));
      await recordBankLines(trx, { accountId: checking, source: 'plaid' }, [{ externalId: 'plaid-1', postedOn: '2026-03-03', amountCents: -123_400, payee: 'Rent Co' }], systemActor('test'));
    });
    const paid = await ledger.http
      .post(`/entities/${own.entityId}/entries`)
      .set('Idempotency-Key', key())
      .send({ postedOn: '2026-03-04', description: 'Rent deposit paid in Veil', postings: [{ accountId: checking, amountCents: -77_700 }, { accountId: own.accounts.rent, amountCents: 77_700 }] })
      .expect(201);
    const file = Buffer.from(
      [
        'Date,ID,Description,Amount',
        '2026-03-01,t-1,Rent to savings,-500.00',
        '2026-03-03,t-2,Rent Co,-1234.00',
        '2026-03-05,t-3,Rent deposit,-777.00',
        '2026-03-06,t-4,Rent March,-2000.00',
        '2026-03-06,t-4,Rent March (the bank sent it twice),-2000.00',
        '2026-03-07,t-5,Groceries,-45.00',
      ].join('\n'),
    );
    const report = await ledger.http.post(`/accounts/${checking}/imports`).set('Idempotency-Key', key()).attach('file', file, 'waiting.csv').expect(201);
    expect(report.body).toMatchObject({ new: 5, skippedExact: 1, queuedForReview: 1, matchedToEntries: 1, transfersBooked: 1, booked: 1 });
    const lines = await ledger.deps.db.selectFrom('bankLines').select(['externalId', 'status', 'entryId', 'ruleId']).where('accountId', '=', checking).where('source', '=', 'csv').orderBy('externalId').execute();
    expect(lines.map(({ externalId, status }) => [externalId, status])).toEqual([
      ['t-1', 'booked'],
      ['t-2', 'review'],
      ['t-3', 'matched'],
      ['t-4', 'booked'],
      ['t-5', 'unmatched'],
    ]);
    expect(lines.find((line) => line.externalId === 't-3')?.entryId).toBe(paid.body.id);
    expect(lines.find((line) => line.externalId === 't-4')?.ruleId).toBe(rule.body.id);
    expect(lines.find((line) => line.externalId === 't-1')?.ruleId).toBeNull();
    // Two entries booked by the import (the transfer, the rule), beside the one paid in Veil.
    expect(await count(`select count(*) from journal_entries where entity_id = '${own.entityId}'`)).toBe(3);
    expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
    expect((await verifyAuditChain(ledger.deps.db)).ok).toBe(true);
  });

  it('refuses the whole file when one line past the first batches is malformed, and stores nothing', async () => {
    const other = await createBooks(ledger, { name: 'Refused LLC', accounts: { checking: 'checking' } });
    const rows = Array.from({ length: 4_200 }, (_, index) => `${addDays(START, index % 300)},Line ${index},${money(-(1_000 + index))}`);
    rows[4_100] = '2026-02-30,Impossible day,-1.00';
    const refused = await upload(other.accounts.checking as string, 'bad.csv', rows).expect(422);
    expect(refused.body.error.code).toBe('import_invalid');
    expect(refused.body.error.details.errors[0]).toMatchObject({ file: 'bad.csv', line: 4_102 });
    expect(await count(`select count(*) from bank_lines where account_id = '${other.accounts.checking}'`)).toBe(0);
    expect(await count(`select count(*) from imports where account_id = '${other.accounts.checking}'`)).toBe(0);
  });
});
