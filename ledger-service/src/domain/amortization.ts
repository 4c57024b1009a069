import { addMonths } from './dates';
import { assert, RuleViolation } from './errors';
import { AMOUNT_CENTS_MAX } from './limits';

// A loan's payment schedule in integer cents. The level payment comes from exact rational arithmetic on BigInt
// (never floats); each period's interest is rounded half-up to the cent, and the last payment takes whatever
// principal is left, so the principal column always sums exactly to the loan.

export const PAYMENT_FREQUENCIES = ['monthly', 'quarterly', 'annually', 'at_maturity'] as const;
export type PaymentFrequency = (typeof PAYMENT_FREQUENCIES)[number];

export const LOAN_TERM_MONTHS_MAX = 480;
/** 100% a year: anything above is a typo, not a loan between an owner and their LLC. */
export const RATE_BASIS_POINTS_MAX = 10_000;

export interface LoanTerms {
  principalCents: number;
  /** Annual nominal rate in basis points: 450 = 4.50%. */
  annualRateBasisPoints: number;
  startOn: string;
  termMonths: number;
  paymentFrequency: PaymentFrequency;
}

export interface Installment {
  number: number;
  dueOn: string;
  paymentCents: number;
  principalCents: number;
  interestCents: number;
  balanceAfterCents: number;
}

const MONTHS_PER_PERIOD: Record<Exclude<PaymentFrequency, 'at_maturity'>, number> = {
  monthly: 1,
  quarterly: 3,
  annually: 12,
};

/** numerator / denominator rounded half-up, for non-negative operands. */
function divideHalfUp(numerator: bigint, denominator: bigint): bigint {
  return (2n * numerator + denominator) / (2n * denominator);
}

export function checkLoanTerms(terms: LoanTerms): void {
  const problems: string[] = [];
  if (!Number.isSafeInteger(terms.principalCents) || terms.principalCents < 1 || terms.principalCents > AMOUNT_CENTS_MAX) {
    problems.push(`principalCents must be an integer between 1 and ${AMOUNT_CENTS_MAX}`);
  }
  if (!Number.isInteger(terms.annualRateBasisPoints) || terms.annualRateBasisPoints < 0 || terms.annualRateBasisPoints > RATE_BASIS_POINTS_MAX) {
    problems.push(`annualRateBasisPoints must be an integer between 0 and ${RATE_BASIS_POINTS_MAX}`);
  }
  if (!Number.isInteger(terms.termMonths) || terms.termMonths < 1 || terms.termMonths > LOAN_TERM_MONTHS_MAX) {
    problems.push(`termMonths must be an integer between 1 and ${LOAN_TERM_MONTHS_MAX}`);
  } else if (terms.paymentFrequency !== 'at_maturity' && terms.termMonths % MONTHS_PER_PERIOD[terms.paymentFrequency] !== 0) {
    problems.push(`termMonths must be a whole number of ${terms.paymentFrequency} periods`);
  }
  if (problems.length > 0) throw new RuleViolation('veil_loan_terms_invalid', problems.join('; '), { problems });
}

export function amortizationSchedule(terms: LoanTerms): Installment[] {
  checkLoanTerms(terms);
  const principal = BigInt(terms.principalCents);
  const rate = BigInt(terms.annualRateBasisPoints);
  if (terms.paymentFrequency === 'at_maturity') {
    // Simple annual interest over the whole term, paid with the principal at the end.
    const interest = divideHalfUp(principal * rate * BigInt(terms.termMonths), 10_000n * 12n);
    return [
      {
        number: 1,
        dueOn: addMonths(terms.startOn, terms.termMonths),
        paymentCents: Number(principal + interest),
        principalCents: terms.principalCents,
        interestCents: Number(interest),
        balanceAfterCents: 0,
      },
    ];
  }
  const monthsPerPeriod = MONTHS_PER_PERIOD[terms.paymentFrequency];
  const periods = terms.termMonths / monthsPerPeriod;
  // Periodic rate i = rate / (10_000 · periodsPerYear) = rate / denominator.
  const denominator = 10_000n * BigInt(12 / monthsPerPeriod);
  let payment: bigint;
  if (rate === 0n) {
    // Equal shares rounded down; the last payment takes the remainder.
    payment = principal / BigInt(periods);
  } else {
    // P·i / (1 − (1+i)^−n) = P·rate·(d+rate)^n / (d·((d+rate)^n − d^n))
    const grown = (denominator + rate) ** BigInt(periods);
    const base = denominator ** BigInt(periods);
    payment = divideHalfUp(principal * rate * grown, denominator * (grown - base));
  }
  const schedule: Installment[] = [];
  let balance = principal;
  for (let number = 1; number <= periods; number += 1) {
    const interest = divideHalfUp(balance * rate, denominator);
    let principalPart = payment - interest;
    if (number === periods || principalPart > balance) principalPart = balance;
    if (principalPart < 0n) principalPart = 0n;
    balance -= principalPart;
    schedule.push({
      number,
      dueOn: addMonths(terms.startOn, number * monthsPerPeriod),
      paymentCents: Number(principalPart + interest),
      principalCents: Number(principalPart),
      interestCents: Number(interest),
      balanceAfterCents: Number(balance),
    });
  }
  assert(balance === 0n, 'the schedule repays the whole principal');
  return schedule;
}
