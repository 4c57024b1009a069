import { sql, type Kysely } from 'kysely';

// Frozen once shipped. Investments: securities and holdings per brokerage/retirement account (entered by hand or
// refreshed from Plaid), investment transactions as the broker reports them (append-only records, not journal
// entries: a buy inside a brokerage account moves nothing between Veil accounts), retirement contribution plans
// and the contributions booked from them (each with its journal entry), a birth year per person for catch-up
// limits, and the link from a Plaid liability (card, mortgage, student loan) to the bill it became.

const STATEMENTS: readonly string[] = [
  // Lets the rows below name (entity, account) together, so an account of another entity cannot be referenced.
  `alter table accounts add constraint accounts_entity_id_key unique (entity_id, id);`,
  `create table securities (
    id uuid primary key default gen_random_uuid(),
    entity_id uuid not null references entities (id),
    ticker text check (length(ticker) between 1 and 20),
    name text not null check (length(name) between 1 and 200),
    security_type text not null check (security_type in
      ('equity', 'etf', 'mutual_fund', 'fixed_income', 'cash', 'cryptocurrency', 'derivative', 'loan', 'other')),
    currency char(3) not null,
    plaid_security_id text check (length(plaid_security_id) between 1 and 200),
    created_at timestamptz not null default now(),
    unique (entity_id, id),
    unique (entity_id, ticker),
    unique (entity_id, plaid_security_id)
  );`,
  `create table holdings (
    id uuid primary key default gen_random_uuid(),
    entity_id uuid not null,
    account_id uuid not null,
    security_id uuid not null,
    quantity numeric(24, 8) not null check (quantity >= 0),
    price_cents bigint check (price_cents between 0 and 1000000000000),
    value_cents bigint not null check (value_cents between 0 and 1000000000000),
    cost_basis_cents bigint check (cost_basis_cents between 0 and 1000000000000),
    as_of date not null check (as_of between '1900-01-01' and '2199-12-31'),
    source text not null check (source in ('manual', 'plaid')),
    actor text not null,
    updated_at timestamptz not null default now(),
    foreign key (entity_id, account_id) references accounts (entity_id, id),
    foreign key (entity_id, security_id) references securities (entity_id, id),
    unique (account_id, security_id)
  );`,
  `create index holdings_entity on holdings (entity_id);`,
  `create table investment_transactions (
    id uuid primary key default gen_random_uuid(),
    entity_id uuid not null,
    account_id uuid not null,
    security_id uuid,
    external_id text not null check (length(external_id) between 1 and 200),
    occurred_on date not null,
    name text not null check (length(name) between 1 and 500),
    type text not null check (length(type) between 1 and 50),
    subtype text check (length(subtype) between 1 and 50),
    quantity numeric(24, 8) not null,
    price_cents bigint,
    amount_cents bigint not null check (amount_cents between -1000000000000 and 1000000000000),
    fees_cents bigint,
    currency char(3) not null,
    source text not null check (source in ('manual', 'plaid')),
    created_at timestamptz not null default now(),
    foreign key (entity_id, account_id) references accounts (entity_id, id),
    foreign key (entity_id, security_id) references securities (entity_id, id),
    unique (entity_id, external_id)
  );`,
  `create index investment_transactions_account on investment_transactions (account_id, occurred_on);`,
  `create trigger investment_transactions_append_only before update or delete on investment_transactions
  for each row execute function veil_journal_is_append_only();`,
  `create table retirement_profiles (
    entity_id uuid primary key references entities (id),
    birth_year integer check (birth_year between 1900 and 2199),
    updated_at timestamptz not null default now()
  );`,
  `create table contribution_plans (
    id uuid primary key default gen_random_uuid(),
    entity_id uuid not null references entities (id),
    name text not null check (length(name) between 1 and 200),
    limit_kind text check (limit_kind in ('ira', '401k_employee', 'sep_ira')),
    amount_cents bigint not null check (amount_cents between 1 and 1000000000000),
    -- An RFC 5545 RRULE over dates, read like a bill's; starts_on is its DTSTART.
    rrule text not null check (length(rrule) between 1 and 500),
    starts_on date not null check (starts_on between '1900-01-01' and '2199-12-31'),
    from_account_id uuid not null,
    to_account_id uuid not null,
    active boolean not null default true,
    actor text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    foreign key (entity_id, from_account_id) references accounts (entity_id, id),
    foreign key (entity_id, to_account_id) references accounts (entity_id, id),
    check (from_account_id <> to_account_id),
    unique (entity_id, id),
    unique (entity_id, name)
  );`,
  `create table contributions (
    id uuid primary key default gen_random_uuid(),
    entity_id uuid not null,
    plan_id uuid,
    due_on date,
    from_account_id uuid not null,
    to_account_id uuid not null,
    limit_kind text check (limit_kind in ('ira', '401k_employee', 'sep_ira')),
    tax_year integer not null check (tax_year between 1900 and 2199),
    amount_cents bigint not null check (amount_cents between 1 and 1000000000000),
    contributed_on date not null,
    entry_id uuid not null,
    actor text not null,
    created_at timestamptz not null default now(),
    foreign key (entity_id, plan_id) references contribution_plans (entity_id, id),
    foreign key (entity_id, entry_id) references journal_entries (entity_id, id),
    foreign key (entity_id, from_account_id) references accounts (entity_id, id),
    foreign key (entity_id, to_account_id) references accounts (entity_id, id),
    check ((plan_id is null) = (due_on is null)),
    unique (plan_id, due_on),
    unique (entry_id)
  );`,
  `create index contributions_year on contributions (entity_id, tax_year, limit_kind);`,
  `create trigger contributions_append_only before update or delete on contributions
  for each row execute function veil_journal_is_append_only();`,
  `create trigger contributions_no_truncate before truncate on contributions
  for each statement execute function veil_journal_is_append_only();`,
  // The current terms as the lender last stated them (refreshed in place; the bill's occurrences keep history).
  `create table liability_bills (
    plaid_account_id uuid primary key references plaid_accounts (id),
    entity_id uuid not null,
    bill_id uuid not null unique,
    kind text not null check (kind in ('credit', 'mortgage', 'student')),
    statement_balance_cents bigint,
    minimum_payment_cents bigint,
    next_payment_due_on date,
    interest_rate_bps integer check (interest_rate_bps between 0 and 100000),
    refreshed_at timestamptz not null default now(),
    created_at timestamptz not null default now(),
    foreign key (entity_id, bill_id) references bills (entity_id, id)
  );`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the investments migration is not reversible: restore from a backup instead');
}
