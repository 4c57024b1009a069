import { createBooks, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// Consolidated statements of an owner and their LLC: every crossing classification is booked, and the group's
// figures must be the sum of the two books' own reports less exactly the mirror accounts between them.

let ledger: TestLedger;
let owner: Books;
let llc: Books;
let sideLlc: Books;
let loanId: string;
let repayment: { principalCents: number; interestCents: number };
let reimbursementId: string;
let mistakenDrawId: string;

async function entry(books: Books, postedOn: string, description: string, postings: [string, number][]) {
  await ledger.http
    .post(`/entities/${books.entityId}/entries`)
    .set('Idempotency-Key', key())
    .send({ postedOn, description, postings: postings.map(([account, amountCents]) => ({ accountId: books.accounts[account], amountCents })) })
    .expect(201);
}

async function transfer(classification: string, from: Books, fromAccount: string, to: Books, toAccount: string, amountCents: number, postedOn: string, extra: object = {}) {
  const response = await ledger.http
    .post('/transfers')
    .set('Idempotency-Key', key())
    .send({ classification, fromEntityId: from.entityId, fromAccountId: from.accounts[fromAccount], toEntityId: to.entityId, toAccountId: to.accounts[toAccount], amountCents, postedOn, ...extra });
  if (response.status !== 201) throw new Error(`${classification}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

beforeAll(async () => {
  ledger = await startTestLedger({ ownerMfa: true });
  owner = await createBooks(ledger, {
    kind: 'personal',
    name: 'Sam Owner',
    accounts: { 'Personal Checking': 'checking', Visa: 'credit_card', Salary: 'income_category', Groceries: 'expense_category' },
  });
  llc = await createBooks(ledger, { name: 'Group Studio LLC', accounts: { Checking: 'checking', Sales: 'income_category', Travel: 'expense_category' } });
  sideLlc = await createBooks(ledger, { name: 'Group Side LLC', accounts: { Checking: 'checking', Sales: 'income_category' } });
  await entry(owner, '2026-01-02', 'Salary', [['Personal Checking', 1_000_000], ['Salary', -1_000_000]]);
  await entry(owner, '2026-01-03', 'Groceries', [['Groceries', 20_000], ['Visa', -20_000]]);
  await entry(llc, '2026-01-20', 'Client paid', [['Checking', 300_000], ['Sales', -300_000]]);
  await entry(sideLlc, '2026-01-21', 'Side sale', [['Checking', 40_000], ['Sales', -40_000]]);
  await transfer('capital_contribution', owner, 'Personal Checking', llc, 'Checking', 500_000, '2026-01-05');
  await transfer('capital_contribution', owner, 'Personal Checking', sideLlc, 'Checking', 70_000, '2026-01-06');
  const loan = await transfer('loan', owner, 'Personal Checking', llc, 'Checking', 200_000, '2026-01-10', {
    loan: { annualRateBasisPoints: 600, termMonths: 12, paymentFrequency: 'monthly' },
  });
  loanId = loan.id;
  repayment = (await transfer('loan_repayment', llc, 'Checking', owner, 'Personal Checking', loan.terms.schedule[0].paymentCents, '2026-02-10', { relatedTransferId: loan.id })).terms;
  await transfer('owner_draw', llc, 'Checking', owner, 'Personal Checking', 80_000, '2026-02-15');
  const reimbursement = await transfer('reimbursement', owner, 'Visa', llc, 'Travel', 12_345, '2026-02-20', {
    reimbursement: { businessPurpose: 'Client visit', receiptReference: 'receipt-1.pdf', expenseOn: '2026-02-18' },
  });
  reimbursementId = reimbursement.id;
  await transfer('reimbursement_payment', llc, 'Checking', owner, 'Personal Checking', 5_000, '2026-03-01', { relatedTransferId: reimbursement.id });
  // After every consolidated figure's date: a draw from the side LLC, booked by mistake and reversed later.
  mistakenDrawId = (await transfer('owner_draw', sideLlc, 'Checking', owner, 'Personal Checking', 10_000, '2026-04-02')).id;
  await ledger.http.post(`/transfers/${mistakenDrawId}/reverse`).set('Idempotency-Key', key()).send({ postedOn: '2026-04-20' }).expect(201);
});
afterAll(() => ledger.close());

interface Line { accountId: string; entityId?: string; name: string; kind: string; naturalBalanceCents: number }
interface Section { lines: Line[]; totalCents: number }

async function mirrorAccounts(group: Books[]): Promise<Set<string>> {
  const ids = new Set(group.map((books) => books.entityId));
  const mirrors = new Set<string>();
  for (const books of group) {
    const accounts = (await ledger.http.get(`/entities/${books.entityId}/accounts`).expect(200)).body.items as { id: string; counterpartyEntityId: string | null }[];
    for (const account of accounts) if (account.counterpartyEntityId !== null && ids.has(account.counterpartyEntityId)) mirrors.add(account.id);
  }
  return mirrors;
}

/** Per section: the sum over the books of their own section totals, less the mirror lines in it. */
function expectedTotals(reports: Record<string, Section>[], sections: string[], mirrors: Set<string>) {
  const expected: Record<string, number> = {};
  for (const name of sections) {
    let total = 0;
    for (const report of reports) {
      const section = report[name] as Section;
      total += section.totalCents;
      for (const line of section.lines) if (mirrors.has(line.accountId)) total -= line.naturalBalanceCents;
    }
    expected[name] = total;
  }
  return expected;
}

const query = (group: Books[], rest: string) => `entityIds=${group.map((books) => books.entityId).join(',')}&${rest}`;

describe('consolidated reports', () => {
  it('balance sheet: the sum of the books less exactly the mirror accounts between them, and it still balances', async () => {
    const group = [owner, llc, sideLlc];
    const mirrors = await mirrorAccounts(group);
    // The owner's investment in each LLC against their member capital (and the studio's draws), the loan and its
    // interest on both sides, due from / due to: 5 + 5 in the owner's and the studio's books, and the side LLC's
    // member capital and draws (its one draw was reversed after the dates these reports look at).
    expect(mirrors.size).toBe(12);
    const own = [];
    for (const books of group) own.push((await ledger.http.get(`/entities/${books.entityId}/reports/balance-sheet?from=2026-01-01&to=2026-03-31`).expect(200)).body.byCurrency[0]);
    const response = await ledger.http.get(`/reports/consolidated/balance-sheet?${query(group, 'from=2026-01-01&to=2026-03-31')}`).expect(200);
    const [usd] = response.body.byCurrency;
    const totals = { assets: usd.assets.totalCents, liabilities: usd.liabilities.totalCents, equity: usd.equity.totalCents };
    expect(totals).toEqual(expectedTotals(own, ['assets', 'liabilities', 'equity'], mirrors));
    // Nothing of a mirror account is left among the lines, and every line says whose it is.
    for (const section of [usd.assets, usd.liabilities, usd.equity] as Section[]) {
      for (const line of section.lines) {
        expect(mirrors.has(line.accountId)).toBe(false);
        expect(group.map((books) => books.entityId)).toContain(line.entityId);
      }
    }
    // By hand: every crossing moved cash between the group's own accounts, so its cash is what came from outside
    // (salary and the two LLCs' sales); the only debt left is the Visa; member capital and draws are gone.
    const cash = 1_000_000 + 300_000 + 40_000;
    expect(usd.assets.lines.map((line: Line) => line.name).sort()).toEqual(['Checking', 'Checking', 'Personal Checking']);
    expect(usd.assets.totalCents).toBe(cash);
    expect(usd.liabilities.lines.map((line: Line) => [line.name, line.naturalBalanceCents])).toEqual([['Visa', 20_000 + 12_345]]);
    expect(usd.equity).toEqual({ lines: [], totalCents: 0 });
    expect(usd.liabilitiesAndEquityCents).toBe(usd.assets.totalCents);
    expect(usd.currentEarningsCents).toBe(1_000_000 - 20_000 + 300_000 + 40_000 - 12_345);
    // What was eliminated sums to zero, and the owner's investment in the LLC is its capital less its draws.
    expect(usd.eliminations.totalCents).toBe(0);
    const eliminated = (kind: string, entityId: string) =>
      (usd.eliminations.lines as { kind: string; entityId: string; counterpartyEntityId: string; balanceCents: number }[]).filter((line) => line.kind === kind && line.entityId === entityId && line.counterpartyEntityId !== sideLlc.entityId).reduce((sum, line) => sum + line.balanceCents, 0);
    expect(eliminated('investment_in_entity', owner.entityId)).toBe(500_000 - 80_000);
    expect(eliminated('contributed_capital', llc.entityId) + eliminated('draws', llc.entityId)).toBe(-(500_000 - 80_000));
    expect(eliminated('due_from_entity', owner.entityId)).toBe(12_345 - 5_000);
    expect(eliminated('due_to_entity', llc.entityId)).toBe(-(12_345 - 5_000));
  });

  it('income statement: interest between the books is eliminated, everything else is summed', async () => {
    const group = [owner, llc, sideLlc];
    const mirrors = await mirrorAccounts(group);
    const own = [];
    for (const books of group) own.push((await ledger.http.get(`/entities/${books.entityId}/reports/income-statement?from=2026-01-01&to=2026-03-31`).expect(200)).body.byCurrency[0]);
    const response = await ledger.http.get(`/reports/consolidated/income-statement?${query(group, 'from=2026-01-01&to=2026-03-31')}`).expect(200);
    const [usd] = response.body.byCurrency;
    expect({ income: usd.income.totalCents, expenses: usd.expenses.totalCents }).toEqual(expectedTotals(own, ['income', 'expenses'], mirrors));
    // The loan's interest was income to the owner and expense to the LLC: both lines are gone, net income is not changed.
    const interest = (usd.eliminations.lines as { kind: string; balanceCents: number }[]).filter((line) => line.kind === 'income_category');
    expect(interest).toHaveLength(1);
    expect(interest[0]?.balanceCents).toBeLessThan(0);
    expect(usd.income.totalCents).toBe(1_000_000 + 300_000 + 40_000);
    expect(usd.expenses.lines.map((line: Line) => line.name).sort()).toEqual(['Groceries', 'Travel']);
    expect(usd.netIncomeCents).toBe(own.reduce((sum, report) => sum + report.netIncomeCents, 0));
  });

  it('keeps mirror balances whose other side is outside the group: one entity alone is its own report', async () => {
    const alone = (await ledger.http.get(`/reports/consolidated/balance-sheet?${query([llc], 'from=2026-01-01&to=2026-03-31')}`).expect(200)).body.byCurrency[0];
    const own = (await ledger.http.get(`/entities/${llc.entityId}/reports/balance-sheet?from=2026-01-01&to=2026-03-31`).expect(200)).body.byCurrency[0];
    expect(alone.eliminations).toEqual({ lines: [], totalCents: 0 });
    for (const name of ['assets', 'liabilities', 'equity'] as const) {
      expect(alone[name].totalCents).toBe(own[name].totalCents);
      expect(alone[name].lines.map((line: Line) => line.accountId)).toEqual(own[name].lines.map((line: Line) => line.accountId));
    }
    // The owner with only one of the LLCs: the other LLC's mirrors stay as real balances.
    const pair = (await ledger.http.get(`/reports/consolidated/balance-sheet?${query([owner, llc], 'to=2026-03-31')}`).expect(200)).body.byCurrency[0];
    const investments = pair.assets.lines.filter((line: Line) => line.kind === 'investment_in_entity');
    expect(investments.map((line: Line) => line.naturalBalanceCents)).toEqual([70_000]);
  });

  it('answers CSV naming the entity of each line, and refuses bad groups', async () => {
    const csv = await ledger.http.get(`/reports/consolidated/income-statement?${query([owner, llc], 'from=2026-01-01&to=2026-03-31&format=csv')}`).expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const rows = csv.text.split('\r\n');
    expect(rows[0]).toBe('entity,section,account,code,kind,currency,amount');
    expect(rows).toContain('Sam Owner,Income,Salary,,income_category,USD,10000.00');
    expect(rows).toContain('Group Studio LLC,Expenses,Travel,,expense_category,USD,123.45');
    expect(rows.some((row) => row.startsWith('Sam Owner,Eliminated,'))).toBe(true);
    const missing = await ledger.http.get('/reports/consolidated/balance-sheet?entityIds=00000000-0000-4000-8000-000000000000').expect(404);
    expect(missing.body.error.code).toBe('not_found');
    const malformed = await ledger.http.get('/reports/consolidated/balance-sheet?entityIds=nope').expect(400);
    expect(malformed.body.error.code).toBe('invalid_request');
    await ledger.http.get(`/reports/consolidated/balance-sheet?${query([llc], 'from=2026-03-01&to=2026-01-01')}`).expect(400);
    const stranger = await ledger.createUser();
    const theirs = await createBooks({ ...ledger, http: ledger.as(stranger.accessToken) }, { name: 'Stranger LLC', accounts: { Cash: 'cash' } });
    const mixed = await ledger.as(stranger.accessToken).get(`/reports/consolidated/balance-sheet?${query([theirs, llc], 'to=2026-03-31')}`).expect(404);
    expect(mixed.text).not.toContain('Group Studio LLC');
  });
});

describe('inter-entity statement', () => {
  it("the owner's side: the loan lent with principal outstanding and interest accrued since the last repayment, the reimbursement owed to them", async () => {
    const response = await ledger.http.get(`/entities/${owner.entityId}/reports/inter-entity?from=2026-01-01&to=2026-03-31`).expect(200);
    const body = response.body;
    const outstanding = 200_000 - repayment.principalCents;
    expect(repayment.principalCents).toBeGreaterThan(0);
    // 49 days from the 10 February repayment to 31 March, at 6% a year on what is left, actual/365, half-up.
    const accrued = Math.round((outstanding * 600 * 49) / (10_000 * 365));
    expect(body.loans).toEqual([
      expect.objectContaining({
        transferId: loanId,
        role: 'lender',
        counterpartyEntityId: llc.entityId,
        principalCents: 200_000,
        repayments: 1,
        principalRepaidCents: repayment.principalCents,
        interestPaidCents: repayment.interestCents,
        outstandingPrincipalCents: outstanding,
        interestAccruedFromOn: '2026-02-10',
        accruedInterestCents: accrued,
      }),
    ]);
    expect(body.openReimbursements).toEqual([
      expect.objectContaining({ transferId: reimbursementId, direction: 'owed_to_entity', amountCents: 12_345, paidCents: 5_000, outstandingCents: 7_345, expenseOn: '2026-02-18', daysOpen: 41 }),
    ]);
    expect(body.contributions.map((c: { amountCents: number }) => c.amountCents).sort()).toEqual([500_000, 70_000].sort());
    expect(body.draws.map((d: { amountCents: number }) => d.amountCents)).toEqual([80_000]);
    expect(body.totalsByCurrency.USD).toEqual({
      lentOutstandingCents: outstanding,
      borrowedOutstandingCents: 0,
      accruedInterestReceivableCents: accrued,
      accruedInterestPayableCents: 0,
      reimbursementsOwedToEntityCents: 7_345,
      reimbursementsOwedByEntityCents: 0,
      contributionsCents: 570_000,
      drawsCents: 80_000,
    });
    expect(body.counterparties.map((c: { name: string }) => c.name)).toEqual(['Group Side LLC', 'Group Studio LLC']);
    // The outstanding principal is the balance of the mirror account the loan was booked to.
    const accounts = (await ledger.http.get(`/entities/${owner.entityId}/accounts`).expect(200)).body.items as { kind: string; balanceCents: number }[];
    expect(accounts.find((account) => account.kind === 'loan_receivable_entity')?.balanceCents).toBe(outstanding);
  });

  it("the LLC's side mirrors it: the loan borrowed, the reimbursement it owes; a date before the repayment accrues from the loan date", async () => {
    const body = (await ledger.http.get(`/entities/${llc.entityId}/reports/inter-entity?from=2026-01-01&to=2026-03-31`).expect(200)).body;
    const outstanding = 200_000 - repayment.principalCents;
    expect(body.totalsByCurrency.USD).toMatchObject({ lentOutstandingCents: 0, borrowedOutstandingCents: outstanding, reimbursementsOwedByEntityCents: 7_345, contributionsCents: 500_000, drawsCents: 80_000 });
    const early = (await ledger.http.get(`/entities/${llc.entityId}/reports/inter-entity?from=2026-01-01&to=2026-02-09`).expect(200)).body;
    expect(early.loans[0]).toMatchObject({ role: 'borrower', repayments: 0, outstandingPrincipalCents: 200_000, interestAccruedFromOn: '2026-01-10', accruedInterestCents: Math.round((200_000 * 600 * 30) / (10_000 * 365)) });
    expect(early.openReimbursements).toEqual([]);
    expect(early.draws).toEqual([]);
  });

  it('a transfer counts until the date of its reversal, not after', async () => {
    const before = (await ledger.http.get(`/entities/${sideLlc.entityId}/reports/inter-entity?from=2026-04-01&to=2026-04-10`).expect(200)).body;
    expect(before.draws).toEqual([expect.objectContaining({ transferId: mistakenDrawId, amountCents: 10_000 })]);
    const after = (await ledger.http.get(`/entities/${sideLlc.entityId}/reports/inter-entity?from=2026-04-01&to=2026-04-30`).expect(200)).body;
    expect(after.draws).toEqual([]);
    const csv = await ledger.http.get(`/entities/${owner.entityId}/reports/inter-entity?from=2026-01-01&to=2026-03-31&format=csv`).expect(200);
    expect(csv.text.split('\r\n')[0]).toBe('item,counterparty,transfer,date,currency,amount,outstanding,accrued_interest,detail');
    expect(csv.text).toContain(`Reimbursement owed to us,Group Studio LLC,${reimbursementId},2026-02-20,USD,123.45,73.45,,expense on 2026-02-18; 41 days open`);
  });
});
