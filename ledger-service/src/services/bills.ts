import type { Selectable, Transaction } from 'kysely';
import type { BillsTable, Database, Db } from '../db/database';
import { CASH_KINDS, type AccountKind } from '../domain/accounts';
import { checkRange, dueDates, isDueDate, nextDueDate, parseBillRule, statusOf, type BillStatus } from '../domain/bills';
import { addDays } from '../domain/dates';
import { NotFound, RuleViolation } from '../domain/errors';
import { centsFromDb } from '../domain/money';
import { authorizeEntity, type Need } from '../security/authorization';
import { recordAudit } from './audit';
import { actorLabel, type Actor } from './context';
import { translateDbError } from './db-errors';
import { getEntity } from './entities';
import { bookEntries, type EntryView } from './journal';

// Recurring bills of one entity. Occurrences are computed from the rule; paying or skipping one writes its row,
// unique per (bill, due date), in the same transaction as the entry that pays it.

type Trx = Transaction<Database>;
type Reader = Db | Trx;

export const BILLS_PER_ENTITY_MAX = 500;

export interface NewBill {
  name: string;
  payee: string;
  rrule: string;
  startsOn: string;
  amountCents: number;
  estimated: boolean;
  categoryAccountId: string;
  payFromAccountId: string;
  autopay: boolean;
}

export interface BillView extends NewBill {
  id: string;
  entityId: string;
  nextDueOn: string | null;
  createdAt: string;
}

export interface OccurrenceView {
  billId: string;
  billName: string;
  payee: string;
  dueOn: string;
  amountCents: number;
  estimated: boolean;
  status: BillStatus;
  autopay: boolean;
  entryId: string | null;
  paidOn: string | null;
  skipReason: string | null;
}

const PAYING_KINDS: ReadonlySet<string> = new Set<AccountKind>([...CASH_KINDS, 'credit_card']);

function billView(row: Selectable<BillsTable>, today: string): BillView {
  return {
    id: row.id,
    entityId: row.entityId,
    name: row.name,
    payee: row.payee,
    rrule: row.rrule,
    startsOn: row.startsOn,
    amountCents: centsFromDb(row.amountCents),
    estimated: row.estimated,
    categoryAccountId: row.categoryAccountId,
    payFromAccountId: row.payFromAccountId,
    autopay: row.autopay,
    nextDueOn: nextDueDate(parseBillRule(row.rrule, row.startsOn), today),
    createdAt: row.createdAt.toISOString(),
  };
}

/** Resolves a bill to its entity and authorizes `need` there; another user's bill is answered like a missing one. */
export async function authorizeBill(db: Reader, actor: Actor, billId: string, need: Need): Promise<Selectable<BillsTable>> {
  const bill = await db.selectFrom('bills').selectAll().where('id', '=', billId).executeTakeFirst();
  if (bill === undefined) throw new NotFound('bill', billId);
  try {
    await authorizeEntity(db, actor, bill.entityId, need);
  } catch (error) {
    if (error instanceof NotFound) throw new NotFound('bill', billId);
    throw error;
  }
  return bill;
}

async function accountIn(db: Reader, entityId: string, accountId: string) {
  const account = await db.selectFrom('accounts').select(['id', 'entityId', 'class', 'kind', 'archivedAt']).where('id', '=', accountId).executeTakeFirst();
  if (account === undefined || account.entityId !== entityId) throw new NotFound('account', accountId);
  if (account.archivedAt !== null) throw new RuleViolation('account_archived', `account ${accountId} is archived`);
  return account;
}

async function checkPayFrom(db: Reader, entityId: string, accountId: string): Promise<void> {
  const account = await accountIn(db, entityId, accountId);
  if (!PAYING_KINDS.has(account.kind)) {
    throw new RuleViolation('bill_invalid', `a bill is paid from a bank account, cash or a credit card, not a ${account.kind} account`, { accountId });
  }
}

