import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database, Db } from '../db/database';
import { NotFound, RuleViolation } from '../domain/errors';
import { authorizeEntity, requireScope } from '../security/authorization';
import { decryptSecret, encryptSecret, type Keyring } from '../security/crypto';
import { recordAudit } from './audit';
import { startPeriodic } from './periodic';
import type { Actor, Deps } from './context';

// Ledger events and their webhook delivery (the Veil Trigger node subscribes here).
//
// emitEvent() writes the event (the outbox) and one pending delivery per matching subscription inside the caller's
// transaction: an event exists exactly when its change committed, and a rolled-back change emits nothing. The
// dispatcher sends due deliveries, signed with the subscription's secret, and retries failures with backoff.

type Trx = Transaction<Database>;

/** Event types a subscription may ask for. */
export const EVENT_TYPES = [
  'entry.posted',
  'entry.reversed',
  'transfer.created',
  'veil.violation',
  'bill.due',
  'balance.low',
  'bank_line.added',
  'budget.overspent',
  'contribution.limit_near',
  // Alerts (services/alert-events.ts): each emitted once per occurrence of its condition.
  'bill.late',
  'budget.target_underfunded',
  'budget.ready_to_assign_not_zero',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const SIGNATURE_HEADER = 'Veil-Signature';
export const DELIVERY_ATTEMPTS_MAX = 8;
const DELIVERY_TIMEOUT_MS = 10_000;
/** A claimed delivery is invisible to other dispatchers for this long, so two never send the same one at once. */
const CLAIM_LEASE_MS = 60_000;
const BACKOFF_BASE_MS = 2_000;
const BACKOFF_MAX_MS = 3_600_000;
export const SUBSCRIPTIONS_PER_USER_MAX = 50;

export interface EventDraft {
  entityId: string;
  type: EventType;
  payload: Record<string, unknown>;
}

export interface Subscription {
  id: string;
  url: string;
  events: EventType[];
  entityIds: string[] | null;
  createdAt: string;
}

function secretContext(subscriptionId: string): string {
  return `webhook_subscriptions:${subscriptionId}`;
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: what a receiver recomputes to trust a delivery. */
export function signDelivery(secret: string, body: string, timestampSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${v1}`;
}

/** Checks a `Veil-Signature` header against the body; `toleranceSeconds` bounds how old (or early) it may be. */
export function verifySignature(secret: string, body: string, header: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || typeof parts.v1 !== 'string') return false;
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signDelivery(secret, body, timestamp).split('v1=')[1] as string, 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Writes one event (and its deliveries) in the caller's transaction. */
export async function emitEvent(trx: Trx, entityId: string, type: EventType, payload: Record<string, unknown>): Promise<void> {
  await emitEvents(trx, [{ entityId, type, payload }]);
}

/** Writes events in one statement, then one delivery per (event, matching subscription). */
export async function emitEvents(trx: Trx, drafts: readonly EventDraft[]): Promise<void> {
  if (drafts.length === 0) return;
  const events = await trx
    .insertInto('ledgerEvents')
    .values(drafts.map((draft) => ({ entityId: draft.entityId, type: draft.type, payload: JSON.stringify(draft.payload) })))
    .returning(['id', 'entityId', 'type'])
    .execute();
  const entityIds = [...new Set(drafts.map((draft) => draft.entityId))];
  const subscriptions = await trx
    .selectFrom('webhookSubscriptions as s')
    .innerJoin('entities as e', 'e.ownerUserId', 's.ownerUserId')
    .select(['s.id', 's.events', 's.entityIds', 'e.id as entityId'])
    .where('e.id', 'in', entityIds)
    .where('s.deletedAt', 'is', null)
    .execute();
  if (subscriptions.length === 0) return;
  const deliveries: { eventId: string; subscriptionId: string }[] = [];
  for (const event of events) {
    for (const subscription of subscriptions) {
      if (subscription.entityId !== event.entityId) continue;
      if (!(subscription.events as string[]).includes(event.type)) continue;
      const only = subscription.entityIds as string[] | null;
      if (only !== null && !only.includes(event.entityId)) continue;
      deliveries.push({ eventId: event.id, subscriptionId: subscription.id });
    }
  }
  if (deliveries.length > 0) await trx.insertInto('webhookDeliveries').values(deliveries).execute();
}

function toSubscription(row: { id: string; url: string; events: unknown; entityIds: unknown; createdAt: Date }): Subscription {
  return {
    id: row.id,
    url: row.url,
    events: row.events as EventType[],
    entityIds: (row.entityIds as string[] | null) ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

function subscriberOf(actor: Actor): string {
  return `${actor.type}:${actor.id}`;
}

export async function createSubscription(
  trx: Trx,
  keyring: Keyring,
  actor: Actor,
  input: { url: string; events: EventType[]; entityIds?: string[] | undefined },
): Promise<Subscription & { secret: string }> {
  if (actor.type !== 'user' && actor.type !== 'api_token') throw new RuleViolation('forbidden', 'only a user or an API token can subscribe');
  requireScope(actor, 'read');
  // An API token reaches only its own entities: its subscription is limited to them even when it names none.
  const entityIds = input.entityIds ?? (actor.entityScope === 'all' ? undefined : [...actor.entityScope]);
  for (const entityId of new Set(entityIds ?? [])) await authorizeEntity(trx, actor, entityId, 'read');
  const { count } = await trx
    .selectFrom('webhookSubscriptions')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('ownerUserId', '=', actor.userId as string)
    .where('deletedAt', 'is', null)
    .executeTakeFirstOrThrow();
  if (Number(count) >= SUBSCRIPTIONS_PER_USER_MAX) {
    throw new RuleViolation('invalid_request', `at most ${SUBSCRIPTIONS_PER_USER_MAX} webhook subscriptions per user; delete one first`, {
      limit: SUBSCRIPTIONS_PER_USER_MAX,
    });
  }
  const id = crypto.randomUUID();
  const secret = `whsec_${randomBytes(32).toString('base64url')}`;
  const row = await trx
    .insertInto('webhookSubscriptions')
    .values({
      id,
      ownerUserId: actor.userId as string,
      url: input.url,
      events: JSON.stringify([...new Set(input.events)]),
      entityIds: entityIds === undefined ? null : JSON.stringify([...new Set(entityIds)]),
      secretCiphertext: encryptSecret(keyring, secret, secretContext(id)),
      createdBy: subscriberOf(actor),
    })
    .returning(['id', 'url', 'events', 'entityIds', 'createdAt'])
    .executeTakeFirstOrThrow();
  const subscription = toSubscription(row);
  recordAudit(trx, actor, { action: 'webhook.subscribed', objectType: 'webhook_subscription', objectId: id, after: subscription });
  return { ...subscription, secret };
}

/** A user sees all their subscriptions; an API token only those it created. */
async function visibleSubscriptions(db: Db | Trx, actor: Actor, id?: string) {
  if (actor.type !== 'user' && actor.type !== 'api_token') return [];
  requireScope(actor, 'read');
  let query = db
    .selectFrom('webhookSubscriptions')
    .select(['id', 'url', 'events', 'entityIds', 'createdAt'])
    .where('ownerUserId', '=', actor.userId as string)
    .where('deletedAt', 'is', null);
  if (actor.type === 'api_token') query = query.where('createdBy', '=', subscriberOf(actor));
  if (id !== undefined) query = query.where('id', '=', id);
  return query.orderBy('createdAt').execute();
}

export async function listSubscriptions(db: Db, actor: Actor): Promise<Subscription[]> {
  return (await visibleSubscriptions(db, actor)).map(toSubscription);
}

export async function deleteSubscription(trx: Trx, actor: Actor, id: string): Promise<Subscription> {
  const [row] = await visibleSubscriptions(trx, actor, id);
  if (row === undefined) throw new NotFound('webhook subscription', id);
  await trx.updateTable('webhookSubscriptions').set({ deletedAt: new Date() }).where('id', '=', id).execute();
  // Nothing more goes to a deleted subscription, including what was still waiting.
  await trx
    .updateTable('webhookDeliveries')
    .set({ status: 'failed', lastError: 'subscription deleted' })
    .where('subscriptionId', '=', id)
    .where('status', '=', 'pending')
    .execute();
  const subscription = toSubscription(row);
  recordAudit(trx, actor, { action: 'webhook.unsubscribed', objectType: 'webhook_subscription', objectId: id, before: subscription });
  return subscription;
}

export type DeliveryOutcome = 'delivered' | 'failed' | 'retrying';

/** Told of every delivery attempt: its outcome and how long the POST took (Prometheus, in http/metrics.ts). */
export type DeliveryObserver = (outcome: DeliveryOutcome, seconds: number) => void;

export interface DispatchReport {
  delivered: number;
  retried: number;
  failed: number;
}

/**
 * Sends the deliveries that are due: claims up to `limit` of them (a lease, so a second dispatcher skips them),
 * posts each, and records the outcome. A failure is retried after 2 s, 4 s, 8 s … up to an hour, and given up
 * after DELIVERY_ATTEMPTS_MAX attempts.
 */
export async function dispatchDue(
  deps: Pick<Deps, 'db' | 'logger'> & { security: { keyring: Keyring; now: () => number } },
  options: { limit?: number; fetchImpl?: typeof fetch; observe?: DeliveryObserver | undefined } = {},
): Promise<DispatchReport> {
  const { db, security } = deps;
  const now = new Date(security.now());
  const claimed = await db.transaction().execute(async (trx) => {
    const due = await trx
      .selectFrom('webhookDeliveries')
      .select('id')
      .where('status', '=', 'pending')
      .where('nextAttemptAt', '<=', now)
      .orderBy('nextAttemptAt')
      .limit(options.limit ?? 50)
      .forUpdate()
      .skipLocked()
      .execute();
    if (due.length === 0) return [];
    await trx
      .updateTable('webhookDeliveries')
      .set({ nextAttemptAt: new Date(now.getTime() + CLAIM_LEASE_MS) })
      .where('id', 'in', due.map((row) => row.id))
      .execute();
    return trx
      .selectFrom('webhookDeliveries as d')
      .innerJoin('ledgerEvents as e', 'e.id', 'd.eventId')
      .innerJoin('webhookSubscriptions as s', 's.id', 'd.subscriptionId')
      .select(['d.id', 'd.attempts', 's.id as subscriptionId', 's.url', 's.secretCiphertext', 'e.id as eventId', 'e.type', 'e.entityId', 'e.payload', 'e.createdAt'])
      .where('d.id', 'in', due.map((row) => row.id))
      .execute();
  });
  const report: DispatchReport = { delivered: 0, retried: 0, failed: 0 };
  const send = options.fetchImpl ?? fetch;
  for (const delivery of claimed) {
    const body = JSON.stringify({
      id: delivery.eventId,
      type: delivery.type,
      entityId: delivery.entityId,
      createdAt: delivery.createdAt.toISOString(),
      data: delivery.payload,
    });
    const attempts = delivery.attempts + 1;
    let error: string | undefined;
    const startedMs = performance.now();
    try {
      const secret = decryptSecret(security.keyring, delivery.secretCiphertext, secretContext(delivery.subscriptionId));
      const response = await send(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signDelivery(secret, body, Math.floor(security.now() / 1000)),
          'Veil-Event-Id': delivery.eventId,
          'Veil-Event-Type': delivery.type,
        },
        body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      if (!response.ok) error = `HTTP ${response.status}`;
      await response.body?.cancel();
    } catch (caught) {
      error = (caught as Error).message.slice(0, 500);
    }
    const seconds = (performance.now() - startedMs) / 1000;
    if (error === undefined) {
      await db.updateTable('webhookDeliveries').set({ status: 'delivered', attempts, deliveredAt: new Date(security.now()), lastError: null }).where('id', '=', delivery.id).execute();
      report.delivered += 1;
      options.observe?.('delivered', seconds);
    } else if (attempts >= DELIVERY_ATTEMPTS_MAX) {
      await db.updateTable('webhookDeliveries').set({ status: 'failed', attempts, lastError: error }).where('id', '=', delivery.id).execute();
      report.failed += 1;
      options.observe?.('failed', seconds);
      deps.logger.warn({ deliveryId: delivery.id, url: delivery.url, error }, 'webhook delivery given up');
    } else {
      const backoff = Math.min(BACKOFF_BASE_MS * 2 ** (attempts - 1), BACKOFF_MAX_MS);
      await db
        .updateTable('webhookDeliveries')
        .set({ attempts, lastError: error, nextAttemptAt: new Date(security.now() + backoff) })
        .where('id', '=', delivery.id)
        .execute();
      report.retried += 1;
      options.observe?.('retrying', seconds);
    }
  }
  return report;
}

/** Runs dispatchDue every `intervalMs` (never two rounds at once); returns a function that stops it. */
export function startDispatcher(deps: Deps, intervalMs = 1_000, observe?: DeliveryObserver): () => Promise<void> {
  return startPeriodic(intervalMs, deps.logger, 'webhook dispatcher round failed', async (isStopped) => {
    // Drain: keep going while full pages come back.
    for (;;) {
      const report = await dispatchDue(deps, { observe });
      if (report.delivered + report.retried + report.failed < 50 || isStopped()) break;
    }
  });
}
