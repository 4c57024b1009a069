// Money arrives as integer cents and is shown through Intl.NumberFormat. Nothing here multiplies or divides a
// float: cents become a decimal string by integer arithmetic on BigInt, and Intl formats that string exactly.

const formatters = new Map<string, Intl.NumberFormat>();

function formatter(currency: string, signDisplay: 'auto' | 'exceptZero'): Intl.NumberFormat {
  const key = `${currency}:${signDisplay}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.NumberFormat('en-US', { style: 'currency', currency, signDisplay });
    formatters.set(key, found);
  }
  return found;
}

/** "-1234.05" from -123405: exact, for any safe integer. */
export function centsToDecimalString(cents: number): string {
  if (!Number.isSafeInteger(cents)) throw new TypeError(`amount is not an integer number of cents: ${cents}`);
  const value = BigInt(cents);
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const whole = magnitude / 100n;
  const fraction = (magnitude % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** $1,234.05 for 123405 in USD. `signed` shows +/- (for changes). */
export function formatCents(cents: number, currency = 'USD', options: { signed?: boolean } = {}): string {
  const decimal = centsToDecimalString(cents);
  // Intl formats a numeric string exactly (no float rounding on the way).
  return formatter(currency, options.signed ? 'exceptZero' : 'auto').format(decimal as Intl.StringNumericLiteral);
}

const compactFormatters = new Map<string, Intl.NumberFormat>();

/** $91K for chart axes: whole dollars only, so the cents are dropped by integer division before formatting. */
export function formatCentsCompact(cents: number, currency = 'USD'): string {
  if (!Number.isSafeInteger(cents)) throw new TypeError(`amount is not an integer number of cents: ${cents}`);
  let found = compactFormatters.get(currency);
  if (!found) {
    found = new Intl.NumberFormat('en-US', { style: 'currency', currency, notation: 'compact', minimumFractionDigits: 0, maximumFractionDigits: 1 });
    compactFormatters.set(currency, found);
  }
  return found.format((BigInt(cents) / 100n).toString() as Intl.StringNumericLiteral);
}

const AMOUNT = /^(-)?(\d{1,13})(?:\.(\d{1,2}))?$/;

/** "12.34" → 1234, "-5" → -500, "1,250.5" → 125050; null when it is not an amount of at most two decimals. */
export function parseCents(input: string): number | null {
  const text = input.trim().replace(/[,$\s]/g, '');
  const match = AMOUNT.exec(text);
  if (!match) return null;
  const [, minus, whole, fraction = ''] = match;
  const cents = BigInt(whole as string) * 100n + BigInt(fraction.padEnd(2, '0') || '0');
  const signed = minus ? -cents : cents;
  const result = Number(signed);
  return Number.isSafeInteger(result) ? result : null;
}

/** Sums cents exactly (integers only). */
export function sumCents(values: readonly number[]): number {
  let total = 0;
  for (const value of values) {
    if (!Number.isSafeInteger(value)) throw new TypeError(`not integer cents: ${value}`);
    total += value;
  }
  if (!Number.isSafeInteger(total)) throw new RangeError('sum of cents overflows');
  return total;
}

/** Basis points as a percentage string: 450 → "4.50%". */
export function formatBasisPoints(basisPoints: number): string {
  return `${centsToDecimalString(basisPoints)}%`;
}
