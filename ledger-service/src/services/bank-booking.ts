import type { Transaction } from 'kysely';
import type { Database } from '../db/database';
import { RuleViolation } from '../domain/errors';
import { getBankLine, setBankLineStatus, type BankLine } from './bank-lines';
import type { Actor } from './context';
import { bookEntries, reverseEntry, type BookedEntry } from './journal';

type Trx = Transaction<Database>;

/** Where a bank line's money went (or came from), in the line's own entity: one category, or a split. */
export interface Categorisation {
  splits: { accountId: string; amountCents: number; memo?: string | null | undefined }[];
  description?: string | undefined;
}

const BOOKABLE = new Set(['unmatched', 'review']);

/** The entry key that makes booking a line at most once, whoever asks and however often. */
export function bankLineEntryKey(bankLineId: string): string {
  return `bank-line:${bankLineId}`;
}

/**
 * Books a posted bank line as an entry in its own entity: the bank account moves by the line's amount, the split
 * accounts take the other side. A pending line is shown, never booked (its posted successor is). A split that
 * reaches another entity's account is a crossing of the veil and is refused here: it goes through /transfers.
 */
export async function bookBankLine(trx: Trx, bankLineId: string, categorisation: Categorisation, actor: Actor): Promise<{ line: BankLine; entry: BookedEntry }> {
  const line = await getBankLine(trx, bankLineId);
  if (line.pending) throw new RuleViolation('bank_line_pending', 'a pending bank line is booked when it posts', { bankLineId });
  if (!BOOKABLE.has(line.status)) {
    throw new RuleViolation('bank_line_state', `a ${line.status} bank line cannot be booked`, { bankLineId, status: line.status });
  }
  if (categorisation.splits.length === 0) throw new RuleViolation('invalid_request', 'name at least one category account');
  const splitTotal = categorisation.splits.reduce((sum, split) => sum + split.amountCents, 0);
  if (splitTotal !== line.amountCents) {
    throw new RuleViolation('unbalanced_entry', 'the splits must add up to the bank line amount', { lineCents: line.amountCents, splitCents: splitTotal });
  }
  const accounts = await trx
    .selectFrom('accounts')
    .select(['id', 'entityId'])
    .where('id', 'in', categorisation.splits.map((split) => split.accountId))
    .execute();
  for (const split of categorisation.splits) {
    const account = accounts.find((candidate) => candidate.id === split.accountId);
    if (!account) throw new RuleViolation('not_found', 'no such account', { accountId: split.accountId });
    if (account.entityId !== line.entityId) {
      throw new RuleViolation('veil_crossing_unclassified', 'this line would cross into another entity: book it as an inter-entity transfer (POST /transfers)', {
        bankLineId,
        accountId: split.accountId,
      });
    }
  }
  const [entry] = await bookEntries(
    trx,
    line.entityId,
    [
      {
        postedOn: line.postedOn,
        description: categorisation.description ?? line.payee ?? line.memo ?? 'Bank line',
        source: line.source === 'plaid' ? 'plaid' : 'import',
        idempotencyKey: bankLineEntryKey(line.id),
        postings: [
          { accountId: line.accountId, amountCents: line.amountCents, memo: line.memo ?? undefined },
          ...categorisation.splits.map((split) => ({ accountId: split.accountId, amountCents: -split.amountCents, memo: split.memo ?? undefined })),
        ],
      },
    ],
    actor,
  );
  const booked = await setBankLineStatus(trx, line.id, { status: 'booked', entryId: (entry as BookedEntry).id }, actor);
  return { line: booked, entry: entry as BookedEntry };
}

/**
 * The bank took a line back (Plaid `removed`, a pending line superseded by its posted form, a corrected statement):
 * the line is marked removed and the entry booked from it, if any, is reversed. Nothing is deleted.
 */
export async function withdrawBankLine(trx: Trx, bankLineId: string, reason: string, actor: Actor): Promise<{ line: BankLine; reversalEntryId: string | null }> {
  const line = await getBankLine(trx, bankLineId);
  if (line.status === 'removed') return { line, reversalEntryId: null };
  let reversalEntryId: string | null = null;
  if (line.entryId !== null) {
    const reversal = await reverseEntry(trx, line.entryId, { description: `Withdrawn by the bank: ${reason}` }, actor);
    reversalEntryId = reversal.id;
  }
  const removed = await setBankLineStatus(trx, line.id, { status: 'removed', reason }, actor);
  return { line: removed, reversalEntryId };
}

/** The owner decides a line needs no entry (a duplicate the bank sent under two ids, a line already booked by hand). */
export async function ignoreBankLine(trx: Trx, bankLineId: string, reason: string, actor: Actor): Promise<BankLine> {
  const line = await getBankLine(trx, bankLineId);
  if (!BOOKABLE.has(line.status)) {
    throw new RuleViolation('bank_line_state', `a ${line.status} bank line cannot be ignored`, { bankLineId, status: line.status });
  }
  return setBankLineStatus(trx, line.id, { status: 'ignored', reason }, actor);
}
