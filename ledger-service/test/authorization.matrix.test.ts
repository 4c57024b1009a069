import { enableMfa } from './support/mfa';
import { createBooks, checkInvariants, type Books } from './support/books';
import { key, startTestLedger, type AuthedHttp, type TestLedger, type TestUser } from './support/harness';
import { signAccessToken } from '../src/security/tokens';
import { createApiToken } from '../src/services/auth';
import { systemActor, type Actor } from '../src/services/context';
import { auditedTransaction } from '../src/services/audit';
import { recordBankLines } from '../src/services/bank-lines';
import { storeSecret } from '../src/services/secrets';

// Every authenticated route of the OpenAPI document × every way a credential can be wrong. The victim is the
// owner; the attacker is a second user with books of their own. Nothing the victim wrote may appear in any
// response given to anyone else, and nothing of the victim's may change.

// Every route × every credential, with a fresh attacker login per route: hundreds of requests. A bound, not a
// speed check.
jest.setTimeout(900_000);

let ledger: TestLedger;
let victim: Books;
let victimOther: Books;
let victimEntryId: string;
let victimTokenId: string;
let victimTransferId: string;
let victimDocumentId: string;
let victimBankLineId: string;
let victimGroupId: string;
let victimEnvelopeId: string;
let victimBillId: string;
let victimSubscriptionId: string;
let victimImportId: string;
let victimRuleId: string;
let victimPayeeId: string;
let victimPaymentId: string;
let victimPlaidItemId: string;
let victimPlanId: string;
let victimBrokerageId: string;
let attacker: TestUser;
let attackerBooks: Books;
const VICTIM_EXECUTION_ID = 'victim-execution-7';
const credentials: Record<string, (need: 'read' | 'write') => AuthedHttp> = {};

// Strings only the victim's data contains: any of them in a response to someone else is a leak.
const MARKERS = ['Victim Books LLC', 'VictimChecking', 'VictimRevenue', 'Victim secret invoice', '987654', 'VictimPayee'];

// A bound, not a speed assertion: the setup signs in several users (argon2) and walks every route, which takes
// minutes on a busy 2-core machine.
jest.setTimeout(600_000);

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

