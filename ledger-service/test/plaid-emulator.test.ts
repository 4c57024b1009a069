import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Configuration, PlaidApi, Products, type TransactionsSyncRequest, type TransactionsSyncResponse } from 'plaid';
import { createPlaidEmulator, type PlaidEmulator } from '../src/plaid-emulator/emulator';
import { plaidErrorOf } from '../src/plaid/client';

// The emulator as Plaid's client sees it: the real `plaid` package over HTTP, Plaid's error shape and codes,
// and the change log behind the sync cursor.

let emulator: PlaidEmulator;
let server: Server;
let basePath: string;
const client = (clientId = 'c', secret = 's') =>
  new PlaidApi(new Configuration({ basePath, baseOptions: { headers: { 'PLAID-CLIENT-ID': clientId, 'PLAID-SECRET': secret } } }));

beforeAll(async () => {
  emulator = await createPlaidEmulator({ clientId: 'c', secret: 's', seed: 11, now: () => Date.parse('2026-11-20T12:00:00Z'), historyDays: 90 });
  server = await new Promise<Server>((resolve) => {
    const started = emulator.app.listen(0, '127.0.0.1', () => resolve(started));
  });
  basePath = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const syncOf = (request: TransactionsSyncRequest): Promise<{ data: TransactionsSyncResponse }> => client().transactionsSync(request);

async function failure(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    return { status: (error as { response?: { status: number } }).response?.status, error: plaidErrorOf(error) };
  }
  throw new Error('expected the call to fail');
}

async function accessToken(username = 'user_good') {
  const plaid = client();
  const created = await plaid.sandboxPublicTokenCreate({ institution_id: 'ins_109508', initial_products: [Products.Transactions], options: { override_username: username } });
  return (await plaid.itemPublicTokenExchange({ public_token: created.data.public_token })).data.access_token;
}

describe('Plaid emulator', () => {
  it("checks client_id and secret, and answers in Plaid's error shape", async () => {
    const wrong = await failure(client('c', 'nope').accountsGet({ access_token: 'access-sandbox-x' }));
    expect(wrong.status).toBe(400);
    expect(wrong.error).toMatchObject({ error_type: 'INVALID_INPUT', error_code: 'INVALID_API_KEYS', display_message: null });
    expect(wrong.error?.request_id).toEqual(expect.any(String));
    const unknown = await failure(client().accountsGet({ access_token: 'access-sandbox-x' }));
    expect(unknown.error?.error_code).toBe('INVALID_ACCESS_TOKEN');
    const missing = await failure(syncOf({} as never));
    expect(missing.error).toMatchObject({ error_type: 'INVALID_REQUEST', error_code: 'MISSING_FIELDS' });
    const reused = await client().sandboxPublicTokenCreate({ institution_id: 'ins_109508', initial_products: [Products.Transactions] });
    await client().itemPublicTokenExchange({ public_token: reused.data.public_token });
    expect((await failure(client().itemPublicTokenExchange({ public_token: reused.data.public_token }))).error?.error_code).toBe('INVALID_PUBLIC_TOKEN');
  });

  it('generates the same data from the same seed, with realistic recurring activity', async () => {
    const firstItemSync = async (): Promise<TransactionsSyncResponse> => {
      const fresh = await createPlaidEmulator({ clientId: 'c', secret: 's', seed: 11, now: () => Date.parse('2026-11-20T12:00:00Z'), historyDays: 90 });
      const listening = fresh.app.listen(0, '127.0.0.1');
      await new Promise((resolve) => listening.once('listening', resolve));
      try {
        const plaid = new PlaidApi(new Configuration({ basePath: `http://127.0.0.1:${(listening.address() as AddressInfo).port}`, baseOptions: { headers: { 'PLAID-CLIENT-ID': 'c', 'PLAID-SECRET': 's' } } }));
        const created = await plaid.sandboxPublicTokenCreate({ institution_id: 'ins_109508', initial_products: [Products.Transactions], options: { override_username: 'user_good' } });
        const exchanged = await plaid.itemPublicTokenExchange({ public_token: created.data.public_token });
        return (await plaid.transactionsSync({ access_token: exchanged.data.access_token, count: 500 })).data;
      } finally {
        listening.closeAllConnections();
        listening.close();
      }
    };
    const [first, second] = [await firstItemSync(), await firstItemSync()];
    const strip = (sync: typeof first) => sync.added.map((transaction) => [transaction.transaction_id, transaction.account_id, transaction.amount, transaction.date]);
    expect(strip(second)).toEqual(strip(first));
    expect(first.added.length).toBeGreaterThan(50);
    const names = new Set(first.added.map((transaction) => transaction.name));
    for (const expected of ['ACME CORP PAYROLL', 'PLAID MORTGAGE PMT', 'NELNET STUDENT LN', 'CON EDISON', 'NETFLIX.COM', 'FIDELITY IRA CONTRIB']) expect(names).toContain(expected);
    const payroll = first.added.filter((transaction) => transaction.name === 'ACME CORP PAYROLL');
    expect(payroll.every((transaction) => transaction.amount === -3250)).toBe(true);
    expect(first.accounts.map((account) => account.subtype)).toEqual(expect.arrayContaining(['checking', 'savings', 'credit card', 'mortgage', 'student', 'ira', '401k', 'brokerage']));
  });

  it('pages the change log with has_more and refuses a cursor whose update changed mid-pagination', async () => {
    const token = await accessToken('user_good');
    const itemId = emulator.itemIdOf(token);
    const page1 = (await syncOf({ access_token: token, count: 10 })).data;
    expect(page1.added).toHaveLength(10);
    expect(page1.has_more).toBe(true);
    const page2 = (await syncOf({ access_token: token, cursor: page1.next_cursor, count: 10 })).data;
    expect(page2.added.map((transaction) => transaction.transaction_id)).not.toContain(page1.added[0]?.transaction_id);
    emulator.modifyTransaction(itemId, page1.added[0]?.transaction_id as string, { amountCents: 100 });
    const mutated = await failure(syncOf({ access_token: token, cursor: page2.next_cursor, count: 10 }));
    expect(mutated.error).toMatchObject({ error_type: 'TRANSACTIONS_ERROR', error_code: 'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION' });
    // Restarting from the beginning of the update works, and the end of the log says has_more=false.
    // Within a page each transaction appears once, in its final state: the change made above reads as added at 1.00.
    let cursor: string | undefined;
    const seen: { transaction_id: string; amount: number }[] = [];
    for (;;) {
      const page = (await syncOf({ access_token: token, count: 200, ...(cursor ? { cursor } : {}) })).data;
      seen.push(...page.added, ...page.modified);
      cursor = page.next_cursor;
      if (!page.has_more) break;
    }
    expect(seen).toHaveLength(emulator.liveTransactions(itemId).length);
    expect(seen.find((transaction) => transaction.transaction_id === page1.added[0]?.transaction_id)?.amount).toBe(1);
    const idle = (await syncOf({ access_token: token, cursor })).data;
    expect(idle).toMatchObject({ added: [], modified: [], removed: [], has_more: false });
  });

  it('posts a pending transaction under a new id and removes the pending id', async () => {
    const token = await accessToken('user_transactions_dynamic');
    let cursor = (await syncOf({ access_token: token, count: 500 })).data.next_cursor;
    await client().transactionsRefresh({ access_token: token });
    const pending = (await syncOf({ access_token: token, cursor })).data;
    expect(pending.added.length).toBe(3);
    expect(pending.added.every((transaction) => transaction.pending)).toBe(true);
    cursor = pending.next_cursor;
    await client().transactionsRefresh({ access_token: token });
    const posted = (await syncOf({ access_token: token, cursor })).data;
    const pendingIds = pending.added.map((transaction) => transaction.transaction_id).sort();
    expect(posted.removed.map((removed) => removed.transaction_id).sort()).toEqual(expect.arrayContaining(pendingIds));
    const successors = posted.added.filter((transaction) => transaction.pending_transaction_id !== null);
    expect(successors.map((transaction) => transaction.pending_transaction_id).sort()).toEqual(pendingIds);
    expect(successors.every((transaction) => !transaction.pending && !pendingIds.includes(transaction.transaction_id))).toBe(true);
  });

  it('requires a login after reset_login, and serves liabilities, holdings and the webhook key', async () => {
    const token = await accessToken('user_good');
    const liabilities = (await client().liabilitiesGet({ access_token: token })).data.liabilities;
    expect(liabilities.credit?.[0]?.aprs[0]?.apr_percentage).toBe(15.24);
    expect(liabilities.mortgage?.[0]?.interest_rate.percentage).toBe(3.99);
    expect(liabilities.student?.[0]?.interest_rate_percentage).toBe(5.25);
    const holdings = (await client().investmentsHoldingsGet({ access_token: token })).data;
    expect(holdings.holdings.length).toBeGreaterThan(0);
    expect(holdings.securities.map((security: { ticker_symbol: string | null }) => security.ticker_symbol)).toContain('VTI');
    await client().sandboxItemResetLogin({ access_token: token });
    const locked = await failure(syncOf({ access_token: token }));
    expect(locked.error).toMatchObject({ error_type: 'ITEM_ERROR', error_code: 'ITEM_LOGIN_REQUIRED' });
    expect((await client().itemGet({ access_token: token })).data.item.error?.error_code).toBe('ITEM_LOGIN_REQUIRED');
    const signed = await emulator.signWebhook(emulator.itemIdOf(token), { webhook_type: 'ITEM', webhook_code: 'ERROR' });
    const kid = JSON.parse(Buffer.from(signed.jwt.split('.')[0] as string, 'base64url').toString()).kid;
    const key = (await client().webhookVerificationKeyGet({ key_id: kid })).data.key;
    expect(key).toMatchObject({ alg: 'ES256', kty: 'EC', crv: 'P-256', kid, expired_at: null });
    expect((await failure(client().webhookVerificationKeyGet({ key_id: 'nope' }))).error?.error_code).toBe('INVALID_WEBHOOK_VERIFICATION_KEY_ID');
  });
});
