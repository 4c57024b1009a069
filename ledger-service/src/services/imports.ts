import { createHash } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { BankLineSource, Database, Db } from '../db/database';
import { addDays, daysBetween } from '../domain/dates';
import { RuleViolation } from '../domain/errors';
import { centsFromDb } from '../domain/money';
import { parseStatement, rowIdentity, StatementError, type CsvMapping, type ParsedAccount, type ParsedLine } from '../import/index';
import { recordAudit } from './audit';
import { getBankLine, recordBankLines, setBankLineStatus, type BankLine, type BankLineDraft } from './bank-lines';
import type { Actor } from './context';
import { applyRulesAndBook } from './rules';
import { matchBookedEntries } from './entry-matching';
import { payeeSimilarity } from './payee-similarity';

export { payeeSimilarity };
import { matchTransfers, type GuardContext } from './transfer-matching';

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
    if (line.externalId !== null && line.externalId.length > 0 && line.externalId.length <= 200) return line.externalId;
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
    let best: { candidate: Candidate; similarity: number; days: number } | undefined;
    for (const candidate of byAmount.get(line.amountCents) ?? []) {
      if (claimed.has(candidate.id)) continue;
      const days = Math.abs(daysBetween(candidate.postedOn, line.postedOn));
      if (days > NEAR_DUPLICATE_DAYS_MAX) continue;
      const similarity = payeeSimilarity(candidate.payee, line.payee);
      if (similarity < PAYEE_SIMILARITY_MIN && candidate.payee !== null && line.payee !== null) continue;
      if (!best || days < best.days || (days === best.days && similarity > best.similarity)) best = { candidate, similarity, days };
    }
    if (!best) continue;
    claimed.add(best.candidate.id);
    const reason =
      `possible duplicate of a ${best.candidate.source} line of ${best.candidate.postedOn} (${best.candidate.payee ?? 'no payee'}): ` +
      `same amount, ${best.days} day${best.days === 1 ? '' : 's'} apart, payee similarity ${best.similarity.toFixed(2)}`;
    verdicts.push({ line, reviewOf: best.candidate.id, reason });
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
function resolveTargets(parsed: readonly ParsedAccount[], accountId: string | undefined, accountMap: Record<string, string> | undefined): string[] {
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
      statementAccounts: parsed.map((account) => ({ statementAccountId: account.statementAccountId, kind: account.kind, currency: account.currency, lines: account.lines.length })),
    });
  }
  return targets;
}

/**
 * Imports one statement file into one account (or, with accountMap, into several of one entity). Everything happens
 * in the caller's transaction: a file refused for any reason writes nothing at all.
 */
export async function importStatement(
  trx: Trx,
  actor: Actor,
  target: { entityId: string; accountId?: string | undefined },
  request: ImportRequest,
  authorize: (accountId: string) => Promise<void>,
  guard: GuardContext,
): Promise<ImportReport> {
  if (request.bytes.length > IMPORT_BYTES_MAX) throw new RuleViolation('invalid_request', `a statement file is at most ${IMPORT_BYTES_MAX} bytes`);
  let csvMapping = request.csvMapping;
  if (csvMapping === undefined && target.accountId !== undefined) {
    const saved = await trx.selectFrom('csvMappings').select('mapping').where('accountId', '=', target.accountId).executeTakeFirst();
    if (saved) csvMapping = saved.mapping as Partial<CsvMapping>;
  }
  let parsed;
  try {
    parsed = await parseStatement(request.bytes, { file: request.fileName, csvMapping });
  } catch (error) {
    if (error instanceof StatementError) refuse(error);
    throw error;
  }
  const targets = resolveTargets(parsed.accounts, target.accountId, request.accountMap);
  const accounts = [];
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
  const reports: ImportAccountReport[] = [];
  const fresh: BankLine[] = [];
  for (const [index, statementAccount] of parsed.accounts.entries()) {
    const account = accounts[index] as (typeof accounts)[number];
    const ids = externalIdsOf(statementAccount.lines);
    const drafts: BankLineDraft[] = statementAccount.lines.map((line, lineIndex) => ({
      externalId: ids[lineIndex] as string,
      postedOn: line.postedOn,
      amountCents: line.amountCents,
      payee: line.payee?.slice(0, 500) ?? null,
      memo: line.memo?.slice(0, 500) ?? null,
      raw: { ...line.raw, file: request.fileName, line: line.line },
    }));
    const recorded = await recordWithReview(trx, { accountId: account.id, source, importId: importRow.id }, drafts, actor);
    for (const balance of statementAccount.balances) {
      await trx
        .insertInto('balanceAssertions')
        .values({ entityId: account.entityId, accountId: account.id, asOn: balance.asOn, balanceCents: balance.amountCents, kind: balance.kind, importId: importRow.id })
        .execute();
    }
    fresh.push(...recorded.inserted.filter((line) => line.status === 'unmatched'));
    reports.push({
      statementAccountId: statementAccount.statementAccountId,
      accountId: account.id,
      lines: statementAccount.lines.length,
      totalCents: statementAccount.lines.reduce((sum, line) => sum + line.amountCents, 0),
      new: recorded.inserted.length,
      skippedExact: recorded.skippedExact,
      queuedForReview: recorded.review.length,
      booked: 0,
      balances: statementAccount.balances,
    });
  }
  // Money Veil already booked (services/entry-matching.ts) before anything could book it again as a transfer or by a rule.
  const matchedToEntries = await matchBookedEntries(trx, fresh, actor);
  const transfers = await matchTransfers(trx, fresh.filter((line) => !matchedToEntries.has(line.id)), actor, guard);
  const applied = await applyRulesAndBook(trx, transfers.rest, actor);
  // Lines booked by a rule, and lines that paid a bill (booked to its category, or matched to its payment).
  const bookedIds = new Set([...applied.booked.map((decision) => decision.bankLineId), ...applied.billPayments]);
  for (const report of reports) {
    report.booked = fresh.filter((line) => line.accountId === report.accountId && bookedIds.has(line.id)).length;
  }
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
    matchedToEntries: matchedToEntries.size + applied.matchedToEntries.length,
    transfersBooked: transfers.matches.filter((match) => match.sameEntity).length,
    transferProposals: transfers.matches.filter((match) => !match.sameEntity).length,
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
