import { addDays, addMonths } from './dates';
import { RuleViolation } from './errors';

export type HistoryInterval = 'day' | 'month';

/** At most two years of daily points, or twenty years of monthly ones, in one answer. */
export const HISTORY_POINTS_MAX: Readonly<Record<HistoryInterval, number>> = { day: 731, month: 240 };

const lastDayOfMonth = (date: string) => addDays(addMonths(`${date.slice(0, 7)}-01`, 1), -1);

/**
 * The days a balance history reports an end-of-day balance for, in order: every day of [fromOn, toOn], or the last
 * day of each month the window touches, the final one clipped to `toOn` (a month still running ends today).
 */
export function historyPoints(fromOn: string, toOn: string, interval: HistoryInterval): string[] {
  if (fromOn > toOn) throw new RuleViolation('invalid_request', 'from must not be after to', { field: 'query.from' });
  const points: string[] = [];
  const max = HISTORY_POINTS_MAX[interval];
  for (let on = interval === 'day' ? fromOn : lastDayOfMonth(fromOn); ; on = interval === 'day' ? addDays(on, 1) : lastDayOfMonth(addDays(on, 1))) {
    if (points.length === max) {
      throw new RuleViolation('invalid_request', `at most ${max} ${interval === 'day' ? 'daily' : 'monthly'} points: narrow from and to`, {
        field: 'query.from',
      });
    }
    if (on >= toOn) {
      points.push(toOn);
      return points;
    }
    points.push(on);
  }
}

/**
 * The point a day's postings first count in: the first point on or after the day (points are sorted). Days after
 * the last point count in none (-1).
 */
export function pointIndexOf(points: readonly string[], day: string): number {
  let low = 0;
  let high = points.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((points[middle] as string) < day) low = middle + 1;
    else high = middle;
  }
  return low === points.length ? -1 : low;
}

/**
 * End-of-day balances at each point: the opening balance (end of the day before the window) plus every change up
 * to and including the point. `changes` are (day, cents) within the window, in any order.
 */
export function balancesAtPoints(points: readonly string[], openingCents: number, changes: readonly { day: string; cents: number }[]): number[] {
  const deltas = new Array<number>(points.length).fill(0);
  for (const change of changes) {
    const index = pointIndexOf(points, change.day);
    if (index >= 0) deltas[index] = (deltas[index] as number) + change.cents;
  }
  let running = openingCents;
  return deltas.map((delta) => (running += delta));
}

/** The window a request asks for, with defaults: up to today, twelve month ends or thirty days. */
export function historyWindow(query: { from?: string | undefined; to?: string | undefined; interval?: HistoryInterval | undefined }, todayOn: string) {
  const interval = query.interval ?? 'month';
  const toOn = query.to ?? todayOn;
  const fromOn = query.from ?? (interval === 'month' ? addMonths(`${toOn.slice(0, 7)}-01`, -11) : addDays(toOn, -29));
  return { fromOn, toOn, interval };
}
