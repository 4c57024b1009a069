import { sql, type Transaction } from 'kysely';
import type { BankLineSource, BankLineStatus, Database, Db } from '../db/database';
import { RuleViolation } from '../domain/errors';
import { PAGE_SIZE_DEFAULT } from '../domain/limits';
import { centsFromDb } from '../domain/money';
import { recordAudit } from './audit';
import type { Actor } from './context';

type Trx = Transaction<Database>;

/** One line as a bank stated it; amountCents is signed from the account holder's side (positive = money in). */
export interface BankLineDraft {
  externalId: string;
  postedOn: string;
  authorizedOn?: string | null | undefined;
  amountCents: number;
  payee?: string | null | undefined;
  memo?: string | null | undefined;
  pending?: boolean | undefined;
  pendingExternalId?: string | null | undefined;
  raw?: unknown;
}

/** A draft's optional fields as a stored line holds them (null, not pending, no raw data: `{}`). */
export interface DraftFields {
  authorizedOn: string | null;
  payee: string | null;
  memo: string | null;
  pending: boolean;
  pendingExternalId: string | null;
  raw: unknown;
}

export function draftFields(draft: BankLineDraft): DraftFields {
  return {
    authorizedOn: draft.authorizedOn ?? null,
    payee: draft.payee ?? null,
    memo: draft.memo ?? null,
    pending: draft.pending ?? false,
    pendingExternalId: draft.pendingExternalId ?? null,
    raw: draft.raw ?? {},
  };
}

export interface BankLine {
  id: string;
  entityId: string;
  accountId: string;
  currency: string;
  source: BankLineSource;
  externalId: string;
  importId: string | null;
  postedOn: string;
  authorizedOn: string | null;
  amountCents: number;
  payee: string | null;
  memo: string | null;
  pending: boolean;
  pendingExternalId: string | null;
  status: BankLineStatus;
  statusReason: string | null;
  entryId: string | null;
  createdAt: string;
}

export interface RecordedBankLines {
  inserted: BankLine[];
  /** Lines whose external id this account already had (or that repeat within the same call): skipped, counted. */
  duplicates: { externalId: string; existingId: string }[];
}

const COLUMNS = [
  'id',
  'entityId',
  'accountId',
  'currency',
  'source',
  'externalId',
  'importId',
  'postedOn',
  'authorizedOn',
  'amountCents',
  'payee',
  'memo',
  'pending',
  'pendingExternalId',
  'status',
  'statusReason',
  'entryId',
  'createdAt',
] as const;

type Row = Omit<BankLine, 'amountCents' | 'createdAt'> & { amountCents: string; createdAt: Date };

function view(row: Row): BankLine {
  return { ...row, amountCents: centsFromDb(row.amountCents), createdAt: row.createdAt.toISOString() };
}

/** 14 values a row: 2,000 rows stay under PostgreSQL's 65,535 bind parameters. */
const ROWS_PER_INSERT = 2_000;
const LOOKUP_IDS_MAX = 10_000;

/**
 * Stores what a bank said about one account. The account's (entity, currency) pair is the line's; an external id
 * the account already has is a duplicate by definition and is reported, never stored twice and never dropped
 * without a count. Runs inside the caller's transaction, so a failed import stores nothing.
 */
export async function recordBankLines(
  trx: Trx,
  target: { accountId: string; source: BankLineSource; importId?: string | null | undefined },
  drafts: readonly BankLineDraft[],
  actor: Actor,
): Promise<RecordedBankLines> {
  const account = await trx
    .selectFrom('accounts')
    .select(['id', 'entityId', 'currency', 'class'])
    .where('id', '=', target.accountId)
    .executeTakeFirst();
  if (!account) throw new RuleViolation('not_found', 'no such account', { accountId: target.accountId });
  if (account.class !== 'asset' && account.class !== 'liability') {
    throw new RuleViolation('account_kind_mismatch', 'bank lines belong to asset or liability accounts (a bank, card or loan account)', {
      accountId: account.id,
      class: account.class,
    });
  }
  const inserted: BankLine[] = [];
  for (let start = 0; start < drafts.length; start += ROWS_PER_INSERT) {
    const chunk = drafts.slice(start, start + ROWS_PER_INSERT);
    const rows = await trx
      .insertInto('bankLines')
      .values(
        chunk.map((draft) => {
          const fields = draftFields(draft);
          return {
            entityId: account.entityId,
            accountId: account.id,
            currency: account.currency,
            source: target.source,
            externalId: draft.externalId,
            importId: target.importId ?? null,
            postedOn: draft.postedOn,
            amountCents: draft.amountCents,
            ...fields,
            raw: JSON.stringify(fields.raw),
          };
        }),
      )
      .onConflict((oc) => oc.columns(['accountId', 'externalId']).doNothing())
      .returning(COLUMNS)
      .execute();
    inserted.push(...rows.map((row) => view(row)));
  }
  const insertedIds = new Set(inserted.map((line) => line.externalId));
  const skipped = [...new Set(drafts.map((draft) => draft.externalId))].filter((id) => !insertedIds.has(id));
  const repeatedInCall = drafts.length - new Set(drafts.map((draft) => draft.externalId)).size;
  // The stored line each duplicate repeats: a line of this call, or one stored before (looked up a chunk at a time).
  const idOf = new Map(repeatedInCall === 0 ? [] : inserted.map((line) => [line.externalId, line.id]));
  const wanted = skipped;
  for (let start = 0; start < wanted.length; start += LOOKUP_IDS_MAX) {
    const rows = await trx
      .selectFrom('bankLines')
      .select(['id', 'externalId'])
      .where('accountId', '=', account.id)
      .where('externalId', 'in', wanted.slice(start, start + LOOKUP_IDS_MAX))
      .execute();
    for (const row of rows) idOf.set(row.externalId, row.id);
  }
  const duplicates: RecordedBankLines['duplicates'] = [];
  const seen = new Set<string>();
  for (const draft of drafts) {
    const fresh = insertedIds.has(draft.externalId) && !seen.has(draft.externalId);
    seen.add(draft.externalId);
    if (!fresh) duplicates.push({ externalId: draft.externalId, existingId: idOf.get(draft.externalId) ?? '' });
  }
  if (inserted.length > 0 || duplicates.length > 0) {
    recordAudit(trx, actor, {
      action: 'bank_lines.recorded',
      entityId: account.entityId,
      objectType: 'account',
      objectId: account.id,
      after: { source: target.source, importId: target.importId ?? null, inserted: inserted.length, duplicates: duplicates.length },
    });
  }
  return { inserted, duplicates };
}

