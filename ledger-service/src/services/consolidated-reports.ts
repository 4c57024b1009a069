import type { Db } from '../db/database';
import { eliminationsOf, splitEliminations, withEntities, type EntityAccountTotal } from '../domain/consolidation';
import { RuleViolation } from '../domain/errors';
import { formatCents } from '../domain/money';
import * as reports from '../domain/reports';
import { CONSOLIDATED_ENTITIES_MAX } from './consolidated';
import { getEntity } from './entities';
import { accountTotals, dayBefore, snapshot, type Period } from './reports';

// Balance sheet and income statement of several entities as one, mirror balances between them eliminated. Each
// entity's figures come from the same per-account aggregates as its own reports, in one snapshot.

type Window = Parameters<typeof accountTotals>[2];
type Classes = Parameters<typeof accountTotals>[3];

async function groupOf(db: Db, entityIds: readonly string[]) {
  const ids = [...new Set(entityIds)];
  if (ids.length === 0 || ids.length > CONSOLIDATED_ENTITIES_MAX) {
    throw new RuleViolation('invalid_request', `name between 1 and ${CONSOLIDATED_ENTITIES_MAX} entities`, { field: 'query.entityIds' });
  }
  const entities = [];
  for (const id of ids) {
    const entity = await getEntity(db, id);
    entities.push({ entityId: entity.id, name: entity.name, kind: entity.kind, currency: entity.currency });
  }
  return entities;
}

async function groupTotals(db: Db, entityIds: readonly string[], window: Window, classes?: Classes): Promise<EntityAccountTotal[]> {
  const totals: EntityAccountTotal[] = [];
  for (const entityId of entityIds) {
    for (const total of await accountTotals(db, entityId, window, classes)) totals.push({ ...total, entityId });
  }
  return totals;
}

function currencies(totals: readonly EntityAccountTotal[], fallback: string): string[] {
  return reports.currenciesOf(totals.filter((t) => t.balanceCents !== 0), fallback);
}

export function consolidatedBalanceSheet(db: Db, entityIds: readonly string[], period: Period) {
  return snapshot(db, async (db) => {
    const entities = await groupOf(db, entityIds);
    const ids = entities.map((entity) => entity.entityId);
    const balances = splitEliminations(await groupTotals(db, ids, { toOn: period.toOn }), ids);
    const prior = splitEliminations(await groupTotals(db, ids, { toOn: dayBefore(period.fromOn) }, ['income', 'expense']), ids);
    const entityOf = new Map([...balances.kept, ...balances.eliminated].map((t) => [t.accountId, t.entityId]));
    const byCurrency = currencies([...balances.kept, ...balances.eliminated], entities[0]?.currency ?? 'USD').map((currency) => {
      const sheet = reports.balanceSheet(currency, balances.kept, prior.kept);
      return {
        ...sheet,
        assets: withEntities(sheet.assets, entityOf),
        liabilities: withEntities(sheet.liabilities, entityOf),
        equity: withEntities(sheet.equity, entityOf),
        eliminations: eliminationsOf(currency, balances.eliminated),
      };
    });
    return { entities: entities.map(({ currency: _currency, ...entity }) => entity), ...period, byCurrency };
  });
}

export function consolidatedIncomeStatement(db: Db, entityIds: readonly string[], period: Period) {
  return snapshot(db, async (db) => {
    const entities = await groupOf(db, entityIds);
    const ids = entities.map((entity) => entity.entityId);
    const activity = splitEliminations(await groupTotals(db, ids, { fromOn: period.fromOn, toOn: period.toOn }, ['income', 'expense']), ids);
    const entityOf = new Map([...activity.kept, ...activity.eliminated].map((t) => [t.accountId, t.entityId]));
    const byCurrency = currencies([...activity.kept, ...activity.eliminated], entities[0]?.currency ?? 'USD').map((currency) => {
      const statement = reports.incomeStatement(currency, activity.kept);
      return {
        ...statement,
        income: withEntities(statement.income, entityOf),
        expenses: withEntities(statement.expenses, entityOf),
        eliminations: eliminationsOf(currency, activity.eliminated),
      };
    });
    return { entities: entities.map(({ currency: _currency, ...entity }) => entity), ...period, byCurrency };
  });
}

type Part = { label: string; section: { lines: { entityId: string; name: string; code: string | null; kind: string; naturalBalanceCents: number }[]; totalCents: number } };

/** `entity,section,account,code,kind,currency,amount`; the eliminated mirror balances last, debit-positive. */
function groupCsv(
  entities: readonly { entityId: string; name: string }[],
  parts: readonly { currency: string; sections: Part[]; totals: [string, number][]; eliminations: { lines: { entityId: string; name: string; kind: string; balanceCents: number }[] } }[],
): string {
  const nameOf = new Map(entities.map((entity) => [entity.entityId, entity.name]));
  const rows: string[][] = [['entity', 'section', 'account', 'code', 'kind', 'currency', 'amount']];
  for (const part of parts) {
    for (const { label, section } of part.sections) {
      for (const line of section.lines) rows.push([nameOf.get(line.entityId) ?? line.entityId, label, line.name, line.code ?? '', line.kind, part.currency, formatCents(line.naturalBalanceCents)]);
      rows.push(['', label, `Total ${label}`, '', '', part.currency, formatCents(section.totalCents)]);
    }
    for (const [label, cents] of part.totals) rows.push(['', label, label, '', '', part.currency, formatCents(cents)]);
    for (const line of part.eliminations.lines) rows.push([nameOf.get(line.entityId) ?? line.entityId, 'Eliminated', line.name, '', line.kind, part.currency, formatCents(line.balanceCents)]);
  }
  return reports.toCsv(rows);
}

export function consolidatedBalanceSheetCsv(report: Awaited<ReturnType<typeof consolidatedBalanceSheet>>): string {
  return groupCsv(
    report.entities,
    report.byCurrency.map((part) => ({
      currency: part.currency,
      sections: [
        { label: 'Assets', section: part.assets },
        { label: 'Liabilities', section: part.liabilities },
        { label: 'Equity', section: part.equity },
      ],
      totals: [
        ['Retained earnings', part.retainedEarningsCents],
        ['Current earnings', part.currentEarningsCents],
        ['Total liabilities and equity', part.liabilitiesAndEquityCents],
      ],
      eliminations: part.eliminations,
    })),
  );
}

export function consolidatedIncomeStatementCsv(report: Awaited<ReturnType<typeof consolidatedIncomeStatement>>): string {
  return groupCsv(
    report.entities,
    report.byCurrency.map((part) => ({
      currency: part.currency,
      sections: [
        { label: 'Income', section: part.income },
        { label: 'Expenses', section: part.expenses },
      ],
      totals: [['Net income', part.netIncomeCents]],
      eliminations: part.eliminations,
    })),
  );
}
