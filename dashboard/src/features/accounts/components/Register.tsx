import { useState, type FormEvent } from 'react';
import { DataTable } from '../../../components/data-table';
import { Card, ErrorNotice, Loading, Money } from '../../../components/ui';
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
      ) : (
        <DataTable
          rows={items}
          className="register"
          caption="Entries"
          empty="No entries match."
          rowKey={(entry) => entry.id}
          rowClassName={(entry) => (entry.reversedByEntryId || entry.reversesEntryId ? 'reversed' : undefined)}
          columns={[
            { header: 'Date', cell: (entry) => entry.postedOn },
            {
              header: 'Description',
              cell: (entry) => (
                <>
                  {entry.description}
                  {entry.reversesEntryId ? <span className="badge">reversal</span> : null}
                  {entry.reversedByEntryId ? <span className="badge">reversed</span> : null}
                </>
              ),
            },
            {
              header: 'Accounts',
              cell: (entry) => (
                <div className="muted small">
                  {entry.postings.map((posting) => (
                    <div key={posting.accountId + posting.amountCents}>
                      {name(posting.accountId)} <Money cents={posting.amountCents} currency={posting.currency} signed />
                    </div>
                  ))}
                </div>
              ),
            },
            { header: accountId ? 'Amount' : 'Total', amount: true, cell: (entry) => <Money cents={amountFor(entry)} currency={currency} signed={Boolean(accountId)} /> },
            {
              header: 'Actions',
              hideHeader: true,
              cell: (entry) =>
                !entry.reversedByEntryId && !entry.reversesEntryId ? (
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
                ) : null,
            },
          ]}
        />
      )}
      {entries.hasNextPage ? (
        <button type="button" onClick={() => void entries.fetchNextPage()} disabled={entries.isFetchingNextPage}>
          {entries.isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      ) : null}
    </Card>
  );
}
