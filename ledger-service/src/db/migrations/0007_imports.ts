import { sql, type Kysely } from 'kysely';

// Frozen. Statement imports and what they decide: one row per imported file with its report; the CSV column
// mapping each account remembers; the owner's categorisation rules (configuration, not journal: editable, and
// every edit audited); statement balances to reconcile against; transfer proposals across entities; and, on a
// bank line sent to review, the line it may duplicate.

const STATEMENTS: readonly string[] = [
  `create table imports (
    id uuid primary key default gen_random_uuid(),
    entity_id uuid not null references entities (id),
    account_id uuid references accounts (id),
    file_name text not null check (length(file_name) between 1 and 300),
    format text not null check (format in ('csv', 'ofx', 'qif', 'camt', 'mt940', 'pdf', 'manual')),
    file_sha256 char(64) not null,
    report jsonb not null,
    created_by text not null,
    created_at timestamptz not null default now()
  );`,
  `create index imports_entity on imports (entity_id, created_at desc);`,
  `create table csv_mappings (
    account_id uuid primary key references accounts (id),
    entity_id uuid not null references entities (id),
    mapping jsonb not null,
    updated_at timestamptz not null default now()
  );`,
  `create table categorisation_rules (
    id uuid primary key default gen_random_uuid(),
    entity_id uuid not null references entities (id),
    position integer not null check (position >= 0),
    name text not null check (length(name) between 1 and 200),
    enabled boolean not null default true,
    conditions jsonb not null,
    action jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  );`,
  `create index categorisation_rules_entity on categorisation_rules (entity_id, position, id);`,
  `create table balance_assertions (
    id uuid primary key default gen_random_uuid(),
    entity_id uuid not null references entities (id),
    account_id uuid not null references accounts (id),
    as_on date not null,
    balance_cents bigint not null,
    kind text not null check (kind in ('ledger', 'available', 'opening', 'closing', 'manual')),
    import_id uuid references imports (id),
    created_at timestamptz not null default now()
  );`,
  `create index balance_assertions_account on balance_assertions (account_id, as_on desc);`,
  // MT940 statements are a source of their own.
  `alter table bank_lines drop constraint bank_lines_source_check;`,
  `alter table bank_lines add constraint bank_lines_source_check
    check (source in ('plaid', 'csv', 'ofx', 'qif', 'camt', 'mt940', 'pdf', 'manual'));`,
  // Two bank lines in different entities of one owner that mirror each other: a crossing of the veil the owner
  // must classify (POST /transfers). Never booked automatically; Entity Guard's verdict is kept with it.
  `create table transfer_proposals (
    id uuid primary key default gen_random_uuid(),
    outflow_line_id uuid not null references bank_lines (id),
    inflow_line_id uuid not null references bank_lines (id),
    outflow_entity_id uuid not null references entities (id),
    inflow_entity_id uuid not null references entities (id),
    amount_cents bigint not null check (amount_cents > 0),
    guard_decision text not null check (guard_decision in ('allow', 'document', 'block')),
    guard_verdict jsonb not null,
    status text not null default 'open' check (status in ('open', 'dismissed', 'booked')),
    created_at timestamptz not null default now(),
    unique (outflow_line_id, inflow_line_id)
  );`,
  `create index transfer_proposals_outflow on transfer_proposals (outflow_entity_id, status);`,
  `create index transfer_proposals_inflow on transfer_proposals (inflow_entity_id, status);`,
  `alter table bank_lines add column review_of uuid references bank_lines (id);`,
  `alter table bank_lines add column rule_id uuid references categorisation_rules (id);`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}
