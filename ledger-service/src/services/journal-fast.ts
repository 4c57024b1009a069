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
import { canonicallyOrdered, entryHash, type BookedEntry, type EntryDraft, type EntryView } from './journal';

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

/** One request's booking, as veil_book_entries_alerting takes it (the JSON parameters already as text). */
interface BookingCall {
  scope: string;
  key: string;
  requestHash: string;
  entityId: string;
  ownerUserId: string;
  sessionId: string | null;
  tokenId: string | null;
  accountsJson: string;
  entriesJson: string;
  postingsJson: string;
  eventsJson: string;
  responseJson: string;
  auditJson: string;
  queueAudit: boolean;
}

/** What became of a booking call: the function's row, or the error that rolled it back (nothing written). */
type BookingOutcome = { row: BookingRow | undefined } | { error: unknown };

/** One request in a transaction of its own: what every request did before BookingGroups. */
async function bookAlone(db: Db, call: BookingCall): Promise<BookingOutcome> {
  try {
    const result = await sql<BookingRow>`
      select * from veil_book_entries_alerting(${call.scope}, ${call.key}, ${call.requestHash}, ${call.entityId}, ${call.ownerUserId},
        ${call.sessionId}, ${call.tokenId}, ${call.accountsJson}::jsonb,
        ${call.entriesJson}::jsonb, ${call.postingsJson}::jsonb, ${call.eventsJson}::jsonb,
        201, ${call.responseJson}::jsonb, ${call.auditJson}::jsonb, ${call.queueAudit}, ${[...CASH_KINDS]}::text[],
        ${ALERT_SETTINGS_DEFAULT.balanceCentsMin})`.execute(db);
    return { row: result.rows[0] };
  } catch (error) {
    return { error };
  }
}

/** A group's requests as one JSON array for veil_book_entries_grouped, the JSON texts spliced in, not parsed again. */
function groupJson(calls: readonly BookingCall[]): string {
  const item = (call: BookingCall) =>
    `{"scope":${JSON.stringify(call.scope)},"key":${JSON.stringify(call.key)},"requestHash":${JSON.stringify(call.requestHash)},` +
    `"entityId":${JSON.stringify(call.entityId)},"ownerUserId":${JSON.stringify(call.ownerUserId)},"sessionId":${JSON.stringify(call.sessionId)},` +
    `"tokenId":${JSON.stringify(call.tokenId)},"accounts":${call.accountsJson},"entries":${call.entriesJson},"postings":${call.postingsJson},` +
    `"events":${call.eventsJson},"status":201,"response":${call.responseJson},"audit":${call.auditJson}}`;
  return `[${calls.map(item).join(',')}]`;
}

interface GroupRow extends BookingRow {
  ordinal: number;
}

/** Requests a group holds at most: enough to take a burst of n8n executions, few enough to keep a group short. */
const GROUP_REQUESTS_MAX = 32;
/** Booking transactions of single requests or groups one service process runs at a time, unless Deps says. */
export const BOOKING_TRANSACTIONS_DEFAULT = 2;
/** How the groups went, since the process started: what tests (and a curious operator) look at. */
export const bookingGroupOutcomes = { groups: 0, grouped: 0, groupsDeclined: 0 };

/**
 * Group commit for single-entry bookings. At most `transactionsMax` booking transactions run at once; a request that
 * arrives while they are all in flight waits, and the requests waiting when one ends are booked together by
 * veil_book_entries_grouped (migration 0037): one call, one transaction, one COMMIT. So a lone request is booked at
 * once, alone, exactly as before, and concurrent ones stop competing with each other for the same accounts, the
 * audit chain's head and the database's cores (measured: see README, Benchmark).
 *
 * A group is booked set-based, like a batch, each request with its own key, answer, events and audit rows. When
 * the function declines the group (one request it would decline alone) or the call fails, nothing of it was
 * written, and each request is booked alone, so that each gets the answer it would have had by itself. No request
 * is acknowledged before its group's COMMIT, and two requests with the same key are never in one group.
 */
class BookingGroups {
  private readonly waiting: { call: BookingCall; settle: (outcome: BookingOutcome) => void }[] = [];
  private running = 0;

  constructor(
    private readonly db: Db,
    private readonly transactionsMax: number,
  ) {}

