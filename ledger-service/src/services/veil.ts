import { createHash } from 'node:crypto';
import { sql, type Selectable, type Transaction } from 'kysely';
import type { Database, Db, InterEntityTransfersTable } from '../db/database';
import type { AccountKind } from '../domain/accounts';
import type { AfrRow } from '../domain/afr';
import { amortizationSchedule, type Installment, type LoanTerms, type PaymentFrequency } from '../domain/amortization';
import { DOCUMENT_KIND_OF, documentTitle, renderDocumentMarkdown, type DocumentFacts } from '../domain/documents';
import { assert, NotFound, RuleViolation } from '../domain/errors';
import type { GuardPolicy } from '../domain/guard';
import { centsFromDb } from '../domain/money';
import {
  ACCOUNT_KINDS_ALLOWED,
  checkCrossing,
  crossingPostings,
  drawWarnings,
  loanWarnings,
  pairingMismatches,
  reimbursementPaymentWarnings,
  reimbursementRequestWarnings,
  ROLES_NEEDED,
  VEIL_ROLE_KIND,
  VEIL_ROLE_LABEL,
  warningBasis,
  type Classification,
  type EntityKind,
  type InterEntityBalance,
  type PairMismatch,
  type VeilRole,
  type VeilWarning,
} from '../domain/veil';
import { actorLabel, type Actor } from './context';
import { getEntity, type EntityView } from './entities';
import { recordAudit } from './audit';
import { emitEvents } from './events';
import { lockAccounts } from './idempotency';
import { bookEntries, getEntry, reverseEntry, type EntryView } from './journal';

type Trx = Transaction<Database>;

export interface LoanInput {
  annualRateBasisPoints: number;
  termMonths: number;
  paymentFrequency: PaymentFrequency;
  /** Defaults to the transfer's date. */
  startOn?: string | undefined;
}

export interface ReimbursementInput {
  businessPurpose: string;
  receiptReference: string;
  expenseOn: string;
  /** When the receipt and purpose were handed in; defaults to the transfer's date. */
  substantiatedOn?: string | undefined;
}

export interface NewTransfer {
  classification?: Classification | undefined;
  fromEntityId: string;
  fromAccountId: string;
  toEntityId: string;
  toAccountId: string;
  amountCents: number;
  postedOn: string;
  memo?: string | undefined;
  loan?: LoanInput | undefined;
  /** Loan repayments: the loan; reimbursement payments: the reimbursement request. */
  relatedTransferId?: string | undefined;
  /** Loan repayments only: override the split the schedule gives. */
  interestCents?: number | undefined;
  reimbursement?: ReimbursementInput | undefined;
}

export interface TransferView {
  id: string;
  classification: Classification;
  fromEntityId: string;
  toEntityId: string;
  fromAccountId: string;
  toAccountId: string;
  amountCents: number;
  currency: string;
  postedOn: string;
  memo: string | null;
  relatedTransferId: string | null;
  terms: Record<string, unknown>;
  warnings: VeilWarning[];
  fromEntryId: string;
  toEntryId: string;
  reversal: { fromReversalEntryId: string; toReversalEntryId: string; createdAt: string } | null;
  document: { id: string; kind: string; title: string; sha256: string } | null;
  actor: string;
  createdAt: string;
}

export interface TransferWithEntries extends TransferView {
  fromEntry: EntryView;
  toEntry: EntryView;
}

const ENTITY_KINDS: ReadonlySet<string> = new Set(['llc', 'personal']);

/**
 * Reads both named accounts and checks each belongs to the entity the caller named for its side. It takes no row
 * lock: createTransfer locks every account of both entries in one id-ordered statement once it knows the role
 * accounts, and locking these two earlier would break that order (a reversal holding a role account waited on a
 * named account held here, which waited on the role account: the hardening soak's deadlock).
 */
