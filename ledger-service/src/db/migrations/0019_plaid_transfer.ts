import { sql, type Kysely } from 'kysely';

// Frozen. Moving real money through Plaid Transfer. An entity opts in (plaid_transfer_settings); a Transfer or a
// bill payment that asks for it books its entry as usual and records one Plaid transfer per leg (a debit pulls
// from a linked depository account, a credit pushes to one) in the same transaction. The entry is pending while
// any leg is; Plaid's transfer events (read with /transfer/event/sync from the stored cursor, one row for the
// whole Plaid client) settle it, or reverse it when a leg fails or is returned.

const STATEMENTS: readonly string[] = [
  `create table plaid_transfer_settings (
    entity_id uuid primary key references entities (id),
    enabled boolean not null default false,
    legal_name text check (length(legal_name) between 1 and 100),
    network text not null default 'ach' check (network in ('ach', 'same-day-ach', 'rtp')),
    updated_at timestamptz not null default now()
  );`,
  `create table plaid_transfers (
    id uuid primary key default gen_random_uuid(),
    entity_id uuid not null,
    entry_id uuid not null,
    account_id uuid not null,
    plaid_account_id uuid not null references plaid_accounts (id),
    direction text not null check (direction in ('debit', 'credit')),
    amount_cents bigint not null check (amount_cents > 0),
    currency char(3) not null,
    plaid_authorization_id text not null unique,
    plaid_transfer_id text not null unique,
    status text not null check (status in ('pending', 'posted', 'settled', 'funds_available', 'cancelled', 'failed', 'returned')),
    failure jsonb,
    reversal_entry_id uuid,
    last_event_id integer,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    foreign key (entity_id, entry_id) references journal_entries (entity_id, id),
    foreign key (entity_id, reversal_entry_id) references journal_entries (entity_id, id),
    foreign key (entity_id, account_id, currency) references accounts (entity_id, id, currency),
    unique (entry_id, plaid_account_id, direction)
  );`,
  `create index plaid_transfers_entity on plaid_transfers (entity_id, created_at);`,
  `create table plaid_transfer_event_cursor (
    id smallint primary key check (id = 1),
    last_event_id integer not null default 0 check (last_event_id >= 0),
    updated_at timestamptz not null default now()
  );`,
  `insert into plaid_transfer_event_cursor (id) values (1);`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
