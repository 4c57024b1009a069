import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Database, Db } from '../db/database';
import { CASH_KINDS } from '../domain/accounts';
import { allocate, validateRules, type AllocationRule, type AllocationRuleKind } from '../domain/allocation';
import {
  assertMonth,
  computeBudgetMonth,
  monthBounds,
  type BudgetEnvelope,
  type BudgetFacts,
  type BudgetMonth,
  type Month,
  type Target,
} from '../domain/budget';
import { NotFound, RuleViolation } from '../domain/errors';
import { centsFromDb } from '../domain/money';
import { alertsAfterAssignments } from './alert-events';
import { recordAudit } from './audit';
import { actorLabel, type Actor } from './context';
import { translateDbError } from './db-errors';
import { getEntity } from './entities';

// The zero-based budget of one entity: envelopes and their assignments here, activity read from the journal.
// Writes append to the assignment log; nothing in it is edited. The month arithmetic is domain/budget.ts.

type Trx = Transaction<Database>;
type Reader = Db | Trx;

export const CARD_PAYMENTS_GROUP_NAME = 'Credit Card Payments';
const CASH_KIND_LIST = [...CASH_KINDS];

export interface EnvelopeGroupView {
  id: string;
  name: string;
  kind: 'user' | 'credit_card_payments';
  createdAt: string;
}

export interface EnvelopeView {
  id: string;
  name: string;
  groupId: string;
  kind: 'category' | 'credit_card_payment';
  categoryAccountIds: string[];
  paymentAccountId: string | null;
  target: Target | null;
}

export interface NewEnvelope {
  name: string;
  groupId: string;
  categoryAccountIds: string[];
  target?: { kind: Target['kind']; amountCents: number; dueOn?: string | undefined } | undefined;
}

function groupView(row: { id: string; name: string; systemRole: string | null; createdAt: Date }): EnvelopeGroupView {
  return {
    id: row.id,
    name: row.name,
    kind: row.systemRole === 'credit_card_payments' ? 'credit_card_payments' : 'user',
    createdAt: row.createdAt.toISOString(),
  };
}

export async function createGroup(trx: Trx, entityId: string, input: { name: string }, actor: Actor): Promise<EnvelopeGroupView> {
  await getEntity(trx, entityId);
  await ensureCardPaymentEnvelopes(trx, entityId, actor);
  try {
    const row = await trx.insertInto('envelopeGroups').values({ entityId, name: input.name }).returningAll().executeTakeFirstOrThrow();
    const view = groupView(row);
    recordAudit(trx, actor, { action: 'envelope_group.created', entityId, objectType: 'envelope_group', objectId: view.id, after: view });
    return view;
  } catch (error) {
    throw translateDbError(error);
  }
}

export async function listGroups(db: Reader, entityId: string): Promise<EnvelopeGroupView[]> {
  await getEntity(db, entityId);
  const rows = await db.selectFrom('envelopeGroups').selectAll().where('entityId', '=', entityId).orderBy('seq').execute();
  return rows.map(groupView);
}

function targetOf(row: { targetKind: Target['kind'] | null; targetAmountCents: string | null; targetDueOn: string | null }): Target | null {
  if (row.targetKind === null || row.targetAmountCents === null) return null;
  return {
    kind: row.targetKind,
    amountCents: centsFromDb(row.targetAmountCents),
    ...(row.targetKind === 'by_date' ? { dueOn: row.targetDueOn } : {}),
  };
}

export async function listEnvelopes(db: Reader, entityId: string): Promise<EnvelopeView[]> {
  await getEntity(db, entityId);
  const rows = await db
    .selectFrom('envelopes as v')
    .innerJoin('envelopeGroups as g', 'g.id', 'v.groupId')
    .selectAll('v')
    .where('v.entityId', '=', entityId)
    // Card payment envelopes last, as YNAB and Actual show them; otherwise in the order they were made.
    .orderBy(sql`g.system_role is not null`)
    .orderBy('g.seq')
    .orderBy('v.seq')
    .execute();
  const links = await db.selectFrom('envelopeCategories').select(['envelopeId', 'accountId']).where('entityId', '=', entityId).orderBy('accountId').execute();
  const categoriesOf = new Map<string, string[]>();
  for (const link of links) categoriesOf.set(link.envelopeId, [...(categoriesOf.get(link.envelopeId) ?? []), link.accountId]);
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    groupId: row.groupId,
    kind: row.paymentAccountId === null ? 'category' : 'credit_card_payment',
    categoryAccountIds: categoriesOf.get(row.id) ?? [],
    paymentAccountId: row.paymentAccountId,
    target: targetOf(row),
  }));
}

export async function getEnvelope(db: Reader, entityId: string, envelopeId: string): Promise<EnvelopeView> {
  const envelope = (await listEnvelopes(db, entityId)).find((candidate) => candidate.id === envelopeId);
  // Another entity's envelope is answered like a missing one.
  if (envelope === undefined) throw new NotFound('envelope', envelopeId);
  return envelope;
}