async function loadAccounts(trx: Trx, input: NewTransfer) {
  const rows = await trx
    .selectFrom('accounts')
    .select(['id', 'entityId', 'kind', 'currency', 'balanceCents', 'archivedAt'])
    .where('id', 'in', [input.fromAccountId, input.toAccountId])
    .execute();
  const pick = (accountId: string, entityId: string, side: 'from' | 'to') => {
    const row = rows.find((candidate) => candidate.id === accountId);
    if (row === undefined) throw new NotFound('account', accountId);
    if (row.entityId !== entityId) {
      throw new RuleViolation('entity_mismatch', `${side}AccountId ${accountId} does not belong to ${side}EntityId ${entityId}`, {
        field: `${side}AccountId`,
      });
    }
    return { ...row, kind: row.kind as AccountKind, balanceCents: centsFromDb(row.balanceCents) };
  };
  return { fromAccount: pick(input.fromAccountId, input.fromEntityId, 'from'), toAccount: pick(input.toAccountId, input.toEntityId, 'to') };
}

function roleAccountName(role: VeilRole, counterparty: EntityView): string {
  return `${VEIL_ROLE_LABEL[role]} ${counterparty.name}`.slice(0, 180);
}

/** The account playing `role` in `entity`'s books toward `counterparty`; created on first use. */
async function roleAccount(trx: Trx, entity: EntityView, counterparty: EntityView, role: VeilRole, currency: string, actor: Actor): Promise<string> {
  const find = () =>
    trx
      .selectFrom('accounts')
      .select('id')
      .where('entityId', '=', entity.id)
      .where('veilRole', '=', role)
      .where('counterpartyEntityId', '=', counterparty.id)
      .where('currency', '=', currency)
      .executeTakeFirst();
  const existing = await find();
  if (existing) return existing.id;
  let name = roleAccountName(role, counterparty);
  if (currency !== entity.currency) name = `${name} (${currency})`;
  const clash = await trx.selectFrom('accounts').select('id').where('entityId', '=', entity.id).where('name', '=', name).executeTakeFirst();
  // A user account already has the natural name: keep it readable and unique with the counterparty's id.
  if (clash) name = `${name} [${counterparty.id.slice(0, 8)}]`;
  const kind = VEIL_ROLE_KIND[role];
  const inserted = await trx
    .insertInto('accounts')
    .values({ entityId: entity.id, name, code: null, class: classFor(kind), kind, currency, counterpartyEntityId: counterparty.id, veilRole: role })
    .onConflict((conflict) =>
      conflict.columns(['entityId', 'veilRole', 'counterpartyEntityId', 'currency']).where('veilRole', 'is not', null).doNothing(),
    )
    .returning(['id', 'name', 'kind', 'currency', 'counterpartyEntityId'])
    .executeTakeFirst();
  if (inserted !== undefined) {
    recordAudit(trx, actor, { action: 'account.created', entityId: entity.id, objectType: 'account', objectId: inserted.id, after: { ...inserted, veilRole: role } });
  }
  const created = await find();
  assert(created !== undefined, `role account ${role} exists after insert`);
  return created.id;
}

function classFor(kind: AccountKind): string {
  switch (kind) {
    case 'contributed_capital':
    case 'draws':
      return 'equity';
    case 'investment_in_entity':
    case 'due_from_entity':
    case 'loan_receivable_entity':
      return 'asset';
    case 'due_to_entity':
    case 'loan_payable_entity':
      return 'liability';
    case 'income_category':
      return 'income';
    case 'expense_category':
      return 'expense';
    default:
      throw new Error(`no veil role has kind ${kind}`);
  }
}

