import { formatCents } from './money';
import type { BalanceSheet, IncomeStatement } from './reports';
import type { ScheduleC } from './schedule-c';

// The printable summary of an entity's year, as lines: what the PDF draws, and what a test can read without
// parsing a PDF. Amounts are formatted from integer cents here and nowhere else.

export interface SummaryLine {
  style: 'title' | 'heading' | 'line' | 'total' | 'note';
  label: string;
  /** Decimal string, or empty for headings and notes. */
  amount: string;
}

const line = (label: string, cents: number, style: 'line' | 'total' = 'line'): SummaryLine => ({ style, label, amount: formatCents(cents) });
const heading = (label: string): SummaryLine => ({ style: 'heading', label, amount: '' });

export function summaryLines(input: {
  entityName: string;
  year: number;
  fromOn: string;
  toOn: string;
  incomeStatements: readonly IncomeStatement[];
  balanceSheets: readonly BalanceSheet[];
  scheduleC: (ScheduleC & { currency: string }) | { notApplicable: string };
}): SummaryLine[] {
  const lines: SummaryLine[] = [
    { style: 'title', label: `${input.entityName}: summary for ${input.year}`, amount: '' },
    { style: 'note', label: `Period ${input.fromOn} to ${input.toOn}. Amounts in the currency shown; figures from the ledger's postings.`, amount: '' },
  ];
  for (const statement of input.incomeStatements) {
    lines.push(heading(`Profit and loss (${statement.currency})`));
    for (const l of statement.income.lines) lines.push(line(l.name, l.naturalBalanceCents));
    lines.push(line('Total income', statement.income.totalCents, 'total'));
    for (const l of statement.expenses.lines) lines.push(line(l.name, l.naturalBalanceCents));
    lines.push(line('Total expenses', statement.expenses.totalCents, 'total'));
    lines.push(line('Net income', statement.netIncomeCents, 'total'));
  }
  for (const sheet of input.balanceSheets) {
    lines.push(heading(`Balance sheet at ${input.toOn} (${sheet.currency})`));
    for (const [label, section] of [['assets', sheet.assets], ['liabilities', sheet.liabilities], ['equity', sheet.equity]] as const) {
      for (const l of section.lines) lines.push(line(l.name, l.naturalBalanceCents));
      lines.push(line(`Total ${label}`, section.totalCents, 'total'));
    }
    lines.push(line('Retained earnings', sheet.retainedEarningsCents));
    lines.push(line('Current earnings', sheet.currentEarningsCents));
    lines.push(line('Total liabilities and equity', sheet.liabilitiesAndEquityCents, 'total'));
  }
  if ('notApplicable' in input.scheduleC) {
    lines.push(heading('Schedule C'));
    lines.push({ style: 'note', label: input.scheduleC.notApplicable, amount: '' });
  } else {
    const form = input.scheduleC;
    lines.push(heading(`Schedule C (${form.currency})`));
    for (const l of form.lines) if (l.amountCents !== 0) lines.push(line(`Line ${l.line}: ${l.label}`, l.amountCents));
    lines.push(line('Line 7: Gross income', form.grossIncomeCents, 'total'));
    lines.push(line('Line 28: Total expenses', form.totalExpensesCents, 'total'));
    lines.push(line('Line 31: Net profit or (loss)', form.netProfitCents, 'total'));
  }
  return lines;
}
