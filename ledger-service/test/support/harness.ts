import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import pg from 'pg';
import request from 'supertest';
import { createApp } from '../../src/app';
import { openDatabase, type DatabaseHandle } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';
import type { Deps } from '../../src/services/context';

export type Backend = 'pglite' | 'postgres';

export const BACKEND: Backend = process.env.VEIL_TEST_DB === 'postgres' ? 'postgres' : 'pglite';

export interface TestLedger {
  deps: Deps;
  handle: DatabaseHandle;
  app: ReturnType<typeof createApp>;
  http: ReturnType<typeof request>;
  /** PostgreSQL schema of this file, when on PostgreSQL. */
  schema: string | undefined;
  close(): Promise<void>;
}

/** A fresh, migrated database (its own schema on PostgreSQL, a template copy on PGlite) and the real app on it. */
export async function startTestLedger(options: { poolSizeMax?: number } = {}): Promise<TestLedger> {
  let handle: DatabaseHandle;
  let schema: string | undefined;
  let dropSchema = async () => {};
  if (BACKEND === 'postgres') {
    const databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) throw new Error('VEIL_TEST_DB=postgres needs DATABASE_URL');
    schema = `veil_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    handle = await openDatabase({ databaseUrl, schema, poolSizeMax: options.poolSizeMax ?? 10 });
    await migrateToLatest(handle.db);
    const created = schema;
    dropSchema = async () => {
      const cleanup = new pg.Client({ connectionString: databaseUrl });
      await cleanup.connect();
      await cleanup.query(`drop schema ${created} cascade`);
      await cleanup.end();
    };
  } else {
    const template = process.env.VEIL_PGLITE_TEMPLATE;
    handle = await openDatabase({
      pgliteDataDir: 'memory://',
      pgliteLoadDataDir: template ? new Blob([fs.readFileSync(template)]) : undefined,
    });
    await migrateToLatest(handle.db);
  }
  const deps: Deps = { db: handle.db, logger: pino({ level: 'silent' }), backend: handle.backend };
  const app = createApp(deps);
  return {
    deps,
    handle,
    app,
    http: request(app),
    schema,
    close: async () => {
      await handle.close();
      await dropSchema();
    },
  };
}

/** Listens on a free loopback port, for tests that need real concurrent HTTP clients. */
export async function listen(app: TestLedger['app']): Promise<{ baseUrl: string; server: Server; stop(): Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const started = app.listen(0, '127.0.0.1', () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    server,
    stop: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

let keyCounter = 0;
export function key(label = 'k'): string {
  keyCounter += 1;
  return `${label}-${keyCounter}-${randomUUID()}`;
}
