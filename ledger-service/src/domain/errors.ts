/**
 * A rule violation: the request is well-formed but the books say no. The code is machine-readable and from a
 * closed set; the HTTP layer maps each code to a status.
 */
export type RuleCode =
  | 'unbalanced_entry'
  | 'entity_mismatch'
  | 'currency_mismatch'
  | 'account_archived'
  | 'account_kind_mismatch'
  | 'already_reversed'
  | 'cannot_reverse_reversal'
  | 'idempotency_conflict'
  | 'idempotency_key_required'
  | 'duplicate_name'
  | 'batch_rejected'
  | 'amount_out_of_range'
  | 'not_found'
  | 'execution_not_found'
  | 'execution_rolled_back'
  | 'invalid_request'
  | 'backups_not_configured'
  | 'backup_in_progress'
  | 'backup_failed'
  | 'veil_crossing_unclassified'
  | 'veil_not_a_crossing'
  | 'veil_direction_invalid'
  | 'veil_loan_terms_required'
  | 'veil_loan_terms_invalid'
  | 'veil_related_transfer_invalid'
  | 'veil_overpayment'
  | 'veil_draw_exceeds_policy'
  | 'veil_transfer_has_dependents'
  | 'veil_account_reserved'
  | 'veil_use_transfer_reversal'
  | 'report_not_applicable'
  | 'report_too_large'
  | 'bank_line_pending'
  | 'bank_line_state'
  | 'budget_category_invalid'
  | 'budget_category_taken'
  | 'budget_envelope_invalid'
  | 'allocation_rules_invalid'
  | 'allocation_income_invalid'
  | 'already_allocated'
  | 'bill_invalid'
  | 'bill_occurrence_invalid'
  | 'bill_occurrence_settled'
  | 'import_invalid'
  | 'import_mapping_required'
  | 'plaid_not_configured'
  | 'plaid_demo_only'
  | 'plaid_item_error'
  | 'plaid_upstream_error'
  | 'plaid_transfer_disabled'
  | 'plaid_transfer_unavailable'
  | 'plaid_transfer_declined'
  | 'webhook_unverified'
  | 'unauthenticated'
  | 'invalid_credentials'
  | 'mfa_code_required'
  | 'invalid_token'
  | 'forbidden'
  | 'mfa_required'
  | 'registration_closed'
  | 'email_taken'
  | 'weak_password'
  | 'mfa_state'
  | 'account_locked'
  | 'rate_limited'
  | 'contribution_invalid'
  | 'contribution_limit_exceeded'
  | 'holding_invalid';

export class RuleViolation extends Error {
  override readonly name = 'RuleViolation';
  constructor(
    readonly code: RuleCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export class NotFound extends RuleViolation {
  constructor(kind: string, id: string) {
    super('not_found', `${kind} ${id} was not found`, { kind, id });
  }
}

/** A broken invariant is a bug, never a user error: it is reported as a 500 and logged. */
export class AssertionFailure extends Error {
  override readonly name = 'AssertionFailure';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionFailure(message);
}
