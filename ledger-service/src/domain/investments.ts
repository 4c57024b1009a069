import { RuleViolation } from './errors';

// Retirement contribution limits and the arithmetic of holdings. Pure: the limits table comes in as data
// (reference/contribution-limits.json), dates are 'YYYY-MM-DD' strings, money is integer cents, and a quantity
// of shares is a decimal string scaled to an integer (never a float).

export const LIMIT_KINDS = ['ira', '401k_employee', 'sep_ira'] as const;
export type LimitKind = (typeof LIMIT_KINDS)[number];

export interface LimitRow {
  year: number;
  kind: LimitKind;
  baseCents: number;
  catchUp50Cents: number;
  /** SECURE 2.0: replaces the 50+ catch-up for ages 60 to 63; null where the year or plan has none. */
  catchUp60To63Cents: number | null;
  source: string;
  status: 'verified' | 'secondary' | 'unverified';
}

/** A year's total at or above this share of the limit raises `contribution.limit_near`. */
export const LIMIT_NEAR_BASIS_POINTS = 9_000;
export const QUANTITY_SCALE_DIGITS = 8;
const QUANTITY_SCALE = 10n ** BigInt(QUANTITY_SCALE_DIGITS);
export const QUANTITY_PATTERN = /^\d{1,16}(\.\d{1,8})?$/;

export interface EffectiveLimit {
  year: number;
  kind: LimitKind;
  limitCents: number;
  /** The catch-up included in limitCents (0 when the age is unknown or under 50). */
  catchUpCents: number;
  source: string;
  status: LimitRow['status'];
}

/**
 * The limit for a person in a year: base plus the catch-up their age allows (age = year − birth year, the age at
 * the end of the year, which is what the catch-up rules look at). Null when the table has no row for the year.
 */
export function effectiveLimit(rows: readonly LimitRow[], year: number, kind: LimitKind, birthYear: number | null): EffectiveLimit | null {
  const row = rows.find((candidate) => candidate.year === year && candidate.kind === kind);
  if (row === undefined) return null;
  const age = birthYear === null ? null : year - birthYear;
  let catchUpCents = 0;
  if (age !== null && age >= 50) {
    catchUpCents = age >= 60 && age <= 63 && row.catchUp60To63Cents !== null ? row.catchUp60To63Cents : row.catchUp50Cents;
  }
  return { year, kind, limitCents: row.baseCents + catchUpCents, catchUpCents, source: row.source, status: row.status };
}

export type LimitStanding = 'ok' | 'near' | 'exceeded' | 'unknown';

export function standing(totalCents: number, limit: EffectiveLimit | null): LimitStanding {
  if (limit === null) return 'unknown';
  if (totalCents > limit.limitCents) return 'exceeded';
  // Integer comparison: total / limit >= 90% without division.
  if (totalCents * 10_000 >= limit.limitCents * LIMIT_NEAR_BASIS_POINTS) return 'near';
  return 'ok';
}

/**
 * The tax year a contribution counts for. 401(k) deferrals count in the year they are made; IRA and SEP-IRA
 * contributions made up to April 15 may count for the year before (the filing deadline; extensions for SEP-IRAs
 * are not modelled).
 */
export function taxYearOf(kind: LimitKind, contributedOn: string, requested: number | undefined): number {
  const year = Number(contributedOn.slice(0, 4));
  if (requested === undefined || requested === year) return year;
  if (requested === year - 1 && kind !== '401k_employee' && contributedOn.slice(5) <= '04-15') return requested;
  throw new RuleViolation(
    'contribution_invalid',
    kind === '401k_employee'
      ? `a 401(k) deferral made on ${contributedOn} counts for ${year}`
      : `a contribution made on ${contributedOn} counts for ${year}, or for ${year - 1} only until April 15`,
    { contributedOn, taxYear: requested },
  );
}

export interface PlannedContribution {
  planId: string;
  dueOn: string;
  amountCents: number;
}

export interface PlanWarning {
  code: 'contribution_limit_exceeded' | 'contribution_limit_near' | 'contribution_limit_unknown';
  year: number;
  kind: LimitKind;
  /** Contributed so far plus every planned occurrence of the year (all plans of this kind). */
  projectedCents: number;
  limitCents: number | null;
  /** The first occurrence that takes the year over the limit (or to 90% of it). */
  firstDueOn: string | null;
  message: string;
}

/**
 * Walks the planned occurrences of one kind in date order on top of what is already contributed in each year and
 * says where a limit would be reached. `contributedByYear` holds the booked totals.
 */
