import { RuleViolation } from '../domain/errors';

// Maps the database's refusals to rule violations. The service checks every rule before writing, so these fire
// only when two requests race (a unique key taken between the check and the insert) or when code has a bug that
// the database caught.

interface PgError {
  code?: string;
  constraint?: string;
  message?: string;
}

const UNIQUE_CONSTRAINTS: Record<string, RuleViolation> = {
  accounts_entity_id_name_key: new RuleViolation('duplicate_name', 'an account with this name already exists'),
  journal_entries_reverses_entry_id_key: new RuleViolation('already_reversed', 'this entry has already been reversed'),
  journal_entries_entity_id_idempotency_key_key: new RuleViolation(
    'idempotency_conflict',
    'an entry with this idempotency key was written by a concurrent request; retry to get it',
  ),
  envelope_categories_pkey: new RuleViolation('budget_category_taken', 'this category already feeds another envelope'),
  envelope_groups_entity_id_name_key: new RuleViolation('duplicate_name', 'an envelope group with this name already exists'),
  envelopes_entity_id_name_key: new RuleViolation('duplicate_name', 'an envelope with this name already exists'),
  allocations_source_entry: new RuleViolation('already_allocated', 'this income entry has already been allocated'),
  bills_entity_id_name_key: new RuleViolation('duplicate_name', 'a bill with this name already exists'),
  bill_occurrences_bill_id_due_on_key: new RuleViolation('bill_occurrence_settled', 'this occurrence is already paid or skipped'),
  bill_occurrences_settlement_key: new RuleViolation('bill_occurrence_settled', 'this occurrence is already paid or skipped'),
};

export function translateDbError(error: unknown): unknown {
  const pgError = error as PgError;
  if (typeof pgError?.code !== 'string') return error;
  if (pgError.code === '23505' && pgError.constraint && UNIQUE_CONSTRAINTS[pgError.constraint]) {
    return UNIQUE_CONSTRAINTS[pgError.constraint];
  }
  if (pgError.code === '23514' && pgError.message?.startsWith('unbalanced_entry')) {
    return new RuleViolation('unbalanced_entry', pgError.message);
  }
  if (pgError.code === '23514' && pgError.message?.startsWith('veil_account_reserved')) {
    return new RuleViolation('veil_account_reserved', pgError.message);
  }
  return error;
}

// SQLSTATE classes and driver errors that mean "the database cannot be reached right now", not "the request is
// wrong" nor "the code is wrong": 08 connection exception, 57P01-57P03 the server is shutting down or starting.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03']);
const UNAVAILABLE_SYSTEM_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
const UNAVAILABLE_MESSAGES = [/^Connection terminated/, /connection error and is not queryable/, /^PGlite is closed/, /^Driver has already been destroyed/];

/**
 * True when `error` says the database is down or restarting. Such a request may or may not have committed (the
 * connection can die during COMMIT), so the client is told to retry with the same Idempotency-Key.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const candidate = error as { code?: unknown; message?: unknown };
  if (candidate === null || typeof candidate !== 'object') return false;
  if (typeof candidate.code === 'string') {
    if (candidate.code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(candidate.code)) return true;
    if (UNAVAILABLE_SYSTEM_CODES.has(candidate.code)) return true;
  }
  if (error instanceof AggregateError) return error.errors.some(isDatabaseUnavailable);
  return typeof candidate.message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(candidate.message as string));
}
