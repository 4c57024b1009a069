import { daysBetween } from './dates';
import { assert } from './errors';

// The inter-entity statement of one entity: what it lent to or borrowed from the other books and what is still
// outstanding with interest accrued to a date, reimbursements not yet paid, and the period's contributions and draws.
// The inputs are the live (not reversed as of the date) inter-entity transfers; nothing here reads the journal.

export interface TransferFact {
  id: string;
  classification: string;
  fromEntityId: string;
  toEntityId: string;
  amountCents: number;
  currency: string;
  postedOn: string;
  relatedTransferId: string | null;
  terms: Record<string, unknown>;
}

/**
 * Simple interest, actual/365, half-up to the cent, in BigInt so no float touches it: the interest a loan has earned
 * since its last payment (or its start) and that no payment has settled yet.
 */
export function accruedInterestCents(principalCents: number, annualRateBasisPoints: number, fromOn: string, toOn: string): number {
  assert(Number.isSafeInteger(principalCents) && principalCents >= 0, 'accrued interest: principal must be a non-negative integer');
  assert(Number.isInteger(annualRateBasisPoints) && annualRateBasisPoints >= 0, 'accrued interest: rate must be a non-negative integer');
  const days = Math.max(0, daysBetween(fromOn, toOn));
  const numerator = BigInt(principalCents) * BigInt(annualRateBasisPoints) * BigInt(days);
  const denominator = 10_000n * 365n;
  return Number((2n * numerator + denominator) / (2n * denominator));
}

export interface LoanPosition {
  transferId: string;
  role: 'lender' | 'borrower';
  counterpartyEntityId: string;
  currency: string;
  postedOn: string;
  principalCents: number;
  annualRateBasisPoints: number;
  termMonths: number;
  paymentFrequency: string;
  repayments: number;
  principalRepaidCents: number;
  interestPaidCents: number;
  outstandingPrincipalCents: number;
  /** Interest accrues from the later of the loan date and its last repayment. */
  interestAccruedFromOn: string;
  accruedInterestCents: number;
}

export interface OpenReimbursement {
  transferId: string;
  /** owed_to_entity: the other entity owes this one; owed_by_entity: this one owes it. */
  direction: 'owed_to_entity' | 'owed_by_entity';
  counterpartyEntityId: string;
  currency: string;
  postedOn: string;
  expenseOn: string;
  amountCents: number;
  paidCents: number;
  outstandingCents: number;
  daysOpen: number;
}

export interface CapitalMovement {
  transferId: string;
  counterpartyEntityId: string;
  currency: string;
  postedOn: string;
  amountCents: number;
}

export interface CurrencyTotals {
  lentOutstandingCents: number;
  borrowedOutstandingCents: number;
  accruedInterestReceivableCents: number;
  accruedInterestPayableCents: number;
  reimbursementsOwedToEntityCents: number;
  reimbursementsOwedByEntityCents: number;
  contributionsCents: number;
  drawsCents: number;
}

export interface InterEntityStatement {
  loans: LoanPosition[];
  openReimbursements: OpenReimbursement[];
  contributions: CapitalMovement[];
  draws: CapitalMovement[];
  totalsByCurrency: Record<string, CurrencyTotals>;
}

const number = (value: unknown, what: string): number => {
  assert(typeof value === 'number' && Number.isSafeInteger(value), `inter-entity statement: ${what} is not an integer`);
  return value;
};

