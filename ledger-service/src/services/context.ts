import type { Logger } from 'pino';
import type { Db } from '../db/database';
import type { AfrRow } from '../domain/afr';

/** Everything a service needs, built once by main.ts (or by a test) and passed down. */
export interface Deps {
  db: Db;
  logger: Logger;
  backend: 'postgres' | 'pglite';
  /** The AFR table (reference/afr.json unless VEIL_AFR_TABLE says otherwise); loaded by createApp when absent. */
  afrRows?: readonly AfrRow[] | undefined;
}

/** Who did it: a user, an API token, an n8n execution, or the system itself (seed, migrations). */
export interface Actor {
  type: 'anonymous' | 'user' | 'api_token' | 'system';
  id: string;
  /** The n8n execution that sent the request, when one did. */
  executionId?: string | undefined;
}

export function actorLabel(actor: Actor): string {
  const base = `${actor.type}:${actor.id}`;
  return actor.executionId ? `${base} (n8n execution ${actor.executionId})` : base;
}
