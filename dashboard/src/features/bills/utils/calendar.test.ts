import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, dayAfterKey, monthWeeks, sameDayInMonth, weekdayOf } from './calendar';

describe('monthWeeks', () => {
  it('lays November 2026 out from Sunday the 1st to Monday the 30th', () => {
    const weeks = monthWeeks('2026-11');
    expect(weeks).toHaveLength(5);
    expect(weeks[0]).toEqual(['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04', '2026-11-05', '2026-11-06', '2026-11-07']);
    expect(weeks[4]).toEqual(['2026-11-29', '2026-11-30', null, null, null, null, null]);
  });

  it('pads a month that starts late in the week, and knows leap years', () => {
    const weeks = monthWeeks('2028-02');
    expect(weeks[0]).toEqual([null, null, '2028-02-01', '2028-02-02', '2028-02-03', '2028-02-04', '2028-02-05']);
    expect(
      weeks
        .flat()
        .filter((on) => on !== null)
        .at(-1),
    ).toBe('2028-02-29');
  });

  it('shows every day of any month once, in order, each under its weekday', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1900, max: 2200 }), fc.integer({ min: 1, max: 12 }), (year, monthNumber) => {
        const month = `${year}-${String(monthNumber).padStart(2, '0')}`;
        const weeks = monthWeeks(month);
        const days = weeks.flat().filter((on): on is string => on !== null);
        const lastDay = new Date(Date.UTC(year, monthNumber, 0)).getUTCDate();
        expect(days).toHaveLength(lastDay);
        expect(days[0]).toBe(`${month}-01`);
        days.forEach((on, index) => index > 0 && expect(on).toBe(addDays(days[index - 1] as string, 1)));
        for (const week of weeks) {
          expect(week).toHaveLength(7);
          week.forEach((on, column) => on !== null && expect(weekdayOf(on)).toBe(column));
        }
      }),
    );
  });
});

describe('dayAfterKey', () => {
  it('moves a day, a week, to the ends of the week and a month, across month and year ends', () => {
    expect(dayAfterKey('2026-11-30', 'ArrowRight')).toBe('2026-12-01');
    expect(dayAfterKey('2026-01-01', 'ArrowLeft')).toBe('2025-12-31');
    expect(dayAfterKey('2026-11-26', 'ArrowDown')).toBe('2026-12-03');
    expect(dayAfterKey('2026-11-03', 'ArrowUp')).toBe('2026-10-27');
    expect(dayAfterKey('2026-11-25', 'Home')).toBe('2026-11-22');
    expect(dayAfterKey('2026-11-25', 'End')).toBe('2026-11-28');
    expect(dayAfterKey('2026-01-31', 'PageDown')).toBe('2026-02-28');
    expect(dayAfterKey('2026-03-31', 'PageUp')).toBe('2026-02-28');
    expect(dayAfterKey('2026-11-25', 'Enter')).toBeNull();
    expect(dayAfterKey('2026-11-25', 'a')).toBeNull();
  });

  it('undoes each move with the opposite key', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(['ArrowLeft', 'ArrowRight'], ['ArrowUp', 'ArrowDown']), (offset, [there, back]) => {
        const on = addDays('1970-01-01', offset);
        expect(dayAfterKey(dayAfterKey(on, there) as string, back)).toBe(on);
      }),
    );
  });

  it('clamps a month move to the last day', () => {
    expect(sameDayInMonth('2028-01-30', 1)).toBe('2028-02-29');
    expect(sameDayInMonth('2026-12-15', 1)).toBe('2027-01-15');
  });
});
