// The pack's nodes executed in-process by n8n-core 2.41.1 (WorkflowExecute) against a real ledger process, through
// a counting proxy so the tests see how many requests the nodes make.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { provisionOwner, startLedger } from '../../scripts/n8n/ledger.mjs';
import { loadPack, runNode } from './support/inprocess.mjs';

let ledger;
let owner;
let pack;
let proxy;
let proxyUrl;
const requests = [];

before(async () => {
  ledger = await startLedger();
  owner = await provisionOwner(ledger.baseUrl, {
    'Acme LLC': { kind: 'llc', accounts: { Checking: 'checking', Savings: 'savings', Software: 'expense_category' } },
    'Sam Owner': { kind: 'personal', accounts: { 'Personal Checking': 'checking', 'Personal Card': 'credit_card' } },
  });
  pack = loadPack();
  const target = new URL(ledger.baseUrl);
  proxy = http.createServer((req, res) => {
    requests.push({ method: req.method, path: req.url, executionId: req.headers['x-n8n-execution-id'], key: req.headers['idempotency-key'] });
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
    assert.deepEqual(Object.keys(pack.nodes).sort(), ['veilAllocate', 'veilEntityGuard', 'veilPayBill', 'veilPlaidAccount', 'veilTransfer', 'veilTrigger']);
  });
});
