import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api } from '../../../lib/api-client';
import type { Entry, Page } from '../../../lib/types';

// The bank's lines of one account that no entry accounts for yet, and booking them: one category, a split, or
// several lines at once. Booking a line is at most once in the ledger (its entry key is the line's id), so a retry
// can never book twice; a booked line is corrected by reversing its entry.

export interface BankLine {
  id: string;
  accountId: string;
  postedOn: string;
  amountCents: number;
  payee: string | null;
  memo: string | null;
  pending: boolean;
  status: string;
  entryId: string | null;
}

export interface Split {
  accountId: string;
  amountCents: number;
}

export const BANK_LINES_PAGE_MAX = 100;

export const useUncategorisedLines = (accountId: string) =>
  useQuery({
    queryKey: ['bank-lines', accountId, 'unmatched'],
    queryFn: () => api.get<Page<BankLine>>(`/accounts/${accountId}/bank-lines`, { status: 'unmatched', limit: BANK_LINES_PAGE_MAX }),
    // A pending line is booked when it posts, never before.
    select: (page) => page.items.filter((line) => !line.pending),
  });

export function lineLabel(line: BankLine): string {
  return `${line.payee ?? line.memo ?? 'bank line'} of ${line.postedOn}`;
}

export interface BookingOutcome {
  line: BankLine;
  entry?: Entry;
  error?: ApiError;
}

function invalidate(queryClient: ReturnType<typeof useQueryClient>) {
  for (const key of ['bank-lines', 'balances', 'entries', 'budget', 'reports', 'veil-health']) void queryClient.invalidateQueries({ queryKey: [key] });
}

/**
 * Books lines one request each, in order, and reports every line's outcome: a refused line does not stop the
 * others, and nothing half-books (each line is its own transaction in the ledger). `submissionId` is one per
 * submission, so retrying the same submission replays instead of booking again.
 */
export function useBookLines() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ items, submissionId }: { items: { line: BankLine; splits: Split[] }[]; submissionId: string }): Promise<BookingOutcome[]> => {
      const outcomes: BookingOutcome[] = [];
      for (const { line, splits } of items) {
        const body = splits.length === 1 ? { categoryAccountId: (splits[0] as Split).accountId } : { splits };
        try {
          const booked = await api.post<{ entry: Entry }>(`/bank-lines/${line.id}/book`, body, { idempotencyKey: `book:${submissionId}:${line.id}` });
          outcomes.push({ line, entry: booked.entry });
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          outcomes.push({ line, error });
        }
      }
      return outcomes;
    },
    onSettled: () => invalidate(queryClient),
  });
}
