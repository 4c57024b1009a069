import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

// Bank connections through Plaid (ledger-service/src/http/routes/plaid.ts). Link runs in demo mode: the ledger
// finishes Link at the bundled Plaid emulator (POST /plaid/demo/link) where a real install would open Plaid's window.

export type ItemStatus = 'healthy' | 'login_required' | 'pending_expiration' | 'error' | 'removed';

export interface PlaidAccount {
  id: string;
  accountId: string;
  name: string;
  mask: string | null;
  type: string;
  subtype: string | null;
  kind: string;
  currency: string;
  currentCents: number | null;
  availableCents: number | null;
}

export interface PlaidItem {
  id: string;
  entityId: string;
  institutionId: string | null;
  institutionName: string;
  status: ItemStatus;
  error: { code: string; type: string; message: string } | null;
  lastSyncedAt: string | null;
  createdAt: string;
  accounts: PlaidAccount[];
}

export interface SyncReport {
  itemId: string;
  added: number;
  modified: number;
  removed: number;
  booked: number;
  pendingStored: number;
  duplicates: number;
  pages: number;
  restarts: number;
  hasMore: boolean;
}

/** The emulator's sandbox logins: a personal bank and a business bank. */
export const DEMO_BANKS = [
  { username: 'user_good', label: 'First Platypus Bank (personal accounts)' },
  { username: 'user_llc', label: 'Business bank (checking, savings, card)' },
] as const;
export type DemoUsername = (typeof DEMO_BANKS)[number]['username'];

/** Statuses the user must fix through Link's update mode. */
export const NEEDS_UPDATE = new Set<ItemStatus>(['login_required', 'pending_expiration', 'error']);

export const useBankItems = (entityId: string) =>
  useQuery({
    queryKey: ['plaid-items', entityId],
    queryFn: ({ signal }) => api.get<{ items: PlaidItem[] }>(`/entities/${entityId}/plaid/items`, undefined, signal).then((page) => page.items),
  });

function invalidateBankData(queryClient: ReturnType<typeof useQueryClient>) {
  for (const key of ['plaid-items', 'balances', 'entries', 'review-queue', 'rule-preview', 'reports']) void queryClient.invalidateQueries({ queryKey: [key] });
}

const demoLink = (linkToken: string, username?: DemoUsername) => api.post<{ publicToken: string | null }>('/plaid/demo/link', { linkToken, ...(username ? { username } : {}) });

/** Link token → the emulator's Link gives a public token → the ledger exchanges it and stores the item. */
export function useLinkBank(entityId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ username, idempotencyKey }: { username: DemoUsername; idempotencyKey: string }) => {
      const { linkToken } = await api.post<{ linkToken: string }>('/plaid/link-token', { entityId });
      const { publicToken } = await demoLink(linkToken, username);
      if (publicToken === null) throw new Error('Link answered no public token');
      return api.post<PlaidItem>('/plaid/items', { entityId, publicToken }, { idempotencyKey });
    },
    onSuccess: () => invalidateBankData(queryClient),
  });
}

export function useSyncItem() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (itemId: string) => api.post<SyncReport>(`/plaid/items/${itemId}/sync`),
    // A refused sync changes the item too: the ledger stores the bank's error, and the page offers the fix.
    onSettled: () => invalidateBankData(queryClient),
  });
}

/** Update mode: a Link token for the item, the user logs in again at the emulator, then a sync proves it works. */
export function useRepairItem() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (itemId: string) => {
      const { linkToken } = await api.post<{ linkToken: string }>(`/plaid/items/${itemId}/update-link-token`);
      await demoLink(linkToken);
      return api.post<SyncReport>(`/plaid/items/${itemId}/sync`);
    },
    onSuccess: () => invalidateBankData(queryClient),
  });
}
