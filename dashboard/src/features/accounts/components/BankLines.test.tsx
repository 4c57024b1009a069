import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Account } from '../../../lib/types';
import { mockLedger, renderPage, type SentRequest } from '../../../test-utils';
import { BankLines } from './BankLines';

afterEach(() => vi.unstubAllGlobals());

const account = (id: string, name: string, accountClass: Account['class'], kind: string): Account => ({
  id,
  entityId: 'l1',
  name,
  code: null,
  class: accountClass,
  kind,
  currency: 'USD',
  counterpartyEntityId: null,
  balanceCents: 0,
  naturalBalanceCents: 0,
  archivedAt: null,
  createdAt: '2026-01-01T00:00:00Z',
});

const CHECKING = account('checking', 'Business Checking', 'asset', 'checking');
const ACCOUNTS = [CHECKING, account('software', 'Software', 'expense', 'expense_category'), account('supplies', 'Office Supplies', 'expense', 'expense_category')];

const line = (id: string, payee: string, postedOn: string, amountCents: number) => ({ id, accountId: 'checking', postedOn, amountCents, payee, memo: null, pending: false, status: 'unmatched', entryId: null });

/** The ledger's unmatched lines; a booked line leaves the list; `refuse` answers a line's booking with a 422. */
function bankLedger(refuse: string | null = null) {
  const lines = [line('b1', 'FIGMA', '2026-11-02', -4_500), line('b2', 'NOTION', '2026-11-03', -1_000), line('b3', 'STAPLES', '2026-11-04', -12_345)];
  const booked = new Set<string>();
  const sent = mockLedger((request) => {
    if (request.method === 'GET' && request.path === '/accounts/checking/bank-lines') {
      expect(request.query.get('status')).toBe('unmatched');
      return { body: { items: lines.filter((item) => !booked.has(item.id)), nextCursor: null } };
    }
    const match = /^\/bank-lines\/(\w+)\/book$/.exec(request.path);
    if (request.method === 'POST' && match) {
      const id = match[1] as string;
      if (id === refuse) return { status: 422, body: { error: { code: 'bank_line_state', message: 'a booked bank line cannot be booked' } } };
      booked.add(id);
      return { status: 201, body: { line: { ...lines.find((item) => item.id === id), status: 'booked' }, entry: { id: `entry-${id}` } } };
    }
    return undefined;
  });
  return sent;
}

const bookings = (sent: SentRequest[]) => sent.filter((request) => request.method === 'POST');

