import { sql, type Kysely } from 'kysely';

// Frozen. The journal's two commit-time checks (0001 balance, 0004 mirror accounts) are deferred constraint
// triggers FOR EACH ROW: a PL/pgSQL call and a lookup of the entry's postings per entry, at COMMIT. An import that
// books 230,000 entries set-based spent ~10 s of its COMMIT in 460,000 such calls. Deferred, because an entry's
// postings (and an inter-entity transfer's row) may come in later statements of its transaction.
//
// An entry may now be checked at the end of the statement that inserts it instead, set-based, over every entry that
// statement inserted: a writer that inserts an entry and all its postings in one statement (data-modifying CTEs)
// marks it `checked_in_statement`. The database then holds the invariants for every entry, marked or not:
// - unmarked entries: exactly as before (the deferred row triggers, now with WHEN (not checked_in_statement), so a
//   marked entry queues no commit-time call);
// - marked entries, at the end of the inserting statement (a statement-level trigger over its transition table):
//   at least two postings, zero per currency, none on a mirror account (a marked entry is never one side of an
//   inter-entity transfer nor a reversal; those stay unmarked and deferred);
// - marked entries, in every later statement that adds postings to them (the postings trigger): what one statement
//   adds to a marked entry sums to zero per currency and touches no mirror account. So a marked entry balanced at
//   its statement's end is balanced at commit, whatever follows; and only its own transaction adds postings (0001).
// The mark cannot excuse anything: an entry inserted marked but unbalanced, or without postings, is refused by the
// statement that inserts it. Journal rows stay immutable, so the mark cannot be set afterwards.
const STATEMENTS = [
  `alter table journal_entries add column checked_in_statement boolean not null default false;`,
  `drop trigger journal_entries_balanced on journal_entries;`,
  `create constraint trigger journal_entries_balanced after insert on journal_entries
  deferrable initially deferred for each row when (not new.checked_in_statement) execute function veil_check_entry_balanced();`,
  `drop trigger journal_entries_mirror_postings on journal_entries;`,
  `create constraint trigger journal_entries_mirror_postings after insert on journal_entries
  deferrable initially deferred for each row when (not new.checked_in_statement) execute function veil_check_mirror_postings();`,
  // The same refusals, with the same messages and SQLSTATE, as the row checks (db-errors.ts maps them).
  `create function veil_check_entries_in_statement() returns trigger language plpgsql as $$
  declare
    failed record;
  begin
    -- Each marked entry's postings through the postings_entry index, once (OFFSET 0 keeps the lookup per entry:
    -- the transition table has no statistics, and a hash of every posting the books hold would be the plan).
    select c.id, coalesce(sum(p.n), 0) as posting_count,
           string_agg(case when p.total <> 0 then p.total || ' ' || p.currency end, ', ') as off_by,
           coalesce(bool_or(p.mirror), false) as mirror
      into failed
      from new_entries c
      left join lateral (
        select q.currency, sum(q.amount_cents) as total, count(*) as n,
               bool_or(exists (select 1 from accounts a where a.id = q.account_id and a.counterparty_entity_id is not null)) as mirror
          from (select x.currency, x.amount_cents, x.account_id from postings x where x.entry_id = c.id offset 0) q
         group by q.currency) p on true
     where c.checked_in_statement
     group by c.id
    having coalesce(sum(p.n), 0) < 2 or bool_or(p.total <> 0) or coalesce(bool_or(p.mirror), false)
     limit 1;
    if failed.id is null then
      return null;
    end if;
    if failed.posting_count < 2 then
      raise exception 'unbalanced_entry: entry % has % posting(s)', failed.id, failed.posting_count using errcode = '23514';
    end if;
    if failed.off_by is not null then
      raise exception 'unbalanced_entry: entry % is off by % cents', failed.id, failed.off_by using errcode = '23514';
    end if;
    raise exception 'veil_account_reserved: entry % posts to a mirror account without an inter-entity transfer', failed.id
      using errcode = '23514';
  end $$;`,
  `create trigger journal_entries_checked_in_statement after insert on journal_entries
  referencing new table as new_entries for each statement execute function veil_check_entries_in_statement();`,
  // veil_apply_postings (0029) as it was, and for postings of marked entries the check of what this statement adds.
  `create or replace function veil_apply_postings() returns trigger language plpgsql as $$
  declare
    day_accounts uuid[];
    day_entities uuid[];
    days date[];
    day_totals numeric[];
    day_counts bigint[];
    stale boolean;
    failed text[];
  begin
    -- Each new posting's entry through the primary key, once: OFFSET 0 keeps the lookup per posting (a subquery
    -- the planner may flatten is a join it may hash again). The totals per account and day, whether any entry was
    -- created by another transaction, and the first marked entry that what this statement adds to it does not
    -- leave at zero per currency or puts on a mirror account, come out of the same pass.
    with looked as materialized (
      select p.entry_id, p.account_id, p.entity_id, p.currency, p.amount_cents, e.posted_on, e.created_xact, e.checked_in_statement
        from new_postings p
        cross join lateral (select j.posted_on, j.created_xact, j.checked_in_statement from journal_entries j where j.id = p.entry_id offset 0) e)
    select array_agg(d.account_id), array_agg(d.entity_id), array_agg(d.day), array_agg(d.total_cents), array_agg(d.posting_count),
           coalesce(bool_or(d.stale), false),
           (select array[m.entry_id::text, m.off_by]
              from (select k.entry_id, string_agg(case when k.total <> 0 then k.total || ' ' || k.currency end, ', ') as off_by,
                           bool_or(k.total <> 0) as unbalanced, bool_or(k.mirror) as mirror
                      from (select l.entry_id, l.currency, sum(l.amount_cents) as total,
                                   bool_or(exists (select 1 from accounts a where a.id = l.account_id and a.counterparty_entity_id is not null)) as mirror
                              from looked l where l.checked_in_statement group by 1, 2) k
                     group by 1) m
             where m.unbalanced or m.mirror limit 1)
      into day_accounts, day_entities, days, day_totals, day_counts, stale, failed
      from (select l.account_id, l.entity_id, l.posted_on as day, sum(l.amount_cents) as total_cents, count(*) as posting_count,
                   bool_or(l.created_xact <> pg_current_xact_id()) as stale
              from looked l
             group by 1, 2, 3) d;
    if stale then
      raise exception 'journal_immutable: postings are added only by the transaction that creates their entry'
        using errcode = 'P0001';
    end if;
    if failed is not null then
      if failed[2] is not null then
        raise exception 'unbalanced_entry: entry % is off by % cents', failed[1], failed[2] using errcode = '23514';
      end if;
      raise exception 'veil_account_reserved: entry % posts to a mirror account without an inter-entity transfer', failed[1]
        using errcode = '23514';
    end if;
    update accounts a set balance_cents = a.balance_cents + d.delta
      from (select account_id, sum(amount_cents) as delta from new_postings group by account_id) d
      where a.id = d.account_id;
    -- In account order, as the service locks accounts, so two writers never take these rows in opposite orders.
    insert into account_month_totals as t (account_id, entity_id, month, total_cents, posting_count)
      select d.account_id, d.entity_id, date_trunc('month', d.day)::date, sum(d.total_cents), sum(d.posting_count)
      from unnest(day_accounts, day_entities, days, day_totals, day_counts) as d (account_id, entity_id, day, total_cents, posting_count)
      group by 1, 2, 3
      order by 1, 3
      on conflict (account_id, month) do update
        set total_cents = t.total_cents + excluded.total_cents, posting_count = t.posting_count + excluded.posting_count;
    insert into account_day_totals as t (account_id, entity_id, day, total_cents, posting_count)
      select d.account_id, d.entity_id, d.day, d.total_cents, d.posting_count
      from unnest(day_accounts, day_entities, days, day_totals, day_counts) as d (account_id, entity_id, day, total_cents, posting_count)
      order by 1, 3
      on conflict (account_id, day) do update
        set total_cents = t.total_cents + excluded.total_cents, posting_count = t.posting_count + excluded.posting_count;
    return null;
  end $$;`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
