import { useState } from 'react';
import { DataTable } from '../../../components/data-table';
import { Card, ErrorNotice, Money, QueryState } from '../../../components/ui';
import { useReviewDecision, useReviewQueue, type BankLine, type ReviewItem } from '../api/imports';

function LineSummary({ line, currency }: { line: BankLine; currency: string }) {
  return (
    <>
      {line.postedOn} · {line.payee ?? line.memo ?? '(no payee)'} · <Money cents={line.amountCents} currency={currency} />{' '}
      <span className="badge">{line.source}</span>
    </>
  );
}

export function ReviewQueue({ entityId, currency }: { entityId: string; currency: string }) {
  const queue = useReviewQueue(entityId);
  const decide = useReviewDecision();
  const [done, setDone] = useState<string | null>(null);
  return (
    <Card title="Review queue">
      <p className="muted small">Lines that look like one already in the books. Accept a real transaction, or reject a duplicate; both need a reason for the audit trail.</p>
      <ErrorNotice error={decide.error} />
      {done ? (
        <p role="status" className="notice success">
          {done}
        </p>
      ) : null}
      <QueryState query={queue} label="Loading the review queue">
        {(items) => (
          <DataTable
            rows={items}
            caption="Lines waiting for review"
            empty="Nothing to review."
            rowKey={(item) => item.line.id}
            columns={[
              { header: 'New line', rowHeader: true, cell: (item) => <LineSummary line={item.line} currency={currency} /> },
              { header: 'May duplicate', cell: (item) => (item.reviewOf ? <LineSummary line={item.reviewOf} currency={currency} /> : 'an earlier line') },
              { header: 'Why', cell: (item) => item.line.statusReason ?? '' },
              {
                header: 'Decision',
                cell: (item) => (
                  <Decision
                    item={item}
                    pending={decide.isPending}
                    onDecide={(decision, reason) => {
                      setDone(null);
                      decide.mutate(
                        { bankLineId: item.line.id, decision, reason },
                        { onSuccess: () => setDone(`${decision === 'accept' ? 'Accepted' : 'Rejected'} ${item.line.payee ?? 'the line'} of ${item.line.postedOn}.`) },
                      );
                    }}
                  />
                ),
              },
            ]}
          />
        )}
      </QueryState>
    </Card>
  );
}

const REASON_LENGTH_MAX = 500;

function Decision({ item, pending, onDecide }: { item: ReviewItem; pending: boolean; onDecide: (decision: 'accept' | 'reject', reason: string) => void }) {
  const [reason, setReason] = useState('');
  const label = `${item.line.payee ?? 'line'} of ${item.line.postedOn}`;
  const ready = reason.trim().length > 0 && !pending;
  return (
    <div className="row compact">
      <input aria-label={`Reason for ${label}`} placeholder="Reason" maxLength={REASON_LENGTH_MAX} value={reason} onChange={(event) => setReason(event.target.value)} />
      <button type="button" aria-label={`Accept ${label}`} disabled={!ready} onClick={() => onDecide('accept', reason.trim())}>
        Accept
      </button>
      <button type="button" aria-label={`Reject ${label}`} disabled={!ready} onClick={() => onDecide('reject', reason.trim())}>
        Reject
      </button>
    </div>
  );
}
