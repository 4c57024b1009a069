import { createBooks, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// Schedule C of a disregarded LLC, line by line: draws and contributions (equity) never reach a line, interest on
// the owner's loan is left out (one taxpayer), a reimbursed expense the owner paid is the LLC's deduction.

let ledger: TestLedger;
let llc: Books;
let owner: Books;

function post(url: string, body: object) {
  return ledger.http.post(url).set('Idempotency-Key', key()).send(body);
}

async function entry(postedOn: string, debit: string, credit: string, amountCents: number) {
  await post(`/entities/${llc.entityId}/entries`, {
    postedOn,
    description: `${debit} / ${credit}`,
    postings: [
      { accountId: llc.accounts[debit], amountCents },
      { accountId: llc.accounts[credit], amountCents: -amountCents },
    ],
  }).expect(201);
}

function crossing(classification: string, from: Books, fromAccount: string, to: Books, toAccount: string, amountCents: number, postedOn: string, extra: object = {}) {
  return post('/transfers', {
    classification,
    fromEntityId: from.entityId,
    fromAccountId: from.accounts[fromAccount],
    toEntityId: to.entityId,
    toAccountId: to.accounts[toAccount],
    amountCents,
    postedOn,
    ...extra,
  }).expect(201);
}

async function scheduleC(year: number) {
  return (await ledger.http.get(`/entities/${llc.entityId}/reports/schedule-c?year=${year}`).expect(200)).body;
}

function lineAmounts(report: { lines: { line: string; amountCents: number }[] }): Record<string, number> {
  return Object.fromEntries(report.lines.filter((line) => line.amountCents !== 0).map((line) => [line.line, line.amountCents]));
}

beforeAll(async () => {
  ledger = await startTestLedger({ ownerMfa: true });
  llc = await createBooks(ledger, {
    name: 'Tax Table LLC',
    accounts: {
      Checking: 'checking',
      Sales: 'income_category',
      'Customer refunds': 'income_category',
      'Facebook ads': 'expense_category',
      'Contract labor': 'expense_category',
      Software: 'expense_category',
      'Coworking rent': 'expense_category',
      'Home office': 'expense_category',
      'Credit card fees': 'expense_category',
      Miscellaneous: 'expense_category',
      'Meals with clients': 'expense_category',
      Travel: 'expense_category',
    },
  });
  owner = await createBooks(ledger, { kind: 'personal', name: 'Tax Owner', accounts: { Checking: 'checking', Card: 'credit_card' } });
  await entry('2025-12-31', 'Checking', 'Sales', 1_000_000);
  await entry('2026-01-15', 'Checking', 'Sales', 5_000_000);
  await entry('2026-01-20', 'Customer refunds', 'Checking', 50_000);
  await entry('2026-02-01', 'Facebook ads', 'Checking', 120_000);
  await entry('2026-02-02', 'Contract labor', 'Checking', 800_000);
  await entry('2026-02-03', 'Software', 'Checking', 30_000);
  await entry('2026-02-04', 'Coworking rent', 'Checking', 240_000);
  await entry('2026-02-05', 'Home office', 'Checking', 150_000);
  await entry('2026-02-06', 'Credit card fees', 'Checking', 3_210);
  await entry('2026-02-07', 'Miscellaneous', 'Checking', 9_999);
  await entry('2026-02-08', 'Meals with clients', 'Checking', 25_000);
  await entry('2027-01-02', 'Checking', 'Sales', 777_700);
  await crossing('capital_contribution', owner, 'Checking', llc, 'Checking', 2_000_000, '2026-02-01');
  await crossing('owner_draw', llc, 'Checking', owner, 'Checking', 1_500_000, '2026-06-01');
  const loan = await crossing('loan', owner, 'Checking', llc, 'Checking', 1_000_000, '2026-03-01', {
    loan: { annualRateBasisPoints: 600, termMonths: 12, paymentFrequency: 'monthly' },
  });
  await crossing('loan_repayment', llc, 'Checking', owner, 'Checking', 86_066, '2026-04-01', { relatedTransferId: loan.body.id });
  await crossing('reimbursement', owner, 'Card', llc, 'Travel', 45_000, '2026-05-10', {
    reimbursement: { businessPurpose: 'Client visit', receiptReference: 'receipt-1.pdf', expenseOn: '2026-05-08' },
  });
});
afterAll(() => ledger.close());

describe('Schedule C', () => {
  it('maps each account to its line for the year; equity and inter-entity interest never reach a line', async () => {
    const report = await scheduleC(2026);
    expect(lineAmounts(report)).toEqual({
      '1': 5_000_000,
      '2': 50_000,
      '8': 120_000,
      '10': 3_210,
      '11': 800_000,
      '18': 30_000,
      '20b': 240_000,
      '24a': 45_000,
      '24b': 25_000,
      '27b': 9_999,
      '30': 150_000,
    });
    const expenses = 120_000 + 3_210 + 800_000 + 30_000 + 240_000 + 45_000 + 25_000 + 9_999;
    expect(report).toMatchObject({
      grossReceiptsLessReturnsCents: 4_950_000,
      grossIncomeCents: 4_950_000,
      totalExpensesCents: expenses,
      tentativeProfitCents: 4_950_000 - expenses,
      businessUseOfHomeCents: 150_000,
      netProfitCents: 4_950_000 - expenses - 150_000,
    });
    // 6% a year on $10,000: the first month's interest is $50.00, owed to the owner: not a deduction.
    expect(report.excluded).toEqual([expect.objectContaining({ name: 'Interest expense to Tax Owner', amountCents: 5_000 })]);
    // Net profit is the income statement's net income with the owner's interest put back, and nothing else:
    // the $20,000 contribution and the $15,000 draw are not in it.
    const income = (await ledger.http.get(`/entities/${llc.entityId}/reports/income-statement?from=2026-01-01&to=2026-12-31`).expect(200)).body;
    expect(report.netProfitCents).toBe(income.byCurrency[0].netIncomeCents + 5_000);
  });

  it('another draw or contribution changes no line', async () => {
    const before = await scheduleC(2026);
    await crossing('owner_draw', llc, 'Checking', owner, 'Checking', 123_400, '2026-07-01');
    await crossing('capital_contribution', owner, 'Checking', llc, 'Checking', 55_500, '2026-07-02');
    expect(await scheduleC(2026)).toEqual(before);
  });

  it('keeps years apart', async () => {
    expect(lineAmounts(await scheduleC(2025))).toEqual({ '1': 1_000_000 });
    expect(lineAmounts(await scheduleC(2027))).toEqual({ '1': 777_700 });
  });

  it('answers a per-line CSV', async () => {
    const response = await ledger.http.get(`/entities/${llc.entityId}/reports/schedule-c?year=2026&format=csv`).expect(200);
    const rows = response.text.split('\r\n');
    expect(rows[0]).toBe('line,label,amount,accounts');
    expect(rows).toContain('1,Gross receipts or sales,50000.00,Sales');
    expect(rows).toContain('8,Advertising,1200.00,Facebook ads');
    expect(rows).toContain('16b,Interest: other,0.00,');
    // 49,500.00 − 12,732.09 − 1,500.00
    expect(rows).toContain('31,Net profit or (loss),35267.91,');
    expect(rows.indexOf('30,Expenses for business use of your home (Form 8829 or simplified method),1500.00,Home office')).toBeGreaterThan(rows.findIndex((row) => row.startsWith('29,')));
  });

  it('refuses a personal entity and a malformed year', async () => {
    const personal = await ledger.http.get(`/entities/${owner.entityId}/reports/schedule-c?year=2026`).expect(422);
    expect(personal.body.error.code).toBe('report_not_applicable');
    const year = await ledger.http.get(`/entities/${llc.entityId}/reports/schedule-c?year=20266`).expect(400);
    expect(year.body.error.code).toBe('invalid_request');
  });
});
