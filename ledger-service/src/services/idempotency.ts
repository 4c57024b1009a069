import type { Transaction } from 'kysely';
import type { Database } from '../db/database';
import { RuleViolation } from '../domain/errors';
import { contentHash } from '../domain/hash';
import { auditedTransaction, storeAnswerAtCommit } from './audit';
import type { Deps } from './context';
import { translateDbError } from './db-errors';

export interface WriteResult<T> {
  statusCode: number;
  body: T;
  /** True when this is the stored answer to an earlier request with the same key. */
  replayed: boolean;
  /** `body` as JSON text, when the writer has it already (the fast path sends the database that very text). */
  bodyJson?: string | undefined;
}

export interface IdempotentRequest {
  /** Whose key space the key lives in: the same key from two users is two requests. */
  scope: string;
  key: string;
  method: string;
  path: string;
  body: unknown;
}

/** What tells a replay (same hash) from a conflicting reuse of its key (another hash). */
export function idempotentRequestHash(request: IdempotentRequest): string {
  return contentHash({ method: request.method, path: request.path, body: request.body ?? null });
}

/** The 409 for a key reused with another request, the same from every path that finds it. */
export function idempotencyConflict(key: string): RuleViolation {
  return new RuleViolation('idempotency_conflict', `Idempotency-Key "${key}" was already used for a different request`);
}

/**
 * Runs `work` exactly once per (scope, key). The key row is inserted first, inside the same transaction as the
 * write: a concurrent replay blocks on the unique index until the first commits, then reads its stored answer;
 * if the first rolls back, the replay runs the work itself. Same key with a different request → 409. The work's
 * audit rows are appended at the very end, after the stored answer (see audit.ts).
 */
export async function idempotentWrite<T>(
  deps: Deps,
  request: IdempotentRequest,
  work: (trx: Transaction<Database>) => Promise<{ statusCode: number; body: T }>,
): Promise<WriteResult<T>> {
  const requestHash = idempotentRequestHash(request);
  try {
    return await auditedTransaction(deps.db, async (trx) => {
      const claimed = await trx
        .insertInto('idempotencyKeys')
        .values({ scope: request.scope, key: request.key, requestHash, statusCode: 0, response: 'null' })
        .onConflict((conflict) => conflict.columns(['scope', 'key']).doNothing())
        .returning('key')
        .executeTakeFirst();
      if (claimed === undefined) {
        const stored = await trx
          .selectFrom('idempotencyKeys')
          .select(['requestHash', 'statusCode', 'response'])
          .where('scope', '=', request.scope)
          .where('key', '=', request.key)
          .executeTakeFirstOrThrow();
        if (stored.requestHash !== requestHash) throw idempotencyConflict(request.key);
        return { statusCode: stored.statusCode, body: stored.response as T, replayed: true };
      }
      const result = await work(trx);
      // Stored by the transaction's last statement, with its audit rows (audit.ts).
      storeAnswerAtCommit(trx, { scope: request.scope, key: request.key, statusCode: result.statusCode, response: result.body });
      return { ...result, replayed: false };
    });
  } catch (error) {
    throw translateDbError(error);
  }
}

/** Locks rows in a fixed order (by id) so that concurrent writers touching the same accounts never deadlock. */
export async function lockAccounts(trx: Transaction<Database>, accountIds: readonly string[]) {
  const ids = [...new Set(accountIds)].sort();
  if (ids.length === 0) return [];
  return trx
    .selectFrom('accounts')
    .select(['id', 'entityId', 'currency', 'class', 'archivedAt', 'counterpartyEntityId'])
    .where('id', 'in', ids)
    .orderBy('id')
    .forUpdate()
    .execute();
}

