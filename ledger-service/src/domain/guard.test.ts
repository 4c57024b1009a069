import type { AfrRow } from './afr';
import { evaluateGuard, matchMarker, type GuardAccount, type GuardInput, type GuardPolicy } from './guard';

const afrRows: AfrRow[] = [
  { month: '2026-03', ruling: 'Rev. Rul. 2026-6', shortBasisPoints: 359, midBasisPoints: 393, longBasisPoints: 472, source: 'rr-26-06.pdf', status: 'verified' },
];

function account(id: string, entity: 'llc' | 'personal', kind: GuardAccount['kind'], accountClass: GuardAccount['class'], name = id): GuardAccount {
  return { id, entityId: entity, entityKind: entity, entityName: entity === 'llc' ? 'Studio LLC' : 'Dana', taxProfile: entity === 'llc' ? 'disregarded' : 'individual', name, kind, class: accountClass };
}

const llcCash = account('llc-cash', 'llc', 'checking', 'asset');
const llcSoftware = account('llc-software', 'llc', 'expense_category', 'expense', 'Software');
const llcGroceries = account('llc-groceries', 'llc', 'expense_category', 'expense', 'Groceries');
const ownerCash = account('owner-cash', 'personal', 'checking', 'asset');
const ownerCard = account('owner-card', 'personal', 'credit_card', 'liability');

const policy: GuardPolicy = {
  drawPolicy: 'warn',
  comminglingPolicy: 'block',
  personalPaysBusinessPolicy: 'document_as_reimbursement',
  personalMarkers: ['Bob\'s Bikes'],
  businessMarkers: ['figma'],
};

function judge(change: Partial<GuardInput>) {
  return evaluateGuard({ source: llcCash, amountCents: 5_000, postedOn: '2026-03-10', policy, llcTaxBasis: 'veil_formality', afrRows, ...change });
}

function codes(verdict: ReturnType<typeof judge>) {
  return verdict.reasons.map((reason) => reason.code);
}

describe('Entity Guard', () => {
  it('allows an ordinary LLC expense, with an explanation', () => {
    const verdict = judge({ payee: 'Adobe', category: 'Software', target: llcSoftware });
    expect(verdict).toMatchObject({ decision: 'allow', reasons: [], suggestedClassification: null });
    expect(verdict.explanation).toMatch(/allowed/);
  });

  it('blocks an unclassified crossing and documents a classified one', () => {
    expect(judge({ target: ownerCash })).toMatchObject({ decision: 'block' });
    expect(codes(judge({ target: ownerCash }))).toEqual(['crossing_unclassified']);
    expect(judge({ target: ownerCash, classification: 'owner_draw' })).toMatchObject({ decision: 'document', suggestedClassification: 'owner_draw' });
  });

  it('blocks an account paying itself', () => {
    expect(codes(judge({ target: llcCash }))).toEqual(['same_entity']);
  });

  it.each([
    ['a personal category', { category: 'Groceries' }],
    ['a personal merchant', { payee: 'NETFLIX.COM 866-579' }],
    ['an owner-marked merchant', { payee: "Bob's  Bikes" }],
    ['an LLC expense account named like a personal one', { target: llcGroceries }],
  ])('blocks the LLC paying %s (commingling), or documents it as a draw per policy', (_label, change) => {
    expect(judge(change)).toMatchObject({ decision: 'block', suggestedClassification: 'owner_draw' });
    expect(codes(judge(change))).toEqual(['commingling_personal_expense']);
    expect(judge({ ...change, policy: { ...policy, comminglingPolicy: 'document_as_draw' } })).toMatchObject({ decision: 'document' });
  });

  it('does not call the owner paying groceries commingling', () => {
    expect(judge({ source: ownerCard, category: 'Groceries' }).decision).toBe('allow');
  });

  it('documents a personal card paying an LLC expense as a reimbursement owed, or blocks it per policy', () => {
    const direct = judge({ source: ownerCard, target: llcSoftware });
    expect(direct).toMatchObject({ decision: 'document', suggestedClassification: 'reimbursement' });
    expect(codes(direct)).toEqual(['reimbursement_owed']);
    const marked = judge({ source: ownerCard, payee: 'Figma Inc' });
    expect(codes(marked)).toEqual(['reimbursement_owed']);
    expect(judge({ source: ownerCard, payee: 'Figma Inc', policy: { ...policy, personalPaysBusinessPolicy: 'block' } }).decision).toBe('block');
    expect(judge({ source: ownerCard, payee: 'Corner bakery' }).decision).toBe('allow');
  });

  it('blocks a loan without terms and documents one below the AFR, saying whose rule it is', () => {
    expect(judge({ source: ownerCash, target: llcCash, classification: 'loan' })).toMatchObject({ decision: 'block' });
    expect(codes(judge({ source: ownerCash, target: llcCash, classification: 'loan' }))).toContain('loan_without_terms');
    const below = judge({ source: ownerCash, target: llcCash, classification: 'loan', loan: { annualRateBasisPoints: 100, termMonths: 60 }, llcTaxBasis: 'tax_rule' });
    expect(below.decision).toBe('document');
    expect(below.reasons.find((reason) => reason.code === 'loan_below_afr')).toMatchObject({ basis: 'tax_rule', message: expect.stringContaining('3.93%') });
    const fair = judge({ source: ownerCash, target: llcCash, classification: 'loan', loan: { annualRateBasisPoints: 400, termMonths: 60 } });
    expect(codes(fair)).toEqual(['crossing_needs_document']);
  });

  it('documents or blocks a draw beyond cash or equity per policy, and lets a covered draw through to its document', () => {
    const drawFacts = { cashBalanceCents: 4_000, equityCents: 10_000 };
    expect(codes(judge({ target: ownerCash, classification: 'owner_draw', drawFacts }))).toEqual(['crossing_needs_document', 'draw_beyond_policy']);
    expect(judge({ target: ownerCash, classification: 'owner_draw', drawFacts, policy: { ...policy, drawPolicy: 'block' } }).decision).toBe('block');
    expect(codes(judge({ target: ownerCash, classification: 'owner_draw', drawFacts: { cashBalanceCents: 5_000, equityCents: 5_000 } }))).toEqual([
      'crossing_needs_document',
    ]);
  });

  it('matches markers case- and space-insensitively, ignoring empty ones', () => {
    expect(matchMarker(['whole foods'], ['WHOLE   FOODS #123'])).toBe('whole foods');
    expect(matchMarker(['', '  '], ['anything'])).toBeUndefined();
  });
});
