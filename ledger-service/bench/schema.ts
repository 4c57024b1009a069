import { randomUUID } from 'node:crypto';
import pg from 'pg';

// Each benchmark run on PostgreSQL books into a schema of its own, dropped at the end.

async function adminQuery(databaseUrl: string, statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
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
