import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Configuration, PlaidApi, Products } from 'plaid';
import { createPlaidEmulator, type PlaidEmulator } from '../src/plaid-emulator/emulator';
import { createPlaidDeps } from '../src/plaid/client';
import { dueDates, parseBillRule } from '../src/domain/bills';
import { monthlyRuleFor } from '../src/services/plaid-facts';
import { checkInvariants, createBooks, type Books } from './support/books';
import { key, listen, startTestLedger, type TestLedger } from './support/harness';

// Plaid liabilities and investments, end to end over HTTP: the real `plaid` client in the ledger talks to the
// emulator. Liabilities become bills (card: statement balance, due date; loans: the payment) and rates on the
// accounts; holdings and investment transactions land in the brokerage/retirement accounts. Refreshing twice
// changes nothing.

const CLIENT_ID = 'test-client';
const SECRET = 'test-secret';
// The emulator and the ledger share one clock, so "today" is the same on both sides.
// A fixed day in the past (tokens issued at the real time stay valid when the clock goes back, not forward).
const NOW_MS = Date.UTC(2026, 10, 24, 0, 5);

let ledger: TestLedger;
let emulator: PlaidEmulator;
let emulatorServer: Server;
let emulatorUrl: string;
let ledgerServer: Awaited<ReturnType<typeof listen>>;
let sandbox: PlaidApi;
let books: Books;
let item: { id: string; accounts: { accountId: string; kind: string; subtype: string; currentCents: number; plaidAccountId: string; name: string }[] };

interface BillRow {
  id: string;
  name: string;
  rrule: string;
  startsOn: string;
  amountCents: number;
  estimated: boolean;
  categoryAccountId: string;
  payFromAccountId: string;
}

beforeAll(async () => {
  ledger = await startTestLedger();
  ledger.clock.set(NOW_MS);
  emulator = await createPlaidEmulator({ clientId: CLIENT_ID, secret: SECRET, seed: 11, historyDays: 30, now: () => NOW_MS });
  emulatorServer = await new Promise<Server>((resolve) => {
    const server = emulator.app.listen(0, '127.0.0.1', () => resolve(server));
  });
  emulatorUrl = `http://127.0.0.1:${(emulatorServer.address() as AddressInfo).port}`;
  ledgerServer = await listen(ledger.app);
  ledger.deps.plaid = createPlaidDeps({ basePath: emulatorUrl, clientId: CLIENT_ID, secret: SECRET, webhookUrl: undefined, emulator: true }, { syncPageSize: 100 });
  sandbox = new PlaidApi(new Configuration({ basePath: emulatorUrl, baseOptions: { headers: { 'PLAID-CLIENT-ID': CLIENT_ID, 'PLAID-SECRET': SECRET } } }));
  books = await createBooks(ledger, { kind: 'personal', name: 'Owner', accounts: {} });
  const created = await sandbox.sandboxPublicTokenCreate({
    institution_id: 'ins_109508',
    initial_products: [Products.Transactions, Products.Liabilities, Products.Investments],
    options: { override_username: 'user_good' },
  });
  const linked = await ledger.http.post('/plaid/items').set('Idempotency-Key', key()).send({ entityId: books.entityId, publicToken: created.data.public_token }).expect(201);
  item = linked.body;
});
afterAll(async () => {
  await emulator.settleWebhooks();
  await ledgerServer.stop();
  emulatorServer.closeAllConnections();
  await new Promise((resolve) => emulatorServer.close(resolve));
  await ledger.close();
});

function accountOf(kind: string, subtype?: string) {
  const account = item.accounts.find((candidate) => candidate.kind === kind && (subtype === undefined || candidate.subtype === subtype));
  if (!account) throw new Error(`no ${kind} account`);
  return account;
}

async function bills(): Promise<BillRow[]> {
  const response = await ledger.http.get(`/entities/${books.entityId}/bills`).expect(200);
  return response.body.bills;
}

