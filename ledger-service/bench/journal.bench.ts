// `npm run bench`: the journal's throughput, each API figure next to a raw-SQL baseline measured in the same run
// on the same database. PostgreSQL when DATABASE_URL is set (the targets are for PostgreSQL), and PGlite always.
// Not a test: it prints figures and ratios, and asserts nothing about time.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle } from '../src/db/database';
import { migrateToLatest } from '../src/db/migrate';
import { killHard, signIn, startService, type ServiceProcess } from '../test/support/process';
import { createClient } from './http-client';
import { createBenchSchema, dropBenchSchema } from './schema';

const RAW_ENTRIES = Number(process.env.BENCH_RAW_ENTRIES ?? 20_000);
const BATCH_ENTRIES = Number(process.env.BENCH_BATCH_ENTRIES ?? 20_000);
const SINGLE_ENTRIES = Number(process.env.BENCH_SINGLE_ENTRIES ?? 4_000);
const BATCH_SIZE = 1_000;
let rawDeadlocks = 0;

interface Row {
  phase: string;
  entriesPerSecond: number;
  p50Ms?: number;
  p99Ms?: number;
}

function progress(message: string) {
  process.stdout.write(`  … ${message}\n`);
}

function percentile(sortedMs: number[], fraction: number): number {
  if (sortedMs.length === 0) return NaN;
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor(fraction * sortedMs.length))] as number;
}

