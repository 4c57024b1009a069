import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { sql } from 'kysely';
import { Configuration, PlaidApi, Products } from 'plaid';
import { createPlaidEmulator, type PlaidEmulator } from '../src/plaid-emulator/emulator';
import { createPlaidDeps } from '../src/plaid/client';
import { verifyAuditChain } from '../src/services/audit';
import { entryHash } from '../src/services/journal';
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
  ledger.deps.plaid = createPlaidDeps({ basePath: emulatorUrl, clientId: CLIENT_ID, secret: SECRET, webhookUrl: `${ledgerServer.baseUrl}/plaid/webhook`, emulator: true }, { syncPageSize: 50 });
  sandbox = new PlaidApi(new Configuration({ basePath: emulatorUrl, baseOptions: { headers: { 'PLAID-CLIENT-ID': CLIENT_ID, 'PLAID-SECRET': SECRET } } }));
  books = await createBooks(ledger, {
    kind: 'personal',
    name: 'Owner',
    accounts: { Shopping: 'expense_category', Groceries: 'expense_category', 'Dining Out': 'expense_category', Salary: 'income_category', Subscriptions: 'expense_category', Utilities: 'expense_category', Transport: 'expense_category' },
  });
});
afterAll(async () => {
  await emulator.settleWebhooks();
  await ledgerServer.stop();
  emulatorServer.closeAllConnections();
  await new Promise((resolve) => emulatorServer.close(resolve));
  await ledger.close();
});

async function linkSandboxItem(username: string, entityId = books.entityId, options: { webhook?: boolean } = {}) {
  const created = await sandbox.sandboxPublicTokenCreate({
    institution_id: username === 'user_llc' ? 'ins_109511' : 'ins_109508',
    initial_products: [Products.Transactions],
    options: { ...(options.webhook === false ? {} : { webhook: `${ledgerServer.baseUrl}/plaid/webhook` }), override_username: username },
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

    // The first sync (the emulator's initial SYNC_UPDATES_AVAILABLE may arrive before the link is committed).
    await emulator.settleWebhooks();
    await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
    const plaidItemId = await plaidItemIdOf(item.id);
    const lines = await ledger.deps.db.selectFrom('bankLines').select(['status', 'entryId']).where('entityId', '=', books.entityId).execute();
    expect(lines.length).toBe(emulator.liveTransactions(plaidItemId).length);
    const booked = lines.filter((line) => line.status === 'booked');
    expect(booked.length).toBeGreaterThan(0);
    expect(lines.some((line) => line.status === 'unmatched')).toBe(true);

    // New activity at the bank: Plaid's webhook makes the ledger sync incrementally on its own.
    await sandbox.sandboxTransactionsCreate({
      access_token: emulator.accessTokenOf(plaidItemId),
      transactions: [{ date_transacted: '2026-11-20', date_posted: '2026-11-21', amount: 42.5, description: 'CORNER GROCER' }],
    });
    await emulator.settleWebhooks();
    const incremental = await ledger.deps.db.selectFrom('bankLines').select(['memo', 'amountCents']).where('entityId', '=', books.entityId).where('memo', '=', 'CORNER GROCER').execute();
    expect(incremental).toEqual([{ memo: 'CORNER GROCER', amountCents: '-4250' }]);

    const entriesBefore = await ledger.deps.db.selectFrom('journalEntries').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    const again = await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
    expect(again.body).toMatchObject({ added: 0, booked: 0, pendingStored: 0 });
    const entriesAfter = await ledger.deps.db.selectFrom('journalEntries').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(entriesAfter.n).toBe(entriesBefore.n);
    expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0 });
  });
});

