import { sql } from 'kysely';
import type { Db } from '../db/database';
import { naturalBalanceCents, INTER_ENTITY_KINDS, type AccountClass, type AccountKind } from '../domain/accounts';
import { addDays } from '../domain/dates';
import { balancesAtPoints, historyPoints, type HistoryInterval } from '../domain/balance-history';
import { RuleViolation } from '../domain/errors';
import { centsFromDb } from '../domain/money';
import { getAccount } from './accounts';
import { CONSOLIDATED_ENTITIES_MAX } from './consolidated';
import { getEntity } from './entities';
import { windowSums } from './reports';

// Balance history: end-of-day balances over a window, per account, per entity (net worth) and for several entities
// at once. Never from the postings: the opening balance comes from the period totals (whole months, then days) and
// the changes inside the window from `balance_history_daily` (0017: a view over the day totals, or TimescaleDB's
// continuous aggregate), summed per account and point in SQL. A year of monthly points reads a few rows per account.

export interface HistoryWindow {
  fromOn: string;
  toOn: string;
  interval: HistoryInterval;
}

export interface NetWorthPoint {
  on: string;
  netWorthCents: number;
}

interface HistoryAccount {
  id: string;
  entityId: string;
  class: string;
  kind: string;
  currency: string;
  counterpartyEntityId: string | null;
}

/** End-of-day debit-positive balances of the accounts at each point of the window. */
async function accountHistories(db: Db, accounts: readonly HistoryAccount[], points: readonly string[], window: HistoryWindow): Promise<Map<string, number[]>> {
  const result = new Map<string, number[]>();
  if (accounts.length === 0) return result;
  const accountIds = accounts.map((account) => account.id);
  const entityIds = [...new Set(accounts.map((account) => account.entityId))];
  const opening = new Map<string, number>();
  const dayBefore = addDays(window.fromOn, -1);
  for (const entityId of entityIds) for (const [accountId, cents] of await windowSums(db, entityId, { toOn: dayBefore })) opening.set(accountId, cents);
  // Monthly points take each month's changes at once: a month's first day maps to the month's point.
  const bucket = window.interval === 'day' ? sql<string>`to_char(day, 'YYYY-MM-DD')` : sql<string>`to_char(date_trunc('month', day), 'YYYY-MM-DD')`;
  const rows = await db
    .selectFrom('balanceHistoryDaily')
    .select(['accountId', bucket.as('bucketOn'), sql<string>`sum(total_cents)`.as('total')])
    .where('entityId', 'in', entityIds)
    .where('accountId', 'in', accountIds)
    .where('day', '>=', window.fromOn)
    .where('day', '<=', window.toOn)
    .groupBy(['accountId', sql`2`])
    .execute();
  const changes = new Map<string, { day: string; cents: number }[]>();
  for (const row of rows) {
    const list = changes.get(row.accountId) ?? [];
    list.push({ day: row.bucketOn, cents: centsFromDb(row.total) });
    changes.set(row.accountId, list);
  }
  for (const account of accounts) {
    result.set(account.id, balancesAtPoints(points, opening.get(account.id) ?? 0, changes.get(account.id) ?? []));
  }
  return result;
}

async function netWorthAccounts(db: Db, entityIds: readonly string[]): Promise<HistoryAccount[]> {
  return db
    .selectFrom('accounts')
    .select(['id', 'entityId', 'class', 'kind', 'currency', 'counterpartyEntityId'])
    .where('entityId', 'in', entityIds)
    .where('class', 'in', ['asset', 'liability'])
    .orderBy('id')
    .execute();
}

function addSeries(target: Record<string, NetWorthPoint[]>, currency: string, points: readonly string[], balances: readonly number[]): void {
  const series = (target[currency] ??= points.map((on) => ({ on, netWorthCents: 0 })));
  balances.forEach((cents, index) => {
    (series[index] as NetWorthPoint).netWorthCents += cents;
  });
}

