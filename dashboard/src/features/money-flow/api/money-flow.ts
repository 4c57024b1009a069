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

/**
 * Recharts' Sankey wants node indexes and a numeric value, and a graph without cycles (its layout does not end on
 * one). Ids that name no node are dropped, not guessed; a link that would close a cycle (money back from the owner
 * to the LLC, say) is left out of the drawing and returned in `omitted` for the table beside it.
 */
export function toSankeyData(flow: MoneyFlow) {
  const index = new Map(flow.nodes.map((node, position) => [node.id, position]));
  const outgoing = new Map<number, number[]>();
  const reaches = (from: number, to: number): boolean => {
    const seen = new Set<number>();
    const stack = [from];
    while (stack.length > 0) {
      const at = stack.pop() as number;
      if (at === to) return true;
      if (seen.has(at)) continue;
      seen.add(at);
      stack.push(...(outgoing.get(at) ?? []));
    }
    return false;
  };
  const links: { source: number; target: number; value: number }[] = [];
  const omitted: MoneyFlow['links'] = [];
  for (const link of flow.links) {
    const source = index.get(link.source);
    const target = index.get(link.target);
    if (link.valueCents <= 0 || source === undefined || target === undefined) continue;
    if (source === target || reaches(target, source)) {
      omitted.push(link);
      continue;
    }
    outgoing.set(source, [...(outgoing.get(source) ?? []), target]);
    links.push({ source, target, value: link.valueCents });
  }
  return { nodes: flow.nodes.map((node) => ({ name: node.name, kind: node.kind })), links, omitted };
}
