import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './database';
import * as m0001 from './migrations/0001_journal';

// A static list rather than a folder scan: the same code runs from src (tsx, jest) and from dist.
const MIGRATIONS: Record<string, Migration> = {
  '0001_journal': m0001,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/**
 * `schema` names where the migration bookkeeping lives. Without it, Kysely looks for its tables in every schema
 * and can mistake another schema's (another test file's) for ours.
 */
export async function migrateToLatest(db: Db, schema?: string): Promise<string[]> {
  const migrator = new Migrator({ db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

/** True when every known migration has run: what `/readyz` reports. */
export async function migrationsCurrent(db: Db, schema?: string): Promise<boolean> {
  const migrator = new Migrator({ db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
  const migrations = await migrator.getMigrations();
  return migrations.every((migration) => migration.executedAt !== undefined);
}
