import { createBooks, checkInvariants, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';
import { sql } from 'kysely';
import { auditedTransaction } from '../src/services/audit';
import { systemActor } from '../src/services/context';
import { bookEntries } from '../src/services/journal';

let ledger: TestLedger;
let llc: Books;
let owner: Books;

beforeAll(async () => {
  ledger = await startTestLedger({ ownerMfa: true });
  llc = await createBooks(ledger, {
    name: 'Healthy LLC',
    accounts: { checking: 'checking', software: 'expense_category', meals: 'expense_category', revenue: 'income_category', opening: 'opening_balance' },
  });
  owner = await createBooks(ledger, {
    kind: 'personal',
    name: 'Alex Owner',
    accounts: { checking: 'checking', card: 'credit_card', groceries: 'expense_category', subscriptions: 'expense_category', opening: 'opening_balance' },
  });
  await entry(llc, 'Opening balance', 'checking', 'opening', 1_000_000, '2026-01-01');
  await entry(owner, 'Opening balance', 'checking', 'opening', 500_000, '2026-01-01');
});
afterAll(() => ledger.close());

function post(path: string, body: object) {
  return ledger.http.post(path).set('Idempotency-Key', key()).send(body);
}

async function entry(books: Books, description: string, debit: string, credit: string, amountCents: number, postedOn = '2026-02-01') {
  const response = await post(`/entities/${books.entityId}/entries`, {
    postedOn,
    description,
    postings: [
      { accountId: books.accounts[debit], amountCents },
      { accountId: books.accounts[credit], amountCents: -amountCents },
    ],
  }).expect(201);
  return response.body.id as string;
}

async function healthOf(books: Books, to = '2026-06-30') {
  return (await ledger.http.get(`/entities/${books.entityId}/veil-health?from=2026-01-01&to=${to}`).expect(200)).body;
}

describe('veil health', () => {
  it('scores clean books 100', async () => {
    await entry(llc, 'Figma subscription', 'software', 'checking', 1_500);
    const report = await healthOf(llc);
    expect(report).toMatchObject({ score: 100, findings: [] });
  });

  it('finds commingling, and one call reclassifies it as a draw in both books', async () => {
    const groceries = await entry(llc, 'Whole Foods Market', 'meals', 'checking', 8_200);
    const report = await healthOf(llc);
    expect(report.findings).toEqual([
      expect.objectContaining({ code: 'commingling', entryId: groceries, amountCents: 8_200, fix: { kind: 'reclassify_as_draw', needs: ['personalAccountId'] } }),
    ]);
    expect(report.score).toBe(85);
    expect(report.reasons[0]).toMatch(/^-15: /);

    const fixed = await post('/veil-health/fixes', { fix: 'reclassify_as_draw', entryId: groceries, personalAccountId: owner.accounts.groceries }).expect(201);
    expect(fixed.body.transfer).toMatchObject({ classification: 'owner_draw', amountCents: 8_200, document: expect.objectContaining({ kind: 'draw_record' }) });
    const owned = await ledger.http.get(`/accounts/${owner.accounts.groceries}`).expect(200);
    expect(owned.body.balanceCents).toBe(8_200);
    const meals = await ledger.http.get(`/accounts/${llc.accounts.meals}`).expect(200);
    expect(meals.body.balanceCents).toBe(0);
    expect((await healthOf(llc)).findings).toEqual([]);
    const again = await post('/veil-health/fixes', { fix: 'reclassify_as_draw', entryId: groceries, personalAccountId: owner.accounts.groceries }).expect(409);
    expect(again.body.error.code).toBe('already_reversed');
  });

  it('finds an LLC expense paid personally, and one call turns it into a reimbursement owed', async () => {
    await ledger.http.patch(`/entities/${owner.entityId}/veil-policy`).set('Idempotency-Key', key()).send({ businessMarkers: ['adobe'] }).expect(200);
    const adobe = await entry(owner, 'Adobe Creative Cloud', 'subscriptions', 'card', 5_999, '2026-03-01');
    const report = await healthOf(owner);
    expect(report.findings).toEqual([expect.objectContaining({ code: 'llc_expense_paid_personally', entryId: adobe, fix: expect.objectContaining({ kind: 'create_reimbursement' }) })]);

    const fixed = await post('/veil-health/fixes', {
      fix: 'create_reimbursement',
      entryId: adobe,
      llcExpenseAccountId: llc.accounts.software,
      receiptReference: 'adobe-invoice-0301.pdf',
    }).expect(201);
    expect(fixed.body.transfer).toMatchObject({ classification: 'reimbursement', amountCents: 5_999, terms: expect.objectContaining({ expenseOn: '2026-03-01' }) });
    const after = await healthOf(owner, '2026-05-31');
    expect(after.findings).toEqual([expect.objectContaining({ code: 'open_reimbursement', transferId: fixed.body.transfer.id, amountCents: 5_999, overdue: false })]);
    const late = await healthOf(owner, '2026-07-30');
    expect(late.findings).toEqual([expect.objectContaining({ code: 'open_reimbursement', overdue: true })]);
    expect(late.score).toBe(90);
  });

  it('finds a loan behind its schedule', async () => {
    const loan = await post('/transfers', {
      classification: 'loan',
      fromEntityId: owner.entityId,
      fromAccountId: owner.accounts.checking,
      toEntityId: llc.entityId,
      toAccountId: llc.accounts.checking,
      amountCents: 120_000,
      postedOn: '2026-01-15',
      loan: { annualRateBasisPoints: 500, termMonths: 12, paymentFrequency: 'monthly' },
    }).expect(201);
    const report = await healthOf(llc, '2026-03-31');
    const behind = report.findings.find((finding: { code: string }) => finding.code === 'loan_behind_schedule');
    const schedule = loan.body.terms.schedule as { principalCents: number }[];
    expect(behind).toMatchObject({ transferId: loan.body.id, amountCents: (schedule[0]?.principalCents ?? 0) + (schedule[1]?.principalCents ?? 0) });
  });

  it('flags an entry booked to an inter-entity account without a transfer as an undocumented crossing', async () => {
    const accounts = (await ledger.http.get(`/entities/${llc.entityId}/accounts`).expect(200)).body.items as { id: string; kind: string }[];
    const payable = accounts.find((account) => account.kind === 'loan_payable_entity');
    // The API and the database refuse such an entry now (veil_account_reserved); books written before migration
    // 0004 can still hold one, so it is booked here as such data was: through the service, trigger off.
    const refused = await post(`/entities/${llc.entityId}/entries`, {
      postedOn: '2026-02-10',
      description: 'Cash from owner',
      postings: [
        { accountId: llc.accounts.checking, amountCents: 300 },
        { accountId: payable?.id, amountCents: -300 },
      ],
    }).expect(422);
    expect(refused.body.error.code).toBe('veil_account_reserved');
    await sql`alter table journal_entries disable trigger journal_entries_mirror_postings`.execute(ledger.deps.db);
    const [booked] = await auditedTransaction(ledger.deps.db, (trx) =>
      bookEntries(
        trx,
        llc.entityId,
        [{ postedOn: '2026-02-10', description: 'Cash from owner', postings: [{ accountId: llc.accounts.checking as string, amountCents: 300 }, { accountId: payable?.id as string, amountCents: -300 }] }],
        { ...systemActor('legacy-import'), userId: ledger.owner.id },
        { crossing: true },
      ),
    );
    await sql`alter table journal_entries enable trigger journal_entries_mirror_postings`.execute(ledger.deps.db);
    const sneaky = { body: { id: booked?.id } };
    const report = await healthOf(llc, '2026-02-28');
    expect(report.findings).toContainEqual(expect.objectContaining({ code: 'undocumented_crossing', entryId: sneaky.body.id }));
  });

  it('refuses a fix that does not fit the entry, writing nothing', async () => {
    const before = await checkInvariants(ledger.deps.db);
    const revenue = await post(`/entities/${llc.entityId}/entries`, {
      postedOn: '2026-02-11',
      description: 'Invoice',
      postings: [
        { accountId: llc.accounts.checking, amountCents: 100 },
        { accountId: llc.accounts.revenue, amountCents: -100 },
      ],
    }).expect(201);
    const afterEntry = await checkInvariants(ledger.deps.db);
    expect(afterEntry.entries).toBe(before.entries + 1);
    const wrong = await post('/veil-health/fixes', { fix: 'reclassify_as_draw', entryId: revenue.body.id, personalAccountId: owner.accounts.groceries }).expect(400);
    expect(wrong.body.error.code).toBe('invalid_request');
    const missing = await post('/veil-health/fixes', { fix: 'create_reimbursement', entryId: revenue.body.id, llcExpenseAccountId: llc.accounts.software }).expect(400);
    expect(missing.body.error.code).toBe('invalid_request');
    expect(await checkInvariants(ledger.deps.db)).toEqual(afterEntry);
  });
});

describe('consolidated view', () => {
  it('adds the books up with balances between the entities eliminated', async () => {
    const ids = `${llc.entityId},${owner.entityId}`;
    const view = (await ledger.http.get(`/consolidated?entityIds=${ids}&from=2026-01-01&to=2026-12-31`).expect(200)).body;
    const usd = view.byCurrency.USD;
    const perEntity = view.perEntity.reduce((sum: number, entity: { netWorthCentsByCurrency: { USD: number } }) => sum + entity.netWorthCentsByCurrency.USD, 0);
    expect(usd.eliminatedAccounts).toBeGreaterThan(0);
    expect(usd.netWorthCents).toBe(perEntity - usd.eliminatedCents);
    // The loan, the draw and the reimbursement move money inside the group: only outside money changes net worth
    // (the undocumented 3.00 counts: its cash is real, and its one-sided payable is eliminated).
    const outside = 1_000_000 + 500_000 - 1_500 - 8_200 - 5_999 + 100 + 300;
    expect(usd.netWorthCents).toBe(outside);
    // Removed: the owner's investment (mirrors LLC equity, -82.00 after the draw) and the unpaired payable (-3.00);
    // the loan and the reimbursement cancel out.
    expect(usd.eliminatedCents).toBe(-8_200 - 300);
  });

  it('refuses an empty or malformed entity list', async () => {
    expect((await ledger.http.get('/consolidated?entityIds=').expect(400)).body.error.code).toBe('invalid_request');
    expect((await ledger.http.get('/consolidated?entityIds=nope').expect(400)).body.error.code).toBe('invalid_request');
    expect((await ledger.http.get('/consolidated?entityIds=00000000-0000-4000-8000-000000000000').expect(404)).body.error.code).toBe('not_found');
  });
});
