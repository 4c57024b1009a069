import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ThresholdRow } from '../domain/form-1099';

// The 1099-NEC threshold per payment year ships as data (reference/form-1099-nec-thresholds.json), validated when loaded.

export const DEFAULT_FORM_1099_TABLE = path.resolve(__dirname, '../../reference/form-1099-nec-thresholds.json');

const Table = z
  .object({
    description: z.string().max(4_000).optional(),
    rows: z
      .array(
        z
          .object({
            year: z.int().min(1900).max(2199),
            thresholdCents: z.int().min(1).max(100_000_000),
            source: z.string().min(1).max(500),
            status: z.enum(['verified', 'secondary', 'unverified']),
          })
          .strict(),
      )
      .min(1)
      .max(500)
      .refine((rows) => new Set(rows.map((row) => row.year)).size === rows.length, 'each year appears once'),
  })
  .strict();

export function loadForm1099Table(file: string = DEFAULT_FORM_1099_TABLE): ThresholdRow[] {
  const parsed = Table.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')) as unknown);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n');
    throw new Error(`invalid 1099-NEC threshold table ${file}:\n${problems}`);
  }
  return parsed.data.rows;
}
