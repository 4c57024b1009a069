import { seededRandom } from '../domain/random';
import type { AccountKind } from '../domain/accounts';
import { createAccount } from './accounts';
import { auditedTransaction } from './audit';
import { systemActor, type Actor, type Deps } from './context';
import { createEntity } from './entities';
import { bookEntries, type EntryDraft } from './journal';
import { loadAfrTable } from './reference';
import { createTransfer, type NewTransfer } from './veil';

// A realistic, deterministic demo: a design studio LLC and its owner, four months of books. Seeded only into an
// empty ledger, so restarting never doubles it.


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


function day(year: number, month: number, dayOfMonth: number): string {
  return `${year}-${String(month).padStart(2, '0')}-${String(dayOfMonth).padStart(2, '0')}`;
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

/** Seeds the demo books, owned by `ownerUserId` (the demo user) so that they are visible to that user only. */
export async function seedDemo(
  deps: Deps,
  options: { ownerUserId: string; year?: number; firstMonth?: number; months?: number },
) {
  const afrRows = deps.afrRows ?? loadAfrTable();
  const SYSTEM: Actor = { ...systemActor('demo-seed'), userId: options.ownerUserId };
  const existing = await deps.db.selectFrom('entities').select('id').limit(1).execute();
  if (existing.length > 0) return null;
  const year = options.year ?? 2026;
  const firstMonth = options.firstMonth ?? 8;
  const months = options.months ?? 4;
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

    const start = day(year, firstMonth, 1);
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
    for (let offset = 0; offset < months; offset += 1) {
      const month = firstMonth + offset;
      const clients = ['Harbor Coffee Co.', 'Lumen Health', 'Cedar & Pine Realty'];
      for (const [index, client] of clients.entries()) {
        llcEntries.push(
          move(day(year, month, 5 + index * 7), `Invoice paid: ${client}`, b.checking, b.revenue, between(320_000, 880_000)),
        );
      }
      llcEntries.push(
        move(day(year, month, 3), 'Figma, Adobe, Notion subscriptions', b.software, b.card, between(18_000, 24_000)),
        move(day(year, month, 12), 'Freelance illustrator', b.contractors, b.checking, between(150_000, 300_000)),
        move(day(year, month, 16), 'LinkedIn ads', b.advertising, b.card, between(20_000, 60_000)),
        move(day(year, month, 18), 'Printer paper and toner', b.supplies, b.card, between(4_000, 12_000)),
        move(day(year, month, 28), 'Monthly account fee', b.bankFees, b.checking, 1_500),
        move(day(year, month, 25), 'Credit card payment', b.card, b.checking, between(40_000, 90_000)),
        move(day(year, month, 26), 'Set aside for estimated taxes', b.savings, b.checking, 250_000),
      );
      personalEntries.push(
        move(day(year, month, 1), 'Mortgage interest', p.mortgageInterest, p.checking, between(118_000, 121_000)),
        move(day(year, month, 1), 'Mortgage principal', p.mortgage, p.checking, between(61_000, 64_000)),
        move(day(year, month, 8), 'Whole Foods', p.groceries, p.card, between(12_000, 28_000)),
        move(day(year, month, 15), 'Trader Joe\'s', p.groceries, p.card, between(8_000, 16_000)),
        move(day(year, month, 11), 'Dinner out', p.dining, p.card, between(6_000, 14_000)),
        move(day(year, month, 14), 'Electric and water', p.utilities, p.checking, between(14_000, 22_000)),
        move(day(year, month, 20), 'Streaming and music', p.subscriptions, p.card, 3_297),
        move(day(year, month, 22), 'Transit pass and fuel', p.transport, p.card, between(9_000, 15_000)),
        move(day(year, month, 27), 'Visa payment', p.card, p.checking, between(50_000, 70_000)),
        move(day(year, month, 28), 'Savings interest', p.savings, p.interest, between(5_500, 6_500)),
        move(day(year, month, 2), 'Monthly Roth IRA contribution', p.ira, p.checking, 58_300),
        move(day(year, month, 1), 'Transfer from money market', p.checking, p.moneyMarket, 350_000),
      );
    }
    await bookEntries(trx, llc.id, llcEntries, SYSTEM);
    await bookEntries(trx, person.id, personalEntries, SYSTEM);

    // The veil at work: money crosses only as classified, documented transfers.
    const cross = (input: Omit<NewTransfer, 'fromEntityId' | 'toEntityId'> & { from: 'llc' | 'person' }) => {
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
      postedOn: day(year, firstMonth, 10),
      memo: 'Working capital for new equipment',
      loan: { annualRateBasisPoints: 300, termMonths: 24, paymentFrequency: 'monthly' },
    });
    const expense = await cross({
      from: 'person',
      classification: 'reimbursement',
      fromAccountId: p.card,
      toAccountId: b.software,
      amountCents: 12_900,
      postedOn: day(year, firstMonth + 1, 4),
      reimbursement: { businessPurpose: 'Font licence for a client project', receiptReference: 'receipts/fonts-invoice-2291.pdf', expenseOn: day(year, firstMonth + 1, 4) },
    });
    await cross({ from: 'llc', classification: 'reimbursement_payment', fromAccountId: b.checking, toAccountId: p.checking, amountCents: 12_900, postedOn: day(year, firstMonth + 1, 20), relatedTransferId: expense.id });
    let transfers = 4;
    for (let offset = 0; offset < months; offset += 1) {
      const month = firstMonth + offset;
      await cross({ from: 'llc', classification: 'owner_draw', fromAccountId: b.checking, toAccountId: p.checking, amountCents: 600_000, postedOn: day(year, month, 15), memo: 'Monthly owner draw' });
      transfers += 1;
      if (offset > 0) {
        await cross({ from: 'llc', classification: 'loan_repayment', fromAccountId: b.checking, toAccountId: p.savings, amountCents: 42_981, postedOn: day(year, month, 10), relatedTransferId: loan.id });
        transfers += 1;
      }
    }
    return {
      llcEntityId: llc.id,
      personalEntityId: person.id,
      entries: llcEntries.length + personalEntries.length,
      transfers,
    };
  });
}
