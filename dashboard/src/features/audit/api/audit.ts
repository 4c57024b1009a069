import { useInfiniteQuery, useMutation } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import type { Page } from '../../../lib/types';

export interface AuditRow {
  seq: number;
  occurredAt: string;
  actorType: string;
  actorId: string;
  executionId: string | null;
  action: string;
  entityId: string | null;
  objectType: string;
  objectId: string | null;
  requestId: string | null;
  hash: string;
}

export interface ChainVerdict {
  ok: boolean;
  checked: number;
  firstBrokenSeq: number | null;
  reason: string | null;
}

export function useAuditTrail(filters: { entityId?: string; action?: string }) {
  return useInfiniteQuery({
    queryKey: ['audit', filters],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => api.get<Page<AuditRow>>('/audit', { ...filters, limit: 50, cursor: pageParam }, signal),
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
}

export function useVerifyChain() {
  return useMutation({ mutationFn: () => api.post<ChainVerdict>('/audit/verify') });
}