beforeAll(async () => {
  ledger = await startTestLedger();
  victim = await createBooks(ledger, { name: 'Victim Books LLC', accounts: { VictimChecking: 'checking', VictimRevenue: 'income_category' } });
  victimOther = await createBooks(ledger, { kind: 'personal', name: 'Owner personal', accounts: { cash: 'cash' } });
  const entry = await ledger.http
    .post(`/entities/${victim.entityId}/entries`)
    .set('Idempotency-Key', key())
    // Booked by an n8n execution, so the execution routes have a victim row to protect.
    .set('X-N8N-Execution-Id', VICTIM_EXECUTION_ID)
    .send({
      postedOn: '2026-05-01',
      description: 'Victim secret invoice',
      postings: [
        { accountId: victim.accounts.VictimChecking, amountCents: 987_654 },
        { accountId: victim.accounts.VictimRevenue, amountCents: -987_654 },
      ],
    })
    .expect(201);
  victimEntryId = entry.body.id;
  // A crossing between the victim's two books (moving money needs an MFA session).
  ledger.owner = (await enableMfa(ledger, ledger.owner)).user;
  const transfer = await ledger.http
    .post('/transfers')
    .set('Idempotency-Key', key())
    .send({
      classification: 'capital_contribution',
      fromEntityId: victimOther.entityId,
      fromAccountId: victimOther.accounts.cash,
      toEntityId: victim.entityId,
      toAccountId: victim.accounts.VictimChecking,
      amountCents: 50_000,
      postedOn: '2026-05-01',
    })
    .expect(201);
  victimTransferId = transfer.body.id;
  victimDocumentId = transfer.body.document.id;
  const recorded = await auditedTransaction(ledger.deps.db, (trx) =>
    recordBankLines(trx, { accountId: victim.accounts.VictimChecking as string, source: 'manual' }, [
      { externalId: 'victim-line-1', postedOn: '2026-05-03', amountCents: 987_654, payee: 'Victim secret invoice' },
    ], systemActor('matrix fixture')),
  );
  victimBankLineId = (recorded.inserted[0] as { id: string }).id;
  const imported = await ledger.http
    .post(`/accounts/${victim.accounts.VictimChecking}/imports`)
    .set('Idempotency-Key', key())
    .attach('file', Buffer.from('Date,Description,Amount\n2026-05-04,Victim secret invoice,9876.54\n'), 'victim.csv')
    .expect(201);
  victimImportId = imported.body.importId;
  const rule = await ledger.http
    .post(`/entities/${victim.entityId}/rules`)
    .set('Idempotency-Key', key())
    .send({ name: 'Victim secret invoice rule', conditions: { payeeContains: 'nothing matches this' }, action: { categoryAccountId: victim.accounts.VictimRevenue } })
    .expect(201);
  victimRuleId = rule.body.id;

  const expense = await ledger.http.post(`/entities/${victim.entityId}/accounts`).set('Idempotency-Key', key()).send({ name: 'Rent', kind: 'expense_category' }).expect(201);
  const victimExpenseId = expense.body.id as string;
  // A budget whose names carry a marker: any of it in another user's response is a leak.
  const group = await ledger.http.post(`/entities/${victim.entityId}/envelope-groups`).set('Idempotency-Key', key()).send({ name: 'Victim secret invoice group' }).expect(201);
  victimGroupId = group.body.id;
  const envelope = await ledger.http
    .post(`/entities/${victim.entityId}/envelopes`)
    .set('Idempotency-Key', key())
    .send({ name: 'Victim secret invoice envelope', groupId: victimGroupId, categoryAccountIds: [] })
    .expect(201);
  victimEnvelopeId = envelope.body.id;
  await ledger.http.post(`/entities/${victim.entityId}/budget/2026-05/assign`).set('Idempotency-Key', key()).send({ envelopeId: victimEnvelopeId, amountCents: 987_654 }).expect(200);
  const bill = await ledger.http
    .post(`/entities/${victim.entityId}/bills`)
    .set('Idempotency-Key', key())
    .send({
      name: 'Victim secret invoice bill',
      payee: 'Victim secret invoice payee',
      rrule: 'FREQ=MONTHLY;BYMONTHDAY=1',
      startsOn: '2026-01-01',
      amountCents: 987_654,
      estimated: false,
      categoryAccountId: victimExpenseId,
      payFromAccountId: victim.accounts.VictimChecking,
      autopay: true,
    })
    .expect(201);
  victimBillId = bill.body.id;
  // A contribution plan into a brokerage account, named with a marker.
  const brokerage = await ledger.http.post(`/entities/${victim.entityId}/accounts`).set('Idempotency-Key', key()).send({ name: 'Brokerage', kind: 'brokerage' }).expect(201);
  victimBrokerageId = brokerage.body.id;
  const plan = await ledger.http
    .post(`/entities/${victim.entityId}/contribution-plans`)
    .set('Idempotency-Key', key())
    .send({ name: 'Victim secret invoice plan', limitKind: null, amountCents: 987_654, rrule: 'FREQ=MONTHLY;BYMONTHDAY=1', startsOn: '2026-01-01', fromAccountId: victim.accounts.VictimChecking, toAccountId: victimBrokerageId })
    .expect(201);
  victimPlanId = plan.body.plan.id;
  // The victim's webhook subscription: its URL carries a marker, so listing it to anyone else is a leak.
  const subscription = await ledger.http
    .post('/webhooks')
    .set('Idempotency-Key', key())
    .send({ url: 'http://127.0.0.1:9/VictimChecking-hook', events: ['entry.posted'], entityIds: [victim.entityId] })
    .expect(201);
  victimSubscriptionId = subscription.body.id;
  // A contractor whose TIN holds a marker: the full TIN must never come back to anyone, the owner included.
  const payee = await ledger.http
    .post(`/entities/${victim.entityId}/payees`)
    .set('Idempotency-Key', key())
    .send({ name: 'VictimPayee', isContractor: true, w9Status: 'received', tin: '98-7654321', tinType: 'ein' })
    .expect(201);
  victimPayeeId = payee.body.id;
  const payment = await ledger.http.post(`/payees/${victimPayeeId}/payments`).set('Idempotency-Key', key()).send({ paidOn: '2026-05-01', amountCents: 70_000, method: 'ach' }).expect(201);
  victimPaymentId = payment.body.id;
  // A linked Plaid item of the victim's (stored directly: no Plaid is configured in this file).
  victimPlaidItemId = await auditedTransaction(ledger.deps.db, async (trx) => {
    const ownerActor: Actor = { type: 'user', id: ledger.owner.id, userId: ledger.owner.id, scopes: ['read', 'write'], entityScope: 'all', mfa: true };
    const secret = await storeSecret(trx, ledger.deps.security.keyring, ownerActor, { purpose: 'plaid_access_token', entityId: victim.entityId, plaintext: 'access-sandbox-victim' });
    const item = await trx
      .insertInto('plaidItems')
      .values({ entityId: victim.entityId, plaidItemId: 'victim-plaid-item', institutionName: 'Victim Books LLC bank', accessTokenSecretId: secret.id })
      .returning('id')
      .executeTakeFirstOrThrow();
    return item.id;
  });

  attacker = await ledger.createUser();
  attackerBooks = await createBooks({ ...ledger, http: ledger.as(attacker.accessToken) }, { name: 'Attacker LLC', accounts: { cash: 'cash' } });

  const ownerActor: Actor = { type: 'user', id: ledger.owner.id, userId: ledger.owner.id, scopes: ['read', 'write', 'move_money'], entityScope: 'all', mfa: true };
  const token = async (scopes: ('read' | 'write' | 'move_money')[], entityIds: string[]) =>
    (await createApiToken(ledger.deps, ownerActor, { name: `matrix ${scopes.join('+')}`, scopes, entityIds })).token;
  const readOnly = await token(['read'], [victim.entityId, victimOther.entityId]);
  const writeOnly = await token(['write'], [victim.entityId, victimOther.entityId]);
  const otherEntity = await token(['read', 'write', 'move_money'], [victimOther.entityId]);
  victimTokenId = (await ledger.deps.db.selectFrom('apiTokens').select('id').limit(1).executeTakeFirstOrThrow()).id;

  const [header, payload, signature] = ledger.owner.accessToken.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
  const expired = await signAccessToken(ledger.deps.security.jwtSecret, { userId: ledger.owner.id, sessionId: claims.sid, mfa: true }, Date.now() - 3_600_000, 60_000);

  credentials['no token'] = () => ({
    get: (url) => ledger.anonymous.get(url),
    post: (url) => ledger.anonymous.post(url),
    put: (url) => ledger.anonymous.put(url),
    patch: (url) => ledger.anonymous.patch(url),
    delete: (url) => ledger.anonymous.delete(url),
  });
  credentials.expired = () => ledger.as(expired);
  credentials['tampered signature'] = () => ledger.as(`${header}.${payload}.${flipped}`);
  credentials['tampered claims'] = () => ledger.as(`${header}.${base64url({ ...claims, sub: attacker.id })}.${signature}`);
  credentials['alg: none'] = () => ledger.as(`${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.`);
  credentials['unknown API token'] = () => ledger.as(`veil_${'A'.repeat(43)}`);
  credentials["another user's token"] = () => ledger.as(attacker.accessToken);
  credentials['wrong scope'] = (need) => ledger.as(need === 'read' ? writeOnly : readOnly);
  credentials['wrong entity'] = () => ledger.as(otherEntity);
});
afterAll(() => ledger.close());

