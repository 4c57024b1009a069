import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database';
import { AssertionFailure, RuleViolation } from '../domain/errors';
import { recordAudit } from './audit';
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

/** The entry key that makes booking a line at most once per attempt, whoever asks and however often. */
export function bankLineEntryKey(bankLineId: string, attempt = 1): string {
  return attempt === 1 ? `bank-line:${bankLineId}` : `bank-line:${bankLineId}#${attempt}`;
}

/** Lines booked again after their entry was reversed: their attempt number (absent: the first). */
async function bookingAttempts(trx: Trx, bankLineIds: readonly string[]): Promise<Map<string, number>> {
  const attempts = new Map<string, number>();
  for (let start = 0; start < bankLineIds.length; start += BOOKING_BATCH_MAX) {
    const rows = await trx
      .selectFrom('bankLines')
      .select(['id', 'bookingAttempt'])
      .where('id', 'in', bankLineIds.slice(start, start + BOOKING_BATCH_MAX))
      .where('bookingAttempt', '>', 1)
      .execute();
    for (const row of rows) attempts.set(row.id, row.bookingAttempt);
  }
  return attempts;
}

/**
 * The owner reversed an entry that bank lines stand for (booked from them, or matched to them): the lines go back
 * to waiting, to be categorised again, and their next booking takes a new entry key. Only the owner's own reversal
 * does this: a rollback or a failed Plaid Transfer keeps its lines, whose money the bank really moved.
 */
