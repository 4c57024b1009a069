import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatCents } from '../../../lib/money';
import { mockLedger, renderPage, type SentRequest } from '../../../test-utils';
import { ExecutionsPage } from './ExecutionsPage';

const EXEC_LIVE = { executionId: '4711', firstAt: '2026-11-20T10:00:00.000Z', lastAt: '2026-11-20T10:00:05.000Z', actionCount: 3, entryCount: 2, transferCount: 1, rolledBack: false };
const EXEC_OLD = { executionId: '4700', firstAt: '2026-11-19T09:00:00.000Z', lastAt: '2026-11-19T09:00:01.000Z', actionCount: 1, entryCount: 1, transferCount: 0, rolledBack: true };

function detail(rolledBack: boolean) {
  return {
    executionId: '4711',
    rolledBack,
    items: [
      { kind: 'entry', id: 'e1', entityId: 'l1', postedOn: '2026-11-20', description: 'Figma subscription', amountCents: 1500, createdAt: EXEC_LIVE.firstAt, reversedById: rolledBack ? 'r1' : null },
      { kind: 'entry', id: 'e2', entityId: 'l1', postedOn: '2026-11-20', description: 'Stripe payout', amountCents: 123456, createdAt: EXEC_LIVE.firstAt, reversedById: 'r0' },
      { kind: 'transfer', id: 't1', entityId: 'l1', postedOn: '2026-11-20', description: 'Owner draw', amountCents: 25000, createdAt: EXEC_LIVE.lastAt, reversedById: rolledBack ? 'r2' : null },
    ],
  };
}

afterEach(() => vi.unstubAllGlobals());

/** The ledger of the contract: a rollback flips the execution to rolled back. */
function executionsLedger(rollback: (request: SentRequest) => { status?: number; body?: unknown }) {
  let rolledBack = false;
  return mockLedger((request) => {
    if (request.method === 'GET' && request.path === '/executions') return { body: { items: [{ ...EXEC_LIVE, rolledBack }, EXEC_OLD] } };
    if (request.method === 'GET' && request.path === '/executions/4711') return { body: detail(rolledBack) };
    if (request.method === 'POST' && request.path === '/executions/4711/rollback') {
      const answer = rollback(request);
      if ((answer.status ?? 200) < 300) rolledBack = true;
      return answer;
    }
    return undefined;
  });
}

describe('ExecutionsPage', () => {
  it("lists the selected books' executions with their counts, and shows what one posted", async () => {
    const sent = executionsLedger(() => ({ status: 500 }));
    const user = userEvent.setup();
    renderPage(<ExecutionsPage />);
    const table = await screen.findByRole('table', { name: 'Workflow executions' });
    const list = sent.find((request) => request.path === '/executions');
    expect(list?.query.get('entityId')).toBe('l1');
    expect(Number(list?.query.get('limit'))).toBeGreaterThan(0);
    const live = within(table).getByRole('row', { name: /4711/ });
    expect(live.textContent).toContain('2 entries, 1 transfer');
    expect(within(live).getByRole('button', { name: 'Roll back execution 4711' })).toBeTruthy();
    const old = within(table).getByRole('row', { name: /4700/ });
    expect(old.textContent).toContain('1 entry, 0 transfers');
    expect(old.textContent).toContain('rolled back');
    expect(within(old).queryByRole('button', { name: /Roll back/ })).toBeNull();

    await user.click(within(live).getByRole('button', { name: '4711' }));
    const items = await screen.findByRole('table', { name: 'What execution 4711 posted' });
    expect(within(items).getByRole('row', { name: /Figma subscription/ }).textContent).toContain(formatCents(1500));
    expect(within(items).getByRole('row', { name: /Stripe payout/ }).textContent).toContain('reversed');
    expect(within(items).getByRole('row', { name: /Owner draw/ }).textContent).toContain('Transfer');
  });

  it('rolls an execution back once confirmed, with an Idempotency-Key, and reports what was reversed', async () => {
    const sent = executionsLedger(() => ({
      body: { executionId: '4711', reversed: [{ kind: 'entry', id: 'e1', reversalId: 'r1' }, { kind: 'transfer', id: 't1', reversalId: 'r2' }], alreadyReversed: [{ kind: 'entry', id: 'e2' }] },
    }));
    const confirm = vi.fn().mockReturnValueOnce(false).mockReturnValue(true);
    vi.stubGlobal('confirm', confirm);
    const user = userEvent.setup();
    renderPage(<ExecutionsPage />);
    const button = await screen.findByRole('button', { name: 'Roll back execution 4711' });
    await user.click(button);
    expect(sent.some((request) => request.method === 'POST')).toBe(false);
    await user.click(button);
    const status = await screen.findByText(/Rolled back execution 4711/);
    expect(status.textContent).toContain('2 items reversed, 1 already reversed before');
    const posts = sent.filter((request) => request.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]?.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    // The list is read again and the execution now shows as rolled back, with every item reversed.
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Roll back execution 4711' })).toBeNull());
    const items = await screen.findByRole('table', { name: 'What execution 4711 posted' });
    await waitFor(() => expect(within(items).getByRole('row', { name: /Figma subscription/ }).textContent).toContain('reversed'));
  });

  it("shows the ledger's error code when a rollback is refused", async () => {
    executionsLedger(() => ({ status: 409, body: { error: { code: 'execution_rollback_conflict', message: 'an entry of this execution is in a closed period' } } }));
    vi.stubGlobal('confirm', () => true);
    const user = userEvent.setup();
    renderPage(<ExecutionsPage />);
    await user.click(await screen.findByRole('button', { name: 'Roll back execution 4711' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('an entry of this execution is in a closed period');
    expect(alert.textContent).toContain('execution_rollback_conflict');
    expect(screen.getByRole('button', { name: 'Roll back execution 4711' })).toBeTruthy();
  });

  it('says so when no workflow has posted, and asks for one set of books in the consolidated view', async () => {
    mockLedger((request) => (request.path === '/executions' ? { body: { items: [] } } : undefined));
    const first = renderPage(<ExecutionsPage />);
    await screen.findByText('No workflow has posted to these books yet.');
    first.unmount();
    renderPage(<ExecutionsPage />, 'consolidated');
    await screen.findByText(/Workflow executions belong to one set of books/);
  });
});
