import { timeOrderedUuid } from './ids';
import type { Transaction } from 'kysely';
import type { Database, Db } from '../db/database';
import type { AccountClass } from '../domain/accounts';
import { assert, NotFound, RuleViolation } from '../domain/errors';
import { contentHash } from '../domain/hash';
import { checkEntry, reversalPostings, type AccountFacts, type CheckedPosting, type PostingDraft } from '../domain/journal';
import { PAGE_SIZE_DEFAULT } from '../domain/limits';
import { centsFromDb } from '../domain/money';
import { authorizeEntity } from '../security/authorization';
import { recordAudit } from './audit';
import { alertsAfterPostings } from './alert-events';
import { emitEvents } from './events';
import { actorLabel, type Actor } from './context';
import { translateDbError } from './db-errors';
import { getEntity } from './entities';
import { lockAccounts } from './idempotency';

export const ENTRY_SOURCES = ['manual', 'import', 'plaid', 'workflow', 'system'] as const;
export type EntrySource = (typeof ENTRY_SOURCES)[number];

export interface EntryDraft {
  postedOn: string;
  description: string;
  source?: EntrySource | undefined;
  postings: PostingDraft[];
  /** Per-entry key (e.g. n8n's execution/node/item): the same key with the same content returns the first entry. */
  idempotencyKey?: string | undefined;
}

export interface PostingView {
  accountId: string;
  amountCents: number;
  currency: string;
  memo: string | null;
}

export interface EntryView {
  id: string;
  entityId: string;
  postedOn: string;
  description: string;
  source: EntrySource;
  reversesEntryId: string | null;
  reversedByEntryId: string | null;
  idempotencyKey: string | null;
  actor: string;
  createdAt: string;
  postings: PostingView[];
}

/**
 * The same entry with its keys (and its postings' keys) in RFC 8785 order: what an audit row's `after` holds, so
 * that the row's canonical form is written without copying it (domain/hash.ts).
 */
export function canonicallyOrdered(view: EntryView): EntryView {
  return {
    actor: view.actor,
    createdAt: view.createdAt,
    description: view.description,
    entityId: view.entityId,
    id: view.id,
    idempotencyKey: view.idempotencyKey,
    postedOn: view.postedOn,
    postings: view.postings.map((posting) => ({ accountId: posting.accountId, amountCents: posting.amountCents, currency: posting.currency, memo: posting.memo })),
    reversedByEntryId: view.reversedByEntryId,
    reversesEntryId: view.reversesEntryId,
    source: view.source,
  };
}

export interface BookedEntry extends EntryView {
  /** True when the per-entry idempotency key matched an entry booked earlier: nothing new was written. */
  replayed: boolean;
}

export interface EntryError {
  index: number;
  code: string;
  message: string;
}

type Trx = Transaction<Database>;

/** Insert in chunks: PostgreSQL takes at most 65,535 bind parameters per statement. */
const POSTING_ROWS_PER_INSERT = 5_000;

/** What tells a replayed per-entry key (same content) from a conflicting one. */
export function entryHash(draft: EntryDraft): string {
  // Keys in canonical order, so that contentHash writes the value without copying it.
  return contentHash({
    description: draft.description,
    postedOn: draft.postedOn,
    postings: draft.postings.map((posting) => ({
      accountId: posting.accountId,
      amountCents: posting.amountCents,
      memo: posting.memo ?? null,
    })),
    source: draft.source ?? 'manual',
  });
}

function accountFacts(rows: Awaited<ReturnType<typeof lockAccounts>>): Map<string, AccountFacts> {
  return new Map(
    rows.map((row) => [
      row.id,
      {
        id: row.id,
        entityId: row.entityId,
        currency: row.currency,
        accountClass: row.class as AccountClass,
        archived: row.archivedAt !== null,
        interEntity: row.counterpartyEntityId !== null,
      },
    ]),
  );
}

/**
 * Books entries for one entity inside the caller's transaction. All or nothing: when any entry breaks a rule,
 * nothing is written and every entry's error is reported (not just the first).
 */
