import request from 'supertest';
import { fetchTransport, Client, type Transport } from '../hardening/client';
import fs from 'node:fs';
import path from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { fuzzCases, importCases, runFuzz, webhookCases, writeRoutes, type CorpusFile, type IdPool } from '../hardening/fuzz';
import { checkBooks } from '../hardening/invariants';
import { newTally, runLoad } from '../hardening/load';
import { createWorld, type World } from '../hardening/operations';
import { sqlSnapshot } from '../hardening/snapshot';
import fc from 'fast-check';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPlaidEmulator, type PlaidEmulator } from '../src/plaid-emulator/emulator';
import { createPlaidDeps } from '../src/plaid/client';
import { checkInvariants } from './support/books';
import { BACKEND, listen, startTestLedger, type TestLedger } from './support/harness';

// The short version of `npm run hardening` (hardening/run.ts): a small soak of every operation in the table with
// the invariant checks (Plaid moves against the Plaid emulator), and the OpenAPI fuzzer with a bounded number of
// runs, against the app in this process. The long version adds kill -9 and database restarts against a real
// service process.

const SOAK_CLIENTS = 2;
const SOAK_OPERATIONS = 200;
const FUZZ_RUNS = 300;
const WEBHOOK_RUNS = 30;
const IMPORT_RUNS = 60;
jest.setTimeout(300_000);

let ledger: TestLedger;
let server: Awaited<ReturnType<typeof listen>>;
let world: World;
let emulator: PlaidEmulator;
let emulatorServer: Server;

beforeAll(async () => {
  ledger = await startTestLedger({ ownerMfa: true, poolSizeMax: SOAK_CLIENTS + 2 });
  server = await listen(ledger.app);
  emulator = await createPlaidEmulator({ clientId: 'short-client', secret: 'short-secret', seed: 5, historyDays: 5 });
  emulatorServer = await new Promise<Server>((resolve) => {
    const listening = emulator.app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const emulatorUrl = `http://127.0.0.1:${(emulatorServer.address() as AddressInfo).port}`;
  ledger.deps.plaid = createPlaidDeps({ basePath: emulatorUrl, clientId: 'short-client', secret: 'short-secret', webhookUrl: `${server.baseUrl}/plaid/webhook`, emulator: true });
  world = await createWorld(new Client(fetchTransport(() => server.baseUrl), ledger.owner.accessToken), {
    spreadAccounts: 40,
    parallel: 2,
    plaid: { settle: () => emulator.settleWebhooks() },
  });
});
afterAll(async () => {
  await emulator.settleWebhooks();
  await server.stop();
  emulatorServer.closeAllConnections();
  await new Promise((resolve) => emulatorServer.close(resolve));
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
  for (const name of ['entry_hot', 'entry_spread', 'batch', 'reversal', 'capital_contribution', 'owner_draw', 'bill_payment', 'allocation', 'contribution', 'alert_sweep', 'plaid_move', 'statement_import']) {
    expect(operations).toContain(name);
  }
});

it(`fuzz: ${FUZZ_RUNS} mutated OpenAPI requests, ${WEBHOOK_RUNS} webhook deliveries and ${IMPORT_RUNS} mutated statement uploads: no 5xx, every refusal coded, no partial write (${BACKEND})`, async () => {
  const supertestTransport: Transport = async ({ method, path, headers, body, rawBody, upload }) => {
    let pending = request(ledger.app)[method](path);
    for (const [name, value] of Object.entries(headers ?? {})) pending = pending.set(name, value);
    if (upload !== undefined) {
      const response = await pending.attach(upload.field, Buffer.from(upload.bytes), upload.fileName);
      return { status: response.status, body: response.body };
    }
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
  // Statement files from the project's own fixtures and a generated PDF statement, mutated.
  const fixtures = path.join(__dirname, 'fixtures', 'import');
  const corpus: CorpusFile[] = fs.readdirSync(fixtures).map((name) => ({ name, bytes: fs.readFileSync(path.join(fixtures, name)) }));
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const page = pdf.addPage([612, 792]);
  ['Statement period 11/01/2026 - 11/30/2026', 'Beginning balance 100.00', '11/03 COFFEE -4.50 95.50', '11/04 CLIENT 200.00 295.50', 'Ending balance 295.50'].forEach((text, index) =>
    page.drawText(text, { x: 40, y: 740 - index * 16, size: 9, font }),
  );
  corpus.push({ name: 'statement.pdf', bytes: await pdf.save() });
  const importAccounts = [world.hot.checking, world.ownerChecking, world.ownerCard, world.llcSoftware, '00000000-0000-4000-8000-000000000000'];
  const cases = [
    ...fc.sample(fuzzCases(document, routes, ids), { numRuns: FUZZ_RUNS, seed: 13 }),
    ...fc.sample(webhookCases(routes), { numRuns: WEBHOOK_RUNS, seed: 14 }),
    ...fc.sample(importCases(corpus, importAccounts), { numRuns: IMPORT_RUNS, seed: 15 }),
  ];
  const result = await runFuzz(cases, { transport: supertestTransport, token: ledger.owner.accessToken, snapshot: sqlSnapshot(ledger.deps.db) });
  expect(result.serverErrors).toEqual([]);
  expect(result.uncoded).toEqual([]);
  expect(result.partialWrites).toEqual([]);
  expect(result.requests).toBe(FUZZ_RUNS + WEBHOOK_RUNS + IMPORT_RUNS);
  // Mutated statements were both imported (a mutation can leave a legal file) and refused with a code.
  const importStatuses = [...result.statusesByMutation].filter(([mutation]) => mutation.startsWith('import:')).flatMap(([, statuses]) => [...statuses.keys()]);
  expect(importStatuses).toContain(201);
  expect(importStatuses).toContain(422);
  // Most requests were refused (4xx), and the mutations reached the rules, not only the schema checks.
  expect([...result.statuses.keys()].some((status) => status === 422 || status === 409)).toBe(true);
  // The books still hold every invariant, accepted fuzz writes included.
  expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
});
