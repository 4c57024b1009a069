import { useState, type FormEvent, type ReactNode } from 'react';
import { DataTable } from '../../../components/data-table';
import { Card, ErrorNotice, Money, NeedsEntity, PageHeader, QueryState } from '../../../components/ui';
import { buildUrl, download } from '../../../lib/api-client';
import { firstOfYearOn, todayOn } from '../../../lib/dates';
import { useEntity } from '../../../lib/entity-context';
import type { Entity } from '../../../lib/types';
import { useReport, useScheduleC, type BalanceSheet, type IncomeStatement, type Period, type ReportName, type Section, type TrialBalance } from '../api/reports';

const TABS: { id: ReportName | 'schedule-c'; label: string }[] = [
  { id: 'balance-sheet', label: 'Balance sheet' },
  { id: 'income-statement', label: 'Profit and loss' },
  { id: 'trial-balance', label: 'Trial balance' },
  { id: 'schedule-c', label: 'Schedule C' },
];

export function ReportsPage() {
  const entity = useEntity();
  if (!entity) return <NeedsEntity what="Reports" />;
  return <EntityReports key={entity.id} entity={entity} />;
}

function EntityReports({ entity }: { entity: Entity }) {
  const today = todayOn();
  const [tab, setTab] = useState<(typeof TABS)[number]['id']>('balance-sheet');
  const [draft, setDraft] = useState<Period>({ from: firstOfYearOn(today), to: today });
  const [period, setPeriod] = useState<Period>(draft);
  const [error, setError] = useState<unknown>(null);
  const tabs = TABS.filter((item) => item.id !== 'schedule-c' || entity.kind === 'llc');

  function apply(event: FormEvent) {
    event.preventDefault();
    setPeriod({ ...draft });
  }

  return (
    <>
      <PageHeader title="Reports" />
      <form className="row filters" onSubmit={apply} aria-label="Report period">
        <label>
          From
          <input type="date" value={draft.from ?? ''} onChange={(event) => setDraft({ ...draft, from: event.target.value })} />
        </label>
        <label>
          To
          <input type="date" value={draft.to ?? ''} onChange={(event) => setDraft({ ...draft, to: event.target.value })} />
        </label>
        <button type="submit">Show period</button>
        {tab !== 'schedule-c' ? (
          <button
            type="button"
            onClick={() => {
              setError(null);
              download(buildUrl(`/entities/${entity.id}/reports/${tab}`, { ...period, format: 'csv' }), `${tab}.csv`).catch(setError);
            }}
          >
            Download CSV
          </button>
        ) : null}
      </form>
      <ErrorNotice error={error} />
      <div role="tablist" aria-label="Reports" className="tabs">
        {tabs.map((item) => (
          <button key={item.id} role="tab" type="button" aria-selected={tab === item.id} onClick={() => setTab(item.id)}>
            {item.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" aria-label={tabs.find((item) => item.id === tab)?.label}>
        {tab === 'balance-sheet' ? <BalanceSheetView entityId={entity.id} period={period} /> : null}
        {tab === 'income-statement' ? <IncomeStatementView entityId={entity.id} period={period} /> : null}
        {tab === 'trial-balance' ? <TrialBalanceView entityId={entity.id} period={period} /> : null}
        {tab === 'schedule-c' ? <ScheduleCView entityId={entity.id} year={Number((period.to ?? today).slice(0, 4))} /> : null}
      </div>
    </>
  );
}

/** One labelled amount row of a report: a total (`total`, `grand-total`) or a plain line. */
function AmountRow({ label, cents, currency, className, span = 1, header = true }: { label: string; cents: number; currency: string; className?: string; span?: number; header?: boolean }) {
  return (
    <tr className={className}>
      {header ? (
        <th scope="row" colSpan={span}>
          {label}
        </th>
      ) : (
        <td colSpan={span}>{label}</td>
      )}
      <td className="amount">
        <Money cents={cents} currency={currency} />
      </td>
    </tr>
  );
}

/** A report's parts, one card per currency it holds, behind the query's loading and error states. */
function PerCurrency<Data extends { byCurrency: { currency: string }[] }>({
  query,
  label,
  title,
  children,
}: {
  query: { data: Data | undefined; error: unknown; isLoading: boolean };
  label: string;
  title: (data: Data) => string;
  children: (part: Data['byCurrency'][number], data: Data) => ReactNode;
}) {
  return (
    <QueryState query={query} label={label}>
      {(data) =>
        data.byCurrency.map((part) => (
          <Card key={part.currency} title={title(data)}>
            {children(part, data)}
          </Card>
        ))
      }
    </QueryState>
  );
}

function SectionRows({ title, section, currency }: { title: string; section: Section; currency: string }) {
  return (
    <>
      <tr className="section">
        <th scope="rowgroup" colSpan={2}>
          {title}
        </th>
      </tr>
      {section.lines.map((line) => (
        <AmountRow key={line.accountId} header={false} label={line.name} cents={line.naturalBalanceCents} currency={currency} />
      ))}
      <AmountRow className="total" label={`Total ${title.toLowerCase()}`} cents={section.totalCents} currency={currency} />
    </>
  );
}

function BalanceSheetView({ entityId, period }: { entityId: string; period: Period }) {
  return (
    <PerCurrency query={useReport<BalanceSheet>(entityId, 'balance-sheet', period)} label="Loading the balance sheet" title={(data) => `Balance sheet as of ${data.toOn}`}>
      {(part, data) => (
        <table className="report">
          <tbody>
            <SectionRows title="Assets" section={part.assets} currency={part.currency} />
            <SectionRows title="Liabilities" section={part.liabilities} currency={part.currency} />
            <SectionRows title="Equity" section={part.equity} currency={part.currency} />
            <AmountRow header={false} label={`Retained earnings (before ${data.fromOn})`} cents={part.retainedEarningsCents} currency={part.currency} />
            <AmountRow header={false} label="Current earnings" cents={part.currentEarningsCents} currency={part.currency} />
            <AmountRow className="grand-total" label="Liabilities and equity" cents={part.liabilitiesAndEquityCents} currency={part.currency} />
          </tbody>
        </table>
      )}
    </PerCurrency>
  );
}

function IncomeStatementView({ entityId, period }: { entityId: string; period: Period }) {
  return (
    <PerCurrency query={useReport<IncomeStatement>(entityId, 'income-statement', period)} label="Loading profit and loss" title={(data) => `Profit and loss, ${data.fromOn} to ${data.toOn}`}>
      {(part) => (
        <table className="report">
          <tbody>
            <SectionRows title="Income" section={part.income} currency={part.currency} />
            <SectionRows title="Expenses" section={part.expenses} currency={part.currency} />
            <AmountRow className="grand-total" label="Net income" cents={part.netIncomeCents} currency={part.currency} />
          </tbody>
        </table>
      )}
    </PerCurrency>
  );
}

function TrialBalanceView({ entityId, period }: { entityId: string; period: Period }) {
  return (
    <PerCurrency query={useReport<TrialBalance>(entityId, 'trial-balance', period)} label="Loading the trial balance" title={(data) => `Trial balance as of ${data.toOn}`}>
      {(part, data) => (
        <DataTable
          rows={part.lines}
          className="report"
          caption="Trial balance"
          empty={`No postings up to ${data.toOn}.`}
          rowKey={(line) => line.accountId}
          columns={[
            { header: 'Account', cell: (line) => line.name },
            { header: 'Debit', amount: true, cell: (line) => (line.balanceCents > 0 ? <Money cents={line.balanceCents} currency={part.currency} /> : null) },
            { header: 'Credit', amount: true, cell: (line) => (line.balanceCents < 0 ? <Money cents={-line.balanceCents} currency={part.currency} /> : null) },
          ]}
          footer={
            <tr className="grand-total">
              <th scope="row">Totals {part.debitCents === part.creditCents ? '(balanced)' : '(NOT balanced)'}</th>
              <td className="amount">
                <Money cents={part.debitCents} currency={part.currency} />
              </td>
              <td className="amount">
                <Money cents={part.creditCents} currency={part.currency} />
              </td>
            </tr>
          }
        />
      )}
    </PerCurrency>
  );
}

function ScheduleCView({ entityId, year }: { entityId: string; year: number }) {
  const report = useScheduleC(entityId, year, true);
  return (
    <QueryState query={report} label="Loading Schedule C">
      {(data) => (
        <Card title={`Schedule C, ${data.year}`}>
          <DataTable
            rows={data.lines.filter((line) => line.amountCents !== 0)}
            className="report"
            caption={`Schedule C lines, ${data.year}`}
            empty={`No income or expenses in ${data.year}.`}
            rowKey={(line) => line.line}
            columns={[
              { header: 'Line', cell: (line) => line.line },
              {
                header: 'Description',
                cell: (line) => (
                  <>
                    {line.label}
                    <div className="muted small">{line.accounts.map((account) => account.name).join(', ')}</div>
                  </>
                ),
              },
              { header: 'Amount', amount: true, cell: (line) => <Money cents={line.amountCents} currency={data.currency} /> },
            ]}
            footer={
              <>
                <AmountRow className="total" span={2} label="Gross income" cents={data.grossIncomeCents} currency={data.currency} />
                <AmountRow className="total" span={2} label="Total expenses" cents={data.totalExpensesCents} currency={data.currency} />
                <AmountRow className="grand-total" span={2} label="Net profit (line 31)" cents={data.netProfitCents} currency={data.currency} />
              </>
            }
          />
          {data.excluded.length > 0 ? (
            <>
              <h3>Excluded</h3>
              <ul>
                {data.excluded.map((item) => (
                  <li key={item.accountId}>
                    {item.name} <Money cents={item.amountCents} currency={data.currency} />: {item.reason}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </Card>
      )}
    </QueryState>
  );
}
