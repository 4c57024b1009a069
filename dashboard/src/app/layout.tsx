import { useState } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { ErrorNotice } from '../components/ui';
import { EntitySwitcher } from '../features/entities/components/EntitySwitcher';
import { signOut } from '../features/auth/api/auth';
import { useAuth } from '../lib/auth-context';
import { useScope } from '../lib/entity-context';

const NAV = [
  { to: '/app', label: 'Overview', end: true },
  { to: '/app/accounts', label: 'Accounts' },
  { to: '/app/budget', label: 'Budget' },
  { to: '/app/bills', label: 'Bills' },
  { to: '/app/investments', label: 'Investments' },
  { to: '/app/money-flow', label: 'Money flow' },
  { to: '/app/veil', label: 'Inter-entity' },
  { to: '/app/reports', label: 'Reports' },
  { to: '/app/imports', label: 'Imports' },
  { to: '/app/banks', label: 'Banks' },
  { to: '/app/audit', label: 'Audit trail' },
  { to: '/app/executions', label: 'Executions' },
  { to: '/app/security', label: 'Security' },
];

export function Layout() {
  const { me } = useAuth();
  const { error, scope } = useScope();
  const navigate = useNavigate();
  const [menuOpen, setMenuOpen] = useState(false);
  return (
    <div className={`shell ${scope?.kind === 'consolidated' ? 'is-consolidated' : scope?.entity.kind === 'personal' ? 'is-personal' : 'is-llc'}`}>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Veil</span>
        <EntitySwitcher />
        <button type="button" className="menu-toggle" aria-expanded={menuOpen} aria-controls="primary-nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <div className="user">
          <span className="muted small">{me?.email}</span>
          <button
            type="button"
            onClick={() => {
              void signOut().finally(() => navigate('/app/sign-in', { replace: true }));
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <nav id="primary-nav" aria-label="Main" className={menuOpen ? 'open' : undefined}>
        <ul>
          {NAV.map((item) => (
            <li key={item.to}>
              <NavLink to={item.to} end={item.end} onClick={() => setMenuOpen(false)}>
                {item.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main">
        <ErrorNotice error={error} />
        <Outlet />
      </main>
    </div>
  );
}
