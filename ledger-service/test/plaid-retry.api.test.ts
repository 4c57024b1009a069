import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Configuration, PlaidApi, PlaidErrorType, Products } from 'plaid';
import { createPlaidEmulator, type PlaidEmulator } from '../src/plaid-emulator/emulator';
import { createPlaidDeps, retryDelayMs } from '../src/plaid/client';
import { createBooks } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// Transient Plaid failures in the middle of a sync, injected at the emulator: a dropped connection, a 503, a
// RATE_LIMIT_EXCEEDED. The ledger's real `plaid` client retries them with backoff (at most 4 attempts), so the
// sync finishes; past the cap it fails with what it stored so far kept, and the next sync resumes.

const CLIENT_ID = 'retry-client';
const SECRET = 'retry-secret';
const PAGE_SIZE = 5;
const SYNC = '/transactions/sync';

let ledger: TestLedger;
let emulator: PlaidEmulator;
let emulatorServer: Server;
let sandbox: PlaidApi;

beforeAll(async () => {
  ledger = await startTestLedger();
  emulator = await createPlaidEmulator({ clientId: CLIENT_ID, secret: SECRET, seed: 5, historyDays: 30 });
  emulatorServer = await new Promise<Server>((resolve) => {
    const server = emulator.app.listen(0, '127.0.0.1', () => resolve(server));
  });
  const emulatorUrl = `http://127.0.0.1:${(emulatorServer.address() as AddressInfo).port}`;
  ledger.deps.plaid = createPlaidDeps({ basePath: emulatorUrl, clientId: CLIENT_ID, secret: SECRET, webhookUrl: undefined, emulator: true }, { syncPageSize: PAGE_SIZE });
  sandbox = new PlaidApi(new Configuration({ basePath: emulatorUrl, baseOptions: { headers: { 'PLAID-CLIENT-ID': CLIENT_ID, 'PLAID-SECRET': SECRET } } }));
});
afterAll(async () => {
  emulatorServer.closeAllConnections();
  await new Promise((resolve) => emulatorServer.close(resolve));
  await ledger.close();
});

/** A fresh item (no webhook: nothing syncs it but the test) in its own books. */
async function linkItem() {
  const books = await createBooks(ledger, { kind: 'personal', name: `Retry ${key()}`.slice(0, 60), accounts: {} });
  const created = await sandbox.sandboxPublicTokenCreate({ institution_id: 'ins_109508', initial_products: [Products.Transactions], options: { override_username: 'user_good' } });
  const item = await ledger.http.post('/plaid/items').set('Idempotency-Key', key()).send({ entityId: books.entityId, publicToken: created.data.public_token }).expect(201);
  const row = await ledger.deps.db.selectFrom('plaidItems').select('plaidItemId').where('id', '=', item.body.id).executeTakeFirstOrThrow();
  return { id: item.body.id as string, plaidItemId: row.plaidItemId };
}

async function storedLines(itemId: string): Promise<number> {
  const rows = await ledger.deps.db
    .selectFrom('bankLines as l')
    .innerJoin('plaidAccounts as p', 'p.accountId', 'l.accountId')
    .select('l.externalId')
    .where('p.itemId', '=', itemId)
    .execute();
  expect(new Set(rows.map((row) => row.externalId)).size).toBe(rows.length);
  return rows.length;
}

describe('callPlaid retries transient failures', () => {
  it('a connection dropped mid-sync no longer aborts the sync: the page is fetched again and every line stored once', async () => {
    const item = await linkItem();
    const live = emulator.liveTransactions(item.plaidItemId).length;
    const pages = Math.ceil(live / PAGE_SIZE);
    expect(pages).toBeGreaterThan(3);
    emulator.injectFault({ path: SYNC, kind: 'reset', skip: 2 });
    const before = emulator.requestCount(SYNC);
    const synced = await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
    expect(synced.body).toMatchObject({ pages, added: live, hasMore: false });
    // One request per page, and one more: the third page's first attempt, whose connection was dropped.
    expect(emulator.requestCount(SYNC) - before).toBe(pages + 1);
    expect(await storedLines(item.id)).toBe(live);
    const again = await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
    expect(again.body).toMatchObject({ added: 0, booked: 0 });
  });

  it('a 503 and a RATE_LIMIT_EXCEEDED mid-sync are retried too', async () => {
    const item = await linkItem();
    const live = emulator.liveTransactions(item.plaidItemId).length;
    emulator.injectFault({ path: SYNC, kind: 'error', status: 503, errorType: PlaidErrorType.ApiError, errorCode: 'PLANNED_MAINTENANCE', skip: 1 });
    emulator.injectFault({ path: SYNC, kind: 'error', status: 429, errorType: PlaidErrorType.RateLimitExceeded, errorCode: 'TRANSACTIONS_SYNC_LIMIT', skip: 3 });
    const before = emulator.requestCount(SYNC);
    const synced = await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
    expect(synced.body.added).toBe(live);
    expect(emulator.requestCount(SYNC) - before).toBe(Math.ceil(live / PAGE_SIZE) + 2);
    expect(await storedLines(item.id)).toBe(live);
  });

  it('gives up after 4 attempts (502, the pages already stored kept); the next sync resumes where it stopped', async () => {
    const item = await linkItem();
    const live = emulator.liveTransactions(item.plaidItemId).length;
    emulator.injectFault({ path: SYNC, kind: 'reset', skip: 1, times: 4 });
    const before = emulator.requestCount(SYNC);
    const failed = await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(502);
    expect(failed.body.error).toMatchObject({ code: 'plaid_upstream_error', details: { attempts: 4 } });
    expect(emulator.requestCount(SYNC) - before).toBe(1 + 4);
    expect(await storedLines(item.id)).toBe(PAGE_SIZE);
    const resumed = await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
    expect(resumed.body.added).toBe(live - PAGE_SIZE);
    expect(await storedLines(item.id)).toBe(live);
  });

  it('does not retry what would fail the same way: an item error is reported after one request', async () => {
    const item = await linkItem();
    await sandbox.sandboxItemResetLogin({ access_token: emulator.accessTokenOf(item.plaidItemId) });
    const before = emulator.requestCount(SYNC);
    const refused = await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(409);
    expect(refused.body.error).toMatchObject({ code: 'plaid_item_error', details: { plaidErrorCode: 'ITEM_LOGIN_REQUIRED', attempts: 1 } });
    expect(emulator.requestCount(SYNC) - before).toBe(1);
  });

  it('backs off exponentially with jitter, capped', () => {
    const policy = { delayMsBase: 250, delayMsMax: 4_000 };
    expect([0, 1, 2, 3, 10].map((retry) => retryDelayMs(policy, retry, () => 0))).toEqual([125, 250, 500, 1_000, 2_000]);
    expect([0, 1, 2, 3, 10].map((retry) => retryDelayMs(policy, retry, () => 1))).toEqual([250, 500, 1_000, 2_000, 4_000]);
  });
});
