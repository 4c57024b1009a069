import type { AccountClass } from './accounts';
import { assert } from './errors';
import { formatCents } from './money';
import { toCsv } from './reports';

// The general ledger: every posting of the period, per account, in booking order (posted on, then entry sequence),
// each with the account's balance after it, between the opening balance (the day before) and the closing one.

export interface LedgerPosting {
  accountId: string;
  entryId: string;
  seq: string;
  postedOn: string;
  description: string;
  memo: string | null;
  amountCents: number;
}

export interface LedgerAccount {
  accountId: string;
  name: string;
  code: string | null;
  class: AccountClass;
  kind: string;
  currency: string;
  openingCents: number;
  /** From the closing balances (not derived from the postings), so the roll-forward below is a check. */
  closingCents: number;
}

export interface GeneralLedgerLine {
  postedOn: string;
  entryId: string;
  seq: string;
  description: string;
  memo: string | null;
  /** Debit-positive. */
  amountCents: number;
  /** Debit-positive balance of the account after this posting. */
  balanceCents: number;
}

export interface GeneralLedgerAccount {
  accountId: string;
  name: string;
  code: string | null;
  class: AccountClass;
  kind: string;
  currency: string;
  openingCents: number;
  debitCents: number;
  creditCents: number;
  closingCents: number;
  lines: GeneralLedgerLine[];
}

const CLASS_ORDER: Record<AccountClass, number> = { asset: 0, liability: 1, equity: 2, income: 3, expense: 4 };

/**
 * `postings` must come in booking order. Accounts with neither a balance nor a posting in the period are left out.
 */
export function generalLedger(accounts: readonly LedgerAccount[], postings: readonly LedgerPosting[]): GeneralLedgerAccount[] {
  const byAccount = new Map<string, LedgerPosting[]>();
  for (const posting of postings) {
    const list = byAccount.get(posting.accountId) ?? [];
    list.push(posting);
    byAccount.set(posting.accountId, list);
  }
  const result: GeneralLedgerAccount[] = [];
  for (const account of accounts) {
    const own = byAccount.get(account.accountId) ?? [];
    byAccount.delete(account.accountId);
    if (own.length === 0 && account.openingCents === 0 && account.closingCents === 0) continue;
    let balance = account.openingCents;
    let debitCents = 0;
    let creditCents = 0;
    const lines = own.map((posting) => {
      balance += posting.amountCents;
      if (posting.amountCents > 0) debitCents += posting.amountCents;
      else creditCents -= posting.amountCents;
      assert(Number.isSafeInteger(balance), 'general ledger: a running balance left the safe integer range');
      return { postedOn: posting.postedOn, entryId: posting.entryId, seq: posting.seq, description: posting.description, memo: posting.memo, amountCents: posting.amountCents, balanceCents: balance };
    });
    assert(balance === account.closingCents, `general ledger: ${account.accountId} rolls forward to ${balance}, its closing balance is ${account.closingCents}`);
    result.push({
      accountId: account.accountId,
      name: account.name,
      code: account.code,
      class: account.class,
      kind: account.kind,
      currency: account.currency,
      openingCents: account.openingCents,
      debitCents,
      creditCents,
      closingCents: account.closingCents,
      lines,
    });
  }
  assert(byAccount.size === 0, 'general ledger: a posting names an account that is not in the report');
  return result.sort(
    (a, b) => CLASS_ORDER[a.class] - CLASS_ORDER[b.class] || (a.code ?? '').localeCompare(b.code ?? '') || a.name.localeCompare(b.name) || a.accountId.localeCompare(b.accountId),
  );
}

/** One row per posting between an opening and a closing row per account; debit and credit as decimals. */
export function generalLedgerCsv(accounts: readonly GeneralLedgerAccount[]): string {
  const rows: string[][] = [['account', 'code', 'currency', 'date', 'entry', 'description', 'memo', 'debit', 'credit', 'balance']];
  for (const account of accounts) {
    const base = [account.name, account.code ?? '', account.currency];
    rows.push([...base, '', '', 'Opening balance', '', '', '', formatCents(account.openingCents)]);
    for (const line of account.lines) {
      rows.push([
        ...base,
        line.postedOn,
        line.entryId,
        line.description,
        line.memo ?? '',
        line.amountCents > 0 ? formatCents(line.amountCents) : '',
        line.amountCents < 0 ? formatCents(-line.amountCents) : '',
        formatCents(line.balanceCents),
      ]);
    }
    rows.push([...base, '', '', 'Closing balance', '', formatCents(account.debitCents), formatCents(account.creditCents), formatCents(account.closingCents)]);
  }
  return toCsv(rows);
}
