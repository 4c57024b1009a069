import { createHash, hash } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Database, Db } from '../db/database';
import { AssertionFailure, assert, RuleViolation } from '../domain/errors';
import { canonicalJson, contentHash } from '../domain/hash';
import { PAGE_SIZE_DEFAULT } from '../domain/limits';
import type { Actor } from './context';

// The audit trail: one row per state change, written in the same transaction as the change, hash-chained.
//
// Services call `recordAudit(trx, …)` where the change happens; the row is only *queued* there. The transaction
// opener (`auditedTransaction`, which `idempotentWrite` uses) appends the queue, together with the write's stored
// answer, as its very last statement (`veil_finish_write`, migration 0018): in the database, that statement locks the
// one-row chain head (UPDATE), links each row to the previous hash, inserts them and moves the head. The head lock is
// therefore held only for that statement and COMMIT, so concurrent writers overlap in everything but that last step.
//
// Links: a version-1 row (written before migration 0018) hashes the previous hash and its canonical content (RFC
// 8785) in the service. A version-2 row's hash is sha256("v2|<prev_hash>|<seq>|<digest>"), where the digest is the
// SHA-256 of the row's canonical content without its seq, computed by the service before it takes the head. The
// verifier recomputes both kinds from the stored rows, so any change to a row's content, order or link is found.

type Trx = Transaction<Database>;

export interface AuditEvent {
  action: string;
  entityId?: string | null | undefined;
  objectType: string;
  objectId?: string | null | undefined;
  before?: unknown;
  after?: unknown;
}

export interface QueuedEvent extends AuditEvent {
  actor: Actor;
  occurredAt: Date;
}

const queues = new WeakMap<object, QueuedEvent[]>();

export const GENESIS_HASH = '0'.repeat(64);
const REDACTED = '[redacted]';
// `code` alone is an account's chart code, not a secret; one-time codes are always named (totpCode, recoveryCode).
const SECRET_KEY = /password|secret|ciphertext|^token$|tokenhash|accesstoken|refreshtoken|totpcode|recoverycodes?$|codehash/i;

/** Deep copy with every secret-looking field replaced, so nothing secret ever reaches the append-only log. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, item]) => item !== undefined)
        .map(([key, item]) => [key, SECRET_KEY.test(key) ? REDACTED : redact(item)]),
    );
  }
  return value;
}

/** Opens a transaction whose audit events are appended to the chain just before it commits. */
export async function auditedTransaction<T>(db: Db, work: (trx: Trx) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    queues.set(trx, []);
    const result = await work(trx);
    await appendQueued(trx);
    return result;
  });
}

/** Queues an audit row in the caller's transaction, which must have been opened by `auditedTransaction`. */
export function recordAudit(trx: Trx, actor: Actor, event: AuditEvent): void {
  const queue = queues.get(trx);
  if (queue === undefined) {
    throw new AssertionFailure(`audit ${event.action}: the transaction was not opened by auditedTransaction`);
  }
  queue.push(queuedEvent(actor, event));
}

export interface AuditRow {
  seq: number;
  occurredAt: string;
  actorType: string;
  actorId: string;
  actorUserId: string | null;
  tokenId: string | null;
  executionId: string | null;
  action: string;
  entityId: string | null;
  objectType: string;
  objectId: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
  prevHash: string;
  hash: string;
}

type Content = Omit<AuditRow, 'prevHash' | 'hash'>;

/** What the hash covers: the previous hash and the row's canonical content (RFC 8785), seq and time included. */
export function chainHash(prevHash: string, content: Content): string {
  return contentHash({ prevHash, content });
}

/** What the chain link of a version-2 row covers besides the previous hash and the seq: the row's canonical content. */
export function rowDigest(content: Omit<Content, 'seq'>): string {
  return contentHash(content);
}

/** A version-2 link, as `veil_audit_append` computes it in SQL when it appends the row (migration 0018). */
export function linkHash(prevHash: string, seq: number, digest: string): string {
  return createHash('sha256').update(`v2|${prevHash}|${seq}|${digest}`, 'utf8').digest('hex');
}

/**
 * The rows `veil_audit_append` takes: each row's content and its digest; the database adds seq and the links. Each
 * row is its canonical text with the digest spliced in: the text the digest is taken over is written once.
 */
