import { getDocumentProxy } from 'unpdf';
import { formatCents } from '../domain/money';
import { parseAmount } from './amount';
import { parseDate, type DateOrder } from './dates';
import { StatementError, type ParsedAccount, type ParsedBalance, type ParsedLine, type ParsedStatement } from './types';

// Text-based PDF statements (the ones a bank's site generates; a scanned image has no text and is refused with
// that said). The PDF's text items are put back into printed rows by their position on the page; a row that
// starts with a date and ends with one or two amounts is a transaction (amount, then the running balance when
// the statement prints one); rows below it without a date continue its description. What differs from bank to
// bank — the date order, words that open and close the statement, the debit/credit column headers, rows to skip
// — is data (PDF_LAYOUTS), chosen by words the statement prints; the generic layout reads the common US shape.

export interface PdfLayout {
  id: string;
  /** The statement is this layout's when its text matches (the bank's name, a phrase it always prints). */
  detect: RegExp | null;
  dateOrder: DateOrder;
  /** Amount text style: ',' for 1.234,56. */
  decimalSeparator: '.' | ',';
  opening: RegExp;
  closing: RegExp;
  /** The statement period, whose years complete dates printed without one (11/03). */
  period: RegExp;
  /** Column headers for unsigned amounts: an amount under a debit header is money out. */
  debitHeader: RegExp;
  creditHeader: RegExp;
  /** Rows that are never transactions (page furniture, subtotals). */
  skip: RegExp[];
}

const GENERIC: PdfLayout = {
  id: 'generic',
  detect: null,
  dateOrder: 'mdy',
  decimalSeparator: '.',
  opening: /\b(?:beginning|opening|previous|starting)\s+balance\b/i,
  closing: /\b(?:ending|closing|new|final)\s+balance\b/i,
  period: /(\d{1,2}\/\d{1,2}\/\d{2,4})\s*(?:-|–|to|through|thru)\s*(\d{1,2}\/\d{1,2}\/\d{2,4})/i,
  debitHeader: /^(?:withdrawals?|debits?|payments|charges|amount\s+out|money\s+out)\b/i,
  creditHeader: /^(?:deposits?|credits?|amount\s+in|money\s+in)\b/i,
  skip: [/^page\s+\d+/i, /\btotal\s+(?:deposits|withdrawals|credits|debits|fees)\b/i, /^continued\b/i],
};

/** Per-bank layouts: only what differs from the generic one. The first whose `detect` matches wins. */
export const PDF_LAYOUTS: PdfLayout[] = [
  { ...GENERIC, id: 'chase', detect: /JPMorgan Chase Bank|Chase\.com/i, opening: /\bBeginning Balance\b/i, closing: /\bEnding Balance\b/i },
  { ...GENERIC, id: 'bank-of-america', detect: /Bank of America/i, opening: /\bBeginning balance on\b/i, closing: /\bEnding balance on\b/i },
  {
    ...GENERIC,
    id: 'european',
    detect: /\b(?:Kontoauszug|Relevé de compte|Extracto|Estratto conto|Afschrift)\b/i,
    dateOrder: 'dmy',
    decimalSeparator: ',',
    opening: /\b(?:alter\s+kontostand|anfangssaldo|solde\s+(?:précédent|initial)|saldo\s+(?:inicial|iniziale|anterior))\b/i,
    closing: /\b(?:neuer\s+kontostand|endsaldo|nouveau\s+solde|solde\s+final|saldo\s+(?:final|finale))\b/i,
    period: /(\d{1,2}\.\d{1,2}\.\d{2,4})\s*(?:-|–|bis|au|al)\s*(\d{1,2}\.\d{1,2}\.\d{2,4})/i,
    debitHeader: /^(?:soll|belastung|débit|debe|addebiti)\b/i,
    creditHeader: /^(?:haben|gutschrift|crédit|haber|accrediti)\b/i,
  },
  GENERIC,
];

