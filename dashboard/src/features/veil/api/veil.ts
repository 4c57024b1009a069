import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import type { Account } from '../../../lib/types';

export const CLASSIFICATIONS = [
  { value: 'capital_contribution', label: 'Capital contribution', from: 'personal' },
  { value: 'owner_draw', label: 'Owner draw', from: 'llc' },
  { value: 'loan', label: 'Loan', from: 'either' },
  { value: 'loan_repayment', label: 'Loan repayment', from: 'either' },
  { value: 'reimbursement', label: 'Reimbursement (owner paid an LLC expense)', from: 'llc' },
  { value: 'reimbursement_payment', label: 'Reimbursement payment', from: 'llc' },
] as const;
export type Classification = (typeof CLASSIFICATIONS)[number]['value'];

export function classificationLabel(value: string): string {
  return CLASSIFICATIONS.find((item) => item.value === value)?.label ?? value;
}

export interface VeilWarning {
  code: string;
  basis: 'veil_formality' | 'tax_rule';
  message: string;
  details?: Record<string, unknown>;
}

export interface ScheduleRow {
  number: number;
  dueOn: string;
  paymentCents: number;
  interestCents: number;
  principalCents: number;
  balanceAfterCents: number;
}

export interface Transfer {
  id: string;
  classification: Classification;
  fromEntityId: string;
  toEntityId: string;
  fromAccountId: string;
  toAccountId: string;
  amountCents: number;
  currency: string;
  postedOn: string;
  memo: string | null;
  relatedTransferId: string | null;
  terms: { schedule?: ScheduleRow[]; annualRateBasisPoints?: number; termMonths?: number; paymentFrequency?: string; principalCents?: number };
  warnings: VeilWarning[];
  reversal: { createdAt: string } | null;
  document: { id: string; kind: string; title: string; sha256: string } | null;
  createdAt: string;
}

export interface NewTransfer {
  classification: Classification;
  fromEntityId: string;
  fromAccountId: string;
  toEntityId: string;
  toAccountId: string;
  amountCents: number;
  postedOn: string;
  memo?: string;
  loan?: { annualRateBasisPoints: number; termMonths: number; paymentFrequency: string };
  relatedTransferId?: string;
  reimbursement?: { businessPurpose: string; receiptReference: string; expenseOn: string };
}

export interface VeilDocument {
  id: string;
  transferId: string;
  kind: string;
  title: string;
  year: number;
  sha256: string;
  postedOn: string;
}

export interface Finding {
  code: string;
  message: string;
  entryId?: string;
  transferId?: string;
  amountCents: number;
  overdue?: boolean;
  fix?: { kind: 'reclassify_as_draw' | 'create_reimbursement'; needs: string[] };
}

export interface VeilHealth {
  entityId: string;
  fromOn: string;
  toOn: string;
  score: number;
  reasons: string[];
  findings: Finding[];
}

export const useTransfers = (entityId: string, year?: number, classification?: string) =>
  useQuery({
    queryKey: ['transfers', entityId, year, classification],
    queryFn: () => api.get<{ items: Transfer[] }>(`/entities/${entityId}/transfers`, { year, classification }).then((page) => page.items),
  });

export const useEntityAccounts = (entityId: string | undefined) =>
  useQuery({
    queryKey: ['balances', entityId],
    queryFn: () => api.get<{ accounts: Account[] }>(`/entities/${entityId}/balances`),
    select: (data) => data.accounts,
    enabled: entityId !== undefined,
  });

export const useDocuments = (entityId: string, year: number) =>
  useQuery({
    queryKey: ['documents', entityId, year],
    queryFn: () => api.get<{ items: VeilDocument[] }>(`/entities/${entityId}/documents`, { year }).then((page) => page.items),
  });

export const useVeilHealth = (entityId: string) =>
  useQuery({ queryKey: ['veil-health', entityId], queryFn: () => api.get<VeilHealth>(`/entities/${entityId}/veil-health`) });

function invalidateBooks(queryClient: ReturnType<typeof useQueryClient>) {
  for (const key of ['balances', 'entries', 'veil-health', 'consolidated', 'transfers', 'documents', 'reports']) {
    void queryClient.invalidateQueries({ queryKey: [key] });
  }
}

export function useCreateTransfer() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ transfer, idempotencyKey }: { transfer: NewTransfer; idempotencyKey: string }) =>
      api.post<Transfer>('/transfers', transfer, { idempotencyKey }),
    onSuccess: () => invalidateBooks(queryClient),
  });
}

export function useReverseTransfer() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (transferId: string) => api.post<Transfer>(`/transfers/${transferId}/reverse`, {}, { idempotencyKey: `reverse-transfer-${transferId}` }),
    onSuccess: () => invalidateBooks(queryClient),
  });
}

export type HealthFix =
  | { fix: 'reclassify_as_draw'; entryId: string; personalAccountId: string }
  | { fix: 'create_reimbursement'; entryId: string; llcExpenseAccountId: string; receiptReference: string; businessPurpose?: string };

export function useApplyFix() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (fix: HealthFix) => api.post<unknown>('/veil-health/fixes', fix, { idempotencyKey: `fix-${fix.fix}-${fix.entryId}` }),
    onSuccess: () => invalidateBooks(queryClient),
  });
}
