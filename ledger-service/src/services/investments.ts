import { sql, type Selectable, type Transaction } from 'kysely';
import type { ContributionPlansTable, Database, Db } from '../db/database';
import { CASH_KINDS, type AccountKind } from '../domain/accounts';
import { dueDates, parseBillRule, nextDueDate } from '../domain/bills';
import { NotFound, RuleViolation } from '../domain/errors';
import {
  effectiveLimit,
  holdingValueCents,
  LIMIT_LABELS,
  projectLimits,
  scaledQuantity,
  standing,
  taxYearOf,
  type EffectiveLimit,
  type LimitKind,
  type LimitRow,
  type LimitStanding,
  type PlannedContribution,
  type PlanWarning,
} from '../domain/investments';
import { centsFromDb } from '../domain/money';
import { authorizeEntity, type Need } from '../security/authorization';
import { recordAudit } from './audit';
import { actorLabel, type Actor } from './context';
import { translateDbError } from './db-errors';
import { getEntity } from './entities';
import { emitEvent } from './events';
import { bookEntries, type EntryView } from './journal';

// Investments of one entity: securities and holdings per brokerage/retirement account, retirement contribution
// plans (an amount on an RRULE schedule, from a cash account to an investment account) and the contributions
// booked from them, with the year's totals held against the IRS limits table. A plan that would exceed a limit
// is accepted with warnings (it is an intention); a contribution that would exceed it is refused (422
// contribution_limit_exceeded), because it moves money. "Per person" is per personal entity: the limits belong
// to the person whose books the retirement accounts are in.

type Trx = Transaction<Database>;
type Reader = Db | Trx;

export const PLANS_PER_ENTITY_MAX = 100;
export const HOLDINGS_PER_ACCOUNT_MAX = 1_000;
/** Plans are projected over this year and the next: far enough to warn, near enough to be cheap. */
export const PROJECTION_YEARS = 2;

const INVESTMENT_KINDS: ReadonlySet<string> = new Set<AccountKind>(['brokerage', 'retirement']);

// ------------------------------------------------------------------------------------------------ holdings

export interface SecurityView {
  id: string;
  ticker: string | null;
  name: string;
  securityType: string;
  currency: string;
  plaidSecurityId: string | null;
}

export interface HoldingView {
  accountId: string;
  security: SecurityView;
  quantity: string;
  priceCents: number | null;
  valueCents: number;
  costBasisCents: number | null;
  asOf: string;
  source: 'manual' | 'plaid';
}

export interface AccountHoldingsView {
  accountId: string;
  accountName: string;
  kind: string;
  currency: string;
  /** What the books say: contributions in, withdrawals out. Market value is holdings' valueCents. */
  balanceCents: number;
  valueCents: number;
  holdings: HoldingView[];
}

async function investmentAccount(db: Reader, entityId: string, accountId: string) {
  const account = await db.selectFrom('accounts').select(['id', 'entityId', 'kind', 'name', 'currency', 'archivedAt']).where('id', '=', accountId).executeTakeFirst();
  if (account === undefined || account.entityId !== entityId) throw new NotFound('account', accountId);
  if (!INVESTMENT_KINDS.has(account.kind)) {
    throw new RuleViolation('holding_invalid', `holdings are kept in brokerage and retirement accounts, not ${account.kind}`, { accountId });
  }
  return account;
}

/** Resolves an account to its entity and authorizes `need` there; another user's account reads as missing. */
export async function authorizeAccount(db: Reader, actor: Actor, accountId: string, need: Need): Promise<string> {
  const account = await db.selectFrom('accounts').select('entityId').where('id', '=', accountId).executeTakeFirst();
  if (account === undefined) throw new NotFound('account', accountId);
  try {
    await authorizeEntity(db, actor, account.entityId, need);
  } catch (error) {
    if (error instanceof NotFound) throw new NotFound('account', accountId);
    throw error;
  }
  return account.entityId;
}

export interface SecurityDraft {
  ticker: string | null;
  name: string;
  securityType: string;
  currency: string;
  plaidSecurityId?: string | null | undefined;
}

