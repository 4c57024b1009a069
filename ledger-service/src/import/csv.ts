import { Readable } from 'node:stream';
import { Parser } from 'csv-parse';
import { parseAmount } from './amount';
import { parseDate, type DateOrder } from './dates';
import { StatementError, type ParsedLine, type ParsedStatement } from './types';

// CSV/TSV exports: no standard, so a mapping says which column is what. A mapping is given, saved per account,
// taken from a preset (the header row names the bank), or guessed from the header names; a guess that cannot
// find a date and an amount refuses the file and says which columns it saw.

/** A column by its header name (case-insensitive) or its 0-based index. */
export type ColumnRef = string | number;

export interface CsvMapping {
  delimiter?: ',' | ';' | '\t' | '|' | undefined;
  /** 1-based line of the header row; 0 when the file has none. Guessed when absent. */
  headerLine?: number | undefined;
  date: ColumnRef;
  dateOrder?: DateOrder | undefined;
  payee?: ColumnRef | undefined;
  memo?: ColumnRef | undefined;
  /** One signed amount column… */
  amount?: ColumnRef | undefined;
  /** …or money out and money in, each written positive. */
  debit?: ColumnRef | undefined;
  credit?: ColumnRef | undefined;
  balance?: ColumnRef | undefined;
  externalId?: ColumnRef | undefined;
  decimalSeparator?: ',' | '.' | undefined;
  /** Card exports that write a purchase as a positive amount: flip every sign. */
  negate?: boolean | undefined;
}

export interface CsvPreset {
  name: string;
  /** The header cells, lower-cased, that identify the export. */
  header: string[];
  mapping: Omit<CsvMapping, 'delimiter' | 'headerLine'>;
}

/** Exports of common US banks and card issuers, identified by their header rows. Data, not code: add more here. */
export const CSV_PRESETS: readonly CsvPreset[] = [
  {
    name: 'chase-checking',
    header: ['details', 'posting date', 'description', 'amount', 'type', 'balance', 'check or slip #'],
    mapping: { date: 'posting date', payee: 'description', amount: 'amount', balance: 'balance', memo: 'type', dateOrder: 'mdy' },
  },
  {
    name: 'chase-card',
    header: ['transaction date', 'post date', 'description', 'category', 'type', 'amount', 'memo'],
    mapping: { date: 'post date', payee: 'description', amount: 'amount', memo: 'memo', dateOrder: 'mdy' },
  },
  {
    name: 'bank-of-america',
    header: ['date', 'description', 'amount', 'running bal.'],
    mapping: { date: 'date', payee: 'description', amount: 'amount', balance: 'running bal.', dateOrder: 'mdy' },
  },
  {
    name: 'capital-one-card',
    header: ['transaction date', 'posted date', 'card no.', 'description', 'category', 'debit', 'credit'],
    mapping: { date: 'posted date', payee: 'description', debit: 'debit', credit: 'credit', memo: 'category', dateOrder: 'ymd' },
  },
  {
    name: 'american-express',
    // Amex writes a charge as a positive amount; its export names the card member, which a generic file does not.
    header: ['date', 'description', 'card member', 'account #', 'amount'],
    mapping: { date: 'date', payee: 'description', amount: 'amount', memo: 'card member', negate: true, dateOrder: 'mdy' },
  },
  {
    name: 'discover-card',
    header: ['trans. date', 'post date', 'description', 'amount', 'category'],
    mapping: { date: 'post date', payee: 'description', amount: 'amount', memo: 'category', negate: true, dateOrder: 'mdy' },
  },
];

