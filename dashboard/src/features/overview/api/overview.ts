import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
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

export type HistoryInterval = 'day' | 'month';

export interface NetWorthPoint {
  on: string;
  netWorthCents: number;
}

/** GET /entities/:id/balance-history: net worth at each day or month end, per currency. */
export interface EntityNetWorthHistory {
  entityId: string;
  fromOn: string;
  toOn: string;
  interval: HistoryInterval;
  byCurrency: Record<string, NetWorthPoint[]>;
}

/** GET /consolidated/balance-history: the group (inter-entity balances eliminated) and each entity's own. */
export interface ConsolidatedNetWorthHistory {
  entityIds: string[];
  fromOn: string;
  toOn: string;
  interval: HistoryInterval;
  byCurrency: Record<string, NetWorthPoint[]>;
  perEntity: { entityId: string; name: string; kind: string; byCurrency: Record<string, NetWorthPoint[]> }[];
}

export const useNetWorthHistory = (entityId: string, interval: HistoryInterval) =>
  useQuery({
    queryKey: ['balance-history', entityId, interval],
    queryFn: () => api.get<EntityNetWorthHistory>(`/entities/${entityId}/balance-history`, { interval }),
  });

export const useConsolidatedNetWorthHistory = (entityIds: string[], interval: HistoryInterval) =>
  useQuery({
    queryKey: ['balance-history', 'consolidated', interval, ...entityIds],
    queryFn: () => api.get<ConsolidatedNetWorthHistory>('/consolidated/balance-history', { entityIds: entityIds.join(','), interval }),
    enabled: entityIds.length > 0,
  });

export interface NetWorthSeries {
  key: string;
  name: string;
  points: readonly NetWorthPoint[];
}

/**
 * One row per point with each series' cents under its key, as Recharts wants: `{ on, [key]: cents }`. Series share
 * their points (one window per answer); a point missing from a series stays absent rather than becoming zero.
 */
export function netWorthRows(series: readonly NetWorthSeries[]): Record<string, string | number>[] {
  const rows = new Map<string, Record<string, string | number>>();
  for (const line of series) {
    for (const point of line.points) {
      const row = rows.get(point.on) ?? { on: point.on };
      row[line.key] = point.netWorthCents;
      rows.set(point.on, row);
    }
  }
  return [...rows.values()].sort((a, b) => String(a.on).localeCompare(String(b.on)));
}

/** The series a consolidated answer draws in one currency: the group first, then each entity that has that currency. */
export function consolidatedSeries(history: ConsolidatedNetWorthHistory, currency: string): NetWorthSeries[] {
  const group: NetWorthSeries = { key: 'consolidated', name: 'Consolidated', points: history.byCurrency[currency] ?? [] };
  const entities = history.perEntity
    .filter((entity) => entity.byCurrency[currency] !== undefined)
    .map((entity) => ({
      key: entity.entityId,
      name: `${entity.name} (${entity.kind === 'llc' ? 'LLC' : 'personal'})`,
      points: entity.byCurrency[currency] ?? [],
    }));
  return [group, ...entities];
}

/** Assets less liabilities: the debit-positive balances of both classes added up (liabilities are negative). */
export function netWorthCents(accounts: readonly Account[]): number {
  let total = 0;
  for (const account of accounts) if (account.class === 'asset' || account.class === 'liability') total += account.balanceCents;
  return total;
}
