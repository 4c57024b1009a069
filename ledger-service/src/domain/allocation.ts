import { assert, RuleViolation } from './errors';
import { AMOUNT_CENTS_MAX } from './limits';

// The allocation engine: an ordered list of rules shares an income amount among envelopes. Pure and integer-only.
// Every rule takes from what the rules before it left; nothing is ever taken that is not there, so the lines and
// the leftover always add up to the income exactly, and no line is negative.

export const ALLOCATION_RULE_KINDS = ['fixed', 'percent', 'fill_to_target', 'remainder'] as const;
export type AllocationRuleKind = (typeof ALLOCATION_RULE_KINDS)[number];

export const ALLOCATION_RULES_MAX = 100;
export const BASIS_POINTS_WHOLE = 10_000;

export interface AllocationRule {
  kind: AllocationRuleKind;
  envelopeId: string;
  /** `fixed`: the amount to assign (less when less is left). */
  amountCents?: number | undefined;
  /** `percent`: the share of the incoming amount, in basis points (1% = 100), rounded down to the cent. */
  basisPoints?: number | undefined;
}

export interface AllocationLine {
  ruleIndex: number;
  kind: AllocationRuleKind;
  envelopeId: string;
  amountCents: number;
}

export interface Allocation {
  incomeCents: number;
  lines: AllocationLine[];
  leftoverCents: number;
}

/** Refuses a rule list the engine could not apply as written; says which rule and why. */
export function validateRules(rules: readonly AllocationRule[]): void {
  const fail = (index: number, message: string) => {
    throw new RuleViolation('allocation_rules_invalid', `rule ${index}: ${message}`, { ruleIndex: index });
  };
  if (rules.length > ALLOCATION_RULES_MAX) {
    throw new RuleViolation('allocation_rules_invalid', `at most ${ALLOCATION_RULES_MAX} rules`);
  }
  let basisPointsTotal = 0;
  rules.forEach((rule, index) => {
    switch (rule.kind) {
      case 'fixed':
        if (rule.amountCents === undefined || !Number.isSafeInteger(rule.amountCents) || rule.amountCents < 1 || rule.amountCents > AMOUNT_CENTS_MAX) {
          fail(index, 'a fixed rule needs amountCents, a positive whole number of cents');
        }
        if (rule.basisPoints !== undefined) fail(index, 'a fixed rule takes amountCents, not basisPoints');
        break;
      case 'percent':
        if (rule.basisPoints === undefined || !Number.isSafeInteger(rule.basisPoints) || rule.basisPoints < 1 || rule.basisPoints > BASIS_POINTS_WHOLE) {
          fail(index, 'a percent rule needs basisPoints between 1 and 10000 (100%)');
        }
        if (rule.amountCents !== undefined) fail(index, 'a percent rule takes basisPoints, not amountCents');
        basisPointsTotal += rule.basisPoints ?? 0;
        break;
      case 'fill_to_target':
      case 'remainder':
        if (rule.amountCents !== undefined || rule.basisPoints !== undefined) fail(index, `a ${rule.kind} rule takes no amount`);
        if (rule.kind === 'remainder' && index !== rules.length - 1) fail(index, 'the remainder rule must be the last one');
        break;
    }
  });
  if (basisPointsTotal > BASIS_POINTS_WHOLE) {
    throw new RuleViolation('allocation_rules_invalid', `the percent rules add up to more than 100% (${basisPointsTotal} basis points)`);
  }
}

/**
 * Applies `rules` in order to `incomeCents`. `underfundedCents(envelopeId)` is what a fill_to_target rule tops up
 * (the envelope's underfunded amount for the month, before this allocation).
 */
export function allocate(
  incomeCents: number,
  rules: readonly AllocationRule[],
  underfundedCents: (envelopeId: string) => number,
): Allocation {
  assert(Number.isSafeInteger(incomeCents) && incomeCents >= 0, `allocate: income ${incomeCents} is not a whole number of cents`);
  validateRules(rules);
  let leftoverCents = incomeCents;
  const allocatedTo = new Map<string, number>();
  const lines = rules.map((rule, ruleIndex): AllocationLine => {
    let wantedCents: number;
    switch (rule.kind) {
      case 'fixed':
        wantedCents = rule.amountCents ?? 0;
        break;
      case 'percent':
        // income × basis points can pass 2^53: BigInt keeps it exact; division rounds down, so no cent is invented.
        wantedCents = Number((BigInt(incomeCents) * BigInt(rule.basisPoints ?? 0)) / BigInt(BASIS_POINTS_WHOLE));
        break;
      case 'fill_to_target':
        wantedCents = Math.max(0, underfundedCents(rule.envelopeId) - (allocatedTo.get(rule.envelopeId) ?? 0));
        break;
      case 'remainder':
        wantedCents = leftoverCents;
        break;
    }
    const amountCents = Math.min(wantedCents, leftoverCents);
    leftoverCents -= amountCents;
    allocatedTo.set(rule.envelopeId, (allocatedTo.get(rule.envelopeId) ?? 0) + amountCents);
    return { ruleIndex, kind: rule.kind, envelopeId: rule.envelopeId, amountCents };
  });
  assert(lines.reduce((sum, line) => sum + line.amountCents, 0) + leftoverCents === incomeCents, 'allocation adds up to the income');
  return { incomeCents, lines, leftoverCents };
}
