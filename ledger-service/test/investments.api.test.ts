import { checkInvariants, createBooks, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// Investments over HTTP: holdings per account, contribution plans with limit warnings, contributions refused over
// the year's limit (with the catch-up the person's age allows), the year's summary and the limit_near event.

let ledger: TestLedger;
let person: Books;
let llc: Books;

const IRA_2026_CENTS = 750_000;
const IRA_CATCH_UP_2026_CENTS = 110_000;
const K401_2026_CENTS = 2_450_000;
const K401_60_TO_63_2026_CENTS = 1_125_000;

function post(path: string, body: object) {
  return ledger.http.post(path).set('Idempotency-Key', key()).send(body);
}

function plan(body: Partial<Record<string, unknown>> = {}) {
  return {
    name: 'Monthly IRA',
    limitKind: 'ira',
    amountCents: 50_000,
    rrule: 'FREQ=MONTHLY;BYMONTHDAY=15',
    startsOn: '2026-01-15',
    fromAccountId: person.accounts.Checking,
    toAccountId: person.accounts.IRA,
    ...body,
  };
}

async function summary(year = 2026) {
  const response = await ledger.http.get(`/entities/${person.entityId}/contributions/summary?year=${year}`).expect(200);
  return response.body as { birthYear: number | null; limits: { kind: string; contributedCents: number; plannedCents: number; limitCents: number | null; catchUpCents: number; remainingCents: number | null; standing: string; projectedStanding: string; warning: { code: string } | null }[] };
}

beforeAll(async () => {
  ledger = await startTestLedger();
  ledger.clock.set(Date.UTC(2026, 0, 5, 12));
  person = await createBooks(ledger, {
    kind: 'personal',
    name: 'Owner',
    accounts: { Checking: 'checking', IRA: 'retirement', '401k': 'retirement', Brokerage: 'brokerage', Visa: 'credit_card', Groceries: 'expense_category' },
  });
  llc = await createBooks(ledger, { kind: 'llc', name: 'Studio LLC', accounts: { 'LLC Checking': 'checking' } });
});
afterAll(async () => {
  await ledger.close();
});

describe('limits table', () => {
  it('serves the limits per year and kind with their source', async () => {
    const response = await ledger.http.get('/reference/contribution-limits').expect(200);
    const ira2026 = response.body.rows.find((row: { year: number; kind: string }) => row.year === 2026 && row.kind === 'ira');
    expect(ira2026).toMatchObject({ baseCents: IRA_2026_CENTS, catchUp50Cents: IRA_CATCH_UP_2026_CENTS, status: 'secondary' });
    expect(ira2026.source).toContain('US-TAX-FACTS');
  });
});

describe('holdings', () => {
  it('sets a holding by hand, values it in integer arithmetic and lists it under its account', async () => {
    const set = await ledger.http
      .put(`/accounts/${person.accounts.Brokerage}/holdings`)
      .set('Idempotency-Key', key())
      .send({ ticker: 'VTI', name: 'Vanguard Total Stock Market ETF', securityType: 'etf', quantity: '10.125', priceCents: 28_533, asOf: '2026-01-02' })
      .expect(200);
    // 10.125 × 285.33 = 2,888.96625 → 2,888.97
    expect(set.body).toMatchObject({ quantity: '10.125', valueCents: 288_897, source: 'manual', security: { ticker: 'VTI' } });
    // Setting it again replaces it (one row per account and security).
    await ledger.http
      .put(`/accounts/${person.accounts.Brokerage}/holdings`)
      .set('Idempotency-Key', key())
      .send({ ticker: 'VTI', name: 'Vanguard Total Stock Market ETF', securityType: 'etf', quantity: '12', priceCents: 30_000, asOf: '2026-01-03' })
      .expect(200);
    const list = await ledger.http.get(`/entities/${person.entityId}/holdings`).expect(200);
    const brokerage = list.body.accounts.find((account: { accountId: string }) => account.accountId === person.accounts.Brokerage);
    expect(brokerage.holdings).toHaveLength(1);
    expect(brokerage.valueCents).toBe(360_000);
    expect(list.body.accounts.map((account: { kind: string }) => account.kind).sort()).toEqual(['brokerage', 'retirement', 'retirement']);
  });

  it('refuses a holding in a non-investment account, a float-looking quantity, and another user', async () => {
    const body = { ticker: 'VTI', name: 'VTI', securityType: 'etf', quantity: '1', priceCents: 100, asOf: '2026-01-02' };
    const checking = await ledger.http.put(`/accounts/${person.accounts.Checking}/holdings`).set('Idempotency-Key', key()).send(body).expect(422);
    expect(checking.body.error.code).toBe('holding_invalid');
    const bad = await ledger.http.put(`/accounts/${person.accounts.Brokerage}/holdings`).set('Idempotency-Key', key()).send({ ...body, quantity: '1e3' }).expect(400);
    expect(bad.body.error.code).toBe('invalid_request');
    const other = await ledger.createUser('investor-other@example.com');
    await ledger.as(other.accessToken).put(`/accounts/${person.accounts.Brokerage}/holdings`).set('Idempotency-Key', key()).send(body).expect(404);
  });
});

describe('contribution plans', () => {
  it('previews a plan within the limit without warnings, and one over it with the first date that would exceed', async () => {
    const fine = await post(`/entities/${person.entityId}/contribution-plans/preview`, plan()).expect(200);
    expect(fine.body.occurrences.slice(0, 2)).toEqual(['2026-01-15', '2026-02-15']);
    // 12 × 500.00 = 6,000.00 in 2026, under 7,500.00. 2027 has no row in the limits table: said, not guessed.
    expect(fine.body.warnings).toEqual([expect.objectContaining({ code: 'contribution_limit_unknown', year: 2027, limitCents: null, projectedCents: 600_000 })]);
    const over = await post(`/entities/${person.entityId}/contribution-plans/preview`, plan({ amountCents: 70_000 })).expect(200);
    // 70,000 × 11 = 770,000 > 750,000: the November occurrence crosses.
    expect(over.body.warnings).toContainEqual(
      expect.objectContaining({ code: 'contribution_limit_exceeded', year: 2026, kind: 'ira', projectedCents: 840_000, limitCents: IRA_2026_CENTS, firstDueOn: '2026-11-15' }),
    );
  });

  it('saves a plan that would exceed with its warnings, counting every active plan of the kind', async () => {
    const first = await post(`/entities/${person.entityId}/contribution-plans`, plan()).expect(201);
    expect(first.body.warnings.filter((warning: { year: number }) => warning.year === 2026)).toEqual([]);
    expect(first.body.plan).toMatchObject({ active: true, nextDueOn: '2026-01-15', amountCents: 50_000 });
    // A second IRA plan: 6,000 + 12 × 200 = 8,400 > 7,500 — the IRA limit is one limit across all IRAs.
    const second = await post(`/entities/${person.entityId}/contribution-plans`, plan({ name: 'Extra IRA', amountCents: 20_000, rrule: 'FREQ=MONTHLY;BYMONTHDAY=20', startsOn: '2026-01-20' })).expect(201);
    const warning = second.body.warnings.find((candidate: { year: number }) => candidate.year === 2026);
    expect(warning).toMatchObject({ code: 'contribution_limit_exceeded', projectedCents: 840_000 });
    // Pausing it clears the warning.
    const paused = await ledger.http.patch(`/contribution-plans/${second.body.plan.id}`).set('Idempotency-Key', key()).send({ active: false }).expect(200);
    expect(paused.body.plan.active).toBe(false);
    expect(paused.body.warnings).toEqual([]);
    const list = await ledger.http.get(`/entities/${person.entityId}/contribution-plans`).expect(200);
    expect(list.body.plans).toHaveLength(2);
  });

  it('refuses plans with wrong accounts, rules or kinds', async () => {
    const fromCard = await post(`/entities/${person.entityId}/contribution-plans`, plan({ name: 'x1', fromAccountId: person.accounts.Visa })).expect(422);
    expect(fromCard.body.error.code).toBe('contribution_invalid');
    const intoChecking = await post(`/entities/${person.entityId}/contribution-plans`, plan({ name: 'x2', toAccountId: person.accounts.Checking, fromAccountId: person.accounts.Checking })).expect(422);
    expect(intoChecking.body.error.code).toBe('contribution_invalid');
    const noKind = await post(`/entities/${person.entityId}/contribution-plans`, plan({ name: 'x3', limitKind: null })).expect(422);
    expect(noKind.body.error.message).toContain('which limit');
    const brokerageKind = await post(`/entities/${person.entityId}/contribution-plans`, plan({ name: 'x4', toAccountId: person.accounts.Brokerage })).expect(422);
    expect(brokerageKind.body.error.code).toBe('contribution_invalid');
    const otherEntity = await post(`/entities/${person.entityId}/contribution-plans`, plan({ name: 'x5', fromAccountId: llc.accounts['LLC Checking'] })).expect(404);
    expect(otherEntity.body.error.code).toBe('not_found');
    const badRule = await post(`/entities/${person.entityId}/contribution-plans`, plan({ name: 'x6', rrule: 'FREQ=HOURLY' })).expect(422);
    expect(badRule.body.error.code).toBe('bill_invalid');
    const floatAmount = await post(`/entities/${person.entityId}/contribution-plans`, plan({ name: 'x7', amountCents: 10.5 })).expect(400);
    expect(floatAmount.body.error.code).toBe('invalid_request');
  });
});

describe('contributions against the limit', () => {
  it('books a plan occurrence once, and refuses a second time', async () => {
    const plans = await ledger.http.get(`/entities/${person.entityId}/contribution-plans`).expect(200);
    const monthly = plans.body.plans.find((reply: { plan: { name: string } }) => reply.plan.name === 'Monthly IRA').plan;
    const booked = await post(`/contribution-plans/${monthly.id}/occurrences/2026-01-15/contribute`, {}).expect(201);
    expect(booked.body.contribution).toMatchObject({ taxYear: 2026, amountCents: 50_000, limitKind: 'ira', dueOn: '2026-01-15' });
    expect(booked.body.entry.postings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ accountId: person.accounts.IRA, amountCents: 50_000 }),
        expect.objectContaining({ accountId: person.accounts.Checking, amountCents: -50_000 }),
      ]),
    );
    expect(booked.body).toMatchObject({ totalCents: 50_000, limitCents: IRA_2026_CENTS, standing: 'ok' });
    // The plan's next occurrence is now the one after: January's is done.
    const listed = await ledger.http.get(`/entities/${person.entityId}/contribution-plans`).expect(200);
    expect(listed.body.plans.find((reply: { plan: { id: string } }) => reply.plan.id === monthly.id).plan.nextDueOn).toBe('2026-02-15');
    const again = await post(`/contribution-plans/${monthly.id}/occurrences/2026-01-15/contribute`, {}).expect(422);
    expect(again.body.error.code).toBe('contribution_invalid');
    const notADueDate = await post(`/contribution-plans/${monthly.id}/occurrences/2026-01-16/contribute`, {}).expect(422);
    expect(notADueDate.body.error.message).toContain('not a due date');
  });

  it('refuses a contribution that would pass the limit (422 with what is left), then raises limit_near at 90%', async () => {
    const base = { fromAccountId: person.accounts.Checking, toAccountId: person.accounts.IRA, limitKind: 'ira', contributedOn: '2026-02-01' };
    const over = await post(`/entities/${person.entityId}/contributions`, { ...base, amountCents: IRA_2026_CENTS }).expect(422);
    expect(over.body.error).toMatchObject({ code: 'contribution_limit_exceeded', details: { contributedCents: 50_000, remainingCents: 700_000, limitCents: IRA_2026_CENTS } });
    // 50,000 + 600,000 = 650,000: 86.7%, fine; + 30,000 = 680,000: 90.7%, near.
    const fine = await post(`/entities/${person.entityId}/contributions`, { ...base, amountCents: 600_000 }).expect(201);
    expect(fine.body.standing).toBe('ok');
    const near = await post(`/entities/${person.entityId}/contributions`, { ...base, amountCents: 30_000 }).expect(201);
    expect(near.body).toMatchObject({ standing: 'near', totalCents: 680_000 });
    const events = await ledger.deps.db.selectFrom('ledgerEvents').select(['type', 'payload']).where('entityId', '=', person.entityId).where('type', '=', 'contribution.limit_near').execute();
    expect(events).toHaveLength(1);
    const payload = typeof events[0]?.payload === 'string' ? JSON.parse(events[0].payload) : events[0]?.payload;
    expect(payload).toMatchObject({ taxYear: 2026, limitKind: 'ira', totalCents: 680_000, remainingCents: 70_000 });
    // Exactly to the limit is allowed; one cent more is not.
    await post(`/entities/${person.entityId}/contributions`, { ...base, amountCents: 70_000 }).expect(201);
    await post(`/entities/${person.entityId}/contributions`, { ...base, amountCents: 1 }).expect(422);
    // Still one limit_near event: it fires when the total crosses 90%, not on every contribution after.
    const after = await ledger.deps.db.selectFrom('ledgerEvents').select('id').where('entityId', '=', person.entityId).where('type', '=', 'contribution.limit_near').execute();
    expect(after).toHaveLength(1);
  });

  it('counts an IRA contribution made by April 15 for the year before, but not a 401(k) deferral', async () => {
    const base = { fromAccountId: person.accounts.Checking, toAccountId: person.accounts.IRA, limitKind: 'ira', amountCents: 10_000 };
    const prior = await post(`/entities/${person.entityId}/contributions`, { ...base, contributedOn: '2026-04-15', taxYear: 2025 }).expect(201);
    expect(prior.body.contribution.taxYear).toBe(2025);
    const late = await post(`/entities/${person.entityId}/contributions`, { ...base, contributedOn: '2026-04-16', taxYear: 2025 }).expect(422);
    expect(late.body.error.code).toBe('contribution_invalid');
    const deferral = await post(`/entities/${person.entityId}/contributions`, { ...base, toAccountId: person.accounts['401k'], limitKind: '401k_employee', contributedOn: '2026-03-01', taxYear: 2025 }).expect(422);
    expect(deferral.body.error.message).toContain('401(k)');
  });

  it('raises the limit by the catch-up the birth year allows (60 to 63 for a 401(k) deferral)', async () => {
    const before = await summary();
    const ira = before.limits.find((limit) => limit.kind === 'ira');
    expect(ira).toMatchObject({ contributedCents: IRA_2026_CENTS, limitCents: IRA_2026_CENTS, catchUpCents: 0, remainingCents: 0, standing: 'near' });
    // The paused plan is not counted; the monthly one has 11 occurrences left in 2026 (Feb..Dec) = 550,000.
    expect(ira?.plannedCents).toBe(550_000);
    expect(ira?.projectedStanding).toBe('exceeded');
    expect(ira?.warning?.code).toBe('contribution_limit_exceeded');

    await ledger.http.put(`/entities/${person.entityId}/retirement-profile`).set('Idempotency-Key', key()).send({ birthYear: 1964 }).expect(200);
    const older = await summary();
    expect(older.birthYear).toBe(1964);
    // Age 62 at the end of 2026: IRA catch-up 1,100; 401(k) 60–63 catch-up 11,250 instead of 8,000.
    expect(older.limits.find((limit) => limit.kind === 'ira')).toMatchObject({ limitCents: IRA_2026_CENTS + IRA_CATCH_UP_2026_CENTS, catchUpCents: IRA_CATCH_UP_2026_CENTS });
    expect(older.limits.find((limit) => limit.kind === '401k_employee')).toMatchObject({ limitCents: K401_2026_CENTS + K401_60_TO_63_2026_CENTS });
    expect(older.limits.find((limit) => limit.kind === 'sep_ira')).toMatchObject({ limitCents: 7_200_000, catchUpCents: 0 });
    // Now the cent refused before fits.
    await post(`/entities/${person.entityId}/contributions`, { fromAccountId: person.accounts.Checking, toAccountId: person.accounts.IRA, limitKind: 'ira', amountCents: 1, contributedOn: '2026-05-01' }).expect(201);

    const llcProfile = await ledger.http.put(`/entities/${llc.entityId}/retirement-profile`).set('Idempotency-Key', key()).send({ birthYear: 1964 }).expect(422);
    expect(llcProfile.body.error.code).toBe('contribution_invalid');
  });

  it('lists the year, keeps the books balanced and hides all of it from another user', async () => {
    const list = await ledger.http.get(`/entities/${person.entityId}/contributions?year=2026`).expect(200);
    expect(list.body.contributions.map((row: { amountCents: number }) => row.amountCents)).toEqual([50_000, 600_000, 30_000, 70_000, 1]);
    const report = await checkInvariants(ledger.deps.db);
    expect(report).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
    const other = await ledger.createUser('investor-stranger@example.com');
    await ledger.as(other.accessToken).get(`/entities/${person.entityId}/contributions/summary`).expect(404);
    await ledger.as(other.accessToken).get(`/entities/${person.entityId}/holdings`).expect(404);
    const plans = await ledger.http.get(`/entities/${person.entityId}/contribution-plans`).expect(200);
    await ledger.as(other.accessToken).post(`/contribution-plans/${plans.body.plans[0].plan.id}/occurrences/2026-02-15/contribute`).set('Idempotency-Key', key()).send({}).expect(404);
  });

  it('lets concurrent contributions fit under the limit and no more', async () => {
    const books = await createBooks(ledger, { kind: 'personal', name: 'Racer', accounts: { Checking: 'checking', IRA: 'retirement' } });
    const body = { fromAccountId: books.accounts.Checking, toAccountId: books.accounts.IRA, limitKind: 'ira', amountCents: 100_000, contributedOn: '2026-03-01' };
    // Ten at once, 1,000.00 each, under a 7,500.00 limit: seven fit.
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(`/entities/${books.entityId}/contributions`, body)));
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(7);
    expect(answers.filter((answer) => answer.status === 422).every((answer) => answer.body.error.code === 'contribution_limit_exceeded')).toBe(true);
    const summary = await ledger.http.get(`/entities/${books.entityId}/contributions/summary?year=2026`).expect(200);
    expect(summary.body.limits.find((limit: { kind: string }) => limit.kind === 'ira').contributedCents).toBe(700_000);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const document = await ledger.anonymous.get('/openapi.json').expect(200);
    expect(Object.keys(document.body.paths)).toEqual(
      expect.arrayContaining(['/entities/{entityId}/contribution-plans', '/contribution-plans/{planId}/occurrences/{dueOn}/contribute', '/entities/{entityId}/contributions/summary', '/accounts/{accountId}/holdings']),
    );
  });
});