const HEADER_WORDS: Record<'date' | 'payee' | 'memo' | 'amount' | 'debit' | 'credit' | 'balance' | 'externalId', RegExp> = {
  date: /^(posting date|posted date|post date|booking date|date|transaction date|trans\.? date|value date|buchungstag|buchungsdatum|datum|date d'opération|date opération)$/,
  payee: /^(description|payee|name|merchant|counterparty|details|beneficiary|empfänger|auftraggeber|beguenstigter\/zahlungspflichtiger|libellé)$/,
  memo: /^(memo|notes?|reference|remarks?|narrative|category|verwendungszweck)$/,
  amount: /^(amount|amount \(usd\)|transaction amount|value|sum|betrag|montant)$/,
  debit: /^(debit|debits|withdrawal|withdrawals|money out|paid out|outflow)$/,
  credit: /^(credit|credits|deposit|deposits|money in|paid in|inflow)$/,
  balance: /^(balance|running bal\.?|running balance)$/,
  externalId: /^(id|transaction id|reference number|fitid)$/,
};

/** The first `count` lines of the text, without splitting the rest (a whole-file split made a string per row). */
function firstLines(text: string, count: number): string[] {
  const lines: string[] = [];
  let start = 0;
  while (lines.length < count && start < text.length) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    lines.push(text.slice(start, end).replace(/\r$/, ''));
    start = end + 1;
  }
  return lines;
}

function sniffDelimiter(text: string): NonNullable<CsvMapping['delimiter']> {
  const sample = firstLines(text, 20);
  let best: NonNullable<CsvMapping['delimiter']> = ',';
  let bestScore = -1;
  for (const candidate of [',', ';', '\t', '|'] as const) {
    const counts = sample.map((line) => line.split(candidate).length - 1).filter((count) => count > 0);
    // A delimiter that splits most lines the same way wins.
    const modal = counts.length === 0 ? 0 : Math.max(...counts.map((count) => counts.filter((other) => other === count).length));
    const score = modal * 10 + (counts[0] ?? 0);
    if (score > bestScore) {
      bestScore = score;
      best = candidate;
    }
  }
  return best;
}

interface Resolved {
  mapping: CsvMapping;
  preset: string | null;
  headerLine: number;
  header: string[];
}

function findHeader(rows: { cells: string[]; line: number }[]): { cells: string[]; line: number } | undefined {
  return rows.find((row) => {
    const cells = row.cells.map((cell) => cell.trim().toLowerCase());
    return cells.some((cell) => HEADER_WORDS.date.test(cell)) && cells.some((cell) => HEADER_WORDS.amount.test(cell) || HEADER_WORDS.debit.test(cell) || HEADER_WORDS.credit.test(cell));
  });
}

function resolveMapping(rows: { cells: string[]; line: number }[], given: Partial<CsvMapping> | undefined, file: string): Resolved {
  const headerRow = given?.headerLine === 0 ? undefined : given?.headerLine !== undefined ? rows.find((row) => row.line === given.headerLine) : findHeader(rows);
  const header = headerRow ? headerRow.cells.map((cell) => cell.trim().toLowerCase()) : [];
  if (given?.date !== undefined) return { mapping: given as CsvMapping, preset: null, headerLine: headerRow?.line ?? 0, header };
  if (!headerRow) {
    throw new StatementError(file, rows[0]?.line ?? 1, 'no header row names a date and an amount column: give a column mapping for this account');
  }
  const preset = CSV_PRESETS.find((candidate) => candidate.header.length === header.filter((cell) => cell.length > 0).length && candidate.header.every((cell, index) => header[index] === cell));
  if (preset) return { mapping: { ...preset.mapping, ...given } as CsvMapping, preset: preset.name, headerLine: headerRow.line, header };
  const pick = (words: RegExp) => header.find((cell) => words.test(cell));
  const mapping: Partial<CsvMapping> = { ...given };
  for (const key of Object.keys(HEADER_WORDS) as (keyof typeof HEADER_WORDS)[]) {
    const found = pick(HEADER_WORDS[key]);
    if (found !== undefined && mapping[key] === undefined) mapping[key] = found;
  }
  if (mapping.payee === undefined && mapping.memo !== undefined) mapping.payee = mapping.memo;
  if (mapping.amount === undefined && mapping.debit === undefined && mapping.credit === undefined) {
    throw new StatementError(file, headerRow.line, `no amount column among: ${header.join(', ')}`);
  }
  return { mapping: mapping as CsvMapping, preset: null, headerLine: headerRow.line, header };
}

function columnIndex(header: string[], ref: ColumnRef | undefined, file: string, line: number): number | undefined {
  if (ref === undefined) return undefined;
  if (typeof ref === 'number') return ref;
  const index = header.indexOf(ref.trim().toLowerCase());
  if (index === -1) throw new StatementError(file, line, `the mapping names a column "${ref}" the header does not have (${header.join(', ')})`);
  return index;
}