export async function createBill(trx: Trx, entityId: string, input: NewBill, actor: Actor, today: string): Promise<BillView> {
  await getEntity(trx, entityId);
  parseBillRule(input.rrule, input.startsOn);
  const category = await accountIn(trx, entityId, input.categoryAccountId);
  if (category.class !== 'expense') {
    throw new RuleViolation('bill_invalid', `the category must be an expense account, not ${category.class}`, { accountId: input.categoryAccountId });
  }
  await checkPayFrom(trx, entityId, input.payFromAccountId);
  const count = await trx.selectFrom('bills').select((eb) => eb.fn.countAll().as('count')).where('entityId', '=', entityId).executeTakeFirstOrThrow();
  if (Number(count.count) >= BILLS_PER_ENTITY_MAX) throw new RuleViolation('bill_invalid', `at most ${BILLS_PER_ENTITY_MAX} bills per entity`);
  try {
    const row = await trx
      .insertInto('bills')
      .values({ entityId, ...input, rrule: input.rrule.trim(), actor: actorLabel(actor) })
      .returningAll()
      .executeTakeFirstOrThrow();
    const view = billView(row, today);
    recordAudit(trx, actor, { action: 'bill.created', entityId, objectType: 'bill', objectId: view.id, after: view });
    return view;
  } catch (error) {
    throw translateDbError(error);
  }
}

/**
 * Changes a bill. The occurrences already paid or skipped stay as they were (they are history); the new amount and
 * accounts apply to every occurrence not yet settled. A new rule applies from today unless `startsOn` says
 * otherwise: moving the due day from the 15th to the 20th must not turn last month's 20th, which the payment on the
 * 15th covered, into a late bill. Same checks as a new bill.
 */
