import type { AccountKind } from './accounts';
import { lookupAfr, type AfrRow } from './afr';
import { daysBetween } from './dates';
import { assert, RuleViolation } from './errors';
import type { PostingDraft } from './journal';
import { formatCents, formatBasisPoints } from './money';

// The corporate veil: money crossing between an LLC and its owner is one of a closed set of classifications, each
// booked as two entries (one per entity) whose postings are fixed here. See DESIGN.md, "The veil".

export const CLASSIFICATIONS = [
  'capital_contribution',
  'owner_draw',
  'loan',
  'loan_repayment',
  'reimbursement',
  'reimbursement_payment',
] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

/** The inter-entity accounts a crossing books to, found or created per (entity, counterparty). */
export const VEIL_ROLE_KIND = {
  contributed_capital: 'contributed_capital',
  draws: 'draws',
  investment_in_entity: 'investment_in_entity',
  due_to_entity: 'due_to_entity',
  due_from_entity: 'due_from_entity',
  loan_payable_entity: 'loan_payable_entity',
  loan_receivable_entity: 'loan_receivable_entity',
  interest_income: 'income_category',
  interest_expense: 'expense_category',
} as const satisfies Record<string, AccountKind>;
export type VeilRole = keyof typeof VEIL_ROLE_KIND;

export const VEIL_ROLE_LABEL: Record<VeilRole, string> = {
  contributed_capital: 'Member contributions',
  draws: 'Member draws',
  investment_in_entity: 'Investment in',
  due_to_entity: 'Due to',
  due_from_entity: 'Due from',
  loan_payable_entity: 'Loan payable to',
  loan_receivable_entity: 'Loan receivable from',
  interest_income: 'Interest income from',
  interest_expense: 'Interest expense to',
};

export type EntityKind = 'llc' | 'personal';

/** Which way the money goes, when the classification fixes it. Loans go either way. */
const DIRECTION: Partial<Record<Classification, { from: EntityKind; to: EntityKind }>> = {
  capital_contribution: { from: 'personal', to: 'llc' },
  owner_draw: { from: 'llc', to: 'personal' },
  reimbursement: { from: 'personal', to: 'llc' },
  reimbursement_payment: { from: 'llc', to: 'personal' },
};

export const ROLES_NEEDED: Record<Classification, { from: VeilRole[]; to: VeilRole[] }> = {
  capital_contribution: { from: ['investment_in_entity'], to: ['contributed_capital'] },
  owner_draw: { from: ['draws'], to: ['investment_in_entity'] },
  loan: { from: ['loan_receivable_entity'], to: ['loan_payable_entity'] },
  loan_repayment: { from: ['loan_payable_entity', 'interest_expense'], to: ['loan_receivable_entity', 'interest_income'] },
  reimbursement: { from: ['due_from_entity'], to: ['due_to_entity'] },
  reimbursement_payment: { from: ['due_to_entity'], to: ['due_from_entity'] },
};

const CASH: ReadonlySet<AccountKind> = new Set(['checking', 'savings', 'money_market', 'cash']);

/** The account kinds each side's named account may have: real money, except the expense a reimbursement books. */
export const ACCOUNT_KINDS_ALLOWED: Record<Classification, { from: ReadonlySet<AccountKind>; to: ReadonlySet<AccountKind> }> = {
  capital_contribution: { from: CASH, to: CASH },
  // A draw may land straight on an owner's expense: the LLC paid something personal and it is reclassified.
  owner_draw: { from: CASH, to: new Set([...CASH, 'expense_category']) },
  loan: { from: CASH, to: CASH },
  loan_repayment: { from: CASH, to: CASH },
  reimbursement: { from: new Set([...CASH, 'credit_card']), to: new Set(['expense_category']) },
  reimbursement_payment: { from: CASH, to: CASH },
};

export interface CrossingSides {
  classification: Classification | undefined;
  fromEntityId: string;
  toEntityId: string;
  fromKind: EntityKind;
  toKind: EntityKind;
}

