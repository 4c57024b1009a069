import { createHash } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { BankLineSource, Database, Db } from '../db/database';
import { addDays, daysBetween } from '../domain/dates';
import { RuleViolation } from '../domain/errors';
import { centsFromDb } from '../domain/money';
import { parseStatement, rowIdentity, StatementError, type CsvMapping, type ParsedAccount, type ParsedLine, type ParseResult } from '../import/index';
import { recordAudit } from './audit';
import { bookBankLines, type BookingWork } from './bank-booking';
import { getBankLine, getBankLines, recordBankLines, setBankLineStatus, type BankLine, type BankLineDraft } from './bank-lines';
import { matchBillPayments } from './bill-matching';
import type { Actor } from './context';
import { ENTRY_EARLY_DAYS, ENTRY_LATE_DAYS, matchBookedEntries } from './entry-matching';
import { bookFreshLinesByRules, dropStage, FRESH_LINES, LineStage, STAGED_LINES, stagedExternalId, storeWaiting } from './ingest';
import { applyRulesAndBook, compileRule, listRules, splitByShares, type Rule } from './rules';
import { payeeSimilarity } from './payee-similarity';

export { payeeSimilarity };
import { matchStagedTransfers, type GuardContext } from './transfer-matching';

type Trx = Transaction<Database>;

// A statement becomes bank lines without ever losing a real transaction or storing one twice:
// - the bank's own id (FITID…) or, without one, a hash of the normalised row and its ordinal among identical rows
//   of the same file, is the line's external id; an id the account already has is skipped and counted;
// - a new line that looks like a line from another source (same amount, dates within 3 days, similar payee) is
//   stored all the same, with status `review` and the reason, for the owner to accept or reject;
// - then the entity's rules book what they decide, and the rest waits unmatched.

export const NEAR_DUPLICATE_DAYS_MAX = 3;
export const IMPORT_BYTES_MAX = 50 * 1024 * 1024;
const PAYEE_SIMILARITY_MIN = 0.5;
const REVIEW_UPDATE_ROWS = 2_000;

export interface ImportError {
  file: string;
  line: number;
  message: string;
}

export interface ImportAccountReport {
  statementAccountId: string;
  accountId: string;
  lines: number;
  totalCents: number;
  new: number;
  skippedExact: number;
  queuedForReview: number;
  booked: number;
  balances: { kind: string; amountCents: number; asOn: string }[];
}

export interface ImportReport {
  importId: string;
  fileName: string;
  format: string;
  encoding: string | null;
  csvPreset: string | null;
  accounts: ImportAccountReport[];
  new: number;
  skippedExact: number;
  queuedForReview: number;
  booked: number;
  /** Lines that stand for an entry Veil had already booked (a Transfer, a draw, a bill paid in Veil): matched, not booked again. */
  matchedToEntries: number;
  /** Same-entity transfers booked from a line here and its mirror in another account of the entity. */
  transfersBooked: number;
  /** Mirrors found in another entity: proposals for the owner, judged by Entity Guard, never booked here. */
  transferProposals: number;
  warnings: { line: number; message: string }[];
  errors: ImportError[];
}

export interface ImportRequest {
  fileName: string;
  bytes: Uint8Array;
  /** CSV only: how to read the columns; saved on the account when `saveMapping` is true. */
  csvMapping?: Partial<CsvMapping> | undefined;
  saveMapping?: boolean | undefined;
  /** Statement account id (ACCTID, IBAN…) → Veil account, for files that hold several accounts. */
  accountMap?: Record<string, string> | undefined;
}

function refuse(error: StatementError): never {
  throw new RuleViolation('import_invalid', error.message, { errors: [{ file: error.file, line: error.line, message: error.reason }] });
}

/** External ids for lines the bank gave none: stable across re-exports of the same rows, distinct for true repeats. */
export function externalIdsOf(lines: readonly ParsedLine[]): string[] {
  const ordinals = new Map<string, number>();
  return lines.map((line) => {
    const bankId = bankIdOf(line);
    if (bankId !== null) return bankId;
    const identity = rowIdentity(line);
    const ordinal = ordinals.get(identity) ?? 0;
    ordinals.set(identity, ordinal + 1);
    return `row:${createHash('sha256').update(`${identity}\u001e${ordinal}`).digest('hex').slice(0, 40)}`;
  });
}

interface Candidate {
  id: string;
  source: string;
  postedOn: string;
  amountCents: number;
  payee: string | null;
}

/**
 * The earlier line of another source, not yet claimed, that best explains a new line of the same amount: within
 * NEAR_DUPLICATE_DAYS_MAX days, a payee alike (or one of them unknown); closest date first, then most alike payee.
 * Shared by the row-at-a-time path (manual lines) and the set-based import.
 */
