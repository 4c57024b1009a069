import { useState } from 'react';
import { DataTable } from '../../../components/data-table';
import { Card, ErrorNotice, Money, NeedsEntity, PageHeader, QueryState } from '../../../components/ui';
import { todayOn } from '../../../lib/dates';
import { useEntity } from '../../../lib/entity-context';
import { formatBasisPoints } from '../../../lib/money';
import type { Entity } from '../../../lib/types';
import {
  useAccountNames,
  useContribute,
  useContributionSummary,
  useHoldings,
  usePlans,
  useSetPlanActive,
  type AccountHoldings,
  type LimitSummary,
  type Standing,
} from '../api/investments';

// Investments of one set of books: holdings per brokerage/retirement account, the tax year's contributions
// against the IRS limits (with what active plans will still add), and the auto-contribution plans.

const STANDING_LABEL: Record<Standing, string> = { ok: 'within the limit', near: '90% or more of the limit', exceeded: 'over the limit', unknown: 'limit unknown' };
const KIND_LABEL: Record<string, string> = { ira: 'IRA', '401k_employee': '401(k) deferral', sep_ira: 'SEP-IRA' };

/** Share of the limit in basis points, in integers (never a float ratio of money). */
export function shareBasisPoints(cents: number, limitCents: number): number {
  if (limitCents <= 0) return 0;
  return Math.floor((cents * 10_000) / limitCents);
}

export function InvestmentsPage() {
  const entity = useEntity();
  if (!entity) return <NeedsEntity what="Investments" />;
  return <EntityInvestments key={entity.id} entity={entity} />;
}

function EntityInvestments({ entity }: { entity: Entity }) {
  const [year, setYear] = useState(Number(todayOn().slice(0, 4)));
  return (
    <>
      <PageHeader title="Investments">
        <button type="button" aria-label="Previous year" onClick={() => setYear(year - 1)}>
          ←
        </button>
        <span aria-live="polite">{year}</span>
        <button type="button" aria-label="Next year" onClick={() => setYear(year + 1)}>
          →
        </button>
      </PageHeader>
      <Limits entity={entity} year={year} />
      <Plans entity={entity} />
      <Holdings entity={entity} />
    </>
  );
}

function Limits({ entity, year }: { entity: Entity; year: number }) {
  const summary = useContributionSummary(entity.id, year);
  return (
    <QueryState query={summary} label="Loading contribution limits">
      {(data) => (
        <Card title={`Contributions vs limits, ${year}`}>
          {data.birthYear === null ? (
            <p className="muted small">No birth year on file: limits shown without catch-up contributions.</p>
          ) : (
            <p className="muted small">Born {data.birthYear}: catch-up contributions included where the age allows.</p>
          )}
          <DataTable
            rows={data.limits}
            caption={`Contributions against limits in ${year}`}
            empty="No limits."
            rowKey={(limit) => limit.kind}
            columns={[
              { header: 'Contribution type', rowHeader: true, cell: (limit) => limit.label },
              { header: 'Contributed', amount: true, cell: (limit) => <Money cents={limit.contributedCents} currency={entity.currency} /> },
              { header: 'Still planned', amount: true, cell: (limit) => <Money cents={limit.plannedCents} currency={entity.currency} /> },
              {
                header: 'Limit',
                amount: true,
                cell: (limit) => (limit.limitCents === null ? <span className="muted">unknown for {year}</span> : <Money cents={limit.limitCents} currency={entity.currency} />),
              },
              { header: 'Used', cell: (limit) => <Usage limit={limit} /> },
              { header: 'Status', cell: (limit) => <span className={`badge standing-${limit.standing}`}>{STANDING_LABEL[limit.standing]}</span> },
            ]}
          />
          {data.limits
            .filter((limit) => limit.warning !== null)
            .map((limit) => (
              <p key={limit.kind} className="notice warn" role="note">
                {limit.warning?.message}
              </p>
            ))}
          <p className="muted small">Limits: {data.limits.find((limit) => limit.source)?.source ?? 'no table row'} (secondary sources; check the IRS notice).</p>
        </Card>
      )}
    </QueryState>
  );
}

function Usage({ limit }: { limit: LimitSummary }) {
  if (limit.limitCents === null) return <span className="muted">—</span>;
  const share = shareBasisPoints(limit.contributedCents, limit.limitCents);
  return (
    <>
      <progress max={10_000} value={Math.min(share, 10_000)} aria-label={`${limit.label}: ${formatBasisPoints(share)} of the limit used`} />{' '}
      <span className="small">{formatBasisPoints(share)}</span>
    </>
  );
}

