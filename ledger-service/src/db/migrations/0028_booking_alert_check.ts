import { sql, type Kysely } from 'kysely';

// Frozen. After a fast-path booking (0018's `veil_book_entries`) the service evaluated the alerts a posting can
// raise or clear (balance.low, budget.overspent) in a transaction of its own: BEGIN, the entity's alert settings,
// the touched cash accounts, their alert states under lock, the envelopes, COMMIT. Seven round trips after the one
// that booked, for an evaluation that almost never changes anything: a low balance stays low, a healthy one stays
// healthy, and an alert already raised is not raised again.
//
// `veil_book_entries_alerting` books through `veil_book_entries` unchanged and, in the same statement, while the
// booking still holds the accounts' row locks, tells whether that evaluation could change anything:
// - a touched cash account (kinds passed in, as the service defines them) whose balance is below its floor (the
//   account's own, else the entity's, else the default passed in) without an active balance.low state, or with
//   an active one while at or above its floor;
// - or a touched account an envelope uses (as an envelope's category or its payment account).
// The service evaluates, with its own code and in its own transaction as before, only when told so. The question
// is asked of the same rows and the same rule the evaluation reads; when it says no, evaluating would have raised
// and cleared nothing.
const STATEMENTS = [
  `create function veil_book_entries_alerting(
    p_scope text, p_key text, p_request_hash text, p_entity_id uuid, p_owner_user_id uuid, p_session_id uuid,
    p_token_id uuid, p_accounts jsonb, p_entries jsonb, p_postings jsonb, p_events jsonb, p_status int,
    p_response jsonb, p_audit jsonb, p_cash_kinds text[], p_floor_default bigint)
  returns table (replayed boolean, request_hash text, status_code int, response jsonb, alerts_pending boolean)
  language plpgsql as $$
  #variable_conflict use_column
  declare
    booked record;
    touched uuid[];
  begin
    select * into booked from veil_book_entries(p_scope, p_key, p_request_hash, p_entity_id, p_owner_user_id,
      p_session_id, p_token_id, p_accounts, p_entries, p_postings, p_events, p_status, p_response, p_audit);
    if booked.replayed then
      return query select booked.replayed, booked.request_hash, booked.status_code, booked.response, false;
      return;
    end if;
    select array_agg(x.id) into touched from jsonb_to_recordset(p_accounts) as x(id uuid);
    return query select booked.replayed, booked.request_hash, booked.status_code, booked.response,
      exists (
        select 1 from accounts a
          left join alert_settings s on s.entity_id = p_entity_id
          left join alert_states st on st.entity_id = p_entity_id and st.condition_key = 'balance.low:' || a.id::text
                                       and st.active
         where a.id = any (touched) and a.entity_id = p_entity_id and a.archived_at is null
           and a.kind = any (p_cash_kinds)
           and (a.balance_cents < coalesce((s.account_balance_cents_min ->> a.id::text)::bigint, s.balance_cents_min,
                                           p_floor_default)) is distinct from (st.condition_key is not null))
      or exists (select 1 from envelope_categories c where c.entity_id = p_entity_id and c.account_id = any (touched))
      or exists (select 1 from envelopes e where e.entity_id = p_entity_id and e.payment_account_id = any (touched));
  end $$;`,
  // The stored answer of a batch is a few hundred kB, compressed by pglz on every write (~7 ms per 1,000 entries);
  // lz4 takes a third of that. PGlite is built without lz4 and keeps pglz.
  `do $$
  begin
    alter table idempotency_keys alter column response set compression lz4;
  exception when feature_not_supported then
    null;
  end $$;`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
