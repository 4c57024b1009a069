import { sql, type Kysely } from 'kysely';

// Frozen. veil_book_entries (0018) as it was, but for how the entries and their postings are inserted: in one
// statement, the entries marked `checked_in_statement` (0031). Their balance and mirror-account checks then run
// once at the end of that statement, over every entry it inserted, instead of two PL/pgSQL calls per entry at
// `set constraints all immediate` (veil_finish_write): for a batch of 1,000 entries, 2,000 calls and 2,000 lookups
// of an entry's postings. The invariants are held as before, by the database: an entry inserted marked but
// unbalanced, without postings, or on a mirror account is refused by the statement that inserts it, and the
// fast path then declines (SQLSTATE other than VL001 is a decline as well) for the long way to report it.
const STATEMENTS = [
  `create or replace function veil_book_entries(
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
    perform veil_finish_write(p_scope, p_key, p_status, p_response, p_audit);
    return query select false, p_request_hash, p_status, null::jsonb;
  end $$;`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
