import type { AccountKind } from './accounts';
import { parseCents } from './money';

// Pure rules for what Plaid reports: which kind of Veil account a Plaid account becomes, how a Plaid amount reads
// in Veil's sign convention, and which category account a Plaid category suggests (a data table, replaced by the
// categorisation rules engine when it lands).

const RETIREMENT_SUBTYPES = new Set([
  '401a', '401k', '403B', '457b', 'ira', 'roth', 'roth 401k', 'sep ira', 'simple ira', 'sarsep', 'keogh', 'pension',
  'retirement', 'thrift savings plan', 'profit sharing plan', 'non-taxable brokerage account', 'lif', 'lira', 'lrif',
  'lrsp', 'prif', 'rdsp', 'resp', 'rlif', 'rrif', 'rrsp', 'sipp', 'tfsa', 'isa',
]);

/** Plaid type/subtype → the kind of account it becomes in the chosen entity. */
export function accountKindFor(type: string, subtype: string | null, entityKind: 'llc' | 'personal'): AccountKind {
  const sub = subtype ?? '';
  switch (type) {
    case 'depository':
      if (sub === 'money market') return 'money_market';
      if (sub === 'savings' || sub === 'cd' || sub === 'hsa') return 'savings';
      return 'checking';
    case 'credit':
      return 'credit_card';
    case 'loan':
      if (sub === 'student') return 'student_loan';
      if (sub === 'mortgage' || sub === 'home equity') return 'mortgage';
      if (entityKind === 'llc' || sub === 'business' || sub === 'commercial') return 'loan_business';
      return 'loan_personal';
    case 'investment':
    case 'brokerage':
      return RETIREMENT_SUBTYPES.has(sub) ? 'retirement' : 'brokerage';
    default:
      return 'other_asset';
  }
}

/**
 * Plaid's amount is positive when money leaves the account; Veil's amountCents is positive when money comes in.
 * The JSON number is read through its decimal text (no float arithmetic on money).
 */
export function veilCentsFromPlaidAmount(amount: number): number {
  const cents = parseCents(String(amount));
  return cents === 0 ? 0 : -cents;
}

/** A Plaid balance (a decimal number or null) in cents, as the bank states it. */
export function centsFromPlaidBalance(amount: number | null | undefined): number | null {
  return amount === null || amount === undefined ? null : parseCents(String(amount));
}

/** A percentage with up to two decimals (Plaid's APR, interest rate) in basis points. */
export function basisPointsFromPercentage(percentage: number | null | undefined): number | null {
  if (percentage === null || percentage === undefined) return null;
  return parseCents(String(percentage));
}

/**
 * Plaid personal-finance category (detailed first, then primary) → names of category accounts that fit it, in
 * order of preference. Names are matched case-insensitively against the entity's income/expense accounts.
 * Transfers and loan payments are deliberately absent: they move money between the owner's own accounts (or
 * across the veil) and go to review.
 */
export const CATEGORY_ACCOUNT_NAMES: Readonly<Record<string, readonly string[]>> = {
  INCOME_WAGES: ['Salary', 'Wages', 'Payroll'],
  INCOME_INTEREST_EARNED: ['Interest Income', 'Interest'],
  INCOME_DIVIDENDS: ['Dividends', 'Dividend Income'],
  INCOME_OTHER_INCOME: ['Client Revenue', 'Revenue', 'Sales', 'Client Income', 'Income'],
  INCOME: ['Income', 'Client Revenue', 'Revenue'],
  FOOD_AND_DRINK_GROCERIES: ['Groceries'],
  FOOD_AND_DRINK_RESTAURANT: ['Meals', 'Dining Out', 'Dining', 'Restaurants'],
  FOOD_AND_DRINK: ['Dining Out', 'Dining', 'Meals', 'Food'],
  RENT_AND_UTILITIES_RENT: ['Rent'],
  RENT_AND_UTILITIES: ['Utilities'],
  ENTERTAINMENT: ['Subscriptions', 'Entertainment'],
  GENERAL_SERVICES: ['Software & Subscriptions', 'Software', 'Subscriptions', 'Services'],
  GENERAL_MERCHANDISE_OFFICE_SUPPLIES: ['Office Supplies', 'Supplies'],
  GENERAL_MERCHANDISE: ['Shopping', 'Household'],
  TRANSPORTATION: ['Transport', 'Transportation', 'Auto'],
  TRAVEL: ['Travel'],
  BANK_FEES: ['Bank Fees'],
  MEDICAL: ['Medical', 'Health'],
  PERSONAL_CARE: ['Personal Care'],
};

/** The candidate category names for a Plaid category, most specific first. */
export function categoryNamesFor(category: { primary: string; detailed: string } | null | undefined): readonly string[] {
  if (!category) return [];
  return [...(CATEGORY_ACCOUNT_NAMES[category.detailed] ?? []), ...(CATEGORY_ACCOUNT_NAMES[category.primary] ?? [])];
}