export async function bookEntries(
  trx: Trx,
  entityId: string,
  drafts: readonly EntryDraft[],
  actor: Actor,
  /** `crossing`: the veil service booking one side of an inter-entity transfer (the only writer of mirror accounts). */
  options: { reversesEntryId?: string; crossing?: boolean } = {},
): Promise<BookedEntry[]> {
  const keyed = drafts.filter((draft) => draft.idempotencyKey !== undefined);
  const existingByKey = new Map<string, EntryView & { contentHash: string }>();
  if (keyed.length > 0) {
    const existing = await selectEntries(trx)
      .where('e.entityId', '=', entityId)
      .where('e.idempotencyKey', 'in', keyed.map((draft) => draft.idempotencyKey as string))
      .execute();
    for (const view of await withPostings(trx, existing)) {
      existingByKey.set(view.idempotencyKey as string, view);
    }
  }
  const accountIds = drafts.flatMap((draft) =>
    draft.idempotencyKey !== undefined && existingByKey.has(draft.idempotencyKey)
      ? []
      : draft.postings.map((posting) => posting.accountId),
  );
  const accounts = accountFacts(await lockAccounts(trx, accountIds));
  await forgetInvisibleAccounts(trx, actor, entityId, accounts);

  const errors: EntryError[] = [];
  const seenKeys = new Set<string>();
  const plan = drafts.map((draft, index) => {
    const hash = entryHash(draft);
    try {
      if (draft.idempotencyKey !== undefined) {
        if (seenKeys.has(draft.idempotencyKey)) {
          throw new RuleViolation('idempotency_conflict', `idempotency key "${draft.idempotencyKey}" appears twice`);
        }
        seenKeys.add(draft.idempotencyKey);
        const existing = existingByKey.get(draft.idempotencyKey);
        if (existing !== undefined) {
          if (existing.contentHash !== hash) {
            throw new RuleViolation(
              'idempotency_conflict',
              `idempotency key "${draft.idempotencyKey}" was already used for a different entry`,
            );
          }
          const { contentHash: _hash, ...view } = existing;
          return { kind: 'replayed' as const, view };
        }
      }
      const postings = checkEntry(entityId, draft.postings, accounts, { crossing: options.crossing ?? false });
      return { kind: 'new' as const, id: timeOrderedUuid(), draft, postings, hash };
    } catch (error) {
      if (!(error instanceof RuleViolation)) throw error;
      errors.push({ index, code: error.code, message: error.message });
      return { kind: 'failed' as const };
    }
  });

  if (errors.length > 0) {
    // An unknown entity makes every account look foreign: say 404 for the entity, not entity_mismatch.
    await getEntity(trx, entityId);
    if (drafts.length === 1) {
      const [only] = errors;
      assert(only !== undefined, 'one draft, one error');
      throw new RuleViolation(only.code as RuleViolation['code'], only.message);
    }
    throw new RuleViolation(
      'batch_rejected',
      `${errors.length} of ${drafts.length} entries break a rule; nothing was written`,
      { errors },
    );
  }

  const fresh = plan.filter((step) => step.kind === 'new');
  const label = actorLabel(actor);
  const inserted = new Map<string, { createdAt: Date }>();
  if (fresh.length > 0) {
    const entryRows = fresh.map((step) => ({
      id: step.id,
      entityId,
      postedOn: step.draft.postedOn,
      description: step.draft.description,
      source: step.draft.source ?? 'manual',
      reversesEntryId: options.reversesEntryId ?? null,
      idempotencyKey: step.draft.idempotencyKey ?? null,
      contentHash: step.hash,
      actor: label,
    }));
    const postingRows = fresh.flatMap((step) =>
      step.postings.map((posting) => ({
        entryId: step.id,
        entityId,
        accountId: posting.accountId,
        currency: posting.currency,
        amountCents: posting.amountCents,
        memo: posting.memo ?? null,
      })),
    );
    // Entries and their first postings in one statement: one round trip fewer on the hot single-entry path.
    const firstPostings = postingRows.slice(0, POSTING_ROWS_PER_INSERT);
    const rows = await trx
      .with('inserted', (db) => db.insertInto('journalEntries').values(entryRows).returning(['id', 'createdAt']))
      .with('insertedPostings', (db) => db.insertInto('postings').values(firstPostings))
      .selectFrom('inserted')
      .selectAll()
      .execute();
    for (const row of rows) inserted.set(row.id, row);
    for (let start = POSTING_ROWS_PER_INSERT; start < postingRows.length; start += POSTING_ROWS_PER_INSERT) {
      await trx.insertInto('postings').values(postingRows.slice(start, start + POSTING_ROWS_PER_INSERT)).execute();
    }
  }

  const booked = plan.map((step): BookedEntry => {
    if (step.kind === 'replayed') return { ...step.view, replayed: true };
    assert(step.kind === 'new', 'failed steps were rejected above');
    const row = inserted.get(step.id);
    assert(row !== undefined, `entry ${step.id} was inserted`);
    return {
      id: step.id,
      entityId,
      postedOn: step.draft.postedOn,
      description: step.draft.description,
      source: step.draft.source ?? 'manual',
      reversesEntryId: options.reversesEntryId ?? null,
      reversedByEntryId: null,
      idempotencyKey: step.draft.idempotencyKey ?? null,
      actor: label,
      createdAt: row.createdAt.toISOString(),
      postings: step.postings.map((posting) => ({
        accountId: posting.accountId,
        amountCents: posting.amountCents,
        currency: posting.currency,
        memo: posting.memo ?? null,
      })),
      replayed: false,
    };
  });
  // One audit row per booked entry (a batch of 1,000 writes 1,000), so each entry's history is found by its id.
  for (const entry of booked) {
    if (entry.replayed) continue;
    const { replayed: _replayed, ...after } = entry;
    recordAudit(trx, actor, {
      action: entry.reversesEntryId === null ? 'entry.booked' : 'entry.reversal_booked',
      entityId,
      objectType: 'entry',
      objectId: entry.id,
      after,
    });
  }
  // The outbox, in the same transaction: subscribers hear of exactly the entries that committed.
  await emitEvents(
    trx,
    booked
      .filter((entry) => !entry.replayed)
      .map(({ replayed: _replayed, ...entry }) =>
        entry.reversesEntryId === null
          ? { entityId, type: 'entry.posted' as const, payload: { entry } }
          : { entityId, type: 'entry.reversed' as const, payload: { entryId: entry.reversesEntryId, reversal: entry } },
      ),
  );
  // Alerts that a posting can raise or clear (a balance under its floor, an envelope overspent), in this transaction.
  if (fresh.length > 0) {
    await alertsAfterPostings(
      trx,
      entityId,
      fresh.flatMap((step) => step.postings.map((posting) => posting.accountId)),
      fresh.map((step) => step.draft.postedOn),
    );
  }
  return booked;
}

