import { RRule, type Options } from 'rrule';
import { addDays, daysBetween } from './dates';
import { RuleViolation } from './errors';

// Bill recurrence: an RFC 5545 RRULE over accounting dates, read by the `rrule` package. Dates are handled as UTC
// midnights and turned back into 'YYYY-MM-DD' at once, so no time zone or DST change can move a due date.
// RFC 5545 skips a month that lacks the start's day (a monthly rule from Jan 31 has no February occurrence):
// "the last day of every month" is BYMONTHDAY=-1.

export const BILL_STATUSES = ['upcoming', 'due', 'late', 'paid', 'skipped'] as const;
export type BillStatus = (typeof BILL_STATUSES)[number];

/** An unpaid occurrence is `due` from this many days before its date; after its date it is `late`. */
export const BILL_DUE_WINDOW_DAYS = 7;
/** The widest window one query may list, so one request cannot ask for centuries of daily occurrences. */
export const BILL_RANGE_DAYS_MAX = 3 * 366;
export const BILL_OCCURRENCES_PER_QUERY_MAX = 5_000;

function utc(date: string): Date {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day));
}

function dateOf(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

const TIME_PARTS: (keyof Options)[] = ['byhour', 'byminute', 'bysecond', 'dtstart', 'tzid'];

/** Parses a bill's rule (with or without the `RRULE:` prefix); refuses anything finer than days, or a DTSTART. */
export function parseBillRule(text: string, startsOn: string): RRule {
  let options: Partial<Options>;
  try {
    options = RRule.parseString(text.trim());
  } catch (error) {
    throw new RuleViolation('bill_invalid', `rrule: ${(error as Error).message}`);
  }
  if (options.freq === undefined || options.freq === null || ![RRule.YEARLY, RRule.MONTHLY, RRule.WEEKLY, RRule.DAILY].includes(options.freq)) {
    throw new RuleViolation('bill_invalid', 'rrule: FREQ must be YEARLY, MONTHLY, WEEKLY or DAILY');
  }
  for (const part of TIME_PARTS) {
    if (options[part] !== undefined && options[part] !== null) {
      throw new RuleViolation('bill_invalid', `rrule: ${part.toUpperCase()} is not allowed; bills are due on dates, and startsOn is the start`);
    }
  }
  return new RRule({ ...options, dtstart: utc(startsOn) });
}

/** Due dates of the rule from `fromOn` to `toOn`, both included. */
export function dueDates(rule: RRule, fromOn: string, toOn: string): string[] {
  const dates: string[] = [];
  rule.between(utc(fromOn), utc(toOn), true, (date) => {
    dates.push(dateOf(date));
    return dates.length < BILL_OCCURRENCES_PER_QUERY_MAX;
  });
  return dates;
}

/** True when `dueOn` is one of the rule's dates. */
export function isDueDate(rule: RRule, dueOn: string): boolean {
  return dueDates(rule, dueOn, dueOn).includes(dueOn);
}

/** The next due date on or after `onOrAfter`, or null when the rule has ended. */
export function nextDueDate(rule: RRule, onOrAfter: string): string | null {
  const next = rule.after(utc(onOrAfter), true);
  return next === null ? null : dateOf(next);
}

export function statusOf(dueOn: string, today: string, settled: 'paid' | 'skipped' | undefined): BillStatus {
  if (settled !== undefined) return settled;
  if (dueOn < today) return 'late';
  return daysBetween(today, dueOn) <= BILL_DUE_WINDOW_DAYS ? 'due' : 'upcoming';
}

export function checkRange(fromOn: string, toOn: string): void {
  if (toOn < fromOn) throw new RuleViolation('invalid_request', `to (${toOn}) is before from (${fromOn})`);
  if (daysBetween(fromOn, toOn) > BILL_RANGE_DAYS_MAX) {
    throw new RuleViolation('invalid_request', `at most ${BILL_RANGE_DAYS_MAX} days at a time (from ${fromOn} to ${addDays(fromOn, BILL_RANGE_DAYS_MAX)})`);
  }
}
