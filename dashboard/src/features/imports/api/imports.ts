import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, upload, type UploadProgress } from '../../../lib/api-client';
import type { Account } from '../../../lib/types';

// The ledger's statement imports, review queue and categorisation rules (ledger-service/src/http/routes/imports.ts).

export interface ImportAccountReport {
  statementAccountId: string;
  accountId: string;
  lines: number;
  totalCents: number;
  new: number;
  skippedExact: number;
  queuedForReview: number;
  booked: number;
}

export interface ImportReport {
  importId: string;
  fileName: string;
  format: string;
  encoding: string | null;
  csvPreset: string | null;
  accounts: ImportAccountReport[];
  new: number;
  skippedExact: number;
  queuedForReview: number;
  booked: number;
  matchedToEntries: number;
  transfersBooked: number;
  transferProposals: number;
  warnings: { line: number; message: string }[];
  errors: { file: string; line: number; message: string }[];
}

export interface BankLine {
  id: string;
  entityId: string;
  accountId: string;
  currency: string;
  source: string;
  externalId: string;
  postedOn: string;
  amountCents: number;
  payee: string | null;
  memo: string | null;
  pending: boolean;
  status: string;
  statusReason: string | null;
  entryId: string | null;
  createdAt: string;
}

export interface ReviewItem {
  line: BankLine;
  reviewOf: BankLine | null;
}

export interface RuleConditions {
  payeeContains?: string;
  payeeRegex?: string;
  memoContains?: string;
  amountMinCents?: number;
  amountMaxCents?: number;
  accountId?: string;
}

export interface RuleAction {
  categoryAccountId?: string;
  splits?: { accountId: string; shareBasisPoints: number }[];
  description?: string;
}

export interface RuleInput {
  name: string;
  position?: number;
  enabled?: boolean;
  conditions: RuleConditions;
  action: RuleAction;
}

export interface Rule extends RuleInput {
  id: string;
  entityId: string;
  position: number;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface RulePreview {
  items: {
    bankLineId: string;
    postedOn: string;
    payee: string | null;
    amountCents: number;
    ruleId: string | null;
    ruleName: string | null;
    categoryAccountId: string | null;
    splits: { accountId: string; amountCents: number }[] | null;
  }[];
  matched: number;
  unmatched: number;
}

/** The same query (and cache entry) as the accounts page: the balances answer carries the chart of accounts. */
export const useChartOfAccounts = (entityId: string) =>
  useQuery({
    queryKey: ['balances', entityId],
    queryFn: () => api.get<{ accounts: Account[] }>(`/entities/${entityId}/balances`),
    select: (data) => data.accounts,
  });

/** Everything an import or a review decision can change. */
function invalidateBankData(queryClient: ReturnType<typeof useQueryClient>) {
  for (const key of ['review-queue', 'rule-preview', 'balances', 'entries', 'reports']) void queryClient.invalidateQueries({ queryKey: [key] });
}

export function useUploadStatement(accountId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ file, idempotencyKey, onProgress }: { file: File; idempotencyKey: string; onProgress: (progress: UploadProgress) => void }) =>
      upload<ImportReport>(`/accounts/${accountId}/imports`, file, { idempotencyKey, onProgress }),
    onSuccess: () => invalidateBankData(queryClient),
  });
}

export const useReviewQueue = (entityId: string) =>
  useQuery({
    queryKey: ['review-queue', entityId],
    queryFn: ({ signal }) => api.get<{ items: ReviewItem[] }>(`/entities/${entityId}/review-queue`, { limit: 100 }, signal).then((page) => page.items),
  });

export function useReviewDecision() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ bankLineId, decision, reason }: { bankLineId: string; decision: 'accept' | 'reject'; reason: string }) =>
      api.post<BankLine>(`/bank-lines/${bankLineId}/review`, { decision, reason }),
    onSuccess: () => invalidateBankData(queryClient),
  });
}

export const useRules = (entityId: string) =>
  useQuery({
    queryKey: ['rules', entityId],
    queryFn: ({ signal }) => api.get<{ items: Rule[] }>(`/entities/${entityId}/rules`, undefined, signal).then((page) => page.items),
  });

export function useSaveRule(entityId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ ruleId, rule, idempotencyKey }: { ruleId: string | null; rule: RuleInput; idempotencyKey: string }) =>
      ruleId === null
        ? api.post<Rule>(`/entities/${entityId}/rules`, rule, { idempotencyKey })
        : api.put<Rule>(`/rules/${ruleId}`, rule, { idempotencyKey }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['rules', entityId] });
      void queryClient.invalidateQueries({ queryKey: ['rule-preview'] });
    },
  });
}

export function useDeleteRule(entityId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (ruleId: string) => api.delete<{ deleted: true }>(`/rules/${ruleId}`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['rules', entityId] }),
  });
}

/** What the given draft rules (or the saved ones, when none) would do to the lines still waiting; writes nothing. */
export const usePreviewRules = (entityId: string) =>
  useMutation({ mutationFn: (rules: RuleInput[] | undefined) => api.post<RulePreview>(`/entities/${entityId}/rules/preview`, rules ? { rules } : {}) });
