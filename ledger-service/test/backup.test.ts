import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase, type Db } from '../src/db/database';
import { migrateToLatest } from '../src/db/migrate';
import { register } from '../src/services/auth';
import { backup, restore } from '../src/services/backup';
import { seedDemo } from '../src/services/demo';
import { BACKEND, TEST_PASSWORD, startTestLedger, type TestLedger } from './support/harness';

// A backup is only as good as its restore: each test seeds realistic books, backs them up, restores them into an
// empty place, and compares what came back row for row (balances, entries, the audit chain's head).

let ledger: TestLedger;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-backup-'));
beforeAll(async () => {
  ledger = await startTestLedger();
});
afterAll(async () => {
  await ledger.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

async function snapshot(db: Db) {
  const balances = await db.selectFrom('accounts').select(['id', 'name', 'balanceCents']).orderBy('id').execute();
  const entries = await db.selectFrom('journalEntries').select(['id', 'contentHash', 'postedOn']).orderBy('seq').execute();
  const head = await db.selectFrom('auditChainHead').select(['seq', 'hash']).executeTakeFirstOrThrow();
  return { balances, entries, head };
}

const quiet = () => {};

if (BACKEND === 'postgres') {
  it('round-trips PostgreSQL books through pg_dump and pg_restore into an empty database', async () => {
    await seedDemo(ledger.deps, { ownerUserId: ledger.owner.id });
    const before = await snapshot(ledger.deps.db);
    expect(before.entries.length).toBeGreaterThan(50);
    const databaseUrl = process.env.DATABASE_URL as string;
    const schema = await currentSchema(ledger.deps.db);
    const file = path.join(scratch, 'books.pgdump');
    const summary = await backup({ databaseUrl, schema }, file, quiet);
    expect(summary).toMatchObject({ backend: 'postgres', entries: before.entries.length });

    const database = `veil_restore_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`create database ${database}`);
    const restoredUrl = Object.assign(new URL(databaseUrl), { pathname: `/${database}` }).toString();
    try {
      const restored = await restore(file, { databaseUrl: restoredUrl, schema }, quiet);
      expect(restored).toMatchObject({ backend: 'postgres', entries: before.entries.length, auditRows: Number(before.head.seq) });
      const handle = await openDatabase({ databaseUrl: restoredUrl, schema });
      try {
        expect(await snapshot(handle.db)).toEqual(before);
      } finally {
        await handle.close();
      }
      // Never over books that exist.
      await expect(restore(file, { databaseUrl: restoredUrl, schema }, quiet)).rejects.toThrow(/already holds Veil books/);
      await expect(backup({ databaseUrl, schema }, file, quiet)).rejects.toThrow(/already exists/);
    } finally {
      await admin.query(`drop database ${database} with (force)`);
      await admin.end();
    }
  });
} else {
  it('round-trips PGlite books through a data-directory dump into an empty data directory', async () => {
    const source = path.join(scratch, 'source');
    const handle = await openDatabase({ pgliteDataDir: source });
    await migrateToLatest(handle.db);
    const deps = { ...ledger.deps, db: handle.db };
    const owner = await register(deps, { email: 'backup@veil.test', password: TEST_PASSWORD });
    await seedDemo(deps, { ownerUserId: owner.id });
    const before = await snapshot(handle.db);
    await handle.close();
    expect(before.entries.length).toBeGreaterThan(50);

    const file = path.join(scratch, 'books.tar.gz');
    expect(await backup({ pgliteDataDir: source }, file, quiet)).toMatchObject({ backend: 'pglite', entries: before.entries.length });
    const target = path.join(scratch, 'target');
    expect(await restore(file, { pgliteDataDir: target }, quiet)).toMatchObject({ backend: 'pglite', entries: before.entries.length });
    const restored = await openDatabase({ pgliteDataDir: target });
    try {
      expect(await snapshot(restored.db)).toEqual(before);
    } finally {
      await restored.close();
    }
    await expect(restore(file, { pgliteDataDir: target }, quiet)).rejects.toThrow(/not empty/);
    await expect(restore(file, { databaseUrl: 'postgres://127.0.0.1/none' }, quiet)).rejects.toThrow(/a PGlite backup/);
  });
}

it('refuses a file that is not a backup, naming it', async () => {
  const bogus = path.join(scratch, 'notes.txt');
  fs.writeFileSync(bogus, 'hello, not a backup');
  await expect(restore(bogus, { pgliteDataDir: path.join(scratch, 'never') }, quiet)).rejects.toThrow(`${bogus}: not a Veil backup`);
  expect(fs.existsSync(path.join(scratch, 'never'))).toBe(false);
});

async function currentSchema(db: Db): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return rows[0]?.schema as string;
}
