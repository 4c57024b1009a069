import { sql, type Kysely } from 'kysely';

// Frozen. Foreign keys on the tables an import or a sync writes most were checked row by row: PostgreSQL queues an
// internal trigger per inserted row and runs a lookup (with a FOR KEY SHARE lock) for each. Measured here on 300,000
// bank lines: heap 0.8 s, the account reference 1.3 s more, as much as the two costliest indexes. Without the five
// below, a 300,000-line import went from 13,400-13,700 to 15,900-16,400 rows/s.
//
// What each guarded is still refused by the database, at the end of the writing statement:
// - a bank line's (entity_id, account_id, currency) must name an account of that entity in that currency, its
//   (entity_id, entry_id) an entry of that entity, its rule_id a rule: one statement-level trigger over the
//   statement's new lines checks each distinct value once. The first three never change afterwards (a row trigger
//   refuses it); an account is never deleted (0001) nor changes entity or currency (0001) or id (below), and an
//   entry is never deleted nor changed (0001): what was checked at insert stays true with no lock held. A rule may be
//   deleted, so the rules a statement names are locked FOR KEY SHARE, as the foreign key locked them, and deleting a
//   rule a bank line still names is refused (rules.ts clears the lines' rule first). An update that sets a line's
//   entry or rule is checked by a row trigger that fires only when one of them changes.
// - ledger_events.entity_id must name an entity: the same kind of statement check, the entity locked FOR KEY SHARE;
//   deleting an entity its events name is refused, and events are never updated.
// - journal_entries.entity_id: dropped with no replacement, because it is implied. Every entry has at least two
//   postings (0001, 0031: refused at commit or at the end of its statement otherwise); each posting carries its
//   entry's entity (postings_entity_id_entry_id_fkey) and names an account of that entity
//   (postings_entity_id_account_id_currency_fkey); an account needs its entity (accounts_entity_id_fkey). So an
//   entry's entity exists whenever the entry can commit, and cannot be deleted while the account stands.
// The postings' own foreign keys stay: they are the journal's invariant (an entry's accounts belong to its entity).
// The refusals keep the foreign keys' SQLSTATE (23503), constraint names and messages.
const STATEMENTS = [
  `alter table bank_lines drop constraint bank_lines_entity_id_account_id_currency_fkey;`,
  `alter table ledger_events drop constraint ledger_events_entity_id_fkey;`,
  `alter table journal_entries drop constraint journal_entries_entity_id_fkey;`,
  `alter table bank_lines drop constraint bank_lines_entity_id_entry_id_fkey;`,
  `alter table bank_lines drop constraint bank_lines_rule_id_fkey;`,
  `create function veil_refuse_missing_reference(p_table text, p_constraint text, p_columns text, p_values text, p_target text)
  returns void language plpgsql as $$
  begin
    raise exception 'insert or update on table "%" violates foreign key constraint "%"', p_table, p_constraint
      using errcode = 'foreign_key_violation', constraint = p_constraint,
            detail = format('Key (%s)=(%s) is not present in table "%s".', p_columns, p_values, p_target);
  end $$;`,
  `create function veil_check_bank_line_references() returns trigger language plpgsql as $$
  declare
    missing record;
    wanted bigint;
    held bigint;
  begin
    select n.entity_id, n.account_id, n.currency
      into missing
      from (select distinct l.entity_id, l.account_id, l.currency from new_lines l) n
     where not exists (select 1 from accounts a where a.id = n.account_id and a.entity_id = n.entity_id and a.currency = n.currency)
     limit 1;
    if found then
      perform veil_refuse_missing_reference('bank_lines', 'bank_lines_entity_id_account_id_currency_fkey', 'entity_id, account_id, currency',
                                            format('%s, %s, %s', missing.entity_id, missing.account_id, missing.currency), 'accounts');
    end if;
    select n.entity_id, n.entry_id
      into missing
      from (select distinct l.entity_id, l.entry_id from new_lines l where l.entry_id is not null) n
     where not exists (select 1 from journal_entries e where e.id = n.entry_id and e.entity_id = n.entity_id)
     limit 1;
    if found then
      perform veil_refuse_missing_reference('bank_lines', 'bank_lines_entity_id_entry_id_fkey', 'entity_id, entry_id',
                                            format('%s, %s', missing.entity_id, missing.entry_id), 'journal_entries');
    end if;
    select count(distinct l.rule_id) into wanted from new_lines l where l.rule_id is not null;
    if wanted > 0 then
      with held_rules as (
        select r.id from categorisation_rules r where r.id in (select l.rule_id from new_lines l) for key share of r)
      select count(*) into held from held_rules;
      if held < wanted then
        select l.rule_id into missing from new_lines l
         where l.rule_id is not null and not exists (select 1 from categorisation_rules r where r.id = l.rule_id) limit 1;
        perform veil_refuse_missing_reference('bank_lines', 'bank_lines_rule_id_fkey', 'rule_id', missing.rule_id::text, 'categorisation_rules');
      end if;
    end if;
    return null;
  end $$;`,
  `create trigger bank_lines_references_exist after insert on bank_lines
  referencing new table as new_lines for each statement execute function veil_check_bank_line_references();`,
  // An update that sets a line's entry or rule: the one that changed is checked, as the foreign key checked it.
  `create function veil_check_bank_line_links() returns trigger language plpgsql as $$
  begin
    if new.entry_id is distinct from old.entry_id and new.entry_id is not null
       and not exists (select 1 from journal_entries e where e.id = new.entry_id and e.entity_id = new.entity_id) then
      perform veil_refuse_missing_reference('bank_lines', 'bank_lines_entity_id_entry_id_fkey', 'entity_id, entry_id', format('%s, %s', new.entity_id, new.entry_id), 'journal_entries');
    end if;
    if new.rule_id is distinct from old.rule_id and new.rule_id is not null then
      perform 1 from categorisation_rules r where r.id = new.rule_id for key share;
      if not found then
        perform veil_refuse_missing_reference('bank_lines', 'bank_lines_rule_id_fkey', 'rule_id', new.rule_id::text, 'categorisation_rules');
      end if;
    end if;
    return null;
  end $$;`,
  `create trigger bank_lines_links_exist after update on bank_lines
  for each row when ((new.entry_id is not null and new.entry_id is distinct from old.entry_id)
                     or (new.rule_id is not null and new.rule_id is distinct from old.rule_id))
  execute function veil_check_bank_line_links();`,
  // Row guards, named by their trigger's arguments: a change refused with a message, and the deletion of a row that
  // another table still names, refused as the foreign key's ON DELETE NO ACTION refused it.
  `create function veil_refuse_change() returns trigger language plpgsql as $$
  begin
    raise exception '%', tg_argv[0] using errcode = 'P0001';
  end $$;`,
  `create function veil_refuse_delete_referenced() returns trigger language plpgsql as $$
  declare
    referenced boolean;
  begin
    -- tg_argv: the referencing table, its column, the constraint's name.
    execute format('select exists (select 1 from %I r where r.%I = $1)', tg_argv[0], tg_argv[1]) into referenced using old.id;
    if referenced then
      raise exception 'update or delete on table "%" violates foreign key constraint "%" on table "%"', tg_table_name, tg_argv[2], tg_argv[0]
        using errcode = 'foreign_key_violation', constraint = tg_argv[2],
              detail = format('Key (id)=(%s) is still referenced from table "%s".', old.id, tg_argv[0]);
    end if;
    return old;
  end $$;`,
  `create trigger categorisation_rules_lines_kept before delete on categorisation_rules
  for each row execute function veil_refuse_delete_referenced('bank_lines', 'rule_id', 'bank_lines_rule_id_fkey');`,
  `create trigger bank_lines_keys_fixed before update on bank_lines
  for each row when (new.entity_id <> old.entity_id or new.account_id <> old.account_id or new.currency <> old.currency)
  execute function veil_refuse_change('a bank line cannot change entity, account or currency');`,
  `create function veil_check_event_entities() returns trigger language plpgsql as $$
  declare
    missing uuid;
    wanted bigint;
    held bigint;
  begin
    select count(distinct e.entity_id) into wanted from new_events e;
    with held_entities as (
      select x.id from entities x where x.id in (select e.entity_id from new_events e) for key share of x)
    select count(*) into held from held_entities;
    if held < wanted then
      select e.entity_id into missing from new_events e where not exists (select 1 from entities x where x.id = e.entity_id) limit 1;
      perform veil_refuse_missing_reference('ledger_events', 'ledger_events_entity_id_fkey', 'entity_id', missing::text, 'entities');
    end if;
    return null;
  end $$;`,
  `create trigger ledger_events_entity_exists after insert on ledger_events
  referencing new table as new_events for each statement execute function veil_check_event_entities();`,
  `create trigger ledger_events_append_only before update on ledger_events
  for each row execute function veil_refuse_change('ledger events are append-only: an update is not allowed');`,
  // Deleting an entity its events name is refused, as the foreign key refused it (no code deletes entities).
  `create trigger entities_events_kept before delete on entities
  for each row execute function veil_refuse_delete_referenced('ledger_events', 'entity_id', 'ledger_events_entity_id_fkey');`,
  // What bank lines (and every posting) name never changes: an account's id, an entity's, a rule's.
  `create trigger accounts_id_fixed before update on accounts
  for each row when (new.id <> old.id) execute function veil_refuse_change('an account cannot change id');`,
  `create trigger entities_id_fixed before update on entities
  for each row when (new.id <> old.id) execute function veil_refuse_change('an entity cannot change id');`,
  `create trigger categorisation_rules_id_fixed before update on categorisation_rules
  for each row when (new.id <> old.id) execute function veil_refuse_change('a rule cannot change id');`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
