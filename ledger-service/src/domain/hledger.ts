import type { AccountClass } from './accounts';
import { assert } from './errors';
import { formatCents } from './money';

// A plain-text journal that hledger and ledger-cli both read: one transaction per entry, in posting order, with
// a balance assertion on each account's last posting in a transaction. Another program re-adding our postings
// and checking every running balance is what makes the export trustworthy, so the assertions are not optional.

/** hledger infers account types from these top-level names; they are also declared with `type:` tags. */
const TOP_LEVEL: Record<AccountClass, { name: string; type: string }> = {
  asset: { name: 'assets', type: 'A' },
  liability: { name: 'liabilities', type: 'L' },
  equity: { name: 'equity', type: 'E' },
  income: { name: 'income', type: 'R' },
  expense: { name: 'expenses', type: 'X' },
};

/**
 * One segment of an account name: hledger ends a name at two spaces or a tab, splits it at ':', and starts a
 * comment at ';'. Those become single spaces or '-', so the name stays readable and parses back the same.
 */
export function accountSegment(text: string): string {
  const cleaned = text
    .replace(/[:;]/g, '-')
    .replace(/[\s\u00a0]+/g, ' ')
    .replace(/[()[\]]/g, '')
    .trim();
  return cleaned.length > 0 ? cleaned : '-';
}

export interface JournalAccount {
  id: string;
  name: string;
  class: AccountClass;
  kind: string;
}

/**
 * `assets:checking:Business Checking`. Two accounts whose names clean up to the same text get the start of their
 * id appended, so no two Veil accounts ever merge into one hledger account.
 */
export function journalAccountNames(accounts: readonly JournalAccount[]): Map<string, string> {
  const base = accounts.map((account) => ({ account, name: `${TOP_LEVEL[account.class].name}:${accountSegment(account.kind)}:${accountSegment(account.name)}` }));
  const counts = new Map<string, number>();
  for (const { name } of base) counts.set(name.toLowerCase(), (counts.get(name.toLowerCase()) ?? 0) + 1);
  const names = new Map<string, string>();
  for (const { account, name } of base) {
    names.set(account.id, (counts.get(name.toLowerCase()) ?? 0) > 1 ? `${name} ${account.id.slice(0, 8)}` : name);
  }
  return names;
}

/** Descriptions and memos are one line, and ';' would start a comment early. */
function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').replace(/;/g, ',').replace(/ {2,}/g, ' ').trim();
}

export interface JournalEntry {
  id: string;
  seq: string;
  postedOn: string;
  description: string;
  reversesEntryId: string | null;
  postings: { accountId: string; currency: string; amountCents: number; memo: string | null }[];
}

export function journalAmount(cents: number, currency: string): string {
  return `${formatCents(cents)} ${currency}`;
}

/**
 * Renders the journal header (commodity and account declarations). `currencies` fixes the display precision at
 * two decimals so hledger prints cents exactly.
 */
export function journalHeader(title: string, currencies: readonly string[], accounts: readonly JournalAccount[], names: ReadonlyMap<string, string>): string {
  const lines = [`; ${oneLine(title)}`, '; Exported by Veil. Amounts are exact cents; every posting carries a balance assertion.', ''];
  for (const currency of currencies) lines.push(`commodity 1000.00 ${currency}`);
  lines.push('');
  for (const [accountClass, top] of Object.entries(TOP_LEVEL)) {
    if (accounts.some((account) => account.class === accountClass)) lines.push(`account ${top.name}  ; type: ${top.type}`);
  }
  for (const account of [...accounts].sort((a, b) => (names.get(a.id) ?? '').localeCompare(names.get(b.id) ?? ''))) {
    lines.push(`account ${names.get(account.id)}`);
  }
  return `${lines.join('\n')}\n\n`;
}

/**
 * Renders one entry. `running` holds each account's balance before the entry and is advanced here, so the
 * caller must pass entries in booking order (posted on, then sequence) — the order hledger checks assertions in.
 */
export function journalTransaction(entry: JournalEntry, names: ReadonlyMap<string, string>, running: Map<string, number>): string {
  const header = `${entry.postedOn} (${entry.seq}) ${oneLine(entry.description) || 'entry'}  ; entry: ${entry.id}${entry.reversesEntryId ? `, reverses: ${entry.reversesEntryId}` : ''}`;
  const lastIndex = new Map<string, number>();
  entry.postings.forEach((posting, index) => lastIndex.set(posting.accountId, index));
  const lines = [header];
  entry.postings.forEach((posting, index) => {
    const name = names.get(posting.accountId);
    assert(name !== undefined, `journal export: account ${posting.accountId} has no name`);
    const balance = (running.get(posting.accountId) ?? 0) + posting.amountCents;
    assert(Number.isSafeInteger(balance), 'journal export: running balance is not a safe integer');
    running.set(posting.accountId, balance);
    // hledger checks an assertion after the posting it is written on; asserting only on an account's last posting
    // in the transaction states its balance after the whole entry, whatever order the postings come in.
    const assertion = lastIndex.get(posting.accountId) === index ? ` = ${journalAmount(balance, posting.currency)}` : '';
    const memo = posting.memo ? `  ; ${oneLine(posting.memo)}` : '';
    lines.push(`    ${name}  ${journalAmount(posting.amountCents, posting.currency)}${assertion}${memo}`);
  });
  return `${lines.join('\n')}\n\n`;
}
