import { sql, type ExpressionBuilder, type Transaction } from 'kysely';
import type { Database, Db } from '../db/database';
import { CASH_KINDS } from '../domain/accounts';
import { BILL_DUE_WINDOW_DAYS } from '../domain/bills';
import { addDays, addMonths } from '../domain/dates';
import { assert, RuleViolation } from '../domain/errors';
import { centsFromDb } from '../domain/money';
import { startPeriodic } from './periodic';
import { recordAudit } from './audit';
import { listOccurrences } from './bills';
import { getBudgetMonth } from './budget';
import type { Actor } from './context';
import { emitEvents, type EventDraft, type EventType } from './events';

// Alerts pushed as events. A condition the ledger watches ("this account is under its floor", "this bill
// occurrence is late") has a key; an event is emitted when the condition turns active and not again until it has
// cleared (then recurs). alert_states holds one row per key: the upsert that turns it active returns the row to
// exactly one transaction, so two concurrent writes that both cross a threshold emit one event.
//
// Where a condition is evaluated:
// - in the write's own transaction, after its postings (balance.low of the cash accounts it touched,
//   budget.overspent of the months it booked into when it touched a budgeted category) and after budget
//   assignments (budget.overspent of that month): the event commits with the change or not at all;
// - by a sweep (POST /alerts/sweep, and the service's own timer), for what depends on the date: bills due and
//   late, Ready to Assign not zero when a month ends, targets underfunded, and balances/envelopes again.

type Trx = Transaction<Database>;
type Reader = Db | Trx;

export interface Condition {
  /** Unique per entity, e.g. `balance.low:<account id>`; at most 200 characters. */
  key: string;
  type: EventType;
  payload: Record<string, unknown>;
}

/** What one evaluation looked at: keys (or key prefixes) it is authoritative for, and which of them hold now. */
export interface Evaluation {
  keys: string[];
  prefixes: string[];
  firing: Condition[];
}

/**
 * Conditions owned elsewhere (e.g. contribution.limit_near) join the sweep here: a source returns its evaluation
 * for one entity and date, and the sweep raises and clears its keys like its own.
 */
export type SweepSource = (trx: Trx, entityId: string, today: string) => Promise<Evaluation>;
const sweepSources: SweepSource[] = [];
export function registerSweepSource(source: SweepSource): void {
  sweepSources.push(source);
}

export interface AlertSettings {
  entityId: string;
  balanceCentsMin: number;
  accountBalanceCentsMin: Record<string, number>;
  billDueWithinDays: number;
  updatedAt: string | null;
}

export const ALERT_SETTINGS_DEFAULT = { balanceCentsMin: 0, billDueWithinDays: 3 } as const;
export const ACCOUNT_FLOORS_MAX = 200;

