import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { parseAmount } from '../src/import/amount';
import { parseDate, parseOfxDate } from '../src/import/dates';
import { detectFormat, parseStatement, rowIdentity, StatementError, type ParsedStatement } from '../src/import/index';

const FIXTURES = path.join(__dirname, 'fixtures', 'import');
const read = (name: string) => fs.readFileSync(path.join(FIXTURES, name));
const summary = (statement: ParsedStatement) =>
  statement.accounts.map((account) => ({
    id: account.statementAccountId,
    lines: account.lines.map((line) => [line.postedOn, line.amountCents, line.payee, line.memo]),
  }));

describe('amounts and dates', () => {
  it('turns statement amounts into integer cents by string arithmetic', () => {
    expect(parseAmount('-1,234.56')?.cents).toBe(-123_456);
    expect(parseAmount('1.234,56', { decimalSeparator: ',' })?.cents).toBe(123_456);
    expect(parseAmount('(12.00)')?.cents).toBe(-1_200);
    expect(parseAmount('12.00-')?.cents).toBe(-1_200);
    expect(parseAmount('+00000000000115.8331')).toEqual({ cents: 11_583, rounded: true });
    expect(parseAmount('-30.000')).toEqual({ cents: -3_000, rounded: false });
    // Half to even on the digits: 0.125 -> 0.12, 0.135 -> 0.14, 0.1251 -> 0.13.
    expect(parseAmount('0.125')?.cents).toBe(12);
    expect(parseAmount('0.135')?.cents).toBe(14);
    expect(parseAmount('0.1251')?.cents).toBe(13);
    expect(parseAmount('0.1')?.cents).toBe(10);
    expect(parseAmount('$120')).toBeNull();
    expect(parseAmount('12,34')).toBeNull();
    expect(parseAmount('')).toBeNull();
    expect(parseAmount('99999999999999.00')).toBeNull();
  });

  it('agrees with exact decimal arithmetic on every two-decimal amount', () => {
    fc.assert(
      fc.property(fc.integer({ min: -999_999_999_99, max: 999_999_999_99 }), (cents) => {
        const text = `${cents < 0 ? '-' : ''}${Math.trunc(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;
        expect(parseAmount(text)?.cents).toBe(cents);
        const european = text.replace('.', ',');
        expect(parseAmount(european, { decimalSeparator: ',' })?.cents).toBe(cents);
      }),
    );
  });

  it('reads dates in the orders banks write them and refuses days that do not exist', () => {
    expect(parseOfxDate('20230509120000.000[-5:EST]')).toBe('2023-05-09');
    expect(parseOfxDate('20120231')).toBeNull();
    expect(parseOfxDate('201120000000')).toBeNull();
    expect(parseDate("1/23'19", 'mdy')).toBe('2019-01-23');
    expect(parseDate('03.11.2026', 'dmy')).toBe('2026-11-03');
    expect(parseDate('2026-02-29', 'ymd')).toBeNull();
    expect(parseDate('2024-02-29', 'mdy')).toBe('2024-02-29');
  });
});

describe('row identities (the external ids of lines without a bank id)', () => {
  // What every stored CSV line's id was made from since the importer began: an identity that changed would import a
  // file again as new lines.
  const reference = (line: { postedOn: string; amountCents: number; payee: string | null; memo: string | null }) => {
    const normalise = (value: string | null) => (value ?? '').normalize('NFKC').replace(/\s+/g, ' ').trim().toLowerCase();
    return [line.postedOn, String(line.amountCents), normalise(line.payee), normalise(line.memo)].join('\u001f');
  };
  const text = fc.option(
    fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme' }),
      fc.constantFrom('  Café\tdu  Coin ', 'ＡＢＣ １２３', 'ﬁle', 'Ⅻ', '\u00a0x\u2003y', 'e\u0301', 'ß', 'İstanbul'),
    ),
  );
  it('is the same text as ever, ASCII or not', () => {
    fc.assert(
      fc.property(fc.constantFrom('2026-01-02', '1999-12-31'), fc.integer(), text, text, (postedOn, amountCents, payee, memo) => {
        const line = { postedOn, amountCents, payee, memo };
        expect(rowIdentity(line)).toBe(reference(line));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('statement parsers on the project fixtures', () => {
  it('reads a Chase checking CSV (UTF-8 with BOM) through its preset', async () => {
    const statement = await parseStatement(read('chase-checking.csv'), { file: 'chase-checking.csv' });
    expect(statement.format).toBe('csv');
    expect(statement.csv?.preset).toBe('chase-checking');
    expect(summary(statement)[0]?.lines).toEqual([
      ['2026-11-03', -1_500, 'FIGMA, INC.', 'ACH_DEBIT'],
      ['2026-11-02', 500_000, 'CLIENT ACME PAYMENT', 'ACH_CREDIT'],
      ['2026-11-04', -450, 'STARBUCKS #123', 'DEBIT_CARD'],
      ['2026-11-04', -450, 'STARBUCKS #123', 'DEBIT_CARD'],
    ]);
  });

  it('finds the header row of a Bank of America export below its summary block and skips the balance row, saying so', async () => {
    const statement = await parseStatement(read('bank-of-america.csv'), { file: 'bank-of-america.csv' });
    expect(statement.csv?.preset).toBe('bank-of-america');
    expect(statement.accounts[0]?.lines.map((line) => [line.line, line.amountCents])).toEqual([
      [9, 250_000],
      [10, -5_499],
      [11, -117_957],
    ]);
    expect(statement.warnings).toEqual([expect.objectContaining({ line: 8 })]);
  });

  it('reads Windows-1252 with semicolons, decimal commas and day-first dates', async () => {
    const statement = await parseStatement(read('german-1252.csv'), { file: 'german-1252.csv' });
    expect(statement.encoding).toBe('windows1252');
    expect(summary(statement)[0]?.lines).toEqual([
      ['2026-11-03', -123_456, 'Müller GmbH', 'Rechnung 4711'],
      ['2026-11-04', -380, 'Café Crème', 'Kaffee'],
      ['2026-11-05', 200_000, 'Kunde AG', 'Zahlung'],
    ]);
  });

  it('reads a UTF-16 tab-separated file with debit and credit columns', async () => {
    const statement = await parseStatement(read('tsv-utf16.tsv'), { file: 'tsv-utf16.tsv' });
    expect(statement.encoding).toBe('utf16le');
    expect(summary(statement)[0]?.lines).toEqual([
      ['2026-11-01', -1_234, 'École Café', null],
      ['2026-11-02', 700, 'Refund Ltd', null],
    ]);
  });

  it('reads UTF-16 BE and ISO-8859-1 the same way', async () => {
    const text = 'Date,Description,Amount\n2026-11-01,Señor Pollo,-9.99\n';
    for (const encoding of ['utf16-be', 'latin1']) {
      const bytes = encoding === 'utf16-be' ? Buffer.concat([Buffer.from([0xfe, 0xff]), iconv.encode(text, 'utf16-be')]) : iconv.encode(text, 'latin1');
      const statement = await parseStatement(bytes, { file: `x.${encoding}` });
      expect(summary(statement)[0]?.lines).toEqual([['2026-11-01', -999, 'Señor Pollo', null]]);
    }
  });

  it('takes a given column mapping over any guess, and refuses a mapping naming a missing column', async () => {
    const bytes = Buffer.from('when,who,out,in\n01/02/2026,A,5.00,\n01/03/2026,B,,7.50\n');
    await expect(parseStatement(bytes, { file: 'x.csv' })).rejects.toThrow(/x\.csv:1: no header row names a date and an amount/);
    const statement = await parseStatement(bytes, { file: 'x.csv', csvMapping: { headerLine: 1, date: 'when', payee: 'who', debit: 'out', credit: 'in', dateOrder: 'dmy' } });
    expect(summary(statement)[0]?.lines).toEqual([
      ['2026-02-01', -500, 'A', null],
      ['2026-03-01', 750, 'B', null],
    ]);
    await expect(parseStatement(bytes, { file: 'x.csv', csvMapping: { headerLine: 1, date: 'day', amount: 'out' } })).rejects.toThrow(/x\.csv:1: the mapping names a column "day"/);
  });

  it('names the file and line of a bad CSV row', async () => {
    const bytes = Buffer.from('Date,Description,Amount\n2026-11-01,A,1.00\n2026-11-02,B,12..0\n');
    await expect(parseStatement(bytes, { file: 'bad.csv' })).rejects.toThrow('bad.csv:3: "12..0" is not an amount');
  });

  it('numbers a CSV row by the line it ends on, across quoted line breaks and blank lines', async () => {
    const text = 'Date,Description,Amount,Memo\n2026-01-02,"Two\nline payee",1.00,a\n\n2026-01-03,Plain,2.00,"memo\nwith\nbreaks"\n2026-01-04,Next,3.00,b\n';
    const statement = await parseStatement(Buffer.from(`${text}2026-01-05,Last,4.00,c\n`), { file: 'm.csv' });
    expect(statement.accounts[0]?.lines.map((line) => [line.line, line.payee, line.amountCents])).toEqual([
      [3, 'Two\nline payee', 100],
      [7, 'Plain', 200],
      [8, 'Next', 300],
      [9, 'Last', 400],
    ]);
    await expect(parseStatement(Buffer.from(`${text}2026-01-05,Bad,x.0,c\n`), { file: 'm.csv' })).rejects.toThrow('m.csv:9: "x.0" is not an amount');
    await expect(parseStatement(Buffer.from('Date,Description,Amount\n2026-01-02,"unterminated,1.00\n2026-01-03,x,2.00\n'), { file: 'q.csv' })).rejects.toThrow(
      /^q\.csv:3: not a readable CSV file: Quote Not Closed/,
    );
  });

  it('reads an OFX 2 XML file with two accounts and both balances', async () => {
    const statement = await parseStatement(read('xml-v2.ofx'), { file: 'xml-v2.ofx' });
    expect(statement.accounts.map((account) => [account.statementAccountId, account.lines.length, account.balances])).toEqual([
      ['5550001', 3, [{ kind: 'ledger', amountCents: 320_790, asOn: '2026-11-05' }, { kind: 'available', amountCents: 310_000, asOn: '2026-11-05' }]],
      ['5550002', 1, [{ kind: 'ledger', amountCents: 1_025_000, asOn: '2026-11-05' }]],
    ]);
    expect(statement.accounts[0]?.lines[0]).toMatchObject({ externalId: 'F-1', payee: 'Office Depot & Co', memo: 'Paper', line: 14 });
  });

  it('reads a QIF card file', async () => {
    const statement = await parseStatement(read('card.qif'), { file: 'card.qif' });
    expect(statement.accounts[0]?.kind).toBe('card');
    expect(summary(statement)[0]?.lines).toEqual([
      ['2026-11-01', -18_999, 'AMAZON MKTPLACE', 'Office chair'],
      ['2026-11-03', 50_000, 'PAYMENT THANK YOU', null],
    ]);
    expect(statement.accounts[0]?.lines[0]?.raw.category).toBe('Office:Furniture');
  });

  it('refuses a statement whose lines do not bridge its opening and closing balances, with the difference', async () => {
    await expect(parseStatement(read('camt-unbalanced.xml'), { file: 'camt-unbalanced.xml' })).rejects.toThrow(
      'camt-unbalanced.xml:10: opening 100.00 + lines -25.00 = 75.00, but the statement closes at 80.00 (difference 5.00, account DE02120300000000202051)',
    );
  });

  it('detects the format from the content, not the name', () => {
    expect(detectFormat(read('xml-v2.ofx').toString('utf8'), 'statement.csv')).toBe('ofx');
    expect(detectFormat('!Type:Bank\n', 'a.txt')).toBe('qif');
    expect(detectFormat('{1:F01X}\n:20:X\n', 'a.txt')).toBe('mt940');
    expect(detectFormat('%PDF-1.7', 'a.pdf')).toBe('pdf');
  });
});

describe('fuzzing the parsers', () => {
  const seeds = fs.readdirSync(FIXTURES).map((name) => read(name));

  /** The only acceptable outcomes: a statement, or a StatementError naming the file and a line inside it. */
  async function outcome(bytes: Uint8Array): Promise<void> {
    try {
      const statement = await parseStatement(bytes, { file: 'fuzz.bin' });
      for (const account of statement.accounts) {
        for (const line of account.lines) {
          expect(Number.isSafeInteger(line.amountCents)).toBe(true);
          expect(line.postedOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        }
      }
    } catch (error) {
      expect(error).toBeInstanceOf(StatementError);
      const statementError = error as StatementError;
      expect(statementError.message.startsWith('fuzz.bin:')).toBe(true);
      expect(statementError.line).toBeGreaterThanOrEqual(1);
    }
  }

  it('never crashes on arbitrary bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), (bytes) => outcome(bytes)), { numRuns: 300 });
  });

  it('never crashes on mutated real statements (bytes flipped, cut short, lines dropped)', async () => {
    const mutation = fc.record({
      seed: fc.integer({ min: 0, max: seeds.length - 1 }),
      cut: fc.double({ min: 0, max: 1, noNaN: true }),
      flips: fc.array(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
      dropLine: fc.nat(40),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ seed, cut, flips, dropLine }) => {
        const original = seeds[seed] as Buffer;
        const lines = original.toString('latin1').split('\n');
        lines.splice(dropLine, 1);
        const bytes = Buffer.from(lines.join('\n'), 'latin1').subarray(0, Math.max(1, Math.floor(original.length * (0.3 + cut * 0.7))));
        for (const flip of flips) bytes[Math.floor(flip.at * (bytes.length - 1))] = flip.byte;
        await outcome(bytes);
      }),
      { numRuns: 400 },
    );
  });

  it('reads back exactly what a generated CSV says', async () => {
    const row = fc.record({
      day: fc.integer({ min: 1, max: 28 }),
      cents: fc.integer({ min: -99_999_999, max: 99_999_999 }),
      payee: fc.string({ minLength: 1, maxLength: 20 }).filter((text) => text.trim().length > 0 && !/[\r\n"]/.test(text) && text.trim() === text),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 30 }), async (rows) => {
        const body = rows
          .map((item) => {
            const amount = `${item.cents < 0 ? '-' : ''}${Math.trunc(Math.abs(item.cents) / 100)}.${String(Math.abs(item.cents) % 100).padStart(2, '0')}`;
            return `2026-03-${String(item.day).padStart(2, '0')},"${item.payee}",${amount}`;
          })
          .join('\n');
        const statement = await parseStatement(Buffer.from(`Date,Description,Amount\n${body}\n`), { file: 'gen.csv' });
        expect(statement.accounts[0]?.lines.map((line) => [line.amountCents, line.payee])).toEqual(rows.map((item) => [item.cents, item.payee]));
      }),
      { numRuns: 100 },
    );
  });
});
