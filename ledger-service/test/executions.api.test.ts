import { createBooks, checkInvariants, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// n8n executions as the ledger records them (X-N8N-Execution-Id on every write, kept in the audit trail): the list,
// one execution's entries and transfers, and the rollback that reverses them all in one transaction.

let ledger: TestLedger;
let llc: Books;
let owner: Books;

// Signing in with MFA and opening a database can take minutes on a busy shared machine: a bound, not a speed check.
jest.setTimeout(600_000);

beforeAll(async () => {
  ledger = await startTestLedger({ ownerMfa: true });
  llc = await createBooks(ledger, {
    name: 'Rollback LLC',
    accounts: { checking: 'checking', savings: 'savings', software: 'expense_category', revenue: 'income_category' },
  });
  owner = await createBooks(ledger, { kind: 'personal', name: 'Robin Owner', accounts: { checking: 'checking', card: 'credit_card' } });
});
afterAll(() => ledger.close());

/** A write as n8n sends it: an Idempotency-Key and the execution id. */
function write(path: string, body: unknown, executionId?: string, idempotencyKey = key()) {
  const request = ledger.http.post(path).set('Idempotency-Key', idempotencyKey);
  if (executionId !== undefined) request.set('X-N8N-Execution-Id', executionId);
  return request.send(body as object);
}

function entry(description: string, postings: [string, number][], postedOn = '2026-07-01') {
  return { postedOn, description, postings: postings.map(([accountId, amountCents]) => ({ accountId, amountCents })) };
}

async function balances(): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const [label, books] of [['llc', llc], ['owner', owner]] as const) {
    const response = await ledger.http.get(`/entities/${books.entityId}/accounts`).expect(200);
    for (const account of response.body.items as { name: string; balanceCents: number }[]) result[`${label}:${account.name}`] = account.balanceCents;
  }
  return result;
}

const ids: Record<string, string> = {};
let beforeExecution: Record<string, number>;