/** A printed row: its cells left to right, where it is, and the whole text. */
interface Row {
  page: number;
  /** 1-based row on its page. */
  row: number;
  /** 1-based row in the whole document: the `line` every error and bank line points at. */
  line: number;
  cells: { x: number; text: string }[];
  text: string;
}

const PAGES_MAX = 500;
const Y_TOLERANCE = 2;

interface TextItem {
  str: string;
  transform: number[];
}

async function readRows(bytes: Uint8Array, file: string): Promise<Row[]> {
  let pdf;
  try {
    // pdf.js detaches the buffer it is given: hand it a copy.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { stopAtErrors: true, verbosity: 0 });
  } catch (error) {
    const reason = (error as Error).name === 'PasswordException' ? 'the PDF is password-protected' : `not a readable PDF (${(error as Error).message})`;
    throw new StatementError(file, 1, reason);
  }
  try {
    if (pdf.numPages > PAGES_MAX) throw new StatementError(file, 1, `a statement PDF has at most ${PAGES_MAX} pages; this one has ${pdf.numPages}`);
    const rows: Row[] = [];
    for (let pageNumber = 1; pageNumber <= pdf.numPages; pageNumber += 1) {
      let items: TextItem[];
      try {
        const page = await pdf.getPage(pageNumber);
        items = ((await page.getTextContent()).items as unknown as Partial<TextItem>[]).filter((item): item is TextItem => typeof item.str === 'string' && item.str.trim().length > 0 && Array.isArray(item.transform));
      } catch (error) {
        throw new StatementError(file, rows.at(-1)?.line ?? 1, `page ${pageNumber} cannot be read (${(error as Error).message})`);
      }
      // Top of the page first (PDF y grows upwards), then left to right; items within a few units share a row.
      items.sort((a, b) => (b.transform[5] as number) - (a.transform[5] as number) || (a.transform[4] as number) - (b.transform[4] as number));
      const pageRows: { y: number; cells: { x: number; text: string }[] }[] = [];
      for (const item of items) {
        const x = item.transform[4] as number;
        const y = item.transform[5] as number;
        const last = pageRows.at(-1);
        if (last && Math.abs(last.y - y) <= Y_TOLERANCE) last.cells.push({ x, text: item.str.trim() });
        else pageRows.push({ y, cells: [{ x, text: item.str.trim() }] });
      }
      for (const [index, pageRow] of pageRows.entries()) {
        pageRow.cells.sort((a, b) => a.x - b.x);
        rows.push({ page: pageNumber, row: index + 1, line: rows.length + 1, cells: pageRow.cells, text: pageRow.cells.map((cell) => cell.text).join(' ') });
      }
    }
    return rows;
  } finally {
    // Frees pdf.js's worker-side document (the proxy's own destroy, or its loading task's, by version).
    const proxy = pdf as unknown as { destroy?: () => Promise<void>; loadingTask?: { destroy?: () => Promise<void> } };
    await (proxy.destroy ?? proxy.loadingTask?.destroy)?.call(proxy.destroy ? proxy : proxy.loadingTask);
  }
}

const where = (row: Row) => `page ${row.page}, line ${row.row}`;

