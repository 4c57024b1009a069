import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

// Contract of the money-flow endpoint (built in parallel on the ledger).
export interface MoneyFlow {
  nodes: { id: string; name: string; kind: string }[];
  links: { source: string; target: string; valueCents: number }[];
}

export const useMoneyFlow = (entityId: string, from: string, to: string) =>
  useQuery({
    queryKey: ['money-flow', entityId, from, to],
    queryFn: () => api.get<MoneyFlow>(`/entities/${entityId}/money-flow`, { from, to }),
    retry: false,
  });

/** Recharts' Sankey wants node indexes and a numeric value; ids that name no node are dropped, not guessed. */
export function toSankeyData(flow: MoneyFlow) {
  const index = new Map(flow.nodes.map((node, position) => [node.id, position]));
  const links = flow.links
    .filter((link) => link.valueCents > 0 && index.has(link.source) && index.has(link.target) && link.source !== link.target)
    .map((link) => ({ source: index.get(link.source) as number, target: index.get(link.target) as number, value: link.valueCents }));
  return { nodes: flow.nodes.map((node) => ({ name: node.name, kind: node.kind })), links };
}
