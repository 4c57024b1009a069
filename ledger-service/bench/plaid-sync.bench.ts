// `npm run bench` (after the journal benchmark) or `tsx bench/plaid-sync.bench.ts`: syncs BENCH_PLAID_TRANSACTIONS
// (default 100,000) card and checking transactions from the Plaid sandbox emulator into the ledger through the
// real `plaid` client and the same sync code the API runs (pages of 500, each stored with its cursor, every line
// categorised and booked). PostgreSQL when DATABASE_URL is set, PGlite otherwise. Prints transactions per second
// and, for the ratio, a baseline measured in the same run on the same database: the same number of bank lines
// written raw (multi-row INSERTs of 500, one transaction each, as the sync stores pages) with no service at all.
// The emulator runs in a process of its own (bench/plaid-emulator-process.ts), as Plaid's servers would;
// BENCH_PLAID_EMULATOR_IN_PROCESS=1 runs it on the service's event loop instead, as the benchmark first did.
// Also printed: the CPU time of the service's process per page (less noisy than wall time on a shared machine).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Products, Configuration, PlaidApi } from 'plaid';
import { sql, type RawBuilder } from 'kysely';
import pg from 'pg';
import { dropBenchSchema } from './schema';
import { openDatabase } from '../src/db/database';
import { migrateToLatest } from '../src/db/migrate';
import { createPlaidEmulator } from '../src/plaid-emulator/emulator';
import { createPlaidDeps } from '../src/plaid/client';
import { parseKeyring } from '../src/security/crypto';
import { auditedTransaction } from '../src/services/audit';
import { register } from '../src/services/auth';
import type { Deps } from '../src/services/context';
import { linkItem, syncItem } from '../src/services/plaid';