  /** Booking transactions in flight, and requests waiting for one to end. */
  get state(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  book(call: BookingCall): Promise<BookingOutcome> {
    return new Promise((settle) => {
      this.waiting.push({ call, settle });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.running < this.transactionsMax && this.waiting.length > 0) {
      // The waiting requests in arrival order, but a key at most once (a retry waits for the next group).
      const keys = new Set<string>();
      const group: typeof this.waiting = [];
      const later: typeof this.waiting = [];
      for (const member of this.waiting) {
        const key = `${member.call.scope}\u0000${member.call.key}`;
        if (group.length < GROUP_REQUESTS_MAX && !keys.has(key)) {
          keys.add(key);
          group.push(member);
        } else {
          later.push(member);
        }
      }
      this.waiting.splice(0, this.waiting.length, ...later);
      this.running += 1;
      void this.run(group).finally(() => {
        this.running -= 1;
        this.dispatch();
      });
    }
  }

  private async run(group: { call: BookingCall; settle: (outcome: BookingOutcome) => void }[]): Promise<void> {
    if (group.length === 1) {
      const only = group[0] as (typeof group)[number];
      only.settle(await bookAlone(this.db, only.call));
      return;
    }
    let rows: GroupRow[] | undefined;
    try {
      const result = await sql<GroupRow>`
        select * from veil_book_entries_grouped(${groupJson(group.map((member) => member.call))}::jsonb, ${[...CASH_KINDS]}::text[],
          ${ALERT_SETTINGS_DEFAULT.balanceCentsMin})`.execute(this.db);
      rows = result.rows;
      bookingGroupOutcomes.groups += 1;
    } catch {
      // Declined (a request the function would decline alone) or failed: nothing of the group was written.
      bookingGroupOutcomes.groupsDeclined += 1;
    }
    const byOrdinal = new Map((rows ?? []).map((row) => [Number(row.ordinal), row]));
    await Promise.all(
      group.map(async (member, index) => {
        const row = byOrdinal.get(index + 1);
        if (row === undefined) {
          member.settle(await bookAlone(this.db, member.call));
          return;
        }
        bookingGroupOutcomes.grouped += 1;
        const { ordinal: _ordinal, ...booked } = row;
        member.settle({ row: booked });
      }),
    );
  }
}

const groupsByDb = new WeakMap<Db, BookingGroups>();

/** This process's booking transactions in flight on `db`, and the requests waiting to be booked in a group. */
export function bookingGroupsState(db: Db): { running: number; waiting: number } {
  return groupsByDb.get(db)?.state ?? { running: 0, waiting: 0 };
}

function bookingGroupsOf(deps: Deps): BookingGroups {
  let groups = groupsByDb.get(deps.db);
  if (groups === undefined) {
    groups = new BookingGroups(deps.db, deps.bookingTransactionsMax ?? BOOKING_TRANSACTIONS_DEFAULT);
    groupsByDb.set(deps.db, groups);
  }
  return groups;
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
    after: canonicallyOrdered(entry),
    actor,
    occurredAt: createdAt,
  }));
  const requestHash = idempotentRequestHash(request);
  // A few entries whose booking finds the chain's head taken queue their audit rows and seal them after COMMIT
  // (migration 0028), so that concurrent writers do not wait for each other's fsync on the head; a large batch
  // appends directly.
  const queueAudit = drafts.length <= AUDIT_QUEUED_ENTRIES_MAX;
  const call: BookingCall = {
    scope: request.scope,
    key: request.key,
    requestHash,
    entityId,
    ownerUserId: actor.userId,
    sessionId: actor.sessionId ?? null,
    tokenId: actor.tokenId ?? null,
    accountsJson: JSON.stringify(lockedAccounts),
    entriesJson: JSON.stringify(entries),
    postingsJson: JSON.stringify(postings),
    eventsJson: JSON.stringify(events),
    responseJson,
    auditJson: auditRowsParameter(audit),
    queueAudit,
  };
  // A request of a few entries may be booked with others that arrived meanwhile (BookingGroups); a batch alone.
  const outcome = queueAudit ? await bookingGroupsOf(deps).book(call) : await bookAlone(deps.db, call);
  if ('error' in outcome) {
    // Declined, or anything else the database refused: the long way decides, and reports, what it is.
    if (databaseCode(outcome.error) !== DECLINED) deps.logger.debug({ err: outcome.error }, 'fast booking path declined by a database error');
    return decline();
  }
  const row = outcome.row;
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
