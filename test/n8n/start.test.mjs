// `npm start` as a user runs it: the real scripts/start.mjs in a temp data folder, on this file's ports
// (VEIL_START_TEST_PORT, default 5720, and the three after it), on PGlite or on PostgreSQL (DATABASE_URL, in a fresh
// schema). Cold start, then a warm start on the same data, then a quick start without n8n; after each, SIGINT must
// close every port and leave no process of the tree behind. The start times are printed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { CREDENTIAL_NAME, CREDENTIAL_TYPE, readTemplates, testCredential, TEMPLATES_DIR } from '../../scripts/n8n/provision.mjs';
import { nodeType } from '../../scripts/n8n/runtime.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const base = Number(process.env.VEIL_START_TEST_PORT ?? 5720);
const PORTS = { ledger: base, emulator: base + 1, n8n: base + 2, broker: base + 3 };
const READY_TIMEOUT_MS = 12 * 60_000;
// The nodes the pack declares (package.json `n8n.nodes`): `dist/nodes/Transfer/VeilTransfer.node.js` → `veilTransfer`.
const PACK_NODES = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).n8n.nodes.map((file) => {
  const name = path.basename(file, '.node.js');
  return nodeType(name[0].toLowerCase() + name.slice(1));
});

let dataDir;
let templatesDir;
let schema;
const timings = {};

/** Every process on the machine: pid → { parent, group } (fields 4 and 5 of /proc/<pid>/stat). */
function processes() {
  const table = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The fields after the parenthesised command name (which may hold spaces): state, parent, group.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(entry), { parent: Number(fields[1]), group: Number(fields[2]) });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

