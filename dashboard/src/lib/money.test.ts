import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { centsToDecimalString, formatCents, formatCentsCompact, parseCents, sumCents } from './money';

describe('money', () => {
  it('formats integer cents exactly, including amounts a float would round', () => {
    expect(formatCents(123405)).toBe('$1,234.05');
    expect(formatCents(-1)).toBe('-$0.01');
    expect(formatCents(0)).toBe('$0.00');
    // 2^53 - 1 cents: a float division by 100 cannot represent this; the string path keeps every digit.
    expect(formatCents(Number.MAX_SAFE_INTEGER)).toBe('$90,071,992,547,409.91');
    expect(formatCents(1005, 'EUR')).toBe('€10.05');
    expect(formatCents(250, 'USD', { signed: true })).toBe('+$2.50');
  });

  it('refuses a non-integer amount instead of showing a guess', () => {
    expect(() => formatCents(12.5)).toThrow(TypeError);
    expect(() => formatCents(Number.NaN)).toThrow(TypeError);
  });

  it('parses dollars and cents typed by a person', () => {
    expect(parseCents('12.34')).toBe(1234);
    expect(parseCents('12.3')).toBe(1230);
    expect(parseCents('-5')).toBe(-500);
    expect(parseCents(' $1,250.50 ')).toBe(125050);
    expect(parseCents('0.07')).toBe(7);
    for (const bad of ['', '1.234', 'abc', '1e3', '--1', '1.', '.5']) expect(parseCents(bad)).toBeNull();
  });

  it('round-trips every safe amount through its decimal string', () => {
    fc.assert(
      fc.property(fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (cents) => {
        const decimal = centsToDecimalString(cents);
        const parsed = parseCents(decimal);
        // Thirteen whole digits is the parser's bound (amounts up to ten trillion dollars).
        if (Math.abs(cents) < 1e15) expect(parsed).toBe(cents);
      }),
    );
  });

  it('sums integers only', () => {
    expect(sumCents([10, 20, -5])).toBe(25);
    expect(() => sumCents([0.1, 0.2])).toThrow(TypeError);
  });

  it('compacts axis labels by whole dollars', () => {
    expect(formatCentsCompact(9_145_326)).toBe('$91.5K');
    expect(formatCentsCompact(0)).toBe('$0');
  });
});
