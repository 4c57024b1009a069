// End to end in a real n8n 2.41.1 (Node 24, from the cache scripts/n8n/install.mjs fills): the packed node pack
// installed as a community package, a Veil API credential imported, workflows imported and run with
// `n8n execute --id`, and the Veil Trigger driven through a real activated webhook, all against a real ledger
// process. The books are checked through the ledger's API afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { key, provisionOwner, startLedger } from '../../scripts/n8n/ledger.mjs';
import { createN8n, nodeType, packNodes } from '../../scripts/n8n/runtime.mjs';

let ledger;
let owner;
let n8n;
const CREDENTIAL = { id: 'veilApiCred01', name: 'Veil ledger' };

function balances(entityId) {
  return owner.call('GET', `/entities/${entityId}/accounts`, undefined, { token: owner.session }).then((result) => {
    assert.equal(result.status, 200);
    return Object.fromEntries(result.body.items.map((account) => [account.name, account.balanceCents]));
  });
}

function veilNode(name, type, parameters, position) {
  return { id: `node-${name.replace(/\W/g, '')}`, name, type: nodeType(type), typeVersion: 1, position, parameters, credentials: { veilApi: CREDENTIAL } };
}

before(async () => {
  ledger = await startLedger();
  owner = await provisionOwner(ledger.baseUrl, {
    'Acme LLC': { kind: 'llc', accounts: { Checking: 'checking', Savings: 'savings', Software: 'expense_category' } },
    'Sam Owner': { kind: 'personal', accounts: { 'Personal Checking': 'checking' } },
  });
  n8n = await createN8n();
  await n8n.installPack(packNodes());
  await n8n.importCredentials([{ ...CREDENTIAL, type: 'veilApi', data: { baseUrl: ledger.baseUrl, apiToken: owner.apiToken } }]);
});

after(async () => {
  await ledger?.stop();
  n8n?.cleanup();
});

