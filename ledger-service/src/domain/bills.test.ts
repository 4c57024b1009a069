import { BILL_RANGE_DAYS_MAX, checkRange, dueDates, isDueDate, nextDueDate, parseBillRule, statusOf } from './bills';
import { addDays } from './dates';
import { RuleViolation } from './errors';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof RuleViolation ? error.code : 'not-a-rule-violation';
  }
}

describe('bill recurrence', () => {
  it('the last day of every month, leap February included', () => {
    const rule = parseBillRule('FREQ=MONTHLY;BYMONTHDAY=-1', '2024-01-31');
    expect(dueDates(rule, '2024-01-01', '2024-06-30')).toEqual(['2024-01-31', '2024-02-29', '2024-03-31', '2024-04-30', '2024-05-31', '2024-06-30']);
    expect(dueDates(rule, '2025-02-01', '2025-03-01')).toEqual(['2025-02-28']);
  });

  it('a monthly rule from the 31st skips shorter months, as RFC 5545 says', () => {
    const rule = parseBillRule('RRULE:FREQ=MONTHLY', '2026-01-31');
    expect(dueDates(rule, '2026-01-01', '2026-06-30')).toEqual(['2026-01-31', '2026-03-31', '2026-05-31']);
    expect(isDueDate(rule, '2026-02-28')).toBe(false);
    expect(isDueDate(rule, '2026-03-31')).toBe(true);
  });

  it('Feb 29 every year falls only in leap years', () => {
    const rule = parseBillRule('FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', '2024-02-29');
    expect(dueDates(rule, '2024-01-01', '2032-12-31')).toEqual(['2024-02-29', '2028-02-29', '2032-02-29']);
  });

  it('COUNT and UNTIL end a rule; the next due date is null after the end', () => {
    const counted = parseBillRule('FREQ=MONTHLY;BYMONTHDAY=15;COUNT=3', '2026-01-15');
    expect(dueDates(counted, '2026-01-01', '2026-12-31')).toEqual(['2026-01-15', '2026-02-15', '2026-03-15']);
    expect(nextDueDate(counted, '2026-02-16')).toBe('2026-03-15');
    expect(nextDueDate(counted, '2026-03-16')).toBeNull();
    const until = parseBillRule('FREQ=WEEKLY;UNTIL=20260120', '2026-01-06');
    expect(dueDates(until, '2026-01-01', '2026-02-28')).toEqual(['2026-01-06', '2026-01-13', '2026-01-20']);
  });

  it('dates do not move with the time zone or a daylight-saving change', () => {
    const original = process.env.TZ;
    const results: string[][] = [];
    try {
      for (const zone of ['UTC', 'America/New_York', 'Pacific/Auckland', 'Pacific/Kiritimati', 'America/Adak']) {
        process.env.TZ = zone;
        const rule = parseBillRule('FREQ=WEEKLY;BYDAY=SU', '2026-03-01');
        results.push([...dueDates(rule, '2026-03-01', '2026-04-12'), ...dueDates(parseBillRule('FREQ=MONTHLY;BYMONTHDAY=1', '2026-01-01'), '2026-10-01', '2026-11-30')]);
      }
    } finally {
      process.env.TZ = original;
    }
    for (const result of results) {
      expect(result).toEqual(['2026-03-01', '2026-03-08', '2026-03-15', '2026-03-22', '2026-03-29', '2026-04-05', '2026-04-12', '2026-10-01', '2026-11-01']);
    }
  });

  it('refuses rules that are not date rules', () => {
    expect(codeOf(() => parseBillRule('FREQ=HOURLY', '2026-01-01'))).toBe('bill_invalid');
    expect(codeOf(() => parseBillRule('FREQ=BOGUS', '2026-01-01'))).toBe('bill_invalid');
    expect(codeOf(() => parseBillRule('nonsense', '2026-01-01'))).toBe('bill_invalid');
    expect(codeOf(() => parseBillRule('FREQ=DAILY;BYHOUR=9', '2026-01-01'))).toBe('bill_invalid');
    expect(codeOf(() => parseBillRule('DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY', '2026-01-01'))).toBe('bill_invalid');
  });

  it('status against today: late after the date, due within a week, upcoming beyond', () => {
    expect(statusOf('2026-03-09', '2026-03-10', undefined)).toBe('late');
    expect(statusOf('2026-03-10', '2026-03-10', undefined)).toBe('due');
    expect(statusOf('2026-03-17', '2026-03-10', undefined)).toBe('due');
    expect(statusOf('2026-03-18', '2026-03-10', undefined)).toBe('upcoming');
    expect(statusOf('2026-03-01', '2026-03-10', 'paid')).toBe('paid');
    expect(statusOf('2026-03-01', '2026-03-10', 'skipped')).toBe('skipped');
  });

  it('bounds the window one query may ask for', () => {
    expect(codeOf(() => checkRange('2026-01-01', addDays('2026-01-01', BILL_RANGE_DAYS_MAX)))).toBeUndefined();
    expect(codeOf(() => checkRange('2026-01-01', addDays('2026-01-01', BILL_RANGE_DAYS_MAX + 1)))).toBe('invalid_request');
    expect(codeOf(() => checkRange('2026-01-02', '2026-01-01'))).toBe('invalid_request');
  });
});
