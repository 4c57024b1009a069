import fc from 'fast-check';
import { sql } from 'kysely';
import type { Db } from '../src/db/database';
import { SCHEMA_DDL_LOCK } from '../src/db/migrate';
import { TIMESCALE_STATEMENTS, timescaleUsable } from '../src/db/migrations/0017_balance_history';
import { addDays } from '../src/domain/dates';
import { historyPoints } from '../src/domain/balance-history';
import { checkInvariants, createBooks, type Books } from './support/books';
import { BACKEND, key, startTestLedger, type TestLedger } from './support/harness';

// Balance history (0017): the migration picks TimescaleDB when the server can load it and a view over the day
// totals otherwise. Neither PGlite nor this machine's PostgreSQL has TimescaleDB, so the plain path is the one
// checked here: the choice itself, and every answer of the three history endpoints against plain sums of postings
// (end-of-day balances at each point), for random windows over two years of out-of-order entries, reversals and
// inter-entity transfers whose balances the consolidated history eliminates.

jest.setTimeout(240_000);

let ledger: TestLedger;
let llc: Books;
let owner: Books;

const LLC_ACCOUNTS = ['checking', 'savings', 'sales', 'rent', 'card'] as const;
const OWNER_ACCOUNTS = ['checking', 'groceries', 'mortgage'] as const;

beforeAll(async () => {
  ledger = await startTestLedger({ ownerMfa: true });
  llc = await createBooks(ledger, {
    name: 'History LLC',
    accounts: { checking: 'checking', savings: 'savings', sales: 'income_category', rent: 'expense_category', card: 'credit_card' },
  });
  owner = await createBooks(ledger, { kind: 'personal', name: 'Ada Owner', accounts: { checking: 'checking', groceries: 'expense_category', mortgage: 'mortgage' } });
  const booked: string[] = [];
  for (let index = 0; index < 90; index += 1) {
    const books = index % 3 === 2 ? owner : llc;
    const names: readonly string[] = books === owner ? OWNER_ACCOUNTS : LLC_ACCOUNTS;
    const from = books.accounts[names[index % names.length] as string] as string;
    const to = books.accounts[names[(index * 2 + 1) % names.length] as string] as string;
    if (from === to) continue;
    const amountCents = ((index * 7919) % 90_000) + 1;
    const response = await ledger.http
      .post(`/entities/${books.entityId}/entries`)
      .set('Idempotency-Key', key('history'))
      .send({
        postedOn: addDays('2025-01-01', (index * 277) % 730),
        description: `entry ${index}`,
        postings: [{ accountId: to, amountCents }, { accountId: from, amountCents: -amountCents }],
      })
      .expect(201);
    booked.push(response.body.id);
  }
  for (const [index, entryId] of booked.entries()) {
    if (index % 7 === 0) await ledger.http.post(`/entries/${entryId}/reverse`).set('Idempotency-Key', key('reverse')).send({ postedOn: '2025-11-20' }).expect(201);
  }
  // Balances between the two books: a contribution, a draw and a loan, on different days.
  const crossing = (fromBooks: Books, toBooks: Books, amountCents: number, postedOn: string, extra: Record<string, unknown> = {}) =>
    ledger.http
      .post('/transfers')
      .set('Idempotency-Key', key('transfer'))
      .send({
        fromEntityId: fromBooks.entityId,
        fromAccountId: fromBooks.accounts.checking,
        toEntityId: toBooks.entityId,
        toAccountId: toBooks.accounts.checking,
        amountCents,
        postedOn,
        ...extra,
      })
      .expect(201);
  await crossing(owner, llc, 500_000, '2025-02-03', { classification: 'capital_contribution' });
  await crossing(llc, owner, 40_000, '2025-07-31', { classification: 'owner_draw' });
  await crossing(owner, llc, 250_000, '2026-03-10', {
    classification: 'loan',
    loan: { annualRateBasisPoints: 500, termMonths: 24, paymentFrequency: 'monthly' },
  });
});
afterAll(() => ledger.close());

interface AccountRow {
  id: string;
  entityId: string;
  class: string;
  kind: string;
  currency: string;
  counterpartyEntityId: string | null;
}

