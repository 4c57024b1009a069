import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database';
import { dueDates, parseBillRule } from '../domain/bills';
import { addDays, daysBetween } from '../domain/dates';
import { centsFromDb } from '../domain/money';
import { recordAudit } from './audit';
import { bookBankLines } from './bank-booking';
import type { BankLine } from './bank-lines';
import { actorLabel, type Actor } from './context';
import { payeeSimilarity } from './payee-similarity';

type Trx = Transaction<Database>;

// A bank line that pays a bill settles its occurrence, so the owner never pays (or books) a bill twice:
// - an occurrence still open: the line is booked to the bill's category and the occurrence is paid by that entry;
// - an occurrence already paid in Veil (Pay Bill, autopay) whose entry no bank line has yet: the line is matched to
//   that entry, and nothing is booked again.
// A line pays a bill when it leaves the bill's pay-from account, its date is from PAID_EARLY_DAYS before the due
// date to PAID_LATE_DAYS after, its amount is the bill's (an estimated bill: within ESTIMATE_TOLERANCE), and its
// payee looks like the bill's payee or name. Each line settles at most one occurrence and each occurrence takes at
// most one line; the closest due date wins.

export const PAID_EARLY_DAYS = 5;
export const PAID_LATE_DAYS = 10;
/** An estimated bill (utilities) matches a payment within this share of its estimate, either way. */
export const ESTIMATE_TOLERANCE = 0.25;
const PAYEE_SIMILARITY_MIN = 0.5;

interface OpenOccurrence {
  billId: string;
  billName: string;
  payee: string;
  dueOn: string;
  amountCents: number;
  estimated: boolean;
  categoryAccountId: string;
  /** The live settlement's entry when the occurrence is paid; null when open. */
  paidEntryId: string | null;
  nextSettlement: number;
}

function amountFits(occurrence: OpenOccurrence, paidCents: number): boolean {
  if (!occurrence.estimated) return paidCents === occurrence.amountCents;
  return Math.abs(paidCents - occurrence.amountCents) <= Math.round(occurrence.amountCents * ESTIMATE_TOLERANCE);
}

/**
 * Settles the bill occurrences these lines pay (all of one entity) and returns the lines it settled or matched
 * (booked or matched from then on); the others are left for the rules. In the caller's transaction.
 */
