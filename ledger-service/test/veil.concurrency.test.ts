import { checkInvariants, createBooks, type Books } from './support/books';
import { BACKEND, key, listen, startTestLedger, type TestLedger } from './support/harness';

// Found by the hardening soak (hardening/run.ts) on PostgreSQL: a reimbursement (owner → LLC) and a reimbursement
// payment (LLC → owner) booked at the same moment took the two entities' role accounts (due from / due to) in
// opposite orders and deadlocked; one of them answered 500. The same held for two transfer reversals in opposite
// directions. Crossings now lock every account of both entries in one id-ordered statement first.

const PAIRS = 12;
jest.setTimeout(300_000);

let ledger: TestLedger;
let server: Awaited<ReturnType<typeof listen>>;
let llc: Books;
let owner: Books;

beforeAll(async () => {
  ledger = await startTestLedger({ ownerMfa: true, poolSizeMax: 10 });
  server = await listen(ledger.app);
  llc = await createBooks(ledger, { name: 'Racing LLC', accounts: { checking: 'checking', software: 'expense_category' } });
  owner = await createBooks(ledger, { kind: 'personal', name: 'Racing Owner', accounts: { checking: 'checking', card: 'credit_card' } });
});
afterAll(async () => {
  await server.stop();
  await ledger.close();
});

function post(path: string, body: unknown) {
  return fetch(`${server.baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ledger.owner.accessToken}`, 'content-type': 'application/json', 'idempotency-key': key('race') },
    body: JSON.stringify(body),
  }).then(async (response) => ({ status: response.status, body: (await response.json()) as Record<string, unknown> }));
}

const reimbursement = (amountCents: number) => ({
  classification: 'reimbursement',
  fromEntityId: owner.entityId,
  fromAccountId: owner.accounts.card,
  toEntityId: llc.entityId,
  toAccountId: llc.accounts.software,
  amountCents,
  postedOn: '2026-06-15',
  reimbursement: { businessPurpose: 'licence', receiptReference: 'receipt-1', expenseOn: '2026-06-01' },
});
const payment = (relatedTransferId: string) => ({
  classification: 'reimbursement_payment',
  fromEntityId: llc.entityId,
  fromAccountId: llc.accounts.checking,
  toEntityId: owner.entityId,
  toAccountId: owner.accounts.checking,
  amountCents: 100,
  postedOn: '2026-06-16',
  relatedTransferId,
});

it(`opposite crossings at the same moment never deadlock (${PAIRS} pairs, ${BACKEND})`, async () => {
  const first = await post('/transfers', reimbursement(100 * PAIRS));
  expect(first.status).toBe(201);
  const answers = await Promise.all(
    Array.from({ length: PAIRS }, (_, index) => [post('/transfers', reimbursement(100 + index)), post('/transfers', payment(String(first.body.id)))]).flat(),
  );
  expect(answers.map((answer) => answer.status)).toEqual(Array(PAIRS * 2).fill(201));

  // Reversals in both directions at once: the payments (LLC → owner) and the new reimbursements (owner → LLC).
  const reversals = await Promise.all(answers.map((answer) => post(`/transfers/${answer.body.id}/reverse`, {})));
  expect(reversals.map((answer) => answer.status)).toEqual(Array(PAIRS * 2).fill(201));
  expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
  const pairing = await ledger.http.get(`/entities/${llc.entityId}/veil/pairing`).expect(200);
  expect(pairing.body.mismatches).toEqual([]);
});

// Found by the hardening soak in CI: a crossing locked its two named accounts first and the role accounts later,
// while a reversal locked all of a transfer's accounts in one go; a reversal holding a role account then waited on
// a named account the crossing held, and the crossing waited on the role account. Creations and reversals of
// crossings that share accounts now run side by side.
it(`crossings booked while others are reversed never deadlock (${PAIRS} of each, ${BACKEND})`, async () => {
  const booked = await Promise.all(Array.from({ length: PAIRS }, (_, index) => post('/transfers', reimbursement(200 + index))));
  expect(booked.map((answer) => answer.status)).toEqual(Array(PAIRS).fill(201));
  const mixed = await Promise.all(
    booked.flatMap((answer, index) => [post(`/transfers/${answer.body.id}/reverse`, {}), post('/transfers', reimbursement(300 + index))]),
  );
  expect(mixed.map((answer) => `${answer.status} ${answer.status >= 500 ? JSON.stringify(answer.body) : ''}`.trim())).toEqual(
    Array(PAIRS * 2).fill('201'),
  );
  expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
});