export async function getAlertSettings(db: Reader, entityId: string): Promise<AlertSettings> {
  const row = await db.selectFrom('alertSettings').selectAll().where('entityId', '=', entityId).executeTakeFirst();
  if (row === undefined) return { entityId, ...ALERT_SETTINGS_DEFAULT, accountBalanceCentsMin: {}, updatedAt: null };
  const floors = row.accountBalanceCentsMin as Record<string, number>;
  return {
    entityId,
    balanceCentsMin: centsFromDb(row.balanceCentsMin),
    accountBalanceCentsMin: floors,
    billDueWithinDays: row.billDueWithinDays,
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function setAlertSettings(
  trx: Trx,
  entityId: string,
  input: { balanceCentsMin: number; accountBalanceCentsMin: Record<string, number>; billDueWithinDays: number },
  actor: Actor,
): Promise<AlertSettings> {
  const accountIds = Object.keys(input.accountBalanceCentsMin);
  assert(accountIds.length <= ACCOUNT_FLOORS_MAX, 'the schema bounds the account floors');
  if (accountIds.length > 0) {
    const found = await trx
      .selectFrom('accounts')
      .select(['id', 'kind'])
      .where('entityId', '=', entityId)
      .where('id', 'in', accountIds)
      .execute();
    const cash = new Set(found.filter((row) => CASH_KINDS.has(row.kind as never)).map((row) => row.id));
    const wrong = accountIds.filter((id) => !cash.has(id));
    if (wrong.length > 0) {
      throw new RuleViolation('invalid_request', `a balance floor applies to a cash account of this entity; not: ${wrong.join(', ')}`, { accountIds: wrong });
    }
  }
  const before = await getAlertSettings(trx, entityId);
  const values = {
    entityId,
    balanceCentsMin: input.balanceCentsMin,
    accountBalanceCentsMin: JSON.stringify(input.accountBalanceCentsMin),
    billDueWithinDays: input.billDueWithinDays,
    updatedAt: new Date(),
  };
  await trx
    .insertInto('alertSettings')
    .values(values)
    .onConflict((conflict) => conflict.column('entityId').doUpdateSet({ ...values, entityId: undefined }))
    .execute();
  const after = await getAlertSettings(trx, entityId);
  recordAudit(trx, actor, { action: 'alerts.settings_changed', entityId, objectType: 'alert_settings', objectId: entityId, before, after });
  // New floors apply at once: a balance already under the new floor is an alert now, not at the next write.
  await balanceAlerts(trx, entityId, null);
  return after;
}

// ---- raising and clearing ----

/** Raises what fires (emitting an event for each condition that was not active), clears what the evaluation no longer finds. */
export async function applyEvaluation(trx: Trx, entityId: string, evaluation: Evaluation): Promise<Condition[]> {
  const raised: Condition[] = [];
  const firingKeys = new Set(evaluation.firing.map((condition) => condition.key));
  assert(firingKeys.size === evaluation.firing.length, 'one condition per key');
  const clears = evaluation.keys.length > 0 || evaluation.prefixes.length > 0;
  const clearable = (eb: ExpressionBuilder<Database, 'alertStates'>) =>
    eb.or([
      ...(evaluation.keys.length > 0 ? [eb('conditionKey', 'in', evaluation.keys)] : []),
      ...evaluation.prefixes.map((prefix) => eb('conditionKey', 'like', `${prefix.replace(/[\\%_]/g, '\\$&')}%`)),
    ]);
  // Two evaluations of one entity at once (a booking's and a sweep's, or two bookings') lock the same rows: take
  // every existing row this one may raise or clear first, in key order, then insert the new keys in key order, so
  // neither waits for the other in a cycle (the hardening soak saw 'deadlock detected' on this upsert).
  const keysInOrder = [...firingKeys].sort();
  if (keysInOrder.length > 0 || clears) {
    await trx
      .selectFrom('alertStates')
      .select('conditionKey')
      .where('entityId', '=', entityId)
      .where((eb) =>
        eb.or([...(keysInOrder.length > 0 ? [eb('conditionKey', 'in', keysInOrder)] : []), ...(clears ? [eb.and([eb('active', '=', true), clearable(eb)])] : [])]),
      )
      .orderBy('conditionKey')
      .forUpdate()
      .execute();
  }
  if (evaluation.firing.length > 0) {
    const byKeyFiring = new Map(evaluation.firing.map((condition) => [condition.key, condition]));
    const rows = await trx
      .insertInto('alertStates')
      .values(keysInOrder.map((key) => byKeyFiring.get(key) as Condition).map((condition) => ({ entityId, conditionKey: condition.key, type: condition.type, active: true })))
      .onConflict((conflict) =>
        conflict
          .columns(['entityId', 'conditionKey'])
          .doUpdateSet({ active: true, raisedCount: sql`alert_states.raised_count + 1`, raisedAt: new Date(), clearedAt: null })
          .where('alertStates.active', '=', false),
      )
      .returning(['conditionKey', 'raisedCount'])
      .execute();
    const byKey = new Map(evaluation.firing.map((condition) => [condition.key, condition]));
    const drafts: EventDraft[] = [];
    for (const row of rows) {
      const condition = byKey.get(row.conditionKey);
      assert(condition !== undefined, 'a raised row is one of the firing conditions');
      raised.push(condition);
      drafts.push({ entityId, type: condition.type, payload: { ...condition.payload, alert: { key: condition.key, occurrence: row.raisedCount } } });
    }
    await emitEvents(trx, drafts);
  }
  if (clears) {
    await trx
      .updateTable('alertStates')
      .set({ active: false, clearedAt: new Date() })
      .where('entityId', '=', entityId)
      .where('active', '=', true)
      .where(clearable)
      .$if(firingKeys.size > 0, (query) => query.where('conditionKey', 'not in', [...firingKeys]))
      .execute();
  }
  return raised;
}

// ---- evaluations ----

/**
 * balance.low of the entity's cash accounts (only `accountIds` when given; otherwise every one, and an active
 * balance.low of an account no longer one is cleared), raised and cleared as applyEvaluation does, by the one
 * implementation of the rule: veil_balance_alerts (migration 0033), which the fast booking path's statement also
 * runs. Returns the keys raised.
 */
export async function balanceAlerts(trx: Trx, entityId: string, accountIds: readonly string[] | null): Promise<string[]> {
  if (accountIds !== null && accountIds.length === 0) return [];
  const { rows } = await sql<{ key: string }>`
    select k as key from veil_balance_alerts(${entityId}, ${accountIds === null ? null : [...accountIds]}::uuid[], ${[...CASH_KINDS]}::text[],
      ${ALERT_SETTINGS_DEFAULT.balanceCentsMin}) as k`.execute(trx);
  return rows.map((row) => row.key);
}

/** budget.overspent (and, in a sweep, budget.target_underfunded) of every envelope for one month. */
async function evaluateEnvelopes(trx: Trx, entityId: string, month: string, withTargets: boolean): Promise<Evaluation> {
  const view = await getBudgetMonth(trx, entityId, month);
  const evaluation: Evaluation = { keys: [], prefixes: [], firing: [] };
  for (const envelope of view.groups.flatMap((group) => group.envelopes)) {
    const overspentKey = `budget.overspent:${envelope.id}:${month}`;
    evaluation.keys.push(overspentKey);
    if (envelope.availableCents < 0) {
      evaluation.firing.push({
        key: overspentKey,
        type: 'budget.overspent',
        payload: {
          month,
          envelopeId: envelope.id,
          envelopeName: envelope.name,
          availableCents: envelope.availableCents,
          cashOverspentCents: envelope.cashOverspentCents,
          creditOverspentCents: envelope.creditOverspentCents,
        },
      });
    }
    if (!withTargets) continue;
    const underfundedKey = `budget.target_underfunded:${envelope.id}:${month}`;
    evaluation.keys.push(underfundedKey);
    if (envelope.availableCents >= 0 && envelope.underfundedCents > 0) {
      evaluation.firing.push({
        key: underfundedKey,
        type: 'budget.target_underfunded',
        payload: { month, envelopeId: envelope.id, envelopeName: envelope.name, underfundedCents: envelope.underfundedCents, target: envelope.target },
      });
    }
  }
  return evaluation;
}

function lastDayOfMonth(month: string): string {
  return addDays(addMonths(`${month}-01`, 1), -1);
}

/** Ready to Assign of a month that has ended (or ends today) should be exactly zero. */
async function evaluateMonthEnd(trx: Trx, entityId: string, today: string): Promise<Evaluation> {
  const thisMonth = today.slice(0, 7);
  const months = [addMonths(`${thisMonth}-01`, -1).slice(0, 7)];
  if (today === lastDayOfMonth(thisMonth)) months.push(thisMonth);
  const evaluation: Evaluation = { keys: [], prefixes: [], firing: [] };
  for (const month of months) {
    const view = await getBudgetMonth(trx, entityId, month);
    const key = `budget.ready_to_assign_not_zero:${month}`;
    evaluation.keys.push(key);
    if (view.readyToAssignCents !== 0) {
      evaluation.firing.push({ key, type: 'budget.ready_to_assign_not_zero', payload: { month, readyToAssignCents: view.readyToAssignCents } });
    }
  }
  return evaluation;
}

const LATE_LOOKBACK_DAYS = 92;

/** bill.due for occurrences due within the entity's window, bill.late for unpaid past ones (92 days back). */
async function evaluateBills(trx: Trx, entityId: string, today: string, settings: AlertSettings): Promise<Evaluation> {
  const occurrences = await listOccurrences(trx, entityId, {
    fromOn: addDays(today, -LATE_LOOKBACK_DAYS),
    toOn: addDays(today, Math.max(settings.billDueWithinDays, BILL_DUE_WINDOW_DAYS)),
    today,
  });
  const evaluation: Evaluation = { keys: [], prefixes: ['bill.due:', 'bill.late:'], firing: [] };
  for (const occurrence of occurrences) {
    const payload = {
      billId: occurrence.billId,
      billName: occurrence.billName,
      payee: occurrence.payee,
      dueOn: occurrence.dueOn,
      amountCents: occurrence.amountCents,
      estimated: occurrence.estimated,
      autopay: occurrence.autopay,
    };
    if (occurrence.status === 'late') {
      evaluation.firing.push({ key: `bill.late:${occurrence.billId}:${occurrence.dueOn}`, type: 'bill.late', payload });
    } else if ((occurrence.status === 'due' || occurrence.status === 'upcoming') && occurrence.dueOn <= addDays(today, settings.billDueWithinDays)) {
      evaluation.firing.push({ key: `bill.due:${occurrence.billId}:${occurrence.dueOn}`, type: 'bill.due', payload });
    }
  }
  return evaluation;
}

// ---- entry points ----

/**
 * After postings, in the write's transaction: balance.low of the cash accounts touched, and budget.overspent of
 * the booked months when a budgeted category (or a card with a payment envelope) was touched.
 */
export async function alertsAfterPostings(trx: Trx, entityId: string, accountIds: readonly string[], postedOns: readonly string[]): Promise<void> {
  if (accountIds.length === 0) return;
  const touched = [...new Set(accountIds)];
  await balanceAlerts(trx, entityId, touched);
  await envelopeAlertsAfterPostings(trx, entityId, touched, postedOns);
}

/**
 * budget.overspent of the booked months, when a touched account is one an envelope uses (as its category or its
 * payment account): the part of `alertsAfterPostings` the fast booking path leaves to the service, when its
 * statement says so.
 */
export async function envelopeAlertsAfterPostings(trx: Trx, entityId: string, accountIds: readonly string[], postedOns: readonly string[]): Promise<void> {
  const touched = [...new Set(accountIds)];
  if (touched.length === 0) return;
  const accounts = sql.join(touched);
  const { rows: budgeted } = await sql`
    select 1 from envelope_categories where entity_id = ${entityId} and account_id in (${accounts})
    union all
    select 1 from envelopes where entity_id = ${entityId} and payment_account_id in (${accounts})
    limit 1`.execute(trx);
  if (budgeted.length === 0) return;
  for (const month of new Set(postedOns.map((postedOn) => postedOn.slice(0, 7)))) {
    await applyEvaluation(trx, entityId, await evaluateEnvelopes(trx, entityId, month, false));
  }
}

/** After budget assignments of a month: an assignment can cover an overspent envelope (or overspend by moving). */
export async function alertsAfterAssignments(trx: Trx, entityId: string, month: string): Promise<void> {
  await applyEvaluation(trx, entityId, await evaluateEnvelopes(trx, entityId, month, false));
}

export interface SweepReport {
  today: string;
  entities: number;
  raised: { entityId: string; type: EventType; key: string }[];
}

/** Evaluates every condition of one entity as of `today`, in the caller's transaction. */
export async function sweepEntity(trx: Trx, entityId: string, today: string): Promise<SweepReport['raised']> {
  // One sweep per entity at a time: two concurrent sweeps would each clear what the other raised.
  await sql`select pg_advisory_xact_lock(${ALERT_SWEEP_LOCK}, hashtext(${entityId}))`.execute(trx);
  const raised: SweepReport['raised'] = (await balanceAlerts(trx, entityId, null)).map((key) => ({ entityId, type: 'balance.low' as const, key }));
  const settings = await getAlertSettings(trx, entityId);
  const evaluations = [
    await evaluateEnvelopes(trx, entityId, today.slice(0, 7), true),
    await evaluateMonthEnd(trx, entityId, today),
    await evaluateBills(trx, entityId, today, settings),
  ];
  for (const source of sweepSources) evaluations.push(await source(trx, entityId, today));
  for (const evaluation of evaluations) {
    for (const condition of await applyEvaluation(trx, entityId, evaluation)) raised.push({ entityId, type: condition.type, key: condition.key });
  }
  return raised;
}

/** Evaluates every condition of the given entities as of `today`, in the caller's transaction. */
export async function sweepAlerts(trx: Trx, entityIds: readonly string[], today: string): Promise<SweepReport> {
  const report: SweepReport = { today, entities: entityIds.length, raised: [] };
  for (const entityId of entityIds) report.raised.push(...(await sweepEntity(trx, entityId, today)));
  return report;
}

const ALERT_SWEEP_LOCK = 4_210_418;

/** Entities with an owner: what the service's own timer sweeps. */
export async function sweepableEntityIds(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('entities').select('id').where('ownerUserId', 'is not', null).orderBy('id').execute();
  return rows.map((row) => row.id);
}

/** Runs a sweep of every entity every `intervalMs` (never two rounds at once); returns a function that stops it. */
export function startAlertSweeper(deps: { db: Db; logger: { error: (object: object, message: string) => void }; security: { now: () => number } }, intervalMs: number): () => Promise<void> {
  return startPeriodic(intervalMs, deps.logger, 'alert sweep failed', async (isStopped) => {
    const today = new Date(deps.security.now()).toISOString().slice(0, 10);
    // One transaction per entity: one entity's failure does not hold back the others' alerts.
    for (const entityId of await sweepableEntityIds(deps.db)) {
      if (isStopped()) break;
      await deps.db.transaction().execute((trx) => sweepEntity(trx, entityId, today));
    }
  });
}
