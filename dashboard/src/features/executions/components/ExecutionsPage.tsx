import { useState } from 'react';
import { DataTable } from '../../../components/data-table';
import { Card, ErrorNotice, Money, NeedsEntity, PageHeader, QueryState } from '../../../components/ui';
import { useEntity } from '../../../lib/entity-context';
import type { Entity } from '../../../lib/types';
import { useExecution, useExecutions, useRollback, type RollbackResult } from '../api/executions';

const instant = (at: string) => new Date(at).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' });
const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

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
      {result ? (
        <p role="status" className="notice success">
          Rolled back execution {result.executionId}: {plural(result.reversed.length, 'item')} reversed
          {result.alreadyReversed.length > 0 ? `, ${result.alreadyReversed.length} already reversed before` : ''}.
        </p>
      ) : null}
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
                { header: 'First write', cell: (execution) => instant(execution.firstAt) },
                { header: 'Last write', cell: (execution) => instant(execution.lastAt) },
                {
                  header: 'Booked',
                  cell: (execution) => `${plural(execution.entryCount, 'entry', 'entries')}, ${plural(execution.transferCount, 'transfer')}`,
                },
                { header: 'Status', cell: (execution) => (execution.rolledBack ? <span className="badge">rolled back</span> : 'active') },
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
