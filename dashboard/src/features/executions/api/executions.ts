import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

// Contract of the workflow-execution endpoints (built in parallel on the ledger): every entry or transfer an n8n
// execution posted (header x-n8n-execution-id), and its rollback, which reverses them all in one transaction.

export const EXECUTIONS_PAGE_LIMIT = 50;

export type ExecutionStatus = 'running' | 'succeeded' | 'failed' | 'rolled_back';

/** What n8n told the ledger about an execution: its workflow (sent by the Veil nodes) and how it ended. */
export interface ExecutionFacts {
  workflowId: string | null;
  workflowName: string | null;
  status: ExecutionStatus;
  failedAt: string | null;
  errorMessage: string | null;
}

export interface ExecutionSummary extends ExecutionFacts {
  executionId: string;
  firstAt: string;
  lastAt: string;
  actionCount: number;
  entryCount: number;
  transferCount: number;
  rolledBack: boolean;
}

export interface ExecutionItem {
  kind: 'entry' | 'transfer';
  id: string;
  entityId: string;
  postedOn: string;
  description: string;
  amountCents: number;
  createdAt: string;
  reversedById: string | null;
}

export interface ExecutionDetail extends ExecutionFacts {
  executionId: string;
  rolledBack: boolean;
  items: ExecutionItem[];
}

export interface RollbackResult {
  executionId: string;
  reversed: { kind: 'entry' | 'transfer'; id: string; reversalId: string }[];
  alreadyReversed: { kind: 'entry' | 'transfer'; id: string }[];
  allocations: { id: string; entityId: string; month: string; amountCents: number; reversedNow: boolean }[];
  budgetChanges: { kind: 'assign' | 'move'; id: string; entityId: string; month: string; amountCents: number; reversedNow: boolean }[];
  billsReopened: { billId: string; entityId: string; dueOn: string; entryId: string }[];
  /** Bank lines already matched to what was reversed: money the bank moved, which a reversal does not move back. */
  bankMoneyMoved: BankMoneyMoved[];
}

export interface BankMoneyMoved {
  kind: 'entry' | 'transfer';
  id: string;
  entryId: string;
  bankLineId: string;
  accountId: string;
  postedOn: string;
  amountCents: number;
  status: string;
}

const path = (executionId: string) => `/executions/${encodeURIComponent(executionId)}`;

export const useExecutions = (entityId: string, limit = EXECUTIONS_PAGE_LIMIT) =>
  useQuery({
    queryKey: ['executions', entityId, limit],
    queryFn: ({ signal }) => api.get<{ items: ExecutionSummary[] }>('/executions', { entityId, limit }, signal).then((page) => page.items),
    retry: false,
  });

export const useExecution = (executionId: string | null) =>
  useQuery({
    queryKey: ['execution', executionId],
    queryFn: ({ signal }) => api.get<ExecutionDetail>(path(executionId as string), undefined, signal),
    enabled: executionId !== null,
    retry: false,
  });

export function useRollback() {
  const queryClient = useQueryClient();
  return useMutation({
    // One key per click: a retried click after a network failure sends a new request, and the ledger reports
    // what was reversed before as alreadyReversed, so nothing is reversed twice either way.
    mutationFn: (executionId: string) => api.post<RollbackResult>(`${path(executionId)}/rollback`),
    onSuccess: (_result, executionId) => {
      void queryClient.invalidateQueries({ queryKey: ['executions'] });
      void queryClient.invalidateQueries({ queryKey: ['execution', executionId] });
      void queryClient.invalidateQueries({ queryKey: ['entries'] });
      void queryClient.invalidateQueries({ queryKey: ['balances'] });
    },
  });
}
