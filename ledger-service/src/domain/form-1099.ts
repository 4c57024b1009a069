import { RuleViolation } from './errors';

// 1099-NEC: which contractors need a form for a year. Only cash, check and ACH payments count; payments by card
// or through a third-party network are reported by the processor on Form 1099-K, not by the payer.

export const PAYMENT_METHODS = ['cash', 'check', 'ach', 'card', 'third_party_network'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];
const REPORTABLE: ReadonlySet<PaymentMethod> = new Set(['cash', 'check', 'ach']);

export type W9Status = 'received' | 'requested' | 'missing';

export interface ThresholdRow {
  year: number;
  thresholdCents: number;
}

export interface Payee {
  id: string;
  name: string;
  isContractor: boolean;
  w9Status: W9Status;
}

export interface Payment {
  payeeId: string;
  paidOn: string;
  amountCents: number;
  method: PaymentMethod;
}

export interface Form1099Row {
  payeeId: string;
  name: string;
  w9Status: W9Status;
  reportableCents: number;
  /** Card and third-party network payments: on the processor's 1099-K instead. */
  excludedCents: number;
  needsForm: boolean;
}

export function thresholdFor(rows: readonly ThresholdRow[], year: number): number {
  const row = rows.find((candidate) => candidate.year === year);
  if (row === undefined) throw new RuleViolation('report_not_applicable', `no 1099-NEC threshold for ${year} in the table; add the year's figure`, { year });
  return row.thresholdCents;
}

/** Contractors paid in `year`, with what counts toward the threshold and whether a form is due ("or more"). */
export function form1099Nec(payees: readonly Payee[], payments: readonly Payment[], year: number, thresholds: readonly ThresholdRow[]) {
  const thresholdCents = thresholdFor(thresholds, year);
  const totals = new Map<string, { reportableCents: number; excludedCents: number }>();
  for (const payment of payments) {
    if (payment.paidOn.slice(0, 4) !== String(year)) continue;
    const total = totals.get(payment.payeeId) ?? { reportableCents: 0, excludedCents: 0 };
    if (REPORTABLE.has(payment.method)) total.reportableCents += payment.amountCents;
    else total.excludedCents += payment.amountCents;
    totals.set(payment.payeeId, total);
  }
  const rows: Form1099Row[] = payees
    .filter((payee) => payee.isContractor && totals.has(payee.id))
    .map((payee) => {
      const total = totals.get(payee.id) as { reportableCents: number; excludedCents: number };
      return { payeeId: payee.id, name: payee.name, w9Status: payee.w9Status, ...total, needsForm: total.reportableCents >= thresholdCents };
    })
    .sort((a, b) => b.reportableCents - a.reportableCents || a.name.localeCompare(b.name));
  return {
    year,
    thresholdCents,
    rows,
    /** Who needs a form, and of those, who has not given a W-9 (the form cannot be filed without the TIN). */
    formsDue: rows.filter((row) => row.needsForm).map((row) => row.payeeId),
    w9Missing: rows.filter((row) => row.needsForm && row.w9Status !== 'received').map((row) => row.payeeId),
  };
}
