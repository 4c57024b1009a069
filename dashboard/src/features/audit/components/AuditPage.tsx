import { useEffect, useState, type FormEvent } from 'react';
import { Card, Empty, ErrorNotice, Loading, PageHeader } from '../../../components/ui';
import { useAuth } from '../../../lib/auth-context';
import { useScope } from '../../../lib/entity-context';
import { useAuditTrail, useVerifyChain } from '../api/audit';

export function AuditPage() {
  const { me } = useAuth();
  const { scope, entities } = useScope();
  const [action, setAction] = useState('');
  const [applied, setApplied] = useState('');
  const entityId = scope?.kind === 'entity' ? scope.entity.id : undefined;
  const trail = useAuditTrail({ entityId, action: applied || undefined });
  const verify = useVerifyChain();
  const isOwner = me?.role === 'owner';
  const { mutate } = verify;
  // The owner sees the verdict on arrival: the chain is recomputed on the ledger, never in the browser.
  useEffect(() => {
    if (isOwner) mutate();
  }, [isOwner, mutate]);
  const rows = trail.data?.pages.flatMap((page) => page.items) ?? [];
  const entityName = (id: string | null) => (id ? (entities.find((entity) => entity.id === id)?.name ?? id) : '—');

  function apply(event: FormEvent) {
    event.preventDefault();
    setApplied(action.trim());
  }

  return (
    <>
      <PageHeader title="Audit trail" />
      <Card title="Chain verification">
        {!isOwner ? (
          <p>Only the owner can verify the chain.</p>
        ) : verify.isPending ? (
          <Loading label="Verifying the hash chain" />
        ) : verify.data ? (
          <p role="status" className={`notice ${verify.data.ok ? 'success' : 'error'}`}>
            {verify.data.ok
              ? `Chain verified: ${verify.data.checked} rows, every hash matches.`
              : `Chain broken at row ${verify.data.firstBrokenSeq}: ${verify.data.reason}`}
          </p>
        ) : null}
        <ErrorNotice error={verify.error} />
        {isOwner ? (
          <button type="button" onClick={() => verify.mutate()} disabled={verify.isPending}>
            Verify again
          </button>
        ) : null}
      </Card>
      <Card title="Events">
        <form className="row filters" role="search" aria-label="Filter audit events" onSubmit={apply}>
          <label>
            Action
            <input value={action} placeholder="entry.created" maxLength={100} onChange={(event) => setAction(event.target.value)} />
          </label>
          <button type="submit">Filter</button>
        </form>
        <ErrorNotice error={trail.error} />
        {trail.isLoading ? (
          <Loading />
        ) : rows.length === 0 ? (
          <Empty>No events.</Empty>
        ) : (
          <table>
            <caption className="visually-hidden">Audit events, newest first</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Entity</th>
                <th scope="col">Object</th>
                <th scope="col">Hash</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.seq}>
                  <td>{row.seq}</td>
                  <td>{new Date(row.occurredAt).toLocaleString()}</td>
                  <td>
                    {row.actorType}
                    {row.executionId ? <span className="muted small"> n8n {row.executionId}</span> : null}
                  </td>
                  <td>
                    <code>{row.action}</code>
                  </td>
                  <td>{entityName(row.entityId)}</td>
                  <td className="muted small">{row.objectType}</td>
                  <td>
                    <code className="muted small">{row.hash.slice(0, 10)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {trail.hasNextPage ? (
          <button type="button" onClick={() => void trail.fetchNextPage()} disabled={trail.isFetchingNextPage}>
            Load more
          </button>
        ) : null}
      </Card>
    </>
  );
}