describe('liabilities', () => {
  it('turns the card, the mortgage and the student loan into bills paid from checking, with rates on the accounts', async () => {
    const refreshed = await ledger.http.post(`/plaid/items/${item.id}/refresh-liabilities`).expect(200);
    expect(refreshed.body.accounts).toBe(3);
    expect(refreshed.body.skipped).toEqual([]);
    const card = accountOf('credit_card');
    const checking = accountOf('checking');
    const cardBill = refreshed.body.bills.find((bill: { kind: string }) => bill.kind === 'credit');
    // The emulator's card: statement = the card's balance (410.00), minimum max(25.00, 2%), APR 15.24%, due in 12 days.
    expect(cardBill).toMatchObject({ accountId: card.accountId, amountCents: 41_000, statementBalanceCents: 41_000, minimumPaymentCents: 2_500, interestRateBps: 1524, nextPaymentDueOn: '2026-12-06' });
    const mortgage = refreshed.body.bills.find((bill: { kind: string }) => bill.kind === 'mortgage');
    expect(mortgage).toMatchObject({ amountCents: 185_000, interestRateBps: 399, nextPaymentDueOn: '2026-12-06' });
    const student = refreshed.body.bills.find((bill: { kind: string }) => bill.kind === 'student');
    expect(student).toMatchObject({ amountCents: 31_200, interestRateBps: 525 });

    const rows = await bills();
    expect(rows).toHaveLength(3);
    const cardRow = rows.find((row) => row.categoryAccountId === card.accountId) as BillRow;
    expect(cardRow).toMatchObject({ rrule: 'FREQ=MONTHLY;BYMONTHDAY=6', startsOn: '2026-12-06', estimated: true, payFromAccountId: checking.accountId });
    const items = await ledger.http.get(`/entities/${books.entityId}/plaid/items`).expect(200);
    const student_loan = items.body.items[0].accounts.find((account: { kind: string }) => account.kind === 'student_loan');
    expect(student_loan.interestRateBps).toBe(525);
  });

  it('refreshes again without a second bill, and paying the card bill books card / checking', async () => {
    const before = await bills();
    const auditRows = async () => (await ledger.deps.db.selectFrom('auditLog').select('seq').where('action', '=', 'bill.updated_from_plaid').execute()).length;
    const auditBefore = await auditRows();
    const again = await ledger.http.post(`/plaid/items/${item.id}/refresh-liabilities`).expect(200);
    expect(again.body.bills.map((bill: { created: boolean }) => bill.created)).toEqual([false, false, false]);
    // Nothing changed at the lender: no bill update in the audit trail.
    expect(await auditRows()).toBe(auditBefore);
    const after = await bills();
    expect(after.map((bill) => [bill.id, bill.amountCents, bill.rrule]).sort()).toEqual(before.map((bill) => [bill.id, bill.amountCents, bill.rrule]).sort());

    const card = accountOf('credit_card');
    const cardBill = after.find((bill) => bill.categoryAccountId === card.accountId) as BillRow;
    const paid = await ledger.http.post(`/bills/${cardBill.id}/occurrences/2026-12-06/pay`).set('Idempotency-Key', key()).send({}).expect(201);
    expect(paid.body.entry.postings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ accountId: card.accountId, amountCents: 41_000 }),
        expect.objectContaining({ accountId: cardBill.payFromAccountId, amountCents: -41_000 }),
      ]),
    );
  });

  it('puts a due day past the 28th on the last day of shorter months', () => {
    const rule = parseBillRule(monthlyRuleFor('2027-01-30'), '2027-01-30');
    expect(dueDates(rule, '2027-01-01', '2027-04-30')).toEqual(['2027-01-30', '2027-02-28', '2027-03-30', '2027-04-30']);
    expect(monthlyRuleFor('2027-01-28')).toBe('FREQ=MONTHLY;BYMONTHDAY=28');
  });
});

