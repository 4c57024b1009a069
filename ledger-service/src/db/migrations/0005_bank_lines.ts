import { sql, type Kysely } from 'kysely';

// Frozen. What a bank said about an account, from any source (Plaid, CSV, OFX, QIF, CAMT, PDF, typed by hand),
// before and after it becomes an entry. A line is never deleted: a bank that withdraws a line (Plaid `removed`, a
// pending line that posts under a new id) marks it removed, and the entry booked from it, if any, is reversed.
// `external_id` is the bank's own id (FITID, Plaid transaction_id) or, for sources without one, a stable hash of
// the row and its ordinal; a second arrival of the same id for the same account is a duplicate by definition.
// amount_cents is signed from the account holder's side: positive = money into the account.

const STATEMENTS: readonly string[] = [
  `create table bank_lines (
    id uuid primary key default gen_random_uuid(),
    entity_id uuid not null references entities (id),
    account_id uuid not null,
    currency char(3) not null,
    source text not null check (source in ('plaid', 'csv', 'ofx', 'qif', 'camt', 'pdf', 'manual')),
    external_id text not null check (length(external_id) between 1 and 200),
    import_id uuid,
    posted_on date not null,
    authorized_on date,
    amount_cents bigint not null,
    payee text,
    memo text,
    pending boolean not null default false,
    pending_external_id text,
    status text not null default 'unmatched'
      check (status in ('unmatched', 'review', 'matched', 'booked', 'ignored', 'removed')),
    entry_id uuid,
    status_reason text,
    raw jsonb not null default '{}'::jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    foreign key (entity_id, account_id, currency) references accounts (entity_id, id, currency),
    foreign key (entity_id, entry_id) references journal_entries (entity_id, id),
    unique (account_id, external_id)
  );`,
  `create index bank_lines_account_date on bank_lines (account_id, posted_on desc, id);`,
  `create index bank_lines_entity_status on bank_lines (entity_id, status) where status in ('unmatched', 'review');`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}