async function accountsOf(entityIds: string[]): Promise<AccountRow[]> {
  const { rows } = await sql<AccountRow>`
    select id, entity_id as "entityId", class, kind, currency, counterparty_entity_id as "counterpartyEntityId"
    from accounts where entity_id = any(${entityIds}::uuid[])`.execute(ledger.deps.db);
  return rows;
}

/** Balance of every account at the end of `on`, summed straight from the postings. */
async function plainBalances(on: string): Promise<Map<string, number>> {
  const { rows } = await sql<{ accountId: string; total: string }>`
    select p.account_id as "accountId", sum(p.amount_cents) as total
    from postings p join journal_entries e on e.id = p.entry_id
    where e.posted_on <= ${on}::date group by p.account_id`.execute(ledger.deps.db);
  return new Map(rows.map((row) => [row.accountId, Number(row.total)]));
}

const INTER_ENTITY = new Set(['due_from_entity', 'loan_receivable_entity', 'investment_in_entity', 'due_to_entity', 'loan_payable_entity']);

const day = fc.oneof(
  fc.integer({ min: 0, max: 800 }).map((offset) => addDays('2024-12-10', offset)),
  fc.constantFrom('2025-01-01', '2025-01-31', '2025-02-03', '2025-02-28', '2025-07-31', '2025-11-20', '2026-03-10', '2026-12-31'),
);
const windowArbitrary = fc.tuple(day, fc.integer({ min: 0, max: 120 }), fc.constantFrom('day' as const, 'month' as const)).map(([fromOn, length, interval]) => ({
  fromOn,
  toOn: addDays(fromOn, interval === 'day' ? length : length * 6),
  interval,
}));

it(`the migration chose the plain path: a view over the day totals, no TimescaleDB (${BACKEND})`, async () => {
  expect(await timescaleUsable(ledger.deps.db)).toBe(false);
  const relations = await sql<{ name: string; type: string }>`
    select table_name as name, table_type as type from information_schema.tables
    where table_schema = current_schema() and table_name in ('balance_history', 'balance_history_daily')`.execute(ledger.deps.db);
  expect(relations.rows).toEqual([{ name: 'balance_history_daily', type: 'VIEW' }]);
  const extensions = await sql<{ extname: string }>`select extname from pg_extension where extname = 'timescaledb'`.execute(ledger.deps.db);
  expect(extensions.rows).toEqual([]);
  expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, periodTotalMismatches: 0 });
});

it(`account histories equal the postings' sums at every point (${BACKEND})`, async () => {
  const accounts = await accountsOf([llc.entityId, owner.entityId]);
  await fc.assert(
    fc.asyncProperty(windowArbitrary, fc.constantFrom(...accounts), async (window, account) => {
      const response = await ledger.http
        .get(`/accounts/${account.id}/balance-history?from=${window.fromOn}&to=${window.toOn}&interval=${window.interval}`)
        .expect(200);
      const points = historyPoints(window.fromOn, window.toOn, window.interval);
      expect(response.body.points.map((point: { on: string }) => point.on)).toEqual(points);
      for (const point of response.body.points as { on: string; balanceCents: number; naturalBalanceCents: number }[]) {
        const expected = (await plainBalances(point.on)).get(account.id) ?? 0;
        expect(point.balanceCents).toBe(expected);
        expect(Math.abs(point.naturalBalanceCents)).toBe(Math.abs(expected));
      }
    }),
    { numRuns: 25 },
  );
});

