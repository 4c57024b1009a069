import { Parser } from 'mt940js';
import { parseAmount } from './amount';
import { StatementError, type ParsedAccount, type ParsedStatement } from './types';

// SWIFT MT940, read by mt940js. It hands amounts over as JavaScript numbers parsed from at most 15 significant
// digits with two decimals; toFixed(2) gives back exactly the text the bank wrote, which parseAmount turns into
// cents, so no float arithmetic touches the money.

interface Mt940Transaction {
  date: Date;
  amount: number;
  bankReference?: string;
  reference?: string;
  details?: string;
  transactionType?: string;
  structuredDetails?: Record<string, string>;
}

interface Mt940Statement {
  accountIdentification: string;
  currency: string;
  openingBalance: number;
  closingBalance: number;
  openingBalanceDate: Date;
  closingBalanceDate: Date;
  transactions: Mt940Transaction[];
}

function cents(value: number, file: string, line: number): number {
  const amount = parseAmount(value.toFixed(2));
  if (amount === null) throw new StatementError(file, line, `${value} is not an amount`);
  return amount.cents;
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function parseMt940(content: string, file: string): ParsedStatement {
  let statements: Mt940Statement[];
  try {
    statements = new Parser().parse(content) as Mt940Statement[];
  } catch (error) {
    const message = (error as Error).message;
    const lineMatch = /line[: ]+(\d+)/i.exec(message);
    throw new StatementError(file, lineMatch ? Number(lineMatch[1]) : 1, `not a valid MT940 statement: ${message}`);
  }
  if (statements.length === 0) throw new StatementError(file, 1, 'this MT940 file holds no statement');
  // Line of each :61: tag in order, so every transaction points back into the file.
  const transactionLines: number[] = [];
  content.split(/\r?\n/).forEach((text, index) => {
    if (text.startsWith(':61:')) transactionLines.push(index + 1);
  });
  let ordinal = 0;
  const accounts: ParsedAccount[] = statements.map((statement) => ({
    statementAccountId: statement.accountIdentification,
    kind: 'bank',
    currency: statement.currency || null,
    lines: statement.transactions.map((transaction) => {
      const line = transactionLines[ordinal] ?? 1;
      ordinal += 1;
      const structured = transaction.structuredDetails ?? {};
      return {
        externalId: transaction.bankReference && transaction.bankReference !== 'NONREF' ? transaction.bankReference : null,
        postedOn: day(transaction.date),
        amountCents: cents(transaction.amount, file, line),
        payee: structured.NAME ?? structured['32'] ?? null,
        memo: structured.REMI ?? transaction.details ?? null,
        line,
        raw: { type: transaction.transactionType ?? '', reference: transaction.reference ?? '', details: transaction.details ?? '' },
      };
    }),
    balances: [
      { kind: 'opening', amountCents: cents(statement.openingBalance, file, 1), asOn: day(statement.openingBalanceDate) },
      { kind: 'closing', amountCents: cents(statement.closingBalance, file, 1), asOn: day(statement.closingBalanceDate) },
    ],
    positionCount: 0,
  }));
  return { format: 'mt940', accounts, warnings: [] };
}