describe('Plaid booking, set-based', () => {
  it('books each page with the very entries, events and audit rows the journal writes one entry at a time', async () => {
    const owner = await createBooks(ledger, {
      kind: 'personal',
      name: 'Set-based owner',
      accounts: { Shopping: 'expense_category', Groceries: 'expense_category', 'Dining Out': 'expense_category', Salary: 'income_category', Subscriptions: 'expense_category', Utilities: 'expense_category', Transport: 'expense_category' },
    });
    const item = await linkSandboxItem('user_good', owner.entityId, { webhook: false });
    const sync = await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
    expect(sync.body.pages).toBeGreaterThan(1);
    const lines = await ledger.deps.db
      .selectFrom('bankLines')
      .select(['id', 'accountId', 'externalId', 'status', 'entryId', 'amountCents', 'payee', 'memo', 'pending', 'authorizedOn', 'raw'])
      .where('entityId', '=', owner.entityId)
      .execute();
    const booked = lines.filter((line) => line.status === 'booked');
    // Lines stored already booked keep everything Plaid said: the authorized date and the raw facts too (read back
    // through the camel-case plugin).
    const live = new Map(emulator.liveTransactions(await plaidItemIdOf(item.id)).map((transaction) => [transaction.transactionId, transaction]));
    for (const line of booked) {
      expect(line.authorizedOn).toBe(live.get(line.externalId)?.authorizedDate);
      expect(line.raw).toMatchObject({ transactionId: line.externalId, personalFinanceCategory: { primary: live.get(line.externalId)?.category.primary } });
    }
    expect(booked.length).toBe(sync.body.booked);
    expect(booked.length).toBeGreaterThan(20);
    expect(booked.every((line) => !line.pending)).toBe(true);
    const entryIds = booked.map((line) => line.entryId as string);
    expect(new Set(entryIds).size).toBe(booked.length);
    const entries = new Map(
      (await ledger.deps.db.selectFrom('journalEntries').select(['id', 'postedOn', 'description', 'source', 'idempotencyKey', 'contentHash']).where('id', 'in', entryIds).execute()).map((entry) => [entry.id, entry]),
    );
    const postings = await ledger.deps.db.selectFrom('postings').select(['entryId', 'accountId', 'amountCents', 'memo']).where('entryId', 'in', entryIds).orderBy('id').execute();
    for (const line of booked) {
      const entry = entries.get(line.entryId as string);
      expect(entry).toMatchObject({ source: 'plaid', idempotencyKey: `bank-line:${line.id}`, description: line.payee ?? line.memo });
      const own = postings.filter((posting) => posting.entryId === line.entryId);
      expect(own).toHaveLength(2);
      expect(own[0]).toMatchObject({ accountId: line.accountId, amountCents: line.amountCents, memo: line.memo });
      expect(own[1]).toMatchObject({ amountCents: String(-Number(line.amountCents)), memo: null });
      const draft = {
        postedOn: (entry as { postedOn: string }).postedOn,
        description: (entry as { description: string }).description,
        source: 'plaid' as const,
        postings: own.map((posting) => ({ accountId: posting.accountId, amountCents: Number(posting.amountCents), memo: posting.memo ?? undefined })),
      };
      expect(entry?.contentHash).toBe(entryHash(draft));
    }
    // One `entry.booked` audit row and one `entry.posted` event per entry, each the entry as the API serves it.
    const audited = await sql<{ objectId: string; after: { id: string; createdAt: string; postings: unknown[] } }>`
      select object_id as "objectId", after from audit_log where action = 'entry.booked' and entity_id = ${owner.entityId}`.execute(ledger.deps.db);
    expect(audited.rows.map((row) => row.objectId).sort()).toEqual([...entryIds].sort());
    const events = await sql<{ payload: { entry: { id: string } } }>`select payload from ledger_events where type = 'entry.posted' and entity_id = ${owner.entityId}`.execute(ledger.deps.db);
    expect(events.rows.map((row) => row.payload.entry.id).sort()).toEqual([...entryIds].sort());
    for (const entryId of [entryIds[0], entryIds.at(-1)] as string[]) {
      const served = await ledger.http.get(`/entries/${entryId}`).expect(200);
      const { reversedByEntryId: _reversedBy, ...view } = served.body;
      expect(audited.rows.find((row) => row.objectId === entryId)?.after).toMatchObject(view);
      expect(events.rows.find((row) => row.payload.entry.id === entryId)?.payload.entry).toMatchObject(view);
    }
    // Every booked line is named, once, by a `bank_lines.booked` row; every page by a `bank_lines.recorded` row per account.
    const batches = await sql<{ after: { lines: { bankLineId: string; entryId: string }[] } }>`
      select after from audit_log where action = 'bank_lines.booked' and entity_id = ${owner.entityId}`.execute(ledger.deps.db);
    const named = batches.rows.flatMap((row) => row.after.lines);
    expect(named.map((entry) => entry.bankLineId).sort()).toEqual(booked.map((line) => line.id).sort());
    expect(named.every((entry) => booked.find((line) => line.id === entry.bankLineId)?.entryId === entry.entryId)).toBe(true);
    const recorded = await sql<{ inserted: number; duplicates: number }>`
      select (after->>'inserted')::int as inserted, (after->>'duplicates')::int as duplicates from audit_log where action = 'bank_lines.recorded' and entity_id = ${owner.entityId}`.execute(ledger.deps.db);
    expect(recorded.rows.reduce((sum, row) => sum + row.inserted, 0)).toBe(lines.length);
    expect((await verifyAuditChain(ledger.deps.db)).ok).toBe(true);
    expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0 });
  });
});