function closestNearDuplicate<C extends Omit<Candidate, 'amountCents'>>(
  candidates: Iterable<C>,
  postedOn: string,
  payee: string | null,
  claimed: ReadonlySet<string>,
): { candidate: C; reason: string } | undefined {
  let best: { candidate: C; similarity: number; days: number } | undefined;
  for (const candidate of candidates) {
    if (claimed.has(candidate.id)) continue;
    const days = Math.abs(daysBetween(candidate.postedOn, postedOn));
    if (days > NEAR_DUPLICATE_DAYS_MAX) continue;
    const similarity = payeeSimilarity(candidate.payee, payee);
    if (similarity < PAYEE_SIMILARITY_MIN && candidate.payee !== null && payee !== null) continue;
    if (!best || days < best.days || (days === best.days && similarity > best.similarity)) best = { candidate, similarity, days };
  }
  if (!best) return undefined;
  const reason =
    `possible duplicate of a ${best.candidate.source} line of ${best.candidate.postedOn} (${best.candidate.payee ?? 'no payee'}): ` +
    `same amount, ${best.days} day${best.days === 1 ? '' : 's'} apart, payee similarity ${best.similarity.toFixed(2)}`;
  return { candidate: best.candidate, reason };
}

/**
 * Stores drafts on one account and sends near-duplicates to review. Shared by statement imports and manual entry;
 * runs in the caller's transaction so a refused import stores nothing.
 */
export async function recordWithReview(
  trx: Trx,
  target: { accountId: string; source: BankLineSource; importId?: string | null | undefined },
  drafts: readonly BankLineDraft[],
  actor: Actor,
): Promise<{ inserted: BankLine[]; skippedExact: number; review: BankLine[] }> {
  const recorded = await recordBankLines(trx, target, drafts, actor);
  if (recorded.inserted.length === 0) return { inserted: [], skippedExact: recorded.duplicates.length, review: [] };
  const dates = recorded.inserted.map((line) => line.postedOn).sort();
  // Lines of another source only: the lines just inserted (this source) are never their own near-duplicates.
  const rows = await trx
    .selectFrom('bankLines')
    .select(['id', 'source', 'postedOn', 'amountCents', 'payee'])
    .where('accountId', '=', target.accountId)
    .where('source', '!=', target.source)
    .where('status', '!=', 'removed')
    .where('postedOn', '>=', addDays(dates[0] as string, -NEAR_DUPLICATE_DAYS_MAX))
    .where('postedOn', '<=', addDays(dates.at(-1) as string, NEAR_DUPLICATE_DAYS_MAX))
    .execute();
  // Candidates by amount: each new line looks only at earlier lines of its own amount.
  const byAmount = new Map<number, Candidate[]>();
  for (const row of rows) {
    const candidate = { ...row, amountCents: centsFromDb(row.amountCents) };
    const list = byAmount.get(candidate.amountCents);
    if (list) list.push(candidate);
    else byAmount.set(candidate.amountCents, [candidate]);
  }
  // Each earlier line can explain at most one new line: two real coffees against one earlier coffee is one review.
  const claimed = new Set<string>();
  const verdicts: { line: BankLine; reviewOf: string; reason: string }[] = [];
  for (const line of recorded.inserted) {
    const best = closestNearDuplicate(byAmount.get(line.amountCents) ?? [], line.postedOn, line.payee, claimed);
    if (!best) continue;
    claimed.add(best.candidate.id);
    verdicts.push({ line, reviewOf: best.candidate.id, reason: best.reason });
  }
  // One UPDATE per chunk sends them to review; each line keeps its own audit row, as setBankLineStatus writes it.
  const review: BankLine[] = [];
  for (let start = 0; start < verdicts.length; start += REVIEW_UPDATE_ROWS) {
    const chunk = verdicts.slice(start, start + REVIEW_UPDATE_ROWS);
    const values = chunk.map((verdict) => sql`(${verdict.line.id}::uuid, ${verdict.reviewOf}::uuid, ${verdict.reason}::text)`);
    await sql`
      update bank_lines as l set status = 'review', review_of = v.review_of, status_reason = v.reason, updated_at = now()
        from (values ${sql.join(values)}) as v (id, review_of, reason)
       where l.id = v.id`.execute(trx);
    for (const verdict of chunk) {
      recordAudit(trx, actor, {
        action: 'bank_line.status_changed',
        entityId: verdict.line.entityId,
        objectType: 'bank_line',
        objectId: verdict.line.id,
        before: { status: verdict.line.status, entryId: verdict.line.entryId },
        after: { status: 'review', entryId: verdict.line.entryId, reason: verdict.reason },
      });
      review.push({ ...verdict.line, status: 'review', statusReason: verdict.reason });
    }
  }
  const reviewed = new Map(review.map((line) => [line.id, line]));
  return {
    inserted: recorded.inserted.map((line) => reviewed.get(line.id) ?? line),
    skippedExact: recorded.duplicates.length,
    review,
  };
}

async function accountOf(trx: Trx, accountId: string) {
  const account = await trx.selectFrom('accounts').select(['id', 'entityId', 'currency', 'class', 'name']).where('id', '=', accountId).executeTakeFirst();
  if (!account) throw new RuleViolation('not_found', 'no such account', { accountId });
  return account;
}

