import type { Transaction } from 'kysely';
import type { Database, Db } from '../db/database';
import { NotFound, RuleViolation } from '../domain/errors';
import { form1099Nec, PAYMENT_METHODS, type PaymentMethod, type ThresholdRow, type W9Status } from '../domain/form-1099';
import { centsFromDb, formatCents } from '../domain/money';
import { toCsv } from '../domain/reports';
import type { Keyring } from '../security/crypto';
import { recordAudit } from './audit';
import type { Actor } from './context';
import { getEntity } from './entities';
import { storeSecret } from './secrets';

// Payees, their W-9 status and TIN (encrypted through the secret store; only the last four digits in the clear),
// and each payment with its method, for the 1099-NEC list of who needs a form.

type Trx = Transaction<Database>;

export interface NewPayee {
  name: string;
  isContractor: boolean;
  w9Status: W9Status;
  tin?: string | undefined;
  tinType?: 'ssn' | 'ein' | 'itin' | undefined;
}

type PayeeRow = Awaited<ReturnType<typeof payeeRow>>;

function payeeRow(db: Db | Trx, payeeId: string) {
  return db
    .selectFrom('payees')
    .select(['id', 'entityId', 'name', 'isContractor', 'w9Status', 'tinType', 'tinLast4', 'createdAt', 'updatedAt'])
    .where('id', '=', payeeId)
    .executeTakeFirst();
}

