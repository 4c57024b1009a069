import { sql, type Kysely } from 'kysely';

// Frozen once shipped. The zero-based budget: envelope groups, envelopes linked to expense categories (or to a
// credit card, for its payment envelope), an append-only log of assignments and moves, the saved allocation rules
// and the allocations applied. Activity is never stored: it is read from the journal every time.

const STATEMENTS: readonly string[] = [
  `create table envelope_groups (
    id uuid primary key default gen_random_uuid(),
    -- Display order: creation order, which created_at cannot give inside one transaction.
    seq bigint generated always as identity unique,
    entity_id uuid not null references entities (id),
    name text not null check (length(name) between 1 and 200),
    -- The group the service keeps for credit-card payment envelopes (one per entity).
    system_role text check (system_role in ('credit_card_payments')),
    created_at timestamptz not null default now(),
    unique (entity_id, id),
    unique (entity_id, name)
  );`,
  `create unique index envelope_groups_system_role on envelope_groups (entity_id, system_role) where system_role is not null;`,
  `create table envelopes (
    id uuid primary key default gen_random_uuid(),
    seq bigint generated always as identity unique,
    entity_id uuid not null references entities (id),
    group_id uuid not null,
    name text not null check (length(name) between 1 and 200),
    target_kind text check (target_kind in ('monthly', 'by_date', 'fill_to')),
    target_amount_cents bigint check (target_amount_cents between 1 and 1000000000000),
    target_due_on date,
    -- Set on a credit card's payment envelope: card spending from funded envelopes moves here.
    payment_account_id uuid,
    created_at timestamptz not null default now(),
    unique (entity_id, id),
    unique (entity_id, name),
    foreign key (entity_id, group_id) references envelope_groups (entity_id, id),
    foreign key (payment_account_id) references accounts (id),
    check ((target_kind is null) = (target_amount_cents is null)),
    check ((target_kind = 'by_date') = (target_due_on is not null))
  );`,
  `create unique index envelopes_payment_account on envelopes (entity_id, payment_account_id) where payment_account_id is not null;`,
  `-- A category feeds at most one envelope, so activity is never counted twice.
  create table envelope_categories (
    entity_id uuid not null,
    envelope_id uuid not null,
    account_id uuid not null references accounts (id),
    primary key (entity_id, account_id),
    foreign key (entity_id, envelope_id) references envelopes (entity_id, id)
  );`,
  `-- Assign and move events, never edited: an envelope's assigned amount for a month is the sum of its rows.
  create table budget_assignments (
    seq bigint generated always as identity primary key,
    entity_id uuid not null,
    envelope_id uuid not null,
    month char(7) not null check (month ~ '^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$'),
    amount_cents bigint not null check (amount_cents <> 0 and amount_cents between -1000000000000 and 1000000000000),
    kind text not null check (kind in ('assign', 'move', 'allocation')),
    -- The move (two rows summing to zero) or the allocation this row belongs to.
    group_id uuid,
    actor text not null,
    created_at timestamptz not null default now(),
    foreign key (entity_id, envelope_id) references envelopes (entity_id, id)
  );`,
  `create index budget_assignments_entity_month on budget_assignments (entity_id, month);`,
  `create table allocation_rules (
    entity_id uuid primary key references entities (id),
    rules jsonb not null check (jsonb_typeof(rules) = 'array'),
    updated_at timestamptz not null default now()
  );`,
  `create table allocations (
    id uuid primary key default gen_random_uuid(),
    entity_id uuid not null references entities (id),
    month char(7) not null check (month ~ '^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$'),
    income_cents bigint not null check (income_cents between 1 and 1000000000000),
    source_entry_id uuid,
    rules jsonb not null,
    lines jsonb not null,
    leftover_cents bigint not null check (leftover_cents >= 0),
    actor text not null,
    created_at timestamptz not null default now(),
    foreign key (entity_id, source_entry_id) references journal_entries (entity_id, id)
  );`,
  `-- An income entry is allocated once: a second allocation of it would assign the same dollars twice.
  create unique index allocations_source_entry on allocations (entity_id, source_entry_id) where source_entry_id is not null;`,
  `create trigger envelope_categories_append_only before update or delete on envelope_categories
  for each row execute function veil_journal_is_append_only();`,
  `create trigger budget_assignments_append_only before update or delete on budget_assignments
  for each row execute function veil_journal_is_append_only();`,
  `create trigger budget_assignments_no_truncate before truncate on budget_assignments
  for each statement execute function veil_journal_is_append_only();`,
  `create trigger allocations_append_only before update or delete on allocations
  for each row execute function veil_journal_is_append_only();`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the budget migration is not reversible: restore from a backup instead');
}
