import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ScheduleCTable } from '../domain/schedule-c';

// The Schedule C line table and account mapping ship as data (reference/schedule-c.json) the user can edit; it is
// validated once, when loaded, so a broken edit stops the service at start rather than misfiling a line.

export const DEFAULT_SCHEDULE_C_TABLE = path.resolve(__dirname, '../../reference/schedule-c.json');

const LineId = z.string().regex(/^\d{1,2}[ab]?$/, 'a Schedule C line such as 8 or 27b');
const Part = z.enum(['income', 'expense']);

const ScheduleCFile = z
  .object({
    description: z.string().max(4_000).optional(),
    source: z.string().max(1_000),
    status: z.enum(['verified', 'secondary', 'unverified']),
    defaults: z.object({ income: LineId, expense: LineId }).strict(),
    lines: z.array(z.object({ line: LineId, part: Part, label: z.string().min(1).max(200) }).strict()).min(1).max(100),
    mapping: z.array(z.object({ line: LineId, keywords: z.array(z.string().trim().min(1).max(100)).min(1).max(100) }).strict()).max(500),
  })
  .strict()
  .superRefine((table, context) => {
    const parts = new Map(table.lines.map((line) => [line.line, line.part]));
    if (parts.size !== table.lines.length) context.addIssue({ code: 'custom', path: ['lines'], message: 'each line appears once' });
    for (const part of Part.options) {
      if (parts.get(table.defaults[part]) !== part) context.addIssue({ code: 'custom', path: ['defaults', part], message: `must be a ${part} line of the table` });
    }
    table.mapping.forEach((row, index) => {
      if (!parts.has(row.line)) context.addIssue({ code: 'custom', path: ['mapping', index, 'line'], message: `line ${row.line} is not in the table` });
    });
  });

export function loadScheduleCTable(file: string = DEFAULT_SCHEDULE_C_TABLE): ScheduleCTable {
  const parsed = ScheduleCFile.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')) as unknown);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n');
    throw new Error(`invalid Schedule C table ${file}:\n${problems}`);
  }
  return parsed.data;
}
