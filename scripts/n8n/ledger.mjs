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

// ledger-service/src/db/migrate.ts SCHEMA_DDL_LOCK: schema DDL waits for a migration's catalog read (Kysely reads every
// schema's catalog, and a schema dropped meanwhile fails it), as the ledger's own tests and benchmarks do.
const SCHEMA_DDL_LOCK = 4_210_417;

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
export async function startLedger({ node = process.env.VEIL_LEDGER_NODE ?? process.execPath, env = {}, port: givenPort, schema: sharedSchema } = {}) {
  const port = givenPort ?? (await freePort());
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-n8n-ledger-'));
  let schema;
  const databaseUrl = process.env.DATABASE_URL;
  // `schema`: replicas of one ledger share a schema the caller created (createSchema) and drops (dropSchema).
  if (sharedSchema && !databaseUrl) throw new Error('startLedger({ schema }) needs DATABASE_URL (replicas share PostgreSQL)');
  if (databaseUrl && !sharedSchema) schema = await createSchema();
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
      ...(schema || sharedSchema ? { VEIL_DB_SCHEMA: schema ?? sharedSchema } : {}),
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
      if (schema) await dropSchema(schema);
    },
  };
}

/** A fresh schema in DATABASE_URL's database (for ledger replicas that share it); returns its name. */
export async function createSchema(prefix = 'n8n') {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [SCHEMA_DDL_LOCK]);
    await client.query(`create schema ${schema}`);
  } finally {
    await client.end();
  }
  return schema;
}

export async function dropSchema(schema) {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [SCHEMA_DDL_LOCK]);
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}

/**
 * The bundled Plaid sandbox emulator (ledger-service/src/plaid-emulator) as its own process, like `npm start` runs
 * it. `ledgerEnv` is what a ledger needs to talk to it (PLAID_ENV=emulator). Returns { baseUrl, ledgerEnv, plaid(path,
 * body) (a call with the client id and secret), stop() }.
 */
