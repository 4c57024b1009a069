import { sql } from 'kysely';
import type { Db } from '../src/db/database';
import type { Client } from './client';
import type { World } from './operations';

// What "the books did not change" means for a refused request. Journal tables are append-only, so counts say it;
// mutable book tables are hashed row by row. Auth routes legitimately count failed attempts (users, audit rows),
// so the audit log is compared only for other routes.

const HASHED_TABLES = ['entities', 'accounts', 'veil_policies', 'inter_entity_transfers', 'inter_entity_transfer_reversals', 'veil_documents', 'bank_lines', 'imports', 'balance_assertions'] as const;

export interface Snapshot {
  books: string;
  audit: string;
}

export function sqlSnapshot(db: Db): () => Promise<Snapshot> {
  // One statement: it runs after every fuzzed request.
  const digests = sql.join(
    HASHED_TABLES.map((table) => sql`(select md5(coalesce(string_agg(t::text, ',' order by t::text), '')) from ${sql.table(table)} t)`),
    sql`, `,
  );
  return async () => {
    const result = await sql<{ digest: string }>`
      select concat_ws(' ', (select count(*) from journal_entries), (select count(*) from postings), ${digests}) as digest,
             (select count(*) from audit_log) as audit`.execute(db);
    const row = result.rows[0] as { digest: string; audit: string };
    return { books: row.digest, audit: String(row.audit) };
  };
}

/** The same question through the API, for PGlite (whose files only the service may open): counts from /metrics, entities, the fuzzed books' balances. */
export function apiSnapshot(client: Client, world: World): () => Promise<Snapshot> {
  return async () => {
    const metrics = await client.get('/metrics');
    const text = String(metrics.body);
    const count = (name: string) => new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1];
    const parts = [`entries=${count('veil_journal_entries')}`];
    parts.push(JSON.stringify((await client.get('/entities')).body));
    for (const entityId of [world.llcId, world.personalId]) {
      parts.push(JSON.stringify((await client.get(`/entities/${entityId}/accounts?includeArchived=true`)).body));
      parts.push(JSON.stringify((await client.get(`/entities/${entityId}/transfers`)).body));
    }
    return { books: parts.join(' '), audit: String(count('veil_audit_rows')) };
  };
}
