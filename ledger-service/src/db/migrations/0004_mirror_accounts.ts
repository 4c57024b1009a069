import { sql, type Kysely } from 'kysely';

// Frozen. The service refuses a one-sided posting to a mirror account (an account with a counterparty entity:
// due to/from, loans between the books, investment, member capital, draws); this makes the database refuse it
// too, like every other journal invariant. An entry may post to a mirror account only when it is one side of an
// inter-entity transfer, or when it reverses an entry (a transfer's reversal, or a veil-health fix undoing one
// booked before this rule). Checked at commit, once per entry, so the transfer row may come after the entries.

const STATEMENTS: readonly string[] = [
  `create function veil_check_mirror_postings() returns trigger language plpgsql as $$
  begin
    if new.reverses_entry_id is not null then
      return null;
    end if;
    if exists (select 1 from postings p join accounts a on a.id = p.account_id
                where p.entry_id = new.id and a.counterparty_entity_id is not null)
       and not exists (select 1 from inter_entity_transfers t
                        where t.from_entry_id = new.id or t.to_entry_id = new.id) then
      raise exception 'veil_account_reserved: entry % posts to a mirror account without an inter-entity transfer', new.id
        using errcode = '23514';
    end if;
    return null;
  end $$;`,
  `create constraint trigger journal_entries_mirror_postings after insert on journal_entries
  deferrable initially deferred for each row execute function veil_check_mirror_postings();`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