export function projectLimits(
  kind: LimitKind,
  planned: readonly PlannedContribution[],
  contributedByYear: ReadonlyMap<number, number>,
  limitOf: (year: number) => EffectiveLimit | null,
): { year: number; contributedCents: number; plannedCents: number; limit: EffectiveLimit | null; warning: PlanWarning | null }[] {
  const years = new Set<number>(contributedByYear.keys());
  for (const occurrence of planned) years.add(Number(occurrence.dueOn.slice(0, 4)));
  const sorted = [...planned].sort((a, b) => (a.dueOn < b.dueOn ? -1 : a.dueOn > b.dueOn ? 1 : 0));
  return [...years].sort().map((year) => {
    const contributedCents = contributedByYear.get(year) ?? 0;
    const limit = limitOf(year);
    let running = contributedCents;
    let plannedCents = 0;
    let exceededOn: string | null = null;
    let nearOn: string | null = null;
    for (const occurrence of sorted) {
      if (Number(occurrence.dueOn.slice(0, 4)) !== year) continue;
      running += occurrence.amountCents;
      plannedCents += occurrence.amountCents;
      const now = standing(running, limit);
      if (now === 'exceeded' && exceededOn === null) exceededOn = occurrence.dueOn;
      if (now === 'near' && nearOn === null) nearOn = occurrence.dueOn;
    }
    let warning: PlanWarning | null = null;
    const label = LIMIT_LABELS[kind];
    if (limit === null) {
      if (plannedCents > 0) {
        warning = { code: 'contribution_limit_unknown', year, kind, projectedCents: running, limitCents: null, firstDueOn: null, message: `no ${label} limit for ${year} in the limits table; add the row when the IRS publishes it` };
      }
    } else if (exceededOn !== null || standing(running, limit) === 'exceeded') {
      warning = {
        code: 'contribution_limit_exceeded',
        year,
        kind,
        projectedCents: running,
        limitCents: limit.limitCents,
        firstDueOn: exceededOn,
        message: `planned ${label} contributions for ${year} reach ${running} cents, over the ${limit.limitCents}-cent limit${exceededOn ? ` from ${exceededOn}` : ''}`,
      };
    } else if (standing(running, limit) === 'near') {
      warning = {
        code: 'contribution_limit_near',
        year,
        kind,
        projectedCents: running,
        limitCents: limit.limitCents,
        firstDueOn: nearOn,
        message: `planned ${label} contributions for ${year} reach ${running} of ${limit.limitCents} cents (90% or more)`,
      };
    }
    return { year, contributedCents, plannedCents, limit, warning };
  });
}

export const LIMIT_LABELS: Record<LimitKind, string> = {
  ira: 'IRA (traditional + Roth)',
  '401k_employee': '401(k) employee deferral',
  sep_ira: 'SEP-IRA',
};

/** A share count ('12.5') as an integer scaled by 10^8; refuses anything that is not a plain non-negative decimal. */
export function scaledQuantity(quantity: string): bigint {
  if (!QUANTITY_PATTERN.test(quantity)) {
    throw new RuleViolation('invalid_request', `quantity ${quantity} is not a non-negative decimal with at most 8 decimals`);
  }
  const [whole, fraction = ''] = quantity.split('.') as [string, string?];
  return BigInt(whole) * QUANTITY_SCALE + BigInt(fraction.padEnd(QUANTITY_SCALE_DIGITS, '0'));
}

/** Quantity × price in cents, rounded half away from zero, in integer arithmetic. */
export function holdingValueCents(quantity: string, priceCents: number): number {
  const product = scaledQuantity(quantity) * BigInt(priceCents);
  const half = QUANTITY_SCALE / 2n;
  const rounded = product >= 0n ? (product + half) / QUANTITY_SCALE : -((-product + half) / QUANTITY_SCALE);
  const value = Number(rounded);
  if (!Number.isSafeInteger(value)) throw new RuleViolation('amount_out_of_range', 'the holding value is out of range');
  return value;
}

/** Plaid's float quantity as the decimal text stored in numeric(24, 8). */
export function quantityFromPlaid(quantity: number): string {
  if (!Number.isFinite(quantity) || quantity < 0) throw new RuleViolation('plaid_upstream_error', `Plaid sent quantity ${quantity}`);
  const text = quantity.toFixed(QUANTITY_SCALE_DIGITS).replace(/\.?0+$/, '');
  return text === '' ? '0' : text;
}
