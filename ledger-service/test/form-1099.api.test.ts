import { sql } from 'kysely';
import { createBooks, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// 1099-NEC tracking over the API: payees with W-9 status and an encrypted TIN, payments by method, and the list of
// who needs a form under each year's threshold ($600 for 2025 payments, $2,000 from 2026).

let ledger: TestLedger;
let llc: Books;
let other: Books;
const TIN = '123-45-6789';
const TIN_DIGITS = '123456789';

function post(url: string, body: object, idempotencyKey = key()) {
  return ledger.http.post(url).set('Idempotency-Key', idempotencyKey).send(body);
}

async function payee(body: object): Promise<string> {
  return (await post(`/entities/${llc.entityId}/payees`, body).expect(201)).body.id;
}

async function pay(payeeId: string, paidOn: string, amountCents: number, method: string): Promise<string> {
  return (await post(`/payees/${payeeId}/payments`, { paidOn, amountCents, method }).expect(201)).body.id;
}

let designer: string;
let plumber: string;
let landlord: string;
let achPayment: string;

beforeAll(async () => {
  ledger = await startTestLedger();
  llc = await createBooks(ledger, { name: 'Form Studio LLC', accounts: { Checking: 'checking', 'Contract labor': 'expense_category' } });
  other = await createBooks(ledger, { name: 'Other LLC', accounts: { Checking: 'checking', Sales: 'income_category' } });
  designer = await payee({ name: 'Dee Designer', isContractor: true, w9Status: 'received', tin: TIN, tinType: 'ssn' });
  plumber = await payee({ name: 'Pat Plumber', isContractor: true, w9Status: 'requested' });
  landlord = await payee({ name: 'Lee Landlord', isContractor: false });
  // 2025: the designer is paid by check and ACH (counted) and by card (on the processor's 1099-K instead).
  await pay(designer, '2025-03-01', 40_000, 'check');
  achPayment = await pay(designer, '2025-06-01', 25_000, 'ach');
  await pay(designer, '2025-07-01', 100_000, 'card');
  await pay(designer, '2025-08-01', 50_000, 'third_party_network');
  await pay(plumber, '2025-05-01', 59_999, 'cash');
  await pay(landlord, '2025-01-01', 1_000_000, 'ach');
  // 2026: the threshold rises to $2,000.
  await pay(designer, '2026-02-01', 150_000, 'ach');
  await pay(plumber, '2026-02-01', 200_000, 'check');
});
afterAll(() => ledger.close());

describe('payees', () => {
  it('keeps the TIN encrypted and shows only its last four digits, in answers, rows and the audit log', async () => {
    const list = await ledger.http.get(`/entities/${llc.entityId}/payees`).expect(200);
    expect(list.body.items.map((p: { name: string; tinLast4: string | null; tinType: string | null }) => [p.name, p.tinLast4, p.tinType])).toEqual([
      ['Dee Designer', '6789', 'ssn'],
      ['Lee Landlord', null, null],
      ['Pat Plumber', null, null],
    ]);
    expect(list.text).not.toContain(TIN_DIGITS);
    expect(list.body.items[0]).not.toHaveProperty('tin');
    // Nothing stored holds the TIN in the clear: not the payee row, the secret's ciphertext, the audit log or the
    // answers kept for idempotent replays.
    const dump = await sql<{ text: string }>`
      select (select coalesce(string_agg(p::text, ' '), '') from payees p) ||
             (select coalesce(string_agg(s::text, ' '), '') from encrypted_secrets s) ||
             (select coalesce(string_agg(a::text, ' '), '') from audit_log a) ||
             (select coalesce(string_agg(i::text, ' '), '') from idempotency_keys i) as text`.execute(ledger.deps.db);
    const text = dump.rows[0]?.text ?? '';
    expect(text).toContain('Dee Designer');
    expect(text).not.toContain(TIN_DIGITS);
    expect(text).not.toContain(TIN);
    const secrets = await ledger.deps.db.selectFrom('encryptedSecrets').select('purpose').where('entityId', '=', llc.entityId).execute();
    expect(secrets.map((s) => s.purpose)).toEqual(['payee_tin:ssn']);
  });

  it('changes W-9 status and TIN, refusing a malformed or unpaired TIN and a duplicate name without changing anything', async () => {
    const updated = await ledger.http.patch(`/payees/${plumber}`).set('Idempotency-Key', key()).send({ w9Status: 'received', tin: '12-3456780', tinType: 'ein' }).expect(200);
    expect(updated.body).toMatchObject({ w9Status: 'received', tinType: 'ein', tinLast4: '6780' });
    const malformed = await ledger.http.patch(`/payees/${plumber}`).set('Idempotency-Key', key()).send({ tin: '12345', tinType: 'ein' }).expect(400);
    expect(malformed.body.error.code).toBe('invalid_request');
    const unpaired = await post(`/entities/${llc.entityId}/payees`, { name: 'No Type', isContractor: true, tin: TIN }).expect(400);
    expect(unpaired.body.error.code).toBe('invalid_request');
    const duplicate = await post(`/entities/${llc.entityId}/payees`, { name: 'dee designer', isContractor: true }).expect(409);
    expect(duplicate.body.error.code).toBe('duplicate_name');
    const after = (await ledger.http.get(`/entities/${llc.entityId}/payees`).expect(200)).body.items;
    expect(after).toHaveLength(3);
    expect(after.find((p: { id: string }) => p.id === plumber)).toMatchObject({ tinLast4: '6780', tinType: 'ein' });
    // Back to "requested" for the report below; the TIN on file stays.
    await ledger.http.patch(`/payees/${plumber}`).set('Idempotency-Key', key()).send({ w9Status: 'requested' }).expect(200);
  });
});

describe('payments', () => {
  it('refuses bad payments with 4xx and books a retried one once', async () => {
    expect((await post(`/payees/${designer}/payments`, { paidOn: '2025-01-01', amountCents: 0, method: 'ach' }).expect(400)).body.error.code).toBe('invalid_request');
    expect((await post(`/payees/${designer}/payments`, { paidOn: '2025-01-01', amountCents: 100, method: 'paypal' }).expect(400)).body.error.code).toBe('invalid_request');
    expect((await post(`/payees/${designer}/payments`, { paidOn: '2025-13-01', amountCents: 100, method: 'ach' }).expect(400)).body.error.code).toBe('invalid_request');
    const foreignEntry = await post(`/entities/${other.entityId}/entries`, {
      postedOn: '2025-01-02',
      description: 'Other sale',
      postings: [{ accountId: other.accounts.Checking, amountCents: 100 }, { accountId: other.accounts.Sales, amountCents: -100 }],
    }).expect(201);
    expect((await post(`/payees/${designer}/payments`, { paidOn: '2025-01-02', amountCents: 100, method: 'ach', entryId: foreignEntry.body.id }).expect(404)).body.error.code).toBe('not_found');
    const retryKey = key();
    const first = await post(`/payees/${landlord}/payments`, { paidOn: '2024-12-31', amountCents: 777, method: 'check' }, retryKey).expect(201);
    const again = await post(`/payees/${landlord}/payments`, { paidOn: '2024-12-31', amountCents: 777, method: 'check' }, retryKey).expect(201);
    expect(again.body.id).toBe(first.body.id);
    const listed = (await ledger.http.get(`/payees/${landlord}/payments?year=2024`).expect(200)).body.items;
    expect(listed.map((p: { amountCents: number }) => p.amountCents)).toEqual([777]);
    await ledger.http.get(`/payees/00000000-0000-4000-8000-000000000000/payments`).expect(404);
  });
});

describe('1099-NEC list', () => {
  it("2025 ($600): cash, check and ACH count, card and networks don't; non-contractors are not listed", async () => {
    const report = (await ledger.http.get(`/entities/${llc.entityId}/reports/1099-nec?year=2025`).expect(200)).body;
    expect(report.thresholdCents).toBe(60_000);
    expect(report.rows.map((row: { name: string; reportableCents: number; excludedCents: number; needsForm: boolean }) => [row.name, row.reportableCents, row.excludedCents, row.needsForm])).toEqual([
      ['Dee Designer', 65_000, 150_000, true],
      ['Pat Plumber', 59_999, 0, false],
    ]);
    expect(report.rows[0].byMethodCents).toEqual({ cash: 0, check: 40_000, ach: 25_000, card: 100_000, third_party_network: 50_000 });
    expect(report.rows[0].tinLast4).toBe('6789');
    expect(report.formsDue).toEqual([designer]);
    expect(report.w9Missing).toEqual([]);
  });

  it('2026 ($2,000): the same kind of payments cross the threshold differently, and a missing W-9 is flagged', async () => {
    const report = (await ledger.http.get(`/entities/${llc.entityId}/reports/1099-nec?year=2026`).expect(200)).body;
    expect(report.thresholdCents).toBe(200_000);
    expect(report.rows.map((row: { name: string; needsForm: boolean }) => [row.name, row.needsForm])).toEqual([
      ['Pat Plumber', true],
      ['Dee Designer', false],
    ]);
    expect(report.formsDue).toEqual([plumber]);
    expect(report.w9Missing).toEqual([plumber]);
    const csv = await ledger.http.get(`/entities/${llc.entityId}/reports/1099-nec?year=2026&format=csv`).expect(200);
    expect(csv.text.split('\r\n')).toEqual([
      'payee,tin_last4,w9_status,cash,check,ach,card,third_party_network,reportable,excluded,needs_form',
      'Pat Plumber,6780,requested,0.00,2000.00,0.00,0.00,0.00,2000.00,0.00,yes',
      'Dee Designer,6789,received,0.00,0.00,1500.00,0.00,0.00,1500.00,0.00,no',
      '',
    ]);
  });

  it('a voided payment is kept but counts toward no year; a year without a threshold is refused', async () => {
    const voided = await post(`/payee-payments/${achPayment}/void`, { voidedOn: '2025-06-05' }).expect(200);
    expect(voided.body).toMatchObject({ id: achPayment, voidedOn: '2025-06-05', amountCents: 25_000 });
    expect((await post(`/payee-payments/${achPayment}/void`, { voidedOn: '2025-06-06' }).expect(409)).body.error.code).toBe('already_reversed');
    const report = (await ledger.http.get(`/entities/${llc.entityId}/reports/1099-nec?year=2025`).expect(200)).body;
    expect(report.rows.find((row: { payeeId: string }) => row.payeeId === designer)).toMatchObject({ name: 'Dee Designer', reportableCents: 40_000, needsForm: false });
    expect(report.formsDue).toEqual([]);
    const kept = (await ledger.http.get(`/payees/${designer}/payments?year=2025`).expect(200)).body.items;
    expect(kept.find((p: { id: string }) => p.id === achPayment)).toMatchObject({ voidedOn: '2025-06-05' });
    const missingYear = await ledger.http.get(`/entities/${llc.entityId}/reports/1099-nec?year=1990`).expect(422);
    expect(missingYear.body.error.code).toBe('report_not_applicable');
  });
});