it(`entity and consolidated net worth histories equal the postings' sums, with inter-entity balances eliminated (${BACKEND})`, async () => {
  const accounts = (await accountsOf([llc.entityId, owner.entityId])).filter((account) => account.class === 'asset' || account.class === 'liability');
  // The fixture really crosses the veil: there are balances to eliminate.
  expect(accounts.filter((account) => INTER_ENTITY.has(account.kind)).length).toBeGreaterThanOrEqual(3);
  let eliminatedSomething = false;
  await fc.assert(
    fc.asyncProperty(windowArbitrary, async (window) => {
      const query = `from=${window.fromOn}&to=${window.toOn}&interval=${window.interval}`;
      const [llcHistory, ownerHistory, group] = await Promise.all([
        ledger.http.get(`/entities/${llc.entityId}/balance-history?${query}`).expect(200),
        ledger.http.get(`/entities/${owner.entityId}/balance-history?${query}`).expect(200),
        ledger.http.get(`/consolidated/balance-history?entityIds=${llc.entityId},${owner.entityId}&${query}`).expect(200),
      ]);
      const points = historyPoints(window.fromOn, window.toOn, window.interval);
      for (const [index, on] of points.entries()) {
        const balances = await plainBalances(on);
        const sum = (rows: AccountRow[]) => rows.reduce((total, account) => total + (balances.get(account.id) ?? 0), 0);
        const llcCents = sum(accounts.filter((account) => account.entityId === llc.entityId));
        const ownerCents = sum(accounts.filter((account) => account.entityId === owner.entityId));
        const groupCents = sum(accounts.filter((account) => !INTER_ENTITY.has(account.kind)));
        if (groupCents !== llcCents + ownerCents) eliminatedSomething = true;
        expect(llcHistory.body.byCurrency.USD[index]).toEqual({ on, netWorthCents: llcCents });
        expect(ownerHistory.body.byCurrency.USD[index]).toEqual({ on, netWorthCents: ownerCents });
        expect(group.body.byCurrency.USD[index]).toEqual({ on, netWorthCents: groupCents });
        const perEntity = new Map(group.body.perEntity.map((row: { entityId: string; byCurrency: { USD: unknown[] } }) => [row.entityId, row.byCurrency.USD[index]]));
        expect(perEntity.get(llc.entityId)).toEqual({ on, netWorthCents: llcCents });
        expect(perEntity.get(owner.entityId)).toEqual({ on, netWorthCents: ownerCents });
      }
    }),
    { numRuns: 20 },
  );
  expect(eliminatedSomething).toBe(true);
});

it(`defaults to twelve month ends up to today, and the last point follows a new entry at once (${BACKEND})`, async () => {
  const before = await ledger.http.get(`/entities/${llc.entityId}/balance-history`).expect(200);
  expect(before.body.interval).toBe('month');
  const points = before.body.byCurrency.USD as { on: string; netWorthCents: number }[];
  expect(points).toHaveLength(12);
  const today = new Date(ledger.deps.security.now()).toISOString().slice(0, 10);
  expect(points.at(-1)?.on).toBe(today);
  await ledger.http
    .post(`/entities/${llc.entityId}/entries`)
    .set('Idempotency-Key', key('today'))
    .send({ postedOn: today, description: 'sale today', postings: [{ accountId: llc.accounts.checking, amountCents: 1234 }, { accountId: llc.accounts.sales, amountCents: -1234 }] })
    .expect(201);
  const after = await ledger.http.get(`/entities/${llc.entityId}/balance-history`).expect(200);
  expect(after.body.byCurrency.USD.at(-1).netWorthCents).toBe((points.at(-1)?.netWorthCents ?? 0) + 1234);
  expect(after.body.byCurrency.USD.at(-2)).toEqual(points.at(-2));
  const daily = await ledger.http.get(`/accounts/${llc.accounts.checking}/balance-history?interval=day`).expect(200);
  expect(daily.body.points).toHaveLength(30);
});

