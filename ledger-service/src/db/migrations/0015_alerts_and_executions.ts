import { sql, type Kysely } from 'kysely';

// Frozen once shipped. Alerts pushed as events, and n8n executions recorded as such:
// - `alert_settings`: per entity, what counts as a low balance (one floor for every cash account, and optional
//   floors per account) and how many days ahead a bill is "due".
// - `alert_states`: one row per condition the ledger watches (`balance.low:<account>`, `bill.due:<bill>:<date>`,
//   `budget.overspent:<envelope>:<month>` …). An event is emitted only when a condition turns active; it is
//   emitted again only after it cleared. The row (primary key) is what makes that exactly once under concurrency:
//   `insert … on conflict do update … where not active` returns a row to one transaction only.
// - `workflow_executions`: what an n8n execution told the ledger about itself (workflow id and name) and its
//   status. Its work is still read from the audit trail (0012); this adds what the trail cannot know.
// - `bill_occurrences.settlement`: a paid occurrence whose payment is reversed (an execution's rollback) is open
//   again and can be paid again: the settlements of one occurrence are numbered, one row each (still append-only).

const STATEMENTS: readonly string[] = [
  `create table alert_settings (
    entity_id uuid primary key references entities (id),
    balance_cents_min bigint not null default 0 check (balance_cents_min between -1000000000000 and 1000000000000),
    -- {"<account id>": <cents>}: a floor for one account, instead of the entity's
    account_balance_cents_min jsonb not null default '{}' check (jsonb_typeof(account_balance_cents_min) = 'object'),
    bill_due_within_days int not null default 3 check (bill_due_within_days between 0 and 60),
    updated_at timestamptz not null default now()
  );`,
  `create table alert_states (
    entity_id uuid not null references entities (id),
    condition_key text not null check (length(condition_key) between 1 and 200),
    type text not null check (type ~ '^[a-z_]{1,40}\\.[a-z_]{1,40}$'),
    active boolean not null,
    raised_count int not null default 1 check (raised_count >= 1),
    raised_at timestamptz not null default now(),
    cleared_at timestamptz,
    primary key (entity_id, condition_key)
  );`,
  `create index alert_states_active on alert_states (entity_id) where active;`,
  `create table workflow_executions (
    owner_user_id uuid not null references users (id),
    execution_id text not null check (length(execution_id) between 1 and 100),
    workflow_id text check (length(workflow_id) <= 100),
    workflow_name text check (length(workflow_name) <= 200),
    status text not null default 'running' check (status in ('running', 'succeeded', 'failed', 'rolled_back')),
    error_message text check (length(error_message) <= 1000),
    -- when n8n reported the execution failed (kept when it is then rolled back)
    failed_at timestamptz,
    first_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (owner_user_id, execution_id)
  );`,
  `create index workflow_executions_workflow on workflow_executions (owner_user_id, workflow_id);`,
  `alter table bill_occurrences add column settlement int not null default 1 check (settlement between 1 and 1000);`,
  `alter table bill_occurrences drop constraint bill_occurrences_bill_id_due_on_key;`,
  `alter table bill_occurrences add constraint bill_occurrences_settlement_key unique (bill_id, due_on, settlement);`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
