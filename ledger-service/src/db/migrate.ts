import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './database';
import * as m0001 from './migrations/0001_journal';
import * as m0002 from './migrations/0002_security';

// A static list rather than a folder scan: the same code runs from src (tsx, jest) and from dist.
const MIGRATIONS: Record<string, Migration> = {
  '0001_journal': m0001,
  '0002_security': m0002,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/**
 * `schema`: the schema the database's search_path points at, when it is not `public`. Kysely otherwise looks for
 * its bookkeeping tables in every schema and, finding another schema's, skips creating its own.
 */
export async function migrateToLatest(db: Db, options: { schema?: string | undefined } = {}): Promise<string[]> {
  const migrator = new Migrator({ db, provider, ...(options.schema ? { migrationTableSchema: options.schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

/** True when every known migration has run: what `/readyz` reports. */
export async function migrationsCurrent(db: Db, options: { schema?: string | undefined } = {}): Promise<boolean> {
  const migrator = new Migrator({ db, provider, ...(options.schema ? { migrationTableSchema: options.schema } : {}) });
  const migrations = await migrator.getMigrations();
  return migrations.every((migration) => migration.executedAt !== undefined);
}
