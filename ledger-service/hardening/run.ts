import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { generateSync } from 'otplib';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../src/db/database';
import { seededRandom } from '../src/domain/random';
import { verifyAuditChain } from '../src/services/audit';
import { checkInvariants } from '../test/support/books';
import { createPlaidEmulator, type PlaidEmulator } from '../src/plaid-emulator/emulator';
import { freePort, killHard, signIn, startService, type ServiceProcess } from '../test/support/process';
import { Client, fetchTransport } from './client';
import { fuzzCases, importCases, runFuzz, webhookCases, writeRoutes, type CorpusFile, type IdPool } from './fuzz';
import { checkBooks } from './invariants';
import { newTally, runLoad, settlePending, type Tally } from './load';
import { createWorld, type World } from './operations';
import { apiSnapshot, sqlSnapshot } from './snapshot';

// `npm run hardening`: attacks a real service process (PostgreSQL when DATABASE_URL is set, in a fresh schema;
// PGlite otherwise) phase by phase, prints a table and writes it to hardening/RESULTS.md. Exits non-zero on any
// invariant violation or unexpected 5xx. Sizes come from the environment (npm would swallow flags):
//   VEIL_HARDENING_CLIENTS (8), _OPERATIONS (4000), _SPREAD_ACCOUNTS (10000), _CHECK_EVERY (1000), _KILLS (20),
//   _CRASH_OPERATIONS (per kill, 150), _DB_RESTARTS (1), _FUZZ_RUNS (1000), _SEED (1).
// The database restart phase restarts the Debian cluster VEIL_HARDENING_PG_CLUSTER ("main" by default: the one
// DATABASE_URL points at). Point DATABASE_URL at a cluster of its own (pg_createcluster 15 hard -p 5433) to run the
// harness while other work uses the machine's PostgreSQL.

const number = (name: string, fallback: number) => {
  const value = process.env[`VEIL_HARDENING_${name}`];
  const parsed = value === undefined ? fallback : Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0) throw new Error(`VEIL_HARDENING_${name} must be a whole number`);
  return parsed;
};
const CONFIG = {
  clients: number('CLIENTS', 8),
  operations: number('OPERATIONS', 4_000),
  spreadAccounts: number('SPREAD_ACCOUNTS', 10_000),
  checkEvery: number('CHECK_EVERY', 1_000),
  kills: number('KILLS', 20),
  crashOperations: number('CRASH_OPERATIONS', 150),
  dbRestarts: number('DB_RESTARTS', 1),
  fuzzRuns: number('FUZZ_RUNS', 1_000),
  seed: number('SEED', 1),
};

const DATABASE_URL = process.env.DATABASE_URL || undefined;
const BACKEND = DATABASE_URL ? 'postgres' : 'pglite';
const PG_CLUSTER = process.env.VEIL_HARDENING_PG_CLUSTER || 'main';
const DB_DOWN_MS = 3_000;
const PLAID_CLIENT_ID = 'hardening-client';
const PLAID_SECRET = 'hardening-secret';

function pgCtl(version: string, action: 'stop' | 'start'): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('pg_ctlcluster', ['--skip-systemctl-redirect', version, PG_CLUSTER, action], (error) => (error ? reject(error) : resolve()));
  });
}

interface PhaseResult {
  phase: string;
  operations: number;
  faults: number;
  violations: string[];
  serverErrors: string[];
  durationMs: number;
  notes: string;
}

const results: PhaseResult[] = [];

function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${text}`);
  else process.stderr.write(`${text}\n`);
}
function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\n');
}
/** Throttled progress for loops: a line at most every half second. */
/** The project's own statement fixtures, and the shared bank-export corpus when it is beside the repository. */
function statementCorpus(): CorpusFile[] {
  const files: CorpusFile[] = [];
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (!/^(README|PROVENANCE|LICENSE)/i.test(entry.name)) files.push({ name: entry.name, bytes: fs.readFileSync(full) });
    }
  };
  walk(path.join(__dirname, '..', 'test', 'fixtures', 'import'));
  walk(path.join(__dirname, '..', '..', '..', 'shared', 'fixtures', 'bank-exports'));
  return files;
}

function ticker(label: string, total: number, extra: () => string = () => '') {
  let last = 0;
  const started = Date.now();
  return (done: number) => {
    if (Date.now() - last < 500 && done < total) return;
    last = Date.now();
    progress(`${label}: ${done}/${total} ${extra()} ${((Date.now() - started) / 1000).toFixed(0)} s`);
  };
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-hardening-'));
const schema = `veil_hardening_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
let service: ServiceProcess | undefined;
let sqlHandle: DatabaseHandle | undefined;
// The Plaid emulator runs in this process (its state outlives the service's crashes); the service keeps one port
// across restarts, so the webhook URL the emulator holds stays right.
let emulator: PlaidEmulator | undefined;
let emulatorServer: Server | undefined;
let emulatorUrl = '';
let servicePort = 0;

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(statement);
  await client.end();
}