function toView(
  row: Selectable<InterEntityTransfersTable>,
  reversal: { fromReversalEntryId: string; toReversalEntryId: string; createdAt: Date } | undefined,
  document: { id: string; kind: string; title: string; sha256: string } | undefined,
): TransferView {
  return {
    id: row.id,
    classification: row.classification as Classification,
    fromEntityId: row.fromEntityId,
    toEntityId: row.toEntityId,
    fromAccountId: row.fromAccountId,
    toAccountId: row.toAccountId,
    amountCents: centsFromDb(row.amountCents),
    currency: row.currency,
    postedOn: row.postedOn,
    memo: row.memo,
    relatedTransferId: row.relatedTransferId,
    terms: row.terms as Record<string, unknown>,
    warnings: row.warnings as VeilWarning[],
    fromEntryId: row.fromEntryId,
    toEntryId: row.toEntryId,
    reversal: reversal
      ? { fromReversalEntryId: reversal.fromReversalEntryId, toReversalEntryId: reversal.toReversalEntryId, createdAt: reversal.createdAt.toISOString() }
      : null,
    document: document ?? null,
    actor: row.actor,
    createdAt: row.createdAt.toISOString(),
  };
}

async function loadTransfers(db: Db | Trx, rows: Selectable<InterEntityTransfersTable>[]): Promise<TransferView[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const reversals = await db.selectFrom('interEntityTransferReversals').selectAll().where('transferId', 'in', ids).execute();
  const documents = await db
    .selectFrom('veilDocuments')
    .select(['id', 'transferId', 'kind', 'title', 'sha256'])
    .where('transferId', 'in', ids)
    .execute();
  const reversalOf = new Map(reversals.map((row) => [row.transferId, row]));
  const documentOf = new Map(documents.map(({ transferId, ...document }) => [transferId, document]));
  return rows.map((row) => toView(row, reversalOf.get(row.id), documentOf.get(row.id)));
}

export async function getTransferIn(db: Db | Trx, transferId: string): Promise<TransferView> {
  const row = await db.selectFrom('interEntityTransfers').selectAll().where('id', '=', transferId).executeTakeFirst();
  if (row === undefined) throw new NotFound('transfer', transferId);
  const [view] = await loadTransfers(db, [row]);
  assert(view !== undefined, 'a transfer row has a view');
  return view;
}

export async function getTransfer(db: Db, transferId: string): Promise<TransferWithEntries> {
  const view = await getTransferIn(db, transferId);
  return { ...view, fromEntry: await getEntry(db, view.fromEntryId), toEntry: await getEntry(db, view.toEntryId) };
}

export async function listTransfers(
  db: Db,
  entityId: string,
  filters: { year?: number | undefined; classification?: Classification | undefined },
): Promise<TransferView[]> {
  await getEntity(db, entityId);
  let query = db
    .selectFrom('interEntityTransfers')
    .selectAll()
    .where((eb) => eb.or([eb('fromEntityId', '=', entityId), eb('toEntityId', '=', entityId)]));
  if (filters.year !== undefined) {
    query = query.where('postedOn', '>=', `${filters.year}-01-01`).where('postedOn', '<=', `${filters.year}-12-31`);
  }
  if (filters.classification !== undefined) query = query.where('classification', '=', filters.classification);
  const rows = await query.orderBy('postedOn').orderBy('createdAt').limit(5_000).execute();
  return loadTransfers(db, rows);
}

/** Live (not reversed) transfers that refer to `transferId`: loan repayments or reimbursement payments. */
async function liveDependents(trx: Trx, transferId: string) {
  return trx
    .selectFrom('interEntityTransfers as t')
    .leftJoin('interEntityTransferReversals as r', 'r.transferId', 't.id')
    .select(['t.id', 't.amountCents', 't.terms'])
    .where('t.relatedTransferId', '=', transferId)
    .where('r.transferId', 'is', null)
    .orderBy('t.createdAt')
    .execute();
}

async function liveRelated(trx: Trx, transferId: string | undefined, expected: Classification, field: string) {
  if (transferId === undefined) {
    throw new RuleViolation('veil_related_transfer_invalid', `relatedTransferId is required: the ${expected} this pays`, { field });
  }
  const row = await trx.selectFrom('interEntityTransfers').selectAll().where('id', '=', transferId).forUpdate().executeTakeFirst();
  if (row === undefined) throw new NotFound('transfer', transferId);
  if (row.classification !== expected) {
    throw new RuleViolation('veil_related_transfer_invalid', `transfer ${transferId} is a ${row.classification}, not a ${expected}`);
  }
  const reversed = await trx.selectFrom('interEntityTransferReversals').select('transferId').where('transferId', '=', transferId).executeTakeFirst();
  if (reversed) throw new RuleViolation('veil_related_transfer_invalid', `transfer ${transferId} was reversed`);
  return row;
}

