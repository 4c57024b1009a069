import { useEffect, useRef, type KeyboardEvent } from 'react';
import { Money } from '../../../components/ui';
import { formatCents } from '../../../lib/money';
import type { Occurrence } from '../api/bills';
import { dayAfterKey, longDate, monthTitle, monthWeeks } from '../utils/calendar';

const WEEKDAYS = [
  ['Sun', 'Sunday'],
  ['Mon', 'Monday'],
  ['Tue', 'Tuesday'],
  ['Wed', 'Wednesday'],
  ['Thu', 'Thursday'],
  ['Fri', 'Friday'],
  ['Sat', 'Saturday'],
] as const;

export interface BillsCalendarProps {
  /** YYYY-MM shown. */
  month: string;
  /** The selected day: the one focusable cell (roving tabindex), and the day whose bills are listed below. */
  selectedOn: string;
  onSelect: (on: string) => void;
  occurrences: readonly Occurrence[];
  currency: string;
  todayOn: string;
}

function describe(occurrence: Occurrence, currency: string): string {
  return `${occurrence.billName} ${formatCents(occurrence.amountCents, currency)} ${occurrence.status}`;
}

/**
 * The month as a grid of days (an ARIA grid: one tab stop, the arrow keys move a day or a week, Home and End go to
 * the week's ends, Page Up and Page Down change month), each day with the bills due on it and their state.
 */
export function BillsCalendar({ month, selectedOn, onSelect, occurrences, currency, todayOn }: BillsCalendarProps) {
  const cells = useRef(new Map<string, HTMLTableCellElement>());
  // Focus follows the selection only when the keyboard moved it (never on first render or a click elsewhere).
  const focusPending = useRef(false);
  const byDay = new Map<string, Occurrence[]>();
  for (const occurrence of occurrences) {
    if (!occurrence.dueOn.startsWith(month)) continue;
    byDay.set(occurrence.dueOn, [...(byDay.get(occurrence.dueOn) ?? []), occurrence]);
  }
  const selected = byDay.get(selectedOn) ?? [];

  useEffect(() => {
    if (!focusPending.current) return;
    const cell = cells.current.get(selectedOn);
    if (cell) {
      cell.focus();
      focusPending.current = false;
    }
  });

  function onKeyDown(event: KeyboardEvent, on: string) {
    const next = dayAfterKey(on, event.key);
    if (next === null) return;
    event.preventDefault();
    focusPending.current = true;
    onSelect(next);
  }

  const titleId = `calendar-title-${month}`;
  return (
    <div className="calendar">
      <table role="grid" aria-labelledby={titleId}>
        <caption id={titleId}>Bills calendar, {monthTitle(month)}</caption>
        <thead>
          <tr>
            {WEEKDAYS.map(([short, long]) => (
              <th key={short} scope="col" abbr={long}>
                {short}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {monthWeeks(month).map((week) => (
            <tr key={week.find((on) => on !== null)}>
              {week.map((on, index) => {
                if (on === null) return <td key={`blank-${index}`} className="blank" aria-hidden="true" />;
                const due = byDay.get(on) ?? [];
                const label = `${longDate(on)}${on === todayOn ? ', today' : ''}: ${due.length === 0 ? 'no bills due' : due.map((occurrence) => describe(occurrence, currency)).join('; ')}`;
                return (
                  <td
                    key={on}
                    ref={(element) => {
                      if (element) cells.current.set(on, element);
                      else cells.current.delete(on);
                    }}
                    role="gridcell"
                    tabIndex={on === selectedOn ? 0 : -1}
                    aria-selected={on === selectedOn}
                    aria-label={label}
                    aria-current={on === todayOn ? 'date' : undefined}
                    data-on={on}
                    className={`day${due.some((occurrence) => occurrence.status === 'late') ? ' has-late' : ''}`}
                    onClick={() => onSelect(on)}
                    onKeyDown={(event) => onKeyDown(event, on)}
                  >
                    <span className="day-number" aria-hidden="true">
                      {Number(on.slice(8))}
                    </span>
                    <ul aria-hidden="true">
                      {due.map((occurrence) => (
                        <li key={occurrence.billId} className={`bill-chip ${occurrence.status}`} title={describe(occurrence, currency)}>
                          <span className="bill-name">{occurrence.billName}</span> <span className="bill-status">{occurrence.status}</span>
                        </li>
                      ))}
                    </ul>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <section className="calendar-day" aria-label={`Bills due ${longDate(selectedOn)}`} aria-live="polite">
        <h3>{longDate(selectedOn)}</h3>
        {selected.length === 0 ? (
          <p className="muted">No bills due this day.</p>
        ) : (
          <ul>
            {selected.map((occurrence) => (
              <li key={occurrence.billId}>
                {occurrence.billName} ({occurrence.payee}) <Money cents={occurrence.amountCents} currency={currency} />{' '}
                <span className={`badge status-${occurrence.status}`}>{occurrence.status}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