export interface AccountHistory extends HistoryWindow {
  accountId: string;
  entityId: string;
  currency: string;
  class: string;
  /** Debit-positive like every balance; `naturalBalanceCents` is the same in the account's own sign. */
  points: { on: string; balanceCents: number; naturalBalanceCents: number }[];
}

export async function accountBalanceHistory(db: Db, accountId: string, window: HistoryWindow): Promise<AccountHistory> {
  const account = await getAccount(db, accountId);
  const points = historyPoints(window.fromOn, window.toOn, window.interval);
  const histories = await accountHistories(db, [account], points, window);
  const balances = histories.get(accountId) ?? [];
  return {
    accountId,
    entityId: account.entityId,
    currency: account.currency,
    class: account.class,
    ...window,
    points: points.map((on, index) => {
      const balanceCents = balances[index] ?? 0;
      return { on, balanceCents, naturalBalanceCents: naturalBalanceCents(account.class as AccountClass, balanceCents) };
    }),
  };
}

export interface EntityNetWorthHistory extends HistoryWindow {
  entityId: string;
  /** Assets less liabilities at each point, per currency of the entity's accounts. */
  byCurrency: Record<string, NetWorthPoint[]>;
}

export async function entityNetWorthHistory(db: Db, entityId: string, window: HistoryWindow): Promise<EntityNetWorthHistory> {
  await getEntity(db, entityId);
  const points = historyPoints(window.fromOn, window.toOn, window.interval);
  const accounts = await netWorthAccounts(db, [entityId]);
  const histories = await accountHistories(db, accounts, points, window);
  const byCurrency: Record<string, NetWorthPoint[]> = {};
  for (const account of accounts) addSeries(byCurrency, account.currency, points, histories.get(account.id) ?? []);
  return { entityId, ...window, byCurrency };
}

export interface ConsolidatedNetWorthHistory extends HistoryWindow {
  entityIds: string[];
  /** The group's net worth: balances between the named entities (and the owner's investment in them) eliminated. */
  byCurrency: Record<string, NetWorthPoint[]>;
  /** Each entity's own net worth, nothing eliminated: these do not add up to the group's. */
  perEntity: { entityId: string; name: string; kind: string; byCurrency: Record<string, NetWorthPoint[]> }[];
}

export async function consolidatedNetWorthHistory(db: Db, entityIds: readonly string[], window: HistoryWindow): Promise<ConsolidatedNetWorthHistory> {
  const ids = [...new Set(entityIds)];
  if (ids.length === 0 || ids.length > CONSOLIDATED_ENTITIES_MAX) {
    throw new RuleViolation('invalid_request', `name between 1 and ${CONSOLIDATED_ENTITIES_MAX} entities`, { field: 'query.entityIds' });
  }
  const entities = [];
  for (const id of ids) entities.push(await getEntity(db, id));
  const points = historyPoints(window.fromOn, window.toOn, window.interval);
  const accounts = await netWorthAccounts(db, ids);
  const histories = await accountHistories(db, accounts, points, window);
  const inSet = new Set(ids);
  const byCurrency: Record<string, NetWorthPoint[]> = {};
  const perEntity = entities.map((entity) => ({ entityId: entity.id, name: entity.name, kind: entity.kind, byCurrency: {} as Record<string, NetWorthPoint[]> }));
  const ownOf = new Map(perEntity.map((row) => [row.entityId, row.byCurrency]));
  for (const account of accounts) {
    const balances = histories.get(account.id) ?? [];
    addSeries(ownOf.get(account.entityId) as Record<string, NetWorthPoint[]>, account.currency, points, balances);
    // The same elimination as the consolidated view: what one named entity owes another, and the owner's
    // investment in the LLC, cancel inside the group.
    const internal = INTER_ENTITY_KINDS.has(account.kind as AccountKind) && account.counterpartyEntityId !== null && inSet.has(account.counterpartyEntityId);
    addSeries(byCurrency, account.currency, points, internal ? points.map(() => 0) : balances);
  }
  return { entityIds: ids, ...window, byCurrency, perEntity };
}
