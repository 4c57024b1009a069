import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { applyEvaluation } from '../src/services/alert-events';
import { dispatchDue } from '../src/services/events';
import { createBooks, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// Alerts pushed as events: each condition emits once per occurrence (not again while it holds, again after it
// cleared and recurs), from the write's transaction (balances, envelopes) or from the sweep (bills, month end).

let ledger: TestLedger;
let books: Books;
const envelope: Record<string, string> = {};

jest.setTimeout(600_000);

beforeAll(async () => {
  ledger = await startTestLedger();
  ledger.clock.set(Date.UTC(2026, 2, 10, 15));
  books = await createBooks(ledger, {
    name: 'Alerting LLC',
    accounts: { Checking: 'checking', Savings: 'savings', Sales: 'income_category', Groceries: 'expense_category', Software: 'expense_category', Rent: 'expense_category' },
  });
  const group = await ledger.http.post(`/entities/${books.entityId}/envelope-groups`).set('Idempotency-Key', key()).send({ name: 'Costs' }).expect(201);
  for (const [name, target] of [
    ['Groceries', undefined],
    ['Software', { kind: 'monthly', amountCents: 5_000 }],
  ] as const) {
    const response = await ledger.http
      .post(`/entities/${books.entityId}/envelopes`)
      .set('Idempotency-Key', key())
      .send({ name, groupId: group.body.id, categoryAccountIds: [books.accounts[name]], ...(target ? { target } : {}) })
      .expect(201);
    envelope[name] = response.body.id;
  }
});
afterAll(() => ledger.close());

interface EmittedEvent {
  type: string;
  payload: Record<string, unknown> & { alert: { key: string; occurrence: number } };
}

async function emitted(type: string): Promise<EmittedEvent[]> {
  const result = await sql<EmittedEvent>`select type, payload from ledger_events where entity_id = ${books.entityId} and type = ${type} order by seq`.execute(ledger.deps.db);
  return result.rows;
}

function book(postedOn: string, amountCents: number, from: string, to: string) {
  return ledger.http
    .post(`/entities/${books.entityId}/entries`)
    .set('Idempotency-Key', key())
    .send({
      postedOn,
      description: `${from} → ${to}`,
      postings: [
        { accountId: books.accounts[to], amountCents },
        { accountId: books.accounts[from], amountCents: -amountCents },
      ],
    })
    .expect(201);
}

function sweep(today: string, entityId = books.entityId) {
  return ledger.http.post('/alerts/sweep').set('Idempotency-Key', key()).send({ entityId, today });
}

describe('alert settings', () => {
  it('has defaults, and rejects floors for accounts that are not cash accounts of the entity', async () => {
    const defaults = await ledger.http.get(`/entities/${books.entityId}/alert-settings`).expect(200);
    expect(defaults.body).toEqual({ entityId: books.entityId, balanceCentsMin: 0, accountBalanceCentsMin: {}, billDueWithinDays: 3, updatedAt: null });
    const put = (body: object) => ledger.http.put(`/entities/${books.entityId}/alert-settings`).set('Idempotency-Key', key()).send(body);
    const notCash = await put({ accountBalanceCentsMin: { [books.accounts.Sales as string]: 100 } }).expect(400);
    expect(notCash.body.error).toMatchObject({ code: 'invalid_request', details: { accountIds: [books.accounts.Sales] } });
    expect((await put({ balanceCentsMin: 1.5 }).expect(400)).body.error.code).toBe('invalid_request');
    expect((await put({ billDueWithinDays: 61 }).expect(400)).body.error.code).toBe('invalid_request');
    expect((await put({ unknown: 1 }).expect(400)).body.error.code).toBe('invalid_request');
    const other = await ledger.http.put(`/entities/${crypto.randomUUID()}/alert-settings`).set('Idempotency-Key', key()).send({});
    expect(other.status).toBe(404);
    expect(await emitted('balance.low')).toEqual([]);
  });
});

describe('balance.low (in the write transaction)', () => {
  it('is emitted once per crossing under the floor, and again after the balance recovered and fell again', async () => {
    await book('2026-03-02', 50_000, 'Sales', 'Checking');
    const settings = await ledger.http
      .put(`/entities/${books.entityId}/alert-settings`)
      .set('Idempotency-Key', key())
      .send({ balanceCentsMin: 20_000, accountBalanceCentsMin: { [books.accounts.Savings as string]: 0 } })
      .expect(200);
    expect(settings.body).toMatchObject({ balanceCentsMin: 20_000, billDueWithinDays: 3 });
    // Savings (0) sits exactly at its own floor of 0: not low, although under the entity's 20,000.
    expect(await emitted('balance.low')).toEqual([]);

    await book('2026-03-03', 35_000, 'Checking', 'Rent'); // 15,000: under 20,000
    await book('2026-03-04', 1_000, 'Checking', 'Rent'); // still under: nothing new
    let low = await emitted('balance.low');
    expect(low).toHaveLength(1);
    expect(low[0]?.payload).toMatchObject({ accountId: books.accounts.Checking, balanceCents: 15_000, thresholdCents: 20_000, alert: { key: `balance.low:${books.accounts.Checking}`, occurrence: 1 } });
    expect((await sweep('2026-03-04').expect(200)).body.raised.filter((item: { type: string }) => item.type === 'balance.low')).toEqual([]);

    await book('2026-03-05', 30_000, 'Sales', 'Checking'); // 44,000: cleared, no event
    expect(await emitted('balance.low')).toHaveLength(1);
    await book('2026-03-06', 30_000, 'Checking', 'Rent'); // 14,000: under again
    low = await emitted('balance.low');
    expect(low).toHaveLength(2);
    expect(low[1]?.payload).toMatchObject({ balanceCents: 14_000, alert: { occurrence: 2 } });
  });

  it('rolls back with the write: a rejected write emits nothing', async () => {
    const before = await emitted('balance.low');
    // The second entry of the batch does not balance: nothing of the batch is written, no event either.
    await ledger.http
      .post(`/entities/${books.entityId}/entries/batch`)
      .set('Idempotency-Key', key())
      .send({
        entries: [
          { postedOn: '2026-03-07', description: 'ok', postings: [{ accountId: books.accounts.Rent, amountCents: 100 }, { accountId: books.accounts.Savings, amountCents: -100 }] },
          { postedOn: '2026-03-07', description: 'bad', postings: [{ accountId: books.accounts.Rent, amountCents: 100 }, { accountId: books.accounts.Savings, amountCents: -99 }] },
        ],
      });
    expect(await emitted('balance.low')).toEqual(before);
  });

  it('raises at once when a new floor puts a balance under it', async () => {
    await ledger.http
      .put(`/entities/${books.entityId}/alert-settings`)
      .set('Idempotency-Key', key())
      .send({ balanceCentsMin: 20_000, accountBalanceCentsMin: { [books.accounts.Savings as string]: 1 } })
      .expect(200);
    const low = await emitted('balance.low');
    expect(low.map((event) => event.payload.accountId)).toEqual([books.accounts.Checking, books.accounts.Checking, books.accounts.Savings]);
  });
});

describe('balance.low under concurrency', () => {
  it('emits one event when concurrent writes cross the floor together', async () => {
    const reserve = await ledger.http.post(`/entities/${books.entityId}/accounts`).set('Idempotency-Key', key()).send({ name: 'Reserve', kind: 'money_market' }).expect(201);
    books.accounts.Reserve = reserve.body.id;
    await book('2026-03-07', 30_000, 'Sales', 'Reserve');
    const before = (await emitted('balance.low')).length;
    await Promise.all([1, 2, 3, 4].map(() => book('2026-03-07', 5_000, 'Reserve', 'Rent'))); // 30,000 → 10,000
    const low = (await emitted('balance.low')).slice(before);
    expect(low.map((event) => event.payload.accountId)).toEqual([books.accounts.Reserve]);
  });
});

describe('alert evaluations at the same time', () => {
  // Found by the hardening soak on PostgreSQL: two evaluations of one entity upserting overlapping alert_states
  // rows in different orders ended in 'deadlock detected'.
  it('raise and clear overlapping conditions of one entity in opposite orders without a deadlock', async () => {
    const conditions = Array.from({ length: 120 }, (_, index) => ({ key: `test.deadlock:${String(index).padStart(3, '0')}`, type: 'balance.low' as const, payload: { index } }));
    const allKeys = conditions.map((condition) => condition.key);
    // An evaluation authoritative for the keys it raises (and, to clear them, for all).
    const evaluate = (firing: typeof conditions, keys = firing.map((condition) => condition.key)) =>
      ledger.deps.db.transaction().execute((trx) => applyEvaluation(trx, books.entityId, { keys, prefixes: [], firing }));
    const reversed = [...conditions].reverse();
    for (let round = 0; round < 6; round += 1) {
      // Raise all (rows exist and are active), clear all, then raise them again at once in opposite orders:
      // the upserts take the existing rows' locks.
      await evaluate(conditions);
      await evaluate([], allKeys);
      const raised = await Promise.all([evaluate(conditions), evaluate(reversed), evaluate(conditions.filter((_, index) => index % 2 === 0).reverse())]);
      // Each condition turned active once: one of the evaluations raised it, the others found it active.
      expect(raised.flat().map((condition) => condition.key).sort()).toEqual(allKeys);
    }
    await evaluate([], allKeys);
  });
});

describe('budget.overspent (in the write transaction)', () => {
  it('is emitted once per envelope-month, cleared by an assignment, and again when overspent again', async () => {
    await book('2026-03-08', 2_000, 'Checking', 'Groceries'); // nothing assigned: overspent by 2,000
    await book('2026-03-09', 500, 'Checking', 'Groceries'); // more of the same: no second event
    let overspent = await emitted('budget.overspent');
    expect(overspent).toHaveLength(1);
    expect(overspent[0]?.payload).toMatchObject({ month: '2026-03', envelopeId: envelope.Groceries, availableCents: -2_000, alert: { occurrence: 1 } });

    await ledger.http.post(`/entities/${books.entityId}/budget/2026-03/assign`).set('Idempotency-Key', key()).send({ envelopeId: envelope.Groceries, amountCents: 3_000 }).expect(200);
    await book('2026-03-10', 1_000, 'Checking', 'Groceries'); // 3,000 assigned, 3,500 spent: overspent again
    overspent = await emitted('budget.overspent');
    expect(overspent).toHaveLength(2);
    expect(overspent[1]?.payload).toMatchObject({ month: '2026-03', availableCents: -500, alert: { occurrence: 2 } });

    // Another month is another occurrence.
    await book('2026-04-02', 100, 'Checking', 'Groceries');
    overspent = await emitted('budget.overspent');
    expect(overspent.map((event) => event.payload.month)).toEqual(['2026-03', '2026-03', '2026-04']);
  });
});

describe('the sweep (dates)', () => {
  let billId: string;

  beforeAll(async () => {
    const bill = await ledger.http
      .post(`/entities/${books.entityId}/bills`)
      .set('Idempotency-Key', key())
      .send({
        name: 'Hosting',
        payee: 'Cloud Co',
        rrule: 'FREQ=MONTHLY;BYMONTHDAY=20',
        startsOn: '2026-03-20',
        amountCents: 4_000,
        estimated: false,
        categoryAccountId: books.accounts.Software,
        payFromAccountId: books.accounts.Checking,
        autopay: false,
      })
      .expect(201);
    billId = bill.body.id;
  });

  it('emits bill.due once within the window, bill.late once when past due, nothing more on later sweeps', async () => {
    expect((await sweep('2026-03-15').expect(200)).body.raised.filter((item: { type: string }) => item.type.startsWith('bill.'))).toEqual([]);
    const due = await sweep('2026-03-17').expect(200);
    expect(due.body.raised).toContainEqual({ entityId: books.entityId, type: 'bill.due', key: `bill.due:${billId}:2026-03-20` });
    await sweep('2026-03-18').expect(200);
    expect((await emitted('bill.due')).map((event) => event.payload)).toEqual([
      expect.objectContaining({ billId, dueOn: '2026-03-20', amountCents: 4_000, payee: 'Cloud Co', alert: { key: `bill.due:${billId}:2026-03-20`, occurrence: 1 } }),
    ]);
    await sweep('2026-03-21').expect(200);
    await sweep('2026-03-22').expect(200);
    const late = await emitted('bill.late');
    expect(late.map((event) => event.payload.dueOn)).toEqual(['2026-03-20']);
    // Paid: nothing late any more, and no event for it.
    await ledger.http.post(`/bills/${billId}/occurrences/2026-03-20/pay`).set('Idempotency-Key', key()).send({ paidOn: '2026-03-22' }).expect(201);
    await sweep('2026-03-23').expect(200);
    expect(await emitted('bill.late')).toHaveLength(1);
    const state = await sql<{ active: boolean }>`select active from alert_states where entity_id = ${books.entityId} and condition_key = ${`bill.late:${billId}:2026-03-20`}`.execute(ledger.deps.db);
    expect(state.rows).toEqual([{ active: false }]);
  });

  it('emits budget.target_underfunded once per envelope-month and budget.ready_to_assign_not_zero once per ended month', async () => {
    const underfunded = await emitted('budget.target_underfunded');
    expect(underfunded.map((event) => [event.payload.envelopeId, event.payload.month])).toContainEqual([envelope.Software, '2026-03']);
    expect(underfunded.filter((event) => event.payload.envelopeId === envelope.Software && event.payload.month === '2026-03')).toHaveLength(1);
    // The sweeps in March looked at February (ended); March itself is looked at from its last day on.
    expect((await emitted('budget.ready_to_assign_not_zero')).map((event) => event.payload.month)).not.toContain('2026-03');
    // March ends today: Ready to Assign of March is not zero (money received is not all assigned).
    const monthEnd = await sweep('2026-03-31').expect(200);
    expect(monthEnd.body.raised).toContainEqual({ entityId: books.entityId, type: 'budget.ready_to_assign_not_zero', key: 'budget.ready_to_assign_not_zero:2026-03' });
    await sweep('2026-04-01').expect(200);
    await sweep('2026-04-02').expect(200);
    const readyToAssign = await emitted('budget.ready_to_assign_not_zero');
    const march = readyToAssign.filter((event) => event.payload.month === '2026-03');
    expect(march).toHaveLength(1);
    expect(march[0]?.payload.readyToAssignCents).not.toBe(0);
  });

  it('rejects a bad sweep request, and an entity the caller cannot see', async () => {
    expect((await ledger.http.post('/alerts/sweep').set('Idempotency-Key', key()).send({ today: '2026-13-01' }).expect(400)).body.error.code).toBe('invalid_request');
    expect((await sweep('2026-04-02', crypto.randomUUID())).status).toBe(404);
    // Without an entity: every entity the caller can write; what the last sweep raised is not raised twice.
    await sweep('2026-04-02').expect(200);
    const all = await ledger.http.post('/alerts/sweep').set('Idempotency-Key', key()).send({ today: '2026-04-02' }).expect(200);
    expect(all.body).toEqual({ today: '2026-04-02', entities: 1, raised: [] });
  });
});

describe('delivery', () => {
  it('delivers an alert to a receiver that fails first, once, with the same event id', async () => {
    const received: { id: string; type: string }[] = [];
    let failures = 1;
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        if (failures > 0) {
          failures -= 1;
          res.writeHead(500).end();
          return;
        }
        received.push(JSON.parse(body));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      await ledger.http.post('/webhooks').set('Idempotency-Key', key()).send({ url, events: ['balance.low'], entityIds: [books.entityId] }).expect(201);
      await book('2026-04-03', 1, 'Savings', 'Rent'); // Savings was already low: no new event
      await book('2026-04-03', 100_000, 'Sales', 'Checking'); // Checking recovers
      await book('2026-04-03', 100_000, 'Checking', 'Rent'); // … and falls again: one event
      // The outbox stamps deliveries with the database's clock, not the ledger's test clock.
      const now = Date.now();
      const first = await dispatchDue({ ...ledger.deps, security: { ...ledger.deps.security, now: () => now } });
      expect(first).toEqual({ delivered: 0, retried: 1, failed: 0 });
      const second = await dispatchDue({ ...ledger.deps, security: { ...ledger.deps.security, now: () => now + 60_000 } });
      expect(second).toEqual({ delivered: 1, retried: 0, failed: 0 });
      const third = await dispatchDue({ ...ledger.deps, security: { ...ledger.deps.security, now: () => now + 3_600_000 } });
      expect(third).toEqual({ delivered: 0, retried: 0, failed: 0 });
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ type: 'balance.low', data: { accountId: books.accounts.Checking, alert: { occurrence: 3 } } });
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
