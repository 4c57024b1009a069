// Every workflow template in workflows-templates/, imported into a real n8n 2.41.1 (the packed node pack installed as
// a community package, a "Veil API" credential), with only the choices a user makes substituted (entities, accounts,
// the ledger URL, a notification URL that points at a local sink here), run against a real ledger process and the
// Plaid sandbox emulator, and judged by the books: manual-trigger templates with `n8n execute --id`, trigger
// templates through a running n8n whose Veil Triggers subscribe on the ledger, the approval through n8n's Wait
// webhook, and a failed execution rolled back by the (active) Error Trigger template through
// POST /executions/{id}/rollback; the owner draw's execution is also rolled back through the API directly.
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, key, provisionOwner, startLedger, startPlaidEmulator } from '../../scripts/n8n/ledger.mjs';
import {
  TEMPLATE_PLACEHOLDERS,
  TEMPLATES_DIR,
  createN8n,
  instantiateTemplate,
  knownNodeTypes,
  nodeType,
  packNodes,
  readTemplate,
  templateFiles,
} from '../../scripts/n8n/runtime.mjs';

const CREDENTIAL = { id: 'veilTemplatesCred1', name: 'Veil API' };
const ids = {
  'sync-bank-daily.json': 'tplSyncBank00001',
  'allocate-paycheck.json': 'tplAllocate00001',
  'sweep-savings.json': 'tplSweep00000001',
  'pay-bills-with-approval.json': 'tplPayBills00001',
  'draw-owner-monthly.json': 'tplOwnerDraw0001',
  'set-aside-quarterly-tax.json': 'tplTaxAside00001',
  'contribute-investment-monthly.json': 'tplInvest0000001',
  'alert-low-balance.json': 'tplAlerts0000001',
  'watch-commingling.json': 'tplComminglin001',
  'reimburse-owner.json': 'tplReimburse0001',
  'close-month-end.json': 'tplMonthEnd00001',
  'rollback-failed-execution.json': 'tplRollback00001',
  'backup-ledger-daily.json': 'tplBackup0000001',
};

let ledger;
let plaid;
let owner;
let n8n;
let sink;
let packed;
const received = [];
// Where the ledger writes the backups the backup template asks for (keeping one: each run replaces the last).
const backupDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-template-backups-'));

const today = new Date().toISOString().slice(0, 10);
const lastMonthDay = (() => {
  const date = new Date();
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() - 1);
  date.setUTCDate(10);
  return date.toISOString().slice(0, 10);
})();
const addDays = (days) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

const BOOKS = {
  'Acme LLC': { kind: 'llc', accounts: { Checking: 'checking', 'Tax Reserve': 'savings', 'Client Revenue': 'income_category', Software: 'expense_category', Streaming: 'expense_category' } },
  'Sam Owner': { kind: 'personal', accounts: { 'Personal Checking': 'checking', 'Personal Card': 'credit_card', 'Roth IRA': 'retirement' } },
  Household: { kind: 'personal', accounts: { Checking: 'checking', Savings: 'savings', Salary: 'income_category', Rent: 'expense_category' } },
  'Synced LLC': { kind: 'llc', accounts: { 'Client Revenue': 'income_category', 'Software & Subscriptions': 'expense_category' } },
};

const get = async (urlPath) => {
  const result = await owner.call('GET', urlPath, undefined, { token: owner.session });
  assert.equal(result.status, 200, `GET ${urlPath}: ${JSON.stringify(result.body)}`);
  return result.body;
};
const post = async (urlPath, body, status = 201, method = 'POST') => {
  const result = await owner.call(method, urlPath, body, { token: owner.session, key: key() });
  assert.equal(result.status, status, `${method} ${urlPath}: ${JSON.stringify(result.body)}`);
  return result.body;
};
const entity = (name) => owner.entities[name];
const account = (entityName, accountName) => owner.entities[entityName].accounts[accountName];
async function balances(entityName) {
  const body = await get(`/entities/${entity(entityName).id}/accounts`);
  return Object.fromEntries(body.items.map((item) => [item.name, item.balanceCents]));
}
const netIncome = (report) => (report.byCurrency ?? []).reduce((sum, part) => sum + part.netIncomeCents, 0);
const messages = (template) => received.filter((message) => message.path === `/${template}`).map((message) => message.body);

