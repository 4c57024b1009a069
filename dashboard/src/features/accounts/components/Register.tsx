import { useState, type FormEvent } from 'react';
import { Card, Empty, ErrorNotice, Loading, Money } from '../../../components/ui';
import type { Account, Entry } from '../../../lib/types';
import { useEntries, useReverseEntry, type EntryFilters } from '../api/accounts';

const SOURCES = ['manual', 'import', 'plaid', 'workflow', 'system'];

export function Register({
  entityId,
  accounts,
  currency,
  accountId,
  onAccount,
}: {
  entityId: string;
  accounts: Account[];
  currency: string;
  accountId: string | undefined;
  onAccount: (id: string | undefined) => void;
}) {
  const [draft, setDraft] = useState<EntryFilters>({});
  const [filters, setFilters] = useState<EntryFilters>({});
  const active = { ...filters, accountId };
  const entries = useEntries(entityId, active);
  const reverse = useReverseEntry();
  const name = (id: string) => accounts.find((account) => account.id === id)?.name ?? id;
  const items = entries.data?.pages.flatMap((page) => page.items) ?? [];

  function apply(event: FormEvent) {
    event.preventDefault();
    setFilters({ q: draft.q || undefined, from: draft.from || undefined, to: draft.to || undefined, source: draft.source || undefined });
  }

  function amountFor(entry: Entry): number {
    if (accountId) return entry.postings.filter((posting) => posting.accountId === accountId).reduce((sum, posting) => sum + posting.amountCents, 0);
    return entry.postings.filter((posting) => posting.amountCents > 0).reduce((sum, posting) => sum + posting.amountCents, 0);
  }

  return (
    <Card title={accountId ? `Register — ${name(accountId)}` : 'Register — all entries'}>
      <form className="filters row" role="search" aria-label="Filter entries" onSubmit={apply}>
        <label className="grow">
          Search
          <input type="search" value={draft.q ?? ''} onChange={(event) => setDraft({ ...draft, q: event.target.value })} maxLength={100} />
        </label>
        <label>
          Account
          <select value={accountId ?? ''} onChange={(event) => onAccount(event.target.value || undefined)}>
            <option value="">All accounts</option>
            {accounts.map((account) => (
              <option key={account.id} value={account.id}>
                {account.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="date" value={draft.from ?? ''} onChange={(event) => setDraft({ ...draft, from: event.target.value })} />
        </label>
        <label>
          To
          <input type="date" value={draft.to ?? ''} onChange={(event) => setDraft({ ...draft, to: event.target.value })} />
        </label>
        <label>
          Source
          <select value={draft.source ?? ''} onChange={(event) => setDraft({ ...draft, source: event.target.value })}>
            <option value="">Any</option>
            {SOURCES.map((source) => (
              <option key={source}>{source}</option>
            ))}
          </select>
        </label>
        <button type="submit">Apply filters</button>
      </form>
      <ErrorNotice error={entries.error ?? reverse.error} />
      {entries.isLoading ? (
        <Loading label="Loading entries" />
      ) : items.length === 0 ? (
        <Empty>No entries match.</Empty>
      ) : (
        <table className="register">
          <caption className="visually-hidden">Entries</caption>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Description</th>
              <th scope="col">Accounts</th>
              <th scope="col" className="amount">
                {accountId ? 'Amount' : 'Total'}
              </th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((entry) => (
              <tr key={entry.id} className={entry.reversedByEntryId || entry.reversesEntryId ? 'reversed' : undefined}>
                <td>{entry.postedOn}</td>
                <td>
                  {entry.description}
                  {entry.reversesEntryId ? <span className="badge">reversal</span> : null}
                  {entry.reversedByEntryId ? <span className="badge">reversed</span> : null}
                </td>
                <td className="muted small">
                  {entry.postings.map((posting) => (
                    <div key={posting.accountId + posting.amountCents}>
                      {name(posting.accountId)} <Money cents={posting.amountCents} currency={posting.currency} signed />
                    </div>
                  ))}
                </td>
                <td className="amount">
                  <Money cents={amountFor(entry)} currency={currency} signed={Boolean(accountId)} />
                </td>
                <td>
                  {!entry.reversedByEntryId && !entry.reversesEntryId ? (
                    <button
                      type="button"
                      aria-label={`Reverse ${entry.description} of ${entry.postedOn}`}
                      disabled={reverse.isPending}
                      onClick={() => {
                        if (window.confirm(`Reverse “${entry.description}”? A reversing entry is booked; nothing is deleted.`)) reverse.mutate({ entryId: entry.id });
                      }}
                    >
                      Reverse
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {entries.hasNextPage ? (
        <button type="button" onClick={() => void entries.fetchNextPage()} disabled={entries.isFetchingNextPage}>
          {entries.isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      ) : null}
    </Card>
  );
}
