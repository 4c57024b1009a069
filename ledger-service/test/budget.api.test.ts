import { sql } from 'kysely';
import { createBooks, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// A personal budget over three months, every figure worked out by hand in the comments: income, assignment, cash
// and credit overspending, a card payment, a move, uncategorised outflows, carry-over and a future assignment.

let ledger: TestLedger;
let books: Books;
const envelope: Record<string, string> = {};
let groupId: string;

async function entry(postedOn: string, description: string, postings: [string, number][]) {
  const response = await ledger.http
    .post(`/entities/${books.entityId}/entries`)
    .set('Idempotency-Key', key())
    .send({ postedOn, description, postings: postings.map(([account, amountCents]) => ({ accountId: books.accounts[account], amountCents })) })
    .expect(201);
  return response.body.id as string;
}

async function month(value: string) {
  const response = await ledger.http.get(`/entities/${books.entityId}/budget/${value}`).expect(200);
  const lines: Record<string, Record<string, number>> = {};
  for (const group of response.body.groups) {
    for (const line of group.envelopes) {
      lines[line.name] = {
        carried: line.carriedOverCents,
        assigned: line.assignedCents,
        activity: line.activityCents,
        available: line.availableCents,
        underfunded: line.underfundedCents,
        cashOver: line.cashOverspentCents,
        creditOver: line.creditOverspentCents,
      };
    }
  }
  return { body: response.body, ready: response.body.readyToAssignCents as number, lines };
}

function assign(value: string, envelopeName: string, amountCents: number, idempotencyKey = key()) {
  return ledger.http
    .post(`/entities/${books.entityId}/budget/${value}/assign`)
    .set('Idempotency-Key', idempotencyKey)
    .send({ envelopeId: envelope[envelopeName], amountCents });
}

async function assignmentRows(): Promise<number> {
  const result = await sql<{ count: string }>`select count(*) as count from budget_assignments`.execute(ledger.deps.db);
  return Number(result.rows[0]?.count);
}

beforeAll(async () => {
  ledger = await startTestLedger();
  books = await createBooks(ledger, {
    kind: 'personal',
    name: 'Budget Person',
    accounts: {
      Checking: 'checking',
      Visa: 'credit_card',
      Brokerage: 'brokerage',
      Salary: 'income_category',
      Groceries: 'expense_category',
      Dining: 'expense_category',
      Rent: 'expense_category',
      'Bank fees': 'expense_category',
    },
  });
  const group = await ledger.http.post(`/entities/${books.entityId}/envelope-groups`).set('Idempotency-Key', key()).send({ name: 'Living' }).expect(201);
  groupId = group.body.id;
  const make = async (name: string, category: string, target?: object) => {
    const response = await ledger.http
      .post(`/entities/${books.entityId}/envelopes`)
      .set('Idempotency-Key', key())
      .send({ name, groupId, categoryAccountIds: [books.accounts[category]], ...(target ? { target } : {}) })
      .expect(201);
    envelope[name] = response.body.id;
  };
  await make('Groceries', 'Groceries', { kind: 'monthly', amountCents: 40_000 });
  await make('Rent', 'Rent', { kind: 'fill_to', amountCents: 150_000 });
  await make('Dining', 'Dining', { kind: 'by_date', amountCents: 60_000, dueOn: '2026-03-31' });
  const envelopes = await ledger.http.get(`/entities/${books.entityId}/envelopes`).expect(200);
  const card = envelopes.body.envelopes.find((candidate: { kind: string }) => candidate.kind === 'credit_card_payment');
  envelope['Visa Payment'] = card.id;
});
afterAll(() => ledger.close());

describe('zero-based budget', () => {
  it('keeps a payment envelope for every credit card, in its own group', async () => {
    const envelopes = await ledger.http.get(`/entities/${books.entityId}/envelopes`).expect(200);
    expect(envelopes.body.envelopes.map((item: { name: string; kind: string; paymentAccountId: string | null }) => [item.name, item.kind, item.paymentAccountId])).toEqual([
      ['Groceries', 'category', null],
      ['Rent', 'category', null],
      ['Dining', 'category', null],
      ['Visa Payment', 'credit_card_payment', books.accounts.Visa],
    ]);
    const dining = envelopes.body.envelopes.find((item: { name: string }) => item.name === 'Dining');
    expect(dining).toMatchObject({ groupId, categoryAccountIds: [books.accounts.Dining], target: { kind: 'by_date', amountCents: 60_000, dueOn: '2026-03-31' } });
    const groups = await ledger.http.get(`/entities/${books.entityId}/envelope-groups`).expect(200);
    expect(groups.body.groups.map((group: { name: string; kind: string }) => [group.name, group.kind])).toEqual([
      ['Credit Card Payments', 'credit_card_payments'],
      ['Living', 'user'],
    ]);
  });

  it('January: income, assignments, cash and credit overspending', async () => {
    await entry('2026-01-01', 'Salary', [['Checking', 300_000], ['Salary', -300_000]]);
    await assign('2026-01', 'Groceries', 40_000).expect(200);
    await assign('2026-01', 'Rent', 150_000).expect(200);
    const last = await assign('2026-01', 'Dining', 10_000).expect(200);
    expect(last.body.readyToAssignCents).toBe(300_000 - 200_000);
    await entry('2026-01-05', 'Market (cash)', [['Groceries', 30_000], ['Checking', -30_000]]);
    // Groceries has 10,000 left: that much moves to the Visa payment envelope, 5,000 is credit overspending.
    await entry('2026-01-12', 'Market (Visa)', [['Groceries', 15_000], ['Visa', -15_000]]);
    // Dining had 10,000: 15,000 of cash overspending.
    await entry('2026-01-14', 'Dinner', [['Dining', 25_000], ['Checking', -25_000]]);
    await entry('2026-01-20', 'Rent', [['Rent', 150_000], ['Checking', -150_000]]);

    const january = await month('2026-01');
    expect(january.ready).toBe(100_000);
    expect(january.lines).toEqual({
      Groceries: { carried: 0, assigned: 40_000, activity: 45_000, available: -5_000, underfunded: 0, cashOver: 0, creditOver: 5_000 },
      Rent: { carried: 0, assigned: 150_000, activity: 150_000, available: 0, underfunded: 0, cashOver: 0, creditOver: 0 },
      // 60,000 by March: 20,000 a month over three months, 10,000 of it assigned.
      Dining: { carried: 0, assigned: 10_000, activity: 25_000, available: -15_000, underfunded: 10_000, cashOver: 15_000, creditOver: 0 },
      'Visa Payment': { carried: 0, assigned: 0, activity: -10_000, available: 10_000, underfunded: 0, cashOver: 0, creditOver: 0 },
    });
    expect(january.body.totals).toEqual({ assignedCents: 200_000, activityCents: 210_000, availableCents: -10_000, underfundedCents: 10_000 });
  });

  it('February: overspending resets, cash overspending comes out of Ready to Assign, a card payment, a move', async () => {
    await entry('2026-02-01', 'Salary', [['Checking', 300_000], ['Salary', -300_000]]);
    // Paying the whole card: 10,000 was funded, 5,000 was not (January's credit overspending).
    await entry('2026-02-10', 'Visa payment', [['Visa', 15_000], ['Checking', -15_000]]);
    await assign('2026-02', 'Groceries', 40_000).expect(200);
    await ledger.http
      .post(`/entities/${books.entityId}/budget/2026-02/move`)
      .set('Idempotency-Key', key())
      .send({ fromEnvelopeId: envelope.Groceries, toEnvelopeId: envelope['Visa Payment'], amountCents: 5_000 })
      .expect(200);
    // Money leaving the budget without an envelope: an uncategorised fee, and savings moved to the brokerage.
    await entry('2026-02-15', 'Wire fee', [['Bank fees', 1_000], ['Checking', -1_000]]);
    await entry('2026-02-16', 'Invest', [['Brokerage', 50_000], ['Checking', -50_000]]);

    const february = await month('2026-02');
    expect(february.body.overspentLastMonthCents).toBe(15_000);
    // Received 300,000 + 300,000 − 1,000 − 50,000; assigned 200,000 + 40,000 (the move nets out); January's cash
    // overspending 15,000.
    expect(february.ready).toBe(549_000 - 240_000 - 15_000);
    expect(february.lines).toEqual({
      Groceries: { carried: 0, assigned: 35_000, activity: 0, available: 35_000, underfunded: 5_000, cashOver: 0, creditOver: 0 },
      Rent: { carried: 0, assigned: 0, activity: 0, available: 0, underfunded: 150_000, cashOver: 0, creditOver: 0 },
      Dining: { carried: 0, assigned: 0, activity: 0, available: 0, underfunded: 30_000, cashOver: 0, creditOver: 0 },
      'Visa Payment': { carried: 10_000, assigned: 5_000, activity: 15_000, available: 0, underfunded: 0, cashOver: 0, creditOver: 0 },
    });
    // The envelope identity: money in on-budget cash = Ready to Assign + everything available.
    const checking = await ledger.http.get(`/accounts/${books.accounts.Checking}`).expect(200);
    const available = Object.values(february.lines).reduce((sum, line) => sum + (line.available ?? 0), 0);
    expect(checking.body.balanceCents).toBe(february.ready + available);
  });

  it('March carries over; a later month\'s assignment already counts against Ready to Assign', async () => {
    await assign('2026-04', 'Dining', 1_000).expect(200);
    const march = await month('2026-03');
    expect(march.ready).toBe(294_000 - 1_000);
    expect(march.body.assignedInFutureCents).toBe(1_000);
    // A monthly target asks for its amount every month, whatever was carried over (fill_to is the one that tops up).
    expect(march.lines.Groceries).toMatchObject({ carried: 35_000, assigned: 0, available: 35_000, underfunded: 40_000 });
    expect(march.lines.Dining).toMatchObject({ carried: 0, underfunded: 60_000 });
    const april = await month('2026-04');
    expect(april.ready).toBe(293_000);
    // Past its due date a by_date target asks for the whole rest at once.
    expect(april.lines.Dining).toMatchObject({ assigned: 1_000, underfunded: 59_000 });
  });

  it('a card refund gives the money back to the category', async () => {
    await entry('2026-03-03', 'Groceries on Visa', [['Groceries', 20_000], ['Visa', -20_000]]);
    await entry('2026-03-04', 'Refund on Visa', [['Visa', 5_000], ['Groceries', -5_000]]);
    const march = await month('2026-03');
    expect(march.lines.Groceries).toMatchObject({ carried: 35_000, activity: 15_000, available: 20_000, creditOver: 0 });
    expect(march.lines['Visa Payment']).toMatchObject({ carried: 0, activity: -15_000, available: 15_000 });
  });

  it('replays a retried assignment instead of assigning twice', async () => {
    const before = await month('2026-05');
    const retried = key('assign');
    await assign('2026-05', 'Rent', 2_500, retried).expect(200);
    const again = await assign('2026-05', 'Rent', 2_500, retried).expect(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const after = await month('2026-05');
    expect(after.lines.Rent?.assigned).toBe(2_500);
    expect(after.ready).toBe(before.ready - 2_500);
    // Taking it back is a negative assignment: both events stay in the log.
    await assign('2026-05', 'Rent', -2_500).expect(200);
    expect((await month('2026-05')).ready).toBe(before.ready);
  });

  it('refuses bad input with a code, storing nothing', async () => {
    const rows = await assignmentRows();
    const envelopesBefore = (await ledger.http.get(`/entities/${books.entityId}/envelopes`)).body.envelopes.length;
    const badMonth = await ledger.http.get(`/entities/${books.entityId}/budget/2026-13`).expect(400);
    expect(badMonth.body.error.code).toBe('invalid_request');
    expect((await assign('2026-02', 'Rent', 0).expect(400)).body.error.code).toBe('invalid_request');
    expect((await assign('2026-02', 'Rent', 1.5).expect(400)).body.error.code).toBe('invalid_request');
    const unknown = await ledger.http
      .post(`/entities/${books.entityId}/budget/2026-02/assign`)
      .set('Idempotency-Key', key())
      .send({ envelopeId: '00000000-0000-4000-8000-000000000000', amountCents: 100 })
      .expect(404);
    expect(unknown.body.error.code).toBe('not_found');
    const sameEnvelope = await ledger.http
      .post(`/entities/${books.entityId}/budget/2026-02/move`)
      .set('Idempotency-Key', key())
      .send({ fromEnvelopeId: envelope.Rent, toEnvelopeId: envelope.Rent, amountCents: 100 })
      .expect(422);
    expect(sameEnvelope.body.error.code).toBe('budget_envelope_invalid');
    const create = (body: object) => ledger.http.post(`/entities/${books.entityId}/envelopes`).set('Idempotency-Key', key()).send(body);
    expect((await create({ name: 'Pay', groupId, categoryAccountIds: [books.accounts.Salary] }).expect(422)).body.error.code).toBe('budget_category_invalid');
    expect((await create({ name: 'Food 2', groupId, categoryAccountIds: [books.accounts.Groceries] }).expect(409)).body.error.code).toBe('budget_category_taken');
    expect((await create({ name: 'Groceries', groupId, categoryAccountIds: [] }).expect(409)).body.error.code).toBe('duplicate_name');
    expect((await create({ name: 'Trip', groupId, categoryAccountIds: [], target: { kind: 'by_date', amountCents: 100 } }).expect(422)).body.error.code).toBe('budget_envelope_invalid');
    expect((await create({ name: 'Trip', groupId: '00000000-0000-4000-8000-000000000000', categoryAccountIds: [] }).expect(404)).body.error.code).toBe('not_found');
    const other = await createBooks(ledger, { name: 'Other LLC', accounts: { Travel: 'expense_category' } });
    expect((await create({ name: 'Trip', groupId, categoryAccountIds: [other.accounts.Travel] }).expect(404)).body.error.code).toBe('not_found');
    expect(await assignmentRows()).toBe(rows);
    expect((await ledger.http.get(`/entities/${books.entityId}/envelopes`)).body.envelopes).toHaveLength(envelopesBefore);
  });

  it('gives the money flow of a period for a Sankey: income → Ready to Assign → envelopes → spending', async () => {
    const january = await ledger.http.get(`/entities/${books.entityId}/money-flow?from=2026-01-01&to=2026-01-31`).expect(200);
    const a = books.accounts as Record<string, string>;
    expect(january.body.links).toEqual(
      expect.arrayContaining([
        { source: a.Salary, target: 'ready-to-assign', valueCents: 300_000 },
        { source: 'ready-to-assign', target: envelope.Groceries, valueCents: 40_000 },
        { source: 'ready-to-assign', target: envelope.Rent, valueCents: 150_000 },
        { source: 'ready-to-assign', target: envelope.Dining, valueCents: 10_000 },
        { source: 'ready-to-assign', target: 'not-yet-assigned', valueCents: 100_000 },
        { source: envelope.Groceries, target: a.Groceries, valueCents: 45_000 },
        { source: envelope.Dining, target: a.Dining, valueCents: 25_000 },
        { source: envelope.Rent, target: a.Rent, valueCents: 150_000 },
      ]),
    );
    expect(january.body.links).toHaveLength(8);
    const kinds = Object.fromEntries(january.body.nodes.map((node: { id: string; kind: string }) => [node.id, node.kind]));
    expect(kinds).toMatchObject({ [a.Salary as string]: 'income', 'ready-to-assign': 'budget', [envelope.Groceries as string]: 'envelope', [a.Groceries as string]: 'spending' });
    // February: the card payment is no flow; the fee and the brokerage transfer leave without an envelope.
    const february = await ledger.http.get(`/entities/${books.entityId}/money-flow?from=2026-02-01&to=2026-02-28`).expect(200);
    expect(february.body.links).toHaveLength(6);
    expect(february.body.links).toEqual(expect.arrayContaining([
      { source: a.Salary, target: 'ready-to-assign', valueCents: 300_000 },
      { source: 'ready-to-assign', target: a['Bank fees'], valueCents: 1_000 },
      { source: 'ready-to-assign', target: a.Brokerage, valueCents: 50_000 },
      { source: 'ready-to-assign', target: envelope.Groceries, valueCents: 35_000 },
      { source: 'ready-to-assign', target: envelope['Visa Payment'], valueCents: 5_000 },
      { source: 'ready-to-assign', target: 'not-yet-assigned', valueCents: 209_000 },
    ]));
    expect((await ledger.http.get(`/entities/${books.entityId}/money-flow?from=2026-02-01&to=2026-01-01`).expect(400)).body.error.code).toBe('invalid_request');
  });

  it('keeps the assignment log append-only in the database itself', async () => {
    await expect(sql`update budget_assignments set amount_cents = 1`.execute(ledger.deps.db)).rejects.toThrow(/journal_immutable/);
    await expect(sql`delete from budget_assignments`.execute(ledger.deps.db)).rejects.toThrow(/journal_immutable/);
  });
});
