// IRS Applicable Federal Rates (§1274(d)): the floor below which a loan between related parties is below-market.
// The table itself is data (reference/afr.json), validated when loaded; these are the pure lookups.

export const AFR_TERM_BUCKETS = ['short', 'mid', 'long'] as const;
export type AfrTermBucket = (typeof AFR_TERM_BUCKETS)[number];

export interface AfrRow {
  /** 'YYYY-MM': the rates apply to loans made in that month. */
  month: string;
  ruling: string;
  shortBasisPoints: number;
  midBasisPoints: number;
  longBasisPoints: number;
  source: string;
  status: 'verified' | 'secondary' | 'unverified';
}

/** Short ≤ 3 years, mid > 3 to ≤ 9 years, long > 9 years (IRC §1274(d)(1)(A)). */
export function afrTermBucket(termMonths: number): AfrTermBucket {
  if (termMonths <= 36) return 'short';
  if (termMonths <= 108) return 'mid';
  return 'long';
}

export interface AfrLookup {
  bucket: AfrTermBucket;
  row: AfrRow;
  rateBasisPoints: number;
  /** False when the table has no row for the loan's month and the latest earlier month was used instead. */
  exactMonth: boolean;
}

/** The AFR for a loan made on `madeOn`; undefined when the table has nothing for that month or before. */
export function lookupAfr(rows: readonly AfrRow[], madeOn: string, termMonths: number): AfrLookup | undefined {
  const month = madeOn.slice(0, 7);
  let best: AfrRow | undefined;
  for (const row of rows) {
    if (row.month <= month && (best === undefined || row.month > best.month)) best = row;
  }
  if (best === undefined) return undefined;
  const bucket = afrTermBucket(termMonths);
  const rateBasisPoints =
    bucket === 'short' ? best.shortBasisPoints : bucket === 'mid' ? best.midBasisPoints : best.longBasisPoints;
  return { bucket, row: best, rateBasisPoints, exactMonth: best.month === month };
}
