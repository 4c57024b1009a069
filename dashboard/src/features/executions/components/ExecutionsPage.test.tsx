import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatCents } from '../../../lib/money';
import { mockLedger, renderPage, type SentRequest } from '../../../test-utils';
import { ExecutionsPage } from './ExecutionsPage';

const NOT_FAILED = { failedAt: null, errorMessage: null };
const EXEC_LIVE = { executionId: '4711', workflowId: 'wfDraw01', workflowName: 'Veil: monthly owner draw', status: 'succeeded', ...NOT_FAILED, firstAt: '2026-11-20T10:00:00.000Z', lastAt: '2026-11-20T10:00:05.000Z', actionCount: 3, entryCount: 2, transferCount: 1, rolledBack: false };
const EXEC_OLD = { executionId: '4700', workflowId: null, workflowName: null, status: 'rolled_back', ...NOT_FAILED, firstAt: '2026-11-19T09:00:00.000Z', lastAt: '2026-11-19T09:00:01.000Z', actionCount: 1, entryCount: 1, transferCount: 0, rolledBack: true };
const EXEC_STUCK = { executionId: '4690', workflowId: 'wfSweep1', workflowName: 'Veil: savings sweep', status: 'running', ...NOT_FAILED, firstAt: '2026-11-18T09:00:00.000Z', lastAt: '2026-11-18T09:00:01.000Z', actionCount: 1, entryCount: 1, transferCount: 0, rolledBack: false };
const EXEC_FAILED = { executionId: '4680', workflowId: 'wfSweep1', workflowName: 'Veil: savings sweep', status: 'failed', failedAt: '2026-11-17T09:00:02.000Z', errorMessage: 'Bad gateway', firstAt: '2026-11-17T09:00:00.000Z', lastAt: '2026-11-17T09:00:01.000Z', actionCount: 1, entryCount: 1, transferCount: 0, rolledBack: false };

const NOTHING_ELSE = { allocations: [], budgetChanges: [], billsReopened: [] };

