import { AMOUNT_CENTS_MAX } from './limits';
import { assert, RuleViolation } from './errors';

// Money is integer minor units everywhere. This module is the only place that turns decimal strings into cents
// and back; nothing else does arithmetic on decimals.

const DECIMAL = /^(-)?(\d{1,13})(?:\.(\d{1,2}))?$/;

/** "12.34" → 1234, "-0.5" → -50. Refuses anything with more than two decimals rather than rounding money. */
export function parseCents(text: string): number {
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new RuleViolation('invalid_request', `"${text}" is not an amount with at most two decimals`);
  const [, sign, whole, fraction = ''] = match;
  const cents = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
  const signed = sign ? -cents : cents;
  if (Math.abs(signed) > AMOUNT_CENTS_MAX) {
    throw new RuleViolation('amount_out_of_range', `${text} exceeds the largest amount allowed`);
  }
  return signed === 0 ? 0 : signed;
}

/** 1234 → "12.34", -5 → "-0.05". */
export function formatCents(cents: number): string {
  assert(Number.isSafeInteger(cents), `formatCents: ${cents} is not a safe integer`);
  const sign = cents < 0 ? '-' : '';
  const absolute = Math.abs(cents);
  const whole = Math.trunc(absolute / 100);
  const fraction = String(absolute % 100).padStart(2, '0');
  return `${sign}${whole}.${fraction}`;
}

/** pg returns bigint columns as strings: parse once, and never let an unsafe integer through. */
export function centsFromDb(value: string | number | bigint): number {
  const cents = typeof value === 'number' ? value : Number(value);
  assert(Number.isSafeInteger(cents), `database amount ${String(value)} is not a safe integer`);
  return cents;
}

/** 375 basis points → "3.75%": rates are integers too, formatted only at the edges. */
export function formatBasisPoints(basisPoints: number): string {
  assert(Number.isSafeInteger(basisPoints) && basisPoints >= 0, `formatBasisPoints: ${basisPoints} is not a rate`);
  return `${Math.trunc(basisPoints / 100)}.${String(basisPoints % 100).padStart(2, '0')}%`;
}