/** Which Veil account each statement account goes to; a file with several accounts needs them named. */
function resolveTargets(parsed: readonly ParsedAccount[], lineCounts: readonly number[], accountId: string | undefined, accountMap: Record<string, string> | undefined): string[] {
  const unnamed: string[] = [];
  const targets = parsed.map((account) => {
    const mapped = accountMap?.[account.statementAccountId];
    if (mapped !== undefined) return mapped;
    if (parsed.length === 1 && accountId !== undefined) return accountId;
    unnamed.push(account.statementAccountId);
    return '';
  });
  if (unnamed.length > 0) {
    throw new RuleViolation('import_mapping_required', `this file holds ${parsed.length} accounts: name the Veil account for each of ${unnamed.map((id) => `"${id}"`).join(', ')} in accountMap`, {
      statementAccounts: parsed.map((account, index) => ({ statementAccountId: account.statementAccountId, kind: account.kind, currency: account.currency, lines: lineCounts[index] ?? 0 })),
    });
  }
  return targets;
}

/** Per statement account: the lines read and their sum. */
interface StagedAccount {
  lines: number;
  totalCents: number;
}

/** A bank's own id for a line, when it is one Veil keeps (externalIdsOf); otherwise the id is made from the row. */
function bankIdOf(line: ParsedLine): string | null {
  return line.externalId !== null && line.externalId.length > 0 && line.externalId.length <= 200 ? line.externalId : null;
}

/** Rows of the import's fresh-lines table read back at a time (to book them, or to hand them to bill matching). */
const FRESH_READ_ROWS = 1_000;

/**
 * Imports one statement file into one account (or, with accountMap, into several of one entity). Everything happens
 * in the caller's transaction: a file refused for any reason writes nothing at all.
 *
 * Set-based (services/ingest.ts): the lines are loaded into a table of the transaction as they are parsed (a CSV is
 * streamed, never held as objects), the entity's rules are decided in Node on the way, and each later step (exact
 * dedup, storing, near-duplicates, transfers, bills, booking) is a statement over that table. Only the lines a step
 * acts on (review candidates, transfer pairs, lines to book, a batch at a time) come back to Node.
 */
