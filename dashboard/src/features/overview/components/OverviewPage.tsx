import { useState } from 'react';
import { Link } from 'react-router';
import { Bar, BarChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Card, Empty, Loading, Money, PageHeader, QueryState, ReadOnlyNotice, Stat } from '../../../components/ui';
import { entityLabel, useScope } from '../../../lib/entity-context';
import { formatCents, formatCentsCompact } from '../../../lib/money';
import { CASH_KINDS, type Entity } from '../../../lib/types';
import {
  consolidatedSeries,
  netWorthCents,
  useBalances,
  useConsolidated,
  useConsolidatedNetWorthHistory,
  useNetWorthHistory,
  useRecentEntries,
  useVeilHealthSummary,
  type HistoryInterval,
} from '../api/overview';
import { IntervalPicker, NetWorthChart } from './NetWorthChart';

export function OverviewPage() {
  const { scope } = useScope();
  if (!scope) return <Loading />;
  if (scope.kind === 'consolidated') return <ConsolidatedOverview entities={scope.entities} />;
  return <EntityOverview entity={scope.entity} />;
}

function EntityOverview({ entity }: { entity: Entity }) {
  const balances = useBalances(entity.id);
  const health = useVeilHealthSummary(entity.id);
  const recent = useRecentEntries(entity.id);
  const [interval, setHistoryInterval] = useState<HistoryInterval>('month');
  const history = useNetWorthHistory(entity.id, interval);
  const currency = entity.currency;
  return (
    <>
      <PageHeader title={`Overview — ${entityLabel(entity)}`} />
      <QueryState query={balances} label="Loading balances">
        {(data) => {
          const cashCents = data.accounts.filter((account) => CASH_KINDS.has(account.kind)).reduce((sum, account) => sum + account.balanceCents, 0);
          const chart = data.accounts
            .filter((account) => account.class === 'asset' || account.class === 'liability')
            .map((account) => ({ name: account.name, cents: account.naturalBalanceCents }));
          return (
            <>
              <div className="stats">
                <Stat label="Net worth" cents={netWorthCents(data.accounts)} currency={currency} hint="assets less liabilities" />
                <Stat label="Cash" cents={cashCents} currency={currency} hint="checking, savings, money market, cash" />
              </div>
              <div className="grid">
                <Card title="Net worth over time">
                  <IntervalPicker value={interval} onChange={setHistoryInterval} />
                  <QueryState query={history} label="Loading net worth history">
                    {(answer) => (
                      <NetWorthChart
                        series={[{ key: 'netWorth', name: 'Net worth', points: answer.byCurrency[currency] ?? [] }]}
                        currency={currency}
                        interval={answer.interval}
                        caption={`Net worth at the end of each ${answer.interval === 'month' ? 'month' : 'day'}, ${answer.fromOn} to ${answer.toOn}`}
                      />
                    )}
                  </QueryState>
                </Card>
                <Card title="Balances by account">
                  <div className="chart" role="img" aria-label="Balances of asset and liability accounts">
                    <ResponsiveContainer width="100%" height={220}>
                      <BarChart data={chart} layout="vertical" margin={{ left: 20 }}>
                        <XAxis type="number" tickFormatter={(cents: number) => formatCentsCompact(cents, currency)} />
                        <YAxis type="category" dataKey="name" width={130} tick={{ fontSize: 12 }} />
                        <Tooltip formatter={(cents) => formatCents(Number(cents), currency)} />
                        <Bar isAnimationActive={false} dataKey="cents" name="Balance" fill="#2f5d8a" />
                      </BarChart>
                    </ResponsiveContainer>
                  </div>
                  <table>
                    <caption className="visually-hidden">Balances by account</caption>
                    <tbody>
                      {data.accounts
                        .filter((account) => account.class === 'asset' || account.class === 'liability')
                        .map((account) => (
                          <tr key={account.id}>
                            <th scope="row">{account.name}</th>
                            <td className="amount">
                              <Money cents={account.naturalBalanceCents} currency={account.currency} />
                            </td>
                          </tr>
                        ))}
                    </tbody>
                  </table>
                </Card>
              </div>
            </>
          );
        }}
      </QueryState>
      <div className="grid">
        <Card title="Veil health">
          <QueryState query={health}>
            {(data) => (
              <>
                <p className={`score ${data.score >= 90 ? 'good' : data.score >= 60 ? 'fair' : 'poor'}`}>
                  <span aria-label="Veil health score">{data.score}</span>/100
                </p>
                <p>{data.findings.length === 0 ? data.reasons[0] : `${data.findings.length} finding(s) to fix`}</p>
                <Link to="/app/veil">Inter-entity and veil health</Link>
              </>
            )}
          </QueryState>
        </Card>
        <Card title="Recent activity">
          <QueryState query={recent}>
            {(page) =>
              page.items.length === 0 ? (
                <Empty>Nothing booked yet.</Empty>
              ) : (
                <ul className="activity">
                  {page.items.map((entry) => {
                    const debitCents = entry.postings.filter((posting) => posting.amountCents > 0).reduce((sum, posting) => sum + posting.amountCents, 0);
                    return (
                      <li key={entry.id}>
                        <span className="muted">{entry.postedOn}</span> <span>{entry.description}</span> <Money cents={debitCents} currency={currency} />
                      </li>
                    );
                  })}
                </ul>
              )
            }
          </QueryState>
        </Card>
      </div>
    </>
  );
}

