import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Configuration, PlaidApi, Products } from 'plaid';
import { createPlaidEmulator, type PlaidEmulator } from '../src/plaid-emulator/emulator';
import { createPlaidDeps } from '../src/plaid/client';
import { checkInvariants, createBooks, type Books } from './support/books';
import { key, listen, startTestLedger, type TestLedger } from './support/harness';

// The ledger's Plaid sync, end to end over HTTP: the real `plaid` client in the ledger talks to the emulator on a
// port; the emulator's webhooks reach the ledger on another port.

const CLIENT_ID = 'test-client';
const SECRET = 'test-secret';

let ledger: TestLedger;
let emulator: PlaidEmulator;
let emulatorServer: Server;
let emulatorUrl: string;
let ledgerServer: Awaited<ReturnType<typeof listen>>;
let sandbox: PlaidApi;
let books: Books;

beforeAll(async () => {
  ledger = await startTestLedger();
  emulator = await createPlaidEmulator({ clientId: CLIENT_ID, secret: SECRET, seed: 7, historyDays: 60 });
  emulatorServer = await new Promise<Server>((resolve) => {
    const server = emulator.app.listen(0, '127.0.0.1', () => resolve(server));
  });
  emulatorUrl = `http://127.0.0.1:${(emulatorServer.address() as AddressInfo).port}`;
  ledgerServer = await listen(ledger.app);
  ledger.deps.plaid = createPlaidDeps({ basePath: emulatorUrl, clientId: CLIENT_ID, secret: SECRET, webhookUrl: `${ledgerServer.baseUrl}/plaid/webhook` }, { syncPageSize: 50 });
  sandbox = new PlaidApi(new Configuration({ basePath: emulatorUrl, baseOptions: { headers: { 'PLAID-CLIENT-ID': CLIENT_ID, 'PLAID-SECRET': SECRET } } }));
  books = await createBooks(ledger, {
    kind: 'personal',
    name: 'Owner',
    accounts: { Groceries: 'expense_category', 'Dining Out': 'expense_category', Salary: 'income_category', Subscriptions: 'expense_category', Utilities: 'expense_category', Transport: 'expense_category' },
  });
});
afterAll(async () => {
  await emulator.settleWebhooks();
  await ledgerServer.stop();
  emulatorServer.closeAllConnections();
  await new Promise((resolve) => emulatorServer.close(resolve));
  await ledger.close();
});

async function linkSandboxItem(username: string, entityId = books.entityId) {
  const created = await sandbox.sandboxPublicTokenCreate({
    institution_id: 'ins_109508',
    initial_products: [Products.Transactions],
    options: { webhook: `${ledgerServer.baseUrl}/plaid/webhook`, override_username: username },
  });
  const item = await ledger.http.post('/plaid/items').set('Idempotency-Key', key()).send({ entityId, publicToken: created.data.public_token }).expect(201);
  return item.body;
}

describe('Plaid link and sync', () => {
  it('links, syncs, books what it can categorise, and a second sync books nothing new', async () => {
    const linkToken = await ledger.http.post('/plaid/link-token').send({ entityId: books.entityId }).expect(201);
    expect(linkToken.body.linkToken).toMatch(/^link-sandbox-/);
    const item = await linkSandboxItem('user_good');
    expect(item.institutionName).toBe('First Platypus Bank');
    expect(item.accounts.map((account: { kind: string }) => account.kind).sort()).toEqual(
      ['brokerage', 'checking', 'credit_card', 'mortgage', 'retirement', 'retirement', 'savings', 'student_loan'].sort(),
    );
    const card = item.accounts.find((account: { kind: string }) => account.kind === 'credit_card');
    expect(card.interestRateBps).toBe(1524);
    expect(card.liability).toMatchObject({ kind: 'credit', aprBps: 1524 });
    expect(card.liability.minimumPaymentCents).toBeGreaterThan(0);
    const mortgage = item.accounts.find((account: { kind: string }) => account.kind === 'mortgage');
    expect(mortgage.interestRateBps).toBe(399);
    const ira = item.accounts.find((account: { subtype: string }) => account.subtype === 'ira');
    expect(ira.holdings.length).toBeGreaterThan(0);

    // The exchange made the emulator announce SYNC_UPDATES_AVAILABLE: the webhook has run a sync already.
    await emulator.settleWebhooks();
    const afterWebhook = await ledger.http.get(`/entities/${books.entityId}/plaid/items`).expect(200);
    const listed = afterWebhook.body.items.find((candidate: { id: string }) => candidate.id === item.id);
    expect(listed.lastSyncedAt).not.toBeNull();
    const lines = await ledger.deps.db.selectFrom('bankLines').select(['status', 'entryId']).where('entityId', '=', books.entityId).execute();
    const live = emulator.liveTransactions(emulator.deliveries[0] ? (emulator.deliveries[0].body.item_id as string) : '');
    expect(lines.length).toBe(live.length);
    const booked = lines.filter((line) => line.status === 'booked');
    expect(booked.length).toBeGreaterThan(0);
    expect(lines.some((line) => line.status === 'unmatched')).toBe(true);

    const entriesBefore = await ledger.deps.db.selectFrom('journalEntries').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    const again = await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
    expect(again.body).toMatchObject({ added: 0, booked: 0, pendingStored: 0 });
    const entriesAfter = await ledger.deps.db.selectFrom('journalEntries').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(entriesAfter.n).toBe(entriesBefore.n);
    expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0 });
  });
});
