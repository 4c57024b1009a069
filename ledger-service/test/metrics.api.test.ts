import { bookingGroupOutcomes } from '../src/services/journal-fast';
import { createApp } from '../src/app';
import { createBooks } from './support/books';
import { key, listen, startTestLedger, type TestLedger } from './support/harness';

let ledger: TestLedger;
afterAll(() => ledger.close());
beforeAll(async () => {
  ledger = await startTestLedger();
});

describe('GET /metrics', () => {
  it('reports request latency by route template, replays, and the book counts read from the database', async () => {
    const books = await createBooks(ledger, { name: 'Metered LLC', accounts: { cash: 'cash', sales: 'income_category' } });
    const body = { postedOn: '2026-02-01', description: 'Sale', postings: [{ accountId: books.accounts.cash, amountCents: 1_000 }, { accountId: books.accounts.sales, amountCents: -1_000 }] };
    const retried = key();
    await ledger.http.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', retried).send(body).expect(201);
    await ledger.http.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', retried).send(body).expect(201);
    const entries = await ledger.deps.db.selectFrom('journalEntries').select((eb) => eb.fn.max('seq').as('max')).executeTakeFirstOrThrow();
    // supertest connects from loopback: allowed without a token.
    const scrape = await ledger.anonymous.get('/metrics').expect(200);
    expect(scrape.headers['content-type']).toMatch(/^text\/plain/);
    expect(scrape.text).toMatch(/veil_http_request_duration_seconds_count\{method="POST",route="\/entities\/:entityId\/entries",status="201"\} 2/);
    expect(scrape.text).toMatch(/veil_idempotent_replays_total\{route="\/entities\/:entityId\/entries"\} 1/);
    expect(scrape.text).toContain(`veil_journal_entries ${Number(entries.max)}`);
    expect(scrape.text).toMatch(/veil_database_up 1/);
    // Raw ids never become label values.
    expect(scrape.text).not.toContain(books.entityId);
  });

  it('counts how the one-statement fast path took entry writes: booked, replayed, declined', async () => {
    const books = await createBooks(ledger, { name: 'Fast LLC', accounts: { cash: 'cash', sales: 'income_category' } });
    const outcomes = async () => {
      const text = (await ledger.anonymous.get('/metrics').expect(200)).text;
      const read = (outcome: string) => Number(new RegExp(`^veil_fast_path_requests\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
      return { booked: read('booked'), replayed: read('replayed'), declined: read('declined') };
    };
    const before = await outcomes();
    const body = { postedOn: '2026-02-01', description: 'Sale', postings: [{ accountId: books.accounts.cash, amountCents: 500 }, { accountId: books.accounts.sales, amountCents: -500 }] };
    const retried = key();
    await ledger.http.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', retried).send(body).expect(201);
    await ledger.http.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', retried).send(body).expect(201);
    // An unknown account: declined, and the long way refuses it.
    const unknown = { ...body, postings: [body.postings[0], { accountId: '00000000-0000-4000-8000-000000000000', amountCents: -500 }] };
    await ledger.http.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', key()).send(unknown).expect(404);
    const after = await outcomes();
    expect({ booked: after.booked - before.booked, replayed: after.replayed - before.replayed, declined: after.declined - before.declined }).toEqual({ booked: 1, replayed: 1, declined: 1 });
  });

  it('counts booking groups: groups, the requests booked in them, groups declined', async () => {
    const books = await createBooks(ledger, { name: 'Grouped LLC', accounts: { cash: 'cash', sales: 'income_category' } });
    await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        ledger.http
          .post(`/entities/${books.entityId}/entries`)
          .set('Idempotency-Key', key())
          .send({ postedOn: '2026-02-02', description: `Sale ${index}`, postings: [{ accountId: books.accounts.cash, amountCents: 100 + index }, { accountId: books.accounts.sales, amountCents: -100 - index }] })
          .expect(201),
      ),
    );
    const text = (await ledger.anonymous.get('/metrics').expect(200)).text;
    const read = (outcome: string) => Number(new RegExp(`^veil_booking_groups\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    expect({ groups: read('groups'), grouped: read('grouped_requests'), groupsDeclined: read('groups_declined') }).toEqual(bookingGroupOutcomes);
  });

  it('wants the metrics token when one is configured', async () => {
    const app = createApp(ledger.deps, { metricsToken: 'a-metrics-token-of-length' });
    const server = await listen(app);
    try {
      expect((await fetch(`${server.baseUrl}/metrics`)).status).toBe(401);
      expect((await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
      const ok = await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: 'Bearer a-metrics-token-of-length' } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('veil_database_up 1');
    } finally {
      await server.stop();
    }
  });

  it('reports not ready while stopping, so balancers move away before the process exits', async () => {
    let stopping = false;
    const server = await listen(createApp(ledger.deps, { stopping: () => stopping }));
    try {
      expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
      stopping = true;
      const response = await fetch(`${server.baseUrl}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ status: 'stopping' });
    } finally {
      await server.stop();
    }
  });
});
