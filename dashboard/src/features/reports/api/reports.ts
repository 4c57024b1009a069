import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export interface ReportLine {
  accountId: string;
  name: string;
  code: string | null;
  class: string;
  kind: string;
  currency: string;
  balanceCents: number;
  naturalBalanceCents: number;
}

export interface Section {
  lines: ReportLine[];
  totalCents: number;
}

interface Report<T> {
  entityId: string;
  entityName: string;
  fromOn: string;
  toOn: string;
  byCurrency: (T & { currency: string })[];
}

export type BalanceSheet = Report<{ assets: Section; liabilities: Section; equity: Section; retainedEarningsCents: number; currentEarningsCents: number; liabilitiesAndEquityCents: number }>;
export type IncomeStatement = Report<{ income: Section; expenses: Section; netIncomeCents: number }>;
export type TrialBalance = Report<{ lines: ReportLine[]; debitCents: number; creditCents: number }>;

export interface ScheduleC {
  entityName: string;
  year: number;
  currency: string;
  fromOn: string;
  toOn: string;
  lines: { line: string; part: string; label: string; amountCents: number; accounts: { accountId: string; name: string; amountCents: number }[] }[];
  grossIncomeCents: number;
  totalExpensesCents: number;
  netProfitCents: number;
  excluded: { accountId: string; name: string; amountCents: number; reason: string }[];
}

export type ReportName = 'balance-sheet' | 'income-statement' | 'trial-balance';

export interface Period {
  from?: string;
  to?: string;
}

export function useReport<T>(entityId: string, name: ReportName, period: Period) {
  return useQuery({
    queryKey: ['reports', entityId, name, period],
    queryFn: () => api.get<T>(`/entities/${entityId}/reports/${name}`, { ...period }),
  });
}

export function useScheduleC(entityId: string, year: number, enabled: boolean) {
  return useQuery({
    queryKey: ['reports', entityId, 'schedule-c', year],
    queryFn: () => api.get<ScheduleC>(`/entities/${entityId}/reports/schedule-c`, { year }),
    enabled,
  });
}