/** Polls until `check` returns a truthy value: a bound for a busy machine, not a speed assertion. */
async function until(check, what, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`still waiting after ${timeoutMs / 1000} s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
}

function choicesFor(file) {
  const acme = entity('Acme LLC');
  const sam = entity('Sam Owner');
  const household = entity('Household');
  const common = { VEIL_URL: ledger.baseUrl, NOTIFY_URL: `${sink.url}/${file.replace(/\.json$/, '')}` };
  const crossing = {
    LLC_ENTITY: acme.id,
    LLC_CHECKING: acme.accounts.Checking,
    LLC_TAX_RESERVE: acme.accounts['Tax Reserve'],
    LLC_EXPENSE: acme.accounts.Software,
    PERSONAL_ENTITY: sam.id,
    PERSONAL_CHECKING: sam.accounts['Personal Checking'],
    PERSONAL_CARD: sam.accounts['Personal Card'],
    INVESTMENT_ACCOUNT: sam.accounts['Roth IRA'],
  };
  const budget = { PERSONAL_ENTITY: household.id, PERSONAL_CHECKING: household.accounts.Checking, PERSONAL_SAVINGS: household.accounts.Savings };
  if (file === 'sync-bank-daily.json') return { ...common, LLC_ENTITY: entity('Synced LLC').id };
  if (['allocate-paycheck.json', 'sweep-savings.json', 'alert-low-balance.json'].includes(file)) return { ...common, ...budget };
  return { ...common, ...crossing };
}

async function importTemplate(file) {
  const workflow = instantiateTemplate(file, choicesFor(file), ids[file]);
  await n8n.importWorkflow(workflow);
  return workflow;
}

/** Imports and runs a manual-trigger template with `n8n execute`; returns the run data and the ledger's execution id. */
async function runTemplate(file) {
  await importTemplate(file);
  const run = await n8n.execute(ids[file]);
  assert.ok(run.ok, `${file} failed:\n${run.output.slice(-6000)}`);
  assert.ok(run.data?.data?.resultData?.runData, `no run data for ${file}:\n${run.output.slice(-3000)}`);
  return run.data.data.resultData.runData;
}

/** The statuses the ledger recorded for the executions of one template's workflow (the Veil nodes name it), newest first. */
const statusesOf = async (file) => (await get(`/executions?workflowId=${ids[file]}`)).items.map((item) => item.status);

const outputOf = (runData, nodeName, output = 0) => (runData[nodeName]?.[0]?.data?.main?.[output] ?? []).map((item) => item.json);

before(async () => {
  sink = await new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        let parsed = body;
        try {
          parsed = JSON.parse(body);
        } catch {
          // kept as text
        }
        received.push({ path: req.url, body: parsed });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    freePort().then((port) => server.listen(port, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${port}` })));
  });
  plaid = await startPlaidEmulator();
  // The suite outlives a 15-minute access token on a loaded machine: the owner's session gets the longest allowed (1 h).
  ledger = await startLedger({ env: { ...plaid.ledgerEnv, VEIL_ACCESS_TOKEN_TTL_SECONDS: '3600', VEIL_BACKUP_DIR: backupDir, VEIL_BACKUP_KEEP: '1' } });
  owner = await provisionOwner(ledger.baseUrl, BOOKS);
  n8n = await createN8n();
  packed = packNodes();
  await n8n.installPack(packed);
  await n8n.importCredentials([{ ...CREDENTIAL, type: 'veilApi', data: { baseUrl: ledger.baseUrl, apiToken: owner.apiToken } }]);

  // Last month's LLC business: what the draw, the tax set-aside and the close read.
  await post(`/entities/${entity('Acme LLC').id}/entries`, {
    postedOn: lastMonthDay,
    description: 'Client invoice 2041',
    postings: [{ accountId: account('Acme LLC', 'Checking'), amountCents: 500_000 }, { accountId: account('Acme LLC', 'Client Revenue'), amountCents: -500_000 }],
  });
  await post(`/entities/${entity('Acme LLC').id}/entries`, {
    postedOn: lastMonthDay,
    description: 'Figma and Linear',
    postings: [{ accountId: account('Acme LLC', 'Software'), amountCents: 100_000 }, { accountId: account('Acme LLC', 'Checking'), amountCents: -100_000 }],
  });
});

after(async () => {
  const ready = ledger ? await fetch(`${ledger.baseUrl}/readyz`).then((response) => response.status, () => 0) : 200;
  if (ready !== 200) console.error(`the ledger is gone; its last output:\n${ledger.output().slice(-4000)}`);
  await ledger?.stop();
  await plaid?.stop();
  sink?.server.close();
  n8n?.cleanup();
  if (packed) fs.rmSync(path.dirname(packed), { recursive: true, force: true });
  fs.rmSync(backupDir, { recursive: true, force: true });
});