function serviceEnv(): Record<string, string> {
  const common = {
    VEIL_DATA_DIR: dataDir,
    // The harness is one client machine making thousands of requests: the per-client limits are not under test.
    VEIL_RATE_LIMIT_MAX: '1000000',
    VEIL_RATE_LIMIT_AUTH_MAX: '10000',
    VEIL_ACCESS_TOKEN_TTL_SECONDS: '3600',
    VEIL_DB_POOL_MAX: String(CONFIG.clients + 2),
    PORT: String(servicePort),
    PLAID_ENV: 'emulator',
    PLAID_BASE_URL: emulatorUrl,
    PLAID_CLIENT_ID,
    PLAID_SECRET,
    PLAID_WEBHOOK_URL: `http://127.0.0.1:${servicePort}/plaid/webhook`,
  };
  return DATABASE_URL ? { ...common, DATABASE_URL, VEIL_DB_SCHEMA: schema } : { ...common, DATABASE_URL: '' };
}

/** The owner with an MFA session (moving money needs one): enrol, confirm with a TOTP code, sign in with a recovery code. */
async function ownerWithMfa(baseUrl: string): Promise<string> {
  const plain = new Client(
    fetchTransport(() => baseUrl),
    await signIn(baseUrl),
  );
  const enrol = await plain.expect(plain.send({ method: 'post', path: '/auth/mfa/enrol' }), 200);
  const secret = String(enrol.secret);
  const confirm = await plain.expect(
    plain.send({
      method: 'post',
      path: '/auth/mfa/confirm',
      body: {
        totpCode: generateSync({
          secret,
          epoch: Math.floor(Date.now() / 1000),
        }),
      },
    }),
    200,
  );
  const recoveryCode = (confirm.recoveryCodes as string[])[0];
  const login = await fetch(`${baseUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      email: 'owner@veil.test',
      password: 'Process-Test-Passphrase-7',
      recoveryCode,
    }),
  });
  if (login.status !== 200) throw new Error(`MFA login: ${login.status} ${await login.text()}`);
  return ((await login.json()) as { accessToken: string }).accessToken;
}

/** Writes createWorld makes besides the spread accounts (entities, accounts, bill, envelopes, settings, the bank). */
const SETUP_WRITES = 22;

/** The service's fast-path counters (this process's life): how many entry writes took the one-statement path. */
async function fastPathOutcomes(client: Client): Promise<Record<string, number>> {
  const text = String((await client.get('/metrics')).body);
  const outcomes: Record<string, number> = {};
  for (const match of text.matchAll(/^veil_fast_path_requests\{outcome="(\w+)"\} (\d+)$/gm)) outcomes[match[1] as string] = Number(match[2]);
  return outcomes;
}

async function check(client: Client, world: World, tally: Tally, into: string[]): Promise<number> {
  const verdict = await checkBooks(client, world, tally, sqlHandle?.db);
  into.push(...verdict.violations);
  return verdict.entries;
}

/** Error-level lines (pino level 50 and up) the service processes logged, each read once: a failure the service swallows (an alert evaluation that deadlocked after a fast-path booking was only logged) shows only there. */
const serviceErrorLog: string[] = [];
const serviceLinesRead = new WeakMap<ServiceProcess, number>();
function collectServiceErrors(): void {
  if (service === undefined) return;
  const lines = service.output().split('\n');
  const complete = lines.length - 1; // the last line may be still unfinished
  for (const line of lines.slice(serviceLinesRead.get(service) ?? 0, complete)) {
    let level = 0;
    try {
      level = Number((JSON.parse(line) as { level?: unknown }).level);
    } catch {
      // not a log line
    }
    if (level >= 50) serviceErrorLog.push(line.slice(0, 600));
  }
  serviceLinesRead.set(service, complete);
}

/** `errorsExpected`: a phase that takes the database away, where the service rightly logs errors; elsewhere each is a violation. */
async function phase(name: string, work: (result: PhaseResult) => Promise<void>, errorsExpected = false): Promise<void> {
  collectServiceErrors();
  const errorsBefore = serviceErrorLog.length;
  const result: PhaseResult = {
    phase: name,
    operations: 0,
    faults: 0,
    violations: [],
    serverErrors: [],
    durationMs: 0,
    notes: '',
  };
  const started = Date.now();
  try {
    await work(result);
  } catch (error) {
    const exited = service?.child.exitCode;
    result.violations.push(
      `phase aborted: ${(error as Error).stack ?? String(error)}` + (exited !== undefined && exited !== null ? `\nthe service exited with ${exited}:\n${service?.output().slice(-3000)}` : ''),
    );
  }
  result.durationMs = Date.now() - started;
  collectServiceErrors();
  const logged = serviceErrorLog.slice(errorsBefore);
  if (errorsExpected) {
    if (logged.length > 0) result.notes += `; the service logged ${logged.length} errors`;
  } else result.violations.push(...logged.map((line) => `the service logged an error: ${line}`));
  progressDone();
  results.push(result);
  console.log(
    `${name}: ${result.operations} operations, ${result.faults} faults, ${result.violations.length} violations, ${result.serverErrors.length} 5xx (${(result.durationMs / 1000).toFixed(1)} s) ${result.notes}`,
  );
  for (const line of [...result.violations, ...result.serverErrors].slice(0, 20)) console.log(`  ! ${line}`);
}

function tallyInto(result: PhaseResult, tally: Tally): void {
  result.serverErrors.push(...tally.serverErrors);
  result.violations.push(...tally.uncoded.map((line) => `4xx without a code: ${line}`));
}

async function main(): Promise<void> {
  const startedAt = new Date();
  if (DATABASE_URL) {
    await admin(`create schema ${schema}`);
  }
  emulator = await createPlaidEmulator({
    clientId: PLAID_CLIENT_ID,
    secret: PLAID_SECRET,
    seed: CONFIG.seed,
    historyDays: 10,
  });
  const plaidApp = emulator.app;
  emulatorServer = await new Promise<Server>((resolve) => {
    const server = plaidApp.listen(0, '127.0.0.1', () => resolve(server));
  });
  emulatorUrl = `http://127.0.0.1:${(emulatorServer.address() as AddressInfo).port}`;
  servicePort = await freePort();
  progress(`starting the service on ${BACKEND}…`);
  service = await startService(serviceEnv());
  const baseUrl = () => (service as ServiceProcess).baseUrl;
  if (DATABASE_URL)
    sqlHandle = await openDatabase({
      databaseUrl: DATABASE_URL,
      schema,
      poolSizeMax: 2,
      onPoolError: () => {},
    });
  const client = new Client(fetchTransport(baseUrl), await ownerWithMfa(baseUrl()));
  const tally = newTally();
  let world!: World;

  await phase(`setup (${CONFIG.spreadAccounts} spread accounts)`, async (result) => {
    const plaid = emulator as PlaidEmulator;
    world = await createWorld(client, {
      spreadAccounts: CONFIG.spreadAccounts,
      parallel: CONFIG.clients,
      onProgress: ticker('setup: accounts', CONFIG.spreadAccounts),
      plaid: { settle: () => plaid.settleWebhooks() },
    });
    result.operations = CONFIG.spreadAccounts + SETUP_WRITES;
    result.notes = `a bank linked through the Plaid emulator (${world.baselineEntries.size} entries imported by the link)`;
  });
  if (world === undefined) {
    writeResults(startedAt);
    return;
  }

  await phase(`soak (${CONFIG.clients} clients)`, async (result) => {
    const before = tally.operations;
    const fastBefore = await fastPathOutcomes(client);
    let checks = 0;
    const tick = ticker('soak', CONFIG.operations, () => `ack ${tally.acknowledged.size}`);
    for (let done = 0, round = 0; done < CONFIG.operations; round += 1) {
      const size = Math.min(CONFIG.checkEvery, CONFIG.operations - done);
      await runLoad(client, world, tally, {
        clients: CONFIG.clients,
        operations: size,
        seed: CONFIG.seed * 100 + round,
        onProgress: () => tick(tally.operations - before),
      });
      done += size;
      await check(client, world, tally, result.violations);
      checks += 1;
    }
    result.operations = tally.operations - before;
    const fastAfter = await fastPathOutcomes(client);
    const fast = (outcome: string) => (fastAfter[outcome] ?? 0) - (fastBefore[outcome] ?? 0);
    const byOperation = new Map<string, number>();
    for (const { operation } of tally.acknowledged.values()) byOperation.set(operation, (byOperation.get(operation) ?? 0) + 1);
    result.notes =
      `${checks} invariant checks; acknowledged: ${[...byOperation]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, count]) => `${name} ${count}`)
        .join(', ')}; ` +
      `fast path: ${fast('booked')} booked, ${fast('replayed')} replayed, ${fast('declined')} declined; ` +
      `refused: ${[...tally.refused].map(([code, count]) => `${code} ${count}`).join(', ') || 'none'}`;
    tallyInto(result, tally);
  });

  await phase(`crash (kill -9 ×${CONFIG.kills})`, async (result) => {
    const crashTally = tally;
    const serverErrorsBefore = crashTally.serverErrors.length;
    const uncodedBefore = crashTally.uncoded.length;
    const before = crashTally.operations;
    const faultsBefore = crashTally.faultsSeen;
    const random = seededRandom(CONFIG.seed + 17);
    for (let kill = 1; kill <= CONFIG.kills; kill += 1) {
      progress(`crash: kill ${kill}/${CONFIG.kills}, ${crashTally.acknowledged.size} acknowledged, ${crashTally.pending.length} pending`);
      let halted = false;
      const load = runLoad(client, world, crashTally, {
        clients: CONFIG.clients,
        operations: CONFIG.crashOperations,
        seed: CONFIG.seed * 1000 + kill,
        halted: () => halted,
      });
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.floor(random() * 1_500)));
      collectServiceErrors();
      await killHard(service as ServiceProcess);
      halted = true;
      await load;
      service = await startService(serviceEnv());
      await settlePending(client, world, crashTally);
    }
    const stored = await check(client, world, crashTally, result.violations);
    result.operations = crashTally.operations - before;
    result.faults = CONFIG.kills;
    result.notes = `${crashTally.faultsSeen - faultsBefore} answers lost and retried with their keys; ${stored} entries stored = acknowledged`;
    result.serverErrors.push(...crashTally.serverErrors.slice(serverErrorsBefore));
    result.violations.push(...crashTally.uncoded.slice(uncodedBefore).map((line) => `4xx without a code: ${line}`));
  });

  if (BACKEND === 'postgres' && CONFIG.dbRestarts > 0) {
    await phase(`database restart (×${CONFIG.dbRestarts})`, async (result) => {
      const serverErrorsBefore = tally.serverErrors.length;
      const before = tally.operations;
      const faultsBefore = tally.faultsSeen;
      const version = fs.readdirSync('/etc/postgresql')[0] as string;
      let notReadySeen = 0;
      for (let restart = 1; restart <= CONFIG.dbRestarts; restart += 1) {
        progress(`database restart ${restart}/${CONFIG.dbRestarts} under load…`);
        let polling = true;
        const poller = (async () => {
          while (polling) {
            try {
              const ready = await fetch(`${baseUrl()}/readyz`);
              if (ready.status === 503) notReadySeen += 1;
            } catch {
              result.violations.push('the service stopped answering /readyz during the database restart');
            }
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        })();
        // A service that died cannot recover by itself: stop the load then rather than retry forever.
        const died = () => (service as ServiceProcess).child.exitCode !== null;
        const load = runLoad(client, world, tally, {
          clients: CONFIG.clients,
          operations: CONFIG.crashOperations * 2,
          seed: CONFIG.seed * 7_000 + restart,
          retryInline: true,
          halted: died,
        });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        // Asynchronously, so the clients and the /readyz poller keep running while the database is away (a
        // synchronous call froze them and the outage went unseen). Stopped for a few seconds, then started.
        await pgCtl(version, 'stop');
        await new Promise((resolve) => setTimeout(resolve, DB_DOWN_MS));
        await pgCtl(version, 'start');
        await load;
        polling = false;
        await poller;
        if (died()) {
          result.violations.push(`the service died: ${(service as ServiceProcess).output().slice(-4000)}`);
          break;
        }
      }
      // The harness's own pool met the restart too; it reconnects on the next query.
      const ready = await fetch(`${baseUrl()}/readyz`);
      if (ready.status !== 200) result.violations.push(`/readyz answers ${ready.status} after the restart`);
      if (notReadySeen === 0) result.violations.push('/readyz never reported not ready while the database was down');
      const stored = await check(client, world, tally, result.violations);
      result.operations = tally.operations - before;
      result.faults = CONFIG.dbRestarts;
      result.notes = `/readyz not ready ${notReadySeen}× while down; ${tally.faultsSeen - faultsBefore} answers 503/lost and retried; ${stored} entries stored = acknowledged`;
      result.serverErrors.push(...tally.serverErrors.slice(serverErrorsBefore));
    }, true);
  }

  await phase(`fuzz (${CONFIG.fuzzRuns} requests)`, async (result) => {
    const fuzzWorld = await createWorld(client, {
      spreadAccounts: 4,
      parallel: 2,
    });
    await runLoad(client, fuzzWorld, newTally(), {
      clients: 1,
      operations: 40,
      seed: CONFIG.seed + 3,
    });
    const document = (await client.get('/openapi.json')).body as Parameters<typeof writeRoutes>[0];
    const routes = writeRoutes(document);
    const entries = (await client.get(`/entities/${fuzzWorld.llcId}/entries?limit=20`)).body as { items: { id: string }[] };
    const transfers = (await client.get(`/entities/${fuzzWorld.llcId}/transfers`)).body as { items: { id: string }[] };
    const entityIds = [fuzzWorld.llcId, fuzzWorld.personalId];
    const accountIds = [fuzzWorld.hot.checking, fuzzWorld.hot.revenue, fuzzWorld.llcSoftware, fuzzWorld.ownerChecking, fuzzWorld.ownerCard, ...fuzzWorld.spread];
    const transferIds = transfers.items.map((transfer) => transfer.id);
    const ids: IdPool = {
      entityId: entityIds,
      fromEntityId: entityIds,
      toEntityId: entityIds,
      counterpartyEntityId: entityIds,
      accountId: accountIds,
      fromAccountId: accountIds,
      toAccountId: accountIds,
      entryId: entries.items.map((entry) => entry.id),
      transferId: transferIds,
      relatedTransferId: transferIds,
    };
    const webhooks = Math.ceil(CONFIG.fuzzRuns / 10);
    const uploads = Math.ceil(CONFIG.fuzzRuns / 10);
    const cases = [
      ...fc.sample(fuzzCases(document, routes, ids), {
        numRuns: CONFIG.fuzzRuns - webhooks - uploads,
        seed: CONFIG.seed,
      }),
      ...fc.sample(webhookCases(routes), {
        numRuns: webhooks,
        seed: CONFIG.seed + 1,
      }),
      ...fc.sample(importCases(statementCorpus(), [fuzzWorld.hot.checking, fuzzWorld.ownerChecking, fuzzWorld.ownerCard, fuzzWorld.llcSoftware]), { numRuns: uploads, seed: CONFIG.seed + 2 }),
    ];
    const fuzzed = await runFuzz(cases, {
      transport: fetchTransport(baseUrl),
      token: client.token,
      snapshot: sqlHandle ? sqlSnapshot(sqlHandle.db) : apiSnapshot(client, fuzzWorld),
      onProgress: ticker('fuzz', cases.length),
    });
    result.operations = fuzzed.requests;
    result.faults = fuzzed.requests;
    result.serverErrors.push(...fuzzed.serverErrors);
    result.violations.push(...fuzzed.uncoded.map((line) => `4xx without a code: ${line}`), ...fuzzed.partialWrites);
    result.notes = `${routes.length} write routes; statuses ${[...fuzzed.statuses]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status}×${count}`)
      .join(' ')}`;
  });

  await phase('final check', async (result) => {
    await check(client, world, tally, result.violations);
    if (BACKEND === 'pglite') {
      // Only the service may open PGlite's files: stop it, then run the SQL checks on the same data directory.
      collectServiceErrors();
      await killHard(service as ServiceProcess);
      service = undefined;
      const handle = await openDatabase({
        pgliteDataDir: path.join(dataDir, 'pglite'),
      });
      try {
        const report = await checkInvariants(handle.db);
        if (report.unbalancedEntries + report.balanceMismatches + report.entitiesNotZero !== 0) result.violations.push(`SQL: ${JSON.stringify(report)}`);
        const verdict = await verifyAuditChain(handle.db);
        if (!verdict.ok) result.violations.push(`SQL: audit chain ${JSON.stringify(verdict)}`);
        result.notes = `SQL on the data directory: ${report.entries} entries, ${report.postings} postings, audit chain of ${verdict.checked} rows verified`;
      } finally {
        await handle.close();
      }
    } else {
      result.notes = 'API and SQL checks';
    }
    result.operations = tally.acknowledged.size;
  });

  writeResults(startedAt);
}

function writeResults(startedAt: Date): void {
  const rows = results.map(
    (result) =>
      `| ${result.phase} | ${result.operations.toLocaleString('en-US')} | ${result.faults} | ${result.violations.length} | ${result.serverErrors.length} | ${(result.durationMs / 1000).toFixed(1)} s | ${result.notes.replaceAll('|', '/')} |`,
  );
  const table = ['| phase | operations | faults injected | invariant violations | 5xx | duration | notes |', '|---|---:|---:|---:|---:|---:|---|', ...rows].join('\n');
  console.log(`\n${table}\n`);
  const failures = results.flatMap((result) => [...result.violations, ...result.serverErrors].map((line) => `- ${result.phase}: ${line.split('\n')[0]}`));
  const section = [
    `## ${BACKEND}`,
    '',
    `Last run of \`npm run hardening\` on ${BACKEND}: ${startedAt.toISOString()}${BACKEND === 'postgres' ? ` (PostgreSQL ${fs.readdirSync('/etc/postgresql').join(', ')})` : ''}, ` +
      `Node ${process.version}, ${os.cpus().length} cores, load average ${os
        .loadavg()
        .map((load) => load.toFixed(2))
        .join(' ')} at the end.`,
    '',
    `Settings: ${Object.entries(CONFIG)
      .map(([name, value]) => `${name} ${value}`)
      .join(', ')}.`,
    '',
    table,
    '',
    failures.length === 0 ? 'No invariant violation, no 5xx.' : `### Failures\n\n${failures.slice(0, 100).join('\n')}`,
    '',
  ].join('\n');
  // One section per backend: a run replaces its own and keeps the other backend's last run.
  const file = path.join(__dirname, 'RESULTS.md');
  const sections = new Map<string, string>();
  const previous = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  for (const match of previous.matchAll(/^## (postgres|pglite)\n[\s\S]*?(?=^## |(?![\s\S]))/gm)) sections.set(match[1] as string, match[0].trimEnd() + '\n');
  sections.set(BACKEND, section);
  const markdown = [
    '# Hardening results',
    '',
    'Regenerated by `npm run hardening` (PostgreSQL when DATABASE_URL is set, PGlite otherwise); see hardening/run.ts for what each phase does.',
    '',
    ...['postgres', 'pglite'].flatMap((backend) => (sections.has(backend) ? [sections.get(backend) as string] : [])),
  ].join('\n');
  fs.writeFileSync(file, markdown);
}

async function cleanup(): Promise<void> {
  if (service) await killHard(service);
  await emulator?.settleWebhooks().catch(() => {});
  emulatorServer?.closeAllConnections();
  await new Promise((resolve) => (emulatorServer ? emulatorServer.close(resolve) : resolve(undefined)));
  await sqlHandle?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (DATABASE_URL) await admin(`drop schema if exists ${schema} cascade`).catch(() => {});
}

// Interrupted (Ctrl-C): stop the service process and drop the schema rather than leave them behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

main()
  .then(async () => {
    await cleanup();
    const bad = results.some((result) => result.violations.length > 0 || result.serverErrors.length > 0);
    process.exit(bad ? 1 : 0);
  })
  .catch(async (error: unknown) => {
    console.error(error);
    await cleanup();
    process.exit(2);
  });