export async function createEnvelope(trx: Trx, entityId: string, input: NewEnvelope, actor: Actor): Promise<EnvelopeView> {
  await getEntity(trx, entityId);
  await ensureCardPaymentEnvelopes(trx, entityId, actor);
  const group = await trx.selectFrom('envelopeGroups').select(['id', 'systemRole']).where('id', '=', input.groupId).where('entityId', '=', entityId).executeTakeFirst();
  if (group === undefined) throw new NotFound('envelope group', input.groupId);
  if (group.systemRole !== null) {
    throw new RuleViolation('budget_envelope_invalid', 'the credit-card payment group holds one envelope per card, kept by the service');
  }
  const ids = [...new Set(input.categoryAccountIds)];
  if (ids.length !== input.categoryAccountIds.length) throw new RuleViolation('budget_category_invalid', 'a category is listed twice');
  if (ids.length > 0) {
    const accounts = await trx.selectFrom('accounts').select(['id', 'class', 'entityId', 'archivedAt']).where('id', 'in', ids).execute();
    for (const id of ids) {
      const account = accounts.find((candidate) => candidate.id === id);
      if (account === undefined || account.entityId !== entityId) throw new NotFound('account', id);
      if (account.class !== 'expense') {
        throw new RuleViolation('budget_category_invalid', `account ${id} is of class ${account.class}: envelopes gather expense categories`, { accountId: id });
      }
    }
    const taken = await trx.selectFrom('envelopeCategories').select(['accountId', 'envelopeId']).where('entityId', '=', entityId).where('accountId', 'in', ids).execute();
    if (taken.length > 0) {
      throw new RuleViolation('budget_category_taken', `category ${taken[0]?.accountId} already feeds another envelope`, { taken });
    }
  }
  const target = input.target;
  if (target !== undefined && (target.kind === 'by_date') !== (target.dueOn !== undefined)) {
    throw new RuleViolation('budget_envelope_invalid', target.kind === 'by_date' ? 'a by_date target needs dueOn' : `a ${target.kind} target takes no dueOn`);
  }
  try {
    const row = await trx
      .insertInto('envelopes')
      .values({
        entityId,
        groupId: input.groupId,
        name: input.name,
        targetKind: target?.kind ?? null,
        targetAmountCents: target?.amountCents ?? null,
        targetDueOn: target?.dueOn ?? null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (ids.length > 0) {
      await trx.insertInto('envelopeCategories').values(ids.map((accountId) => ({ entityId, envelopeId: row.id, accountId }))).execute();
    }
    const view = await getEnvelope(trx, entityId, row.id);
    recordAudit(trx, actor, { action: 'envelope.created', entityId, objectType: 'envelope', objectId: view.id, after: view });
    return view;
  } catch (error) {
    throw translateDbError(error);
  }
}

export interface EnvelopeChanges {
  name?: string | undefined;
  groupId?: string | undefined;
  /** null clears the target. */
  target?: NewEnvelope['target'] | null | undefined;
}

/** The entity an envelope belongs to, or not found. */
export async function envelopeEntityId(db: Reader, envelopeId: string): Promise<string> {
  const row = await db.selectFrom('envelopes').select('entityId').where('id', '=', envelopeId).executeTakeFirst();
  if (row === undefined) throw new NotFound('envelope', envelopeId);
  return row.entityId;
}

/**
 * Renames an envelope, moves it to another group, or sets or clears its target. Its categories stay: the budget of
 * past months is computed from them, and changing them would silently rewrite those months. A card payment
 * envelope stays in the group the service keeps for them; only its name and target change.
 */
export async function updateEnvelope(trx: Trx, entityId: string, envelopeId: string, changes: EnvelopeChanges, actor: Actor): Promise<EnvelopeView> {
  const before = await getEnvelope(trx, entityId, envelopeId);
  await trx.selectFrom('envelopes').select('id').where('id', '=', envelopeId).forUpdate().execute();
  if (changes.groupId !== undefined && changes.groupId !== before.groupId) {
    if (before.kind === 'credit_card_payment') {
      throw new RuleViolation('budget_envelope_invalid', "a card's payment envelope stays in the Credit Card Payments group, kept by the service");
    }
    const group = await trx.selectFrom('envelopeGroups').select(['id', 'systemRole']).where('id', '=', changes.groupId).where('entityId', '=', entityId).executeTakeFirst();
    if (group === undefined) throw new NotFound('envelope group', changes.groupId);
    if (group.systemRole !== null) throw new RuleViolation('budget_envelope_invalid', 'the credit-card payment group holds one envelope per card, kept by the service');
  }
  const target = changes.target;
  if (target !== undefined && target !== null && (target.kind === 'by_date') !== (target.dueOn !== undefined)) {
    throw new RuleViolation('budget_envelope_invalid', target.kind === 'by_date' ? 'a by_date target needs dueOn' : `a ${target.kind} target takes no dueOn`);
  }
  try {
    await trx
      .updateTable('envelopes')
      .set({
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.groupId !== undefined ? { groupId: changes.groupId } : {}),
        ...(target !== undefined ? { targetKind: target?.kind ?? null, targetAmountCents: target?.amountCents ?? null, targetDueOn: target?.dueOn ?? null } : {}),
      })
      .where('id', '=', envelopeId)
      .execute();
  } catch (error) {
    throw translateDbError(error);
  }
  const after = await getEnvelope(trx, entityId, envelopeId);
  recordAudit(trx, actor, { action: 'envelope.updated', entityId, objectType: 'envelope', objectId: envelopeId, before, after });
  return after;
}

/**
 * Every credit card of the entity gets a payment envelope in the service's "Credit Card Payments" group. Run by
 * every budget write, so a card opened since the last one is budgeted from then on (its history included: the
 * budget is recomputed from the journal each time).
 */
export async function ensureCardPaymentEnvelopes(trx: Trx, entityId: string, actor: Actor): Promise<void> {
  const cards = await trx
    .selectFrom('accounts as a')
    .leftJoin('envelopes as v', (join) => join.onRef('v.paymentAccountId', '=', 'a.id'))
    .select(['a.id', 'a.name'])
    .where('a.entityId', '=', entityId)
    .where('a.kind', '=', 'credit_card')
    .where('v.id', 'is', null)
    .orderBy('a.name')
    .execute();
  if (cards.length === 0) return;
  let group = await trx.selectFrom('envelopeGroups').select('id').where('entityId', '=', entityId).where('systemRole', '=', 'credit_card_payments').executeTakeFirst();
  if (group === undefined) {
    const name = await freeName(trx, 'envelopeGroups', entityId, CARD_PAYMENTS_GROUP_NAME);
    group = await trx.insertInto('envelopeGroups').values({ entityId, name, systemRole: 'credit_card_payments' }).returning('id').executeTakeFirstOrThrow();
    recordAudit(trx, actor, { action: 'envelope_group.created', entityId, objectType: 'envelope_group', objectId: group.id, after: { name, kind: 'credit_card_payments' } });
  }
  for (const card of cards) {
    const name = await freeName(trx, 'envelopes', entityId, `${card.name} Payment`);
    const created = await trx
      .insertInto('envelopes')
      .values({ entityId, groupId: group.id, name, targetKind: null, targetAmountCents: null, targetDueOn: null, paymentAccountId: card.id })
      .returning('id')
      .executeTakeFirstOrThrow();
    recordAudit(trx, actor, { action: 'envelope.created', entityId, objectType: 'envelope', objectId: created.id, after: { name, paymentAccountId: card.id } });
  }
}

async function freeName(trx: Trx, table: 'envelopes' | 'envelopeGroups', entityId: string, wanted: string): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    const name = attempt === 1 ? wanted : `${wanted} (${attempt})`;
    const taken = await trx.selectFrom(table).select('id').where('entityId', '=', entityId).where('name', '=', name).executeTakeFirst();
    if (taken === undefined) return name;
  }
}

