import { sql, type Kysely } from 'kysely';

// Frozen. Ids of the rows written in bulk (journal entries, bank lines, events and their deliveries) were random
// (version 4) UUIDs, so each new row went to a random leaf of every index keyed by them: the entries' primary key and
// (entity, id) key, postings by entry, bank lines by id and by entry, the idempotency keys made from line ids. A
// Plaid page of 500 lines touched ~500 leaves of each, and as the books outgrew the cache every insert read and
// dirtied a page of its own: the INSERT of a page's 1,000 postings took twice the CPU it takes with ordered ids.
// veil_uuid_v7() makes a version 7 UUID (RFC 9562): 48 bits of Unix time in milliseconds, then 74 random bits, so
// new ids sort after older ones and land on the rightmost leaves. Still unique and opaque; an id now tells roughly
// when its row was created (as created_at does anyway). Node makes the same kind (services/ids.ts).
const STATEMENTS = [
  `create function veil_uuid_v7() returns uuid language sql volatile parallel safe as $$
    select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                                          placing substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
                                          from 1 for 6),
                                  52, 1), 53, 1), 'hex')::uuid
  $$;`,
  `alter table journal_entries alter column id set default veil_uuid_v7();`,
  `alter table bank_lines alter column id set default veil_uuid_v7();`,
  `alter table ledger_events alter column id set default veil_uuid_v7();`,
  `alter table webhook_deliveries alter column id set default veil_uuid_v7();`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