/** Guesses the day order from the dates themselves: a first part above 12 is a day, a second above 12 too. */
function guessDateOrder(values: string[]): DateOrder {
  for (const value of values) {
    const parts = /^\s*(\d{1,4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{2,4})/.exec(value);
    if (!parts) continue;
    if ((parts[1] as string).length === 4) return 'ymd';
    // 03.11.2026 is written in Europe, where the day comes first.
    if (/^\s*\d{1,2}\.\d{1,2}\./.test(value)) return 'dmy';
    if (Number(parts[1]) > 12) return 'dmy';
    if (Number(parts[2]) > 12) return 'mdy';
  }
  return 'mdy';
}

/** "1.234,56" and "-3,80" are decimal commas; "1,234.56" and "-3.80" are decimal points. */
function guessDecimalSeparator(values: string[]): ',' | '.' {
  for (const value of values) {
    if (/,\d{1,2}\s*-?\)?$/.test(value.trim())) return ',';
    if (/\.\d{1,2}\s*-?\)?$/.test(value.trim())) return '.';
  }
  return '.';
}

const SNIFF_ROWS = 30;
/** Text handed to csv-parse at a time: given the whole file as one chunk, it parses every record before the first is read. */
const CHUNK_CHARS = 64 * 1024;

/** The text in chunks that end at a line break (never inside a character), for csv-parse to parse as it is read. */
function* textChunks(text: string): Generator<string> {
  let start = 0;
  while (start < text.length) {
    const newline = text.indexOf('\n', start + CHUNK_CHARS);
    const end = newline === -1 ? text.length : newline + 1;
    yield text.slice(start, end);
    start = end;
  }
}

export interface CsvResult extends ParsedStatement {
  mapping: CsvMapping;
  preset: string | null;
}

/** A row's cell, trimmed ('' past the row's end), or undefined for a column the mapping does not name. */
function cellAt(cells: readonly string[], index: number | undefined): string | undefined {
  return index === undefined ? undefined : (cells[index] ?? '').trim();
}

/**
 * Streams the records through csv-parse; calls `onLine` per transaction when given (the importer's streaming
 * path), otherwise collects them. A bad row refuses the file with its line: an import is all or nothing.
 */
