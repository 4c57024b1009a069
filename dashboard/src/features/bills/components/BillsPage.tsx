import { useState } from 'react';
import { DataTable } from '../../../components/data-table';
import { Card, ErrorNotice, Money, NeedsEntity, PageHeader, QueryState } from '../../../components/ui';
import { monthBounds, monthOf, todayOn } from '../../../lib/dates';
import { useEntity } from '../../../lib/entity-context';
import type { Entity } from '../../../lib/types';
import { useOccurrences, usePayOccurrence } from '../api/bills';
import { monthTitle, sameDayInMonth } from '../utils/calendar';
import { BillsCalendar } from './BillsCalendar';

export function BillsPage() {
  const entity = useEntity();
  if (!entity) return <NeedsEntity what="Bills" />;
  return <EntityBills key={entity.id} entity={entity} />;
}

function EntityBills({ entity }: { entity: Entity }) {
  const today = todayOn();
  // One state: the selected day; the month shown is its month, so the calendar's keys and the month buttons agree.
  const [selectedOn, setSelectedOn] = useState(today);
  const month = monthOf(selectedOn);
  const { fromOn, toOn } = monthBounds(month);
  const occurrences = useOccurrences(entity.id, fromOn, toOn);
  const pay = usePayOccurrence();
  return (
    <>
      <PageHeader title="Bills">
        <button type="button" aria-label="Previous month" onClick={() => setSelectedOn(sameDayInMonth(selectedOn, -1))}>
          ←
        </button>
        <span aria-live="polite">{monthTitle(month)}</span>
        <button type="button" aria-label="Next month" onClick={() => setSelectedOn(sameDayInMonth(selectedOn, 1))}>
          →
        </button>
      </PageHeader>
      <ErrorNotice error={pay.error} />
      <QueryState query={occurrences} label="Loading bills">
        {(items) => (
          <div className="bills-layout">
            <Card title="Calendar">
              <BillsCalendar month={month} selectedOn={selectedOn} onSelect={setSelectedOn} occurrences={items} currency={entity.currency} todayOn={today} />
            </Card>
            <Card title={`Due in ${monthTitle(month)}`}>
              <DataTable
                rows={items}
                caption={`Bills due in ${month}`}
                empty={`No bills due in ${month}.`}
                rowKey={(occurrence) => `${occurrence.billId}-${occurrence.dueOn}`}
                columns={[
                  { header: 'Due', cell: (occurrence) => occurrence.dueOn },
                  {
                    header: 'Bill',
                    cell: (occurrence) => (
                      <>
                        {occurrence.billName}
                        {occurrence.autopay ? <span className="badge">autopay</span> : null}
                      </>
                    ),
                  },
                  { header: 'Payee', cell: (occurrence) => occurrence.payee },
                  { header: 'Amount', amount: true, cell: (occurrence) => <Money cents={occurrence.amountCents} currency={entity.currency} /> },
                  { header: 'Status', cell: (occurrence) => <span className={`badge status-${occurrence.status}`}>{occurrence.status}</span> },
                  {
                    header: 'Actions',
                    hideHeader: true,
                    cell: (occurrence) =>
                      occurrence.entryId === null && occurrence.status !== 'paid' ? (
                        <button
                          type="button"
                          aria-label={`Mark ${occurrence.billName} of ${occurrence.dueOn} paid`}
                          disabled={pay.isPending}
                          onClick={() => pay.mutate({ billId: occurrence.billId, dueOn: occurrence.dueOn })}
                        >
                          Mark paid
                        </button>
                      ) : null,
                  },
                ]}
              />
            </Card>
          </div>
        )}
      </QueryState>
    </>
  );
}