describe('workflow templates: static checks', () => {
  it('every template is importable JSON with known node types, a setup note, the "Veil API" credential by name, and no secrets', () => {
    const files = templateFiles();
    assert.ok(files.length >= 11, `at least the 10 of the issue and the month-end close: ${files.join(', ')}`);
    const known = knownNodeTypes();
    const readme = fs.readFileSync(path.join(TEMPLATES_DIR, 'README.md'), 'utf8');
    for (const file of files) {
      assert.match(file, /^[a-z]+(-[a-z]+)+\.json$/, `${file}: <verb>-<object>.json`);
      const text = fs.readFileSync(path.join(TEMPLATES_DIR, file), 'utf8');
      const workflow = readTemplate(file);
      assert.equal(typeof workflow.name, 'string', file);
      assert.equal(workflow.settings?.executionOrder, 'v1', `${file}: executionOrder v1`);
      assert.equal(workflow.id, undefined, `${file}: no workflow id (n8n assigns one on import)`);
      const names = new Set(workflow.nodes.map((node) => node.name));
      assert.equal(names.size, workflow.nodes.length, `${file}: node names are unique`);
      for (const node of workflow.nodes) {
        const versions = known.get(node.type);
        assert.ok(versions, `${file}: ${node.name} has type ${node.type}, which neither n8n nor the pack provides`);
        assert.ok(versions.includes(node.typeVersion), `${file}: ${node.name} is ${node.type} v${node.typeVersion}; known: ${versions.join(', ')}`);
        if (node.type.startsWith('n8n-nodes-veil.')) assert.deepEqual(node.credentials, { veilApi: { name: 'Veil API' } }, `${file}: ${node.name} uses the "Veil API" credential by name`);
        for (const credential of Object.values(node.credentials ?? {})) {
          assert.deepEqual(Object.keys(credential), ['name'], `${file}: ${node.name} names its credential only (no id)`);
        }
      }
      for (const [from, { main }] of Object.entries(workflow.connections)) {
        assert.ok(names.has(from), `${file}: connection from unknown node ${from}`);
        for (const target of main.flat()) assert.ok(names.has(target.node), `${file}: connection to unknown node ${target.node}`);
      }
      const notes = workflow.nodes.filter((node) => node.type === 'n8n-nodes-base.stickyNote');
      assert.ok(notes.length >= 1 && notes[0].parameters.content.length > 200, `${file}: a sticky note explains the setup`);
      assert.ok(workflow.nodes.some((node) => /trigger/i.test(node.type)), `${file}: starts from a trigger`);
      // No secrets: no API token, bearer value, password or private key; placeholders only from the known set.
      assert.doesNotMatch(text, /veil_[A-Za-z0-9_-]{20,}|Bearer [A-Za-z0-9]|"(password|apiToken|secret|accessToken)"\s*:|BEGIN [A-Z ]*PRIVATE KEY/i, `${file} holds no secret`);
      for (const [, name] of text.matchAll(/__([A-Z_]+?)__/g)) assert.ok(TEMPLATE_PLACEHOLDERS.includes(name), `${file}: unknown placeholder __${name}__`);
      assert.ok(readme.includes(`(${file})`) || readme.includes(`\`${file}\``), `README.md describes ${file}`);
    }
  });

  it('the static check catches a node type nobody provides and a credential id', () => {
    const known = knownNodeTypes();
    assert.equal(known.get(nodeType('veilTransfer'))?.includes(1), true);
    assert.equal(known.get('n8n-nodes-base.httpRequest')?.includes(4.2), true);
    assert.equal(known.get(nodeType('veilTeleport')), undefined);
    assert.equal(known.get('CUSTOM.veilTransfer'), undefined);
  });
});

