import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

// Contract of the bills endpoints (built in parallel on the ledger).
export interface Occurrence {
  billId: string;
  billName: string;
  payee: string;
  dueOn: string;
  amountCents: number;
  status: string;
  autopay: boolean;
  entryId: string | null;
}

export const useOccurrences = (entityId: string, from: string, to: string) =>
  useQuery({
    queryKey: ['bills', entityId, from, to],
    queryFn: () => api.get<{ occurrences: Occurrence[] }>(`/entities/${entityId}/bill-occurrences`, { from, to }).then((data) => data.occurrences),
    retry: false,
    // The calendar stays on screen (and keeps the keyboard focus) while the next month loads.
    placeholderData: keepPreviousData,
  });

export function usePayOccurrence() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ billId, dueOn }: { billId: string; dueOn: string }) =>
      api.post<unknown>(`/bills/${billId}/occurrences/${dueOn}/pay`, {}, { idempotencyKey: `pay-${billId}-${dueOn}` }),
    onSuccess: () => {
      for (const key of ['bills', 'balances', 'entries', 'budget']) void queryClient.invalidateQueries({ queryKey: [key] });
    },
  });
}
