#!/usr/bin/env node
// `npm start`: the whole product on one machine, from a fresh clone.
//   - installs what is missing, builds the dashboard once, and runs the ledger (PGlite under ./data, or PostgreSQL
//     when DATABASE_URL is set) with a seeded demo and the dashboard at /app;
//   - the Plaid sandbox emulator (without Plaid credentials), so the demo books get linked banks;
//   - a real n8n (pinned, on Node 24, from the cache scripts/n8n/install.mjs fills) on its own SQLite under
//     ./data/n8n, with the node pack installed as a community package, an owner account for the demo user, a
//     `Veil API` credential holding an API token of the demo user, and every workflows-templates/ workflow imported
//     (inactive). VEIL_N8N=0 skips n8n.
// Every step is idempotent: a second start reuses all of it. Ctrl-C (SIGINT/SIGTERM) stops every child.
//
// Settings: PORT (ledger, 4100), PLAID_EMULATOR_PORT (4200), N8N_PORT (5678), N8N_RUNNERS_BROKER_PORT (5679),
// VEIL_DATA_DIR (./data), VEIL_DEMO_PASSWORD, VEIL_N8N (1), VEIL_TEMPLATES_DIR (./workflows-templates).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDeps } from './ensure-deps.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const startedAtMs = Date.now();
const log = (message) => console.log(`[veil] ${message}`);
const seconds = () => ((Date.now() - startedAtMs) / 1000).toFixed(1);

// ---- children: each in its own process group, stopped in order, nothing left behind ---------------------------

const children = []; // { name, child }
let stopping = false;

function track(name, child) {
  children.push({ name, child });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`[veil] ${name} stopped unexpectedly (${signal ?? `exit ${code}`}); stopping everything`);
    void shutdown(1);
  });
  return child;
}

const alive = (child) => child.exitCode === null && child.signalCode === null;

async function stopChild({ name, child }, graceMs) {
  if (alive(child)) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = new Promise((resolve) => setTimeout(resolve, graceMs, 'timeout'));
    if ((await Promise.race([exited, timer])) === 'timeout') console.error(`[veil] ${name} did not stop within ${graceMs / 1000} s: killing it`);
  }
  // Whatever the child started and left running (n8n's task runners, a tsx loader) goes with its process group.
  killGroup(child, 'SIGKILL');
}

function killGroup(child, signal) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already empty
  }
}

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  log('stopping…');
  // n8n first (its workflows talk to the ledger), then the ledger and the emulator.
  const n8n = children.filter((entry) => entry.name === 'n8n');
  for (const entry of n8n) await stopChild(entry, 20_000);
  await Promise.all(children.filter((entry) => entry.name !== 'n8n').map((entry) => stopChild(entry, 15_000)));
  log('stopped');
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void shutdown(0));
// If this process dies some other way, its children must not outlive it.
process.on('exit', () => {
  for (const { child } of children) killGroup(child, 'SIGKILL');
});

