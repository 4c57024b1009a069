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
  `-- A transfer links an entry in each book that books against the other entity (its inter-entity account), and
  -- the transfer's amount leaves the named source account and reaches the named target account.
  create function veil_check_transfer_pairing() returns trigger language plpgsql as $$
  begin
    if not exists (
      select 1 from postings p join accounts a on a.id = p.account_id
      where p.entry_id = new.from_entry_id and a.counterparty_entity_id = new.to_entity_id
    ) or not exists (
      select 1 from postings p join accounts a on a.id = p.account_id
      where p.entry_id = new.to_entry_id and a.counterparty_entity_id = new.from_entity_id
    ) then
      raise exception 'veil_pairing: transfer % does not book against the other entity on both sides', new.id
        using errcode = '23514';
    end if;
    if (select coalesce(sum(amount_cents), 0) from postings where entry_id = new.from_entry_id and account_id = new.from_account_id)
         <> -new.amount_cents
       or (select coalesce(sum(amount_cents), 0) from postings where entry_id = new.to_entry_id and account_id = new.to_account_id)
         <> new.amount_cents then
      raise exception 'veil_pairing: transfer % does not move its amount out of % and into %', new.id, new.from_account_id,
        new.to_account_id using errcode = '23514';
    end if;
    return null;
  end $$;`,
  `create constraint trigger inter_entity_transfers_paired after insert on inter_entity_transfers
  deferrable initially deferred for each row execute function veil_check_transfer_pairing();`,
  `-- A transfer's reversal is the reversal of both of its entries, nothing else.
  create function veil_check_transfer_reversal() returns trigger language plpgsql as $$
  begin
    if not exists (
      select 1 from inter_entity_transfers t
        join journal_entries f on f.id = new.from_reversal_entry_id and f.reverses_entry_id = t.from_entry_id
        join journal_entries o on o.id = new.to_reversal_entry_id and o.reverses_entry_id = t.to_entry_id
      where t.id = new.transfer_id
    ) then
      raise exception 'veil_pairing: the reversal of transfer % must reverse both of its entries', new.transfer_id
        using errcode = '23514';
    end if;
    return null;
  end $$;`,
  `create constraint trigger inter_entity_transfer_reversals_paired after insert on inter_entity_transfer_reversals
  deferrable initially deferred for each row execute function veil_check_transfer_reversal();`,
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
