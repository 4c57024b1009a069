import { checkInvariants, createBooks, entryCount, type Books } from './support/books';
import { BACKEND, key, startTestLedger, type TestLedger } from './support/harness';

// A bank line that pays a bill settles its occurrence: booked to the bill's category when the occurrence was open,
// matched to the payment already booked when it was paid in Veil (never booked twice), left alone otherwise.

let ledger: TestLedger;
let books: Books;
let rentId: string;
let powerId: string;

async function createBill(body: object): Promise<string> {
  const response = await ledger.http.post(`/entities/${books.entityId}/bills`).set('Idempotency-Key', key()).send(body).expect(201);
  return response.body.id;
}

async function bankLine(accountId: string, postedOn: string, amountCents: number, payee: string) {
  const response = await ledger.http.post(`/accounts/${accountId}/bank-lines`).set('Idempotency-Key', key()).send({ postedOn, amountCents, payee }).expect(201);
  return response.body as { id: string; status: string; entryId: string | null };
}

async function occurrence(billId: string, dueOn: string) {
  const response = await ledger.http.get(`/entities/${books.entityId}/bill-occurrences?from=${dueOn}&to=${dueOn}&today=2026-06-30`).expect(200);
  return (response.body.occurrences as { billId: string; status: string; entryId: string | null; amountCents: number; paidOn: string | null }[]).find(
    (item) => item.billId === billId,
  );
}

beforeAll(async () => {
  ledger = await startTestLedger();
  ledger.clock.set(Date.UTC(2026, 5, 30, 12));
  books = await createBooks(ledger, {
    name: 'Matching LLC',
    accounts: { Checking: 'checking', Savings: 'savings', Rent: 'expense_category', Utilities: 'expense_category' },
  });
  rentId = await createBill({
    name: 'Office rent',
    payee: 'Harbor Properties',
    rrule: 'FREQ=MONTHLY;BYMONTHDAY=1',
    startsOn: '2026-01-01',
    amountCents: 180_000,
    estimated: false,
    categoryAccountId: books.accounts.Rent,
    payFromAccountId: books.accounts.Checking,
    autopay: false,
  });
  powerId = await createBill({
    name: 'Electricity',
    payee: 'City Power & Light',
    rrule: 'FREQ=MONTHLY;BYMONTHDAY=20',
    startsOn: '2026-01-20',
    amountCents: 10_000,
    estimated: true,
    categoryAccountId: books.accounts.Utilities,
    payFromAccountId: books.accounts.Checking,
    autopay: true,
  });
});
afterAll(() => ledger.close());

describe(`bank lines that pay bills (${BACKEND})`, () => {
  it('an open occurrence is paid by the line, booked to the bill category, with no rule', async () => {
    const line = await bankLine(books.accounts.Checking as string, '2026-03-03', -180_000, 'HARBOR PROPERTIES ACH');
    expect(line.status).toBe('booked');
    const paid = await occurrence(rentId, '2026-03-01');
    expect(paid).toMatchObject({ status: 'paid', entryId: line.entryId, amountCents: 180_000, paidOn: '2026-03-03' });
    const rent = await ledger.http.get(`/accounts/${books.accounts.Rent}`).expect(200);
    expect(rent.body.balanceCents).toBe(180_000);
    // The same occurrence takes no second line: a second debit is left for the owner.
    const again = await bankLine(books.accounts.Checking as string, '2026-03-04', -180_000, 'Harbor Properties');
    expect(again).toMatchObject({ status: 'unmatched', entryId: null });
  });

  it('an occurrence already paid in Veil is matched to its payment, and nothing is booked again', async () => {
    const payment = await ledger.http.post(`/bills/${rentId}/occurrences/2026-04-01/pay`).set('Idempotency-Key', key()).send({ paidOn: '2026-03-30' }).expect(201);
    const before = await entryCount(ledger.deps.db, books.entityId);
    const line = await bankLine(books.accounts.Checking as string, '2026-04-01', -180_000, 'Harbor Properties LLC');
    expect(line).toMatchObject({ status: 'matched', entryId: payment.body.entry.id });
    expect(await entryCount(ledger.deps.db, books.entityId)).toBe(before);
    expect(await occurrence(rentId, '2026-04-01')).toMatchObject({ status: 'paid', entryId: payment.body.entry.id });
  });

  it('an estimated bill matches within its tolerance and books the real amount; far off, it is left alone', async () => {
    const line = await bankLine(books.accounts.Checking as string, '2026-05-22', -11_734, 'CITY POWER AND LIGHT');
    expect(line.status).toBe('booked');
    expect(await occurrence(powerId, '2026-05-20')).toMatchObject({ status: 'paid', amountCents: 11_734, entryId: line.entryId });
    const tooMuch = await bankLine(books.accounts.Checking as string, '2026-06-20', -19_000, 'City Power & Light');
    expect(tooMuch.status).toBe('unmatched');
    expect((await occurrence(powerId, '2026-06-20'))?.status).not.toBe('paid');
  });

  it('another account, a date too far from the due date, money coming in, or another payee pays nothing', async () => {
    const before = await entryCount(ledger.deps.db, books.entityId);
    const cases = [
      await bankLine(books.accounts.Savings as string, '2026-05-01', -180_000, 'Harbor Properties'),
      await bankLine(books.accounts.Checking as string, '2026-05-20', -180_000, 'Harbor Properties'),
      await bankLine(books.accounts.Checking as string, '2026-05-01', 180_000, 'Harbor Properties'),
      await bankLine(books.accounts.Checking as string, '2026-05-02', -180_000, 'Grocery Outlet'),
    ];
    for (const line of cases) expect(line).toMatchObject({ status: 'unmatched', entryId: null });
    expect(await entryCount(ledger.deps.db, books.entityId)).toBe(before);
    expect((await occurrence(rentId, '2026-05-01'))?.status).not.toBe('paid');
    expect(await checkInvariants(ledger.deps.db)).toMatchObject({ balanceMismatches: 0 });
  });
});
