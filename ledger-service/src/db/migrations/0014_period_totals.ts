import { sql, type Kysely } from 'kysely';

// Frozen. Period aggregates for reports on large books: per account and calendar month, the sum and count of its
// postings by the entry's posted_on. The same statement-level trigger that keeps account balances keeps them, in
// the same transaction, so a report can sum a few rows per account and month instead of every posting, and read
// postings only for the partial months at the edges of its window. Like balances, they change only through
// postings: the table refuses direct writes.

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
  // What the books already hold.
  `insert into account_month_totals (account_id, entity_id, month, total_cents, posting_count)
    select p.account_id, p.entity_id, date_trunc('month', e.posted_on)::date, sum(p.amount_cents), count(*)
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
    return null;
  end $$;`,
  `create function veil_month_totals_only_from_postings() returns trigger language plpgsql as $$
  begin
    if tg_op = 'DELETE' or pg_trigger_depth() < 2 then
      raise exception 'account_month_totals change only through postings' using errcode = 'P0001';
    end if;
    return new;
  end $$;`,
  `create trigger account_month_totals_guard before insert or update or delete on account_month_totals
  for each row execute function veil_month_totals_only_from_postings();`,
  `create trigger account_month_totals_no_truncate before truncate on account_month_totals
  for each statement execute function veil_journal_is_append_only();`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('0014_period_totals is not reversible');
}
