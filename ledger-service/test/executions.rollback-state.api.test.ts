import { sql } from 'kysely';
import { budgetAssigned, checkInvariants, createBooks, createEnvelopes, n8nWrite, type Books } from './support/books';
import { startTestLedger, type TestLedger } from './support/harness';

// A rollback undoes what an execution did beyond its entries: the budget assignments of its allocations, the bill
// occurrences it paid (due or late again), and it reports money the bank already moved instead of ignoring it.

let ledger: TestLedger;
let books: Books;
const envelope: Record<string, string> = {};
let billId: string;
let bankLineId: string;
const EXECUTION = 'exec-state-1';

jest.setTimeout(600_000);

const write = (method: 'post' | 'put', path: string, body: object | undefined, executionId?: string) => n8nWrite(ledger, method, path, body, executionId);
const budgetMonth = () => budgetAssigned(ledger, books.entityId, '2026-06');

async function occurrence(dueOn: string) {
  const response = await ledger.http.get(`/entities/${books.entityId}/bill-occurrences?from=${dueOn}&to=${dueOn}&today=2026-06-20`).expect(200);
  return response.body.occurrences[0] as { status: string; entryId: string | null };
}

beforeAll(async () => {
  ledger = await startTestLedger();
  ledger.clock.set(Date.UTC(2026, 5, 10, 12));
  books = await createBooks(ledger, {
    name: 'Rollback State LLC',
    accounts: { Checking: 'checking', Salary: 'income_category', Rent: 'expense_category', Fees: 'expense_category' },
  });
  Object.assign(envelope, await createEnvelopes(ledger, books.entityId, { Rent: [books.accounts.Rent as string], Buffer: [] }));
  await write('put', `/entities/${books.entityId}/allocation-rules`, { rules: [{ kind: 'fixed', envelopeId: envelope.Rent, amountCents: 100_000 }, { kind: 'remainder', envelopeId: envelope.Buffer }] }).expect(200);
  const bill = await write('post', `/entities/${books.entityId}/bills`, {
    name: 'Office rent',
    payee: 'Landlord',
    rrule: 'FREQ=MONTHLY;BYMONTHDAY=15',
    startsOn: '2026-06-15',
    amountCents: 90_000,
    estimated: false,
    categoryAccountId: books.accounts.Rent,
    payFromAccountId: books.accounts.Checking,
    autopay: false,
  }).expect(201);
  billId = bill.body.id;
  // What the bank said: a fee already taken from checking (as an import or Plaid would have stored it).
  const line = await sql<{ id: string }>`
    insert into bank_lines (entity_id, account_id, currency, source, external_id, posted_on, amount_cents, payee)
    values (${books.entityId}, ${books.accounts.Checking}, 'USD', 'manual', 'fee-0601', '2026-06-01', -1500, 'Bank')
    returning id`.execute(ledger.deps.db);
  bankLineId = line.rows[0]?.id as string;
});
afterAll(() => ledger.close());

