import { sql, type Kysely } from 'kysely';

// Frozen. Balance history: per account and day, the sum of the postings booked on that day, read by
// services/balance-history.ts as the relation `balance_history_daily (account_id, entity_id, day, total_cents)`.
// Which storage backs that relation is decided here, once, by what the server offers:
//
// - TimescaleDB loadable (installed already, or available and preloaded): a hypertable `balance_history` of the
//   postings' amounts by posting day, appended to by a trigger on postings in the same transaction, and a daily
//   continuous aggregate over it named `balance_history_daily`, real-time (materialized_only = false) so the days
//   after its watermark are read from the hypertable, refreshed by a policy.
// - Otherwise (PGlite, plain PostgreSQL): `balance_history_daily` is a view over account_day_totals, the plain
//   indexed table 0014 keeps by trigger. Nothing is stored twice.
//
// The query code is the same for both. The Timescale branch is not exercised on the machines this was written on
// (no TimescaleDB package there); the plain branch is, by test/balance-history.test.ts.

export const TIMESCALE_STATEMENTS: readonly string[] = [
  `create extension if not exists timescaledb;`,
  `create table balance_history (
    account_id uuid not null references accounts (id),
    entity_id uuid not null references entities (id),
    posted_on date not null,
    amount_cents bigint not null
  );`,
  `select create_hypertable('balance_history', 'posted_on', chunk_time_interval => interval '90 days');`,
  `create index balance_history_entity_account on balance_history (entity_id, account_id, posted_on);`,
  `insert into balance_history (account_id, entity_id, posted_on, amount_cents)
    select p.account_id, p.entity_id, e.posted_on, p.amount_cents
    from postings p join journal_entries e on e.id = p.entry_id;`,
  `create function veil_append_balance_history() returns trigger language plpgsql as $$
  begin
    insert into balance_history (account_id, entity_id, posted_on, amount_cents)
      select p.account_id, p.entity_id, e.posted_on, p.amount_cents
      from new_postings p join journal_entries e on e.id = p.entry_id;
    return null;
  end $$;`,
  `create trigger postings_balance_history after insert on postings
    referencing new table as new_postings for each statement execute function veil_append_balance_history();`,
  // Like the period totals: written only by the postings trigger, never updated, deleted or truncated.
  `create trigger balance_history_guard before insert or update or delete on balance_history
    for each row execute function veil_period_totals_only_from_postings();`,
  `create trigger balance_history_no_truncate before truncate on balance_history
    for each statement execute function veil_journal_is_append_only();`,
  // WITH NO DATA: a continuous aggregate created with data cannot be created inside a transaction (migrations run
  // in one); real-time aggregation answers from the hypertable until the policy has materialized it.
  `create materialized view balance_history_daily
    with (timescaledb.continuous, timescaledb.materialized_only = false) as
    select account_id, entity_id, time_bucket(interval '1 day', posted_on) as day, sum(amount_cents)::bigint as total_cents
    from balance_history
    group by account_id, entity_id, time_bucket(interval '1 day', posted_on)
    with no data;`,
  `select add_continuous_aggregate_policy('balance_history_daily',
    start_offset => null, end_offset => interval '1 day', schedule_interval => interval '1 hour');`,
];

const PLAIN: readonly string[] = [
  `create view balance_history_daily as
    select account_id, entity_id, day, total_cents from account_day_totals;`,
];

/**
 * TimescaleDB can be used when its extension is installed in this database, or is available and loaded at server
 * start (it refuses CREATE EXTENSION unless it is in shared_preload_libraries).
 */
export async function timescaleUsable(db: Kysely<any>): Promise<boolean> {
  const { rows } = await sql<{ installed: boolean; available: boolean; preloaded: boolean }>`
    select
      exists (select 1 from pg_extension where extname = 'timescaledb') as installed,
      exists (select 1 from pg_available_extensions where name = 'timescaledb') as available,
      coalesce(current_setting('shared_preload_libraries', true), '') like '%timescaledb%' as preloaded`.execute(db);
  const row = rows[0];
  return row !== undefined && (row.installed || (row.available && row.preloaded));
}

export async function up(db: Kysely<any>): Promise<void> {
  const statements = (await timescaleUsable(db)) ? TIMESCALE_STATEMENTS : PLAIN;
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('0017_balance_history is not reversible');
}
