import { parseAmount } from './amount';
import { parseOfxDate } from './dates';
import { child, childText, descendants, sgmlTree, type XmlNode } from './tree';
import { StatementError, type ParsedAccount, type ParsedBalance, type ParsedLine, type ParsedStatement } from './types';

// OFX 1.x (SGML), 2.x (XML), QFX and QBO are one format: a header, then <OFX> with one response per account.
// Banks write 2.x headers over SGML bodies (unclosed leaves) often enough that one lenient reader serves both.

/** Investment transaction aggregates inside INVTRANLIST other than INVBANKTRAN (OFX 2.1.1, section 13.9.2.4). */
const INVESTMENT_TRANSACTIONS = new Set([
  'BUYDEBT', 'BUYMF', 'BUYOPT', 'BUYOTHER', 'BUYSTOCK', 'CLOSUREOPT', 'INCOME', 'INVEXPENSE', 'JRNLFUND', 'JRNLSEC',
  'MARGININTEREST', 'REINVEST', 'RETOFCAP', 'SELLDEBT', 'SELLMF', 'SELLOPT', 'SELLOTHER', 'SELLSTOCK', 'SPLIT', 'TRANSFER',
]);

function text(node: XmlNode, name: string): string | undefined {
  const value = childText(node, name);
  return value === undefined || value.length === 0 ? undefined : value;
}

function requireDate(file: string, node: XmlNode, name: string, what: string): string {
  const value = text(node, name);
  const at = child(node, name)?.line ?? node.line;
  if (value === undefined) throw new StatementError(file, node.line, `${what} has no <${name}> (a transaction needs its date)`);
  const date = parseOfxDate(value);
  if (date === null) throw new StatementError(file, at, `<${name}>${value} is not a date (expected YYYYMMDD…)`);
  return date;
}

function requireAmount(file: string, node: XmlNode, name: string, what: string, warnings: ParsedStatement['warnings']): { cents: number; text: string } {
  const value = text(node, name);
  const at = child(node, name)?.line ?? node.line;
  if (value === undefined) throw new StatementError(file, node.line, `${what} has no <${name}>`);
  const amount = parseAmount(value);
  if (amount === null) throw new StatementError(file, at, `<${name}>${value} is not an amount`);
  if (amount.rounded) warnings.push({ line: at, message: `<${name}>${value} has digits below a cent: rounded to ${amount.cents} cents` });
  return { cents: amount.cents, text: value };
}

function statusError(file: string, response: XmlNode): void {
  const status = child(response, 'STATUS');
  if (!status) return;
  const severity = text(status, 'SEVERITY');
  if (severity === 'ERROR') {
    const code = text(status, 'CODE') ?? '?';
    const message = text(status, 'MESSAGE') ?? 'no message';
    throw new StatementError(file, status.line, `the bank answered with an error instead of a statement (OFX status ${code}: ${message})`);
  }
}

function bankLine(file: string, transaction: XmlNode, warnings: ParsedStatement['warnings']): ParsedLine {
  const postedOn = requireDate(file, transaction, 'DTPOSTED', 'this <STMTTRN>');
  const amount = requireAmount(file, transaction, 'TRNAMT', 'this <STMTTRN>', warnings);
  const raw: Record<string, string> = { amount: amount.text };
  for (const name of ['TRNTYPE', 'CHECKNUM', 'REFNUM', 'SIC', 'DTUSER', 'DTAVAIL']) {
    const value = text(transaction, name);
    if (value !== undefined) raw[name.toLowerCase()] = value;
  }
  const payee = text(transaction, 'NAME') ?? (child(transaction, 'PAYEE') ? text(child(transaction, 'PAYEE') as XmlNode, 'NAME') : undefined);
  return {
    externalId: text(transaction, 'FITID') ?? null,
    postedOn,
    amountCents: amount.cents,
    payee: payee ?? null,
    memo: text(transaction, 'MEMO') ?? null,
    line: transaction.line,
    raw,
  };
}

function investmentLine(file: string, transaction: XmlNode, warnings: ParsedStatement['warnings']): ParsedLine {
  const invtran = descendants(transaction, 'INVTRAN')[0];
  if (!invtran) throw new StatementError(file, transaction.line, `<${transaction.name}> has no <INVTRAN>`);
  const postedOn = requireDate(file, invtran, 'DTTRADE', `this <${transaction.name}>`);
  // The cash effect of the trade; a transfer of securities moves no cash.
  const holder = descendants(transaction, 'TOTAL')[0] ? transaction : undefined;
  let cents = 0;
  const raw: Record<string, string> = { type: transaction.name };
  if (holder) {
    const totalNode = descendants(transaction, 'TOTAL')[0] as XmlNode;
    const amount = parseAmount(totalNode.text);
    if (amount === null) throw new StatementError(file, totalNode.line, `<TOTAL>${totalNode.text.trim()} is not an amount`);
    if (amount.rounded) warnings.push({ line: totalNode.line, message: `<TOTAL>${totalNode.text.trim()} has digits below a cent: rounded` });
    cents = amount.cents;
    raw.amount = totalNode.text.trim();
  }
  for (const name of ['UNIQUEID', 'UNITS', 'UNITPRICE']) {
    const found = descendants(transaction, name)[0];
    if (found) raw[name.toLowerCase()] = found.text.trim();
  }
  return {
    externalId: text(invtran, 'FITID') ?? null,
    postedOn,
    amountCents: cents,
    payee: descendants(transaction, 'UNIQUEID')[0]?.text.trim() ?? null,
    memo: text(invtran, 'MEMO') ?? null,
    line: transaction.line,
    raw,
  };
}

