import { accruedInterestCents } from './inter-entity';

describe('accrued interest', () => {
  it('is simple interest, actual/365, rounded half-up to the cent', () => {
    // 100,000.00 at 5% for a full 365-day year: 5,000.00 exactly.
    expect(accruedInterestCents(10_000_000, 500, '2025-01-01', '2026-01-01')).toBe(500_000);
    // 1,000.00 at 4.5% for 30 days = 3.6986… → 3.70.
    expect(accruedInterestCents(100_000, 450, '2026-03-01', '2026-03-31')).toBe(370);
    // Exactly half a cent rounds up: 73 cents at 10% (1000 bp) for 25 days = 0.5 cents.
    expect(accruedInterestCents(73, 1_000, '2026-01-01', '2026-01-26')).toBe(1);
  });

  it('is zero with no principal, no rate, or no time, and never negative when the date is earlier', () => {
    expect(accruedInterestCents(0, 600, '2026-01-01', '2026-12-31')).toBe(0);
    expect(accruedInterestCents(100_000, 0, '2026-01-01', '2026-12-31')).toBe(0);
    expect(accruedInterestCents(100_000, 600, '2026-05-01', '2026-05-01')).toBe(0);
    expect(accruedInterestCents(100_000, 600, '2026-05-01', '2026-04-01')).toBe(0);
  });

  it('stays exact on the largest principal', () => {
    // 10 billion dollars at 100% for 365 days: the principal again, to the cent.
    expect(accruedInterestCents(1_000_000_000_000, 10_000, '2025-01-01', '2026-01-01')).toBe(1_000_000_000_000);
  });
});
