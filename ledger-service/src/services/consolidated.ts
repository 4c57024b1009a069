import type { Db } from '../db/database';
import { CASH_KINDS, INTER_ENTITY_KINDS, type AccountKind } from '../domain/accounts';
import { RuleViolation } from '../domain/errors';
import { centsFromDb } from '../domain/money';
import { getEntity } from './entities';

export interface CurrencyTotals {
  /** Assets minus liabilities with balances between the entities removed. */
  netWorthCents: number;
  /** Income minus expense in the period, interest between the entities removed. */
  netIncomeCents: number;
  /** Change in cash (checking, savings, money market, cash) over the period; money moved between them nets out. */
  cashFlowCents: number;
  /**
   * What was removed, debit-positive: inter-entity receivables and payables (they cancel when paired) and the
   * owner's investment in the LLC (it mirrors the LLC's equity, which is not part of net worth).
   */
  eliminatedCents: number;
  eliminatedAccounts: number;
}

export interface ConsolidatedView {
  entityIds: string[];
  fromOn: string;
  toOn: string;
  perEntity: { entityId: string; name: string; kind: string; netWorthCentsByCurrency: Record<string, number> }[];
  byCurrency: Record<string, CurrencyTotals>;
}

export const CONSOLIDATED_ENTITIES_MAX = 20;

/** Several entities' books as one: balances and interest between them are eliminated so nothing counts twice. */
export async function consolidatedView(db: Db, entityIds: readonly string[], period: { fromOn: string; toOn: string }): Promise<ConsolidatedView> {
  const ids = [...new Set(entityIds)];
  if (ids.length === 0 || ids.length > CONSOLIDATED_ENTITIES_MAX) {
    throw new RuleViolation('invalid_request', `name between 1 and ${CONSOLIDATED_ENTITIES_MAX} entities`, { field: 'query.entityIds' });
  }
  if (period.fromOn > period.toOn) throw new RuleViolation('invalid_request', 'from must not be after to', { field: 'query.from' });
  const entities = [];
  for (const id of ids) entities.push(await getEntity(db, id));
  const inSet = new Set(ids);
  const accounts = await db
    .selectFrom('accounts')
    .select(['id', 'entityId', 'kind', 'class', 'currency', 'counterpartyEntityId', 'balanceCents'])
    .where('entityId', 'in', ids)
    .execute();
  const byCurrency: Record<string, CurrencyTotals> = {};
  const totals = (currency: string) =>
    (byCurrency[currency] ??= { netWorthCents: 0, netIncomeCents: 0, cashFlowCents: 0, eliminatedCents: 0, eliminatedAccounts: 0 });
  const perEntity = new Map(entities.map((entity) => [entity.id, { entityId: entity.id, name: entity.name, kind: entity.kind, netWorthCentsByCurrency: {} as Record<string, number> }]));
  const internal = (account: { counterpartyEntityId: string | null }) => account.counterpartyEntityId !== null && inSet.has(account.counterpartyEntityId);
  const accountById = new Map(accounts.map((account) => [account.id, account]));

  for (const account of accounts) {
    if (account.class !== 'asset' && account.class !== 'liability') continue;
    const balance = centsFromDb(account.balanceCents);
    const own = perEntity.get(account.entityId)?.netWorthCentsByCurrency;
    if (own) own[account.currency] = (own[account.currency] ?? 0) + balance;
    if (INTER_ENTITY_KINDS.has(account.kind as AccountKind) && internal(account)) {
      totals(account.currency).eliminatedCents += balance;
      totals(account.currency).eliminatedAccounts += 1;
      continue;
    }
    totals(account.currency).netWorthCents += balance;
  }

  const postings = await db
    .selectFrom('postings as p')
    .innerJoin('journalEntries as e', 'e.id', 'p.entryId')
    .select(['p.accountId', 'p.amountCents'])
    .where('p.entityId', 'in', ids)
    .where('e.postedOn', '>=', period.fromOn)
    .where('e.postedOn', '<=', period.toOn)
    .execute();
  for (const posting of postings) {
    const account = accountById.get(posting.accountId);
    if (account === undefined) continue;
    const amount = centsFromDb(posting.amountCents);
    if (CASH_KINDS.has(account.kind as AccountKind)) totals(account.currency).cashFlowCents += amount;
    // Interest one entity pays another is income to one and expense to the other: it nets out of the group.
    if ((account.class === 'income' || account.class === 'expense') && !internal(account)) totals(account.currency).netIncomeCents -= amount;
  }
  return { entityIds: ids, fromOn: period.fromOn, toOn: period.toOn, perEntity: [...perEntity.values()], byCurrency };
}
