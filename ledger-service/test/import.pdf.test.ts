import { PDFDocument, StandardFonts } from 'pdf-lib';
import { parseStatement, StatementError } from '../src/import/index';
import { createBooks, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// PDF statements generated here with pdf-lib (text placed at page positions, as a bank's generator does), read
// back through the importer: the text is all the parser sees, so these are real PDFs, not mocks.

/** A printed row: [x, text] cells on one baseline. */
type Cells = [number, string][];

async function statementPdf(pages: Cells[][]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const rows of pages) {
    const page = doc.addPage([612, 792]);
    rows.forEach((cells, index) => {
      for (const [x, text] of cells) page.drawText(text, { x, y: 740 - index * 16, size: 9, font });
    });
  }
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

const txn = (date: string, description: string, amount: string, balance?: string): Cells => [
  [40, date],
  [100, description],
  [400, amount],
  ...(balance !== undefined ? ([[500, balance]] as Cells) : []),
];

async function parse(bytes: Buffer, file = 'statement.pdf') {
  return parseStatement(new Uint8Array(bytes), { file });
}

async function refusal(bytes: Buffer, file = 'statement.pdf'): Promise<StatementError> {
  const error = await parse(bytes, file).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StatementError);
  return error as StatementError;
}

const generic = () =>
  statementPdf([
    [
      [[40, 'Example Community Bank']],
      [[40, 'Statement period 12/01/2025 - 01/31/2026']],
      [
        [40, 'Beginning balance'],
        [500, '1,000.00'],
      ],
      [
        [40, 'Date'],
        [100, 'Description'],
        [400, 'Amount'],
        [500, 'Balance'],
      ],
      txn('12/30', 'COFFEE ROASTERS #12', '-4.50', '995.50'),
      txn('01/02', 'ACME PAYROLL', '2,500.00', '3,495.50'),
      [[100, 'PPD ID 99887766']],
      [[40, 'Page 1 of 2']],
    ],
    [
      txn('01/15', 'RENT JANUARY', '(1,200.00)', '2,295.50'),
      txn('01/31', 'MONTHLY FEE', '12.00-', '2,283.50'),
      [
        [40, 'Ending balance'],
        [500, '2,283.50'],
      ],
    ],
  ]);

describe('PDF statements', () => {
  it('reads dates, payees, continued descriptions, signed amounts and both balances across pages', async () => {
    const statement = await parse(await generic());
    expect(statement.format).toBe('pdf');
    expect(statement.encoding).toBeNull();
    expect(statement.pdfLayout).toBe('generic');
    const [account] = statement.accounts;
    // A date printed without its year takes it from the statement period, across the turn of the year.
    expect(account?.lines.map((line) => [line.postedOn, line.amountCents, line.payee, line.memo])).toEqual([
      ['2025-12-30', -450, 'COFFEE ROASTERS #12', null],
      ['2026-01-02', 250_000, 'ACME PAYROLL', 'PPD ID 99887766'],
      ['2026-01-15', -120_000, 'RENT JANUARY', null],
      ['2026-01-31', -1_200, 'MONTHLY FEE', null],
    ]);
    expect(account?.balances).toEqual([
      { kind: 'opening', amountCents: 100_000, asOn: '2025-12-01' },
      { kind: 'closing', amountCents: 228_350, asOn: '2026-01-31' },
    ]);
    expect(account?.lines[2]?.raw).toMatchObject({ page: '2', row: '1' });
  });

  it('signs unsigned amounts by their debit or credit column, and by the running balance', async () => {
    const columns = await statementPdf([
      [
        [[40, 'Statement period 03/01/2026 to 03/31/2026']],
        [
          [40, 'Date'],
          [100, 'Description'],
          [330, 'Withdrawals'],
          [420, 'Deposits'],
        ],
        [
          [40, '03/02'],
          [100, 'HARDWARE STORE'],
          [330, '45.10'],
        ],
        [
          [40, '03/05'],
          [100, 'CLIENT PAYMENT'],
          [420, '900.00'],
        ],
      ],
    ]);
    expect((await parse(columns)).accounts[0]?.lines.map((line) => line.amountCents)).toEqual([-4_510, 90_000]);
    const balances = await statementPdf([
      [
        [[40, 'Statement period 03/01/2026 to 03/31/2026']],
        [
          [40, 'Opening balance'],
          [500, '100.00'],
        ],
        txn('03/02', 'HARDWARE STORE', '45.10', '54.90'),
        txn('03/05', 'CLIENT PAYMENT', '900.00', '954.90'),
      ],
    ]);
    expect((await parse(balances)).accounts[0]?.lines.map((line) => line.amountCents)).toEqual([-4_510, 90_000]);
  });

  it('reads a European layout from its own words: day first, decimal comma', async () => {
    const pdf = await statementPdf([
      [
        [[40, 'Kontoauszug 11/2026, Zeitraum 01.11.2026 - 30.11.2026']],
        [
          [40, 'Alter Kontostand'],
          [500, '1.500,00'],
        ],
        txn('03.11.2026', 'Miete November', '-850,00', '650,00'),
        txn('15.11.2026', 'Gehalt', '2.100,25', '2.750,25'),
        [
          [40, 'Neuer Kontostand'],
          [500, '2.750,25'],
        ],
      ],
    ]);
    const statement = await parse(pdf);
    expect(statement.pdfLayout).toBe('european');
    expect(statement.accounts[0]?.lines.map((line) => [line.postedOn, line.amountCents])).toEqual([
      ['2026-11-03', -85_000],
      ['2026-11-15', 210_025],
    ]);
  });

  it('refuses a statement whose lines do not bridge its opening and closing balances, with the difference', async () => {
    const pdf = await statementPdf([
      [
        [[40, 'Statement period 03/01/2026 - 03/31/2026']],
        [
          [40, 'Beginning balance'],
          [500, '100.00'],
        ],
        txn('03/02', 'HARDWARE STORE', '-45.10'),
        txn('03/05', 'CLIENT PAYMENT', '900.00'),
        [
          [40, 'Ending balance'],
          [500, '964.90'],
        ],
      ],
    ]);
    const error = await refusal(pdf, 'march.pdf');
    expect(error.message).toBe('march.pdf:3: opening 100.00 + lines 854.90 = 954.90, but the statement closes at 964.90 (difference 10.00)');
  });

  it('refuses a running balance that does not follow from the amounts, naming the page and line', async () => {
    const pdf = await statementPdf([
      [[[40, 'Statement period 03/01/2026 - 03/31/2026']], txn('03/02', 'A', '-10.00', '90.00')],
      [txn('03/03', 'B', '-10.00', '70.00')],
    ]);
    const error = await refusal(pdf, 'run.pdf');
    expect(error.line).toBe(3);
    expect(error.reason).toBe('page 2, line 1: the balance 90.00 + -10.00 = 80.00, but the statement prints 70.00 (difference -10.00)');
  });

  it('refuses what it cannot read: no text, a broken file, a date without a year, no transactions', async () => {
    const blank = await PDFDocument.create();
    blank.addPage().drawRectangle({ x: 10, y: 10, width: 100, height: 100 });
    expect((await refusal(Buffer.from(await blank.save()), 'scan.pdf')).reason).toMatch(/^the PDF has no text \(a scanned image\?\)/);
    const whole = await generic();
    expect((await refusal(whole.subarray(0, 400), 'cut.pdf')).message).toMatch(/^cut\.pdf:1: not a readable PDF/);
    const noYear = await statementPdf([[txn('03/02', 'HARDWARE STORE', '-45.10')]]);
    expect((await refusal(noYear, 'noyear.pdf')).message).toBe('noyear.pdf:1: page 1, line 1: "03/02" is not a date (and the statement states no period to give it a year)');
    const prose = await statementPdf([[[[40, 'Thank you for banking with us.']]]]);
    expect((await refusal(prose, 'letter.pdf')).reason).toBe('no transaction lines found in 1 printed lines (layout generic): each needs a date first and an amount last');
  });
});

