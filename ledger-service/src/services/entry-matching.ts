import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database';
import { daysBetween, addDays } from '../domain/dates';
import { centsFromDb } from '../domain/money';
import { recordAudit } from './audit';
import type { BankLine } from './bank-lines';
import type { Actor } from './context';

type Trx = Transaction<Database>;

// Money Veil moved before the bank said so: a Transfer, an owner draw, a bill paid through Pay Bill, a Plaid
// Transfer, an entry typed in by hand. When the bank's own line for that money arrives (import, Plaid sync, manual
// line), it must stand for the entry already booked, never be booked a second time by a rule or a transfer match.
//
// A line matches an entry when the entry has a posting on the line's account for exactly the line's amount (both
// signed the same way: positive = money into the account), the entry is dated from ENTRY_EARLY_DAYS after the
// line to ENTRY_LATE_DAYS before it (banks post after the ledger books, ACH takes days), and no bank line stands
// for that posting yet. Each posting takes one line, each line one posting; the closest date wins, then the entry
// booked first. Not candidates: entries that opened an account (opening balances); an entry since reversed (a
// correction: no money moved, net); and a reversal, unless the bank showed the entry it reverses on that account
// (a returned Plaid Transfer: the bank shows the money coming back) — so never the reversal of a typed mistake, nor
// the reversal of an entry whose bank line the bank withdrew (that reversal only echoes the bank).

/** How far the bank's line may come before the entry's date (a back-dated entry). */
export const ENTRY_EARLY_DAYS = 3;
/** How far after the entry's date the bank may post it (ACH, weekends, holidays). */
export const ENTRY_LATE_DAYS = 10;

interface Candidate {
  entryId: string;
  accountId: string;
  amountCents: number;
  postedOn: string;
  description: string;
  createdAt: number;
}

/**
 * Matches these lines (any entities, status unmatched, not pending) to the entries Veil already booked for them;
 * returns line id → entry id for the lines it matched. In the caller's transaction.
 */
export async function matchBookedEntries(trx: Trx, lines: readonly BankLine[], actor: Actor): Promise<Map<string, string>> {
  return applyEntryMatches(trx, await findBookedEntries(trx, lines), actor);
}

/** A line and the entry already booked that it stands for, as findBookedEntries pairs them. */
export interface EntryMatch {
  line: BankLine;
  entryId: string;
  description: string;
  postedOn: string;
}

/**
 * matchBookedEntries' choice, without writing: which of these lines stand for which entries. The lines need not be
 * stored yet (a sync stores the lines no step acts on already booked): only the postings are read.
 */
export async function findBookedEntries(trx: Trx, lines: readonly BankLine[]): Promise<EntryMatch[]> {
  const waiting = lines.filter((line) => line.status === 'unmatched' && !line.pending && line.amountCents !== 0);
  if (waiting.length === 0) return [];
  const accountIds = [...new Set(waiting.map((line) => line.accountId))];
  // A posting's entity is its entry's (and its account's): naming the entities lets the window come from the
  // entries' (entity, date) index instead of every posting the accounts ever had, which grew with the books.
  const entityIds = [...new Set(waiting.map((line) => line.entityId))];
  const dates = waiting.map((line) => line.postedOn).sort();
  const fromOn = addDays(dates[0] as string, -ENTRY_LATE_DAYS);
  const toOn = addDays(dates.at(-1) as string, ENTRY_EARLY_DAYS);
  // Only a posting of a waiting line's amount can be paired (the pairing below keys on account and amount), so the
  // others are dropped before the claimed test: a Plaid page's window holds thousands of postings, nearly all
  // already claimed by their own lines, and that test cost a probe of bank_lines for each.
  const amounts = [...new Set(waiting.map((line) => line.amountCents))];
  // Unclaimed postings on these accounts in the window, in one statement; the costlier tests run only on those.
  const rows = await sql<{ entryId: string; accountId: string; amountCents: string | number; postedOn: string; description: string; createdAt: Date }>`
    with unclaimed as materialized (
      select p.entry_id, p.account_id, p.amount_cents, e.posted_on, e.description, e.created_at, e.reverses_entry_id
        from journal_entries e
        join postings p on p.entry_id = e.id
       where e.entity_id in (${sql.join(entityIds)})
         and e.posted_on between ${fromOn}::date and ${toOn}::date
         and p.account_id in (${sql.join(accountIds)})
         and p.amount_cents in (${sql.join(amounts)})
         and not exists (select 1 from bank_lines b where b.entry_id = p.entry_id and b.account_id = p.account_id))
    select c.entry_id as "entryId", c.account_id as "accountId", c.amount_cents as "amountCents",
           to_char(c.posted_on, 'YYYY-MM-DD') as "postedOn", c.description, c.created_at as "createdAt"
      from unclaimed c
     where not exists (select 1 from postings o join accounts a on a.id = o.account_id
                        where o.entry_id = c.entry_id and a.kind = 'opening_balance')
       and not exists (select 1 from journal_entries r where r.reverses_entry_id = c.entry_id)
       and (c.reverses_entry_id is null
            or exists (select 1 from bank_lines w where w.entry_id = c.reverses_entry_id and w.account_id = c.account_id
                          and w.status in ('matched', 'booked')))`.execute(trx);
  if (rows.rows.length === 0) return [];
  const byKey = new Map<string, Candidate[]>();
  for (const row of rows.rows) {
    const candidate: Candidate = {
      entryId: row.entryId,
      accountId: row.accountId,
      amountCents: centsFromDb(row.amountCents),
      postedOn: row.postedOn,
      description: row.description,
      createdAt: new Date(row.createdAt).getTime(),
    };
    const key = `${candidate.accountId}|${candidate.amountCents}`;
    const list = byKey.get(key);
    if (list) list.push(candidate);
    else byKey.set(key, [candidate]);
  }
  const taken = new Set<string>();
  const pairs: { line: BankLine; candidate: Candidate }[] = [];
  for (const line of waiting) {
    let best: { candidate: Candidate; days: number } | undefined;
    for (const candidate of byKey.get(`${line.accountId}|${line.amountCents}`) ?? []) {
      if (taken.has(`${candidate.entryId}|${candidate.accountId}`)) continue;
      // Positive: the bank posted after the entry's date.
      const days = daysBetween(candidate.postedOn, line.postedOn);
      if (days < -ENTRY_EARLY_DAYS || days > ENTRY_LATE_DAYS) continue;
      if (
        !best ||
        Math.abs(days) < Math.abs(best.days) ||
        (Math.abs(days) === Math.abs(best.days) && candidate.createdAt < best.candidate.createdAt)
      ) {
        best = { candidate, days };
      }
    }
    if (!best) continue;
    taken.add(`${best.candidate.entryId}|${best.candidate.accountId}`);
    pairs.push({ line, candidate: best.candidate });
  }
  return pairs.map(({ line, candidate }) => ({ line, entryId: candidate.entryId, description: candidate.description, postedOn: candidate.postedOn }));
}

