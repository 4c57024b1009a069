import { sql, type Kysely } from 'kysely';

// Frozen once shipped. Ledger events for n8n (the Veil Trigger) and any other subscriber:
// - `ledger_events` is the outbox: a row is written in the same transaction as the change it describes, so an event
//   exists exactly when its change committed.
// - `webhook_subscriptions`: a user's subscriptions (url, event types, optional entity filter); the signing secret is
//   stored encrypted (AES-GCM bound to the row id), never in a plain column.
// - `webhook_deliveries`: one row per (event, matching subscription), created with the event; the dispatcher sends
//   it, retrying with backoff until it is delivered or gives up.

const STATEMENTS: readonly string[] = [
  `create table webhook_subscriptions (
    id uuid primary key default gen_random_uuid(),
    owner_user_id uuid not null references users (id),
    url text not null check (url ~ '^https?://' and length(url) <= 2000),
    events jsonb not null check (jsonb_typeof(events) = 'array'),
    -- null: every entity the owner has (an API token's subscription is always limited to the token's entities)
    entity_ids jsonb check (entity_ids is null or jsonb_typeof(entity_ids) = 'array'),
    secret_ciphertext text not null,
    created_by text not null,
    created_at timestamptz not null default now(),
    deleted_at timestamptz
  );`,
  `create index webhook_subscriptions_owner on webhook_subscriptions (owner_user_id) where deleted_at is null;`,
  `create table ledger_events (
    id uuid primary key default gen_random_uuid(),
    seq bigint generated always as identity unique,
    entity_id uuid not null references entities (id),
    type text not null check (type ~ '^[a-z_]{1,40}\\.[a-z_]{1,40}$'),
    payload jsonb not null,
    created_at timestamptz not null default now()
  );`,
  `create index ledger_events_entity on ledger_events (entity_id, seq);`,
  `create table webhook_deliveries (
    id uuid primary key default gen_random_uuid(),
    event_id uuid not null references ledger_events (id),
    subscription_id uuid not null references webhook_subscriptions (id),
    status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
    attempts int not null default 0 check (attempts >= 0),
    next_attempt_at timestamptz not null default now(),
    last_error text,
    delivered_at timestamptz,
    unique (event_id, subscription_id)
  );`,
  `create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'pending';`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
