import { assert } from './errors';
import type { AccountTotal } from './reports';

// Schedule C for a disregarded single-member LLC: the year's income and expense accounts, each mapped to a line
// by the editable table in reference/schedule-c.json. Only income and expense accounts are read, so owner draws
// and contributions (equity) can never reach a line; balances with the owner's own books (interest on owner
// loans) are left out too, because a disregarded LLC and its owner are one taxpayer.

export type SchedulePart = 'income' | 'expense';

export interface ScheduleCTable {
  defaults: Record<SchedulePart, string>;
  lines: { line: string; part: SchedulePart; label: string }[];
  mapping: { line: string; keywords: string[] }[];
}

export interface ScheduleCAccount {
  accountId: string;
  name: string;
  /** Natural balance for the year: income positive when earned, expense positive when spent. */
  amountCents: number;
}

export interface ScheduleCLine {
  line: string;
  label: string;
  part: SchedulePart;
  amountCents: number;
  accounts: ScheduleCAccount[];
}

export interface ScheduleC {
  lines: ScheduleCLine[];
  /** Lines the form computes: 3 = 1 − 2, 5 = 3 − 4, 7 = 5 + 6, 28 = 8 … 27b, 29 = 7 − 28, 31 = 29 − 30. */
  grossReceiptsLessReturnsCents: number;
  costOfGoodsSoldCents: number;
  grossProfitCents: number;
  grossIncomeCents: number;
  totalExpensesCents: number;
  tentativeProfitCents: number;
  businessUseOfHomeCents: number;
  netProfitCents: number;
  excluded: (ScheduleCAccount & { reason: string })[];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The line an account goes to: the first mapping row of its part whose keyword is a whole word of its name. */
export function lineOfAccount(table: ScheduleCTable, part: SchedulePart, accountName: string): string {
  const partOf = new Map(table.lines.map((line) => [line.line, line.part]));
  for (const row of table.mapping) {
    if (partOf.get(row.line) !== part) continue;
    if (row.keywords.some((keyword) => new RegExp(`(^|[^a-z0-9])${escapeRegExp(keyword.toLowerCase())}($|[^a-z0-9])`).test(accountName.toLowerCase()))) return row.line;
  }
  return table.defaults[part];
}

export function scheduleC(table: ScheduleCTable, activity: readonly AccountTotal[]): ScheduleC {
  const lines = new Map<string, ScheduleCLine>(table.lines.map((line) => [line.line, { ...line, amountCents: 0, accounts: [] }]));
  const excluded: ScheduleC['excluded'] = [];
  for (const total of activity) {
    if (total.class !== 'income' && total.class !== 'expense') continue;
    if (total.balanceCents === 0) continue;
    const part: SchedulePart = total.class;
    const amountCents = part === 'income' ? -total.balanceCents : total.balanceCents;
    const account = { accountId: total.accountId, name: total.name, amountCents };
    if (total.counterpartyEntityId !== null) {
      excluded.push({ ...account, reason: 'between the LLC and its owner: one taxpayer for a disregarded LLC, so no income-tax effect' });
      continue;
    }
    const target = lines.get(lineOfAccount(table, part, total.name));
    assert(target !== undefined, `schedule C: no line for ${total.name}`);
    // Returns and allowances reduce receipts: they are shown positive on line 2 and subtracted on line 3.
    const signed = target.line === '2' ? -amountCents : amountCents;
    target.amountCents += signed;
    target.accounts.push({ ...account, amountCents: signed });
  }
  const amount = (line: string) => lines.get(line)?.amountCents ?? 0;
  const grossReceiptsLessReturnsCents = amount('1') - amount('2');
  const costOfGoodsSoldCents = 0;
  const grossProfitCents = grossReceiptsLessReturnsCents - costOfGoodsSoldCents;
  const grossIncomeCents = grossProfitCents + amount('6');
  let totalExpensesCents = 0;
  for (const line of lines.values()) if (line.part === 'expense' && line.line !== '30') totalExpensesCents += line.amountCents;
  const tentativeProfitCents = grossIncomeCents - totalExpensesCents;
  const businessUseOfHomeCents = amount('30');
  return {
    lines: [...lines.values()],
    grossReceiptsLessReturnsCents,
    costOfGoodsSoldCents,
    grossProfitCents,
    grossIncomeCents,
    totalExpensesCents,
    tentativeProfitCents,
    businessUseOfHomeCents,
    netProfitCents: tentativeProfitCents - businessUseOfHomeCents,
    excluded,
  };
}
