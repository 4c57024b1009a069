import { form1099Nec, type Payee, type Payment } from '../domain/form-1099';
import { loadForm1099Table } from './form-1099-table';

// The shipped table, so a wrong edit of the data file fails here as well as at start.
const thresholds = loadForm1099Table();

const payees: Payee[] = [
  { id: 'ana', name: 'Ana Designer', isContractor: true, w9Status: 'received' },
  { id: 'ben', name: 'Ben Developer', isContractor: true, w9Status: 'requested' },
  { id: 'cat', name: 'Cat Copywriter', isContractor: true, w9Status: 'received' },
  { id: 'shop', name: 'Office Shop', isContractor: false, w9Status: 'missing' },
];

function paid(payeeId: string, paidOn: string, amountCents: number, method: Payment['method']): Payment {
  return { payeeId, paidOn, amountCents, method };
}

describe('1099-NEC by year', () => {
  // The same payments in 2025 and 2026: the threshold rose from $600 to $2,000 for payments after 2025.
  const payments = (year: number): Payment[] => [
    paid('ana', `${year}-02-01`, 60_000, 'ach'),
    paid('ben', `${year}-03-01`, 150_000, 'check'),
    paid('ben', `${year}-04-01`, 49_999, 'cash'),
    paid('cat', `${year}-05-01`, 59_999, 'ach'),
    paid('cat', `${year}-05-02`, 900_000, 'card'),
    paid('cat', `${year}-05-03`, 300_000, 'third_party_network'),
    paid('shop', `${year}-06-01`, 500_000, 'ach'),
  ];

  it.each([
    [2025, 60_000, ['ben', 'ana'], ['ben']],
    [2026, 200_000, [], []],
  ])('%i: threshold %i cents; forms due %j; W-9 missing %j', (year, thresholdCents, formsDue, w9Missing) => {
    const report = form1099Nec(payees, payments(year), year, thresholds);
    expect(report).toMatchObject({ year, thresholdCents, formsDue, w9Missing });
    // Card and network payments never count, however large: $9,000 + $3,000 leave Cat under $600.
    expect(report.rows.find((row) => row.payeeId === 'cat')).toMatchObject({ reportableCents: 59_999, excludedCents: 1_200_000, needsForm: false });
    // A supplier that is not a contractor is not listed at all.
    expect(report.rows.map((row) => row.payeeId)).not.toContain('shop');
  });

  it('counts "or more": exactly the threshold needs a form, a cent less does not', () => {
    const report = form1099Nec(payees, [paid('ana', '2026-01-01', 200_000, 'ach'), paid('ben', '2026-01-01', 199_999, 'ach')], 2026, thresholds);
    expect(report.formsDue).toEqual(['ana']);
  });

  it('counts only the payments of the year asked for', () => {
    const report = form1099Nec(payees, [paid('ana', '2025-12-31', 150_000, 'ach'), paid('ana', '2026-01-01', 100_000, 'ach')], 2026, thresholds);
    expect(report.rows).toEqual([expect.objectContaining({ payeeId: 'ana', reportableCents: 100_000, needsForm: false })]);
  });

  it('refuses a year the table has no threshold for, rather than guessing the indexed figure', () => {
    expect(() => form1099Nec(payees, [], 2027, thresholds)).toThrow(/no 1099-NEC threshold for 2027/);
  });
});
