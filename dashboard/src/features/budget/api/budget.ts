import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

// Contract of the budget endpoints (built in parallel on the ledger).
export interface Envelope {
  id: string;
  name: string;
  carriedOverCents: number;
  assignedCents: number;
  activityCents: number;
  availableCents: number;
  target: unknown;
  underfundedCents: number;
}

export interface BudgetMonth {
  month: string;
  readyToAssignCents: number;
  groups: { id: string; name: string; envelopes: Envelope[] }[];
}

export const useBudgetMonth = (entityId: string, month: string) =>
  useQuery({ queryKey: ['budget', entityId, month], queryFn: () => api.get<BudgetMonth>(`/entities/${entityId}/budget/${month}`), retry: false });

export function useAssign(entityId: string, month: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { envelopeId: string; amountCents: number }) => api.post<unknown>(`/entities/${entityId}/budget/${month}/assign`, input),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['budget', entityId] }),
  });
}

export function useMoveMoney(entityId: string, month: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { fromEnvelopeId: string; toEnvelopeId: string; amountCents: number }) =>
      api.post<unknown>(`/entities/${entityId}/budget/${month}/move`, input),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['budget', entityId] }),
  });
}
