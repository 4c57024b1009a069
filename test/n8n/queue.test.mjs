// The scale-out topology of docker-compose.yml, without Docker, on the machine's PostgreSQL and Redis: n8n in queue
// mode (a main process for the API and webhooks, and one `n8n worker` that runs the executions, both on PostgreSQL
// and sharing a Bull queue in Redis) and two ledger replicas on one PostgreSQL schema. An activated webhook
// workflow books through replica A and again through replica B with the same Idempotency-Key, then reserves money
// through B; the books are checked afterwards, and so is who ran the executions.
//
// Isolation on shared servers: n8n gets a database of its own, the ledgers a schema of their own, and Redis a
// database index (VEIL_QUEUE_REDIS_DB, default 13) and a throwaway ACL user that may touch only this run's key
// prefix, pub/sub channels under it, and the ledger's rate-limit keys, so anything outside them fails the test
// instead of leaking into (or listening to) another n8n on the same Redis. Everything is
// dropped afterwards. Needs DATABASE_URL (PostgreSQL) and Redis at REDIS_URL (default redis://127.0.0.1:6379).
// VEIL_TEST_PORT_BASE=<n> puts every listening port this test starts at n, n+1, … instead of free ports.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createClient } from 'redis';
import { createSchema, dropSchema, freePort, provisionOwner, startLedger } from '../../scripts/n8n/ledger.mjs';
import { createN8n, nodeType } from '../../scripts/n8n/runtime.mjs';

const DATABASE_URL = process.env.DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const REDIS_DB = Number(process.env.VEIL_QUEUE_REDIS_DB ?? 13);
const run = randomBytes(5).toString('hex');
const PREFIX = `veil-queue-${run}`;
const REDIS_USER = `veil-queue-${run}`;
const REDIS_PASSWORD = randomBytes(18).toString('base64url');
const N8N_DATABASE = `veil_queue_${run}`;
const WEBHOOK_PATH = `veil-queue-${run}`;
const CREDENTIALS = { a: { id: 'veilReplicaA01', name: 'Veil replica A' }, b: { id: 'veilReplicaB01', name: 'Veil replica B' } };
const WORKFLOW_ID = 'veilQueueWf001';

let portCursor = Number(process.env.VEIL_TEST_PORT_BASE ?? 0);
const port = async () => (portCursor > 0 ? portCursor++ : freePort());

let admin; // the default Redis user, for the ACL user and the cleanup
let schema;
let replicas = [];
let owner;
let n8n;
let main;
let worker;
let workflowDatabaseCreated = false;
const calls = [];