describe('rollback beyond the journal', () => {
  it('an execution books a paycheck, allocates it, pays a bill and books a bank line', async () => {
    const paycheck = await write('post', `/entities/${books.entityId}/entries`, {
      postedOn: '2026-06-01',
      description: 'Paycheck',
      postings: [
        { accountId: books.accounts.Checking, amountCents: 300_000 },
        { accountId: books.accounts.Salary, amountCents: -300_000 },
      ],
    }, EXECUTION).expect(201);
    await write('post', `/entities/${books.entityId}/allocations`, { month: '2026-06', sourceEntryId: paycheck.body.id }, EXECUTION).expect(201);
    expect(await budgetMonth()).toEqual({ readyToAssignCents: 0, assigned: { [envelope.Rent as string]: 100_000, [envelope.Buffer as string]: 200_000 } });
    // A hand-made assignment outside the execution stays.
    await write('post', `/entities/${books.entityId}/budget/2026-06/assign`, { envelopeId: envelope.Rent, amountCents: -5_000 }).expect(200);
    await write('post', `/bills/${billId}/occurrences/2026-06-15/pay`, { paidOn: '2026-06-14' }, EXECUTION).expect(201);
    expect((await occurrence('2026-06-15')).status).toBe('paid');
    await write('post', `/bank-lines/${bankLineId}/book`, { categoryAccountId: books.accounts.Fees }, EXECUTION).expect(201);
  });

  it('rolls it all back in one call: entries reversed, assignments taken back, the bill due again, the bank money flagged', async () => {
    const rollback = await write('post', `/executions/${EXECUTION}/rollback`, {}).expect(200);
    expect(rollback.body.reversed).toHaveLength(3);
    expect(rollback.body.allocations).toEqual([expect.objectContaining({ entityId: books.entityId, month: '2026-06', amountCents: 300_000, reversedNow: true })]);
    expect(rollback.body.billsReopened).toEqual([expect.objectContaining({ billId, entityId: books.entityId, dueOn: '2026-06-15' })]);
    expect(rollback.body.bankMoneyMoved).toEqual([
      expect.objectContaining({ kind: 'entry', bankLineId, accountId: books.accounts.Checking, postedOn: '2026-06-01', amountCents: -1_500, status: 'booked' }),
    ]);
    // Only the hand-made -5,000 is left assigned; nothing came in any more, so Ready to Assign is +5,000.
    expect(await budgetMonth()).toEqual({ readyToAssignCents: 5_000, assigned: { [envelope.Rent as string]: -5_000, [envelope.Buffer as string]: 0 } });
    expect(await occurrence('2026-06-15')).toMatchObject({ status: 'late', entryId: null });
    const accounts = await ledger.http.get(`/entities/${books.entityId}/accounts`).expect(200);
    const checking = accounts.body.items.find((account: { id: string }) => account.id === books.accounts.Checking);
    expect(checking.balanceCents).toBe(0);
    const invariants = await checkInvariants(ledger.deps.db);
    expect([invariants.unbalancedEntries, invariants.balanceMismatches]).toEqual([0, 0]);
    const audit = await sql<{ action: string }>`select action from audit_log where entity_id = ${books.entityId} and action in ('allocation.reversed', 'execution.rolled_back')`.execute(ledger.deps.db);
    expect(audit.rows.map((row) => row.action).sort()).toEqual(['allocation.reversed', 'execution.rolled_back']);
  });

  it('is idempotent: a second rollback takes nothing back again and still flags the bank money', async () => {
    const before = await budgetMonth();
    const again = await write('post', `/executions/${EXECUTION}/rollback`, undefined).expect(200);
    expect(again.body.reversed).toEqual([]);
    expect(again.body.alreadyReversed).toHaveLength(3);
    expect(again.body.allocations).toEqual([expect.objectContaining({ amountCents: 0, reversedNow: false })]);
    expect(again.body.bankMoneyMoved).toHaveLength(1);
    expect(await budgetMonth()).toEqual(before);
    const reversals = await sql<{ count: string }>`select count(*) as count from budget_assignments where entity_id = ${books.entityId} and kind = 'allocation' and amount_cents < 0`.execute(ledger.deps.db);
    expect(Number(reversals.rows[0]?.count)).toBe(2);
  });

  it('a reopened bill occurrence can be paid again, once', async () => {
    const paid = await write('post', `/bills/${billId}/occurrences/2026-06-15/pay`, { paidOn: '2026-06-20' }).expect(201);
    expect(paid.body.occurrence).toMatchObject({ status: 'paid', paidOn: '2026-06-20' });
    const first = (await sql<{ entryId: string }>`select entry_id from bill_occurrences where bill_id = ${billId} and settlement = 1`.execute(ledger.deps.db)).rows[0];
    expect(paid.body.entry.id).not.toBe(first?.entryId);
    expect((await occurrence('2026-06-15')).status).toBe('paid');
    const twice = await write('post', `/bills/${billId}/occurrences/2026-06-15/pay`, {}).expect(409);
    expect(twice.body.error.code).toBe('bill_occurrence_settled');
    // Undo that payment by hand for the next test's figures.
    await write('post', `/entries/${paid.body.entry.id}/reverse`, {}).expect(201);
  });

  it('takes back an allocation of an amount (no income entry) and leaves later assignments of others alone', async () => {
    await write('post', `/entities/${books.entityId}/entries`, {
      postedOn: '2026-06-02',
      description: 'Second paycheck',
      postings: [
        { accountId: books.accounts.Checking, amountCents: 50_000 },
        { accountId: books.accounts.Salary, amountCents: -50_000 },
      ],
    }).expect(201);
    await write('post', `/entities/${books.entityId}/allocations`, { month: '2026-06', amountCents: 50_000 }, 'exec-state-2').expect(201);
    await write('post', `/entities/${books.entityId}/budget/2026-06/assign`, { envelopeId: envelope.Buffer, amountCents: 1_000 }).expect(200);
    const done = await write('post', '/executions/exec-state-2/rollback', {}).expect(200);
    expect(done.body).toMatchObject({ reversed: [], billsReopened: [], bankMoneyMoved: [] });
    expect(done.body.allocations).toEqual([expect.objectContaining({ amountCents: 50_000, reversedNow: true })]);
    expect(await budgetMonth()).toEqual({ readyToAssignCents: 50_000 + 5_000 - 1_000, assigned: { [envelope.Rent as string]: -5_000, [envelope.Buffer as string]: 1_000 } });
  });
});