describe('BankLines', () => {
  it('categorises several selected lines at once, one booking each with its own key', async () => {
    const sent = bankLedger();
    const user = userEvent.setup();
    renderPage(<BankLines account={CHECKING} accounts={ACCOUNTS} />);
    await screen.findByRole('checkbox', { name: 'Select FIGMA of 2026-11-02' });
    const submit = screen.getByRole('button', { name: /^Categorise \d selected$/ });
    expect((submit as HTMLButtonElement).disabled).toBe(true);
    await user.click(screen.getByRole('checkbox', { name: 'Select FIGMA of 2026-11-02' }));
    await user.click(screen.getByRole('checkbox', { name: 'Select NOTION of 2026-11-03' }));
    expect(screen.getByText('2 of 3 selected')).toBeTruthy();
    await user.selectOptions(screen.getByLabelText('Category for the selected lines'), 'Software');
    await user.click(screen.getByRole('button', { name: 'Categorise 2 selected' }));
    await screen.findByText(/Booked 2 of 2 lines as Software\./);
    expect(bookings(sent).map((request) => [request.path, request.body])).toEqual([
      ['/bank-lines/b1/book', { categoryAccountId: 'software' }],
      ['/bank-lines/b2/book', { categoryAccountId: 'software' }],
    ]);
    const keys = bookings(sent).map((request) => request.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(2);
    // Booked lines leave the list; the one left is not selected.
    await waitFor(() => expect(screen.queryByRole('checkbox', { name: 'Select FIGMA of 2026-11-02' })).toBeNull());
    expect((screen.getByRole('checkbox', { name: 'Select STAPLES of 2026-11-04' }) as HTMLInputElement).checked).toBe(false);
    expect(screen.getByText('0 of 1 selected')).toBeTruthy();
  });

  it('reports a line the ledger refuses and still books the others', async () => {
    const sent = bankLedger('b2');
    const user = userEvent.setup();
    renderPage(<BankLines account={CHECKING} accounts={ACCOUNTS} />);
    await user.click(await screen.findByRole('checkbox', { name: 'Select every line' }));
    await user.selectOptions(screen.getByLabelText('Category for the selected lines'), 'Office Supplies');
    await user.click(screen.getByRole('button', { name: 'Categorise 3 selected' }));
    const notice = await screen.findByText(/Booked 2 of 3 lines as Office Supplies\./);
    const box = notice.closest('.notice') as HTMLElement;
    expect(box.className).toContain('error');
    expect(within(box).getByText(/NOTION of 2026-11-03: a booked bank line cannot be booked/)).toBeTruthy();
    expect(within(box).getByText('bank_line_state')).toBeTruthy();
    expect(bookings(sent)).toHaveLength(3);
    // The refused line stays, still selected, for another try.
    await waitFor(() => expect(screen.queryByRole('checkbox', { name: 'Select FIGMA of 2026-11-02' })).toBeNull());
    expect((screen.getByRole('checkbox', { name: 'Select NOTION of 2026-11-03' }) as HTMLInputElement).checked).toBe(true);
  });

  it('splits one line across categories only when the parts add up, in integer cents signed like the line', async () => {
    const sent = bankLedger();
    const user = userEvent.setup();
    renderPage(<BankLines account={CHECKING} accounts={ACCOUNTS} />);
    await user.click(await screen.findByRole('button', { name: 'Split STAPLES of 2026-11-04' }));
    const form = screen.getByRole('form', { name: 'Split STAPLES of 2026-11-04' });
    const bookSplit = within(form).getByRole('button', { name: 'Book split' }) as HTMLButtonElement;
    await user.selectOptions(within(form).getByLabelText('Split category 1'), 'Office Supplies');
    await user.type(within(form).getByLabelText('Split amount 1'), '100.10');
    expect(within(form).getByText('Left to split: $23.35')).toBeTruthy();
    await user.selectOptions(within(form).getByLabelText('Split category 2'), 'Software');
    await user.type(within(form).getByLabelText('Split amount 2'), '23.36');
    expect(within(form).getByText('Over by $0.01')).toBeTruthy();
    expect(bookSplit.disabled).toBe(true);
    await user.clear(within(form).getByLabelText('Split amount 2'));
    await user.type(within(form).getByLabelText('Split amount 2'), '23.3');
    expect(within(form).getByText('Left to split: $0.05')).toBeTruthy();
    await user.click(within(form).getByRole('button', { name: 'Add a category' }));
    await user.type(within(form).getByLabelText('Split amount 3'), '0.05');
    // An amount without its category is not sent.
    expect(bookSplit.disabled).toBe(true);
    await user.selectOptions(within(form).getByLabelText('Split category 3'), 'Software');
    expect(within(form).getByText('Fully split: $123.45')).toBeTruthy();
    expect(bookSplit.disabled).toBe(false);
    await user.click(bookSplit);
    await screen.findByText(/Booked 1 of 1 line\./);
    expect(bookings(sent).map((request) => [request.path, request.body])).toEqual([
      [
        '/bank-lines/b3/book',
        {
          splits: [
            { accountId: 'supplies', amountCents: -10_010 },
            { accountId: 'software', amountCents: -2_330 },
            { accountId: 'software', amountCents: -5 },
          ],
        },
      ],
    ]);
    await waitFor(() => expect(screen.queryByRole('form', { name: 'Split STAPLES of 2026-11-04' })).toBeNull());
  });
});
