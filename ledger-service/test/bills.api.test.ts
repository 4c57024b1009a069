import { sql } from 'kysely';
import { checkInvariants, createBooks, entryCount, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// Bills over HTTP: recurrence, statuses against a given day, paying once (whatever the key), skipping.

let ledger: TestLedger;
let books: Books;
let rentId: string;
let powerId: string;

function createBill(body: object) {
  return ledger.http.post(`/entities/${books.entityId}/bills`).set('Idempotency-Key', key()).send(body);
}

function pay(billId: string, dueOn: string, body: object = {}, idempotencyKey = key()) {
  return ledger.http.post(`/bills/${billId}/occurrences/${dueOn}/pay`).set('Idempotency-Key', idempotencyKey).send(body);
}

async function occurrences(query: string) {
  const response = await ledger.http.get(`/entities/${books.entityId}/bill-occurrences?${query}`).expect(200);
  return response.body.occurrences as { billName: string; dueOn: string; status: string; amountCents: number; estimated: boolean; entryId: string | null; skipReason: string | null }[];
}

beforeAll(async () => {
  ledger = await startTestLedger();
  ledger.clock.set(Date.UTC(2026, 2, 10, 15));
  books = await createBooks(ledger, {
    name: 'Billing LLC',
    accounts: { Checking: 'checking', Visa: 'credit_card', Brokerage: 'brokerage', Rent: 'expense_category', Utilities: 'expense_category', Sales: 'income_category' },
  });
  const rent = await createBill({
    name: 'Studio rent',
    payee: 'Harbor Properties',
    rrule: 'FREQ=MONTHLY;BYMONTHDAY=1',
    startsOn: '2026-01-01',
    amountCents: 180_000,
    estimated: false,
    categoryAccountId: books.accounts.Rent,
    payFromAccountId: books.accounts.Checking,
    autopay: true,
  }).expect(201);
  rentId = rent.body.id;
  const power = await createBill({
    name: 'Electricity',
    payee: 'City Power',
    rrule: 'FREQ=MONTHLY;BYMONTHDAY=-1',
    startsOn: '2026-01-31',
    amountCents: 9_000,
    estimated: true,
    categoryAccountId: books.accounts.Utilities,
    payFromAccountId: books.accounts.Visa,
    autopay: false,
  }).expect(201);
  powerId = power.body.id;
});
afterAll(() => ledger.close());

describe('bills', () => {
  it('creates, lists and reads bills with their next due date', async () => {
    const listed = await ledger.http.get(`/entities/${books.entityId}/bills`).expect(200);
    expect(listed.body.bills.map((bill: { name: string; nextDueOn: string }) => [bill.name, bill.nextDueOn])).toEqual([
      ['Electricity', '2026-03-31'],
      ['Studio rent', '2026-04-01'],
    ]);
    const rent = await ledger.http.get(`/bills/${rentId}`).expect(200);
    expect(rent.body).toMatchObject({ id: rentId, entityId: books.entityId, payee: 'Harbor Properties', amountCents: 180_000, estimated: false, autopay: true, rrule: 'FREQ=MONTHLY;BYMONTHDAY=1' });
  });

  it('lists occurrences with statuses against today', async () => {
    const listed = await occurrences('from=2026-02-01&to=2026-04-30&today=2026-03-28');
    expect(listed.map((item) => [item.billName, item.dueOn, item.status])).toEqual([
      ['Studio rent', '2026-02-01', 'late'],
      ['Electricity', '2026-02-28', 'late'],
      ['Studio rent', '2026-03-01', 'late'],
      ['Electricity', '2026-03-31', 'due'],
      ['Studio rent', '2026-04-01', 'due'],
      ['Electricity', '2026-04-30', 'upcoming'],
    ]);
    const due = await occurrences('from=2026-02-01&to=2026-04-30&today=2026-03-28&status=due');
    expect(due.map((item) => item.dueOn)).toEqual(['2026-03-31', '2026-04-01']);
    // Without `today` the service's date counts (2026-03-10 here), and the window defaults around it.
    const defaults = await occurrences('');
    expect(defaults.map((item) => [item.dueOn, item.status])).toEqual([
      ['2026-02-28', 'late'],
      ['2026-03-01', 'late'],
      ['2026-03-31', 'upcoming'],
      ['2026-04-01', 'upcoming'],
      ['2026-04-30', 'upcoming'],
      ['2026-05-01', 'upcoming'],
    ]);
  });

  it('pays an occurrence once: the entry is booked, a retry replays, another key is refused', async () => {
    const before = await entryCount(ledger.deps.db, books.entityId);
    const retried = key('pay');
    const paid = await pay(rentId, '2026-03-01', { paidOn: '2026-03-02' }, retried).expect(201);
    expect(paid.body.occurrence).toMatchObject({ billId: rentId, dueOn: '2026-03-01', status: 'paid', amountCents: 180_000, paidOn: '2026-03-02', entryId: paid.body.entry.id });
    expect(paid.body.entry).toMatchObject({ postedOn: '2026-03-02', description: 'Studio rent: Harbor Properties (due 2026-03-01)' });
    expect(paid.body.entry.postings.map((posting: { accountId: string; amountCents: number }) => [posting.accountId, posting.amountCents])).toEqual(
      expect.arrayContaining([
        [books.accounts.Rent, 180_000],
        [books.accounts.Checking, -180_000],
      ]),
    );
    const replay = await pay(rentId, '2026-03-01', { paidOn: '2026-03-02' }, retried).expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.entry.id).toBe(paid.body.entry.id);
    const again = await pay(rentId, '2026-03-01', { paidOn: '2026-03-03' }).expect(409);
    expect(again.body.error.code).toBe('bill_occurrence_settled');
    expect(await entryCount(ledger.deps.db, books.entityId)).toBe(before + 1);
    const account = await ledger.http.get(`/accounts/${books.accounts.Checking}`).expect(200);
    expect(account.body.balanceCents).toBe(-180_000);
    const listed = await occurrences('from=2026-03-01&to=2026-03-01&today=2026-03-28');
    expect(listed).toEqual([expect.objectContaining({ status: 'paid', entryId: paid.body.entry.id })]);
  });

  it('pays two concurrent requests for the same occurrence exactly once', async () => {
    const before = await entryCount(ledger.deps.db, books.entityId);
    const results = await Promise.all([pay(rentId, '2026-02-01'), pay(rentId, '2026-02-01'), pay(rentId, '2026-02-01')]);
    expect(results.map((result) => result.status).sort()).toEqual([201, 409, 409]);
    expect(await entryCount(ledger.deps.db, books.entityId)).toBe(before + 1);
  });

  it('pays an estimated bill with the real amount, from another account', async () => {
    const paid = await pay(powerId, '2026-02-28', { amountCents: 10_437, fromAccountId: books.accounts.Checking, paidOn: '2026-03-01' }).expect(201);
    expect(paid.body.occurrence).toMatchObject({ amountCents: 10_437, estimated: false, status: 'paid' });
    const upcoming = await occurrences('from=2026-03-31&to=2026-03-31&today=2026-03-10');
    expect(upcoming).toEqual([expect.objectContaining({ amountCents: 9_000, estimated: true, status: 'upcoming' })]);
  });

  it('records a skipped occurrence with its reason, and it cannot then be paid', async () => {
    const skipped = await ledger.http.post(`/bills/${powerId}/occurrences/2026-01-31/skip`).set('Idempotency-Key', key()).send({ reason: 'Billed with February' }).expect(201);
    expect(skipped.body.occurrence).toMatchObject({ status: 'skipped', skipReason: 'Billed with February', entryId: null });
    expect((await pay(powerId, '2026-01-31').expect(409)).body.error.code).toBe('bill_occurrence_settled');
    const listed = await occurrences('from=2026-01-01&to=2026-01-31&today=2026-03-10');
    expect(listed.map((item) => [item.billName, item.dueOn, item.status])).toEqual([
      ['Studio rent', '2026-01-01', 'late'],
      ['Electricity', '2026-01-31', 'skipped'],
    ]);
  });

  it('refuses bad input with a code, booking nothing', async () => {
    const before = await entryCount(ledger.deps.db, books.entityId);
    const base = {
      name: 'Phone',
      payee: 'Carrier',
      rrule: 'FREQ=MONTHLY;BYMONTHDAY=5',
      startsOn: '2026-01-05',
      amountCents: 5_000,
      estimated: false,
      categoryAccountId: books.accounts.Utilities,
      payFromAccountId: books.accounts.Checking,
      autopay: false,
    };
    expect((await createBill({ ...base, rrule: 'FREQ=MINUTELY' }).expect(422)).body.error.code).toBe('bill_invalid');
    expect((await createBill({ ...base, categoryAccountId: books.accounts.Sales }).expect(422)).body.error.code).toBe('bill_invalid');
    expect((await createBill({ ...base, payFromAccountId: books.accounts.Brokerage }).expect(422)).body.error.code).toBe('bill_invalid');
    expect((await createBill({ ...base, amountCents: 0 }).expect(400)).body.error.code).toBe('invalid_request');
    expect((await createBill({ ...base, name: 'Studio rent' }).expect(409)).body.error.code).toBe('duplicate_name');
    const other = await createBooks(ledger, { name: 'Other LLC', accounts: { Cash: 'cash' } });
    expect((await createBill({ ...base, payFromAccountId: other.accounts.Cash }).expect(404)).body.error.code).toBe('not_found');
    expect((await pay(rentId, '2026-03-02').expect(422)).body.error.code).toBe('bill_occurrence_invalid');
    expect((await pay(rentId, '2026-13-01').expect(400)).body.error.code).toBe('invalid_request');
    expect((await pay(rentId, '2025-12-01').expect(422)).body.error.code).toBe('bill_occurrence_invalid');
    expect((await pay(rentId, '2026-04-01', { fromAccountId: books.accounts.Brokerage }).expect(422)).body.error.code).toBe('bill_invalid');
    expect((await pay('00000000-0000-4000-8000-000000000000', '2026-04-01').expect(404)).body.error.code).toBe('not_found');
    expect((await ledger.http.get(`/entities/${books.entityId}/bill-occurrences?from=2026-01-01&to=2030-01-01`).expect(400)).body.error.code).toBe('invalid_request');
    expect(await entryCount(ledger.deps.db, books.entityId)).toBe(before);
    expect((await ledger.http.get(`/entities/${books.entityId}/bills`)).body.bills).toHaveLength(2);
    expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0 });
  });

  it('raises alerts: an overdrawn account, money assigned beyond what came in, bills late and due', async () => {
    const response = await ledger.http.get(`/entities/${books.entityId}/alerts?today=2026-03-28`).expect(200);
    // Checking paid two rents (180,000 each) and the electricity (10,437) with nothing coming in.
    expect(response.body.alerts.map((alert: { kind: string; amountCents: number; dueOn?: string }) => [alert.kind, alert.amountCents, alert.dueOn ?? null])).toEqual([
      ['low_balance', -370_437, null],
      ['ready_to_assign_negative', -370_437, null],
      ['bill_late', 180_000, '2026-01-01'],
      ['bill_due', 9_000, '2026-03-31'],
      ['bill_due', 180_000, '2026-04-01'],
    ]);
    expect(response.body.alerts[0]).toMatchObject({ accountId: books.accounts.Checking, severity: 'warning' });
    const wider = await ledger.http.get(`/entities/${books.entityId}/alerts?today=2026-03-28&dueWithinDays=40&balanceCentsMin=-400000`).expect(200);
    expect(wider.body.alerts.map((alert: { kind: string; dueOn?: string }) => `${alert.kind} ${alert.dueOn ?? ''}`.trim())).toEqual([
      'ready_to_assign_negative',
      'bill_late 2026-01-01',
      'bill_due 2026-03-31',
      'bill_due 2026-04-01',
      'bill_due 2026-04-30',
      'bill_due 2026-05-01',
    ]);
    expect((await ledger.http.get(`/entities/${books.entityId}/alerts?dueWithinDays=1000`).expect(400)).body.error.code).toBe('invalid_request');
  });

  it('keeps settled occurrences append-only in the database itself', async () => {
    await expect(sql`delete from bill_occurrences`.execute(ledger.deps.db)).rejects.toThrow(/journal_immutable/);
  });
});