/** Refuses anything that is not a classified crossing in the direction its classification allows. */
export function checkCrossing(sides: CrossingSides): Classification {
  if (sides.fromEntityId === sides.toEntityId) {
    throw new RuleViolation(
      'veil_not_a_crossing',
      'both accounts belong to the same entity: that is an ordinary entry, not an inter-entity transfer',
    );
  }
  if (sides.classification === undefined) {
    throw new RuleViolation(
      'veil_crossing_unclassified',
      'money crossing between two entities needs a classification: ' + CLASSIFICATIONS.join(', '),
      { allowed: CLASSIFICATIONS },
    );
  }
  const direction = DIRECTION[sides.classification];
  if (direction && (direction.from !== sides.fromKind || direction.to !== sides.toKind)) {
    throw new RuleViolation(
      'veil_direction_invalid',
      `a ${sides.classification} goes from the ${direction.from} entity to the ${direction.to} entity, ` +
        `not from ${sides.fromKind} to ${sides.toKind}`,
    );
  }
  if (sides.fromKind === sides.toKind) {
    throw new RuleViolation('veil_direction_invalid', 'a crossing links an LLC and its owner, not two entities of the same kind');
  }
  return sides.classification;
}

export interface CrossingAmounts {
  amountCents: number;
  /** Loan repayments only: the part that reduces the loan; the rest is interest. */
  principalCents?: number | undefined;
  interestCents?: number | undefined;
}

export interface CrossingPostings {
  from: PostingDraft[];
  to: PostingDraft[];
}

/**
 * The postings of both books. `fromAccountId`/`toAccountId` are the accounts named by the caller; `roleFrom`
 * and `roleTo` give the inter-entity accounts of each side (pointing at the other side).
 */
export function crossingPostings(
  classification: Classification,
  amounts: CrossingAmounts,
  fromAccountId: string,
  toAccountId: string,
  roleFrom: (role: VeilRole) => string,
  roleTo: (role: VeilRole) => string,
): CrossingPostings {
  const amount = amounts.amountCents;
  assert(Number.isSafeInteger(amount) && amount > 0, 'a crossing moves a positive amount');
  switch (classification) {
    case 'capital_contribution':
      return {
        from: [{ accountId: roleFrom('investment_in_entity'), amountCents: amount }, { accountId: fromAccountId, amountCents: -amount }],
        to: [{ accountId: toAccountId, amountCents: amount }, { accountId: roleTo('contributed_capital'), amountCents: -amount }],
      };
    case 'owner_draw':
      return {
        from: [{ accountId: roleFrom('draws'), amountCents: amount }, { accountId: fromAccountId, amountCents: -amount }],
        to: [{ accountId: toAccountId, amountCents: amount }, { accountId: roleTo('investment_in_entity'), amountCents: -amount }],
      };
    case 'loan':
      return {
        from: [{ accountId: roleFrom('loan_receivable_entity'), amountCents: amount }, { accountId: fromAccountId, amountCents: -amount }],
        to: [{ accountId: toAccountId, amountCents: amount }, { accountId: roleTo('loan_payable_entity'), amountCents: -amount }],
      };
    case 'loan_repayment': {
      const principal = amounts.principalCents ?? amount;
      const interest = amounts.interestCents ?? 0;
      assert(principal >= 0 && interest >= 0 && principal + interest === amount, 'principal and interest make up the payment');
      const from: PostingDraft[] = [];
      const to: PostingDraft[] = [{ accountId: toAccountId, amountCents: amount }];
      if (principal > 0) {
        from.push({ accountId: roleFrom('loan_payable_entity'), amountCents: principal, memo: 'principal' });
        to.push({ accountId: roleTo('loan_receivable_entity'), amountCents: -principal, memo: 'principal' });
      }
      if (interest > 0) {
        from.push({ accountId: roleFrom('interest_expense'), amountCents: interest, memo: 'interest' });
        to.push({ accountId: roleTo('interest_income'), amountCents: -interest, memo: 'interest' });
      }
      from.push({ accountId: fromAccountId, amountCents: -amount });
      return { from, to };
    }
    case 'reimbursement':
      return {
        from: [{ accountId: roleFrom('due_from_entity'), amountCents: amount }, { accountId: fromAccountId, amountCents: -amount }],
        to: [{ accountId: toAccountId, amountCents: amount }, { accountId: roleTo('due_to_entity'), amountCents: -amount }],
      };
    case 'reimbursement_payment':
      return {
        from: [{ accountId: roleFrom('due_to_entity'), amountCents: amount }, { accountId: fromAccountId, amountCents: -amount }],
        to: [{ accountId: toAccountId, amountCents: amount }, { accountId: roleTo('due_from_entity'), amountCents: -amount }],
      };
  }
}