describe('workflow templates in a real n8n 2.41.1', () => {
  it('set-aside-quarterly-tax: 25% of last month’s LLC net income moves to the tax reserve', async () => {
    const report = await get(`/entities/${entity('Acme LLC').id}/reports/income-statement?from=${lastMonthDay.slice(0, 8)}01&to=${lastMonthDay}`);
    const before = await balances('Acme LLC');
    await runTemplate('set-aside-quarterly-tax.json');
    const expected = Math.floor((netIncome(report) * 2500) / 10000);
    assert.equal(expected, 100_000);
    const after = await balances('Acme LLC');
    assert.equal(after['Tax Reserve'] - before['Tax Reserve'], expected);
    assert.equal(before.Checking - after.Checking, expected);
    // Its last node reported the end: the execution is recorded as succeeded, not left running.
    assert.deepEqual(await statusesOf('set-aside-quarterly-tax.json'), ['succeeded']);
  });

  it('draw-owner-monthly: draws profit after tax, keeping the operating reserve, with its draw record; a rollback restores the books', async () => {
    const acme = entity('Acme LLC');
    const before = { llc: await balances('Acme LLC'), owner: await balances('Sam Owner') };
    const runData = await runTemplate('draw-owner-monthly.json');
    const expected = Math.min(Math.floor((400_000 * 7000) / 10000), before.llc.Checking - 100_000);
    const [draw] = outputOf(runData, 'Owner draw');
    assert.equal(draw.classification, 'owner_draw');
    assert.equal(draw.amountCents, expected);
    assert.ok(draw.document?.id, 'the draw carries its document');
    const document = await get(`/documents/${draw.document.id}`);
    assert.match(JSON.stringify(document), /draw/i);
    const afterDraw = { llc: await balances('Acme LLC'), owner: await balances('Sam Owner') };
    assert.equal(before.llc.Checking - afterDraw.llc.Checking, expected);
    assert.equal(afterDraw.owner['Personal Checking'] - before.owner['Personal Checking'], expected);

    // The execution as the ledger saw it, rolled back through the API: both books are as they were.
    const listed = await get(`/executions?entityId=${acme.id}`);
    const execution = listed.items.find((item) => item.transferCount === 1);
    assert.ok(execution, JSON.stringify(listed));
    const detail = await get(`/executions/${execution.executionId}`);
    assert.deepEqual(detail.items.map((item) => [item.kind, item.id]), [['transfer', draw.id]]);
    assert.equal(execution.status, 'succeeded', 'the last node reported success');
    assert.equal(execution.workflowId, ids['draw-owner-monthly.json']);
    const rollback = await post(`/executions/${execution.executionId}/rollback`, undefined, 200);
    assert.deepEqual(rollback.reversed.map((item) => item.id), [draw.id]);
    // (The draw opened the equity accounts it needed; they are back at zero.)
    const restored = { llc: await balances('Acme LLC'), owner: await balances('Sam Owner') };
    for (const side of ['llc', 'owner']) {
      for (const [name, cents] of Object.entries(restored[side])) assert.deepEqual([side, name, cents], [side, name, before[side][name] ?? 0]);
    }
    assert.equal((await get(`/executions/${execution.executionId}`)).rolledBack, true);
    assert.deepEqual(await statusesOf('draw-owner-monthly.json'), ['rolled_back']);
  });

  it('backup-ledger-daily: the ledger writes a backup into its directory, and the next run replaces it (keep 1)', async () => {
    const files = () => fs.readdirSync(backupDir).filter((name) => !name.startsWith('.'));
    assert.deepEqual(files(), []);
    const first = outputOf(await runTemplate('backup-ledger-daily.json'), 'Back up the ledger');
    assert.equal(first.length, 1);
    assert.match(first[0].file, /^veil-backup-\d{8}T\d{9}Z\.(dump|tar\.gz)$/);
    assert.ok(first[0].entries >= 2 && first[0].auditRows > 0, JSON.stringify(first[0]));
    assert.deepEqual(files(), [first[0].file]);
    assert.equal(fs.statSync(path.join(backupDir, first[0].file)).size, first[0].bytes);
    const run = await n8n.execute(ids['backup-ledger-daily.json']);
    assert.ok(run.ok, run.output.slice(-4000));
    const [second] = outputOf(run.data.data.resultData.runData, 'Back up the ledger');
    assert.notEqual(second.file, first[0].file);
    assert.deepEqual(second.removed, [first[0].file]);
    assert.deepEqual(files(), [second.file]);
    assert.deepEqual(messages('backup-ledger-daily'), []);
    assert.deepEqual(await statusesOf('backup-ledger-daily.json'), [], 'a backup books nothing in any book');
  });

  it('contribute-investment-monthly: contributes to the IRA while under the limit', async () => {
    const before = await balances('Sam Owner');
    const runData = await runTemplate('contribute-investment-monthly.json');
    assert.equal(outputOf(runData, 'Within the limit?', 0).length, 1);
    const after = await balances('Sam Owner');
    assert.equal(after['Roth IRA'] - before['Roth IRA'], 50_000);
    assert.equal(before['Personal Checking'] - after['Personal Checking'], 50_000);
    assert.deepEqual(messages('contribute-investment-monthly'), []);
    assert.deepEqual(await statusesOf('contribute-investment-monthly.json'), ['succeeded']);
  });

  it('reimburse-owner: a reimbursement request with its receipt, then the LLC pays the owner back', async () => {
    const before = { llc: await balances('Acme LLC'), owner: await balances('Sam Owner') };
    const runData = await runTemplate('reimburse-owner.json');
    const [request] = outputOf(runData, 'Reimbursement request');
    const [payment] = outputOf(runData, 'LLC pays the owner');
    assert.equal(request.classification, 'reimbursement');
    assert.equal(request.document.kind, 'reimbursement_request');
    assert.equal(payment.classification, 'reimbursement_payment');
    assert.equal(payment.relatedTransferId, request.id);
    const llc = await balances('Acme LLC');
    const person = await balances('Sam Owner');
    assert.equal(llc.Software - before.llc.Software, 4_999);
    assert.equal(before.llc.Checking - llc.Checking, 4_999);
    assert.equal(before.owner['Personal Card'] - person['Personal Card'], 4_999);
    assert.equal(person['Personal Checking'] - before.owner['Personal Checking'], 4_999);
    const pairing = await get(`/entities/${entity('Acme LLC').id}/veil/pairing`);
    assert.deepEqual(pairing.mismatches, []);
    const [message] = messages('reimburse-owner');
    assert.equal(message?.transferId, payment.id);
    assert.deepEqual(await statusesOf('reimburse-owner.json'), ['succeeded']);
  });

  it('close-month-end: sends veil health, net income, the balance sheet and the pairing check, and books nothing', async () => {
    const before = await balances('Acme LLC');
    await runTemplate('close-month-end.json');
    const [close] = messages('close-month-end');
    assert.ok(close, 'the close was sent');
    assert.equal(close.netIncomeCents, 400_000);
    assert.equal(typeof close.veilHealth.score, 'number');
    assert.equal(close.pairingMismatches, 0);
    assert.ok(close.balanceSheet, 'the balance sheet rides along');
    assert.deepEqual(await balances('Acme LLC'), before);
    assert.deepEqual(await statusesOf('close-month-end.json'), [], 'the close books nothing');
  });

  it('sync-bank-daily: syncs the Plaid item through the ledger and puts every posted line before Entity Guard', async () => {
    const synced = entity('Synced LLC');
    const item = await post('/plaid/items', { entityId: synced.id, publicToken: await plaid.publicToken('user_llc') });
    assert.ok(item.id);
    const runData = await runTemplate('sync-bank-daily.json');
    const lines = outputOf(runData, 'Sync bank');
    assert.ok(lines.length > 0, 'the first sync brings bank lines');
    const posted = lines.filter((line) => line.pending === false && line.amountCents !== 0);
    const judged = [0, 1, 2].map((output) => outputOf(runData, 'Entity Guard', output).length);
    assert.equal(judged.reduce((sum, count) => sum + count, 0), posted.length, 'each posted line is judged once');
    const blockedOrDocument = judged[1] + judged[2];
    assert.equal(messages('sync-bank-daily').length, blockedOrDocument, 'one message per line to document or blocked');
    // The lines are in the ledger, and the ones whose category matched an account are booked.
    const items = (await get(`/entities/${synced.id}/plaid/items`)).items;
    assert.ok(items[0].lastSyncedAt, 'the item was synced');
    let stored = 0;
    for (const linked of items[0].accounts) stored += (await get(`/accounts/${linked.accountId}/bank-lines?limit=500`)).items.length;
    assert.ok(stored >= posted.length && posted.length > 0, `${stored} lines stored, ${posted.length} posted lines synced`);
    const entries = await get(`/entities/${synced.id}/entries?source=plaid&limit=500`);
    assert.ok(entries.items.length > 0, 'categorised lines were booked');
    assert.deepEqual(await statusesOf('sync-bank-daily.json'), ['succeeded']);
    // A second run finds nothing new and still ends recorded (the sync wrote its cursor under the execution).
    const again = await n8n.execute(ids['sync-bank-daily.json']);
    assert.ok(again.ok, again.output.slice(-4000));
    assert.deepEqual(outputOf(again.data.data.resultData.runData, 'Entity Guard').length, 0);
    const statuses = await statusesOf('sync-bank-daily.json');
    assert.ok(statuses.length >= 1 && statuses.every((status) => status === 'succeeded'), JSON.stringify(statuses));
  });

  let approval;
  it('pay-bills-with-approval (1/2): lists the bills due and asks for approval, paying nothing yet', async () => {
    const acme = entity('Acme LLC');
    await post(`/entities/${acme.id}/bills`, {
      name: 'Internet',
      payee: 'Fiber Co',
      rrule: 'FREQ=MONTHLY',
      startsOn: addDays(3),
      amountCents: 8_000,
      estimated: false,
      categoryAccountId: acme.accounts.Software,
      payFromAccountId: acme.accounts.Checking,
      autopay: true,
    });
    await importTemplate('pay-bills-with-approval.json');
    const run = await n8n.execute(ids['pay-bills-with-approval.json']);
    assert.ok(run.ok, run.output.slice(-6000));
    [approval] = messages('pay-bills-with-approval');
    assert.ok(approval, 'an approval request was sent');
    assert.deepEqual(approval.bills.map((bill) => [bill.billName, bill.dueOn, bill.amountCents]), [['Internet', addDays(3), 8_000]]);
    assert.match(approval.resumeUrl, /\/webhook-waiting\//);
    const occurrences = await get(`/entities/${acme.id}/bill-occurrences?from=${today}&to=${addDays(7)}`);
    assert.equal(occurrences.occurrences[0].status, 'due');
    assert.deepEqual(await statusesOf('pay-bills-with-approval.json'), [], 'listing and asking books nothing');
  });

  describe('in a running n8n (triggers, the Wait webhook, the Error Trigger)', () => {
    let server;
    before(async () => {
      server = await n8n.start();
      await server.apiKey();
      const ready = await fetch(`${ledger.baseUrl}/readyz`).then((response) => response.status, (error) => error.message);
      assert.equal(ready, 200, `the ledger stopped answering:\n${ledger.output().slice(-4000)}`);
    });
    after(async () => {
      await server?.stop();
    });

    it('pay-bills-with-approval (2/2): approving resumes the waiting execution, which pays the bill once', async () => {
      const acme = entity('Acme LLC');
      const before = await balances('Acme LLC');
      const resume = new URL(approval.resumeUrl);
      const response = await fetch(`${server.baseUrl}${resume.pathname}${resume.search}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ approved: true }),
      });
      assert.ok(response.status < 400, `resume: ${response.status} ${await response.text()}`);
      const paid = await until(async () => {
        const { occurrences } = await get(`/entities/${acme.id}/bill-occurrences?from=${today}&to=${addDays(7)}`);
        return occurrences.find((occurrence) => occurrence.status === 'paid');
      }, 'the bill to be paid');
      assert.equal(paid.amountCents, 8_000);
      const after = await balances('Acme LLC');
      assert.equal(before.Checking - after.Checking, 8_000);
      assert.equal(after.Software - before.Software, 8_000);
      // The resumed execution paid, then its last node reported the end.
      await until(async () => (await statusesOf('pay-bills-with-approval.json')).join() === 'succeeded', 'the paying execution to be recorded succeeded');
    });

    it('allocate-paycheck, sweep-savings and alert-low-balance: a paycheck is allocated to zero, 10% is swept, and low cash is reported', async () => {
      const household = entity('Household');
      const group = await post(`/entities/${household.id}/envelope-groups`, { name: 'Monthly' });
      const rent = await post(`/entities/${household.id}/envelopes`, { name: 'Rent', groupId: group.id, categoryAccountIds: [household.accounts.Rent] });
      const buffer = await post(`/entities/${household.id}/envelopes`, { name: 'Buffer', groupId: group.id, categoryAccountIds: [] });
      await post(`/entities/${household.id}/allocation-rules`, { rules: [{ kind: 'fixed', envelopeId: rent.id, amountCents: 150_000 }, { kind: 'remainder', envelopeId: buffer.id }] }, 200, 'PUT');
      for (const file of ['allocate-paycheck.json', 'sweep-savings.json', 'alert-low-balance.json']) {
        await importTemplate(file);
        await server.activate(ids[file]);
      }
      await until(async () => (await owner.call('GET', '/webhooks', undefined, { token: owner.apiToken })).body.items.length === 3, 'three Veil Trigger subscriptions');

      const paycheck = await post(`/entities/${household.id}/entries`, {
        postedOn: today,
        description: 'Paycheck',
        postings: [{ accountId: household.accounts.Checking, amountCents: 300_000 }, { accountId: household.accounts.Salary, amountCents: -300_000 }],
      });
      const month = today.slice(0, 7);
      const budget = await until(async () => {
        const body = await get(`/entities/${household.id}/budget/${month}`);
        return body.totals.assignedCents > 0 ? body : undefined;
      }, 'the allocation');
      assert.equal(budget.readyToAssignCents, 0, 'every dollar assigned');
      const assigned = Object.fromEntries(budget.groups.flatMap((one) => one.envelopes).map((line) => [line.id, line.assignedCents]));
      assert.deepEqual([assigned[rent.id], assigned[buffer.id]], [150_000, 150_000]);
      const swept = await until(async () => ((await balances('Household')).Savings === 30_000 ? balances('Household') : undefined), 'the sweep');
      assert.equal(swept.Checking, 270_000);
      // Exactly once: the allocation of this entry and the sweep keyed by it.
      const again = await owner.call('POST', `/entities/${household.id}/allocations`, { month, sourceEntryId: paycheck.id }, { token: owner.session, key: key() });
      assert.equal(again.body.error?.code, 'already_allocated');
      for (const file of ['allocate-paycheck.json', 'sweep-savings.json']) {
        await until(async () => (await statusesOf(file)).join() === 'succeeded', `${file}: its one booking execution recorded succeeded`);
      }
      // The allocation rolled back (its assignments taken back), the paycheck can be allocated again, once.
      const [allocating] = (await get(`/executions?workflowId=${ids['allocate-paycheck.json']}`)).items;
      const rollback = await post(`/executions/${allocating.executionId}/rollback`, undefined, 200);
      assert.deepEqual(rollback.allocations.map((allocation) => [allocation.amountCents, allocation.reversedNow]), [[300_000, true]]);
      assert.equal((await get(`/entities/${household.id}/budget/${month}`)).totals.assignedCents, 0);
      const reallocated = await post(`/entities/${household.id}/allocations`, { month, sourceEntryId: paycheck.id });
      assert.deepEqual(reallocated.lines.map((line) => [line.envelopeId, line.amountCents]), [[rent.id, 150_000], [buffer.id, 150_000]]);
      const twice = await owner.call('POST', `/entities/${household.id}/allocations`, { month, sourceEntryId: paycheck.id }, { token: owner.session, key: key() });
      assert.equal(twice.body.error?.code, 'already_allocated');
      assert.deepEqual(await statusesOf('allocate-paycheck.json'), ['rolled_back']);

      // The floor is the ledger's alert setting; the template is triggered by the balance.low event itself.
      await post(`/entities/${household.id}/alert-settings`, { balanceCentsMin: 50_000 }, 200, 'PUT');
      await post(`/entities/${household.id}/entries`, {
        postedOn: today,
        description: 'Rent',
        postings: [{ accountId: household.accounts.Rent, amountCents: 250_000 }, { accountId: household.accounts.Checking, amountCents: -250_000 }],
      });
      const lowFor = () => messages('alert-low-balance').filter((message) => message.type === 'balance.low' && message.data?.accountId === household.accounts.Checking);
      const [low] = await until(() => (lowFor().length > 0 ? lowFor() : undefined), 'a balance.low alert for checking');
      assert.equal(low.data.balanceCents, 20_000);
      assert.equal(low.data.thresholdCents, 50_000);
      assert.match(low.text, /^Veil alert balance\.low: Checking holds 200\.00/);
      // Still under the floor: no second alert for the same crossing.
      await post(`/entities/${household.id}/entries`, {
        postedOn: today,
        description: 'Coffee',
        postings: [{ accountId: household.accounts.Rent, amountCents: 500 }, { accountId: household.accounts.Checking, amountCents: -500 }],
      });
      assert.equal((await balances('Household')).Savings, 30_000, 'the rent and the sweep entry are not swept again');
      assert.equal(lowFor().length, 1, 'one balance.low per crossing');
      assert.deepEqual(await statusesOf('alert-low-balance.json'), [], 'alerting books nothing');
      assert.deepEqual(await statusesOf('sweep-savings.json'), ['succeeded'], 'the rent and the coffee were not swept: no other execution booked');
      for (const file of ['allocate-paycheck.json', 'sweep-savings.json', 'alert-low-balance.json']) await server.deactivate(ids[file]);
      await until(async () => (await owner.call('GET', '/webhooks', undefined, { token: owner.apiToken })).body.items.length === 0, 'the subscriptions to go');
    });

    it('watch-commingling: a personal expense paid by the LLC is reclassified as a documented owner draw', async () => {
      const acme = entity('Acme LLC');
      await importTemplate('watch-commingling.json');
      await server.activate(ids['watch-commingling.json']);
      await until(async () => (await owner.call('GET', '/webhooks', undefined, { token: owner.apiToken })).body.items.length === 1, 'the Veil Trigger subscription');
      const before = { llc: await balances('Acme LLC'), owner: await balances('Sam Owner') };
      const netflix = await post(`/entities/${acme.id}/entries`, {
        postedOn: today,
        description: 'Netflix',
        postings: [{ accountId: acme.accounts.Streaming, amountCents: 1_599 }, { accountId: acme.accounts.Checking, amountCents: -1_599 }],
      });
      const reversed = await until(async () => (await get(`/entries/${netflix.id}`)).reversedByEntryId, 'the Netflix entry to be reversed');
      assert.ok(reversed);
      const transfers = await get(`/entities/${acme.id}/transfers`);
      const draw = transfers.items.find((transfer) => transfer.classification === 'owner_draw' && transfer.amountCents === 1_599 && transfer.reversal === null);
      assert.ok(draw, JSON.stringify(transfers.items));
      const llc = await balances('Acme LLC');
      assert.equal(llc.Streaming, before.llc.Streaming, 'the expense is gone from the LLC');
      assert.equal(before.llc.Checking - llc.Checking, 1_599, 'the money left once, as a draw');
      assert.equal((await balances('Sam Owner'))['Personal Checking'] - before.owner['Personal Checking'], 1_599);
      const told = await until(() => messages('watch-commingling').find((message) => message.decision === 'block'), 'the owner to be told');
      assert.equal(told.transferId, draw.id);
      const reclassified = await until(async () => {
        const statuses = await statusesOf('watch-commingling.json');
        return statuses.length > 0 && statuses.every((status) => status === 'succeeded') ? statuses : undefined;
      }, 'the reclassifying execution to be recorded succeeded');
      assert.ok(reclassified.length >= 1);
      await server.deactivate(ids['watch-commingling.json']);
    });

    it('rollback-failed-execution: a workflow that fails half-way has what it booked reversed through POST /executions/{id}/rollback', async () => {
      // n8n 2.x runs an error workflow only when it is active.
      await importTemplate('rollback-failed-execution.json');
      await server.activate(ids['rollback-failed-execution.json']);
      const sam = entity('Sam Owner');
      const failing = {
        id: 'tplFailingTest01',
        name: 'Veil: contribution that fails half-way',
        active: false,
        settings: { executionOrder: 'v1', errorWorkflow: ids['rollback-failed-execution.json'] },
        connections: {
          Hook: { main: [[{ node: 'Contribute', type: 'main', index: 0 }]] },
          Contribute: { main: [[{ node: 'Broken step', type: 'main', index: 0 }]] },
        },
        nodes: [
          { id: 'c0d4a5e6-0000-4000-a000-000000000001', name: 'Hook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], parameters: { httpMethod: 'POST', path: 'veil-failing-test', responseMode: 'onReceived', options: {} }, webhookId: 'c0d4a5e6-0000-4000-a000-000000000002' },
          {
            id: 'c0d4a5e6-0000-4000-a000-000000000003', name: 'Contribute', type: nodeType('veilTransfer'), typeVersion: 1, position: [240, 0], credentials: { veilApi: { name: 'Veil API' } },
            parameters: { resource: 'move', operation: 'create', entityId: sam.id, moveFromAccountId: sam.accounts['Personal Checking'], moveToAccountId: sam.accounts['Roth IRA'], description: 'Contribution before a failure', amountCents: 7_777 },
          },
          {
            id: 'c0d4a5e6-0000-4000-a000-000000000004', name: 'Broken step', type: nodeType('veilTransfer'), typeVersion: 1, position: [480, 0], credentials: { veilApi: { name: 'Veil API' } },
            parameters: { resource: 'move', operation: 'create', entityId: sam.id, moveFromAccountId: sam.accounts['Personal Checking'], moveToAccountId: entity('Acme LLC').accounts.Checking, description: 'Crosses the veil unclassified', amountCents: 100 },
          },
        ],
      };
      await n8n.importWorkflow(failing);
      await server.activate(failing.id);
      const before = await balances('Sam Owner');
      const hook = `${server.baseUrl}/webhook/veil-failing-test`;
      await until(async () => (await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status !== 404, 'the webhook to register', 30_000);
      const [message] = await until(() => (messages('rollback-failed-execution').length > 0 ? messages('rollback-failed-execution') : undefined), 'the rollback message');
      assert.equal(message.rollback.reversed.length, 1);
      assert.equal(message.rollback.reversed[0].kind, 'entry');
      assert.deepEqual(await balances('Sam Owner'), before, 'the contribution is reversed');
      const detail = await get(`/executions/${message.rollback.executionId}`);
      assert.equal(detail.rolledBack, true);
      assert.equal(detail.items[0].description, 'Contribution before a failure');
      assert.ok(detail.items[0].reversedById);
      // The Veil node named its workflow; the Error Trigger's call recorded the failure before the rollback.
      assert.equal(detail.workflowId, failing.id);
      assert.equal(detail.workflowName, failing.name);
      assert.equal(detail.status, 'rolled_back');
      assert.ok(detail.failedAt, 'the failure is recorded');
      assert.ok(detail.errorMessage, 'with n8n\'s error message');
      const byWorkflow = await get(`/executions?workflowId=${failing.id}`);
      assert.deepEqual(byWorkflow.items.map((item) => item.executionId), [message.rollback.executionId]);
      // The Error Trigger workflow's own execution (it booked the reversals) ends recorded, not stuck running.
      const own = await until(async () => {
        const items = (await get(`/executions?workflowId=${ids['rollback-failed-execution.json']}`)).items;
        return items.length === 1 && items[0].status !== 'running' ? items : undefined;
      }, "the rollback workflow's own execution to be recorded");
      assert.equal(own[0].status, 'succeeded');
      assert.notEqual(own[0].executionId, message.rollback.executionId);
      assert.equal(own[0].workflowName, 'Veil: roll back a failed execution');
      // Every execution of the suite that wrote to the books ended recorded: none is left running.
      const all = await get('/executions?limit=200');
      assert.deepEqual(all.items.filter((item) => item.status === 'running').map((item) => [item.executionId, item.workflowId]), []);
    });
  });
});
