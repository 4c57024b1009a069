import fc from 'fast-check';
import { allocate, BASIS_POINTS_WHOLE, validateRules, type AllocationRule } from './allocation';
import { RuleViolation } from './errors';
import { AMOUNT_CENTS_MAX } from './limits';

const none = () => 0;

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof RuleViolation ? error.code : 'not-a-rule-violation';
  }
}

describe('allocate (table)', () => {
  it('applies the rules in order, each from what is left', () => {
    const rules: AllocationRule[] = [
      { kind: 'fixed', envelopeId: 'rent', amountCents: 150_000 },
      { kind: 'percent', envelopeId: 'taxes', basisPoints: 2_500 },
      { kind: 'fill_to_target', envelopeId: 'groceries' },
      { kind: 'remainder', envelopeId: 'savings' },
    ];
    const result = allocate(500_000, rules, (id) => (id === 'groceries' ? 40_000 : 0));
    expect(result.lines.map((line) => [line.envelopeId, line.amountCents])).toEqual([
      ['rent', 150_000],
      ['taxes', 125_000], // 25% of the incoming amount, not of what was left
      ['groceries', 40_000],
      ['savings', 185_000],
    ]);
    expect(result.leftoverCents).toBe(0);
  });

  it('says exactly what is left when there is no remainder rule, and never takes more than is there', () => {
    const result = allocate(100_000, [
      { kind: 'fixed', envelopeId: 'rent', amountCents: 80_000 },
      { kind: 'fixed', envelopeId: 'car', amountCents: 50_000 },
      { kind: 'fill_to_target', envelopeId: 'groceries' },
    ], () => 10_000);
    expect(result.lines.map((line) => line.amountCents)).toEqual([80_000, 20_000, 0]);
    expect(result.leftoverCents).toBe(0);
    const partial = allocate(100_000, [{ kind: 'percent', envelopeId: 'taxes', basisPoints: 3_000 }], none);
    expect(partial).toMatchObject({ lines: [{ amountCents: 30_000 }], leftoverCents: 70_000 });
  });

  it('rounds a percentage down to the cent: the odd cent stays left over, never invented', () => {
    // 33.33% of 1.00 is 33.33 cents → 33; three such rules leave 1 cent.
    const result = allocate(100, [1, 2, 3].map((n) => ({ kind: 'percent' as const, envelopeId: `e${n}`, basisPoints: 3_333 })), none);
    expect(result.lines.map((line) => line.amountCents)).toEqual([33, 33, 33]);
    expect(result.leftoverCents).toBe(1);
    // The largest income at 99.99% stays exact beyond 2^53 intermediate products.
    const big = allocate(AMOUNT_CENTS_MAX, [{ kind: 'percent', envelopeId: 'e', basisPoints: 9_999 }], none);
    expect(big.lines[0]?.amountCents).toBe(999_900_000_000);
  });

  it('does not top up an envelope twice when two rules fill the same target', () => {
    const result = allocate(100_000, [
      { kind: 'fixed', envelopeId: 'groceries', amountCents: 15_000 },
      { kind: 'fill_to_target', envelopeId: 'groceries' },
    ], () => 40_000);
    expect(result.lines.map((line) => line.amountCents)).toEqual([15_000, 25_000]);
  });

  it('refuses rule lists it could not apply as written', () => {
    expect(codeOf(() => validateRules([{ kind: 'fixed', envelopeId: 'a' }]))).toBe('allocation_rules_invalid');
    expect(codeOf(() => validateRules([{ kind: 'fixed', envelopeId: 'a', amountCents: 0 }]))).toBe('allocation_rules_invalid');
    expect(codeOf(() => validateRules([{ kind: 'percent', envelopeId: 'a', basisPoints: 10_001 }]))).toBe('allocation_rules_invalid');
    expect(codeOf(() => validateRules([{ kind: 'percent', envelopeId: 'a', basisPoints: 100, amountCents: 5 }]))).toBe('allocation_rules_invalid');
    expect(codeOf(() => validateRules([{ kind: 'percent', envelopeId: 'a', basisPoints: 6_000 }, { kind: 'percent', envelopeId: 'b', basisPoints: 4_001 }]))).toBe('allocation_rules_invalid');
    expect(codeOf(() => validateRules([{ kind: 'remainder', envelopeId: 'a' }, { kind: 'fixed', envelopeId: 'b', amountCents: 1 }]))).toBe('allocation_rules_invalid');
    expect(codeOf(() => validateRules([{ kind: 'fill_to_target', envelopeId: 'a', amountCents: 1 }]))).toBe('allocation_rules_invalid');
    expect(codeOf(() => validateRules([{ kind: 'percent', envelopeId: 'a', basisPoints: 10_000 }, { kind: 'remainder', envelopeId: 'b' }]))).toBeUndefined();
  });
});

