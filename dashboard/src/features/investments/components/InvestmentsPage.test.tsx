import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatCents } from '../../../lib/money';
import { mockLedger, renderPage } from '../../../test-utils';
import { InvestmentsPage, shareBasisPoints } from './InvestmentsPage';

afterEach(() => vi.unstubAllGlobals());

const YEAR = Number(new Date().toISOString().slice(0, 4));

function limit(kind: string, label: string, contributedCents: number, limitCents: number | null, standing: string, plannedCents = 0) {
  return {
    kind,
    label,
    taxYear: YEAR,
    contributedCents,
    plannedCents,
    limitCents,
    catchUpCents: 0,
    remainingCents: limitCents === null ? null : limitCents - contributedCents,
    standing,
    projectedStanding: standing,
    source: 'US-TAX-FACTS.md §5',
    warning: null,
  };
}

const PLAN = {
  plan: { id: 'plan1', name: 'Monthly IRA', limitKind: 'ira', amountCents: 50_000, rrule: 'FREQ=MONTHLY;BYMONTHDAY=15', startsOn: `${YEAR}-01-15`, fromAccountId: 'a-checking', toAccountId: 'a-ira', active: true, nextDueOn: `${YEAR}-12-15` },
  warnings: [{ code: 'contribution_limit_exceeded', year: YEAR, kind: 'ira', projectedCents: 800_000, limitCents: 750_000, firstDueOn: `${YEAR}-12-15`, message: 'planned IRA contributions go over the limit' }],
};

function investmentsLedger(overrides: { holdings?: unknown; contribute?: { status: number; body: unknown } } = {}) {
  let contributed = 675_000;
  return mockLedger((request) => {
    if (request.path === '/entities/p1/contributions/summary') {
      return { body: { taxYear: Number(request.query.get('year')), birthYear: null, limits: [limit('ira', 'IRA (traditional + Roth)', contributed, 750_000, contributed >= 675_000 ? 'near' : 'ok', 50_000), limit('sep_ira', 'SEP-IRA', 0, null, 'unknown')] } };
    }
    if (request.path === '/entities/p1/contribution-plans') return { body: { plans: [PLAN] } };
    if (request.path === '/entities/p1/balances') return { body: { accounts: [{ id: 'a-checking', name: 'Checking' }, { id: 'a-ira', name: 'Fidelity IRA' }] } };
    if (request.path === '/entities/p1/holdings') {
      return {
        body: overrides.holdings ?? {
          accounts: [
            {
              accountId: 'a-ira',
              accountName: 'Fidelity IRA',
              kind: 'retirement',
              currency: 'USD',
              balanceCents: 675_000,
              valueCents: 288_897,
              holdings: [{ accountId: 'a-ira', security: { id: 's1', ticker: 'VTI', name: 'Vanguard Total Stock Market ETF', securityType: 'etf' }, quantity: '10.125', priceCents: 28_533, valueCents: 288_897, costBasisCents: null, asOf: `${YEAR}-11-20`, source: 'plaid' }],
            },
            { accountId: 'a-brokerage', accountName: 'Brokerage', kind: 'brokerage', currency: 'USD', balanceCents: 0, valueCents: 0, holdings: [] },
          ],
        },
      };
    }
    if (request.method === 'POST' && request.path === `/contribution-plans/plan1/occurrences/${YEAR}-12-15/contribute`) {
      if (overrides.contribute) return overrides.contribute;
      contributed += 50_000;
      return { status: 201, body: {} };
    }
    return undefined;
  });
}

describe('InvestmentsPage', () => {
  it('shows contributions against each limit, the plans with their warnings, and holdings per account', async () => {
    investmentsLedger();
    renderPage(<InvestmentsPage />, 'p1');
    const limits = await screen.findByRole('table', { name: `Contributions against limits in ${YEAR}` });
    const ira = within(limits).getByRole('row', { name: /IRA \(traditional/ });
    expect(ira.textContent).toContain(formatCents(675_000));
    expect(ira.textContent).toContain(formatCents(750_000));
    expect(ira.textContent).toContain('90% or more of the limit');
    expect(within(ira).getByRole('progressbar', { name: /90.00% of the limit used/ })).toBeTruthy();
    expect(within(limits).getByRole('row', { name: /SEP-IRA/ }).textContent).toContain(`unknown for ${YEAR}`);

    const plans = await screen.findByRole('table', { name: 'Auto-contribution plans' });
    const plan = within(plans).getByRole('row', { name: /Monthly IRA/ });
    expect(plan.textContent).toContain('Checking → Fidelity IRA');
    expect(plan.textContent).toContain('planned IRA contributions go over the limit');

    const holdings = await screen.findByRole('table', { name: 'Holdings of Fidelity IRA' });
    expect(within(holdings).getByRole('row', { name: /VTI/ }).textContent).toContain(formatCents(288_897));
    expect(within(holdings).getByRole('row', { name: /VTI/ }).textContent).toContain('10.125');
    expect(screen.getByText('No holdings yet: refresh investments from the bank, or enter them.')).toBeTruthy();
  });

  it('contributes the next occurrence with an Idempotency-Key and shows the new total; a refusal shows its code', async () => {
    const sent = investmentsLedger();
    const user = userEvent.setup();
    renderPage(<InvestmentsPage />, 'p1');
    await user.click(await screen.findByRole('button', { name: `Contribute Monthly IRA of ${YEAR}-12-15` }));
    const post = sent.find((request) => request.method === 'POST');
    expect(post?.headers['idempotency-key']).toBe(`contribute-plan1-${YEAR}-12-15`);
    const limits = await screen.findByRole('table', { name: `Contributions against limits in ${YEAR}` });
    await within(limits).findByText(formatCents(725_000));

    vi.unstubAllGlobals();
    investmentsLedger({ contribute: { status: 422, body: { error: { code: 'contribution_limit_exceeded', message: 'this contribution would go over the limit' } } } });
    renderPage(<InvestmentsPage />, 'p1');
    const buttons = await screen.findAllByRole('button', { name: `Contribute Monthly IRA of ${YEAR}-12-15` });
    await user.click(buttons.at(-1) as HTMLElement);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('contribution_limit_exceeded');
  });

  it('says so when the books have no investment accounts, and shows an error from the ledger', async () => {
    investmentsLedger({ holdings: { accounts: [] } });
    renderPage(<InvestmentsPage />, 'p1');
    expect(await screen.findByText('No brokerage or retirement accounts in these books.')).toBeTruthy();
    vi.unstubAllGlobals();
    mockLedger();
    renderPage(<InvestmentsPage />, 'p1');
    expect((await screen.findAllByRole('alert')).length).toBeGreaterThan(0);
  });

  it('computes the share of a limit in integers', () => {
    expect(shareBasisPoints(675_000, 750_000)).toBe(9_000);
    expect(shareBasisPoints(1, 3)).toBe(3_333);
    expect(shareBasisPoints(5, 0)).toBe(0);
  });
});
