// A real Veil ledger process for the n8n tests and workflow templates: started like
// ledger-service/test/support/process.ts does (node --import tsx src/main.ts), on PostgreSQL when DATABASE_URL is
// set (in a fresh schema of its own) else on PGlite in a temp folder, and an owner provisioned with MFA and an API
// token that may read, write and move money — what the n8n credential holds.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { generateSync } from 'otplib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SERVICE_ROOT = path.join(root, 'ledger-service');
const PASSWORD = 'N8n-Test-Passphrase-42!';

function probe(port) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address();
      server.close(() => resolve(bound));
    });
  });
}

// VEIL_TEST_PORTS=5700-5719 keeps everything the n8n tests start (ledgers, n8n, its task broker, the Plaid emulator,
// notification sinks) inside one range, for machines where several people share the ports. Ports are handed out
// round-robin, so two calls never get the same port before the first is bound.
let nextInRange = 0;

export async function freePort() {
  const range = /^(\d+)-(\d+)$/.exec(process.env.VEIL_TEST_PORTS ?? '');
  if (!range) return probe(0);
  const low = Number(range[1]);
  const size = Number(range[2]) - low + 1;
  for (let tried = 0; tried < size; tried += 1) {
    const port = low + ((nextInRange + tried) % size);
    try {
      await probe(port);
      nextInRange = (port - low + 1) % size;
      return port;
    } catch {
      // taken: try the next one
    }
  }
  throw new Error(`no free port in VEIL_TEST_PORTS=${process.env.VEIL_TEST_PORTS}`);
}

/**
 * Starts the ledger and waits for /readyz. `node` is the Node binary to run it with (the ledger's own Node 20 by
 * default: VEIL_LEDGER_NODE, else the current one). Returns { baseUrl, stop(), output() }.
 */
export async function startLedger({ node = process.env.VEIL_LEDGER_NODE ?? process.execPath, env = {} } = {}) {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-n8n-ledger-'));
  let schema;
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    schema = `n8n_${randomBytes(6).toString('hex')}`;
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`create schema ${schema}`);
    await client.end();
  }
  const child = spawn(node, ['--import', 'tsx', 'src/main.ts'], {
    cwd: SERVICE_ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      VEIL_DATA_DIR: dataDir,
      VEIL_ARGON2_MEMORY_KIB: '64',
      VEIL_ARGON2_TIME_COST: '1',
      VEIL_RATE_LIMIT_AUTH_MAX: '1000',
      VEIL_WEBHOOK_DISPATCH_INTERVAL_MS: '200',
      DATABASE_URL: databaseUrl ?? '',
      ...(schema ? { VEIL_DB_SCHEMA: schema } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const baseUrl = `http://127.0.0.1:${port}`;
  // A first PGlite open (initdb in WASM) and the migrations on a shared, loaded 2-core machine have needed minutes.
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`ledger exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${baseUrl}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`ledger not ready after 300 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  return {
    baseUrl,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (schema) {
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        await client.query(`drop schema ${schema} cascade`);
        await client.end();
      }
    },
  };
}

/** A small JSON client: `call(method, path, body, { token, key })` → { status, body }. */
export function client(baseUrl) {
  return async function call(method, urlPath, body, { token, key } = {}) {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    if (key) headers['idempotency-key'] = key;
    const response = await fetch(`${baseUrl}${urlPath}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
}

function expectStatus(result, status, what) {
  if (result.status !== status) throw new Error(`${what}: expected ${status}, got ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

let keys = 0;
export const key = (prefix = 'n8n-test') => `${prefix}-${Date.now()}-${(keys += 1)}-${randomBytes(4).toString('hex')}`;

/**
 * Registers the owner, enrols MFA, signs in with a recovery code (an MFA session), creates the given books and an
 * API token for them with read/write/move_money. Returns { session, apiToken, entities: {name: {id, accounts}} }.
 * `books`: { [entityName]: { kind: 'llc'|'personal', accounts: { [accountName]: kind } } }.
 */
export async function provisionOwner(baseUrl, books) {
  const call = client(baseUrl);
  const email = 'owner@veil.test';
  expectStatus(await call('POST', '/auth/register', { email, password: PASSWORD }), 201, 'register');
  const first = expectStatus(await call('POST', '/auth/login', { email, password: PASSWORD }), 200, 'login');
  const enrol = expectStatus(await call('POST', '/auth/mfa/enrol', undefined, { token: first.accessToken }), 200, 'mfa enrol');
  const confirmed = expectStatus(
    await call('POST', '/auth/mfa/confirm', { totpCode: generateSync({ secret: enrol.secret }) }, { token: first.accessToken }),
    200,
    'mfa confirm',
  );
  // A TOTP step is accepted once: the MFA session signs in with a recovery code rather than wait for the next step.
  const session = expectStatus(
    await call('POST', '/auth/login', { email, password: PASSWORD, recoveryCode: confirmed.recoveryCodes[0] }),
    200,
    'mfa login',
  ).accessToken;
  const entities = {};
  for (const [name, spec] of Object.entries(books)) {
    const entity = expectStatus(await call('POST', '/entities', { kind: spec.kind, name }, { token: session, key: key() }), 201, `entity ${name}`);
    const accounts = {};
    for (const [accountName, kind] of Object.entries(spec.accounts)) {
      const account = expectStatus(
        await call('POST', `/entities/${entity.id}/accounts`, { name: accountName, kind }, { token: session, key: key() }),
        201,
        `account ${accountName}`,
      );
      accounts[accountName] = account.id;
    }
    entities[name] = { id: entity.id, accounts };
  }
  const token = expectStatus(
    await call('POST', '/auth/tokens', { name: 'n8n', scopes: ['read', 'write', 'move_money'], entityIds: Object.values(entities).map((entity) => entity.id) }, { token: session }),
    201,
    'api token',
  );
  return { session, apiToken: token.token, entities, call };
}

export const PLAID_EMULATOR = { clientId: 'veil-emulator-client', secret: 'veil-emulator-secret' };

/** The Plaid sandbox emulator in its own process (as `npm start` runs it); point startLedger's env at `ledgerEnv`. */
export async function startPlaidEmulator({ node = process.env.VEIL_LEDGER_NODE ?? process.execPath } = {}) {
  const port = await freePort();
  const child = spawn(node, ['--import', 'tsx', 'src/plaid-emulator/main.ts'], {
    cwd: SERVICE_ROOT,
    env: { ...process.env, PLAID_EMULATOR_PORT: String(port), PLAID_CLIENT_ID: PLAID_EMULATOR.clientId, PLAID_SECRET: PLAID_EMULATOR.secret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const baseUrl = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 120_000; ; ) {
    if (child.exitCode !== null) throw new Error(`Plaid emulator exited with ${child.exitCode}:\n${output}`);
    if (output.includes('listening')) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Plaid emulator not listening after 120 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  return {
    baseUrl,
    ledgerEnv: { PLAID_ENV: 'emulator', PLAID_BASE_URL: baseUrl, PLAID_CLIENT_ID: PLAID_EMULATOR.clientId, PLAID_SECRET: PLAID_EMULATOR.secret },
    /** A sandbox public token for a user (`user_llc`, `user_good`…), what Plaid Link hands the app. */
    async publicToken(username, institutionId = 'ins_109511') {
      const response = await fetch(`${baseUrl}/sandbox/public_token/create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: PLAID_EMULATOR.clientId, secret: PLAID_EMULATOR.secret, institution_id: institutionId, initial_products: ['transactions'], options: { override_username: username } }),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(`sandbox/public_token/create: ${response.status} ${JSON.stringify(body)}`);
      return body.public_token;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
