import { sql, type Kysely } from 'kysely';

// Frozen. balance.low evaluated by one function, in the statement that books.
//
// The service evaluated balance.low with its own code: the entity's settings, the cash accounts, their alert states
// locked in key order, the upsert that raises, the events, the update that clears (services/alert-events.ts). A
// fast-path booking (0028) asked in its statement whether that could change anything and, when told yes, ran it in a
// second transaction after COMMIT: seven more round trips, and in the journal benchmark (whose accounts wander
// around the 0 floor) for two single entries in five, half of the service's CPU. And between the two transactions,
// a crash left an alert unraised until the periodic sweep.
//
// `veil_balance_alerts` is now the one evaluation of balance.low, for every caller: after postings (the touched
// accounts), after new settings and in the sweep (p_touched null: every cash account, and any active balance.low
// state of an account no longer one is cleared). It does what the service did, in the same order and with the same
// locks:
// - the floor of an account is its own (alert_settings.account_balance_cents_min), else the entity's, else the
//   default passed in; an account under its floor fires `balance.low:<account id>`;
// - when no key's firing differs from its state's `active`, it returns at once (nothing to raise or clear: the
//   question veil_alerts_could_change asked);
// - otherwise it locks, in key order, every state row it may raise or clear; inserts the firing keys in key order
//   (`on conflict … where not active`: a row comes back to one transaction only, so an alert is raised once under
//   concurrency); emits a `balance.low` event for each raised key, with the payload the service gave it, and its
//   webhook deliveries; and clears the active keys that no longer fire.
// It returns the keys it raised.
//
// `veil_book_entries_alerting` (0028) is replaced with the same signature and answer. It books with no audit rows,
// evaluates balance.low, then appends (or queues) the audit rows: the chain's head is never held for the
// evaluation. `alerts_pending` now says only that a touched account is one an envelope uses, the part the service
// still evaluates (budget.overspent needs the budget month it computes).
const STATEMENTS = [
  `create function veil_balance_alerts(p_entity_id uuid, p_touched uuid[], p_cash_kinds text[], p_floor_default bigint)
  returns setof text language plpgsql as $$
  declare
    keys text[];
    firing text[];
  begin
    select coalesce(array_agg('balance.low:' || a.id::text), '{}'),
           coalesce(array_agg('balance.low:' || a.id::text) filter (where a.balance_cents < a.floor), '{}')
      into keys, firing
      from (select a.id, a.balance_cents,
                   coalesce((s.account_balance_cents_min ->> a.id::text)::bigint, s.balance_cents_min, p_floor_default) as floor
              from accounts a
              left join alert_settings s on s.entity_id = p_entity_id
             where a.entity_id = p_entity_id and a.kind = any (p_cash_kinds) and a.archived_at is null
               and (p_touched is null or a.id = any (p_touched))) a;
    if not exists (select 1 from unnest(keys) k
                     left join alert_states st on st.entity_id = p_entity_id and st.condition_key = k and st.active
                    where (k = any (firing)) <> (st.condition_key is not null))
       and not (p_touched is null and exists (select 1 from alert_states st
                                                where st.entity_id = p_entity_id and st.active
                                                  and st.condition_key like 'balance.low:%'
                                                  and st.condition_key <> all (keys))) then
      return;
    end if;
    perform 1 from alert_states st
      where st.entity_id = p_entity_id
        and (st.condition_key = any (firing)
             or (st.active and (st.condition_key = any (keys) or (p_touched is null and st.condition_key like 'balance.low:%'))))
      order by st.condition_key
      for update;
    return query
      with raised as (
        insert into alert_states as st (entity_id, condition_key, type, active)
          select p_entity_id, k, 'balance.low', true from unnest(firing) k order by k
          on conflict (entity_id, condition_key) do update
            set active = true, raised_count = st.raised_count + 1, raised_at = now(), cleared_at = null
            where not st.active
          returning st.condition_key, st.raised_count),
      events as (
        insert into ledger_events (entity_id, type, payload)
          select p_entity_id, 'balance.low',
                 jsonb_build_object('accountId', a.id, 'accountName', a.name, 'currency', a.currency,
                                    'balanceCents', a.balance_cents,
                                    'thresholdCents', coalesce((s.account_balance_cents_min ->> a.id::text)::bigint,
                                                               s.balance_cents_min, p_floor_default),
                                    'alert', jsonb_build_object('key', r.condition_key, 'occurrence', r.raised_count))
            from raised r
            join accounts a on a.id = substr(r.condition_key, length('balance.low:') + 1)::uuid
            left join alert_settings s on s.entity_id = p_entity_id
           order by r.condition_key
          returning id, type),
      deliveries as (
        insert into webhook_deliveries (event_id, subscription_id)
          select ev.id, sub.id from events ev
            join entities en on en.id = p_entity_id
            join webhook_subscriptions sub on sub.owner_user_id = en.owner_user_id and sub.deleted_at is null
           where sub.events ? ev.type and (sub.entity_ids is null or sub.entity_ids ? p_entity_id::text))
      select r.condition_key from raised r order by r.condition_key;
    update alert_states st set active = false, cleared_at = now()
      where st.entity_id = p_entity_id and st.active
        and (st.condition_key = any (keys) or (p_touched is null and st.condition_key like 'balance.low:%'))
        and st.condition_key <> all (firing);
  end $$;`,
  `create or replace function veil_book_entries_alerting(
    p_scope text, p_key text, p_request_hash text, p_entity_id uuid, p_owner_user_id uuid, p_session_id uuid,
    p_token_id uuid, p_accounts jsonb, p_entries jsonb, p_postings jsonb, p_events jsonb, p_status int,
    p_response jsonb, p_audit jsonb, p_queue_audit boolean, p_cash_kinds text[], p_floor_default bigint)
  returns table (replayed boolean, request_hash text, status_code int, response jsonb, alerts_pending boolean,
                 audit_queued boolean)
  language plpgsql as $$
  #variable_conflict use_column
  declare
    booked record;
    touched uuid[];
    queued boolean := false;
  begin
    select * into booked from veil_book_entries(p_scope, p_key, p_request_hash, p_entity_id, p_owner_user_id,
      p_session_id, p_token_id, p_accounts, p_entries, p_postings, p_events, p_status, p_response, '[]'::jsonb);
    if booked.replayed then
      return query select booked.replayed, booked.request_hash, booked.status_code, booked.response, false, false;
      return;
    end if;
    select array_agg(x.id) into touched from jsonb_to_recordset(p_accounts) as x(id uuid);
    perform veil_balance_alerts(p_entity_id, touched, p_cash_kinds, p_floor_default);
    -- The commit-time checks ran in veil_book_entries: the head, taken now, is held for the append and COMMIT.
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
    return query select booked.replayed, booked.request_hash, booked.status_code, booked.response,
      exists (select 1 from envelope_categories c where c.entity_id = p_entity_id and c.account_id = any (touched))
        or exists (select 1 from envelopes e where e.entity_id = p_entity_id and e.payment_account_id = any (touched)),
      queued;
  end $$;`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