function ConsolidatedOverview({ entities }: { entities: Entity[] }) {
  const consolidated = useConsolidated(entities.map((entity) => entity.id));
  const [interval, setHistoryInterval] = useState<HistoryInterval>('month');
  const history = useConsolidatedNetWorthHistory(
    entities.map((entity) => entity.id),
    interval,
  );
  return (
    <>
      <PageHeader title="Overview — Consolidated (read-only)" />
      <ReadOnlyNotice />
      <QueryState query={consolidated}>
        {(data) => (
          <>
            {Object.entries(data.byCurrency).map(([currency, totals]) => (
              <div className="stats" key={currency}>
                <Stat label="Net worth" cents={totals.netWorthCents} currency={currency} hint="inter-entity balances eliminated" />
                <Stat label="Net income" cents={totals.netIncomeCents} currency={currency} hint={`${data.fromOn} to ${data.toOn}`} />
                <Stat label="Cash flow" cents={totals.cashFlowCents} currency={currency} />
                <Stat label="Eliminated" cents={totals.eliminatedCents} currency={currency} hint={`${totals.eliminatedAccounts} inter-entity accounts`} />
              </div>
            ))}
            <Card title="Net worth over time">
              <IntervalPicker value={interval} onChange={setHistoryInterval} />
              <QueryState query={history} label="Loading net worth history">
                {(answer) => (
                  <>
                    {Object.keys(answer.byCurrency).length === 0 ? <Empty>No asset or liability accounts yet.</Empty> : null}
                    {Object.keys(answer.byCurrency).map((currency) => (
                      <NetWorthChart
                        key={currency}
                        series={consolidatedSeries(answer, currency)}
                        currency={currency}
                        interval={answer.interval}
                        caption={`Net worth in ${currency}, consolidated (inter-entity balances eliminated) and per entity, ${answer.fromOn} to ${answer.toOn}`}
                      />
                    ))}
                  </>
                )}
              </QueryState>
            </Card>
            <Card title="Net worth by entity">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Entity</th>
                    <th scope="col">Kind</th>
                    <th scope="col" className="amount">
                      Net worth
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.perEntity.map((row) => (
                    <tr key={row.entityId}>
                      <th scope="row">{row.name}</th>
                      <td>{row.kind === 'llc' ? 'LLC' : 'Personal'}</td>
                      <td className="amount">
                        {Object.entries(row.netWorthCentsByCurrency).map(([currency, cents]) => (
                          <Money key={currency} cents={cents} currency={currency} />
                        ))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Card>
          </>
        )}
      </QueryState>
    </>
  );
}
