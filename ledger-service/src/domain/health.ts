// Veil health: findings about one entity's books over a period, a score with its reasons, and the fixes that
// apply. The findings come from the same rules as Entity Guard; this module only weighs them.

export type FindingCode =
  | 'commingling'
  | 'undocumented_crossing'
  | 'open_reimbursement'
  | 'loan_behind_schedule'
  | 'llc_expense_paid_personally';

export type FixKind = 'reclassify_as_draw' | 'create_reimbursement';

export interface Finding {
  code: FindingCode;
  message: string;
  entryId?: string | undefined;
  transferId?: string | undefined;
  amountCents: number;
  /** The fix that one call applies (POST /veil-health/fixes), when there is one. */
  fix?: { kind: FixKind; needs: string[] } | undefined;
  /** Worse than the plain case: a reimbursement past the accountable-plan window. */
  overdue?: boolean | undefined;
}

export const FINDING_PENALTY: Record<FindingCode, number> = {
  commingling: 15,
  undocumented_crossing: 20,
  open_reimbursement: 5,
  loan_behind_schedule: 15,
  llc_expense_paid_personally: 10,
};

/** Extra points off when a finding is overdue (e.g. a reimbursement past 120 days). */
export const OVERDUE_PENALTY = 5;

export interface HealthScore {
  score: number;
  reasons: string[];
}

/** 100 for clean books; each finding costs its penalty, and the score never goes below zero. */
export function scoreFindings(findings: readonly Finding[]): HealthScore {
  let score = 100;
  const reasons: string[] = [];
  for (const finding of findings) {
    const penalty = FINDING_PENALTY[finding.code] + (finding.overdue ? OVERDUE_PENALTY : 0);
    score -= penalty;
    reasons.push(`-${penalty}: ${finding.message}`);
  }
  if (reasons.length === 0) reasons.push('no findings: the books are kept apart and every crossing is documented');
  return { score: Math.max(0, score), reasons };
}

export interface ScheduledPrincipal {
  dueOn: string;
  principalCents: number;
}

/** Principal that should have been repaid by `asOfOn`, per the stored schedule. */
export function principalDueBy(schedule: readonly ScheduledPrincipal[], asOfOn: string): number {
  return schedule.filter((row) => row.dueOn <= asOfOn).reduce((sum, row) => sum + row.principalCents, 0);
}
