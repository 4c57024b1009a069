import { sql, type Kysely } from 'kysely';

// Frozen. The audit rows a set-based step builds in SQL (services/ingest.ts: one `entry.booked` row per entry a
// Plaid page or an import books) are canonical JSON texts in a table of the transaction. veil_audit_append (0026)
// takes rows as one jsonb array with each row's digest merged in, so the texts were parsed, merged with their
// digest, aggregated into that array and taken apart again: 14 ms of a Plaid page's 500 rows, a tenth of the page.
// veil_audit_append_contents takes the texts as they are and appends exactly the rows veil_audit_append would:
// each row's digest is the SHA-256 of its text (as the caller computed it), linked in the same order, with the same
// seq, columns and hashes. veil_audit_append stays for the rows the service queues.
const STATEMENTS = [
  `create function veil_audit_append_contents(p_contents text[]) returns bigint language plpgsql as $$
  declare
    row_count int := coalesce(cardinality(p_contents), 0);
    first_seq bigint;
    prev text;
    prevs text[] := '{}';
    hashes text[] := '{}';
  begin
    if row_count = 0 then
      return null;
    end if;
    update audit_chain_head set seq = seq + row_count returning seq - row_count + 1, hash into first_seq, prev;
    for i in 1 .. row_count loop
      prevs[i] := prev;
      prev := encode(sha256(convert_to('v2|' || prev || '|' || (first_seq + i - 1) || '|'
                                       || encode(sha256(convert_to(p_contents[i], 'UTF8')), 'hex'), 'UTF8')), 'hex');
      hashes[i] := prev;
    end loop;
    -- OFFSET 0: each text is parsed once, not once for every column taken from it.
    insert into audit_log (seq, occurred_at, actor_type, actor_id, actor_user_id, token_id, execution_id, action,
                           entity_id, object_type, object_id, before, after, request_id, prev_hash, hash, chain_version)
      select first_seq + r.n - 1, (r.content ->> 'occurredAt')::timestamptz, r.content ->> 'actorType',
             r.content ->> 'actorId', (r.content ->> 'actorUserId')::uuid, (r.content ->> 'tokenId')::uuid,
             r.content ->> 'executionId', r.content ->> 'action', (r.content ->> 'entityId')::uuid, r.content ->> 'objectType',
             r.content ->> 'objectId', nullif(r.content -> 'before', 'null'::jsonb), nullif(r.content -> 'after', 'null'::jsonb),
             r.content ->> 'requestId', r.prev, r.hash, 2
        from (select u.text::jsonb as content, u.prev, u.hash, u.n
                from unnest(p_contents, prevs, hashes) with ordinality u (text, prev, hash, n) offset 0) r;
    update audit_chain_head set hash = prev;
    return first_seq + row_count - 1;
  end $$;`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