function view(row: NonNullable<PayeeRow>) {
  return {
    id: row.id,
    entityId: row.entityId,
    name: row.name,
    isContractor: row.isContractor,
    w9Status: row.w9Status as W9Status,
    tinType: row.tinType as 'ssn' | 'ein' | 'itin' | null,
    tinLast4: row.tinLast4,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

/** The payee's entity, for authorization before anything else is read; a missing payee is a 404. */
export async function payeeEntityId(db: Db | Trx, payeeId: string): Promise<string> {
  const row = await db.selectFrom('payees').select('entityId').where('id', '=', payeeId).executeTakeFirst();
  if (row === undefined) throw new NotFound('payee', payeeId);
  return row.entityId;
}

export async function paymentEntityId(db: Db | Trx, paymentId: string): Promise<string> {
  const row = await db.selectFrom('payeePayments').select('entityId').where('id', '=', paymentId).executeTakeFirst();
  if (row === undefined) throw new NotFound('payment', paymentId);
  return row.entityId;
}

async function storeTin(trx: Trx, keyring: Keyring, actor: Actor, entityId: string, tin: string, tinType: string) {
  const digits = tin.replaceAll('-', '');
  const { id } = await storeSecret(trx, keyring, actor, { purpose: `payee_tin:${tinType}`, entityId, plaintext: digits });
  return { tinSecretId: id, tinLast4: digits.slice(-4), tinType };
}

async function nameTaken(trx: Trx, entityId: string, name: string, exceptId?: string) {
  let query = trx.selectFrom('payees').select('id').where('entityId', '=', entityId).where((eb) => eb(eb.fn('lower', ['name']), '=', name.toLowerCase()));
  if (exceptId !== undefined) query = query.where('id', '<>', exceptId);
  if (await query.executeTakeFirst()) throw new RuleViolation('duplicate_name', `a payee named ${name} already exists`, { field: 'body.name' });
}

export async function createPayee(trx: Trx, keyring: Keyring, actor: Actor, entityId: string, input: NewPayee) {
  await getEntity(trx, entityId);
  await nameTaken(trx, entityId, input.name);
  const tin = input.tin !== undefined && input.tinType !== undefined ? await storeTin(trx, keyring, actor, entityId, input.tin, input.tinType) : {};
  const inserted = await trx
    .insertInto('payees')
    .values({ entityId, name: input.name, isContractor: input.isContractor, w9Status: input.w9Status, ...tin })
    .returning('id')
    .executeTakeFirstOrThrow();
  const payee = view((await payeeRow(trx, inserted.id)) as NonNullable<PayeeRow>);
  recordAudit(trx, actor, { action: 'payee.created', entityId, objectType: 'payee', objectId: payee.id, after: payee });
  return payee;
}

export async function updatePayee(trx: Trx, keyring: Keyring, actor: Actor, payeeId: string, changes: Partial<NewPayee>) {
  const before = await payeeRow(trx, payeeId);
  if (before === undefined) throw new NotFound('payee', payeeId);
  if (changes.name !== undefined) await nameTaken(trx, before.entityId, changes.name, payeeId);
  const tin = changes.tin !== undefined && changes.tinType !== undefined ? await storeTin(trx, keyring, actor, before.entityId, changes.tin, changes.tinType) : {};
  await trx
    .updateTable('payees')
    .set({
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.isContractor !== undefined ? { isContractor: changes.isContractor } : {}),
      ...(changes.w9Status !== undefined ? { w9Status: changes.w9Status } : {}),
      ...tin,
      updatedAt: new Date(),
    })
    .where('id', '=', payeeId)
    .execute();
  const after = view((await payeeRow(trx, payeeId)) as NonNullable<PayeeRow>);
  recordAudit(trx, actor, { action: 'payee.updated', entityId: before.entityId, objectType: 'payee', objectId: payeeId, before: view(before), after });
  return after;
}

export async function listPayees(db: Db, entityId: string) {
  const rows = await db
    .selectFrom('payees')
    .select(['id', 'entityId', 'name', 'isContractor', 'w9Status', 'tinType', 'tinLast4', 'createdAt', 'updatedAt'])
    .where('entityId', '=', entityId)
    .orderBy('name')
    .orderBy('id')
    .limit(PAYEES_MAX)
    .execute();
  return rows.map(view);
}

/** An LLC has a handful of contractors; the list is bounded like every other answer. */
export const PAYEES_MAX = 5_000;
export const PAYMENTS_PER_LIST_MAX = 5_000;

type PaymentRow = { id: string; entityId: string; payeeId: string; paidOn: string; amountCents: string; method: string; entryId: string | null; memo: string | null; voidedOn: string | null; createdAt: Date };

function paymentView(row: PaymentRow) {
  return { ...row, amountCents: centsFromDb(row.amountCents), method: row.method as PaymentMethod, createdAt: new Date(row.createdAt).toISOString() };
}

export async function recordPayment(
  trx: Trx,
  actor: Actor,
  payeeId: string,
  input: { paidOn: string; amountCents: number; method: PaymentMethod; entryId?: string | undefined; memo?: string | undefined },
) {
  const entityId = await payeeEntityId(trx, payeeId);
  if (input.entryId !== undefined) {
    const entry = await trx.selectFrom('journalEntries').select('entityId').where('id', '=', input.entryId).executeTakeFirst();
    // Another entity's entry is answered like a missing one.
    if (entry === undefined || entry.entityId !== entityId) throw new NotFound('entry', input.entryId);
  }
  const row = await trx
    .insertInto('payeePayments')
    .values({ entityId, payeeId, paidOn: input.paidOn, amountCents: input.amountCents, method: input.method, entryId: input.entryId ?? null, memo: input.memo ?? null })
    .returningAll()
    .executeTakeFirstOrThrow();
  const payment = paymentView(row as PaymentRow);
  recordAudit(trx, actor, { action: 'payee_payment.recorded', entityId, objectType: 'payee_payment', objectId: payment.id, after: payment });
  return payment;
}

/** A mistaken payment is voided with a date, never deleted; a voided payment counts toward no year. */
export async function voidPayment(trx: Trx, actor: Actor, paymentId: string, voidedOn: string) {
  const before = await trx.selectFrom('payeePayments').selectAll().where('id', '=', paymentId).forUpdate().executeTakeFirst();
  if (before === undefined) throw new NotFound('payment', paymentId);
  if (before.voidedOn !== null) throw new RuleViolation('already_reversed', `payment ${paymentId} was voided on ${before.voidedOn}`);
  if (voidedOn < before.paidOn) throw new RuleViolation('invalid_request', 'a payment cannot be voided before it was made', { field: 'body.voidedOn' });
  const after = await trx.updateTable('payeePayments').set({ voidedOn }).where('id', '=', paymentId).returningAll().executeTakeFirstOrThrow();
  const payment = paymentView(after as PaymentRow);
  recordAudit(trx, actor, { action: 'payee_payment.voided', entityId: before.entityId, objectType: 'payee_payment', objectId: paymentId, before: paymentView(before as PaymentRow), after: payment });
  return payment;
}

export async function listPayments(db: Db, payeeId: string, year: number | undefined) {
  let query = db.selectFrom('payeePayments').selectAll().where('payeeId', '=', payeeId);
  if (year !== undefined) query = query.where('paidOn', '>=', `${year}-01-01`).where('paidOn', '<=', `${year}-12-31`);
  const rows = await query.orderBy('paidOn').orderBy('createdAt').limit(PAYMENTS_PER_LIST_MAX).execute();
  return rows.map((row) => paymentView(row as PaymentRow));
}

/** Contractors paid in the year, totals by method, and who needs a 1099-NEC under that year's threshold. */
export async function form1099NecReport(db: Db, entityId: string, year: number, thresholds: readonly ThresholdRow[]) {
  const entity = await getEntity(db, entityId);
  const payees = await db.selectFrom('payees').select(['id', 'name', 'isContractor', 'w9Status', 'tinLast4']).where('entityId', '=', entityId).execute();
  const sums = await db
    .selectFrom('payeePayments')
    .select(['payeeId', 'method', (eb) => eb.fn.sum<string>('amountCents').as('total')])
    .where('entityId', '=', entityId)
    .where('paidOn', '>=', `${year}-01-01`)
    .where('paidOn', '<=', `${year}-12-31`)
    .where('voidedOn', 'is', null)
    .groupBy(['payeeId', 'method'])
    .execute();
  const payments = sums.map((row) => ({ payeeId: row.payeeId, paidOn: `${year}-01-01`, amountCents: centsFromDb(row.total), method: row.method as PaymentMethod }));
  const result = form1099Nec(
    payees.map((payee) => ({ id: payee.id, name: payee.name, isContractor: payee.isContractor, w9Status: payee.w9Status as W9Status })),
    payments,
    year,
    thresholds,
  );
  const last4 = new Map(payees.map((payee) => [payee.id, payee.tinLast4]));
  const byMethod = (payeeId: string) =>
    Object.fromEntries(PAYMENT_METHODS.map((method) => [method, payments.filter((p) => p.payeeId === payeeId && p.method === method).reduce((sum, p) => sum + p.amountCents, 0)]));
  return {
    entityId,
    entityName: entity.name,
    ...result,
    rows: result.rows.map((row) => ({ ...row, tinLast4: last4.get(row.payeeId) ?? null, byMethodCents: byMethod(row.payeeId) })),
  };
}

export function form1099NecCsv(report: Awaited<ReturnType<typeof form1099NecReport>>): string {
  const rows: string[][] = [['payee', 'tin_last4', 'w9_status', ...PAYMENT_METHODS, 'reportable', 'excluded', 'needs_form']];
  for (const row of report.rows) {
    rows.push([row.name, row.tinLast4 ?? '', row.w9Status, ...PAYMENT_METHODS.map((method) => formatCents(row.byMethodCents[method] ?? 0)), formatCents(row.reportableCents), formatCents(row.excludedCents), row.needsForm ? 'yes' : 'no']);
  }
  return toCsv(rows);
}
