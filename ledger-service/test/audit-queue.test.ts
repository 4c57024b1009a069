import { sql } from 'kysely';
import pg from 'pg';
import { auditRowsParameter, sealPendingAudit, verifyAuditChain, type QueuedEvent } from '../src/services/audit';
import { fastPathOutcomes } from '../src/services/journal-fast';
import { createBooks, type Books } from './support/books';
import { fastPathDelta } from './support/fast-path';
import { BACKEND, key, startTestLedger, type TestLedger } from './support/harness';

let ledger: TestLedger;
let books: Books;

beforeAll(async () => {
  ledger = await startTestLedger();
  books = await createBooks(ledger, { accounts: { checking: 'checking', revenue: 'income_category' } });
});
afterAll(() => ledger.close());

function sale(amountCents: number, description: string) {
  return {
    postedOn: '2026-05-02',
    description,
    postings: [
      { accountId: books.accounts.checking, amountCents },
      { accountId: books.accounts.revenue, amountCents: -amountCents },
    ],
  };
}

const delta = fastPathDelta;

// Migration 0028: a fast-path booking commits its audit rows to a queue, without the chain's head, and seals them
// into the chain before it answers; readers of the trail seal what a crash or a failed seal left queued.
describe('the audit queue of fast-path bookings', () => {
  async function pendingCount(): Promise<number> {
    const row = await ledger.deps.db.selectFrom('auditPending').select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  it('has every answered booking in the chain already, each with its own place, under 16 concurrent writers', async () => {
    const before = { ...fastPathOutcomes };
    const answered = await Promise.all(
      Array.from({ length: 16 }, (_, index) =>
        ledger.http.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', key('queue')).send(sale(300 + index, `queued ${index}`)).expect(201),
      ),
    );
    expect(delta(before)).toEqual({ booked: 16, replayed: 0, declined: 0 });
    expect(await pendingCount()).toBe(0);
    const ids = answered.map((response) => response.body.id as string);
    const rows = await ledger.deps.db.selectFrom('auditLog').select(['seq', 'objectId', 'chainVersion']).where('action', '=', 'entry.booked').where('objectId', 'in', ids).execute();
    expect(rows.map((row) => row.objectId).sort()).toEqual([...ids].sort());
    expect(new Set(rows.map((row) => String(row.seq))).size).toBe(16);
    expect(await verifyAuditChain(ledger.deps.db)).toMatchObject({ ok: true });
  });

  it('queues the audit rows of a booking that finds the head taken, and seals them once it is free, before answering', async () => {
    if (BACKEND !== 'postgres') return; // PGlite has one session: another transaction holding the head would block all
    const holder = new pg.Client({ connectionString: process.env.DATABASE_URL, options: `-c search_path=${ledger.schema}` });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select 1 from audit_chain_head for update');
      let answered = false;
      const booking = ledger.http
        .post(`/entities/${books.entityId}/entries`)
        .set('Idempotency-Key', key('held'))
        .send(sale(42, 'while the head is held'))
        .then((response) => {
          answered = true;
          return response;
        });
      // Booked and committed without the head: its audit row waits in the queue, and the answer waits for the seal.
      for (let attempt = 0; attempt < 200 && (await pendingCount()) === 0; attempt += 1) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(await pendingCount()).toBe(1);
      expect(answered).toBe(false);
      await holder.query('commit');
      const response = await booking;
      expect(response.status).toBe(201);
      expect(await pendingCount()).toBe(0);
      const chained = await ledger.deps.db.selectFrom('auditLog').select('seq').where('objectId', '=', response.body.id).execute();
      expect(chained).toHaveLength(1);
      expect(await verifyAuditChain(ledger.deps.db)).toMatchObject({ ok: true });
    } finally {
      await holder.end();
    }
  });

  it('seals rows left queued, in the order they were queued, when the trail is read; the chain verifies', async () => {
    // As a booking whose seal failed leaves them: two rows committed to the queue, not in the chain.
    const actor = { type: 'user' as const, id: ledger.owner.id, userId: ledger.owner.id, scopes: ['read', 'write'], entityScope: 'all' as const };
    const queued: object[] = JSON.parse(
      auditRowsParameter(
        ['first', 'second'].map((name) => ({
          action: 'test.queued',
          entityId: books.entityId,
          objectType: 'test',
          objectId: name,
          after: { name },
          actor: actor as never,
          occurredAt: new Date(),
        })),
      ),
    );
    for (const row of queued) await ledger.deps.db.insertInto('auditPending').values({ content: JSON.stringify(row) }).execute();
    expect(await pendingCount()).toBe(2);
    const chainedBefore = await ledger.deps.db.selectFrom('auditLog').select('seq').where('action', '=', 'test.queued').execute();
    expect(chainedBefore).toEqual([]);

    const page = await ledger.http.get('/audit').query({ action: 'test.queued' }).expect(200);
    expect(page.body.items.map((item: { objectId: string }) => item.objectId)).toEqual(['second', 'first']);
    expect(page.body.items[0].seq).toBe(page.body.items[1].seq + 1);
    expect(await pendingCount()).toBe(0);
    expect(await verifyAuditChain(ledger.deps.db)).toMatchObject({ ok: true });
    // Nothing queued: a seal is a no-op that leaves the head alone.
    expect(await sealPendingAudit(ledger.deps.db)).toBe(0);
  });

  it('finds a queued row changed before it was sealed: its digest no longer matches', async () => {
    const actor = { type: 'user' as const, id: ledger.owner.id, userId: ledger.owner.id, scopes: ['read', 'write'], entityScope: 'all' as const };
    const event: QueuedEvent = { action: 'test.tampered', entityId: books.entityId, objectType: 'test', objectId: 'x', after: { amountCents: 100 }, actor: actor as never, occurredAt: new Date() };
    const [row] = JSON.parse(auditRowsParameter([event])) as object[];
    await ledger.deps.db.insertInto('auditPending').values({ content: JSON.stringify({ ...row, after: { amountCents: 999 } }) }).execute();
    const verdict = await verifyAuditChain(ledger.deps.db);
    expect(verdict).toMatchObject({ ok: false, reason: 'content does not match its hash' });
  });

  it('reports a queued row the chain refuses, and keeps serving the trail and bookings meanwhile', async () => {
    // Its own books: the chain of the shared ones is already reported broken by the test above.
    await ledger.deps.db.insertInto('auditPending').values({ content: JSON.stringify({ action: 'test.damaged' }) }).execute();
    expect(await sealPendingAudit(ledger.deps.db)).toBe(-1);
    expect(await verifyAuditChain(ledger.deps.db)).toMatchObject({ ok: false, reason: 'queued audit rows cannot be appended to the chain' });
    await ledger.http.get('/audit').expect(200);
    await ledger.http.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', key()).send(sale(12, 'beside a damaged queue')).expect(201);
    // Inside a transaction, a refused seal leaves the transaction usable.
    await ledger.deps.db.transaction().execute(async (trx) => {
      expect(await sealPendingAudit(trx)).toBe(-1);
      await sql`select 1`.execute(trx);
    });
  });
});