/** Every process below `pid`, and the process groups they are in. */
function descendants(pid) {
  const table = processes();
  const found = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift();
    for (const [child, { parent }] of table) {
      if (parent === current && !found.includes(child)) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return { pids: found, groups: new Set(found.map((child) => table.get(child).group)) };
}

function running(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Runs scripts/start.mjs and resolves once it printed its URLs: { child, output(), urls, login, seconds }. */
async function start(extraEnv = {}) {
  const env = {
    ...process.env,
    PORT: String(PORTS.ledger),
    PLAID_EMULATOR_PORT: String(PORTS.emulator),
    N8N_PORT: String(PORTS.n8n),
    N8N_RUNNERS_BROKER_PORT: String(PORTS.broker),
    VEIL_DATA_DIR: dataDir,
    VEIL_TEMPLATES_DIR: templatesDir,
    // Cheap password hashing and no auth rate limit: the test signs in several times.
    VEIL_ARGON2_MEMORY_KIB: '64',
    VEIL_ARGON2_TIME_COST: '1',
    VEIL_RATE_LIMIT_AUTH_MAX: '1000',
    ...(schema ? { VEIL_DB_SCHEMA: schema } : { DATABASE_URL: '' }),
    ...extraEnv,
  };
  for (const name of ['PLAID_CLIENT_ID', 'PLAID_SECRET', 'VEIL_DEMO_PASSWORD', 'VEIL_N8N', 'N8N_ENCRYPTION_KEY']) if (!(name in extraEnv)) delete env[name];
  if (!schema) delete env.DATABASE_URL;
  const startedMs = Date.now();
  // The ledger's own Node (20) runs the script, as `npm start` would; n8n brings its Node 24.
  const child = spawn(process.env.VEIL_LEDGER_NODE ?? process.execPath, ['scripts/start.mjs'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!output.includes('[veil] Ctrl-C stops everything')) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output.slice(-6000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGINT');
      throw new Error(`npm start not ready after ${READY_TIMEOUT_MS / 1000} s:\n${output.slice(-6000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const seconds = (Date.now() - startedMs) / 1000;
  const url = (label) => new RegExp(`\\[veil\\]\\s+${label}\\s+(http://\\S+)`).exec(output)?.[1];
  const login = /\[veil\]\s+demo login\s+(\S+) \/ (\S+)/.exec(output);
  return {
    child,
    output: () => output,
    seconds,
    urls: { ledger: url('ledger API'), dashboard: url('dashboard'), n8n: url('n8n'), emulator: url('Plaid emulator') },
    login: login ? { email: login[1], password: login[2] } : undefined,
  };
}

/** SIGINT, then: exit 0, every port closed, no process of the tree left. */
async function stopAndCheck(run) {
  const tree = descendants(run.child.pid);
  assert.ok(tree.pids.length >= 2, `start.mjs runs its children (${tree.pids.length} found)`);
  const exited = new Promise((resolve) => run.child.once('exit', (code, signal) => resolve({ code, signal })));
  run.child.kill('SIGINT');
  const result = await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 90_000, 'timeout'))]);
  assert.notEqual(result, 'timeout', `npm start did not stop within 90 s after SIGINT:\n${run.output().slice(-4000)}`);
  assert.deepEqual(result, { code: 0, signal: null }, run.output().slice(-4000));
  for (const [name, port] of Object.entries(PORTS)) assert.equal(await portOpen(port), false, `${name} port ${port} still open`);
  // Neither a process seen running, nor anything started later in one of their process groups (a task runner
  // spawned during shutdown), is left.
  // start.mjs itself runs in this test's process group: that one is not its children's.
  const ownGroup = processes().get(process.pid).group;
  const groups = new Set([...tree.groups].filter((group) => group !== ownGroup));
  const left = [...processes()].filter(([pid, { group }]) => (tree.pids.includes(pid) || groups.has(group)) && running(pid)).map(([pid]) => pid);
  const describe = (pid) => `${pid} ${fs.existsSync(`/proc/${pid}/cmdline`) ? fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ') : ''}`;
  assert.deepEqual(left, [], `processes left behind: ${left.map(describe).join('; ')}`);
}

/**
 * fetch, tried again when a kept-alive connection was closed under it (n8n closes idle ones after 5 s, and a loaded
 * machine can stall this process past that). A server that is gone still fails: its port refuses.
 */
async function request(url, init) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fetch(url, init);
    } catch (error) {
      if (attempt >= 3 || !['UND_ERR_SOCKET', 'ECONNRESET'].includes(error.cause?.code)) throw error;
    }
  }
}

/** A cookie session on n8n's REST API as the demo user. */
async function n8nSession(baseUrl, { email, password }) {
  const response = await request(`${baseUrl}/rest/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ emailOrLdapLoginId: email, password }),
  });
  assert.equal(response.status, 200, `n8n sign-in as the demo user: ${await response.clone().text()}`);
  const cookie = response.headers.getSetCookie().map((value) => value.split(';')[0]).join('; ');
  const get = async (urlPath) => {
    const answer = await request(`${baseUrl}${urlPath}`, { headers: { cookie } });
    assert.equal(answer.status, 200, `GET ${urlPath}`);
    return answer.json();
  };
  const rest = async (method, urlPath, body) => {
    const answer = await request(`${baseUrl}/rest${urlPath}`, { method, headers: { cookie, 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
    const text = await answer.text();
    assert.ok(answer.ok, `${method} /rest${urlPath}: ${answer.status} ${text}`);
    return JSON.parse(text).data;
  };
  return { get, rest };
}

/** What a started product must show: the ledger, the dashboard, n8n with its credential, nodes and templates. */
async function checkProduct(run) {
  try {
    return await checkProductOf(run);
  } catch (error) {
    error.message += `\n--- the end of npm start's output ---\n${run.output().slice(-6000)}`;
    throw error;
  }
}

