import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { AfrRow } from '../domain/afr';

// Reference data ships as files users can update without code; each is validated once, when loaded.

export const DEFAULT_AFR_TABLE = path.resolve(__dirname, '../../reference/afr.json');

const BasisPoints = z.int().min(0).max(10_000);

const AfrFile = z.object({
  description: z.string().max(2_000).optional(),
  rows: z
    .array(
      z
        .object({
          month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM'),
          ruling: z.string().min(1).max(100),
          shortBasisPoints: BasisPoints,
          midBasisPoints: BasisPoints,
          longBasisPoints: BasisPoints,
          source: z.string().min(1).max(500),
          status: z.enum(['verified', 'secondary', 'unverified']),
        })
        .strict(),
    )
    .max(10_000)
    .refine((rows) => new Set(rows.map((row) => row.month)).size === rows.length, 'each month appears once'),
});

/** Reads and validates the AFR table; a broken file stops the service at start rather than misjudging loans. */
export function loadAfrTable(file: string = DEFAULT_AFR_TABLE): AfrRow[] {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  const parsed = AfrFile.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n');
    throw new Error(`invalid AFR table ${file}:\n${problems}`);
  }
  return parsed.data.rows;
}
