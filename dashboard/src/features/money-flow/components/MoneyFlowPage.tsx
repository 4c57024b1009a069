import { useState } from 'react';
import { ResponsiveContainer, Sankey, Tooltip } from 'recharts';
import { Card, Empty, Money, NeedsEntity, PageHeader, QueryState } from '../../../components/ui';
import { firstOfYearOn, todayOn } from '../../../lib/dates';
import { useEntity, useScope } from '../../../lib/entity-context';
import { formatCents } from '../../../lib/money';
import type { Entity } from '../../../lib/types';
import { CLASSIFICATION_NAMES, flowsByKind, toSankeyData, useMoneyFlow, useTransfers } from '../api/money-flow';

export function MoneyFlowPage() {
  const entity = useEntity();
  if (!entity) return <NeedsEntity what="Money flows" />;
  return <EntityMoneyFlow key={entity.id} entity={entity} />;
}

function EntityMoneyFlow({ entity }: { entity: Entity }) {
  const today = todayOn();
  const [from, setFrom] = useState(firstOfYearOn(today));
  const [to, setTo] = useState(today);
  const flow = useMoneyFlow(entity.id, from, to);
  const transfers = useTransfers(entity.id);
  const { entities } = useScope();
  const entityName = (id: string) => entities.find((candidate) => candidate.id === id)?.name ?? 'another entity';
  return (
    <>
      <PageHeader title="Money flow" />
      <div className="row filters">
        <label>
          From
          <input type="date" value={from} onChange={(event) => setFrom(event.target.value)} />
        </label>
        <label>
          To
          <input type="date" value={to} onChange={(event) => setTo(event.target.value)} />
        </label>
      </div>
      <QueryState query={flow} label="Loading the money flow">
        {(data) => {
          const sankey = toSankeyData(data);
          if (sankey.links.length === 0) return <Empty>No money moved in this period.</Empty>;
          return (
            <Card title={`From income to spending, ${from} to ${to}`}>
              <div className="chart" role="img" aria-label="Sankey diagram of money flowing from income to spending">
                <ResponsiveContainer width="100%" height={420}>
                  <Sankey data={sankey} nodePadding={24} margin={{ left: 10, right: 140, top: 10, bottom: 10 }} link={{ stroke: '#9bb7d4' }}>
                    <Tooltip formatter={(value) => formatCents(Number(value), entity.currency)} />
                  </Sankey>
                </ResponsiveContainer>
              </div>
              {sankey.omitted.length > 0 ? (
                <p className="muted small">Flows that run back the other way are listed below but not drawn.</p>
              ) : null}
              <table>
                <caption>Flows</caption>
                <tbody>
                  {data.links.map((link) => (
                    <tr key={`${link.source}-${link.target}`}>
                      <td>
                        {data.nodes.find((node) => node.id === link.source)?.name} → {data.nodes.find((node) => node.id === link.target)?.name}
                      </td>
                      <td className="amount">
                        <Money cents={link.valueCents} currency={entity.currency} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Card>
          );
        }}
      </QueryState>
      <QueryState query={transfers} label="Loading inter-entity transfers">
        {(items) => {
          const flows = flowsByKind(items, entity.id, entity.currency, from, to);
          return (
            <Card title="Across the veil, by kind">
              {flows.length === 0 ? (
                <Empty>No money crossed between the books in this period.</Empty>
              ) : (
                <table>
                  <caption className="visually-hidden">Money between {entity.name} and the other books, by kind</caption>
                  <thead>
                    <tr>
                      <th scope="col">Kind</th>
                      <th scope="col">Direction</th>
                      <th scope="col" className="amount">
                        Transfers
                      </th>
                      <th scope="col" className="amount">
                        Total
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {flows.map((flow) => (
                      <tr key={`${flow.classification}-${flow.direction}-${flow.counterpartyEntityId}`}>
                        <th scope="row">{CLASSIFICATION_NAMES[flow.classification] ?? flow.classification}</th>
                        <td>{flow.direction === 'out' ? `${entity.name} → ${entityName(flow.counterpartyEntityId)}` : `${entityName(flow.counterpartyEntityId)} → ${entity.name}`}</td>
                        <td className="amount">{flow.count}</td>
                        <td className="amount">
                          <Money cents={flow.totalCents} currency={entity.currency} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Card>
          );
        }}
      </QueryState>
    </>
  );
}
