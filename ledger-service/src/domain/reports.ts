import { naturalBalanceCents, type AccountClass } from './accounts';
import { assert } from './errors';
import { formatCents } from './money';

// Financial statements from per-account sums. The sums come from SQL aggregates (services/reports.ts); these
// functions only arrange them, so every figure here is a sum of integer cents and nothing is re-derived.

export interface AccountTotal {
  accountId: string;
  name: string;
  code: string | null;
  class: AccountClass;
  kind: string;
  currency: string;
  counterpartyEntityId: string | null;
  /** Signed debit-positive sum of the postings in scope. */
  balanceCents: number;
}

export interface ReportLine {
  accountId: string;
  name: string;
  code: string | null;
  class: AccountClass;
  kind: string;
  currency: string;
  /** Debit-positive, as posted. */
  balanceCents: number;
  /** Read the way people read the class: liabilities, equity and income positive when credit. */
  naturalBalanceCents: number;
}

function line(total: AccountTotal): ReportLine {
  return {
    accountId: total.accountId,
    name: total.name,
    code: total.code,
    class: total.class,
    kind: total.kind,
    currency: total.currency,
    balanceCents: total.balanceCents,
    naturalBalanceCents: naturalBalanceCents(total.class, total.balanceCents),
  };
}

const CLASS_ORDER: Record<AccountClass, number> = { asset: 0, liability: 1, equity: 2, income: 3, expense: 4 };

function ordered(totals: readonly AccountTotal[]): AccountTotal[] {
  return [...totals].sort(
    (a, b) => CLASS_ORDER[a.class] - CLASS_ORDER[b.class] || (a.code ?? '').localeCompare(b.code ?? '') || a.name.localeCompare(b.name),
  );
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  assert(Number.isSafeInteger(total), 'a report total left the safe integer range');
  return total;
}

/** Accounts that never had a posting in scope are left out: a zero line says nothing a reader needs. */
function nonZero(totals: readonly AccountTotal[]): AccountTotal[] {
  return totals.filter((total) => total.balanceCents !== 0);
}

export interface TrialBalance {
  currency: string;
  lines: ReportLine[];
  debitCents: number;
  creditCents: number;
}

/** Debits and credits per account; they must be equal, since every entry balances. */
export function trialBalance(currency: string, totals: readonly AccountTotal[]): TrialBalance {
  const lines = ordered(nonZero(totals.filter((total) => total.currency === currency))).map(line);
  const debitCents = sum(lines.filter((l) => l.balanceCents > 0).map((l) => l.balanceCents));
  const creditCents = -sum(lines.filter((l) => l.balanceCents < 0).map((l) => l.balanceCents));
  assert(debitCents === creditCents, `trial balance in ${currency} does not balance: debits ${debitCents}, credits ${creditCents}`);
  return { currency, lines, debitCents, creditCents };
}

export interface Section {
  lines: ReportLine[];
  /** Sum of the lines' natural balances. */
  totalCents: number;
}

function section(totals: readonly AccountTotal[], accountClass: AccountClass): Section {
  const lines = ordered(nonZero(totals.filter((total) => total.class === accountClass))).map(line);
  return { lines, totalCents: sum(lines.map((l) => l.naturalBalanceCents)) };
}

export interface BalanceSheet {
  currency: string;
  assets: Section;
  liabilities: Section;
  equity: Section;
  /** Net income before `fromOn` that no closing entry has moved into equity yet (the books are never closed). */
  retainedEarningsCents: number;
  /** Net income from `fromOn` to the balance sheet date. */
  currentEarningsCents: number;
  /** Liabilities + equity + retained and current earnings: equal to total assets. */
  liabilitiesAndEquityCents: number;
}

/**
 * Balances as of a date. `balances` are cumulative to that date; `priorEarnings` are the income and expense
 * totals before the period, so earnings split into retained (earlier years) and current (this period).
 */
export function balanceSheet(currency: string, balances: readonly AccountTotal[], priorIncomeExpense: readonly AccountTotal[]): BalanceSheet {
  const inCurrency = balances.filter((total) => total.currency === currency);
  const totalEarnings = netIncome(inCurrency);
  const retainedEarningsCents = netIncome(priorIncomeExpense.filter((total) => total.currency === currency));
  const assets = section(inCurrency, 'asset');
  const liabilities = section(inCurrency, 'liability');
  const equity = section(inCurrency, 'equity');
  const liabilitiesAndEquityCents = liabilities.totalCents + equity.totalCents + totalEarnings;
  // The accounting equation. Every entry balances, so a difference here is a bug in this code or the SQL above it.
  assert(
    assets.totalCents === liabilitiesAndEquityCents,
    `balance sheet in ${currency} does not balance: assets ${assets.totalCents}, liabilities + equity ${liabilitiesAndEquityCents}`,
  );
  return {
    currency,
    assets,
    liabilities,
    equity,
    retainedEarningsCents,
    currentEarningsCents: totalEarnings - retainedEarningsCents,
    liabilitiesAndEquityCents,
  };
}

/** Income minus expense: income is credit (negative) when posted, so net income is minus the sum. */
function netIncome(totals: readonly AccountTotal[]): number {
  const value = -sum(totals.filter((total) => total.class === 'income' || total.class === 'expense').map((total) => total.balanceCents));
  return value === 0 ? 0 : value;
}

export interface IncomeStatement {
  currency: string;
  income: Section;
  expenses: Section;
  netIncomeCents: number;
}

