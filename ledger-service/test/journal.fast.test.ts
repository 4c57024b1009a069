import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import request from 'supertest';
import { createApp } from '../src/app';
import { openDatabase } from '../src/db/database';
import { verifyAuditChain } from '../src/services/audit';
import { bookingGroupOutcomes, bookingGroupsState, fastPathAlertEvaluations, fastPathOutcomes } from '../src/services/journal-fast';
import { checkInvariants, createBooks, type Books } from './support/books';
import { fastPathDelta } from './support/fast-path';
import { enableMfa } from './support/mfa';
import { BACKEND, key, startTestLedger, type TestLedger } from './support/harness';
import { freePort } from './support/process';

// The journal's one-round-trip booking path (journal-fast.ts, migration 0018): it must book exactly what the long
// way books, and decline (writing nothing) whenever the long way would answer anything but a new entry.

let ledger: TestLedger;
let books: Books;

beforeAll(async () => {
  ledger = await startTestLedger();
  books = await createBooks(ledger, {
    accounts: { checking: 'checking', savings: 'savings', revenue: 'income_category', spare: 'expense_category' },
  });
});
afterAll(() => ledger.close());

function sale(amountCents: number, description = 'Invoice 7') {
  return {
    postedOn: '2026-05-02',
    description,
    postings: [
      { accountId: books.accounts.checking, amountCents, memo: 'paid' },
      { accountId: books.accounts.revenue, amountCents: -amountCents },
    ],
  };
}

const delta = fastPathDelta;

