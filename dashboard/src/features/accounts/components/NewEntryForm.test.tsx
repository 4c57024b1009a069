import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Account } from '../../../lib/types';
import { NewEntryForm } from './NewEntryForm';

const account = (id: string, name: string, accountClass: Account['class']): Account => ({
  id,
  entityId: 'llc',
  name,
  code: null,
  class: accountClass,
  kind: accountClass === 'asset' ? 'checking' : 'expense_category',
  currency: 'USD',
  counterpartyEntityId: null,
  balanceCents: 0,
  naturalBalanceCents: 0,
  archivedAt: null,
  createdAt: '2026-01-01T00:00:00Z',
});

const ACCOUNTS = [account('checking', 'Business Checking', 'asset'), account('supplies', 'Office Supplies', 'expense')];

function renderForm() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <NewEntryForm entityId="llc" accounts={ACCOUNTS} />
    </QueryClientProvider>,
  );
}

async function fillEntry(user: ReturnType<typeof userEvent.setup>, credit: string) {
  await user.type(screen.getByLabelText('Description'), 'Printer paper');
  await user.selectOptions(screen.getByLabelText('Account, line 1'), 'Office Supplies');
  await user.type(screen.getByLabelText('Debit, line 1'), '12.34');
  await user.selectOptions(screen.getByLabelText('Account, line 2'), 'Business Checking');
  await user.type(screen.getByLabelText('Credit, line 2'), credit);
}

afterEach(() => vi.unstubAllGlobals());

describe('NewEntryForm', () => {
  it('shows how far the entry is out of balance and will not send it until it balances', async () => {
    const fetch = vi.fn();
    vi.stubGlobal('fetch', fetch);
    const user = userEvent.setup();
    renderForm();
    await fillEntry(user, '12.30');
    expect(screen.getByText('Out of balance by +$0.04')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Book entry' }) as HTMLButtonElement).disabled).toBe(true);
    await user.type(screen.getByLabelText('Credit, line 2'), '{Backspace}4');
    expect(screen.getByText('Balanced: $12.34')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Book entry' }) as HTMLButtonElement).disabled).toBe(false);
    expect(fetch).not.toHaveBeenCalled();
  });

  it('sends integer cents with an Idempotency-Key, and keeps what was typed when the ledger refuses it', async () => {
    const fetch = vi.fn(
      async () => new Response(JSON.stringify({ error: { code: 'posted_on_out_of_range', message: 'the date is outside the books' } }), { status: 422 }),
    );
    vi.stubGlobal('fetch', fetch);
    const user = userEvent.setup();
    renderForm();
    await fillEntry(user, '12.34');
    await user.click(screen.getByRole('button', { name: 'Book entry' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('the date is outside the books');
    expect(alert.textContent).toContain('posted_on_out_of_range');
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/entities/llc/entries');
    expect(JSON.parse(init.body as string).postings).toEqual([
      { accountId: 'supplies', amountCents: 1234 },
      { accountId: 'checking', amountCents: -1234 },
    ]);
    const firstKey = (init.headers as Record<string, string>)['idempotency-key'];
    expect(firstKey).toMatch(/[0-9a-f-]{36}/);
    expect((screen.getByLabelText('Description') as HTMLInputElement).value).toBe('Printer paper');
    // A retry of the same submission reuses its key, so the ledger can never book it twice.
    await user.click(screen.getByRole('button', { name: 'Book entry' }));
    await waitFor(() => expect(fetch).toHaveBeenCalledTimes(2));
    expect(((fetch.mock.calls[1] as unknown as [string, RequestInit])[1].headers as Record<string, string>)['idempotency-key']).toBe(firstKey);
  });

  it('flags an amount that is not dollars and cents', async () => {
    vi.stubGlobal('fetch', vi.fn());
    const user = userEvent.setup();
    renderForm();
    await user.type(screen.getByLabelText('Debit, line 1'), '1.234');
    expect(screen.getByText('An amount is not a number of dollars and cents.')).toBeTruthy();
  });
});
