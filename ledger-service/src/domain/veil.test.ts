import fc from 'fast-check';
import { afrTermBucket, lookupAfr, type AfrRow } from './afr';
import { addMonths, daysBetween } from './dates';
import { RuleViolation } from './errors';
import {
  checkCrossing,
  CLASSIFICATIONS,
  crossingPostings,
  drawWarnings,
  loanWarnings,
  pairingMismatches,
  reimbursementPaymentWarnings,
  reimbursementRequestWarnings,
  ROLES_NEEDED,
  VEIL_ROLE_KIND,
  type Classification,
  type InterEntityBalance,
  type VeilRole,
} from './veil';

const rows: AfrRow[] = [
  { month: '2026-01', ruling: 'Rev. Rul. 2026-2', shortBasisPoints: 363, midBasisPoints: 381, longBasisPoints: 463, source: 'rr-26-02.pdf', status: 'verified' },
  { month: '2026-03', ruling: 'Rev. Rul. 2026-6', shortBasisPoints: 359, midBasisPoints: 393, longBasisPoints: 472, source: 'rr-26-06.pdf', status: 'verified' },
];

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof RuleViolation ? error.code : 'not-a-rule-violation';
  }
}

describe('AFR', () => {
  it.each([
    [1, 'short'],
    [36, 'short'],
    [37, 'mid'],
    [108, 'mid'],
    [109, 'long'],
  ])('a %i-month term is %s', (termMonths, bucket) => {
    expect(afrTermBucket(termMonths)).toBe(bucket);
  });

  it('uses the month the loan is made, else the latest earlier month, else nothing', () => {
    expect(lookupAfr(rows, '2026-03-31', 60)).toMatchObject({ rateBasisPoints: 393, exactMonth: true });
    expect(lookupAfr(rows, '2026-02-10', 200)).toMatchObject({ rateBasisPoints: 463, exactMonth: false, bucket: 'long' });
    expect(lookupAfr(rows, '2025-12-31', 12)).toBeUndefined();
  });

  it('warns below the AFR only, and flags a month missing from the table', () => {
    expect(loanWarnings(rows, { annualRateBasisPoints: 359, startOn: '2026-03-01', termMonths: 12 }, 'veil_formality')).toEqual([]);
    expect(loanWarnings(rows, { annualRateBasisPoints: 358, startOn: '2026-03-01', termMonths: 12 }, 'tax_rule')).toEqual([
      expect.objectContaining({ code: 'loan_below_afr', basis: 'tax_rule' }),
    ]);
    expect(loanWarnings(rows, { annualRateBasisPoints: 900, startOn: '2026-02-01', termMonths: 12 }, 'tax_rule').map((w) => w.code)).toEqual([
      'afr_month_missing',
    ]);
    expect(loanWarnings(rows, { annualRateBasisPoints: 900, startOn: '2020-02-01', termMonths: 12 }, 'tax_rule').map((w) => w.code)).toEqual(['afr_unknown']);
  });
});

describe('accountable-plan windows', () => {
  it('allows substantiation up to 60 days and payment up to 120 days after the expense', () => {
    expect(reimbursementRequestWarnings('2026-01-01', addMonths('2026-01-01', 0), 'tax_rule')).toEqual([]);
    expect(daysBetween('2026-01-01', '2026-03-02')).toBe(60);
    expect(reimbursementRequestWarnings('2026-01-01', '2026-03-02', 'tax_rule')).toEqual([]);
    expect(reimbursementRequestWarnings('2026-01-01', '2026-03-03', 'tax_rule')).toHaveLength(1);
    expect(reimbursementPaymentWarnings('2026-01-01', '2026-05-01', 'tax_rule')).toEqual([]);
    expect(reimbursementPaymentWarnings('2026-01-01', '2026-05-02', 'veil_formality')).toEqual([
      expect.objectContaining({ code: 'reimbursement_paid_late', basis: 'veil_formality' }),
    ]);
  });
});

describe('draw policy', () => {
  it('warns or blocks a draw beyond cash or equity, and lets one within both through', () => {
    expect(drawWarnings({ amountCents: 100, cashBalanceCents: 100, equityCents: 100 }, 'block', 'veil_formality')).toEqual([]);
    expect(drawWarnings({ amountCents: 101, cashBalanceCents: 100, equityCents: 500 }, 'warn', 'veil_formality').map((w) => w.code)).toEqual([
      'draw_overdraws_cash',
    ]);
    expect(drawWarnings({ amountCents: 101, cashBalanceCents: 500, equityCents: 100 }, 'warn', 'veil_formality').map((w) => w.code)).toEqual([
      'draw_makes_equity_negative',
    ]);
    expect(codeOf(() => drawWarnings({ amountCents: 101, cashBalanceCents: 100, equityCents: 500 }, 'block', 'tax_rule'))).toBe('veil_draw_exceeds_policy');
  });
});