// ---- reading the month ----

interface FlowRow {
  month: string;
  accountId: string;
  kind: string;
  cardOnly: boolean;
  cardId: string | null;
  cents: string;
}

function add(map: Map<string, number>, key: string, cents: number): void {
  map.set(key, (map.get(key) ?? 0) + cents);
}

function child<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/**
 * Everything the budget arithmetic needs, up to the end of `throughMonth` for the journal (assignments of every
 * month, as later assignments reduce Ready to Assign too). One aggregate query over the journal: entries that
 * touch an on-budget account (cash kinds and credit cards), summed per month, account and kind of entry.
 */
export async function budgetFacts(db: Reader, entityId: string, throughMonth: Month): Promise<{ facts: BudgetFacts; envelopes: EnvelopeView[] }> {
  const entity = await getEntity(db, entityId);
  const envelopes = await listEnvelopes(db, entityId);
  const { lastOn } = monthBounds(throughMonth);
  const onBudgetKinds = sql.join([...CASH_KIND_LIST, 'credit_card']);
  const cashKinds = sql.join(CASH_KIND_LIST);
  const flows = await sql<FlowRow>`
    with budget_entries as (
      select e.id,
        bool_or(a.kind in (${cashKinds})) as touches_cash,
        count(distinct a.id) filter (where a.kind = 'credit_card') as card_count,
        min(a.id::text) filter (where a.kind = 'credit_card') as card_id
      from journal_entries e
      join postings p on p.entry_id = e.id
      join accounts a on a.id = p.account_id
      where e.entity_id = ${entityId} and e.posted_on <= ${lastOn} and p.currency = ${entity.currency}
      group by e.id
      having bool_or(a.kind in (${onBudgetKinds}))
    )
    select to_char(e.posted_on, 'YYYY-MM') as month, p.account_id, a.kind,
      (not b.touches_cash and b.card_count = 1) as card_only,
      b.card_id,
      sum(p.amount_cents)::text as cents
    from budget_entries b
    join journal_entries e on e.id = b.id
    join postings p on p.entry_id = b.id and p.currency = ${entity.currency}
    join accounts a on a.id = p.account_id
    group by 1, 2, 3, 4, 5`.execute(db);
  const assignments = await db
    .selectFrom('budgetAssignments')
    .select(['month', 'envelopeId', sql<string>`sum(amount_cents)::text`.as('cents')])
    .where('entityId', '=', entityId)
    .groupBy(['month', 'envelopeId'])
    .execute();

  const envelopeOfCategory = new Map<string, string>();
  const paymentEnvelopeOfCard = new Map<string, string>();
  for (const envelope of envelopes) {
    for (const accountId of envelope.categoryAccountIds) envelopeOfCategory.set(accountId, envelope.id);
    if (envelope.paymentAccountId !== null) paymentEnvelopeOfCard.set(envelope.paymentAccountId, envelope.id);
  }
  const inflowCents = new Map<Month, number>();
  const assignedCents = new Map<Month, Map<string, number>>();
  const cashSpendingCents = new Map<Month, Map<string, number>>();
  const cardSpendingCents = new Map<Month, Map<string, Map<string, number>>>();
  const cardFundedFromReadyCents = new Map<Month, Map<string, number>>();
  const cardPaymentsCents = new Map<Month, Map<string, number>>();
  for (const row of flows.rows) {
    const cents = centsFromDb(row.cents);
    if (cents === 0 || CASH_KINDS.has(row.kind as never)) continue;
    // A charge on a card that has a payment envelope; anything else is spending from cash.
    const card = row.cardOnly && row.cardId !== null && paymentEnvelopeOfCard.has(row.cardId) ? row.cardId : null;
    if (row.kind === 'credit_card') {
      if (row.cardOnly) continue; // the charge itself: its other side says what it was for
      if (paymentEnvelopeOfCard.has(row.accountId)) add(child(cardPaymentsCents, row.month, () => new Map()), row.accountId, cents);
      else add(inflowCents, row.month, -cents);
      continue;
    }
    const envelopeId = envelopeOfCategory.get(row.accountId);
    if (envelopeId !== undefined) {
      if (card !== null) add(child(child(cardSpendingCents, row.month, () => new Map()), envelopeId, () => new Map()), card, cents);
      else add(child(cashSpendingCents, row.month, () => new Map()), envelopeId, cents);
      continue;
    }
    // Income, equity, off-budget accounts and uncategorised expenses: money entering or leaving Ready to Assign.
    add(inflowCents, row.month, -cents);
    if (card !== null) add(child(cardFundedFromReadyCents, row.month, () => new Map()), card, cents);
  }
  for (const row of assignments) {
    add(child(assignedCents, row.month, () => new Map()), row.envelopeId, centsFromDb(row.cents));
  }
  const budgetEnvelopes: BudgetEnvelope[] = envelopes.map((envelope) => ({
    id: envelope.id,
    paymentAccountId: envelope.paymentAccountId,
    target: envelope.target,
  }));
  return {
    envelopes,
    facts: { envelopes: budgetEnvelopes, inflowCents, assignedCents, cashSpendingCents, cardSpendingCents, cardFundedFromReadyCents, cardPaymentsCents },
  };
}

