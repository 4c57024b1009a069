import { useState } from 'react';
import { DataTable } from '../../../components/data-table';
import { Card, ErrorNotice, Money, NeedsEntity, PageHeader, QueryState } from '../../../components/ui';
import { useEntity } from '../../../lib/entity-context';
import type { Entity } from '../../../lib/types';
import { useExecution, useExecutions, useRollback, type ExecutionFacts, type ExecutionStatus, type RollbackResult } from '../api/executions';

const instant = (at: string) => new Date(at).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' });
const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

const STATUS_LABELS: Record<ExecutionStatus, string> = { running: 'running', succeeded: 'succeeded', failed: 'failed', rolled_back: 'rolled back' };

/** How the execution ended, as n8n reported it: running until its last node (or the Error Trigger) says otherwise. */
function StatusBadge({ status }: { status: ExecutionStatus }) {
  return <span className={status === 'failed' || status === 'running' ? 'badge warn' : 'badge'}>{STATUS_LABELS[status]}</span>;
}

/** The workflow the Veil nodes named (name and id), or a plain "unknown" when no Veil node sent it. */
function Workflow({ facts }: { facts: Pick<ExecutionFacts, 'workflowId' | 'workflowName'> }) {
  if (facts.workflowId === null && facts.workflowName === null) return <span className="muted">unknown workflow</span>;
  return (
    <>
      {facts.workflowName ?? 'unnamed workflow'}
      {facts.workflowId !== null ? <span className="muted"> (id {facts.workflowId})</span> : null}
    </>
  );
}

export function ExecutionsPage() {
  const entity = useEntity();
  if (!entity) return <NeedsEntity what="Workflow executions" />;
  return <EntityExecutions key={entity.id} entity={entity} />;
}

function EntityExecutions({ entity }: { entity: Entity }) {
  const executions = useExecutions(entity.id);
  const rollback = useRollback();
  const [selected, setSelected] = useState<string | null>(null);
  const [result, setResult] = useState<RollbackResult | null>(null);

  function rollBack(executionId: string) {
    if (!window.confirm(`Roll back execution ${executionId}? Every entry and transfer it posted is reversed; nothing is deleted.`)) return;
    setResult(null);
    rollback.mutate(executionId, {
      onSuccess: (answer) => {
        setResult(answer);
        setSelected(executionId);
      },
    });
  }

  return (
    <>
      <PageHeader title="Workflow executions" />
      <p className="muted">What each n8n execution booked in these books. Rolling one back reverses all of its entries and transfers at once.</p>
      <ErrorNotice error={rollback.error} />
      {result ? <RollbackReport result={result} currency={entity.currency} /> : null}
      <Card title="Executions">
        <QueryState query={executions} label="Loading executions">
          {(items) => (
            <DataTable
              rows={items}
              caption="Workflow executions"
              empty="No workflow has posted to these books yet."
              rowKey={(execution) => execution.executionId}
              rowClassName={(execution) => (execution.rolledBack ? 'reversed' : undefined)}
              columns={[
                {
                  header: 'Execution',
                  rowHeader: true,
                  cell: (execution) => (
                    <button type="button" className="link" aria-pressed={selected === execution.executionId} onClick={() => setSelected(execution.executionId)}>
                      {execution.executionId}
                    </button>
                  ),
                },
                { header: 'Workflow', cell: (execution) => <Workflow facts={execution} /> },
                { header: 'First write', cell: (execution) => instant(execution.firstAt) },
                { header: 'Last write', cell: (execution) => instant(execution.lastAt) },
                {
                  header: 'Booked',
                  cell: (execution) => `${plural(execution.entryCount, 'entry', 'entries')}, ${plural(execution.transferCount, 'transfer')}`,
                },
                { header: 'Status', cell: (execution) => <StatusBadge status={execution.rolledBack ? 'rolled_back' : execution.status} /> },
                {
                  header: 'Actions',
                  hideHeader: true,
                  cell: (execution) =>
                    execution.rolledBack ? null : (
                      <button type="button" aria-label={`Roll back execution ${execution.executionId}`} disabled={rollback.isPending} onClick={() => rollBack(execution.executionId)}>
                        Roll back
                      </button>
                    ),
                },
              ]}
            />
          )}
        </QueryState>
      </Card>
      {selected ? <ExecutionDetails executionId={selected} currency={entity.currency} /> : null}
    </>
  );
}

