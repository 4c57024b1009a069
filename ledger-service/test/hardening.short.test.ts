import request from 'supertest';
import { fetchTransport, Client, type Transport } from '../hardening/client';
import { fuzzCases, runFuzz, webhookCases, writeRoutes, type IdPool } from '../hardening/fuzz';
import { checkBooks } from '../hardening/invariants';
import { newTally, runLoad } from '../hardening/load';
import { createWorld, type World } from '../hardening/operations';
import { sqlSnapshot } from '../hardening/snapshot';
import fc from 'fast-check';
import { checkInvariants } from './support/books';
import { BACKEND, listen, startTestLedger, type TestLedger } from './support/harness';

// The short version of `npm run hardening` (hardening/run.ts): a small soak of every operation in the table with
// the invariant checks, and the OpenAPI fuzzer with a bounded number of runs, against the app in this process.
// The long version adds kill -9 and database restarts against a real service process.

const SOAK_CLIENTS = 2;
const SOAK_OPERATIONS = 200;
const FUZZ_RUNS = 300;
const WEBHOOK_RUNS = 30;
jest.setTimeout(300_000);

let ledger: TestLedger;
let server: Awaited<ReturnType<typeof listen>>;
let world: World;

beforeAll(async () => {
  ledger = await startTestLedger({ ownerMfa: true, poolSizeMax: SOAK_CLIENTS + 2 });
  server = await listen(ledger.app);
  world = await createWorld(new Client(fetchTransport(() => server.baseUrl), ledger.owner.accessToken), { spreadAccounts: 40, parallel: 2 });
});
afterAll(async () => {
  await server.stop();
  await ledger.close();
});

it(`soak: ${SOAK_CLIENTS} clients × ${SOAK_OPERATIONS} operations of every kind keep the books whole (${BACKEND})`, async () => {
  const client = new Client(fetchTransport(() => server.baseUrl), ledger.owner.accessToken);
  const tally = newTally();
  for (let round = 0; round < 2; round += 1) {
    await runLoad(client, world, tally, { clients: SOAK_CLIENTS, operations: SOAK_OPERATIONS / 2, seed: 7 + round });
    // Checked between rounds (periodically) and at the end, with nothing in flight.
    const check = await checkBooks(client, world, tally, ledger.deps.db);
    expect(check.violations).toEqual([]);
  }
  expect(tally.serverErrors).toEqual([]);
  expect(tally.uncoded).toEqual([]);
  expect(tally.operations).toBe(SOAK_OPERATIONS);
  // The mix really ran: most writes were acknowledged, and more than plain entries were among them.
  const operations = new Set([...tally.acknowledged.values()].map((write) => write.operation));
  expect(tally.acknowledged.size).toBeGreaterThan(SOAK_OPERATIONS * 0.8);
  for (const name of ['entry_hot', 'entry_spread', 'batch', 'reversal', 'capital_contribution', 'owner_draw']) expect(operations).toContain(name);
});

it(`fuzz: ${FUZZ_RUNS} mutated OpenAPI requests and ${WEBHOOK_RUNS} webhook deliveries: no 5xx, every refusal coded, no partial write (${BACKEND})`, async () => {
  const supertestTransport: Transport = async ({ method, path, headers, body, rawBody }) => {
    let pending = request(ledger.app)[method](path);
    for (const [name, value] of Object.entries(headers ?? {})) pending = pending.set(name, value);
    // Always the JSON text: superagent would serialise a bare number or string differently from a client.
    const text = rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
    if (text !== undefined) pending = pending.set('content-type', 'application/json').send(text);
    const response = await pending;
    return { status: response.status, body: response.body };
  };
  const document = (await request(ledger.app).get('/openapi.json').expect(200)).body;
  const routes = writeRoutes(document);
  expect(routes.length).toBeGreaterThan(20);
  const client = new Client(supertestTransport, ledger.owner.accessToken);
  // Some books to aim at, when this test runs alone.
  await runLoad(client, world, newTally(), { clients: 1, operations: 30, seed: 99 });
  const entries = (await client.get(`/entities/${world.llcId}/entries?limit=20`)).body as { items: { id: string }[] };
  const transfers = (await client.get(`/entities/${world.llcId}/transfers`)).body as { items: { id: string }[] };
  const entityIds = [world.llcId, world.personalId];
  const accountIds = [world.hot.checking, world.hot.revenue, world.llcSoftware, world.ownerChecking, world.ownerCard, ...world.spread.slice(0, 4)];
  const ids: IdPool = {
    entityId: entityIds,
    fromEntityId: entityIds,
    toEntityId: entityIds,
    counterpartyEntityId: entityIds,
    accountId: accountIds,
    fromAccountId: accountIds,
    toAccountId: accountIds,
    entryId: entries.items.map((entry) => entry.id),
    transferId: transfers.items.map((transfer) => transfer.id),
    relatedTransferId: transfers.items.map((transfer) => transfer.id),
  };
  const cases = [...fc.sample(fuzzCases(document, routes, ids), { numRuns: FUZZ_RUNS, seed: 13 }), ...fc.sample(webhookCases(routes), { numRuns: WEBHOOK_RUNS, seed: 14 })];
  const result = await runFuzz(cases, { transport: supertestTransport, token: ledger.owner.accessToken, snapshot: sqlSnapshot(ledger.deps.db) });
  expect(result.serverErrors).toEqual([]);
  expect(result.uncoded).toEqual([]);
  expect(result.partialWrites).toEqual([]);
  expect(result.requests).toBe(FUZZ_RUNS + WEBHOOK_RUNS);
  // Most requests were refused (4xx), and the mutations reached the rules, not only the schema checks.
  expect([...result.statuses.keys()].some((status) => status === 422 || status === 409)).toBe(true);
  // The books still hold every invariant, accepted fuzz writes included.
  expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
});
