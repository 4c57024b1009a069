import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { LIMIT_KINDS, type LimitRow } from '../domain/investments';

// Retirement contribution limits per year ship as data (reference/contribution-limits.json), validated when loaded.

export const DEFAULT_CONTRIBUTION_LIMITS_TABLE = path.resolve(__dirname, '../../reference/contribution-limits.json');

const Cents = z.int().min(0).max(100_000_000);

const Table = z
  .object({
    description: z.string().max(4_000).optional(),
    rows: z
      .array(
        z
          .object({
            year: z.int().min(1900).max(2199),
            kind: z.enum(LIMIT_KINDS),
            baseCents: Cents.min(1),
            catchUp50Cents: Cents,
            catchUp60To63Cents: Cents.nullable(),
            source: z.string().min(1).max(500),
            status: z.enum(['verified', 'secondary', 'unverified']),
          })
          .strict(),
      )
      .min(1)
      .max(1_000)
      .refine((rows) => new Set(rows.map((row) => `${row.year} ${row.kind}`)).size === rows.length, 'each (year, kind) appears once'),
  })
  .strict();

/** Reads and validates the limits table; a broken file stops the service at start rather than misjudging a plan. */
export function loadContributionLimits(file: string = DEFAULT_CONTRIBUTION_LIMITS_TABLE): LimitRow[] {
  const parsed = Table.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')) as unknown);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n');
    throw new Error(`invalid contribution limits table ${file}:\n${problems}`);
  }
  return parsed.data.rows;
}
