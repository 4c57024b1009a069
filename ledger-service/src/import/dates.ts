// Dates in statements: OFX's YYYYMMDD[HHMMSS[.XXX]][[-5:EST]], QIF's M/D'YY, CSV's many shapes. All become
// 'YYYY-MM-DD' or null; a date that does not exist (2012-02-31) is null, never rolled over.

function valid(year: number, month: number, day: number): string | null {
  if (year < 1900 || year > 2199 || month < 1 || month > 12 || day < 1 || day > 31) return null;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1) return null;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** The date part of an OFX datetime; the bank's own calendar day, so the time zone is not applied. */
export function parseOfxDate(text: string): string | null {
  const match = /^(\d{4})(\d{2})(\d{2})(?:\d{2}(?:\d{2}(?:\d{2}(?:[.:]\d{1,3})?)?)?)?(?:\s*\[[^\]]*\])?$/.exec(text.trim());
  if (!match) return null;
  return valid(Number(match[1]), Number(match[2]), Number(match[3]));
}

export type DateOrder = 'ymd' | 'mdy' | 'dmy';

function fullYear(text: string): number {
  const year = Number(text);
  if (text.length === 4) return year;
  // Two-digit years: QIF and old CSVs. 00-69 are 2000s, 70-99 are 1900s (the POSIX strptime pivot).
  return year < 70 ? 2000 + year : 1900 + year;
}

/** Parses a date written in `order` with any of - / . ' separators (QIF writes 1/23'19 for 2019). */
export function parseDate(text: string, order: DateOrder): string | null {
  const trimmed = text.trim();
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(trimmed);
  if (iso) return valid(Number(iso[1]), Number(iso[2]), Number(iso[3]));
  const compact = /^(\d{4})(\d{2})(\d{2})$/.exec(trimmed);
  if (compact) return valid(Number(compact[1]), Number(compact[2]), Number(compact[3]));
  const parts = /^(\d{1,4})\s*[-/.']\s*(\d{1,2})\s*[-/.']\s*(\d{2,4})$/.exec(trimmed);
  if (!parts) return null;
  const [, a = '', b = '', c = ''] = parts;
  if (a.length === 4) return valid(Number(a), Number(b), Number(c));
  if (order === 'mdy') return valid(fullYear(c), Number(a), Number(b));
  if (order === 'dmy') return valid(fullYear(c), Number(b), Number(a));
  return valid(fullYear(a), Number(b), Number(c));
}