async function waitForHttp(url, what, child, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (stopping) return false;
    if (child && !alive(child)) throw new Error(`${what} exited before it was ready`);
    try {
      if ((await fetch(url)).ok) return true;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs / 1000} s (${url})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// ---- settings ----------------------------------------------------------------------------------------------------

ensureDeps();

// The ledger serves the dashboard from dashboard/dist; build it once when it is missing (`npm run build
// --workspace dashboard` rebuilds it after a change).
const dashboardIndex = path.join(root, 'dashboard', 'dist', 'index.html');
if (!fs.existsSync(dashboardIndex)) {
  log('building the dashboard (once; about half a minute)…');
  const built = spawnSync(path.join(root, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], {
    cwd: path.join(root, 'dashboard'),
    stdio: 'inherit',
  });
  if (built.status !== 0) console.error('[veil] the dashboard did not build; the API still starts without it');
}

const port = process.env.PORT ?? '4100';
const ledgerUrl = `http://127.0.0.1:${port}`;
const dataDir = path.resolve(process.env.VEIL_DATA_DIR ?? path.join(root, 'data'));
const n8nEnabled = !['0', 'false', 'no', 'off'].includes((process.env.VEIL_N8N ?? '1').trim().toLowerCase());
const n8nPort = process.env.N8N_PORT ?? '5678';
const n8nBrokerPort = process.env.N8N_RUNNERS_BROKER_PORT ?? '5679';
fs.mkdirSync(dataDir, { recursive: true });

// The demo login is the same in the ledger, the dashboard and n8n. Its password is chosen here (or taken from
// VEIL_DEMO_PASSWORD) and kept in the data folder, readable by this user only, so that every start can print it and
// sign in to n8n with it. It has an upper-case letter and a digit, as n8n's password rules want.
const DEMO_EMAIL = 'demo@veil.local';
const loginFile = path.join(dataDir, 'demo-login.json');
let demoPassword = process.env.VEIL_DEMO_PASSWORD;
let passwordGenerated = false;
if (demoPassword === undefined && fs.existsSync(loginFile)) demoPassword = JSON.parse(fs.readFileSync(loginFile, 'utf8')).password;
if (demoPassword === undefined) {
  demoPassword = `Veil-${randomBytes(9).toString('base64url')}-${randomInt(100, 1000)}`;
  passwordGenerated = true;
  fs.writeFileSync(loginFile, JSON.stringify({ email: DEMO_EMAIL, password: demoPassword }, null, 2) + '\n', { mode: 0o600 });
}

const env = {
  ...process.env,
  PORT: port,
  VEIL_DATA_DIR: dataDir,
  VEIL_SEED_DEMO: process.env.VEIL_SEED_DEMO ?? 'true',
  VEIL_DEMO_PASSWORD: demoPassword,
};

// ---- the ledger and the Plaid emulator ---------------------------------------------------------------------------

// Without Plaid credentials, the Plaid sandbox emulator runs beside the ledger and the demo books get linked banks.
let emulatorUrl;
if (!process.env.PLAID_CLIENT_ID && !process.env.PLAID_SECRET) {
  const emulatorPort = process.env.PLAID_EMULATOR_PORT ?? '4200';
  emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  Object.assign(env, {
    PLAID_ENV: 'emulator',
    PLAID_BASE_URL: emulatorUrl,
    PLAID_CLIENT_ID: 'veil-emulator-client',
    PLAID_SECRET: 'veil-emulator-secret',
    PLAID_WEBHOOK_URL: process.env.PLAID_WEBHOOK_URL ?? `${ledgerUrl}/plaid/webhook`,
    PLAID_EMULATOR_PORT: emulatorPort,
  });
  log(`no Plaid credentials: starting the Plaid sandbox emulator on ${emulatorUrl}`);
  track(
    'Plaid emulator',
    spawn(process.execPath, ['--import', 'tsx', 'src/plaid-emulator/main.ts'], { cwd: path.join(root, 'ledger-service'), env, stdio: ['ignore', 'inherit', 'inherit'], detached: true }),
  );
}
log(`starting the ledger on ${process.env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${dataDir}`}`);
// `node --import tsx` runs the service in this one child, so a signal reaches the process that holds the database.
const ledger = track(
  'ledger',
  spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: path.join(root, 'ledger-service'), env, stdio: ['ignore', 'inherit', 'inherit'], detached: true }),
);

// ---- n8n -----------------------------------------------------------------------------------------------------------

async function startN8n() {
  const { createN8n } = await import('./n8n/runtime.mjs');
  const { ensurePack, ensureCredential, importTemplates } = await import('./n8n/provision.mjs');
  const { mintApiToken } = await import('./n8n/ledger.mjs');
  const { ensureN8n, N8N_VERSION } = await import('./n8n/install.mjs');
  log(`n8n ${N8N_VERSION}: checking the cache (the first install takes several minutes and shows its progress)`);
  await ensureN8n();
  if (stopping) return undefined;
  const n8n = await createN8n({
    userFolder: path.join(dataDir, 'n8n'),
    // n8n keeps the key it generates on its first start in data/n8n/.n8n/config (or takes N8N_ENCRYPTION_KEY).
    encryptionKey: null,
    env: { N8N_LOG_LEVEL: process.env.N8N_LOG_LEVEL ?? 'warn' },
  });
  const pack = await ensurePack(n8n, { log });
  log(`${pack.changed ? `node pack ${pack.version} installed into n8n` : `node pack ${pack.version} unchanged since its last install`} (${seconds()} s)`);
  if (stopping) return undefined;

  log(`starting n8n on http://127.0.0.1:${n8nPort}`);
  const server = await n8n.start({
    port: n8nPort,
    brokerPort: n8nBrokerPort,
    detached: true,
    onSpawn: (child) => track('n8n', child),
    onOutput: (chunk) => {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') console.log(`[n8n] ${line}`);
    },
  });
  if (stopping) return undefined;
  log(`n8n ready at ${seconds()} s`);

  // The ledger must be up (and the demo login known) to sign in, mint a token and answer the credential test.
  if (!(await demoLogin)) {
    console.error(`[veil] n8n: the demo password is not known, so n8n gets no owner, Veil API credential or templates (set VEIL_DEMO_PASSWORD)`);
    return { server, ok: false };
  }
  try {
    const session = await server.ownerSession({ email: DEMO_EMAIL, password: demoPassword, firstName: 'Alex', lastName: 'Rivera' });
    log(session.created ? `n8n owner account created for ${DEMO_EMAIL}` : `n8n: signed in as its owner ${DEMO_EMAIL}`);
    const credential = await ensureCredential(session.rest, {
      baseUrl: ledgerUrl,
      // The state file lets a mint that Ctrl-C interrupted (demo user left with MFA on) be undone by the next start.
      mintToken: async () =>
        (await mintApiToken(ledgerUrl, { email: DEMO_EMAIL, password: demoPassword, name: 'n8n (npm start)', stateFile: path.join(dataDir, 'n8n-token-mint.json') })).token,
    });
    const testNote = credential.test.ok ? 'its test passes' : `its test FAILS: ${credential.test.message}`;
    log(`n8n credential "${credential.credential.name}" (${credential.credential.id}) ${credential.action}; ${testNote}`);
    const templates = await importTemplates(n8n, session.rest, { credentialId: credential.credential.id, dir: process.env.VEIL_TEMPLATES_DIR });
    for (const { file, reason } of templates.skipped) console.error(`[veil] template ${file} skipped: ${reason}`);
    log(`workflow templates: ${templates.imported.length} imported (inactive), ${templates.kept.length} already in n8n`);
    return { server, ok: credential.test.ok };
  } catch (error) {
    // n8n itself runs; what could not be set up is said, and the rest of the product stays up.
    console.error(`[veil] n8n: setting up the owner, credential or templates failed: ${error.message}`);
    return { server, ok: false };
  }
}

