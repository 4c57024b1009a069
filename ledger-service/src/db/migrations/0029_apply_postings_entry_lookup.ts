import { sql, type Kysely } from 'kysely';

// Frozen. veil_apply_postings (0014) as it was, but for how it finds the entries of the new postings: it joined the
// statement's transition table to journal_entries three times (the immutability check, the month totals, the day
// totals), and PostgreSQL hashed the whole journal for each join — the transition table has no statistics, and
// PL/pgSQL keeps the plan of a statement without parameters for the life of the connection, made when the journal
// was small. A Plaid sync's INSERT of 1,000 postings took 14.7 ms per page at 20,000 entries and 27.7 ms at
// 100,000, growing with the books. Each posting's entry is now found through the primary key, in one pass that gives
// the totals per account and day (months are summed from those) and the immutability check: same checks, same
// balances, same totals, written in the same order.
const STATEMENTS = [
  `create or replace function veil_apply_postings() returns trigger language plpgsql as $$
  declare
    day_accounts uuid[];
    day_entities uuid[];
    days date[];
    day_totals numeric[];
    day_counts bigint[];
    stale boolean;
  begin
    -- Each new posting's entry through the primary key, once: OFFSET 0 keeps the lookup per posting (a subquery
    -- the planner may flatten is a join it may hash again). The totals per account and day, and whether any entry
    -- was created by another transaction, come out of the same pass.
    select array_agg(d.account_id), array_agg(d.entity_id), array_agg(d.day), array_agg(d.total_cents), array_agg(d.posting_count),
           coalesce(bool_or(d.stale), false)
      into day_accounts, day_entities, days, day_totals, day_counts, stale
      from (select p.account_id, p.entity_id, e.posted_on as day, sum(p.amount_cents) as total_cents, count(*) as posting_count,
                   bool_or(e.created_xact <> pg_current_xact_id()) as stale
              from new_postings p
              cross join lateral (select j.posted_on, j.created_xact from journal_entries j where j.id = p.entry_id offset 0) e
             group by 1, 2, 3) d;
    if stale then
      raise exception 'journal_immutable: postings are added only by the transaction that creates their entry'
        using errcode = 'P0001';
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
