import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase } from '../src/db/database';
import { liveBackupSource, restore } from '../src/services/backup';
import { createBooks } from './support/books';
import { BACKEND, key, startTestLedger, type TestLedger } from './support/harness';

// POST /admin/backups, what the scheduled-backup template calls: a backup of the books the running service holds
// (PGlite: its open database; PostgreSQL: pg_dump of its schema) into the configured directory, with retention,
// only for the instance owner; and the newest file restores to the same books.

jest.setTimeout(300_000);

let ledger: TestLedger;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-backup-api-'));
const dir = path.join(scratch, 'backups');

beforeAll(async () => {
  ledger = await startTestLedger({ ownerMfa: true });
});
afterAll(async () => {
  await ledger.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

const backupNow = (idempotencyKey = key('backup')) => ledger.http.post('/admin/backups').set('Idempotency-Key', idempotencyKey);

it(`answers backups_not_configured until a directory is set (${BACKEND})`, async () => {
  const response = await backupNow().expect(409);
  expect(response.body.error.code).toBe('backups_not_configured');
});

it(`writes backups into the directory, keeps the newest, replays a retried request, and the newest restores (${BACKEND})`, async () => {
  ledger.deps.backups = { dir, keep: 2, source: liveBackupSource(ledger.handle, { databaseUrl: process.env.DATABASE_URL, schema: ledger.schema }) };
  const books = await createBooks(ledger, { name: 'Backed Up LLC', accounts: { checking: 'checking', sales: 'income_category' } });
  const sale = (amountCents: number) =>
    ledger.http
      .post(`/entities/${books.entityId}/entries`)
      .set('Idempotency-Key', key('sale'))
      .send({ postedOn: '2026-03-01', description: 'Sale', postings: [{ accountId: books.accounts.checking, amountCents }, { accountId: books.accounts.sales, amountCents: -amountCents }] })
      .expect(201);
  await sale(1_000);

  expect((await ledger.http.post('/admin/backups').expect(400)).body.error.code).toBe('idempotency_key_required');
  const retried = key('backup');
  const first = await backupNow(retried).expect(201);
  expect(first.body).toMatchObject({ backend: BACKEND, entries: 1, removed: [] });
  expect(first.body.file).toMatch(BACKEND === 'postgres' ? /^veil-backup-\d{8}T\d{9}Z\.dump$/ : /^veil-backup-\d{8}T\d{9}Z\.tar\.gz$/);
  expect(first.body.bytes).toBe(fs.statSync(path.join(dir, first.body.file)).size);
  const again = await backupNow(retried).expect(201);
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(again.body).toEqual(first.body);

  const files = [first.body.file as string];
  for (const amountCents of [2_000, 3_000]) {
    await sale(amountCents);
    ledger.clock.advance(1_000);
    const next = await backupNow().expect(201);
    files.push(next.body.file);
    expect(next.body.entries).toBe(files.length);
  }
  const listed = await ledger.http.get('/admin/backups').expect(200);
  expect(listed.body).toEqual({ keep: 2, items: [files[2], files[1]].map((file) => ({ file, bytes: fs.statSync(path.join(dir, file as string)).size })) });
  expect(fs.readdirSync(dir).sort()).toEqual([files[1], files[2]].sort());

  // The newest file is a real backup: restored into an empty place, it holds the three entries and a sound chain.
  const newest = path.join(dir, files[2] as string);
  if (BACKEND === 'postgres') {
    const databaseUrl = process.env.DATABASE_URL as string;
    const database = `veil_restore_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`create database ${database}`);
    try {
      const restoredUrl = Object.assign(new URL(databaseUrl), { pathname: `/${database}` }).toString();
      expect(await restore(newest, { databaseUrl: restoredUrl, schema: ledger.schema }, () => {})).toMatchObject({ backend: 'postgres', entries: 3 });
    } finally {
      await admin.query(`drop database if exists ${database} with (force)`);
      await admin.end();
    }
  } else {
    const target = path.join(scratch, 'restored');
    expect(await restore(newest, { pgliteDataDir: target }, () => {})).toMatchObject({ backend: 'pglite', entries: 3 });
    const restored = await openDatabase({ pgliteDataDir: target });
    try {
      const balances = await restored.db.selectFrom('accounts').select(['name', 'balanceCents']).where('entityId', '=', books.entityId).orderBy('name').execute();
      expect(balances.map((row) => [row.name, Number(row.balanceCents)])).toEqual([
        ['checking', 6_000],
        ['sales', -6_000],
      ]);
    } finally {
      await restored.close();
    }
  }
});

it(`is for the instance owner with write access only (${BACKEND})`, async () => {
  const member = await ledger.createUser('member@veil.test');
  expect((await ledger.as(member.accessToken).post('/admin/backups').set('Idempotency-Key', key()).expect(403)).body.error.code).toBe('forbidden');
  await ledger.as(member.accessToken).get('/admin/backups').expect(403);
  const books = await createBooks(ledger, { name: 'Token LLC', accounts: { checking: 'checking' } });
  const readOnly = await ledger.http.post('/auth/tokens').send({ name: 'reader', scopes: ['read'], entityIds: [books.entityId] }).expect(201);
  await ledger.as(readOnly.body.token).post('/admin/backups').set('Idempotency-Key', key()).expect(403);
  const writer = await ledger.http.post('/auth/tokens').send({ name: 'n8n', scopes: ['read', 'write'], entityIds: [books.entityId] }).expect(201);
  await ledger.as(writer.body.token).post('/admin/backups').set('Idempotency-Key', key()).expect(201);
  await ledger.anonymous.post('/admin/backups').set('Idempotency-Key', key()).expect(401);
});
