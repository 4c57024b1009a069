import { sql, type Kysely } from 'kysely';

// Frozen. Period aggregates for reports on large books: per account and calendar month, and per account and day,
// the sum and count of its postings by the entry's posted_on. The same statement-level trigger that keeps account
// balances keeps them, in the same transaction, so a report sums whole months from the month rows and the partial
// months at the edges of its window from the day rows, never the postings themselves. Like balances, they change
// only through postings: both tables refuse direct writes.

const STATEMENTS: readonly string[] = [
  `create table account_month_totals (
    account_id uuid not null references accounts (id),
    entity_id uuid not null references entities (id),
    month date not null check (extract(day from month) = 1),
    total_cents bigint not null,
    posting_count bigint not null check (posting_count > 0),
    primary key (account_id, month)
  );`,
  `create index account_month_totals_entity_month on account_month_totals (entity_id, month);`,
  `create table account_day_totals (
    account_id uuid not null references accounts (id),
    entity_id uuid not null references entities (id),
    day date not null,
    total_cents bigint not null,
    posting_count bigint not null check (posting_count > 0),
    primary key (account_id, day)
  );`,
  `create index account_day_totals_entity_day on account_day_totals (entity_id, day) include (account_id, total_cents);`,
  // What the books already hold.
  `insert into account_month_totals (account_id, entity_id, month, total_cents, posting_count)
    select p.account_id, p.entity_id, date_trunc('month', e.posted_on)::date, sum(p.amount_cents), count(*)
    from postings p join journal_entries e on e.id = p.entry_id
    group by 1, 2, 3;`,
  `insert into account_day_totals (account_id, entity_id, day, total_cents, posting_count)
    select p.account_id, p.entity_id, e.posted_on, sum(p.amount_cents), count(*)
    from postings p join journal_entries e on e.id = p.entry_id
    group by 1, 2, 3;`,
  `create or replace function veil_apply_postings() returns trigger language plpgsql as $$
  begin
    if exists (select 1 from new_postings p join journal_entries e on e.id = p.entry_id
                where e.created_xact <> pg_current_xact_id()) then
      raise exception 'journal_immutable: postings are added only by the transaction that creates their entry'
        using errcode = 'P0001';
    end if;
    update accounts a set balance_cents = a.balance_cents + d.delta
      from (select account_id, sum(amount_cents) as delta from new_postings group by account_id) d
      where a.id = d.account_id;
    -- In account order, as the service locks accounts, so two writers never take these rows in opposite orders.
    insert into account_month_totals as t (account_id, entity_id, month, total_cents, posting_count)
      select p.account_id, p.entity_id, date_trunc('month', e.posted_on)::date, sum(p.amount_cents), count(*)
      from new_postings p join journal_entries e on e.id = p.entry_id
      group by 1, 2, 3
      order by 1, 3
      on conflict (account_id, month) do update
        set total_cents = t.total_cents + excluded.total_cents, posting_count = t.posting_count + excluded.posting_count;
    insert into account_day_totals as t (account_id, entity_id, day, total_cents, posting_count)
      select p.account_id, p.entity_id, e.posted_on, sum(p.amount_cents), count(*)
      from new_postings p join journal_entries e on e.id = p.entry_id
      group by 1, 2, 3
      order by 1, 3
      on conflict (account_id, day) do update
        set total_cents = t.total_cents + excluded.total_cents, posting_count = t.posting_count + excluded.posting_count;
    return null;
  end $$;`,
  `create function veil_period_totals_only_from_postings() returns trigger language plpgsql as $$
  begin
    if tg_op = 'DELETE' or pg_trigger_depth() < 2 then
      raise exception '% change only through postings', tg_table_name using errcode = 'P0001';
    end if;
    return new;
  end $$;`,
  `create trigger account_month_totals_guard before insert or update or delete on account_month_totals
  for each row execute function veil_period_totals_only_from_postings();`,
  `create trigger account_month_totals_no_truncate before truncate on account_month_totals
  for each statement execute function veil_journal_is_append_only();`,
  `create trigger account_day_totals_guard before insert or update or delete on account_day_totals
  for each row execute function veil_period_totals_only_from_postings();`,
  `create trigger account_day_totals_no_truncate before truncate on account_day_totals
  for each statement execute function veil_journal_is_append_only();`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('0014_period_totals is not reversible');
}