describe('investments', () => {
  it('pages investment transactions like Plaid: count and offset, no overlap, the total stated', async () => {
    const accessToken = (await sandbox.sandboxPublicTokenCreate({ institution_id: 'ins_109508', initial_products: [Products.Investments], options: { override_username: 'user_good' } })).data.public_token;
    const exchanged = await sandbox.itemPublicTokenExchange({ public_token: accessToken });
    const seen = new Set<string>();
    let total = -1;
    for (let offset = 0; total < 0 || offset < total; offset += 10) {
      const page = await sandbox.investmentsTransactionsGet({ access_token: exchanged.data.access_token, start_date: '2024-11-24', end_date: '2026-11-24', options: { count: 10, offset } });
      total = page.data.total_investment_transactions;
      expect(page.data.investment_transactions.length).toBeLessThanOrEqual(10);
      for (const row of page.data.investment_transactions) seen.add(row.investment_transaction_id);
    }
    // 6 buys, 12 months × (IRA + 401k) contributions, 4 quarters × 2 brokerage dividends.
    expect(total).toBe(6 + 24 + 8);
    expect(seen.size).toBe(total);
    const refused = await sandbox.investmentsTransactionsGet({ access_token: exchanged.data.access_token, start_date: '2026-01-01', end_date: '2026-02-01', options: { count: 501 } }).catch((error: { response: { status: number; data: { error_code: string } } }) => error.response);
    expect(refused.status).toBe(400);
  });

  it('stores holdings and investment transactions in the brokerage and retirement accounts, once', async () => {
    const first = await ledger.http.post(`/plaid/items/${item.id}/refresh-investments`).expect(200);
    expect(first.body).toMatchObject({ holdings: 6, transactionsAdded: 38, transactionsSeen: 38, holdingsRemoved: 0 });
    const second = await ledger.http.post(`/plaid/items/${item.id}/refresh-investments`).expect(200);
    expect(second.body).toMatchObject({ holdings: 6, transactionsAdded: 0, transactionsSeen: 38 });

    const holdings = await ledger.http.get(`/entities/${books.entityId}/holdings`).expect(200);
    const ira = accountOf('retirement', 'ira');
    const iraHoldings = holdings.body.accounts.find((account: { accountId: string }) => account.accountId === ira.accountId);
    expect(iraHoldings.holdings).toHaveLength(2);
    expect(iraHoldings.holdings.every((holding: { source: string }) => holding.source === 'plaid')).toBe(true);
    // The market value Plaid states per holding adds up to the account balance it states.
    expect(iraHoldings.valueCents).toBe(ira.currentCents);
    expect(iraHoldings.holdings[0].security.plaidSecurityId).toEqual(expect.any(String));

    const transactions = await ledger.http.get(`/entities/${books.entityId}/investment-transactions?accountId=${ira.accountId}&limit=500`).expect(200);
    const contributions = transactions.body.transactions.filter((row: { subtype: string }) => row.subtype === 'contribution');
    expect(contributions).toHaveLength(12);
    expect(contributions.every((row: { amountCents: number }) => row.amountCents === -50_000)).toBe(true);
  });

  it('removes a Plaid position Plaid no longer lists, and leaves holdings entered by hand alone', async () => {
    const brokerage = accountOf('brokerage');
    await ledger.http
      .put(`/accounts/${brokerage.accountId}/holdings`)
      .set('Idempotency-Key', key())
      .send({ ticker: 'HAND', name: 'Entered by hand', securityType: 'equity', quantity: '3', priceCents: 1_000, asOf: '2026-11-20' })
      .expect(200);
    // A position sold since the last refresh: a Plaid-sourced holding Plaid will not list.
    const security = await ledger.deps.db.insertInto('securities').values({ entityId: books.entityId, ticker: 'SOLD', name: 'Sold Corp', securityType: 'equity', currency: 'USD', plaidSecurityId: 'sold-security' }).returning('id').executeTakeFirstOrThrow();
    await ledger.deps.db
      .insertInto('holdings')
      .values({ entityId: books.entityId, accountId: brokerage.accountId, securityId: security.id, quantity: '1', priceCents: 100, valueCents: 100, costBasisCents: null, asOf: '2026-11-01', source: 'plaid', actor: 'test' })
      .execute();
    const refreshed = await ledger.http.post(`/plaid/items/${item.id}/refresh-investments`).expect(200);
    expect(refreshed.body.holdingsRemoved).toBe(1);
    const holdings = await ledger.http.get(`/entities/${books.entityId}/holdings`).expect(200);
    const tickers = holdings.body.accounts.find((account: { accountId: string }) => account.accountId === brokerage.accountId).holdings.map((holding: { security: { ticker: string } }) => holding.security.ticker);
    expect(tickers).toContain('HAND');
    expect(tickers).not.toContain('SOLD');
    expect(tickers).toHaveLength(3);
  });

  it('refuses another user and keeps the books sound', async () => {
    const other = await ledger.createUser('plaid-investments-other@example.com');
    await ledger.as(other.accessToken).post(`/plaid/items/${item.id}/refresh-investments`).expect(404);
    await ledger.as(other.accessToken).post(`/plaid/items/${item.id}/refresh-liabilities`).expect(404);
    expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
  });
});
