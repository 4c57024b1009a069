// The pack's nodes executed in-process by n8n-core 2.41.1 (WorkflowExecute) against a real ledger process, through
// a counting proxy so the tests see how many requests the nodes make.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { key, provisionOwner, startLedger, startPlaidEmulator } from '../../scripts/n8n/ledger.mjs';
import { loadOptions, loadPack, runNode } from './support/inprocess.mjs';

let ledger;
let emulator;
let owner;
let pack;
let proxy;
let proxyUrl;
const requests = [];

before(async () => {
  // The ledger talks to the bundled Plaid sandbox emulator (PLAID_ENV=emulator), as `npm start` runs it.
  emulator = await startPlaidEmulator();
  ledger = await startLedger({ env: emulator.ledgerEnv });
  owner = await provisionOwner(ledger.baseUrl, {
    'Acme LLC': { kind: 'llc', accounts: { Checking: 'checking', Savings: 'savings', Software: 'expense_category' } },
    'Sam Owner': { kind: 'personal', accounts: { 'Personal Checking': 'checking', 'Personal Card': 'credit_card' } },
    // Budget, allocation and bills get books of their own, so the balances asserted above stay theirs.
    'Budget LLC': {
      kind: 'llc',
      accounts: { Checking: 'checking', Savings: 'savings', Opening: 'opening_balance', Sales: 'income_category', Rent: 'expense_category', Taxes: 'expense_category', Internet: 'expense_category', Buffer: 'expense_category' },
    },
    // Plaid links create their own accounts here.
    'Bank LLC': { kind: 'llc', accounts: {} },
    // A person whose Plaid login has a card, a mortgage, a student loan, an IRA, a 401(k) and a brokerage account.
    Investor: { kind: 'personal', accounts: {} },
  });
  pack = loadPack();
  const target = new URL(ledger.baseUrl);
  proxy = http.createServer((req, res) => {
    requests.push({
      method: req.method,
      path: req.url,
      executionId: req.headers['x-n8n-execution-id'],
      workflowId: req.headers['x-n8n-workflow-id'],
      workflowName: req.headers['x-n8n-workflow-name'],
      key: req.headers['idempotency-key'],
    });
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${proxy.address().port}`;
});

after(async () => {
  proxy?.closeAllConnections();
  await new Promise((resolve) => proxy?.close(resolve));
  await ledger?.stop();
  await emulator?.stop();
});

const credential = () => ({ baseUrl: `${proxyUrl}/`, apiToken: owner.apiToken });
const llc = () => owner.entities['Acme LLC'];
const person = () => owner.entities['Sam Owner'];

async function balances(entityId) {
  const result = await owner.call('GET', `/entities/${entityId}/accounts`, undefined, { token: owner.session });
  return Object.fromEntries(result.body.items.map((account) => [account.name, account.balanceCents]));
}

function run(node, items = [{}], executionId) {
  return runNode(pack, { items, node, credential: credential(), ...(executionId ? { executionId } : {}) });
}

describe('Veil Transfer', () => {
  it('books a capital contribution across the veil and outputs the transfer, both entries and the document', async () => {
    const { error, outputs } = await run({
      type: 'veilTransfer',
      parameters: {
        resource: 'transfer',
        operation: 'create',
        classification: 'capital_contribution',
        fromEntityId: person().id,
        fromAccountId: person().accounts['Personal Checking'],
        toEntityId: llc().id,
        toAccountId: llc().accounts.Checking,
        amountCents: 500000,
        postedOn: '2026-06-01T00:00:00.000Z',
        options: { memo: 'Seed capital' },
      },
    });
    assert.equal(error, undefined, error?.message);
    const [transfer] = outputs[0];
    assert.equal(transfer.json.classification, 'capital_contribution');
    assert.equal(transfer.json.amountCents, 500000);
    assert.equal(transfer.json.postedOn, '2026-06-01');
    assert.ok(transfer.json.fromEntry.id && transfer.json.toEntry.id && transfer.json.document.id);
    assert.deepEqual(transfer.pairedItem, { item: 0 });
    assert.equal((await balances(llc().id)).Checking, 500000);
  });

  it('a retried execution (same execution id) books once; a new execution books again', async () => {
    const node = {
      type: 'veilTransfer',
      parameters: {
        resource: 'transfer',
        operation: 'create',
        classification: 'owner_draw',
        fromEntityId: llc().id,
        fromAccountId: llc().accounts.Checking,
        toEntityId: person().id,
        toAccountId: person().accounts['Personal Checking'],
        amountCents: 10000,
        postedOn: '2026-06-05',
      },
    };
    requests.length = 0;
    const first = await run(node, [{}], 'exec-draw-1');
    const retry = await run(node, [{}], 'exec-draw-1');
    assert.equal(first.error, undefined, first.error?.message);
    assert.equal(retry.outputs[0][0].json.id, first.outputs[0][0].json.id);
    const writes = requests.filter((request) => request.method === 'POST');
    assert.equal(writes.length, 2);
    assert.equal(writes[0].key, writes[1].key, 'the same execution, node and item give the same Idempotency-Key');
    assert.equal(writes[0].executionId, 'exec-draw-1');
    // The workflow travels with the execution id (the ledger records it for the execution).
    assert.deepEqual([writes[0].workflowId, writes[0].workflowName], ['wf-inprocess', 'in-process']);
    assert.equal((await balances(llc().id)).Checking, 490000, 'booked once');
    await run(node, [{}], 'exec-draw-2');
    assert.equal((await balances(llc().id)).Checking, 480000, 'another execution is another draw');
  });

  it('books many same-entity moves in one batched request, paired with their items', async () => {
    requests.length = 0;
    const items = [{ cents: 1000 }, { cents: 2000 }, { cents: 3000 }];
    const { error, outputs } = await run(
      {
        type: 'veilTransfer',
        parameters: {
          resource: 'move',
          operation: 'create',
          entityId: llc().id,
          moveFromAccountId: llc().accounts.Checking,
          moveToAccountId: llc().accounts.Savings,
          description: '={{ "Save " + $json.cents }}',
          amountCents: '={{ $json.cents }}',
          postedOn: '2026-06-06',
        },
      },
      items,
      'exec-moves-1',
    );
    assert.equal(error, undefined, error?.message);
    assert.deepEqual(requests.map((request) => `${request.method} ${request.path}`), [`POST /entities/${llc().id}/entries/batch`]);
    assert.deepEqual(outputs[0].map((item) => item.json.description), ['Save 1000', 'Save 2000', 'Save 3000']);
    assert.deepEqual(outputs[0].map((item) => item.pairedItem), [{ item: 0 }, { item: 1 }, { item: 2 }]);
    assert.equal((await balances(llc().id)).Savings, 6000);
    // The retry replays: nothing more is booked.
    await run({ type: 'veilTransfer', parameters: { resource: 'move', operation: 'create', entityId: llc().id, moveFromAccountId: llc().accounts.Checking, moveToAccountId: llc().accounts.Savings, description: '={{ "Save " + $json.cents }}', amountCents: '={{ $json.cents }}', postedOn: '2026-06-06' } }, items, 'exec-moves-1');
    assert.equal((await balances(llc().id)).Savings, 6000);
  });

  it("turns the ledger's error body into a NodeApiError carrying its code and message", async () => {
    const { error } = await run({
      type: 'veilTransfer',
      parameters: {
        resource: 'transfer',
        operation: 'create',
        classification: 'capital_contribution',
        fromEntityId: llc().id,
        fromAccountId: llc().accounts.Checking,
        toEntityId: person().id,
        toAccountId: person().accounts['Personal Checking'],
        amountCents: 100000,
        postedOn: '2026-06-07',
      },
    });
    assert.ok(error, 'a capital contribution from the LLC to its owner is refused');
    assert.equal(error.name, 'NodeApiError');
    assert.match(error.message, /^\[veil_direction_invalid\] /);
    assert.equal(error.httpCode, '422');
    assert.equal(error.context.ledgerCode, 'veil_direction_invalid');
  });

  it('with continueOnFail, a rejected batch gives each item its own error and books nothing', async () => {
    const before = await balances(llc().id);
    const { error, outputs } = await run(
      {
        type: 'veilTransfer',
        continueOnFail: true,
        parameters: {
          resource: 'move',
          operation: 'create',
          entityId: llc().id,
          moveFromAccountId: '={{ $json.from }}',
          moveToAccountId: llc().accounts.Savings,
          description: 'Partly bad',
          amountCents: 100,
          postedOn: '2026-06-08',
        },
      },
      [{ from: llc().accounts.Checking }, { from: '00000000-0000-4000-8000-000000000000' }],
    );
    assert.equal(error, undefined);
    assert.equal(outputs[0].length, 2);
    assert.equal(outputs[0][1].json.code, 'not_found');
    assert.match(outputs[0][0].json.error, /batch_rejected|nothing was written/);
    assert.deepEqual(await balances(llc().id), before);
  });

  it('a dry run asks Entity Guard and books nothing', async () => {
    const before = await balances(llc().id);
    const { error, outputs } = await run({
      type: 'veilTransfer',
      parameters: {
        resource: 'transfer',
        operation: 'create',
        classification: 'owner_draw',
        fromEntityId: llc().id,
        fromAccountId: llc().accounts.Checking,
        toEntityId: person().id,
        toAccountId: person().accounts['Personal Checking'],
        amountCents: 2500,
        postedOn: '2026-06-09',
        options: { dryRun: true },
      },
    });
    assert.equal(error, undefined, error?.message);
    assert.equal(outputs[0][0].json.dryRun, true);
    assert.ok(['allow', 'document', 'block'].includes(outputs[0][0].json.verdict.decision));
    assert.deepEqual(await balances(llc().id), before);
  });
});

describe('Veil Entity Guard', () => {
  it('sends each item to the allow, document or block output with the reasons', async () => {
    const { error, outputs } = await run(
      {
        type: 'veilEntityGuard',
        parameters: {
          resource: 'verdict',
          operation: 'evaluateMovement',
          sourceAccountId: '={{ $json.source }}',
          targetAccountId: '={{ $json.target }}',
          amountCents: 2000,
        },
      },
      [
        { label: 'software', source: llc().accounts.Checking, target: llc().accounts.Software },
        { label: 'personal card pays LLC software', source: person().accounts['Personal Card'], target: llc().accounts.Software },
        { label: 'unclassified crossing', source: llc().accounts.Checking, target: person().accounts['Personal Checking'] },
      ],
    );
    assert.equal(error, undefined, error?.message);
    assert.deepEqual(outputs.map((output) => output.map((item) => item.json.label)), [['software'], ['personal card pays LLC software'], ['unclassified crossing']]);
    assert.equal(outputs[2][0].json.guard.reasons[0].code, 'crossing_unclassified');
    assert.deepEqual(outputs[1][0].pairedItem, { item: 1 });
  });

  it('with continueOnFail, an item that cannot be judged leaves on the block output with its error', async () => {
    const { outputs } = await run(
      { type: 'veilEntityGuard', continueOnFail: true, parameters: { resource: 'verdict', operation: 'evaluateBankLine', accountId: '00000000-0000-4000-8000-000000000000', amountCents: -500 } },
    );
    assert.equal(outputs[2][0].json.code, 'not_found');
  });
});

describe('Veil API credential and Veil Trigger', () => {
  it('the credential authenticates with a bearer token and its test request is an authenticated route', async () => {
    const definition = pack.credentials.veilApi;
    assert.equal(definition.test.request.url, '/auth/me');
    const me = await fetch(`${ledger.baseUrl}${definition.test.request.url}`, { headers: { Authorization: `Bearer ${owner.apiToken}` } });
    assert.equal(me.status, 200);
    const refused = await fetch(`${ledger.baseUrl}/auth/me`, { headers: { Authorization: 'Bearer veil_wrong' } });
    assert.equal(refused.status, 401);
  });

  it('the trigger accepts a fresh signature over timestamp.body and refuses forged or stale ones', async () => {
    const { signatureValid } = await import('../../dist/nodes/Trigger/VeilTrigger.node.js');
    const secret = 'whsec_test';
    const body = JSON.stringify({ id: 'e1', type: 'entry.posted' });
    const now = Math.floor(Date.now() / 1000);
    const sign = (t, text = body, key = secret) => `t=${t},v1=${createHmac('sha256', key).update(`${t}.${text}`).digest('hex')}`;
    assert.equal(signatureValid(secret, body, sign(now), now), true);
    assert.equal(signatureValid(secret, body, sign(now, body, 'whsec_other'), now), false);
    assert.equal(signatureValid(secret, `${body} `, sign(now), now), false);
    assert.equal(signatureValid(secret, body, sign(now - 301), now), false);
    assert.equal(signatureValid(secret, body, undefined, now), false);
    assert.equal(signatureValid(secret, body, 'v1=abc', now), false);
  });

  it('every node is usable as an AI tool except the trigger, and each declares its credential', () => {
    for (const [name, node] of Object.entries(pack.nodes)) {
      assert.equal(node.description.credentials[0].name, 'veilApi', name);
      assert.equal(node.description.usableAsTool === true, name !== 'veilTrigger', name);
    }
    assert.deepEqual(Object.keys(pack.nodes).sort(), ['veilAllocate', 'veilEntityGuard', 'veilExecution', 'veilPayBill', 'veilPlaidAccount', 'veilTransfer', 'veilTrigger']);
  });
});

describe('Veil Execution', () => {
  const report = { type: 'veilExecution', parameters: { resource: 'execution', operation: 'reportSuccess' } };
  const execution = async (executionId) => (await owner.call('GET', `/executions/${executionId}`, undefined, { token: owner.session })).body;

  it('records the execution that booked as succeeded, with its workflow, in one request whatever the items', async () => {
    const move = {
      type: 'veilTransfer',
      parameters: { resource: 'move', operation: 'create', entityId: llc().id, moveFromAccountId: llc().accounts.Checking, moveToAccountId: llc().accounts.Savings, amountCents: 100, postedOn: '2026-06-07' },
    };
    const booked = await run(move, [{}], 'exec-report-1');
    assert.equal(booked.error, undefined, booked.error?.message);
    assert.equal((await execution('exec-report-1')).status, 'running');
    requests.length = 0;
    const { error, outputs } = await run(report, [{ a: 1 }, { a: 2 }, { a: 3 }], 'exec-report-1');
    assert.equal(error, undefined, error?.message);
    const writes = requests.filter((request) => request.method === 'POST');
    assert.deepEqual(writes.map((request) => [request.path, request.executionId]), [['/executions/exec-report-1/status', 'exec-report-1']]);
    assert.ok(writes[0].key, 'sent with an Idempotency-Key');
    assert.equal(outputs[0].length, 1);
    assert.deepEqual(outputs[0][0].pairedItem, [{ item: 0 }, { item: 1 }, { item: 2 }]);
    assert.deepEqual(
      [outputs[0][0].json.recorded, outputs[0][0].json.status, outputs[0][0].json.workflowId, outputs[0][0].json.workflowName],
      [true, 'succeeded', 'wf-inprocess', 'in-process'],
    );
    const recorded = await execution('exec-report-1');
    assert.deepEqual([recorded.status, recorded.workflowId, recorded.failedAt], ['succeeded', 'wf-inprocess', null]);
    // A retried execution replays the report instead of failing.
    const retry = await run(report, [{}], 'exec-report-1');
    assert.equal(retry.error, undefined, retry.error?.message);
    assert.equal(retry.outputs[0][0].json.status, 'succeeded');
  });

  it('an execution that booked nothing has nothing to report: the node passes, recorded false', async () => {
    const { error, outputs } = await run(report, [{}], 'exec-report-nothing');
    assert.equal(error, undefined, error?.message);
    assert.deepEqual(outputs[0][0].json, { executionId: 'exec-report-nothing', recorded: false });
  });

  it('a rolled-back execution stays rolled back: the report fails with the ledger code', async () => {
    const move = {
      type: 'veilTransfer',
      parameters: { resource: 'move', operation: 'create', entityId: llc().id, moveFromAccountId: llc().accounts.Checking, moveToAccountId: llc().accounts.Savings, amountCents: 100, postedOn: '2026-06-07' },
    };
    await run(move, [{}], 'exec-report-2');
    const rollback = await owner.call('POST', '/executions/exec-report-2/rollback', {}, { token: owner.session, key: key() });
    assert.equal(rollback.status, 200, JSON.stringify(rollback.body));
    const { error } = await run(report, [{}], 'exec-report-2');
    assert.match(error?.message ?? '', /^\[execution_rolled_back\]/);
    assert.equal((await execution('exec-report-2')).status, 'rolled_back');
  });
});

// ---- Allocate, Pay Bill, Plaid Account ----

const budgetBooks = () => owner.entities['Budget LLC'];
const session = (method, urlPath, body, idempotent = method !== 'GET') => owner.call(method, urlPath, body, { token: owner.session, ...(idempotent ? { key: key() } : {}) });
const isoDay = (offsetDays) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

async function expectCreated(promise, what) {
  const result = await promise;
  assert.ok(result.status === 200 || result.status === 201, `${what}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

describe('Veil Allocate', () => {
  const month = isoDay(0).slice(0, 7);
  const envelope = {};
  let incomeEntryId;

  async function assigned() {
    const result = await session('GET', `/entities/${budgetBooks().id}/budget/${month}`);
    assert.equal(result.status, 200);
    return Object.fromEntries(result.body.groups.flatMap((group) => group.envelopes.filter((line) => line.kind === 'category').map((line) => [line.name, line.assignedCents])));
  }
  const allocate = (parameters, executionId, extra = {}) =>
    run({ type: 'veilAllocate', ...extra, parameters: { resource: 'allocation', operation: 'run', entityId: budgetBooks().id, month, ...parameters } }, [{}], executionId);

  before(async () => {
    const books = budgetBooks();
    const group = await expectCreated(session('POST', `/entities/${books.id}/envelope-groups`, { name: 'Operating' }), 'group');
    for (const name of ['Rent', 'Taxes', 'Buffer']) {
      envelope[name] = (await expectCreated(session('POST', `/entities/${books.id}/envelopes`, { name, groupId: group.id, categoryAccountIds: [books.accounts[name]] }), name)).id;
    }
    await expectCreated(
      session('PUT', `/entities/${books.id}/allocation-rules`, {
        rules: [
          { kind: 'percent', envelopeId: envelope.Taxes, basisPoints: 2500 },
          { kind: 'fixed', envelopeId: envelope.Rent, amountCents: 50_000 },
          { kind: 'remainder', envelopeId: envelope.Buffer },
        ],
      }),
      'rules',
    );
    const post = (description, postings) => expectCreated(session('POST', `/entities/${books.id}/entries`, { postedOn: isoDay(0), description, postings }), description);
    await post('Opening', [{ accountId: books.accounts.Checking, amountCents: 100_000 }, { accountId: books.accounts.Opening, amountCents: -100_000 }]);
    incomeEntryId = (await post('Client paid', [{ accountId: books.accounts.Checking, amountCents: 200_000 }, { accountId: books.accounts.Sales, amountCents: -200_000 }])).id;
  });

  it('a dry run of an amount shows every line and what is left, and assigns nothing', async () => {
    const { error, outputs } = await allocate({ source: 'amount', amountCents: 100_000, dryRun: true });
    assert.equal(error, undefined, error?.message);
    const [result] = outputs[0];
    assert.equal(result.json.dryRun, true);
    assert.equal(result.json.id, null);
    assert.deepEqual(result.json.lines.map((line) => [line.envelopeName, line.amountCents]), [['Taxes', 25_000], ['Rent', 50_000], ['Buffer', 25_000]]);
    assert.equal(result.json.leftoverCents, 0);
    assert.deepEqual(result.pairedItem, { item: 0 });
    assert.deepEqual(await assigned(), { Rent: 0, Taxes: 0, Buffer: 0 });
  });

  it('runs on an amount and assigns it in the month; a retried execution replays instead of assigning twice', async () => {
    const first = await allocate({ source: 'amount', amountCents: 100_000 }, 'exec-allocate-1');
    assert.equal(first.error, undefined, first.error?.message);
    assert.equal(first.outputs[0][0].json.dryRun, false);
    assert.ok(first.outputs[0][0].json.id);
    assert.deepEqual(await assigned(), { Rent: 50_000, Taxes: 25_000, Buffer: 25_000 });
    const retry = await allocate({ source: 'amount', amountCents: 100_000 }, 'exec-allocate-1');
    assert.equal(retry.outputs[0][0].json.id, first.outputs[0][0].json.id);
    assert.deepEqual(await assigned(), { Rent: 50_000, Taxes: 25_000, Buffer: 25_000 });
  });

  it('runs on an income entry once: another execution for the same entry is refused with the ledger code', async () => {
    const applied = await allocate({ source: 'entry', sourceEntryId: incomeEntryId }, 'exec-allocate-entry-1');
    assert.equal(applied.error, undefined, applied.error?.message);
    assert.equal(applied.outputs[0][0].json.incomeCents, 200_000);
    assert.equal(applied.outputs[0][0].json.sourceEntryId, incomeEntryId);
    assert.deepEqual(await assigned(), { Rent: 100_000, Taxes: 75_000, Buffer: 125_000 });
    const again = await allocate({ source: 'entry', sourceEntryId: incomeEntryId }, 'exec-allocate-entry-2', { continueOnFail: true });
    assert.equal(again.error, undefined);
    assert.equal(again.outputs[0][0].json.code, 'already_allocated');
    assert.deepEqual(await assigned(), { Rent: 100_000, Taxes: 75_000, Buffer: 125_000 });
  });

  it('runs rules given in the node instead of the saved ones, which stay as they were', async () => {
    const saved = await session('GET', `/entities/${budgetBooks().id}/allocation-rules`);
    const { error, outputs } = await allocate({
      source: 'amount',
      amountCents: 5_000,
      dryRun: true,
      ruleSource: 'node',
      rules: { rule: [{ kind: 'fixed', envelopeId: envelope.Taxes, amountCents: 1_000 }, { kind: 'percent', envelopeId: envelope.Buffer, basisPoints: 1_000 }, { kind: 'remainder', envelopeId: envelope.Rent }] },
    });
    assert.equal(error, undefined, error?.message);
    assert.deepEqual(outputs[0][0].json.lines.map((line) => [line.envelopeName, line.kind, line.amountCents]), [['Taxes', 'fixed', 1_000], ['Buffer', 'percent', 500], ['Rent', 'remainder', 3_500]]);
    assert.deepEqual((await session('GET', `/entities/${budgetBooks().id}/allocation-rules`)).body, saved.body);
    const none = await allocate({ source: 'amount', amountCents: 5_000, dryRun: true, ruleSource: 'node', rules: {} });
    assert.equal(none.error?.name, 'NodeOperationError');
    assert.match(none.error.message, /at least one rule/);
  });

  it('refuses an amount that is not a positive whole number of cents before calling the ledger', async () => {
    requests.length = 0;
    const { error } = await allocate({ source: 'amount', amountCents: 12.5 });
    assert.equal(error?.name, 'NodeOperationError');
    assert.match(error.message, /positive whole number of cents/);
    assert.deepEqual(requests.filter((request) => request.method === 'POST'), []);
  });

  it('lists the envelopes of an entity, one item each, paired with the input item', async () => {
    const { error, outputs } = await run({ type: 'veilAllocate', parameters: { resource: 'envelope', operation: 'getAll', entityId: budgetBooks().id } });
    assert.equal(error, undefined, error?.message);
    assert.deepEqual(outputs[0].map((item) => item.json.name).sort(), ['Buffer', 'Rent', 'Taxes']);
    assert.ok(outputs[0].every((item) => item.pairedItem.item === 0));
  });
});

describe('Veil Pay Bill', () => {
  // Every 10 days from 15 days ago: due 15 and 5 days ago (late), in 5 days (due), in 15 and 25 days (upcoming)…
  const dates = { lateOld: isoDay(-15), late: isoDay(-5), soon: isoDay(5), later: isoDay(15) };
  let billId;

  const payBill = (parameters, executionId, extra = {}) => run({ type: 'veilPayBill', ...extra, parameters: { resource: 'occurrence', entityId: budgetBooks().id, ...parameters } }, [{}], executionId);
  const balancesOf = async () => balances(budgetBooks().id);

  before(async () => {
    const books = budgetBooks();
    billId = (
      await expectCreated(
        session('POST', `/entities/${books.id}/bills`, {
          name: 'Internet',
          payee: 'Fiber Co',
          rrule: 'FREQ=DAILY;INTERVAL=10',
          startsOn: dates.lateOld,
          amountCents: 6_000,
          estimated: false,
          categoryAccountId: books.accounts.Internet,
          payFromAccountId: books.accounts.Checking,
          autopay: false,
        }),
        'bill',
      )
    ).id;
  });

  it('lists the occurrences due from today through N days ahead, with their status', async () => {
    const week = await payBill({ operation: 'getAll', withinDays: 7 });
    assert.equal(week.error, undefined, week.error?.message);
    assert.deepEqual(week.outputs[0].map((item) => [item.json.dueOn, item.json.status]), [[dates.soon, 'due']]);
    const twenty = await payBill({ operation: 'getAll', withinDays: 20 });
    assert.deepEqual(twenty.outputs[0].map((item) => [item.json.dueOn, item.json.status]), [[dates.soon, 'due'], [dates.later, 'upcoming']]);
    assert.equal(twenty.outputs[0][0].json.billId, billId);
  });

  it('pays one occurrence from a chosen account with the real amount; a retry replays, another execution is refused', async () => {
    const before = await balancesOf();
    const parameters = { operation: 'pay', billId, dueOn: `${dates.later}T00:00:00.000Z`, fromAccountId: budgetBooks().accounts.Savings, amountCents: 6_150 };
    const paid = await payBill(parameters, 'exec-pay-1');
    assert.equal(paid.error, undefined, paid.error?.message);
    const { occurrence, entry } = paid.outputs[0][0].json;
    assert.deepEqual([occurrence.dueOn, occurrence.status, occurrence.amountCents, occurrence.entryId], [dates.later, 'paid', 6_150, entry.id]);
    const after = await balancesOf();
    assert.deepEqual([after.Savings - before.Savings, after.Internet - before.Internet, after.Checking - before.Checking], [-6_150, 6_150, 0]);

    const retry = await payBill(parameters, 'exec-pay-1');
    assert.equal(retry.outputs[0][0].json.entry.id, entry.id);
    const again = await payBill(parameters, 'exec-pay-2', { continueOnFail: true });
    assert.equal(again.outputs[0][0].json.code, 'bill_occurrence_settled');
    assert.deepEqual(await balancesOf(), after);
  });

  it('pays every unpaid occurrence due within N days, overdue included, and a re-run pays nothing more', async () => {
    const before = await balancesOf();
    const { error, outputs } = await payBill({ operation: 'payDue', withinDays: 7 }, 'exec-pay-due-1');
    assert.equal(error, undefined, error?.message);
    assert.deepEqual(outputs[0].map((item) => [item.json.occurrence.dueOn, item.json.occurrence.status]), [[dates.lateOld, 'paid'], [dates.late, 'paid'], [dates.soon, 'paid']]);
    assert.ok(outputs[0].every((item) => item.pairedItem.item === 0 && item.json.entry.id));
    const after = await balancesOf();
    assert.equal(after.Checking - before.Checking, -18_000);
    assert.equal(after.Internet - before.Internet, 18_000);

    for (const executionId of ['exec-pay-due-1', 'exec-pay-due-2']) {
      const rerun = await payBill({ operation: 'payDue', withinDays: 7 }, executionId);
      assert.equal(rerun.error, undefined, rerun.error?.message);
      assert.deepEqual(rerun.outputs[0] ?? [], []);
    }
    assert.deepEqual(await balancesOf(), after);
    const tooFar = await payBill({ operation: 'payDue', withinDays: 400 });
    assert.equal(tooFar.error?.name, 'NodeOperationError');
    assert.match(tooFar.error.message, /Within Days must be a whole number from 0 to 366/);
    const listed = await session('GET', `/entities/${budgetBooks().id}/bill-occurrences?from=${dates.lateOld}&to=${dates.later}`);
    assert.deepEqual(listed.body.occurrences.map((occurrence) => occurrence.status), ['paid', 'paid', 'paid', 'paid']);
  });
});

describe('Veil Plaid Account', () => {
  let item;
  const bank = () => owner.entities['Bank LLC'];
  const plaidNode = (parameters, executionId) => run({ type: 'veilPlaidAccount', parameters: { resource: 'item', entityId: bank().id, ...parameters } }, [{}], executionId);

  before(async () => {
    // What Plaid Link does for a user: a public token for a sandbox login, exchanged by the ledger.
    const created = await emulator.plaid('/sandbox/public_token/create', { institution_id: 'ins_109511', initial_products: ['transactions'], options: { override_username: 'user_llc' } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    item = await expectCreated(session('POST', '/plaid/items', { entityId: bank().id, publicToken: created.body.public_token }), 'link');
  });

  it('lists the entity items with their accounts', async () => {
    const { error, outputs } = await plaidNode({ operation: 'getAll' });
    assert.equal(error, undefined, error?.message);
    assert.equal(outputs[0].length, 1);
    assert.equal(outputs[0][0].json.id, item.id);
    assert.equal(outputs[0][0].json.institutionName, 'Tartan Bank');
    assert.ok(outputs[0][0].json.accounts.length > 0);
  });

  it('gets the live balances of an item', async () => {
    const { error, outputs } = await plaidNode({ operation: 'getBalances', itemId: item.id });
    assert.equal(error, undefined, error?.message);
    const [result] = outputs[0];
    assert.equal(result.json.id, item.id);
    assert.deepEqual(result.json.accounts.map((account) => account.plaidAccountId).sort(), item.accounts.map((account) => account.plaidAccountId).sort());
    assert.ok(result.json.accounts.every((account) => Number.isSafeInteger(account.currentCents)));
    const missing = await plaidNode({ operation: 'getBalances', itemId: '' });
    assert.equal(missing.error?.name, 'NodeOperationError');
    assert.match(missing.error.message, /needs an item/);
  });

  it("syncs every item of the entity and outputs each new bank line once; a second sync outputs none", async () => {
    const first = await plaidNode({ operation: 'sync', itemId: '' }, 'exec-sync-1');
    assert.equal(first.error, undefined, first.error?.message);
    const lines = first.outputs[0];
    assert.ok(lines.length > 0, 'the sandbox login has transactions');
    assert.ok(lines.every((line) => line.json.itemId === item.id && line.pairedItem.item === 0));
    assert.equal(new Set(lines.map((line) => line.json.id)).size, lines.length);
    // Every line the node output is in the ledger's bank lines of the linked accounts, and nothing else is.
    let stored = 0;
    for (const account of item.accounts) {
      for (let cursor = ''; ; ) {
        const page = await session('GET', `/accounts/${account.accountId}/bank-lines?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        stored += page.body.items.length;
        if (!page.body.nextCursor) break;
        cursor = page.body.nextCursor;
      }
    }
    assert.equal(stored, lines.length);

    const second = await plaidNode({ operation: 'sync', itemId: item.id }, 'exec-sync-2');
    assert.equal(second.error, undefined, second.error?.message);
    assert.deepEqual(second.outputs[0] ?? [], []);
  });
});

describe('Veil Plaid Account: liabilities, investments, Link token', () => {
  let item;
  const investor = () => owner.entities.Investor;
  const plaidNode = (parameters, executionId) => run({ type: 'veilPlaidAccount', parameters: { resource: 'item', entityId: investor().id, ...parameters } }, [{}], executionId);

  before(async () => {
    const created = await emulator.plaid('/sandbox/public_token/create', { institution_id: 'ins_109508', initial_products: ['transactions', 'liabilities', 'investments'], options: { override_username: 'user_good' } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    item = await expectCreated(session('POST', '/plaid/items', { entityId: investor().id, publicToken: created.body.public_token }), 'link');
  });

  it('creates a Link token for the entity', async () => {
    const { error, outputs } = await plaidNode({ operation: 'createLinkToken' });
    assert.equal(error, undefined, error?.message);
    assert.match(outputs[0][0].json.linkToken, /^link-sandbox-/);
    assert.ok(outputs[0][0].json.expiration);
  });

  it('refreshes liabilities of every item: one bill per card and loan, the same bills when run again', async () => {
    const first = await plaidNode({ operation: 'refreshLiabilities', itemId: '' }, 'exec-liabilities-1');
    assert.equal(first.error, undefined, first.error?.message);
    assert.equal(first.outputs[0].length, 1);
    const report = first.outputs[0][0].json;
    assert.equal(report.itemId, item.id);
    assert.deepEqual(report.bills.map((bill) => bill.kind).sort(), ['credit', 'mortgage', 'student']);
    const card = report.bills.find((bill) => bill.kind === 'credit');
    assert.equal(card.interestRateBps, 1524);
    assert.ok(Number.isSafeInteger(card.minimumPaymentCents) && card.minimumPaymentCents > 0);
    const bills = await session('GET', `/entities/${investor().id}/bills`);
    assert.equal(bills.body.bills.length, 3);
    const again = await plaidNode({ operation: 'refreshLiabilities', itemId: item.id }, 'exec-liabilities-2');
    assert.equal(again.error, undefined, again.error?.message);
    assert.deepEqual(again.outputs[0][0].json.bills.map((bill) => bill.billId).sort(), report.bills.map((bill) => bill.billId).sort());
    assert.equal((await session('GET', `/entities/${investor().id}/bills`)).body.bills.length, 3);
  });

  it('refreshes investments: holdings and investment transactions stored once', async () => {
    const first = await plaidNode({ operation: 'refreshInvestments', itemId: item.id }, 'exec-investments-1');
    assert.equal(first.error, undefined, first.error?.message);
    const report = first.outputs[0][0].json;
    assert.equal(report.holdings, 6);
    assert.ok(report.transactionsAdded > 0);
    assert.equal(report.transactionsAdded, report.transactionsSeen);
    const second = await plaidNode({ operation: 'refreshInvestments', itemId: '' }, 'exec-investments-2');
    assert.equal(second.error, undefined, second.error?.message);
    assert.equal(second.outputs[0][0].json.transactionsAdded, 0);
    const holdings = await session('GET', `/entities/${investor().id}/holdings`);
    assert.equal(holdings.body.accounts.flatMap((account) => account.holdings).length, 6);
  });
});

describe('drop-downs (loadOptions) of Allocate, Pay Bill and Plaid Account', () => {
  const options = (type, method, parameters) => loadOptions(pack, { type, method, parameters, credential: credential() });

  it('every node that names an entity lists the entities the token may read', async () => {
    for (const type of ['veilAllocate', 'veilPayBill', 'veilPlaidAccount']) {
      assert.equal(pack.nodes[type].methods.loadOptions.getEntities, pack.nodes.veilTransfer.methods.loadOptions.getEntities, `${type} shares getEntities`);
    }
    const entities = await options('veilAllocate', 'getEntities');
    assert.deepEqual(entities.map((option) => option.name), ['Acme LLC (llc)', 'Bank LLC (llc)', 'Budget LLC (llc)', 'Investor (personal)', 'Sam Owner (personal)']);
    assert.equal(entities.find((option) => option.name.startsWith('Budget'))?.value, budgetBooks().id);
  });

  it("Allocate lists the chosen entity's envelopes, Pay Bill its bills and accounts, Plaid Account its items", async () => {
    const envelopes = await options('veilAllocate', 'getEnvelopes', { entityId: budgetBooks().id });
    assert.deepEqual(envelopes.map((option) => option.name), ['Buffer', 'Rent', 'Taxes']);
    const bills = await options('veilPayBill', 'getBills', { entityId: budgetBooks().id });
    assert.deepEqual(bills.map((option) => option.name), ['Internet']);
    assert.deepEqual(await options('veilPayBill', 'getBills', { entityId: '' }), [], 'nothing before an entity is chosen');
    const accounts = await options('veilPayBill', 'getAccounts', { entityId: budgetBooks().id });
    assert.ok(accounts.some((option) => option.name === 'Checking (checking)' && option.value === budgetBooks().accounts.Checking));
    const items = await options('veilPlaidAccount', 'getPlaidItems', { entityId: owner.entities['Bank LLC'].id });
    assert.deepEqual(items.map((option) => option.name), ['Tartan Bank (healthy)']);
  });
});