function ExecutionDetails({ executionId, currency }: { executionId: string; currency: string }) {
  const execution = useExecution(executionId);
  return (
    <Card title={`Execution ${executionId}`}>
      <QueryState query={execution} label="Loading the execution">
        {(data) => (
          <>
            <dl>
              <dt>Workflow</dt>
              <dd>
                <Workflow facts={data} />
              </dd>
              <dt>Status</dt>
              <dd>
                <StatusBadge status={data.rolledBack ? 'rolled_back' : data.status} />
              </dd>
              {data.failedAt !== null ? (
                <>
                  <dt>Failed at</dt>
                  <dd>{instant(data.failedAt)}</dd>
                </>
              ) : null}
              {data.errorMessage !== null ? (
                <>
                  <dt>Error</dt>
                  <dd>{data.errorMessage}</dd>
                </>
              ) : null}
            </dl>
            {data.rolledBack ? <p className="notice info">This execution was rolled back: every item below has its reversal.</p> : null}
            <DataTable
              rows={data.items}
              caption={`What execution ${executionId} posted`}
              empty="This execution posted nothing."
              rowKey={(item) => `${item.kind}-${item.id}`}
              rowClassName={(item) => (item.reversedById ? 'reversed' : undefined)}
              columns={[
                { header: 'Date', cell: (item) => item.postedOn },
                { header: 'Kind', cell: (item) => (item.kind === 'entry' ? 'Entry' : 'Transfer') },
                { header: 'Description', rowHeader: true, cell: (item) => item.description },
                { header: 'Amount', amount: true, cell: (item) => <Money cents={item.amountCents} currency={currency} /> },
                { header: 'Status', cell: (item) => (item.reversedById ? <span className="badge">reversed</span> : 'booked') },
              ]}
            />
          </>
        )}
      </QueryState>
    </Card>
  );
}

/** What a rollback did, and the money the bank had already moved for what it reversed (the books only are corrected). */
function RollbackReport({ result, currency }: { result: RollbackResult; currency: string }) {
  const budget = result.allocations.filter((allocation) => allocation.reversedNow).length + result.budgetChanges.filter((change) => change.reversedNow).length;
  return (
    <>
      <p role="status" className="notice success">
        Rolled back execution {result.executionId}: {plural(result.reversed.length, 'item')} reversed
        {result.alreadyReversed.length > 0 ? `, ${result.alreadyReversed.length} already reversed before` : ''}
        {budget > 0 ? `; ${plural(budget, 'budget change')} taken back` : ''}
        {result.billsReopened.length > 0 ? `; ${plural(result.billsReopened.length, 'bill')} due again` : ''}.
      </p>
      <Card title="Bank money already moved">
        {result.bankMoneyMoved.length === 0 ? (
          <p className="muted">The bank had moved no money for what was reversed: the books and the bank agree.</p>
        ) : (
          <>
            <p className="notice warn">
              The bank already moved this money. Reversing the entries corrects the books, not the bank: move it back yourself.
            </p>
            <DataTable
              rows={result.bankMoneyMoved}
              caption={`Money the bank already moved for execution ${result.executionId}`}
              empty="None."
              rowKey={(line) => line.bankLineId}
              columns={[
                { header: 'Bank date', rowHeader: true, cell: (line) => line.postedOn },
                { header: 'Reversed', cell: (line) => (line.kind === 'entry' ? 'Entry' : 'Transfer') },
                { header: 'Bank line', cell: (line) => line.status },
                { header: 'Amount', amount: true, cell: (line) => <Money cents={line.amountCents} currency={currency} /> },
              ]}
            />
          </>
        )}
      </Card>
    </>
  );
}
