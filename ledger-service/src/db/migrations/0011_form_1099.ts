import { sql, type Kysely } from 'kysely';

// Frozen. 1099-NEC tracking: the people and firms an entity pays, whether they are contractors, where their W-9
// stands, and each payment with how it was made (cash, check and ACH count toward the form; card and third-party
// network payments are on the processor's 1099-K). The TIN is never stored here: it lives encrypted in
// encrypted_secrets, and only its last four digits are kept in the clear for display. Payments are append-only:
// a mistaken payment is voided (a dated void, kept), never deleted.

const STATEMENTS: readonly string[] = [
  `create table payees (
    id uuid primary key default gen_random_uuid(),
    entity_id uuid not null references entities (id),
    name text not null check (length(name) between 1 and 200),
    is_contractor boolean not null,
    w9_status text not null check (w9_status in ('received', 'requested', 'missing')),
    tin_type text check (tin_type in ('ssn', 'ein', 'itin')),
    tin_last4 char(4) check (tin_last4 ~ '^[0-9]{4}$'),
    tin_secret_id uuid references encrypted_secrets (id),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (entity_id, id),
    check ((tin_secret_id is null) = (tin_last4 is null) and (tin_last4 is null) = (tin_type is null))
  );`,
  `create unique index payees_entity_name on payees (entity_id, lower(name));`,
  `create table payee_payments (
    id uuid primary key default gen_random_uuid(),
    entity_id uuid not null,
    payee_id uuid not null,
    paid_on date not null,
    amount_cents bigint not null check (amount_cents > 0),
    method text not null check (method in ('cash', 'check', 'ach', 'card', 'third_party_network')),
    entry_id uuid,
    memo text,
    voided_on date,
    created_at timestamptz not null default now(),
    foreign key (entity_id, payee_id) references payees (entity_id, id),
    foreign key (entity_id, entry_id) references journal_entries (entity_id, id)
  );`,
  `create index payee_payments_entity_date on payee_payments (entity_id, paid_on);`,
  `create index payee_payments_payee on payee_payments (payee_id, paid_on);`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
