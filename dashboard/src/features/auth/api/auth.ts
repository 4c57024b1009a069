import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, session, type TokenPair } from '../../../lib/api-client';

export interface Credentials {
  email: string;
  password: string;
  totpCode?: string;
  recoveryCode?: string;
}

export async function signIn(credentials: Credentials): Promise<void> {
  const tokens = await api.post<TokenPair>('/auth/login', credentials, { anonymous: true });
  session.set(tokens);
}

export async function signOut(): Promise<void> {
  try {
    await api.post('/auth/logout');
  } finally {
    session.clear();
  }
}

export interface Enrolment {
  secret: string;
  otpauthUri: string;
  qrCodeDataUrl: string;
}

export function useEnrolMfa() {
  return useMutation({ mutationFn: () => api.post<Enrolment>('/auth/mfa/enrol') });
}

export function useConfirmMfa() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (totpCode: string) => api.post<{ recoveryCodes: string[] }>('/auth/mfa/confirm', { totpCode }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['me'] }),
  });
}

export type Scope = 'read' | 'write' | 'move_money';

export interface ApiToken {
  id: string;
  name: string;
  scopes: Scope[];
  entityIds: string[];
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

export function useApiTokens() {
  return useQuery({ queryKey: ['api-tokens'], queryFn: () => api.get<{ items: ApiToken[] }>('/auth/tokens').then((page) => page.items) });
}

export function useCreateApiToken() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { name: string; scopes: Scope[]; entityIds: string[] }) => api.post<ApiToken & { token: string }>('/auth/tokens', input),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['api-tokens'] }),
  });
}

export function useRevokeApiToken() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete<ApiToken>(`/auth/tokens/${id}`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['api-tokens'] }),
  });
}
