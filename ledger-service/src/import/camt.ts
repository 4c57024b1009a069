import { parseAmount } from './amount';
import { parseDate } from './dates';
import { child, childText, descendants, xmlTree, type XmlNode } from './tree';
import { StatementError, type ParsedAccount, type ParsedBalance, type ParsedLine, type ParsedStatement } from './types';

// CAMT.053 (ISO 20022 BankToCustomerStatement), any version: Document/BkToCstmrStmt/Stmt per account, Ntry per
// booked entry, Bal for opening (OPBD/PRCD) and closing (CLBD) balances. Read with saxes (see tree.ts).

function path(node: XmlNode | undefined, ...names: string[]): XmlNode | undefined {
  let current = node;
  for (const name of names) current = current ? child(current, name) : undefined;
  return current;
}

function signedCents(file: string, node: XmlNode, indicator: string | undefined): number {
  const amountNode = child(node, 'Amt');
  if (!amountNode) throw new StatementError(file, node.line, `<${node.name}> has no <Amt>`);
  const amount = parseAmount(amountNode.text);
  if (amount === null || amount.cents < 0) throw new StatementError(file, amountNode.line, `<Amt>${amountNode.text.trim()} is not an amount`);
  if (indicator !== 'CRDT' && indicator !== 'DBIT') throw new StatementError(file, node.line, `<CdtDbtInd> must be CRDT or DBIT, not "${indicator ?? ''}"`);
  return indicator === 'DBIT' ? -amount.cents : amount.cents;
}

function dateOf(file: string, node: XmlNode | undefined, at: XmlNode): string {
  const text = node ? (childText(node, 'Dt') ?? childText(node, 'DtTm')) : undefined;
  if (text === undefined) throw new StatementError(file, at.line, `<${at.name}> has no date`);
  const date = parseDate(text.slice(0, 10), 'ymd');
  if (date === null) throw new StatementError(file, node?.line ?? at.line, `"${text}" is not a date`);
  return date;
}

export function parseCamt(content: string, file: string): ParsedStatement {
  const root = xmlTree(content, file);
  const document = child(root, 'Document');
  const container = document ? (child(document, 'BkToCstmrStmt') ?? undefined) : undefined;
  if (!container) throw new StatementError(file, 1, 'no Document/BkToCstmrStmt: this is not a CAMT.053 statement');
  const warnings: ParsedStatement['warnings'] = [];
  const accounts: ParsedAccount[] = [];
  for (const statement of container.children.filter((node) => node.name === 'Stmt')) {
    const account = child(statement, 'Acct');
    const id = account ? (descendants(account, 'IBAN')[0]?.text.trim() ?? descendants(account, 'Othr')[0]?.children[0]?.text.trim()) : undefined;
    if (!account || !id) throw new StatementError(file, statement.line, 'the statement names no account (Acct/Id)');
    const currency = childText(account, 'Ccy') ?? null;
    const lines: ParsedLine[] = [];
    for (const entry of statement.children.filter((node) => node.name === 'Ntry')) {
      const statusNode = child(entry, 'Sts');
      const status = statusNode ? (childText(statusNode, 'Cd') ?? statusNode.text.trim()) : 'BOOK';
      if (status !== 'BOOK') {
        warnings.push({ line: entry.line, message: `an entry with status ${status} is not booked by the bank yet: not imported` });
        continue;
      }
      const cents = signedCents(file, entry, childText(entry, 'CdtDbtInd'));
      const postedOn = dateOf(file, child(entry, 'BookgDt') ?? child(entry, 'ValDt'), entry);
      const details = descendants(entry, 'TxDtls')[0];
      const parties = details ? child(details, 'RltdPties') : undefined;
      // The other party: the creditor when we paid, the debtor when we were paid.
      const payee = cents < 0 ? path(parties, 'Cdtr', 'Nm') ?? path(parties, 'Cdtr', 'Pty', 'Nm') : path(parties, 'Dbtr', 'Nm') ?? path(parties, 'Dbtr', 'Pty', 'Nm');
      const memo = details ? descendants(details, 'Ustrd').map((node) => node.text.trim()).join(' ') : '';
      const reference = childText(entry, 'AcctSvcrRef') ?? childText(entry, 'NtryRef');
      lines.push({
        externalId: reference && reference.length > 0 ? reference : null,
        postedOn,
        amountCents: cents,
        payee: payee?.text.trim() || null,
        memo: memo || childText(entry, 'AddtlNtryInf') || null,
        line: entry.line,
        raw: { amount: child(entry, 'Amt')?.text.trim() ?? '', indicator: childText(entry, 'CdtDbtInd') ?? '' },
      });
    }
    const balances: ParsedBalance[] = [];
    for (const balance of statement.children.filter((node) => node.name === 'Bal')) {
      const code = descendants(balance, 'Cd')[0]?.text.trim();
      const kind = code === 'OPBD' || code === 'PRCD' ? 'opening' : code === 'CLBD' ? 'closing' : code === 'CLAV' ? 'available' : null;
      if (kind === null) continue;
      balances.push({ kind, amountCents: signedCents(file, balance, childText(balance, 'CdtDbtInd')), asOn: dateOf(file, child(balance, 'Dt'), balance) });
    }
    accounts.push({ statementAccountId: id, kind: 'bank', currency, lines, balances, positionCount: 0 });
  }
  if (accounts.length === 0) throw new StatementError(file, container.line, 'this CAMT.053 file holds no statement (Stmt)');
  return { format: 'camt', accounts, warnings };
}
