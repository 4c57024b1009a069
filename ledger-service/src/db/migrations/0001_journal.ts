import { sql, type Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one. Invariants live here as well as in code, so a
// bug in the service (or a hand-written SQL statement) still cannot unbalance the books.

// One statement per element: PGlite's extended protocol runs a single command at a time.
const STATEMENTS: readonly string[] = [
  `create table entities (
    id uuid primary key default gen_random_uuid(),
    kind text not null check (kind in ('llc', 'personal')),
    name text not null check (length(name) between 1 and 200),
    currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
    tax_profile text not null
      check (tax_profile in ('individual', 'disregarded', 's_corp', 'partnership', 'c_corp')),
    created_at timestamptz not null default now()
  );`,
  `create table accounts (
    id uuid primary key default gen_random_uuid(),
    entity_id uuid not null references entities (id),
    name text not null check (length(name) between 1 and 200),
    code text check (length(code) <= 40),
    class text not null check (class in ('asset', 'liability', 'equity', 'income', 'expense')),
    kind text not null check (kind ~ '^[a-z_]{1,40}$'),
    currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
    counterparty_entity_id uuid references entities (id),
    balance_cents bigint not null default 0
      check (balance_cents between -9007199254740991 and 9007199254740991),
    archived_at timestamptz,
    created_at timestamptz not null default now(),
    unique (entity_id, id, currency),
    unique (entity_id, name),
    check (counterparty_entity_id is distinct from entity_id)
  );`,
  `create table journal_entries (
    id uuid primary key default gen_random_uuid(),
    seq bigint generated always as identity unique,
    entity_id uuid not null references entities (id),
    posted_on date not null check (posted_on between '1900-01-01' and '2199-12-31'),
    description text not null check (length(description) <= 500),
    source text not null check (source in ('manual', 'import', 'plaid', 'workflow', 'system')),
    reverses_entry_id uuid unique,
    idempotency_key text check (length(idempotency_key) <= 400),
    -- SHA-256 of the entry as requested, so a replayed key can be told from a conflicting one.
    content_hash text not null,
    -- The transaction that booked it: postings may be added by that transaction only.
    created_xact xid8 not null default pg_current_xact_id(),
    actor text not null,
    created_at timestamptz not null default now(),
    unique (entity_id, id),
    unique (entity_id, idempotency_key),
    foreign key (entity_id, reverses_entry_id) references journal_entries (entity_id, id)
  );`,
  `create index journal_entries_entity_posted_on on journal_entries (entity_id, posted_on, seq);`,
  `-- The composite keys make it impossible for a posting to name an account of another entity, or to post in a
  -- currency other than its account's.
  create table postings (
    id bigint generated always as identity primary key,
    entry_id uuid not null,
    entity_id uuid not null,
    account_id uuid not null,
    currency char(3) not null,
    amount_cents bigint not null
      check (amount_cents <> 0 and amount_cents between -1000000000000 and 1000000000000),
    memo text check (length(memo) <= 500),
    foreign key (entity_id, entry_id) references journal_entries (entity_id, id),
    foreign key (entity_id, account_id, currency) references accounts (entity_id, id, currency)
  );`,
  `create index postings_entry on postings (entry_id);`,
  `create index postings_account on postings (account_id, entry_id);`,
  `create table idempotency_keys (
    scope text not null,
    key text not null,
    request_hash text not null,
    status_code int not null,
    response jsonb not null,
    created_at timestamptz not null default now(),
    primary key (scope, key)
  );`,
  `create function veil_journal_is_append_only() returns trigger language plpgsql as $$
  begin
    raise exception 'journal_immutable: % on % is not allowed; post a reversing entry instead', tg_op, tg_table_name
      using errcode = 'P0001';
  end $$;`,
  `create trigger journal_entries_append_only before update or delete on journal_entries
  for each row execute function veil_journal_is_append_only();`,
  `create trigger journal_entries_no_truncate before truncate on journal_entries
  for each statement execute function veil_journal_is_append_only();`,
  `create trigger postings_append_only before update or delete on postings
  for each row execute function veil_journal_is_append_only();`,
  `create trigger postings_no_truncate before truncate on postings
  for each statement execute function veil_journal_is_append_only();`,
  // Balance per currency, checked once per entry at commit, so its postings may arrive in any order.
  `create function veil_check_entry_balanced() returns trigger language plpgsql as $$
  declare
    posting_count bigint;
    off_by text;
  begin
    select coalesce(sum(n), 0), string_agg(case when total <> 0 then total || ' ' || currency end, ', ')
      into posting_count, off_by
      from (select currency, sum(amount_cents) as total, count(*) as n
              from postings where entry_id = new.id group by currency) per_currency;
    if posting_count < 2 then
      raise exception 'unbalanced_entry: entry % has % posting(s)', new.id, posting_count using errcode = '23514';
    end if;
    if off_by is not null then
      raise exception 'unbalanced_entry: entry % is off by % cents', new.id, off_by using errcode = '23514';
    end if;
    return null;
  end $$;`,
  `create constraint trigger journal_entries_balanced after insert on journal_entries
  deferrable initially deferred for each row execute function veil_check_entry_balanced();`,
  // Postings join only an entry created by the same transaction, so the commit-time check above covers every
  // posting; the same statement-level trigger then maintains the balances (one UPDATE per INSERT statement). The
  // service locks the accounts it touches in id order first, so concurrent writers never deadlock here.
  `create function veil_apply_postings() returns trigger language plpgsql as $$
  begin
    if exists (select 1 from new_postings p join journal_entries e on e.id = p.entry_id
                where e.created_xact <> pg_current_xact_id()) then
      raise exception 'journal_immutable: postings are added only by the transaction that creates their entry'
        using errcode = 'P0001';
    end if;
    update accounts a set balance_cents = a.balance_cents + d.delta
      from (select account_id, sum(amount_cents) as delta from new_postings group by account_id) d
      where a.id = d.account_id;
    return null;
  end $$;`,
  `create trigger postings_apply after insert on postings
  referencing new table as new_postings for each statement execute function veil_apply_postings();`,
  `create function veil_balance_only_from_postings() returns trigger language plpgsql as $$
  begin
    if new.balance_cents is distinct from old.balance_cents and pg_trigger_depth() < 2 then
      raise exception 'balance_cents changes only through postings' using errcode = 'P0001';
    end if;
    if new.entity_id <> old.entity_id or new.currency <> old.currency or new.class <> old.class then
      raise exception 'an account cannot change entity, currency or class' using errcode = 'P0001';
    end if;
    return new;
  end $$;`,
  `create trigger accounts_guard before update on accounts
  for each row execute function veil_balance_only_from_postings();`,
  `create trigger accounts_no_delete before delete on accounts
  for each row execute function veil_journal_is_append_only();`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the journal migration is not reversible: restore from a backup instead');
}
