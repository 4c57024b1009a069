import { Configuration, PlaidApi, type PlaidError } from 'plaid';
import type { PlaidConfig } from '../config';
import { RuleViolation } from '../domain/errors';

// The ONE place that builds the `plaid` client. In production it talks to Plaid; in tests, the demo and the
// benchmark it talks to the emulator through the same code, pointed at another basePath.

export interface PlaidDeps {
  client: PlaidApi;
  /** Where Plaid should POST webhooks for items linked from here. */
  webhookUrl: string | undefined;
  clientName: string;
  /** Webhook verification keys by kid, as fetched from /webhook_verification_key/get. */
  keyCache: Map<string, { jwk: Record<string, unknown>; expiredAtSeconds: number | null }>;
  /** Transactions per /transactions/sync page, and the most pages one sync run fetches. */
  syncPageSize: number;
  syncPagesMax: number;
  /** The emulator's URL when PLAID_ENV=emulator: the dashboard's demo Link completes there (see plaid-demo.ts). */
  emulatorBasePath: string | undefined;
}

export function createPlaidDeps(config: PlaidConfig, options: { syncPageSize?: number; syncPagesMax?: number } = {}): PlaidDeps {
  const client = new PlaidApi(
    new Configuration({
      basePath: config.basePath,
      baseOptions: { headers: { 'PLAID-CLIENT-ID': config.clientId, 'PLAID-SECRET': config.secret }, timeout: 30_000 },
    }),
  );
  return {
    client,
    webhookUrl: config.webhookUrl,
    clientName: 'Veil',
    keyCache: new Map(),
    syncPageSize: options.syncPageSize ?? 500,
    syncPagesMax: options.syncPagesMax ?? 1_000,
    emulatorBasePath: config.emulator ? config.basePath : undefined,
  };
}

/** The Plaid error inside a failed call (axios keeps Plaid's body in response.data), or undefined. */
export function plaidErrorOf(error: unknown): PlaidError | undefined {
  const data = (error as { response?: { data?: unknown } }).response?.data as Partial<PlaidError> | undefined;
  return data && typeof data.error_code === 'string' && typeof data.error_type === 'string' ? (data as PlaidError) : undefined;
}

/** Item-level failures the user must fix (log in again, consent): stored on the item, not retried blindly. */
export const ITEM_ERROR_STATUS: Readonly<Record<string, 'login_required' | 'pending_expiration' | 'error'>> = {
  ITEM_LOGIN_REQUIRED: 'login_required',
  PENDING_EXPIRATION: 'pending_expiration',
  ACCESS_NOT_GRANTED: 'error',
  ITEM_LOCKED: 'login_required',
  INVALID_CREDENTIALS: 'login_required',
  USER_PERMISSION_REVOKED: 'error',
};

/** How often a transient failure is tried again: attempts in all, and the backoff between them. */
export interface PlaidRetryPolicy {
  attemptsMax: number;
  delayMsBase: number;
  delayMsMax: number;
  sleep: (ms: number) => Promise<void>;
}

export const PLAID_RETRY: PlaidRetryPolicy = {
  attemptsMax: 4,
  delayMsBase: 250,
  delayMsMax: 4_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Network failures where the request may never have reached Plaid, or its answer never came back. */
const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ERR_SOCKET_CONNECTION_TIMEOUT']);

/**
 * True for what is worth trying again as is: a dropped or refused connection, a timeout, a 5xx, or Plaid's
 * RATE_LIMIT_EXCEEDED. Never a 4xx Plaid error about the request or the item (it would fail the same way).
 */
export function isTransientPlaidFailure(error: unknown): boolean {
  const failure = error as { code?: unknown; response?: { status?: unknown } };
  const plaid = plaidErrorOf(error);
  if (plaid?.error_type === 'RATE_LIMIT_EXCEEDED') return true;
  const status = failure.response?.status;
  if (typeof status === 'number') return status >= 500 || status === 429;
  return typeof failure.code === 'string' && TRANSIENT_NETWORK_CODES.has(failure.code);
}

/** Exponential backoff with equal jitter: half the step fixed, half random, so retries of many callers spread. */
export function retryDelayMs(policy: Pick<PlaidRetryPolicy, 'delayMsBase' | 'delayMsMax'>, retry: number, random = Math.random): number {
  const step = Math.min(policy.delayMsMax, policy.delayMsBase * 2 ** retry);
  return Math.round(step / 2 + (random() * step) / 2);
}

/**
 * Calls Plaid; transient failures (see isTransientPlaidFailure) are tried again with backoff, at most
 * `attemptsMax` attempts in all. Every call Veil makes is safe to repeat: reads, a sync page from the same
 * cursor, Transfer calls keyed by their authorization. A Plaid error then becomes a RuleViolation naming Plaid's
 * own code (a 502 unless it is the item's).
 */
export async function callPlaid<R extends { data: unknown }>(call: () => Promise<R>, policy: PlaidRetryPolicy = PLAID_RETRY): Promise<R['data']> {
  let attempt = 1;
  for (;;) {
    try {
      return (await call()).data;
    } catch (error) {
      if (attempt < policy.attemptsMax && isTransientPlaidFailure(error)) {
        await policy.sleep(retryDelayMs(policy, attempt - 1));
        attempt += 1;
        continue;
      }
      throw plaidViolation(error, attempt);
    }
  }
}

function plaidViolation(error: unknown, attempts: number): RuleViolation {
  const plaid = plaidErrorOf(error);
  if (plaid === undefined) return new RuleViolation('plaid_upstream_error', `Plaid could not be reached: ${(error as Error).message}`, { attempts });
  const details = { plaidErrorType: plaid.error_type, plaidErrorCode: plaid.error_code, plaidRequestId: plaid.request_id ?? null, attempts };
  if (plaid.error_type === 'ITEM_ERROR') return new RuleViolation('plaid_item_error', plaid.display_message ?? plaid.error_message, details);
  // The one Plaid input a caller hands Veil as is (POST /plaid/items): Plaid refusing it is the caller's error, a 400.
  if (plaid.error_code === 'INVALID_PUBLIC_TOKEN') return new RuleViolation('invalid_request', `the public token is invalid or expired: ${plaid.error_message}`, details);
  return new RuleViolation('plaid_upstream_error', `Plaid answered ${plaid.error_code}: ${plaid.error_message}`, details);
}

export function requirePlaid(plaid: PlaidDeps | undefined): PlaidDeps {
  if (plaid === undefined) {
    throw new RuleViolation('plaid_not_configured', 'bank sync is off: set PLAID_CLIENT_ID and PLAID_SECRET (npm start runs the sandbox emulator)');
  }
  return plaid;
}