export function auditRowsParameter(queue: readonly QueuedEvent[]): string {
  const parts = ['['];
  for (const event of queue) {
    // Keys in canonical order, so that canonicalJson writes the row without copying it.
    const content: Omit<Content, 'seq'> = {
      action: event.action,
      actorId: event.actor.id,
      actorType: event.actor.type,
      actorUserId: event.actor.userId ?? null,
      after: event.after ?? null,
      before: event.before ?? null,
      entityId: event.entityId ?? null,
      executionId: event.actor.executionId ?? null,
      objectId: event.objectId ?? null,
      objectType: event.objectType,
      occurredAt: event.occurredAt.toISOString(),
      requestId: event.actor.requestId ?? null,
      tokenId: event.actor.tokenId ?? null,
    };
    const canonical = canonicalJson(content) as string;
    assert(canonical.endsWith('}'), 'auditRowsParameter: a row\'s content is an object');
    if (parts.length > 1) parts.push(',');
    parts.push(canonical.slice(0, -1), ',"digest":"', hash('sha256', canonical, 'hex'), '"}');
  }
  parts.push(']');
  // One join of the pieces gives a flat string; a join of per-row template strings gave one that the driver had to
  // flatten again to measure it (3.7 ms of a 1,000-row parameter, 2026-11-25).
  return parts.join('');
}

/** An audit event as queued: secrets redacted, stamped now (the fast booking path builds these itself). */
export function queuedEvent(actor: Actor, event: AuditEvent): QueuedEvent {
  return {
    ...event,
    before: event.before === undefined ? undefined : redact(event.before),
    after: event.after === undefined ? undefined : redact(event.after),
    actor,
    occurredAt: new Date(),
  };
}

/**
 * Audit rows a set-based step built in SQL (services/ingest.ts), appended at the end of the transaction before the
 * queued ones: `append` calls veil_audit_append (rows in the shape `auditRowsParameter` gives) or
 * veil_audit_append_contents (their canonical texts) with them, a chunk at a time. The commit-time checks run first,
 * so the chain head is held for the appends, the last statement and COMMIT only, as for any write.
 */
const stagedAudit = new WeakMap<object, ((trx: Trx) => Promise<void>)[]>();

export function appendAuditRowsAtCommit(trx: Trx, append: (trx: Trx) => Promise<void>): void {
  if (!queues.has(trx)) throw new AssertionFailure('staged audit rows: the transaction was not opened by auditedTransaction');
  stagedAudit.set(trx, [...(stagedAudit.get(trx) ?? []), append]);
}

/** The answer an idempotent write stores, written by the same statement that appends the audit rows. */
export interface StoredAnswer {
  scope: string;
  key: string;
  statusCode: number;
  response: unknown;
}

const answers = new WeakMap<object, StoredAnswer>();

/** Hands the write's answer to `auditedTransaction`, which stores it with the audit rows as its last statement. */
export function storeAnswerAtCommit(trx: Trx, answer: StoredAnswer): void {
  answers.set(trx, answer);
}

// The last statement of a transaction: the stored answer (if any) and the audit rows, linked to the chain in SQL.
// The chain head is locked from this statement to COMMIT only: two round trips, the shortest it can be.
async function appendQueued(trx: Trx): Promise<void> {
  const queue = queues.get(trx) ?? [];
  queues.delete(trx);
  const answer = answers.get(trx);
  answers.delete(trx);
  const staged = stagedAudit.get(trx) ?? [];
  stagedAudit.delete(trx);
  if (staged.length > 0) {
    await sql`set constraints all immediate`.execute(trx);
    for (const append of staged) await append(trx);
  }
  if (queue.length === 0 && answer === undefined) return;
  await sql`select veil_finish_write(${answer?.scope ?? null}, ${answer?.key ?? null}, ${answer?.statusCode ?? null},
    ${answer === undefined ? null : JSON.stringify(answer.response ?? null)}::jsonb, ${auditRowsParameter(queue)}::jsonb)`.execute(trx);
}

function rowView(row: Record<string, unknown>): AuditRow {
  const seq = Number(row.seq);
  assert(Number.isSafeInteger(seq), 'audit seq is a safe integer');
  return {
    seq,
    occurredAt: (row.occurredAt as Date).toISOString(),
    actorType: row.actorType as string,
    actorId: row.actorId as string,
    actorUserId: (row.actorUserId as string | null) ?? null,
    tokenId: (row.tokenId as string | null) ?? null,
    executionId: (row.executionId as string | null) ?? null,
    action: row.action as string,
    entityId: (row.entityId as string | null) ?? null,
    objectType: row.objectType as string,
    objectId: (row.objectId as string | null) ?? null,
    before: row.before ?? null,
    after: row.after ?? null,
    requestId: (row.requestId as string | null) ?? null,
    prevHash: row.prevHash as string,
    hash: row.hash as string,
  };
}

export interface AuditFilters {
  entityId?: string | undefined;
  action?: string | undefined;
  objectType?: string | undefined;
  objectId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  /** Rows with seq below this (pages go newest first). */
  beforeSeq?: number | undefined;
  limit?: number | undefined;
}

/**
 * A page of the rows an actor may read: rows about entities it sees, and rows about the user's own account. The
 * caller has already authorized `filters.entityId` when given.
 */