export async function importStatement(
  trx: Trx,
  actor: Actor,
  target: { entityId: string; accountId?: string | undefined },
  request: ImportRequest,
  authorize: (accountId: string) => Promise<void>,
  guard: GuardContext,
  /** Told as each step ends, by name (the benchmark prints where the time goes). */
  options: { onPhase?: ((phase: string) => void) | undefined } = {},
): Promise<ImportReport> {
  if (request.bytes.length > IMPORT_BYTES_MAX) throw new RuleViolation('invalid_request', `a statement file is at most ${IMPORT_BYTES_MAX} bytes`);
  let csvMapping = request.csvMapping;
  if (csvMapping === undefined && target.accountId !== undefined) {
    const saved = await trx.selectFrom('csvMappings').select('mapping').where('accountId', '=', target.accountId).executeTakeFirst();
    if (saved) csvMapping = saved.mapping as Partial<CsvMapping>;
  }
  const ruleList = await listRules(trx, target.entityId);
  const rules = ruleList.map(compileRule);
  const ruleById = new Map(ruleList.map((rule) => [rule.id, rule]));
  const staged: StagedAccount[] = [];
  const stage = await LineStage.open(trx);
  // A line's raw data as JSON with the file and the line it came from: its own members' text with those two spliced
  // in, as the spread {...raw, file, line} would give them (a repeated key: the last wins in jsonb). The spread and
  // its JSON.stringify cost 2.7 µs a line, the splice 0.3 (2026-11-25).
  const provenance = `"file":${JSON.stringify(request.fileName)},"line":`;
  const rawJsonOf = (line: ParsedLine) => {
    const members = JSON.stringify(line.raw);
    return members === '{}' ? `{${provenance}${line.line}}` : `${members.slice(0, -1)},${provenance}${line.line}}`;
  };
  const add = async (line: ParsedLine, accountIndex: number, accountId: string | undefined) => {
    const account = staged[accountIndex] ?? { lines: 0, totalCents: 0 };
    staged[accountIndex] = account;
    account.lines += 1;
    account.totalCents += line.amountCents;
    const payee = line.payee?.slice(0, 500) ?? null;
    const memo = line.memo?.slice(0, 500) ?? null;
    const decided = accountId === undefined ? undefined : rules.find((rule) => rule.matches({ payee, memo, amountCents: line.amountCents, accountId }));
    const bankId = bankIdOf(line);
    await stage.add({
      accountIndex,
      externalId: bankId,
      identity: bankId === null ? rowIdentity(line) : null,
      postedOn: line.postedOn,
      amountCents: line.amountCents,
      payee,
      memo,
      rawJson: rawJsonOf(line),
      ruleId: decided?.rule.id ?? null,
    });
  };
  // A CSV holds one account: the Veil account its lines go to is known before it is read (resolveTargets agrees).
  const csvTarget = request.accountMap?.[''] ?? target.accountId;
  let parsed: ParseResult;
  let targets: string[];
  try {
    try {
      parsed = await parseStatement(request.bytes, { file: request.fileName, csvMapping, onCsvLine: (line) => add(line, 0, csvTarget) });
    } catch (error) {
      if (error instanceof StatementError) refuse(error);
      throw error;
    }
    const lineCounts = parsed.accounts.map((account, index) => (parsed.format === 'csv' ? (staged[index]?.lines ?? 0) : account.lines.length));
    targets = resolveTargets(parsed.accounts, lineCounts, target.accountId, request.accountMap);
    if (parsed.format !== 'csv') {
      for (const [index, statementAccount] of parsed.accounts.entries()) {
        for (const line of statementAccount.lines) await add(line, index, targets[index]);
      }
    }
    await stage.finish();
  } catch (error) {
    await stage.abort(error);
    throw error;
  }
  options.onPhase?.('parse and stage');
  const accounts: Awaited<ReturnType<typeof accountOf>>[] = [];
  for (const accountId of targets) {
    await authorize(accountId);
    const account = await accountOf(trx, accountId);
    if (account.entityId !== target.entityId) throw new RuleViolation('not_found', 'no such account', { accountId });
    accounts.push(account);
  }
  for (const [index, statementAccount] of parsed.accounts.entries()) {
    const account = accounts[index] as (typeof accounts)[number];
    if (statementAccount.currency !== null && statementAccount.currency.toUpperCase() !== account.currency) {
      throw new RuleViolation('currency_mismatch', `the statement for "${statementAccount.statementAccountId}" is in ${statementAccount.currency}; ${account.name} is in ${account.currency}`, {
        statementAccountId: statementAccount.statementAccountId,
        accountId: account.id,
      });
    }
  }
  for (const account of accounts) {
    if (account.class !== 'asset' && account.class !== 'liability') {
      throw new RuleViolation('account_kind_mismatch', 'bank lines belong to asset or liability accounts (a bank, card or loan account)', { accountId: account.id, class: account.class });
    }
  }
  const sha256 = createHash('sha256').update(request.bytes).digest('hex');
  const importRow = await trx
    .insertInto('imports')
    .values({
      entityId: target.entityId,
      accountId: target.accountId ?? null,
      fileName: request.fileName,
      format: parsed.format,
      fileSha256: sha256,
      report: '{}',
      createdBy: `${actor.type}:${actor.id}`,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const source: BankLineSource = parsed.format;
  const accountValues = accounts.map((account, index) => sql`(${index}::int, ${account.id}::uuid, ${account.entityId}::uuid, ${account.currency}::text)`);
  const fresh = sql.table(FRESH_LINES);
  // A line a rule decided waits (`stored` false) to be stored as booked, with its entry, instead of stored now and
  // updated later: each step that acts on a line stores it first if it waits (storeWaiting). Only for a file of one
  // account: in a file of several, a line may be the transfer mirror of another line of the same file, and those
  // mirrors are looked up among stored lines.
  const deferRuled = accounts.length === 1;
  // Exact dedup: a line whose external id the account already has is skipped (counted); the rest is stored.
  await sql`
    create temporary table ${fresh} on commit drop as
    select k.id, k.entry_id, k.ord, k.account_index, a.account_id, a.entity_id, a.currency, ${source}::text as source,
           ${importRow.id}::uuid as import_id, k.external_id, k.bank_id, k.posted_on, null::date as authorized_on, k.amount_cents, k.payee, k.memo,
           false as pending, null::text as pending_external_id, k.raw, k.rule_id,
           'unmatched'::text as status, not (${deferRuled}::boolean and k.rule_id is not null) as stored
      from (select s.ord, s.id, s.entry_id, s.account_index, ${stagedExternalId} as external_id, s.external_id is not null as bank_id, s.posted_on,
                   s.amount_cents, s.payee, s.memo, s.raw, s.rule_id
              from ${sql.table(STAGED_LINES)} s) as k
      join (values ${sql.join(accountValues)}) as a (account_index, account_id, entity_id, currency) on a.account_index = k.account_index
     where not exists (select 1 from bank_lines b where b.account_id = a.account_id and b.external_id = k.external_id)`.execute(trx);
  // A repeat within the file (the bank gave one id twice): the first wins and the others are duplicates, exactly as
  // one row at a time would have it. Ids made from rows are distinct by construction (their ordinal).
  await sql`
    delete from ${fresh} f
     where f.bank_id and exists (select 1 from ${fresh} g where g.bank_id and g.account_id = f.account_id and g.external_id = f.external_id and g.ord < f.ord)`.execute(trx);
  options.onPhase?.('dedup');
  const freshCount = Number((await sql<{ count: string }>`select count(*) as count from ${fresh} where stored`.execute(trx)).rows[0]?.count ?? 0);
  const stored = await sql`
    insert into bank_lines (id, entity_id, account_id, currency, source, external_id, import_id, posted_on, amount_cents, payee, memo, raw)
    select id, entity_id, account_id, currency, source, external_id, import_id, posted_on, amount_cents, payee, memo, raw
      from ${fresh} where stored order by ord
    on conflict (account_id, external_id) do nothing`.execute(trx);
  // A line another import stored meanwhile: that one wins and ours is a duplicate.
  if (Number(stored.numAffectedRows ?? 0) !== freshCount) {
    await sql`delete from ${fresh} f where f.stored and not exists (select 1 from bank_lines b where b.id = f.id and b.import_id = ${importRow.id}::uuid)`.execute(trx);
  }
  options.onPhase?.('store');
  // Later steps read and mark the lines they act on by id, 1,000-2,000 at a time (review, transfers, bills, storing
  // the lines that wait): without an index each such statement read the whole table, a million rows, 30 of them for
  // the transfers of a million-line file.
  await sql`create index on ${fresh} (id)`.execute(trx);
  await sql`analyze ${fresh}`.execute(trx);
  const perAccount = await sql<{ accountIndex: number; count: string }>`select account_index as "accountIndex", count(*) as count from ${fresh} group by account_index`.execute(trx);
  const newOf = new Map(perAccount.rows.map((row) => [Number(row.accountIndex), Number(row.count)]));
  for (const [index, account] of accounts.entries()) {
    const inserted = newOf.get(index) ?? 0;
    const duplicates = (staged[index]?.lines ?? 0) - inserted;
    if (inserted > 0 || duplicates > 0) {
      recordAudit(trx, actor, {
        action: 'bank_lines.recorded',
        entityId: account.entityId,
        objectType: 'account',
        objectId: account.id,
        after: { source, importId: importRow.id, inserted, duplicates },
      });
    }
  }
  options.onPhase?.('analyze');
  const reviewOf = await sendNearDuplicatesToReview(trx, source, target.entityId, actor);
  for (const [index, statementAccount] of parsed.accounts.entries()) {
    const account = accounts[index] as (typeof accounts)[number];
    for (const balance of statementAccount.balances) {
      await trx
        .insertInto('balanceAssertions')
        .values({ entityId: account.entityId, accountId: account.id, asOn: balance.asOn, balanceCents: balance.amountCents, kind: balance.kind, importId: importRow.id })
        .execute();
    }
  }
  options.onPhase?.('near-duplicates');
  // Money Veil already booked (services/entry-matching.ts), before anything could book it again as a transfer or by
  // a rule. Only the fresh lines whose account and amount meet an unclaimed posting in the window are read back.
  // The entity is named so that the window comes from the entries' (entity, date) index, not every posting the
  // accounts ever had.
  const { rows: entryCandidates } = await sql<{ id: string }>`
    with window_of as (select min(posted_on) - ${ENTRY_LATE_DAYS}::int as from_on, max(posted_on) + ${ENTRY_EARLY_DAYS}::int as to_on from ${fresh}),
         postings_waiting as (
           select distinct p.account_id, p.amount_cents
             from postings p
             join journal_entries e on e.id = p.entry_id
             cross join window_of w
            where e.entity_id = ${target.entityId}::uuid
              and p.account_id in (${sql.join(accounts.map((account) => sql`${account.id}::uuid`))})
              and e.posted_on between w.from_on and w.to_on
              and not exists (select 1 from bank_lines b where b.entry_id = p.entry_id and b.account_id = p.account_id))
    select f.id from ${fresh} f
      join postings_waiting c on c.account_id = f.account_id and c.amount_cents = f.amount_cents
     where f.status = 'unmatched'
     order by f.ord`.execute(trx);
  let matchedToEntries = 0;
  for (let start = 0; start < entryCandidates.length; start += FRESH_READ_ROWS) {
    const ids = entryCandidates.slice(start, start + FRESH_READ_ROWS).map((row) => row.id);
    await storeWaiting(trx, ids);
    const lines = await getBankLines(trx, ids);
    const byId = new Map(lines.map((line) => [line.id, line]));
    const matched = await matchBookedEntries(trx, ids.map((id) => byId.get(id) as BankLine), actor);
    matchedToEntries += matched.size;
    const matchedIds = [...matched.keys()];
    for (let at = 0; at < matchedIds.length; at += REVIEW_UPDATE_ROWS) {
      await sql`update ${fresh} set status = 'entry' where id in (${sql.join(matchedIds.slice(at, at + REVIEW_UPDATE_ROWS).map((id) => sql`${id}::uuid`))})`.execute(trx);
    }
  }
  options.onPhase?.('entries already booked');
  const matches = await matchStagedTransfers(trx, target.entityId, FRESH_LINES, actor, guard, (ids) => storeWaiting(trx, ids));
  const matchedIds = matches.flatMap((match) => [match.outflowLineId, match.inflowLineId]);
  for (let start = 0; start < matchedIds.length; start += REVIEW_UPDATE_ROWS) {
    const chunk = matchedIds.slice(start, start + REVIEW_UPDATE_ROWS);
    await sql`update ${fresh} set status = 'transfer' where id in (${sql.join(chunk.map((id) => sql`${id}::uuid`))})`.execute(trx);
  }
  options.onPhase?.('transfers');
  const bookedOf = new Map<string, number>();
  const count = (accountId: string) => bookedOf.set(accountId, (bookedOf.get(accountId) ?? 0) + 1);
  // A line that pays a bill settles it first (services/bill-matching.ts), before any rule.
  const billAccounts = await trx
    .selectFrom('bills')
    .select('payFromAccountId')
    .distinct()
    .where('entityId', '=', target.entityId)
    .where('payFromAccountId', 'in', accounts.map((account) => account.id))
    .execute();
  if (billAccounts.length > 0) {
    const { rows } = await sql<{ id: string }>`
      select id from ${fresh}
       where status = 'unmatched' and amount_cents < 0 and account_id in (${sql.join(billAccounts.map((row) => sql`${row.payFromAccountId}::uuid`))})
       order by ord`.execute(trx);
    const lines = new Map<string, BankLine>();
    for (let start = 0; start < rows.length; start += FRESH_READ_ROWS) {
      const ids = rows.slice(start, start + FRESH_READ_ROWS).map((row) => row.id);
      await storeWaiting(trx, ids);
      for (const line of await getBankLines(trx, ids)) lines.set(line.id, line);
    }
    const paid = await matchBillPayments(trx, target.entityId, rows.map((row) => lines.get(row.id) as BankLine), actor);
    const paidIds = [...paid.keys()];
    for (const id of paidIds) count((lines.get(id) as BankLine).accountId);
    for (let start = 0; start < paidIds.length; start += REVIEW_UPDATE_ROWS) {
      await sql`update ${fresh} set status = 'bill' where id in (${sql.join(paidIds.slice(start, start + REVIEW_UPDATE_ROWS).map((id) => sql`${id}::uuid`))})`.execute(trx);
    }
  }
  options.onPhase?.('bills');
  // The rules' decisions were taken as the lines were read: book the lines still waiting that a rule decided, set
  // based; what that declines (and lines of split rules) a journal batch at a time, exactly as before.
  await bookFreshLinesByRules(trx, actor, target.entityId, ruleList, 'import', (accountId, lines) => bookedOf.set(accountId, (bookedOf.get(accountId) ?? 0) + lines));
  // What the set-based booking left (split rules, or lines it declined) is booked from stored lines.
  await storeWaiting(trx);
  let afterOrd = -1;
  for (;;) {
    const { rows } = await sql<{ id: string; ord: number; ruleId: string }>`
      select id, ord, rule_id as "ruleId" from ${fresh}
       where status = 'unmatched' and rule_id is not null and ord > ${afterOrd}::int
       order by ord limit ${FRESH_READ_ROWS}::int`.execute(trx);
    if (rows.length === 0) break;
    afterOrd = Number((rows.at(-1) as { ord: number }).ord);
    const lines = new Map((await getBankLines(trx, rows.map((row) => row.id))).map((line) => [line.id, line]));
    const work: BookingWork[] = rows.map((row) => {
      const line = lines.get(row.id) as BankLine;
      const rule = ruleById.get(row.ruleId) as Rule;
      const splits = rule.action.splits ? splitByShares(line.amountCents, rule.action.splits) : [{ accountId: rule.action.categoryAccountId as string, amountCents: line.amountCents }];
      return { line, categorisation: { splits, description: rule.action.description }, ruleId: rule.id };
    });
    await bookBankLines(trx, actor, target.entityId, work);
    for (const item of work) count(item.line.accountId);
  }
  options.onPhase?.('booking');
  await dropStage(trx);
  const reports: ImportAccountReport[] = parsed.accounts.map((statementAccount, index) => {
    const account = accounts[index] as (typeof accounts)[number];
    const lines = staged[index]?.lines ?? 0;
    const inserted = newOf.get(index) ?? 0;
    return {
      statementAccountId: statementAccount.statementAccountId,
      accountId: account.id,
      lines,
      totalCents: staged[index]?.totalCents ?? 0,
      new: inserted,
      skippedExact: lines - inserted,
      queuedForReview: reviewOf.get(account.id) ?? 0,
      booked: bookedOf.get(account.id) ?? 0,
      balances: statementAccount.balances,
    };
  });
  const usedMapping = parsed.csv?.mapping;
  if (usedMapping && request.saveMapping && target.accountId !== undefined) {
    await trx
      .insertInto('csvMappings')
      .values({ accountId: target.accountId, entityId: target.entityId, mapping: JSON.stringify(usedMapping) })
      .onConflict((conflict) => conflict.column('accountId').doUpdateSet({ mapping: JSON.stringify(usedMapping), updatedAt: sql<Date>`now()` }))
      .execute();
  }
  const report: ImportReport = {
    importId: importRow.id,
    fileName: request.fileName,
    format: parsed.format,
    encoding: parsed.encoding,
    csvPreset: parsed.csv?.preset ?? null,
    accounts: reports,
    new: reports.reduce((sum, item) => sum + item.new, 0),
    skippedExact: reports.reduce((sum, item) => sum + item.skippedExact, 0),
    queuedForReview: reports.reduce((sum, item) => sum + item.queuedForReview, 0),
    booked: reports.reduce((sum, item) => sum + item.booked, 0),
    matchedToEntries,
    transfersBooked: matches.filter((match) => match.sameEntity).length,
    transferProposals: matches.filter((match) => !match.sameEntity).length,
    warnings: parsed.warnings.slice(0, 200),
    errors: [],
  };
  await trx.updateTable('imports').set({ report: JSON.stringify(report) }).where('id', '=', importRow.id).execute();
  recordAudit(trx, actor, {
    action: 'import.completed',
    entityId: target.entityId,
    objectType: 'import',
    objectId: importRow.id,
    after: { fileName: request.fileName, sha256, format: parsed.format, new: report.new, skippedExact: report.skippedExact, queuedForReview: report.queuedForReview, booked: report.booked },
  });
  return report;
}

interface NearDuplicateRow {
  lineId: string;
  accountId: string;
  linePostedOn: string;
  linePayee: string | null;
  id: string;
  source: string;
  postedOn: string;
  payee: string | null;
}

/**
 * recordWithReview's near-duplicate check over the import's fresh lines: the lines of another source that could
 * explain each (same account and amount, dates within NEAR_DUPLICATE_DAYS_MAX) come from one statement; the payee
 * similarity and the claiming (each earlier line explains at most one new line, in file order) stay in Node.
 * Returns the lines sent to review per account.
 */
async function sendNearDuplicatesToReview(trx: Trx, source: BankLineSource, entityId: string, actor: Actor): Promise<Map<string, number>> {
  const fresh = sql.table(FRESH_LINES);
  const { rows } = await sql<NearDuplicateRow>`
    with earlier as materialized (
      select b.id, b.account_id, b.source, b.posted_on, b.amount_cents, b.payee
        from bank_lines b
       where b.account_id in (select distinct account_id from ${fresh})
         and b.source <> ${source} and b.status <> 'removed'
         and b.posted_on between (select min(posted_on) from ${fresh}) - ${NEAR_DUPLICATE_DAYS_MAX}::int
                             and (select max(posted_on) from ${fresh}) + ${NEAR_DUPLICATE_DAYS_MAX}::int)
    select f.id as "lineId", f.account_id as "accountId", f.posted_on::text as "linePostedOn", f.payee as "linePayee",
           e.id, e.source, e.posted_on::text as "postedOn", e.payee
      from ${fresh} f
      join earlier e on e.account_id = f.account_id and e.amount_cents = f.amount_cents
                    and e.posted_on between f.posted_on - ${NEAR_DUPLICATE_DAYS_MAX}::int and f.posted_on + ${NEAR_DUPLICATE_DAYS_MAX}::int
     order by f.ord, e.posted_on, e.id`.execute(trx);
  const reviewed = new Map<string, number>();
  if (rows.length === 0) return reviewed;
  const byLine = new Map<string, NearDuplicateRow[]>();
  for (const row of rows) {
    const list = byLine.get(row.lineId);
    if (list) list.push(row);
    else byLine.set(row.lineId, [row]);
  }
  const claimed = new Set<string>();
  const verdicts: { lineId: string; accountId: string; reviewOf: string; reason: string }[] = [];
  for (const [lineId, candidates] of byLine) {
    const line = candidates[0] as NearDuplicateRow;
    const best = closestNearDuplicate(candidates, line.linePostedOn, line.linePayee, claimed);
    if (!best) continue;
    claimed.add(best.candidate.id);
    verdicts.push({ lineId, accountId: line.accountId, reviewOf: best.candidate.id, reason: best.reason });
  }
  for (let start = 0; start < verdicts.length; start += REVIEW_UPDATE_ROWS) {
    const chunk = verdicts.slice(start, start + REVIEW_UPDATE_ROWS);
    await storeWaiting(trx, chunk.map((verdict) => verdict.lineId));
    const values = chunk.map((verdict) => sql`(${verdict.lineId}::uuid, ${verdict.reviewOf}::uuid, ${verdict.reason}::text)`);
    // The ids again as an array, an index condition on bank_lines (bank-booking.ts bookBankLines says why).
    await sql`
      update bank_lines as l set status = 'review', review_of = v.review_of, status_reason = v.reason, updated_at = now()
        from (values ${sql.join(values)}) as v (id, review_of, reason)
       where l.id = v.id and l.id = any(${chunk.map((verdict) => verdict.lineId)}::uuid[])`.execute(trx);
    await sql`update ${fresh} set status = 'review' where id in (${sql.join(chunk.map((verdict) => sql`${verdict.lineId}::uuid`))})`.execute(trx);
    for (const verdict of chunk) {
      recordAudit(trx, actor, {
        action: 'bank_line.status_changed',
        entityId,
        objectType: 'bank_line',
        objectId: verdict.lineId,
        before: { status: 'unmatched', entryId: null },
        after: { status: 'review', entryId: null, reason: verdict.reason },
      });
      reviewed.set(verdict.accountId, (reviewed.get(verdict.accountId) ?? 0) + 1);
    }
  }
  return reviewed;
}

export async function getImport(db: Db, importId: string): Promise<ImportReport & { entityId: string; createdAt: string }> {
  const row = await db.selectFrom('imports').select(['id', 'entityId', 'report', 'createdAt']).where('id', '=', importId).executeTakeFirst();
  if (!row) throw new RuleViolation('not_found', 'no such import', { importId });
  // Reports stored before entry matching existed carry no matchedToEntries: none were matched then.
  const report = row.report as Omit<ImportReport, 'matchedToEntries'> & Partial<Pick<ImportReport, 'matchedToEntries'>>;
  return { ...report, matchedToEntries: report.matchedToEntries ?? 0, entityId: row.entityId, createdAt: row.createdAt.toISOString() };
}

export async function getCsvMapping(db: Db, accountId: string): Promise<Partial<CsvMapping> | null> {
  const row = await db.selectFrom('csvMappings').select('mapping').where('accountId', '=', accountId).executeTakeFirst();
  return row ? (row.mapping as Partial<CsvMapping>) : null;
}

export async function saveCsvMapping(trx: Trx, accountId: string, mapping: Partial<CsvMapping>, actor: Actor): Promise<Partial<CsvMapping>> {
  const account = await accountOf(trx, accountId);
  await trx
    .insertInto('csvMappings')
    .values({ accountId, entityId: account.entityId, mapping: JSON.stringify(mapping) })
    .onConflict((conflict) => conflict.column('accountId').doUpdateSet({ mapping: JSON.stringify(mapping), updatedAt: sql<Date>`now()` }))
    .execute();
  recordAudit(trx, actor, { action: 'csv_mapping.saved', entityId: account.entityId, objectType: 'account', objectId: accountId, after: mapping });
  return mapping;
}

/** A line typed by hand: the same dedup and review as any import, then the rules. */
export async function enterBankLine(
  trx: Trx,
  accountId: string,
  input: { postedOn: string; amountCents: number; payee?: string | undefined; memo?: string | undefined; externalId?: string | undefined },
  idempotencyKey: string,
  actor: Actor,
): Promise<BankLine> {
  const externalId = input.externalId ?? `manual:${createHash('sha256').update(`${actor.type}:${actor.id}:${idempotencyKey}`).digest('hex').slice(0, 40)}`;
  const recorded = await recordWithReview(trx, { accountId, source: 'manual' }, [{ externalId, postedOn: input.postedOn, amountCents: input.amountCents, payee: input.payee ?? null, memo: input.memo ?? null }], actor);
  const line = recorded.inserted[0];
  if (!line) throw new RuleViolation('duplicate_name', `this account already has a bank line with external id "${externalId}"`, { externalId });
  if (line.status === 'unmatched') await applyRulesAndBook(trx, [line], actor);
  return getBankLine(trx, line.id);
}

/** The owner's verdict on a line sent to review: accept (a real transaction) or reject (a duplicate: ignored). */
export async function reviewBankLine(trx: Trx, bankLineId: string, decision: 'accept' | 'reject', reason: string, actor: Actor): Promise<BankLine> {
  const line = await getBankLine(trx, bankLineId);
  if (line.status !== 'review') throw new RuleViolation('bank_line_state', `a ${line.status} bank line is not waiting for review`, { bankLineId, status: line.status });
  if (decision === 'reject') return setBankLineStatus(trx, bankLineId, { status: 'ignored', reason: `rejected in review: ${reason}` }, actor);
  const accepted = await setBankLineStatus(trx, bankLineId, { status: 'unmatched', reason: `accepted in review: ${reason}` }, actor);
  await applyRulesAndBook(trx, [accepted], actor);
  return getBankLine(trx, bankLineId);
}

export interface ReviewItem {
  line: BankLine;
  reviewOf: BankLine | null;
}

export async function reviewQueue(db: Db, entityId: string, limit: number): Promise<ReviewItem[]> {
  const rows = await db.selectFrom('bankLines').select(['id', 'reviewOf']).where('entityId', '=', entityId).where('status', '=', 'review').orderBy('postedOn', 'desc').orderBy('id').limit(limit).execute();
  const items: ReviewItem[] = [];
  for (const row of rows) {
    items.push({ line: await getBankLine(db, row.id), reviewOf: row.reviewOf ? await getBankLine(db, row.reviewOf) : null });
  }
  return items;
}