/** Assets minus liabilities of an entity in one currency: its equity, debit-positive. */
async function netAssetsCents(trx: Trx, entityId: string, currency: string): Promise<number> {
  const result = await trx
    .selectFrom('accounts')
    .select(sql<string>`coalesce(sum(balance_cents), 0)`.as('total'))
    .where('entityId', '=', entityId)
    .where('currency', '=', currency)
    .where('class', 'in', ['asset', 'liability'])
    .executeTakeFirstOrThrow();
  return centsFromDb(result.total);
}

export interface VeilPolicyView extends GuardPolicy {
  entityId: string;
}

export const DEFAULT_POLICY: GuardPolicy = {
  drawPolicy: 'warn',
  comminglingPolicy: 'block',
  personalPaysBusinessPolicy: 'document_as_reimbursement',
  personalMarkers: [],
  businessMarkers: [],
};

export async function getVeilPolicy(db: Db | Trx, entityId: string): Promise<VeilPolicyView> {
  await getEntity(db, entityId);
  const row = await db
    .selectFrom('veilPolicies')
    .select(['drawPolicy', 'comminglingPolicy', 'personalPaysBusinessPolicy', 'personalMarkers', 'businessMarkers'])
    .where('entityId', '=', entityId)
    .executeTakeFirst();
  return { entityId, ...(row ?? DEFAULT_POLICY) };
}

export async function setVeilPolicy(trx: Trx, entityId: string, changes: Partial<GuardPolicy>, actor: Actor): Promise<VeilPolicyView> {
  const current = await getVeilPolicy(trx, entityId);
  const next: GuardPolicy = {
    drawPolicy: changes.drawPolicy ?? current.drawPolicy,
    comminglingPolicy: changes.comminglingPolicy ?? current.comminglingPolicy,
    personalPaysBusinessPolicy: changes.personalPaysBusinessPolicy ?? current.personalPaysBusinessPolicy,
    personalMarkers: changes.personalMarkers ?? current.personalMarkers,
    businessMarkers: changes.businessMarkers ?? current.businessMarkers,
  };
  const values = {
    drawPolicy: next.drawPolicy,
    comminglingPolicy: next.comminglingPolicy,
    personalPaysBusinessPolicy: next.personalPaysBusinessPolicy,
    personalMarkers: JSON.stringify(next.personalMarkers),
    businessMarkers: JSON.stringify(next.businessMarkers),
  };
  await trx
    .insertInto('veilPolicies')
    .values({ entityId, ...values })
    .onConflict((conflict) => conflict.column('entityId').doUpdateSet({ ...values, updatedAt: new Date() }))
    .execute();
  recordAudit(trx, actor, { action: 'veil_policy.updated', entityId, objectType: 'veil_policy', objectId: entityId, before: current, after: { entityId, ...next } });
  return { entityId, ...next };
}

const DESCRIPTION: Record<Classification, (from: string, to: string) => string> = {
  capital_contribution: (from, to) => `Capital contribution from ${from} to ${to}`,
  owner_draw: (from, to) => `Owner draw from ${from} to ${to}`,
  loan: (from, to) => `Loan from ${from} to ${to}`,
  loan_repayment: (from, to) => `Loan repayment from ${from} to ${to}`,
  reimbursement: (from, to) => `Expense paid by ${from} for ${to}: reimbursement owed`,
  reimbursement_payment: (from, to) => `Reimbursement from ${from} to ${to}`,
};

/**
 * Books a crossing: one entry in each entity's books, the transfer row linking them, and its document, all in
 * the caller's transaction. Anything refused throws before the first write.
 */
