import { sql, type Kysely } from 'kysely';

// Frozen. n8n executions are read from the audit trail (every write records its X-N8N-Execution-Id there): an
// index on the execution id, only over the rows that have one, so listing an execution's work and the executions
// of some books does not scan the whole trail.

const STATEMENTS: readonly string[] = [
  `create index audit_log_execution on audit_log (execution_id, entity_id, seq) where execution_id is not null;`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible: restore from a backup instead');
}