/** Income and expense over a period: `activity` is the sum of the period's postings per account. */
export function incomeStatement(currency: string, activity: readonly AccountTotal[]): IncomeStatement {
  const inCurrency = activity.filter((total) => total.currency === currency);
  const income = section(inCurrency, 'income');
  const expenses = section(inCurrency, 'expense');
  const netIncomeCents = income.totalCents - expenses.totalCents;
  assert(netIncomeCents === netIncome(inCurrency), 'income statement: sections disagree with the postings');
  return { currency, income, expenses, netIncomeCents };
}

/** The currencies that appear, sorted, so a report in several currencies has one part per currency. */
export function currenciesOf(totals: readonly AccountTotal[], fallback: string): string[] {
  const found = [...new Set(totals.map((total) => total.currency))].sort();
  return found.length > 0 ? found : [fallback];
}

// CSV (RFC 4180): amounts as decimal strings from cents, so a spreadsheet never sees a float we computed.

function csvCell(value: string): string {
  // A leading =, +, - or @ makes spreadsheets evaluate the cell; names are user input, so quote them as text.
  const guarded = /^[=+@\t\r]/.test(value) || (/^-/.test(value) && !/^-\d+\.\d{2}$/.test(value)) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}

export function toCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** One row per line of each section, then its total: `section,account,code,kind,currency,amount`. */
export function sectionsCsv(sections: readonly { label: string; currency: string; section: Section }[], extra: readonly [string, string, number][] = []): string {
  const rows: string[][] = [['section', 'account', 'code', 'kind', 'currency', 'amount']];
  for (const { label, currency, section: part } of sections) {
    for (const l of part.lines) rows.push([label, l.name, l.code ?? '', l.kind, currency, formatCents(l.naturalBalanceCents)]);
    rows.push([label, `Total ${label}`, '', '', currency, formatCents(part.totalCents)]);
  }
  for (const [label, currency, cents] of extra) rows.push([label, label, '', '', currency, formatCents(cents)]);
  return toCsv(rows);
}

export function trialBalanceCsv(reports: readonly TrialBalance[]): string {
  const rows: string[][] = [['account', 'code', 'class', 'kind', 'currency', 'debit', 'credit']];
  for (const report of reports) {
    for (const l of report.lines) {
      rows.push([l.name, l.code ?? '', l.class, l.kind, l.currency, l.balanceCents > 0 ? formatCents(l.balanceCents) : '', l.balanceCents < 0 ? formatCents(-l.balanceCents) : '']);
    }
    rows.push(['Total', '', '', '', report.currency, formatCents(report.debitCents), formatCents(report.creditCents)]);
  }
  return toCsv(rows);
}

export interface EquityStatement {
  currency: string;
  /** Equity accounts plus earnings not closed into them, the day before `fromOn`. */
  openingEquityCents: number;
  contributionsCents: number;
  netIncomeCents: number;
  /** Positive: what the owner took out. */
  drawsCents: number;
  /** Any other equity movement in the period (opening balances, retained earnings entries). */
  otherCents: number;
  closingEquityCents: number;
}

const CONTRIBUTION_KINDS = new Set(['contributed_capital']);
const DRAW_KINDS = new Set(['draws']);

/**
 * Owner's equity from one date to another: opening + contributions + net income − draws + other = closing.
 * `opening` and `activity` are the per-account totals before and during the period; closing is derived from them
 * and checked against the balance-sheet view of the same books (`closingBalances`).
 */
export function equityStatement(
  currency: string,
  opening: readonly AccountTotal[],
  activity: readonly AccountTotal[],
  closingBalances: readonly AccountTotal[],
): EquityStatement {
  const equityAndEarnings = (totals: readonly AccountTotal[]) =>
    -sum(totals.filter((t) => t.currency === currency && t.class !== 'asset' && t.class !== 'liability').map((t) => t.balanceCents));
  const inPeriod = activity.filter((t) => t.currency === currency);
  const credit = (filter: (t: AccountTotal) => boolean) => -sum(inPeriod.filter(filter).map((t) => t.balanceCents));
  const openingEquityCents = equityAndEarnings(opening);
  const contributionsCents = credit((t) => t.class === 'equity' && CONTRIBUTION_KINDS.has(t.kind));
  const drawsCents = -credit((t) => t.class === 'equity' && DRAW_KINDS.has(t.kind));
  const netIncomeCents = credit((t) => t.class === 'income' || t.class === 'expense');
  const otherCents = credit((t) => t.class === 'equity' && !CONTRIBUTION_KINDS.has(t.kind) && !DRAW_KINDS.has(t.kind));
  const closingEquityCents = openingEquityCents + contributionsCents + netIncomeCents - drawsCents + otherCents;
  assert(closingEquityCents === equityAndEarnings(closingBalances), `equity statement in ${currency} does not roll forward to the balance sheet`);
  const zero = (value: number) => (value === 0 ? 0 : value);
  return {
    currency,
    openingEquityCents: zero(openingEquityCents),
    contributionsCents: zero(contributionsCents),
    netIncomeCents: zero(netIncomeCents),
    drawsCents: zero(drawsCents),
    otherCents: zero(otherCents),
    closingEquityCents: zero(closingEquityCents),
  };
}

export function equityStatementCsv(parts: readonly EquityStatement[]): string {
  const rows: string[][] = [['item', 'currency', 'amount']];
  for (const part of parts) {
    rows.push(['Opening equity', part.currency, formatCents(part.openingEquityCents)]);
    rows.push(['Contributions', part.currency, formatCents(part.contributionsCents)]);
    rows.push(['Net income', part.currency, formatCents(part.netIncomeCents)]);
    rows.push(['Draws', part.currency, formatCents(-part.drawsCents)]);
    rows.push(['Other equity movements', part.currency, formatCents(part.otherCents)]);
    rows.push(['Closing equity', part.currency, formatCents(part.closingEquityCents)]);
  }
  return toCsv(rows);
}