export async function createTransfer(trx: Trx, input: NewTransfer, actor: Actor, afrRows: readonly AfrRow[]): Promise<TransferWithEntries> {
  const fromEntity = await getEntity(trx, input.fromEntityId);
  const toEntity = await getEntity(trx, input.toEntityId);
  const { fromAccount, toAccount } = await loadAccounts(trx, input);
  assert(ENTITY_KINDS.has(fromEntity.kind) && ENTITY_KINDS.has(toEntity.kind), 'entity kinds are llc or personal');
  const classification = checkCrossing({
    classification: input.classification,
    fromEntityId: fromEntity.id,
    toEntityId: toEntity.id,
    fromKind: fromEntity.kind as EntityKind,
    toKind: toEntity.kind as EntityKind,
  });
  const allowed = ACCOUNT_KINDS_ALLOWED[classification];
  for (const [side, account] of [['from', fromAccount], ['to', toAccount]] as const) {
    if (!allowed[side].has(account.kind)) {
      throw new RuleViolation(
        'account_kind_mismatch',
        `a ${classification} takes ${side}AccountId of kind ${[...allowed[side]].join(', ')}; ${account.id} is ${account.kind}`,
        { field: `${side}AccountId` },
      );
    }
  }
  if (fromAccount.currency !== toAccount.currency) {
    throw new RuleViolation('currency_mismatch', `the accounts are in ${fromAccount.currency} and ${toAccount.currency}; a crossing moves one currency`);
  }
  const currency = fromAccount.currency;
  const llc = fromEntity.kind === 'llc' ? fromEntity : toEntity;
  const basis = warningBasis(llc.taxProfile);
  const amountCents = input.amountCents;
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0) {
    throw new RuleViolation('amount_out_of_range', 'amountCents must be a positive integer');
  }

  let warnings: VeilWarning[] = [];
  let terms: Record<string, unknown> = {};
  let principalCents: number | undefined;
  let interestCents: number | undefined;
  const facts: Partial<DocumentFacts> = {};

  if (classification === 'loan') {
    if (input.loan === undefined) {
      throw new RuleViolation('veil_loan_terms_required', 'a loan needs its terms: annualRateBasisPoints, termMonths, paymentFrequency', {
        field: 'loan',
      });
    }
    const loanTerms: LoanTerms = {
      principalCents: amountCents,
      annualRateBasisPoints: input.loan.annualRateBasisPoints,
      startOn: input.loan.startOn ?? input.postedOn,
      termMonths: input.loan.termMonths,
      paymentFrequency: input.loan.paymentFrequency,
    };
    const schedule = amortizationSchedule(loanTerms);
    warnings = loanWarnings(afrRows, loanTerms, basis);
    terms = { ...loanTerms, schedule };
    facts.loan = { ...loanTerms, schedule };
  } else if (input.loan !== undefined) {
    throw new RuleViolation('invalid_request', 'loan terms belong to a loan only', { field: 'loan' });
  }

  if (classification === 'loan_repayment') {
    const loan = await liveRelated(trx, input.relatedTransferId, 'loan', 'relatedTransferId');
    if (loan.toEntityId !== fromEntity.id || loan.fromEntityId !== toEntity.id) {
      throw new RuleViolation('veil_direction_invalid', 'a repayment goes from the borrower back to the lender of the loan');
    }
    const loanTerms = loan.terms as LoanTerms & { schedule: Installment[] };
    const paid = await liveDependents(trx, loan.id);
    const principalPaid = paid.reduce((sum, row) => sum + Number((row.terms as { principalCents: number }).principalCents), 0);
    const outstanding = centsFromDb(loan.amountCents) - principalPaid;
    const next = loanTerms.schedule[paid.length];
    interestCents = input.interestCents ?? Math.min(next?.interestCents ?? 0, amountCents);
    if (interestCents > amountCents) {
      throw new RuleViolation('amount_out_of_range', 'interestCents cannot exceed the payment', { field: 'interestCents' });
    }
    principalCents = amountCents - interestCents;
    if (principalCents > outstanding) {
      throw new RuleViolation('veil_overpayment', `the loan has ${outstanding} cents of principal outstanding; this pays ${principalCents}`, {
        outstandingCents: outstanding,
      });
    }
    terms = { principalCents, interestCents, installmentNumber: paid.length + 1, outstandingAfterCents: outstanding - principalCents };
    facts.repayment = { loanTransferId: loan.id, principalCents, interestCents, outstandingAfterCents: outstanding - principalCents };
  } else if (input.interestCents !== undefined) {
    throw new RuleViolation('invalid_request', 'interestCents belongs to a loan repayment only', { field: 'interestCents' });
  }

  if (classification === 'reimbursement') {
    const details = input.reimbursement;
    if (details === undefined) {
      throw new RuleViolation('invalid_request', 'a reimbursement needs businessPurpose, receiptReference and expenseOn', { field: 'reimbursement' });
    }
    const substantiatedOn = details.substantiatedOn ?? input.postedOn;
    if (details.expenseOn > substantiatedOn) {
      throw new RuleViolation('invalid_request', 'the expense cannot be after its substantiation', { field: 'reimbursement.expenseOn' });
    }
    warnings = reimbursementRequestWarnings(details.expenseOn, substantiatedOn, basis);
    terms = { ...details, substantiatedOn };
    facts.reimbursement = { ...details, substantiatedOn };
  } else if (input.reimbursement !== undefined) {
    throw new RuleViolation('invalid_request', 'reimbursement details belong to a reimbursement only', { field: 'reimbursement' });
  }

  if (classification === 'reimbursement_payment') {
    const request = await liveRelated(trx, input.relatedTransferId, 'reimbursement', 'relatedTransferId');
    if (request.toEntityId !== fromEntity.id || request.fromEntityId !== toEntity.id) {
      throw new RuleViolation('veil_direction_invalid', 'the LLC that owes the reimbursement pays the member who asked for it');
    }
    const paid = await liveDependents(trx, request.id);
    const outstanding = centsFromDb(request.amountCents) - paid.reduce((sum, row) => sum + centsFromDb(row.amountCents), 0);
    if (amountCents > outstanding) {
      throw new RuleViolation('veil_overpayment', `the reimbursement has ${outstanding} cents outstanding; this pays ${amountCents}`, {
        outstandingCents: outstanding,
      });
    }
    const expenseOn = (request.terms as { expenseOn: string }).expenseOn;
    warnings = reimbursementPaymentWarnings(expenseOn, input.postedOn, basis);
    terms = { expenseOn, outstandingAfterCents: outstanding - amountCents };
    facts.reimbursementPayment = { reimbursementTransferId: request.id, outstandingAfterCents: outstanding - amountCents };
  } else if (classification !== 'loan_repayment' && input.relatedTransferId !== undefined) {
    throw new RuleViolation('invalid_request', 'relatedTransferId belongs to repayments and reimbursement payments only', {
      field: 'relatedTransferId',
    });
  }

  if (classification === 'owner_draw') {
    const policy = await getVeilPolicy(trx, fromEntity.id);
    warnings = drawWarnings(
      { amountCents, cashBalanceCents: fromAccount.balanceCents, equityCents: await netAssetsCents(trx, fromEntity.id, currency) },
      policy.drawPolicy,
      basis,
    );
  }

  const needed = ROLES_NEEDED[classification];
  const fromRoles = new Map<VeilRole, string>();
  const toRoles = new Map<VeilRole, string>();
  for (const role of needed.from) fromRoles.set(role, await roleAccount(trx, fromEntity, toEntity, role, currency, actor));
  for (const role of needed.to) toRoles.set(role, await roleAccount(trx, toEntity, fromEntity, role, currency, actor));
  const pick = (roles: Map<VeilRole, string>) => (role: VeilRole) => {
    const id = roles.get(role);
    assert(id !== undefined, `role account ${role} was prepared`);
    return id;
  };
  const postings = crossingPostings(
    classification,
    { amountCents, principalCents, interestCents },
    fromAccount.id,
    toAccount.id,
    pick(fromRoles),
    pick(toRoles),
  );
  const description = (input.memo ? `${DESCRIPTION[classification](fromEntity.name, toEntity.name)}: ${input.memo}` : DESCRIPTION[classification](fromEntity.name, toEntity.name)).slice(0, 500);
  // Every account of BOTH entries, locked in one id-ordered statement before either entry is booked: bookEntries
  // locks one entity at a time, and two crossings in opposite directions (a reimbursement and its payment) would
  // otherwise take the two entities' role accounts in opposite orders and deadlock (found by the hardening soak).
  await lockAccounts(trx, [...postings.from, ...postings.to].map((posting) => posting.accountId));
  const [fromEntry] = await bookEntries(trx, fromEntity.id, [{ postedOn: input.postedOn, description, source: 'manual', postings: postings.from }], actor, { crossing: true });
  const [toEntry] = await bookEntries(trx, toEntity.id, [{ postedOn: input.postedOn, description, source: 'manual', postings: postings.to }], actor, { crossing: true });
  assert(fromEntry !== undefined && toEntry !== undefined, 'one entry per side');

  const row = await trx
    .insertInto('interEntityTransfers')
    .values({
      classification,
      fromEntityId: fromEntity.id,
      toEntityId: toEntity.id,
      fromAccountId: fromAccount.id,
      toAccountId: toAccount.id,
      fromEntryId: fromEntry.id,
      toEntryId: toEntry.id,
      amountCents,
      currency,
      postedOn: input.postedOn,
      memo: input.memo ?? null,
      relatedTransferId: input.relatedTransferId ?? null,
      terms: JSON.stringify(terms),
      warnings: JSON.stringify(warnings),
      actor: actorLabel(actor),
    })
    .returningAll()
    .executeTakeFirstOrThrow();

  const documentFacts: DocumentFacts = {
    ...facts,
    transferId: row.id,
    classification,
    postedOn: input.postedOn,
    amountCents,
    currency,
    memo: input.memo ?? null,
    from: { entityId: fromEntity.id, name: fromEntity.name, kind: fromEntity.kind },
    to: { entityId: toEntity.id, name: toEntity.name, kind: toEntity.kind },
    warnings,
  };
  const markdown = renderDocumentMarkdown(documentFacts);
  const document = await trx
    .insertInto('veilDocuments')
    .values({
      transferId: row.id,
      kind: DOCUMENT_KIND_OF[classification],
      title: documentTitle(documentFacts).slice(0, 300),
      year: Number(input.postedOn.slice(0, 4)),
      markdown,
      sha256: createHash('sha256').update(markdown, 'utf8').digest('hex'),
    })
    .returning(['id', 'kind', 'title', 'sha256'])
    .executeTakeFirstOrThrow();
  // One audit row per book, so each entity's trail shows the crossing; the document's SHA-256 rides along.
  for (const entityId of [fromEntity.id, toEntity.id]) {
    recordAudit(trx, actor, {
      action: 'transfer.created',
      entityId,
      objectType: 'inter_entity_transfer',
      objectId: row.id,
      after: { classification, amountCents, currency, postedOn: input.postedOn, fromEntryId: fromEntry.id, toEntryId: toEntry.id, warnings, terms },
    });
    recordAudit(trx, actor, {
      action: 'document.created',
      entityId,
      objectType: 'veil_document',
      objectId: document.id,
      after: { transferId: row.id, kind: document.kind, title: document.title, sha256: document.sha256 },
    });
  }

  const { replayed: _fromReplayed, ...fromEntryView } = fromEntry;
  const { replayed: _toReplayed, ...toEntryView } = toEntry;
  const created = { ...toView(row, undefined, document), fromEntry: fromEntryView, toEntry: toEntryView };
  const { fromEntry: _from, toEntry: _to, ...transferView } = created;
  await emitEvents(
    trx,
    [fromEntity.id, toEntity.id].map((entityId) => ({ entityId, type: 'transfer.created' as const, payload: { transfer: transferView } })),
  );
  return created;
}

