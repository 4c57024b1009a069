import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import type { Account, Entry, Page } from '../../../lib/types';

export interface EntryFilters {
  accountId?: string;
  q?: string;
  from?: string;
  to?: string;
  source?: string;
}

export const PAGE_SIZE = 25;

export const useAccounts = (entityId: string) =>
  useQuery({
    queryKey: ['balances', entityId],
    queryFn: () => api.get<{ accounts: Account[] }>(`/entities/${entityId}/balances`),
    select: (data) => data.accounts,
  });

export function useEntries(entityId: string, filters: EntryFilters) {
  return useInfiniteQuery({
    queryKey: ['entries', entityId, filters],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) =>
      api.get<Page<Entry>>(`/entities/${entityId}/entries`, { ...filters, limit: PAGE_SIZE, cursor: pageParam }, signal),
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
}

export interface NewEntry {
  postedOn: string;
  description: string;
  postings: { accountId: string; amountCents: number; memo?: string }[];
}

/** Everything that shows a balance or an entry is stale after a booking. */
function invalidateBooks(queryClient: ReturnType<typeof useQueryClient>) {
  for (const key of ['balances', 'entries', 'veil-health', 'consolidated', 'transfers', 'reports']) {
    void queryClient.invalidateQueries({ queryKey: [key] });
  }
}

export function useBookEntry(entityId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ entry, idempotencyKey }: { entry: NewEntry; idempotencyKey: string }) =>
      api.post<Entry>(`/entities/${entityId}/entries`, entry, { idempotencyKey }),
    onSuccess: () => invalidateBooks(queryClient),
  });
}

export function useReverseEntry() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ entryId, description }: { entryId: string; description?: string }) =>
      api.post<Entry>(`/entries/${entryId}/reverse`, description ? { description } : {}, { idempotencyKey: `reverse-${entryId}` }),
    onSuccess: () => invalidateBooks(queryClient),
  });
}
