import { seededRandom } from '../src/domain/random';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addDays } from '../src/domain/dates';
import { journalAccountNames, type JournalAccount } from '../src/domain/hledger';
import { parseCents } from '../src/domain/money';
import { createBooks, checkInvariants, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// hledger as an independent oracle. A realistic book for two LLCs and their owner is built through the API
// (thousands of entries over 22 months, every crossing classification, reversals across period ends), each
// entity's journal is exported and read by Debian's `hledger`, which re-adds every posting, checks every balance
// assertion, and produces its own balance sheet and income statement. Those must equal Veil's to the cent, per
// account, for every entity and period.

const HLEDGER = 'hledger';

function hledgerVersion(): string {
  try {
    return execFileSync(HLEDGER, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('the oracle test needs the hledger binary: `apt-get install -y hledger` (.ci/run installs it)');
  }
}

let ledger: TestLedger;
let studio: Books;
let shop: Books;
let owner: Books;
let tempDir: string;
const counts = { entries: 0, transfers: {} as Record<string, number>, transferReversals: 0, entryReversals: 0, comparedLines: 0, periods: 0, comparedPostings: 0, comparedCashFlowLines: 0 };

const random = seededRandom(20_261_124);
const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const MONTHS = Array.from({ length: 22 }, (_, index) => {
  const year = 2025 + Math.floor(index / 12);
  return `${year}-${String((index % 12) + 1).padStart(2, '0')}`;
});
const day = (month: string, dayOfMonth: number) => `${month}-${String(dayOfMonth).padStart(2, '0')}`;

type Posting = [account: string, amountCents: number];
type Template = (books: Books) => { description: string; postings: Posting[] };

const STUDIO_TEMPLATES: Template[] = [
  () => { const a = between(50_000, 900_000); return { description: 'Client invoice paid', postings: [['Business Checking', a], ['Sales', -a]] }; },
  () => { const a = between(100_000, 400_000); return { description: 'Retainer', postings: [['Business Checking', a], ['Consulting; retainers', -a]] }; },
  () => { const a = between(500, 60_000); const e = pick(['Advertising', 'Software', 'Meals', 'Travel', 'Office: supplies']); return { description: `${e} on card`, postings: [[e, a], ['Amex  Business', -a]] }; },
  () => { const a = between(10_000, 150_000); return { description: 'Card payment', postings: [['Amex  Business', a], ['Business Checking', -a]] }; },
  () => { const a = between(20_000, 250_000); const e = pick(['Rent', 'Contract labor', 'Insurance (liability)']); return { description: `${e} paid`, postings: [[e, a], ['Business Checking', -a]] }; },
  () => { const a = between(1_000, 200_000); return { description: 'Sweep to reserve', postings: [['Reserve: savings', a], ['Business Checking', -a]] }; },
  () => { const p = between(20_000, 40_000); const i = between(1_000, 9_000); return { description: 'Equipment loan payment', postings: [['Equipment loan', p], ['Interest paid', i], ['Business Checking', -(p + i)]] }; },
  () => { const a = between(1_000, 30_000); const b = between(1_000, 30_000); return { description: 'Split receipt', postings: [['Software', a], ['Advertising', b], ['Business Checking', -(a + b)]] }; },
];
const SHOP_TEMPLATES: Template[] = [
  () => { const a = between(2_000, 120_000); return { description: 'Shop sales', postings: [['Checking', a], ['Sales', -a]] }; },
  () => { const a = between(500, 40_000); return { description: 'Supplies', postings: [['Supplies', a], ['Card', -a]] }; },
  () => { const a = between(500, 50_000); return { description: 'Card payoff', postings: [['Card', a], ['Checking', -a]] }; },
];
const OWNER_TEMPLATES: Template[] = [
  () => { const a = between(300_000, 600_000); return { description: 'Salary from day job', postings: [['Personal Checking', a], ['Wages', -a]] }; },
  () => { const a = between(500, 25_000); const e = pick(['Groceries', 'Utilities', 'Dining']); return { description: e, postings: [[e, a], ['Visa', -a]] }; },
  () => { const a = between(10_000, 120_000); return { description: 'Visa payment', postings: [['Visa', a], ['Personal Checking', -a]] }; },
  () => { const p = between(50_000, 90_000); const i = between(90_000, 130_000); return { description: 'Mortgage payment', postings: [['Mortgage', p], ['Mortgage interest', i], ['Personal Checking', -(p + i)]] }; },
  () => { const a = between(10_000, 300_000); return { description: 'Invest', postings: [['Brokerage', a], ['Personal Checking', -a]] }; },
  () => { const a = between(100, 20_000); return { description: 'Dividends', postings: [['Brokerage', a], ['Dividends', -a]] }; },
];

function post(url: string, body: object) {
  return ledger.http.post(url).set('Idempotency-Key', key('oracle')).send(body);
}

async function book(books: Books, entries: { postedOn: string; description: string; postings: Posting[] }[]): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < entries.length; start += 500) {
    const chunk = entries.slice(start, start + 500).map((entry) => ({
      postedOn: entry.postedOn,
      description: entry.description,
      postings: entry.postings.map(([account, amountCents]) => {
        const accountId = books.accounts[account];
        if (accountId === undefined) throw new Error(`no account ${account}`);
        return { accountId, amountCents };
      }),
    }));
    const response = await post(`/entities/${books.entityId}/entries/batch`, { entries: chunk }).expect(201);
    ids.push(...response.body.entries.map((entry: { id: string }) => entry.id));
  }
  counts.entries += entries.length;
  return ids;
}