export async function listAudit(
  db: Db,
  visibility: { userId: string; entityIds: readonly string[]; ownRows: boolean },
  filters: AuditFilters,
): Promise<{ items: AuditRow[]; nextCursor: string | null }> {
  const limit = filters.limit ?? PAGE_SIZE_DEFAULT;
  await sealPendingAudit(db);
  let query = db.selectFrom('auditLog').selectAll();
  query = query.where((eb) => {
    const visible = [];
    if (visibility.entityIds.length > 0) visible.push(eb('entityId', 'in', [...visibility.entityIds]));
    if (visibility.ownRows) {
      visible.push(eb.and([eb('entityId', 'is', null), eb('actorUserId', '=', visibility.userId)]));
      visible.push(eb.and([eb('objectType', '=', 'user'), eb('objectId', '=', visibility.userId)]));
    }
    return visible.length > 0 ? eb.or(visible) : eb.val(false);
  });
  if (filters.entityId !== undefined) query = query.where('entityId', '=', filters.entityId);
  if (filters.action !== undefined) query = query.where('action', '=', filters.action);
  if (filters.objectType !== undefined) query = query.where('objectType', '=', filters.objectType);
  if (filters.objectId !== undefined) query = query.where('objectId', '=', filters.objectId);
  if (filters.from !== undefined) query = query.where('occurredAt', '>=', new Date(filters.from) as never);
  if (filters.to !== undefined) query = query.where('occurredAt', '<', new Date(filters.to) as never);
  if (filters.beforeSeq !== undefined) query = query.where('seq', '<', String(filters.beforeSeq) as never);
  const rows = await query.orderBy('seq', 'desc').limit(limit + 1).execute();
  const items = rows.slice(0, limit).map((row) => rowView(row as Record<string, unknown>));
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? String(last.seq) : null };
}

export interface ChainVerdict {
  ok: boolean;
  checked: number;
  /** The first row whose hash does not follow from the previous row and its own content. */
  firstBrokenSeq: number | null;
  reason: string | null;
}

const VERIFY_ROWS_PER_PAGE = 1_000;

/**
 * Appends the audit rows fast-path bookings committed to the queue (migration 0028) to the chain; how many, or -1
 * when a queued row cannot be appended (the queue was damaged: nothing moves, and the verifier reports it). `db`
 * runs it as a statement of its own, which needs no fsync (what it writes is computed again from the queue after
 * a crash); inside a transaction it commits with that transaction.
 */
export async function sealPendingAudit(db: Db | Trx): Promise<number> {
  const ownStatement = !db.isTransaction;
  const { rows } = await sql<{ sealed: number }>`select veil_audit_seal(${ownStatement}) as sealed`.execute(db);
  return Number(rows[0]?.sealed ?? 0);
}

/** Recomputes the whole chain from the genesis hash, page by page, and checks the head agrees with the last row. */
export async function verifyAuditChain(db: Db): Promise<ChainVerdict> {
  if ((await sealPendingAudit(db)) < 0) {
    return { ok: false, checked: 0, firstBrokenSeq: null, reason: 'queued audit rows cannot be appended to the chain' };
  }
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  for (;;) {
    const rows = await db
      .selectFrom('auditLog')
      .selectAll()
      .where('seq', '>=', String(expectedSeq) as never)
      .orderBy('seq')
      .limit(VERIFY_ROWS_PER_PAGE)
      .execute();
    for (const raw of rows) {
      const row = rowView(raw as Record<string, unknown>);
      const broken = (reason: string): ChainVerdict => ({ ok: false, checked, firstBrokenSeq: row.seq, reason });
      if (row.seq !== expectedSeq) return { ok: false, checked, firstBrokenSeq: expectedSeq, reason: 'row missing' };
      if (row.prevHash !== prevHash) return broken('prev_hash does not match the previous row');
      const { prevHash: _prev, hash, ...content } = row;
      const { seq, ...unsequenced } = content;
      const version = Number((raw as { chainVersion?: unknown }).chainVersion ?? 1);
      const expected = version === 2 ? linkHash(prevHash, seq, rowDigest(unsequenced)) : chainHash(prevHash, content);
      if (expected !== hash) return broken('content does not match its hash');
      prevHash = hash;
      expectedSeq += 1;
      checked += 1;
    }
    if (rows.length < VERIFY_ROWS_PER_PAGE) break;
  }
  const head = await db.selectFrom('auditChainHead').select(['seq', 'hash']).executeTakeFirstOrThrow();
  if (Number(head.seq) !== checked || head.hash !== prevHash) {
    return { ok: false, checked, firstBrokenSeq: Math.min(Number(head.seq), checked + 1), reason: 'chain head does not match the last row' };
  }
  return { ok: true, checked, firstBrokenSeq: null, reason: null };
}

export function auditCursor(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new RuleViolation('invalid_request', 'cursor is not one this service issued');
  return Number(text);
}
