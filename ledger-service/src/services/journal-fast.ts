import { timeOrderedUuid } from './ids';
import { sql } from 'kysely';
import type { Db } from '../db/database';
import { CASH_KINDS, type AccountClass } from '../domain/accounts';
import { RuleViolation } from '../domain/errors';
import { checkEntry, type AccountFacts, type CheckedPosting } from '../domain/journal';
import { ALERT_SETTINGS_DEFAULT, envelopeAlertsAfterPostings } from './alert-events';
import { auditRowsParameter, sealPendingAudit, type QueuedEvent } from './audit';
import { actorLabel, type Actor, type Deps } from './context';
import { idempotencyConflict, idempotentRequestHash, type IdempotentRequest, type WriteResult } from './idempotency';
import { entryHash, type BookedEntry, type EntryDraft, type EntryView } from './journal';

// The journal's hot path: a request that books entries in one database round trip (`veil_book_entries_alerting`,
// migrations 0018, 0028, 0033, 0034, one function since 0035) instead of ten. It books exactly what `bookEntries`
// inside `idempotentWrite` would book, with the same answer, audit rows and events, or it declines (returns
// undefined) and the caller takes that long way, which also reports every error. It declines whenever anything is
// not plainly a new, valid entry: an account it does not know, a rule the entry breaks, a per-entry key already
// used, an account or entity the database sees differently from what the service assumed (SQLSTATE VL001), or any
// database error at all. A declined call has written nothing: it is one statement, rolled back whole.
//
// What it keeps in memory: per account, the facts that never change (entity, currency, class; a trigger refuses
// changes), to check the entry before the call. Whether the account is archived or mirrors another entity is
// checked by the function under the account's row lock, as the long way does.

const DECLINED = 'VL001';

/** How requests went, since the process started: what tests (and a curious operator) look at. */
export const fastPathOutcomes = { booked: 0, replayed: 0, declined: 0 };
/** Fast-path bookings after which the envelopes' alerts were evaluated, because the booking touched a budgeted account. */
export const fastPathAlertEvaluations = { count: 0 };

interface BookingRow {
  replayed: boolean;
  requestHash: string;
  statusCode: number;
  response: unknown;
  /** Whether a touched account is one an envelope uses, so budget.overspent is the service's to evaluate (never on a replay). */
  alertsPending: boolean;
  /** Whether the audit rows went to the queue (another writer held the chain's head) and await a seal. */
  auditQueued: boolean;
}

function decline(): undefined {
  fastPathOutcomes.declined += 1;
  return undefined;
}
const ACCOUNTS_CACHED_MAX = 10_000;
const AUDIT_QUEUED_ENTRIES_MAX = 20;

interface StableFacts {
  entityId: string;
  currency: string;
  accountClass: AccountClass;
}

const factsByDb = new WeakMap<Db, Map<string, StableFacts>>();

async function knownAccounts(db: Db, accountIds: readonly string[]): Promise<Map<string, AccountFacts> | undefined> {
  let cache = factsByDb.get(db);
  if (cache === undefined) {
    cache = new Map();
    factsByDb.set(db, cache);
  }
  const missing = [...new Set(accountIds)].filter((id) => !cache.has(id));
  if (missing.length > 0) {
    const rows = await db.selectFrom('accounts').select(['id', 'entityId', 'currency', 'class']).where('id', 'in', missing).execute();
    if (rows.length !== missing.length) return undefined;
    if (cache.size + rows.length > ACCOUNTS_CACHED_MAX) cache.clear();
    for (const row of rows) cache.set(row.id, { entityId: row.entityId, currency: row.currency, accountClass: row.class as AccountClass });
  }
  const facts = new Map<string, AccountFacts>();
  for (const id of accountIds) {
    const stable = cache.get(id);
    if (stable === undefined) return undefined;
    facts.set(id, { id, ...stable, archived: false, interEntity: false });
  }
  return facts;
}

function databaseCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

/**
 * Books `drafts` for `entityId` as one idempotent request, in one round trip, or returns undefined (nothing
 * written) for the caller to book them the long way. `single`: the answer is the entry itself, as
 * POST /entities/:id/entries gives it; otherwise `{ entries }`, as the batch endpoint does.
 */