async function entryCount(): Promise<number> {
  const row = await ledger.deps.db.selectFrom('journalEntries').select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('the fast booking path', () => {
  it('books an entry in one call with the same answer, audit row and event as the long way', async () => {
    const before = { ...fastPathOutcomes };
    const idempotencyKey = key('fast');
    const booked = await ledger.http.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', idempotencyKey).send(sale(1234)).expect(201);
    expect(delta(before)).toEqual({ booked: 1, replayed: 0, declined: 0 });
    // What the API shows afterwards is what it answered.
    const fetched = await ledger.http.get(`/entries/${booked.body.id}`).expect(200);
    expect(fetched.body).toEqual(booked.body);
    expect(booked.body.postings).toEqual([
      { accountId: books.accounts.checking, amountCents: 1234, currency: 'USD', memo: 'paid' },
      { accountId: books.accounts.revenue, amountCents: -1234, currency: 'USD', memo: null },
    ]);
    const checking = await ledger.http.get(`/accounts/${books.accounts.checking}`).expect(200);
    expect(checking.body.balanceCents).toBe(1234);
    const audit = await ledger.http.get('/audit').query({ objectId: booked.body.id }).expect(200);
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({ action: 'entry.booked', actorType: 'user', entityId: books.entityId, after: booked.body });
    const events = await ledger.deps.db.selectFrom('ledgerEvents').select(['type', 'payload']).where('entityId', '=', books.entityId).execute();
    expect(events.filter((event) => (event.payload as { entry?: { id: string } }).entry?.id === booked.body.id)).toEqual([
      { type: 'entry.posted', payload: { entry: booked.body } },
    ]);
    expect(await verifyAuditChain(ledger.deps.db)).toMatchObject({ ok: true });

    // Same key, same body: the stored answer. Same key, another body: 409, nothing written.
    const count = await entryCount();
    const replay = await ledger.http.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', idempotencyKey).send(sale(1234)).expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(booked.body);
    const conflict = await ledger.http.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', idempotencyKey).send(sale(99)).expect(409);
    expect(conflict.body.error.code).toBe('idempotency_conflict');
    expect(await entryCount()).toBe(count);
    expect(delta(before)).toEqual({ booked: 1, replayed: 1, declined: 0 });
  });

  it('books a batch in one call, and a batch with a per-entry key already used takes the long way and replays it', async () => {
    const entries = [
      { ...sale(10, 'first'), idempotencyKey: 'item-1' },
      { ...sale(20, 'second'), idempotencyKey: 'item-2' },
    ];
    const before = { ...fastPathOutcomes };
    const first = await ledger.http.post(`/entities/${books.entityId}/entries/batch`).set('Idempotency-Key', key()).send({ entries }).expect(201);
    expect(delta(before)).toEqual({ booked: 1, replayed: 0, declined: 0 });
    expect(first.body.entries.map((entry: { replayed: boolean }) => entry.replayed)).toEqual([false, false]);
    const again = await ledger.http
      .post(`/entities/${books.entityId}/entries/batch`)
      .set('Idempotency-Key', key())
      .send({ entries: [...entries, { ...sale(30, 'third'), idempotencyKey: 'item-3' }] })
      .expect(201);
    expect(delta(before)).toEqual({ booked: 1, replayed: 0, declined: 1 });
    expect(again.body.entries.map((entry: { replayed: boolean }) => entry.replayed)).toEqual([true, true, false]);
    expect(again.body.entries[0].id).toBe(first.body.entries[0].id);
    // The fast path inserts a batch's entries with their postings in one statement, checked there (migration 0034);
    // the long way's entries keep the commit-time checks.
    const { rows } = await sql<{ id: string; checked: boolean }>`
      select id, checked_in_statement as checked from journal_entries
       where id in (${sql.join(again.body.entries.map((entry: { id: string }) => entry.id))})`.execute(ledger.deps.db);
    const checked = new Map(rows.map((row) => [row.id, row.checked]));
    expect(again.body.entries.map((entry: { id: string }) => checked.get(entry.id))).toEqual([true, true, false]);
  });

  it('stores a large batch answer compressed with lz4 on PostgreSQL (pglz on PGlite, built without lz4), and replays it whole', async () => {
    const batchKey = key('large');
    const entries = Array.from({ length: 200 }, (_, index) => sale(index + 1, `line ${index}`));
    const first = await ledger.http.post(`/entities/${books.entityId}/entries/batch`).set('Idempotency-Key', batchKey).send({ entries }).expect(201);
    const { rows } = await sql<{ method: string | null }>`
      select pg_column_compression(response) as method from idempotency_keys where key = ${batchKey}`.execute(ledger.deps.db);
    expect(rows.map((row) => row.method)).toEqual([BACKEND === 'postgres' ? 'lz4' : 'pglz']);
    const replay = await ledger.http.post(`/entities/${books.entityId}/entries/batch`).set('Idempotency-Key', batchKey).send({ entries }).expect(201);
    expect(replay.body.entries.map((entry: { id: string }) => entry.id)).toEqual(first.body.entries.map((entry: { id: string }) => entry.id));
    expect(replay.body.entries).toHaveLength(200);
  });

  it('runs without JIT on PostgreSQL: a statement check over a transition table must not pay ~220 ms of compiling', async () => {
    // The statement-level checks (0031) plan over transition tables without statistics; once the books held ~20,000
    // entries their estimate passed jit_above_cost and every single booking took ~250 ms instead of ~6.
    const { rows } = await sql<{ jit: string }>`select current_setting('jit') as jit`.execute(ledger.deps.db);
    if (BACKEND === 'postgres') expect(rows[0]?.jit).toBe('off');
    await ledger.http.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', key('nojit')).send(sale(321)).expect(201);
  });

  it('declines, writing nothing, when the database knows better: an archived account, then an unbalanced entry', async () => {
    // Warm the service's account facts, then archive the (empty) spare account behind its back.
    await ledger.http
      .post(`/entities/${books.entityId}/entries`)
      .set('Idempotency-Key', key())
      .send({ postedOn: '2026-05-03', description: 'to spare', postings: [
        { accountId: books.accounts.spare, amountCents: 5 },
        { accountId: books.accounts.checking, amountCents: -5 },
      ] })
      .expect(201);
    await ledger.http
      .post(`/entities/${books.entityId}/entries`)
      .set('Idempotency-Key', key())
      .send({ postedOn: '2026-05-03', description: 'back', postings: [
        { accountId: books.accounts.spare, amountCents: -5 },
        { accountId: books.accounts.checking, amountCents: 5 },
      ] })
      .expect(201);
    await ledger.http.patch(`/accounts/${books.accounts.spare}`).set('Idempotency-Key', key()).send({ archived: true }).expect(200);
    const count = await entryCount();
    const before = { ...fastPathOutcomes };
    const refused = await ledger.http
      .post(`/entities/${books.entityId}/entries`)
      .set('Idempotency-Key', key())
      .send({ postedOn: '2026-05-04', description: 'archived', postings: [
        { accountId: books.accounts.spare, amountCents: 7 },
        { accountId: books.accounts.checking, amountCents: -7 },
      ] })
      .expect(422);
    expect(refused.body.error.code).toBe('account_archived');
    const unbalanced = await ledger.http
      .post(`/entities/${books.entityId}/entries`)
      .set('Idempotency-Key', key())
      .send({ ...sale(10), postings: [{ accountId: books.accounts.checking, amountCents: 10 }, { accountId: books.accounts.savings, amountCents: -9 }] })
      .expect(422);
    expect(unbalanced.body.error.code).toBe('unbalanced_entry');
    expect(delta(before)).toEqual({ booked: 0, replayed: 0, declined: 2 });
    expect(await entryCount()).toBe(count);
  });

  it('answers 401 to a session that logged out, even to a replay of a key it used', async () => {
    const user = await ledger.login(ledger.owner.email, ledger.owner.password);
    const theirs = await createBooks(ledger, { name: 'Second LLC', accounts: { a: 'checking', b: 'savings' } });
    const idempotencyKey = key();
    const body = { postedOn: '2026-05-05', description: 'before logout', postings: [
      { accountId: theirs.accounts.a, amountCents: 3 },
      { accountId: theirs.accounts.b, amountCents: -3 },
    ] };
    await ledger.as(user.accessToken).post(`/entities/${theirs.entityId}/entries`).set('Idempotency-Key', idempotencyKey).send(body).expect(201);
    await ledger.as(user.accessToken).post('/auth/logout').expect(204);
    const count = await entryCount();
    await ledger.as(user.accessToken).post(`/entities/${theirs.entityId}/entries`).set('Idempotency-Key', key()).send(body).expect(401);
    await ledger.as(user.accessToken).post(`/entities/${theirs.entityId}/entries`).set('Idempotency-Key', idempotencyKey).send(body).expect(401);
    // …and learns nothing from a malformed body either.
    await ledger.as(user.accessToken).post(`/entities/${theirs.entityId}/entries`).set('Idempotency-Key', key()).send({ nonsense: true }).expect(401);
    expect(await entryCount()).toBe(count);
  });

  it('answers 404 for an entity of another user, writing nothing', async () => {
    const stranger = await ledger.createUser();
    const before = { ...fastPathOutcomes };
    await ledger.as(stranger.accessToken).post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', key()).send(sale(5)).expect(404);
    expect(delta(before).booked).toBe(0);
  });

  it('books exactly one entry for concurrent replays of one key, and keeps the chain and the books whole', async () => {
    const idempotencyKey = key('race');
    const responses = await Promise.all(
      Array.from({ length: 8 }, () =>
        ledger.http.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', idempotencyKey).send(sale(777, 'raced')),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(8).fill(201));
    expect(new Set(responses.map((response) => response.body.id)).size).toBe(1);
    const raced = await ledger.deps.db.selectFrom('journalEntries').select('id').where('description', '=', 'raced').execute();
    expect(raced).toHaveLength(1);
    // Concurrent distinct writers, then every invariant and the whole chain.
    await Promise.all(Array.from({ length: 8 }, (_, index) =>
      ledger.http.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', key()).send(sale(100 + index, `parallel ${index}`)).expect(201)));
    expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, periodTotalMismatches: 0, entitiesNotZero: 0 });
    const chain = await verifyAuditChain(ledger.deps.db);
    expect(chain).toMatchObject({ ok: true });
    const rows = await ledger.deps.db.selectFrom('auditLog').select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow();
    expect(chain.checked).toBe(Number(rows.n));
  });

  it('finds a version-2 audit row changed behind the trigger', async () => {
    const db = ledger.deps.db;
    const target = await db.selectFrom('auditLog').select(['seq']).where('chainVersion', '=', 2 as never).where('action', '=', 'entry.booked').orderBy('seq', 'desc').executeTakeFirstOrThrow();
    const seq = Number(target.seq);
    await sql`alter table audit_log disable trigger audit_log_append_only`.execute(db);
    try {
      await sql`update audit_log set after = jsonb_set(after, '{description}', '"Edited after the fact"') where seq = ${seq}`.execute(db);
      expect(await verifyAuditChain(db)).toMatchObject({ ok: false, firstBrokenSeq: seq, reason: 'content does not match its hash' });
    } finally {
      await sql`alter table audit_log enable trigger audit_log_append_only`.execute(db);
    }
  });

  it('books for an API token without looking it up again, and answers 401 once it is revoked, even to a replay', async () => {
    const { user: mfaOwner } = await enableMfa(ledger, ledger.owner);
    ledger.owner = mfaOwner;
    const created = await ledger.http.post('/auth/tokens').send({ name: 'n8n', scopes: ['read', 'write'], entityIds: [books.entityId] }).expect(201);
    const token = ledger.as(created.body.token);
    const before = { ...fastPathOutcomes };
    const replayKey = key('token');
    const first = await token.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', replayKey).send(sale(41, 'by token')).expect(201);
    expect(first.body.actor).toBe(`api_token:${created.body.id}`);
    await token.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', key()).send(sale(42, 'by token')).expect(201);
    expect(delta(before)).toEqual({ booked: 2, replayed: 0, declined: 0 });
    // A token scoped to one entity reaches no other, fast path or not.
    const elsewhere = await createBooks(ledger, { name: 'Not for the token', accounts: { a: 'checking', b: 'savings' } });
    await token
      .post(`/entities/${elsewhere.entityId}/entries`)
      .set('Idempotency-Key', key())
      .send({ ...sale(1), postings: [{ accountId: elsewhere.accounts.a, amountCents: 1 }, { accountId: elsewhere.accounts.b, amountCents: -1 }] })
      .expect(404);

    await ledger.http.delete(`/auth/tokens/${created.body.id}`).expect(200);
    const count = await entryCount();
    await token.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', key()).send(sale(43, 'by token')).expect(401);
    await token.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', replayKey).send(sale(41, 'by token')).expect(401);
    expect(await entryCount()).toBe(count);
  });

  it('answers 503 database_unavailable when the database is unreachable, as the long way does', async () => {
    const unreachable = await openDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${await freePort()}/none`, poolSizeMax: 2 });
    try {
      const app = createApp({ ...ledger.deps, db: unreachable.db, backend: 'postgres' });
      const response = await request(app)
        .post(`/entities/${books.entityId}/entries`)
        .set('Authorization', `Bearer ${ledger.owner.accessToken}`)
        .set('Idempotency-Key', key())
        .send(sale(9, 'never'))
        .expect(503);
      expect(response.body.error.code).toBe('database_unavailable');
    } finally {
      await unreachable.close();
    }
  });
});

// Migration 0028: the booking statement tells whether evaluating the alerts could change anything, and the service
// evaluates only then. Each step below is a booking whose evaluation must run (or must not), and what it raised.
describe('booking groups (migration 0037): concurrent requests booked together, each answered as if alone', () => {
  let grouped: TestLedger;
  let groupBooks: Books;
  beforeAll(async () => {
    grouped = await startTestLedger();
    // One booking transaction at a time: whatever arrives while it runs waits, and goes as a group.
    grouped.deps.bookingTransactionsMax = 1;
    groupBooks = await createBooks(grouped, { accounts: { checking: 'checking', revenue: 'income_category', spare: 'expense_category' } });
  });
  afterAll(() => grouped.close());

  // PGlite runs its queries on the service's own thread: a booking in flight holds the event loop, so the next
  // request reaches the groups only once it is done, and groups hardly ever form there. They are asserted on
  // PostgreSQL; what every request is answered, and what is written, on both.
  const groupsForm = BACKEND === 'postgres';

  /**
   * Sends `requests` while a booking holds the one transaction slot, waiting on a row lock of the checking account
   * that another connection holds; lets it go once they all wait, so they are booked as groups. PostgreSQL only (a
   * second connection); on PGlite the requests are just sent at once.
   */
  async function whileSlotHeld<T>(requests: () => Promise<T>[]): Promise<T[]> {
    if (!groupsForm) return Promise.all(requests());
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held = () => {};
    const lockHeld = new Promise<void>((resolve) => {
      held = resolve;
    });
    const blocker = grouped.deps.db.connection().execute(async (connection) => {
      await sql`begin`.execute(connection);
      await sql`select 1 from accounts where id = ${groupBooks.accounts.checking} for update`.execute(connection);
      held();
      await released;
      await sql`commit`.execute(connection);
    });
    await lockHeld;
    const first = grouped.http.post(`/entities/${groupBooks.entityId}/entries`).set('Idempotency-Key', key()).send(income(1));
    const firstDone = first.then((response) => response);
    const until = async (done: () => boolean) => {
      for (let waited = 0; !done(); waited += 10) {
        if (waited > 30_000) throw new Error(`booking groups stuck at ${JSON.stringify(bookingGroupsState(grouped.deps.db))}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    await until(() => bookingGroupsState(grouped.deps.db).running === 1);
    const pending = requests();
    await until(() => bookingGroupsState(grouped.deps.db).waiting === pending.length);
    release();
    await blocker;
    expect((await firstDone).status).toBe(201);
    return Promise.all(pending);
  }

  function income(amountCents: number, accounts = groupBooks.accounts) {
    return {
      postedOn: '2026-07-01',
      description: `grouped ${amountCents}`,
      postings: [
        { accountId: accounts.checking as string, amountCents },
        { accountId: accounts.revenue as string, amountCents: -amountCents },
      ],
    };
  }
  async function count(table: 'journalEntries' | 'idempotencyKeys' | 'ledgerEvents'): Promise<number> {
    const row = await grouped.deps.db.selectFrom(table).select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  it('books concurrent requests in groups with the same answers, audit rows and events, and replays each by its key', async () => {
    const before = { ...bookingGroupOutcomes };
    const fastBefore = { ...fastPathOutcomes };
    const keys = Array.from({ length: 12 }, (_, index) => key(`group-${index}`));
    const responses = await whileSlotHeld(() =>
      keys.map((idempotencyKey, index) => grouped.http.post(`/entities/${groupBooks.entityId}/entries`).set('Idempotency-Key', idempotencyKey).send(income(1000 + index)).then((response) => response)),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(12).fill(201));
    if (groupsForm) expect(bookingGroupOutcomes.grouped - before.grouped).toBe(12);
    expect(bookingGroupOutcomes.groupsDeclined - before.groupsDeclined).toBe(0);
    // (On PostgreSQL, whileSlotHeld's own request books 1 cent first.)
    const blocker = groupsForm ? 1 : 0;
    expect(delta(fastBefore)).toEqual({ booked: 12 + blocker, replayed: 0, declined: 0 });
    for (const [index, response] of responses.entries()) {
      expect(response.body.postings[0]).toEqual({ accountId: groupBooks.accounts.checking, amountCents: 1000 + index, currency: 'USD', memo: null });
      expect((await grouped.http.get(`/entries/${response.body.id}`).expect(200)).body).toEqual(response.body);
      const audit = await grouped.http.get('/audit').query({ objectId: response.body.id }).expect(200);
      expect(audit.body.items).toHaveLength(1);
      expect(audit.body.items[0]).toMatchObject({ action: 'entry.booked', entityId: groupBooks.entityId, after: response.body });
    }
    const events = await grouped.deps.db.selectFrom('ledgerEvents').select('payload').where('entityId', '=', groupBooks.entityId).where('type', '=', 'entry.posted').execute();
    const ids = responses.map((response) => response.body.id);
    const posted = events.map((event) => (event.payload as { entry: { id: string } }).entry.id);
    expect(posted.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
    expect(posted).toHaveLength(ids.length + blocker);
    const checking = await grouped.http.get(`/accounts/${groupBooks.accounts.checking}`).expect(200);
    expect(checking.body.balanceCents).toBe(blocker + Array.from({ length: 12 }, (_, index) => 1000 + index).reduce((sum, amount) => sum + amount, 0));
    expect(await checkInvariants(grouped.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, periodTotalMismatches: 0, entitiesNotZero: 0 });
    expect(await verifyAuditChain(grouped.deps.db)).toMatchObject({ ok: true });

    // Every key again, at once, one of them twice: the stored answers, nothing booked; another body is a conflict.
    const entries = await count('journalEntries');
    const replayBefore = { ...bookingGroupOutcomes };
    const replays = await whileSlotHeld(() =>
      [...keys, keys[0] as string].map((idempotencyKey) =>
        grouped.http.post(`/entities/${groupBooks.entityId}/entries`).set('Idempotency-Key', idempotencyKey).send(income(1000 + keys.indexOf(idempotencyKey))).then((response) => response),
      ),
    );
    expect(replays.map((response) => [response.status, response.headers['idempotent-replayed']])).toEqual(Array(13).fill([201, 'true']));
    expect(replays.map((response) => response.body)).toEqual([...responses, responses[0]].map((response) => response?.body));
    // Thirteen waiting, one key twice: a group of twelve, then the second request of that key alone.
    if (groupsForm) expect(bookingGroupOutcomes.grouped - replayBefore.grouped).toBe(12);
    const conflict = await grouped.http.post(`/entities/${groupBooks.entityId}/entries`).set('Idempotency-Key', keys[3] as string).send(income(5)).expect(409);
    expect(conflict.body.error.code).toBe('idempotency_conflict');
    expect(await count('journalEntries')).toBe(entries + blocker);
  });

  it('books no part of a group the database refuses one request of: each is booked alone, that one refused as alone', async () => {
    // The spare account in the service's cache, then archived behind its back: only the database sees it.
    const move = (amountCents: number) => ({ postedOn: '2026-07-02', description: 'spare', postings: [
      { accountId: groupBooks.accounts.spare as string, amountCents },
      { accountId: groupBooks.accounts.checking as string, amountCents: -amountCents },
    ] });
    await grouped.http.post(`/entities/${groupBooks.entityId}/entries`).set('Idempotency-Key', key()).send(move(4)).expect(201);
    await grouped.http.post(`/entities/${groupBooks.entityId}/entries`).set('Idempotency-Key', key()).send(move(-4)).expect(201);
    await grouped.http.patch(`/accounts/${groupBooks.accounts.spare}`).set('Idempotency-Key', key()).send({ archived: true }).expect(200);
    const entries = await count('journalEntries');
    const before = { ...bookingGroupOutcomes };
    const bodies = [...Array.from({ length: 6 }, (_, index) => income(2000 + index)), move(9), ...Array.from({ length: 5 }, (_, index) => income(3000 + index))];
    const responses = await whileSlotHeld(() => bodies.map((body) => grouped.http.post(`/entities/${groupBooks.entityId}/entries`).set('Idempotency-Key', key()).send(body).then((response) => response)));
    expect(responses.map((response) => response.status)).toEqual([...Array(6).fill(201), 422, ...Array(5).fill(201)]);
    expect(responses[6]?.body.error.code).toBe('account_archived');
    expect(await count('journalEntries')).toBe(entries + 11 + (groupsForm ? 1 : 0));
    // The archived account's request went in the group of all twelve, which was declined.
    if (groupsForm) expect(bookingGroupOutcomes.groupsDeclined - before.groupsDeclined).toBe(1);
    expect(await checkInvariants(grouped.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, periodTotalMismatches: 0, entitiesNotZero: 0 });
    expect(await verifyAuditChain(grouped.deps.db)).toMatchObject({ ok: true });
  });

  it('declines a whole group in the database, writing nothing, and answers a replay in a group with its stored answer', async () => {
    const call = (idempotencyKey: string, amountCents: number, accountId = groupBooks.accounts.checking as string) => {
      const entryId = randomUUID();
      const entry = { id: entryId, postedOn: '2026-07-03', description: 'direct', source: 'manual', idempotencyKey: null, actor: 'test', createdAt: new Date().toISOString(), postings: [] };
      return {
        scope: `user:${grouped.owner.id}`, key: idempotencyKey, requestHash: `hash-${idempotencyKey}`, entityId: groupBooks.entityId, ownerUserId: grouped.owner.id,
        sessionId: null, tokenId: null,
        accounts: [{ id: accountId, currency: 'USD' }, { id: groupBooks.accounts.revenue, currency: 'USD' }],
        entries: [{ id: entryId, posted_on: '2026-07-03', description: 'direct', source: 'manual', idempotency_key: null, content_hash: 'x', actor: 'test', created_at: entry.createdAt }],
        postings: [
          { position: 0, entry_id: entryId, account_id: accountId, currency: 'USD', amount_cents: amountCents, memo: null },
          { position: 1, entry_id: entryId, account_id: groupBooks.accounts.revenue, currency: 'USD', amount_cents: -amountCents, memo: null },
        ],
        events: [{ type: 'entry.posted', payload: { entry } }], status: 201, response: entry, audit: [],
      };
    };
    const book = (requests: unknown[]) =>
      sql<{ ordinal: number; replayed: boolean; statusCode: number }>`select * from veil_book_entries_grouped(${JSON.stringify(requests)}::jsonb, ${['checking']}::text[], 0)`.execute(grouped.deps.db);
    const before = { entries: await count('journalEntries'), keys: await count('idempotencyKeys'), events: await count('ledgerEvents') };
    // The archived spare account in the second request: the whole call is refused, nothing of the first is kept.
    await expect(book([call(key(), 11), call(key(), 12, groupBooks.accounts.spare as string)])).rejects.toMatchObject({ code: 'VL001' });
    expect({ entries: await count('journalEntries'), keys: await count('idempotencyKeys'), events: await count('ledgerEvents') }).toEqual(before);
    // A key stored earlier is a replay, the others are booked.
    const first = key();
    expect((await book([call(first, 21)])).rows).toMatchObject([{ ordinal: 1, replayed: false, statusCode: 201 }]);
    const { rows } = await book([call(key(), 22), call(first, 21)]);
    expect(rows.sort((a, b) => a.ordinal - b.ordinal)).toMatchObject([{ ordinal: 1, replayed: false }, { ordinal: 2, replayed: true, statusCode: 201 }]);
    expect(await count('journalEntries')).toBe(before.entries + 2);
    expect(await checkInvariants(grouped.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, periodTotalMismatches: 0, entitiesNotZero: 0 });
  });
});

describe('alerts after a fast-path booking', () => {
  let alerting: Books;
  beforeAll(async () => {
    alerting = await createBooks(ledger, {
      name: 'Floors LLC',
      accounts: { checking: 'checking', savings: 'savings', revenue: 'income_category', rent: 'expense_category', groceries: 'expense_category' },
    });
  });

  async function move(amountCents: number, from: string, to: string, idempotencyKey = key('alert')) {
    const before = { evaluations: fastPathAlertEvaluations.count, ...fastPathOutcomes };
    await ledger.http
      .post(`/entities/${alerting.entityId}/entries`)
      .set('Idempotency-Key', idempotencyKey)
      .send({ postedOn: '2026-06-03', description: `${from} to ${to}`, postings: [{ accountId: alerting.accounts[to], amountCents }, { accountId: alerting.accounts[from], amountCents: -amountCents }] })
      .expect(201);
    expect(delta(before).declined).toBe(0);
    return fastPathAlertEvaluations.count - before.evaluations;
  }
  async function lowEvents() {
    const { rows } = await sql<{ payload: { balanceCents: number; alert: { occurrence: number } } }>`
      select payload from ledger_events where entity_id = ${alerting.entityId} and type = 'balance.low' order by seq`.execute(ledger.deps.db);
    return rows.map((row) => [row.payload.balanceCents, row.payload.alert.occurrence]);
  }
  async function activeKeys() {
    const { rows } = await sql<{ conditionKey: string }>`
      select condition_key from alert_states where entity_id = ${alerting.entityId} and active order by condition_key`.execute(ledger.deps.db);
    return rows.map((row) => row.conditionKey);
  }

  it('raises and clears balance.low in the booking statement, with the floors the rule uses; the service evaluates only envelopes', async () => {
    // The default floor is 0: a healthy balance changes nothing.
    expect(await move(10_000, 'revenue', 'checking')).toBe(0);
    expect(await lowEvents()).toEqual([]);
    await ledger.http
      .put(`/entities/${alerting.entityId}/alert-settings`)
      .set('Idempotency-Key', key())
      .send({ balanceCentsMin: 20_000, accountBalanceCentsMin: { [alerting.accounts.savings as string]: 0 } })
      .expect(200);
    // The new floor raised it (the settings' own evaluation); staying low raises nothing more.
    expect(await lowEvents()).toEqual([[10_000, 1]]);
    expect(await move(1_000, 'checking', 'rent')).toBe(0);
    expect(await lowEvents()).toEqual([[10_000, 1]]);
    expect(await activeKeys()).toEqual([`balance.low:${alerting.accounts.checking}`]);
    // Recovering clears the state, by the booking's own statement: the service evaluated nothing.
    expect(await move(50_000, 'revenue', 'checking')).toBe(0);
    expect(await activeKeys()).toEqual([]);
    // Savings at 5,000 is under the entity's floor but not under its own (0): nothing to raise.
    expect(await move(5_000, 'checking', 'savings')).toBe(0);
    expect(await activeKeys()).toEqual([]);
    // Falling under the floor again: raised a second time, with the balance after the booking and the floor.
    expect(await move(40_000, 'checking', 'rent')).toBe(0);
    expect(await lowEvents()).toEqual([[10_000, 1], [14_000, 2]]);
    const { rows: raised } = await sql<{ payload: Record<string, unknown> }>`
      select payload from ledger_events where entity_id = ${alerting.entityId} and type = 'balance.low' order by seq desc limit 1`.execute(ledger.deps.db);
    expect(raised[0]?.payload).toEqual({
      accountId: alerting.accounts.checking,
      accountName: 'checking',
      currency: 'USD',
      balanceCents: 14_000,
      thresholdCents: 20_000,
      alert: { key: `balance.low:${alerting.accounts.checking}`, occurrence: 2 },
    });
    expect(await activeKeys()).toEqual([`balance.low:${alerting.accounts.checking}`]);
    // A replay books nothing and evaluates nothing.
    const replayKey = key('alert-replay');
    expect(await move(100, 'checking', 'rent', replayKey)).toBe(0);
    expect(await move(100, 'checking', 'rent', replayKey)).toBe(0);
    // An account an envelope budgets: evaluated (budget.overspent), although the low balance stays low.
    const group = await ledger.http.post(`/entities/${alerting.entityId}/envelope-groups`).set('Idempotency-Key', key()).send({ name: 'Living' }).expect(201);
    await ledger.http
      .post(`/entities/${alerting.entityId}/envelopes`)
      .set('Idempotency-Key', key())
      .send({ name: 'Groceries', groupId: group.body.id, categoryAccountIds: [alerting.accounts.groceries] })
      .expect(201);
    expect(await move(700, 'checking', 'groceries')).toBe(1);
    const { rows } = await sql<{ n: string }>`
      select count(*) as n from ledger_events where entity_id = ${alerting.entityId} and type = 'budget.overspent'`.execute(ledger.deps.db);
    expect(Number(rows[0]?.n)).toBe(1);
    expect(await lowEvents()).toHaveLength(2);
  });
});
