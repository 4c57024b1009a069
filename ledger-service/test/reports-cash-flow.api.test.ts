import { PDFDocument } from 'pdf-lib';
import { summaryOf } from '../src/services/report-pdf';
import { loadScheduleCTable } from '../src/services/schedule-c-table';
import { createBooks, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// Cash flow (direct method) and the general ledger over a small book whose every figure is worked out by hand.

let ledger: TestLedger;
let llc: Books;
let other: Books;

async function entry(postedOn: string, description: string, postings: [string, number][], books = llc) {
  const response = await ledger.http
    .post(`/entities/${books.entityId}/entries`)
    .set('Idempotency-Key', key())
    .send({ postedOn, description, postings: postings.map(([account, amountCents]) => ({ accountId: books.accounts[account], amountCents })) })
    .expect(201);
  return response.body.id as string;
}

beforeAll(async () => {
  ledger = await startTestLedger();
  llc = await createBooks(ledger, {
    name: 'Cash Flow LLC',
    accounts: {
      Checking: 'checking',
      Savings: 'savings',
      Card: 'credit_card',
      Brokerage: 'brokerage',
      'Equipment loan': 'loan_business',
      'Owner capital': 'contributed_capital',
      'Owner draws': 'draws',
      Sales: 'income_category',
      Rent: 'expense_category',
      Software: 'expense_category',
      Interest: 'expense_category',
    },
  });
  other = await createBooks(ledger, { name: 'Other LLC', accounts: { Cash: 'cash', Sales: 'income_category' } });
  await entry('2026-01-02', 'Opening capital', [['Checking', 1_000_000], ['Owner capital', -1_000_000]]);
  await entry('2026-02-03', 'Sale', [['Checking', 250_000], ['Sales', -250_000]]);
  await entry('2026-02-04', 'Sale split across two accounts', [['Checking', 30_000], ['Savings', 20_000], ['Sales', -50_000]]);
  await entry('2026-02-05', 'Rent', [['Rent', 100_000], ['Checking', -100_000]]);
  await entry('2026-02-06', 'Software on card', [['Software', 5_000], ['Card', -5_000]]);
  await entry('2026-02-10', 'Sweep to savings', [['Savings', 50_000], ['Checking', -50_000]]);
  await entry('2026-02-12', 'Equipment loan received', [['Checking', 300_000], ['Equipment loan', -300_000]]);
  await entry('2026-02-15', 'Buy index fund', [['Brokerage', 80_000], ['Checking', -80_000]]);
  await entry('2026-02-20', 'Card payment', [['Card', 5_000], ['Checking', -5_000]]);
  await entry('2026-03-01', 'Loan payment', [['Equipment loan', 20_000], ['Interest', 1_500], ['Checking', -21_500]]);
  await entry('2026-03-05', 'Owner draw', [['Owner draws', 40_000], ['Checking', -40_000]]);
  const mistaken = await entry('2026-03-10', 'Mistaken sale', [['Checking', 7_700], ['Sales', -7_700]]);
  await ledger.http.post(`/entries/${mistaken}/reverse`).set('Idempotency-Key', key()).send({ postedOn: '2026-03-11' }).expect(201);
  await entry('2026-04-02', 'After the period', [['Checking', 9_999], ['Sales', -9_999]]);
  await entry('2026-02-03', 'Other books', [['Cash', 123], ['Sales', -123]], other);
});
afterAll(() => ledger.close());

function byName(part: { lines: { name: string; cashCents: number }[]; totalCents: number }) {
  return { lines: Object.fromEntries(part.lines.map((line) => [line.name, line.cashCents])), total: part.totalCents };
}

describe('cash flow statement', () => {
  it('attributes every cash movement to the account on the other side, by section, bridging opening to closing cash', async () => {
    const response = await ledger.http.get(`/entities/${llc.entityId}/reports/cash-flow?from=2026-02-01&to=2026-03-31`).expect(200);
    expect(response.body).toMatchObject({ entityId: llc.entityId, fromOn: '2026-02-01', toOn: '2026-03-31' });
    const [usd] = response.body.byCurrency;
    expect(usd.currency).toBe('USD');
    expect(usd.openingCashCents).toBe(1_000_000);
    // The sale split across checking and savings counts once, in full; the sweep between them not at all;
    // the card purchase moved no cash, its payment did; the reversed sale nets to nothing and is left out.
    expect(byName(usd.operating)).toEqual({ lines: { Card: -5_000, Interest: -1_500, Rent: -100_000, Sales: 300_000 }, total: 193_500 });
    expect(byName(usd.investing)).toEqual({ lines: { Brokerage: -80_000 }, total: -80_000 });
    // Loan principal and the owner's draw are financing; the interest was operating above.
    expect(byName(usd.financing)).toEqual({ lines: { 'Equipment loan': 280_000, 'Owner draws': -40_000 }, total: 240_000 });
    expect(usd.netChangeCents).toBe(353_500);
    expect(usd.closingCashCents).toBe(1_353_500);
    // The closing cash is what the balance sheet shows in the cash accounts that day.
    const sheet = (await ledger.http.get(`/entities/${llc.entityId}/reports/balance-sheet?to=2026-03-31`).expect(200)).body.byCurrency[0];
    const cash = sheet.assets.lines.filter((line: { kind: string }) => ['checking', 'savings'].includes(line.kind));
    expect(cash.reduce((sum: number, line: { balanceCents: number }) => sum + line.balanceCents, 0)).toBe(1_353_500);
  });

  it("counts the owner's contribution as financing, and starts from zero cash before the first entry", async () => {
    const response = await ledger.http.get(`/entities/${llc.entityId}/reports/cash-flow?from=2026-01-01&to=2026-01-31`).expect(200);
    const [usd] = response.body.byCurrency;
    expect(usd).toMatchObject({ openingCashCents: 0, netChangeCents: 1_000_000, closingCashCents: 1_000_000 });
    expect(byName(usd.financing)).toEqual({ lines: { 'Owner capital': 1_000_000 }, total: 1_000_000 });
    expect(usd.operating).toEqual({ lines: [], totalCents: 0 });
  });

  it('answers CSV with a row per line, section totals and the bridge', async () => {
    const response = await ledger.http.get(`/entities/${llc.entityId}/reports/cash-flow?from=2026-02-01&to=2026-03-31&format=csv`).expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    expect(response.headers['content-disposition']).toContain('cash-flow-2026-02-01-2026-03-31.csv');
    expect(response.text.split('\r\n')).toEqual([
      'section,account,code,kind,currency,amount',
      'Opening cash,Opening cash,,,USD,10000.00',
      'Operating,Card,,credit_card,USD,-50.00',
      'Operating,Interest,,expense_category,USD,-15.00',
      'Operating,Rent,,expense_category,USD,-1000.00',
      'Operating,Sales,,income_category,USD,3000.00',
      'Operating,Net cash from operating activities,,,USD,1935.00',
      'Investing,Brokerage,,brokerage,USD,-800.00',
      'Investing,Net cash from investing activities,,,USD,-800.00',
      'Financing,Equipment loan,,loan_business,USD,2800.00',
      'Financing,Owner draws,,draws,USD,-400.00',
      'Financing,Net cash from financing activities,,,USD,2400.00',
      'Net change in cash,Net change in cash,,,USD,3535.00',
      'Closing cash,Closing cash,,,USD,13535.00',
      '',
    ]);
  });
});

describe('general ledger', () => {
  it('lists every posting per account in booking order with running balances between opening and closing', async () => {
    const response = await ledger.http.get(`/entities/${llc.entityId}/reports/general-ledger?from=2026-02-01&to=2026-03-31`).expect(200);
    const accounts = response.body.accounts as { name: string; openingCents: number; closingCents: number; debitCents: number; creditCents: number; lines: { postedOn: string; description: string; amountCents: number; balanceCents: number }[] }[];
    expect(accounts.map((account) => account.name)).toEqual(['Brokerage', 'Checking', 'Savings', 'Card', 'Equipment loan', 'Owner capital', 'Owner draws', 'Sales', 'Interest', 'Rent', 'Software']);
    const checking = accounts.find((account) => account.name === 'Checking');
    expect(checking).toMatchObject({ openingCents: 1_000_000, closingCents: 1_283_500, debitCents: 30_000 + 250_000 + 300_000 + 7_700, creditCents: 100_000 + 50_000 + 80_000 + 5_000 + 21_500 + 40_000 + 7_700 });
    expect(checking?.lines.map((line) => [line.postedOn, line.amountCents, line.balanceCents])).toEqual([
      ['2026-02-03', 250_000, 1_250_000],
      ['2026-02-04', 30_000, 1_280_000],
      ['2026-02-05', -100_000, 1_180_000],
      ['2026-02-10', -50_000, 1_130_000],
      ['2026-02-12', 300_000, 1_430_000],
      ['2026-02-15', -80_000, 1_350_000],
      ['2026-02-20', -5_000, 1_345_000],
      ['2026-03-01', -21_500, 1_323_500],
      ['2026-03-05', -40_000, 1_283_500],
      ['2026-03-10', 7_700, 1_291_200],
      ['2026-03-11', -7_700, 1_283_500],
    ]);
    // An account with a balance but no posting in the period still shows its opening and closing.
    expect(accounts.find((account) => account.name === 'Owner capital')).toMatchObject({ openingCents: -1_000_000, closingCents: -1_000_000, lines: [] });
    // Nothing of the other books, nothing after the period.
    expect(response.text).not.toContain('Other books');
    expect(response.text).not.toContain('After the period');
  });

  it('narrows to one account, and answers 404 for an account of other books', async () => {
    const response = await ledger.http.get(`/entities/${llc.entityId}/reports/general-ledger?from=2026-03-01&to=2026-03-31&accountId=${llc.accounts['Owner draws']}`).expect(200);
    expect(response.body.accounts).toEqual([
      expect.objectContaining({ name: 'Owner draws', openingCents: 0, closingCents: 40_000, lines: [expect.objectContaining({ description: 'Owner draw', amountCents: 40_000, balanceCents: 40_000 })] }),
    ]);
    const foreign = await ledger.http.get(`/entities/${llc.entityId}/reports/general-ledger?accountId=${other.accounts.Cash}`).expect(404);
    expect(foreign.body.error.code).toBe('not_found');
    const malformed = await ledger.http.get(`/entities/${llc.entityId}/reports/general-ledger?accountId=nope`).expect(400);
    expect(malformed.body.error).toMatchObject({ code: 'invalid_request', details: { issues: [{ field: 'query.accountId' }] } });
  });

  it('answers CSV with opening, one row per posting and closing per account', async () => {
    const response = await ledger.http.get(`/entities/${llc.entityId}/reports/general-ledger?from=2026-03-01&to=2026-03-31&accountId=${llc.accounts['Equipment loan']}&format=csv`).expect(200);
    const rows = response.text.split('\r\n');
    expect(rows[0]).toBe('account,code,currency,date,entry,description,memo,debit,credit,balance');
    expect(rows[1]).toBe('Equipment loan,,USD,,,Opening balance,,,,-3000.00');
    expect(rows[2]).toMatch(/^Equipment loan,,USD,2026-03-01,[0-9a-f-]{36},Loan payment,,200\.00,,-2800\.00$/);
    expect(rows[3]).toBe('Equipment loan,,USD,,,Closing balance,,200.00,0.00,-2800.00');
    expect(rows[4]).toBe('');
  });
});

describe('printable summary', () => {
  const binary = (response: { body: Buffer }) => response.body;
  const get = (url: string) =>
    ledger.http.get(url).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });

  it('is a PDF of the year, the same bytes for the same books', async () => {
    const first = await get(`/entities/${llc.entityId}/reports/summary.pdf?year=2026`).expect(200);
    expect(first.headers['content-type']).toBe('application/pdf');
    expect(binary(first).subarray(0, 5).toString()).toBe('%PDF-');
    const second = await get(`/entities/${llc.entityId}/reports/summary.pdf?year=2026`).expect(200);
    expect(Buffer.compare(binary(first), binary(second))).toBe(0);
    const pdf = await PDFDocument.load(binary(first));
    expect(pdf.getPageCount()).toBeGreaterThanOrEqual(1);
    expect(pdf.getTitle()).toBe('Cash Flow LLC: summary for 2026');
  });

  it('draws the P&L, the balance sheet and Schedule C from the same figures as the reports', async () => {
    const lines = await summaryOf(ledger.deps.db, llc.entityId, 2026, { fromOn: '2026-01-01', toOn: '2026-12-31' }, loadScheduleCTable());
    const amount = (label: string) => lines.find((line) => line.label === label)?.amount;
    const income = (await ledger.http.get(`/entities/${llc.entityId}/reports/income-statement?from=2026-01-01&to=2026-12-31`).expect(200)).body.byCurrency[0];
    // Sales 300,000 + 9,999 in April (the reversed sale nets out); rent, software, interest.
    expect(income.netIncomeCents).toBe(309_999 - 100_000 - 5_000 - 1_500);
    expect(amount('Net income')).toBe('2034.99');
    expect(amount('Line 31: Net profit or (loss)')).toBe('2034.99');
    // Cash 1,353,500 + 9,999 and the brokerage's 80,000.
    expect(amount('Total assets')).toBe('14434.99');
    expect(amount('Total liabilities and equity')).toBe('14434.99');
    expect(lines.map((line) => line.style === 'heading' && line.label)).toEqual(expect.arrayContaining(['Profit and loss (USD)', 'Balance sheet at 2026-12-31 (USD)', 'Schedule C (USD)']));
  });

  it('says Schedule C does not apply to a person, and refuses a malformed year', async () => {
    const person = await createBooks(ledger, { kind: 'personal', name: 'A Person', accounts: { Cash: 'cash', Wages: 'income_category' } });
    const lines = await summaryOf(ledger.deps.db, person.entityId, 2026, { fromOn: '2026-01-01', toOn: '2026-12-31' }, loadScheduleCTable());
    expect(lines.at(-1)).toMatchObject({ style: 'note', label: expect.stringMatching(/^Not applicable: Schedule C applies to a disregarded single-member LLC only/) });
    await get(`/entities/${person.entityId}/reports/summary.pdf?year=2026`).expect(200);
    const malformed = await ledger.http.get(`/entities/${llc.entityId}/reports/summary.pdf?year=20266`).expect(400);
    expect(malformed.body.error).toMatchObject({ code: 'invalid_request', details: { issues: [{ field: 'query.year' }] } });
  });
});
