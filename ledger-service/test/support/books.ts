import { sql } from 'kysely';
import type { Db } from '../../src/db/database';
import { key, type TestLedger } from './harness';

export interface Books {
  entityId: string;
  accounts: Record<string, string>;
}

/** Journal entries stored for one entity: what a test compares before and after to prove nothing was booked. */
export async function entryCount(db: Db, entityId: string): Promise<number> {
  const result = await sql<{ count: string }>`select count(*) as count from journal_entries where entity_id = ${entityId}`.execute(db);
  return Number(result.rows[0]?.count);
}

/** A write as n8n sends it: an Idempotency-Key and, when given, the execution id. */
export function n8nWrite(ledger: TestLedger, method: 'post' | 'put', path: string, body: object | undefined, executionId?: string) {
  const request = ledger.http[method](path).set('Idempotency-Key', key());
  if (executionId !== undefined) request.set('X-N8N-Execution-Id', executionId);
  return body === undefined ? request : request.send(body);
}

/** Ready to Assign and what each envelope has assigned in one month of an entity's budget. */
export async function budgetAssigned(ledger: TestLedger, entityId: string, month: string): Promise<{ readyToAssignCents: number; assigned: Record<string, number> }> {
  const response = await ledger.http.get(`/entities/${entityId}/budget/${month}`).expect(200);
  const lines = response.body.groups.flatMap((group: { envelopes: { id: string; assignedCents: number }[] }) => group.envelopes);
  return {
    readyToAssignCents: response.body.readyToAssignCents as number,
    assigned: Object.fromEntries(lines.map((line: { id: string; assignedCents: number }) => [line.id, line.assignedCents])),
  };
}

/** One envelope group "Monthly" with the named envelopes (each with its category accounts); their ids by name. */
export async function createEnvelopes(ledger: TestLedger, entityId: string, envelopes: Record<string, string[]>): Promise<Record<string, string>> {
  const group = await n8nWrite(ledger, 'post', `/entities/${entityId}/envelope-groups`, { name: 'Monthly' }).expect(201);
  const ids: Record<string, string> = {};
  for (const [name, categoryAccountIds] of Object.entries(envelopes)) {
    const response = await n8nWrite(ledger, 'post', `/entities/${entityId}/envelopes`, { name, groupId: group.body.id, categoryAccountIds }).expect(201);
    ids[name] = response.body.id;
  }
  return ids;
}

/** An entity with named accounts, created through the API like a client would. */
export async function createBooks(
  ledger: TestLedger,
  spec: { kind?: 'llc' | 'personal'; name?: string; accounts: Record<string, string> },
): Promise<Books> {
  const entity = await ledger.http
    .post('/entities')
    .set('Idempotency-Key', key('entity'))
    .send({ kind: spec.kind ?? 'llc', name: spec.name ?? 'Test LLC' })
    .expect(201);
  const accounts: Record<string, string> = {};
  for (const [name, kind] of Object.entries(spec.accounts)) {
    const account = await ledger.http
      .post(`/entities/${entity.body.id}/accounts`)
      .set('Idempotency-Key', key('account'))
      .send({ name, kind })
      .expect(201);
    accounts[name] = account.body.id;
  }
  return { entityId: entity.body.id, accounts };
}

export interface InvariantReport {
  unbalancedEntries: number;
  /** Maintained figures that differ from their postings: account balances and month and day totals (all counted). */
  balanceMismatches: number;
  periodTotalMismatches: number;
  entitiesNotZero: number;
  entries: number;
  postings: number;
}

/** Checks the books straight in SQL, independently of the service's own arithmetic. */
export async function checkInvariants(db: Db): Promise<InvariantReport> {
  const unbalanced = await sql<{ count: string }>`
    select count(*) as count from (
      select entry_id from postings group by entry_id, currency having sum(amount_cents) <> 0
      union all
      select e.id from journal_entries e left join postings p on p.entry_id = e.id
        group by e.id having count(p.id) < 2
    ) bad`.execute(db);
  const mismatches = await sql<{ count: string }>`
    select count(*) as count from accounts a
      left join (select account_id, sum(amount_cents) as total from postings group by account_id) s
        on s.account_id = a.id
      where a.balance_cents <> coalesce(s.total, 0)`.execute(db);
  const months = await sql<{ count: string }>`
    select count(*) as count from account_month_totals t
      full join (
        select p.account_id, date_trunc('month', e.posted_on)::date as month, sum(p.amount_cents) as total, count(*) as n
        from postings p join journal_entries e on e.id = p.entry_id group by 1, 2
      ) s on s.account_id = t.account_id and s.month = t.month
      where t.total_cents is distinct from s.total or t.posting_count is distinct from s.n
    union all
    select count(*) as count from account_day_totals t
      full join (
        select p.account_id, e.posted_on as day, sum(p.amount_cents) as total, count(*) as n
        from postings p join journal_entries e on e.id = p.entry_id group by 1, 2
      ) s on s.account_id = t.account_id and s.day = t.day
      where t.total_cents is distinct from s.total or t.posting_count is distinct from s.n`.execute(db);
  const entities = await sql<{ count: string }>`
    select count(*) as count from (
      select entity_id, currency from accounts group by entity_id, currency having sum(balance_cents) <> 0
    ) bad`.execute(db);
  const counts = await sql<{ entries: string; postings: string }>`
    select (select count(*) from journal_entries) as entries, (select count(*) from postings) as postings`.execute(db);
  const row = counts.rows[0];
  const periodTotalMismatches = months.rows.reduce((sum, part) => sum + Number(part.count), 0);
  return {
    unbalancedEntries: Number(unbalanced.rows[0]?.count),
    balanceMismatches: Number(mismatches.rows[0]?.count) + periodTotalMismatches,
    periodTotalMismatches,
    entitiesNotZero: Number(entities.rows[0]?.count),
    entries: Number(row?.entries),
    postings: Number(row?.postings),
  };
}
