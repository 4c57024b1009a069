// Moving real money through Plaid Transfer from the Transfer and Pay Bill nodes, the Plaid Account node's Link
// tokens and its paged sync, and Entity Guard's auto-applied fix: executed in-process by n8n-core 2.41.1
// (WorkflowExecute) against a real ledger process that talks to the bundled Plaid emulator.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { key, provisionOwner, startLedger, startPlaidEmulator } from '../../scripts/n8n/ledger.mjs';
import { loadPack, runNode } from './support/inprocess.mjs';

let ledger;
let emulator;
let owner;
let pack;
let proxy;
let proxyUrl;
const requests = [];
/** Veil account ids of linked accounts by Plaid account name, per entity name; Plaid item ids by entity name. */
const linked = {};
const items = {};

const session = (method, urlPath, body, idempotent = method !== 'GET') => owner.call(method, urlPath, body, { token: owner.session, ...(idempotent ? { key: key() } : {}) });

async function expectOk(promise, what) {
  const result = await promise;
  assert.ok(result.status === 200 || result.status === 201, `${what}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

async function link(entityName, username, institutionId) {
  const publicToken = await emulator.publicToken(username, institutionId);
  const item = await expectOk(session('POST', '/plaid/items', { entityId: owner.entities[entityName].id, publicToken }), `link ${username}`);
  linked[entityName] = Object.fromEntries(item.accounts.map((account) => [account.name, account.accountId]));
  items[entityName] = item;
  return item;
}

before(async () => {
  emulator = await startPlaidEmulator();
  ledger = await startLedger({ env: emulator.ledgerEnv });
  owner = await provisionOwner(ledger.baseUrl, {
    'Money LLC': { kind: 'llc', accounts: { Cash: 'cash', Software: 'expense_category', Utilities: 'expense_category', Groceries: 'expense_category' } },
    'Money Owner': { kind: 'personal', accounts: { Groceries: 'expense_category' } },
    'Bulk LLC': { kind: 'llc', accounts: {} },
  });
  pack = loadPack();
  await link('Money LLC', 'user_llc', 'ins_109511');
  await link('Money Owner', 'user_good', 'ins_109508');
  for (const [name, legalName] of [['Money LLC', 'Money LLC'], ['Money Owner', 'Robin Money']]) {
    await expectOk(session('PUT', `/entities/${owner.entities[name].id}/plaid/transfer-settings`, { enabled: true, legalName }), 'enable Plaid Transfer');
  }
  const target = new URL(ledger.baseUrl);
  proxy = http.createServer((req, res) => {
    requests.push({ method: req.method, path: req.url });
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
const llcId = () => owner.entities['Money LLC'].id;
const ownerId = () => owner.entities['Money Owner'].id;

function run(node, inputItems = [{}], executionId) {
  return runNode(pack, { items: inputItems, node, credential: credential(), ...(executionId ? { executionId } : {}) });
}

/** Plaid's events read by the ledger, as TRANSFER_EVENTS_UPDATE would make it do. */
async function syncTransferEvents() {
  return expectOk(session('POST', '/plaid/transfers/sync-events', undefined, false), 'sync transfer events');
}

describe('Veil Transfer: move real money through Plaid Transfer', () => {
  it('a same-entity move with the option debits the linked checking account; an item without it moves nothing', async () => {
    const checking = linked['Money LLC']['Business Checking'];
    const move = (moveRealMoney) => ({
      resource: 'move',
      operation: 'create',
      entityId: llcId(),
      moveFromAccountId: checking,
      moveToAccountId: owner.entities['Money LLC'].accounts.Cash,
      description: 'Petty cash',
      amountCents: 4_000,
      options: { moveRealMoney },
    });
    const { error, outputs } = await run({ type: 'veilTransfer', parameters: move('={{ $json.real }}') }, [{ real: true }, { real: false }], 'exec-move-real');
    assert.equal(error, undefined, error?.message);
    const [real, ledgerOnly] = outputs[0];
    assert.equal(real.pairedItem.item, 0);
    assert.equal(ledgerOnly.pairedItem.item, 1);
    assert.equal(real.json.moneyMovement.status, 'pending');
    assert.deepEqual(
      real.json.moneyMovement.transfers.map((leg) => [leg.accountId, leg.direction, leg.amountCents, leg.entryId]),
      [[checking, 'debit', 4_000, real.json.id]],
    );
    assert.equal(ledgerOnly.json.moneyMovement, undefined);
    // One batch request per choice: the ledger-only item was not sent to Plaid.
    const listed = await expectOk(session('GET', `/entities/${llcId()}/plaid/transfers`), 'list');
    assert.deepEqual(listed.items.map((leg) => leg.entryId), [real.json.id]);
  });

  it('an owner draw with the option outputs both legs; a refusal from the ledger reaches the item with its code', async () => {
    const draw = (amountCents) => ({
      resource: 'transfer',
      operation: 'create',
      classification: 'owner_draw',
      fromEntityId: llcId(),
      fromAccountId: linked['Money LLC']['Business Checking'],
      toEntityId: ownerId(),
      toAccountId: linked['Money Owner']['Plaid Checking'],
      amountCents,
      options: { moveRealMoney: true },
    });
    const { error, outputs } = await run({ type: 'veilTransfer', parameters: draw(50_000) }, [{}], 'exec-draw-real');
    assert.equal(error, undefined, error?.message);
    const [result] = outputs[0];
    assert.deepEqual(result.json.moneyMovement.transfers.map((leg) => [leg.entityId, leg.direction, leg.amountCents]), [
      [llcId(), 'debit', 50_000],
      [ownerId(), 'credit', 50_000],
    ]);
    // More than the LLC's bank balance: Plaid declines, the ledger books nothing.
    const declined = await run({ type: 'veilTransfer', parameters: draw(90_000_000), continueOnFail: true }, [{}], 'exec-draw-declined');
    assert.equal(declined.error, undefined, declined.error?.message);
    assert.equal(declined.outputs[0][0].json.code, 'plaid_transfer_declined');
  });
});

describe('Veil Pay Bill: pay through Plaid Transfer', () => {
  it('pays pending with a debit; when Plaid fails it the payment is reversed', async () => {
    const checking = linked['Money LLC']['Business Checking'];
    const dueOn = new Date().toISOString().slice(0, 10);
    const bill = await expectOk(
      session('POST', `/entities/${llcId()}/bills`, {
        name: 'Hosting',
        payee: 'Cloud Hosting Inc',
        rrule: 'FREQ=DAILY;INTERVAL=30',
        startsOn: dueOn,
        amountCents: 2_900,
        estimated: false,
        categoryAccountId: owner.entities['Money LLC'].accounts.Software,
        payFromAccountId: checking,
        autopay: false,
      }),
      'bill',
    );
    const { error, outputs } = await run(
      { type: 'veilPayBill', parameters: { resource: 'occurrence', operation: 'pay', entityId: llcId(), billId: bill.id, dueOn, moveRealMoney: true } },
      [{}],
      'exec-pay-real',
    );
    assert.equal(error, undefined, error?.message);
    const [paid] = outputs[0];
    const [leg] = paid.json.moneyMovement.transfers;
    assert.deepEqual([leg.accountId, leg.direction, leg.amountCents, leg.status], [checking, 'debit', 2_900, 'pending']);
    assert.equal(leg.entryId, paid.json.entry.id);

    assert.equal((await emulator.plaid('/sandbox/transfer/simulate', { transfer_id: leg.plaidTransferId, event_type: 'failed' })).status, 200);
    const applied = await syncTransferEvents();
    assert.ok(applied.reversed >= 1, JSON.stringify(applied));
    const entry = await expectOk(session('GET', `/entries/${paid.json.entry.id}`), 'entry');
    assert.ok(entry.reversedByEntryId, 'the failed payment is reversed');
  });
});

describe('Veil Plaid Account: Link tokens and a paged sync', () => {
  it('creates a Link token for a new link, and one in update mode for an item', async () => {
    const created = await run({ type: 'veilPlaidAccount', parameters: { resource: 'item', operation: 'createLinkToken', entityId: llcId(), itemId: '' } });
    assert.equal(created.error, undefined, created.error?.message);
    assert.match(created.outputs[0][0].json.linkToken, /^link-sandbox-/);
    assert.equal(created.outputs[0][0].json.mode, 'create');
    const update = await run({ type: 'veilPlaidAccount', parameters: { resource: 'item', operation: 'createLinkToken', entityId: llcId(), itemId: items['Money LLC'].id } });
    assert.equal(update.error, undefined, update.error?.message);
    assert.match(update.outputs[0][0].json.linkToken, /^link-sandbox-/);
    assert.deepEqual([update.outputs[0][0].json.mode, update.outputs[0][0].json.itemId], ['update', items['Money LLC'].id]);
  });

  it('syncs a large item one Plaid page per request while the ledger says hasMore, and outputs every line once', async () => {
    const bulk = await link('Bulk LLC', 'user_bulk', 'ins_109511');
    const before = requests.length;
    const { error, outputs } = await run({ type: 'veilPlaidAccount', parameters: { resource: 'item', operation: 'sync', entityId: owner.entities['Bulk LLC'].id, itemId: bulk.id } }, [{}], 'exec-bulk-sync');
    assert.equal(error, undefined, error?.message);
    const syncs = requests.slice(before).filter((request) => request.path.startsWith(`/plaid/items/${bulk.id}/sync`));
    assert.ok(syncs.length >= 2, `one request per page: ${syncs.length}`);
    assert.ok(syncs.every((request) => request.path.includes('pagesMax=1')));
    const lines = outputs[0];
    assert.equal(new Set(lines.map((line) => line.json.id)).size, lines.length);
    // 1,000 transactions: exactly the ledger's per-reply limit, which one unpaged request could only just carry.
    assert.equal(lines.length, 1_000);
  });
});

describe('Veil Entity Guard: auto-apply the suggested fix', () => {
  it('rebooks an LLC payment of a personal expense as an owner draw and sends the item to Allow', async () => {
    const checking = linked['Money LLC']['Business Checking'];
    const groceries = owner.entities['Money LLC'].accounts.Groceries;
    const entry = await expectOk(
      session('POST', `/entities/${llcId()}/entries`, {
        postedOn: new Date().toISOString().slice(0, 10),
        description: 'WHOLE FOODS MARKET',
        postings: [
          { accountId: groceries, amountCents: 8_765 },
          { accountId: checking, amountCents: -8_765 },
        ],
      }),
      'commingled entry',
    );
    const guard = (autoFix, fix = {}) => ({
      resource: 'verdict',
      operation: 'evaluateBankLine',
      accountId: checking,
      amountCents: -8_765,
      details: { payee: 'Whole Foods Market', category: 'Groceries' },
      autoFix,
      fix: { entryId: entry.id, ...fix },
    });
    // Without the owner's account the fix cannot be applied: the item stays on its verdict's output, saying why.
    const unfixed = await run({ type: 'veilEntityGuard', parameters: guard(true) }, [{}], 'exec-guard-unfixed');
    assert.equal(unfixed.error, undefined, unfixed.error?.message);
    assert.equal(unfixed.outputs[0]?.length ?? 0, 0);
    const held = [...(unfixed.outputs[1] ?? []), ...(unfixed.outputs[2] ?? [])];
    assert.equal(held.length, 1);
    assert.deepEqual([held[0].json.guard.fix.applied, held[0].json.guard.fix.fix], [false, 'reclassify_as_draw']);

    const fixed = await run({ type: 'veilEntityGuard', parameters: guard(true, { personalAccountId: owner.entities['Money Owner'].accounts.Groceries }) }, [{}], 'exec-guard-fix');
    assert.equal(fixed.error, undefined, fixed.error?.message);
    const [allowed] = fixed.outputs[0];
    assert.equal(allowed.json.guard.fix.applied, true);
    assert.equal(allowed.json.guard.fix.result.reversedEntryId, entry.id);
    assert.equal(allowed.json.guard.fix.result.transfer.classification, 'owner_draw');
    const reversed = await expectOk(session('GET', `/entries/${entry.id}`), 'entry');
    assert.equal(reversed.reversedByEntryId, allowed.json.guard.fix.result.reversalEntryId);
    // A retried execution replays the fix instead of rebooking.
    const retried = await run({ type: 'veilEntityGuard', parameters: guard(true, { personalAccountId: owner.entities['Money Owner'].accounts.Groceries }) }, [{}], 'exec-guard-fix');
    assert.equal(retried.outputs[0][0].json.guard.fix.result.transfer.id, allowed.json.guard.fix.result.transfer.id);
  });
});
