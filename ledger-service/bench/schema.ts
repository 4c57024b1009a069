import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { SCHEMA_DDL_LOCK } from '../src/db/migrate';

// Each benchmark run on PostgreSQL books into a schema of its own, dropped at the end.

// Schema DDL takes the lock migrations take (SCHEMA_DDL_LOCK): Kysely's migrator reads every schema's catalog, and a
// benchmark dropping its schema meanwhile made a test suite's migration on the same server fail ("schema … does not
// exist"), as a test's own schema teardown would without the lock.
async function adminQuery(databaseUrl: string, statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await admin.query('select pg_advisory_lock($1)', [SCHEMA_DDL_LOCK]);
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}

export async function createBenchSchema(databaseUrl: string, prefix: string): Promise<string> {
  const schema = `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await adminQuery(databaseUrl, `create schema ${schema}`);
  return schema;
}

export function dropBenchSchema(databaseUrl: string, schema: string): Promise<void> {
  return adminQuery(databaseUrl, `drop schema if exists ${schema} cascade`);
}
