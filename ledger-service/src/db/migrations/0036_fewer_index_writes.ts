import { sql, type Kysely } from 'kysely';

// Frozen. Two indexes that every booking wrote to and that guarded nothing else did:
// - journal_entries' unique (reverses_entry_id) held one entry per journal entry, NULL for every entry that reverses
//   nothing (nearly all of them). The rule it keeps, an entry is reversed at most once, concerns the others only: a
//   partial unique index over them keeps it, under the same name, so the refusal is still reported as
//   `already_reversed` (services/db-errors.ts).
// - audit_log's unique (hash): 64 hex digits, in random order, one per audit row, so each append wrote a leaf of its
//   own in an index that outgrows memory with the trail. No reader looks a row up by its hash (the verifier walks
//   `seq`), and two rows cannot share one: each hash covers the row's own `seq`, which the primary key keeps unique.
const STATEMENTS = [
  `alter table journal_entries drop constraint journal_entries_reverses_entry_id_key;`,
  `create unique index journal_entries_reverses_entry_id_key on journal_entries (reverses_entry_id) where reverses_entry_id is not null;`,
  `alter table audit_log drop constraint audit_log_hash_key;`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