/**
 * An account of another entity is an `entity_mismatch` only when the actor can see that entity; an account of
 * someone else's books is reported as not found, exactly like an id that does not exist.
 */
async function forgetInvisibleAccounts(trx: Trx, actor: Actor, entityId: string, accounts: Map<string, AccountFacts>) {
  const foreign = [...new Set([...accounts.values()].filter((account) => account.entityId !== entityId).map((account) => account.entityId))];
  for (const foreignEntityId of foreign) {
    const visible = await authorizeEntity(trx, actor, foreignEntityId, 'read').then(
      () => true,
      (error: unknown) => {
        if (error instanceof RuleViolation && error.code === 'not_found') return false;
        throw error;
      },
    );
    if (visible) continue;
    for (const [accountId, account] of accounts) if (account.entityId === foreignEntityId) accounts.delete(accountId);
  }
}

/** Books one reversing entry for `entryId`: same accounts, amounts negated, linked both ways. */
export async function reverseEntry(
  trx: Trx,
  entryId: string,
  input: { postedOn?: string | undefined; description?: string | undefined },
  actor: Actor,
  options: { crossing?: boolean } = {},
): Promise<EntryView> {
  const original = await getEntryIn(trx, entryId);
  if (!options.crossing) {
    const transfer = await trx
      .selectFrom('interEntityTransfers')
      .select('id')
      .where((eb) => eb.or([eb('fromEntryId', '=', entryId), eb('toEntryId', '=', entryId)]))
      .executeTakeFirst();
    if (transfer !== undefined) {
      throw new RuleViolation(
        'veil_use_transfer_reversal',
        `entry ${entryId} is one side of inter-entity transfer ${transfer.id}; reverse the transfer ` +
          `(POST /transfers/${transfer.id}/reverse) so both books change together`,
        { transferId: transfer.id },
      );
    }
  }
  if (original.reversesEntryId !== null) {
    throw new RuleViolation(
      'cannot_reverse_reversal',
      `entry ${entryId} is itself a reversal; book a new entry instead of reversing it`,
    );
  }
  if (original.reversedByEntryId !== null) {
    throw new RuleViolation('already_reversed', `entry ${entryId} was already reversed by ${original.reversedByEntryId}`, {
      reversedByEntryId: original.reversedByEntryId,
    });
  }
  const postings: CheckedPosting[] = original.postings.map((posting) => ({
    accountId: posting.accountId,
    amountCents: posting.amountCents,
    currency: posting.currency,
    memo: posting.memo ?? undefined,
  }));
  const [reversal] = await bookEntries(
    trx,
    original.entityId,
    [
      {
        postedOn: input.postedOn ?? original.postedOn,
        description: input.description ?? `Reversal of: ${original.description}`.slice(0, 500),
        source: original.source,
        postings: reversalPostings(postings),
      },
    ],
    actor,
    { reversesEntryId: original.id, crossing: options.crossing ?? false },
  );
  assert(reversal !== undefined, 'one reversal booked');
  const { replayed: _replayed, ...view } = reversal;
  return view;
}

function selectEntries(db: Db | Trx) {
  return db
    .selectFrom('journalEntries as e')
    .leftJoin('journalEntries as r', 'r.reversesEntryId', 'e.id')
    .select([
      'e.id',
      'e.seq',
      'e.entityId',
      'e.postedOn',
      'e.description',
      'e.source',
      'e.reversesEntryId',
      'r.id as reversedByEntryId',
      'e.idempotencyKey',
      'e.contentHash',
      'e.actor',
      'e.createdAt',
    ]);
}