function detail(rolledBack: boolean) {
  return {
    executionId: '4711',
    workflowId: EXEC_LIVE.workflowId,
    workflowName: EXEC_LIVE.workflowName,
    status: rolledBack ? 'rolled_back' : 'succeeded',
    ...NOT_FAILED,
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
    if (request.method === 'GET' && request.path === '/executions') {
      return { body: { items: [{ ...EXEC_LIVE, rolledBack, status: rolledBack ? 'rolled_back' : 'succeeded' }, EXEC_OLD, EXEC_STUCK, EXEC_FAILED] } };
    }
    if (request.method === 'GET' && request.path === '/executions/4680') return { body: { ...EXEC_FAILED, items: [] } };
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
    // The workflow (name and id) and how each execution ended, as n8n reported it.
    const cells = (row: HTMLElement) => within(row).getAllByRole('cell').map((cell) => cell.textContent);
    expect(cells(live)).toContain('Veil: monthly owner draw (id wfDraw01)');
    expect(cells(live)).toContain('succeeded');
    expect(cells(old)).toContain('unknown workflow');
    expect(cells(old)).toContain('rolled back');
    const stuck = within(table).getByRole('row', { name: /4690/ });
    expect(cells(stuck)).toEqual(expect.arrayContaining(['Veil: savings sweep (id wfSweep1)', 'running']));
    const failed = within(table).getByRole('row', { name: /4680/ });
    expect(cells(failed)).toContain('failed');
    expect(within(failed).getByRole('button', { name: 'Roll back execution 4680' })).toBeTruthy();

    await user.click(within(live).getByRole('button', { name: '4711' }));
    const items = await screen.findByRole('table', { name: 'What execution 4711 posted' });
    expect(within(items).getByRole('row', { name: /Figma subscription/ }).textContent).toContain(formatCents(1500));
    expect(within(items).getByRole('row', { name: /Stripe payout/ }).textContent).toContain('reversed');
    expect(within(items).getByRole('row', { name: /Owner draw/ }).textContent).toContain('Transfer');
    const card = screen.getByRole('region', { name: 'Execution 4711' });
    expect(within(card).getByText('Workflow', { selector: 'dt' }).nextElementSibling?.textContent).toBe('Veil: monthly owner draw (id wfDraw01)');
    expect(within(card).getByText('Status', { selector: 'dt' }).nextElementSibling?.textContent).toBe('succeeded');
    expect(within(card).queryByText('Error', { selector: 'dt' })).toBeNull();

    // A failed execution says when and why.
    await user.click(within(table).getByRole('button', { name: '4680' }));
    const failedCard = await screen.findByRole('region', { name: 'Execution 4680' });
    await within(failedCard).findByText('Bad gateway');
    expect(within(failedCard).getByText('Status', { selector: 'dt' }).nextElementSibling?.textContent).toBe('failed');
    expect(within(failedCard).getByText('Failed at')).toBeTruthy();
    expect(within(failedCard).getByText('This execution posted nothing.')).toBeTruthy();
  });

  it('shows the error when the list cannot be read', async () => {
    mockLedger((request) => (request.path === '/executions' ? { status: 503, body: { error: { code: 'unavailable', message: 'the ledger is restarting' } } } : undefined));
    renderPage(<ExecutionsPage />);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('the ledger is restarting');
    expect(screen.queryByRole('table', { name: 'Workflow executions' })).toBeNull();
  });

  it('rolls an execution back once confirmed, with an Idempotency-Key, and reports what was reversed', async () => {
    const sent = executionsLedger(() => ({
      body: {
        executionId: '4711',
        reversed: [{ kind: 'entry', id: 'e1', reversalId: 'r1' }, { kind: 'transfer', id: 't1', reversalId: 'r2' }],
        alreadyReversed: [{ kind: 'entry', id: 'e2' }],
        ...NOTHING_ELSE,
        bankMoneyMoved: [{ kind: 'transfer', id: 't1', entryId: 'te1', bankLineId: 'bl1', accountId: 'a1', postedOn: '2026-11-21', amountCents: -25000, status: 'matched' }],
      },
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
    // The money the bank already moved is listed, not ignored.
    const moved = screen.getByRole('table', { name: 'Money the bank already moved for execution 4711' });
    const line = within(moved).getByRole('row', { name: /2026-11-21/ });
    expect(within(line).getAllByRole('cell').map((cell) => cell.textContent)).toEqual(['Transfer', 'matched', formatCents(-25000)]);
    expect(screen.getByText(/move it back yourself/)).toBeTruthy();
    const posts = sent.filter((request) => request.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]?.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    // The list is read again and the execution now shows as rolled back, with every item reversed.
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Roll back execution 4711' })).toBeNull());
    const items = await screen.findByRole('table', { name: 'What execution 4711 posted' });
    await waitFor(() => expect(within(items).getByRole('row', { name: /Figma subscription/ }).textContent).toContain('reversed'));
  });

  it('says the bank moved nothing when no bank line matched what was reversed, and counts budget changes and bills', async () => {
    executionsLedger(() => ({
      body: {
        executionId: '4711',
        reversed: [{ kind: 'entry', id: 'e1', reversalId: 'r1' }],
        alreadyReversed: [],
        allocations: [{ id: 'al1', entityId: 'l1', month: '2026-11', amountCents: 300000, reversedNow: true }],
        budgetChanges: [{ kind: 'move', id: 'm1', entityId: 'l1', month: '2026-11', fromEnvelopeId: 'v1', toEnvelopeId: 'v2', amountCents: 500, reversedNow: true }],
        billsReopened: [{ billId: 'b1', entityId: 'l1', dueOn: '2026-11-15', entryId: 'e1' }],
        bankMoneyMoved: [],
      },
    }));
    vi.stubGlobal('confirm', () => true);
    const user = userEvent.setup();
    renderPage(<ExecutionsPage />);
    await user.click(await screen.findByRole('button', { name: 'Roll back execution 4711' }));
    const status = await screen.findByRole('status');
    expect(status.textContent).toBe('Rolled back execution 4711: 1 item reversed; 2 budget changes taken back; 1 bill due again.');
    const bank = screen.getByRole('region', { name: 'Bank money already moved' });
    expect(within(bank).getByText(/The bank had moved no money/)).toBeTruthy();
    expect(within(bank).queryByRole('table')).toBeNull();
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