const MONEY = /^(?:\(\s*[-+]?[$€£]?\s*\d[\d,.' ]*\d\s*\)|[-+]?[$€£]?\s*\d[\d,.']*[.,]\d{2}(?:-|\s?(?:CR|DR))?)$/i;

function money(text: string, layout: PdfLayout): number | null {
  let value = text.replace(/[$€£\s]/g, '').replace(/'/g, '');
  let negative = false;
  const suffix = /(CR|DR)$/i.exec(value);
  if (suffix) {
    value = value.slice(0, -2);
    negative = suffix[1]?.toUpperCase() === 'DR';
  }
  const parsed = parseAmount(value, { decimalSeparator: layout.decimalSeparator });
  if (parsed === null) return null;
  return negative ? -Math.abs(parsed.cents) : parsed.cents;
}

/** The first date-looking token of a row: 11/03, 11/03/2026, 2026-11-03, 03.11.2026. */
const DATE_TOKEN = /^(\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?)$/;

function completeDate(token: string, layout: PdfLayout, period: { start: string; end: string } | null): string | null {
  const parts = token.split(/[/.]/);
  if (token.includes('-') || parts.length === 3) return parseDate(token, layout.dateOrder);
  if (!period) return null;
  // Day and month only: the year of the period end, or of its start when that puts the date inside the period.
  const [first = '', second = ''] = parts;
  const [month, day] = layout.dateOrder === 'dmy' ? [second, first] : [first, second];
  const endYear = period.end.slice(0, 4);
  const candidate = parseDate(`${endYear}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`, 'ymd');
  if (candidate !== null && candidate > period.end) return parseDate(`${period.start.slice(0, 4)}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`, 'ymd');
  return candidate;
}

function layoutFor(text: string): PdfLayout {
  return PDF_LAYOUTS.find((layout) => layout.detect === null || layout.detect.test(text)) ?? GENERIC;
}

interface Draft {
  row: Row;
  postedOn: string;
  description: string[];
  amountCents: number;
  /** Signed by the text itself (a minus, parentheses, DR) or by a debit/credit column. */
  signed: boolean;
  balanceCents: number | null;
}

/**
 * Reads a text-based PDF statement. Refuses (naming the file, page and line) a PDF without text, a transaction row
 * whose amount cannot be read, running balances that do not follow from the amounts, and stated opening and
 * closing balances that the lines do not bridge.
 */
export async function parsePdf(bytes: Uint8Array, file: string): Promise<ParsedStatement & { layout: string }> {
  const rows = await readRows(bytes, file);
  const allText = rows.map((row) => row.text).join('\n');
  if (allText.trim().length === 0) throw new StatementError(file, 1, 'the PDF has no text (a scanned image?): export the statement as CSV, OFX or a text PDF');
  const layout = layoutFor(allText);
  const periodMatch = layout.period.exec(allText);
  const period = periodMatch
    ? { start: parseDate(periodMatch[1] as string, layout.dateOrder), end: parseDate(periodMatch[2] as string, layout.dateOrder) }
    : null;
  const knownPeriod = period && period.start !== null && period.end !== null ? { start: period.start, end: period.end } : null;

  let opening: { cents: number; row: Row } | null = null;
  let closing: { cents: number; row: Row } | null = null;
  let debitX: number | null = null;
  let creditX: number | null = null;
  const drafts: Draft[] = [];
  let current: Draft | null = null;
  for (const row of rows) {
    if (layout.skip.some((pattern) => pattern.test(row.text))) {
      current = null;
      continue;
    }
    const amounts = row.cells.filter((cell) => MONEY.test(cell.text));
    if (layout.opening.test(row.text) || layout.closing.test(row.text)) {
      const last = amounts.at(-1);
      const cents = last ? money(last.text, layout) : null;
      if (cents === null) throw new StatementError(file, row.line, `${where(row)}: "${row.text}" names a balance without an amount`);
      if (layout.opening.test(row.text)) opening ??= { cents, row };
      else closing = { cents, row };
      current = null;
      continue;
    }
    const debit = row.cells.find((cell) => layout.debitHeader.test(cell.text));
    const credit = row.cells.find((cell) => layout.creditHeader.test(cell.text));
    if (debit && credit && amounts.length === 0) {
      debitX = debit.x;
      creditX = credit.x;
      current = null;
      continue;
    }
    const first = row.cells[0];
    const dateToken = first && DATE_TOKEN.test(first.text) ? first.text : null;
    if (dateToken === null) {
      // Below a transaction, a row of text only continues its description.
      if (current && amounts.length === 0) current.description.push(row.text);
      else current = null;
      continue;
    }
    if (amounts.length === 0) {
      current = null;
      continue;
    }
    const postedOn = completeDate(dateToken, layout, knownPeriod);
    if (postedOn === null) {
      throw new StatementError(file, row.line, `${where(row)}: "${dateToken}" is not a date${knownPeriod ? '' : ' (and the statement states no period to give it a year)'}`);
    }
    // Amount, then the running balance when two amounts end the row.
    const amountCell = amounts.length >= 2 ? (amounts.at(-2) as { x: number; text: string }) : (amounts[0] as { x: number; text: string });
    const balanceCell = amounts.length >= 2 ? (amounts.at(-1) as { x: number; text: string }) : null;
    let amountCents = money(amountCell.text, layout);
    const balanceCents = balanceCell ? money(balanceCell.text, layout) : null;
    if (amountCents === null || (balanceCell && balanceCents === null)) throw new StatementError(file, row.line, `${where(row)}: the amount in "${row.text}" cannot be read`);
    let signed = /^[-(+]|-$|DR$|CR$/i.test(amountCell.text.trim());
    if (!signed && debitX !== null && creditX !== null) {
      // An unsigned amount sits under the debit or the credit header: the nearer one says which.
      if (Math.abs(amountCell.x - debitX) < Math.abs(amountCell.x - creditX)) amountCents = -Math.abs(amountCents);
      signed = true;
    }
    const descriptionCells = row.cells.slice(1).filter((cell) => cell !== amountCell && cell !== balanceCell && !MONEY.test(cell.text));
    current = { row, postedOn, description: [descriptionCells.map((cell) => cell.text).join(' ')], amountCents, signed, balanceCents };
    drafts.push(current);
  }
  if (drafts.length === 0) throw new StatementError(file, 1, `no transaction lines found in ${rows.length} printed lines (layout ${layout.id}): each needs a date first and an amount last`);

  // Running balances decide unsigned amounts and check every signed one: balance before + amount = balance after.
  let previous = opening?.cents ?? null;
  for (const draft of drafts) {
    if (draft.balanceCents !== null && previous !== null) {
      const step = draft.balanceCents - previous;
      if (!draft.signed && Math.abs(step) === Math.abs(draft.amountCents)) draft.amountCents = step;
      else if (step !== draft.amountCents) {
        throw new StatementError(
          file,
          draft.row.line,
          `${where(draft.row)}: the balance ${formatCents(previous)} + ${formatCents(draft.amountCents)} = ${formatCents(previous + draft.amountCents)}, but the statement prints ${formatCents(draft.balanceCents)} (difference ${formatCents(draft.balanceCents - previous - draft.amountCents)})`,
        );
      }
    }
    previous = draft.balanceCents ?? (previous === null ? null : previous + draft.amountCents);
  }

  const lines: ParsedLine[] = drafts.map((draft) => {
    const [payee = '', ...more] = draft.description.map((part) => part.replace(/\s+/g, ' ').trim()).filter((part) => part.length > 0);
    return {
      externalId: null,
      postedOn: draft.postedOn,
      amountCents: draft.amountCents,
      payee: payee.length > 0 ? payee : null,
      memo: more.length > 0 ? more.join(' ') : null,
      line: draft.row.line,
      raw: { page: String(draft.row.page), row: String(draft.row.row), text: draft.row.text, layout: layout.id },
    };
  });
  const dates = lines.map((line) => line.postedOn).sort();
  const balances: ParsedBalance[] = [];
  if (opening) balances.push({ kind: 'opening', amountCents: opening.cents, asOn: knownPeriod?.start ?? (dates[0] as string) });
  if (closing) balances.push({ kind: 'closing', amountCents: closing.cents, asOn: knownPeriod?.end ?? (dates.at(-1) as string) });
  const account: ParsedAccount = { statementAccountId: '', kind: 'bank', currency: null, lines, balances, positionCount: 0 };
  return { format: 'pdf', accounts: [account], warnings: [], layout: layout.id };
}

/** `%PDF-` within the first kilobyte (the PDF specification lets a little junk come first). */
export function looksLikePdf(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 1024)).toString('latin1');
  return head.includes('%PDF-');
}
