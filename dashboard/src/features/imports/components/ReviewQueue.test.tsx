import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mockLedger, renderPage } from '../../../test-utils';
import { ImportsPage } from './ImportsPage';

afterEach(() => vi.unstubAllGlobals());

const line = (id: string, source: string, postedOn: string, payee: string, status = 'unmatched', statusReason: string | null = null) => ({
  id,
  entityId: 'l1',
  accountId: 'a-check',
  currency: 'USD',
  source,
  externalId: id,
  postedOn,
  amountCents: -4217,
  payee,
  memo: null,
  pending: false,
  status,
  statusReason,
  entryId: null,
  createdAt: '',
});

describe('ReviewQueue', () => {
  it('shows each line beside the one it may duplicate with the reason, and decides it only with a reason', async () => {
    let decided = false;
    const sent = mockLedger((request) => {
      if (request.path === '/entities/l1/balances') return { body: { accounts: [] } };
      if (request.path === '/entities/l1/rules') return { body: { items: [] } };
      if (request.path === '/entities/l1/review-queue') {
        return {
          body: {
            items: decided
              ? []
              : [{ line: line('n1', 'csv', '2026-11-04', 'ADOBE CREATIVE CLOUD', 'review', 'possible duplicate of a manual line of 2026-11-03'), reviewOf: line('m1', 'manual', '2026-11-03', 'Adobe Creative Cloud') }],
          },
        };
      }
      if (request.method === 'POST' && request.path === '/bank-lines/n1/review') {
        decided = true;
        return { body: line('n1', 'csv', '2026-11-04', 'ADOBE CREATIVE CLOUD', 'ignored') };
      }
      return undefined;
    });
    const user = userEvent.setup();
    renderPage(<ImportsPage />);
    const queue = await screen.findByRole('table', { name: 'Lines waiting for review' });
    const row = within(queue).getByRole('row', { name: /ADOBE CREATIVE CLOUD/ });
    expect(row.textContent).toContain('2026-11-03 · Adobe Creative Cloud');
    expect(row.textContent).toContain('possible duplicate of a manual line of 2026-11-03');
    const reject = within(row).getByRole('button', { name: 'Reject ADOBE CREATIVE CLOUD of 2026-11-04' });
    expect(reject).toHaveProperty('disabled', true);
    await user.type(within(row).getByLabelText('Reason for ADOBE CREATIVE CLOUD of 2026-11-04'), '  typed by hand too  ');
    await user.click(reject);
    await screen.findByText('Rejected ADOBE CREATIVE CLOUD of 2026-11-04.');
    const decision = sent.find((request) => request.method === 'POST');
    expect(decision?.body).toEqual({ decision: 'reject', reason: 'typed by hand too' });
    expect(decision?.headers['idempotency-key']).toBeTruthy();
    await waitFor(() => expect(screen.getByText('Nothing to review.')).toBeTruthy());
  });
});
