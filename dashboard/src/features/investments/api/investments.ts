import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

// Contract of the ledger's investments endpoints (ledger-service/src/http/investment-schemas.ts).

export type LimitKind = 'ira' | '401k_employee' | 'sep_ira';
export type Standing = 'ok' | 'near' | 'exceeded' | 'unknown';

export interface Holding {
  accountId: string;
  security: { id: string; ticker: string | null; name: string; securityType: string };
  /** Shares as a decimal string: never a float. */
  quantity: string;
  priceCents: number | null;
  valueCents: number;
  costBasisCents: number | null;
  asOf: string;
  source: 'manual' | 'plaid';
}

export interface AccountHoldings {
  accountId: string;
  accountName: string;
  kind: string;
  currency: string;
  balanceCents: number;
  valueCents: number;
  holdings: Holding[];
}

export interface PlanWarning {
  code: 'contribution_limit_exceeded' | 'contribution_limit_near' | 'contribution_limit_unknown';
  year: number;
  kind: LimitKind;
  projectedCents: number;
  limitCents: number | null;
  firstDueOn: string | null;
  message: string;
}

export interface LimitSummary {
  kind: LimitKind;
  label: string;
  taxYear: number;
  contributedCents: number;
  plannedCents: number;
  limitCents: number | null;
  catchUpCents: number;
  remainingCents: number | null;
  standing: Standing;
  projectedStanding: Standing;
  source: string | null;
  warning: PlanWarning | null;
}

export interface ContributionSummary {
  taxYear: number;
  birthYear: number | null;
  limits: LimitSummary[];
}

export interface Plan {
  id: string;
  name: string;
  limitKind: LimitKind | null;
  amountCents: number;
  rrule: string;
  startsOn: string;
  fromAccountId: string;
  toAccountId: string;
  active: boolean;
  nextDueOn: string | null;
}

export interface PlanReply {
  plan: Plan;
  warnings: PlanWarning[];
}

export const useHoldings = (entityId: string) =>
  useQuery({
    queryKey: ['holdings', entityId],
    queryFn: () => api.get<{ accounts: AccountHoldings[] }>(`/entities/${entityId}/holdings`).then((data) => data.accounts),
  });

export const useContributionSummary = (entityId: string, year: number) =>
  useQuery({
    queryKey: ['contributions', entityId, year],
    queryFn: () => api.get<ContributionSummary>(`/entities/${entityId}/contributions/summary`, { year }),
  });

export const usePlans = (entityId: string) =>
  useQuery({
    queryKey: ['contribution-plans', entityId],
    queryFn: () => api.get<{ plans: PlanReply[] }>(`/entities/${entityId}/contribution-plans`).then((data) => data.plans),
  });

function useInvalidateInvestments() {
  const queryClient = useQueryClient();
  return () => {
    for (const key of ['contributions', 'contribution-plans', 'holdings', 'balances', 'entries']) void queryClient.invalidateQueries({ queryKey: [key] });
  };
}

export function useSetPlanActive() {
  const invalidate = useInvalidateInvestments();
  return useMutation({
    mutationFn: ({ planId, active }: { planId: string; active: boolean }) =>
      api.patch<PlanReply>(`/contribution-plans/${planId}`, { active }, { idempotencyKey: `plan-${planId}-${active ? 'resume' : 'pause'}-${Date.now()}` }),
    onSuccess: invalidate,
  });
}

/** Contributes one occurrence of a plan; the ledger refuses it (422 contribution_limit_exceeded) past the limit. */
export function useContribute() {
  const invalidate = useInvalidateInvestments();
  return useMutation({
    mutationFn: ({ planId, dueOn }: { planId: string; dueOn: string }) =>
      api.post<unknown>(`/contribution-plans/${planId}/occurrences/${dueOn}/contribute`, {}, { idempotencyKey: `contribute-${planId}-${dueOn}` }),
    onSuccess: invalidate,
  });
}

/** Account names of the books, for naming a plan's from and to accounts. */
export const useAccountNames = (entityId: string) =>
  useQuery({
    queryKey: ['balances', entityId, 'names'],
    queryFn: () =>
      api.get<{ accounts: { id: string; name: string }[] }>(`/entities/${entityId}/balances`).then((data) => new Map(data.accounts.map((account) => [account.id, account.name]))),
  });
