import { describe, expect, it } from 'vitest';
import { toSankeyData } from './money-flow';

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