/** `live` are the entity's transfers posted on or before `toOn` and not reversed by then. */
export function interEntityStatement(entityId: string, live: readonly TransferFact[], period: { fromOn: string; toOn: string }): InterEntityStatement {
  const totalsByCurrency: Record<string, CurrencyTotals> = {};
  const totals = (currency: string) =>
    (totalsByCurrency[currency] ??= {
      lentOutstandingCents: 0,
      borrowedOutstandingCents: 0,
      accruedInterestReceivableCents: 0,
      accruedInterestPayableCents: 0,
      reimbursementsOwedToEntityCents: 0,
      reimbursementsOwedByEntityCents: 0,
      contributionsCents: 0,
      drawsCents: 0,
    });
  const other = (fact: TransferFact) => (fact.fromEntityId === entityId ? fact.toEntityId : fact.fromEntityId);
  const dependents = new Map<string, TransferFact[]>();
  for (const fact of live) {
    assert(fact.fromEntityId === entityId || fact.toEntityId === entityId, `inter-entity statement: transfer ${fact.id} is not the entity's`);
    assert(fact.postedOn <= period.toOn, `inter-entity statement: transfer ${fact.id} is after the date`);
    if (fact.relatedTransferId === null) continue;
    const list = dependents.get(fact.relatedTransferId) ?? [];
    list.push(fact);
    dependents.set(fact.relatedTransferId, list);
  }
  const ordered = [...live].sort((a, b) => a.postedOn.localeCompare(b.postedOn) || a.id.localeCompare(b.id));

  const loans: LoanPosition[] = [];
  const openReimbursements: OpenReimbursement[] = [];
  const contributions: CapitalMovement[] = [];
  const draws: CapitalMovement[] = [];
  for (const fact of ordered) {
    if (fact.classification === 'loan') {
      const repayments = (dependents.get(fact.id) ?? []).filter((r) => r.classification === 'loan_repayment').sort((a, b) => a.postedOn.localeCompare(b.postedOn));
      const principalRepaidCents = repayments.reduce((sum, r) => sum + number(r.terms.principalCents, 'principalCents'), 0);
      const interestPaidCents = repayments.reduce((sum, r) => sum + number(r.terms.interestCents, 'interestCents'), 0);
      const outstandingPrincipalCents = fact.amountCents - principalRepaidCents;
      assert(outstandingPrincipalCents >= 0, `inter-entity statement: loan ${fact.id} is repaid beyond its principal`);
      const rate = number(fact.terms.annualRateBasisPoints, 'annualRateBasisPoints');
      const interestAccruedFromOn = repayments.at(-1)?.postedOn ?? fact.postedOn;
      const accrued = accruedInterestCents(outstandingPrincipalCents, rate, interestAccruedFromOn, period.toOn);
      const role = fact.fromEntityId === entityId ? 'lender' : 'borrower';
      loans.push({
        transferId: fact.id,
        role,
        counterpartyEntityId: other(fact),
        currency: fact.currency,
        postedOn: fact.postedOn,
        principalCents: fact.amountCents,
        annualRateBasisPoints: rate,
        termMonths: number(fact.terms.termMonths, 'termMonths'),
        paymentFrequency: String(fact.terms.paymentFrequency),
        repayments: repayments.length,
        principalRepaidCents,
        interestPaidCents,
        outstandingPrincipalCents,
        interestAccruedFromOn,
        accruedInterestCents: accrued,
      });
      if (role === 'lender') {
        totals(fact.currency).lentOutstandingCents += outstandingPrincipalCents;
        totals(fact.currency).accruedInterestReceivableCents += accrued;
      } else {
        totals(fact.currency).borrowedOutstandingCents += outstandingPrincipalCents;
        totals(fact.currency).accruedInterestPayableCents += accrued;
      }
    } else if (fact.classification === 'reimbursement') {
      const paidCents = (dependents.get(fact.id) ?? []).filter((p) => p.classification === 'reimbursement_payment').reduce((sum, p) => sum + p.amountCents, 0);
      const outstandingCents = fact.amountCents - paidCents;
      assert(outstandingCents >= 0, `inter-entity statement: reimbursement ${fact.id} is paid beyond its amount`);
      if (outstandingCents === 0) continue;
      const expenseOn = String(fact.terms.expenseOn);
      // The member who paid asks the LLC (from = member, to = LLC): the LLC owes it.
      const direction = fact.fromEntityId === entityId ? 'owed_to_entity' : 'owed_by_entity';
      openReimbursements.push({
        transferId: fact.id,
        direction,
        counterpartyEntityId: other(fact),
        currency: fact.currency,
        postedOn: fact.postedOn,
        expenseOn,
        amountCents: fact.amountCents,
        paidCents,
        outstandingCents,
        daysOpen: daysBetween(expenseOn, period.toOn),
      });
      if (direction === 'owed_to_entity') totals(fact.currency).reimbursementsOwedToEntityCents += outstandingCents;
      else totals(fact.currency).reimbursementsOwedByEntityCents += outstandingCents;
    } else if ((fact.classification === 'capital_contribution' || fact.classification === 'owner_draw') && fact.postedOn >= period.fromOn) {
      const movement = { transferId: fact.id, counterpartyEntityId: other(fact), currency: fact.currency, postedOn: fact.postedOn, amountCents: fact.amountCents };
      if (fact.classification === 'capital_contribution') {
        contributions.push(movement);
        totals(fact.currency).contributionsCents += fact.amountCents;
      } else {
        draws.push(movement);
        totals(fact.currency).drawsCents += fact.amountCents;
      }
    }
  }
  return { loans, openReimbursements, contributions, draws, totalsByCurrency };
}
