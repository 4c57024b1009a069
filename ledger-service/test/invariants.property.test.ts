import fc from 'fast-check';
import { checkInvariants, createBooks } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// Random sequences of valid and invalid operations, driven over HTTP. A model tracks what the service
// acknowledged; afterwards the database must agree with the model and with double entry.

let ledger: TestLedger;
beforeAll(async () => {
  ledger = await startTestLedger();
});
afterAll(() => ledger.close());

const ACCOUNT_COUNT = 5;

type Operation =
  | { type: 'entry'; legs: { account: number; amountCents: number }[]; balanced: boolean; foreign: boolean }
  | { type: 'batch'; entries: { account: number; amountCents: number }[][]; breakOne: boolean }
  | { type: 'reverse'; pick: number }
  | { type: 'replay'; pick: number };

const amount = fc.integer({ min: 1, max: 5_000_000 });
const legs = fc
  .array(fc.record({ account: fc.nat({ max: ACCOUNT_COUNT - 1 }), amountCents: amount }), { minLength: 1, maxLength: 4 })
  .map((debits) => {
    // Close the entry with one credit leg so it balances by construction; invalid variants are made below.
    const total = debits.reduce((sum, leg) => sum + leg.amountCents, 0);
    return [...debits, { account: (debits[0]?.account ?? 0) === 0 ? 1 : 0, amountCents: -total }];
  });
const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ type: fc.constant('entry' as const), legs, balanced: fc.boolean(), foreign: fc.boolean() }),
  fc.record({ type: fc.constant('batch' as const), entries: fc.array(legs, { minLength: 1, maxLength: 5 }), breakOne: fc.boolean() }),
  fc.record({ type: fc.constant('reverse' as const), pick: fc.nat() }),
  fc.record({ type: fc.constant('replay' as const), pick: fc.nat() }),
);

it('keeps every entry balanced and every balance equal to its postings under any sequence', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 20 }), async (operations) => {
      const books = await createBooks(ledger, {
        accounts: { a0: 'checking', a1: 'savings', a2: 'credit_card', a3: 'income_category', a4: 'expense_category' },
      });
      const foreign = await createBooks(ledger, { kind: 'personal', name: 'Owner', accounts: { cash: 'cash' } });
      const accountIds = Object.values(books.accounts);
      const expected = new Map<string, number>(accountIds.map((id) => [id, 0]));
      const booked: { id: string; postings: { accountId: string; amountCents: number }[]; reversed: boolean }[] = [];
      const sent: { key: string; body: unknown; path: string; status: number; response: unknown }[] = [];
      const apply = (postings: { accountId: string; amountCents: number }[], sign = 1) => {
        for (const posting of postings) expected.set(posting.accountId, (expected.get(posting.accountId) ?? 0) + sign * posting.amountCents);
      };
      const toPostings = (entryLegs: { account: number; amountCents: number }[]) =>
        entryLegs.map((leg) => ({ accountId: accountIds[leg.account] as string, amountCents: leg.amountCents }));

      for (const op of operations) {
        if (op.type === 'entry') {
          const postings = toPostings(op.legs);
          if (!op.balanced) postings[0] = { ...(postings[0] as (typeof postings)[number]), amountCents: (postings[0]?.amountCents ?? 0) + 1 };
          if (op.foreign) postings[0] = { ...(postings[0] as (typeof postings)[number]), accountId: foreign.accounts.cash as string };
          const body = { postedOn: '2026-05-01', description: 'random', postings };
          const path = `/entities/${books.entityId}/entries`;
          const requestKey = key();
          const response = await ledger.http.post(path).set('Idempotency-Key', requestKey).send(body);
          const shouldBook = op.balanced && !op.foreign;
          expect(response.status).toBe(shouldBook ? 201 : 422);
          if (response.status === 201) {
            apply(postings);
            booked.push({ id: response.body.id, postings, reversed: false });
            sent.push({ key: requestKey, body, path, status: 201, response: response.body });
          }
        } else if (op.type === 'batch') {
          const entries = op.entries.map((entryLegs) => ({ postedOn: '2026-05-02', description: 'batch', postings: toPostings(entryLegs) }));
          if (op.breakOne && entries[0]) entries[0].postings = entries[0].postings.slice(1);
          const response = await ledger.http.post(`/entities/${books.entityId}/entries/batch`).set('Idempotency-Key', key()).send({ entries });
          const valid = !op.breakOne || (entries[0]?.postings.length ?? 0) >= 2 && entries[0]?.postings.reduce((s, p) => s + p.amountCents, 0) === 0;
          expect([201, 400, 422]).toContain(response.status);
          expect(response.status === 201).toBe(Boolean(valid));
          if (response.status === 201) {
            entries.forEach((entry, index) => {
              apply(entry.postings);
              booked.push({ id: response.body.entries[index].id, postings: entry.postings, reversed: false });
            });
          }
        } else if (op.type === 'reverse') {
          if (booked.length === 0) continue;
          const target = booked[op.pick % booked.length] as (typeof booked)[number];
          const response = await ledger.http.post(`/entries/${target.id}/reverse`).set('Idempotency-Key', key()).send({});
          expect(response.status).toBe(target.reversed ? 409 : 201);
          if (response.status === 201) {
            apply(target.postings, -1);
            target.reversed = true;
          }
        } else {
          if (sent.length === 0) continue;
          const earlier = sent[op.pick % sent.length] as (typeof sent)[number];
          const response = await ledger.http.post(earlier.path).set('Idempotency-Key', earlier.key).send(earlier.body as object);
          expect(response.status).toBe(earlier.status);
          expect(response.body).toEqual(earlier.response);
        }
      }

      const balances = await ledger.http.get(`/entities/${books.entityId}/balances`).expect(200);
      for (const account of balances.body.accounts as { id: string; balanceCents: number }[]) {
        expect(account.balanceCents).toBe(expected.get(account.id));
      }
      expect(balances.body.totalCentsByCurrency).toEqual({ USD: 0 });
      const report = await checkInvariants(ledger.deps.db);
      expect(report).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
    }),
    { numRuns: 25 },
  );
});
