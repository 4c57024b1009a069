import fc from 'fast-check';
import { createBooks, checkInvariants, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// The pairing invariant under random sequences of crossings and reversals, driven through the API: after every
// step, what one entity books as due from / loan receivable / investment in the other equals what the other
// books as the matching payable or equity, and refused steps leave both books untouched.

let ledger: TestLedger;
let llc: Books;
let owner: Books;

beforeAll(async () => {
  ledger = await startTestLedger({ ownerMfa: true });
  llc = await createBooks(ledger, { name: 'Property LLC', accounts: { checking: 'checking', supplies: 'expense_category' } });
  owner = await createBooks(ledger, { kind: 'personal', name: 'Pat Owner', accounts: { checking: 'checking', card: 'credit_card' } });
});
afterAll(() => ledger.close());

type Step =
  | { op: 'contribute' | 'draw' | 'lend_to_llc' | 'lend_to_owner' | 'reimburse'; amountCents: number }
  | { op: 'repay' | 'pay_reimbursement' | 'reverse'; pick: number; amountCents: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constantFrom('contribute', 'draw', 'lend_to_llc', 'lend_to_owner', 'reimburse' as const), amountCents: fc.integer({ min: 1, max: 5_000_000 }) }),
  fc.record({ op: fc.constantFrom('repay', 'pay_reimbursement', 'reverse' as const), pick: fc.nat(), amountCents: fc.integer({ min: 1, max: 5_000_000 }) }),
) as fc.Arbitrary<Step>;

function side(books: Books, account: string) {
  return { entityId: books.entityId, accountId: books.accounts[account] };
}

function body(from: { entityId: string; accountId: string | undefined }, to: { entityId: string; accountId: string | undefined }, amountCents: number, extra: object) {
  return { fromEntityId: from.entityId, fromAccountId: from.accountId, toEntityId: to.entityId, toAccountId: to.accountId, amountCents, postedOn: '2026-04-01', ...extra };
}

interface Booked {
  id: string;
  classification: string;
  fromEntityId: string;
}

async function run(step: Step, booked: Booked[]): Promise<void> {
  const post = (path: string, payload: object) => ledger.http.post(path).set('Idempotency-Key', key()).send(payload);
  const loan = { annualRateBasisPoints: 700, termMonths: 12, paymentFrequency: 'monthly' };
  let response;
  switch (step.op) {
    case 'contribute':
      response = await post('/transfers', body(side(owner, 'checking'), side(llc, 'checking'), step.amountCents, { classification: 'capital_contribution' }));
      break;
    case 'draw':
      response = await post('/transfers', body(side(llc, 'checking'), side(owner, 'checking'), step.amountCents, { classification: 'owner_draw' }));
      break;
    case 'lend_to_llc':
      response = await post('/transfers', body(side(owner, 'checking'), side(llc, 'checking'), step.amountCents, { classification: 'loan', loan }));
      break;
    case 'lend_to_owner':
      response = await post('/transfers', body(side(llc, 'checking'), side(owner, 'checking'), step.amountCents, { classification: 'loan', loan }));
      break;
    case 'reimburse':
      response = await post(
        '/transfers',
        body(side(owner, 'card'), side(llc, 'supplies'), step.amountCents, {
          classification: 'reimbursement',
          reimbursement: { businessPurpose: 'supplies', receiptReference: 'r.pdf', expenseOn: '2026-03-30' },
        }),
      );
      break;
    case 'repay':
    case 'pay_reimbursement': {
      const kind = step.op === 'repay' ? 'loan' : 'reimbursement';
      const candidates = booked.filter((transfer) => transfer.classification === kind);
      const target = candidates[step.pick % Math.max(candidates.length, 1)];
      if (target === undefined) return;
      // The debtor pays: the borrower of the loan, or the LLC that owes the reimbursement.
      const lenderIsOwner = target.fromEntityId === owner.entityId;
      const [from, to] = lenderIsOwner ? [side(llc, 'checking'), side(owner, 'checking')] : [side(owner, 'checking'), side(llc, 'checking')];
      response = await post(
        '/transfers',
        body(from, to, step.amountCents, { classification: step.op === 'repay' ? 'loan_repayment' : 'reimbursement_payment', relatedTransferId: target.id }),
      );
      break;
    }
    case 'reverse': {
      const target = booked[step.pick % Math.max(booked.length, 1)];
      if (target === undefined) return;
      response = await post(`/transfers/${target.id}/reverse`, {});
      break;
    }
  }
  // Overpayments, reversing a loan with payments, reversing twice: refused with a 4xx, never a 5xx.
  expect(response.status < 500).toBe(true);
  if (response.status === 201 && step.op !== 'reverse') booked.push(response.body);
}

it('keeps both books paired after any sequence of crossings and reversals (property)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArbitrary, { minLength: 1, maxLength: 8 }), async (steps) => {
      const booked: Booked[] = [];
      for (const step of steps) {
        await run(step, booked);
        const pairing = await ledger.http.get(`/entities/${llc.entityId}/veil/pairing`).expect(200);
        expect(pairing.body.mismatches).toEqual([]);
      }
      expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
    }),
    { numRuns: 25 },
  );
});
