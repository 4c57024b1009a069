import { sql, type Kysely } from 'kysely';

// Frozen once shipped. The corporate veil: inter-entity transfers link two journal entries (one per entity) and
// their document. Transfers, their reversals and documents are append-only, like the journal.

const STATEMENTS: readonly string[] = [
  `-- The role an inter-entity account plays for one counterparty, so the service finds it again (found or created
  -- on first use); at most one account per (entity, role, counterparty, currency).
  alter table accounts add column veil_role text check (veil_role ~ '^[a-z_]{1,40}$');`,
  `create unique index accounts_veil_role on accounts (entity_id, veil_role, counterparty_entity_id, currency)
  where veil_role is not null;`,
  `create table veil_policies (
    entity_id uuid primary key references entities (id),
    draw_policy text not null default 'warn' check (draw_policy in ('warn', 'block')),
    -- What Entity Guard answers for an LLC paying a personal-looking expense, and for a personal account paying an
    -- LLC expense: refuse it, or let it through once it is documented (as a draw, or as a reimbursement owed).
    commingling_policy text not null default 'block' check (commingling_policy in ('block', 'document_as_draw')),
    personal_pays_business_policy text not null default 'document_as_reimbursement'
      check (personal_pays_business_policy in ('block', 'document_as_reimbursement')),
    -- Owner-marked merchants or words: personal ones (for the LLC) and business ones (for the owner).
    personal_markers jsonb not null default '[]'::jsonb check (jsonb_typeof(personal_markers) = 'array'),
    business_markers jsonb not null default '[]'::jsonb check (jsonb_typeof(business_markers) = 'array'),
    updated_at timestamptz not null default now()
  );`,
  `create table inter_entity_transfers (
    id uuid primary key default gen_random_uuid(),
    classification text not null check (classification in
      ('capital_contribution', 'owner_draw', 'loan', 'loan_repayment', 'reimbursement', 'reimbursement_payment')),
    from_entity_id uuid not null references entities (id),
    to_entity_id uuid not null references entities (id),
    from_account_id uuid not null references accounts (id),
    to_account_id uuid not null references accounts (id),
    from_entry_id uuid not null unique,
    to_entry_id uuid not null unique,
    amount_cents bigint not null check (amount_cents between 1 and 1000000000000),
    currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
    posted_on date not null check (posted_on between '1900-01-01' and '2199-12-31'),
    memo text check (length(memo) <= 500),
    related_transfer_id uuid references inter_entity_transfers (id),
    terms jsonb not null default '{}'::jsonb,
    warnings jsonb not null default '[]'::jsonb,
    actor text not null,
    created_at timestamptz not null default now(),
    check (from_entity_id <> to_entity_id),
    check ((classification in ('loan_repayment', 'reimbursement_payment')) = (related_transfer_id is not null)),
    -- Each entry belongs to the entity on its side: a transfer cannot link two entries of the same books.
    foreign key (from_entity_id, from_entry_id) references journal_entries (entity_id, id),
    foreign key (to_entity_id, to_entry_id) references journal_entries (entity_id, id)
  );`,
  `create index inter_entity_transfers_from on inter_entity_transfers (from_entity_id, posted_on);`,
  `create index inter_entity_transfers_to on inter_entity_transfers (to_entity_id, posted_on);`,
  `create index inter_entity_transfers_related on inter_entity_transfers (related_transfer_id);`,
  `create table inter_entity_transfer_reversals (
    transfer_id uuid primary key references inter_entity_transfers (id),
    from_entity_id uuid not null,
    to_entity_id uuid not null,
    from_reversal_entry_id uuid not null unique,
    to_reversal_entry_id uuid not null unique,
    actor text not null,
    created_at timestamptz not null default now(),
    foreign key (from_entity_id, from_reversal_entry_id) references journal_entries (entity_id, id),
    foreign key (to_entity_id, to_reversal_entry_id) references journal_entries (entity_id, id)
  );`,
  `create table veil_documents (
    id uuid primary key default gen_random_uuid(),
    transfer_id uuid not null unique references inter_entity_transfers (id),
    kind text not null check (kind in ('contribution_record', 'draw_record', 'promissory_note', 'payment_record',
      'reimbursement_request', 'reimbursement_payment_record')),
    title text not null check (length(title) between 1 and 300),
    year int not null check (year between 1900 and 2199),
    markdown text not null check (length(markdown) <= 1000000),
    sha256 char(64) not null check (sha256 ~ '^[0-9a-f]{64}$'),
    created_at timestamptz not null default now()
  );`,
  `create trigger inter_entity_transfers_append_only before update or delete on inter_entity_transfers
  for each row execute function veil_journal_is_append_only();`,
  `create trigger inter_entity_transfers_no_truncate before truncate on inter_entity_transfers
  for each statement execute function veil_journal_is_append_only();`,
  `create trigger inter_entity_transfer_reversals_append_only before update or delete on inter_entity_transfer_reversals
  for each row execute function veil_journal_is_append_only();`,
  `create trigger veil_documents_append_only before update or delete on veil_documents
  for each row execute function veil_journal_is_append_only();`,
  `create trigger veil_documents_no_truncate before truncate on veil_documents
  for each statement execute function veil_journal_is_append_only();`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the veil migration is not reversible: restore from a backup instead');
}