export interface BudgetMonthView {
  month: Month;
  readyToAssignCents: number;
  assignedInFutureCents: number;
  overspentLastMonthCents: number;
  totals: { assignedCents: number; activityCents: number; availableCents: number; underfundedCents: number };
  groups: {
    id: string;
    name: string;
    kind: EnvelopeGroupView['kind'];
    envelopes: {
      id: string;
      name: string;
      kind: EnvelopeView['kind'];
      paymentAccountId: string | null;
      carriedOverCents: number;
      assignedCents: number;
      activityCents: number;
      availableCents: number;
      target: Target | null;
      underfundedCents: number;
      cashOverspentCents: number;
      creditOverspentCents: number;
    }[];
  }[];
}

export async function computeMonth(db: Reader, entityId: string, month: Month): Promise<{ computed: BudgetMonth; envelopes: EnvelopeView[] }> {
  assertMonth(month);
  const { facts, envelopes } = await budgetFacts(db, entityId, month);
  return { computed: computeBudgetMonth(facts, month), envelopes };
}

export async function getBudgetMonth(db: Reader, entityId: string, month: Month): Promise<BudgetMonthView> {
  const { computed, envelopes } = await computeMonth(db, entityId, month);
  const groups = await listGroups(db, entityId);
  const lineOf = new Map(computed.envelopes.map((line) => [line.envelopeId, line]));
  const totals = { assignedCents: 0, activityCents: 0, availableCents: 0, underfundedCents: 0 };
  for (const line of computed.envelopes) {
    totals.assignedCents += line.assignedCents;
    totals.activityCents += line.activityCents;
    totals.availableCents += line.availableCents;
    totals.underfundedCents += line.underfundedCents;
  }
  const ordered = [...groups].sort((a, b) => Number(a.kind !== 'user') - Number(b.kind !== 'user'));
  return {
    month,
    readyToAssignCents: computed.readyToAssignCents,
    assignedInFutureCents: computed.assignedInFutureCents,
    overspentLastMonthCents: computed.overspentLastMonthCents,
    totals,
    groups: ordered.map((group) => ({
      id: group.id,
      name: group.name,
      kind: group.kind,
      envelopes: envelopes
        .filter((envelope) => envelope.groupId === group.id)
        .map((envelope) => {
          const line = lineOf.get(envelope.id);
          return {
            id: envelope.id,
            name: envelope.name,
            kind: envelope.kind,
            paymentAccountId: envelope.paymentAccountId,
            carriedOverCents: line?.carriedOverCents ?? 0,
            assignedCents: line?.assignedCents ?? 0,
            activityCents: line?.activityCents ?? 0,
            availableCents: line?.availableCents ?? 0,
            target: envelope.target,
            underfundedCents: line?.underfundedCents ?? 0,
            cashOverspentCents: line?.cashOverspentCents ?? 0,
            creditOverspentCents: line?.creditOverspentCents ?? 0,
          };
        }),
    })),
  };
}

