import { sql, type Kysely } from 'kysely';

// Frozen. Taking back budget changes an n8n execution made. Assignments are append-only events, so a change is
// taken back by negating rows, and this table records once that a group of rows (an allocation, a move, or an
// assignment made by /assign, which now carries a group id too) was taken back: its primary key is the guard that
// makes two rollbacks take a change back once. An income entry can be allocated again after its allocation was
// taken back: allocations of one entry are numbered (`attempt`), and the unique index now covers the number, so a
// new attempt is possible only after the previous one is reversed (the service checks) and at most once per number.

const STATEMENTS: readonly string[] = [
  `create table budget_reversals (
    group_id uuid primary key,
    entity_id uuid not null references entities (id),
    kind text not null check (kind in ('assign', 'move', 'allocation')),
    actor text not null,
    reversed_at timestamptz not null default now()
  );`,
  `create trigger budget_reversals_append_only before update or delete on budget_reversals
  for each row execute function veil_journal_is_append_only();`,
  `create trigger budget_reversals_no_truncate before truncate on budget_reversals
  for each statement execute function veil_journal_is_append_only();`,
  `-- Allocations taken back before this table existed, read from the audit trail.
  insert into budget_reversals (group_id, entity_id, kind, actor, reversed_at)
  select distinct on (a.object_id) a.object_id::uuid, a.entity_id, 'allocation', a.actor_type || ':' || a.actor_id, a.occurred_at
  from audit_log a
  join allocations l on l.id::text = a.object_id
  where a.action = 'allocation.reversed' and a.object_type = 'allocation' and a.entity_id is not null
  order by a.object_id, a.seq;`,
  `alter table allocations add column attempt integer not null default 1 check (attempt between 1 and 1000);`,
  `drop index allocations_source_entry;`,
  `-- An income entry is allocated once per attempt: a second allocation of it would assign the same dollars twice.
  create unique index allocations_source_entry on allocations (entity_id, source_entry_id, attempt) where source_entry_id is not null;`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the budget reversals migration is not reversible: restore from a backup instead');
}
