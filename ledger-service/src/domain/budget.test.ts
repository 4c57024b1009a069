import fc from 'fast-check';
import { computeBudgetMonth, monthBounds, monthsBetween, nextMonth, underfundedCents, type BudgetFacts, type Month } from './budget';

const MONTHS: Month[] = ['2025-11', '2025-12', '2026-01', '2026-02', '2026-03'];
const ENVELOPES = ['rent', 'food', 'fun'];

interface Event {
  month: number;
  kind: 'income' | 'assign' | 'spend';
  envelope: number;
  cents: number;
}

function factsOf(events: readonly Event[]): BudgetFacts {
  const inflowCents = new Map<Month, number>();
  const assignedCents = new Map<Month, Map<string, number>>();
  const cashSpendingCents = new Map<Month, Map<string, number>>();
  for (const event of events) {
    const month = MONTHS[event.month] as Month;
    const envelope = ENVELOPES[event.envelope] as string;
    if (event.kind === 'income') inflowCents.set(month, (inflowCents.get(month) ?? 0) + event.cents);
    const target = event.kind === 'assign' ? assignedCents : event.kind === 'spend' ? cashSpendingCents : undefined;
    if (target !== undefined) {
      const byEnvelope = target.get(month) ?? new Map<string, number>();
      byEnvelope.set(envelope, (byEnvelope.get(envelope) ?? 0) + event.cents);
      target.set(month, byEnvelope);
    }
  }
  return {
    envelopes: ENVELOPES.map((id) => ({ id, paymentAccountId: null, target: null })),
    inflowCents,
    assignedCents,
    cashSpendingCents,
    cardSpendingCents: new Map(),
    cardFundedFromReadyCents: new Map(),
    cardPaymentsCents: new Map(),
  };
}

const eventArbitrary: fc.Arbitrary<Event> = fc.record({
  month: fc.integer({ min: 0, max: MONTHS.length - 1 }),
  kind: fc.constantFrom('income' as const, 'assign' as const, 'spend' as const),
  envelope: fc.integer({ min: 0, max: ENVELOPES.length - 1 }),
  // Assignments may be negative (taking money back); spending may be a refund.
  cents: fc.integer({ min: -50_000, max: 500_000 }),
});

describe('budget month arithmetic', () => {
  it('month helpers', () => {
    expect(nextMonth('2026-12')).toBe('2027-01');
    expect(monthsBetween('2025-11', '2026-02')).toBe(3);
    expect(monthBounds('2028-02')).toEqual({ firstOn: '2028-02-01', lastOn: '2028-02-29' });
    expect(underfundedCents({ kind: 'by_date', amountCents: 100, dueOn: '2026-03-31' }, '2026-01', 0, 0)).toBe(34);
    expect(underfundedCents({ kind: 'fill_to', amountCents: 100, dueOn: undefined }, '2026-01', 120, 0)).toBe(0);
  });

  it('cash-only books: cash on hand = Ready to Assign + everything available + what later months assigned', () => {
    fc.assert(
      fc.property(fc.array(eventArbitrary, { maxLength: 40 }), fc.integer({ min: 0, max: MONTHS.length - 1 }), (events, index) => {
        const month = MONTHS[index] as Month;
        const result = computeBudgetMonth(factsOf(events), month);
        let cashCents = 0;
        for (const event of events) {
          if (event.month > index) continue;
          if (event.kind === 'income') cashCents += event.cents;
          if (event.kind === 'spend') cashCents -= event.cents;
        }
        const availableCents = result.envelopes.reduce((sum, line) => sum + line.availableCents, 0);
        expect(result.readyToAssignCents + availableCents + result.assignedInFutureCents).toBe(cashCents);
        for (const line of result.envelopes) {
          expect(line.availableCents).toBe(line.carriedOverCents + line.assignedCents - line.activityCents);
          expect(line.carriedOverCents).toBeGreaterThanOrEqual(0);
          expect(line.creditOverspentCents).toBe(0);
          expect(line.cashOverspentCents).toBe(Math.max(0, -line.availableCents));
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('card spending from a funded envelope moves to the payment envelope; the unfunded part is credit overspending', () => {
    const facts: BudgetFacts = {
      envelopes: [
        { id: 'food', paymentAccountId: null, target: null },
        { id: 'visa-payment', paymentAccountId: 'visa', target: null },
      ],
      inflowCents: new Map([['2026-01', 1_000]]),
      assignedCents: new Map([['2026-01', new Map([['food', 300]])]]),
      cashSpendingCents: new Map([['2026-01', new Map([['food', 100]])]]),
      cardSpendingCents: new Map([['2026-01', new Map([['food', new Map([['visa', 500]])]])]]),
      cardFundedFromReadyCents: new Map(),
      cardPaymentsCents: new Map([['2026-02', new Map([['visa', 500]])]]),
    };
    const january = computeBudgetMonth(facts, '2026-01');
    expect(january.envelopes).toEqual([
      { envelopeId: 'food', carriedOverCents: 0, assignedCents: 300, activityCents: 600, availableCents: -300, underfundedCents: 0, cashOverspentCents: 0, creditOverspentCents: 300 },
      { envelopeId: 'visa-payment', carriedOverCents: 0, assignedCents: 0, activityCents: -200, availableCents: 200, underfundedCents: 0, cashOverspentCents: 0, creditOverspentCents: 0 },
    ]);
    // Credit overspending does not come out of February's Ready to Assign; paying the whole card overdraws the
    // payment envelope, and that is cash overspending, taken from March.
    const february = computeBudgetMonth(facts, '2026-02');
    expect(february.readyToAssignCents).toBe(700);
    expect(february.envelopes[1]).toMatchObject({ carriedOverCents: 200, activityCents: 500, availableCents: -300, cashOverspentCents: 300 });
    expect(computeBudgetMonth(facts, '2026-03').readyToAssignCents).toBe(400);
  });
});
