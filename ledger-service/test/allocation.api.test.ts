import { sql } from 'kysely';
import { createBooks, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// The allocation engine over HTTP: saved rules, a dry run that changes nothing, applying an income entry once.

let ledger: TestLedger;
let books: Books;
const envelope: Record<string, string> = {};
let salaryEntryId: string;
let rentEntryId: string;

async function entry(postedOn: string, description: string, postings: [string, number][]) {
  const response = await ledger.http
    .post(`/entities/${books.entityId}/entries`)
    .set('Idempotency-Key', key())
    .send({ postedOn, description, postings: postings.map(([account, amountCents]) => ({ accountId: books.accounts[account], amountCents })) })
    .expect(201);
  return response.body.id as string;
}

const allocate = (body: object, idempotencyKey = key()) =>
  ledger.http.post(`/entities/${books.entityId}/allocations`).set('Idempotency-Key', idempotencyKey).send(body);

async function budget() {
  const response = await ledger.http.get(`/entities/${books.entityId}/budget/2026-03`).expect(200);
  const assigned = Object.fromEntries(
    response.body.groups.flatMap((group: { envelopes: { name: string; assignedCents: number }[] }) => group.envelopes.map((line) => [line.name, line.assignedCents])),
  );
  return { ready: response.body.readyToAssignCents as number, assigned };
}

async function count(table: 'budget_assignments' | 'allocations'): Promise<number> {
  const result = await sql<{ count: string }>`select count(*) as count from ${sql.table(table)}`.execute(ledger.deps.db);
  return Number(result.rows[0]?.count);
}

beforeAll(async () => {
  ledger = await startTestLedger();
  books = await createBooks(ledger, {
    name: 'Allocating LLC',
    accounts: {
      Checking: 'checking',
      Opening: 'opening_balance',
      Sales: 'income_category',
      Rent: 'expense_category',
      Supplies: 'expense_category',
      'Tax payments': 'expense_category',
      Equipment: 'expense_category',
    },
  });
  const group = await ledger.http.post(`/entities/${books.entityId}/envelope-groups`).set('Idempotency-Key', key()).send({ name: 'Operating' }).expect(201);
  const make = async (name: string, category: string, target?: object) => {
    const response = await ledger.http
      .post(`/entities/${books.entityId}/envelopes`)
      .set('Idempotency-Key', key())
      .send({ name, groupId: group.body.id, categoryAccountIds: [books.accounts[category]], ...(target ? { target } : {}) })
      .expect(201);
    envelope[name] = response.body.id;
  };
  await make('Rent', 'Rent', { kind: 'fill_to', amountCents: 150_000 });
  await make('Supplies', 'Supplies', { kind: 'monthly', amountCents: 40_000 });
  await make('Taxes', 'Tax payments');
  await make('Equipment', 'Equipment');
  await entry('2026-03-01', 'Opening balance', [['Checking', 50_000], ['Opening', -50_000]]);
  await ledger.http.post(`/entities/${books.entityId}/budget/2026-03/assign`).set('Idempotency-Key', key()).send({ envelopeId: envelope.Rent, amountCents: 50_000 }).expect(200);
  salaryEntryId = await entry('2026-03-05', 'Client paid', [['Checking', 500_000], ['Sales', -500_000]]);
  rentEntryId = await entry('2026-03-06', 'Rent paid', [['Rent', 10_000], ['Checking', -10_000]]);
});
afterAll(() => ledger.close());

describe('allocation rules', () => {
  it('refuses rules that cannot be applied, keeping the saved ones', async () => {
    const put = (rules: object[]) => ledger.http.put(`/entities/${books.entityId}/allocation-rules`).set('Idempotency-Key', key()).send({ rules });
    await put([{ kind: 'remainder', envelopeId: envelope.Equipment }]).expect(200);
    expect((await put([{ kind: 'fill_to_target', envelopeId: envelope.Taxes }]).expect(422)).body.error.code).toBe('allocation_rules_invalid');
    expect((await put([{ kind: 'remainder', envelopeId: envelope.Taxes }, { kind: 'fixed', envelopeId: envelope.Rent, amountCents: 5 }]).expect(422)).body.error.code).toBe('allocation_rules_invalid');
    expect((await put([{ kind: 'fixed', envelopeId: '00000000-0000-4000-8000-000000000000', amountCents: 5 }]).expect(404)).body.error.code).toBe('not_found');
    expect((await put([{ kind: 'percent', envelopeId: envelope.Taxes, basisPoints: 0 }]).expect(400)).body.error.code).toBe('invalid_request');
    const saved = await ledger.http.get(`/entities/${books.entityId}/allocation-rules`).expect(200);
    expect(saved.body.rules).toEqual([{ kind: 'remainder', envelopeId: envelope.Equipment }]);
  });

  it('saves an ordered rule list', async () => {
    const rules = [
      { kind: 'fill_to_target', envelopeId: envelope.Rent },
      { kind: 'percent', envelopeId: envelope.Taxes, basisPoints: 2_500 },
      { kind: 'fill_to_target', envelopeId: envelope.Supplies },
      { kind: 'remainder', envelopeId: envelope.Equipment },
    ];
    const saved = await ledger.http.put(`/entities/${books.entityId}/allocation-rules`).set('Idempotency-Key', key()).send({ rules }).expect(200);
    expect(saved.body.rules).toEqual(rules);
    expect((await ledger.http.get(`/entities/${books.entityId}/allocation-rules`).expect(200)).body.rules).toEqual(rules);
  });
});

describe('allocations', () => {
  const expectedLines = () => [
    // Rent has 50,000 of its 150,000 fill-to target.
    { ruleIndex: 0, kind: 'fill_to_target', envelopeId: envelope.Rent, envelopeName: 'Rent', amountCents: 100_000 },
    { ruleIndex: 1, kind: 'percent', envelopeId: envelope.Taxes, envelopeName: 'Taxes', amountCents: 125_000 },
    { ruleIndex: 2, kind: 'fill_to_target', envelopeId: envelope.Supplies, envelopeName: 'Supplies', amountCents: 40_000 },
    { ruleIndex: 3, kind: 'remainder', envelopeId: envelope.Equipment, envelopeName: 'Equipment', amountCents: 235_000 },
  ];

  it('previews an income entry without assigning anything', async () => {
    const before = await budget();
    expect(before.ready).toBe(500_000);
    const rows = await count('budget_assignments');
    const preview = await allocate({ month: '2026-03', sourceEntryId: salaryEntryId, dryRun: true }).expect(200);
    expect(preview.body).toEqual({
      id: null,
      dryRun: true,
      month: '2026-03',
      incomeCents: 500_000,
      sourceEntryId: salaryEntryId,
      lines: expectedLines(),
      leftoverCents: 0,
      readyToAssignCents: 0,
    });
    expect(await count('budget_assignments')).toBe(rows);
    expect(await budget()).toEqual(before);
  });

  it('applies an income entry once: a retry replays, another key is refused', async () => {
    const retried = key('allocate');
    const applied = await allocate({ month: '2026-03', sourceEntryId: salaryEntryId }, retried).expect(201);
    expect(applied.body).toMatchObject({ dryRun: false, incomeCents: 500_000, lines: expectedLines(), leftoverCents: 0, readyToAssignCents: 0 });
    expect(applied.body.id).toEqual(expect.any(String));
    expect(await budget()).toEqual({ ready: 0, assigned: { Rent: 150_000, Supplies: 40_000, Taxes: 125_000, Equipment: 235_000 } });
    const rows = await count('budget_assignments');
    const replay = await allocate({ month: '2026-03', sourceEntryId: salaryEntryId }, retried).expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(applied.body.id);
    const again = await allocate({ month: '2026-03', sourceEntryId: salaryEntryId }).expect(409);
    expect(again.body.error).toMatchObject({ code: 'already_allocated', details: { allocationId: applied.body.id } });
    expect(await count('budget_assignments')).toBe(rows);
    expect(await count('allocations')).toBe(1);
  });

  it('allocates a plain amount with rules sent in the request, stating what is left', async () => {
    const result = await allocate({
      month: '2026-03',
      amountCents: 10_000,
      rules: [{ kind: 'percent', envelopeId: envelope.Taxes, basisPoints: 3_333 }],
    }).expect(201);
    expect(result.body).toMatchObject({ incomeCents: 10_000, sourceEntryId: null, leftoverCents: 6_667, lines: [{ amountCents: 3_333 }] });
    // The amount is not money received: assigning it takes from Ready to Assign.
    expect(result.body.readyToAssignCents).toBe(-3_333);
  });

  it('refuses bad requests with a code, assigning nothing', async () => {
    const rows = await count('budget_assignments');
    expect((await allocate({ month: '2026-03', amountCents: 100, sourceEntryId: salaryEntryId }).expect(422)).body.error.code).toBe('allocation_income_invalid');
    expect((await allocate({ month: '2026-03' }).expect(422)).body.error.code).toBe('allocation_income_invalid');
    expect((await allocate({ month: '2026-03', sourceEntryId: rentEntryId }).expect(422)).body.error.code).toBe('allocation_income_invalid');
    expect((await allocate({ month: '2026-03', sourceEntryId: '00000000-0000-4000-8000-000000000000' }).expect(404)).body.error.code).toBe('not_found');
    expect((await allocate({ month: '2026-3', amountCents: 100 }).expect(400)).body.error.code).toBe('invalid_request');
    expect((await allocate({ month: '2026-03', amountCents: -100 }).expect(400)).body.error.code).toBe('invalid_request');
    const other = await createBooks(ledger, { name: 'Other books', accounts: { Cash: 'cash', Income: 'income_category' } });
    const foreign = await ledger.http
      .post(`/entities/${other.entityId}/entries`)
      .set('Idempotency-Key', key())
      .send({ postedOn: '2026-03-02', description: 'Other income', postings: [{ accountId: other.accounts.Cash, amountCents: 100 }, { accountId: other.accounts.Income, amountCents: -100 }] })
      .expect(201);
    expect((await allocate({ month: '2026-03', sourceEntryId: foreign.body.id }).expect(404)).body.error.code).toBe('not_found');
    expect(await count('budget_assignments')).toBe(rows);
  });
});
