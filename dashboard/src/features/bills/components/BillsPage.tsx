import { useState } from 'react';
import { Card, Empty, ErrorNotice, Money, NeedsEntity, PageHeader, QueryState } from '../../../components/ui';
import { monthBounds, monthOf, shiftMonth, todayOn } from '../../../lib/dates';
import { useEntity } from '../../../lib/entity-context';
import type { Entity } from '../../../lib/types';
import { useOccurrences, usePayOccurrence } from '../api/bills';

export function BillsPage() {
  const entity = useEntity();
  if (!entity) return <NeedsEntity what="Bills" />;
  return <EntityBills key={entity.id} entity={entity} />;
}

function EntityBills({ entity }: { entity: Entity }) {
  const [month, setMonth] = useState(monthOf(todayOn()));
  const { fromOn, toOn } = monthBounds(month);
  const occurrences = useOccurrences(entity.id, fromOn, toOn);
  const pay = usePayOccurrence();
  return (
    <>
      <PageHeader title="Bills">
        <button type="button" aria-label="Previous month" onClick={() => setMonth(shiftMonth(month, -1))}>
          ←
        </button>
        <span aria-live="polite">{month}</span>
        <button type="button" aria-label="Next month" onClick={() => setMonth(shiftMonth(month, 1))}>
          →
        </button>
      </PageHeader>
      <ErrorNotice error={pay.error} />
      <QueryState query={occurrences} label="Loading bills">
        {(items) =>
          items.length === 0 ? (
            <Empty>No bills due in {month}.</Empty>
          ) : (
            <Card title={`Due in ${month}`}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Due</th>
                    <th scope="col">Bill</th>
                    <th scope="col">Payee</th>
                    <th scope="col" className="amount">
                      Amount
                    </th>
                    <th scope="col">Status</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((occurrence) => (
                    <tr key={`${occurrence.billId}-${occurrence.dueOn}`}>
                      <td>{occurrence.dueOn}</td>
                      <td>
                        {occurrence.billName}
                        {occurrence.autopay ? <span className="badge">autopay</span> : null}
                      </td>
                      <td>{occurrence.payee}</td>
                      <td className="amount">
                        <Money cents={occurrence.amountCents} currency={entity.currency} />
                      </td>
                      <td>{occurrence.status}</td>
                      <td>
                        {occurrence.entryId === null && occurrence.status !== 'paid' ? (
                          <button
                            type="button"
                            aria-label={`Mark ${occurrence.billName} of ${occurrence.dueOn} paid`}
                            disabled={pay.isPending}
                            onClick={() => pay.mutate({ billId: occurrence.billId, dueOn: occurrence.dueOn })}
                          >
                            Mark paid
                          </button>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Card>
          )
        }
      </QueryState>
    </>
  );
}
