import { useState } from 'react';
import { DataTable } from '../../../components/data-table';
import { Card, Empty, ErrorNotice, Money, NeedsEntity, PageHeader, QueryState } from '../../../components/ui';
import { download } from '../../../lib/api-client';
import { todayOn } from '../../../lib/dates';
import { entityLabel, useEntity, useScope } from '../../../lib/entity-context';
import { formatBasisPoints } from '../../../lib/money';
import type { Entity } from '../../../lib/types';
import { CLASSIFICATIONS, classificationLabel, useDocuments, useReverseTransfer, useTransfers, type Transfer } from '../api/veil';
import { HealthCard } from './HealthCard';
import { NewTransferForm } from './NewTransferForm';

export function VeilPage() {
  const entity = useEntity();
  const { entities } = useScope();
  if (!entity) return <NeedsEntity what="Transfers, loans and documents" />;
  const other = entities.find((candidate) => candidate.id !== entity.id && candidate.kind !== entity.kind);
  return <EntityVeil key={entity.id} entity={entity} other={other} />;
}

function EntityVeil({ entity, other }: { entity: Entity; other: Entity | undefined }) {
  const [classification, setClassification] = useState('');
  const [year, setYear] = useState(Number(todayOn().slice(0, 4)));
  const transfers = useTransfers(entity.id, undefined, classification || undefined);
  const loans = useTransfers(entity.id, undefined, 'loan');
  const reverse = useReverseTransfer();
  return (
    <>
      <PageHeader title="Inter-entity and veil" />
      {other ? <NewTransferForm entity={entity} other={other} /> : <p className="notice info">There is no other entity to move money with.</p>}
      <Card title="Transfers">
        <label>
          Classification
          <select value={classification} onChange={(event) => setClassification(event.target.value)}>
            <option value="">All classifications</option>
            {CLASSIFICATIONS.map((item) => (
              <option key={item.value} value={item.value}>
                {item.label}
              </option>
            ))}
          </select>
        </label>
        <ErrorNotice error={reverse.error} />
        <QueryState query={transfers} label="Loading transfers">
          {(items) => (
            <DataTable
              rows={items}
              caption="Transfers"
              empty="No transfers."
              rowKey={(transfer) => transfer.id}
              rowClassName={(transfer) => (transfer.reversal ? 'reversed' : undefined)}
              columns={[
                { header: 'Date', cell: (transfer) => transfer.postedOn },
                {
                  header: 'Classification',
                  cell: (transfer) => (
                    <>
                      {classificationLabel(transfer.classification)}
                      {transfer.warnings.length > 0 ? (
                        <span className="badge warn" title={transfer.warnings.map((warning) => warning.message).join('\n')}>
                          {transfer.warnings.length} warning
                        </span>
                      ) : null}
                      {transfer.reversal ? <span className="badge">reversed</span> : null}
                    </>
                  ),
                },
                {
                  header: 'Direction',
                  cell: (transfer) => (transfer.fromEntityId === entity.id ? `out to ${other?.name ?? 'the other entity'}` : `in from ${other?.name ?? 'the other entity'}`),
                },
                { header: 'Memo', cell: (transfer) => transfer.memo },
                { header: 'Amount', amount: true, cell: (transfer) => <Money cents={transfer.amountCents} currency={transfer.currency} /> },
                {
                  header: 'Document',
                  cell: (transfer) =>
                    transfer.document ? (
                      <button type="button" className="link" onClick={() => void download(`/documents/${transfer.document?.id}/pdf`, 'document.pdf')}>
                        {transfer.document.title} (PDF)
                      </button>
                    ) : null,
                },
                {
                  header: 'Actions',
                  hideHeader: true,
                  cell: (transfer) =>
                    !transfer.reversal ? (
                      <button
                        type="button"
                        aria-label={`Reverse transfer of ${transfer.postedOn}`}
                        onClick={() => {
                          if (window.confirm('Reverse this transfer in both books?')) reverse.mutate(transfer.id);
                        }}
                      >
                        Reverse
                      </button>
                    ) : null,
                },
              ]}
            />
          )}
        </QueryState>
      </Card>
      <Card title="Loans">
        <QueryState query={loans}>
          {(items) => (items.length === 0 ? <Empty>No loans between the books.</Empty> : items.map((loan) => <LoanDetails key={loan.id} loan={loan} />))}
        </QueryState>
      </Card>
      <HealthCard entity={entity} other={other} />
      <DocumentsCard entity={entity} year={year} onYear={setYear} />
    </>
  );
}

