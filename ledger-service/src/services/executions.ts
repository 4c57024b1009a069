import { sql, type Transaction } from 'kysely';
import type { Database, Db, WorkflowExecutionStatus } from '../db/database';
import { assert, RuleViolation } from '../domain/errors';
import { centsFromDb } from '../domain/money';
import { authorizeEntity, requireScope } from '../security/authorization';
import { recordAudit, sealPendingAudit } from './audit';
import type { Actor } from './context';
import { listEntities } from './entities';
import { reverseAllocation, reverseBudgetChange } from './budget';
import { reverseEntry } from './journal';
import { reverseTransfer } from './veil';

// n8n executions as the ledger saw them. Every write carries the execution id (X-N8N-Execution-Id) into its audit
// rows, so the audit trail already says which entries and transfers an execution booked: this reads them from
// there (no second record that could disagree with the trail) and rolls an execution back by reversing them.
//
// An execution's items are what it booked that can be undone: plain entries (`entry.booked` rows whose entry is not
// one side of a transfer) and inter-entity transfers (`transfer.created`). Reversals it booked are actions, not
// items (a reversal is not reversed again). Beyond the journal, a rollback takes back the budget assignments of the
// execution's allocations, reopens the bill occurrences it paid (their payment entry is reversed), and reports the
// bank lines already matched to what it reverses: money the bank moved, which a reversal in the books does not move back.

type Trx = Transaction<Database>;
type Reader = Db | Trx;

export type ExecutionItemKind = 'entry' | 'transfer';

export interface ExecutionItem {
  kind: ExecutionItemKind;
  id: string;
  entityId: string;
  postedOn: string;
  description: string;
  amountCents: number;
  createdAt: string;
  reversedById: string | null;
}

/** What n8n told the ledger about an execution (none of it when no Veil node or status report sent it). */
export interface ExecutionFacts {
  workflowId: string | null;
  workflowName: string | null;
  status: WorkflowExecutionStatus;
  failedAt: string | null;
  errorMessage: string | null;
}

export interface ExecutionSummary extends ExecutionFacts {
  executionId: string;
  firstAt: string;
  lastAt: string;
  actionCount: number;
  entryCount: number;
  transferCount: number;
  rolledBack: boolean;
}

export interface ExecutionDetail extends ExecutionFacts {
  executionId: string;
  rolledBack: boolean;
  items: ExecutionItem[];
}

export interface RollbackResult {
  executionId: string;
  reversed: { kind: ExecutionItemKind; id: string; reversalId: string }[];
  alreadyReversed: { kind: ExecutionItemKind; id: string }[];
  /** Allocations (Allocate node) whose budget assignments were taken back now, or had been already. */
  allocations: { id: string; entityId: string; month: string; amountCents: number; reversedNow: boolean }[];
  /**
   * Assignments (/assign) and moves (/move) the execution made by hand, taken back by negating rows now, or had been
   * already. An assignment names its envelope in `toEnvelopeId`; amountCents is what was assigned or moved.
   */
  budgetChanges: { kind: 'assign' | 'move'; id: string; entityId: string; month: string; fromEnvelopeId: string | null; toEnvelopeId: string; amountCents: number; reversedNow: boolean }[];
  /** Bill occurrences the execution paid: their payment is reversed, so they read as due or late again. */
  billsReopened: { billId: string; entityId: string; dueOn: string; entryId: string }[];
  /**
   * Money the bank already moved for what was reversed (a bank line matched to, or booked as, one of its entries):
   * the reversal corrects the books, not the bank. Someone has to move the money back.
   */
  bankMoneyMoved: { kind: ExecutionItemKind; id: string; entryId: string; bankLineId: string; accountId: string; postedOn: string; amountCents: number; status: string }[];
}

export const ROLLED_BACK_ACTION = 'execution.rolled_back';
const ERROR_MESSAGE_LENGTH_MAX = 1000;

/**
 * Records the execution a write came from, in the write's transaction. Insert-or-nothing: the first write names
 * the workflow, later writes of the same execution take no lock on the row (many items write in parallel).
 */