function balance(file: string, node: XmlNode | undefined, kind: ParsedBalance['kind'], warnings: ParsedStatement['warnings']): ParsedBalance[] {
  if (!node) return [];
  const amountText = text(node, 'BALAMT');
  const asOn = parseOfxDate(text(node, 'DTASOF') ?? '');
  if (amountText === undefined || asOn === null) {
    warnings.push({ line: node.line, message: `<${node.name}> has no amount or date: the balance is not used` });
    return [];
  }
  const amount = parseAmount(amountText);
  if (amount === null) throw new StatementError(file, child(node, 'BALAMT')?.line ?? node.line, `<BALAMT>${amountText} is not an amount`);
  return [{ kind, amountCents: amount.cents, asOn }];
}

export function parseOfx(content: string, file: string): ParsedStatement {
  const start = content.search(/<OFX>/i);
  if (start === -1) throw new StatementError(file, 1, 'no <OFX> element: this is not an OFX file');
  const headerLines = content.slice(0, start).split('\n').length - 1;
  const root = sgmlTree(content.slice(start), file, headerLines);
  const ofx = child(root, 'OFX');
  if (!ofx) throw new StatementError(file, headerLines + 1, 'no <OFX> element: this is not an OFX file');
  const signon = descendants(ofx, 'SONRS')[0];
  if (signon) statusError(file, signon);
  const warnings: ParsedStatement['warnings'] = [];
  const accounts: ParsedAccount[] = [];
  const responses = [...descendants(ofx, 'STMTTRNRS'), ...descendants(ofx, 'CCSTMTTRNRS'), ...descendants(ofx, 'INVSTMTTRNRS')];
  responses.sort((a, b) => a.line - b.line);
  for (const response of responses) {
    statusError(file, response);
    const statement = child(response, 'STMTRS') ?? child(response, 'CCSTMTRS') ?? child(response, 'INVSTMTRS');
    if (!statement) throw new StatementError(file, response.line, `<${response.name}> holds no statement`);
    const from = child(statement, 'BANKACCTFROM') ?? child(statement, 'CCACCTFROM') ?? child(statement, 'INVACCTFROM');
    const accountId = from ? text(from, 'ACCTID') : undefined;
    if (!from || accountId === undefined) throw new StatementError(file, statement.line, 'the statement names no account (<ACCTID>)');
    const kind = statement.name === 'CCSTMTRS' ? 'card' : statement.name === 'INVSTMTRS' ? 'investment' : 'bank';
    const lines: ParsedLine[] = [];
    if (kind === 'investment') {
      const list = child(statement, 'INVTRANLIST');
      for (const entry of list?.children ?? []) {
        if (entry.name === 'INVBANKTRAN') {
          const transaction = child(entry, 'STMTTRN');
          if (transaction) lines.push(bankLine(file, transaction, warnings));
        } else if (INVESTMENT_TRANSACTIONS.has(entry.name)) {
          lines.push(investmentLine(file, entry, warnings));
        }
      }
    } else {
      for (const transaction of child(statement, 'BANKTRANLIST')?.children ?? []) {
        if (transaction.name === 'STMTTRN') lines.push(bankLine(file, transaction, warnings));
      }
    }
    const balances = [
      ...balance(file, child(statement, 'LEDGERBAL'), 'ledger', warnings),
      ...balance(file, child(statement, 'AVAILBAL'), 'available', warnings),
    ];
    accounts.push({
      statementAccountId: accountId,
      kind,
      currency: text(statement, 'CURDEF') ?? null,
      lines,
      balances,
      positionCount: descendants(statement, 'INVPOS').length,
    });
  }
  if (accounts.length === 0) {
    const listing = descendants(ofx, 'ACCTINFORS').length > 0;
    throw new StatementError(
      file,
      ofx.line,
      listing ? 'this OFX file lists accounts but holds no statement (an account-information response)' : 'this OFX file holds no statement',
    );
  }
  return { format: 'ofx', accounts, warnings };
}