async function plaidItemIdOf(itemId: string): Promise<string> {
  return (await ledger.deps.db.selectFrom('plaidItems').select('plaidItemId').where('id', '=', itemId).executeTakeFirstOrThrow()).plaidItemId;
}

async function linesOf(itemId: string) {
  return ledger.deps.db
    .selectFrom('bankLines as l')
    .innerJoin('plaidAccounts as p', 'p.accountId', 'l.accountId')
    .select(['l.id', 'l.externalId', 'l.status', 'l.entryId', 'l.pending', 'l.pendingExternalId', 'l.amountCents'])
    .where('p.itemId', '=', itemId)
    .execute();
}

async function entryCount(): Promise<number> {
  const row = await ledger.deps.db.selectFrom('journalEntries').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('Plaid changes after the first sync', () => {
  it('stores pending purchases unbooked, and books each once when it posts under a new id', async () => {
    const item = await linkSandboxItem('user_transactions_dynamic');
    await emulator.settleWebhooks();
    const plaidItemId = await plaidItemIdOf(item.id);
    const accessToken = emulator.accessTokenOf(plaidItemId);
    await sandbox.transactionsRefresh({ access_token: accessToken });
    await emulator.settleWebhooks();
    const pending = (await linesOf(item.id)).filter((line) => line.pending);
    expect(pending).toHaveLength(3);
    expect(pending.every((line) => line.entryId === null && line.status === 'unmatched')).toBe(true);

    // The bank posts them: new ids, pending_transaction_id pointing back, the pending ids removed.
    await sandbox.transactionsRefresh({ access_token: accessToken });
    await emulator.settleWebhooks();
    const lines = await linesOf(item.id);
    for (const line of pending) {
      const before = lines.find((candidate) => candidate.id === line.id);
      expect(before).toMatchObject({ status: 'removed', entryId: null });
      const posted = lines.filter((candidate) => candidate.pendingExternalId === line.externalId);
      expect(posted).toHaveLength(1);
      expect(posted[0]).toMatchObject({ pending: false, status: 'booked', amountCents: line.amountCents });
      const entries = await ledger.deps.db.selectFrom('journalEntries').select('id').where('idempotencyKey', '=', `bank-line:${posted[0]?.id}`).execute();
      expect(entries).toHaveLength(1);
    }
    const entries = await entryCount();
    const again = await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
    expect(again.body).toMatchObject({ added: 0, removed: 0, booked: 0 });
    expect(await entryCount()).toBe(entries);
  });

  it('reverses the entry of a transaction the bank removes, and re-books one it modifies', async () => {
    const item = await linkSandboxItem('user_good', books.entityId, { webhook: false });
    const first = await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
    expect(first.body.pages).toBeGreaterThan(1);
    const plaidItemId = await plaidItemIdOf(item.id);
    const bookedLines = (await linesOf(item.id)).filter((line) => line.status === 'booked');
    const [gone, changed] = bookedLines as [(typeof bookedLines)[number], (typeof bookedLines)[number]];
    emulator.removeTransaction(plaidItemId, gone.externalId);
    emulator.modifyTransaction(plaidItemId, changed.externalId, { amountCents: 4_321 });
    const sync = await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
    expect(sync.body).toMatchObject({ removed: 1, modified: 1, booked: 1 });

    const lines = await linesOf(item.id);
    expect(lines.find((line) => line.id === gone.id)).toMatchObject({ status: 'removed', entryId: gone.entryId });
    const reversal = await ledger.deps.db.selectFrom('journalEntries').select('id').where('reversesEntryId', '=', gone.entryId).execute();
    expect(reversal).toHaveLength(1);
    expect(lines.find((line) => line.id === changed.id)?.status).toBe('removed');
    const revision = lines.filter((line) => line.externalId.startsWith(`${changed.externalId}@`));
    expect(revision).toHaveLength(1);
    expect(revision[0]).toMatchObject({ status: 'booked', amountCents: '-4321' });
    const changedReversal = await ledger.deps.db.selectFrom('journalEntries').select('id').where('reversesEntryId', '=', changed.entryId).execute();
    expect(changedReversal).toHaveLength(1);
    // Nothing is applied twice.
    const entries = await entryCount();
    await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
    expect(await entryCount()).toBe(entries);
    expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0 });
  });

  it('restarts from the first cursor of the update when the data changes during pagination', async () => {
    const llc = await createBooks(ledger, { name: 'Pagination LLC', accounts: { 'Client Revenue': 'income_category', 'Software & Subscriptions': 'expense_category' } });
    const item = await linkSandboxItem('user_llc', llc.entityId, { webhook: false });
    const plaidItemId = await plaidItemIdOf(item.id);
    const plaidDeps = ledger.deps.plaid as NonNullable<typeof ledger.deps.plaid>;
    const client = plaidDeps.client;
    const original = client.transactionsSync.bind(client);
    let calls = 0;
    const mutated: string[] = [];
    client.transactionsSync = (async (...args: Parameters<typeof original>) => {
      const response = await original(...args);
      calls += 1;
      if (calls === 2) {
        // Between page 2 and page 3 the bank changes a transaction the client has already seen.
        const victim = emulator.liveTransactions(plaidItemId).find((transaction) => !transaction.pending) as { transactionId: string };
        emulator.modifyTransaction(plaidItemId, victim.transactionId, { amountCents: 12_345 });
        mutated.push(victim.transactionId);
      }
      return response;
    }) as typeof client.transactionsSync;
    plaidDeps.syncPageSize = 10;
    try {
      const sync = await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
      expect(sync.body.restarts).toBe(1);
      expect(sync.body.hasMore).toBe(false);
    } finally {
      client.transactionsSync = original;
      plaidDeps.syncPageSize = 50;
    }
    const live = emulator.liveTransactions(plaidItemId);
    const lines = (await linesOf(item.id)).filter((line) => line.status !== 'removed');
    // Every live transaction is stored exactly once, in its final state.
    expect(lines).toHaveLength(live.length);
    const modified = lines.filter((line) => line.externalId.startsWith(mutated[0] as string));
    expect(modified).toHaveLength(1);
    expect(modified[0]?.amountCents).toBe('-12345');
    expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0 });
  });
});