/** Moves a line through its life (matched to an entry, booked, sent to review, ignored, removed by the bank). */
export async function setBankLineStatus(
  trx: Trx,
  bankLineId: string,
  change: { status: BankLineStatus; entryId?: string | null | undefined; reason?: string | null | undefined },
  actor: Actor,
): Promise<BankLine> {
  const before = await trx.selectFrom('bankLines').select(COLUMNS).where('id', '=', bankLineId).forUpdate().executeTakeFirst();
  if (!before) throw new RuleViolation('not_found', 'no such bank line', { bankLineId });
  const after = await trx
    .updateTable('bankLines')
    .set({
      status: change.status,
      ...(change.entryId !== undefined ? { entryId: change.entryId } : {}),
      statusReason: change.reason ?? null,
      updatedAt: sql<Date>`now()`,
    })
    .where('id', '=', bankLineId)
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  recordAudit(trx, actor, {
    action: 'bank_line.status_changed',
    entityId: before.entityId,
    objectType: 'bank_line',
    objectId: bankLineId,
    before: { status: before.status, entryId: before.entryId },
    after: { status: after.status, entryId: after.entryId, reason: after.statusReason },
  });
  return view(after);
}

export async function getBankLine(db: Db, bankLineId: string): Promise<BankLine> {
  const row = await db.selectFrom('bankLines').select(COLUMNS).where('id', '=', bankLineId).executeTakeFirst();
  if (!row) throw new RuleViolation('not_found', 'no such bank line', { bankLineId });
  return view(row);
}

/** Many lines by id, in no particular order (ids not found are simply absent). */
export async function getBankLines(db: Db, bankLineIds: readonly string[]): Promise<BankLine[]> {
  if (bankLineIds.length === 0) return [];
  const rows = await db.selectFrom('bankLines').select(COLUMNS).where('id', 'in', bankLineIds).execute();
  return rows.map((row) => view(row));
}

export interface BankLineFilters {
  status?: BankLineStatus | undefined;
  fromOn?: string | undefined;
  toOn?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

function encodeCursor(postedOn: string, id: string): string {
  return Buffer.from(`${postedOn}|${id}`).toString('base64url');
}

function decodeCursor(text: string): { postedOn: string; id: string } {
  const match = /^(\d{4}-\d{2}-\d{2})\|([0-9a-f-]{36})$/.exec(Buffer.from(text, 'base64url').toString());
  if (!match) throw new RuleViolation('invalid_request', 'cursor is not one this service issued');
  return { postedOn: match[1] as string, id: match[2] as string };
}

/** Newest first, paged by an opaque cursor. */
export async function listBankLines(
  db: Db,
  accountId: string,
  filters: BankLineFilters,
): Promise<{ items: BankLine[]; nextCursor: string | null }> {
  const limit = filters.limit ?? PAGE_SIZE_DEFAULT;
  let query = db.selectFrom('bankLines').select(COLUMNS).where('accountId', '=', accountId);
  if (filters.status !== undefined) query = query.where('status', '=', filters.status);
  if (filters.fromOn !== undefined) query = query.where('postedOn', '>=', filters.fromOn);
  if (filters.toOn !== undefined) query = query.where('postedOn', '<=', filters.toOn);
  if (filters.cursor !== undefined) {
    const cursor = decodeCursor(filters.cursor);
    query = query.where((eb) =>
      eb.or([eb('postedOn', '<', cursor.postedOn), eb.and([eb('postedOn', '=', cursor.postedOn), eb('id', '<', cursor.id)])]),
    );
  }
  const rows = await query.orderBy('postedOn', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((row) => view(row)),
    nextCursor: rows.length > limit && last ? encodeCursor(last.postedOn, last.id) : null,
  };
}
