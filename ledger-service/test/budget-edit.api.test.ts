import { sql } from 'kysely';
import { createBooks, type Books } from './support/books';
import { BACKEND, key, startTestLedger, type TestLedger } from './support/harness';

// Editing what a budget is made of: envelopes (name, group, target) and bills (terms, accounts, autopay). Past
// months and settled occurrences stay as they were; a refused change writes nothing; each change has an audit row.

let ledger: TestLedger;
let books: Books;
let groupId: string;
let otherGroupId: string;
let envelopeId: string;
let billId: string;

const billBody = (books: Books) => ({
  name: 'Internet',
  payee: 'Fiber Co',
  rrule: 'FREQ=MONTHLY;BYMONTHDAY=15',
  startsOn: '2026-01-15',
  amountCents: 6_500,
  estimated: false,
  categoryAccountId: books.accounts.Utilities,
  payFromAccountId: books.accounts.Checking,
  autopay: false,
});

async function auditRows(objectId: string, action: string): Promise<number> {
  const result = await sql<{ count: string }>`select count(*) as count from audit_log where object_id = ${objectId} and action = ${action}`.execute(ledger.deps.db);
  return Number(result.rows[0]?.count);
}

beforeAll(async () => {
  ledger = await startTestLedger();
  ledger.clock.set(Date.UTC(2026, 2, 10, 15));
  books = await createBooks(ledger, {
    name: 'Editing LLC',
    accounts: { Checking: 'checking', Visa: 'credit_card', Sales: 'income_category', Utilities: 'expense_category', Groceries: 'expense_category' },
  });
  groupId = (await ledger.http.post(`/entities/${books.entityId}/envelope-groups`).set('Idempotency-Key', key()).send({ name: 'Bills' }).expect(201)).body.id;
  otherGroupId = (await ledger.http.post(`/entities/${books.entityId}/envelope-groups`).set('Idempotency-Key', key()).send({ name: 'Everyday' }).expect(201)).body.id;
  envelopeId = (
    await ledger.http
      .post(`/entities/${books.entityId}/envelopes`)
      .set('Idempotency-Key', key())
      .send({ name: 'Utilities', groupId, categoryAccountIds: [books.accounts.Utilities], target: { kind: 'monthly', amountCents: 10_000 } })
      .expect(201)
  ).body.id;
  billId = (await ledger.http.post(`/entities/${books.entityId}/bills`).set('Idempotency-Key', key()).send(billBody(books)).expect(201)).body.id;
});
afterAll(() => ledger.close());

