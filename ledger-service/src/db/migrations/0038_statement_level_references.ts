import { sql, type Kysely } from 'kysely';

// Frozen. Three foreign keys on the tables an import or a sync writes most were checked row by row: PostgreSQL
// queues an internal trigger per inserted row and runs a lookup (with a FOR KEY SHARE lock) for each. Measured here
// on 300,000 bank lines: heap 0.8 s, the account reference 1.3 s more, as much as the two costliest indexes; a
// 300,000-line import went from 13,400-13,700 to 15,100-15,500 rows/s without these three.
//
// What each guarded is still refused, by the database, at the end of the writing statement:
// - bank_lines (entity_id, account_id, currency) must name an account of that entity in that currency: a
//   statement-level trigger over the statement's new rows checks each distinct triple once. Those three columns of a
//   bank line never change afterwards (a row trigger refuses it), and an account is never deleted (0001) nor changes
//   entity or currency (0001) or id (below): what was checked at insert stays true, with no lock to hold.
// - ledger_events.entity_id must name an entity: the same kind of statement check. Events are never updated.
// - journal_entries.entity_id: dropped with no replacement, because it is implied. Every entry has at least two
//   postings (0001, 0031: refused at commit or at the end of its statement otherwise); each posting carries its
//   entry's entity (postings_entity_id_entry_id_fkey) and names an account of that entity
//   (postings_entity_id_account_id_currency_fkey); an account needs its entity (accounts_entity_id_fkey). So an
//   entry's entity exists whenever the entry can commit, and cannot be deleted while the account stands.
// - deleting an entity its events name (or changing an entity's or an account's id) is refused by row triggers.
// The refusals keep the foreign keys' SQLSTATE (23503), constraint names and messages.
const STATEMENTS = [
  `alter table bank_lines drop constraint bank_lines_entity_id_account_id_currency_fkey;`,
  `alter table ledger_events drop constraint ledger_events_entity_id_fkey;`,
  `alter table journal_entries drop constraint journal_entries_entity_id_fkey;`,
  `create function veil_check_bank_line_accounts() returns trigger language plpgsql as $$
  declare
    missing record;
  begin
    select n.entity_id, n.account_id, n.currency
      into missing
      from (select distinct l.entity_id, l.account_id, l.currency from new_lines l) n
     where not exists (select 1 from accounts a where a.id = n.account_id and a.entity_id = n.entity_id and a.currency = n.currency)
     limit 1;
    if found then
      raise exception 'insert or update on table "bank_lines" violates foreign key constraint "bank_lines_entity_id_account_id_currency_fkey"'
        using errcode = 'foreign_key_violation', constraint = 'bank_lines_entity_id_account_id_currency_fkey',
              detail = format('Key (entity_id, account_id, currency)=(%s, %s, %s) is not present in table "accounts".', missing.entity_id, missing.account_id, missing.currency);
    end if;
    return null;
  end $$;`,
  `create trigger bank_lines_account_exists after insert on bank_lines
  referencing new table as new_lines for each statement execute function veil_check_bank_line_accounts();`,
  `create function veil_bank_line_keys_fixed() returns trigger language plpgsql as $$
  begin
    raise exception 'a bank line cannot change entity, account or currency' using errcode = 'P0001';
  end $$;`,
  `create trigger bank_lines_keys_fixed before update on bank_lines
  for each row when (new.entity_id <> old.entity_id or new.account_id <> old.account_id or new.currency <> old.currency)
  execute function veil_bank_line_keys_fixed();`,
  `create function veil_check_event_entities() returns trigger language plpgsql as $$
  declare
    missing uuid;
  begin
    select n.entity_id
      into missing
      from (select distinct e.entity_id from new_events e) n
     where not exists (select 1 from entities x where x.id = n.entity_id)
     limit 1;
    if found then
      raise exception 'insert or update on table "ledger_events" violates foreign key constraint "ledger_events_entity_id_fkey"'
        using errcode = 'foreign_key_violation', constraint = 'ledger_events_entity_id_fkey',
              detail = format('Key (entity_id)=(%s) is not present in table "entities".', missing);
    end if;
    return null;
  end $$;`,
  `create trigger ledger_events_entity_exists after insert on ledger_events
  referencing new table as new_events for each statement execute function veil_check_event_entities();`,
  `create function veil_events_are_append_only() returns trigger language plpgsql as $$
  begin
    raise exception 'ledger events are append-only: % on % is not allowed', tg_op, tg_table_name using errcode = 'P0001';
  end $$;`,
  `create trigger ledger_events_append_only before update on ledger_events
  for each row execute function veil_events_are_append_only();`,
  // Deleting an entity its events name is refused, as the foreign key refused it (no code deletes entities).
  `create function veil_entity_events_kept() returns trigger language plpgsql as $$
  begin
    if exists (select 1 from ledger_events e where e.entity_id = old.id) then
      raise exception 'update or delete on table "entities" violates foreign key constraint "ledger_events_entity_id_fkey" on table "ledger_events"'
        using errcode = 'foreign_key_violation', constraint = 'ledger_events_entity_id_fkey',
              detail = format('Key (id)=(%s) is still referenced from table "ledger_events".', old.id);
    end if;
    return old;
  end $$;`,
  `create trigger entities_events_kept before delete on entities for each row execute function veil_entity_events_kept();`,
  // An account's id is what bank lines (and every posting) name: it never changes. Nor does an entity's.
  `create function veil_account_id_fixed() returns trigger language plpgsql as $$
  begin
    raise exception 'an account cannot change id' using errcode = 'P0001';
  end $$;`,
  `create trigger accounts_id_fixed before update on accounts
  for each row when (new.id <> old.id) execute function veil_account_id_fixed();`,
  `create function veil_entity_id_fixed() returns trigger language plpgsql as $$
  begin
    raise exception 'an entity cannot change id' using errcode = 'P0001';
  end $$;`,
  `create trigger entities_id_fixed before update on entities
  for each row when (new.id <> old.id) execute function veil_entity_id_fixed();`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
