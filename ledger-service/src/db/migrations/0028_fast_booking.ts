import { sql, type Kysely } from 'kysely';

// Frozen. What a fast-path booking (0018's `veil_book_entries`) cost beyond its own statement, found by the journal
// benchmark (issue #2).
//
// 1. Alerts. After the booking the service evaluated the alerts a posting can raise or clear (balance.low,
//    budget.overspent) in a transaction of its own: BEGIN, the entity's alert settings, the touched cash accounts,
//    their alert states under lock, the envelopes, COMMIT. Seven round trips after the one that booked, for an
//    evaluation that almost never changes anything: a low balance stays low, a healthy one stays healthy, and an
//    alert already raised is not raised again. `veil_book_entries_alerting` tells, in the booking's statement and
//    while it still holds the accounts' row locks, whether that evaluation could change anything:
//    - a touched cash account (kinds passed in, as the service defines them) whose balance is below its floor (the
//      account's own, else the entity's, else the default passed in) without an active balance.low state, or with
//      an active one while at or above its floor;
//    - or a touched account an envelope uses (as an envelope's category or its payment account).
//    The service evaluates, with its own code and in its own transaction as before, only when told so.
//
// 2. The audit chain's head. Appending to the chain locks its one head row until COMMIT, and COMMIT waits for the
//    WAL to reach the disk: every writer waited for the previous writer's fsync, so 8 clients booked barely more
//    than 1 (591 entries/s against 1,600 for the same transactions without the audit chain). A fast-path booking
//    that finds the head taken by another writer (`for update skip locked`) now commits its audit rows, durably
//    and without the head, into `audit_pending`; right after, the service seals them into the chain with `veil_audit_seal`, which takes the head, appends every pending row in the
//    order it was queued (through `veil_audit_append`, the same links), and deletes them from the queue. Sealing
//    needs no fsync of its own (p_async: synchronous_commit off for that one transaction), because what it writes
//    can be computed again: were the machine to crash before the WAL reaches the disk, the rows are still pending
//    and the next seal appends them. Whoever seals holds the head for microseconds, and one seal takes the rows of
//    every booking that committed before it. A row is pending only between its booking's commit and the seal that
//    follows before the answer; readers of the trail (listing, verification, backups, execution rollback) and a
//    timer seal what a crash or a failed seal left behind. A booking that finds the head free appends directly,
//    as before: alone, it waits for nobody, and a seal would cost it a round trip. A large batch (the service
//    decides) always appends directly: writing its rows twice costs more than its wait for the head. Other writes
//    still append directly.
//
// 3. The stored answer of a batch is a few hundred kB, compressed by pglz on every write (~7 ms per 1,000 entries);
//    lz4 takes a third of that. PGlite is built without lz4 and keeps pglz.
const STATEMENTS = [
  // Audit rows committed but not yet in the chain: each as veil_audit_append takes it (its content and digest).
  `create table audit_pending (
    id bigserial primary key,
    content jsonb not null check (jsonb_typeof(content) = 'object')
  );`,
  // Returns how many rows it sealed, or -1 when the queue holds a row the chain refuses (a damaged or tampered
  // queue): then nothing is sealed, the caller's transaction goes on, and the verifier reports it. p_async only
  // for a statement of its own (outside any transaction block): it turns synchronous_commit off for the
  // transaction it runs in.
  `create function veil_audit_seal(p_async boolean) returns int language plpgsql as $$
  declare
    moved jsonb;
  begin
    if not exists (select 1 from audit_pending) then
      return 0;
    end if;
    if p_async then
      perform set_config('synchronous_commit', 'off', true);
    end if;
    begin
      -- Sealers take turns on the head; the queue is read after it is held, so a sealer sees every row committed
      -- before it, and none that an earlier sealer already moved.
      perform 1 from audit_chain_head for update;
      with taken as (delete from audit_pending returning id, content)
        select jsonb_agg(content order by id) into moved from taken;
      perform veil_audit_append(moved);
    exception when others then
      raise warning 'veil_audit_seal: the queued audit rows cannot be sealed: %', sqlerrm;
      return -1;
    end;
    return coalesce(jsonb_array_length(moved), 0);
  end $$;`,
  // The question of point 1, asked by veil_book_entries_alerting and by the service after any other postings
  // (alertsAfterPostings): whether evaluating the alerts of the touched accounts could raise or clear anything.
  `create function veil_alerts_could_change(p_entity_id uuid, p_touched uuid[], p_cash_kinds text[], p_floor_default bigint)
  returns boolean language sql stable as $$
    select exists (
             select 1 from accounts a
               left join alert_settings s on s.entity_id = p_entity_id
               left join alert_states st on st.entity_id = p_entity_id and st.condition_key = 'balance.low:' || a.id::text
                                            and st.active
              where a.id = any (p_touched) and a.entity_id = p_entity_id and a.archived_at is null
                and a.kind = any (p_cash_kinds)
                and (a.balance_cents < coalesce((s.account_balance_cents_min ->> a.id::text)::bigint, s.balance_cents_min,
                                                p_floor_default)) is distinct from (st.condition_key is not null))
        or exists (select 1 from envelope_categories c where c.entity_id = p_entity_id and c.account_id = any (p_touched))
        or exists (select 1 from envelopes e where e.entity_id = p_entity_id and e.payment_account_id = any (p_touched))
  $$;`,
  `create function veil_book_entries_alerting(
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
    -- p_queue_audit: the audit rows go to the queue, not to the chain (an empty array leaves the head alone).
    select * into booked from veil_book_entries(p_scope, p_key, p_request_hash, p_entity_id, p_owner_user_id,
      p_session_id, p_token_id, p_accounts, p_entries, p_postings, p_events, p_status, p_response,
      case when p_queue_audit then '[]'::jsonb else p_audit end);
    if booked.replayed then
      return query select booked.replayed, booked.request_hash, booked.status_code, booked.response, false, false;
      return;
    end if;
    if p_queue_audit then
      -- The checks at commit have run (veil_finish_write): the head, taken now, is held for the append and COMMIT.
      perform 1 from audit_chain_head for update skip locked;
      if found then
        perform veil_audit_append(p_audit);
      else
        insert into audit_pending (content)
          select r.value from jsonb_array_elements(p_audit) with ordinality r order by r.ordinality;
        queued := true;
      end if;
    end if;
    select array_agg(x.id) into touched from jsonb_to_recordset(p_accounts) as x(id uuid);
    return query select booked.replayed, booked.request_hash, booked.status_code, booked.response,
      veil_alerts_could_change(p_entity_id, touched, p_cash_kinds, p_floor_default), queued;
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
