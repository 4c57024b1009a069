import type { ReactNode } from 'react';
import { createBrowserRouter, Navigate, RouterProvider } from 'react-router';
import { Loading } from '../components/ui';
import { AccountsPage } from '../features/accounts/components/AccountsPage';
import { AuditPage } from '../features/audit/components/AuditPage';
import { SecurityPage } from '../features/auth/components/SecurityPage';
import { SignInPage } from '../features/auth/components/SignInPage';
import { BanksPage } from '../features/banks/components/BanksPage';
import { BillsPage } from '../features/bills/components/BillsPage';
import { BudgetPage } from '../features/budget/components/BudgetPage';
import { ExecutionsPage } from '../features/executions/components/ExecutionsPage';
import { ImportsPage } from '../features/imports/components/ImportsPage';
import { InvestmentsPage } from '../features/investments/components/InvestmentsPage';
import { MoneyFlowPage } from '../features/money-flow/components/MoneyFlowPage';
import { OverviewPage } from '../features/overview/components/OverviewPage';
import { ReportsPage } from '../features/reports/components/ReportsPage';
import { VeilPage } from '../features/veil/components/VeilPage';
import { useAuth } from '../lib/auth-context';
import { EntityProvider } from '../lib/entity-context';
import { Layout } from './layout';

function RequireSession({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  if (status === 'checking') return <Loading label="Restoring your session" />;
  if (status === 'signed-out') return <Navigate to="/app/sign-in" replace />;
  return <EntityProvider>{children}</EntityProvider>;
}

function SignInRoute() {
  const { status } = useAuth();
  if (status === 'signed-in') return <Navigate to="/app" replace />;
  return <SignInPage />;
}

// Every client route lives under /app: the ledger serves index.html for those and nothing else, so an API 404 is
// never answered with the app.
const router = createBrowserRouter([
  { path: '/', element: <Navigate to="/app" replace /> },
  { path: '/app/sign-in', element: <SignInRoute /> },
  {
    path: '/app',
    element: (
      <RequireSession>
        <Layout />
      </RequireSession>
    ),
    children: [
      { index: true, element: <OverviewPage /> },
      { path: 'accounts', element: <AccountsPage /> },
      { path: 'budget', element: <BudgetPage /> },
      { path: 'bills', element: <BillsPage /> },
      { path: 'investments', element: <InvestmentsPage /> },
      { path: 'money-flow', element: <MoneyFlowPage /> },
      { path: 'veil', element: <VeilPage /> },
      { path: 'reports', element: <ReportsPage /> },
      { path: 'imports', element: <ImportsPage /> },
      { path: 'banks', element: <BanksPage /> },
      { path: 'audit', element: <AuditPage /> },
      { path: 'executions', element: <ExecutionsPage /> },
      { path: 'security', element: <SecurityPage /> },
      { path: '*', element: <p>This page does not exist.</p> },
    ],
  },
]);

export function AppRouter() {
  return <RouterProvider router={router} />;
}
