import { seedDemo } from '../src/services/demo';
import { checkInvariants } from './support/books';
import { startTestLedger, type TestLedger } from './support/harness';

// The books `npm start` seeds are what a new user first sees: they must be sound, veil included.

let ledger: TestLedger;
beforeAll(async () => {
  ledger = await startTestLedger();
});
afterAll(() => ledger.close());

it('seeds sound books once: balanced, paired across the veil, documented, audited', async () => {
  const seeded = await seedDemo(ledger.deps, { ownerUserId: ledger.owner.id });
  expect(seeded).not.toBeNull();
  const transferCount = seeded?.transfers ?? -1;
  expect(await seedDemo(ledger.deps, { ownerUserId: ledger.owner.id })).toBeNull();

  expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
  const entities = await ledger.http.get('/entities').expect(200);
  expect(entities.body.items.map((entity: { name: string }) => entity.name).sort()).toEqual(['Alex Rivera', 'Northwind Studio LLC']);

  const llcId = seeded?.llcEntityId as string;
  const pairing = await ledger.http.get(`/entities/${llcId}/veil/pairing`).expect(200);
  expect(pairing.body.mismatches).toEqual([]);
  const transfers = await ledger.http.get(`/entities/${llcId}/transfers`).expect(200);
  expect(transfers.body.items).toHaveLength(transferCount);
  const classifications = new Set(transfers.body.items.map((transfer: { classification: string }) => transfer.classification));
  expect([...classifications].sort()).toEqual(['capital_contribution', 'loan', 'loan_repayment', 'owner_draw', 'reimbursement', 'reimbursement_payment']);
  const loan = transfers.body.items.find((transfer: { classification: string }) => transfer.classification === 'loan');
  expect(loan.warnings.map((warning: { code: string }) => warning.code)).toContain('loan_below_afr');
  const documents = await ledger.http.get(`/entities/${llcId}/documents`).expect(200);
  expect(documents.body.items).toHaveLength(transferCount);

  const health = await ledger.http.get(`/entities/${llcId}/veil-health`).expect(200);
  expect(typeof health.body.score).toBe('number');
  // A real budget: every dollar assigned (Ready to Assign exactly zero in the last month), card spending funded.
  for (const entityId of [llcId, seeded?.personalEntityId as string]) {
    const month = await ledger.http.get(`/entities/${entityId}/budget/${seeded?.budgetMonth}`).expect(200);
    expect(month.body.readyToAssignCents).toBe(0);
    const lines = month.body.groups.flatMap((group: { envelopes: object[] }) => group.envelopes);
    expect(lines.length).toBeGreaterThanOrEqual(6);
    expect(lines.some((line: { kind: string; activityCents: number }) => line.kind === 'credit_card_payment' && line.activityCents !== 0)).toBe(true);
    expect(month.body.totals.assignedCents).toBeGreaterThan(0);
  }
  const rules = await ledger.http.get(`/entities/${llcId}/allocation-rules`).expect(200);
  expect(rules.body.rules.at(-1).kind).toBe('remainder');
  const bills = await ledger.http.get(`/entities/${seeded?.personalEntityId}/bills`).expect(200);
  const llcBills = await ledger.http.get(`/entities/${llcId}/bills`).expect(200);
  expect(bills.body.bills.length + llcBills.body.bills.length).toBe(seeded?.bills);
  const upcoming = await ledger.http.get(`/entities/${seeded?.personalEntityId}/bill-occurrences?from=2026-12-01&to=2026-12-31&today=2026-12-01`).expect(200);
  expect(upcoming.body.occurrences.map((occurrence: { status: string }) => occurrence.status)).toEqual(['due', 'upcoming', 'upcoming']);

  const verify = await ledger.http.post('/audit/verify').expect(200);
  expect(verify.body).toMatchObject({ ok: true });
});