// ---- assigning ----

async function insertAssignments(
  trx: Trx,
  entityId: string,
  month: Month,
  rows: { envelopeId: string; amountCents: number }[],
  kind: 'assign' | 'move' | 'allocation',
  groupId: string | null,
  actor: Actor,
): Promise<void> {
  const nonZero = rows.filter((row) => row.amountCents !== 0);
  if (nonZero.length === 0) return;
  await trx
    .insertInto('budgetAssignments')
    .values(nonZero.map((row) => ({ entityId, envelopeId: row.envelopeId, month, amountCents: row.amountCents, kind, groupId, actor: actorLabel(actor) })))
    .execute();
  await alertsAfterAssignments(trx, entityId, month);
}

export async function assign(
  trx: Trx,
  entityId: string,
  month: Month,
  input: { envelopeId: string; amountCents: number },
  actor: Actor,
): Promise<BudgetMonthView> {
  assertMonth(month);
  await ensureCardPaymentEnvelopes(trx, entityId, actor);
  await getEnvelope(trx, entityId, input.envelopeId);
  // The group id names this assignment, so a rollback of the execution that made it can take it back once.
  const assignmentId = randomUUID();
  await insertAssignments(trx, entityId, month, [input], 'assign', assignmentId, actor);
  recordAudit(trx, actor, { action: 'budget.assigned', entityId, objectType: 'envelope', objectId: input.envelopeId, after: { month, ...input, assignmentId } });
  return getBudgetMonth(trx, entityId, month);
}

export async function move(
  trx: Trx,
  entityId: string,
  month: Month,
  input: { fromEnvelopeId: string; toEnvelopeId: string; amountCents: number },
  actor: Actor,
): Promise<BudgetMonthView> {
  assertMonth(month);
  if (input.fromEnvelopeId === input.toEnvelopeId) throw new RuleViolation('budget_envelope_invalid', 'moving money needs two different envelopes');
  await ensureCardPaymentEnvelopes(trx, entityId, actor);
  await getEnvelope(trx, entityId, input.fromEnvelopeId);
  await getEnvelope(trx, entityId, input.toEnvelopeId);
  const moveId = randomUUID();
  await insertAssignments(
    trx,
    entityId,
    month,
    [
      { envelopeId: input.fromEnvelopeId, amountCents: -input.amountCents },
      { envelopeId: input.toEnvelopeId, amountCents: input.amountCents },
    ],
    'move',
    moveId,
    actor,
  );
  recordAudit(trx, actor, { action: 'budget.moved', entityId, objectType: 'budget_move', objectId: moveId, after: { month, ...input } });
  return getBudgetMonth(trx, entityId, month);
}

// ---- allocation rules and allocations ----

export interface AllocationRulesView {
  rules: AllocationRule[];
  updatedAt: string | null;
}

export async function getAllocationRules(db: Reader, entityId: string): Promise<AllocationRulesView> {
  await getEntity(db, entityId);
  const row = await db.selectFrom('allocationRules').selectAll().where('entityId', '=', entityId).executeTakeFirst();
  return { rules: (row?.rules as AllocationRule[] | undefined) ?? [], updatedAt: row?.updatedAt.toISOString() ?? null };
}

async function checkRuleEnvelopes(db: Reader, entityId: string, rules: readonly AllocationRule[]): Promise<Map<string, EnvelopeView>> {
  validateRules(rules);
  const envelopes = new Map((await listEnvelopes(db, entityId)).map((envelope) => [envelope.id, envelope]));
  rules.forEach((rule, index) => {
    const envelope = envelopes.get(rule.envelopeId);
    if (envelope === undefined) throw new NotFound('envelope', rule.envelopeId);
    if (rule.kind === 'fill_to_target' && envelope.target === null) {
      throw new RuleViolation('allocation_rules_invalid', `rule ${index}: envelope ${envelope.name} has no target to fill`, { ruleIndex: index });
    }
  });
  return envelopes;
}

