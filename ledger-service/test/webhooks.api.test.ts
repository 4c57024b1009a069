import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dispatchDue, DELIVERY_ATTEMPTS_MAX, verifySignature } from '../src/services/events';
import { createBooks, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// Ledger events: the outbox written with the change, subscriptions, and signed deliveries with retries.

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

let ledger: TestLedger;
let books: Books;
let personal: Books;
let receiver: http.Server;
let receiverUrl: string;
const received: Received[] = [];
let failNext = 0;

// A busy shared machine can take minutes to open a ledger and sign in with MFA: a bound, not a speed assertion.
jest.setTimeout(600_000);

beforeAll(async () => {
  ledger = await startTestLedger({ ownerMfa: true });
  books = await createBooks(ledger, { name: 'Hooked LLC', accounts: { checking: 'checking', sales: 'income_category' } });
  personal = await createBooks(ledger, { kind: 'personal', name: 'Hooked Owner', accounts: { checking: 'checking' } });
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (failNext > 0) {
        failNext -= 1;
        res.writeHead(503).end();
        return;
      }
      received.push({ headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await new Promise((resolve) => receiver.close(resolve));
  await ledger.close();
});

function sale(amountCents: number, description = 'Sale') {
  return {
    postedOn: '2026-06-01',
    description,
    postings: [
      { accountId: books.accounts.checking, amountCents },
      { accountId: books.accounts.sales, amountCents: -amountCents },
    ],
  };
}

async function subscribe(body: object) {
  return ledger.http.post('/webhooks').set('Idempotency-Key', key()).send(body).expect(201);
}

async function dispatch() {
  return dispatchDue(ledger.deps);
}

/** The dispatcher at a later moment, leaving the ledger's own clock (and so the owner's session) alone. */
async function dispatchAt(ms: number) {
  return dispatchDue({ ...ledger.deps, security: { ...ledger.deps.security, now: () => ms } });
}

describe('webhook subscriptions and deliveries', () => {
  it('delivers entry.posted once, signed over timestamp.body, only for the entities and types asked for', async () => {
    const subscription = await subscribe({ url: receiverUrl, events: ['entry.posted', 'transfer.created'], entityIds: [books.entityId] });
    expect(subscription.body).toMatchObject({ url: receiverUrl, events: ['entry.posted', 'transfer.created'], entityIds: [books.entityId] });
    expect(subscription.body.secret).toMatch(/^whsec_/);
    received.length = 0;
    const entry = await ledger.http.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', key()).send(sale(1_234)).expect(201);
    // Another entity's entry and an unwanted type never reach this subscription.
    const other = await createBooks(ledger, { name: 'Quiet LLC', accounts: { cash: 'cash', sales: 'income_category' } });
    await ledger.http
      .post(`/entities/${other.entityId}/entries`)
      .set('Idempotency-Key', key())
      .send({ postedOn: '2026-06-01', description: 'quiet', postings: [{ accountId: other.accounts.cash, amountCents: 5 }, { accountId: other.accounts.sales, amountCents: -5 }] })
      .expect(201);
    expect(await dispatch()).toEqual({ delivered: 1, retried: 0, failed: 0 });
    expect(await dispatch()).toEqual({ delivered: 0, retried: 0, failed: 0 });
    expect(received).toHaveLength(1);
    const [delivery] = received as [Received];
    const event = JSON.parse(delivery.body);
    expect(event).toMatchObject({ type: 'entry.posted', entityId: books.entityId, data: { entry: { id: entry.body.id, postings: expect.any(Array) } } });
    const header = delivery.headers['veil-signature'] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const now = Math.floor(Date.now() / 1000);
    expect(verifySignature(subscription.body.secret, delivery.body, header, now)).toBe(true);
    expect(verifySignature(subscription.body.secret, delivery.body.replace('1234', '1235'), header, now)).toBe(false);
    expect(verifySignature('whsec_wrong', delivery.body, header, now)).toBe(false);
    expect(verifySignature(subscription.body.secret, delivery.body, header, now + 3_600)).toBe(false);
    await ledger.http.delete(`/webhooks/${subscription.body.id}`).set('Idempotency-Key', key()).expect(200);
  });

  it('retries a failed delivery with backoff and gives up after the last attempt', async () => {
    const subscription = await subscribe({ url: receiverUrl, events: ['entry.reversed'] });
    received.length = 0;
    const entry = await ledger.http.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', key()).send(sale(700)).expect(201);
    await ledger.http.post(`/entries/${entry.body.id}/reverse`).set('Idempotency-Key', key()).send({}).expect(201);
    failNext = 1;
    expect(await dispatch()).toEqual({ delivered: 0, retried: 1, failed: 0 });
    // Not due yet: the backoff holds it back.
    expect(await dispatch()).toEqual({ delivered: 0, retried: 0, failed: 0 });
    ledger.clock.advance(5_000);
    expect(await dispatch()).toEqual({ delivered: 1, retried: 0, failed: 0 });
    expect(JSON.parse((received[0] as Received).body)).toMatchObject({ type: 'entry.reversed', data: { entryId: entry.body.id } });
    const row = await ledger.deps.db.selectFrom('webhookDeliveries').selectAll().where('subscriptionId', '=', subscription.body.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'delivered', attempts: 2 });

    // A receiver that never answers well: the delivery is given up after DELIVERY_ATTEMPTS_MAX attempts.
    const entry2 = await ledger.http.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', key()).send(sale(800)).expect(201);
    await ledger.http.post(`/entries/${entry2.body.id}/reverse`).set('Idempotency-Key', key()).send({}).expect(201);
    failNext = DELIVERY_ATTEMPTS_MAX;
    let outcome = { delivered: 0, retried: 0, failed: 0 };
    for (let attempt = 0; attempt < DELIVERY_ATTEMPTS_MAX; attempt += 1) {
      outcome = await dispatchAt(ledger.clock.now() + attempt * 3_600_000);
    }
    expect(outcome).toEqual({ delivered: 0, retried: 0, failed: 1 });
    await ledger.http.delete(`/webhooks/${subscription.body.id}`).set('Idempotency-Key', key()).expect(200);
    failNext = 0;
  });

  it('writes transfer.created for both books and veil.violation when Entity Guard blocks, in the same transaction', async () => {
    const subscription = await subscribe({ url: receiverUrl, events: ['transfer.created', 'veil.violation'] });
    received.length = 0;
    await ledger.http
      .post('/transfers')
      .set('Idempotency-Key', key())
      .send({ classification: 'capital_contribution', fromEntityId: personal.entityId, fromAccountId: personal.accounts.checking, toEntityId: books.entityId, toAccountId: books.accounts.checking, amountCents: 10_000, postedOn: '2026-06-02' })
      .expect(201);
    // A refused transfer (unclassified) rolls back and emits nothing.
    await ledger.http
      .post('/transfers')
      .set('Idempotency-Key', key())
      .send({ fromEntityId: personal.entityId, fromAccountId: personal.accounts.checking, toEntityId: books.entityId, toAccountId: books.accounts.checking, amountCents: 10_000, postedOn: '2026-06-02' })
      .expect(422);
    const verdict = await ledger.http.post('/guard/evaluate').send({ movement: { sourceAccountId: books.accounts.checking, targetAccountId: personal.accounts.checking, amountCents: 500 } }).expect(200);
    expect(verdict.body.decision).toBe('block');
    await dispatch();
    const types = received.map((delivery) => JSON.parse(delivery.body)).map((event) => `${event.type}@${event.entityId}`).sort();
    expect(types).toEqual([`transfer.created@${books.entityId}`, `transfer.created@${personal.entityId}`, `veil.violation@${books.entityId}`].sort());
    await ledger.http.delete(`/webhooks/${subscription.body.id}`).set('Idempotency-Key', key()).expect(200);
  });

  it('lists and deletes subscriptions, and refuses bad input with a code', async () => {
    const subscription = await subscribe({ url: receiverUrl, events: ['entry.posted'] });
    const listed = await ledger.http.get('/webhooks').expect(200);
    expect(listed.body.items.map((item: { id: string }) => item.id)).toContain(subscription.body.id);
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');
    await ledger.http.delete(`/webhooks/${subscription.body.id}`).set('Idempotency-Key', key()).expect(200);
    const again = await ledger.http.delete(`/webhooks/${subscription.body.id}`).set('Idempotency-Key', key()).expect(404);
    expect(again.body.error.code).toBe('not_found');
    for (const body of [
      { url: 'ftp://example.test/x', events: ['entry.posted'] },
      { url: receiverUrl, events: [] },
      { url: receiverUrl, events: ['entry.exploded'] },
      { url: receiverUrl, events: ['entry.posted'], extra: true },
    ]) {
      const refused = await ledger.http.post('/webhooks').set('Idempotency-Key', key()).send(body).expect(400);
      expect(refused.body.error).toMatchObject({ code: 'invalid_request', message: expect.any(String) });
    }
    const foreign = await ledger.http.post('/webhooks').set('Idempotency-Key', key()).send({ url: receiverUrl, events: ['entry.posted'], entityIds: ['00000000-0000-4000-8000-000000000000'] }).expect(404);
    expect(foreign.body.error.code).toBe('not_found');
  });

  it("never delivers another user's events, and another user cannot see or delete a subscription", async () => {
    const mine = await subscribe({ url: receiverUrl, events: ['entry.posted'] });
    const stranger = await ledger.createUser();
    const strangerBooks = await createBooks({ ...ledger, http: ledger.as(stranger.accessToken) }, { name: 'Stranger LLC', accounts: { cash: 'cash', sales: 'income_category' } });
    received.length = 0;
    await ledger
      .as(stranger.accessToken)
      .post(`/entities/${strangerBooks.entityId}/entries`)
      .set('Idempotency-Key', key())
      .send({ postedOn: '2026-06-01', description: 'theirs', postings: [{ accountId: strangerBooks.accounts.cash, amountCents: 9 }, { accountId: strangerBooks.accounts.sales, amountCents: -9 }] })
      .expect(201);
    await dispatch();
    expect(received).toHaveLength(0);
    expect((await ledger.as(stranger.accessToken).get('/webhooks').expect(200)).body.items).toEqual([]);
    await ledger.as(stranger.accessToken).delete(`/webhooks/${mine.body.id}`).set('Idempotency-Key', key()).expect(404);
    await ledger.http.delete(`/webhooks/${mine.body.id}`).set('Idempotency-Key', key()).expect(200);
  });
});
