import type { Db } from '../db/database';
import { CASH_KINDS } from '../domain/accounts';
import { addDays } from '../domain/dates';
import { formatCents, centsFromDb } from '../domain/money';
import { getBudgetMonth } from './budget';
import { listOccurrences } from './bills';

// What needs the owner's attention now, computed on request from the books, the budget and the bills. (Pushing
// these as signed webhook events is the next step; this is the pull side the dashboard and n8n can poll.)

export const ALERT_KINDS = ['low_balance', 'envelope_overspent', 'ready_to_assign_negative', 'target_underfunded', 'bill_due', 'bill_late'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface Alert {
  kind: AlertKind;
  severity: 'warning' | 'info';
  message: string;
  accountId?: string;
  envelopeId?: string;
  billId?: string;
  dueOn?: string;
  amountCents: number;
}

export interface AlertOptions {
  today: string;
  /** A cash account under this balance is low (default 0: overdrawn). */
  balanceCentsMin: number;
  /** Bills due within this many days are listed (late ones always). */
  dueWithinDays: number;
}

const LATE_LOOKBACK_DAYS = 92;

export async function listAlerts(db: Db, entityId: string, options: AlertOptions): Promise<Alert[]> {
  const alerts: Alert[] = [];
  const accounts = await db
    .selectFrom('accounts')
    .select(['id', 'name', 'balanceCents'])
    .where('entityId', '=', entityId)
    .where('kind', 'in', [...CASH_KINDS])
    .where('archivedAt', 'is', null)
    .orderBy('name')
    .execute();
  for (const account of accounts) {
    const balanceCents = centsFromDb(account.balanceCents);
    if (balanceCents < options.balanceCentsMin) {
      alerts.push({ kind: 'low_balance', severity: 'warning', message: `${account.name} holds ${formatCents(balanceCents)}, under ${formatCents(options.balanceCentsMin)}`, accountId: account.id, amountCents: balanceCents });
    }
  }
  const month = await getBudgetMonth(db, entityId, options.today.slice(0, 7));
  if (month.readyToAssignCents < 0) {
    alerts.push({ kind: 'ready_to_assign_negative', severity: 'warning', message: `Ready to Assign is ${formatCents(month.readyToAssignCents)}: more was assigned, or spent without an envelope, than was received`, amountCents: month.readyToAssignCents });
  }
  for (const line of month.groups.flatMap((group) => group.envelopes)) {
    if (line.availableCents < 0) {
      alerts.push({ kind: 'envelope_overspent', severity: 'warning', message: `${line.name} is overspent by ${formatCents(-line.availableCents)}`, envelopeId: line.id, amountCents: line.availableCents });
    } else if (line.underfundedCents > 0) {
      alerts.push({ kind: 'target_underfunded', severity: 'info', message: `${line.name} needs ${formatCents(line.underfundedCents)} more this month`, envelopeId: line.id, amountCents: line.underfundedCents });
    }
  }
  const occurrences = await listOccurrences(db, entityId, {
    fromOn: addDays(options.today, -LATE_LOOKBACK_DAYS),
    toOn: addDays(options.today, options.dueWithinDays),
    today: options.today,
  });
  for (const occurrence of occurrences) {
    if (occurrence.status !== 'late' && occurrence.status !== 'due' && occurrence.status !== 'upcoming') continue;
    const late = occurrence.status === 'late';
    alerts.push({
      kind: late ? 'bill_late' : 'bill_due',
      severity: late ? 'warning' : 'info',
      message: `${occurrence.billName} (${occurrence.payee}) ${late ? 'was due' : 'is due'} on ${occurrence.dueOn}: ${formatCents(occurrence.amountCents)}${occurrence.estimated ? ' (estimated)' : ''}${occurrence.autopay ? ', autopay' : ''}`,
      billId: occurrence.billId,
      dueOn: occurrence.dueOn,
      amountCents: occurrence.amountCents,
    });
  }
  return alerts;
}
