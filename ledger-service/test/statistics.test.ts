import { sql } from 'kysely';
import type { Db } from '../src/db/database';
import { analyzeStaleTables, keepsOwnStatistics } from '../src/services/statistics';
import { BACKEND, startTestLedger, type TestLedger } from './support/harness';

let ledger: TestLedger;

beforeAll(async () => {
  ledger = await startTestLedger();
});
afterAll(() => ledger.close());

/** This session's table counts, reported now rather than within the second PostgreSQL allows itself. */
async function reportCounts(db: Db): Promise<void> {
  await sql`select pg_stat_force_next_flush()`.execute(db);
  await sql`select 1`.execute(db);
}

async function addEntities(db: Db, count: number): Promise<void> {
  await sql`insert into entities (kind, name, currency, tax_profile)
    select 'llc', 'Statistics ' || gen_random_uuid(), 'USD', 'disregarded' from generate_series(1, ${count})`.execute(db);
  await reportCounts(db);
}

describe('planner statistics kept by the service where no autovacuum keeps them', () => {
  it('keeps them on PGlite, and on PostgreSQL only when its autovacuum is off', async () => {
    const expected = BACKEND === 'pglite' ? true : (await sql<{ setting: string }>`select current_setting('autovacuum') as setting`.execute(ledger.deps.db)).rows[0]?.setting !== 'on';
    expect(await keepsOwnStatistics(ledger.deps.db, BACKEND)).toBe(expected);
  });

  it('analyzes a table once more than 50 + 10% of its rows changed since its last ANALYZE, and only then', async () => {
    // One session throughout: the counts it reports are its own.
    await ledger.deps.db.connection().execute(async (db) => {
      await reportCounts(db);
      await analyzeStaleTables(db); // whatever the harness's setup wrote
      await addEntities(db, 200);
      expect(await analyzeStaleTables(db)).toEqual(['entities']);
      const { rows } = await sql<{ tuples: number }>`select reltuples as tuples from pg_class where oid = 'entities'::regclass`.execute(db);
      const tuples = Number(rows[0]?.tuples);
      expect(tuples).toBeGreaterThanOrEqual(200);
      await reportCounts(db);
      expect(await analyzeStaleTables(db)).toEqual([]);
      // The threshold is now 50 + 10% of the rows analyzed: just under it changes nothing, just over it analyzes.
      const threshold = 50 + 0.1 * tuples;
      await addEntities(db, Math.floor(threshold) - 1);
      expect(await analyzeStaleTables(db)).toEqual([]);
      await addEntities(db, 2);
      expect(await analyzeStaleTables(db)).toEqual(['entities']);
    });
  });
});