// The password seeded the demo only when the ledger was empty: books from before this script keep theirs.
let demoLoginKnown = false;
const demoLogin = waitForHttp(`${ledgerUrl}/readyz`, 'the ledger', ledger).then(async (ready) => {
  if (!ready) return false;
  log(`ledger ready at ${seconds()} s`);
  const { client } = await import('./n8n/ledger.mjs');
  const login = await client(ledgerUrl)('POST', '/auth/login', { email: DEMO_EMAIL, password: demoPassword });
  demoLoginKnown = login.status === 200 || login.body?.error?.code === 'mfa_code_required';
  if (!demoLoginKnown && passwordGenerated) fs.rmSync(loginFile, { force: true });
  return demoLoginKnown;
});

try {
  const n8nStarted = n8nEnabled ? startN8n() : Promise.resolve(undefined);
  await demoLogin;
  const n8nResult = await n8nStarted;
  if (stopping) await new Promise(() => {});

  // One write, so that the children's log lines cannot land inside the block.
  const lines = [
    `ready in ${seconds()} s`,
    `  ledger API      ${ledgerUrl}   (docs ${ledgerUrl}/docs, OpenAPI ${ledgerUrl}/openapi.json)`,
    ...(fs.existsSync(dashboardIndex) ? [`  dashboard       ${ledgerUrl}/app`] : []),
    n8nResult ? `  n8n             ${n8nResult.server.baseUrl}` : `  n8n             off (VEIL_N8N=${process.env.VEIL_N8N})`,
    ...(emulatorUrl ? [`  Plaid emulator  ${emulatorUrl}`] : []),
    demoLoginKnown
      ? `  demo login      ${DEMO_EMAIL} / ${demoPassword}   (dashboard${n8nResult ? ' and n8n' : ''}; kept in ${loginFile})`
      : `  demo login      ${DEMO_EMAIL}: these books were seeded before with another password (set VEIL_DEMO_PASSWORD to it)`,
    'Ctrl-C stops everything',
  ];
  console.log(lines.map((line) => `[veil] ${line}`).join('\n'));
} catch (error) {
  console.error(`[veil] start failed: ${error.stack ?? error.message}`);
  await shutdown(1);
}
