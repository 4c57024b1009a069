import { describe, expect, it } from 'vitest';
import { flowsByKind, toSankeyData } from './money-flow';

describe('toSankeyData', () => {
  it('maps ids to node indexes and keeps the cents as the link value', () => {
    const data = toSankeyData({
      nodes: [
        { id: 'income', name: 'Client Revenue', kind: 'income' },
        { id: 'rent', name: 'Rent', kind: 'envelope' },
        { id: 'owner', name: 'Owner draws', kind: 'owner' },
      ],
      links: [
        { source: 'income', target: 'rent', valueCents: 150_000 },
        { source: 'income', target: 'owner', valueCents: 600_000 },
      ],
    });
    expect(data.nodes.map((node) => node.name)).toEqual(['Client Revenue', 'Rent', 'Owner draws']);
    expect(data.links).toEqual([
      { source: 0, target: 1, value: 150_000 },
      { source: 0, target: 2, value: 600_000 },
    ]);
  });

  it('leaves out of the drawing a link that would close a cycle, and says so', () => {
    const data = toSankeyData({
      nodes: [
        { id: 'llc', name: 'LLC', kind: 'entity' },
        { id: 'owner', name: 'Owner', kind: 'entity' },
      ],
      links: [
        { source: 'llc', target: 'owner', valueCents: 600_000 },
        { source: 'owner', target: 'llc', valueCents: 500_000 },
      ],
    });
    expect(data.links).toEqual([{ source: 0, target: 1, value: 600_000 }]);
    expect(data.omitted).toEqual([{ source: 'owner', target: 'llc', valueCents: 500_000 }]);
  });

  it('drops links that name no node, loop on themselves or carry nothing', () => {
    const data = toSankeyData({
      nodes: [{ id: 'a', name: 'A', kind: 'income' }],
      links: [
        { source: 'a', target: 'missing', valueCents: 5 },
        { source: 'a', target: 'a', valueCents: 5 },
        { source: 'a', target: 'a', valueCents: 0 },
      ],
    });
    expect(data.links).toEqual([]);
  });
});

describe('flowsByKind', () => {
  const transfer = (id: string, classification: string, from: string, to: string, amountCents: number, postedOn: string, reversed = false, currency = 'USD') => ({
    id,
    classification,
    fromEntityId: from,
    toEntityId: to,
    amountCents,
    currency,
    postedOn,
    reversal: reversed ? { createdAt: '2026-11-20T00:00:00Z' } : null,
  });

  it('adds up each kind and direction in the period, leaving out reversed transfers and other currencies', () => {
    const flows = flowsByKind(
      [
        transfer('t1', 'owner_draw', 'llc', 'me', 600_000, '2026-10-15'),
        transfer('t2', 'owner_draw', 'llc', 'me', 600_001, '2026-11-15'),
        transfer('t3', 'owner_draw', 'llc', 'me', 999_999, '2026-11-16', true),
        transfer('t4', 'capital_contribution', 'me', 'llc', 500_000, '2026-11-01'),
        transfer('t5', 'loan_repayment', 'llc', 'me', 42_981, '2026-12-10'),
        transfer('t6', 'loan', 'me', 'llc', 1_000_000, '2026-09-30'),
        transfer('t7', 'owner_draw', 'llc', 'me', 100, '2026-11-02', false, 'EUR'),
      ],
      'llc',
      'USD',
      '2026-10-01',
      '2026-11-30',
    );
    expect(flows).toEqual([
      { classification: 'capital_contribution', direction: 'in', counterpartyEntityId: 'me', count: 1, totalCents: 500_000 },
      { classification: 'owner_draw', direction: 'out', counterpartyEntityId: 'me', count: 2, totalCents: 1_200_001 },
    ]);
    // The owner's side of the same transfers runs the other way.
    expect(flowsByKind([transfer('t1', 'owner_draw', 'llc', 'me', 600_000, '2026-10-15')], 'me', 'USD', '2026-10-01', '2026-10-31')[0]?.direction).toBe('in');
  });
});
