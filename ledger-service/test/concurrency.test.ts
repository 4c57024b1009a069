import { checkInvariants, createBooks, type Books } from './support/books';
import { BACKEND, key, listen, startTestLedger, type TestLedger } from './support/harness';

// Real concurrent HTTP clients against one server. On PostgreSQL the writers truly overlap (row locks in id
// order); on PGlite they queue on its single connection. Either way nothing may be lost or booked twice.

const CLIENTS = 8;
// PGlite runs one transaction at a time, so it proves the same properties with fewer requests.
const TRANSFERS_PER_CLIENT = BACKEND === 'postgres' ? 500 : 150;

// Generous bounds, not speed assertions: on a busy 2-core machine thousands of requests can take minutes.
jest.setTimeout(600_000);

let ledger: TestLedger;
let server: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  ledger = await startTestLedger({ poolSizeMax: CLIENTS + 2 });
  server = await listen(ledger.app);
});
afterAll(async () => {
  await server.stop();
  await ledger.close();
});

/** A small deterministic generator per client, so a failure can be replayed. */
function generator(seed: number) {
  let state = seed;
  return (max: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state % max;
  };
}

async function runClients(books: Books, accountIds: string[]) {
  const acknowledged: { accountId: string; amountCents: number }[][] = [];
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      const next = generator(client + 1);
      for (let index = 0; index < TRANSFERS_PER_CLIENT; index += 1) {
        const from = accountIds[next(accountIds.length)] as string;
        let to = accountIds[next(accountIds.length)] as string;
        if (to === from) to = accountIds[(accountIds.indexOf(from) + 1) % accountIds.length] as string;
        const amountCents = 1 + next(100_000);
        const postings = [
          { accountId: to, amountCents },
          { accountId: from, amountCents: -amountCents },
        ];
        const response = await fetch(`${server.baseUrl}/entities/${books.entityId}/entries`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ledger.owner.accessToken}`, 'content-type': 'application/json', 'idempotency-key': key(`c${client}`) },
          body: JSON.stringify({ postedOn: '2026-06-01', description: `transfer ${client}/${index}`, postings }),
        });
        if (response.status === 201) acknowledged.push(postings);
        else failures.push(`${response.status} ${await response.text()}`);
      }
    }),
  );
  return { acknowledged, failures };
}

async function expectConsistent(books: Books, acknowledged: { accountId: string; amountCents: number }[][]) {
  const expected = new Map<string, number>();
  for (const postings of acknowledged) {
    for (const posting of postings) expected.set(posting.accountId, (expected.get(posting.accountId) ?? 0) + posting.amountCents);
  }
  const balances = await ledger.http.get(`/entities/${books.entityId}/balances`).expect(200);
  for (const account of balances.body.accounts as { id: string; balanceCents: number }[]) {
    expect(account.balanceCents).toBe(expected.get(account.id) ?? 0);
  }
  const stored = await ledger.deps.db
    .selectFrom('journalEntries')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('entityId', '=', books.entityId)
    .executeTakeFirstOrThrow();
  expect(Number(stored.count)).toBe(acknowledged.length);
  expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
}

it(`${CLIENTS} clients × ${TRANSFERS_PER_CLIENT} transfers among 20 accounts lose nothing (${BACKEND})`, async () => {
  const spec = Object.fromEntries(Array.from({ length: 20 }, (_, index) => [`account ${index}`, 'checking']));
  const books = await createBooks(ledger, { accounts: spec });
  const { acknowledged, failures } = await runClients(books, Object.values(books.accounts));
  expect(failures).toEqual([]);
  expect(acknowledged).toHaveLength(CLIENTS * TRANSFERS_PER_CLIENT);
  await expectConsistent(books, acknowledged);
});

it(`${CLIENTS} clients × ${TRANSFERS_PER_CLIENT} transfers between 2 hot accounts lose nothing (${BACKEND})`, async () => {
  const books = await createBooks(ledger, { accounts: { hot: 'checking', cold: 'savings' } });
  const { acknowledged, failures } = await runClients(books, Object.values(books.accounts));
  expect(failures).toEqual([]);
  await expectConsistent(books, acknowledged);
});

it('concurrent replays of one Idempotency-Key create exactly one entry', async () => {
  const books = await createBooks(ledger, { accounts: { cash: 'checking', income: 'income_category' } });
  const sharedKey = key('replay');
  const body = JSON.stringify({
    postedOn: '2026-06-02',
    description: 'paid once',
    postings: [
      { accountId: books.accounts.cash, amountCents: 777 },
      { accountId: books.accounts.income, amountCents: -777 },
    ],
  });
  const responses = await Promise.all(
    Array.from({ length: 24 }, () =>
      fetch(`${server.baseUrl}/entities/${books.entityId}/entries`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ledger.owner.accessToken}`, 'content-type': 'application/json', 'idempotency-key': sharedKey },
        body,
      }).then(async (response) => ({ status: response.status, body: await response.json() as { id: string } })),
    ),
  );
  expect(responses.map((response) => response.status)).toEqual(Array(24).fill(201));
  expect(new Set(responses.map((response) => response.body.id)).size).toBe(1);
  const stored = await ledger.deps.db.selectFrom('journalEntries').select('id').where('entityId', '=', books.entityId).execute();
  expect(stored).toHaveLength(1);
  const cash = await ledger.http.get(`/accounts/${books.accounts.cash}`).expect(200);
  expect(cash.body.balanceCents).toBe(777);
});

it('concurrent batches replaying the same per-entry keys book each entry once', async () => {
  const books = await createBooks(ledger, { accounts: { cash: 'checking', income: 'income_category' } });
  const entries = Array.from({ length: 20 }, (_, index) => ({
    postedOn: '2026-06-03',
    description: `item ${index}`,
    idempotencyKey: `execution-9/Allocate/${index}`,
    postings: [
      { accountId: books.accounts.cash, amountCents: 100 + index },
      { accountId: books.accounts.income, amountCents: -(100 + index) },
    ],
  }));
  // Different request keys (as a retried n8n execution would send), same per-entry keys.
  const responses = await Promise.all(
    Array.from({ length: 6 }, () =>
      fetch(`${server.baseUrl}/entities/${books.entityId}/entries/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ledger.owner.accessToken}`, 'content-type': 'application/json', 'idempotency-key': key('batch') },
        body: JSON.stringify({ entries }),
      }).then((response) => response.status),
    ),
  );
  // A batch that raced another on the same per-entry key is refused whole (409) and may simply be retried.
  expect(responses.every((status) => status === 201 || status === 409)).toBe(true);
  expect(responses).toContain(201);
  const stored = await ledger.deps.db.selectFrom('journalEntries').select('id').where('entityId', '=', books.entityId).execute();
  expect(stored).toHaveLength(20);
});
