// What a statement file says, before it meets the books: pure data, no database, no HTTP.

export type StatementFormat = 'csv' | 'ofx' | 'qif' | 'camt' | 'mt940' | 'pdf';

/** One transaction as the file states it; amountCents is signed from the account holder's side (positive = in). */
export interface ParsedLine {
  /** The bank's own id (FITID, CAMT AcctSvcrRef, MT940 bank reference) when the file gives one. */
  externalId: string | null;
  postedOn: string;
  amountCents: number;
  payee: string | null;
  memo: string | null;
  /** 1-based line of the file where the transaction starts: every error and review reason can point at it. */
  line: number;
  /** What the file said, verbatim enough to explain a decision later (type, original amount text, check number…). */
  raw: Record<string, string>;
}

export type BalanceKind = 'ledger' | 'available' | 'opening' | 'closing';

export interface ParsedBalance {
  kind: BalanceKind;
  amountCents: number;
  asOn: string;
}

export interface ParsedAccount {
  /** The statement's own name for the account (ACCTID, IBAN, MT940 :25:); '' when the format names none (QIF, CSV). */
  statementAccountId: string;
  kind: 'bank' | 'card' | 'investment' | 'unknown';
  currency: string | null;
  lines: ParsedLine[];
  balances: ParsedBalance[];
  /** Investment positions stated by the file (OFX INVPOSLIST): reported, not booked. */
  positionCount: number;
}

export interface ParsedStatement {
  format: StatementFormat;
  accounts: ParsedAccount[];
  /** Things the file said that we read but did not take (an empty balance, amounts below a cent rounded). */
  warnings: { line: number; message: string }[];
}

/** A file we refuse: names the file and the line, so the owner can open it and see. Nothing is written. */
export class StatementError extends Error {
  override readonly name = 'StatementError';
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    // A quoted value from the file can be anything up to the whole file (a 200,000-character field): the message
    // quotes its start and says how long it was.
    const quoted = message.replace(/"([^"]{81,})"/g, (_whole, value: string) => `"${value.slice(0, 60)}…" (${value.length.toLocaleString('en-US')} characters)`);
    super(`${file}:${line}: ${quoted}`);
    this.reason = quoted;
  }
  readonly reason: string;
}