describe(`envelopes (${BACKEND})`, () => {
  it('renames, regroups, changes and clears the target, each with an audit row; categories stay', async () => {
    const renamed = await ledger.http.patch(`/envelopes/${envelopeId}`).set('Idempotency-Key', key()).send({ name: 'Utilities & internet', groupId: otherGroupId }).expect(200);
    expect(renamed.body).toMatchObject({ id: envelopeId, name: 'Utilities & internet', groupId: otherGroupId, categoryAccountIds: [books.accounts.Utilities], target: { kind: 'monthly', amountCents: 10_000 } });
    const retargeted = await ledger.http
      .patch(`/envelopes/${envelopeId}`)
      .set('Idempotency-Key', key())
      .send({ target: { kind: 'by_date', amountCents: 120_000, dueOn: '2026-12-31' } })
      .expect(200);
    expect(retargeted.body.target).toEqual({ kind: 'by_date', amountCents: 120_000, dueOn: '2026-12-31' });
    const month = await ledger.http.get(`/entities/${books.entityId}/budget/2026-03`).expect(200);
    expect(JSON.stringify(month.body)).toContain('Utilities & internet');
    const cleared = await ledger.http.patch(`/envelopes/${envelopeId}`).set('Idempotency-Key', key()).send({ target: null }).expect(200);
    expect(cleared.body.target).toBeNull();
    expect(await auditRows(envelopeId, 'envelope.updated')).toBe(3);
  });

  it('replays a retried change and refuses the same key with another body', async () => {
    const idempotencyKey = key();
    const first = await ledger.http.patch(`/envelopes/${envelopeId}`).set('Idempotency-Key', idempotencyKey).send({ name: 'Utilities' }).expect(200);
    const again = await ledger.http.patch(`/envelopes/${envelopeId}`).set('Idempotency-Key', idempotencyKey).send({ name: 'Utilities' }).expect(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const conflict = await ledger.http.patch(`/envelopes/${envelopeId}`).set('Idempotency-Key', idempotencyKey).send({ name: 'Other' }).expect(409);
    expect(conflict.body.error.code).toBe('idempotency_conflict');
    expect(await auditRows(envelopeId, 'envelope.updated')).toBe(4);
  });

  it('refuses bad changes with a code and changes nothing', async () => {
    const before = (await ledger.http.get(`/entities/${books.entityId}/envelopes`).expect(200)).body;
    const empty = await ledger.http.patch(`/envelopes/${envelopeId}`).set('Idempotency-Key', key()).send({}).expect(400);
    expect(empty.body.error.code).toBe('invalid_request');
    const unknownField = await ledger.http.patch(`/envelopes/${envelopeId}`).set('Idempotency-Key', key()).send({ categoryAccountIds: [] }).expect(400);
    expect(unknownField.body.error.code).toBe('invalid_request');
    const noDueOn = await ledger.http.patch(`/envelopes/${envelopeId}`).set('Idempotency-Key', key()).send({ target: { kind: 'by_date', amountCents: 100 } }).expect(422);
    expect(noDueOn.body.error.code).toBe('budget_envelope_invalid');
    await ledger.http.patch(`/envelopes/${envelopeId}`).set('Idempotency-Key', key()).send({ groupId: '00000000-0000-4000-8000-000000000000' }).expect(404);
    await ledger.http.patch('/envelopes/00000000-0000-4000-8000-000000000000').set('Idempotency-Key', key()).send({ name: 'Nobody' }).expect(404);
    // A card's payment envelope (kept by the service) cannot leave its group; nor can another envelope join it.
    const envelopes = before.envelopes as { id: string; kind: string; groupId: string }[];
    const card = envelopes.find((envelope) => envelope.kind === 'credit_card_payment');
    expect(card).toBeDefined();
    const leaves = await ledger.http.patch(`/envelopes/${card?.id}`).set('Idempotency-Key', key()).send({ groupId }).expect(422);
    expect(leaves.body.error.code).toBe('budget_envelope_invalid');
    const joins = await ledger.http.patch(`/envelopes/${envelopeId}`).set('Idempotency-Key', key()).send({ groupId: card?.groupId }).expect(422);
    expect(joins.body.error.code).toBe('budget_envelope_invalid');
    const renamedCard = await ledger.http.patch(`/envelopes/${card?.id}`).set('Idempotency-Key', key()).send({ name: 'Visa payment' }).expect(200);
    expect(renamedCard.body).toMatchObject({ name: 'Visa payment', kind: 'credit_card_payment' });
    const after = (await ledger.http.get(`/entities/${books.entityId}/envelopes`).expect(200)).body.envelopes as { id: string; name: string }[];
    expect(after.map((envelope) => (envelope.id === card?.id ? { ...envelope, name: 'unchanged' } : envelope))).toEqual(
      envelopes.map((envelope) => (envelope.id === card?.id ? { ...envelope, name: 'unchanged' } : envelope)),
    );
  });
});

describe(`bills (${BACKEND})`, () => {
  it('changes the amount, autopay and pay-from account; a paid occurrence keeps what it was paid with', async () => {
    await ledger.http.post(`/bills/${billId}/occurrences/2026-02-15/pay`).set('Idempotency-Key', key()).send({}).expect(201);
    const changed = await ledger.http
      .patch(`/bills/${billId}`)
      .set('Idempotency-Key', key())
      .send({ amountCents: 7_900, autopay: true, payFromAccountId: books.accounts.Visa, rrule: 'FREQ=MONTHLY;BYMONTHDAY=20' })
      .expect(200);
    // The new rule applies from today (2026-03-10): the February payment on the 15th is not followed by a late 20th.
    expect(changed.body).toMatchObject({ id: billId, amountCents: 7_900, autopay: true, payFromAccountId: books.accounts.Visa, rrule: 'FREQ=MONTHLY;BYMONTHDAY=20', startsOn: '2026-03-10', nextDueOn: '2026-03-20' });
    const occurrences = (await ledger.http.get(`/entities/${books.entityId}/bill-occurrences?from=2026-02-01&to=2026-04-30&today=2026-03-10`).expect(200)).body.occurrences as {
      dueOn: string;
      amountCents: number;
      status: string;
    }[];
    expect(occurrences.find((occurrence) => occurrence.dueOn === '2026-02-15')).toMatchObject({ status: 'paid', amountCents: 6_500 });
    expect(occurrences.filter((occurrence) => occurrence.status !== 'paid').map((occurrence) => [occurrence.dueOn, occurrence.amountCents])).toEqual([
      ['2026-03-20', 7_900],
      ['2026-04-20', 7_900],
    ]);
    expect(await auditRows(billId, 'bill.updated')).toBe(1);
  });

  it('refuses a bad rule, a non-expense category, an account that cannot pay, and an empty change, writing nothing', async () => {
    const before = (await ledger.http.get(`/bills/${billId}`).expect(200)).body;
    const rule = await ledger.http.patch(`/bills/${billId}`).set('Idempotency-Key', key()).send({ rrule: 'FREQ=SOMETIMES' });
    expect(rule.status).toBeGreaterThanOrEqual(400);
    expect(rule.status).toBeLessThan(500);
    expect(rule.body.error.code).toEqual(expect.any(String));
    const category = await ledger.http.patch(`/bills/${billId}`).set('Idempotency-Key', key()).send({ categoryAccountId: books.accounts.Sales }).expect(422);
    expect(category.body.error.code).toBe('bill_invalid');
    const payFrom = await ledger.http.patch(`/bills/${billId}`).set('Idempotency-Key', key()).send({ payFromAccountId: books.accounts.Groceries }).expect(422);
    expect(payFrom.body.error.code).toBe('bill_invalid');
    const empty = await ledger.http.patch(`/bills/${billId}`).set('Idempotency-Key', key()).send({}).expect(400);
    expect(empty.body.error.code).toBe('invalid_request');
    const negative = await ledger.http.patch(`/bills/${billId}`).set('Idempotency-Key', key()).send({ amountCents: -5 }).expect(400);
    expect(negative.body.error.details).toEqual(expect.anything());
    await ledger.http.patch('/bills/00000000-0000-4000-8000-000000000000').set('Idempotency-Key', key()).send({ autopay: false }).expect(404);
    expect((await ledger.http.get(`/bills/${billId}`).expect(200)).body).toEqual(before);
    expect(await auditRows(billId, 'bill.updated')).toBe(1);
  });
});