async function setUpBooks(handle: DatabaseHandle) {
  const entity = await handle.db
    .insertInto('entities')
    .values({ kind: 'llc', name: `Bench ${randomUUID()}`, currency: 'USD', taxProfile: 'disregarded' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const accounts = await handle.db
    .insertInto('accounts')
    .values(
      Array.from({ length: 20 }, (_, index) => ({
        entityId: entity.id,
        name: `Account ${index}`,
        class: 'asset',
        kind: 'checking',
        currency: 'USD',
      })),
    )
    .returning('id')
    .execute();
  return { entityId: entity.id, accountIds: accounts.map((account) => account.id) };
}

/** Entry i moves (i % 997 + 1) cents between two of the accounts; the same shape for every phase. */
function shape(accountIds: string[], index: number) {
  const from = accountIds[index % accountIds.length] as string;
  const to = accountIds[(index * 7 + 3) % accountIds.length] === from
    ? (accountIds[(index + 1) % accountIds.length] as string)
    : (accountIds[(index * 7 + 3) % accountIds.length] as string);
  return { from, to, amountCents: (index % 997) + 1 };
}

async function rawMultiRowInsert(handle: DatabaseHandle, entityId: string, accountIds: string[]): Promise<Row> {
  progress(`raw multi-row INSERT of ${RAW_ENTRIES} entries (${RAW_ENTRIES * 2} postings)`);
  const started = performance.now();
  for (let offset = 0; offset < RAW_ENTRIES; offset += BATCH_SIZE) {
    await handle.db.transaction().execute(async (trx) => {
      const entries = Array.from({ length: Math.min(BATCH_SIZE, RAW_ENTRIES - offset) }, (_, index) => ({
        id: randomUUID(),
        index: offset + index,
      }));
      await trx
        .insertInto('journalEntries')
        .values(entries.map((entry) => ({ id: entry.id, entityId, postedOn: '2026-01-01', description: 'raw', source: 'manual', contentHash: 'raw', actor: 'bench' })))
        .execute();
      await trx
        .insertInto('postings')
        .values(
          entries.flatMap((entry) => {
            const { from, to, amountCents } = shape(accountIds, entry.index);
            return [
              { entryId: entry.id, entityId, accountId: to, currency: 'USD', amountCents },
              { entryId: entry.id, entityId, accountId: from, currency: 'USD', amountCents: -amountCents },
            ];
          }),
        )
        .execute();
    });
  }
  return { phase: 'raw multi-row INSERT (the limit)', entriesPerSecond: RAW_ENTRIES / ((performance.now() - started) / 1000) };
}

/** The API's books are opened through the API, so they belong to the signed-in owner. */
async function setUpBooksOverHttp(service: ServiceProcess, token: string) {
  const client = createClient(service.baseUrl, 1);
  const headers = (key: string) => ({ authorization: `Bearer ${token}`, 'idempotency-key': key });
  const entity = JSON.parse((await client.post('/entities', { kind: 'llc', name: 'Bench API LLC' }, headers(randomUUID()))).body);
  const accountIds: string[] = [];
  for (let index = 0; index < 20; index += 1) {
    const account = await client.post(`/entities/${entity.id}/accounts`, { name: `Account ${index}`, kind: 'checking' }, headers(randomUUID()));
    accountIds.push(JSON.parse(account.body).id);
  }
  client.close();
  return { entityId: entity.id as string, accountIds };
}

async function batchApi(service: ServiceProcess, token: string, entityId: string, accountIds: string[]): Promise<Row> {
  progress(`batch API: ${BATCH_ENTRIES} entries in requests of ${BATCH_SIZE}`);
  const client = createClient(service.baseUrl, 1);
  const latencies: number[] = [];
  const started = performance.now();
  for (let offset = 0; offset < BATCH_ENTRIES; offset += BATCH_SIZE) {
    const entries = Array.from({ length: Math.min(BATCH_SIZE, BATCH_ENTRIES - offset) }, (_, index) => {
      const { from, to, amountCents } = shape(accountIds, offset + index);
      return {
        postedOn: '2026-01-02',
        description: 'batch',
        postings: [
          { accountId: to, amountCents },
          { accountId: from, amountCents: -amountCents },
        ],
      };
    });
    const requestStarted = performance.now();
    const response = await client.post(`/entities/${entityId}/entries/batch`, { entries }, { authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() });
    if (response.status !== 201) throw new Error(`batch failed: ${response.status} ${response.body}`);
    latencies.push(performance.now() - requestStarted);
  }
  client.close();
  latencies.sort((a, b) => a - b);
  return {
    phase: `batch API (${BATCH_SIZE} entries/request)`,
    entriesPerSecond: BATCH_ENTRIES / ((performance.now() - started) / 1000),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

/**
 * Runs `count` operations from `clients` concurrent workers taking the next index from a shared counter, and
 * times each one. Each worker records its own latencies; the rate is taken over the whole run.
 */
async function measure(phase: string, count: number, clients: number, operation: (index: number) => Promise<void>): Promise<Row> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let index = next++; index < count; index = next++) {
        const operationStarted = performance.now();
        await operation(index);
        latencies.push(performance.now() - operationStarted);
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return { phase, entriesPerSecond: count / (elapsedMs / 1000), p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99) };
}

/** The same shape as one API entry, in raw SQL: BEGIN, insert the entry, insert its two postings, COMMIT. */
async function rawTransactions(handle: DatabaseHandle, entityId: string, accountIds: string[], clients: number): Promise<Row> {
  progress(`raw SQL transaction per entry, ${clients} connection(s), ${SINGLE_ENTRIES} entries`);
  return measure(`raw SQL transaction, ${clients} connection${clients > 1 ? 's' : ''}`, SINGLE_ENTRIES, clients, async (index) => {
    const { from, to, amountCents } = shape(accountIds, index);
    // Without the service's account locks in id order, two of these can deadlock in the balance trigger: the
    // baseline retries (and counts it) rather than take a round trip more.
    for (;;) {
      const id = randomUUID();
      try {
        await handle.db.transaction().execute(async (trx) => {
          await sql`insert into journal_entries (id, entity_id, posted_on, description, source, content_hash, actor)
            values (${id}, ${entityId}, '2026-01-03', 'raw txn', 'manual', 'raw', 'bench')`.execute(trx);
          await sql`insert into postings (entry_id, entity_id, account_id, currency, amount_cents)
            values (${id}, ${entityId}, ${to}, 'USD', ${amountCents}), (${id}, ${entityId}, ${from}, 'USD', ${-amountCents})`.execute(trx);
        });
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== '40P01') throw error;
        rawDeadlocks += 1;
      }
    }
  });
}

async function singleEntryApi(service: ServiceProcess, token: string, entityId: string, accountIds: string[], clients: number): Promise<Row> {
  progress(`single-entry API, ${clients} client(s), ${SINGLE_ENTRIES} entries`);
  const client = createClient(service.baseUrl, clients);
  const row = await measure(`single-entry API, ${clients} client${clients > 1 ? 's' : ''}`, SINGLE_ENTRIES, clients, async (index) => {
    const { from, to, amountCents } = shape(accountIds, index);
    const body = {
      postedOn: '2026-01-04',
      description: 'api',
      postings: [
        { accountId: to, amountCents },
        { accountId: from, amountCents: -amountCents },
      ],
    };
    const response = await client.post(`/entities/${entityId}/entries`, body, { authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() });
    if (response.status !== 201) throw new Error(`entry failed: ${response.status} ${response.body}`);
  });
  client.close();
  return row;
}

function print(backend: string, rows: Row[]) {
  const format = (value: number | undefined, digits = 1) => (value === undefined ? '' : value.toFixed(digits));
  console.log(`\n${backend}`);
  console.log(`${'phase'.padEnd(44)}${'entries/s'.padStart(11)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}`);
  for (const row of rows) {
    console.log(`${row.phase.padEnd(44)}${format(row.entriesPerSecond, 0).padStart(11)}${format(row.p50Ms).padStart(9)}${format(row.p99Ms).padStart(9)}`);
  }
  const rate = (phase: string) => rows.find((row) => row.phase.startsWith(phase))?.entriesPerSecond ?? NaN;
  const p99 = (phase: string) => rows.find((row) => row.phase.startsWith(phase))?.p99Ms ?? NaN;
  const ratios = [
    ['batch API / raw multi-row INSERT', rate('batch API') / rate('raw multi-row'), '≥ 0.50'],
    ['single-entry API / raw SQL txn, 1 client', rate('single-entry API, 1 client') / rate('raw SQL transaction, 1 connection'), '≥ 0.50'],
    ['single-entry API / raw SQL txn, 8 clients', rate('single-entry API, 8 clients') / rate('raw SQL transaction, 8 connections'), '≥ 0.50'],
  ] as const;
  for (const [label, ratio, target] of ratios) console.log(`ratio ${label.padEnd(44)}${ratio.toFixed(2).padStart(7)}   target ${target}`);
  console.log(`p99 single-entry API, 8 clients: ${p99('single-entry API, 8 clients').toFixed(1)} ms   target ≤ 50 ms`);
  console.log(`raw SQL transactions retried after a deadlock: ${rawDeadlocks}`);
  rawDeadlocks = 0;
}

async function runBackend(label: string, open: () => Promise<{ handle: DatabaseHandle; env: Record<string, string>; cleanup: () => Promise<void> }>) {
  console.log(`\n== ${label} ==`);
  const { handle, env, cleanup } = await open();
  let service: ServiceProcess | undefined;
  try {
    const rows: Row[] = [];
    const raw = await setUpBooks(handle);
    rows.push(await rawMultiRowInsert(handle, raw.entityId, raw.accountIds));
    rows.push(await rawTransactions(handle, raw.entityId, raw.accountIds, 1));
    if (label !== 'PGlite') rows.push(await rawTransactions(handle, raw.entityId, raw.accountIds, 8));
    // PGlite is single-process: the service needs the data directory to itself.
    if (label === 'PGlite') await handle.close();
    progress('starting the service as its own process');
    // The benchmark is one client sending thousands of requests a minute: lift the per-client rate limit.
    service = await startService({ ...env, VEIL_RATE_LIMIT_MAX: '1000000' });
    const token = await signIn(service.baseUrl);
    const api = await setUpBooksOverHttp(service, token);
    rows.push(await batchApi(service, token, api.entityId, api.accountIds));
    rows.push(await singleEntryApi(service, token, api.entityId, api.accountIds, 1));
    rows.push(await singleEntryApi(service, token, api.entityId, api.accountIds, 8));
    if (label === 'PGlite') {
      await killHard(service);
      service = undefined;
      const reopened = await open();
      rows.push(await rawTransactions(reopened.handle, api.entityId, api.accountIds, 8));
      await reopened.handle.close();
    }
    print(label, rows);
  } finally {
    if (service) await killHard(service);
    if (label !== 'PGlite') await handle.close();
    await cleanup();
  }
}

async function main() {
  console.log(`Veil journal benchmark — ${os.cpus().length} cores, Node ${process.version}`);
  const databaseUrl = process.env.DATABASE_URL;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-bench-'));
  if (databaseUrl) {
    await runBackend('PostgreSQL', async () => {
      const schema = await createBenchSchema(databaseUrl, 'veil_bench');
      const handle = await openDatabase({ databaseUrl, schema, poolSizeMax: 10 });
      await migrateToLatest(handle.db);
      return {
        handle,
        env: { DATABASE_URL: databaseUrl, VEIL_DB_SCHEMA: schema, VEIL_DB_POOL_MAX: '10', VEIL_DATA_DIR: dataDir },
        cleanup: () => dropBenchSchema(databaseUrl, schema),
      };
    });
  } else {
    console.log('DATABASE_URL is not set: skipping PostgreSQL (the targets are for PostgreSQL)');
  }
  // BENCH_PGLITE=0: PostgreSQL only (the targets are for PostgreSQL; PGlite's phases are slow on a loaded machine).
  if (process.env.BENCH_PGLITE !== '0') {
    await runBackend('PGlite', async () => {
      const handle = await openDatabase({ pgliteDataDir: path.join(dataDir, 'pglite') });
      await migrateToLatest(handle.db);
      return { handle, env: { VEIL_DATA_DIR: dataDir, DATABASE_URL: '' }, cleanup: async () => {} };
    });
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