export async function startPlaidEmulator({ node = process.env.VEIL_LEDGER_NODE ?? process.execPath, port: givenPort } = {}) {
  const port = givenPort ?? (await freePort());
  const clientId = 'veil-emulator-client';
  const secret = `veil-emulator-${randomBytes(8).toString('hex')}`;
  const child = spawn(node, ['--import', 'tsx', 'src/plaid-emulator/main.ts'], {
    cwd: SERVICE_ROOT,
    env: { ...process.env, PLAID_EMULATOR_PORT: String(port), PLAID_EMULATOR_HOST: '127.0.0.1', PLAID_CLIENT_ID: clientId, PLAID_SECRET: secret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const baseUrl = `http://127.0.0.1:${port}`;
  const plaid = async (urlPath, body = {}) => {
    const response = await fetch(`${baseUrl}${urlPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: clientId, secret, ...body }),
    });
    return { status: response.status, body: await response.json() };
  };
  // Plaid's API is POST-only: ready when an authenticated call answers.
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the Plaid emulator exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await plaid('/veil-readiness-probe')).status > 0) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the Plaid emulator is not listening after 120 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  return {
    baseUrl,
    ledgerEnv: { PLAID_ENV: 'emulator', PLAID_BASE_URL: baseUrl, PLAID_CLIENT_ID: clientId, PLAID_SECRET: secret },
    plaid,
    output: () => output,
    /** A sandbox public token for a user (`user_llc`, `user_good`…): what Plaid Link hands the app. */
    async publicToken(username, institutionId = 'ins_109511') {
      const created = await plaid('/sandbox/public_token/create', { institution_id: institutionId, initial_products: ['transactions'], options: { override_username: username } });
      if (created.status !== 200) throw new Error(`sandbox/public_token/create: ${created.status} ${JSON.stringify(created.body)}`);
      return created.body.public_token;
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

/**
 * Mints an API token for an existing user who signs in with a password only (the demo user of `npm start`), for
 * every entity the user owns. Creating a token needs a session that passed MFA, so this enrols MFA with a fresh
 * TOTP secret, signs in with a recovery code, creates the token, and disables MFA again with another recovery
 * code: the user keeps signing in as before, and the audit trail records every step.
 *
 * Re-runnable: with `stateFile`, the temporary TOTP secret is written there (0600) before MFA is switched on, and
 * its recovery codes as soon as they exist; the file is removed once MFA is off again. A mint interrupted in
 * between (Ctrl-C, a crash) leaves the user with MFA on and this file behind: the next mint finds the user asking
 * for a code, signs in with what the file holds, switches MFA off and starts over. A user with MFA and no such file
 * is refused (`mfa_code_required`): their second factor is theirs, not this script's.
 * `onStep(step)` is told 'enrolled', 'confirmed', 'token' and 'recovered' (a test interrupts the mint there).
 * Returns { token, tokenId, entityIds, recovered }.
 */
export async function mintApiToken(baseUrl, { email, password, name = 'n8n', scopes = ['read', 'write', 'move_money'], stateFile, onStep = () => {} }) {
  const call = client(baseUrl);
  let recovered = false;
  let login = await call('POST', '/auth/login', { email, password });
  if (login.status === 401 && login.body?.error?.code === 'mfa_code_required' && stateFile && readMintState(stateFile, email)) {
    await undoInterruptedMint(call, { email, password, state: readMintState(stateFile, email) });
    fs.rmSync(stateFile, { force: true });
    recovered = true;
    onStep('recovered');
    login = await call('POST', '/auth/login', { email, password });
  }
  if (login.status !== 200) {
    const error = new Error(`signing in as ${email}: ${login.status} ${login.body?.error?.code ?? ''} ${login.body?.error?.message ?? ''}`.trim());
    error.code = login.body?.error?.code;
    throw error;
  }
  const first = login.body.accessToken;
  const enrol = expectStatus(await call('POST', '/auth/mfa/enrol', undefined, { token: first }), 200, 'mfa enrol');
  // Written ahead: from the confirmation on, this secret is the only way back in.
  if (stateFile) writeMintState(stateFile, { email, secret: enrol.secret, recoveryCodes: [] });
  onStep('enrolled');
  const confirmed = expectStatus(
    await call('POST', '/auth/mfa/confirm', { totpCode: generateSync({ secret: enrol.secret }) }, { token: first }),
    200,
    'mfa confirm',
  );
  if (stateFile) writeMintState(stateFile, { email, secret: enrol.secret, recoveryCodes: confirmed.recoveryCodes });
  onStep('confirmed');
  const [signInCode, disableCode] = confirmed.recoveryCodes;
  let session;
  try {
    session = expectStatus(await call('POST', '/auth/login', { email, password, recoveryCode: signInCode }), 200, 'mfa login').accessToken;
    const entities = expectStatus(await call('GET', '/entities', undefined, { token: session }), 200, 'entities');
    const entityIds = entities.items.map((entity) => entity.id);
    if (entityIds.length === 0) throw new Error(`${email} owns no entity to scope a token to`);
    const created = expectStatus(await call('POST', '/auth/tokens', { name, scopes, entityIds }, { token: session }), 201, 'api token');
    onStep('token');
    return { token: created.token, tokenId: created.id, entityIds, recovered };
  } finally {
    // Whatever happened above, leave the account as it was: password only.
    const disabled = await call('POST', '/auth/mfa/disable', { password, recoveryCode: disableCode }, { token: session ?? first });
    if (disabled.status !== 204) throw new Error(`disabling the temporary MFA of ${email}: ${disabled.status} ${JSON.stringify(disabled.body)}`);
    if (stateFile) fs.rmSync(stateFile, { force: true });
  }
}

function readMintState(stateFile, email) {
  try {
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    return state?.email === email && typeof state.secret === 'string' ? state : undefined;
  } catch {
    return undefined;
  }
}

function writeMintState(stateFile, state) {
  fs.mkdirSync(path.dirname(stateFile), { recursive: true });
  const temporary = `${stateFile}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(state)}\n`, { mode: 0o600 });
  fs.renameSync(temporary, stateFile);
}

const TOTP_STEP_MS = 30_000;

/**
 * Signs in with the second factor an interrupted mint left behind and switches MFA off. Unused recovery codes are
 * tried first; without them (interrupted before they were saved) the TOTP secret, one code per 30-second step (the
 * ledger accepts each step once).
 */
async function undoInterruptedMint(call, { email, password, state }) {
  const codes = [...(state.recoveryCodes ?? [])];
  const useFactor = async (attempt, what) => {
    while (codes.length > 0) {
      const result = await attempt({ recoveryCode: codes.shift() });
      if (result.status < 300) return result;
    }
    for (let tries = 0; tries < 3; tries += 1) {
      const result = await attempt({ totpCode: generateSync({ secret: state.secret }) });
      if (result.status < 300) return result;
      await new Promise((resolve) => setTimeout(resolve, TOTP_STEP_MS - (Date.now() % TOTP_STEP_MS) + 250));
    }
    throw new Error(`${what} for ${email} with the interrupted mint's second factor failed: remove it by hand`);
  };
  const login = await useFactor((factor) => call('POST', '/auth/login', { email, password, ...factor }), 'signing in');
  await useFactor((factor) => call('POST', '/auth/mfa/disable', { password, ...factor }, { token: login.body.accessToken }), 'disabling MFA');
}
