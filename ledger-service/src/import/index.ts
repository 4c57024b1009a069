import { formatCents } from '../domain/money';
import { parseCamt } from './camt';
import { parseCsv, type CsvMapping } from './csv';
import { decodeText, type TextEncoding } from './encoding';
import { parseMt940 } from './mt940';
import { parseOfx } from './ofx';
import { looksLikePdf, parsePdf } from './pdf';
import { parseQif } from './qif';
import { StatementError, type ParsedLine, type ParsedStatement, type StatementFormat } from './types';

export { StatementError } from './types';
export type { ParsedAccount, ParsedLine, ParsedStatement, StatementFormat } from './types';
export type { CsvMapping } from './csv';

/** The content decides, never the extension alone: a .csv that holds OFX is OFX. */
export function detectFormat(text: string, file: string): StatementFormat {
  const head = text.slice(0, 4096).replace(/^\uFEFF/, '').trimStart();
  if (head.startsWith('%PDF')) return 'pdf';
  if (/^OFXHEADER\s*:/i.test(head) || /<\?OFX\b/i.test(head) || /<OFX>/i.test(head)) return 'ofx';
  if (/BkToCstmrStmt|camt\.053/.test(head)) return 'camt';
  if (/^!(Type|Account|Option|Clear)/i.test(head)) return 'qif';
  if (/^\{1:|^:20:/.test(head) || (/^:20:/m.test(head) && /^:(60F|60M|61):/m.test(head))) return 'mt940';
  if (head.startsWith('<')) throw new StatementError(file, 1, 'an XML file that is neither OFX nor CAMT.053');
  if (head.includes('\u0000')) throw new StatementError(file, 1, 'a binary file, not a statement');
  return 'csv';
}

export interface ParseOptions {
  file: string;
  csvMapping?: Partial<CsvMapping> | undefined;
  encoding?: TextEncoding | undefined;
  /**
   * CSV only: each transaction is handed over as it is read and not collected (the result's one account then has
   * no lines), so a large export is never held as objects. Other formats are small and always collected.
   */
  onCsvLine?: ((line: ParsedLine) => void | Promise<void>) | undefined;
}

export interface ParseResult extends ParsedStatement {
  /** The text encoding the bytes were read in; null for a PDF (its text is in the PDF's own encodings). */
  encoding: TextEncoding | null;
  /** PDF only: the layout (PDF_LAYOUTS) the statement was read with. */
  pdfLayout?: string | undefined;
  csv?: { mapping: CsvMapping; preset: string | null } | undefined;
}

/**
 * When a statement states both its opening and closing balance, the lines between must bridge them exactly;
 * otherwise the file is short of lines (or has extra ones) and importing it would hide that.
 */
export function checkStatedBalances(statement: ParsedStatement, file: string): void {
  for (const account of statement.accounts) {
    const opening = account.balances.find((balance) => balance.kind === 'opening');
    const closing = account.balances.find((balance) => balance.kind === 'closing');
    if (!opening || !closing) continue;
    const total = account.lines.reduce((sum, line) => sum + line.amountCents, 0);
    const difference = closing.amountCents - (opening.amountCents + total);
    if (difference !== 0) {
      throw new StatementError(
        file,
        account.lines[0]?.line ?? 1,
        `opening ${formatCents(opening.amountCents)} + lines ${formatCents(total)} = ${formatCents(opening.amountCents + total)}, but the statement closes at ${formatCents(closing.amountCents)} (difference ${formatCents(difference)}${account.statementAccountId ? `, account ${account.statementAccountId}` : ''})`,
      );
    }
  }
}

export async function parseStatement(bytes: Uint8Array, options: ParseOptions): Promise<ParseResult> {
  if (bytes.length === 0) throw new StatementError(options.file, 1, 'the file is empty');
  // A PDF is binary: it is recognised by its header, before any attempt to read the bytes as text.
  if (looksLikePdf(bytes)) {
    const { layout, ...statement } = await parsePdf(bytes, options.file);
    const result: ParseResult = { ...statement, encoding: null, pdfLayout: layout };
    checkStatedBalances(result, options.file);
    return result;
  }
  const { text, encoding } = decodeText(bytes, options.encoding);
  // No statement format has a NUL character in its text, and the database cannot store one: a damaged file.
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    const line = text.slice(0, nul).split('\n').length;
    throw new StatementError(options.file, line, `a NUL byte (0x00) in the text (as ${encoding}): the file is damaged or not a text statement`);
  }
  const format = detectFormat(text, options.file);
  let result: ParseResult;
  switch (format) {
    case 'ofx':
      result = { ...parseOfx(text, options.file), encoding };
      break;
    case 'camt':
      result = { ...parseCamt(text, options.file), encoding };
      break;
    case 'qif':
      result = { ...parseQif(text, options.file), encoding };
      break;
    case 'mt940':
      result = { ...parseMt940(text, options.file), encoding };
      break;
    case 'pdf':
      throw new StatementError(options.file, 1, 'a PDF header past the first kilobyte: not a statement PDF');
    case 'csv': {
      const { mapping, preset, ...statement } = await parseCsv(text, options.file, options.csvMapping, options.onCsvLine);
      result = { ...statement, encoding, csv: { mapping, preset } };
      break;
    }
  }
  checkStatedBalances(result, options.file);
  return result;
}

const NON_ASCII = /[^\u0000-\u007f]/;

/**
 * A payee or memo as a row's identity holds it: NFKC, white space runs as one space, trimmed, lower case. NFKC leaves
 * ASCII text as it is, so ASCII text skips it: it was most of the cost, called twice for every row of a file.
 */
function normalised(value: string | null): string {
  const text = value ?? '';
  return (NON_ASCII.test(text) ? text.normalize('NFKC') : text).replace(/\s+/g, ' ').trim().toLowerCase();
}

/**
 * Lines the bank gave no id: a stable hash of the normalised row and its ordinal among identical rows. Stored
 * external ids are made from it, so that importing a file again skips its rows: it must never change.
 */
export function rowIdentity(line: Pick<ParsedLine, 'postedOn' | 'amountCents' | 'payee' | 'memo'>): string {
  return `${line.postedOn}\u001f${line.amountCents}\u001f${normalised(line.payee)}\u001f${normalised(line.memo)}`;
}
