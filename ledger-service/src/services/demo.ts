import { seededRandom } from '../domain/random';
import type { AccountKind } from '../domain/accounts';
import { createAccount } from './accounts';
import { auditedTransaction } from './audit';
import { systemActor, type Actor, type Deps } from './context';
import { createEntity } from './entities';
import { addMonths } from '../domain/dates';
import { assert } from '../domain/errors';
import { createBill } from './bills';
import * as budget from './budget';
import { bookEntries, type EntryDraft } from './journal';
import { loadAfrTable } from './reference';
import { createTransfer, type NewTransfer } from './veil';

// A realistic, deterministic demo: a design studio LLC and its owner, the four months of books that end on the
// demo's "today" (the ledger's clock unless a test names a day). Seeded only into an empty ledger, so restarting
// never doubles it. Nothing is dated after today: a future-dated entry would already count in every balance while
// the balance history and the reports dated today leave it out, so "net worth now" and the history's last point
// would disagree.


type Chart = Record<string, { kind: AccountKind; code?: string }>;

const LLC_CHART = {
  checking: { kind: 'checking', code: '1010' },
  savings: { kind: 'savings', code: '1020' },
  card: { kind: 'credit_card', code: '2010' },
  taxReserve: { kind: 'tax_payable', code: '2200' },
  opening: { kind: 'opening_balance', code: '3000' },
  revenue: { kind: 'income_category', code: '4000' },
  software: { kind: 'expense_category', code: '6180' },
  contractors: { kind: 'expense_category', code: '6110' },
  advertising: { kind: 'expense_category', code: '6080' },
  supplies: { kind: 'expense_category', code: '6220' },
  bankFees: { kind: 'expense_category', code: '6100' },
} satisfies Chart;

const LLC_NAMES: Record<keyof typeof LLC_CHART, string> = {
  checking: 'Business Checking',
  savings: 'Business Savings',
  card: 'Business Credit Card',
  taxReserve: 'Estimated Tax Reserve',
  opening: 'Opening Balance Equity',
  revenue: 'Client Revenue',
  software: 'Software & Subscriptions',
  contractors: 'Contract Labor',
  advertising: 'Advertising',
  supplies: 'Office Supplies',
  bankFees: 'Bank Fees',
};

const PERSONAL_CHART = {
  checking: { kind: 'checking' },
  savings: { kind: 'savings' },
  moneyMarket: { kind: 'money_market' },
  card: { kind: 'credit_card' },
  mortgage: { kind: 'mortgage' },
  brokerage: { kind: 'brokerage' },
  ira: { kind: 'retirement' },
  opening: { kind: 'opening_balance' },
  interest: { kind: 'income_category' },
  groceries: { kind: 'expense_category' },
  dining: { kind: 'expense_category' },
  utilities: { kind: 'expense_category' },
  mortgageInterest: { kind: 'expense_category' },
  subscriptions: { kind: 'expense_category' },
  transport: { kind: 'expense_category' },
} satisfies Chart;

const PERSONAL_NAMES: Record<keyof typeof PERSONAL_CHART, string> = {
  checking: 'Everyday Checking',
  savings: 'High-Yield Savings',
  moneyMarket: 'Money Market',
  card: 'Rewards Visa',
  mortgage: 'Home Mortgage',
  brokerage: 'Brokerage',
  ira: 'Roth IRA',
  opening: 'Opening Balance Equity',
  interest: 'Interest Income',
  groceries: 'Groceries',
  dining: 'Dining Out',
  utilities: 'Utilities',
  mortgageInterest: 'Mortgage Interest',
  subscriptions: 'Subscriptions',
  transport: 'Transportation',
};


/** The day `dayOfMonth` (1 to 28, so that it exists in every month) of the month `offset` months after `start`. */
function day(start: string, offset: number, dayOfMonth: number): string {
  return `${addMonths(start, offset).slice(0, 8)}${String(dayOfMonth).padStart(2, '0')}`;
}