function LoanDetails({ loan }: { loan: Transfer }) {
  const schedule = loan.terms.schedule ?? [];
  const today = todayOn();
  const outstanding = [...schedule].reverse().find((row) => row.dueOn <= today);
  return (
    <div className="loan stack">
      <p>
        {loan.postedOn}: <Money cents={loan.amountCents} currency={loan.currency} /> at{' '}
        {loan.terms.annualRateBasisPoints !== undefined ? formatBasisPoints(loan.terms.annualRateBasisPoints) : '?'} for {loan.terms.termMonths} months,{' '}
        {loan.terms.paymentFrequency}
        {loan.reversal ? <span className="badge">reversed</span> : null}
        {outstanding ? (
          <>
            {' '}
            — balance after the last installment due by today: <Money cents={outstanding.balanceAfterCents} currency={loan.currency} />
          </>
        ) : null}
      </p>
      {loan.warnings.map((warning) => (
        <p key={warning.code} className="notice warn" role="note">
          <strong>{warning.code === 'loan_below_afr' ? 'Below the AFR: ' : ''}</strong>
          {warning.message}
        </p>
      ))}
      <details>
        <summary>Amortization schedule ({schedule.length} installments)</summary>
        <DataTable
          rows={schedule}
          className="schedule"
          caption="Amortization schedule"
          empty="No installments."
          rowKey={(row) => String(row.number)}
          columns={[
            { header: '#', cell: (row) => row.number },
            { header: 'Due', cell: (row) => row.dueOn },
            { header: 'Payment', amount: true, cell: (row) => <Money cents={row.paymentCents} currency={loan.currency} /> },
            { header: 'Interest', amount: true, cell: (row) => <Money cents={row.interestCents} currency={loan.currency} /> },
            { header: 'Principal', amount: true, cell: (row) => <Money cents={row.principalCents} currency={loan.currency} /> },
            { header: 'Balance after', amount: true, cell: (row) => <Money cents={row.balanceAfterCents} currency={loan.currency} /> },
          ]}
        />
      </details>
    </div>
  );
}

function DocumentsCard({ entity, year, onYear }: { entity: Entity; year: number; onYear: (year: number) => void }) {
  const documents = useDocuments(entity.id, year);
  const [error, setError] = useState<unknown>(null);
  const fetchFile = (path: string, name: string) => {
    setError(null);
    download(path, name).catch(setError);
  };
  return (
    <Card title="Documents">
      <div className="row">
        <label>
          Year
          <input type="number" min={1900} max={2199} value={year} onChange={(event) => onYear(Number(event.target.value))} />
        </label>
        <button type="button" onClick={() => fetchFile(`/entities/${entity.id}/binder/${year}`, `veil-binder-${year}.zip`)}>
          Download the veil binder for {year}
        </button>
      </div>
      <ErrorNotice error={error} />
      <QueryState query={documents}>
        {(items) =>
          items.length === 0 ? (
            <Empty>No documents for {year}.</Empty>
          ) : (
            <ul className="documents">
              {items.map((document) => (
                <li key={document.id}>
                  <span>{document.title}</span>{' '}
                  <button type="button" className="link" onClick={() => fetchFile(`/documents/${document.id}/pdf`, `${document.kind}.pdf`)}>
                    PDF
                  </button>{' '}
                  <button type="button" className="link" onClick={() => fetchFile(`/documents/${document.id}/markdown`, `${document.kind}.md`)}>
                    Markdown
                  </button>
                  <code className="muted small" title="SHA-256">
                    {document.sha256.slice(0, 12)}…
                  </code>
                </li>
              ))}
            </ul>
          )
        }
      </QueryState>
      <p className="muted small">Documents of {entityLabel(entity)}.</p>
    </Card>
  );
}