interface Route {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
}

const PUBLIC = new Set(['post /auth/register', 'post /auth/login', 'post /auth/refresh', 'post /auth/password/reset', 'post /plaid/webhook']);

async function authenticatedRoutes(): Promise<Route[]> {
  const document = await ledger.anonymous.get('/openapi.json').expect(200);
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries(document.body.paths as Record<string, Record<string, { security?: unknown }>>)) {
    for (const [method, operation] of Object.entries(operations)) {
      const route = { method: method as Route['method'], path };
      if (PUBLIC.has(`${method} ${path}`)) {
        expect(operation.security).toBeUndefined();
        continue;
      }
      expect(operation.security).toEqual([{ bearer: [] }]);
      routes.push(route);
    }
  }
  return routes;
}

/** A valid request for the victim's rows: without authorization it would succeed. */
function fixture(route: Route): { url: string; body?: object; need: 'read' | 'write'; victimRow: boolean } {
  const url = route.path
    .replace('{entityId}', victim.entityId)
    .replace('{accountId}', victim.accounts.VictimChecking as string)
    .replace('{entryId}', victimEntryId)
    .replace('{tokenId}', victimTokenId)
    .replace('{transferId}', victimTransferId)
    .replace('{documentId}', victimDocumentId)
    .replace('{bankLineId}', victimBankLineId)
    .replace('{year}', '2026')
    .replace('{month}', '2026-05')
    .replace('{billId}', victimBillId)
    .replace('{envelopeId}', victimEnvelopeId)
    .replace('{dueOn}', '2026-05-01')
    .replace('{subscriptionId}', victimSubscriptionId)
    .replace('{importId}', victimImportId)
    .replace('{ruleId}', victimRuleId)
    .replace('{payeeId}', victimPayeeId)
    .replace('{paymentId}', victimPaymentId)
    .replace('{itemId}', victimPlaidItemId)
    .replace('{planId}', victimPlanId)
    .replace('{executionId}', VICTIM_EXECUTION_ID);
  // Routes that name the victim's rows in the body or query rather than the path.
  const byBody = new Set([
    'post /transfers',
    'post /guard/evaluate',
    'post /veil-health/fixes',
    'get /consolidated',
    'get /consolidated/balance-history',
    'get /reports/consolidated/balance-sheet',
    'get /reports/consolidated/income-statement',
    'post /webhooks',
    'post /plaid/link-token',
    'post /plaid/items',
  ]);
  const victimRow = url !== route.path || byBody.has(`${route.method} ${route.path}`);
  // Entity Guard and the rules preview are POSTs that only read: they judge and write nothing. Webhook
  // subscriptions only read the books too (they hear of changes), so subscribing and unsubscribing need `read`.
  const readingWrites = new Set(['post /guard/evaluate', 'post /entities/{entityId}/rules/preview', 'post /webhooks', 'delete /webhooks/{subscriptionId}', 'post /entities/{entityId}/contribution-plans/preview']);
  const need = route.method === 'get' || readingWrites.has(`${route.method} ${route.path}`) ? 'read' : 'write';
  const sale = {
    postedOn: '2026-05-02',
    description: 'Intruder',
    postings: [
      { accountId: victim.accounts.VictimChecking, amountCents: -100 },
      { accountId: victim.accounts.VictimRevenue, amountCents: 100 },
    ],
  };
  const plan = { name: 'Intruder', limitKind: null, amountCents: 100, rrule: 'FREQ=MONTHLY', startsOn: '2026-05-01', fromAccountId: victim.accounts.VictimChecking, toAccountId: victimBrokerageId };
  const bodies: Record<string, object> = {
    'post /entities': { kind: 'llc', name: 'Intruder LLC' },
    'post /entities/{entityId}/accounts': { name: 'Intruder', kind: 'savings' },
    'patch /accounts/{accountId}': { name: 'Hacked' },
    'post /entities/{entityId}/entries': sale,
    'post /entities/{entityId}/entries/batch': { entries: [sale] },
    'post /entries/{entryId}/reverse': {},
    'post /auth/invitations': { email: 'intruder@veil.test' },
    'post /auth/tokens': { name: 'steal', scopes: ['read'], entityIds: [victim.entityId] },
    'post /auth/password/reset-tokens': { email: ledger.owner.email },
    'post /transfers': {
      classification: 'owner_draw',
      fromEntityId: victim.entityId,
      fromAccountId: victim.accounts.VictimChecking,
      toEntityId: victimOther.entityId,
      toAccountId: victimOther.accounts.cash,
      amountCents: 100,
      postedOn: '2026-05-02',
    },
    'post /transfers/{transferId}/reverse': {},
    'patch /entities/{entityId}/veil-policy': { drawPolicy: 'block' },
    'post /guard/evaluate': { movement: { sourceAccountId: victim.accounts.VictimChecking, amountCents: 100 } },
    'post /bank-lines/{bankLineId}/book': { categoryAccountId: victim.accounts.VictimRevenue },
    'post /bank-lines/{bankLineId}/ignore': { reason: 'intruder' },
    'post /bank-lines/{bankLineId}/review': { decision: 'reject', reason: 'intruder' },
    'post /accounts/{accountId}/bank-lines': { postedOn: '2026-05-05', amountCents: -100, payee: 'Intruder' },
    'post /entities/{entityId}/rules': { name: 'Intruder', conditions: { payeeContains: 'x' }, action: { categoryAccountId: victim.accounts.VictimRevenue } },
    'put /rules/{ruleId}': { name: 'Hacked', conditions: { payeeContains: 'x' }, action: { categoryAccountId: victim.accounts.VictimRevenue } },
    'post /entities/{entityId}/rules/preview': {},
    'post /accounts/{accountId}/balance-assertions': { asOn: '2026-05-05', balanceCents: 1 },
    'post /plaid/link-token': { entityId: victim.entityId },
    'post /plaid/items': { entityId: victim.entityId, publicToken: 'public-sandbox-intruder' },
    'post /veil-health/fixes': { fix: 'reclassify_as_draw', entryId: victimEntryId, personalAccountId: victimOther.accounts.cash },
    'post /entities/{entityId}/envelope-groups': { name: 'Intruder group' },
    'post /entities/{entityId}/envelopes': { name: 'Intruder', groupId: victimGroupId, categoryAccountIds: [] },
    'post /entities/{entityId}/budget/{month}/assign': { envelopeId: victimEnvelopeId, amountCents: 100 },
    'post /entities/{entityId}/budget/{month}/move': { fromEnvelopeId: victimEnvelopeId, toEnvelopeId: victimEnvelopeId, amountCents: 100 },
    'put /entities/{entityId}/allocation-rules': { rules: [{ kind: 'remainder', envelopeId: victimEnvelopeId }] },
    'post /entities/{entityId}/allocations': { month: '2026-05', amountCents: 100 },
    'post /entities/{entityId}/bills': {
      name: 'Intruder bill',
      payee: 'Intruder',
      rrule: 'FREQ=MONTHLY',
      startsOn: '2026-05-01',
      amountCents: 100,
      estimated: false,
      categoryAccountId: victim.accounts.VictimChecking,
      payFromAccountId: victim.accounts.VictimChecking,
      autopay: false,
    },
    'patch /bills/{billId}': { name: 'Hacked bill' },
    'patch /envelopes/{envelopeId}': { name: 'Hacked envelope' },
    'post /bills/{billId}/occurrences/{dueOn}/pay': {},
    'post /bills/{billId}/occurrences/{dueOn}/skip': { reason: 'Intruder' },
    'post /executions/{executionId}/status': { status: 'failed', errorMessage: 'Intruder' },
    'post /webhooks': { url: 'http://127.0.0.1:9/intruder', events: ['entry.posted'], entityIds: [victim.entityId] },
    'post /entities/{entityId}/payees': { name: 'Intruder payee', isContractor: true },
    'patch /payees/{payeeId}': { w9Status: 'missing' },
    'post /payees/{payeeId}/payments': { paidOn: '2026-05-02', amountCents: 100, method: 'ach' },
    'post /payee-payments/{paymentId}/void': { voidedOn: '2026-05-10' },
    'put /accounts/{accountId}/holdings': { ticker: 'VTI', name: 'Intruder', securityType: 'etf', quantity: '1', priceCents: 100, asOf: '2026-05-01' },
    'put /entities/{entityId}/retirement-profile': { birthYear: 1970 },
    'post /entities/{entityId}/contribution-plans/preview': plan,
    'post /entities/{entityId}/contribution-plans': { ...plan, name: 'Intruder plan' },
    'patch /contribution-plans/{planId}': { active: false },
    'post /contribution-plans/{planId}/occurrences/{dueOn}/contribute': {},
    'post /entities/{entityId}/contributions': { fromAccountId: victim.accounts.VictimChecking, toAccountId: victimBrokerageId, limitKind: null, amountCents: 100, contributedOn: '2026-05-01' },
  };
  const body = bodies[`${route.method} ${route.path}`];
  // Consolidated views name their entities in the query: the victim's two books, as the owner would.
  const fullUrl = route.path === '/consolidated' || route.path === '/consolidated/balance-history' || route.path.startsWith('/reports/consolidated/') ? `${url}?entityIds=${victim.entityId},${victimOther.entityId}` : url;
  return { url: fullUrl, need, victimRow, ...(body ? { body } : {}) };
}