/** Finds the entity's security by Plaid id, then by ticker, or creates it. */
export async function ensureSecurity(trx: Trx, entityId: string, draft: SecurityDraft): Promise<string> {
  if (draft.plaidSecurityId) {
    const byPlaid = await trx.selectFrom('securities').select('id').where('entityId', '=', entityId).where('plaidSecurityId', '=', draft.plaidSecurityId).executeTakeFirst();
    if (byPlaid) return byPlaid.id;
  }
  if (draft.ticker) {
    const byTicker = await trx.selectFrom('securities').select(['id', 'plaidSecurityId']).where('entityId', '=', entityId).where('ticker', '=', draft.ticker).executeTakeFirst();
    if (byTicker) {
      if (draft.plaidSecurityId && byTicker.plaidSecurityId === null) {
        await trx.updateTable('securities').set({ plaidSecurityId: draft.plaidSecurityId }).where('id', '=', byTicker.id).execute();
      }
      return byTicker.id;
    }
  }
  const row = await trx
    .insertInto('securities')
    .values({ entityId, ticker: draft.ticker, name: draft.name, securityType: draft.securityType, currency: draft.currency, plaidSecurityId: draft.plaidSecurityId ?? null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export interface HoldingInput {
  ticker: string;
  name: string;
  securityType: string;
  quantity: string;
  priceCents: number;
  costBasisCents?: number | undefined;
  asOf: string;
}

export async function upsertHolding(
  trx: Trx,
  accountId: string,
  entityId: string,
  input: HoldingInput,
  actor: Actor,
  source: 'manual' | 'plaid' = 'manual',
): Promise<HoldingView> {
  const account = await investmentAccount(trx, entityId, accountId);
  if (account.archivedAt !== null) throw new RuleViolation('account_archived', `account ${accountId} is archived`);
  scaledQuantity(input.quantity);
  const securityId = await ensureSecurity(trx, entityId, { ticker: input.ticker, name: input.name, securityType: input.securityType, currency: account.currency });
  const count = await trx.selectFrom('holdings').select((eb) => eb.fn.countAll().as('count')).where('accountId', '=', accountId).executeTakeFirstOrThrow();
  if (Number(count.count) >= HOLDINGS_PER_ACCOUNT_MAX) throw new RuleViolation('holding_invalid', `at most ${HOLDINGS_PER_ACCOUNT_MAX} holdings per account`);
  const values = {
    quantity: input.quantity,
    priceCents: input.priceCents,
    valueCents: holdingValueCents(input.quantity, input.priceCents),
    costBasisCents: input.costBasisCents ?? null,
    asOf: input.asOf,
    source,
    actor: actorLabel(actor),
  };
  await trx
    .insertInto('holdings')
    .values({ entityId, accountId, securityId, ...values })
    .onConflict((oc) => oc.columns(['accountId', 'securityId']).doUpdateSet({ ...values, updatedAt: new Date() }))
    .execute();
  const [view] = (await holdingsOf(trx, entityId, accountId)).flatMap((group) => group.holdings).filter((holding) => holding.security.id === securityId);
  recordAudit(trx, actor, { action: 'holding.set', entityId, objectType: 'account', objectId: accountId, after: view });
  if (view === undefined) throw new NotFound('holding', securityId);
  return view;
}

/** Holdings grouped by investment account (every brokerage/retirement account, with or without holdings). */
export async function holdingsOf(db: Reader, entityId: string, accountId?: string): Promise<AccountHoldingsView[]> {
  let accountQuery = db
    .selectFrom('accounts')
    .select(['id', 'name', 'kind', 'currency', 'balanceCents'])
    .where('entityId', '=', entityId)
    .where('kind', 'in', [...INVESTMENT_KINDS])
    .where('archivedAt', 'is', null);
  if (accountId !== undefined) accountQuery = accountQuery.where('id', '=', accountId);
  const accounts = await accountQuery.orderBy('name').execute();
  const rows = accounts.length === 0
    ? []
    : await db
        .selectFrom('holdings as h')
        .innerJoin('securities as s', 's.id', 'h.securityId')
        .select([
          'h.accountId', 'h.priceCents', 'h.valueCents', 'h.costBasisCents', 'h.asOf', 'h.source', sql<string>`h.quantity::text`.as('quantity'),
          's.id as securityId', 's.ticker', 's.name', 's.securityType', 's.currency', 's.plaidSecurityId',
        ])
        .where('h.accountId', 'in', accounts.map((account) => account.id))
        .orderBy('s.ticker')
        .orderBy('s.name')
        .execute();
  return accounts.map((account) => {
    const holdings = rows
      .filter((row) => row.accountId === account.id)
      .map((row) => ({
        accountId: row.accountId,
        security: { id: row.securityId, ticker: row.ticker, name: row.name, securityType: row.securityType, currency: row.currency, plaidSecurityId: row.plaidSecurityId },
        // numeric::text keeps trailing zeros ('10.50000000'); people read '10.5'.
        quantity: row.quantity.includes('.') ? row.quantity.replace(/\.?0+$/, '') : row.quantity,
        priceCents: row.priceCents === null ? null : centsFromDb(row.priceCents),
        valueCents: centsFromDb(row.valueCents),
        costBasisCents: row.costBasisCents === null ? null : centsFromDb(row.costBasisCents),
        asOf: row.asOf,
        source: row.source,
      }));
    return {
      accountId: account.id,
      accountName: account.name,
      kind: account.kind,
      currency: account.currency,
      balanceCents: centsFromDb(account.balanceCents),
      valueCents: holdings.reduce((sum, holding) => sum + holding.valueCents, 0),
      holdings,
    };
  });
}

export interface InvestmentTransactionView {
  id: string;
  accountId: string;
  securityId: string | null;
  ticker: string | null;
  externalId: string;
  occurredOn: string;
  name: string;
  type: string;
  subtype: string | null;
  quantity: string;
  priceCents: number | null;
  amountCents: number;
  feesCents: number | null;
  currency: string;
  source: 'manual' | 'plaid';
}

export const INVESTMENT_TRANSACTIONS_PAGE_MAX = 500;

export async function listInvestmentTransactions(db: Reader, entityId: string, query: { accountId?: string | undefined; limit: number }): Promise<InvestmentTransactionView[]> {
  let rows = db
    .selectFrom('investmentTransactions as t')
    .leftJoin('securities as s', 's.id', 't.securityId')
    .select([
      't.id', 't.accountId', 't.securityId', 's.ticker', 't.externalId', 't.occurredOn', 't.name', 't.type', 't.subtype', sql<string>`t.quantity::text`.as('quantity'),
      't.priceCents', 't.amountCents', 't.feesCents', 't.currency', 't.source',
    ])
    .where('t.entityId', '=', entityId);
  if (query.accountId !== undefined) rows = rows.where('t.accountId', '=', query.accountId);
  const found = await rows.orderBy('t.occurredOn', 'desc').orderBy('t.id').limit(Math.min(query.limit, INVESTMENT_TRANSACTIONS_PAGE_MAX)).execute();
  return found.map((row) => ({
    ...row,
    quantity: row.quantity.includes('.') ? row.quantity.replace(/\.?0+$/, '') : row.quantity,
    priceCents: row.priceCents === null ? null : centsFromDb(row.priceCents),
    amountCents: centsFromDb(row.amountCents),
    feesCents: row.feesCents === null ? null : centsFromDb(row.feesCents),
  }));
}

// ------------------------------------------------------------------------------------------------ profile

export async function getRetirementProfile(db: Reader, entityId: string): Promise<{ entityId: string; birthYear: number | null }> {
  await getEntity(db as Db, entityId);
  const row = await db.selectFrom('retirementProfiles').select('birthYear').where('entityId', '=', entityId).executeTakeFirst();
  return { entityId, birthYear: row?.birthYear ?? null };
}

export async function setRetirementProfile(trx: Trx, entityId: string, birthYear: number | null, actor: Actor): Promise<{ entityId: string; birthYear: number | null }> {
  const entity = await getEntity(trx as unknown as Db, entityId);
  if (entity.kind !== 'personal') throw new RuleViolation('contribution_invalid', 'a birth year belongs to a person: set it on the personal entity');
  const before = await getRetirementProfile(trx, entityId);
  await trx
    .insertInto('retirementProfiles')
    .values({ entityId, birthYear })
    .onConflict((oc) => oc.column('entityId').doUpdateSet({ birthYear, updatedAt: new Date() }))
    .execute();
  recordAudit(trx, actor, { action: 'retirement_profile.set', entityId, objectType: 'entity', objectId: entityId, before, after: { entityId, birthYear } });
  return { entityId, birthYear };
}

// ------------------------------------------------------------------------------------------------ plans

export interface NewPlan {
  name: string;
  limitKind: LimitKind | null;
  amountCents: number;
  rrule: string;
  startsOn: string;
  fromAccountId: string;
  toAccountId: string;
}

export interface PlanView extends NewPlan {
  id: string;
  entityId: string;
  active: boolean;
  nextDueOn: string | null;
  createdAt: string;
}

export interface PlanReply {
  plan: PlanView;
  warnings: PlanWarning[];
}

function planView(row: Selectable<ContributionPlansTable>, today: string): PlanView {
  return {
    id: row.id,
    entityId: row.entityId,
    name: row.name,
    limitKind: row.limitKind as LimitKind | null,
    amountCents: centsFromDb(row.amountCents),
    rrule: row.rrule,
    startsOn: row.startsOn,
    fromAccountId: row.fromAccountId,
    toAccountId: row.toAccountId,
    active: row.active,
    nextDueOn: row.active ? nextDueDate(parseBillRule(row.rrule, row.startsOn), today) : null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** The accounts of a contribution: from a cash account, into a brokerage or retirement account of the same entity. */
async function checkAccounts(db: Reader, entityId: string, input: { fromAccountId: string; toAccountId: string; limitKind: LimitKind | null }): Promise<void> {
  const rows = await db.selectFrom('accounts').select(['id', 'entityId', 'kind', 'archivedAt']).where('id', 'in', [input.fromAccountId, input.toAccountId]).execute();
  const from = rows.find((row) => row.id === input.fromAccountId);
  const to = rows.find((row) => row.id === input.toAccountId);
  if (from === undefined || from.entityId !== entityId) throw new NotFound('account', input.fromAccountId);
  if (to === undefined || to.entityId !== entityId) throw new NotFound('account', input.toAccountId);
  if (from.archivedAt !== null || to.archivedAt !== null) throw new RuleViolation('account_archived', 'an archived account takes no contributions');
  if (!CASH_KINDS.has(from.kind as AccountKind)) {
    throw new RuleViolation('contribution_invalid', `a contribution comes from a bank or cash account, not a ${from.kind} account`, { accountId: from.id });
  }
  if (!INVESTMENT_KINDS.has(to.kind)) {
    throw new RuleViolation('contribution_invalid', `a contribution goes into a brokerage or retirement account, not a ${to.kind} account`, { accountId: to.id });
  }
  if (to.kind === 'retirement' && input.limitKind === null) {
    throw new RuleViolation('contribution_invalid', 'a contribution to a retirement account says which limit it counts against (ira, 401k_employee, sep_ira)');
  }
  if (to.kind === 'brokerage' && input.limitKind !== null) {
    throw new RuleViolation('contribution_invalid', 'a taxable brokerage account has no contribution limit; limitKind must be null');
  }
}

async function birthYearOf(db: Reader, entityId: string): Promise<number | null> {
  const row = await db.selectFrom('retirementProfiles').select('birthYear').where('entityId', '=', entityId).executeTakeFirst();
  return row?.birthYear ?? null;
}

async function contributedByYear(db: Reader, entityId: string, kind: LimitKind): Promise<Map<number, number>> {
  const rows = await db
    .selectFrom('contributions')
    .select(['taxYear', (eb) => eb.fn.sum<string>('amountCents').as('total')])
    .where('entityId', '=', entityId)
    .where('limitKind', '=', kind)
    .groupBy('taxYear')
    .execute();
  return new Map(rows.map((row) => [row.taxYear, centsFromDb(row.total)]));
}

/** Occurrences of a plan from today to the end of the projection, minus those already contributed. */
async function upcomingOf(db: Reader, plan: { id: string; rrule: string; startsOn: string; amountCents: number }, today: string): Promise<PlannedContribution[]> {
  const lastOn = `${Number(today.slice(0, 4)) + PROJECTION_YEARS - 1}-12-31`;
  const done = new Set(
    (await db.selectFrom('contributions').select('dueOn').where('planId', '=', plan.id).where('dueOn', '>=', today).execute()).map((row) => row.dueOn),
  );
  return dueDates(parseBillRule(plan.rrule, plan.startsOn), today, lastOn)
    .filter((dueOn) => !done.has(dueOn))
    .map((dueOn) => ({ planId: plan.id, dueOn, amountCents: plan.amountCents }));
}

/** The plan's next occurrence that is not contributed yet (nextDueOn of a plan view). */
async function withOpenDueOn(db: Reader, plan: PlanView, today: string): Promise<PlanView> {
  if (!plan.active) return plan;
  const [next] = await upcomingOf(db, plan, today);
  return next === undefined ? plan : { ...plan, nextDueOn: next.dueOn };
}

/**
 * What the entity's active plans of `kind` (with `candidate` added or replacing its saved version) would bring
 * each year, against the limits.
 */
async function projectKind(db: Reader, entityId: string, kind: LimitKind, limits: readonly LimitRow[], today: string, candidate?: { id: string; rrule: string; startsOn: string; amountCents: number; active: boolean }) {
  const plans = await db.selectFrom('contributionPlans').selectAll().where('entityId', '=', entityId).where('limitKind', '=', kind).where('active', '=', true).execute();
  const planned: PlannedContribution[] = [];
  for (const plan of plans) {
    if (candidate !== undefined && plan.id === candidate.id) continue;
    planned.push(...(await upcomingOf(db, { ...plan, amountCents: centsFromDb(plan.amountCents) }, today)));
  }
  if (candidate !== undefined && candidate.active) planned.push(...(await upcomingOf(db, candidate, today)));
  const birthYear = await birthYearOf(db, entityId);
  return projectLimits(kind, planned, await contributedByYear(db, entityId, kind), (year) => effectiveLimit(limits, year, kind, birthYear));
}

async function warningsFor(db: Reader, entityId: string, limits: readonly LimitRow[], today: string, candidate: { id: string; limitKind: LimitKind | null; rrule: string; startsOn: string; amountCents: number; active: boolean }): Promise<PlanWarning[]> {
  // A paused plan brings nothing; the warnings of the kind's other plans are theirs.
  if (candidate.limitKind === null || !candidate.active) return [];
  const thisYear = Number(today.slice(0, 4));
  const projection = await projectKind(db, entityId, candidate.limitKind, limits, today, candidate);
  return projection.filter((year) => year.year >= thisYear && year.warning !== null).map((year) => year.warning as PlanWarning);
}

const PREVIEW_ID = '00000000-0000-0000-0000-000000000000';

/** What a plan would do, without saving it: its next occurrences and the limit warnings. */
export async function previewPlan(db: Reader, entityId: string, input: NewPlan, limits: readonly LimitRow[], today: string): Promise<{ occurrences: string[]; warnings: PlanWarning[] }> {
  await getEntity(db as Db, entityId);
  parseBillRule(input.rrule, input.startsOn);
  await checkAccounts(db, entityId, input);
  const candidate = { id: PREVIEW_ID, ...input, active: true };
  const occurrences = (await upcomingOf(db, candidate, today)).map((occurrence) => occurrence.dueOn).slice(0, 24);
  return { occurrences, warnings: await warningsFor(db, entityId, limits, today, candidate) };
}

export async function createPlan(trx: Trx, entityId: string, input: NewPlan, actor: Actor, limits: readonly LimitRow[], today: string): Promise<PlanReply> {
  await getEntity(trx as unknown as Db, entityId);
  parseBillRule(input.rrule, input.startsOn);
  await checkAccounts(trx, entityId, input);
  const count = await trx.selectFrom('contributionPlans').select((eb) => eb.fn.countAll().as('count')).where('entityId', '=', entityId).executeTakeFirstOrThrow();
  if (Number(count.count) >= PLANS_PER_ENTITY_MAX) throw new RuleViolation('contribution_invalid', `at most ${PLANS_PER_ENTITY_MAX} plans per entity`);
  let row: Selectable<ContributionPlansTable>;
  try {
    row = await trx.insertInto('contributionPlans').values({ entityId, ...input, rrule: input.rrule.trim(), actor: actorLabel(actor) }).returningAll().executeTakeFirstOrThrow();
  } catch (error) {
    throw translateDbError(error);
  }
  const plan = await withOpenDueOn(trx, planView(row, today), today);
  recordAudit(trx, actor, { action: 'contribution_plan.created', entityId, objectType: 'contribution_plan', objectId: plan.id, after: plan });
  return { plan, warnings: await warningsFor(trx, entityId, limits, today, plan) };
}

export async function authorizePlan(db: Reader, actor: Actor, planId: string, need: Need): Promise<Selectable<ContributionPlansTable>> {
  const plan = await db.selectFrom('contributionPlans').selectAll().where('id', '=', planId).executeTakeFirst();
  if (plan === undefined) throw new NotFound('contribution plan', planId);
  try {
    await authorizeEntity(db, actor, plan.entityId, need);
  } catch (error) {
    if (error instanceof NotFound) throw new NotFound('contribution plan', planId);
    throw error;
  }
  return plan;
}

export async function updatePlan(
  trx: Trx,
  row: Selectable<ContributionPlansTable>,
  changes: { active?: boolean | undefined; amountCents?: number | undefined },
  actor: Actor,
  limits: readonly LimitRow[],
  today: string,
): Promise<PlanReply> {
  const before = planView(row, today);
  const updated = await trx
    .updateTable('contributionPlans')
    .set({ ...(changes.active === undefined ? {} : { active: changes.active }), ...(changes.amountCents === undefined ? {} : { amountCents: changes.amountCents }), updatedAt: new Date() })
    .where('id', '=', row.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const plan = await withOpenDueOn(trx, planView(updated, today), today);
  recordAudit(trx, actor, { action: 'contribution_plan.updated', entityId: row.entityId, objectType: 'contribution_plan', objectId: row.id, before, after: plan });
  return { plan, warnings: await warningsFor(trx, row.entityId, limits, today, plan) };
}

export async function listPlans(db: Reader, entityId: string, limits: readonly LimitRow[], today: string): Promise<PlanReply[]> {
  await getEntity(db as Db, entityId);
  const rows = await db.selectFrom('contributionPlans').selectAll().where('entityId', '=', entityId).orderBy('name').execute();
  const replies: PlanReply[] = [];
  for (const row of rows) {
    const plan = await withOpenDueOn(db, planView(row, today), today);
    replies.push({ plan, warnings: await warningsFor(db, entityId, limits, today, plan) });
  }
  return replies;
}

// ------------------------------------------------------------------------------------------------ contributions

export interface NewContribution {
  fromAccountId: string;
  toAccountId: string;
  limitKind: LimitKind | null;
  amountCents: number;
  contributedOn: string;
  taxYear?: number | undefined;
}

export interface ContributionView {
  id: string;
  entityId: string;
  planId: string | null;
  dueOn: string | null;
  fromAccountId: string;
  toAccountId: string;
  limitKind: LimitKind | null;
  taxYear: number;
  amountCents: number;
  contributedOn: string;
  entryId: string;
  createdAt: string;
}

export interface ContributionReply {
  contribution: ContributionView;
  entry: EntryView;
  /** The year's total for this limit after the contribution, and where it stands. */
  totalCents: number;
  limitCents: number | null;
  standing: LimitStanding;
}

/**
 * Books a contribution (to-account / from-account, one entry) and records it against the year's limit. Refused
 * with contribution_limit_exceeded when it would take the year over; crossing 90% raises contribution.limit_near.
 */
export async function contribute(
  trx: Trx,
  entityId: string,
  input: NewContribution & { plan?: { id: string; name: string; dueOn: string } | undefined },
  actor: Actor,
  limits: readonly LimitRow[],
): Promise<ContributionReply> {
  await checkAccounts(trx, entityId, input);
  // One contribution at a time per entity: the limit check below reads the year's total, then adds to it.
  await trx.selectFrom('entities').select('id').where('id', '=', entityId).forNoKeyUpdate().executeTakeFirstOrThrow();
  const kind = input.limitKind;
  const taxYear = kind === null ? Number(input.contributedOn.slice(0, 4)) : taxYearOf(kind, input.contributedOn, input.taxYear);
  let limit: EffectiveLimit | null = null;
  let beforeCents = 0;
  if (kind !== null) {
    limit = effectiveLimit(limits, taxYear, kind, await birthYearOf(trx, entityId));
    beforeCents = (await contributedByYear(trx, entityId, kind)).get(taxYear) ?? 0;
    const afterCents = beforeCents + input.amountCents;
    if (limit !== null && afterCents > limit.limitCents) {
      throw new RuleViolation(
        'contribution_limit_exceeded',
        `this contribution would bring ${taxYear}'s ${LIMIT_LABELS[kind]} total to ${afterCents} cents, over the ${limit.limitCents}-cent limit (${limit.limitCents - beforeCents} cents left)`,
        { taxYear, limitKind: kind, contributedCents: beforeCents, amountCents: input.amountCents, limitCents: limit.limitCents, remainingCents: limit.limitCents - beforeCents, source: limit.source },
      );
    }
  }
  const description = input.plan ? `${input.plan.name} (due ${input.plan.dueOn})` : `Contribution${kind ? ` (${LIMIT_LABELS[kind]}, ${taxYear})` : ''}`;
  const [entry] = await bookEntries(
    trx,
    entityId,
    [
      {
        postedOn: input.contributedOn,
        description,
        source: actor.executionId ? 'workflow' : 'manual',
        ...(input.plan ? { idempotencyKey: `contribution:${input.plan.id}:${input.plan.dueOn}` } : {}),
        postings: [
          { accountId: input.toAccountId, amountCents: input.amountCents },
          { accountId: input.fromAccountId, amountCents: -input.amountCents },
        ],
      },
    ],
    actor,
  );
  if (entry === undefined || entry.replayed) throw new RuleViolation('contribution_invalid', 'this plan occurrence was already contributed');
  let row;
  try {
    row = await trx
      .insertInto('contributions')
      .values({
        entityId,
        planId: input.plan?.id ?? null,
        dueOn: input.plan?.dueOn ?? null,
        fromAccountId: input.fromAccountId,
        toAccountId: input.toAccountId,
        limitKind: kind,
        taxYear,
        amountCents: input.amountCents,
        contributedOn: input.contributedOn,
        entryId: entry.id,
        actor: actorLabel(actor),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (error) {
    throw translateDbError(error);
  }
  const contribution = contributionView(row);
  const totalCents = beforeCents + input.amountCents;
  const now = kind === null ? 'ok' : standing(totalCents, limit);
  recordAudit(trx, actor, { action: 'contribution.booked', entityId, objectType: 'contribution', objectId: contribution.id, after: contribution });
  if (kind !== null && limit !== null && now === 'near' && standing(beforeCents, limit) === 'ok') {
    await emitEvent(trx, entityId, 'contribution.limit_near', {
      taxYear,
      limitKind: kind,
      totalCents,
      limitCents: limit.limitCents,
      remainingCents: limit.limitCents - totalCents,
      contributionId: contribution.id,
    });
  }
  const { replayed: _replayed, ...booked } = entry;
  return { contribution, entry: booked, totalCents: kind === null ? 0 : totalCents, limitCents: limit?.limitCents ?? null, standing: now };
}

function contributionView(row: Selectable<Database['contributions']>): ContributionView {
  return {
    id: row.id,
    entityId: row.entityId,
    planId: row.planId,
    dueOn: row.dueOn,
    fromAccountId: row.fromAccountId,
    toAccountId: row.toAccountId,
    limitKind: row.limitKind as LimitKind | null,
    taxYear: row.taxYear,
    amountCents: centsFromDb(row.amountCents),
    contributedOn: row.contributedOn,
    entryId: row.entryId,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Contributes one occurrence of a plan: its amount, from and to accounts, on its due date unless told. */
export async function contributePlanOccurrence(
  trx: Trx,
  plan: Selectable<ContributionPlansTable>,
  dueOn: string,
  input: { contributedOn?: string | undefined; amountCents?: number | undefined },
  actor: Actor,
  limits: readonly LimitRow[],
): Promise<ContributionReply> {
  if (!plan.active) throw new RuleViolation('contribution_invalid', `plan ${plan.name} is paused`);
  if (!dueDates(parseBillRule(plan.rrule, plan.startsOn), dueOn, dueOn).includes(dueOn)) {
    throw new RuleViolation('contribution_invalid', `${dueOn} is not a due date of plan ${plan.name}`, { dueOn });
  }
  await trx.selectFrom('contributionPlans').select('id').where('id', '=', plan.id).forUpdate().executeTakeFirstOrThrow();
  const done = await trx.selectFrom('contributions').select('id').where('planId', '=', plan.id).where('dueOn', '=', dueOn).executeTakeFirst();
  if (done !== undefined) throw new RuleViolation('contribution_invalid', `the ${dueOn} occurrence of ${plan.name} was already contributed`, { contributionId: done.id });
  return contribute(
    trx,
    plan.entityId,
    {
      fromAccountId: plan.fromAccountId,
      toAccountId: plan.toAccountId,
      limitKind: plan.limitKind as LimitKind | null,
      amountCents: input.amountCents ?? centsFromDb(plan.amountCents),
      contributedOn: input.contributedOn ?? dueOn,
      plan: { id: plan.id, name: plan.name, dueOn },
    },
    actor,
    limits,
  );
}

export async function listContributions(db: Reader, entityId: string, taxYear: number): Promise<ContributionView[]> {
  await getEntity(db as Db, entityId);
  const rows = await db.selectFrom('contributions').selectAll().where('entityId', '=', entityId).where('taxYear', '=', taxYear).orderBy('contributedOn').orderBy('createdAt').execute();
  return rows.map(contributionView);
}

export interface LimitSummary {
  kind: LimitKind;
  label: string;
  taxYear: number;
  contributedCents: number;
  /** Occurrences of active plans still to come this year. */
  plannedCents: number;
  limitCents: number | null;
  catchUpCents: number;
  remainingCents: number | null;
  standing: LimitStanding;
  projectedStanding: LimitStanding;
  source: string | null;
  sourceStatus: LimitRow['status'] | null;
  warning: PlanWarning | null;
}

/** Per limit kind: contributed, still planned this year, the limit for this person and where the year stands. */
export async function contributionSummary(db: Reader, entityId: string, taxYear: number, limits: readonly LimitRow[], today: string): Promise<{ taxYear: number; birthYear: number | null; limits: LimitSummary[] }> {
  await getEntity(db as Db, entityId);
  const birthYear = await birthYearOf(db, entityId);
  const summaries: LimitSummary[] = [];
  for (const kind of ['ira', '401k_employee', 'sep_ira'] as const) {
    const projection = await projectKind(db, entityId, kind, limits, today < `${taxYear}-01-01` ? `${taxYear}-01-01` : today);
    const year = projection.find((candidate) => candidate.year === taxYear);
    const limit = effectiveLimit(limits, taxYear, kind, birthYear);
    const contributedCents = (await contributedByYear(db, entityId, kind)).get(taxYear) ?? 0;
    const plannedCents = year?.plannedCents ?? 0;
    summaries.push({
      kind,
      label: LIMIT_LABELS[kind],
      taxYear,
      contributedCents,
      plannedCents,
      limitCents: limit?.limitCents ?? null,
      catchUpCents: limit?.catchUpCents ?? 0,
      remainingCents: limit === null ? null : limit.limitCents - contributedCents,
      standing: standing(contributedCents, limit),
      projectedStanding: standing(contributedCents + plannedCents, limit),
      source: limit?.source ?? null,
      sourceStatus: limit?.status ?? null,
      warning: year?.warning ?? null,
    });
  }
  return { taxYear, birthYear, limits: summaries };
}
