import { sql, type Kysely } from 'kysely';

// Transfer matching looks up, for every fresh line of an import or sync, the waiting lines of the owner's
// entities with the opposite amount within a few days, in one statement per chunk of lines. This partial index
// answers each probe from the lines still waiting only (booked and matched lines leave it).
const STATEMENTS = [
  `create index bank_lines_waiting_amount on bank_lines (entity_id, amount_cents, posted_on)
     where status = 'unmatched' and not pending;`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