function send(http: AuthedHttp, route: Route, request: ReturnType<typeof fixture>) {
  let call = http[route.method](request.url).set('Idempotency-Key', key('matrix'));
  if (request.body) call = call.send(request.body);
  return call;
}

function expectNoVictimData(response: { text: string }, allowed: readonly string[] = []) {
  for (const marker of MARKERS) if (!allowed.includes(marker)) expect(response.text).not.toContain(marker);
}

describe('authorization matrix', () => {
  it('denies every authenticated route to every wrong credential, leaking nothing and changing nothing', async () => {
    const routes = await authenticatedRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(20);
    const before = await victimSnapshot();
    const outcomes: string[] = [];
    for (const route of routes) {
      // Some routes end the caller's own session (logout): the attacker signs in afresh for each route.
      attacker = await ledger.login(attacker.email, attacker.password);
      const request = fixture(route);
      for (const [label, credential] of Object.entries(credentials)) {
        const response = await send(credential(request.need), route, request);
        outcomes.push(`${route.method} ${route.path} × ${label} → ${response.status}`);
        // A crossing is booked in both books: the owner's token for the other entity rightly sees, in its own
        // book's side of the crossing, the name of the entity on the far side. Nothing else of the victim's.
        expectNoVictimData(response, label === 'wrong entity' ? ['Victim Books LLC'] : []);
        if (['no token', 'expired', 'tampered signature', 'tampered claims', 'alg: none', 'unknown API token'].includes(label)) {
          expect({ label, route, status: response.status, code: response.body.error?.code }).toEqual({ label, route, status: 401, code: 'unauthenticated' });
          continue;
        }
        if (!request.victimRow) {
          // Routes on the caller's own account (me, tokens, audit…): never 2xx with anything of the victim's (above).
          continue;
        }
        const isTokenRoute = route.path.includes('{tokenId}');
        const expected =
          label === "another user's token" ? 404 : label === 'wrong scope' ? 403 : isTokenRoute ? 403 : 404;
        expect({ label, route, status: response.status }).toEqual({ label, route, status: expected });
      }
    }
    expect(await victimSnapshot()).toEqual(before);
    expect(outcomes.length).toBe(routes.length * Object.keys(credentials).length);
  });

  it("answers another user's rows exactly like missing rows", async () => {
    attacker = await ledger.login(attacker.email, attacker.password);
    const as = ledger.as(attacker.accessToken);
    const theirs = await as.get(`/entities/${victim.entityId}`).expect(404);
    const missing = await as.get('/entities/00000000-0000-4000-8000-000000000000').expect(404);
    expect(Object.keys(theirs.body.error)).toEqual(Object.keys(missing.body.error));
    expect(theirs.body.error.code).toBe(missing.body.error.code);
    const listed = await as.get('/entities').expect(200);
    const own = await ledger.deps.db.selectFrom('entities').select('id').where('ownerUserId', '=', attacker.id).orderBy('createdAt').orderBy('id').execute();
    expect(own.map((row) => row.id)).toContain(attackerBooks.entityId);
    expect(listed.body.items.map((entity: { id: string }) => entity.id)).toEqual(own.map((row) => row.id));
    // Naming the victim's entity as the counterparty of one's own account is refused the same way.
    const counterparty = await as
      .post(`/entities/${attackerBooks.entityId}/accounts`)
      .set('Idempotency-Key', key())
      .send({ name: 'Due from victim', kind: 'due_from_entity', counterpartyEntityId: victim.entityId })
      .expect(404);
    expect(counterparty.body.error.code).toBe('not_found');
    // Posting to the victim's account from one's own books: "not found", not "belongs to another entity".
    const attackerCash = attackerBooks.accounts.cash as string;
    const foreignPosting = await as
      .post(`/entities/${attackerBooks.entityId}/entries`)
      .set('Idempotency-Key', key())
      .send({
        postedOn: '2026-05-03',
        description: 'Probe',
        postings: [
          { accountId: attackerCash, amountCents: 100 },
          { accountId: victim.accounts.VictimChecking, amountCents: -100 },
        ],
      })
      .expect(404);
    const unknownPosting = await as
      .post(`/entities/${attackerBooks.entityId}/entries`)
      .set('Idempotency-Key', key())
      .send({
        postedOn: '2026-05-03',
        description: 'Probe',
        postings: [
          { accountId: attackerCash, amountCents: 100 },
          { accountId: '00000000-0000-4000-8000-000000000001', amountCents: -100 },
        ],
      })
      .expect(404);
    expect(foreignPosting.body.error.code).toBe(unknownPosting.body.error.code);
    expect(foreignPosting.body.error.message.replace(victim.accounts.VictimChecking as string, 'X')).toBe(
      unknownPosting.body.error.message.replace('00000000-0000-4000-8000-000000000001', 'X'),
    );
    const audit = await as.get('/audit').expect(200);
    expectNoVictimData(audit);
    const ownIds = new Set(own.map((row) => row.id));
    expect(audit.body.items.length).toBeGreaterThan(0);
    expect(audit.body.items.every((row: { entityId: string | null }) => row.entityId === null || ownIds.has(row.entityId))).toBe(true);
    await as.get('/audit').query({ entityId: victim.entityId }).expect(404);
    await as.post('/audit/verify').expect(403);
  });

  it('lets the right credential through, so the denials above are not an artefact', async () => {
    await ledger.http.get(`/entities/${victim.entityId}`).expect(200);
    await credentials['wrong scope']?.('write').get(`/entries/${victimEntryId}`).expect(200);
    const payees = await ledger.http.get(`/entities/${victim.entityId}/payees`).expect(200);
    expect(payees.body.items).toEqual([expect.objectContaining({ name: 'VictimPayee', tinLast4: '4321' })]);
    expect(payees.text).not.toContain('987654');
    const audit = await ledger.http.get('/audit').query({ entityId: victim.entityId }).expect(200);
    expect(audit.text).toContain('Victim secret invoice');
  });
});

