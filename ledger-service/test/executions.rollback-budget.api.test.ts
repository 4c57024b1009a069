import { sql } from 'kysely';
import { budgetAssigned, createBooks, createEnvelopes, n8nWrite, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// A rollback takes back the budget changes an execution made by hand (/assign, /move) as well as its allocations,
// once; and an income entry whose allocation was taken back can be allocated again, once.

let ledger: TestLedger;
let books: Books;
const envelope: Record<string, string> = {};
let paycheckId: string;
const EXECUTION = 'exec-budget-1';

jest.setTimeout(600_000);

const write = (method: 'post' | 'put', path: string, body: object | undefined, executionId?: string) => n8nWrite(ledger, method, path, body, executionId);

async function assigned() {
  const { readyToAssignCents, assigned: byId } = await budgetAssigned(ledger, books.entityId, '2026-06');
  const of = (name: string) => byId[envelope[name] as string] as number;
  return { readyToAssignCents, rent: of('Rent'), buffer: of('Buffer'), fun: of('Fun') };
}

async function budgetRows(): Promise<number> {
  const result = await sql<{ count: string }>`select count(*) as count from budget_assignments where entity_id = ${books.entityId}`.execute(ledger.deps.db);
  return Number(result.rows[0]?.count);
}

beforeAll(async () => {
  ledger = await startTestLedger({ ownerMfa: true });
  ledger.clock.set(Date.UTC(2026, 5, 10, 12));
  books = await createBooks(ledger, { name: 'Rollback Budget LLC', accounts: { Checking: 'checking', Salary: 'income_category', Rent: 'expense_category' } });
  Object.assign(envelope, await createEnvelopes(ledger, books.entityId, { Rent: [books.accounts.Rent as string], Buffer: [], Fun: [] }));
  await write('put', `/entities/${books.entityId}/allocation-rules`, { rules: [{ kind: 'fixed', envelopeId: envelope.Rent, amountCents: 100_000 }, { kind: 'remainder', envelopeId: envelope.Buffer }] }).expect(200);
  // The paycheck is booked by hand (not by the execution): it stays when the execution is rolled back.
  const paycheck = await write('post', `/entities/${books.entityId}/entries`, {
    postedOn: '2026-06-01',
    description: 'Paycheck',
    postings: [
      { accountId: books.accounts.Checking, amountCents: 300_000 },
      { accountId: books.accounts.Salary, amountCents: -300_000 },
    ],
  }).expect(201);
  paycheckId = paycheck.body.id;
});
afterAll(() => ledger.close());

describe('rollback of budget changes made by hand under an execution', () => {
  it('an execution allocates the paycheck, then assigns and moves by hand', async () => {
    await write('post', `/entities/${books.entityId}/allocations`, { month: '2026-06', sourceEntryId: paycheckId }, EXECUTION).expect(201);
    await write('post', `/entities/${books.entityId}/budget/2026-06/move`, { fromEnvelopeId: envelope.Buffer, toEnvelopeId: envelope.Fun, amountCents: 30_000 }, EXECUTION).expect(200);
    await write('post', `/entities/${books.entityId}/budget/2026-06/assign`, { envelopeId: envelope.Rent, amountCents: -10_000 }, EXECUTION).expect(200);
    // Changes outside the execution stay after its rollback.
    await write('post', `/entities/${books.entityId}/budget/2026-06/move`, { fromEnvelopeId: envelope.Buffer, toEnvelopeId: envelope.Fun, amountCents: 2_000 }).expect(200);
    await write('post', `/entities/${books.entityId}/budget/2026-06/assign`, { envelopeId: envelope.Fun, amountCents: 500 }).expect(200);
    expect(await assigned()).toEqual({ readyToAssignCents: 9_500, rent: 90_000, buffer: 168_000, fun: 32_500 });
  });

  it('the rollback takes back the allocation, the move and the assignment in one call, and lists them', async () => {
    const rollback = await write('post', `/executions/${EXECUTION}/rollback`, {}).expect(200);
    expect(rollback.body.allocations).toEqual([expect.objectContaining({ amountCents: 300_000, reversedNow: true })]);
    expect(rollback.body.budgetChanges).toEqual([
      { kind: 'move', id: expect.any(String), entityId: books.entityId, month: '2026-06', fromEnvelopeId: envelope.Buffer, toEnvelopeId: envelope.Fun, amountCents: 30_000, reversedNow: true },
      { kind: 'assign', id: expect.any(String), entityId: books.entityId, month: '2026-06', fromEnvelopeId: null, toEnvelopeId: envelope.Rent, amountCents: -10_000, reversedNow: true },
    ]);
    // What is left is what was done by hand outside the execution: the 2,000 move and the 500 assignment.
    expect(await assigned()).toEqual({ readyToAssignCents: 299_500, rent: 0, buffer: -2_000, fun: 2_500 });
    const audit = await sql<{ action: string; objectId: string }>`
      select action, object_id from audit_log where entity_id = ${books.entityId} and action in ('budget.move_reversed', 'budget.assignment_reversed', 'allocation.reversed') order by seq`.execute(ledger.deps.db);
    expect(audit.rows.map((row) => [row.action, row.objectId])).toEqual([
      ['allocation.reversed', rollback.body.allocations[0].id],
      ['budget.move_reversed', rollback.body.budgetChanges[0].id],
      ['budget.assignment_reversed', rollback.body.budgetChanges[1].id],
    ]);
  });

  it('a second rollback takes nothing back again', async () => {
    const before = { budget: await assigned(), rows: await budgetRows() };
    const again = await write('post', `/executions/${EXECUTION}/rollback`, {}).expect(200);
    expect(again.body.allocations).toEqual([expect.objectContaining({ amountCents: 0, reversedNow: false })]);
    expect(again.body.budgetChanges.map((change: { kind: string; reversedNow: boolean }) => [change.kind, change.reversedNow])).toEqual([['move', false], ['assign', false]]);
    expect({ budget: await assigned(), rows: await budgetRows() }).toEqual(before);
  });

  it('a token that may not write is refused and the budget is untouched; the owner then takes the assignment back', async () => {
    await write('post', `/entities/${books.entityId}/budget/2026-06/assign`, { envelopeId: envelope.Fun, amountCents: 700 }, 'exec-budget-2').expect(200);
    const before = { budget: await assigned(), rows: await budgetRows() };
    // A read-only token may not roll back: refused before anything changes.
    const token = await ledger.http.post('/auth/tokens').send({ name: 'reader', scopes: ['read'], entityIds: [books.entityId] }).expect(201);
    const refused = await ledger.as(token.body.token).post('/executions/exec-budget-2/rollback').set('Idempotency-Key', key()).send({});
    expect(refused.status).toBe(403);
    expect({ budget: await assigned(), rows: await budgetRows() }).toEqual(before);
    const done = await write('post', '/executions/exec-budget-2/rollback', {}).expect(200);
    expect(done.body.budgetChanges).toEqual([expect.objectContaining({ kind: 'assign', amountCents: 700, reversedNow: true })]);
    expect((await assigned()).fun).toBe(before.budget.fun - 700);
  });
});

describe('two rollbacks of one execution at the same time', () => {
  it('take its assignment back once', async () => {
    await write('post', `/entities/${books.entityId}/budget/2026-06/assign`, { envelopeId: envelope.Fun, amountCents: 900 }, 'exec-budget-4').expect(200);
    const before = (await assigned()).fun;
    const answers = await Promise.all([1, 2].map(() => write('post', '/executions/exec-budget-4/rollback', {})));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    const reversedNow = answers.map((answer) => answer.body.budgetChanges[0].reversedNow as boolean).sort();
    expect(reversedNow).toEqual([false, true]);
    expect((await assigned()).fun).toBe(before - 900);
  });
});

describe('allocating an income entry again after its allocation was taken back', () => {
  it('works once: the next attempt is already_allocated again', async () => {
    const again = await write('post', `/entities/${books.entityId}/allocations`, { month: '2026-06', sourceEntryId: paycheckId }, 'exec-budget-3').expect(201);
    expect(again.body.lines.map((line: { envelopeId: string; amountCents: number }) => [line.envelopeId, line.amountCents])).toEqual([
      [envelope.Rent, 100_000],
      [envelope.Buffer, 200_000],
    ]);
    const twice = await write('post', `/entities/${books.entityId}/allocations`, { month: '2026-06', sourceEntryId: paycheckId }).expect(409);
    expect(twice.body.error).toMatchObject({ code: 'already_allocated', details: { allocationId: again.body.id } });
    const attempts = await sql<{ attempt: number }>`select attempt from allocations where source_entry_id = ${paycheckId} order by attempt`.execute(ledger.deps.db);
    expect(attempts.rows.map((row) => row.attempt)).toEqual([1, 2]);
  });

  it('after a second rollback, a third allocation works; the database refuses two allocations of one attempt', async () => {
    await write('post', '/executions/exec-budget-3/rollback', {}).expect(200);
    await write('post', `/entities/${books.entityId}/allocations`, { month: '2026-06', sourceEntryId: paycheckId }).expect(201);
    // The unique index is the last word even if the service's check were skipped.
    await expect(
      sql`insert into allocations (entity_id, month, income_cents, source_entry_id, rules, lines, leftover_cents, actor, attempt)
          values (${books.entityId}, '2026-06', 1, ${paycheckId}, '[]', '[]', 0, 'test', 3)`.execute(ledger.deps.db),
    ).rejects.toThrow(/allocations_source_entry/);
  });

  it('refuses to allocate an income entry that was reversed', async () => {
    const bonus = await write('post', `/entities/${books.entityId}/entries`, {
      postedOn: '2026-06-03',
      description: 'Bonus',
      postings: [
        { accountId: books.accounts.Checking, amountCents: 10_000 },
        { accountId: books.accounts.Salary, amountCents: -10_000 },
      ],
    }).expect(201);
    await write('post', `/entries/${bonus.body.id}/reverse`, {}).expect(201);
    const refused = await write('post', `/entities/${books.entityId}/allocations`, { month: '2026-06', sourceEntryId: bonus.body.id }).expect(422);
    expect(refused.body.error.code).toBe('allocation_income_invalid');
  });
});