// ---- Warnings ------------------------------------------------------------------------------------------------

/**
 * For a disregarded single-member LLC the owner and the LLC are one taxpayer: the AFR and accountable-plan checks
 * are advice for keeping the veil (formalities, separateness). With an S or C election (or a partnership) they are
 * tax rules (§7872 below-market loans, §1.62-2 accountable plans).
 */
export type WarningBasis = 'veil_formality' | 'tax_rule';

export interface VeilWarning {
  code:
    | 'loan_below_afr'
    | 'afr_month_missing'
    | 'afr_unknown'
    | 'reimbursement_substantiated_late'
    | 'reimbursement_paid_late'
    | 'draw_overdraws_cash'
    | 'draw_makes_equity_negative';
  basis: WarningBasis;
  message: string;
  details?: Record<string, unknown>;
}

export function warningBasis(llcTaxProfile: string): WarningBasis {
  return llcTaxProfile === 'disregarded' ? 'veil_formality' : 'tax_rule';
}

function basisText(basis: WarningBasis): string {
  return basis === 'veil_formality'
    ? 'Veil formality (disregarded LLC: no income-tax effect, but it weakens the separation of the books)'
    : 'Tax rule (the LLC elected corporate or partnership treatment)';
}


export function loanWarnings(
  afrRows: readonly AfrRow[],
  loan: { annualRateBasisPoints: number; startOn: string; termMonths: number },
  basis: WarningBasis,
): VeilWarning[] {
  const afr = lookupAfr(afrRows, loan.startOn, loan.termMonths);
  if (afr === undefined) {
    return [
      {
        code: 'afr_unknown',
        basis,
        message: `${basisText(basis)}: the AFR table has no rate for ${loan.startOn.slice(0, 7)} or earlier; check the rate against the IRS revenue ruling`,
      },
    ];
  }
  const warnings: VeilWarning[] = [];
  if (!afr.exactMonth) {
    warnings.push({
      code: 'afr_month_missing',
      basis,
      message: `${basisText(basis)}: the AFR table has no row for ${loan.startOn.slice(0, 7)}; compared with ${afr.row.month} (${afr.row.ruling}) instead. Add the month's revenue ruling to the table`,
      details: { usedMonth: afr.row.month },
    });
  }
  if (loan.annualRateBasisPoints < afr.rateBasisPoints) {
    warnings.push({
      code: 'loan_below_afr',
      basis,
      message:
        `${basisText(basis)}: the rate ${formatBasisPoints(loan.annualRateBasisPoints)} is below the ${afr.bucket}-term ` +
        `Applicable Federal Rate of ${formatBasisPoints(afr.rateBasisPoints)} for ${afr.row.month} (${afr.row.ruling}, ${afr.row.source})`,
      details: {
        bucket: afr.bucket,
        afrBasisPoints: afr.rateBasisPoints,
        rateBasisPoints: loan.annualRateBasisPoints,
        afrMonth: afr.row.month,
        ruling: afr.row.ruling,
        source: afr.row.source,
      },
    });
  }
  return warnings;
}

/** Treas. Reg. §1.62-2(g)(2)(i), fixed date method (figures from IRS Pub. 463; see US-TAX-FACTS.md §2). */
export const ACCOUNTABLE_PLAN_SUBSTANTIATION_DAYS_MAX = 60;
export const ACCOUNTABLE_PLAN_REPAYMENT_DAYS_MAX = 120;

export function reimbursementRequestWarnings(expenseOn: string, substantiatedOn: string, basis: WarningBasis): VeilWarning[] {
  const days = daysBetween(expenseOn, substantiatedOn);
  if (days <= ACCOUNTABLE_PLAN_SUBSTANTIATION_DAYS_MAX) return [];
  return [
    {
      code: 'reimbursement_substantiated_late',
      basis,
      message:
        `${basisText(basis)}: substantiated ${days} days after the expense; the accountable-plan fixed-date safe ` +
        `harbour allows ${ACCOUNTABLE_PLAN_SUBSTANTIATION_DAYS_MAX} (Treas. Reg. §1.62-2(g)(2)(i))`,
      details: { days, daysMax: ACCOUNTABLE_PLAN_SUBSTANTIATION_DAYS_MAX },
    },
  ];
}

