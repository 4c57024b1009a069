import { useQueries, useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { monthBounds, shiftMonth } from '../../../lib/dates';
import type { Account, Entry, Page } from '../../../lib/types';

export interface Balances {
  entityId: string;
  asOfOn: string | null;
  accounts: Account[];
  totalCentsByCurrency: Record<string, number>;
}

export interface VeilHealth {
  entityId: string;
  fromOn: string;
  toOn: string;
  score: number;
  reasons: string[];
  findings: { code: string; message: string; amountCents: number }[];
}

export interface Consolidated {
  entityIds: string[];
  fromOn: string;
  toOn: string;
  perEntity: { entityId: string; name: string; kind: string; netWorthCentsByCurrency: Record<string, number> }[];
  byCurrency: Record<string, { netWorthCents: number; netIncomeCents: number; cashFlowCents: number; eliminatedCents: number; eliminatedAccounts: number }>;
}

export const useBalances = (entityId: string) =>
  useQuery({ queryKey: ['balances', entityId], queryFn: () => api.get<Balances>(`/entities/${entityId}/balances`) });

export const useVeilHealthSummary = (entityId: string) =>
  useQuery({ queryKey: ['veil-health', entityId], queryFn: () => api.get<VeilHealth>(`/entities/${entityId}/veil-health`) });

export const useRecentEntries = (entityId: string) =>
  useQuery({ queryKey: ['entries', entityId, 'recent'], queryFn: () => api.get<Page<Entry>>(`/entities/${entityId}/entries`, { limit: 8 }) });

export const useConsolidated = (entityIds: string[]) =>
  useQuery({
    queryKey: ['consolidated', ...entityIds],
    queryFn: () => api.get<Consolidated>('/consolidated', { entityIds: entityIds.join(',') }),
    enabled: entityIds.length > 0,
  });

/** Balances as of each of the last `months` month ends: the net worth history. */
export function useNetWorthHistory(entityId: string, currentMonth: string, months = 6) {
  const monthsShown = Array.from({ length: months }, (_, index) => shiftMonth(currentMonth, index - months + 1));
  return useQueries({
    queries: monthsShown.map((month) => ({
      queryKey: ['balances', entityId, 'asOf', month],
      queryFn: () => api.get<Balances>(`/entities/${entityId}/balances`, { asOf: monthBounds(month).toOn }),
    })),
    combine: (results) => ({
      isLoading: results.some((result) => result.isLoading),
      error: results.find((result) => result.error)?.error ?? null,
      points: results.every((result) => result.data)
        ? monthsShown.map((month, index) => ({ month, netWorthCents: netWorthCents(results[index]?.data?.accounts ?? []) }))
        : [],
    }),
  });
}

/** Assets less liabilities: the debit-positive balances of both classes added up (liabilities are negative). */
export function netWorthCents(accounts: readonly Account[]): number {
  let total = 0;
  for (const account of accounts) if (account.class === 'asset' || account.class === 'liability') total += account.balanceCents;
  return total;
}
