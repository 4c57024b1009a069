import { sql, type Kysely } from 'kysely';

// Frozen. The fast path's booking (`veil_book_entries_alerting`, same signature and answer) in one function instead
// of three nested ones (it called veil_book_entries, which called veil_finish_write), for what pg_stat_statements
// showed on a single entry (2026-11-25, 3,000 entries from one client, ~2.0 ms of execution each):
// - The check that no per-entry key is used already joined the request's entries to journal_entries. A backend
//   that planned it while the books were small kept a hash join over every entry of the entity (0.27 ms at 3,000
//   entries, and growing with them) even when no entry carried a key. The keys are now collected first, and looked
//   up, when there are any, with `= any` on the (entity_id, idempotency_key) index: a plan that cannot go wrong.
// - The idempotency key is claimed with its answer (the response is known before the call), instead of claimed
//   with a placeholder and updated at the end: one UPDATE, and one dead row, fewer per request. Nobody can see
//   the row before COMMIT; a concurrent replay waits on it as before, and a booking that fails takes it along.
// - The locked accounts' ids come from the locking query itself, not from a second pass over p_accounts.
// The checks, their order and the errors are those of 0018/0033/0034. veil_book_entries (no caller left) and
// veil_alerts_could_change (replaced by veil_balance_alerts in 0033) are dropped.
const STATEMENTS = [
  `create or replace function veil_book_entries_alerting(
    p_scope text, p_key text, p_request_hash text, p_entity_id uuid, p_owner_user_id uuid, p_session_id uuid,
    p_token_id uuid, p_accounts jsonb, p_entries jsonb, p_postings jsonb, p_events jsonb, p_status int,
    p_response jsonb, p_audit jsonb, p_queue_audit boolean, p_cash_kinds text[], p_floor_default bigint)
  returns table (replayed boolean, request_hash text, status_code int, response jsonb, alerts_pending boolean,
                 audit_queued boolean)
  language plpgsql as $$
  #variable_conflict use_column
  declare
    stored record;
    entity_owner uuid;
    touched uuid[];
    matching int;
    entry_keys text[];
    queued boolean := false;
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
      values (p_scope, p_key, p_request_hash, p_status, p_response)
      on conflict (scope, key) do nothing;
    if not found then
      select k.request_hash, k.status_code, k.response into stored from idempotency_keys k
        where k.scope = p_scope and k.key = p_key;
      return query select true, stored.request_hash, stored.status_code, stored.response, false, false;
      return;
    end if;
    select e.owner_user_id into entity_owner from entities e where e.id = p_entity_id;
    if not found or (p_owner_user_id is not null and entity_owner is distinct from p_owner_user_id) then
      raise exception 'veil_fast_path_declined: entity' using errcode = 'VL001';
    end if;
    select count(*), array_agg(locked.id) into matching, touched from (
      select a.id from accounts a
        join jsonb_to_recordset(p_accounts) as x(id uuid, currency text) on x.id = a.id
        where a.entity_id = p_entity_id and a.currency = x.currency and a.archived_at is null
          and a.counterparty_entity_id is null
        order by a.id for update of a) locked;
    if matching <> jsonb_array_length(p_accounts) then
      raise exception 'veil_fast_path_declined: accounts' using errcode = 'VL001';
    end if;
    select array_agg(x.idempotency_key) into entry_keys
      from jsonb_to_recordset(p_entries) as x(idempotency_key text) where x.idempotency_key is not null;
    if entry_keys is not null and exists (select 1 from journal_entries j
                                            where j.entity_id = p_entity_id and j.idempotency_key = any (entry_keys)) then
      raise exception 'veil_fast_path_declined: entry key' using errcode = 'VL001';
    end if;
    with entries as (
      insert into journal_entries (id, entity_id, posted_on, description, source, idempotency_key, content_hash, actor,
                                   created_at, checked_in_statement)
        select x.id, p_entity_id, x.posted_on, x.description, x.source, x.idempotency_key, x.content_hash, x.actor,
               x.created_at, true
          from jsonb_to_recordset(p_entries) as x(id uuid, posted_on date, description text, source text,
                                                  idempotency_key text, content_hash text, actor text, created_at timestamptz))
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
    -- The commit-time checks (entries balanced, mirror accounts) now, so that the chain's head, taken below, is
    -- held for nothing but the append and the COMMIT. Same checks, same errors, just earlier.
    set constraints all immediate;
    perform veil_balance_alerts(p_entity_id, touched, p_cash_kinds, p_floor_default);
    if not p_queue_audit then
      perform veil_audit_append(p_audit);
    else
      perform 1 from audit_chain_head for update skip locked;
      if found then
        perform veil_audit_append(p_audit);
      else
        insert into audit_pending (content)
          select r.value from jsonb_array_elements(p_audit) with ordinality r order by r.ordinality;
        queued := true;
      end if;
    end if;
    return query select false, p_request_hash, p_status, null::jsonb,
      exists (select 1 from envelope_categories c where c.entity_id = p_entity_id and c.account_id = any (touched))
        or exists (select 1 from envelopes e where e.entity_id = p_entity_id and e.payment_account_id = any (touched)),
      queued;
  end $$;`,
  `drop function veil_book_entries(text, text, text, uuid, uuid, uuid, uuid, jsonb, jsonb, jsonb, jsonb, int, jsonb, jsonb)`,
  `drop function veil_alerts_could_change(uuid, uuid[], text[], bigint)`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