export async function bookEntriesFast(
  deps: Deps,
  request: IdempotentRequest,
  entityId: string,
  drafts: readonly EntryDraft[],
  actor: Actor,
  single: boolean,
): Promise<WriteResult<unknown> | undefined> {
  // Authorization that needs no database (the long way answers 403/404 when it fails): the entity's owner is
  // checked by the function.
  if (actor.type !== 'user' && actor.type !== 'api_token') return decline();
  if (actor.userId === undefined || !actor.scopes.includes('write')) return decline();
  if (actor.revocationDeferred && actor.sessionId === undefined && actor.tokenId === undefined) return decline();
  if (actor.entityScope !== 'all' && !actor.entityScope.includes(entityId)) return decline();
  const keys = drafts.flatMap((draft) => (draft.idempotencyKey === undefined ? [] : [draft.idempotencyKey]));
  if (new Set(keys).size !== keys.length) return decline();

  // A database that cannot answer here is the long way's to report (it translates the error).
  const accounts = await knownAccounts(deps.db, drafts.flatMap((draft) => draft.postings.map((posting) => posting.accountId))).catch(() => undefined);
  if (accounts === undefined) return decline();
  let checked: CheckedPosting[][];
  try {
    checked = drafts.map((draft) => checkEntry(entityId, draft.postings, accounts));
  } catch (error) {
    if (error instanceof RuleViolation) return decline();
    throw error;
  }

  const label = actorLabel(actor);
  const createdAt = new Date();
  const booked: BookedEntry[] = drafts.map((draft, index) => ({
    id: timeOrderedUuid(createdAt.getTime()),
    entityId,
    postedOn: draft.postedOn,
    description: draft.description,
    source: draft.source ?? 'manual',
    reversesEntryId: null,
    reversedByEntryId: null,
    idempotencyKey: draft.idempotencyKey ?? null,
    actor: label,
    createdAt: createdAt.toISOString(),
    postings: (checked[index] as CheckedPosting[]).map((posting) => ({
      accountId: posting.accountId,
      amountCents: posting.amountCents,
      currency: posting.currency,
      memo: posting.memo ?? null,
    })),
    replayed: false,
  }));
  const views: EntryView[] = booked.map(({ replayed: _replayed, ...view }) => view);
  const response = single ? views[0] : { entries: booked };
  // Written once: the database stores this text as the key's answer, and the client is sent the very same.
  const responseJson = JSON.stringify(response);
  const entries = drafts.map((draft, index) => ({
    id: (views[index] as EntryView).id,
    posted_on: draft.postedOn,
    description: draft.description,
    source: draft.source ?? 'manual',
    idempotency_key: draft.idempotencyKey ?? null,
    content_hash: entryHash(draft),
    actor: label,
    created_at: createdAt.toISOString(),
  }));
  let position = 0;
  const postings = views.flatMap((view) =>
    view.postings.map((posting) => ({
      position: position++,
      entry_id: view.id,
      account_id: posting.accountId,
      currency: posting.currency,
      amount_cents: posting.amountCents,
      memo: posting.memo,
    })),
  );
  const lockedAccounts = [...accounts.values()].map((account) => ({ id: account.id, currency: account.currency }));
  const events = views.map((entry) => ({ type: 'entry.posted', payload: { entry } }));
  // An entry view holds nothing secret and nothing but JSON values: its audit row takes it as it is, without the
  // redacting copy `queuedEvent` makes.
  const audit: QueuedEvent[] = views.map((entry) => ({
    action: 'entry.booked',
    entityId,
    objectType: 'entry',
    objectId: entry.id,
    after: entry,
    actor,
    occurredAt: createdAt,
  }));
  const requestHash = idempotentRequestHash(request);
  // A few entries whose booking finds the chain's head taken queue their audit rows and seal them after COMMIT
  // (migration 0028), so that concurrent writers do not wait for each other's fsync on the head; a large batch
  // appends directly.
  const queueAudit = drafts.length <= AUDIT_QUEUED_ENTRIES_MAX;

  let row: BookingRow | undefined;
  try {
    const result = await sql<BookingRow>`
      select * from veil_book_entries_alerting(${request.scope}, ${request.key}, ${requestHash}, ${entityId}, ${actor.userId},
        ${actor.sessionId ?? null}, ${actor.tokenId ?? null}, ${JSON.stringify(lockedAccounts)}::jsonb,
        ${JSON.stringify(entries)}::jsonb, ${JSON.stringify(postings)}::jsonb, ${JSON.stringify(events)}::jsonb,
        201, ${responseJson}::jsonb, ${auditRowsParameter(audit)}::jsonb, ${queueAudit}, ${[...CASH_KINDS]}::text[],
        ${ALERT_SETTINGS_DEFAULT.balanceCentsMin})`.execute(deps.db);
    row = result.rows[0];
  } catch (error) {
    // Declined, or anything else the database refused: the long way decides, and reports, what it is.
    if (databaseCode(error) !== DECLINED) deps.logger.debug({ err: error }, 'fast booking path declined by a database error');
    return decline();
  }
  if (row === undefined) return decline();
  if (row.replayed) {
    if (row.requestHash !== requestHash) throw idempotencyConflict(request.key);
    fastPathOutcomes.replayed += 1;
    return { statusCode: row.statusCode, body: row.response, replayed: true };
  }
  fastPathOutcomes.booked += 1;
  // The booking committed its audit rows to the queue when another writer held the head; sealing them into the
  // chain before the answer keeps the trail as complete as the long way leaves it. A seal that fails leaves them
  // queued for the next one (a reader of the trail, or the timer), never the booking undone.
  try {
    if (row.auditQueued && (await sealPendingAudit(deps.db)) < 0) {
      deps.logger.error({ entityId }, 'the audit queue holds a row the chain refuses: nothing is sealed until it is repaired (GET /audit/verify reports it)');
    }
  } catch (error) {
    deps.logger.error({ err: error, entityId }, 'sealing the audit rows of a fast-path booking failed; they stay queued for the next seal');
  }
  // balance.low was evaluated by the booking's own statement (migration 0033). budget.overspent needs the budget
  // month the service computes: when a touched account is one an envelope uses, the statement says so and it is
  // evaluated right after, before the answer (the long way does it inside its transaction). Evaluation is
  // state-based (alert_states), so it is the same afterwards; were the process to die in between, the periodic
  // sweep raises what was missed. A failure here is logged, never turned into an error for a write that is booked.
  const answer = { statusCode: 201, body: response, replayed: false, bodyJson: responseJson };
  if (!row.alertsPending) return answer;
  fastPathAlertEvaluations.count += 1;
  try {
    await deps.db.transaction().execute((trx) =>
      envelopeAlertsAfterPostings(
        trx,
        entityId,
        drafts.flatMap((draft) => draft.postings.map((posting) => posting.accountId)),
        drafts.map((draft) => draft.postedOn),
      ),
    );
  } catch (error) {
    deps.logger.error({ err: error, entityId }, 'alert evaluation after a fast-path booking failed; the sweep will catch up');
  }
  return answer;
}
