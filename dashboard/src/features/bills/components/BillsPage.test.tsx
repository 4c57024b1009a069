import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { todayOn } from '../../../lib/dates';
import { mockLedger, renderPage } from '../../../test-utils';
import { addDays, sameDayInMonth } from '../utils/calendar';
import { BillsPage } from './BillsPage';

afterEach(() => vi.unstubAllGlobals());

const TODAY = todayOn();
const MONTH = TODAY.slice(0, 7);
const NEXT_MONTH = sameDayInMonth(TODAY, 1).slice(0, 7);

function occurrence(billName: string, dueOn: string, status: string, amountCents: number, entryId: string | null = null) {
  return { billId: `bill-${billName}`, billName, payee: `${billName} Inc.`, dueOn, amountCents, status, autopay: false, entryId };
}

/** The ledger's bills for this month and the next, the month asked for answered from the query. */
function billsLedger() {
  const byMonth: Record<string, unknown[]> = {
    [MONTH]: [
      occurrence('Rent', `${MONTH}-01`, 'paid', 150_000, 'entry-1'),
      occurrence('Power', `${MONTH}-02`, 'late', 8_912),
      occurrence('Phone', `${MONTH}-28`, 'upcoming', 4_500),
    ],
    [NEXT_MONTH]: [occurrence('Rent', `${NEXT_MONTH}-01`, 'upcoming', 150_000)],
  };
  return mockLedger((request) => {
    if (request.path !== '/entities/l1/bill-occurrences') return undefined;
    const from = request.query.get('from') ?? '';
    return { body: { occurrences: byMonth[from.slice(0, 7)] ?? [] } };
  });
}

const cell = (on: string) => document.querySelector<HTMLElement>(`[role="gridcell"][data-on="${on}"]`) as HTMLElement;

describe('BillsPage calendar', () => {
  it('puts each bill on its day with its state, beside the list', async () => {
    billsLedger();
    renderPage(<BillsPage />);
    const grid = await screen.findByRole('grid', { name: /^Bills calendar, / });
    await waitFor(() => expect(cell(`${MONTH}-02`).getAttribute('aria-label')).toMatch(/: Power \$89\.12 late$/));
    expect(cell(`${MONTH}-01`).getAttribute('aria-label')).toMatch(/: Rent \$1,500\.00 paid$/);
    expect(cell(`${MONTH}-28`).getAttribute('aria-label')).toMatch(/: Phone \$45\.00 upcoming$/);
    expect(cell(`${MONTH}-03`).getAttribute('aria-label')).toMatch(/: no bills due$/);
    expect(cell(`${MONTH}-02`).className).toContain('has-late');
    // Today is the one tab stop, and marked as today.
    const tabStops = within(grid)
      .getAllByRole('gridcell')
      .filter((element) => element.tabIndex === 0);
    expect(tabStops.map((element) => element.dataset.on)).toEqual([TODAY]);
    expect(cell(TODAY).getAttribute('aria-current')).toBe('date');
    // The list beside it still offers to pay what is unpaid, and not what is paid.
    expect(screen.getByRole('button', { name: `Mark Power of ${MONTH}-02 paid` })).toBeTruthy();
    expect(screen.queryByRole('button', { name: `Mark Rent of ${MONTH}-01 paid` })).toBeNull();
  });

  it('moves through the days with the keyboard, into the next month, and lists the chosen day', async () => {
    const sent = billsLedger();
    const user = userEvent.setup();
    renderPage(<BillsPage />);
    await screen.findByRole('grid');
    await waitFor(() => expect(cell(`${MONTH}-28`).getAttribute('aria-label')).toContain('Phone'));
    await user.click(cell(`${MONTH}-28`));
    expect(document.activeElement).toBe(cell(`${MONTH}-28`));
    expect(within(screen.getByRole('region', { name: /^Bills due / })).getByText(/Phone \(Phone Inc\.\)/)).toBeTruthy();
    await user.keyboard('{ArrowLeft}');
    expect(document.activeElement).toBe(cell(`${MONTH}-27`));
    expect(cell(`${MONTH}-27`).getAttribute('aria-selected')).toBe('true');
    expect(cell(`${MONTH}-28`).tabIndex).toBe(-1);
    expect(screen.getByText('No bills due this day.')).toBeTruthy();
    await user.keyboard('{ArrowUp}');
    expect(document.activeElement).toBe(cell(`${MONTH}-20`));
    // A week down twice from the 20th leaves the month: the next month is shown and asked for, focus on its day.
    await user.keyboard('{ArrowDown}{ArrowDown}');
    const target = addDays(`${MONTH}-20`, 14);
    expect(target.startsWith(NEXT_MONTH)).toBe(true);
    await waitFor(() => expect(document.activeElement).toBe(cell(target)));
    expect(sent.some((request) => request.path === '/entities/l1/bill-occurrences' && request.query.get('from') === `${NEXT_MONTH}-01`)).toBe(true);
    await waitFor(() => expect(cell(`${NEXT_MONTH}-01`).getAttribute('aria-label')).toMatch(/Rent \$1,500\.00 upcoming$/));
    await user.keyboard('{PageUp}');
    await waitFor(() => expect(document.activeElement?.getAttribute('data-on')).toBe(sameDayInMonth(target, -1)));
  });
});
