import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { sumCents } from '../../../lib/money';

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

// ---- LLC ↔ owner flows by kind ----

export interface InterEntityTransfer {
  id: string;
  classification: string;
  fromEntityId: string;
  toEntityId: string;
  amountCents: number;
  currency: string;
  postedOn: string;
  reversal: { createdAt: string } | null;
}

export const CLASSIFICATION_NAMES: Record<string, string> = {
  capital_contribution: 'Capital contributions',
  owner_draw: 'Owner draws',
  loan: 'Loans',
  loan_repayment: 'Loan repayments',
  reimbursement: 'Reimbursable expenses',
  reimbursement_payment: 'Reimbursements paid',
};

export const useTransfers = (entityId: string) =>
  useQuery({
    queryKey: ['transfers', entityId],
    queryFn: () => api.get<{ items: InterEntityTransfer[] }>(`/entities/${entityId}/transfers`).then((data) => data.items),
  });

export interface KindFlow {
  classification: string;
  /** Out of these books into the other entity's, or into these books. */
  direction: 'out' | 'in';
  counterpartyEntityId: string;
  count: number;
  totalCents: number;
}

/**
 * The period's money across the veil, per classification and direction, seen from one entity: reversed transfers
 * are left out (their reversal undid them), and only the entity's currency is added up.
 */
export function flowsByKind(transfers: readonly InterEntityTransfer[], entityId: string, currency: string, fromOn: string, toOn: string): KindFlow[] {
  const flows = new Map<string, KindFlow>();
  for (const transfer of transfers) {
    if (transfer.reversal !== null || transfer.currency !== currency || transfer.postedOn < fromOn || transfer.postedOn > toOn) continue;
    const direction = transfer.fromEntityId === entityId ? 'out' : transfer.toEntityId === entityId ? 'in' : null;
    if (direction === null) continue;
    const counterpartyEntityId = direction === 'out' ? transfer.toEntityId : transfer.fromEntityId;
    const key = `${transfer.classification}:${direction}:${counterpartyEntityId}`;
    const flow = flows.get(key) ?? { classification: transfer.classification, direction, counterpartyEntityId, count: 0, totalCents: 0 };
    flow.count += 1;
    flow.totalCents = sumCents([flow.totalCents, transfer.amountCents]);
    flows.set(key, flow);
  }
  const order = Object.keys(CLASSIFICATION_NAMES);
  return [...flows.values()].sort((a, b) => order.indexOf(a.classification) - order.indexOf(b.classification) || a.direction.localeCompare(b.direction));
}