async function checkProductOf(run) {
  assert.equal(run.urls.ledger, `http://127.0.0.1:${PORTS.ledger}`);
  assert.equal(run.urls.emulator, `http://127.0.0.1:${PORTS.emulator}`);
  assert.equal(run.urls.n8n, `http://127.0.0.1:${PORTS.n8n}`);
  assert.ok(run.login, `the demo login is printed:\n${run.output().slice(-3000)}`);

  // The ledger answers, and the printed login works.
  assert.equal((await request(`${run.urls.ledger}/readyz`)).status, 200);
  const login = await request(`${run.urls.ledger}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(run.login) });
  assert.equal(login.status, 200);
  const { accessToken } = await login.json();
  const entities = await (await request(`${run.urls.ledger}/entities`, { headers: { authorization: `Bearer ${accessToken}` } })).json();
  assert.deepEqual(entities.items.map((entity) => entity.kind).sort(), ['llc', 'personal']);
  // The demo user still signs in with the password alone (the token's temporary MFA was undone).
  const me = await (await request(`${run.urls.ledger}/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } })).json();
  assert.equal(me.mfaEnabled, false);

  // The dashboard is served.
  assert.equal(run.urls.dashboard, `${run.urls.ledger}/app`);
  const dashboard = await request(run.urls.dashboard);
  assert.equal(dashboard.status, 200);
  assert.match(dashboard.headers.get('content-type'), /text\/html/);
  assert.match(await dashboard.text(), /<div id="root">/);

  // n8n: the demo user is its owner; one Veil API credential, whose test passes against this ledger.
  const n8n = await n8nSession(run.urls.n8n, run.login);
  const credentials = (await n8n.rest('GET', '/credentials')).filter((credential) => credential.type === CREDENTIAL_TYPE);
  assert.deepEqual(credentials.map((credential) => credential.name), [CREDENTIAL_NAME]);
  const test = await testCredential(n8n.rest, credentials[0], {});
  assert.equal(test.ok, true, `credential test: ${test.message}`);
  assert.equal(test.storedData.baseUrl, run.urls.ledger);

  // The pack's nodes are registered under their community-package names.
  const nodeTypes = new Set((await n8n.get('/types/nodes.json')).map((description) => description.name));
  for (const name of PACK_NODES) assert.ok(nodeTypes.has(name), `${name} is registered`);

  // Every template is imported, inactive, its Veil API references resolved to the credential; nothing else is.
  const { templates, skipped } = readTemplates(templatesDir);
  const workflows = await n8n.rest('GET', '/workflows');
  assert.deepEqual(workflows.map((workflow) => workflow.id).sort(), templates.map((template) => template.id).sort());
  assert.deepEqual(skipped.map((entry) => entry.file), ['not-a-workflow.json']);
  for (const template of templates) {
    const workflow = await n8n.rest('GET', `/workflows/${template.id}`);
    assert.equal(workflow.name, template.workflow.name);
    assert.equal(workflow.active, false, `${template.file} is inactive`);
    const references = workflow.nodes.flatMap((node) => Object.values(node.credentials ?? {})).filter((reference) => reference.name === CREDENTIAL_NAME);
    assert.equal(references.length, template.workflow.nodes.filter((node) => Object.values(node.credentials ?? {}).some((reference) => reference.name === CREDENTIAL_NAME)).length);
    for (const reference of references) assert.equal(reference.id, credentials[0].id, `${template.file}: the Veil API reference resolves`);
    // Every reference resolved: n8n's editor has no credential left to ask for.
    if (template.workflow.meta?.templateCredsSetupCompleted === false && workflow.nodes.every((node) => Object.values(node.credentials ?? {}).every((reference) => reference.id))) {
      assert.equal(workflow.meta.templateCredsSetupCompleted, true, `${template.file}: credentials set up`);
    }
  }
  return { credentialId: credentials[0].id, workflowCount: workflows.length };
}

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-start-data-'));
  // The repository's templates (0..N; another branch is writing them), plus one of this test's own that references
  // the credential by name only and has no id, and a JSON file that is not a workflow.
  templatesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-start-templates-'));
  for (const { file } of readTemplates(TEMPLATES_DIR).templates) fs.copyFileSync(path.join(TEMPLATES_DIR, file), path.join(templatesDir, file));
  fs.writeFileSync(
    path.join(templatesDir, 'zz-start-test-guard.json'),
    JSON.stringify({
      name: 'Start test: Entity Guard',
      nodes: [
        { id: 'start', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
        {
          id: 'guard',
          name: 'Guard',
          type: nodeType('veilEntityGuard'),
          typeVersion: 1,
          position: [220, 0],
          parameters: { resource: 'verdict', operation: 'evaluateMovement', amountCents: 100 },
          credentials: { veilApi: { id: 'REPLACED-BY-NPM-START', name: CREDENTIAL_NAME } },
        },
      ],
      connections: { Start: { main: [[{ node: 'Guard', type: 'main', index: 0 }]] } },
      settings: { executionOrder: 'v1' },
      meta: { templateCredsSetupCompleted: false },
    }),
  );
  fs.writeFileSync(path.join(templatesDir, 'not-a-workflow.json'), JSON.stringify({ description: 'an index, not a workflow' }));
  if (process.env.DATABASE_URL) {
    schema = `start_${randomBytes(6).toString('hex')}`;
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    await client.query(`create schema ${schema}`);
    await client.end();
  }
});

