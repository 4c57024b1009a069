import { sql, type Kysely } from 'kysely';

// Frozen once shipped. Users, sessions, MFA, API tokens, encrypted secrets and the hash-chained audit trail.
// Every token, code and secret that can be replayed is stored as a hash or as AES-256-GCM ciphertext, never as text.

const STATEMENTS: readonly string[] = [
  `create table users (
    id uuid primary key default gen_random_uuid(),
    email text not null check (length(email) between 3 and 254 and email = lower(email)),
    password_hash text not null,
    role text not null check (role in ('owner', 'member')),
    -- AES-256-GCM envelopes ("v1.<key id>.…"); the pending secret exists between enrolment and confirmation.
    totp_secret_encrypted text,
    totp_pending_encrypted text,
    -- The last TOTP time step accepted: a code is never accepted twice.
    totp_last_step bigint,
    mfa_enabled_at timestamptz,
    failed_logins int not null default 0 check (failed_logins >= 0),
    locked_until timestamptz,
    password_changed_at timestamptz not null default now(),
    created_at timestamptz not null default now(),
    unique (email)
  );`,
  `create table invitations (
    id uuid primary key default gen_random_uuid(),
    email text not null check (length(email) between 3 and 254),
    token_hash text not null unique,
    invited_by uuid not null references users (id),
    expires_at timestamptz not null,
    accepted_at timestamptz,
    created_at timestamptz not null default now()
  );`,
  `create table password_resets (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references users (id),
    token_hash text not null unique,
    expires_at timestamptz not null,
    used_at timestamptz,
    created_at timestamptz not null default now()
  );`,
  `create table recovery_codes (
    user_id uuid not null references users (id),
    code_hash text not null,
    used_at timestamptz,
    primary key (user_id, code_hash)
  );`,
  `-- A session is one login: its refresh tokens form a family that rotates on every use.
  create table sessions (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references users (id),
    mfa boolean not null,
    revoked_at timestamptz,
    revoked_reason text,
    created_at timestamptz not null default now()
  );`,
  `create table refresh_tokens (
    id uuid primary key default gen_random_uuid(),
    session_id uuid not null references sessions (id),
    token_hash text not null unique,
    expires_at timestamptz not null,
    used_at timestamptz,
    created_at timestamptz not null default now()
  );`,
  `create index refresh_tokens_session on refresh_tokens (session_id);`,
  `create table api_tokens (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references users (id),
    name text not null check (length(name) between 1 and 200),
    token_hash text not null unique,
    prefix text not null,
    scopes jsonb not null,
    entity_ids jsonb not null,
    last_used_at timestamptz,
    expires_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz not null default now()
  );`,
  `create index api_tokens_user on api_tokens (user_id);`,
  `-- Generic secret store (Plaid access tokens and the like): ciphertext only, bound to its row id as AAD.
  create table encrypted_secrets (
    id uuid primary key default gen_random_uuid(),
    owner_user_id uuid not null references users (id),
    entity_id uuid references entities (id),
    purpose text not null check (length(purpose) between 1 and 100),
    ciphertext text not null,
    key_id text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  );`,
  `alter table entities add column owner_user_id uuid references users (id);`,
  `create index entities_owner on entities (owner_user_id);`,
  `create table audit_log (
    seq bigint primary key check (seq > 0),
    occurred_at timestamptz not null,
    actor_type text not null,
    actor_id text not null,
    actor_user_id uuid,
    token_id uuid,
    execution_id text,
    action text not null,
    entity_id uuid,
    object_type text not null,
    object_id text,
    before jsonb,
    after jsonb,
    request_id text,
    prev_hash text not null,
    hash text not null unique
  );`,
  `create index audit_log_entity on audit_log (entity_id, seq);`,
  `create index audit_log_actor_user on audit_log (actor_user_id, seq);`,
  `-- The head of the chain: one row, locked FOR UPDATE by the writer that appends, only for the end of its
  -- transaction.
  create table audit_chain_head (
    singleton boolean primary key default true check (singleton),
    seq bigint not null,
    hash text not null
  );`,
  `insert into audit_chain_head (singleton, seq, hash) values (true, 0, repeat('0', 64));`,
  `create function veil_audit_is_append_only() returns trigger language plpgsql as $$
  begin
    raise exception 'audit_immutable: % on % is not allowed', tg_op, tg_table_name using errcode = 'P0001';
  end $$;`,
  `create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function veil_audit_is_append_only();`,
  `create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function veil_audit_is_append_only();`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the security migration is not reversible: restore from a backup instead');
}