describe('checkCrossing', () => {
  const sides = { fromEntityId: 'owner', toEntityId: 'llc', fromKind: 'personal' as const, toKind: 'llc' as const };
  it.each([
    ['no classification', { ...sides, classification: undefined }, 'veil_crossing_unclassified'],
    ['one entity', { ...sides, toEntityId: 'owner', classification: 'loan' as const }, 'veil_not_a_crossing'],
    ['a contribution out of the LLC', { ...sides, fromKind: 'llc' as const, toKind: 'personal' as const, classification: 'capital_contribution' as const }, 'veil_direction_invalid'],
    ['a draw into the LLC', { ...sides, classification: 'owner_draw' as const }, 'veil_direction_invalid'],
    ['a loan between two LLCs', { ...sides, fromKind: 'llc' as const, classification: 'loan' as const }, 'veil_direction_invalid'],
    ['a loan to the LLC', { ...sides, classification: 'loan' as const }, undefined],
    ['a loan to the owner', { ...sides, fromKind: 'llc' as const, toKind: 'personal' as const, classification: 'loan' as const }, undefined],
  ])('%s', (_label, input, code) => {
    expect(codeOf(() => checkCrossing(input))).toBe(code);
  });
});

// ---- The pairing invariant on pure postings ----

/** Applies crossings to in-memory books of two entities, the way the service books them. */
function simulate(steps: { classification: Classification; amountCents: number; interestCents: number }[]) {
  const balances = new Map<string, number>();
  const kindOf = new Map<string, { entityId: string; counterpartyEntityId: string; kind: InterEntityBalance['kind'] }>();
  const role = (entityId: string, other: string) => (name: VeilRole) => {
    const id = `${entityId}:${name}`;
    kindOf.set(id, { entityId, counterpartyEntityId: other, kind: VEIL_ROLE_KIND[name] });
    return id;
  };
  for (const step of steps) {
    const fromIsOwner = ['capital_contribution', 'reimbursement'].includes(step.classification);
    const [from, to] = fromIsOwner ? ['owner', 'llc'] : ['llc', 'owner'];
    const interest = step.classification === 'loan_repayment' ? Math.min(step.interestCents, step.amountCents) : undefined;
    const postings = crossingPostings(
      step.classification,
      { amountCents: step.amountCents, interestCents: interest, principalCents: interest === undefined ? undefined : step.amountCents - interest },
      `${from}:cash`,
      `${to}:cash`,
      role(from, to),
      role(to, from),
    );
    for (const side of [postings.from, postings.to]) {
      expect(side.reduce((sum, posting) => sum + posting.amountCents, 0)).toBe(0);
      for (const posting of side) balances.set(posting.accountId, (balances.get(posting.accountId) ?? 0) + posting.amountCents);
    }
    expect(postings.from.every((posting) => posting.accountId.startsWith(`${from}:`))).toBe(true);
    expect(postings.to.every((posting) => posting.accountId.startsWith(`${to}:`))).toBe(true);
  }
  return [...kindOf].map(([id, facts]) => ({ ...facts, balanceCents: balances.get(id) ?? 0 }));
}

describe('crossingPostings', () => {
  it('names exactly the roles each classification needs', () => {
    for (const classification of CLASSIFICATIONS) {
      const used = { from: new Set<VeilRole>(), to: new Set<VeilRole>() };
      crossingPostings(classification, { amountCents: 10, principalCents: classification === 'loan_repayment' ? 7 : undefined, interestCents: classification === 'loan_repayment' ? 3 : undefined }, 'a', 'b', (role) => (used.from.add(role), role), (role) => (used.to.add(role), role));
      expect([[...used.from].sort(), [...used.to].sort()]).toEqual([[...ROLES_NEEDED[classification].from].sort(), [...ROLES_NEEDED[classification].to].sort()]);
    }
  });

  it('keeps every pair of inter-entity balances equal after any sequence of crossings (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            classification: fc.constantFrom(...CLASSIFICATIONS),
            amountCents: fc.integer({ min: 1, max: 1_000_000_000 }),
            interestCents: fc.integer({ min: 0, max: 1_000_000 }),
          }),
          { maxLength: 40 },
        ),
        (steps) => {
          expect(pairingMismatches(simulate(steps))).toEqual([]);
        },
      ),
    );
  });

  it('notices a one-sided posting', () => {
    const balances = simulate([{ classification: 'loan', amountCents: 500, interestCents: 0 }]);
    const broken = balances.map((balance) => (balance.kind === 'loan_payable_entity' ? { ...balance, balanceCents: balance.balanceCents + 1 } : balance));
    expect(pairingMismatches(broken)).toEqual([expect.objectContaining({ entityId: 'llc', counterpartyEntityId: 'owner', pair: 'loan', assetCents: 500, mirrorCents: 499 })]);
  });
});