after(async () => {
  console.log(`[start.test] ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}: cold start ${timings.cold?.toFixed(1)} s, warm start ${timings.warm?.toFixed(1)} s, without n8n ${timings.quick?.toFixed(1)} s`);
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(templatesDir, { recursive: true, force: true });
  if (schema) {
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    await client.query(`drop schema ${schema} cascade`);
    await client.end();
  }
});

describe('npm start', () => {
  let first;

  it('cold: starts the ledger, dashboard, Plaid emulator and n8n with the pack, the credential and the templates; SIGINT stops all of it', async () => {
    const run = await start();
    timings.cold = run.seconds;
    try {
      first = await checkProduct(run);
      assert.match(run.output(), /n8n owner account created for demo@veil\.local/);
      assert.match(run.output(), /node pack \S+ installed into n8n/);
    } finally {
      await stopAndCheck(run);
    }
  });

  it('warm: reuses everything (same credential, no duplicate workflow, pack not rebuilt); SIGINT stops all of it', async () => {
    assert.ok(first, 'the cold start passed');
    const run = await start();
    timings.warm = run.seconds;
    try {
      const again = await checkProduct(run);
      assert.deepEqual(again, first);
      assert.match(run.output(), /node pack \S+ unchanged since its last install/);
      assert.match(run.output(), /credential "Veil API" \(\S+\) kept/);
      assert.match(run.output(), /workflow templates: 0 imported/);
    } finally {
      await stopAndCheck(run);
    }
  });

  it('a changed pack build is rebuilt and reinstalled, and n8n registers it; nothing else is duplicated', async () => {
    assert.ok(first, 'the cold start passed');
    // What an edit of nodes/ or credentials/ does: the installed pack's fingerprint no longer matches the sources.
    fs.writeFileSync(path.join(dataDir, 'n8n', '.n8n', 'nodes', '.veil-pack-fingerprint'), 'built-from-older-sources');
    const run = await start();
    try {
      assert.match(run.output(), /node pack \S+ installed into n8n/);
      assert.deepEqual(await checkProduct(run), first);
    } finally {
      await stopAndCheck(run);
    }
  });

  it('VEIL_N8N=0: the ledger, dashboard and emulator only', async () => {
    const run = await start({ VEIL_N8N: '0' });
    timings.quick = run.seconds;
    try {
      assert.equal(run.urls.n8n, undefined);
      assert.equal(await portOpen(PORTS.n8n), false);
      assert.equal((await fetch(`${run.urls.ledger}/readyz`)).status, 200);
      assert.equal((await fetch(run.urls.dashboard)).status, 200);
    } finally {
      await stopAndCheck(run);
    }
  });
});
