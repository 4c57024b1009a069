import { balancesAtPoints, historyPoints, historyWindow, pointIndexOf } from './balance-history';

describe('historyPoints', () => {
  it('lists every day, or each month end with the last clipped to the window', () => {
    expect(historyPoints('2026-02-27', '2026-03-02', 'day')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']);
    expect(historyPoints('2024-01-15', '2024-04-10', 'month')).toEqual(['2024-01-31', '2024-02-29', '2024-03-31', '2024-04-10']);
    expect(historyPoints('2026-01-31', '2026-01-31', 'month')).toEqual(['2026-01-31']);
    expect(historyPoints('2026-05-05', '2026-05-05', 'day')).toEqual(['2026-05-05']);
  });
  it('refuses reversed and too long windows', () => {
    expect(() => historyPoints('2026-02-01', '2026-01-31', 'day')).toThrow(/from must not be after to/);
    expect(() => historyPoints('2020-01-01', '2026-01-01', 'day')).toThrow(/at most 731 daily points/);
    expect(historyPoints('2025-01-01', '2026-12-31', 'day')).toHaveLength(730);
    expect(historyPoints('2007-01-01', '2026-12-31', 'month')).toHaveLength(240);
    expect(() => historyPoints('2006-12-01', '2026-12-31', 'month')).toThrow(/at most 240 monthly points/);
  });
});

describe('balancesAtPoints', () => {
  it('adds each change from its first point on; changes after the last point count nowhere', () => {
    const points = ['2026-01-31', '2026-02-28', '2026-03-15'];
    expect(pointIndexOf(points, '2026-01-01')).toBe(0);
    expect(pointIndexOf(points, '2026-01-31')).toBe(0);
    expect(pointIndexOf(points, '2026-02-01')).toBe(1);
    expect(pointIndexOf(points, '2026-03-16')).toBe(-1);
    const changes = [
      { day: '2026-02-01', cents: 500 },
      { day: '2026-01-10', cents: -200 },
      { day: '2026-03-15', cents: 7 },
      { day: '2026-03-20', cents: 1_000_000 },
    ];
    expect(balancesAtPoints(points, 1_000, changes)).toEqual([800, 1_300, 1_307]);
    expect(balancesAtPoints(points, 0, [])).toEqual([0, 0, 0]);
  });
});

describe('historyWindow', () => {
  it('defaults to twelve month ends, or thirty days, up to today', () => {
    expect(historyWindow({}, '2026-11-24')).toEqual({ fromOn: '2025-12-01', toOn: '2026-11-24', interval: 'month' });
    expect(historyWindow({ interval: 'day' }, '2026-11-24')).toEqual({ fromOn: '2026-10-26', toOn: '2026-11-24', interval: 'day' });
    expect(historyWindow({ from: '2026-01-01', to: '2026-02-01' }, '2026-11-24')).toEqual({ fromOn: '2026-01-01', toOn: '2026-02-01', interval: 'month' });
  });
});