it(`refuses bad windows, unknown intervals and other people's books with the error shape (${BACKEND})`, async () => {
  const bad = [
    `/entities/${llc.entityId}/balance-history?from=2026-02-01&to=2026-01-01`,
    `/entities/${llc.entityId}/balance-history?from=2020-01-01&to=2026-01-01&interval=day`,
    `/entities/${llc.entityId}/balance-history?from=1990-01-01&to=2026-01-01&interval=month`,
    `/entities/${llc.entityId}/balance-history?interval=week`,
    `/entities/${llc.entityId}/balance-history?from=2026-02-30`,
    `/entities/${llc.entityId}/balance-history?extra=1`,
    `/consolidated/balance-history?entityIds=not-a-uuid`,
  ];
  for (const path of bad) {
    const response = await ledger.http.get(path).expect(400);
    expect(response.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  }
  const stranger = await ledger.createUser('stranger@example.com');
  await ledger.as(stranger.accessToken).get(`/entities/${llc.entityId}/balance-history`).expect(404);
  await ledger.as(stranger.accessToken).get(`/accounts/${llc.accounts.checking}/balance-history`).expect(404);
  await ledger.as(stranger.accessToken).get(`/consolidated/balance-history?entityIds=${llc.entityId}`).expect(404);
  await ledger.anonymous.get(`/entities/${llc.entityId}/balance-history`).expect(401);
});

/** 0017's TimescaleDB branch with stand-ins for TimescaleDB's functions, in place of the plain path's view. */
async function switchToTimescaleStandIns(db: Db): Promise<void> {
  for (const statement of [
    `create function create_hypertable(relation regclass, time_column_name name, chunk_time_interval interval) returns void language plpgsql as $$ begin end $$`,
    `create function time_bucket(bucket_width interval, ts date) returns date language sql immutable as $$ select ts $$`,
    `create function add_continuous_aggregate_policy(continuous_aggregate regclass, start_offset interval, end_offset interval, schedule_interval interval) returns void language plpgsql as $$ begin end $$`,
    `drop view balance_history_daily`,
  ]) {
    await sql.raw(statement).execute(db);
  }
  for (const statement of TIMESCALE_STATEMENTS) {
    if (statement.startsWith('create extension')) continue;
    const standIn = statement
      .replace('create materialized view', 'create view')
      .replace('with (timescaledb.continuous, timescaledb.materialized_only = false) as', 'as')
      .replace('with no data;', ';');
    await sql.raw(standIn).execute(db);
  }
}

// TimescaleDB is not installable here, so its branch of 0017 cannot run for real. What can be checked without it
// is everything but TimescaleDB's own functions: the statements run, in order, with stand-ins for
// create_hypertable and add_continuous_aggregate_policy (no-ops), time_bucket (a day's bucket is the day) and the
// continuous aggregate created as a plain view (same SELECT), in place of the plain path's view. The backfill, the
// trigger on postings and the guard on the hypertable are then real, and the history endpoints must still equal
// the postings' sums.
it(`the TimescaleDB statements, with stand-ins for TimescaleDB's functions, give the same histories (${BACKEND})`, async () => {
  const db = ledger.deps.db;
  // Dropping a view is schema DDL: on PostgreSQL another file's migration may be reading the catalog meanwhile
  // (Kysely's introspection names every relation of every schema), so it takes the lock migrations take.
  await db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${SCHEMA_DDL_LOCK})`.execute(connection);
    try {
      await switchToTimescaleStandIns(connection);
    } finally {
      await sql`select pg_advisory_unlock(${SCHEMA_DDL_LOCK})`.execute(connection);
    }
  });
  // Postings booked after the switch reach the hypertable through the trigger; those before, through the backfill.
  await ledger.http
    .post(`/entities/${llc.entityId}/entries`)
    .set('Idempotency-Key', key('after-switch'))
    .send({ postedOn: '2025-06-15', description: 'back-dated', postings: [{ accountId: llc.accounts.savings, amountCents: 777 }, { accountId: llc.accounts.sales, amountCents: -777 }] })
    .expect(201);
  const counts = await sql<{ history: string; postings: string }>`
    select (select count(*) from balance_history) as history, (select count(*) from postings) as postings`.execute(db);
  expect(Number(counts.rows[0]?.history)).toBe(Number(counts.rows[0]?.postings));
  await expect(sql`update balance_history set amount_cents = 0`.execute(db)).rejects.toThrow(/balance_history change only through postings/);
  await expect(sql`delete from balance_history`.execute(db)).rejects.toThrow(/balance_history change only through postings/);

  const accounts = await accountsOf([llc.entityId]);
  for (const [fromOn, toOn, interval] of [
    ['2025-01-01', '2026-12-31', 'month'],
    ['2025-06-01', '2025-07-15', 'day'],
  ] as const) {
    const history = await ledger.http.get(`/entities/${llc.entityId}/balance-history?from=${fromOn}&to=${toOn}&interval=${interval}`).expect(200);
    for (const point of history.body.byCurrency.USD as { on: string; netWorthCents: number }[]) {
      const balances = await plainBalances(point.on);
      const expected = accounts.filter((account) => account.class === 'asset' || account.class === 'liability').reduce((sum, account) => sum + (balances.get(account.id) ?? 0), 0);
      expect(point.netWorthCents).toBe(expected);
    }
  }
});