async function pgAdmin(statement) {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** The n8n environment both processes share: the database, the queue, the key; as docker-compose.yml sets it. */
function n8nEnv() {
  const database = new URL(DATABASE_URL);
  const redis = new URL(REDIS_URL);
  return {
    DB_TYPE: 'postgresdb',
    DB_POSTGRESDB_HOST: database.hostname,
    DB_POSTGRESDB_PORT: database.port || '5432',
    DB_POSTGRESDB_DATABASE: N8N_DATABASE,
    DB_POSTGRESDB_USER: decodeURIComponent(database.username || 'postgres'),
    DB_POSTGRESDB_PASSWORD: decodeURIComponent(database.password),
    EXECUTIONS_MODE: 'queue',
    QUEUE_BULL_PREFIX: PREFIX,
    QUEUE_BULL_REDIS_HOST: redis.hostname,
    QUEUE_BULL_REDIS_PORT: redis.port || '6379',
    QUEUE_BULL_REDIS_DB: String(REDIS_DB),
    QUEUE_BULL_REDIS_USERNAME: REDIS_USER,
    QUEUE_BULL_REDIS_PASSWORD: REDIS_PASSWORD,
    // n8n's own Redis prefix: its pub/sub channels (commands between main and workers) and its cache keys
    // ({prefix:cache}:…). Channels are server-wide, not per database: without it, two n8n on one Redis talk.
    N8N_REDIS_KEY_PREFIX: PREFIX,
    // Executions are logged at info: that is how the test sees which process ran them.
    N8N_LOG_LEVEL: 'info',
    // The workflow writes $env.VEIL_N8N_ROLE into the books: the process that evaluated it is on record.
    N8N_BLOCK_ENV_ACCESS_IN_NODE: 'false',
  };
}

function veilNode(name, type, credential, parameters, position) {
  return { id: `node-${name.replace(/\W/g, '')}`, name, type: nodeType(type), typeVersion: 1, position, parameters, credentials: { veilApi: CREDENTIALS[credential] } };
}

function workflow() {
  const llc = owner.entities['Acme LLC'];
  const person = owner.entities['Sam Owner'];
  const body = (field) => `$('Bank event').item.json.body.${field}`;
  const contribution = {
    resource: 'transfer',
    operation: 'create',
    classification: 'capital_contribution',
    fromEntityId: person.id,
    fromAccountId: person.accounts['Personal Checking'],
    toEntityId: llc.id,
    toAccountId: llc.accounts.Checking,
    amountCents: `={{ ${body('amountCents')} }}`,
    postedOn: '2026-06-01',
    // The bank's reference is the key: a redelivered event, a retried execution, or the other replica replays.
    options: { idempotencyKey: `={{ 'bank-' + ${body('reference')} }}`, memo: `={{ 'capital ' + ${body('reference')} + ' booked by the n8n ' + $env.VEIL_N8N_ROLE }}` },
  };
  return {
    id: WORKFLOW_ID,
    name: 'Veil: a bank deposit funds the LLC (queue mode)',
    active: false,
    settings: { executionOrder: 'v1' },
    connections: {
      'Bank event': { main: [[{ node: 'Contribute via A', type: 'main', index: 0 }]] },
      'Contribute via A': { main: [[{ node: 'Contribute via B', type: 'main', index: 0 }]] },
      'Contribute via B': { main: [[{ node: 'Reserve via B', type: 'main', index: 0 }]] },
    },
    nodes: [
      {
        id: 'node-webhook',
        name: 'Bank event',
        type: 'n8n-nodes-base.webhook',
        typeVersion: 2,
        position: [0, 0],
        webhookId: randomUUID(),
        parameters: { httpMethod: 'POST', path: WEBHOOK_PATH, responseMode: 'lastNode', options: {} },
      },
      veilNode('Contribute via A', 'veilTransfer', 'a', contribution, [200, 0]),
      veilNode('Contribute via B', 'veilTransfer', 'b', contribution, [400, 0]),
      veilNode('Reserve via B', 'veilTransfer', 'b', {
        resource: 'move',
        operation: 'create',
        entityId: llc.id,
        moveFromAccountId: llc.accounts.Checking,
        moveToAccountId: llc.accounts['Tax Reserve'],
        description: `={{ 'Tax reserve for ' + ${body('reference')} }}`,
        amountCents: `={{ Math.floor(${body('amountCents')} / 4) }}`,
        postedOn: '2026-06-02',
        options: { idempotencyKey: `={{ 'reserve-' + ${body('reference')} }}` },
      }, [600, 0]),
    ],
  };
}

const started = Date.now();
const phase = (what) => console.log(`[queue] ${what} after ${((Date.now() - started) / 1000).toFixed(1)} s`);

before(async () => {
  assert.ok(DATABASE_URL, 'the queue-mode test needs PostgreSQL: set DATABASE_URL (n8n queue mode and ledger replicas cannot share PGlite)');
  const adminUrl = new URL(REDIS_URL);
  adminUrl.pathname = `/${REDIS_DB}`;
  admin = createClient({ url: adminUrl.toString() });
  await admin.connect();
  // A user for this run only: every key it may touch is this run's prefix or the ledger's rate-limit counters.
  await admin.sendCommand(['ACL', 'SETUSER', REDIS_USER, 'on', `>${REDIS_PASSWORD}`, 'resetkeys', `~${PREFIX}*`, `~{${PREFIX}*`, '~veil-rl-*', 'resetchannels', `&${PREFIX}*`, '+@all']);
  const redisForLedger = new URL(REDIS_URL);
  redisForLedger.username = REDIS_USER;
  redisForLedger.password = REDIS_PASSWORD;
  redisForLedger.pathname = `/${REDIS_DB}`;

  // Two replicas of one ledger: one schema, one Redis for the rate limits, one encryption key and JWT secret.
  schema = await createSchema('queue');
  const shared = {
    REDIS_URL: redisForLedger.toString(),
    VEIL_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    VEIL_JWT_SECRET: randomBytes(32).toString('base64'),
  };
  replicas.push(await startLedger({ schema, port: await port(), env: shared }));
  replicas.push(await startLedger({ schema, port: await port(), env: shared }));
  phase('two ledger replicas ready');
  owner = await provisionOwner(replicas[0].baseUrl, {
    'Acme LLC': { kind: 'llc', accounts: { Checking: 'checking', 'Tax Reserve': 'savings' } },
    'Sam Owner': { kind: 'personal', accounts: { 'Personal Checking': 'checking' } },
  });

  await pgAdmin(`create database ${N8N_DATABASE}`);
  workflowDatabaseCreated = true;
  n8n = await createN8n({ env: n8nEnv() });
  // The pack where docker-compose.yml mounts it (no npm install), for both processes (one user folder).
  n8n.mountPack();
  await n8n.importCredentials([
    { ...CREDENTIALS.a, type: 'veilApi', data: { baseUrl: replicas[0].baseUrl, apiToken: owner.apiToken } },
    { ...CREDENTIALS.b, type: 'veilApi', data: { baseUrl: replicas[1].baseUrl, apiToken: owner.apiToken } },
  ]);
  await n8n.importWorkflow(workflow());
  phase('n8n database migrated, credentials and workflow imported');
  const mainPort = await port();
  // N8N_WEBHOOK_URL, as docker-compose.yml sets it (WEBHOOK_URL is deprecated in 2.41).
  main = await n8n.start({ port: mainPort, brokerPort: await port(), env: { VEIL_N8N_ROLE: 'main', OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true', WEBHOOK_URL: undefined, N8N_WEBHOOK_URL: `http://127.0.0.1:${mainPort}/` } });
  phase('n8n main ready');
  worker = await n8n.startWorker({ healthPort: await port(), brokerPort: await port(), env: { VEIL_N8N_ROLE: 'worker' } });
  phase('n8n worker ready');
});

after(async () => {
  await worker?.stop();
  await main?.stop();
  n8n?.cleanup();
  for (const replica of replicas) await replica.stop();
  if (schema) await dropSchema(schema);
  if (workflowDatabaseCreated) await pgAdmin(`drop database if exists ${N8N_DATABASE} with (force)`);
  if (admin) {
    await admin.sendCommand(['ACL', 'DELUSER', REDIS_USER]);
    // Only this run's keys: never FLUSHDB on a shared server.
    // This run's keys, and the ledger's rate-limit counters in this test's database index.
    for (const pattern of [`${PREFIX}*`, `{${PREFIX}*`, 'veil-rl-*']) {
      for await (const keys of admin.scanIterator({ MATCH: pattern, COUNT: 500 })) {
        for (const name of [keys].flat()) await admin.del(name);
      }
    }
    await admin.quit();
  }
});

async function bankEvent(reference, amountCents) {
  const response = await fetch(`${main.baseUrl}/webhook/${WEBHOOK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ reference, amountCents }),
  });
  const text = await response.text();
  calls.push({ reference, status: response.status, text });
  assert.equal(response.status, 200, text);
  return JSON.parse(text);
}

async function booksOf(entityId) {
  const accounts = await owner.call('GET', `/entities/${entityId}/accounts`, undefined, { token: owner.session });
  assert.equal(accounts.status, 200);
  const entries = await owner.call('GET', `/entities/${entityId}/entries?limit=100`, undefined, { token: owner.session });
  assert.equal(entries.status, 200);
  return { balances: Object.fromEntries(accounts.body.items.map((account) => [account.name, account.balanceCents])), entries: entries.body.items };
}

/** Sums a Prometheus series of a replica's /metrics whose labels include every given label. */
async function metric(replica, name, labels) {
  const text = await (await fetch(`${replica.baseUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([label, value]) => line.includes(`${label}="${value}"`))) sum += Number(line.split(' ').pop());
  }
  return sum;
}

describe('n8n queue mode with two ledger replicas, on PostgreSQL and Redis', () => {
  it('runs webhook executions on the worker, books each bank event once across both replicas, and keeps the books', async () => {
    await main.apiKey();
    await main.activate(WORKFLOW_ID);
    const webhookUrl = `${main.baseUrl}/webhook/${WEBHOOK_PATH}`;
    // An empty body is a bad event: the first node refuses it (the execution fails), but the webhook is registered.
    const registered = await main.waitForWebhook(webhookUrl, 60_000);
    assert.notEqual(registered, 404);

    phase('webhook registered');
    const first = await bankEvent('dep-1', 100_000);
    assert.equal(first.description, 'Tax reserve for dep-1');
    // The same event delivered again, and a new one, at the same time: the worker runs both.
    const [again, second] = await Promise.all([bankEvent('dep-1', 100_000), bankEvent('dep-2', 40_000)]);
    assert.equal(again.id, first.id, 'a redelivered event replays the same entry');
    assert.notEqual(second.id, first.id);
    phase('three bank events answered (one alone, two at once)');

    // The books: two contributions and two reserves, each booked once, whichever replica was asked.
    const llc = await booksOf(owner.entities['Acme LLC'].id);
    const person = await booksOf(owner.entities['Sam Owner'].id);
    assert.deepEqual(
      [llc.balances.Checking, llc.balances['Tax Reserve'], llc.balances['Member contributions Sam Owner'], person.balances['Personal Checking']],
      [140_000 - 35_000, 35_000, -140_000, -140_000],
    );
    assert.equal(llc.entries.length, 4, llc.entries.map((entry) => entry.description).join(', '));
    assert.equal(person.entries.length, 2);
    const sum = llc.entries.reduce((total, entry) => total + entry.postings.reduce((cents, posting) => cents + posting.amountCents, 0), 0);
    assert.equal(sum, 0, 'every entry balances');

    // n8n's execution records: one per webhook call (the empty probe included), each finished.
    const executions = await main.executions(WORKFLOW_ID);
    const runs = executions.filter((execution) => execution.data?.resultData?.runData?.['Reserve via B']);
    assert.equal(runs.length, 3, JSON.stringify(executions.map((execution) => [execution.id, execution.status])));
    for (const execution of runs) {
      assert.equal(execution.mode, 'webhook');
      assert.equal(execution.status, 'success');
      const runData = execution.data.resultData.runData;
      const viaA = runData['Contribute via A'][0].data.main[0][0].json;
      const viaB = runData['Contribute via B'][0].data.main[0][0].json;
      assert.equal(viaB.id, viaA.id, 'replica B replays the transfer replica A booked (one idempotency store)');
      assert.match(viaA.memo, / booked by the n8n worker$/, 'the expression was evaluated by the worker process');
    }
    // Both replicas answered writes, and B replayed A's transfer at least once per execution.
    assert.ok((await metric(replicas[0], 'veil_http_request_duration_seconds_count', { method: 'POST', route: '/transfers' })) >= 3);
    assert.ok((await metric(replicas[1], 'veil_http_request_duration_seconds_count', { method: 'POST', route: '/transfers' })) >= 3);
    assert.ok((await metric(replicas[1], 'veil_idempotent_replays_total', { route: '/transfers' })) >= 3);

    // Who ran them: the worker logs each execution it picks from the queue; the main process only enqueues.
    const workerLog = worker.output();
    for (const execution of runs) {
      assert.match(workerLog, new RegExp(`started execution ${execution.id}\\b`, 'i'), `the worker ran execution ${execution.id}`);
      assert.doesNotMatch(main.output(), new RegExp(`started execution ${execution.id}\\b`, 'i'));
    }
    // Rate limits are one budget across the replicas (Redis): a request on B counts the one just made on A. A
    // window that resets between the two shows as B having more left than A; then the pair is asked again.
    const remaining = async (replica) => {
      const response = await fetch(`${replica.baseUrl}/auth/me`, { headers: { authorization: `Bearer ${owner.apiToken}` } });
      assert.equal(response.status, 200, await response.text());
      return Number(/\br=(\d+)/.exec(response.headers.get('ratelimit') ?? '')?.[1]);
    };
    let pair;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      pair = [await remaining(replicas[0]), await remaining(replicas[1])];
      if (pair[1] < pair[0]) break;
    }
    assert.ok(Number.isInteger(pair[0]), 'the ledger sends RateLimit headers');
    assert.equal(pair[1], pair[0] - 1, `remaining on A then B: ${pair}`);

    // The jobs went through this run's Bull queue in Redis: its job counter counted every execution.
    assert.ok(Number(await admin.get(`${PREFIX}:jobs:id`)) >= runs.length + 1, 'one Bull job per webhook call');

    // The ledger's audit names the execution that booked each entry (X-N8N-Execution-Id): two executions booked,
    // the redelivery booked nothing.
    const bookedBy = new Set(llc.entries.map((entry) => /n8n execution (\w+)/.exec(entry.actor)?.[1]));
    assert.equal(bookedBy.size, 2, [...bookedBy].join(', '));
    for (const id of bookedBy) assert.ok(runs.some((execution) => String(execution.id) === id), `entry booked by execution ${id}`);
  });
});
