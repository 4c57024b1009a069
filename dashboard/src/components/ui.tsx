import type { ReactNode } from 'react';
import { ApiError } from '../lib/api-client';
import { formatCents } from '../lib/money';

export function Money({ cents, currency = 'USD', signed }: { cents: number; currency?: string; signed?: boolean }) {
  return <span className={`money${cents < 0 ? ' negative' : ''}`}>{formatCents(cents, currency, { signed })}</span>;
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children ? <div className="page-actions">{children}</div> : null}
    </header>
  );
}

/** An error from the ledger, with its machine code shown beside the human message. */
export function ErrorNotice({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError ? error.code : null;
  return (
    <div role="alert" className="notice error">
      <strong>{message}</strong>
      {code ? <code className="error-code">{code}</code> : null}
    </div>
  );
}

export function Loading({ label = 'Loading' }: { label?: string }) {
  return (
    <p role="status" aria-live="polite" className="muted">
      {label}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty muted">{children}</p>;
}

/** Loading, error and data states for one query. */
export function QueryState<T>({
  query,
  children,
  label,
}: {
  query: { data: T | undefined; error: unknown; isLoading: boolean };
  children: (data: T) => ReactNode;
  label?: string;
}) {
  if (query.isLoading) return <Loading label={label} />;
  if (query.error) return <ErrorNotice error={query.error} />;
  if (query.data === undefined) return null;
  return <>{children(query.data)}</>;
}

export function Card({ title, children, className }: { title: string; children: ReactNode; className?: string }) {
  const id = `card-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <section className={`card ${className ?? ''}`} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export function Stat({ label, cents, currency, hint }: { label: string; cents: number; currency?: string; hint?: string }) {
  return (
    <div className="stat" role="group" aria-label={label}>
      <span className="stat-label">{label}</span>
      <span className="stat-value">
        <Money cents={cents} currency={currency} />
      </span>
      {hint ? <span className="stat-hint muted">{hint}</span> : null}
    </div>
  );
}

export function ReadOnlyNotice() {
  return (
    <p className="notice info" role="note">
      The consolidated view adds the books up and never edits them. Choose the LLC or the personal books to make changes.
    </p>
  );
}

export function NeedsEntity({ what }: { what: string }) {
  return (
    <p className="notice info" role="note">
      {what} belong to one set of books. Choose the LLC or the personal books in the switcher above.
    </p>
  );
}
