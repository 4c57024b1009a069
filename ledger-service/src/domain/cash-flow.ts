import { CASH_KINDS, type AccountClass, type AccountKind } from './accounts';
import { assert } from './errors';
import { formatCents } from './money';
import { toCsv } from './reports';

// The cash flow statement, direct method: every movement of cash (checking, savings, money market, cash) in the
// period, attributed to the accounts on the other side of the entry that moved it. An entry balances per currency,
// so the cash it moved is exactly minus the sum of its non-cash postings in that currency: attributing each
// non-cash posting its negated amount accounts for every cent, and money moved between two cash accounts nets to
// nothing. The section is decided by the kind of the account the cash came from or went to.

export const CASH_FLOW_SECTIONS = ['operating', 'investing', 'financing'] as const;
export type CashFlowSection = (typeof CASH_FLOW_SECTIONS)[number];

/**
 * Operating: income, expenses and the working-capital accounts that carry them (cards, receivables, payables,
 * taxes, reimbursements between the books). Investing: holdings and money lent or invested. Financing: money
 * borrowed and repaid (principal; the interest is an expense, so operating) and the owner's contributions and draws.
 */
const SECTION_OF_KIND: Record<Exclude<AccountKind, 'checking' | 'savings' | 'money_market' | 'cash'>, CashFlowSection> = {
  income_category: 'operating',
  expense_category: 'operating',
  receivable: 'operating',
  payable: 'operating',
  credit_card: 'operating',
  tax_payable: 'operating',
  other_liability: 'operating',
  due_from_entity: 'operating',
  due_to_entity: 'operating',
  brokerage: 'investing',
  retirement: 'investing',
  other_asset: 'investing',
  loan_receivable_entity: 'investing',
  investment_in_entity: 'investing',
  loan_business: 'financing',
  loan_personal: 'financing',
  student_loan: 'financing',
  mortgage: 'financing',
  loan_payable_entity: 'financing',
  contributed_capital: 'financing',
  draws: 'financing',
  retained_earnings: 'financing',
  opening_balance: 'financing',
};

export function cashFlowSectionOf(kind: string): CashFlowSection {
  assert(!CASH_KINDS.has(kind as AccountKind), `cash flow: ${kind} is cash, not a source of cash`);
  const section = SECTION_OF_KIND[kind as keyof typeof SECTION_OF_KIND];
  assert(section !== undefined, `cash flow: account kind ${kind} has no section`);
  return section;
}

export interface CashFlowSource {
  accountId: string;
  name: string;
  code: string | null;
  class: AccountClass;
  kind: string;
  currency: string;
  /** Cash received (positive) or paid (negative) against this account in the period. */
  cashCents: number;
}

export interface CashFlowPart {
  lines: CashFlowSource[];
  totalCents: number;
}

export interface CashFlowStatement {
  currency: string;
  /** Balance of the cash accounts the day before the period. */
  openingCashCents: number;
  operating: CashFlowPart;
  investing: CashFlowPart;
  financing: CashFlowPart;
  netChangeCents: number;
  closingCashCents: number;
}

function total(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) sum += value;
  assert(Number.isSafeInteger(sum), 'a cash flow total left the safe integer range');
  return sum === 0 ? 0 : sum;
}

/**
 * Arranges the period's cash movements (`sources`, per counter-account) between the opening and closing cash
 * balances, and checks that they bridge them exactly.
 */
export function cashFlowStatement(currency: string, openingCashCents: number, sources: readonly CashFlowSource[], closingCashCents: number): CashFlowStatement {
  const inCurrency = sources.filter((source) => source.currency === currency && source.cashCents !== 0);
  const part = (section: CashFlowSection): CashFlowPart => {
    const lines = inCurrency
      .filter((source) => cashFlowSectionOf(source.kind) === section)
      .sort((a, b) => (a.code ?? '').localeCompare(b.code ?? '') || a.name.localeCompare(b.name));
    return { lines, totalCents: total(lines.map((line) => line.cashCents)) };
  };
  const operating = part('operating');
  const investing = part('investing');
  const financing = part('financing');
  const netChangeCents = total([operating.totalCents, investing.totalCents, financing.totalCents]);
  // Every cent that entered or left a cash account came from some other account of the same entry.
  assert(
    openingCashCents + netChangeCents === closingCashCents,
    `cash flow in ${currency} does not bridge: opening ${openingCashCents} + change ${netChangeCents} ≠ closing ${closingCashCents}`,
  );
  return { currency, openingCashCents, operating, investing, financing, netChangeCents, closingCashCents };
}

export function cashFlowCsv(parts: readonly CashFlowStatement[]): string {
  const rows: string[][] = [['section', 'account', 'code', 'kind', 'currency', 'amount']];
  for (const part of parts) {
    rows.push(['Opening cash', 'Opening cash', '', '', part.currency, formatCents(part.openingCashCents)]);
    for (const section of CASH_FLOW_SECTIONS) {
      const label = `${section[0]?.toUpperCase()}${section.slice(1)}`;
      for (const line of part[section].lines) rows.push([label, line.name, line.code ?? '', line.kind, part.currency, formatCents(line.cashCents)]);
      rows.push([label, `Net cash from ${section} activities`, '', '', part.currency, formatCents(part[section].totalCents)]);
    }
    rows.push(['Net change in cash', 'Net change in cash', '', '', part.currency, formatCents(part.netChangeCents)]);
    rows.push(['Closing cash', 'Closing cash', '', '', part.currency, formatCents(part.closingCashCents)]);
  }
  return toCsv(rows);
}
