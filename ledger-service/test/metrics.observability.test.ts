import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Configuration, PlaidApi, Products } from 'plaid';
import { createApp } from '../src/app';
import { createMetrics } from '../src/http/metrics';
import { createPlaidEmulator, type PlaidEmulator } from '../src/plaid-emulator/emulator';
import { createPlaidDeps } from '../src/plaid/client';
import { DELIVERY_ATTEMPTS_MAX, dispatchDue } from '../src/services/events';
import { createBooks } from './support/books';
import { key, listen, startTestLedger, type TestLedger } from './support/harness';

// /metrics after real work: webhook deliveries sent by a dispatcher wired to the app's registry (as main.ts does),
// and the sync lag of a Plaid item linked and synced through the emulator.

jest.setTimeout(300_000);

const CLIENT_ID = 'metrics-client';
const SECRET = 'metrics-secret';

let ledger: TestLedger;
let emulator: PlaidEmulator;
let emulatorServer: Server;
let receiver: http.Server;
let receiverUrl: string;
let failing = false;

beforeAll(async () => {
  ledger = await startTestLedger();
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(failing ? 503 : 200).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  emulator = await createPlaidEmulator({ clientId: CLIENT_ID, secret: SECRET, seed: 11, historyDays: 30 });
  emulatorServer = await new Promise<Server>((resolve) => {
    const server = emulator.app.listen(0, '127.0.0.1', () => resolve(server));
  });
});
afterAll(async () => {
  await emulator.settleWebhooks();
  emulatorServer.closeAllConnections();
  await new Promise((resolve) => emulatorServer.close(resolve));
  await new Promise((resolve) => receiver.close(resolve));
  await ledger.close();
});

/** The value of one sample in a Prometheus text scrape, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).split(' ')[0] ?? '';
    if (Object.entries(labels).every(([label, value]) => labelText.includes(`${label}="${value}"`))) return Number(line.split(' ').at(-1));
  }
  return undefined;
}

async function scrape(app: ReturnType<typeof createApp>): Promise<string> {
  const server = await listen(app);
  try {
    const response = await fetch(`${server.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    return await response.text();
  } finally {
    await server.stop();
  }
}

it('counts and times webhook delivery attempts by outcome, and reports the outbox by state', async () => {
  const metrics = createMetrics(ledger.deps);
  const app = createApp(ledger.deps, { metrics });
  const before = await scrape(app);
  expect(sample(before, 'veil_webhook_delivery_attempts_total', { outcome: 'delivered' })).toBe(0);
  expect(sample(before, 'veil_webhook_deliveries', { state: 'delivered' })).toBe(0);

  const books = await createBooks(ledger, { name: 'Metered Hooks LLC', accounts: { cash: 'cash', sales: 'income_category' } });
  await ledger.http.post('/webhooks').set('Idempotency-Key', key()).send({ url: receiverUrl, events: ['entry.posted'], entityIds: [books.entityId] }).expect(201);
  const sale = (amountCents: number) =>
    ledger.http
      .post(`/entities/${books.entityId}/entries`)
      .set('Idempotency-Key', key())
      .send({ postedOn: '2026-06-01', description: 'Sale', postings: [{ accountId: books.accounts.cash, amountCents }, { accountId: books.accounts.sales, amountCents: -amountCents }] })
      .expect(201);
  await sale(100);
  await sale(200);
  expect(await dispatchDue(ledger.deps, { observe: metrics.observeDelivery })).toEqual({ delivered: 2, retried: 0, failed: 0 });

  failing = true;
  await sale(300);
  const pending = await scrape(app);
  expect(sample(pending, 'veil_webhook_deliveries', { state: 'pending' })).toBe(1);
  expect(await dispatchDue(ledger.deps, { observe: metrics.observeDelivery })).toEqual({ delivered: 0, retried: 1, failed: 0 });
  const retrying = await scrape(app);
  expect(sample(retrying, 'veil_webhook_deliveries', { state: 'retrying' })).toBe(1);
  expect(sample(retrying, 'veil_webhook_deliveries', { state: 'pending' })).toBe(0);
  // The remaining attempts, each at a moment after its back-off, until the dispatcher gives up.
  let atMs = ledger.deps.security.now();
  for (let attempt = 2; attempt <= DELIVERY_ATTEMPTS_MAX; attempt += 1) {
    atMs += 3_600_000;
    await dispatchDue({ ...ledger.deps, security: { ...ledger.deps.security, now: () => atMs } }, { observe: metrics.observeDelivery });
  }

  const after = await scrape(app);
  expect(sample(after, 'veil_webhook_delivery_attempts_total', { outcome: 'delivered' })).toBe(2);
  expect(sample(after, 'veil_webhook_delivery_attempts_total', { outcome: 'retrying' })).toBe(DELIVERY_ATTEMPTS_MAX - 1);
  expect(sample(after, 'veil_webhook_delivery_attempts_total', { outcome: 'failed' })).toBe(1);
  expect(sample(after, 'veil_webhook_delivery_duration_seconds_count', { outcome: 'delivered' })).toBe(2);
  expect(sample(after, 'veil_webhook_delivery_duration_seconds_sum', { outcome: 'delivered' })).toBeGreaterThan(0);
  expect(sample(after, 'veil_webhook_deliveries', { state: 'delivered' })).toBe(2);
  expect(sample(after, 'veil_webhook_deliveries', { state: 'failed' })).toBe(1);
  expect(sample(after, 'veil_webhook_deliveries', { state: 'retrying' })).toBe(0);
});

it('reports the sync lag of each Plaid item: near zero after a sync, growing with time', async () => {
  const emulatorUrl = `http://127.0.0.1:${(emulatorServer.address() as AddressInfo).port}`;
  ledger.deps.plaid = createPlaidDeps({ basePath: emulatorUrl, clientId: CLIENT_ID, secret: SECRET, webhookUrl: 'http://127.0.0.1:9/plaid/webhook', emulator: true });
  const sandbox = new PlaidApi(new Configuration({ basePath: emulatorUrl, baseOptions: { headers: { 'PLAID-CLIENT-ID': CLIENT_ID, 'PLAID-SECRET': SECRET } } }));
  const books = await createBooks(ledger, { kind: 'personal', name: 'Synced Owner', accounts: { Groceries: 'expense_category' } });
  const created = await sandbox.sandboxPublicTokenCreate({ institution_id: 'ins_109508', initial_products: [Products.Transactions], options: { override_username: 'user_good' } });
  const item = (await ledger.http.post('/plaid/items').set('Idempotency-Key', key()).send({ entityId: books.entityId, publicToken: created.data.public_token }).expect(201)).body;
  await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
  const { lastSyncedAt } = await ledger.deps.db.selectFrom('plaidItems').select('lastSyncedAt').where('id', '=', item.id).executeTakeFirstOrThrow();
  expect(lastSyncedAt).not.toBeNull();

  const syncedMs = (lastSyncedAt as Date).getTime();
  const lagAt = async (nowMs: number) => {
    const deps = { ...ledger.deps, security: { ...ledger.deps.security, now: () => nowMs } };
    return sample(await scrape(createApp(deps, { metrics: createMetrics(deps) })), 'veil_plaid_sync_lag_seconds', { item: item.id, status: 'healthy' });
  };
  expect(await lagAt(syncedMs + 1_500)).toBeCloseTo(1.5, 3);
  expect(await lagAt(syncedMs + 2 * 3_600_000)).toBeCloseTo(7_200, 3);
});