export function reimbursementPaymentWarnings(expenseOn: string, paidOn: string, basis: WarningBasis): VeilWarning[] {
  const days = daysBetween(expenseOn, paidOn);
  if (days <= ACCOUNTABLE_PLAN_REPAYMENT_DAYS_MAX) return [];
  return [
    {
      code: 'reimbursement_paid_late',
      basis,
      message:
        `${basisText(basis)}: reimbursed ${days} days after the expense; the accountable-plan fixed-date safe ` +
        `harbour settles within ${ACCOUNTABLE_PLAN_REPAYMENT_DAYS_MAX} days (Treas. Reg. §1.62-2(g)(2)(i))`,
      details: { days, daysMax: ACCOUNTABLE_PLAN_REPAYMENT_DAYS_MAX },
    },
  ];
}

export type DrawPolicy = 'warn' | 'block';

/**
 * A draw may not take more than the account holds, nor more than the LLC's equity (assets minus liabilities).
 * Under `block` the draw is refused; under `warn` it is booked with warnings.
 */
export function drawWarnings(
  draw: { amountCents: number; cashBalanceCents: number; equityCents: number },
  policy: DrawPolicy,
  basis: WarningBasis,
): VeilWarning[] {
  const warnings: VeilWarning[] = [];
  if (draw.amountCents > draw.cashBalanceCents) {
    warnings.push({
      code: 'draw_overdraws_cash',
      basis,
      message: `the draw of ${formatCents(draw.amountCents)} is more than the ${formatCents(draw.cashBalanceCents)} the account holds`,
      details: { amountCents: draw.amountCents, cashBalanceCents: draw.cashBalanceCents },
    });
  }
  if (draw.amountCents > draw.equityCents) {
    warnings.push({
      code: 'draw_makes_equity_negative',
      basis,
      message: `the draw of ${formatCents(draw.amountCents)} is more than the LLC's equity of ${formatCents(draw.equityCents)}: it would leave the LLC insolvent on its books`,
      details: { amountCents: draw.amountCents, equityCents: draw.equityCents },
    });
  }
  if (warnings.length > 0 && policy === 'block') {
    throw new RuleViolation('veil_draw_exceeds_policy', warnings.map((warning) => warning.message).join('; '), {
      warnings,
    });
  }
  return warnings;
}

// ---- The pairing invariant ----------------------------------------------------------------------------------

export interface InterEntityBalance {
  entityId: string;
  counterpartyEntityId: string;
  kind: AccountKind;
  /** Debit-positive. */
  balanceCents: number;
}

export interface PairMismatch {
  entityId: string;
  counterpartyEntityId: string;
  pair: 'due' | 'loan' | 'equity';
  assetCents: number;
  mirrorCents: number;
}

const PAIR_OF: Partial<Record<AccountKind, { pair: PairMismatch['pair']; side: 'asset' | 'mirror' }>> = {
  due_from_entity: { pair: 'due', side: 'asset' },
  due_to_entity: { pair: 'due', side: 'mirror' },
  loan_receivable_entity: { pair: 'loan', side: 'asset' },
  loan_payable_entity: { pair: 'loan', side: 'mirror' },
  investment_in_entity: { pair: 'equity', side: 'asset' },
  contributed_capital: { pair: 'equity', side: 'mirror' },
  draws: { pair: 'equity', side: 'mirror' },
};

/**
 * What A books as due from / loan receivable / investment in B must equal what B books as due to / loan payable /
 * member equity toward A. Returns every pair that disagrees (none when the books are right).
 */
export function pairingMismatches(balances: readonly InterEntityBalance[]): PairMismatch[] {
  const sums = new Map<string, PairMismatch>();
  for (const balance of balances) {
    const pairing = PAIR_OF[balance.kind];
    if (pairing === undefined) continue;
    // Key by the asset holder so both sides land on the same row.
    const [holder, other] =
      pairing.side === 'asset' ? [balance.entityId, balance.counterpartyEntityId] : [balance.counterpartyEntityId, balance.entityId];
    const key = `${holder}|${other}|${pairing.pair}`;
    const row = sums.get(key) ?? { entityId: holder, counterpartyEntityId: other, pair: pairing.pair, assetCents: 0, mirrorCents: 0 };
    if (pairing.side === 'asset') row.assetCents += balance.balanceCents;
    else row.mirrorCents -= balance.balanceCents;
    sums.set(key, row);
  }
  return [...sums.values()].filter((row) => row.assetCents !== row.mirrorCents);
}
