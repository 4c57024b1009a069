import { sql, type Kysely } from 'kysely';

// Frozen once shipped. Recurring bills and what happened to their occurrences. An occurrence is a row only once
// it is settled (paid or skipped); the upcoming ones are computed from the recurrence rule. The unique key on
// (bill, due date) is what makes paying an occurrence twice impossible, whatever Idempotency-Key a retry carries.

const STATEMENTS: readonly string[] = [
  `create table bills (
    id uuid primary key default gen_random_uuid(),
    entity_id uuid not null references entities (id),
    name text not null check (length(name) between 1 and 200),
    payee text not null check (length(payee) between 1 and 200),
    -- An RFC 5545 RRULE (dates only); starts_on is its DTSTART.
    rrule text not null check (length(rrule) between 1 and 500),
    starts_on date not null check (starts_on between '1900-01-01' and '2199-12-31'),
    amount_cents bigint not null check (amount_cents between 1 and 1000000000000),
    estimated boolean not null,
    category_account_id uuid not null references accounts (id),
    pay_from_account_id uuid not null references accounts (id),
    autopay boolean not null,
    actor text not null,
    created_at timestamptz not null default now(),
    unique (entity_id, id),
    unique (entity_id, name)
  );`,
  `create table bill_occurrences (
    id uuid primary key default gen_random_uuid(),
    bill_id uuid not null,
    entity_id uuid not null,
    due_on date not null,
    status text not null check (status in ('paid', 'skipped')),
    amount_cents bigint check (amount_cents between 1 and 1000000000000),
    paid_on date,
    entry_id uuid,
    reason text check (length(reason) <= 500),
    actor text not null,
    created_at timestamptz not null default now(),
    unique (bill_id, due_on),
    foreign key (entity_id, bill_id) references bills (entity_id, id),
    foreign key (entity_id, entry_id) references journal_entries (entity_id, id),
    check ((status = 'paid') = (entry_id is not null and amount_cents is not null and paid_on is not null)),
    check ((status = 'skipped') = (reason is not null))
  );`,
  `create index bill_occurrences_entity_due on bill_occurrences (entity_id, due_on);`,
  `create trigger bill_occurrences_append_only before update or delete on bill_occurrences
  for each row execute function veil_journal_is_append_only();`,
  `create trigger bill_occurrences_no_truncate before truncate on bill_occurrences
  for each statement execute function veil_journal_is_append_only();`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the bills migration is not reversible: restore from a backup instead');
}
