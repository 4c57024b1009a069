import type { ErrorRequestHandler, RequestHandler } from 'express';
import { RuleViolation, type RuleCode } from '../domain/errors';
import { isDatabaseUnavailable, translateDbError } from '../services/db-errors';

const STATUS_OF: Record<RuleCode, number> = {
  invalid_request: 400,
  idempotency_key_required: 400,
  not_found: 404,
  execution_not_found: 404,
  execution_rolled_back: 409,
  already_reversed: 409,
  idempotency_conflict: 409,
  duplicate_name: 409,
  unbalanced_entry: 422,
  entity_mismatch: 422,
  currency_mismatch: 422,
  account_archived: 422,
  account_kind_mismatch: 422,
  amount_out_of_range: 422,
  batch_rejected: 422,
  cannot_reverse_reversal: 422,
  veil_crossing_unclassified: 422,
  veil_not_a_crossing: 422,
  veil_direction_invalid: 422,
  veil_loan_terms_required: 422,
  veil_loan_terms_invalid: 422,
  veil_related_transfer_invalid: 422,
  veil_overpayment: 422,
  veil_draw_exceeds_policy: 422,
  veil_transfer_has_dependents: 409,
  veil_account_reserved: 422,
  veil_use_transfer_reversal: 422,
  report_not_applicable: 422,
  report_too_large: 422,
  bank_line_pending: 409,
  bank_line_state: 409,
  budget_category_invalid: 422,
  budget_category_taken: 409,
  budget_envelope_invalid: 422,
  allocation_rules_invalid: 422,
  allocation_income_invalid: 422,
  already_allocated: 409,
  bill_invalid: 422,
  bill_occurrence_invalid: 422,
  bill_occurrence_settled: 409,
  import_invalid: 422,
  import_mapping_required: 422,
  // The instance has bank sync off: a state of this install, not a server failure (and never a 5xx to a client).
  plaid_not_configured: 409,
  // Backups are the operator's choice (VEIL_BACKUP_DIR): off is a state of this install, like bank sync.
  backups_not_configured: 409,
  backup_in_progress: 409,
  backup_failed: 500,
  // The demo Link is the emulator's: against Plaid itself the user finishes Link in Plaid's own UI.
  plaid_demo_only: 409,
  plaid_item_error: 409,
  plaid_upstream_error: 502,
  plaid_transfer_disabled: 409,
  plaid_transfer_unavailable: 422,
  plaid_transfer_declined: 422,
  webhook_unverified: 401,
  unauthenticated: 401,
  invalid_credentials: 401,
  mfa_code_required: 401,
  invalid_token: 401,
  forbidden: 403,
  mfa_required: 403,
  registration_closed: 403,
  email_taken: 409,
  mfa_state: 409,
  weak_password: 422,
  account_locked: 429,
  rate_limited: 429,
  contribution_invalid: 422,
  // A contribution that would take the year's total over the IRS limit is refused, not booked with a warning.
  contribution_limit_exceeded: 422,
  holding_invalid: 422,
};

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: 'not_found', message: `no route for ${req.method} ${req.path}` } });
};

/** Every error leaves as `{ error: { code, message, details } }`. Anything unexpected is a bug: 500 and a log line. */
export const errorHandler: ErrorRequestHandler = (rawError, req, res, _next) => {
  const error = translateDbError(rawError);
  if (error instanceof RuleViolation) {
    res.status(STATUS_OF[error.code]).json({
      error: { code: error.code, message: error.message, ...(error.details !== undefined ? { details: error.details } : {}) },
    });
    return;
  }
  const httpError = error as { type?: string; status?: number; message?: string };
  if (httpError.type === 'entity.parse.failed') {
    res.status(400).json({ error: { code: 'invalid_json', message: `the body is not valid JSON: ${httpError.message}` } });
    return;
  }
  if (httpError.type === 'entity.too.large') {
    res.status(413).json({ error: { code: 'payload_too_large', message: 'the request body is larger than allowed' } });
    return;
  }
  if (typeof httpError.status === 'number' && httpError.status >= 400 && httpError.status < 500) {
    res.status(httpError.status).json({ error: { code: 'bad_request', message: httpError.message ?? 'bad request' } });
    return;
  }
  if (isDatabaseUnavailable(rawError)) {
    // Not a bug: the database is restarting. The write may have committed before the connection died, so the
    // answer is the idempotent retry, which returns the first result if there was one.
    req.log.warn({ err: rawError }, 'database unavailable');
    res.setHeader('retry-after', '1');
    res.status(503).json({
      error: { code: 'database_unavailable', message: 'the database is unavailable; retry shortly with the same Idempotency-Key', details: { requestId: req.id } },
    });
    return;
  }
  req.log.error({ err: rawError }, 'unhandled error');
  res.status(500).json({ error: { code: 'internal', message: 'internal error; the request id is in the logs', details: { requestId: req.id } } });
};