const TRANSACTIONS = Number(process.env.BENCH_PLAID_TRANSACTIONS ?? 100_000);
const CLIENT_ID = 'bench-client';
const SECRET = 'bench-secret';

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  const schema = `veil_bench_plaid_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  if (databaseUrl) {
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
  }
  const handle = await openDatabase(databaseUrl ? { databaseUrl, schema, poolSizeMax: 4 } : { pgliteDataDir: 'memory://' });
  await migrateToLatest(handle.db);
  const emulator = await startEmulator({ clientId: CLIENT_ID, secret: SECRET, seed: 2026, historyDays: 365, bulkCount: TRANSACTIONS });
  const basePath = `http://127.0.0.1:${emulator.port}`;
  const deps: Deps = {
    db: handle.db,
    logger: pino({ level: 'silent' }),
    backend: handle.backend,
    security: {
      keyring: parseKeyring(randomBytes(32).toString('base64')),
      jwtSecret: new Uint8Array(randomBytes(32)),
      accessTokenTtlMs: 900_000,
      refreshTokenTtlMs: 86_400_000,
      argon2: { memoryCostKib: 64, timeCost: 1, parallelism: 1 },
      corsOrigins: [],
      rateLimits: { windowMs: 60_000, generalMax: 1_000_000, authMax: 1_000_000 },
      now: Date.now,
      totpIssuer: 'Veil bench',
    },
    plaid: createPlaidDeps({ basePath, clientId: CLIENT_ID, secret: SECRET, webhookUrl: undefined, emulator: true }, { syncPageSize: 500, syncPagesMax: 10_000 }),
  };
  try {
    const owner = await register(deps, { email: `bench-${randomUUID().slice(0, 8)}@veil.local`, password: 'Bench-Password-1234!' });
    const entity = await handle.db.insertInto('entities').values({ kind: 'personal', name: 'Bench owner', currency: 'USD', taxProfile: 'individual', ownerUserId: owner.id }).returning('id').executeTakeFirstOrThrow();
    await handle.db
      .insertInto('accounts')
      .values(['Groceries', 'Dining Out', 'Transport', 'Shopping'].map((name) => ({ entityId: entity.id, name, class: 'expense', kind: 'expense_category', currency: 'USD' })))
      .execute();
    const actor = { type: 'user' as const, id: owner.id, userId: owner.id, scopes: ['read', 'write'] as const, entityScope: 'all' as const, mfa: false };
    const sandbox = new PlaidApi(new Configuration({ basePath, baseOptions: { headers: { 'PLAID-CLIENT-ID': CLIENT_ID, 'PLAID-SECRET': SECRET } } }));
    const { data } = await sandbox.sandboxPublicTokenCreate({ institution_id: 'ins_109508', initial_products: [Products.Transactions], options: { override_username: 'user_bulk' } });
    const item = await auditedTransaction(handle.db, (trx) => linkItem(trx, deps, actor, { entityId: entity.id, publicToken: data.public_token }));
    console.log(`Plaid sync benchmark: ${TRANSACTIONS.toLocaleString('en-US')} transactions on ${handle.backend}, pages of 500, every line categorised and booked`);
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    const report = await syncItem(deps, actor, item.id, {
      onPage: (progress) => {
        const seconds = (performance.now() - started) / 1000;
        process.stdout.write(`\r  ${progress.added.toLocaleString('en-US').padStart(9)} / ${TRANSACTIONS.toLocaleString('en-US')} synced, ${progress.booked.toLocaleString('en-US')} booked, ${Math.round(progress.added / seconds).toLocaleString('en-US')} tx/s   `);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStarted);
    const serviceCpuMsPerPage = (cpu.user + cpu.system) / 1000 / Math.max(1, report.pages);
    process.stdout.write('\n');
    const account = await handle.db.insertInto('accounts').values({ entityId: entity.id, name: 'Raw baseline', class: 'asset', kind: 'checking', currency: 'USD' }).returning('id').executeTakeFirstOrThrow();
    const rawStart = performance.now();
    for (let start = 0; start < TRANSACTIONS; start += 500) {
      const values: RawBuilder<unknown>[] = [];
      for (let index = start; index < Math.min(TRANSACTIONS, start + 500); index += 1) {
        values.push(sql`(${entity.id}::uuid, ${account.id}::uuid, 'USD', 'plaid', ${`raw-${index}`}, ${`2026-${String((index % 12) + 1).padStart(2, '0')}-15`}::date, ${-(index % 10_000) - 1}::bigint, ${`Merchant ${index % 500}`}, '{}'::jsonb)`);
      }
      await handle.db.transaction().execute((trx) => sql`insert into bank_lines (entity_id, account_id, currency, source, external_id, posted_on, amount_cents, payee, raw) values ${sql.join(values)}`.execute(trx));
    }
    const rawSeconds = (performance.now() - rawStart) / 1000;
    const perSecond = Math.round(report.added / seconds);
    const rawPerSecond = Math.round(TRANSACTIONS / rawSeconds);
    console.log(`  service process CPU: ${serviceCpuMsPerPage.toFixed(1)} ms per page (emulator ${emulator.inProcess ? 'in process' : 'in its own process'})`);
    console.log(`  raw INSERT of the same number of bank lines: ${rawPerSecond.toLocaleString('en-US')} lines/s; sync / raw = ${(perSecond / rawPerSecond).toFixed(3)}`);
    console.log(JSON.stringify({ backend: handle.backend, transactions: report.added, booked: report.booked, pages: report.pages, seconds: Number(seconds.toFixed(1)), transactionsPerSecond: perSecond, rawLinesPerSecond: rawPerSecond, serviceCpuMsPerPage: Number(serviceCpuMsPerPage.toFixed(1)), emulatorInProcess: emulator.inProcess, ratio: Number((perSecond / rawPerSecond).toFixed(3)) }));
  } finally {
    await emulator.stop();
    await handle.close();
    if (databaseUrl) await dropBenchSchema(databaseUrl, schema);
  }
}

/** The emulator in its own process (or, with BENCH_PLAID_EMULATOR_IN_PROCESS=1, in this one), listening on a free port. */
async function startEmulator(options: { clientId: string; secret: string; seed: number; historyDays: number; bulkCount: number }): Promise<{ port: number; inProcess: boolean; stop: () => Promise<void> }> {
  if (process.env.BENCH_PLAID_EMULATOR_IN_PROCESS === '1') {
    const emulator = await createPlaidEmulator(options);
    const server = await new Promise<Server>((resolve) => {
      const started = emulator.app.listen(0, '127.0.0.1', () => resolve(started));
    });
    return {
      port: (server.address() as AddressInfo).port,
      inProcess: true,
      stop: async () => {
        server.closeAllConnections();
        server.close();
      },
    };
  }
  // Forked with this process's Node options, so the TypeScript loader (tsx) applies to it too.
  const child = fork(join(__dirname, 'plaid-emulator-process.ts'), { env: { ...process.env, BENCH_PLAID_EMULATOR_OPTIONS: JSON.stringify(options) } });
  // Settled once: by the port it listens on, or by its end before that.
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`the Plaid emulator process ended (exit code ${code}) before it listened`)));
  });
  return {
    port,
    inProcess: false,
    stop: async () => {
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    },
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
