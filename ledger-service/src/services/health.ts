import type { Transaction } from 'kysely';
import type { Database, Db } from '../db/database';
import { CASH_KINDS, type AccountClass, type AccountKind } from '../domain/accounts';
import type { AfrRow } from '../domain/afr';
import type { Installment } from '../domain/amortization';
import { daysBetween } from '../domain/dates';
import { RuleViolation } from '../domain/errors';
import { evaluateGuard, type GuardAccount } from '../domain/guard';
import { principalDueBy, scoreFindings, type Finding, type FixKind } from '../domain/health';
import { centsFromDb, formatCents } from '../domain/money';
import { ACCOUNTABLE_PLAN_REPAYMENT_DAYS_MAX, warningBasis } from '../domain/veil';
import type { Actor } from './context';
import { getEntity } from './entities';
import { getEntry, reverseEntry } from './journal';
import { createTransfer, getVeilPolicy, type TransferWithEntries } from './veil';

type Trx = Transaction<Database>;

export interface VeilHealth {
  entityId: string;
  fromOn: string;
  toOn: string;
  score: number;
  reasons: string[];
  findings: Finding[];
}

const ENTRIES_SCANNED_MAX = 5_000;
const PAYMENT_KINDS: ReadonlySet<AccountKind> = new Set([...CASH_KINDS, 'credit_card']);

interface AccountFacts {
  id: string;
  name: string;
  kind: AccountKind;
  class: AccountClass;
  counterpartyEntityId: string | null;
}

/** Transfers of the entity that are not reversed, with the live payments made against each. */
async function liveTransfers(db: Db, entityId: string, classification: 'loan' | 'reimbursement') {
  const rows = await db
    .selectFrom('interEntityTransfers as t')
    .leftJoin('interEntityTransferReversals as r', 'r.transferId', 't.id')
    .select(['t.id', 't.amountCents', 't.terms', 't.fromEntityId', 't.toEntityId', 't.postedOn'])
    .where('t.classification', '=', classification)
    .where((eb) => eb.or([eb('t.fromEntityId', '=', entityId), eb('t.toEntityId', '=', entityId)]))
    .where('r.transferId', 'is', null)
    .execute();
  if (rows.length === 0) return [];
  const payments = await db
    .selectFrom('interEntityTransfers as t')
    .leftJoin('interEntityTransferReversals as r', 'r.transferId', 't.id')
    .select(['t.relatedTransferId', 't.amountCents', 't.terms', 't.postedOn'])
    .where('t.relatedTransferId', 'in', rows.map((row) => row.id))
    .where('r.transferId', 'is', null)
    .execute();
  return rows.map((row) => ({
    ...row,
    amountCents: centsFromDb(row.amountCents),
    payments: payments
      .filter((payment) => payment.relatedTransferId === row.id)
      .map((payment) => ({ ...payment, amountCents: centsFromDb(payment.amountCents), terms: payment.terms as Record<string, number> })),
  }));
}