/** Marks the (stored) lines of these matches matched to their entries; returns line id → entry id for those it marked. */
export async function applyEntryMatches(trx: Trx, pairs: readonly EntryMatch[], actor: Actor): Promise<Map<string, string>> {
  const matched = new Map<string, string>();
  for (let start = 0; start < pairs.length; start += 1_000) {
    const chunk = pairs.slice(start, start + 1_000);
    const values = chunk.map(
      (pair) => sql`(${pair.line.id}::uuid, ${pair.entryId}::uuid, ${`the bank's side of "${pair.description}" of ${pair.postedOn}, already in the books`}::text)`,
    );
    const updated = await sql<{ id: string }>`
      update bank_lines as l set status = 'matched', entry_id = v.entry_id, status_reason = v.reason, updated_at = now()
        from (values ${sql.join(values)}) as v (id, entry_id, reason)
       where l.id = v.id and l.status = 'unmatched' and not l.pending
      returning l.id`.execute(trx);
    const done = new Set(updated.rows.map((row) => row.id));
    for (const { line, entryId } of chunk) {
      if (!done.has(line.id)) continue;
      matched.set(line.id, entryId);
      recordAudit(trx, actor, {
        action: 'bank_line.status_changed',
        entityId: line.entityId,
        objectType: 'bank_line',
        objectId: line.id,
        before: { status: line.status, entryId: line.entryId },
        after: { status: 'matched', entryId, reason: 'already in the books' },
      });
    }
  }
  return matched;
}

/**
 * The other order: an entry booked after its bank line arrived (a Plaid Transfer's reversal, when the bank showed
 * the returned money before Plaid's event said so). Each posting of these entries takes the closest waiting line
 * of its account with its exact amount, within the same window. Returns line id → entry id. In the caller's
 * transaction.
 */
export async function matchWaitingLines(trx: Trx, entryIds: readonly string[], actor: Actor): Promise<Map<string, string>> {
  const matched = new Map<string, string>();
  if (entryIds.length === 0) return matched;
  const rows = await sql<{ lineId: string; entityId: string; entryId: string; description: string; entryOn: string; lineOn: string }>`
    select l.id as "lineId", l.entity_id as "entityId", p.entry_id as "entryId", e.description,
           to_char(e.posted_on, 'YYYY-MM-DD') as "entryOn", to_char(l.posted_on, 'YYYY-MM-DD') as "lineOn"
      from postings p
      join journal_entries e on e.id = p.entry_id
      join bank_lines l on l.account_id = p.account_id and l.amount_cents = p.amount_cents
     where p.entry_id in (${sql.join(entryIds)})
       and l.status = 'unmatched' and not l.pending
       and l.posted_on between e.posted_on - ${ENTRY_EARLY_DAYS}::int and e.posted_on + ${ENTRY_LATE_DAYS}::int
       and not exists (select 1 from bank_lines b where b.entry_id = p.entry_id and b.account_id = p.account_id)
     order by abs(l.posted_on - e.posted_on), l.created_at, l.id`.execute(trx);
  // Closest first; the statement itself keeps it one line per posting and one posting per line.
  for (const row of rows.rows) {
    if (matched.has(row.lineId)) continue;
    const updated = await sql<{ id: string }>`
      update bank_lines set status = 'matched', entry_id = ${row.entryId}, updated_at = now(),
             status_reason = ${`the bank's side of "${row.description}" of ${row.entryOn}, booked after the line arrived`}
       where id = ${row.lineId} and status = 'unmatched' and not pending
         and not exists (select 1 from bank_lines b where b.entry_id = ${row.entryId} and b.account_id = bank_lines.account_id)
      returning id`.execute(trx);
    if (updated.rows.length === 0) continue;
    matched.set(row.lineId, row.entryId);
    recordAudit(trx, actor, {
      action: 'bank_line.status_changed',
      entityId: row.entityId,
      objectType: 'bank_line',
      objectId: row.lineId,
      before: { status: 'unmatched', entryId: null },
      after: { status: 'matched', entryId: row.entryId, reason: 'booked after the line arrived' },
    });
  }
  return matched;
}
