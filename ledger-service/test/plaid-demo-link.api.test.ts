import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Configuration, PlaidApi } from 'plaid';
import { createPlaidEmulator, type PlaidEmulator } from '../src/plaid-emulator/emulator';
import { createPlaidDeps } from '../src/plaid/client';
import { createBooks, type Books } from './support/books';
import { key, listen, startTestLedger, type TestLedger } from './support/harness';

// The dashboard's demo Link: the ledger finishes Link at the bundled emulator on the browser's behalf (the page
// may only talk to its own origin), then the public token is exchanged like any other.

const CLIENT_ID = 'demo-client';
const SECRET = 'demo-secret';

let ledger: TestLedger;
let emulator: PlaidEmulator;
let emulatorServer: Server;
let emulatorUrl: string;
let ledgerServer: Awaited<ReturnType<typeof listen>>;
let books: Books;

function plaidDeps(emulatorMode: boolean) {
  return createPlaidDeps({ basePath: emulatorUrl, clientId: CLIENT_ID, secret: SECRET, webhookUrl: `${ledgerServer.baseUrl}/plaid/webhook`, emulator: emulatorMode });
}

beforeAll(async () => {
  ledger = await startTestLedger();
  emulator = await createPlaidEmulator({ clientId: CLIENT_ID, secret: SECRET, seed: 5, historyDays: 30 });
  emulatorServer = await new Promise<Server>((resolve) => {
    const server = emulator.app.listen(0, '127.0.0.1', () => resolve(server));
  });
  emulatorUrl = `http://127.0.0.1:${(emulatorServer.address() as AddressInfo).port}`;
  ledgerServer = await listen(ledger.app);
  ledger.deps.plaid = plaidDeps(true);
  books = await createBooks(ledger, { kind: 'llc', name: 'Demo Link LLC', accounts: { Software: 'expense_category' } });
});
afterAll(async () => {
  await emulator.settleWebhooks();
  await ledgerServer.stop();
  emulatorServer.closeAllConnections();
  await new Promise((resolve) => emulatorServer.close(resolve));
  await ledger.close();
});

describe('demo Link through the emulator', () => {
  it('turns a link token into a public token that links the chosen bank to the entity', async () => {
    const linkToken = await ledger.http.post('/plaid/link-token').send({ entityId: books.entityId }).expect(201);
    const completed = await ledger.http.post('/plaid/demo/link').send({ linkToken: linkToken.body.linkToken, username: 'user_llc' }).expect(200);
    expect(completed.body.publicToken).toMatch(/^public-sandbox-/);
    const item = await ledger.http.post('/plaid/items').set('Idempotency-Key', key()).send({ entityId: books.entityId, publicToken: completed.body.publicToken }).expect(201);
    expect(item.body).toMatchObject({ entityId: books.entityId, status: 'healthy' });
    expect(item.body.accounts.length).toBeGreaterThan(0);
    // A link token is used once, like Plaid's.
    const again = await ledger.http.post('/plaid/demo/link').send({ linkToken: linkToken.body.linkToken }).expect(400);
    expect(again.body.error).toMatchObject({ code: 'invalid_request', details: { plaidErrorCode: 'INVALID_LINK_TOKEN' } });
    await emulator.settleWebhooks();
  });

  it('repairs an item in error in update mode and answers no public token', async () => {
    const linkToken = await ledger.http.post('/plaid/link-token').send({ entityId: books.entityId }).expect(201);
    const completed = await ledger.http.post('/plaid/demo/link').send({ linkToken: linkToken.body.linkToken }).expect(200);
    const item = await ledger.http.post('/plaid/items').set('Idempotency-Key', key()).send({ entityId: books.entityId, publicToken: completed.body.publicToken }).expect(201);
    await emulator.settleWebhooks();
    const plaidItemId = (await ledger.deps.db.selectFrom('plaidItems').select('plaidItemId').where('id', '=', item.body.id).executeTakeFirstOrThrow()).plaidItemId;
    const sandbox = new PlaidApi(new Configuration({ basePath: emulatorUrl, baseOptions: { headers: { 'PLAID-CLIENT-ID': CLIENT_ID, 'PLAID-SECRET': SECRET } } }));
    await sandbox.sandboxItemResetLogin({ access_token: emulator.accessTokenOf(plaidItemId) });
    await emulator.settleWebhooks();
    const status = async () =>
      (await ledger.http.get(`/entities/${books.entityId}/plaid/items`).expect(200)).body.items.find((candidate: { id: string }) => candidate.id === item.body.id).status;
    expect(await status()).toBe('login_required');

    const update = await ledger.http.post(`/plaid/items/${item.body.id}/update-link-token`).expect(201);
    const repaired = await ledger.http.post('/plaid/demo/link').send({ linkToken: update.body.linkToken }).expect(200);
    expect(repaired.body).toEqual({ publicToken: null });
    await emulator.settleWebhooks();
    expect(await status()).toBe('healthy');
  });

  it('refuses bad input with its code, and refuses outright unless Plaid is the emulator', async () => {
    const missing = await ledger.http.post('/plaid/demo/link').send({}).expect(400);
    expect(missing.body.error.code).toBe('invalid_request');
    const unknownUser = await ledger.http.post('/plaid/demo/link').send({ linkToken: 'link-sandbox-x', username: 'user_admin' }).expect(400);
    expect(unknownUser.body.error.code).toBe('invalid_request');
    const forged = await ledger.http.post('/plaid/demo/link').send({ linkToken: 'link-sandbox-forged' }).expect(400);
    expect(forged.body.error.details).toEqual({ plaidErrorCode: 'INVALID_LINK_TOKEN' });

    ledger.deps.plaid = plaidDeps(false);
    try {
      const linkToken = await ledger.http.post('/plaid/link-token').send({ entityId: books.entityId }).expect(201);
      const refused = await ledger.http.post('/plaid/demo/link').send({ linkToken: linkToken.body.linkToken }).expect(409);
      expect(refused.body.error.code).toBe('plaid_demo_only');
    } finally {
      ledger.deps.plaid = plaidDeps(true);
    }
    ledger.deps.plaid = undefined;
    try {
      const off = await ledger.http.post('/plaid/demo/link').send({ linkToken: 'link-sandbox-x' }).expect(409);
      expect(off.body.error.code).toBe('plaid_not_configured');
    } finally {
      ledger.deps.plaid = plaidDeps(true);
    }
  });
});
