import fc from 'fast-check';
import { sql } from 'kysely';
import { addDays } from '../src/domain/dates';
import { accountTotalsOver, windowSums } from '../src/services/reports';
import { checkInvariants, createBooks, type Books } from './support/books';
import { BACKEND, key, startTestLedger, type TestLedger } from './support/harness';

// Reports on large books read the month and day totals the postings trigger keeps (0014_period_totals), never the
// postings. Checked here against plain sums over the postings, for random windows over a book with
// entries in every month of two years, back-dated ones and reversals; and the totals refuse direct writes.

jest.setTimeout(180_000);

let ledger: TestLedger;
let books: Books;
const ACCOUNTS = ['Checking', 'Savings', 'Sales', 'Rent', 'Card'] as const;

beforeAll(async () => {
  ledger = await startTestLedger();
  books = await createBooks(ledger, {
    name: 'Period Totals LLC',
    accounts: { Checking: 'checking', Savings: 'savings', Sales: 'income_category', Rent: 'expense_category', Card: 'credit_card' },
  });
  // Entries on days spread over 2025-01-01 … 2026-12-31, booked out of date order; every fifth one reversed later.
  const booked: string[] = [];
  for (let index = 0; index < 120; index += 1) {
    const postedOn = addDays('2025-01-01', (index * 277) % 730);
    const from = books.accounts[ACCOUNTS[index % ACCOUNTS.length] as string] as string;
    const to = books.accounts[ACCOUNTS[(index * 3 + 1) % ACCOUNTS.length] as string] as string;
    if (from === to) continue;
    const amountCents = ((index * 7919) % 100_000) + 1;
    const response = await ledger.http
      .post(`/entities/${books.entityId}/entries`)
      .set('Idempotency-Key', key('period'))
      .send({ postedOn, description: `entry ${index}`, postings: [{ accountId: to, amountCents }, { accountId: from, amountCents: -amountCents }] })
      .expect(201);
    booked.push(response.body.id);
  }
  for (const [index, entryId] of booked.entries()) {
    if (index % 5 !== 0) continue;
    await ledger.http.post(`/entries/${entryId}/reverse`).set('Idempotency-Key', key('reverse')).send({ postedOn: '2026-06-15' }).expect(201);
  }
});
afterAll(() => ledger.close());

async function plainSums(fromOn: string | undefined, toOn: string | undefined): Promise<Record<string, number>> {
  const { rows } = await sql<{ accountId: string; total: string }>`
    select p.account_id as "accountId", sum(p.amount_cents) as total
    from postings p join journal_entries e on e.id = p.entry_id
    where p.entity_id = ${books.entityId}
      and (${fromOn ?? null}::date is null or e.posted_on >= ${fromOn ?? null}::date)
      and (${toOn ?? null}::date is null or e.posted_on <= ${toOn ?? null}::date)
    group by p.account_id`.execute(ledger.deps.db);
  return Object.fromEntries(rows.map((row) => [row.accountId, Number(row.total)]).filter(([, total]) => total !== 0));
}

const nonZero = (sums: Map<string, number>) => Object.fromEntries([...sums].filter(([, cents]) => cents !== 0));

it(`month and day totals equal the postings' sums per account, and the invariant check agrees (${BACKEND})`, async () => {
  const months = await sql<{ count: string }>`select count(*) as count from account_month_totals where entity_id = ${books.entityId}`.execute(ledger.deps.db);
  expect(Number(months.rows[0]?.count)).toBeGreaterThan(24);
  const days = await sql<{ count: string }>`select count(*) as count from account_day_totals where entity_id = ${books.entityId}`.execute(ledger.deps.db);
  expect(Number(days.rows[0]?.count)).toBeGreaterThan(100);
  expect(await checkInvariants(ledger.deps.db)).toMatchObject({ periodTotalMismatches: 0, balanceMismatches: 0 });
});

