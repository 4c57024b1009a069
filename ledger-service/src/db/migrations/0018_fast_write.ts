import { sql, type Kysely } from 'kysely';

// Frozen. The write path in fewer round trips (issue #2, benchmark targets).
//
// 1. The audit chain's link is computed in SQL, by the statement that appends the rows, so the one-row chain head
//    is locked only for that statement and the COMMIT (it used to be held across two round trips and the
//    service's own hashing between them). The service still hashes each row's canonical content (RFC 8785, as
//    before, minus the seq it cannot know before it holds the head) into a digest; the link is
//    sha256("v2|<prev_hash>|<seq>|<digest>"). Rows written before this migration keep version 1 and verify as
//    before; the verifier recomputes both from the stored content.
// 2. `veil_book_entries` books entries in one call: idempotency claim, the entity's owner, account locks in id
//    order and their current state, entries and postings (the journal's own triggers still check balance and
//    maintain balances and period totals), events and their deliveries, the stored answer, and the audit rows.
//    The service has already checked the entry against what it knows of the accounts; anything the database sees
//    differently (an account archived or of another entity, a key already used, an owner that is not the
//    actor's) declines with SQLSTATE VL001 and the service books the request the long way, which reports the
//    exact error. The function therefore never decides a rule on its own that the long way would decide
//    differently: it either books exactly what the long way would book, or declines.