type EntryRow = Awaited<ReturnType<ReturnType<typeof selectEntries>['execute']>>[number];

async function withPostings(db: Db | Trx, rows: EntryRow[]): Promise<(EntryView & { contentHash: string; seq: string })[]> {
  if (rows.length === 0) return [];
  const postings = await db
    .selectFrom('postings')
    .select(['entryId', 'accountId', 'amountCents', 'currency', 'memo'])
    .where(
      'entryId',
      'in',
      rows.map((row) => row.id),
    )
    .orderBy('id')
    .execute();
  const byEntry = new Map<string, PostingView[]>();
  for (const posting of postings) {
    const list = byEntry.get(posting.entryId) ?? [];
    list.push({
      accountId: posting.accountId,
      amountCents: centsFromDb(posting.amountCents),
      currency: posting.currency,
      memo: posting.memo,
    });
    byEntry.set(posting.entryId, list);
  }
  return rows.map((row) => ({
    id: row.id,
    seq: row.seq,
    entityId: row.entityId,
    postedOn: row.postedOn,
    description: row.description,
    source: row.source as EntrySource,
    reversesEntryId: row.reversesEntryId,
    reversedByEntryId: row.reversedByEntryId,
    idempotencyKey: row.idempotencyKey,
    contentHash: row.contentHash,
    actor: row.actor,
    createdAt: row.createdAt.toISOString(),
    postings: byEntry.get(row.id) ?? [],
  }));
}

function publicView(view: EntryView & { contentHash?: string; seq?: string }): EntryView {
  const { contentHash: _hash, seq: _seq, ...rest } = view;
  return rest;
}

async function getEntryIn(db: Db | Trx, entryId: string): Promise<EntryView> {
  const row = await selectEntries(db).where('e.id', '=', entryId).executeTakeFirst();
  if (row === undefined) throw new NotFound('entry', entryId);
  const [view] = await withPostings(db, [row]);
  assert(view !== undefined, 'an entry row has a view');
  return publicView(view);
}

export function getEntry(db: Db, entryId: string): Promise<EntryView> {
  return getEntryIn(db, entryId);
}

export interface EntryFilters {
  accountId?: string | undefined;
  fromOn?: string | undefined;
  toOn?: string | undefined;
  source?: EntrySource | undefined;
  search?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

interface Cursor {
  postedOn: string;
  seq: string;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.postedOn}|${cursor.seq}`).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  const match = /^(\d{4}-\d{2}-\d{2})\|(\d{1,19})$/.exec(Buffer.from(text, 'base64url').toString());
  if (!match) throw new RuleViolation('invalid_request', 'cursor is not one this service issued');
  return { postedOn: match[1] as string, seq: match[2] as string };
}

/** Newest first (by accounting date, then booking order), paged by an opaque cursor stable under new writes. */
export async function listEntries(
  db: Db,
  entityId: string,
  filters: EntryFilters,
): Promise<{ items: EntryView[]; nextCursor: string | null }> {
  await getEntity(db, entityId);
  const limit = filters.limit ?? PAGE_SIZE_DEFAULT;
  let query = selectEntries(db).where('e.entityId', '=', entityId);
  if (filters.accountId !== undefined) {
    const accountId = filters.accountId;
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('postings as p')
          .select('p.id')
          .whereRef('p.entryId', '=', 'e.id')
          .where('p.accountId', '=', accountId),
      ),
    );
  }
  if (filters.fromOn !== undefined) query = query.where('e.postedOn', '>=', filters.fromOn);
  if (filters.toOn !== undefined) query = query.where('e.postedOn', '<=', filters.toOn);
  if (filters.source !== undefined) query = query.where('e.source', '=', filters.source);
  if (filters.search !== undefined) {
    const pattern = `%${filters.search.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
    query = query.where('e.description', 'ilike', pattern);
  }
  if (filters.cursor !== undefined) {
    const cursor = decodeCursor(filters.cursor);
    query = query.where((eb) =>
      eb.or([
        eb('e.postedOn', '<', cursor.postedOn),
        eb.and([eb('e.postedOn', '=', cursor.postedOn), eb('e.seq', '<', cursor.seq)]),
      ]),
    );
  }
  const rows = await query
    .orderBy('e.postedOn', 'desc')
    .orderBy('e.seq', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const views = await withPostings(db, page);
  return {
    items: views.map(publicView),
    nextCursor: rows.length > limit && last ? encodeCursor({ postedOn: last.postedOn, seq: last.seq }) : null,
  };
}

