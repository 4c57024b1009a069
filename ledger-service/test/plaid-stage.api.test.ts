import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { sql } from 'kysely';
import { Configuration, PlaidApi, Products } from 'plaid';
import { createPlaidEmulator, type PlaidEmulator } from '../src/plaid-emulator/emulator';
import { createPlaidDeps } from '../src/plaid/client';
import { verifyAuditChain } from '../src/services/audit';
import { checkInvariants, createBooks, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// A Plaid sync keeps its stage tables, and the set-based booking its audit rows, on the connection (emptied by every
// commit), while an import creates and drops tables of the same names with its own transaction. With one connection
// for everything, syncs and imports take turns on it: each must book exactly its own lines, once.

const CLIENT_ID = 'stage-client';
const SECRET = 'stage-secret';

let ledger: TestLedger;
let emulator: PlaidEmulator;
let emulatorServer: Server;
let sandbox: PlaidApi;
let books: Books;

beforeAll(async () => {
  ledger = await startTestLedger({ poolSizeMax: 1 });
  emulator = await createPlaidEmulator({ clientId: CLIENT_ID, secret: SECRET, seed: 11, historyDays: 60 });
  emulatorServer = await new Promise<Server>((resolve) => {
    const server = emulator.app.listen(0, '127.0.0.1', () => resolve(server));
  });
  const emulatorUrl = `http://127.0.0.1:${(emulatorServer.address() as AddressInfo).port}`;
  ledger.deps.plaid = createPlaidDeps({ basePath: emulatorUrl, clientId: CLIENT_ID, secret: SECRET, webhookUrl: undefined, emulator: true }, { syncPageSize: 40 });
  sandbox = new PlaidApi(new Configuration({ basePath: emulatorUrl, baseOptions: { headers: { 'PLAID-CLIENT-ID': CLIENT_ID, 'PLAID-SECRET': SECRET } } }));
  books = await createBooks(ledger, {
    kind: 'personal',
    name: 'Stage owner',
    accounts: {
      Shopping: 'expense_category',
      Groceries: 'expense_category',
      'Dining Out': 'expense_category',
      Salary: 'income_category',
      Subscriptions: 'expense_category',
      Utilities: 'expense_category',
      Transport: 'expense_category',
      Software: 'expense_category',
      'Other bank': 'checking',
    },
  });
});
afterAll(async () => {
  await emulator.settleWebhooks();
  emulatorServer.closeAllConnections();
  await new Promise((resolve) => emulatorServer.close(resolve));
  await ledger.close();
});

const csv = (rows: string[]) => Buffer.from(['Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #', ...rows].join('\n'));

function upload(accountId: string, name: string, bytes: Buffer) {
  return ledger.http.post(`/accounts/${accountId}/imports`).set('Idempotency-Key', key('import')).attach('file', bytes, name);
}

async function bookedLines(): Promise<{ id: string; accountId: string; entryId: string | null; payee: string | null }[]> {
  return ledger.deps.db.selectFrom('bankLines').select(['id', 'accountId', 'entryId', 'payee']).where('entityId', '=', books.entityId).where('status', '=', 'booked').execute();
}

describe('Plaid sync and imports on one connection', () => {
  it('book exactly their own lines, once each, with every audit row chained', async () => {
    const created = await sandbox.sandboxPublicTokenCreate({ institution_id: 'ins_109508', initial_products: [Products.Transactions], options: { override_username: 'user_good' } });
    const item = (await ledger.http.post('/plaid/items').set('Idempotency-Key', key()).send({ entityId: books.entityId, publicToken: created.data.public_token }).expect(201)).body;
    const first = await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
    expect(first.body.pages).toBeGreaterThan(1);
    expect(first.body.booked).toBeGreaterThan(20);

    await ledger.http
      .post(`/entities/${books.entityId}/rules`)
      .set('Idempotency-Key', key())
      .send({ name: 'Figma is software', conditions: { payeeContains: 'figma' }, action: { categoryAccountId: books.accounts.Software } })
      .expect(201);
    const otherBank = books.accounts['Other bank'] as string;
    const imported = await upload(otherBank, 'first.csv', csv(['DEBIT,11/03/2026,FIGMA INC,-15.00,DEBIT_CARD,985.00,,', 'DEBIT,11/04/2026,CORNER SHOP,-7.25,DEBIT_CARD,977.75,,'])).expect(201);
    expect(imported.body).toMatchObject({ new: 2, booked: 1 });

    // New activity at the bank, synced on the connection the import just used.
    const plaidItemId = (await ledger.deps.db.selectFrom('plaidItems').select('plaidItemId').where('id', '=', item.id).executeTakeFirstOrThrow()).plaidItemId;
    await sandbox.sandboxTransactionsCreate({
      access_token: emulator.accessTokenOf(plaidItemId),
      transactions: [{ date_transacted: '2026-11-20', date_posted: '2026-11-21', amount: 42.5, description: 'CORNER GROCER' }],
    });
    const second = await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
    expect(second.body).toMatchObject({ added: 1, duplicates: 0 });
    await upload(otherBank, 'second.csv', csv(['DEBIT,11/05/2026,FIGMA INC,-30.00,DEBIT_CARD,947.75,,'])).expect(201);
    const third = await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
    expect(third.body).toMatchObject({ added: 0, booked: 0 });

    const booked = await bookedLines();
    // The sync's own lines: what its three runs reported booked; the imports': the two Figma lines, by the rule.
    const imports = booked.filter((line) => line.accountId === otherBank);
    expect(imports.map((line) => line.payee).sort()).toEqual(['FIGMA INC', 'FIGMA INC']);
    expect(booked.length - imports.length).toBe(first.body.booked + second.body.booked);
    const entries = await ledger.deps.db
      .selectFrom('journalEntries')
      .select(['id', 'idempotencyKey'])
      .where('entityId', '=', books.entityId)
      .where('idempotencyKey', 'like', 'bank-line:%')
      .execute();
    expect(entries).toHaveLength(booked.length);
    const entryOf = new Map(entries.map((entry) => [entry.idempotencyKey, entry.id]));
    expect(booked.every((line) => entryOf.get(`bank-line:${line.id}`) === line.entryId)).toBe(true);
    const audited = await sql<{ objectId: string }>`select object_id as "objectId" from audit_log where action = 'entry.booked' and entity_id = ${books.entityId}`.execute(ledger.deps.db);
    expect(audited.rows.map((row) => row.objectId).sort()).toEqual(entries.map((entry) => entry.id).sort());
    expect((await verifyAuditChain(ledger.deps.db)).ok).toBe(true);
    expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0 });
  });
});
