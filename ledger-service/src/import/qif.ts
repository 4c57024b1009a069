import { parseAmount } from './amount';
import { parseDate, type DateOrder } from './dates';
import { StatementError, type ParsedAccount, type ParsedLine, type ParsedStatement } from './types';

// QIF (Quicken Interchange Format): records of one-letter fields ending at "^". Only bank-like sections
// (!Type:Bank, CCard, Cash, Oth A, Oth L) carry transactions we import; category lists (!Type:Cat) are read past.
// QIF states no account id, no currency and no transaction id: the import hashes each row with its ordinal.

const TRANSACTION_TYPES = new Map<string, ParsedAccount['kind']>([
  ['bank', 'bank'],
  ['ccard', 'card'],
  ['cash', 'bank'],
  ['oth a', 'bank'],
  ['oth l', 'bank'],
]);

/** US QIF writes M/D/Y; a file whose days exceed 12 in the first place is D/M/Y. */
function dateOrderOf(dates: string[]): DateOrder {
  for (const date of dates) {
    const first = /^\s*(\d{1,2})\s*[/.-]/.exec(date);
    if (first && Number(first[1]) > 12) return 'dmy';
  }
  return 'mdy';
}

export function parseQif(content: string, file: string): ParsedStatement {
  const lines = content.split(/\r?\n/);
  const warnings: ParsedStatement['warnings'] = [];
  let kind: ParsedAccount['kind'] | null = null;
  let sawType = false;
  const records: { line: number; fields: Map<string, string>; splits: string[] }[] = [];
  let current: { line: number; fields: Map<string, string>; splits: string[] } | null = null;
  lines.forEach((text, index) => {
    const line = index + 1;
    const value = text.replace(/^\uFEFF/, '');
    if (value.trim().length === 0) return;
    if (value.startsWith('!')) {
      const header = value.slice(1).trim().toLowerCase();
      if (header.startsWith('type:')) {
        sawType = true;
        kind = TRANSACTION_TYPES.get(header.slice(5).trim()) ?? null;
      } else if (header.startsWith('option') || header.startsWith('account') || header.startsWith('clear')) {
        kind = header.startsWith('account') ? null : kind;
      }
      current = null;
      return;
    }
    if (!sawType) throw new StatementError(file, line, 'a QIF file starts with a !Type: header');
    if (kind === null) return;
    if (value.startsWith('^')) {
      current = null;
      return;
    }
    if (current === null) {
      current = { line, fields: new Map(), splits: [] };
      records.push(current);
    }
    const code = value[0] as string;
    const rest = value.slice(1).trim();
    if (code === 'S' || code === 'E' || code === '$') current.splits.push(`${code}${rest}`);
    else if (!current.fields.has(code)) current.fields.set(code, rest);
  });
  if (!sawType) throw new StatementError(file, 1, 'a QIF file starts with a !Type: header');
  const order = dateOrderOf(records.map((record) => record.fields.get('D') ?? ''));
  const parsed: ParsedLine[] = records.map((record) => {
    const dateText = record.fields.get('D');
    if (dateText === undefined) throw new StatementError(file, record.line, 'this QIF record has no date (D line)');
    const postedOn = parseDate(dateText, order);
    if (postedOn === null) throw new StatementError(file, record.line, `"${dateText}" is not a date`);
    const amountText = record.fields.get('T') ?? record.fields.get('U');
    if (amountText === undefined) throw new StatementError(file, record.line, 'this QIF record has no amount (T line)');
    const amount = parseAmount(amountText);
    if (amount === null) throw new StatementError(file, record.line, `"${amountText}" is not an amount`);
    if (amount.rounded) warnings.push({ line: record.line, message: `${amountText} has digits below a cent: rounded` });
    const raw: Record<string, string> = { amount: amountText, date: dateText };
    for (const [code, name] of [['N', 'number'], ['L', 'category'], ['C', 'cleared'], ['A', 'address']] as const) {
      const value = record.fields.get(code);
      if (value !== undefined) raw[name] = value;
    }
    if (record.splits.length > 0) raw.splits = record.splits.join('|');
    return {
      externalId: null,
      postedOn,
      amountCents: amount.cents,
      payee: record.fields.get('P') || null,
      memo: record.fields.get('M') || null,
      line: record.line,
      raw,
    };
  });
  return {
    format: 'qif',
    accounts: [{ statementAccountId: '', kind: kind ?? 'bank', currency: null, lines: parsed, balances: [], positionCount: 0 }],
    warnings,
  };
}
