import { sql, type Kysely } from 'kysely';

// Frozen. Plaid items (one bank login), the accounts they link into an entity's chart, and the facts Plaid reports
// about them that are not journal entries: balances as the bank states them, card and loan terms, holdings.
// The access token lives in encrypted_secrets (AES-256-GCM, bound to its row), never here. The sync cursor is
// advanced in the same transaction as the page it acknowledges.

const STATEMENTS: readonly string[] = [
  `create table plaid_items (
    id uuid primary key default gen_random_uuid(),
    entity_id uuid not null references entities (id),
    plaid_item_id text not null unique check (length(plaid_item_id) between 1 and 200),
    institution_id text,
    institution_name text not null,
    access_token_secret_id uuid not null references encrypted_secrets (id),
    cursor text,
    status text not null default 'healthy'
      check (status in ('healthy', 'login_required', 'pending_expiration', 'error', 'removed')),
    error jsonb,
    webhook_url text,
    last_synced_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (entity_id, id)
  );`,
  `create index plaid_items_entity on plaid_items (entity_id);`,
  `create table plaid_accounts (
    id uuid primary key default gen_random_uuid(),
    item_id uuid not null,
    entity_id uuid not null,
    account_id uuid not null,
    currency char(3) not null,
    plaid_account_id text not null check (length(plaid_account_id) between 1 and 200),
    name text not null,
    official_name text,
    mask text,
    plaid_type text not null,
    plaid_subtype text,
    current_cents bigint,
    available_cents bigint,
    limit_cents bigint,
    balances_at timestamptz,
    interest_rate_bps integer check (interest_rate_bps between 0 and 100000),
    liability jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    foreign key (entity_id, item_id) references plaid_items (entity_id, id),
    foreign key (entity_id, account_id, currency) references accounts (entity_id, id, currency),
    unique (item_id, plaid_account_id),
    unique (account_id)
  );`,
  `create table plaid_holdings (
    id uuid primary key default gen_random_uuid(),
    plaid_account_id uuid not null references plaid_accounts (id),
    security_id text not null,
    ticker text,
    name text,
    security_type text,
    quantity numeric(24, 8) not null,
    price_cents bigint,
    value_cents bigint not null,
    cost_basis_cents bigint,
    currency char(3) not null,
    as_of date not null,
    updated_at timestamptz not null default now(),
    unique (plaid_account_id, security_id)
  );`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}