function move(postedOn: string, description: string, debit: string, credit: string, amountCents: number): EntryDraft {
  return {
    postedOn,
    description,
    source: 'system',
    postings: [
      { accountId: debit, amountCents },
      { accountId: credit, amountCents: -amountCents },
    ],
  };
}

/**
 * Seeds the demo books, owned by `ownerUserId` (the demo user) so that they are visible to that user only: the
 * `months` months up to and including the month of `todayOn` (default: the ledger's clock, as a UTC date like
 * every route's "today"), with nothing dated after `todayOn`.
 */
export async function seedDemo(
  deps: Deps,
  options: { ownerUserId: string; todayOn?: string; months?: number },
) {
  const afrRows = deps.afrRows ?? loadAfrTable();
  const SYSTEM: Actor = { ...systemActor('demo-seed'), userId: options.ownerUserId };
  const existing = await deps.db.selectFrom('entities').select('id').limit(1).execute();
  if (existing.length > 0) return null;
  const todayOn = options.todayOn ?? new Date(deps.security.now()).toISOString().slice(0, 10);
  const monthCount = options.months ?? 4;
  // The loan, the reimbursement and its payment fall in the first two months, which must be in the past.
  assert(Number.isSafeInteger(monthCount) && monthCount >= 3 && monthCount <= 24, `the demo covers 3 to 24 months, not ${monthCount}`);
  const start = addMonths(`${todayOn.slice(0, 7)}-01`, 1 - monthCount);
  const isPast = (postedOn: string) => postedOn <= todayOn;
  const random = seededRandom(20_261_124);
  const between = (lowCents: number, highCents: number) => Math.round(lowCents + random() * (highCents - lowCents));

  return auditedTransaction(deps.db, async (trx) => {
    const llc = await createEntity(trx, { kind: 'llc', name: 'Northwind Studio LLC', currency: 'USD' }, SYSTEM);
    const person = await createEntity(trx, { kind: 'personal', name: 'Alex Rivera', currency: 'USD' }, SYSTEM);
    const b = {} as Record<keyof typeof LLC_CHART, string>;
    for (const [key, spec] of Object.entries(LLC_CHART) as [keyof typeof LLC_CHART, { kind: AccountKind; code?: string }][]) {
      b[key] = (await createAccount(trx, llc.id, { name: LLC_NAMES[key], kind: spec.kind, code: spec.code }, SYSTEM)).id;
    }
    const p = {} as Record<keyof typeof PERSONAL_CHART, string>;
    for (const [key, spec] of Object.entries(PERSONAL_CHART) as [keyof typeof PERSONAL_CHART, { kind: AccountKind }][]) {
      p[key] = (await createAccount(trx, person.id, { name: PERSONAL_NAMES[key], kind: spec.kind }, SYSTEM)).id;
    }

    const llcEntries: EntryDraft[] = [
      move(start, 'Opening balance: business checking', b.checking, b.opening, 1_842_500),
      move(start, 'Opening balance: business savings', b.savings, b.opening, 2_500_000),
    ];
    const personalEntries: EntryDraft[] = [
      move(start, 'Opening balance: checking', p.checking, p.opening, 684_213),
      move(start, 'Opening balance: savings', p.savings, p.opening, 1_520_000),
      move(start, 'Opening balance: money market', p.moneyMarket, p.opening, 3_000_000),
      move(start, 'Opening balance: brokerage', p.brokerage, p.opening, 4_210_075),
      move(start, 'Opening balance: Roth IRA', p.ira, p.opening, 3_875_540),
      move(start, 'Opening balance: mortgage', p.opening, p.mortgage, 31_250_000),
    ];
    for (let month = 0; month < monthCount; month += 1) {
      const clients = ['Harbor Coffee Co.', 'Lumen Health', 'Cedar & Pine Realty'];
      for (const [index, client] of clients.entries()) {
        llcEntries.push(
          move(day(start, month, 5 + index * 7), `Invoice paid: ${client}`, b.checking, b.revenue, between(320_000, 880_000)),
        );
      }
      llcEntries.push(
        move(day(start, month, 3), 'Figma, Adobe, Notion subscriptions', b.software, b.card, between(18_000, 24_000)),
        move(day(start, month, 12), 'Freelance illustrator', b.contractors, b.checking, between(150_000, 300_000)),
        move(day(start, month, 16), 'LinkedIn ads', b.advertising, b.card, between(20_000, 60_000)),
        move(day(start, month, 18), 'Printer paper and toner', b.supplies, b.card, between(4_000, 12_000)),
        move(day(start, month, 28), 'Monthly account fee', b.bankFees, b.checking, 1_500),
        move(day(start, month, 25), 'Credit card payment', b.card, b.checking, between(40_000, 90_000)),
        move(day(start, month, 26), 'Set aside for estimated taxes', b.savings, b.checking, 250_000),
      );
      personalEntries.push(
        move(day(start, month, 1), 'Mortgage interest', p.mortgageInterest, p.checking, between(118_000, 121_000)),
        move(day(start, month, 1), 'Mortgage principal', p.mortgage, p.checking, between(61_000, 64_000)),
        move(day(start, month, 8), 'Whole Foods', p.groceries, p.card, between(12_000, 28_000)),
        move(day(start, month, 15), 'Trader Joe\'s', p.groceries, p.card, between(8_000, 16_000)),
        move(day(start, month, 11), 'Dinner out', p.dining, p.card, between(6_000, 14_000)),
        move(day(start, month, 14), 'Electric and water', p.utilities, p.checking, between(14_000, 22_000)),
        move(day(start, month, 20), 'Streaming and music', p.subscriptions, p.card, 3_297),
        move(day(start, month, 22), 'Transit pass and fuel', p.transport, p.card, between(9_000, 15_000)),
        move(day(start, month, 27), 'Visa payment', p.card, p.checking, between(50_000, 70_000)),
        move(day(start, month, 28), 'Savings interest', p.savings, p.interest, between(5_500, 6_500)),
        move(day(start, month, 2), 'Monthly Roth IRA contribution', p.ira, p.checking, 58_300),
        move(day(start, month, 1), 'Transfer from money market', p.checking, p.moneyMarket, 350_000),
      );
    }
    // Drawn for every month in full (the same random amounts whatever the day), then cut at today.
    const llcBooked = await bookEntries(trx, llc.id, llcEntries.filter((entry) => isPast(entry.postedOn)), SYSTEM);
    await bookEntries(trx, person.id, personalEntries.filter((entry) => isPast(entry.postedOn)), SYSTEM);

    // The veil at work: money crosses only as classified, documented transfers.
    const cross = (input: Omit<NewTransfer, 'fromEntityId' | 'toEntityId'> & { from: 'llc' | 'person' }) => {
      assert(isPast(input.postedOn), `a demo transfer dated after today: ${input.postedOn}`);
      const { from, ...rest } = input;
      const [fromEntityId, toEntityId] = from === 'llc' ? [llc.id, person.id] : [person.id, llc.id];
      return createTransfer(trx, { ...rest, fromEntityId, toEntityId }, SYSTEM, afrRows);
    };
    await cross({ from: 'person', classification: 'capital_contribution', fromAccountId: p.checking, toAccountId: b.checking, amountCents: 500_000, postedOn: start, memo: 'Initial capital' });
    // Below the applicable federal rate on purpose: the promissory note and the transfer carry the warning.
    const loan = await cross({
      from: 'person',
      classification: 'loan',
      fromAccountId: p.savings,
      toAccountId: b.checking,
      amountCents: 1_000_000,
      postedOn: day(start, 0, 10),
      memo: 'Working capital for new equipment',
      loan: { annualRateBasisPoints: 300, termMonths: 24, paymentFrequency: 'monthly' },
    });
    const expense = await cross({
      from: 'person',
      classification: 'reimbursement',
      fromAccountId: p.card,
      toAccountId: b.software,
      amountCents: 12_900,
      postedOn: day(start, 1, 4),
      reimbursement: { businessPurpose: 'Font licence for a client project', receiptReference: 'receipts/fonts-invoice-2291.pdf', expenseOn: day(start, 1, 4) },
    });
    await cross({ from: 'llc', classification: 'reimbursement_payment', fromAccountId: b.checking, toAccountId: p.checking, amountCents: 12_900, postedOn: day(start, 1, 20), relatedTransferId: expense.id });
    let transfers = 4;
    for (let month = 0; month < monthCount; month += 1) {
      if (isPast(day(start, month, 15))) {
        await cross({ from: 'llc', classification: 'owner_draw', fromAccountId: b.checking, toAccountId: p.checking, amountCents: 600_000, postedOn: day(start, month, 15), memo: 'Monthly owner draw' });
        transfers += 1;
      }
      if (month > 0 && isPast(day(start, month, 10))) {
        await cross({ from: 'llc', classification: 'loan_repayment', fromAccountId: b.checking, toAccountId: p.savings, amountCents: 42_981, postedOn: day(start, month, 10), relatedTransferId: loan.id });
        transfers += 1;
      }
    }

    // The budgets: envelopes over the expense categories, every dollar assigned through the allocation engine, and
    // whatever is left given a job, so Ready to Assign reads exactly zero in the last month.
    const budgetMonths = Array.from({ length: monthCount }, (_, offset) => addMonths(start, offset).slice(0, 7));
    const lastMonth = budgetMonths.at(-1) as string;
    type EnvelopeSpec = { name: string; categories: string[]; target?: budget.NewEnvelope['target'] };
    const makeBudget = async (entityId: string, groups: Record<string, EnvelopeSpec[]>) => {
      const ids: Record<string, string> = {};
      for (const [groupName, envelopes] of Object.entries(groups)) {
        const group = await budget.createGroup(trx, entityId, { name: groupName }, SYSTEM);
        for (const spec of envelopes) {
          ids[spec.name] = (await budget.createEnvelope(trx, entityId, { name: spec.name, groupId: group.id, categoryAccountIds: spec.categories, target: spec.target }, SYSTEM)).id;
        }
      }
      return ids;
    };
    const monthly = (amountCents: number) => ({ kind: 'monthly' as const, amountCents });
    const llcEnvelopes = await makeBudget(llc.id, {
      Operating: [
        { name: 'Software', categories: [b.software], target: monthly(25_000) },
        { name: 'Contractors', categories: [b.contractors], target: monthly(300_000) },
        { name: 'Advertising', categories: [b.advertising], target: monthly(60_000) },
        { name: 'Supplies & fees', categories: [b.supplies, b.bankFees], target: monthly(15_000) },
      ],
      Reserves: [
        { name: 'Taxes', categories: [] },
        { name: 'Operating reserve', categories: [], target: { kind: 'fill_to', amountCents: 3_000_000 } },
      ],
    });
    await budget.setAllocationRules(trx, llc.id, [
      { kind: 'percent', envelopeId: llcEnvelopes.Taxes as string, basisPoints: 2_500 },
      ...['Software', 'Contractors', 'Advertising', 'Supplies & fees'].map((name) => ({ kind: 'fill_to_target' as const, envelopeId: llcEnvelopes[name] as string })),
      { kind: 'remainder', envelopeId: llcEnvelopes['Operating reserve'] as string },
    ], SYSTEM);
    // Each client payment is allocated as it arrives.
    for (const entry of llcBooked.filter((booked) => booked.description.startsWith('Invoice paid'))) {
      await budget.runAllocation(trx, llc.id, { month: entry.postedOn.slice(0, 7), sourceEntryId: entry.id }, SYSTEM, trx);
    }
    const personalEnvelopes = await makeBudget(person.id, {
      Everyday: [
        { name: 'Groceries', categories: [p.groceries], target: monthly(40_000) },
        { name: 'Dining out', categories: [p.dining], target: monthly(12_000) },
        { name: 'Utilities', categories: [p.utilities], target: monthly(22_000) },
        { name: 'Mortgage interest', categories: [p.mortgageInterest], target: monthly(121_000) },
        { name: 'Subscriptions', categories: [p.subscriptions], target: monthly(3_300) },
        { name: 'Transportation', categories: [p.transport], target: monthly(15_000) },
      ],
      Goals: [
        { name: 'Vacation', categories: [], target: { kind: 'by_date', amountCents: 400_000, dueOn: addMonths(start, 12) } },
        { name: 'Emergency fund', categories: [], target: { kind: 'fill_to', amountCents: 3_000_000 } },
      ],
    });
    await budget.setAllocationRules(trx, person.id, [
      ...['Groceries', 'Dining out', 'Utilities', 'Mortgage interest', 'Subscriptions', 'Transportation'].map((name) => ({ kind: 'fill_to_target' as const, envelopeId: personalEnvelopes[name] as string })),
      { kind: 'fill_to_target', envelopeId: personalEnvelopes.Vacation as string },
      { kind: 'remainder', envelopeId: personalEnvelopes['Emergency fund'] as string },
    ], SYSTEM);
    // The monthly owner draw is the household's paycheck.
    for (const month of budgetMonths) await budget.runAllocation(trx, person.id, { month, amountCents: 600_000 }, SYSTEM, trx);
    for (const [entityId, reserve] of [[llc.id, llcEnvelopes['Operating reserve']], [person.id, personalEnvelopes['Emergency fund']]] as const) {
      const { readyToAssignCents } = await budget.getBudgetMonth(trx, entityId, lastMonth);
      if (readyToAssignCents !== 0) await budget.assign(trx, entityId, budgetMonths[0] as string, { envelopeId: reserve as string, amountCents: readyToAssignCents }, SYSTEM);
    }

    // Bills from today on, where the books end, so none is shown late and the rest of this month is upcoming.
    const bill = (entityId: string, input: Omit<Parameters<typeof createBill>[2], 'startsOn'>) => createBill(trx, entityId, { ...input, startsOn: todayOn }, SYSTEM, todayOn);
    await bill(person.id, { name: 'Mortgage interest', payee: 'Homestead Bank', rrule: 'FREQ=MONTHLY;BYMONTHDAY=1', amountCents: 120_000, estimated: true, categoryAccountId: p.mortgageInterest, payFromAccountId: p.checking, autopay: true });
    await bill(person.id, { name: 'Electric and water', payee: 'City Utilities', rrule: 'FREQ=MONTHLY;BYMONTHDAY=14', amountCents: 18_000, estimated: true, categoryAccountId: p.utilities, payFromAccountId: p.checking, autopay: false });
    await bill(person.id, { name: 'Streaming and music', payee: 'StreamCo', rrule: 'FREQ=MONTHLY;BYMONTHDAY=20', amountCents: 3_297, estimated: false, categoryAccountId: p.subscriptions, payFromAccountId: p.card, autopay: true });
    await bill(llc.id, { name: 'Design software', payee: 'Figma, Adobe, Notion', rrule: 'FREQ=MONTHLY;BYMONTHDAY=3', amountCents: 21_000, estimated: true, categoryAccountId: b.software, payFromAccountId: b.card, autopay: true });
    await bill(llc.id, { name: 'Bank account fee', payee: 'First Business Bank', rrule: 'FREQ=MONTHLY;BYMONTHDAY=-1', amountCents: 1_500, estimated: false, categoryAccountId: b.bankFees, payFromAccountId: b.checking, autopay: true });

    return {
      llcEntityId: llc.id,
      personalEntityId: person.id,
      entries: llcEntries.length + personalEntries.length,
      transfers,
      budgetMonth: lastMonth,
      bills: 5,
    };
  });
}