describe('the node pack in a real n8n 2.41.1', () => {
  it('runs a workflow with `n8n execute`: a capital contribution, a same-entity move, and an Entity Guard block', async () => {
    const llc = owner.entities['Acme LLC'];
    const person = owner.entities['Sam Owner'];
    const workflow = {
      id: 'veilExecWf0001',
      name: 'Veil: fund the LLC and save',
      active: false,
      settings: { executionOrder: 'v1' },
      connections: {
        Start: { main: [[{ node: 'Contribute', type: 'main', index: 0 }]] },
        Contribute: { main: [[{ node: 'Save', type: 'main', index: 0 }]] },
        Save: { main: [[{ node: 'Guard', type: 'main', index: 0 }]] },
      },
      nodes: [
        { id: 'node-start', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
        veilNode('Contribute', 'veilTransfer', {
          resource: 'transfer',
          operation: 'create',
          fromEntityId: person.id,
          fromAccountId: person.accounts['Personal Checking'],
          toEntityId: llc.id,
          toAccountId: llc.accounts.Checking,
          classification: 'capital_contribution',
          amountCents: 100000,
          postedOn: '2026-06-01',
          options: { memo: 'Initial capital' },
        }, [200, 0]),
        veilNode('Save', 'veilTransfer', {
          resource: 'move',
          operation: 'create',
          entityId: llc.id,
          moveFromAccountId: llc.accounts.Checking,
          moveToAccountId: llc.accounts.Savings,
          description: 'Tax reserve',
          amountCents: 25000,
          postedOn: '2026-06-02',
        }, [400, 0]),
        veilNode('Guard', 'veilEntityGuard', {
          resource: 'verdict',
          operation: 'evaluateMovement',
          sourceAccountId: llc.accounts.Checking,
          targetAccountId: person.accounts['Personal Checking'],
          amountCents: 5000,
        }, [600, 0]),
      ],
    };
    await n8n.importWorkflow(workflow);
    const run = await n8n.execute(workflow.id);
    assert.ok(run.ok, run.output);
    assert.ok(run.data?.data?.resultData, `no run data in the CLI output:\n${run.output.slice(-3000)}`);
    const runData = run.data.data.resultData.runData;
    const contribution = runData.Contribute[0].data.main[0][0].json;
    assert.equal(contribution.classification, 'capital_contribution');
    assert.ok(contribution.document, 'a crossing outputs its document');
    const guard = runData.Guard[0].data.main;
    assert.equal(guard[0].length + guard[1].length, 0, 'nothing leaves on allow or document');
    assert.equal(guard[2][0].json.guard.decision, 'block');

    const books = await balances(llc.id);
    assert.deepEqual([books.Checking, books.Savings, books['Member contributions Sam Owner']], [75000, 25000, -100000]);
    assert.equal((await balances(person.id))['Personal Checking'], -100000);
    const entries = await owner.call('GET', `/entities/${llc.id}/entries`, undefined, { token: owner.session });
    const save = entries.body.items.find((entry) => entry.description === 'Tax reserve');
    assert.equal(save.source, 'workflow');
    // The audit trail names the n8n execution that booked it.
    assert.match(save.actor, /n8n execution \d+/);
  });

  it('activates the Veil Trigger (subscribing on the ledger), runs on a posted entry, and unsubscribes on deactivation', async () => {
    const llc = owner.entities['Acme LLC'];
    const workflow = {
      id: 'veilTrigWf0001',
      name: 'Veil: on entry posted',
      active: false,
      settings: { executionOrder: 'v1' },
      connections: {},
      nodes: [
        {
          ...veilNode('On Entry', 'veilTrigger', { events: ['entry.posted'], entityIds: [llc.id] }, [0, 0]),
          webhookId: '5d3f1a8e-7c1b-4f59-9a43-0b6a2a7e8c11',
        },
      ],
    };
    await n8n.importWorkflow(workflow);
    const server = await n8n.start();
    try {
      await server.apiKey();
      await server.activate(workflow.id);
      // Activation registers the webhook (and so runs the node's create hook) shortly after the API answers.
      let subscriptions;
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
        subscriptions = await owner.call('GET', '/webhooks', undefined, { token: owner.apiToken });
        assert.equal(subscriptions.status, 200);
        if (subscriptions.body.items.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.equal(subscriptions.body.items.length, 1, JSON.stringify(subscriptions.body));
      const [subscription] = subscriptions.body.items;
      assert.deepEqual(subscription.events, ['entry.posted']);
      assert.deepEqual(subscription.entityIds, [llc.id]);
      // An unsigned call is refused by the node (and proves the webhook is registered).
      assert.equal(await server.waitForWebhook(subscription.url), 401);

      const posted = await owner.call(
        'POST',
        `/entities/${llc.id}/entries`,
        {
          postedOn: '2026-06-03',
          description: 'Figma seat',
          postings: [
            { accountId: llc.accounts.Software, amountCents: 1500 },
            { accountId: llc.accounts.Checking, amountCents: -1500 },
          ],
        },
        { token: owner.session, key: key() },
      );
      assert.equal(posted.status, 201);
      let executions = [];
      const deadline = Date.now() + 30_000;
      while (executions.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        executions = await server.executions(workflow.id);
      }
      assert.equal(executions.length, 1, 'one execution for one entry');
      const event = executions[0].data.resultData.runData['On Entry'][0].data.main[0][0].json;
      assert.equal(event.type, 'entry.posted');
      assert.equal(event.entityId, llc.id);
      assert.equal(event.data.entry.id, posted.body.id);

      await server.deactivate(workflow.id);
      let remaining;
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
        remaining = (await owner.call('GET', '/webhooks', undefined, { token: owner.apiToken })).body.items;
        if (remaining.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.deepEqual(remaining, []);
    } catch (error) {
      console.error(server.output().slice(-4000));
      throw error;
    } finally {
      await server.stop();
    }
  });
});
