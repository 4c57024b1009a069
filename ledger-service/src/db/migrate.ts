import { DEFAULT_MIGRATION_TABLE, Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './database';
import * as m0001 from './migrations/0001_journal';
import * as m0002 from './migrations/0002_security';
import * as m0003 from './migrations/0003_veil';
import * as m0004 from './migrations/0004_mirror_accounts';
import * as m0005 from './migrations/0005_bank_lines';
import * as m0008 from './migrations/0008_budget';
import * as m0009 from './migrations/0009_bills';
import * as m0010 from './migrations/0010_events';
import * as m0007 from './migrations/0007_imports';
import * as m0011 from './migrations/0011_form_1099';
import * as m0006 from './migrations/0006_plaid';
import * as m0012 from './migrations/0012_execution_index';
import * as m0013 from './migrations/0013_bank_line_matching';
import * as m0014 from './migrations/0014_period_totals';
import * as m0015 from './migrations/0015_alerts_and_executions';
import * as m0016 from './migrations/0016_investments';
import * as m0017 from './migrations/0017_balance_history';
import * as m0018 from './migrations/0018_fast_write';
import * as m0019 from './migrations/0019_plaid_transfer';
import * as m0021 from './migrations/0021_budget_reversals';
import * as m0023 from './migrations/0023_bank_line_entry';
import * as m0026 from './migrations/0026_audit_append_rows';
import * as m0027 from './migrations/0027_bank_lines_entity_key';
import * as m0028 from './migrations/0028_fast_booking';
import * as m0029 from './migrations/0029_apply_postings_entry_lookup';
import * as m0030 from './migrations/0030_audit_append_contents';
import * as m0031 from './migrations/0031_entries_checked_in_statement';
import * as m0032 from './migrations/0032_time_ordered_ids';
import * as m0033 from './migrations/0033_balance_alerts';
import * as m0034 from './migrations/0034_book_entries_checked_in_statement';
import * as m0035 from './migrations/0035_book_entries_in_one_function';
import * as m0036 from './migrations/0036_fewer_index_writes';
import * as m0037 from './migrations/0037_grouped_bookings';
import * as m0038 from './migrations/0038_statement_level_references';

// A static list rather than a folder scan: the same code runs from src (tsx, jest) and from dist.
const MIGRATIONS: Record<string, Migration> = {
  '0001_journal': m0001,
  '0002_security': m0002,
  '0003_veil': m0003,
  '0004_mirror_accounts': m0004,
  '0005_bank_lines': m0005,
  '0008_budget': m0008,
  '0009_bills': m0009,
  '0010_events': m0010,
  '0007_imports': m0007,
  '0011_form_1099': m0011,
  '0006_plaid': m0006,
  '0012_execution_index': m0012,
  '0013_bank_line_matching': m0013,
  '0014_period_totals': m0014,
  '0015_alerts_and_executions': m0015,
  '0016_investments': m0016,
  '0017_balance_history': m0017,
  '0018_fast_write': m0018,
  '0019_plaid_transfer': m0019,
  '0021_budget_reversals': m0021,
  '0023_bank_line_entry': m0023,
  '0026_audit_append_rows': m0026,
  '0027_bank_lines_entity_key': m0027,
  '0028_fast_booking': m0028,
  '0029_apply_postings_entry_lookup': m0029,
  '0030_audit_append_contents': m0030,
  '0031_entries_checked_in_statement': m0031,
  '0032_time_ordered_ids': m0032,
  '0033_balance_alerts': m0033,
  '0034_book_entries_checked_in_statement': m0034,
  '0035_book_entries_in_one_function': m0035,
  '0036_fewer_index_writes': m0036,
  '0037_grouped_bookings': m0037,
  '0038_statement_level_references': m0038,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/**
 * Kysely looks for its bookkeeping tables in every schema unless told which one: a database holding several
 * schemas (tests run one per file, in parallel) would then find another schema's lock table and skip creating
 * its own. Pin them to the connection's current schema.
 */
async function migratorFor(db: Db): Promise<Migrator> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  return new Migrator({ db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
}

/**
 * Kysely's migrator reads the catalog of every schema in the database (its table introspection); a schema that
 * another session drops meanwhile makes that read fail ("schema … does not exist"). Where several ledgers share a
 * database (tests, one schema each), schema DDL therefore takes this advisory lock, and so does migrating.
 */
export const SCHEMA_DDL_LOCK = 4_210_417;

export async function migrateToLatest(db: Db): Promise<string[]> {
  return db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${SCHEMA_DDL_LOCK})`.execute(connection);
    try {
      const migrator = await migratorFor(connection);
      const { error, results } = await migrator.migrateToLatest();
      if (error) throw error instanceof Error ? error : new Error(String(error));
      return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
    } finally {
      await sql`select pg_advisory_unlock(${SCHEMA_DDL_LOCK})`.execute(connection);
    }
  });
}

/**
 * True when every known migration has run: what `/readyz` reports. Read from this schema's own bookkeeping table,
 * not through Kysely's migrator, whose table introspection reads every schema's catalog and fails when another
 * session drops a schema meanwhile (a readiness probe would then answer 503 for nothing it owns).
 */
export async function migrationsCurrent(db: Db): Promise<boolean> {
  const table = await sql<{ present: boolean }>`select to_regclass(${DEFAULT_MIGRATION_TABLE}) is not null as present`.execute(db);
  if (table.rows[0]?.present !== true) return false;
  const { rows } = await sql<{ name: string }>`select name from ${sql.table(DEFAULT_MIGRATION_TABLE)}`.execute(db);
  const executed = new Set(rows.map((row) => row.name));
  return Object.keys(MIGRATIONS).every((name) => executed.has(name));
}