async function victimSnapshot() {
  const entities = await ledger.deps.db.selectFrom('entities').select(['id', 'name']).where('ownerUserId', '=', ledger.owner.id).orderBy('id').execute();
  const accounts = await ledger.deps.db
    .selectFrom('accounts')
    .select(['id', 'name', 'balanceCents', 'archivedAt'])
    .where('entityId', 'in', [victim.entityId, victimOther.entityId])
    .orderBy('id')
    .execute();
  const entries = await ledger.deps.db.selectFrom('journalEntries').select('id').where('entityId', '=', victim.entityId).execute();
  const tokens = await ledger.deps.db.selectFrom('apiTokens').select(['id', 'revokedAt']).orderBy('id').execute();
  const users = await ledger.deps.db.selectFrom('users').select(['id', 'passwordHash']).orderBy('id').execute();
  const budgetRows = await Promise.all(
    (['envelopeGroups', 'envelopes', 'budgetAssignments', 'allocationRules', 'allocations', 'bills', 'billOccurrences', 'contributionPlans', 'contributions', 'holdings', 'retirementProfiles'] as const).map(async (table) =>
      Number((await ledger.deps.db.selectFrom(table).select((eb) => eb.fn.countAll().as('count')).executeTakeFirstOrThrow()).count),
    ),
  );
  const subscriptions = await ledger.deps.db.selectFrom('webhookSubscriptions').select(['id', 'deletedAt']).where('ownerUserId', '=', ledger.owner.id).orderBy('id').execute();
  const bankLines = await ledger.deps.db.selectFrom('bankLines').select(['id', 'status']).where('entityId', '=', victim.entityId).orderBy('id').execute();
  const rules = await ledger.deps.db.selectFrom('categorisationRules').select(['id', 'name', 'conditions']).where('entityId', '=', victim.entityId).orderBy('id').execute();
  const imports = await ledger.deps.db.selectFrom('imports').select('id').where('entityId', '=', victim.entityId).execute();
  const assertions = await ledger.deps.db.selectFrom('balanceAssertions').select('id').where('entityId', '=', victim.entityId).execute();
  const payees = await ledger.deps.db.selectFrom('payees').select(['id', 'name', 'w9Status', 'tinLast4']).orderBy('id').execute();
  const payments = await ledger.deps.db.selectFrom('payeePayments').select(['id', 'amountCents', 'voidedOn']).orderBy('id').execute();
  return {
    entities,
    accounts,
    entries: entries.length,
    tokens,
    users,
    budgetRows,
    subscriptions,
    bankLines,
    rules,
    imports: imports.length,
    assertions: assertions.length,
    payees,
    payments,
    invariants: await checkInvariants(ledger.deps.db),
  };
}
