import fc from 'fast-check';
import { amortizationSchedule, LOAN_TERM_MONTHS_MAX, type LoanTerms } from './amortization';
import { RuleViolation } from './errors';
import { AMOUNT_CENTS_MAX } from './limits';

const base: LoanTerms = { principalCents: 1_000_000, annualRateBasisPoints: 600, startOn: '2026-01-31', termMonths: 12, paymentFrequency: 'monthly' };

describe('amortizationSchedule', () => {
  it('computes the level payment exactly: $10,000 at 6% over 12 months is $860.66', () => {
    const schedule = amortizationSchedule(base);
    expect(schedule.slice(0, 11).every((row) => row.paymentCents === 86_066)).toBe(true);
    expect(schedule[0]).toMatchObject({ number: 1, dueOn: '2026-02-28', interestCents: 5_000, principalCents: 81_066, balanceAfterCents: 918_934 });
    expect(schedule[11]).toMatchObject({ number: 12, dueOn: '2027-01-31', balanceAfterCents: 0 });
  });

  it('splits a zero-rate loan into equal shares with the remainder last', () => {
    const schedule = amortizationSchedule({ ...base, principalCents: 1_000, annualRateBasisPoints: 0, termMonths: 3 });
    expect(schedule.map((row) => [row.principalCents, row.interestCents])).toEqual([[333, 0], [333, 0], [334, 0]]);
  });

  it('pays a balloon loan once at maturity with simple interest', () => {
    expect(amortizationSchedule({ ...base, termMonths: 24, paymentFrequency: 'at_maturity' })).toEqual([
      { number: 1, dueOn: '2028-01-31', paymentCents: 1_120_000, principalCents: 1_000_000, interestCents: 120_000, balanceAfterCents: 0 },
    ]);
  });

  it.each([
    ['no principal', { principalCents: 0 }],
    ['fractional cents', { principalCents: 10.5 }],
    ['over the limit', { principalCents: AMOUNT_CENTS_MAX + 1 }],
    ['a negative rate', { annualRateBasisPoints: -1 }],
    ['a fractional rate', { annualRateBasisPoints: 4.5 }],
    ['a zero term', { termMonths: 0 }],
    ['a term past the limit', { termMonths: LOAN_TERM_MONTHS_MAX + 1 }],
    ['a term that is not whole quarters', { termMonths: 10, paymentFrequency: 'quarterly' as const }],
  ])('refuses %s', (_label, change) => {
    expect(() => amortizationSchedule({ ...base, ...change })).toThrow(RuleViolation);
  });

  it('repays exactly the principal, never a negative part, ending at zero (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: AMOUNT_CENTS_MAX }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.constantFrom('monthly', 'quarterly', 'annually', 'at_maturity') as fc.Arbitrary<LoanTerms['paymentFrequency']>,
        fc.integer({ min: 1, max: 40 }),
        (principalCents, annualRateBasisPoints, paymentFrequency, years) => {
          const schedule = amortizationSchedule({ principalCents, annualRateBasisPoints, startOn: '2026-03-15', termMonths: years * 12, paymentFrequency });
          expect(schedule.reduce((sum, row) => sum + row.principalCents, 0)).toBe(principalCents);
          expect(schedule.at(-1)?.balanceAfterCents).toBe(0);
          for (const row of schedule) {
            expect(Number.isSafeInteger(row.paymentCents) && row.principalCents >= 0 && row.interestCents >= 0).toBe(true);
            expect(row.paymentCents).toBe(row.principalCents + row.interestCents);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