export async function matchBillPayments(trx: Trx, entityId: string, lines: readonly BankLine[], actor: Actor): Promise<Map<string, { entryId: string; status: 'booked' | 'matched' }>> {
  const handled = new Map<string, { entryId: string; status: 'booked' | 'matched' }>();
  const outgoing = lines.filter((line) => line.entityId === entityId && !line.pending && line.status === 'unmatched' && line.amountCents < 0);
  if (outgoing.length === 0) return handled;
  const accountIds = [...new Set(outgoing.map((line) => line.accountId))];
  const bills = await trx
    .selectFrom('bills')
    .select(['id', 'name', 'payee', 'amountCents', 'estimated', 'categoryAccountId', 'payFromAccountId', 'rrule', 'startsOn'])
    .where('entityId', '=', entityId)
    .where('payFromAccountId', 'in', accountIds)
    .execute();
  if (bills.length === 0) return handled;
  const dates = outgoing.map((line) => line.postedOn).sort();
  const fromOn = addDays(dates[0] as string, -PAID_LATE_DAYS);
  const toOn = addDays(dates.at(-1) as string, PAID_EARLY_DAYS);
  // Every occurrence of these bills due in the window, open or paid, with its settlements so far.
  const settlements = await trx
    .selectFrom('billOccurrences as o')
    .leftJoin('journalEntries as r', 'r.reversesEntryId', 'o.entryId')
    .select(['o.billId', 'o.dueOn', 'o.settlement', 'o.status', 'o.entryId', 'r.id as reversalId'])
    .where('o.billId', 'in', bills.map((bill) => bill.id))
    .where('o.dueOn', '>=', fromOn)
    .where('o.dueOn', '<=', toOn)
    .execute();
  const settlementsOf = new Map<string, (typeof settlements)[number][]>();
  for (const row of settlements) settlementsOf.set(`${row.billId}:${row.dueOn}`, [...(settlementsOf.get(`${row.billId}:${row.dueOn}`) ?? []), row]);
  const occurrences: OpenOccurrence[] = [];
  for (const bill of bills) {
    for (const dueOn of dueDates(parseBillRule(bill.rrule, bill.startsOn), fromOn, toOn)) {
      const rows = settlementsOf.get(`${bill.id}:${dueOn}`) ?? [];
      const live = rows.find((row) => !(row.status === 'paid' && row.reversalId !== null));
      if (live !== undefined && live.status !== 'paid') continue; // skipped: nothing to pay
      occurrences.push({
        billId: bill.id,
        billName: bill.name,
        payee: bill.payee,
        dueOn,
        amountCents: centsFromDb(bill.amountCents),
        estimated: bill.estimated,
        categoryAccountId: bill.categoryAccountId,
        paidEntryId: live?.entryId ?? null,
        nextSettlement: Math.max(0, ...rows.map((row) => row.settlement)) + 1,
      });
    }
  }
  if (occurrences.length === 0) return handled;
  // Entries of paid occurrences that a bank line already stands for are taken.
  const paidEntries = occurrences.flatMap((occurrence) => (occurrence.paidEntryId === null ? [] : [occurrence.paidEntryId]));
  const taken = new Set(
    paidEntries.length === 0
      ? []
      : (await trx.selectFrom('bankLines').select('entryId').where('entryId', 'in', paidEntries).where('status', 'in', ['booked', 'matched']).execute()).map((row) => row.entryId),
  );
  const billOf = new Map(bills.map((bill) => [bill.id, bill]));
  const claimed = new Set<string>();
  const toBook: { line: BankLine; occurrence: OpenOccurrence }[] = [];
  const toMatch: { line: BankLine; occurrence: OpenOccurrence; entryId: string }[] = [];
  // Per pay-from account, by due date: a line looks only at the occurrences due within its window (a large import
  // over years meets many occurrences; each line scans a few).
  const byAccount = new Map<string, OpenOccurrence[]>();
  for (const occurrence of occurrences) {
    const accountId = billOf.get(occurrence.billId)?.payFromAccountId as string;
    byAccount.set(accountId, [...(byAccount.get(accountId) ?? []), occurrence]);
  }
  for (const list of byAccount.values()) list.sort((a, b) => (a.dueOn < b.dueOn ? -1 : a.dueOn > b.dueOn ? 1 : 0));
  const near = (line: BankLine): OpenOccurrence[] => {
    const list = byAccount.get(line.accountId) ?? [];
    const earliest = addDays(line.postedOn, -PAID_LATE_DAYS);
    const latest = addDays(line.postedOn, PAID_EARLY_DAYS);
    let low = 0;
    let high = list.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((list[middle] as OpenOccurrence).dueOn < earliest) low = middle + 1;
      else high = middle;
    }
    const found: OpenOccurrence[] = [];
    for (let index = low; index < list.length && (list[index] as OpenOccurrence).dueOn <= latest; index += 1) found.push(list[index] as OpenOccurrence);
    return found;
  };
  for (const line of outgoing) {
    let best: { occurrence: OpenOccurrence; days: number } | undefined;
    for (const occurrence of near(line)) {
      const key = `${occurrence.billId}:${occurrence.dueOn}`;
      if (claimed.has(key)) continue;
      if (occurrence.paidEntryId !== null && taken.has(occurrence.paidEntryId)) continue;
      const days = daysBetween(occurrence.dueOn, line.postedOn);
      if (days < -PAID_EARLY_DAYS || days > PAID_LATE_DAYS) continue;
      if (!amountFits(occurrence, -line.amountCents)) continue;
      if (Math.max(payeeSimilarity(occurrence.payee, line.payee), payeeSimilarity(occurrence.billName, line.payee)) < PAYEE_SIMILARITY_MIN) continue;
      if (!best || Math.abs(days) < Math.abs(best.days)) best = { occurrence, days };
    }
    if (!best) continue;
    claimed.add(`${best.occurrence.billId}:${best.occurrence.dueOn}`);
    if (best.occurrence.paidEntryId === null) toBook.push({ line, occurrence: best.occurrence });
    else toMatch.push({ line, occurrence: best.occurrence, entryId: best.occurrence.paidEntryId });
  }
  if (toBook.length > 0) {
    const entries = await bookBankLines(
      trx,
      actor,
      entityId,
      toBook.map(({ line, occurrence }) => ({
        line,
        categorisation: {
          splits: [{ accountId: occurrence.categoryAccountId, amountCents: line.amountCents }],
          description: `${occurrence.billName}: ${occurrence.payee} (due ${occurrence.dueOn})`,
        },
      })),
    );
    const rows = toBook.map(({ line, occurrence }, index) => ({
      billId: occurrence.billId,
      entityId,
      dueOn: occurrence.dueOn,
      settlement: occurrence.nextSettlement,
      status: 'paid' as const,
      amountCents: -line.amountCents,
      paidOn: line.postedOn,
      entryId: (entries[index] as { id: string }).id,
      reason: null,
      actor: actorLabel(actor),
    }));
    await trx.insertInto('billOccurrences').values(rows).execute();
    for (const [index, { line, occurrence }] of toBook.entries()) {
      handled.set(line.id, { entryId: rows[index]?.entryId as string, status: 'booked' });
      recordAudit(trx, actor, {
        action: 'bill.paid',
        entityId,
        objectType: 'bill',
        objectId: occurrence.billId,
        after: { dueOn: occurrence.dueOn, amountCents: -line.amountCents, paidOn: line.postedOn, entryId: rows[index]?.entryId, bankLineId: line.id },
      });
    }
  }
  for (const { line, occurrence, entryId } of toMatch) {
    const updated = await sql<{ id: string }>`
      update bank_lines set status = 'matched', entry_id = ${entryId}, status_reason = ${`the bank's side of the ${occurrence.dueOn} payment of ${occurrence.billName}`}, updated_at = now()
       where id = ${line.id} and status = 'unmatched' and not pending
      returning id`.execute(trx);
    if (updated.rows.length === 0) continue;
    handled.set(line.id, { entryId, status: 'matched' });
    recordAudit(trx, actor, {
      action: 'bank_line.status_changed',
      entityId,
      objectType: 'bank_line',
      objectId: line.id,
      before: { status: line.status, entryId: line.entryId },
      after: { status: 'matched', entryId, billId: occurrence.billId, dueOn: occurrence.dueOn },
    });
  }
  return handled;
}