describe('Plaid webhooks', () => {
  let itemId: string;
  let plaidItemId: string;

  beforeAll(async () => {
    const item = await linkSandboxItem('user_llc', books.entityId, { webhook: false });
    itemId = item.id;
    plaidItemId = await plaidItemIdOf(item.id);
  });

  const itemError = { webhook_type: 'ITEM', webhook_code: 'ERROR', error: { error_type: 'ITEM_ERROR', error_code: 'ITEM_LOGIN_REQUIRED', error_message: 'forged' } };
  const status = async () => (await ledger.deps.db.selectFrom('plaidItems').select('status').where('id', '=', itemId).executeTakeFirstOrThrow()).status;
  const post = (payload: string, jwt?: string) => {
    const request = ledger.anonymous.post('/plaid/webhook').set('content-type', 'application/json');
    return (jwt === undefined ? request : request.set('Plaid-Verification', jwt)).send(payload);
  };

  it('refuses forged, stale, tampered and re-signed webhooks with 401, acting on none', async () => {
    const { SignJWT, generateKeyPair } = await import('jose');
    const { createHash } = await import('node:crypto');
    const genuine = await emulator.signWebhook(plaidItemId, itemError);
    const kid = JSON.parse(Buffer.from(genuine.jwt.split('.')[0] as string, 'base64url').toString()).kid as string;
    const attacker = await generateKeyPair('ES256');
    const sign = (payload: string, header: Record<string, unknown>, iat = Math.floor(Date.now() / 1000)) =>
      new SignJWT({ request_body_sha256: createHash('sha256').update(payload).digest('hex') })
        .setProtectedHeader({ alg: 'ES256', ...header })
        .setIssuedAt(iat)
        .sign(attacker.privateKey);
    const stale = await emulator.signWebhook(plaidItemId, itemError, Math.floor(Date.now() / 1000) - 6 * 60);
    const hmac = await new SignJWT({ request_body_sha256: createHash('sha256').update(genuine.payload).digest('hex') })
      .setProtectedHeader({ alg: 'HS256', kid })
      .setIssuedAt()
      .sign(new TextEncoder().encode('x'.repeat(32)));
    const attempts: [string, string, string | undefined][] = [
      ['no signature', genuine.payload, undefined],
      ['garbage signature', genuine.payload, 'not.a.jwt'],
      ['stale (6 minutes)', stale.payload, stale.jwt],
      ['body tampered', genuine.payload.replace('forged', 'FORGED'), genuine.jwt],
      ['re-signed with another key under Plaid kid', genuine.payload, await sign(genuine.payload, { kid })],
      ['signed with an unknown kid', genuine.payload, await sign(genuine.payload, { kid: 'attacker-key' })],
      ['HS256', genuine.payload, hmac],
    ];
    for (const [label, payload, jwt] of attempts) {
      const response = await post(payload, jwt);
      expect({ label, status: response.status, code: response.body.error?.code }).toEqual({ label, status: 401, code: 'webhook_unverified' });
      expect(await status()).toBe('healthy');
    }
    // The genuine one, delivered fresh, is acted on: so the refusals above are not an artefact.
    const accepted = await post(genuine.payload, genuine.jwt).expect(200);
    expect(accepted.body).toEqual({ received: true, action: 'status_changed' });
    expect(await status()).toBe('login_required');
    const repaired = await emulator.signWebhook(plaidItemId, { webhook_type: 'ITEM', webhook_code: 'LOGIN_REPAIRED' });
    await post(repaired.payload, repaired.jwt).expect(200);
    expect(await status()).toBe('healthy');
  });

  it('login reset → item error → update mode → repaired', async () => {
    const item = await linkSandboxItem('user_good', books.entityId);
    await emulator.settleWebhooks();
    const accessToken = emulator.accessTokenOf(await plaidItemIdOf(item.id));
    await sandbox.sandboxItemResetLogin({ access_token: accessToken });
    await emulator.settleWebhooks();
    const broken = await ledger.http.get(`/entities/${books.entityId}/plaid/items`).expect(200);
    expect(broken.body.items.find((candidate: { id: string }) => candidate.id === item.id)).toMatchObject({
      status: 'login_required',
      error: { code: 'ITEM_LOGIN_REQUIRED', type: 'ITEM_ERROR' },
    });
    const refused = await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(409);
    expect(refused.body.error).toMatchObject({ code: 'plaid_item_error', details: { plaidErrorCode: 'ITEM_LOGIN_REQUIRED' } });

    const update = await ledger.http.post(`/plaid/items/${item.id}/update-link-token`).expect(201);
    // The user goes through Link in update mode (the emulator stands in for the browser).
    const completed = await fetch(`${emulatorUrl}/emulator/link/complete`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link_token: update.body.linkToken }) });
    expect(completed.status).toBe(200);
    await emulator.settleWebhooks();
    const repaired = await ledger.http.get(`/plaid/items/${item.id}/accounts`).expect(200);
    expect(repaired.body).toMatchObject({ status: 'healthy', error: null });
    expect(repaired.body.accounts.every((account: { balancesAt: string | null }) => account.balancesAt !== null)).toBe(true);
    await ledger.http.post(`/plaid/items/${item.id}/sync`).expect(200);
  });

  it('keeps the access token out of every readable column', async () => {
    const items = await ledger.deps.db.selectFrom('plaidItems').select(['plaidItemId', 'accessTokenSecretId']).execute();
    expect(items.length).toBeGreaterThan(0);
    const dump = JSON.stringify(
      await Promise.all(
        ['plaid_items', 'plaid_accounts', 'encrypted_secrets', 'audit_log', 'idempotency_keys', 'bank_lines'].map(
          async (table) => (await sql.raw(`select row_to_json(t)::text as row from ${table} t`).execute(ledger.deps.db)).rows,
        ),
      ),
    );
    for (const item of items) {
      const token = emulator.accessTokenOf(item.plaidItemId);
      expect(dump).not.toContain(token);
      expect(dump).not.toContain(token.slice('access-sandbox-'.length));
    }
  });
});