export async function noteExecution(trx: Trx, actor: Actor): Promise<void> {
  if (actor.executionId === undefined || actor.userId === undefined) return;
  await trx
    .insertInto('workflowExecutions')
    .values({ ownerUserId: actor.userId, executionId: actor.executionId, workflowId: actor.workflowId ?? null, workflowName: actor.workflowName ?? null, errorMessage: null })
    .onConflict((conflict) => conflict.columns(['ownerUserId', 'executionId']).doNothing())
    .execute();
}

interface FactsRow {
  executionId: string;
  workflowId: string | null;
  workflowName: string | null;
  status: WorkflowExecutionStatus;
  failedAt: Date | null;
  errorMessage: string | null;
}

async function factsOf(db: Reader, actor: Actor, executionIds: readonly string[]): Promise<Map<string, FactsRow>> {
  if (actor.userId === undefined || executionIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('workflowExecutions')
    .select(['executionId', 'workflowId', 'workflowName', 'status', 'failedAt', 'errorMessage'])
    .where('ownerUserId', '=', actor.userId)
    .where('executionId', 'in', [...executionIds])
    .execute();
  return new Map(rows.map((row) => [row.executionId, row]));
}

function factsView(row: FactsRow | undefined, rolledBack: boolean): ExecutionFacts {
  return {
    workflowId: row?.workflowId ?? null,
    workflowName: row?.workflowName ?? null,
    // Executions recorded before the ledger kept statuses (or by another user's rollback) read from the audit trail.
    status: rolledBack ? 'rolled_back' : (row?.status ?? 'running'),
    failedAt: row?.failedAt ? row.failedAt.toISOString() : null,
    errorMessage: row?.errorMessage ?? null,
  };
}

/**
 * What n8n reports about an execution that wrote to the books once it ended (a last node, or the Error Trigger):
 * succeeded or failed, with the workflow when given. A rolled-back execution stays rolled back.
 */
export async function reportExecutionStatus(
  trx: Trx,
  actor: Actor,
  executionId: string,
  input: { status: 'succeeded' | 'failed'; errorMessage?: string | undefined; workflowId?: string | undefined; workflowName?: string | undefined },
): Promise<ExecutionFacts & { executionId: string }> {
  requireScope(actor, 'write');
  if (actor.userId === undefined) throw new RuleViolation('forbidden', 'only a user or an API token reports executions');
  // Like reading it: an execution is known through what it wrote to books the actor can write to.
  const visible = await visibleEntityIds(trx, actor);
  const touched = await touchedEntities(trx, executionId, visible);
  if (touched.length === 0) throw new ExecutionNotFound(executionId);
  for (const entityId of touched) await authorizeEntity(trx, actor, entityId, 'write');
  const failedAt = input.status === 'failed' ? new Date() : null;
  const errorMessage = input.errorMessage?.slice(0, ERROR_MESSAGE_LENGTH_MAX) ?? null;
  const row = await trx
    .insertInto('workflowExecutions')
    .values({ ownerUserId: actor.userId, executionId, workflowId: input.workflowId ?? null, workflowName: input.workflowName ?? null, status: input.status, failedAt, errorMessage })
    .onConflict((conflict) =>
      conflict.columns(['ownerUserId', 'executionId']).doUpdateSet({
        status: input.status,
        failedAt: sql`coalesce(workflow_executions.failed_at, excluded.failed_at)`,
        errorMessage: sql`coalesce(excluded.error_message, workflow_executions.error_message)`,
        workflowId: sql`coalesce(excluded.workflow_id, workflow_executions.workflow_id)`,
        workflowName: sql`coalesce(excluded.workflow_name, workflow_executions.workflow_name)`,
        updatedAt: new Date(),
      }).where('workflowExecutions.status', '<>', 'rolled_back'),
    )
    .returning(['executionId', 'workflowId', 'workflowName', 'status', 'failedAt', 'errorMessage'])
    .executeTakeFirst();
  if (row === undefined) {
    throw new RuleViolation('execution_rolled_back', `execution ${executionId} was rolled back; its status stays rolled_back`, { executionId });
  }
  recordAudit(trx, actor, { action: 'execution.status_reported', objectType: 'execution', objectId: executionId, after: { status: row.status, errorMessage: row.errorMessage } });
  return { executionId, ...factsView(row, false) };
}

class ExecutionNotFound extends RuleViolation {
  constructor(executionId: string) {
    super('execution_not_found', `no n8n execution ${executionId} wrote to books you can see`, { executionId });
  }
}

/** The entities the actor sees: an execution is visible through the audit rows of these only. */
export async function visibleEntityIds(db: Reader, actor: Actor): Promise<string[]> {
  return (await listEntities(db as Db, actor)).map((entity) => entity.id);
}

interface ItemRow extends ExecutionItem {
  executionId: string;
  seq: number;
}

/** Items of the given executions in the given entities, newest first (by the audit row that booked them). */
async function itemsOf(db: Reader, executionIds: readonly string[], entityIds: readonly string[]): Promise<ItemRow[]> {
  if (executionIds.length === 0 || entityIds.length === 0) return [];
  const executions = sql.join([...executionIds]);
  const entities = sql.join([...entityIds]);
  const { rows } = await sql<{
    kind: ExecutionItemKind;
    executionId: string;
    seq: string;
    id: string;
    entityId: string;
    postedOn: string;
    description: string;
    amountCents: string;
    createdAt: Date;
    reversedById: string | null;
  }>`
    select 'entry' as kind, a.execution_id, max(a.seq)::text as seq, e.id, e.entity_id,
      to_char(e.posted_on, 'YYYY-MM-DD') as posted_on, e.description,
      (select coalesce(sum(p.amount_cents), 0) from postings p where p.entry_id = e.id and p.amount_cents > 0)::text as amount_cents,
      e.created_at, r.id as reversed_by_id
    from audit_log a
    join journal_entries e on e.id::text = a.object_id
    left join journal_entries r on r.reverses_entry_id = e.id
    where a.execution_id in (${executions}) and a.entity_id in (${entities})
      and a.action = 'entry.booked' and a.object_type = 'entry'
      and not exists (select 1 from inter_entity_transfers t where t.from_entry_id = e.id or t.to_entry_id = e.id)
    group by a.execution_id, e.id, e.entity_id, e.posted_on, e.description, e.created_at, r.id
    union all
    select 'transfer' as kind, a.execution_id, max(a.seq)::text as seq, t.id, t.from_entity_id as entity_id,
      to_char(t.posted_on, 'YYYY-MM-DD') as posted_on, e.description, t.amount_cents::text as amount_cents,
      t.created_at, v.from_reversal_entry_id as reversed_by_id
    from audit_log a
    join inter_entity_transfers t on t.id::text = a.object_id
    join journal_entries e on e.id = t.from_entry_id
    left join inter_entity_transfer_reversals v on v.transfer_id = t.id
    where a.execution_id in (${executions}) and a.entity_id in (${entities})
      and a.action = 'transfer.created' and a.object_type = 'inter_entity_transfer'
    group by a.execution_id, t.id, t.from_entity_id, t.posted_on, e.description, t.amount_cents, t.created_at, v.from_reversal_entry_id
    order by seq desc`.execute(db);
  return rows
    .map((row) => ({
      kind: row.kind,
      executionId: row.executionId,
      seq: Number(row.seq),
      id: row.id,
      entityId: row.entityId,
      postedOn: row.postedOn,
      description: row.description,
      amountCents: centsFromDb(row.amountCents),
      createdAt: new Date(row.createdAt).toISOString(),
      reversedById: row.reversedById,
    }))
    .sort((a, b) => b.seq - a.seq);
}

async function rolledBackSet(db: Reader, executionIds: readonly string[], entityIds: readonly string[]): Promise<Set<string>> {
  if (executionIds.length === 0 || entityIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('auditLog')
    .select('objectId')
    .distinct()
    .where('action', '=', ROLLED_BACK_ACTION)
    .where('objectType', '=', 'execution')
    .where('objectId', 'in', [...executionIds])
    .where('entityId', 'in', [...entityIds])
    .execute();
  return new Set(rows.map((row) => row.objectId as string));
}

function publicItem({ executionId: _executionId, seq: _seq, ...item }: ItemRow): ExecutionItem {
  return item;
}

/** Executions that wrote to the given entities (only those of one workflow when asked), newest first. */
export async function listExecutions(db: Db, actor: Actor, entityIds: readonly string[], limit: number, workflowId?: string): Promise<ExecutionSummary[]> {
  if (entityIds.length === 0) return [];
  // What an execution did is read from the audit trail: queued rows first join it (migration 0028).
  await sealPendingAudit(db);
  let only: string[] | undefined;
  if (workflowId !== undefined) {
    if (actor.userId === undefined) return [];
    const rows = await db.selectFrom('workflowExecutions').select('executionId').where('ownerUserId', '=', actor.userId).where('workflowId', '=', workflowId).execute();
    only = rows.map((row) => row.executionId);
    if (only.length === 0) return [];
  }
  const groups = await db
    .selectFrom('auditLog')
    .select([
      'executionId',
      sql<Date>`min(occurred_at)`.as('firstAt'),
      sql<Date>`max(occurred_at)`.as('lastAt'),
      sql<string>`count(*)::text`.as('actionCount'),
      sql<string>`max(seq)::text`.as('lastSeq'),
    ])
    .where('executionId', 'is not', null)
    .where('entityId', 'in', [...entityIds])
    .$if(only !== undefined, (query) => query.where('executionId', 'in', only as string[]))
    .groupBy('executionId')
    .orderBy(sql`max(seq)`, 'desc')
    .limit(limit)
    .execute();
  const ids = groups.map((group) => group.executionId as string);
  const items = await itemsOf(db, ids, entityIds);
  const rolledBack = await rolledBackSet(db, ids, entityIds);
  const facts = await factsOf(db, actor, ids);
  return groups.map((group) => {
    const executionId = group.executionId as string;
    const own = items.filter((item) => item.executionId === executionId);
    const actionCount = Number(group.actionCount);
    assert(Number.isSafeInteger(actionCount), 'an action count is a safe integer');
    return {
      executionId,
      ...factsView(facts.get(executionId), rolledBack.has(executionId)),
      firstAt: new Date(group.firstAt).toISOString(),
      lastAt: new Date(group.lastAt).toISOString(),
      actionCount,
      entryCount: own.filter((item) => item.kind === 'entry').length,
      transferCount: own.filter((item) => item.kind === 'transfer').length,
      rolledBack: rolledBack.has(executionId),
    };
  });
}

/** Audit rows of one action the execution wrote in the given entities, newest first. */
async function auditObjects(db: Reader, executionId: string, entityIds: readonly string[], action: string, objectType: string) {
  if (entityIds.length === 0) return [];
  const rows = await db
    .selectFrom('auditLog')
    .select(['objectId', 'entityId', 'after'])
    .where('executionId', '=', executionId)
    .where('entityId', 'in', [...entityIds])
    .where('action', '=', action)
    .where('objectType', '=', objectType)
    .orderBy('seq', 'desc')
    .execute();
  return rows.map((row) => ({ objectId: row.objectId as string, entityId: row.entityId as string, after: row.after as unknown }));
}

/** Bank lines matched to (or booked as) the entries of the items: money the bank already moved. */
async function bankMoneyMovedFor(db: Reader, items: readonly ItemRow[]): Promise<RollbackResult['bankMoneyMoved']> {
  const entryOf = new Map<string, ItemRow>();
  const transferIds = items.filter((item) => item.kind === 'transfer').map((item) => item.id);
  for (const item of items) if (item.kind === 'entry') entryOf.set(item.id, item);
  if (transferIds.length > 0) {
    const sides = await db.selectFrom('interEntityTransfers').select(['id', 'fromEntryId', 'toEntryId']).where('id', 'in', transferIds).execute();
    for (const side of sides) {
      const item = items.find((candidate) => candidate.kind === 'transfer' && candidate.id === side.id);
      assert(item !== undefined, 'a transfer side belongs to an item');
      entryOf.set(side.fromEntryId, item);
      entryOf.set(side.toEntryId, item);
    }
  }
  if (entryOf.size === 0) return [];
  const lines = await db
    .selectFrom('bankLines')
    .select(['id', 'entryId', 'accountId', 'postedOn', 'amountCents', 'status'])
    .where('entryId', 'in', [...entryOf.keys()])
    .where('status', 'in', ['matched', 'booked'])
    .orderBy('postedOn')
    .orderBy('id')
    .execute();
  return lines.map((line) => {
    const item = entryOf.get(line.entryId as string);
    assert(item !== undefined, 'a bank line found by entry belongs to an item');
    return {
      kind: item.kind,
      id: item.id,
      entryId: line.entryId as string,
      bankLineId: line.id,
      accountId: line.accountId,
      postedOn: line.postedOn,
      amountCents: centsFromDb(line.amountCents),
      status: line.status,
    };
  });
}

/** The entities among `entityIds` that the execution wrote to (audit rows); empty when it wrote to none. */
async function touchedEntities(db: Reader, executionId: string, entityIds: readonly string[]): Promise<string[]> {
  if (entityIds.length === 0) return [];
  const rows = await db
    .selectFrom('auditLog')
    .select('entityId')
    .distinct()
    .where('executionId', '=', executionId)
    .where('entityId', 'in', [...entityIds])
    .execute();
  return rows.map((row) => row.entityId as string).sort();
}

export async function getExecution(db: Db, actor: Actor, executionId: string): Promise<ExecutionDetail> {
  await sealPendingAudit(db);
  const visible = await visibleEntityIds(db, actor);
  const touched = await touchedEntities(db, executionId, visible);
  if (touched.length === 0) throw new ExecutionNotFound(executionId);
  requireScope(actor, 'read');
  const items = await itemsOf(db, [executionId], visible);
  const rolledBack = (await rolledBackSet(db, [executionId], visible)).has(executionId);
  const facts = await factsOf(db, actor, [executionId]);
  return { executionId, ...factsView(facts.get(executionId), rolledBack), rolledBack, items: items.map(publicItem) };
}

/**
 * Reverses everything the execution booked that is not reversed yet, newest first, in the caller's transaction:
 * transfers as transfers (both books; a later payment against a loan or reimbursement comes first, or the rollback
 * fails and nothing changes), entries by a reversing entry. A second rollback reverses nothing new.
 */
export interface RollbackInput {
  /** The Error Trigger's call: the execution failed (recorded, with its message, before it is rolled back). */
  failed?: boolean | undefined;
  errorMessage?: string | undefined;
  workflowId?: string | undefined;
  workflowName?: string | undefined;
}

export async function rollbackExecution(trx: Trx, actor: Actor, executionId: string, input: RollbackInput = {}): Promise<RollbackResult> {
  await sealPendingAudit(trx);
  const visible = await visibleEntityIds(trx, actor);
  const touched = await touchedEntities(trx, executionId, visible);
  if (touched.length === 0) throw new ExecutionNotFound(executionId);
  const items = await itemsOf(trx, [executionId], visible);
  // Authorize everything before changing anything: write on every book, move_money on both sides of a crossing.
  for (const entityId of touched) await authorizeEntity(trx, actor, entityId, 'write');
  const transferIds = items.filter((item) => item.kind === 'transfer').map((item) => item.id);
  if (transferIds.length > 0) {
    const sides = await trx.selectFrom('interEntityTransfers').select(['fromEntityId', 'toEntityId']).where('id', 'in', transferIds).execute();
    const crossed = new Set(sides.flatMap((side) => [side.fromEntityId, side.toEntityId]));
    for (const entityId of crossed) await authorizeEntity(trx, actor, entityId, 'move_money');
  }
  const result: RollbackResult = { executionId, reversed: [], alreadyReversed: [], allocations: [], budgetChanges: [], billsReopened: [], bankMoneyMoved: [] };
  for (const item of items) {
    if (item.reversedById !== null) {
      result.alreadyReversed.push({ kind: item.kind, id: item.id });
      continue;
    }
    if (item.kind === 'transfer') {
      const reversed = await reverseTransfer(trx, item.id, {}, actor);
      result.reversed.push({ kind: 'transfer', id: item.id, reversalId: reversed.fromEntry.id });
    } else {
      const reversal = await reverseEntry(trx, item.id, { description: `Rollback of n8n execution ${executionId}: ${item.description}`.slice(0, 500) }, actor);
      result.reversed.push({ kind: 'entry', id: item.id, reversalId: reversal.id });
    }
  }
  // Budget assignments of the execution's allocations, newest first.
  for (const allocation of await auditObjects(trx, executionId, visible, 'allocation.applied', 'allocation')) {
    const reversed = await reverseAllocation(trx, allocation.objectId, actor);
    result.allocations.push({ id: allocation.objectId, entityId: reversed.entityId, month: reversed.month, amountCents: reversed.amountCents, reversedNow: reversed.reversedNow });
  }
  // Assignments and moves it made by hand, newest first. Assignments made before migration 0021 carry no id: they
  // cannot be told apart from later ones of the same envelope, so they are not taken back (none come from n8n).
  for (const change of await auditObjects(trx, executionId, visible, 'budget.moved', 'budget_move')) {
    const move = change.after as { month?: string; fromEnvelopeId?: string; toEnvelopeId?: string; amountCents?: number } | null;
    assert(typeof move?.month === 'string' && typeof move.fromEnvelopeId === 'string' && typeof move.toEnvelopeId === 'string' && typeof move.amountCents === 'number', 'a budget.moved audit row names its move');
    const { reversedNow } = await reverseBudgetChange(trx, change.entityId, 'move', change.objectId, actor);
    result.budgetChanges.push({ kind: 'move', id: change.objectId, entityId: change.entityId, month: move.month, fromEnvelopeId: move.fromEnvelopeId, toEnvelopeId: move.toEnvelopeId, amountCents: move.amountCents, reversedNow });
  }
  for (const change of await auditObjects(trx, executionId, visible, 'budget.assigned', 'envelope')) {
    const assigned = change.after as { month?: string; envelopeId?: string; amountCents?: number; assignmentId?: string } | null;
    assert(typeof assigned?.month === 'string' && typeof assigned.envelopeId === 'string' && typeof assigned.amountCents === 'number', 'a budget.assigned audit row names its envelope');
    if (assigned.assignmentId === undefined) continue;
    const { reversedNow } = await reverseBudgetChange(trx, change.entityId, 'assign', assigned.assignmentId, actor);
    result.budgetChanges.push({ kind: 'assign', id: assigned.assignmentId, entityId: change.entityId, month: assigned.month, fromEnvelopeId: null, toEnvelopeId: assigned.envelopeId, amountCents: assigned.amountCents, reversedNow });
  }
  // Bills it paid: the payment entry is among the items (reversed above), so the occurrence reads as unpaid again.
  for (const paid of await auditObjects(trx, executionId, visible, 'bill.paid', 'bill')) {
    const occurrence = paid.after as { billId?: string; dueOn?: string; entryId?: string } | null;
    assert(typeof occurrence?.dueOn === 'string' && typeof occurrence.entryId === 'string', 'a bill.paid audit row names its occurrence and entry');
    result.billsReopened.push({ billId: paid.objectId, entityId: paid.entityId, dueOn: occurrence.dueOn, entryId: occurrence.entryId });
  }
  result.bankMoneyMoved = await bankMoneyMovedFor(trx, items);
  for (const entityId of touched) {
    recordAudit(trx, actor, { action: ROLLED_BACK_ACTION, entityId, objectType: 'execution', objectId: executionId, after: result });
  }
  if (actor.userId !== undefined) {
    const failedAt = input.failed === true ? new Date() : null;
    const errorMessage = input.errorMessage?.slice(0, ERROR_MESSAGE_LENGTH_MAX) ?? null;
    await trx
      .insertInto('workflowExecutions')
      .values({ ownerUserId: actor.userId, executionId, workflowId: input.workflowId ?? null, workflowName: input.workflowName ?? null, status: 'rolled_back', failedAt, errorMessage })
      .onConflict((conflict) =>
        conflict.columns(['ownerUserId', 'executionId']).doUpdateSet({
          status: 'rolled_back',
          failedAt: sql`coalesce(workflow_executions.failed_at, excluded.failed_at)`,
          errorMessage: sql`coalesce(excluded.error_message, workflow_executions.error_message)`,
          workflowId: sql`coalesce(workflow_executions.workflow_id, excluded.workflow_id)`,
          workflowName: sql`coalesce(workflow_executions.workflow_name, excluded.workflow_name)`,
          updatedAt: new Date(),
        }),
      )
      .execute();
  }
  return result;
}