async function transfer(classification: string, from: Books, fromAccount: string, to: Books, toAccount: string, amountCents: number, postedOn: string, extra: object = {}) {
  const response = await post('/transfers', {
    classification,
    fromEntityId: from.entityId,
    fromAccountId: from.accounts[fromAccount],
    toEntityId: to.entityId,
    toAccountId: to.accounts[toAccount],
    amountCents,
    postedOn,
    ...extra,
  });
  if (response.status !== 201) throw new Error(`${classification} on ${postedOn}: ${response.status} ${JSON.stringify(response.body)}`);
  counts.transfers[classification] = (counts.transfers[classification] ?? 0) + 1;
  return response.body as { id: string; terms: { schedule?: { paymentCents: number }[] } };
}

beforeAll(async () => {
  // Fail, never skip, when the oracle is missing: without it this file proves nothing.
  hledgerVersion();
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-oracle-'));
  ledger = await startTestLedger({ ownerMfa: true });
  studio = await createBooks(ledger, {
    name: 'Oracle Studio LLC',
    accounts: {
      'Business Checking': 'checking', 'Reserve: savings': 'savings', 'Amex  Business': 'credit_card', 'Equipment loan': 'loan_business',
      'Opening balance': 'opening_balance', Sales: 'income_category', 'Consulting; retainers': 'income_category',
      Advertising: 'expense_category', Software: 'expense_category', Rent: 'expense_category', 'Contract labor': 'expense_category',
      Meals: 'expense_category', Travel: 'expense_category', 'Office: supplies': 'expense_category', 'Insurance (liability)': 'expense_category',
      'Interest paid': 'expense_category',
    },
  });
  shop = await createBooks(ledger, { name: 'Side Shop LLC', accounts: { Checking: 'checking', Card: 'credit_card', Sales: 'income_category', Supplies: 'expense_category' } });
  owner = await createBooks(ledger, {
    kind: 'personal',
    name: 'Dana Oracle',
    accounts: {
      'Personal Checking': 'checking', Brokerage: 'brokerage', Visa: 'credit_card', Mortgage: 'mortgage', 'Opening balance': 'opening_balance',
      Wages: 'income_category', Dividends: 'income_category', Groceries: 'expense_category', Utilities: 'expense_category',
      Dining: 'expense_category', 'Mortgage interest': 'expense_category',
    },
  });

  // Opening balances, then the months' ordinary business in batches.
  await book(studio, [{ postedOn: '2025-01-01', description: 'Opening balances', postings: [['Business Checking', 2_000_000], ['Equipment loan', -1_500_000], ['Opening balance', -500_000]] }]);
  await book(owner, [{ postedOn: '2025-01-01', description: 'Opening balances', postings: [['Personal Checking', 6_000_000], ['Brokerage', 30_000_000], ['Mortgage', -25_000_000], ['Opening balance', -11_000_000]] }]);
  const ordinary = new Map<Books, { postedOn: string; description: string; postings: Posting[] }[]>([[studio, []], [shop, []], [owner, []]]);
  for (const month of MONTHS) {
    for (const [books, templates, perMonth] of [[studio, STUDIO_TEMPLATES, 40], [shop, SHOP_TEMPLATES, 15], [owner, OWNER_TEMPLATES, 30]] as const) {
      for (let index = 0; index < perMonth; index += 1) ordinary.get(books)?.push({ postedOn: day(month, between(1, 28)), ...pick(templates)(books) });
    }
  }
  const booked = new Map<Books, string[]>();
  for (const [books, entries] of ordinary) booked.set(books, await book(books, entries));

  // Corrections: some entries reversed a few weeks later, often in the next period.
  for (const [books, ids] of booked) {
    const entries = ordinary.get(books) ?? [];
    for (let index = 7; index < ids.length; index += 37) {
      const postedOn = addDays((entries[index] as { postedOn: string }).postedOn, 35);
      if (postedOn > '2026-10-31') continue;
      await post(`/entries/${ids[index]}/reverse`, { postedOn }).expect(201);
      counts.entryReversals += 1;
    }
  }

  // The veil: every classification, in both directions where it applies.
  await transfer('capital_contribution', owner, 'Personal Checking', studio, 'Business Checking', 2_500_000, '2025-01-03');
  await transfer('capital_contribution', owner, 'Personal Checking', shop, 'Checking', 500_000, '2025-01-04');
  const loanIn = await transfer('loan', owner, 'Personal Checking', studio, 'Business Checking', 1_200_000, '2025-02-01', {
    loan: { annualRateBasisPoints: 600, termMonths: 12, paymentFrequency: 'monthly' },
  });
  const loanOut = await transfer('loan', shop, 'Checking', owner, 'Personal Checking', 300_000, '2025-03-10', {
    loan: { annualRateBasisPoints: 450, termMonths: 24, paymentFrequency: 'quarterly' },
  });
  const scheduleIn = loanIn.terms.schedule ?? [];
  const scheduleOut = loanOut.terms.schedule ?? [];
  for (const [index, month] of MONTHS.entries()) {
    if (index >= 1 && index <= 10) await transfer('loan_repayment', studio, 'Business Checking', owner, 'Personal Checking', (scheduleIn[index - 1] as { paymentCents: number }).paymentCents, day(month, 28), { relatedTransferId: loanIn.id });
    if (index >= 5 && index % 3 === 2 && index <= 17) {
      const installment = scheduleOut[(index - 5) / 3] as { paymentCents: number };
      await transfer('loan_repayment', owner, 'Personal Checking', shop, 'Checking', installment.paymentCents, day(month, 12), { relatedTransferId: loanOut.id });
    }
    await transfer('owner_draw', studio, 'Business Checking', owner, 'Personal Checking', between(100_000, 300_000), day(month, 25));
    if (index % 3 === 0) await transfer('owner_draw', shop, 'Checking', owner, 'Personal Checking', between(10_000, 50_000), day(month, 26));
    if (index % 2 === 0) {
      const amount = between(2_000, 90_000);
      const reimbursement = await transfer('reimbursement', owner, 'Visa', studio, pick(['Travel', 'Meals', 'Software']), amount, day(month, 10), {
        reimbursement: { businessPurpose: 'Client visit', receiptReference: `receipt-${month}.pdf`, expenseOn: day(month, 6) },
      });
      // Paid in full, or in two parts the second of which lands in the next month.
      const first = index % 4 === 0 ? amount : Math.floor(amount / 2);
      await transfer('reimbursement_payment', studio, 'Business Checking', owner, 'Personal Checking', first, day(month, 20), { relatedTransferId: reimbursement.id });
      if (first < amount && index + 1 < MONTHS.length) {
        await transfer('reimbursement_payment', studio, 'Business Checking', owner, 'Personal Checking', amount - first, day(MONTHS[index + 1] as string, 3), { relatedTransferId: reimbursement.id });
      }
    }
    if (index % 5 === 4) {
      const mistaken = await transfer('capital_contribution', owner, 'Personal Checking', studio, 'Business Checking', between(1_000, 50_000), day(month, 14));
      await post(`/transfers/${mistaken.id}/reverse`, { postedOn: day(month, 16) }).expect(201);
      counts.transferReversals += 1;
    }
  }
  expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
}, 600_000);

