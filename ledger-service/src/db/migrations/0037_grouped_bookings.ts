import { sql, type Kysely } from 'kysely';

// Frozen. Single-entry bookings that arrive together are booked together (services/journal-fast.ts,
// BookingGroups): the requests that queued while the service's earlier bookings were in flight go to the database as
// one call, booked set-based like a batch (one statement per table for all of them, one audit append, one COMMIT),
// each still with its own idempotency key, answer, events and audit rows. Measured on 2 cores, 8 clients: a single
// booking costs PostgreSQL ~2 ms of statements, and eight at once competing for the same accounts, the audit chain's
// head and two cores cost ~0.5 ms more each; the batch API books an entry for a tenth of that.
//
// It books exactly what veil_book_entries_alerting (0035) books for each request, and answers each request as it
// would: a request whose key is already stored is a replay (its stored answer, nothing booked). Anything that
// function would decline (a revoked session or token, an entity not the owner's, an account it cannot book to, a
// per-entry key already used) declines the whole group (SQLSTATE VL001, nothing written), and so does any error: the
// service then books each request alone, which gives each its own answer. The service never puts two requests with
// the same key in one group.
//
// Every account of the group is locked in id order, as a single booking locks its own, so two groups (or a group
// and a single booking) never hold one account each while waiting for the other's.
const STATEMENTS = [
  `create function veil_book_entries_grouped(p_requests jsonb, p_cash_kinds text[], p_floor_default bigint)
  returns table (ordinal int, replayed boolean, request_hash text, status_code int, response jsonb, alerts_pending boolean,
                 audit_queued boolean)
  language plpgsql as $$
  #variable_conflict use_column
  declare
    accepted int[];
    want_entities uuid[];
    want_accounts uuid[];
    want_currencies text[];
    key_entities uuid[];
    entry_keys text[];
    booking record;
    audit jsonb;
    queued boolean := false;
  begin
    if exists (select 1 from jsonb_array_elements(p_requests) q
                where (q.value ->> 'sessionId' is not null
                       and not exists (select 1 from sessions s where s.id = (q.value ->> 'sessionId')::uuid
                                         and s.revoked_at is null and s.user_id = (q.value ->> 'ownerUserId')::uuid))
                   or (q.value ->> 'tokenId' is not null
                       and not exists (select 1 from api_tokens t where t.id = (q.value ->> 'tokenId')::uuid
                                         and t.revoked_at is null and (t.expires_at is null or t.expires_at > now())))) then
      raise exception 'veil_fast_path_declined: credentials' using errcode = 'VL001';
    end if;
    -- A request whose key is stored already (by an earlier request) is a replay; the others are accepted. Keys are
    -- claimed in key order: two groups replaying the same two keys at once wait for each other in one order only.
    with stored as (
      insert into idempotency_keys (scope, key, request_hash, status_code, response)
        select q.value ->> 'scope', q.value ->> 'key', q.value ->> 'requestHash', (q.value ->> 'status')::int, q.value -> 'response'
          from jsonb_array_elements(p_requests) with ordinality q order by q.value ->> 'scope', q.value ->> 'key'
        on conflict (scope, key) do nothing
        returning scope, key)
    select coalesce(array_agg(q.ordinality::int), '{}') into accepted
      from jsonb_array_elements(p_requests) with ordinality q
      join stored on stored.scope = q.value ->> 'scope' and stored.key = q.value ->> 'key';
    -- Lookups into the big tables are correlated (an index probe a request): joined, the planner knows nothing of
    -- the JSON's rows and may scan the table.
    return query
      select q.ordinality::int, true, k.request_hash, k.status_code, k.response, false, false
        from jsonb_array_elements(p_requests) with ordinality q
        cross join lateral (select s.request_hash, s.status_code, s.response from idempotency_keys s
                             where s.scope = q.value ->> 'scope' and s.key = q.value ->> 'key') k
       where not (q.ordinality::int = any (accepted));
    if cardinality(accepted) = 0 then
      return;
    end if;
    if exists (select 1 from jsonb_array_elements(p_requests) with ordinality q
                where q.ordinality::int = any (accepted)
                  and not exists (select 1 from entities e where e.id = (q.value ->> 'entityId')::uuid
                                    and (q.value ->> 'ownerUserId' is null
                                         or e.owner_user_id = (q.value ->> 'ownerUserId')::uuid))) then
      raise exception 'veil_fast_path_declined: entity' using errcode = 'VL001';
    end if;
    -- The pairs first, as arrays: probes from them into accounts and journal_entries go through the indexes,
    -- where a join from the JSON (whose row count the planner cannot know) may scan the table.
    select array_agg((q.value ->> 'entityId')::uuid), array_agg((x.value ->> 'id')::uuid), array_agg(x.value ->> 'currency')
      into want_entities, want_accounts, want_currencies
      from jsonb_array_elements(p_requests) with ordinality q, jsonb_array_elements(q.value -> 'accounts') x
     where q.ordinality::int = any (accepted);
    perform 1 from accounts a where a.id = any (want_accounts) order by a.id for update of a;
    if exists (select 1 from unnest(want_entities, want_accounts, want_currencies) as w(entity_id, id, currency)
                where not exists (select 1 from accounts a where a.id = w.id and a.entity_id = w.entity_id
                                    and a.currency = w.currency and a.archived_at is null
                                    and a.counterparty_entity_id is null)) then
      raise exception 'veil_fast_path_declined: accounts' using errcode = 'VL001';
    end if;
    select array_agg((q.value ->> 'entityId')::uuid), array_agg(x.idempotency_key) into key_entities, entry_keys
      from jsonb_array_elements(p_requests) with ordinality q, jsonb_to_recordset(q.value -> 'entries') as x(idempotency_key text)
     where q.ordinality::int = any (accepted) and x.idempotency_key is not null;
    if entry_keys is not null and exists (select 1 from unnest(key_entities, entry_keys) as u(entity_id, key)
                                           where exists (select 1 from journal_entries j
                                                          where j.entity_id = u.entity_id and j.idempotency_key = u.key)) then
      raise exception 'veil_fast_path_declined: entry key' using errcode = 'VL001';
    end if;
    with entries as (
      insert into journal_entries (id, entity_id, posted_on, description, source, idempotency_key, content_hash, actor,
                                   created_at, checked_in_statement)
        select x.id, (q.value ->> 'entityId')::uuid, x.posted_on, x.description, x.source, x.idempotency_key, x.content_hash,
               x.actor, x.created_at, true
          from jsonb_array_elements(p_requests) with ordinality q,
               rows from (jsonb_to_recordset(q.value -> 'entries') as (id uuid, posted_on date, description text, source text,
                                                       idempotency_key text, content_hash text, actor text, created_at timestamptz))
                 with ordinality as x(id, posted_on, description, source, idempotency_key, content_hash, actor, created_at, n)
         where q.ordinality::int = any (accepted)
         order by q.ordinality, x.n)
    insert into postings (entry_id, entity_id, account_id, currency, amount_cents, memo)
      select x.entry_id, (q.value ->> 'entityId')::uuid, x.account_id, x.currency, x.amount_cents, x.memo
        from jsonb_array_elements(p_requests) with ordinality q,
             jsonb_to_recordset(q.value -> 'postings') as x(position int, entry_id uuid, account_id uuid, currency text,
                                                            amount_cents bigint, memo text)
       where q.ordinality::int = any (accepted)
       order by q.ordinality, x.position;
    with events as (
      insert into ledger_events (entity_id, type, payload)
        select (q.value ->> 'entityId')::uuid, x.type, x.payload
          from jsonb_array_elements(p_requests) with ordinality q,
               rows from (jsonb_to_recordset(q.value -> 'events') as (type text, payload jsonb)) with ordinality as x(type, payload, n)
         where q.ordinality::int = any (accepted)
         order by q.ordinality, x.n
        returning id, entity_id, type)
    insert into webhook_deliveries (event_id, subscription_id)
      select ev.id, s.id from events ev
        join entities en on en.id = ev.entity_id
        join webhook_subscriptions s on s.owner_user_id = en.owner_user_id and s.deleted_at is null
        where s.events ? ev.type and (s.entity_ids is null or s.entity_ids ? ev.entity_id::text);
    set constraints all immediate;
    for booking in
      select (q.value ->> 'entityId')::uuid as entity_id, array_agg(distinct (x.value ->> 'id')::uuid) as touched
        from jsonb_array_elements(p_requests) with ordinality q, jsonb_array_elements(q.value -> 'accounts') x
       where q.ordinality::int = any (accepted)
       group by 1 order by 1 loop
      perform veil_balance_alerts(booking.entity_id, booking.touched, p_cash_kinds, p_floor_default);
    end loop;
    select jsonb_agg(r.value order by q.ordinality, r.ordinality) into audit
      from jsonb_array_elements(p_requests) with ordinality q, jsonb_array_elements(q.value -> 'audit') with ordinality r
     where q.ordinality::int = any (accepted);
    if audit is not null then
      perform 1 from audit_chain_head for update skip locked;
      if found then
        perform veil_audit_append(audit);
      else
        insert into audit_pending (content)
          select r.value from jsonb_array_elements(audit) with ordinality r order by r.ordinality;
        queued := true;
      end if;
    end if;
    return query
      select q.ordinality::int, false, q.value ->> 'requestHash', (q.value ->> 'status')::int, null::jsonb,
             exists (select 1 from jsonb_array_elements(q.value -> 'accounts') x
                       where exists (select 1 from envelope_categories c where c.entity_id = (q.value ->> 'entityId')::uuid
                                       and c.account_id = (x.value ->> 'id')::uuid)
                          or exists (select 1 from envelopes e where e.entity_id = (q.value ->> 'entityId')::uuid
                                       and e.payment_account_id = (x.value ->> 'id')::uuid)),
             queued
        from jsonb_array_elements(p_requests) with ordinality q
       where q.ordinality::int = any (accepted);
  end $$;`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
