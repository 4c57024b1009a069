import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, refreshSession, session } from './api-client';

export interface Me {
  id: string;
  email: string;
  role: string;
  mfaEnabled: boolean;
  actor: { type: string; scopes: string[]; mfa: boolean };
}

interface AuthState {
  status: 'checking' | 'signed-in' | 'signed-out';
  me: Me | undefined;
}

const AuthContext = createContext<AuthState>({ status: 'checking', me: undefined });

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [signedIn, setSignedIn] = useState<boolean | null>(session.hasAccessToken() ? true : null);
  useEffect(() => {
    const unsubscribe = session.subscribe((value) => {
      setSignedIn(value);
      if (!value) queryClient.clear();
    });
    if (signedIn === null) void refreshSession().then(setSignedIn);
    return () => {
      unsubscribe();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const me = useQuery({ queryKey: ['me'], queryFn: () => api.get<Me>('/auth/me'), enabled: signedIn === true });
  const status = signedIn === null ? 'checking' : signedIn ? 'signed-in' : 'signed-out';
  return <AuthContext.Provider value={{ status, me: me.data }}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  return useContext(AuthContext);
}
