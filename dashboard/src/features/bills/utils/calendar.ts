// The month grid of the bills calendar: pure date arithmetic on 'YYYY-MM-DD' strings through UTC midnight, so no
// time zone can shift a day.

const DAY_MS = 86_400_000;

function toUtcMs(on: string): number {
  const [year, month, day] = on.split('-').map(Number) as [number, number, number];
  return Date.UTC(year, month - 1, day);
}

function fromUtcMs(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(on: string, days: number): string {
  return fromUtcMs(toUtcMs(on) + days * DAY_MS);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekdayOf(on: string): number {
  return new Date(toUtcMs(on)).getUTCDay();
}

/**
 * The weeks (Sunday first) that show the YYYY-MM month: each week seven days, null for a day of another month.
 * Every day of the month appears exactly once.
 */
export function monthWeeks(month: string): (string | null)[][] {
  const first = `${month}-01`;
  const weeks: (string | null)[][] = [];
  let week: (string | null)[] = Array.from({ length: weekdayOf(first) }, () => null);
  for (let on = first; on.startsWith(month); on = addDays(on, 1)) {
    week.push(on);
    if (week.length === 7) {
      weeks.push(week);
      week = [];
    }
  }
  if (week.length > 0) weeks.push([...week, ...Array.from({ length: 7 - week.length }, () => null)]);
  return weeks;
}

/** Where a key moves the focused day in the grid (the usual date-picker keys), or null for any other key. */
export function dayAfterKey(on: string, key: string): string | null {
  switch (key) {
    case 'ArrowLeft':
      return addDays(on, -1);
    case 'ArrowRight':
      return addDays(on, 1);
    case 'ArrowUp':
      return addDays(on, -7);
    case 'ArrowDown':
      return addDays(on, 7);
    case 'Home':
      return addDays(on, -weekdayOf(on));
    case 'End':
      return addDays(on, 6 - weekdayOf(on));
    case 'PageUp':
      return sameDayInMonth(on, -1);
    case 'PageDown':
      return sameDayInMonth(on, 1);
    default:
      return null;
  }
}

/** The same day `months` later, clamped to that month's last day (Jan 31 → Feb 28). */
export function sameDayInMonth(on: string, months: number): string {
  const [year, month, day] = on.split('-').map(Number) as [number, number, number];
  const target = new Date(Date.UTC(year, month - 1 + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  return fromUtcMs(Date.UTC(target.getUTCFullYear(), target.getUTCMonth(), Math.min(day, lastDay)));
}

const LONG_DATE = new Intl.DateTimeFormat('en-US', { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric', timeZone: 'UTC' });
const MONTH_TITLE = new Intl.DateTimeFormat('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });

/** "Saturday, November 28, 2026". */
export function longDate(on: string): string {
  return LONG_DATE.format(new Date(toUtcMs(on)));
}

/** "November 2026" for "2026-11". */
export function monthTitle(month: string): string {
  return MONTH_TITLE.format(new Date(toUtcMs(`${month}-01`)));
}
