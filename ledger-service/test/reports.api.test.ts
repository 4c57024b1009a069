import { createBooks, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// Statements over a small book whose every figure is worked out by hand below.

let ledger: TestLedger;
let llc: Books;

async function entry(postedOn: string, description: string, postings: [string, number][]) {
  const response = await ledger.http
    .post(`/entities/${llc.entityId}/entries`)
    .set('Idempotency-Key', key())
    .send({ postedOn, description, postings: postings.map(([account, amountCents]) => ({ accountId: llc.accounts[account], amountCents })) })
    .expect(201);
  return response.body.id as string;
}

beforeAll(async () => {
  ledger = await startTestLedger();
  llc = await createBooks(ledger, {
    name: 'Ledger Reports LLC',
    accounts: {
      Checking: 'checking',
      Card: 'credit_card',
      'Owner capital': 'contributed_capital',
      'Owner draws': 'draws',
      Sales: 'income_category',
      'Software; tools': 'expense_category',
      Rent: 'expense_category',
    },
  });
  await entry('2025-12-15', 'Opening capital', [['Checking', 1_000_000], ['Owner capital', -1_000_000]]);
  await entry('2025-12-20', 'December sale', [['Checking', 50_000], ['Sales', -50_000]]);
  await entry('2026-01-10', 'January sale', [['Checking', 120_050], ['Sales', -120_050]]);
  await entry('2026-01-12', 'Software on card', [['Software; tools', 4_999], ['Card', -4_999]]);
  await entry('2026-02-01', 'Rent', [['Rent', 200_000], ['Checking', -200_000]]);
  const mistaken = await entry('2026-02-03', 'Mistaken sale', [['Checking', 7_700], ['Sales', -7_700]]);
  await ledger.http.post(`/entries/${mistaken}/reverse`).set('Idempotency-Key', key()).send({ postedOn: '2026-02-04' }).expect(201);
  await entry('2026-03-01', 'Next period sale', [['Checking', 10_000], ['Sales', -10_000]]);
});
afterAll(() => ledger.close());

function amounts(section: { lines: { name: string; naturalBalanceCents: number }[]; totalCents: number }) {
  return { lines: Object.fromEntries(section.lines.map((line) => [line.name, line.naturalBalanceCents])), total: section.totalCents };
}

describe('reports', () => {
  it('income statement sums the period only, reversals netting out', async () => {
    const response = await ledger.http.get(`/entities/${llc.entityId}/reports/income-statement?from=2026-01-01&to=2026-02-28`).expect(200);
    const [usd] = response.body.byCurrency;
    expect(amounts(usd.income)).toEqual({ lines: { Sales: 120_050 }, total: 120_050 });
    expect(amounts(usd.expenses)).toEqual({ lines: { Rent: 200_000, 'Software; tools': 4_999 }, total: 204_999 });
    expect(usd.netIncomeCents).toBe(120_050 - 204_999);
  });

  it('balance sheet as of a date balances, splitting earnings into retained (before from) and current', async () => {
    const response = await ledger.http.get(`/entities/${llc.entityId}/reports/balance-sheet?from=2026-01-01&to=2026-02-28`).expect(200);
    const [usd] = response.body.byCurrency;
    const checking = 1_000_000 + 50_000 + 120_050 - 200_000 + 7_700 - 7_700;
    expect(amounts(usd.assets)).toEqual({ lines: { Checking: checking }, total: checking });
    expect(amounts(usd.liabilities)).toEqual({ lines: { Card: 4_999 }, total: 4_999 });
    expect(amounts(usd.equity)).toEqual({ lines: { 'Owner capital': 1_000_000 }, total: 1_000_000 });
    expect(usd.retainedEarningsCents).toBe(50_000);
    expect(usd.currentEarningsCents).toBe(120_050 - 204_999);
    expect(usd.liabilitiesAndEquityCents).toBe(checking);
  });

  it('as of today it reads the maintained balances, and agrees with the aggregate of every posting', async () => {
    const now = await ledger.http.get(`/entities/${llc.entityId}/reports/balance-sheet?to=2199-12-31`).expect(200);
    const accounts = await ledger.http.get(`/entities/${llc.entityId}/accounts`).expect(200);
    const checking = accounts.body.items.find((account: { name: string }) => account.name === 'Checking');
    expect(now.body.byCurrency[0].assets.lines[0].balanceCents).toBe(checking.balanceCents);
    expect(now.body.byCurrency[0].assets.totalCents).toBe(1_000_000 + 50_000 + 120_050 - 200_000 + 10_000);
  });

  it('trial balance: debits equal credits per account as of a date', async () => {
    const response = await ledger.http.get(`/entities/${llc.entityId}/reports/trial-balance?to=2025-12-31`).expect(200);
    const [usd] = response.body.byCurrency;
    expect(usd.lines.map((line: { name: string; balanceCents: number }) => [line.name, line.balanceCents])).toEqual([
      ['Checking', 1_050_000],
      ['Owner capital', -1_000_000],
      ['Sales', -50_000],
    ]);
    expect(usd).toMatchObject({ debitCents: 1_050_000, creditCents: 1_050_000 });
  });

  it('answers CSV with decimal amounts, quoting names that need it', async () => {
    const response = await ledger.http.get(`/entities/${llc.entityId}/reports/income-statement?from=2026-01-01&to=2026-02-28&format=csv`).expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    expect(response.text.split('\r\n')).toEqual([
      'section,account,code,kind,currency,amount',
      'Income,Sales,,income_category,USD,1200.50',
      'Income,Total Income,,,USD,1200.50',
      'Expenses,Rent,,expense_category,USD,2000.00',
      'Expenses,Software; tools,,expense_category,USD,49.99',
      'Expenses,Total Expenses,,,USD,2049.99',
      'Net income,Net income,,,USD,-849.49',
      '',
    ]);
  });

  it('refuses a reversed period and malformed dates with 400', async () => {
    const reversed = await ledger.http.get(`/entities/${llc.entityId}/reports/income-statement?from=2026-03-01&to=2026-01-01`).expect(400);
    expect(reversed.body.error.code).toBe('invalid_request');
    const malformed = await ledger.http.get(`/entities/${llc.entityId}/reports/balance-sheet?to=2026-13-01`).expect(400);
    expect(malformed.body.error).toMatchObject({ code: 'invalid_request', details: { issues: [{ field: 'query.to' }] } });
    await ledger.http.get(`/entities/${llc.entityId}/reports/trial-balance?format=pdf`).expect(400);
    await ledger.http.get(`/entities/00000000-0000-4000-8000-000000000000/reports/trial-balance`).expect(404);
  });

  it('exports a journal with hledger-safe account names and a balance assertion per account and entry', async () => {
    const response = await ledger.http.get(`/entities/${llc.entityId}/exports/hledger.journal?to=2026-01-31`).expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.text).toContain('account expenses:expense_category:Software- tools\n');
    expect(response.text).toMatch(/\n2026-01-12 \(\d+\) Software on card {2}; entry: [0-9a-f-]{36}\n/);
    expect(response.text).toMatch(/ {4}expenses:expense_category:Software- tools {2}49\.99 USD = 49\.99 USD\n {4}liabilities:credit_card:Card {2}-49\.99 USD = -49\.99 USD\n/);
    expect(response.text).not.toContain('2026-02-01');
  });

  it("owner's equity rolls forward: opening + contributions + net income − draws = closing", async () => {
    await entry('2026-03-10', 'More capital', [['Checking', 200_000], ['Owner capital', -200_000]]);
    await entry('2026-03-15', 'Draw', [['Owner draws', 30_000], ['Checking', -30_000]]);
    const response = await ledger.http.get(`/entities/${llc.entityId}/reports/owner-equity?from=2026-01-01&to=2026-03-31`).expect(200);
    expect(response.body.byCurrency).toEqual([
      {
        currency: 'USD',
        openingEquityCents: 1_000_000 + 50_000,
        contributionsCents: 200_000,
        netIncomeCents: 120_050 + 10_000 - 204_999,
        drawsCents: 30_000,
        otherCents: 0,
        closingEquityCents: 1_145_051,
      },
    ]);
    // The closing figure is the balance sheet's net assets on the same day.
    const sheet = (await ledger.http.get(`/entities/${llc.entityId}/reports/balance-sheet?to=2026-03-31`).expect(200)).body.byCurrency[0];
    expect(sheet.assets.totalCents - sheet.liabilities.totalCents).toBe(1_145_051);
    const csv = await ledger.http.get(`/entities/${llc.entityId}/reports/owner-equity?from=2026-01-01&to=2026-03-31&format=csv`).expect(200);
    expect(csv.text).toContain('Draws,USD,-300.00\r\nOther equity movements,USD,0.00\r\nClosing equity,USD,11450.51\r\n');
  });
});