export async function setAllocationRules(trx: Trx, entityId: string, rules: AllocationRule[], actor: Actor): Promise<AllocationRulesView> {
  await getEntity(trx, entityId);
  await checkRuleEnvelopes(trx, entityId, rules);
  const before = await getAllocationRules(trx, entityId);
  const stored = rules.map((rule) => ({
    kind: rule.kind,
    envelopeId: rule.envelopeId,
    ...(rule.amountCents !== undefined ? { amountCents: rule.amountCents } : {}),
    ...(rule.basisPoints !== undefined ? { basisPoints: rule.basisPoints } : {}),
  }));
  const updatedAt = new Date();
  await trx
    .insertInto('allocationRules')
    .values({ entityId, rules: JSON.stringify(stored), updatedAt })
    .onConflict((conflict) => conflict.column('entityId').doUpdateSet({ rules: JSON.stringify(stored), updatedAt }))
    .execute();
  recordAudit(trx, actor, { action: 'allocation_rules.updated', entityId, objectType: 'allocation_rules', objectId: entityId, before: before.rules, after: stored });
  return { rules: stored, updatedAt: updatedAt.toISOString() };
}

export interface AllocationRequest {
  month: Month;
  amountCents?: number | undefined;
  sourceEntryId?: string | undefined;
  rules?: AllocationRule[] | undefined;
  dryRun?: boolean | undefined;
}

export interface AllocationView {
  id: string | null;
  dryRun: boolean;
  month: Month;
  incomeCents: number;
  sourceEntryId: string | null;
  lines: { ruleIndex: number; kind: AllocationRuleKind; envelopeId: string; envelopeName: string; amountCents: number }[];
  leftoverCents: number;
  readyToAssignCents: number;
}

/** What an income entry brought into on-budget cash: the sum of its postings to cash accounts. */
async function incomeOfEntry(db: Reader, entityId: string, entryId: string): Promise<number> {
  const entry = await db.selectFrom('journalEntries').select(['id', 'entityId']).where('id', '=', entryId).executeTakeFirst();
  if (entry === undefined || entry.entityId !== entityId) throw new NotFound('entry', entryId);
  // A reversed income entry brought nothing in (e.g. a rolled-back execution's paycheck): nothing to allocate again.
  const reversal = await db.selectFrom('journalEntries').select('id').where('reversesEntryId', '=', entryId).executeTakeFirst();
  if (reversal !== undefined) {
    throw new RuleViolation('allocation_income_invalid', `entry ${entryId} was reversed by entry ${reversal.id}: it brought nothing to allocate`, { reversalId: reversal.id });
  }
  const row = await db
    .selectFrom('postings as p')
    .innerJoin('accounts as a', 'a.id', 'p.accountId')
    .select(sql<string>`coalesce(sum(p.amount_cents), 0)::text`.as('cents'))
    .where('p.entryId', '=', entryId)
    .where('a.kind', 'in', CASH_KIND_LIST)
    .executeTakeFirstOrThrow();
  const cents = centsFromDb(row.cents);
  if (cents <= 0) {
    throw new RuleViolation('allocation_income_invalid', `entry ${entryId} brought no money into an on-budget account`, { cents });
  }
  return cents;
}

