// The chart of accounts: which kinds an account of each class may have, and how balances read.

export const ACCOUNT_CLASSES = ['asset', 'liability', 'equity', 'income', 'expense'] as const;
export type AccountClass = (typeof ACCOUNT_CLASSES)[number];

/** Kind → the class it must have. Inter-entity kinds carry the other entity in `counterpartyEntityId`. */
export const ACCOUNT_KIND_CLASS = {
  checking: 'asset',
  savings: 'asset',
  money_market: 'asset',
  cash: 'asset',
  brokerage: 'asset',
  retirement: 'asset',
  receivable: 'asset',
  other_asset: 'asset',
  due_from_entity: 'asset',
  loan_receivable_entity: 'asset',
  investment_in_entity: 'asset',
  credit_card: 'liability',
  loan_business: 'liability',
  loan_personal: 'liability',
  student_loan: 'liability',
  mortgage: 'liability',
  payable: 'liability',
  tax_payable: 'liability',
  other_liability: 'liability',
  due_to_entity: 'liability',
  loan_payable_entity: 'liability',
  contributed_capital: 'equity',
  draws: 'equity',
  retained_earnings: 'equity',
  opening_balance: 'equity',
  income_category: 'income',
  expense_category: 'expense',
} as const satisfies Record<string, AccountClass>;

export type AccountKind = keyof typeof ACCOUNT_KIND_CLASS;
export const ACCOUNT_KINDS = Object.keys(ACCOUNT_KIND_CLASS) as [AccountKind, ...AccountKind[]];

export const INTER_ENTITY_KINDS: ReadonlySet<AccountKind> = new Set([
  'due_from_entity',
  'loan_receivable_entity',
  'investment_in_entity',
  'due_to_entity',
  'loan_payable_entity',
]);

/** Kinds that hold real money at a bank or broker: what budgets call on-budget cash, and what Plaid links. */
export const CASH_KINDS: ReadonlySet<AccountKind> = new Set(['checking', 'savings', 'money_market', 'cash']);

export function classOfKind(kind: AccountKind): AccountClass {
  return ACCOUNT_KIND_CLASS[kind];
}

/**
 * Postings are signed debit-positive. Liabilities, equity and income are credit-normal, so people read their
 * balances with the sign flipped: a card with 50.00 owed shows 50.00, not -50.00.
 */
export function naturalBalanceCents(accountClass: AccountClass, balanceCents: number): number {
  const natural = accountClass === 'asset' || accountClass === 'expense' ? balanceCents : -balanceCents;
  return natural === 0 ? 0 : natural;
}
