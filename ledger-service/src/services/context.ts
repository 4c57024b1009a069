import type { Logger } from 'pino';
import type { Db } from '../db/database';
import type { AfrRow } from '../domain/afr';
import type { PlaidDeps } from '../plaid/client';
import type { SecurityDeps } from '../security/deps';
import type { BackupDeps } from './backup';

/** Everything a service needs, built once by main.ts (or by a test) and passed down. */
export interface Deps {
  db: Db;
  logger: Logger;
  backend: 'postgres' | 'pglite';
  /** The AFR table (reference/afr.json unless VEIL_AFR_TABLE says otherwise); loaded by createApp when absent. */
  afrRows?: readonly AfrRow[] | undefined;
  security: SecurityDeps;
  /** The Plaid client and its settings; absent when bank sync is not configured. Read at request time. */
  plaid?: PlaidDeps | undefined;
  /** Where POST /admin/backups writes (VEIL_BACKUP_DIR); absent, that route answers backups_not_configured. */
  backups?: BackupDeps | undefined;
  /**
   * Booking transactions of single-entry requests run at once by this process (VEIL_BOOKING_TRANSACTIONS); requests
   * that arrive meanwhile are booked together (services/journal-fast.ts, BookingGroups). Default 2.
   */
  bookingTransactionsMax?: number | undefined;
}

/** What an actor may do to an entity it can see. `move_money` implies nothing else; each is granted on its own. */
export type Scope = 'read' | 'write' | 'move_money';
export const SCOPES: readonly Scope[] = ['read', 'write', 'move_money'];

/**
 * Who did it: a signed-in user, an API token (n8n), or the system itself (seed, key rotation). `anonymous` is a
 * caller of a public route and can reach no entity.
 */
export interface Actor {
  type: 'anonymous' | 'user' | 'api_token' | 'system';
  /** The user id for a user, the token id for an API token, a label for the system. */
  id: string;
  /** The user whose entities this actor reaches (the token's owner for an API token). */
  userId?: string | undefined;
  /** The API token, when the request carried one. */
  tokenId?: string | undefined;
  /** The session (refresh-token family) of a user's access token. */
  sessionId?: string | undefined;
  scopes: readonly Scope[];
  /** `all`: every entity the user owns; otherwise only these (an API token scoped to entities). */
  entityScope: 'all' | readonly string[];
  /** True when the session was opened with a TOTP or recovery code. API tokens inherit it from their creation. */
  mfa: boolean;
  /** The n8n execution that sent the request, when one did. */
  executionId?: string | undefined;
  /** Its workflow, as the Veil nodes send it (X-N8N-Workflow-Id, X-N8N-Workflow-Name). */
  workflowId?: string | undefined;
  workflowName?: string | undefined;
  /** The request id, recorded in the audit trail. */
  requestId?: string | undefined;
  /**
   * True when the access token's signature and expiry were checked but its session's revocation was not looked
   * up: the caller's own statement checks it together with its write (the journal's fast path, journal-fast.ts).
   * Such an actor must not reach anything else; `mountRoute` authenticates fully before any other use.
   */
  revocationDeferred?: true | undefined;
}

export const ANONYMOUS: Actor = { type: 'anonymous', id: 'anonymous', scopes: [], entityScope: [], mfa: false };

export function systemActor(label: string): Actor {
  return { type: 'system', id: label, scopes: SCOPES, entityScope: 'all', mfa: true };
}

export function actorLabel(actor: Actor): string {
  const base = `${actor.type}:${actor.id}`;
  return actor.executionId ? `${base} (n8n execution ${actor.executionId})` : base;
}