export async function veilHealth(db: Db, entityId: string, period: { fromOn?: string | undefined; toOn?: string | undefined }, today: string): Promise<VeilHealth> {
  const entity = await getEntity(db, entityId);
  const toOn = period.toOn ?? today;
  const fromOn = period.fromOn ?? `${toOn.slice(0, 4)}-01-01`;
  if (fromOn > toOn) throw new RuleViolation('invalid_request', 'from must not be after to', { field: 'query.from' });
  const findings: Finding[] = [];

  const accounts = new Map<string, AccountFacts>(
    (
      await db.selectFrom('accounts').select(['id', 'name', 'kind', 'class', 'counterpartyEntityId']).where('entityId', '=', entityId).execute()
    ).map((row) => [row.id, { ...row, kind: row.kind as AccountKind, class: row.class as AccountClass }]),
  );
  const linked = new Set<string>();
  for (const row of await db
    .selectFrom('interEntityTransfers')
    .select(['fromEntryId', 'toEntryId'])
    .where((eb) => eb.or([eb('fromEntityId', '=', entityId), eb('toEntityId', '=', entityId)]))
    .execute()) {
    linked.add(row.fromEntryId).add(row.toEntryId);
  }
  // Entries still in force: neither reversed nor a reversal.
  const entries = await db
    .selectFrom('journalEntries as e')
    .leftJoin('journalEntries as r', 'r.reversesEntryId', 'e.id')
    .select(['e.id', 'e.postedOn', 'e.description'])
    .where('e.entityId', '=', entityId)
    .where('e.reversesEntryId', 'is', null)
    .where('r.id', 'is', null)
    .where('e.postedOn', '>=', fromOn)
    .where('e.postedOn', '<=', toOn)
    .orderBy('e.postedOn')
    .orderBy('e.seq')
    .limit(ENTRIES_SCANNED_MAX)
    .execute();
  const postings =
    entries.length === 0
      ? []
      : await db.selectFrom('postings').select(['entryId', 'accountId', 'amountCents']).where('entryId', 'in', entries.map((entry) => entry.id)).orderBy('id').execute();
  const policy = await getVeilPolicy(db, entityId);

  for (const entry of entries) {
    const lines = postings
      .filter((posting) => posting.entryId === entry.id)
      .map((posting) => ({ account: accounts.get(posting.accountId) as AccountFacts, amountCents: centsFromDb(posting.amountCents) }));
    const crossingLine = lines.find((line) => line.account.counterpartyEntityId !== null);
    if (crossingLine && !linked.has(entry.id)) {
      findings.push({
        code: 'undocumented_crossing',
        entryId: entry.id,
        amountCents: Math.abs(crossingLine.amountCents),
        message: `${entry.postedOn} "${entry.description}" books to ${crossingLine.account.name} without an inter-entity transfer or its document`,
      });
      continue;
    }
    const credits = lines.filter((line) => line.amountCents < 0);
    const paidFrom = credits.length === 1 ? credits[0] : undefined;
    if (paidFrom === undefined || !PAYMENT_KINDS.has(paidFrom.account.kind)) continue;
    for (const line of lines.filter((candidate) => candidate.amountCents > 0 && candidate.account.class === 'expense')) {
      const asGuard = (account: AccountFacts): GuardAccount => ({
        id: account.id,
        entityId,
        entityKind: entity.kind,
        entityName: entity.name,
        taxProfile: entity.taxProfile,
        name: account.name,
        kind: account.kind,
        class: account.class,
      });
      const verdict = evaluateGuard({
        source: asGuard(paidFrom.account),
        target: asGuard(line.account),
        amountCents: line.amountCents,
        memo: entry.description,
        postedOn: entry.postedOn,
        policy,
        llcTaxBasis: warningBasis(entity.taxProfile),
        afrRows: [],
      });
      const simple = lines.length === 2 && CASH_KINDS.has(paidFrom.account.kind);
      if (verdict.reasons.some((reason) => reason.code === 'commingling_personal_expense')) {
        findings.push({
          code: 'commingling',
          entryId: entry.id,
          amountCents: line.amountCents,
          message: `${entry.postedOn} "${entry.description}": ${formatCents(line.amountCents)} of a personal-looking expense paid from ${paidFrom.account.name}`,
          fix: simple ? { kind: 'reclassify_as_draw', needs: ['personalAccountId'] } : undefined,
        });
      } else if (verdict.reasons.some((reason) => reason.code === 'reimbursement_owed')) {
        findings.push({
          code: 'llc_expense_paid_personally',
          entryId: entry.id,
          amountCents: line.amountCents,
          message: `${entry.postedOn} "${entry.description}": ${formatCents(line.amountCents)} of an LLC expense paid from ${paidFrom.account.name}`,
          fix: lines.length === 2 ? { kind: 'create_reimbursement', needs: ['llcExpenseAccountId', 'receiptReference'] } : undefined,
        });
      }
    }
  }

  for (const request of await liveTransfers(db, entityId, 'reimbursement')) {
    const outstanding = request.amountCents - request.payments.reduce((sum, payment) => sum + payment.amountCents, 0);
    if (outstanding <= 0 || request.postedOn > toOn) continue;
    const expenseOn = (request.terms as { expenseOn: string }).expenseOn;
    const age = daysBetween(expenseOn, toOn);
    findings.push({
      code: 'open_reimbursement',
      transferId: request.id,
      amountCents: outstanding,
      overdue: age > ACCOUNTABLE_PLAN_REPAYMENT_DAYS_MAX,
      message: `reimbursement of ${formatCents(outstanding)} for an expense of ${expenseOn} is unpaid after ${age} days`,
    });
  }

  for (const loan of await liveTransfers(db, entityId, 'loan')) {
    const schedule = (loan.terms as { schedule: Installment[] }).schedule;
    const due = principalDueBy(schedule, toOn);
    const paid = loan.payments.reduce((sum, payment) => sum + (payment.terms.principalCents ?? 0), 0);
    if (paid < due) {
      findings.push({
        code: 'loan_behind_schedule',
        transferId: loan.id,
        amountCents: due - paid,
        message: `loan of ${formatCents(loan.amountCents)} (${loan.postedOn}) is ${formatCents(due - paid)} of principal behind its schedule`,
      });
    }
  }

  return { entityId, fromOn, toOn, ...scoreFindings(findings), findings };
}

