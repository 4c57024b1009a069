import { sql } from 'kysely';
import pg from 'pg';
import { createApp } from '../src/app';
import { openDatabase } from '../src/db/database';
import { BACKEND, key, startTestLedger, type TestLedger } from './support/harness';
import { freePort } from './support/process';

// Found by the hardening harness (hardening/run.ts, database restart phase): a PostgreSQL restart ended the pool's
// idle connections, the pool emitted 'error' with no listener, and the whole service process died. Requests that
// met the outage answered 500 `internal` although nothing was wrong with them or with the code.

let ledger: TestLedger;
beforeAll(async () => {
  ledger = await startTestLedger();
});
afterAll(() => ledger.close());

it('answers 503 database_unavailable (retry with the same key) and /readyz not ready while the database is unreachable', async () => {
  // A pool aimed at a port nobody listens on: every connection attempt is refused, as during a restart.
  const unreachable = await openDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${await freePort()}/none`, poolSizeMax: 2 });
  try {
    const app = createApp({ ...ledger.deps, db: unreachable.db, backend: 'postgres' });
    const request = (await import('supertest')).default;
    const ready = await request(app).get('/readyz').expect(503);
    expect(ready.body.status).toBe('database_unreachable');
    const write = await request(app)
      .post('/entities')
      .set('Authorization', `Bearer ${ledger.owner.accessToken}`)
      .set('Idempotency-Key', key())
      .send({ kind: 'llc', name: 'Never LLC' })
      .expect(503);
    expect(write.body.error.code).toBe('database_unavailable');
    expect(write.headers['retry-after']).toBe('1');
  } finally {
    await unreachable.close();
  }
  // Nothing reached the real books.
  const entities = await ledger.http.get('/entities').expect(200);
  expect(entities.body.items.map((entity: { name: string }) => entity.name)).not.toContain('Never LLC');
});

if (BACKEND === 'postgres') {
  it('survives the server ending its idle pooled connections, and the next request reconnects', async () => {
    const databaseUrl = process.env.DATABASE_URL as string;
    const request = (await import('supertest')).default;
    const warnings: Error[] = [];
    // One pool without a listener of its own (main.ts before the fix), one with: neither may take the process down.
    const handles = [
      await openDatabase({ databaseUrl, schema: ledger.schema, poolSizeMax: 1 }),
      await openDatabase({ databaseUrl, schema: ledger.schema, poolSizeMax: 1, onPoolError: (error) => warnings.push(error) }),
    ];
    try {
      // Each pool's single connection, now idle in it; only these two backends are ended (the server is shared).
      const pids: number[] = [];
      for (const handle of handles) {
        const row = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(handle.db);
        pids.push(Number(row.rows[0]?.pid));
      }
      const admin = new pg.Client({ connectionString: databaseUrl });
      await admin.connect();
      await admin.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [pids]);
      await admin.end();
      // Give the sockets time to report the termination to the pools.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(warnings).toHaveLength(1);
      for (const handle of handles) {
        const app = createApp({ ...ledger.deps, db: handle.db });
        // On a loaded machine the pool may not yet have read the termination when the request takes the client:
        // that one request fails (503, retry) and the broken client is dropped, so the next one must reconnect.
        // CI saw this race once; no more than one refusal is allowed.
        let ready = await request(app).get('/readyz');
        if (ready.status === 503) {
          expect(ready.body.status).toBe('database_unreachable');
          ready = await request(app).get('/readyz');
        }
        expect(ready.status).toBe(200);
        await request(app)
          .post('/entities')
          .set('Authorization', `Bearer ${ledger.owner.accessToken}`)
          .set('Idempotency-Key', key())
          .send({ kind: 'llc', name: 'Reconnected LLC' })
          .expect(201);
      }
    } finally {
      for (const handle of handles) await handle.close();
    }
  });

  // Found by the hardening harness once its restart no longer froze the clients: a connection ended while the
  // service held it between two statements of a transaction emitted 'error' on the checked-out client, which had no
  // listener, and the process died mid-load.
  it('survives the server ending a connection checked out inside a transaction; the transaction rolls back', async () => {
    const databaseUrl = process.env.DATABASE_URL as string;
    const handle = await openDatabase({ databaseUrl, schema: ledger.schema, poolSizeMax: 1 });
    const name = `Half-written ${key()}`;
    try {
      const admin = new pg.Client({ connectionString: databaseUrl });
      await admin.connect();
      const transaction = handle.db.transaction().execute(async (trx) => {
        const row = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        await sql`insert into entities (kind, name, currency, tax_profile) values ('llc', ${name}, 'USD', 'disregarded')`.execute(trx);
        // The service is busy between statements (the connection is idle in transaction) when the server ends it.
        await admin.query('select pg_terminate_backend($1)', [Number(row.rows[0]?.pid)]);
        await new Promise((resolve) => setTimeout(resolve, 500));
        await sql`select 1`.execute(trx);
      });
      await expect(transaction).rejects.toThrow();
      await admin.end();
      // The pool replaced the broken connection; the half-done transaction left nothing behind.
      const found = await sql<{ count: string }>`select count(*) as count from entities where name = ${name}`.execute(handle.db);
      expect(Number(found.rows[0]?.count)).toBe(0);
    } finally {
      await handle.close();
    }
  });
}