describe('PDF statements through the imports API', () => {
  let ledger: TestLedger;
  let books: Books;
  beforeAll(async () => {
    ledger = await startTestLedger();
    books = await createBooks(ledger, { name: 'PDF LLC', accounts: { checking: 'checking' } });
  });
  afterAll(() => ledger.close());

  const upload = (name: string, bytes: Buffer) =>
    ledger.http.post(`/accounts/${books.accounts.checking}/imports`).set('Idempotency-Key', key('import')).attach('file', bytes, name);
  const stored = async () => Number((await ledger.deps.db.selectFrom('bankLines').select((eb) => eb.fn.countAll<string>().as('c')).where('accountId', '=', books.accounts.checking as string).executeTakeFirstOrThrow()).c);

  it('imports a PDF found by its content, and the same PDF again imports nothing', async () => {
    const pdf = await generic();
    const first = await upload('statement.bin', pdf).expect(201);
    expect(first.body).toMatchObject({ format: 'pdf', encoding: null, new: 4, skippedExact: 0 });
    expect(first.body.accounts[0]).toMatchObject({ lines: 4, totalCents: 128_350, balances: [{ kind: 'opening', amountCents: 100_000 }, { kind: 'closing', amountCents: 228_350 }] });
    const again = await upload('statement.pdf', pdf).expect(201);
    expect(again.body).toMatchObject({ new: 0, skippedExact: 4 });
    expect(await stored()).toBe(4);
  });

  it('refuses an unbalanced PDF with a 422 naming the file, and stores nothing', async () => {
    const before = await stored();
    const pdf = await statementPdf([
      [
        [[40, 'Statement period 04/01/2026 - 04/30/2026']],
        [
          [40, 'Beginning balance'],
          [500, '0.00'],
        ],
        txn('04/02', 'SOMETHING', '-1.00'),
        [
          [40, 'Ending balance'],
          [500, '-2.00'],
        ],
      ],
    ]);
    const refused = await upload('april.pdf', pdf).expect(422);
    expect(refused.body.error.code).toBe('import_invalid');
    expect(refused.body.error.details.errors).toEqual([{ file: 'april.pdf', line: 3, message: 'opening 0.00 + lines -1.00 = -1.00, but the statement closes at -2.00 (difference -1.00)' }]);
    expect(await stored()).toBe(before);
  });
});