it(`window sums over whole and partial months equal plain sums over the postings (${BACKEND})`, async () => {
  // Days that stress the month edges as well as random ones.
  const day = fc.oneof(
    fc.integer({ min: 0, max: 800 }).map((offset) => addDays('2024-12-15', offset)),
    fc.constantFrom('2025-01-01', '2025-01-31', '2025-02-28', '2025-03-01', '2025-12-31', '2026-01-01', '2026-06-15', '2026-06-30'),
  );
  await fc.assert(
    fc.asyncProperty(fc.option(day, { nil: undefined }), fc.option(day, { nil: undefined }), async (a, b) => {
      const [fromOn, toOn] = a !== undefined && b !== undefined && a > b ? [b, a] : [a, b];
      const fast = await windowSums(ledger.deps.db, books.entityId, { fromOn, toOn });
      expect(nonZero(fast)).toEqual(await plainSums(fromOn, toOn));
    }),
    { numRuns: 60 },
  );
});

it(`several windows in one statement each equal the plain sums: periods, and balances as of a date (${BACKEND})`, async () => {
  const day = fc.integer({ min: 0, max: 800 }).map((offset) => addDays('2024-12-15', offset));
  const window = fc.oneof(
    fc.tuple(day, day).map(([a, b]) => (a <= b ? { fromOn: a, toOn: b } : { fromOn: b, toOn: a })),
    day.map((toOn) => ({ toOn })),
    fc.constant({}),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(window, { minLength: 1, maxLength: 4 }), async (windows) => {
      const totals = await accountTotalsOver(ledger.deps.db, books.entityId, windows);
      expect(totals).toHaveLength(windows.length);
      for (const [index, w] of windows.entries()) {
        const expected = await plainSums('fromOn' in w ? w.fromOn : undefined, 'toOn' in w ? w.toOn : undefined);
        const got = Object.fromEntries((totals[index] ?? []).filter((t) => t.balanceCents !== 0).map((t) => [t.accountId, t.balanceCents]));
        expect(got).toEqual(expected);
      }
    }),
    { numRuns: 25 },
  );
});

it(`reports as of a date and for a period agree with the plain sums (${BACKEND})`, async () => {
  const balances = await ledger.http.get(`/entities/${books.entityId}/balances?asOf=2025-08-17`).expect(200);
  const expected = await plainSums(undefined, '2025-08-17');
  for (const account of balances.body.accounts as { id: string; balanceCents: number }[]) {
    expect(account.balanceCents).toBe(expected[account.id] ?? 0);
  }
  const pnl = await ledger.http.get(`/entities/${books.entityId}/reports/income-statement?from=2025-02-10&to=2026-05-20`).expect(200);
  const period = await plainSums('2025-02-10', '2026-05-20');
  const [usd] = pnl.body.byCurrency;
  // Income is credit-normal: the report's net income is minus the sum of income and expense postings.
  expect(usd.netIncomeCents).toBe(-((period[books.accounts.Sales as string] ?? 0) + (period[books.accounts.Rent as string] ?? 0)));
});

it(`period totals refuse direct writes; only postings change them (${BACKEND})`, async () => {
  const accountId = books.accounts.Checking as string;
  const attempts = [
    sql`update account_month_totals set total_cents = total_cents + 1 where account_id = ${accountId}`,
    sql`delete from account_month_totals where account_id = ${accountId}`,
    sql`insert into account_month_totals (account_id, entity_id, month, total_cents, posting_count) values (${accountId}, ${books.entityId}, '2030-01-01', 5, 1)`,
    sql`truncate account_month_totals`,
    sql`update account_day_totals set total_cents = 0 where account_id = ${accountId}`,
    sql`delete from account_day_totals where account_id = ${accountId}`,
    sql`insert into account_day_totals (account_id, entity_id, day, total_cents, posting_count) values (${accountId}, ${books.entityId}, '2030-01-01', 5, 1)`,
    sql`truncate account_day_totals`,
  ];
  for (const attempt of attempts) {
    await expect(attempt.execute(ledger.deps.db)).rejects.toThrow(/account_(month|day)_totals change only through postings|journal_immutable/);
  }
  expect(await checkInvariants(ledger.deps.db)).toMatchObject({ periodTotalMismatches: 0 });
});
