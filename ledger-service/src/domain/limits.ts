// Every input is bounded. One place for the limits, so the API schemas, the SQL checks and the tests agree.

/** Largest absolute amount of one posting: $10 billion in cents. Far above anything a single-member LLC moves. */
export const AMOUNT_CENTS_MAX = 1_000_000_000_000;
/** Balances are sums of postings; past this they could not be represented exactly in a JavaScript number. */
export const BALANCE_CENTS_MAX = Number.MAX_SAFE_INTEGER;
export const POSTINGS_PER_ENTRY_MAX = 100;
export const ENTRIES_PER_BATCH_MAX = 1_000;
export const PAGE_SIZE_MAX = 500;
export const PAGE_SIZE_DEFAULT = 50;
export const NAME_LENGTH_MAX = 200;
export const DESCRIPTION_LENGTH_MAX = 500;
export const MEMO_LENGTH_MAX = 500;
export const IDEMPOTENCY_KEY_LENGTH_MAX = 200;
export const REQUEST_BODY_BYTES_MAX = 2 * 1024 * 1024;
export const AUTH_BODY_BYTES_MAX = 16 * 1024;
/** Accounting dates are kept within a sane window so typos such as 20255-01-01 are refused. */
export const POSTED_ON_MIN = '1900-01-01';
export const POSTED_ON_MAX = '2199-12-31';
