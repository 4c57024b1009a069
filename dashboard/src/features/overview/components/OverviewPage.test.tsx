import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mockLedger, renderPage, type SentRequest } from '../../../test-utils';
import { consolidatedSeries, netWorthRows, type ConsolidatedNetWorthHistory } from '../api/overview';
import { OverviewPage } from './OverviewPage';

afterEach(() => vi.unstubAllGlobals());

const GROUP: ConsolidatedNetWorthHistory = {
  entityIds: ['p1', 'l1'],
  fromOn: '2026-01-01',
  toOn: '2026-02-10',
  interval: 'month',
  byCurrency: {
    USD: [
      { on: '2026-01-31', netWorthCents: 1_000_00 },
      { on: '2026-02-10', netWorthCents: 1_250_50 },
    ],
  },
  perEntity: [
    {
      entityId: 'p1',
      name: 'Alex Rivera',
      kind: 'personal',
      byCurrency: {
        USD: [
          { on: '2026-01-31', netWorthCents: 600_00 },
          { on: '2026-02-10', netWorthCents: 700_00 },
        ],
      },
    },
    {
      entityId: 'l1',
      name: 'Northwind Studio LLC',
      kind: 'llc',
      byCurrency: {
        USD: [
          { on: '2026-01-31', netWorthCents: 900_00 },
          { on: '2026-02-10', netWorthCents: 1_050_50 },
        ],
      },
    },
  ],
};

describe('net worth rows', () => {
  it('puts each series under its key per point, in date order, leaving missing points absent', () => {
    expect(
      netWorthRows([
        {
          key: 'a',
          name: 'A',
          points: [
            { on: '2026-02-28', netWorthCents: 5 },
            { on: '2026-01-31', netWorthCents: -3 },
          ],
        },
        { key: 'b', name: 'B', points: [{ on: '2026-02-28', netWorthCents: 7 }] },
      ]),
    ).toEqual([
      { on: '2026-01-31', a: -3 },
      { on: '2026-02-28', a: 5, b: 7 },
    ]);
    expect(consolidatedSeries(GROUP, 'USD').map((series) => series.name)).toEqual(['Consolidated', 'Alex Rivera (personal)', 'Northwind Studio LLC (LLC)']);
    expect(consolidatedSeries(GROUP, 'EUR').map((series) => series.points.length)).toEqual([0]);
  });
});

const empty = { items: [] };
function ledgerRoutes(request: SentRequest) {
  if (request.path === '/entities/l1/balances') return { body: { entityId: 'l1', asOfOn: null, accounts: [], totalCentsByCurrency: {} } };
  if (request.path === '/entities/l1/veil-health') return { body: { entityId: 'l1', fromOn: '', toOn: '', score: 100, reasons: ['clean'], findings: [] } };
  if (request.path === '/entities/l1/entries') return { body: { ...empty, nextCursor: null } };
  if (request.path === '/consolidated') return { body: { entityIds: ['p1', 'l1'], fromOn: '2026-01-01', toOn: '2026-02-10', perEntity: [], byCurrency: {} } };
  if (request.path === '/entities/l1/balance-history') {
    const daily = request.query.get('interval') === 'day';
    return {
      body: {
        entityId: 'l1',
        fromOn: daily ? '2026-02-09' : '2026-01-01',
        toOn: '2026-02-10',
        interval: daily ? 'day' : 'month',
        byCurrency: {
          USD: daily
            ? [
                { on: '2026-02-09', netWorthCents: 1_040_00 },
                { on: '2026-02-10', netWorthCents: 1_050_50 },
              ]
            : [
                { on: '2026-01-31', netWorthCents: 900_00 },
                { on: '2026-02-10', netWorthCents: 1_050_50 },
              ],
        },
      },
    };
  }
  if (request.path === '/consolidated/balance-history') return { body: GROUP };
  return undefined;
}

describe('Overview: net worth over time', () => {
  it('draws one entity from its balance history, and asks for daily points when told', async () => {
    const sent = mockLedger(ledgerRoutes);
    const user = userEvent.setup();
    renderPage(
      <MemoryRouter>
        <OverviewPage />
      </MemoryRouter>,
    );
    const table = await screen.findByRole('table', { name: /Net worth at the end of each month, 2026-01-01 to 2026-02-10/ });
    expect(
      within(table)
        .getAllByRole('row')
        .map((row) => row.textContent),
    ).toEqual(['Month endNet worth', '2026-01-31$900.00', '2026-02-10$1,050.50']);
    await user.selectOptions(screen.getByLabelText('Window'), 'day');
    const daily = await screen.findByRole('table', { name: /end of each day/ });
    expect(within(daily).getAllByRole('row')[1]?.textContent).toBe('2026-02-09$1,040.00');
    const asked = sent.filter((request) => request.path === '/entities/l1/balance-history').map((request) => request.query.get('interval'));
    expect(asked).toEqual(['month', 'day']);
    // The history comes from the one endpoint, not from a balances request per month.
    expect(sent.filter((request) => request.path === '/entities/l1/balances')).toHaveLength(1);
  });

  it('draws the consolidated line and each entity’s line in the consolidated view', async () => {
    const sent = mockLedger(ledgerRoutes);
    renderPage(
      <MemoryRouter>
        <OverviewPage />
      </MemoryRouter>,
      'consolidated',
    );
    const table = await screen.findByRole('table', { name: /Net worth in USD, consolidated/ });
    const [header, ...rows] = within(table).getAllByRole('row');
    expect(header?.textContent).toBe('Month endConsolidatedAlex Rivera (personal)Northwind Studio LLC (LLC)');
    expect(rows.map((row) => row.textContent)).toEqual(['2026-01-31$1,000.00$600.00$900.00', '2026-02-10$1,250.50$700.00$1,050.50']);
    const request = sent.find((candidate) => candidate.path === '/consolidated/balance-history');
    expect(request?.query.get('entityIds')?.split(',').sort()).toEqual(['l1', 'p1']);
  });
});