export async function updateBill(trx: Trx, bill: Selectable<BillsTable>, changes: Partial<NewBill>, actor: Actor, today: string): Promise<BillView> {
  const before = billView(bill, today);
  if (changes.rrule !== undefined && changes.startsOn === undefined && changes.rrule.trim() !== before.rrule && before.startsOn < today) {
    changes = { ...changes, startsOn: today };
  }
  const next: NewBill = { ...before, ...changes };
  if (changes.rrule !== undefined || changes.startsOn !== undefined) parseBillRule(next.rrule, next.startsOn);
  if (changes.categoryAccountId !== undefined) {
    const category = await accountIn(trx, bill.entityId, next.categoryAccountId);
    if (category.class !== 'expense' && category.id !== before.categoryAccountId) {
      throw new RuleViolation('bill_invalid', `the category must be an expense account, not ${category.class}`, { accountId: next.categoryAccountId });
    }
  }
  if (changes.payFromAccountId !== undefined) await checkPayFrom(trx, bill.entityId, next.payFromAccountId);
  try {
    const row = await trx
      .updateTable('bills')
      .set({ ...changes, ...(changes.rrule !== undefined ? { rrule: changes.rrule.trim() } : {}) })
      .where('id', '=', bill.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const after = billView(row, today);
    recordAudit(trx, actor, { action: 'bill.updated', entityId: bill.entityId, objectType: 'bill', objectId: bill.id, before, after });
    return after;
  } catch (error) {
    throw translateDbError(error);
  }
}

export async function listBills(db: Reader, entityId: string, today: string): Promise<BillView[]> {
  await getEntity(db, entityId);
  const rows = await db.selectFrom('bills').selectAll().where('entityId', '=', entityId).orderBy('name').execute();
  return rows.map((row) => billView(row, today));
}

export function getBill(row: Selectable<BillsTable>, today: string): BillView {
  return billView(row, today);
}

export interface OccurrenceQuery {
  fromOn: string;
  toOn: string;
  today: string;
  status?: BillStatus | undefined;
  billId?: string | undefined;
}

/** Occurrences of the entity's bills due in the window, with their status as of `today`. */
export async function listOccurrences(db: Reader, entityId: string, query: OccurrenceQuery): Promise<OccurrenceView[]> {
  checkRange(query.fromOn, query.toOn);
  await getEntity(db, entityId);
  let billQuery = db.selectFrom('bills').selectAll().where('entityId', '=', entityId);
  if (query.billId !== undefined) billQuery = billQuery.where('id', '=', query.billId);
  const bills = await billQuery.execute();
  const settled = await db
    .selectFrom('billOccurrences')
    .selectAll()
    .where('entityId', '=', entityId)
    .where('dueOn', '>=', query.fromOn)
    .where('dueOn', '<=', query.toOn)
    .execute();
  // A payment whose entry was reversed (an execution's rollback, a correction) no longer settles its occurrence.
  const paidEntryIds = settled.flatMap((row) => (row.status === 'paid' && row.entryId !== null ? [row.entryId] : []));
  const reversedEntries =
    paidEntryIds.length === 0
      ? new Set<string>()
      : new Set(
          (await db.selectFrom('journalEntries').select('reversesEntryId').where('reversesEntryId', 'in', paidEntryIds).execute()).map((row) => row.reversesEntryId as string),
        );
  const live = settled.filter((row) => !(row.status === 'paid' && row.entryId !== null && reversedEntries.has(row.entryId)));
  const settledByKey = new Map(live.map((row) => [`${row.billId} ${row.dueOn}`, row]));
  const occurrences: OccurrenceView[] = [];
  for (const bill of bills) {
    const dates = new Set(dueDates(parseBillRule(bill.rrule, bill.startsOn), query.fromOn, query.toOn));
    for (const row of live) if (row.billId === bill.id) dates.add(row.dueOn);
    for (const dueOn of dates) {
      const row = settledByKey.get(`${bill.id} ${dueOn}`);
      const status = statusOf(dueOn, query.today, row?.status);
      if (query.status !== undefined && status !== query.status) continue;
      occurrences.push({
        billId: bill.id,
        billName: bill.name,
        payee: bill.payee,
        dueOn,
        amountCents: row?.amountCents != null ? centsFromDb(row.amountCents) : centsFromDb(bill.amountCents),
        estimated: row?.status === 'paid' ? false : bill.estimated,
        status,
        autopay: bill.autopay,
        entryId: row?.entryId ?? null,
        paidOn: row?.paidOn ?? null,
        skipReason: row?.reason ?? null,
      });
    }
  }
  return occurrences.sort((a, b) => (a.dueOn === b.dueOn ? a.billName.localeCompare(b.billName) : a.dueOn < b.dueOn ? -1 : 1));
}

/** Refuses a settled occurrence; returns the number of the new settlement (2… after a payment was reversed). */
async function settleable(trx: Trx, bill: Selectable<BillsTable>, dueOn: string): Promise<number> {
  if (!isDueDate(parseBillRule(bill.rrule, bill.startsOn), dueOn)) {
    throw new RuleViolation('bill_occurrence_invalid', `${dueOn} is not a due date of bill ${bill.name}`, { dueOn });
  }
  const existing = await trx
    .selectFrom('billOccurrences as o')
    .leftJoin('journalEntries as r', 'r.reversesEntryId', 'o.entryId')
    .select(['o.status', 'o.entryId', 'o.settlement', 'r.id as reversalId'])
    .where('o.billId', '=', bill.id)
    .where('o.dueOn', '=', dueOn)
    .orderBy('o.settlement', 'desc')
    .execute();
  const live = existing.find((row) => !(row.status === 'paid' && row.reversalId !== null));
  if (live !== undefined) {
    throw new RuleViolation('bill_occurrence_settled', `the ${dueOn} occurrence of ${bill.name} is already ${live.status}`, { status: live.status, entryId: live.entryId });
  }
  return (existing[0]?.settlement ?? 0) + 1;
}

async function occurrenceOf(db: Reader, bill: Selectable<BillsTable>, dueOn: string, today: string): Promise<OccurrenceView> {
  const [occurrence] = await listOccurrences(db, bill.entityId, { fromOn: dueOn, toOn: dueOn, today, billId: bill.id });
  if (occurrence === undefined) throw new NotFound('bill occurrence', `${bill.id}/${dueOn}`);
  return occurrence;
}

export async function payOccurrence(
  trx: Trx,
  bill: Selectable<BillsTable>,
  dueOn: string,
  input: { amountCents?: number | undefined; paidOn?: string | undefined; fromAccountId?: string | undefined },
  actor: Actor,
  today: string,
): Promise<{ occurrence: OccurrenceView; entry: EntryView }> {
  // Lock the bill: two payments of the same occurrence queue here and the second finds the first's row.
  await trx.selectFrom('bills').select('id').where('id', '=', bill.id).forUpdate().executeTakeFirstOrThrow();
  const settlement = await settleable(trx, bill, dueOn);
  const fromAccountId = input.fromAccountId ?? bill.payFromAccountId;
  await checkPayFrom(trx, bill.entityId, fromAccountId);
  const amountCents = input.amountCents ?? centsFromDb(bill.amountCents);
  const paidOn = input.paidOn ?? today;
  const [entry] = await bookEntries(
    trx,
    bill.entityId,
    [
      {
        postedOn: paidOn,
        description: `${bill.name}: ${bill.payee} (due ${dueOn})`,
        source: actor.executionId ? 'workflow' : 'manual',
        // One entry per settlement: paying again after a reversed payment books anew.
        idempotencyKey: settlement === 1 ? `bill:${bill.id}:${dueOn}` : `bill:${bill.id}:${dueOn}:${settlement}`,
        postings: [
          { accountId: bill.categoryAccountId, amountCents },
          { accountId: fromAccountId, amountCents: -amountCents },
        ],
      },
    ],
    actor,
  );
  if (entry === undefined || entry.replayed) {
    throw new RuleViolation('bill_occurrence_settled', `the ${dueOn} occurrence of ${bill.name} was already booked`);
  }
  try {
    await trx
      .insertInto('billOccurrences')
      .values({ billId: bill.id, entityId: bill.entityId, dueOn, settlement, status: 'paid', amountCents, paidOn, entryId: entry.id, reason: null, actor: actorLabel(actor) })
      .execute();
  } catch (error) {
    throw translateDbError(error);
  }
  const occurrence = await occurrenceOf(trx, bill, dueOn, today);
  recordAudit(trx, actor, { action: 'bill.paid', entityId: bill.entityId, objectType: 'bill', objectId: bill.id, after: occurrence });
  const { replayed: _replayed, ...booked } = entry;
  return { occurrence, entry: booked };
}

export async function skipOccurrence(
  trx: Trx,
  bill: Selectable<BillsTable>,
  dueOn: string,
  input: { reason: string },
  actor: Actor,
  today: string,
): Promise<{ occurrence: OccurrenceView }> {
  await trx.selectFrom('bills').select('id').where('id', '=', bill.id).forUpdate().executeTakeFirstOrThrow();
  const settlement = await settleable(trx, bill, dueOn);
  try {
    await trx
      .insertInto('billOccurrences')
      .values({ billId: bill.id, entityId: bill.entityId, dueOn, settlement, status: 'skipped', amountCents: null, paidOn: null, entryId: null, reason: input.reason, actor: actorLabel(actor) })
      .execute();
  } catch (error) {
    throw translateDbError(error);
  }
  const occurrence = await occurrenceOf(trx, bill, dueOn, today);
  recordAudit(trx, actor, { action: 'bill.skipped', entityId: bill.entityId, objectType: 'bill', objectId: bill.id, after: occurrence });
  return { occurrence };
}

/** The default window of the occurrence list: a month back (to show what is late) and two months ahead. */
export function defaultWindow(today: string): { fromOn: string; toOn: string } {
  return { fromOn: addDays(today, -31), toOn: addDays(today, 62) };
}