const STATEMENTS: readonly string[] = [
  `alter table audit_log add column chain_version smallint not null default 1 check (chain_version in (1, 2));`,
  // p_rows: a JSON array of rows in the order they happened, each with its content digest.
  `create function veil_audit_append(p_rows jsonb) returns bigint language plpgsql as $$
  declare
    row_count int := coalesce(jsonb_array_length(p_rows), 0);
    first_seq bigint;
    prev text;
    hashes text[] := '{}';
    prevs text[] := '{}';
    i int;
  begin
    if row_count = 0 then
      return null;
    end if;
    update audit_chain_head set seq = seq + row_count returning seq - row_count + 1, hash into first_seq, prev;
    for i in 0 .. row_count - 1 loop
      prevs := prevs || prev;
      prev := encode(sha256(convert_to('v2|' || prev || '|' || (first_seq + i) || '|' || (p_rows -> i ->> 'digest'), 'UTF8')), 'hex');
      hashes := hashes || prev;
    end loop;
    insert into audit_log (seq, occurred_at, actor_type, actor_id, actor_user_id, token_id, execution_id, action,
                           entity_id, object_type, object_id, before, after, request_id, prev_hash, hash, chain_version)
      select first_seq + r.ordinality - 1, (r.value ->> 'occurredAt')::timestamptz, r.value ->> 'actorType',
             r.value ->> 'actorId', (r.value ->> 'actorUserId')::uuid, (r.value ->> 'tokenId')::uuid,
             r.value ->> 'executionId', r.value ->> 'action', (r.value ->> 'entityId')::uuid, r.value ->> 'objectType',
             r.value ->> 'objectId', nullif(r.value -> 'before', 'null'::jsonb), nullif(r.value -> 'after', 'null'::jsonb),
             r.value ->> 'requestId', prevs[r.ordinality], hashes[r.ordinality], 2
        from jsonb_array_elements(p_rows) with ordinality r;
    update audit_chain_head set hash = prev;
    return first_seq + row_count - 1;
  end $$;`,
  // The end of every idempotent write: its stored answer and its audit rows, in one statement.
  `create function veil_finish_write(p_scope text, p_key text, p_status int, p_response jsonb, p_audit jsonb)
  returns void language plpgsql as $$
  begin
    -- The commit-time checks (entries balanced, mirror accounts) run here, before the chain head is taken, so
    -- that the head is held for nothing but the append and the COMMIT. Same checks, same errors, just earlier.
    set constraints all immediate;
    if p_scope is not null then
      update idempotency_keys set status_code = p_status, response = p_response where scope = p_scope and key = p_key;
      if not found then
        raise exception 'veil_finish_write: idempotency key % was not claimed', p_key;
      end if;
    end if;
    perform veil_audit_append(p_audit);
  end $$;`,
  // Declines (SQLSTATE VL001) rather than deciding anything the service would decide differently; see above.
  `create function veil_book_entries(
    p_scope text, p_key text, p_request_hash text, p_entity_id uuid, p_owner_user_id uuid, p_session_id uuid,
    p_token_id uuid, p_accounts jsonb, p_entries jsonb, p_postings jsonb, p_events jsonb, p_status int,
    p_response jsonb, p_audit jsonb)
  returns table (replayed boolean, request_hash text, status_code int, response jsonb) language plpgsql as $$
  #variable_conflict use_column
  declare
    stored record;
    entity_owner uuid;
    expected int := jsonb_array_length(p_accounts);
    matching int;
  begin
    -- The credentials first, as the long way does: a session revoked (or a token revoked or expired) since the
    -- service looked at it declines, and the long way answers 401, even to a replay.
    if p_session_id is not null and not exists (select 1 from sessions s where s.id = p_session_id
                                                  and s.revoked_at is null and s.user_id = p_owner_user_id) then
      raise exception 'veil_fast_path_declined: session' using errcode = 'VL001';
    end if;
    if p_token_id is not null and not exists (select 1 from api_tokens t where t.id = p_token_id and t.revoked_at is null
                                                and (t.expires_at is null or t.expires_at > now())) then
      raise exception 'veil_fast_path_declined: token' using errcode = 'VL001';
    end if;
    insert into idempotency_keys (scope, key, request_hash, status_code, response)
      values (p_scope, p_key, p_request_hash, 0, 'null'::jsonb)
      on conflict (scope, key) do nothing;
    if not found then
      select k.request_hash, k.status_code, k.response into stored from idempotency_keys k
        where k.scope = p_scope and k.key = p_key;
      return query select true, stored.request_hash, stored.status_code, stored.response;
      return;
    end if;
    select e.owner_user_id into entity_owner from entities e where e.id = p_entity_id;
    if not found or (p_owner_user_id is not null and entity_owner is distinct from p_owner_user_id) then
      raise exception 'veil_fast_path_declined: entity' using errcode = 'VL001';
    end if;
    -- Lock in id order (as the long way does), then check each account is still what the service assumed.
    select count(*) into matching from (
      select a.id from accounts a
        join jsonb_to_recordset(p_accounts) as x(id uuid, currency text) on x.id = a.id
        where a.entity_id = p_entity_id and a.currency = x.currency and a.archived_at is null
          and a.counterparty_entity_id is null
        order by a.id for update of a) locked;
    if matching <> expected then
      raise exception 'veil_fast_path_declined: accounts' using errcode = 'VL001';
    end if;
    if exists (select 1 from journal_entries j
                 join jsonb_to_recordset(p_entries) as x(idempotency_key text) on x.idempotency_key = j.idempotency_key
                where j.entity_id = p_entity_id) then
      raise exception 'veil_fast_path_declined: entry key' using errcode = 'VL001';
    end if;
    insert into journal_entries (id, entity_id, posted_on, description, source, idempotency_key, content_hash, actor, created_at)
      select x.id, p_entity_id, x.posted_on, x.description, x.source, x.idempotency_key, x.content_hash, x.actor, x.created_at
        from jsonb_to_recordset(p_entries) as x(id uuid, posted_on date, description text, source text,
                                                idempotency_key text, content_hash text, actor text, created_at timestamptz);
    insert into postings (entry_id, entity_id, account_id, currency, amount_cents, memo)
      select x.entry_id, p_entity_id, x.account_id, x.currency, x.amount_cents, x.memo
        from jsonb_to_recordset(p_postings) as x(position int, entry_id uuid, account_id uuid, currency text,
                                                 amount_cents bigint, memo text)
        order by x.position;
    with events as (
      insert into ledger_events (entity_id, type, payload)
        select p_entity_id, x.type, x.payload from jsonb_to_recordset(p_events) as x(type text, payload jsonb)
        returning id, type)
    insert into webhook_deliveries (event_id, subscription_id)
      select ev.id, s.id from events ev
        join entities en on en.id = p_entity_id
        join webhook_subscriptions s on s.owner_user_id = en.owner_user_id and s.deleted_at is null
        where s.events ? ev.type and (s.entity_ids is null or s.entity_ids ? p_entity_id::text);
    perform veil_finish_write(p_scope, p_key, p_status, p_response, p_audit);
    return query select false, p_request_hash, p_status, null::jsonb;
  end $$;`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('0018_fast_write is not reversible');
}