export async function parseCsv(
  text: string,
  file: string,
  given?: Partial<CsvMapping>,
  onLine?: (line: ParsedLine) => void | Promise<void>,
): Promise<CsvResult> {
  const delimiter = given?.delimiter ?? sniffDelimiter(text);
  const parser = new Parser({ delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, bom: true });
  // Each record with the line it ends on, read from the parser's counters as it hands the record over. csv-parse's
  // own `info: true` snapshots its whole state into two new objects per record: that was 60% of the parse (300,000
  // rows, 2026-11-25: 1,379 ms with it, 558 ms without).
  const emit = parser.push.bind(parser);
  parser.push = (record: unknown) => emit(record === null ? null : { cells: record, line: parser.info.lines });
  Readable.from(textChunks(text)).pipe(parser);
  const head: { cells: string[]; line: number }[] = [];
  const lines: ParsedLine[] = [];
  const warnings: ParsedStatement['warnings'] = [];
  let resolved: Resolved | undefined;
  let columns: Record<'date' | 'payee' | 'memo' | 'amount' | 'debit' | 'credit' | 'balance' | 'externalId', number | undefined> | undefined;
  let order: DateOrder = 'mdy';
  let decimalSeparator: ',' | '.' = '.';
  const handle = async (cells: string[], line: number) => {
    if (!resolved || !columns) return;
    if (line <= resolved.headerLine) return;
    const dateText = cellAt(cells, columns.date) ?? '';
    const postedOn = parseDate(dateText, order);
    if (postedOn === null) throw new StatementError(file, line, `"${dateText}" is not a date (${order.toUpperCase()} expected)`);
    const style = { decimalSeparator };
    let cents: number;
    let amountText: string;
    if (!cellAt(cells, columns.amount) && !cellAt(cells, columns.debit) && !cellAt(cells, columns.credit)) {
      // A balance line ("Beginning balance as of…") or a heading inside the data: not a transaction, and said so.
      warnings.push({ line, message: `no amount on this row ("${cells.join(',').slice(0, 60)}"): not a transaction, not imported` });
      return;
    }
    if (columns.amount !== undefined) {
      amountText = cellAt(cells, columns.amount) ?? '';
      const amount = parseAmount(amountText.replace(/[$€£]/g, ''), style);
      if (amount === null) throw new StatementError(file, line, `"${amountText}" is not an amount`);
      cents = amount.cents;
    } else {
      const debitText = cellAt(cells, columns.debit) ?? '';
      const creditText = cellAt(cells, columns.credit) ?? '';
      const debit = debitText === '' ? { cents: 0 } : parseAmount(debitText.replace(/[$€£]/g, ''), style);
      const credit = creditText === '' ? { cents: 0 } : parseAmount(creditText.replace(/[$€£]/g, ''), style);
      if (debit === null) throw new StatementError(file, line, `"${debitText}" is not an amount`);
      if (credit === null) throw new StatementError(file, line, `"${creditText}" is not an amount`);
      cents = Math.abs(credit.cents) - Math.abs(debit.cents);
      amountText = `${debitText}|${creditText}`;
    }
    if (resolved.mapping.negate) cents = cents === 0 ? 0 : -cents;
    const raw: Record<string, string> = { amount: amountText, date: dateText };
    const balanceText = cellAt(cells, columns.balance);
    if (balanceText) raw.balance = balanceText;
    const parsed: ParsedLine = {
      externalId: cellAt(cells, columns.externalId) || null,
      postedOn,
      amountCents: cents,
      payee: cellAt(cells, columns.payee) || null,
      memo: columns.memo !== columns.payee ? cellAt(cells, columns.memo) || null : null,
      line,
      raw,
    };
    if (onLine) await onLine(parsed);
    else lines.push(parsed);
  };
  const start = () => {
    resolved = resolveMapping(head, given, file);
    const at = resolved.headerLine || 1;
    const header = resolved.header;
    const m = resolved.mapping;
    columns = {
      date: columnIndex(header, m.date, file, at),
      payee: columnIndex(header, m.payee, file, at),
      memo: columnIndex(header, m.memo, file, at),
      amount: columnIndex(header, m.amount, file, at),
      debit: columnIndex(header, m.debit, file, at),
      credit: columnIndex(header, m.credit, file, at),
      balance: columnIndex(header, m.balance, file, at),
      externalId: columnIndex(header, m.externalId, file, at),
    };
    if (columns.date === undefined) throw new StatementError(file, at, 'the mapping names no date column');
    const sample = head.filter((row) => row.line > (resolved as Resolved).headerLine);
    decimalSeparator =
      m.decimalSeparator ??
      guessDecimalSeparator(sample.flatMap((row) => [columns?.amount, columns?.debit, columns?.credit].map((index) => (index === undefined ? '' : (row.cells[index] ?? '')))));
    order = m.dateOrder ?? guessDateOrder(head.filter((row) => row.line > (resolved as Resolved).headerLine).map((row) => row.cells[columns?.date ?? 0] ?? ''));
  };
  try {
    for await (const row of parser as AsyncIterable<{ cells: string[]; line: number }>) {
      if (!resolved) {
        head.push(row);
        if (head.length < SNIFF_ROWS) continue;
        start();
        for (const buffered of head) await handle(buffered.cells, buffered.line);
        continue;
      }
      await handle(row.cells, row.line);
    }
  } catch (error) {
    if (error instanceof StatementError) throw error;
    const csvError = error as { message: string; lines?: number };
    throw new StatementError(file, csvError.lines ?? 1, `not a readable CSV file: ${csvError.message}`);
  }
  if (!resolved) {
    if (head.length === 0) throw new StatementError(file, 1, 'the file is empty');
    start();
    for (const buffered of head) await handle(buffered.cells, buffered.line);
  }
  const mapping = (resolved as Resolved).mapping;
  return {
    format: 'csv',
    accounts: [{ statementAccountId: '', kind: 'unknown', currency: null, lines, balances: [], positionCount: 0 }],
    warnings,
    mapping: { ...mapping, delimiter, headerLine: (resolved as Resolved).headerLine, decimalSeparator, dateOrder: order },
    preset: (resolved as Resolved).preset,
  };
}