export async function releaseBankLines(trx: Trx, entryId: string, reversalEntryId: string, actor: Actor): Promise<string[]> {
  const released = await sql<{ id: string; entityId: string; status: string }>`
    update bank_lines as l
       set status = 'unmatched', entry_id = null, rule_id = null, booking_attempt = l.booking_attempt + 1, updated_at = now(),
           status_reason = ${`its entry was reversed (by ${reversalEntryId}): categorise it again`}
      from (select id, status from bank_lines where entry_id = ${entryId} and status in ('booked', 'matched') and not pending for update) as old
     where l.id = old.id
    returning l.id, l.entity_id as "entityId", old.status`.execute(trx);
  for (const line of released.rows) {
    recordAudit(trx, actor, {
      action: 'bank_line.status_changed',
      entityId: line.entityId,
      objectType: 'bank_line',
      objectId: line.id,
      before: { status: line.status, entryId },
      after: { status: 'unmatched', entryId: null, reason: 'its entry was reversed', reversalEntryId },
    });
  }
  return released.rows.map((line) => line.id);
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
        idempotencyKey: bankLineEntryKey(line.id, (await bookingAttempts(trx, [line.id])).get(line.id)),
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

/** One line for bookBankLines: where its money went, which rule decided it, and the mirror line of a transfer. */
export interface BookingWork {
  line: BankLine;
  categorisation: Categorisation;
  ruleId?: string | null | undefined;
  /** A transfer between two accounts of the entity: this other line is matched to the same entry. */
  mirror?: BankLine | undefined;
}

/** Entries per journal batch: the postings of a batch stay well under PostgreSQL's bind parameter cap. */
export const BOOKING_BATCH_MAX = 1_000;

/**
 * Books many bank lines of ONE entity at once: the very entries bookBankLine would book one by one (same key
 * `bank-line:<id>`, same postings, same checks), through the journal's batch path, then one UPDATE per batch for
 * the lines' status, entry and rule, and one audit row per batch naming every line. All or nothing: a line that
 * is not bookable (pending, already booked, splits that do not add up or reach another entity) refuses the whole
 * call inside the caller's transaction.
 */
export async function bookBankLines(trx: Trx, actor: Actor, entityId: string, work: readonly BookingWork[]): Promise<BookedEntry[]> {
  if (work.length === 0) return [];
  const splitAccountIds = [...new Set(work.flatMap((item) => item.categorisation.splits.map((split) => split.accountId)))];
  const owners = new Map<string, string>();
  for (let start = 0; start < splitAccountIds.length; start += BOOKING_BATCH_MAX) {
    const rows = await trx.selectFrom('accounts').select(['id', 'entityId']).where('id', 'in', splitAccountIds.slice(start, start + BOOKING_BATCH_MAX)).execute();
    for (const row of rows) owners.set(row.id, row.entityId);
  }
  for (const { line, categorisation, mirror } of work) {
    if (line.entityId !== entityId) throw new AssertionFailure(`bookBankLines: line ${line.id} is not of entity ${entityId}`);
    if (line.pending) throw new RuleViolation('bank_line_pending', 'a pending bank line is booked when it posts', { bankLineId: line.id });
    if (!BOOKABLE.has(line.status)) throw new RuleViolation('bank_line_state', `a ${line.status} bank line cannot be booked`, { bankLineId: line.id, status: line.status });
    if (mirror && (mirror.entityId !== entityId || !BOOKABLE.has(mirror.status) || mirror.pending)) {
      throw new RuleViolation('bank_line_state', `a ${mirror.status} bank line cannot be matched`, { bankLineId: mirror.id, status: mirror.status });
    }
    if (categorisation.splits.length === 0) throw new RuleViolation('invalid_request', 'name at least one category account');
    const splitTotal = categorisation.splits.reduce((sum, split) => sum + split.amountCents, 0);
    if (splitTotal !== line.amountCents) {
      throw new RuleViolation('unbalanced_entry', 'the splits must add up to the bank line amount', { lineCents: line.amountCents, splitCents: splitTotal });
    }
    for (const split of categorisation.splits) {
      const owner = owners.get(split.accountId);
      if (owner === undefined) throw new RuleViolation('not_found', 'no such account', { accountId: split.accountId });
      if (owner !== entityId) {
        throw new RuleViolation('veil_crossing_unclassified', 'this line would cross into another entity: book it as an inter-entity transfer (POST /transfers)', {
          bankLineId: line.id,
          accountId: split.accountId,
        });
      }
    }
  }
  const attempts = await bookingAttempts(trx, work.map((item) => item.line.id));
  const booked: BookedEntry[] = [];
  for (let start = 0; start < work.length; start += BOOKING_BATCH_MAX) {
    const chunk = work.slice(start, start + BOOKING_BATCH_MAX);
    const entries = await bookEntries(
      trx,
      entityId,
      chunk.map(({ line, categorisation }) => ({
        postedOn: line.postedOn,
        description: categorisation.description ?? line.payee ?? line.memo ?? 'Bank line',
        source: line.source === 'plaid' ? ('plaid' as const) : ('import' as const),
        idempotencyKey: bankLineEntryKey(line.id, attempts.get(line.id)),
        postings: [
          { accountId: line.accountId, amountCents: line.amountCents, memo: line.memo ?? undefined },
          ...categorisation.splits.map((split) => ({ accountId: split.accountId, amountCents: -split.amountCents, memo: split.memo ?? undefined })),
        ],
      })),
      actor,
    );
    const rows = chunk.flatMap(({ line, ruleId, mirror }, index) => {
      const entryId = (entries[index] as BookedEntry).id;
      const own = sql`(${line.id}::uuid, ${entryId}::uuid, 'booked', ${ruleId ?? null}::uuid, null::text)`;
      return mirror ? [own, sql`(${mirror.id}::uuid, ${entryId}::uuid, 'matched', null::uuid, ${`the other side of transfer line ${line.id}`}::text)`] : [own];
    });
    // Found through the primary key (the ids again as an array), the state checked on the rows found (a CASE the
    // planner cannot answer from an index). Right after an import stored its lines, which the statistics do not know
    // yet, the planner took the index of waiting lines for the few it expected: 356,000 rows read for a batch of
    // 1,000 transfers, 0.6-1.1 s a batch at 200,000 lines.
    const ids = chunk.flatMap(({ line, mirror }) => (mirror ? [line.id, mirror.id] : [line.id]));
    const updated = await sql<{ id: string }>`
      update bank_lines as l
         set status = v.status, entry_id = v.entry_id, rule_id = coalesce(v.rule_id, l.rule_id), status_reason = v.reason, updated_at = now()
        from (values ${sql.join(rows)}) as v (id, entry_id, status, rule_id, reason)
       where l.id = v.id and l.id = any(${ids}::uuid[])
         and case when l.status in ('unmatched', 'review') then not l.pending else false end
      returning l.id`.execute(trx);
    // The lines were checked above from the caller's copy; the database must agree, or nothing is written.
    if (updated.rows.length !== rows.length) {
      throw new RuleViolation('bank_line_state', `${rows.length - updated.rows.length} of these bank lines changed meanwhile (already booked or pending): nothing was booked`);
    }
    recordAudit(trx, actor, {
      action: 'bank_lines.booked',
      entityId,
      objectType: 'bank_line_batch',
      objectId: null,
      after: {
        lines: chunk.map(({ line, ruleId, mirror }, index) => ({
          bankLineId: line.id,
          entryId: (entries[index] as BookedEntry).id,
          ...(ruleId ? { ruleId } : {}),
          ...(mirror ? { matchedLineId: mirror.id } : {}),
        })),
      },
    });
    booked.push(...entries);
  }
  return booked;
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