/** Reverses both entries of a transfer at once. A loan or reimbursement with live payments must lose those first. */
export async function reverseTransfer(
  trx: Trx,
  transferId: string,
  input: { postedOn?: string | undefined },
  actor: Actor,
): Promise<TransferWithEntries> {
  const row = await trx.selectFrom('interEntityTransfers').selectAll().where('id', '=', transferId).forUpdate().executeTakeFirst();
  if (row === undefined) throw new NotFound('transfer', transferId);
  const existing = await trx.selectFrom('interEntityTransferReversals').select('transferId').where('transferId', '=', transferId).executeTakeFirst();
  if (existing) throw new RuleViolation('already_reversed', `transfer ${transferId} was already reversed`);
  const dependents = await liveDependents(trx, transferId);
  if (dependents.length > 0) {
    throw new RuleViolation(
      'veil_transfer_has_dependents',
      `transfer ${transferId} has ${dependents.length} payment(s) against it; reverse those first`,
      { transferIds: dependents.map((dependent) => dependent.id) },
    );
  }
  // Both entries' accounts in one id-ordered lock first, for the same reason as in createTransfer.
  const touched = await trx.selectFrom('postings').select('accountId').where('entryId', 'in', [row.fromEntryId, row.toEntryId]).execute();
  await lockAccounts(trx, touched.map((posting) => posting.accountId));
  const fromReversal = await reverseEntry(trx, row.fromEntryId, { postedOn: input.postedOn }, actor, { crossing: true });
  const toReversal = await reverseEntry(trx, row.toEntryId, { postedOn: input.postedOn }, actor, { crossing: true });
  await trx
    .insertInto('interEntityTransferReversals')
    .values({
      transferId,
      fromEntityId: row.fromEntityId,
      toEntityId: row.toEntityId,
      fromReversalEntryId: fromReversal.id,
      toReversalEntryId: toReversal.id,
      actor: actorLabel(actor),
    })
    .execute();
  for (const entityId of [row.fromEntityId, row.toEntityId]) {
    recordAudit(trx, actor, {
      action: 'transfer.reversed',
      entityId,
      objectType: 'inter_entity_transfer',
      objectId: transferId,
      after: { fromReversalEntryId: fromReversal.id, toReversalEntryId: toReversal.id },
    });
  }
  const view = await getTransferIn(trx, transferId);
  return { ...view, fromEntry: fromReversal, toEntry: toReversal };
}

export interface PairingReport {
  entityId: string;
  balances: (InterEntityBalance & { accountId: string })[];
  mismatches: PairMismatch[];
}

/**
 * The pairing invariant for every counterparty of `entityId`: what this entity books as due from / loan
 * receivable / investment in the other equals what the other books as the mirror, and vice versa.
 */
export async function pairingReport(db: Db, entityId: string): Promise<PairingReport> {
  await getEntity(db, entityId);
  const rows = await db
    .selectFrom('accounts')
    .select(['id', 'entityId', 'counterpartyEntityId', 'kind', 'balanceCents'])
    .where('counterpartyEntityId', 'is not', null)
    .where((eb) => eb.or([eb('entityId', '=', entityId), eb('counterpartyEntityId', '=', entityId)]))
    .orderBy('entityId')
    .orderBy('kind')
    .execute();
  const balances = rows.map((row) => ({
    accountId: row.id,
    entityId: row.entityId,
    counterpartyEntityId: row.counterpartyEntityId as string,
    kind: row.kind as AccountKind,
    balanceCents: centsFromDb(row.balanceCents),
  }));
  return { entityId, balances, mismatches: pairingMismatches(balances) };
}