afterAll(async () => {
  await ledger?.close();
  if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
});

const PERIODS: [fromOn: string, toOn: string][] = [
  ['2025-01-01', '2025-03-31'],
  ['2025-04-01', '2025-06-15'],
  ['2025-06-16', '2025-09-30'],
  ['2025-10-01', '2025-12-31'],
  ['2025-01-01', '2025-12-31'],
  ['2026-01-01', '2026-03-31'],
  ['2026-04-01', '2026-06-30'],
  ['2026-07-01', '2026-10-31'],
  ['2026-01-01', '2026-10-31'],
  ['2025-01-01', '2026-12-31'],
];

/** hledger's amount, "1234.56 USD" (or "0"), in cents. */
function cents(text: string): number {
  if (text === '0') return 0;
  const match = /^(-?\d+\.\d{2}) USD$/.exec(text);
  if (!match) throw new Error(`unexpected hledger amount: ${text}`);
  return parseCents(match[1] as string);
}

/** hledger's CSV report as { section: { account: cents, total }, net }. */
function parseHledgerReport(csv: string): { sections: Record<string, Record<string, number>>; netCents: number } {
  const rows = csv.trim().split('\n').map((line) => [...line.matchAll(/"((?:[^"]|"")*)"/g)].map((match) => (match[1] as string).replaceAll('""', '"')));
  const sections: Record<string, Record<string, number>> = {};
  let current: Record<string, number> | undefined;
  let netCents: number | undefined;
  for (const [label, amount] of rows.slice(2) as [string, string][]) {
    if (label === 'Net:') netCents = cents(amount);
    else if (amount === '') sections[label] = current = {};
    else if (label === 'total') (current as Record<string, number>).total = cents(amount);
    else (current as Record<string, number>)[label] = cents(amount);
  }
  if (netCents === undefined) throw new Error(`no Net: row in\n${csv}`);
  return { sections, netCents };
}

