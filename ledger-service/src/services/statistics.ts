import { sql } from 'kysely';
import type { Db } from '../db/database';

// Planner statistics where nothing else keeps them. PGlite runs PostgreSQL in single-user mode, which has no
// autovacuum launcher: its tables were never analyzed (pg_class.reltuples -1), so every plan was made from default
// selectivities, and a plan cached while a table was small was kept as the table grew (the journal's entry-key
// check held a hash join over every entry of the entity; migration 0035). A PostgreSQL server with autovacuum
// turned off (as on the machines this was measured on) is in the same state. There, this service analyzes the
// tables that changed enough, by autovacuum's own default rule: more than 50 + 10% of the table's rows modified
// since its last ANALYZE. ANALYZE takes a lock that lets reads and writes go on; on PGlite it runs between two
// requests, and samples at most 30,000 rows of a table.

const ANALYZE_ROWS_MIN = 50;
const ANALYZE_FRACTION = 0.1;

/** Whether this database needs the service to keep its statistics: PGlite always, PostgreSQL when autovacuum is off. */
export async function keepsOwnStatistics(db: Db, backend: 'postgres' | 'pglite'): Promise<boolean> {
  if (backend === 'pglite') return true;
  const { rows } = await sql<{ setting: string }>`select current_setting('autovacuum') as setting`.execute(db);
  return rows[0]?.setting !== 'on';
}

/**
 * Analyzes this schema's tables whose rows changed by more than 50 + 10% since their last ANALYZE (autovacuum's
 * default threshold), and returns their names, in the order analyzed. The counts are PostgreSQL's own
 * (pg_stat_user_tables), which each session reports at most once a second.
 */
export async function analyzeStaleTables(db: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select s.relname as name
      from pg_stat_user_tables s
      join pg_class c on c.oid = s.relid
     where s.schemaname = current_schema()
       and s.n_mod_since_analyze > ${ANALYZE_ROWS_MIN} + ${ANALYZE_FRACTION} * greatest(c.reltuples, 0)
     order by s.n_mod_since_analyze desc, s.relname`.execute(db);
  for (const { name } of rows) await sql`analyze ${sql.id(name)}`.execute(db);
  return rows.map((row) => row.name);
}
