import { sql, type Kysely } from 'kysely';

// Frozen. Which bank line stands for an entry's posting: matching a new bank line to an entry Veil already booked
// (services/entry-matching.ts) asks it for every candidate posting, and a rollback asks it for every reversed entry.
// booking_attempt: a line whose entry the owner reversed (a wrong category) is booked again under a new entry key
// (`bank-line:<id>#<attempt>`); the first booking keeps the key `bank-line:<id>`.
const STATEMENTS = [
  `create index bank_lines_entry on bank_lines (entry_id, account_id) where entry_id is not null;`,
  `alter table bank_lines add column booking_attempt int not null default 1 check (booking_attempt >= 1);`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
