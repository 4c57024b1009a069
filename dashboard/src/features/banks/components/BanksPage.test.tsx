import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mockLedger, renderPage } from '../../../test-utils';
import type { PlaidItem } from '../api/banks';
import { BanksPage, describeSync } from './BanksPage';

afterEach(() => vi.unstubAllGlobals());

const ACCOUNT = { id: 'pa1', accountId: 'a1', name: 'Plaid Checking', mask: '0000', type: 'depository', subtype: 'checking', kind: 'checking', currency: 'USD', currentCents: 110_00, availableCents: 100_00 };
const HEALTHY: PlaidItem = { id: 'i1', entityId: 'l1', institutionId: 'ins_1', institutionName: 'Tartan Bank', status: 'healthy', error: null, lastSyncedAt: null, createdAt: '', accounts: [ACCOUNT] };
const BROKEN: PlaidItem = {
  ...HEALTHY,
  id: 'i2',
  institutionName: 'Platypus Bank',
  status: 'login_required',
  error: { code: 'ITEM_LOGIN_REQUIRED', type: 'ITEM_ERROR', message: 'the login details of this item have changed' },
};
const SYNC = { itemId: 'i1', added: 12, modified: 1, removed: 0, booked: 9, pendingStored: 2, duplicates: 1, pages: 1, restarts: 0, hasMore: false, bankLines: [], bankLinesTruncated: false };

describe('describeSync', () => {
  it('says what a sync did, and when to sync again', () => {
    expect(describeSync(SYNC)).toBe('12 new, 1 changed, 0 removed; 9 booked, 2 pending, 1 duplicate');
    expect(describeSync({ ...SYNC, duplicates: 0, hasMore: true })).toBe('12 new, 1 changed, 0 removed; 9 booked, 2 pending, 0 duplicates; more to fetch: sync again');
  });
});

describe('BanksPage', () => {
  it('links a bank: a link token, the emulator’s public token, then the exchange, and lists the new item', async () => {
    let items: PlaidItem[] = [];
    const sent = mockLedger((request) => {
      if (request.path === '/entities/l1/plaid/items') return { body: { items } };
      if (request.path === '/plaid/link-token') return { status: 201, body: { linkToken: 'link-sandbox-1', expiration: '' } };
      if (request.path === '/plaid/demo/link') return { body: { publicToken: 'public-sandbox-1' } };
      if (request.path === '/plaid/items') {
        items = [HEALTHY];
        return { status: 201, body: HEALTHY };
      }
      return undefined;
    });
    const user = userEvent.setup();
    renderPage(<BanksPage />);
    await screen.findByText('No bank is linked to these books yet.');
    const form = screen.getByRole('form', { name: 'Link a bank' });
    // The LLC's books start on the business bank.
    expect((within(form).getByLabelText('Sandbox bank') as HTMLSelectElement).value).toBe('user_llc');
    await user.click(within(form).getByRole('button', { name: 'Link a bank' }));
    await screen.findByText('Linked Tartan Bank: 1 accounts.');
    const writes = sent.filter((request) => request.method === 'POST');
    expect(writes.map((request) => [request.path, request.body])).toEqual([
      ['/plaid/link-token', { entityId: 'l1' }],
      ['/plaid/demo/link', { linkToken: 'link-sandbox-1', username: 'user_llc' }],
      ['/plaid/items', { entityId: 'l1', publicToken: 'public-sandbox-1' }],
    ]);
    expect(writes[2]?.headers['idempotency-key']).toBeTruthy();
    const accounts = await screen.findByRole('table', { name: 'Accounts at Tartan Bank' });
    expect(within(accounts).getByRole('row', { name: /Plaid Checking ••0000/ }).textContent).toContain('$110.00');
  });

  it('syncs an item now and shows what the sync did', async () => {
    const sent = mockLedger((request) => {
      if (request.path === '/entities/l1/plaid/items') return { body: { items: [HEALTHY] } };
      if (request.path === '/plaid/items/i1/sync') return { body: SYNC };
      return undefined;
    });
    const user = userEvent.setup();
    renderPage(<BanksPage />);
    await user.click(await screen.findByRole('button', { name: 'Sync Tartan Bank now' }));
    await screen.findByText('Synced Tartan Bank: 12 new, 1 changed, 0 removed; 9 booked, 2 pending, 1 duplicate.');
    expect(sent.filter((request) => request.method === 'POST').map((request) => request.path)).toEqual(['/plaid/items/i1/sync']);
    expect(screen.queryByRole('button', { name: /Fix the connection/ })).toBeNull();
  });

  it('shows an item in error with its code, and fixes it in update mode, then syncs', async () => {
    let repaired = false;
    const sent = mockLedger((request) => {
      if (request.path === '/entities/l1/plaid/items') return { body: { items: [repaired ? { ...BROKEN, status: 'healthy', error: null } : BROKEN] } };
      if (request.path === '/plaid/items/i2/update-link-token') return { status: 201, body: { linkToken: 'link-sandbox-update', expiration: '' } };
      if (request.path === '/plaid/demo/link') {
        repaired = true;
        return { body: { publicToken: null } };
      }
      if (request.path === '/plaid/items/i2/sync') return { body: { ...SYNC, itemId: 'i2', added: 3 } };
      return undefined;
    });
    const user = userEvent.setup();
    renderPage(<BanksPage />);
    const note = (await screen.findByText(/the login details of this item have changed/)).closest('[role="note"]') as HTMLElement;
    expect(note.textContent).toContain('the login details of this item have changed');
    expect(note.textContent).toContain('ITEM_LOGIN_REQUIRED');
    expect(screen.getByText('login required')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Fix the connection to Platypus Bank' }));
    await screen.findByText(/^Reconnected Platypus Bank and synced: 3 new/);
    expect(sent.filter((request) => request.method === 'POST').map((request) => [request.path, request.body])).toEqual([
      ['/plaid/items/i2/update-link-token', undefined],
      ['/plaid/demo/link', { linkToken: 'link-sandbox-update' }],
      ['/plaid/items/i2/sync', undefined],
    ]);
    await waitFor(() => expect(screen.queryByRole('button', { name: /Fix the connection/ })).toBeNull());
    expect(screen.getByText('connected')).toBeTruthy();
  });

  it("shows the ledger's refusal when bank sync is off", async () => {
    mockLedger((request) => {
      if (request.path === '/entities/l1/plaid/items') return { body: { items: [] } };
      if (request.path === '/plaid/link-token') return { status: 409, body: { error: { code: 'plaid_not_configured', message: 'bank sync is off' } } };
      return undefined;
    });
    const user = userEvent.setup();
    renderPage(<BanksPage />);
    await user.click(await screen.findByRole('button', { name: 'Link a bank' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('bank sync is off');
    expect(alert.textContent).toContain('plaid_not_configured');
  });
});
