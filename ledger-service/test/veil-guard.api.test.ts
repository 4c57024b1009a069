import { createBooks, checkInvariants, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

let ledger: TestLedger;
let llc: Books;
let owner: Books;

beforeAll(async () => {
  ledger = await startTestLedger({ ownerMfa: true });
  llc = await createBooks(ledger, { name: 'Guarded LLC', accounts: { checking: 'checking', software: 'expense_category' } });
  owner = await createBooks(ledger, { kind: 'personal', name: 'Sam Owner', accounts: { checking: 'checking', card: 'credit_card' } });
});
afterAll(() => ledger.close());

function evaluate(body: object) {
  return ledger.http.post('/guard/evaluate').send(body);
}

describe('POST /guard/evaluate', () => {
  it('answers allow, document or block with reasons, and writes nothing', async () => {
    const before = await checkInvariants(ledger.deps.db);
    const allowed = await evaluate({ movement: { sourceAccountId: llc.accounts.checking, targetAccountId: llc.accounts.software, amountCents: 2_000, payee: 'GitHub' } }).expect(200);
    expect(allowed.body).toMatchObject({ decision: 'allow', reasons: [] });
    const unclassified = await evaluate({ movement: { sourceAccountId: llc.accounts.checking, targetAccountId: owner.accounts.checking, amountCents: 2_000 } }).expect(200);
    expect(unclassified.body).toMatchObject({ decision: 'block', reasons: [expect.objectContaining({ code: 'crossing_unclassified' })] });
    const reimbursement = await evaluate({ movement: { sourceAccountId: owner.accounts.card, targetAccountId: llc.accounts.software, amountCents: 2_000 } }).expect(200);
    expect(reimbursement.body).toMatchObject({ decision: 'document', suggestedClassification: 'reimbursement' });
    expect(await checkInvariants(ledger.deps.db)).toEqual(before);
  });

  it('judges an imported bank line with the entity policy and the owner-marked lists', async () => {
    const line = { bankLine: { accountId: llc.accounts.checking, amountCents: -4_550, payee: "Luigi's Trattoria" } };
    expect((await evaluate(line).expect(200)).body.decision).toBe('allow');
    await ledger.http
      .patch(`/entities/${llc.entityId}/veil-policy`)
      .set('Idempotency-Key', key())
      .send({ personalMarkers: ["Luigi's"], comminglingPolicy: 'document_as_draw' })
      .expect(200);
    const marked = await evaluate(line).expect(200);
    expect(marked.body).toMatchObject({ decision: 'document', suggestedClassification: 'owner_draw', reasons: [expect.objectContaining({ code: 'commingling_personal_expense' })] });
  });

  it('blocks a draw beyond cash when the LLC policy says block', async () => {
    await ledger.http.patch(`/entities/${llc.entityId}/veil-policy`).set('Idempotency-Key', key()).send({ drawPolicy: 'block' }).expect(200);
    const draw = await evaluate({
      movement: { sourceAccountId: llc.accounts.checking, targetAccountId: owner.accounts.checking, amountCents: 1, classification: 'owner_draw' },
    }).expect(200);
    expect(draw.body).toMatchObject({ decision: 'block', reasons: expect.arrayContaining([expect.objectContaining({ code: 'draw_beyond_policy' })]) });
  });

  it.each([
    ['neither movement nor bank line', {}, 400],
    ['both', { movement: {}, bankLine: {} }, 400],
    ['a negative movement', { movement: { sourceAccountId: '00000000-0000-4000-8000-000000000000', amountCents: -5 } }, 400],
    ['an unknown account', { movement: { sourceAccountId: '00000000-0000-4000-8000-000000000000', amountCents: 5 } }, 404],
    ['an oversized payee', { bankLine: { accountId: '00000000-0000-4000-8000-000000000000', amountCents: 5, payee: 'x'.repeat(501) } }, 400],
  ])('refuses %s', async (_label, body, status) => {
    const response = await evaluate(body).expect(status);
    expect(response.body.error.code).toBe(status === 404 ? 'not_found' : 'invalid_request');
  });
});
