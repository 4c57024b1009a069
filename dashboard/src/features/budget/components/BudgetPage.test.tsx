import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mockLedger, renderPage } from '../../../test-utils';
import { BudgetPage } from './BudgetPage';

afterEach(() => vi.unstubAllGlobals());

const envelope = (id: string, name: string, assignedCents: number) => ({
  id,
  name,
  carriedOverCents: 0,
  assignedCents,
  activityCents: 0,
  availableCents: assignedCents,
  target: null,
  underfundedCents: 0,
});

function budgetLedger() {
  return mockLedger((request) => {
    if (request.method === 'GET' && /^\/entities\/l1\/budget\/\d{4}-\d{2}$/.test(request.path)) {
      return {
        body: {
          month: request.path.slice(-7),
          readyToAssignCents: 2_500,
          groups: [
            { id: 'g1', name: 'Operating', envelopes: [envelope('e1', 'Software', 10_000), envelope('e2', 'Contractors', 0)] },
            { id: 'g2', name: 'Reserves', envelopes: [envelope('e3', 'Taxes', 0)] },
          ],
        },
      };
    }
    if (request.method === 'POST' && request.path.endsWith('/assign')) return { body: {} };
    return undefined;
  });
}

describe('BudgetPage keyboard', () => {
  it('walks the assign fields with the arrows across groups, clears with Escape, and assigns with Enter in integer cents', async () => {
    const sent = budgetLedger();
    const user = userEvent.setup();
    renderPage(<BudgetPage />);
    const software = await screen.findByLabelText('Amount to assign to Software');
    await user.click(software);
    await user.keyboard('{ArrowDown}');
    expect(document.activeElement).toBe(screen.getByLabelText('Amount to assign to Contractors'));
    // From the last envelope of one group to the first of the next.
    await user.keyboard('{ArrowDown}');
    expect(document.activeElement).toBe(screen.getByLabelText('Amount to assign to Taxes'));
    // Nothing below the last: focus stays.
    await user.keyboard('{ArrowDown}');
    expect(document.activeElement).toBe(screen.getByLabelText('Amount to assign to Taxes'));
    await user.keyboard('99{Escape}');
    expect((screen.getByLabelText('Amount to assign to Taxes') as HTMLInputElement).value).toBe('');
    await user.keyboard('{ArrowUp}{ArrowUp}');
    expect(document.activeElement).toBe(software);
    await user.keyboard('12.34{Enter}');
    await waitFor(() => expect(sent.filter((request) => request.method === 'POST')).toHaveLength(1));
    const post = sent.find((request) => request.method === 'POST');
    expect(post?.body).toEqual({ envelopeId: 'e1', amountCents: 1_234 });
    await waitFor(() => expect((software as HTMLInputElement).value).toBe(''));
  });
});