interface Line { accountId: string; naturalBalanceCents: number }
function veilSection(section: { lines: Line[]; totalCents: number }, names: Map<string, string>): Record<string, number> {
  return { ...Object.fromEntries(section.lines.map((line) => [names.get(line.accountId) as string, line.naturalBalanceCents])), total: section.totalCents };
}

function hledger(journal: string, args: string[]): string {
  return execFileSync(HLEDGER, ['-f', journal, ...args, '-O', 'csv', '--flat'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

describe('hledger oracle', () => {
  it('built a book with every classification, reversals and thousands of entries', () => {
    expect(counts.entries).toBeGreaterThan(1_800);
    expect(Object.keys(counts.transfers).sort()).toEqual(['capital_contribution', 'loan', 'loan_repayment', 'owner_draw', 'reimbursement', 'reimbursement_payment']);
    expect(counts.entryReversals).toBeGreaterThan(40);
    expect(counts.transferReversals).toBeGreaterThanOrEqual(4);
  });

  it.each([
    ['Oracle Studio LLC', () => studio],
    ['Side Shop LLC', () => shop],
    ['Dana Oracle (personal)', () => owner],
  ])('%s: hledger agrees with every balance sheet and income statement to the cent', async (_label, booksOf) => {
    const books = booksOf();
    const journal = path.join(tempDir, `${books.entityId}.journal`);
    const exported = await ledger.http.get(`/entities/${books.entityId}/exports/hledger.journal`).expect(200);
    fs.writeFileSync(journal, exported.text);
    const accounts = await ledger.http.get(`/entities/${books.entityId}/accounts`).expect(200);
    const names = journalAccountNames(accounts.body.items as JournalAccount[]);
    // Every entry of the entity is in the journal, once; hledger checked all of its assertions to get here.
    const entries = await ledger.deps.db.selectFrom('journalEntries').select(({ fn }) => fn.countAll<string>().as('count')).where('entityId', '=', books.entityId).executeTakeFirstOrThrow();
    expect((exported.text.match(/^\d{4}-\d{2}-\d{2} \(/gm) ?? []).length).toBe(Number(entries.count));

    for (const [fromOn, toOn] of PERIODS) {
      const endExclusive = addDays(toOn, 1);
      const bse = parseHledgerReport(hledger(journal, ['balancesheetequity', '-e', endExclusive]));
      const is = parseHledgerReport(hledger(journal, ['incomestatement', '-b', fromOn, '-e', endExclusive]));
      const sheet = (await ledger.http.get(`/entities/${books.entityId}/reports/balance-sheet?from=${fromOn}&to=${toOn}`).expect(200)).body.byCurrency[0];
      const income = (await ledger.http.get(`/entities/${books.entityId}/reports/income-statement?from=${fromOn}&to=${toOn}`).expect(200)).body.byCurrency[0];
      const context = `${books.entityId} ${fromOn}..${toOn}`;
      expect({ context, sections: bse.sections }).toEqual({
        context,
        sections: { Assets: veilSection(sheet.assets, names), Liabilities: veilSection(sheet.liabilities, names), Equity: veilSection(sheet.equity, names) },
      });
      // hledger's "Net" of a balance sheet with equity is what no closing entry has moved into equity yet.
      expect(bse.netCents).toBe(sheet.retainedEarningsCents + sheet.currentEarningsCents);
      expect({ context, sections: is.sections }).toEqual({ context, sections: { Revenues: veilSection(income.income, names), Expenses: veilSection(income.expenses, names) } });
      expect(is.netCents).toBe(income.netIncomeCents);
      counts.comparedLines += Object.values(bse.sections).reduce((sum, section) => sum + Object.keys(section).length, 0);
      counts.comparedLines += Object.values(is.sections).reduce((sum, section) => sum + Object.keys(section).length, 0);
      counts.periods += 1;
    }
  });

  /** hledger's CSV rows (register or balance) as arrays of cells, header dropped. */
  function csvRows(csv: string): string[][] {
    return csv.trim().split('\n').slice(1).map((line) => [...line.matchAll(/"((?:[^"]|"")*)"/g)].map((match) => (match[1] as string).replaceAll('""', '"')));
  }

  const LEDGER_PERIODS: [fromOn: string, toOn: string][] = [['2025-01-01', '2025-03-31'], ['2025-06-16', '2025-09-30'], ['2026-01-01', '2026-10-31']];

  it.each([
    ['Oracle Studio LLC', () => studio],
    ['Dana Oracle (personal)', () => owner],
  ])('%s: every posting and running balance of the general ledger, and every cash flow line, agree with hledger', async (_label, booksOf) => {
    const books = booksOf();
    const journal = path.join(tempDir, `${books.entityId}-ledger.journal`);
    fs.writeFileSync(journal, (await ledger.http.get(`/entities/${books.entityId}/exports/hledger.journal`).expect(200)).text);
    const accounts = await ledger.http.get(`/entities/${books.entityId}/accounts`).expect(200);
    const names = journalAccountNames(accounts.body.items as JournalAccount[]);
    const run = (args: string[]) => execFileSync(HLEDGER, ['-f', journal, ...args, '-O', 'csv'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    for (const [fromOn, toOn] of LEDGER_PERIODS) {
      const endExclusive = addDays(toOn, 1);
      const context = `${books.entityId} ${fromOn}..${toOn}`;
      // General ledger: hledger's balances the day before, then its register of the period, per account.
      const opening = new Map(csvRows(run(['balance', '--flat', '-N', '-e', fromOn])).map(([account, amount]) => [account as string, cents(amount as string)]));
      const theirs = new Map<string, { opening: number; lines: [string, string, number, number][] }>();
      for (const [, date, code, , account, amount] of csvRows(run(['register', '-b', fromOn, '-e', endExclusive])) as string[][]) {
        const name = account as string;
        const own = theirs.get(name) ?? { opening: opening.get(name) ?? 0, lines: [] };
        const balance = (own.lines.at(-1)?.[3] ?? own.opening) + cents(amount as string);
        own.lines.push([date as string, code as string, cents(amount as string), balance]);
        theirs.set(name, own);
      }
      for (const [name, balance] of opening) if (!theirs.has(name) && balance !== 0) theirs.set(name, { opening: balance, lines: [] });
      const gl = (await ledger.http.get(`/entities/${books.entityId}/reports/general-ledger?from=${fromOn}&to=${toOn}`).expect(200)).body;
      const ours = new Map<string, { opening: number; lines: [string, string, number, number][] }>();
      for (const account of gl.accounts as { accountId: string; openingCents: number; closingCents: number; lines: { postedOn: string; seq: string; amountCents: number; balanceCents: number }[] }[]) {
        if (account.lines.length === 0 && account.openingCents === 0) continue;
        ours.set(names.get(account.accountId) as string, { opening: account.openingCents, lines: account.lines.map((line) => [line.postedOn, line.seq, line.amountCents, line.balanceCents]) });
        expect(account.closingCents).toBe(account.lines.at(-1)?.balanceCents ?? account.openingCents);
      }
      expect({ context, ledger: Object.fromEntries(ours) }).toEqual({ context, ledger: Object.fromEntries(theirs) });
      counts.comparedPostings += [...theirs.values()].reduce((sum, account) => sum + account.lines.length, 0);

      // Cash flow: hledger's postings on the other side of every transaction that touched a cash account.
      const sources: Record<string, number> = {};
      for (const [, , , , account, amount] of csvRows(run(['register', '--related', '-b', fromOn, '-e', endExclusive, 'acct:^assets:(checking|savings|money_market|cash):'])) as string[][]) {
        sources[account as string] = (sources[account as string] ?? 0) - cents(amount as string);
      }
      for (const [name, value] of Object.entries(sources)) if (value === 0) delete sources[name];
      const flow = (await ledger.http.get(`/entities/${books.entityId}/reports/cash-flow?from=${fromOn}&to=${toOn}`).expect(200)).body.byCurrency[0];
      const lines = [...flow.operating.lines, ...flow.investing.lines, ...flow.financing.lines] as { accountId: string; cashCents: number }[];
      expect({ context, sources: Object.fromEntries(lines.map((line) => [names.get(line.accountId), line.cashCents])) }).toEqual({ context, sources });
      expect(lines.length).toBeGreaterThan(3);
      counts.comparedCashFlowLines += lines.length;
    }
  });

  it('an export cut at a date asserts the balances of that date', async () => {
    const journal = path.join(tempDir, 'cut.journal');
    fs.writeFileSync(journal, (await ledger.http.get(`/entities/${studio.entityId}/exports/hledger.journal?to=2025-08-31`).expect(200)).text);
    const bse = parseHledgerReport(hledger(journal, ['balancesheetequity']));
    const sheet = (await ledger.http.get(`/entities/${studio.entityId}/reports/balance-sheet?to=2025-08-31`).expect(200)).body.byCurrency[0];
    expect(bse.sections.Assets?.total).toBe(sheet.assets.totalCents);
    expect(bse.netCents).toBe(sheet.retainedEarningsCents + sheet.currentEarningsCents);
  });

  it('the balance assertions are live: hledger refuses a journal whose asserted balance was altered', async () => {
    const text = (await ledger.http.get(`/entities/${shop.entityId}/exports/hledger.journal`).expect(200)).text;
    // One asserted balance off by a cent: every entry still balances, so only the assertion can catch it.
    const tampered = text.replace(/ = (-?\d+)\.(\d{2}) USD/, (_m, whole: string, fraction: string) => ` = ${whole}.${fraction === '99' ? '98' : String(Number(fraction) + 1).padStart(2, '0')} USD`);
    expect(tampered).not.toBe(text);
    const journal = path.join(tempDir, 'tampered.journal');
    fs.writeFileSync(journal, tampered);
    expect(() => execFileSync(HLEDGER, ['-f', journal, 'balance'], { encoding: 'utf8', stdio: 'pipe' })).toThrow(/balance assertion/i);
  });

  afterAll(() => {
    // The figures the report quotes; printed once per run.
    console.log(`hledger oracle (${hledgerVersion()}): ${JSON.stringify(counts)}`);
  });
});
