import fc from 'fast-check';
import { RuleViolation } from './errors';
import { AMOUNT_CENTS_MAX } from './limits';
import { centsFromDb, formatBasisPoints, formatCents, parseCents } from './money';

describe('parseCents', () => {
  it.each([
    ['12.34', 1234],
    ['-0.5', -50],
    ['0.05', 5],
    ['7', 700],
    [' 1.2 ', 120],
    ['-0', 0],
    ['10000000000', AMOUNT_CENTS_MAX],
  ])('reads %s as %d cents', (text, cents) => {
    expect(parseCents(text)).toBe(cents);
  });

  it.each(['1.234', '1,00', 'abc', '', '1e3', '--1', '.5', '10000000000.01', 'NaN'])('refuses %s', (text) => {
    expect(() => parseCents(text)).toThrow(RuleViolation);
  });

  it('round-trips every amount within the limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: -AMOUNT_CENTS_MAX, max: AMOUNT_CENTS_MAX }), (cents) => {
        expect(parseCents(formatCents(cents))).toBe(cents);
      }),
    );
  });
});

describe('centsFromDb', () => {
  it('parses bigint text and refuses unsafe integers', () => {
    expect(centsFromDb('-123')).toBe(-123);
    expect(() => centsFromDb('9007199254740993')).toThrow(/not a safe integer/);
  });
});

describe('formatBasisPoints', () => {
  it.each([
    [0, '0.00%'],
    [5, '0.05%'],
    [375, '3.75%'],
    [1200, '12.00%'],
  ])('formats %d basis points as %s', (basisPoints, text) => {
    expect(formatBasisPoints(basisPoints)).toBe(text);
  });
  it('refuses a fractional or negative rate', () => {
    expect(() => formatBasisPoints(1.5)).toThrow(/not a rate/);
    expect(() => formatBasisPoints(-1)).toThrow(/not a rate/);
  });
});
