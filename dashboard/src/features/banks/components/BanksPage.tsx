import { useState, type FormEvent } from 'react';
import { DataTable } from '../../../components/data-table';
import { Card, Empty, ErrorNotice, Money, NeedsEntity, PageHeader, QueryState } from '../../../components/ui';
import { useEntity } from '../../../lib/entity-context';
import type { Entity } from '../../../lib/types';
import { DEMO_BANKS, NEEDS_UPDATE, useBankItems, useLinkBank, useRepairItem, useSyncItem, type DemoUsername, type PlaidItem, type SyncReport } from '../api/banks';

const STATUS_LABELS: Record<PlaidItem['status'], string> = {
  healthy: 'connected',
  login_required: 'login required',
  pending_expiration: 'consent expiring',
  error: 'error',
  removed: 'removed',
};

/** "12 new, 1 changed, 0 removed; 9 booked, 2 pending, 1 duplicate" */
export function describeSync(report: SyncReport): string {
  const parts = [
    `${report.added} new, ${report.modified} changed, ${report.removed} removed`,
    `${report.booked} booked, ${report.pendingStored} pending, ${report.duplicates} duplicate${report.duplicates === 1 ? '' : 's'}`,
  ];
  return parts.join('; ') + (report.hasMore ? '; more to fetch: sync again' : '');
}

export function BanksPage() {
  const entity = useEntity();
  if (!entity) return <NeedsEntity what="Bank connections" />;
  return <EntityBanks key={entity.id} entity={entity} />;
}

function EntityBanks({ entity }: { entity: Entity }) {
  const items = useBankItems(entity.id);
  const sync = useSyncItem();
  const repair = useRepairItem();
  const [message, setMessage] = useState<string | null>(null);
  const busy = sync.isPending || repair.isPending;
  const nameOf = (itemId: string) => items.data?.find((item) => item.id === itemId)?.institutionName ?? 'the bank';
  return (
    <>
      <PageHeader title="Bank connections" />
      <LinkBank entity={entity} onLinked={(item) => setMessage(`Linked ${item.institutionName}: ${item.accounts.length} accounts.`)} />
      <ErrorNotice error={sync.error ?? repair.error} />
      {message ? (
        <p role="status" className="notice success">
          {message}
        </p>
      ) : null}
      <QueryState query={items} label="Loading bank connections">
        {(list) =>
          list.length === 0 ? (
            <Card title="Linked banks">
              <Empty>No bank is linked to these books yet.</Empty>
            </Card>
          ) : (
            list.map((item) => (
              <Card key={item.id} title={item.institutionName}>
                <p>
                  <span className={`badge${item.status === 'healthy' ? '' : ' warn'}`}>{STATUS_LABELS[item.status]}</span>{' '}
                  <span className="muted small">{item.lastSyncedAt ? `last synced ${new Date(item.lastSyncedAt).toLocaleString('en-US')}` : 'never synced'}</span>
                </p>
                {item.error ? (
                  <p className="notice warn" role="note">
                    {item.error.message} <code className="error-code">{item.error.code}</code>
                  </p>
                ) : null}
                <div className="row">
                  {NEEDS_UPDATE.has(item.status) ? (
                    <button
                      type="button"
                      disabled={busy}
                      aria-label={`Fix the connection to ${item.institutionName}`}
                      onClick={() => {
                        setMessage(null);
                        sync.reset();
                        repair.mutate(item.id, { onSuccess: (report) => setMessage(`Reconnected ${nameOf(item.id)} and synced: ${describeSync(report)}.`) });
                      }}
                    >
                      Fix connection
                    </button>
                  ) : null}
                  <button
                    type="button"
                    disabled={busy || item.status === 'removed'}
                    aria-label={`Sync ${item.institutionName} now`}
                    onClick={() => {
                      setMessage(null);
                      repair.reset();
                      sync.mutate(item.id, { onSuccess: (report) => setMessage(`Synced ${nameOf(item.id)}: ${describeSync(report)}.`) });
                    }}
                  >
                    Sync now
                  </button>
                </div>
                <DataTable
                  rows={item.accounts}
                  caption={`Accounts at ${item.institutionName}`}
                  empty="This login has no accounts."
                  rowKey={(account) => account.id}
                  columns={[
                    { header: 'Account', rowHeader: true, cell: (account) => `${account.name}${account.mask ? ` ••${account.mask}` : ''}` },
                    { header: 'Type', cell: (account) => account.subtype ?? account.type },
                    {
                      header: 'Bank balance',
                      amount: true,
                      cell: (account) => (account.currentCents === null ? '—' : <Money cents={account.currentCents} currency={account.currency} />),
                    },
                  ]}
                />
              </Card>
            ))
          )
        }
      </QueryState>
    </>
  );
}

function LinkBank({ entity, onLinked }: { entity: Entity; onLinked: (item: PlaidItem) => void }) {
  const link = useLinkBank(entity.id);
  const [username, setUsername] = useState<DemoUsername>(entity.kind === 'llc' ? 'user_llc' : 'user_good');
  function submit(event: FormEvent) {
    event.preventDefault();
    link.mutate({ username, idempotencyKey: crypto.randomUUID() }, { onSuccess: onLinked });
  }
  return (
    <Card title="Link a bank">
      <p className="muted small">Demo mode: the Plaid sandbox emulator stands in for Plaid Link, so no bank login is asked for.</p>
      <form className="row" aria-label="Link a bank" onSubmit={submit}>
        <label>
          Sandbox bank
          <select value={username} onChange={(event) => setUsername(event.target.value as DemoUsername)}>
            {DEMO_BANKS.map((bank) => (
              <option key={bank.username} value={bank.username}>
                {bank.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={link.isPending}>
          {link.isPending ? 'Linking…' : 'Link a bank'}
        </button>
      </form>
      <ErrorNotice error={link.error} />
    </Card>
  );
}