/** Runs the rules (the saved ones unless the request carries its own); applies them unless it is a dry run. */
export async function runAllocation(db: Reader, entityId: string, input: AllocationRequest, actor: Actor, trx?: Trx): Promise<AllocationView> {
  assertMonth(input.month);
  if ((input.amountCents === undefined) === (input.sourceEntryId === undefined)) {
    throw new RuleViolation('allocation_income_invalid', 'give either amountCents or sourceEntryId');
  }
  // An income entry is allocated once; once more only after that allocation was taken back (a rollback).
  let attempt = 1;
  if (input.sourceEntryId !== undefined && input.dryRun !== true) {
    const earlier = await db
      .selectFrom('allocations as a')
      .leftJoin('budgetReversals as r', 'r.groupId', 'a.id')
      .select(['a.id', 'a.attempt', 'r.groupId as reversedId'])
      .where('a.entityId', '=', entityId)
      .where('a.sourceEntryId', '=', input.sourceEntryId)
      .orderBy('a.attempt', 'desc')
      .executeTakeFirst();
    if (earlier !== undefined && earlier.reversedId === null) {
      throw new RuleViolation('already_allocated', `entry ${input.sourceEntryId} was allocated by allocation ${earlier.id}`, { allocationId: earlier.id });
    }
    if (earlier !== undefined) attempt = earlier.attempt + 1;
  }
  const incomeCents = input.amountCents ?? (await incomeOfEntry(db, entityId, input.sourceEntryId as string));
  if (trx !== undefined) await ensureCardPaymentEnvelopes(trx, entityId, actor);
  const rules = input.rules ?? (await getAllocationRules(db, entityId)).rules;
  if (rules.length === 0) throw new RuleViolation('allocation_rules_invalid', 'no rules: save some with PUT allocation-rules or send them');
  const envelopes = await checkRuleEnvelopes(db, entityId, rules);
  const { computed } = await computeMonth(db, entityId, input.month);
  const underfunded = new Map(computed.envelopes.map((line) => [line.envelopeId, line.underfundedCents]));
  const result = allocate(incomeCents, rules, (envelopeId) => underfunded.get(envelopeId) ?? 0);
  const lines = result.lines.map((line) => ({ ...line, envelopeName: envelopes.get(line.envelopeId)?.name ?? '' }));
  const view = (id: string | null, readyToAssignCents: number): AllocationView => ({
    id,
    dryRun: id === null,
    month: input.month,
    incomeCents,
    sourceEntryId: input.sourceEntryId ?? null,
    lines,
    leftoverCents: result.leftoverCents,
    readyToAssignCents,
  });
  if (input.dryRun === true || trx === undefined) {
    const assignedCents = result.lines.reduce((sum, line) => sum + line.amountCents, 0);
    return view(null, computed.readyToAssignCents - assignedCents);
  }
  const row = await trx
    .insertInto('allocations')
    .values({
      entityId,
      month: input.month,
      incomeCents,
      sourceEntryId: input.sourceEntryId ?? null,
      rules: JSON.stringify(rules),
      lines: JSON.stringify(lines),
      leftoverCents: result.leftoverCents,
      actor: actorLabel(actor),
      attempt,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
    .catch((error: unknown) => {
      throw translateDbError(error);
    });
  await insertAssignments(trx, entityId, input.month, result.lines, 'allocation', row.id, actor);
  const after = await computeMonth(trx, entityId, input.month);
  const applied = view(row.id, after.computed.readyToAssignCents);
  recordAudit(trx, actor, { action: 'allocation.applied', entityId, objectType: 'allocation', objectId: row.id, after: applied });
  return applied;
}

export type BudgetGroupKind = 'assign' | 'move' | 'allocation';

/**
 * Takes back a group of assignments (an allocation, a move or an /assign): one negating row per envelope and month
 * still holding some of it, under the same group. The budget_reversals row is the guard: a group is taken back once,
 * even by two rollbacks at the same time (the second waits for the first and then finds the row).
 * Returns false when it had been taken back already.
 */
async function takeBackGroup(trx: Trx, entityId: string, kind: BudgetGroupKind, groupId: string, actor: Actor): Promise<{ reversedNow: boolean; lines: { envelopeId: string; month: string; amountCents: number }[] }> {
  const guard = await trx
    .insertInto('budgetReversals')
    .values({ groupId, entityId, kind, actor: actorLabel(actor) })
    .onConflict((conflict) => conflict.column('groupId').doNothing())
    .returning('groupId')
    .executeTakeFirst();
  if (guard === undefined) return { reversedNow: false, lines: [] };
  const held = await trx
    .selectFrom('budgetAssignments')
    .select(['envelopeId', 'month', sql<string>`sum(amount_cents)::text`.as('cents')])
    .where('entityId', '=', entityId)
    .where('groupId', '=', groupId)
    .where('kind', '=', kind)
    .groupBy(['envelopeId', 'month'])
    .orderBy('month')
    .orderBy('envelopeId')
    .execute();
  const lines = held.map((row) => ({ envelopeId: row.envelopeId, month: row.month, amountCents: -centsFromDb(row.cents) })).filter((row) => row.amountCents !== 0);
  for (const month of new Set(lines.map((row) => row.month))) {
    await insertAssignments(trx, entityId, month as Month, lines.filter((row) => row.month === month), kind, groupId, actor);
  }
  return { reversedNow: true, lines };
}

/**
 * Takes back what an allocation assigned (see takeBackGroup). amountCents is what left the envelopes now: 0 when it
 * had been taken back already.
 */
export async function reverseAllocation(trx: Trx, allocationId: string, actor: Actor): Promise<{ reversedNow: boolean; entityId: string; month: Month; amountCents: number }> {
  const allocation = await trx.selectFrom('allocations').select(['id', 'entityId', 'month']).where('id', '=', allocationId).executeTakeFirst();
  if (allocation === undefined) throw new NotFound('allocation', allocationId);
  const { reversedNow, lines } = await takeBackGroup(trx, allocation.entityId, 'allocation', allocationId, actor);
  const amountCents = -lines.reduce((sum, row) => sum + row.amountCents, 0);
  if (reversedNow) recordAudit(trx, actor, { action: 'allocation.reversed', entityId: allocation.entityId, objectType: 'allocation', objectId: allocationId, after: { lines } });
  return { reversedNow, entityId: allocation.entityId, month: allocation.month as Month, amountCents };
}

/**
 * Takes back an assignment (/assign) or a move (/move) by its group id: the envelopes hold what they held before it.
 * Audited as budget.assignment_reversed or budget.move_reversed.
 */
export async function reverseBudgetChange(trx: Trx, entityId: string, kind: 'assign' | 'move', groupId: string, actor: Actor): Promise<{ reversedNow: boolean }> {
  const { reversedNow, lines } = await takeBackGroup(trx, entityId, kind, groupId, actor);
  if (reversedNow) {
    recordAudit(trx, actor, {
      action: kind === 'assign' ? 'budget.assignment_reversed' : 'budget.move_reversed',
      entityId,
      objectType: kind === 'assign' ? 'budget_assignment' : 'budget_move',
      objectId: groupId,
      after: { lines },
    });
  }
  return { reversedNow };
}

// ---- money flow (Sankey) ----

export interface MoneyFlow {
  fromOn: string;
  toOn: string;
  nodes: { id: string; name: string; kind: 'income' | 'budget' | 'envelope' | 'spending' | 'outflow' }[];
  links: { source: string; target: string; valueCents: number }[];
}

export const READY_TO_ASSIGN_NODE = 'ready-to-assign';
export const NOT_ASSIGNED_NODE = 'not-yet-assigned';

/**
 * Where the period's money came from and went: income sources → Ready to Assign → envelopes (assigned in the
 * period's months) → spending categories (activity); money that left the budget without an envelope goes from
 * Ready to Assign straight to where it went. Card payments are moves between on-budget accounts, not flows.
 */
export async function moneyFlow(db: Reader, entityId: string, fromOn: string, toOn: string): Promise<MoneyFlow> {
  if (toOn < fromOn) throw new RuleViolation('invalid_request', `to (${toOn}) is before from (${fromOn})`);
  const entity = await getEntity(db, entityId);
  const envelopes = await listEnvelopes(db, entityId);
  const onBudgetKinds = sql.join([...CASH_KIND_LIST, 'credit_card']);
  const rows = await sql<{ accountId: string; name: string; kind: string; class: string; cents: string }>`
    with budget_entries as (
      select e.id from journal_entries e
      join postings p on p.entry_id = e.id
      join accounts a on a.id = p.account_id
      where e.entity_id = ${entityId} and e.posted_on between ${fromOn} and ${toOn} and p.currency = ${entity.currency}
      group by e.id
      having bool_or(a.kind in (${onBudgetKinds}))
    )
    select p.account_id, a.name, a.kind, a.class, sum(p.amount_cents)::text as cents
    from budget_entries b
    join postings p on p.entry_id = b.id and p.currency = ${entity.currency}
    join accounts a on a.id = p.account_id
    where a.kind not in (${onBudgetKinds})
    group by 1, 2, 3, 4
    order by a.name`.execute(db);
  const assigned = await db
    .selectFrom('budgetAssignments')
    .select(['envelopeId', sql<string>`sum(amount_cents)::text`.as('cents')])
    .where('entityId', '=', entityId)
    .where('month', '>=', fromOn.slice(0, 7))
    .where('month', '<=', toOn.slice(0, 7))
    .groupBy('envelopeId')
    .execute();

  const nodes = new Map<string, MoneyFlow['nodes'][number]>();
  const links: MoneyFlow['links'] = [];
  const node = (id: string, name: string, kind: MoneyFlow['nodes'][number]['kind']) => {
    if (!nodes.has(id)) nodes.set(id, { id, name, kind });
  };
  const link = (source: string, target: string, valueCents: number) => {
    if (valueCents > 0) links.push({ source, target, valueCents });
  };
  node(READY_TO_ASSIGN_NODE, 'Ready to Assign', 'budget');
  const envelopeOfCategory = new Map<string, EnvelopeView>();
  for (const envelope of envelopes) for (const accountId of envelope.categoryAccountIds) envelopeOfCategory.set(accountId, envelope);

  let inflowCents = 0;
  let outflowCents = 0;
  for (const row of rows.rows) {
    const cents = centsFromDb(row.cents);
    if (cents === 0) continue;
    const envelope = envelopeOfCategory.get(row.accountId);
    if (envelope !== undefined) {
      node(envelope.id, envelope.name, 'envelope');
      node(row.accountId, row.name, 'spending');
      link(envelope.id, row.accountId, cents);
      continue;
    }
    if (cents < 0) {
      node(row.accountId, row.name, 'income');
      link(row.accountId, READY_TO_ASSIGN_NODE, -cents);
      inflowCents += -cents;
    } else {
      node(row.accountId, row.name, row.class === 'expense' ? 'spending' : 'outflow');
      link(READY_TO_ASSIGN_NODE, row.accountId, cents);
      outflowCents += cents;
    }
  }
  let assignedCents = 0;
  for (const row of assigned) {
    const cents = centsFromDb(row.cents);
    const envelope = envelopes.find((candidate) => candidate.id === row.envelopeId);
    if (envelope === undefined || cents <= 0) continue;
    node(envelope.id, envelope.name, 'envelope');
    link(READY_TO_ASSIGN_NODE, envelope.id, cents);
    assignedCents += cents;
  }
  const unassignedCents = inflowCents - outflowCents - assignedCents;
  if (unassignedCents > 0) {
    node(NOT_ASSIGNED_NODE, 'Not yet assigned', 'budget');
    link(READY_TO_ASSIGN_NODE, NOT_ASSIGNED_NODE, unassignedCents);
  }
  return { fromOn, toOn, nodes: [...nodes.values()], links };
}