function Plans({ entity }: { entity: Entity }) {
  const plans = usePlans(entity.id);
  const names = useAccountNames(entity.id);
  const setActive = useSetPlanActive();
  const contribute = useContribute();
  const nameOf = (id: string) => names.data?.get(id) ?? id;
  return (
    <QueryState query={plans} label="Loading contribution plans">
      {(replies) => (
        <Card title="Contribution plans">
          <ErrorNotice error={setActive.error ?? contribute.error} />
          <DataTable
            rows={replies}
            caption="Auto-contribution plans"
            empty="No contribution plans. Create one through the API or the n8n nodes."
            rowKey={(reply) => reply.plan.id}
            columns={[
              { header: 'Plan', rowHeader: true, cell: (reply) => reply.plan.name },
              { header: 'Counts against', cell: (reply) => (reply.plan.limitKind ? KIND_LABEL[reply.plan.limitKind] : 'no limit') },
              { header: 'Amount', amount: true, cell: (reply) => <Money cents={reply.plan.amountCents} currency={entity.currency} /> },
              { header: 'Schedule', cell: (reply) => <code>{reply.plan.rrule}</code> },
              { header: 'From → to', cell: (reply) => `${nameOf(reply.plan.fromAccountId)} → ${nameOf(reply.plan.toAccountId)}` },
              { header: 'Next', cell: (reply) => (reply.plan.active ? (reply.plan.nextDueOn ?? 'ended') : 'paused') },
              {
                header: 'Warnings',
                cell: (reply) =>
                  reply.warnings.length === 0 ? (
                    <span className="muted">none</span>
                  ) : (
                    <ul className="plain">
                      {reply.warnings.map((warning) => (
                        <li key={`${warning.code}-${warning.year}`} className="warn">
                          {warning.message}
                        </li>
                      ))}
                    </ul>
                  ),
              },
              {
                header: 'Actions',
                hideHeader: true,
                cell: (reply) => (
                  <>
                    {reply.plan.active && reply.plan.nextDueOn ? (
                      <button
                        type="button"
                        disabled={contribute.isPending}
                        aria-label={`Contribute ${reply.plan.name} of ${reply.plan.nextDueOn}`}
                        onClick={() => contribute.mutate({ planId: reply.plan.id, dueOn: reply.plan.nextDueOn as string })}
                      >
                        Contribute now
                      </button>
                    ) : null}{' '}
                    <button
                      type="button"
                      disabled={setActive.isPending}
                      aria-label={`${reply.plan.active ? 'Pause' : 'Resume'} ${reply.plan.name}`}
                      onClick={() => setActive.mutate({ planId: reply.plan.id, active: !reply.plan.active })}
                    >
                      {reply.plan.active ? 'Pause' : 'Resume'}
                    </button>
                  </>
                ),
              },
            ]}
          />
        </Card>
      )}
    </QueryState>
  );
}

function Holdings({ entity }: { entity: Entity }) {
  const holdings = useHoldings(entity.id);
  return (
    <QueryState query={holdings} label="Loading holdings">
      {(accounts) => (
        <Card title="Holdings">
          {accounts.length === 0 ? <p className="empty muted">No brokerage or retirement accounts in these books.</p> : accounts.map((account) => <AccountTable key={account.accountId} account={account} />)}
        </Card>
      )}
    </QueryState>
  );
}

function AccountTable({ account }: { account: AccountHoldings }) {
  return (
    <section aria-label={account.accountName} className="holdings-account">
      <h3>
        {account.accountName} <span className="badge">{account.kind}</span>
      </h3>
      <p className="small">
        Market value <Money cents={account.valueCents} currency={account.currency} />, books <Money cents={account.balanceCents} currency={account.currency} />
      </p>
      <DataTable
        rows={account.holdings}
        caption={`Holdings of ${account.accountName}`}
        empty="No holdings yet: refresh investments from the bank, or enter them."
        rowKey={(holding) => holding.security.id}
        columns={[
          { header: 'Security', rowHeader: true, cell: (holding) => `${holding.security.ticker ?? ''} ${holding.security.name}`.trim() },
          { header: 'Quantity', amount: true, cell: (holding) => holding.quantity },
          { header: 'Price', amount: true, cell: (holding) => (holding.priceCents === null ? '—' : <Money cents={holding.priceCents} currency={account.currency} />) },
          { header: 'Value', amount: true, cell: (holding) => <Money cents={holding.valueCents} currency={account.currency} /> },
          { header: 'Cost basis', amount: true, cell: (holding) => (holding.costBasisCents === null ? '—' : <Money cents={holding.costBasisCents} currency={account.currency} />) },
          { header: 'As of', cell: (holding) => `${holding.asOf} (${holding.source})` },
        ]}
      />
    </section>
  );
}