const envelopeId = fc.constantFrom('a', 'b', 'c', 'd');
const ruleArbitrary: fc.Arbitrary<AllocationRule> = fc.oneof(
  fc.record({ kind: fc.constant('fixed' as const), envelopeId, amountCents: fc.integer({ min: 1, max: AMOUNT_CENTS_MAX }) }),
  fc.record({ kind: fc.constant('percent' as const), envelopeId, basisPoints: fc.integer({ min: 1, max: 2_500 }) }),
  fc.record({ kind: fc.constant('fill_to_target' as const), envelopeId }),
);
// Valid lists only (percent shares up to 100% in all; invalid ones are the table's business above).
const rulesArbitrary = fc
  .tuple(
    fc.array(ruleArbitrary, { maxLength: 8 }).filter((rules) => rules.reduce((sum, rule) => sum + (rule.basisPoints ?? 0), 0) <= BASIS_POINTS_WHOLE),
    fc.option(envelopeId, { nil: undefined }),
  )
  .map(([rules, remainder]) => (remainder === undefined ? rules : [...rules, { kind: 'remainder' as const, envelopeId: remainder }]));
const underfundedArbitrary = fc.record({
  a: fc.integer({ min: 0, max: AMOUNT_CENTS_MAX }),
  b: fc.integer({ min: 0, max: 1_000_000 }),
  c: fc.constant(0),
  d: fc.integer({ min: 0, max: 100 }),
});

describe('allocate (properties)', () => {
  it('lines + leftover = income exactly; no line and no leftover is negative; a remainder leaves nothing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: AMOUNT_CENTS_MAX }), rulesArbitrary, underfundedArbitrary, (income, rules, underfunded) => {
        const result = allocate(income, rules, (id) => underfunded[id as keyof typeof underfunded]);
        const total = result.lines.reduce((sum, line) => sum + line.amountCents, 0);
        expect(total + result.leftoverCents).toBe(income);
        expect(result.leftoverCents).toBeGreaterThanOrEqual(0);
        for (const line of result.lines) {
          expect(Number.isSafeInteger(line.amountCents)).toBe(true);
          expect(line.amountCents).toBeGreaterThanOrEqual(0);
        }
        expect(result.lines.map((line) => line.ruleIndex)).toEqual(rules.map((_, index) => index));
        if (rules.at(-1)?.kind === 'remainder') expect(result.leftoverCents).toBe(0);
      }),
      { numRuns: 2_000 },
    );
  });

  it('no rule takes more than it asks: fixed ≤ its amount, percent ≤ its exact share, fill ≤ what is underfunded', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: AMOUNT_CENTS_MAX }), rulesArbitrary, underfundedArbitrary, (income, rules, underfunded) => {
        const result = allocate(income, rules, (id) => underfunded[id as keyof typeof underfunded]);
        const filled = new Map<string, number>();
        result.lines.forEach((line, index) => {
          const rule = rules[index] as AllocationRule;
          if (rule.kind === 'fixed') expect(line.amountCents).toBeLessThanOrEqual(rule.amountCents as number);
          if (rule.kind === 'percent') {
            // amount × 10000 ≤ income × basis points, compared exactly
            expect(BigInt(line.amountCents) * BigInt(BASIS_POINTS_WHOLE)).toBeLessThanOrEqual(BigInt(income) * BigInt(rule.basisPoints as number));
          }
          if (rule.kind === 'fill_to_target') {
            filled.set(rule.envelopeId, (filled.get(rule.envelopeId) ?? 0) + line.amountCents);
          }
        });
        for (const [id, cents] of filled) expect(cents).toBeLessThanOrEqual(underfunded[id as keyof typeof underfunded]);
      }),
      { numRuns: 1_000 },
    );
  });

  it('percent rules alone, with enough income, take exactly the rounded-down shares', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: AMOUNT_CENTS_MAX }), fc.array(fc.integer({ min: 1, max: 2_000 }), { maxLength: 5 }), (income, shares) => {
        const result = allocate(income, shares.map((basisPoints) => ({ kind: 'percent' as const, envelopeId: 'a', basisPoints })), none);
        result.lines.forEach((line, index) => {
          expect(line.amountCents).toBe(Number((BigInt(income) * BigInt(shares[index] as number)) / 10_000n));
        });
      }),
      { numRuns: 500 },
    );
  });
});
