import fc from 'fast-check';
import { RuleViolation } from './errors';
import { effectiveLimit, holdingValueCents, projectLimits, quantityFromPlaid, scaledQuantity, standing, taxYearOf, type LimitRow } from './investments';
import { loadContributionLimits } from '../services/contribution-limits-table';

const ROWS: LimitRow[] = loadContributionLimits();

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof RuleViolation ? error.code : 'not-a-rule-violation';
  }
}

describe('contribution limits', () => {
  it('reads the table figures of US-TAX-FACTS §5', () => {
    expect(effectiveLimit(ROWS, 2024, 'ira', null)?.limitCents).toBe(700_000);
    expect(effectiveLimit(ROWS, 2026, 'ira', null)?.limitCents).toBe(750_000);
    expect(effectiveLimit(ROWS, 2025, '401k_employee', null)?.limitCents).toBe(2_350_000);
    expect(effectiveLimit(ROWS, 2026, 'sep_ira', null)?.limitCents).toBe(7_200_000);
    expect(effectiveLimit(ROWS, 2030, 'ira', null)).toBeNull();
  });

  it('adds the catch-up by age at the end of the year: 50+, and 60 to 63 for a 401(k) from 2025', () => {
    // Age 49, 50, 59, 60, 63, 64 in 2026.
    const k401 = (birthYear: number) => effectiveLimit(ROWS, 2026, '401k_employee', birthYear)?.limitCents;
    expect(k401(1977)).toBe(2_450_000);
    expect(k401(1976)).toBe(2_450_000 + 800_000);
    expect(k401(1967)).toBe(2_450_000 + 800_000);
    expect(k401(1966)).toBe(2_450_000 + 1_125_000);
    expect(k401(1963)).toBe(2_450_000 + 1_125_000);
    expect(k401(1962)).toBe(2_450_000 + 800_000);
    // 2024 had no 60-63 catch-up: the 50+ one applies.
    expect(effectiveLimit(ROWS, 2024, '401k_employee', 1963)?.limitCents).toBe(2_300_000 + 750_000);
    // The IRA has no 60-63 amount; SEP-IRA no catch-up at all.
    expect(effectiveLimit(ROWS, 2026, 'ira', 1964)?.limitCents).toBe(750_000 + 110_000);
    expect(effectiveLimit(ROWS, 2026, 'sep_ira', 1964)?.limitCents).toBe(7_200_000);
  });

  it('stands near from 90% and exceeded only past the limit', () => {
    const limit = effectiveLimit(ROWS, 2026, 'ira', null);
    expect(standing(674_999, limit)).toBe('ok');
    expect(standing(675_000, limit)).toBe('near');
    expect(standing(750_000, limit)).toBe('near');
    expect(standing(750_001, limit)).toBe('exceeded');
    expect(standing(1, null)).toBe('unknown');
  });

  it('counts IRA money for the year before only until April 15, never a 401(k) deferral', () => {
    expect(taxYearOf('ira', '2026-04-15', 2025)).toBe(2025);
    expect(taxYearOf('sep_ira', '2026-01-02', 2025)).toBe(2025);
    expect(codeOf(() => taxYearOf('ira', '2026-04-16', 2025))).toBe('contribution_invalid');
    expect(codeOf(() => taxYearOf('401k_employee', '2026-01-02', 2025))).toBe('contribution_invalid');
    expect(codeOf(() => taxYearOf('ira', '2026-01-02', 2024))).toBe('contribution_invalid');
    expect(codeOf(() => taxYearOf('ira', '2026-01-02', 2027))).toBe('contribution_invalid');
    expect(taxYearOf('401k_employee', '2026-12-31', undefined)).toBe(2026);
  });

  it('names the first planned date that would take a year over, per year', () => {
    const planned = ['2026-10-01', '2026-11-01', '2026-12-01', '2027-01-01'].map((dueOn) => ({ planId: 'p', dueOn, amountCents: 100_000 }));
    const projection = projectLimits('ira', planned, new Map([[2026, 500_000]]), (year) => effectiveLimit(ROWS, year, 'ira', null));
    expect(projection.map((year) => [year.year, year.contributedCents, year.plannedCents, year.warning?.code, year.warning?.firstDueOn])).toEqual([
      [2026, 500_000, 300_000, 'contribution_limit_exceeded', '2026-12-01'],
      [2027, 0, 100_000, 'contribution_limit_unknown', null],
    ]);
  });

  it('property: the first exceeding date is the first at which the running total passes the limit', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300_000 }), { maxLength: 12 }), fc.integer({ min: 0, max: 800_000 }), (amounts, already) => {
        const planned = amounts.map((amountCents, index) => ({ planId: 'p', dueOn: `2026-${String(index + 1).padStart(2, '0')}-01`, amountCents }));
        const [year] = projectLimits('ira', planned, new Map([[2026, already]]), (candidate) => effectiveLimit(ROWS, candidate, 'ira', null));
        let running = already;
        let expected: string | null = null;
        for (const occurrence of planned) {
          running += occurrence.amountCents;
          if (expected === null && running > 750_000) expected = occurrence.dueOn;
        }
        if (running > 750_000) expect(year?.warning).toMatchObject({ code: 'contribution_limit_exceeded', firstDueOn: expected, projectedCents: running });
        else expect(year?.warning?.code).not.toBe('contribution_limit_exceeded');
      }),
    );
  });
});

describe('quantities and values', () => {
  it('values quantity × price in integer arithmetic, rounding half away from zero', () => {
    expect(holdingValueCents('10.125', 28_533)).toBe(288_897);
    expect(holdingValueCents('0.5', 1)).toBe(1);
    expect(holdingValueCents('0.49999999', 1)).toBe(0);
    expect(holdingValueCents('0', 99_999)).toBe(0);
    expect(holdingValueCents('0.1', 3)).toBe(0);
  });

  it('refuses what is not a plain decimal with at most 8 places', () => {
    for (const bad of ['1e3', '-1', '1.123456789', '', '.5', '1,5', 'NaN']) expect(codeOf(() => scaledQuantity(bad))).toBe('invalid_request');
    expect(scaledQuantity('1.00000001')).toBe(100_000_001n);
  });

  it("reads Plaid's float quantities exactly to 8 places", () => {
    expect(quantityFromPlaid(0.1 + 0.2)).toBe('0.3');
    expect(quantityFromPlaid(12)).toBe('12');
    expect(quantityFromPlaid(85.123)).toBe('85.123');
    expect(codeOf(() => quantityFromPlaid(-1))).toBe('plaid_upstream_error');
  });

  it('property: the value never differs from the exact product by more than half a cent', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.integer({ min: 0, max: 10_000_000 }), (scaled, priceCents) => {
        const quantity = `${scaled / 10n ** 8n}.${String(scaled % 10n ** 8n).padStart(8, '0')}`;
        const value = BigInt(holdingValueCents(quantity, priceCents));
        const exact = scaled * BigInt(priceCents);
        const difference = value * 10n ** 8n - exact;
        expect(difference <= 5n * 10n ** 7n && difference >= -(5n * 10n ** 7n)).toBe(true);
      }),
    );
  });
});