describe('n8n executions', () => {
  it('books through several routes under execution 101 (and one entry under 102, one with no execution)', async () => {
    await write(`/entities/${llc.entityId}/entries`, entry('Opening capital', [[llc.accounts.checking as string, 500_000], [llc.accounts.revenue as string, -500_000]])).expect(201);
    beforeExecution = await balances();

    const sale = await write(`/entities/${llc.entityId}/entries`, entry('Client invoice 7', [[llc.accounts.checking as string, 120_000], [llc.accounts.revenue as string, -120_000]]), '101').expect(201);
    ids.sale = sale.body.id;
    const batch = await write(
      `/entities/${llc.entityId}/entries/batch`,
      {
        entries: [
          { ...entry('Figma', [[llc.accounts.software as string, 1_500], [llc.accounts.checking as string, -1_500]]), idempotencyKey: '101/Move/0' },
          { ...entry('Tax reserve', [[llc.accounts.savings as string, 30_000], [llc.accounts.checking as string, -30_000]]), idempotencyKey: '101/Move/1' },
        ],
      },
      '101',
    ).expect(201);
    ids.figma = batch.body.entries[0].id;
    ids.reserve = batch.body.entries[1].id;
    const draw = await write(
      '/transfers',
      {
        classification: 'owner_draw',
        fromEntityId: llc.entityId,
        fromAccountId: llc.accounts.checking,
        toEntityId: owner.entityId,
        toAccountId: owner.accounts.checking,
        amountCents: 40_000,
        postedOn: '2026-07-02',
      },
      '101',
    ).expect(201);
    ids.draw = draw.body.id;
    const reimbursement = await write(
      '/transfers',
      {
        classification: 'reimbursement',
        fromEntityId: owner.entityId,
        fromAccountId: owner.accounts.card,
        toEntityId: llc.entityId,
        toAccountId: llc.accounts.software,
        amountCents: 2_999,
        postedOn: '2026-07-03',
        reimbursement: { businessPurpose: 'Domain renewal', receiptReference: 'receipt-1.pdf', expenseOn: '2026-07-01' },
      },
      '101',
    ).expect(201);
    ids.reimbursement = reimbursement.body.id;
    // Paid in the same execution: the rollback must reverse the payment before the request it pays.
    const payment = await write(
      '/transfers',
      {
        classification: 'reimbursement_payment',
        relatedTransferId: ids.reimbursement,
        fromEntityId: llc.entityId,
        fromAccountId: llc.accounts.checking,
        toEntityId: owner.entityId,
        toAccountId: owner.accounts.checking,
        amountCents: 2_999,
        postedOn: '2026-07-04',
      },
      '101',
    ).expect(201);
    ids.payment = payment.body.id;

    const other = await write(`/entities/${llc.entityId}/entries`, entry('Client invoice 8', [[llc.accounts.checking as string, 9_900], [llc.accounts.revenue as string, -9_900]]), '102').expect(201);
    ids.other = other.body.id;
    await write(`/entities/${llc.entityId}/entries`, entry('By hand', [[llc.accounts.software as string, 700], [llc.accounts.checking as string, -700]])).expect(201);
  });

  it('lists executions newest first with their counts, per entity too', async () => {
    const list = await ledger.http.get('/executions').expect(200);
    expect(list.body.items.map((item: { executionId: string }) => item.executionId)).toEqual(['102', '101']);
    const [latest, first] = list.body.items;
    expect(first).toMatchObject({ executionId: '101', entryCount: 3, transferCount: 3, rolledBack: false });
    // 3 entries + 3 transfers (2 entries, 2 transfer rows, 2 document rows each) + account rows the crossings opened.
    expect(first.actionCount).toBeGreaterThanOrEqual(3 + 3 * 6);
    expect(Date.parse(first.firstAt)).toBeLessThanOrEqual(Date.parse(first.lastAt));
    expect(Date.parse(first.lastAt)).toBeLessThanOrEqual(Date.parse(latest.firstAt));
    expect(latest).toMatchObject({ executionId: '102', actionCount: 1, entryCount: 1, transferCount: 0, rolledBack: false });

    const personal = await ledger.http.get(`/executions?entityId=${owner.entityId}`).expect(200);
    expect(personal.body.items.map((item: { executionId: string }) => item.executionId)).toEqual(['101']);
    expect(personal.body.items[0]).toMatchObject({ entryCount: 0, transferCount: 3 });
    const one = await ledger.http.get('/executions?limit=1').expect(200);
    expect(one.body.items.map((item: { executionId: string }) => item.executionId)).toEqual(['102']);
    const bad = await ledger.http.get('/executions?limit=0').expect(400);
    expect(bad.body.error.code).toBe('invalid_request');
  });

  it('details one execution: its plain entries and transfers, newest first', async () => {
    const detail = await ledger.http.get('/executions/101').expect(200);
    expect(detail.body.executionId).toBe('101');
    expect(detail.body.rolledBack).toBe(false);
    expect(detail.body.items.map((item: { kind: string; id: string }) => [item.kind, item.id])).toEqual([
      ['transfer', ids.payment],
      ['transfer', ids.reimbursement],
      ['transfer', ids.draw],
      ['entry', ids.reserve],
      ['entry', ids.figma],
      ['entry', ids.sale],
    ]);
    expect(detail.body.items[2]).toMatchObject({ entityId: llc.entityId, postedOn: '2026-07-02', amountCents: 40_000, reversedById: null });
    expect(detail.body.items[5]).toMatchObject({ entityId: llc.entityId, postedOn: '2026-07-01', description: 'Client invoice 7', amountCents: 120_000, reversedById: null });
    expect(detail.body.items[1].entityId).toBe(owner.entityId);
    for (const item of detail.body.items) expect(Number.isNaN(Date.parse(item.createdAt))).toBe(false);

    const missing = await ledger.http.get('/executions/999').expect(404);
    expect(missing.body.error.code).toBe('execution_not_found');
    const tooLong = await ledger.http.get(`/executions/${'9'.repeat(101)}`).expect(400);
    expect(tooLong.body.error.code).toBe('invalid_request');
  });

  it('refuses other users, and credentials without the scope or the books', async () => {
    const intruder = await ledger.createUser();
    const as = ledger.as(intruder.accessToken);
    expect((await as.get('/executions/101').expect(404)).body.error.code).toBe('execution_not_found');
    expect((await as.post('/executions/101/rollback').set('Idempotency-Key', key()).expect(404)).body.error.code).toBe('execution_not_found');
    expect((await as.get('/executions').expect(200)).body.items).toEqual([]);
    expect((await as.get(`/executions?entityId=${llc.entityId}`).expect(404)).body.error.code).toBe('not_found');

    const token = async (scopes: string[], entityIds: string[]) =>
      (await ledger.http.post('/auth/tokens').send({ name: `executions ${scopes.join('+')}`, scopes, entityIds }).expect(201)).body.token as string;
    const readOnly = ledger.as(await token(['read'], [llc.entityId, owner.entityId]));
    expect((await readOnly.get('/executions/101').expect(200)).body.items).toHaveLength(6);
    expect((await readOnly.post('/executions/101/rollback').set('Idempotency-Key', key()).expect(403)).body.error.code).toBe('forbidden');
    // Writing without move_money cannot reverse the crossings, so nothing of the execution is reversed.
    const writeOnly = ledger.as(await token(['read', 'write'], [llc.entityId, owner.entityId]));
    expect((await writeOnly.post('/executions/101/rollback').set('Idempotency-Key', key()).expect(403)).body.error.code).toBe('forbidden');
    // A token for the personal books alone sees only that side of 101, and none of 102.
    const personalOnly = ledger.as(await token(['read', 'write', 'move_money'], [owner.entityId]));
    expect((await personalOnly.get('/executions').expect(200)).body.items.map((item: { executionId: string }) => item.executionId)).toEqual(['101']);
    expect((await personalOnly.get('/executions/102').expect(404)).body.error.code).toBe('execution_not_found');
    expect((await ledger.http.get('/executions/101').expect(200)).body.items.every((item: { reversedById: null }) => item.reversedById === null)).toBe(true);
    expect((await ledger.http.post('/executions/101/rollback').expect(400)).body.error.code).toBe('idempotency_key_required');
  });

  it('rolls an execution back in one transaction, newest first, under the caller’s own execution id', async () => {
    const idempotencyKey = key('rollback');
    const rollback = await write('/executions/101/rollback', undefined, '201', idempotencyKey).expect(200);
    expect(rollback.body.executionId).toBe('101');
    expect(rollback.body.alreadyReversed).toEqual([]);
    expect(rollback.body.reversed.map((item: { kind: string; id: string }) => [item.kind, item.id])).toEqual([
      ['transfer', ids.payment],
      ['transfer', ids.reimbursement],
      ['transfer', ids.draw],
      ['entry', ids.reserve],
      ['entry', ids.figma],
      ['entry', ids.sale],
    ]);
    // The books are back where they were before 101, apart from what 102 and the hand-booked entry did.
    const after = await balances();
    const expected = { ...beforeExecution };
    expected['llc:checking'] = (expected['llc:checking'] ?? 0) + 9_900 - 700;
    expected['llc:revenue'] = (expected['llc:revenue'] ?? 0) - 9_900;
    expected['llc:software'] = (expected['llc:software'] ?? 0) + 700;
    for (const [name, cents] of Object.entries(after)) expect([name, cents]).toEqual([name, expected[name] ?? 0]);
    const invariants = await checkInvariants(ledger.deps.db);
    expect([invariants.unbalancedEntries, invariants.balanceMismatches, invariants.entitiesNotZero]).toEqual([0, 0, 0]);

    const detail = await ledger.http.get('/executions/101').expect(200);
    expect(detail.body.rolledBack).toBe(true);
    const reversalOf = new Map(rollback.body.reversed.map((item: { id: string; reversalId: string }) => [item.id, item.reversalId]));
    for (const item of detail.body.items) expect(item.reversedById).toBe(reversalOf.get(item.id));
    const reversal = await ledger.http.get(`/entries/${reversalOf.get(ids.sale)}`).expect(200);
    expect(reversal.body.reversesEntryId).toBe(ids.sale);
    expect(reversal.body.description).toContain('Rollback of n8n execution 101');
    const transfer = await ledger.http.get(`/transfers/${ids.draw}`).expect(200);
    expect(transfer.body.reversal.fromReversalEntryId).toBe(reversalOf.get(ids.draw));

    // The audit trail: one row per book, under the execution that asked for the rollback.
    const audit = await ledger.http.get('/audit?action=execution.rolled_back').expect(200);
    expect(audit.body.items).toHaveLength(2);
    for (const row of audit.body.items) expect(row).toMatchObject({ objectType: 'execution', objectId: '101', executionId: '201' });
    expect(new Set(audit.body.items.map((row: { entityId: string }) => row.entityId))).toEqual(new Set([llc.entityId, owner.entityId]));
    const list = await ledger.http.get('/executions').expect(200);
    const summary = (id: string) => list.body.items.find((item: { executionId: string }) => item.executionId === id);
    expect(list.body.items[0].executionId).toBe('201');
    expect(summary('201')).toMatchObject({ entryCount: 0, transferCount: 0, rolledBack: false });
    expect(summary('101')).toMatchObject({ entryCount: 3, transferCount: 3, rolledBack: true });

    // The same key replays the first answer; a new key reverses nothing new.
    const replay = await write('/executions/101/rollback', undefined, '201', idempotencyKey).expect(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(rollback.body);
    const again = await write('/executions/101/rollback', undefined, '202').expect(200);
    expect(again.body.reversed).toEqual([]);
    expect(again.body.alreadyReversed.map((item: { id: string }) => item.id)).toEqual(rollback.body.reversed.map((item: { id: string }) => item.id));
    expect(await balances()).toEqual(after);
    expect((await ledger.http.post('/executions/999/rollback').set('Idempotency-Key', key()).expect(404)).body.error.code).toBe('execution_not_found');
  });

  it('reports what was already reversed by hand, and reverses the rest', async () => {
    await write(`/entries/${ids.other}/reverse`, {}).expect(201);
    const rollback = await write('/executions/102/rollback', undefined).expect(200);
    expect(rollback.body).toEqual({ executionId: '102', reversed: [], alreadyReversed: [{ kind: 'entry', id: ids.other }], allocations: [], budgetChanges: [], billsReopened: [], bankMoneyMoved: [] });
  });

  it('changes nothing when a transfer of the execution has a live payment booked by another execution', async () => {
    const reimbursement = await write(
      '/transfers',
      {
        classification: 'reimbursement',
        fromEntityId: owner.entityId,
        fromAccountId: owner.accounts.card,
        toEntityId: llc.entityId,
        toAccountId: llc.accounts.software,
        amountCents: 5_000,
        postedOn: '2026-07-10',
        reimbursement: { businessPurpose: 'Printer', receiptReference: 'receipt-2.pdf', expenseOn: '2026-07-09' },
      },
      '301',
    ).expect(201);
    await write(`/entities/${llc.entityId}/entries`, entry('Paper', [[llc.accounts.software as string, 1_200], [llc.accounts.checking as string, -1_200]], '2026-07-10'), '301').expect(201);
    await write(
      '/transfers',
      {
        classification: 'reimbursement_payment',
        relatedTransferId: reimbursement.body.id,
        fromEntityId: llc.entityId,
        fromAccountId: llc.accounts.checking,
        toEntityId: owner.entityId,
        toAccountId: owner.accounts.checking,
        amountCents: 5_000,
        postedOn: '2026-07-11',
      },
      '302',
    ).expect(201);
    const before = await balances();
    const refused = await write('/executions/301/rollback', undefined).expect(409);
    expect(refused.body.error.code).toBe('veil_transfer_has_dependents');
    expect(await balances()).toEqual(before);
    expect((await ledger.http.get('/executions/301').expect(200)).body.items.every((item: { reversedById: null }) => item.reversedById === null)).toBe(true);
    // Rolling back the payment's execution first lets the request's execution go.
    await write('/executions/302/rollback', undefined).expect(200);
    const rollback = await write('/executions/301/rollback', undefined).expect(200);
    expect(rollback.body.reversed.map((item: { kind: string }) => item.kind)).toEqual(['entry', 'transfer']);
  });

  it('is in the OpenAPI document', async () => {
    const document = await ledger.anonymous.get('/openapi.json').expect(200);
    expect(Object.keys(document.body.paths)).toEqual(expect.arrayContaining(['/executions', '/executions/{executionId}', '/executions/{executionId}/rollback']));
    expect(document.body.paths['/executions/{executionId}/rollback'].post.parameters.map((parameter: { name: string }) => parameter.name)).toEqual(
      expect.arrayContaining(['executionId', 'idempotency-key']),
    );
  });
});