export type FixInput =
  | { fix: 'reclassify_as_draw'; entryId: string; personalAccountId: string; postedOn?: string | undefined }
  | {
      fix: 'create_reimbursement';
      entryId: string;
      llcExpenseAccountId: string;
      receiptReference: string;
      businessPurpose?: string | undefined;
      postedOn?: string | undefined;
    };

export interface FixResult {
  fix: FixKind;
  reversedEntryId: string;
  reversalEntryId: string;
  transfer: TransferWithEntries;
}

/**
 * Applies one suggested fix in the caller's transaction: the offending entry is reversed and the movement is
 * booked again as the crossing it really was, with its document.
 */
export async function applyFix(trx: Trx, input: FixInput, actor: Actor, afrRows: readonly AfrRow[]): Promise<FixResult> {
  const entry = await getEntry(trx, input.entryId);
  const entity = await getEntity(trx, entry.entityId);
  const expectedKind = input.fix === 'reclassify_as_draw' ? 'llc' : 'personal';
  if (entity.kind !== expectedKind) {
    throw new RuleViolation('invalid_request', `${input.fix} applies to an entry of a ${expectedKind} entity's books`, { field: 'entryId' });
  }
  const accountRows = await trx
    .selectFrom('accounts')
    .select(['id', 'kind', 'class'])
    .where('id', 'in', entry.postings.map((posting) => posting.accountId))
    .execute();
  const kindOf = new Map(accountRows.map((row) => [row.id, row]));
  const debit = entry.postings.find((posting) => posting.amountCents > 0);
  const credit = entry.postings.find((posting) => posting.amountCents < 0);
  const payingKinds: ReadonlySet<string> = input.fix === 'reclassify_as_draw' ? CASH_KINDS : PAYMENT_KINDS;
  if (
    entry.postings.length !== 2 ||
    debit === undefined ||
    credit === undefined ||
    kindOf.get(debit.accountId)?.class !== 'expense' ||
    !payingKinds.has(kindOf.get(credit.accountId)?.kind ?? '')
  ) {
    throw new RuleViolation(
      'invalid_request',
      `${input.fix} applies to a simple payment: one expense paid from one ${[...payingKinds].join(' / ')} account`,
      { field: 'entryId' },
    );
  }
  // A fix repairs the veil: it may reverse a one-sided posting to a mirror account (booked before that was refused).
  const reversal = await reverseEntry(trx, entry.id, { postedOn: input.postedOn }, actor, { crossing: true });
  // Either way the money left the entity's account for the other book: only the classification and its facts differ.
  const toAccountId = input.fix === 'reclassify_as_draw' ? input.personalAccountId : input.llcExpenseAccountId;
  const target = await trx.selectFrom('accounts').select(['entityId']).where('id', '=', toAccountId).executeTakeFirst();
  const crossing = {
    fromEntityId: entity.id,
    fromAccountId: credit.accountId,
    toEntityId: target?.entityId ?? entity.id,
    toAccountId,
    amountCents: debit.amountCents,
    postedOn: input.postedOn ?? entry.postedOn,
  };
  const transfer: TransferWithEntries = await createTransfer(
    trx,
    input.fix === 'reclassify_as_draw'
      ? { ...crossing, classification: 'owner_draw', memo: `Reclassified as a draw: ${entry.description}`.slice(0, 500) }
      : {
          ...crossing,
          classification: 'reimbursement',
          reimbursement: {
            businessPurpose: (input.businessPurpose ?? entry.description).slice(0, 500),
            receiptReference: input.receiptReference,
            expenseOn: entry.postedOn,
          },
        },
    actor,
    afrRows,
  );
  return { fix: input.fix, reversedEntryId: entry.id, reversalEntryId: reversal.id, transfer };
}
