import { sql, type SelectQueryBuilder } from 'kysely';
import type { Db } from '../db/database';
import { addDays, addMonths } from '../domain/dates';
import { CASH_KINDS, type AccountClass, type AccountKind } from '../domain/accounts';
import { cashFlowCsv as cashFlowCsvOf, cashFlowStatement } from '../domain/cash-flow';
import { assert, NotFound, RuleViolation } from '../domain/errors';
import { generalLedger as generalLedgerOf, generalLedgerCsv as generalLedgerCsvOf } from '../domain/general-ledger';
import { interEntityStatement as interEntityStatementOf } from '../domain/inter-entity';
import { journalAccountNames, journalHeader, journalTransaction } from '../domain/hledger';
import { centsFromDb, formatCents } from '../domain/money';
import * as reports from '../domain/reports';
import { scheduleC as scheduleCLines, type ScheduleCTable } from '../domain/schedule-c';
import type { AccountTotal } from '../domain/reports';
import { getEntity } from './entities';

// Reports read sums, never every posting: one grouped aggregate per question over the (entity_id, posted_on) index
// of journal_entries, or the balances maintained on the accounts when the question is "as of now".

export interface Period {
  fromOn: string;
  toOn: string;
}

interface Window {
  /** Inclusive; undefined = from the beginning. */
  fromOn?: string;
  /** Inclusive; undefined = everything booked (the maintained balances answer that). */
  toOn?: string;
}

/** Per-account sums of the postings whose entry falls in the window; every account of the entity is listed. */
export async function accountTotals(db: Db, entityId: string, window: Window, classes?: readonly AccountClass[]): Promise<AccountTotal[]> {
  const [totals] = await accountTotalsOver(db, entityId, [window], classes);
  return totals as AccountTotal[];
}

/**
 * accountTotals for several windows in ONE statement (the accounts joined with each window's sums): one round trip,
 * and one snapshot without a transaction around it, which is what a report on a busy server needs — there the
 * round trips, not the aggregates, were the cost. Returns one list per window, in the windows' order.
 */
export async function accountTotalsOver(db: Db, entityId: string, windows: readonly Window[], classes?: readonly AccountClass[]): Promise<AccountTotal[][]> {
  // From a start: the sums of the window. As of a date: the balance maintained on each account by every posting,
  // less what was booked after the date (reports are mostly about recent dates, so that reads far fewer rows than
  // summing from the start). Neither bound: the maintained balances alone.
  const sumsWindows = windows.map((window) =>
    window.fromOn !== undefined ? { fromOn: window.fromOn, toOn: window.toOn } : window.toOn !== undefined ? { fromOn: addDays(window.toOn, 1) } : undefined,
  );
  let accounts = db
    .selectFrom('accounts as a')
    .select(['a.id', 'a.name', 'a.code', 'a.class', 'a.kind', 'a.currency', 'a.counterpartyEntityId', 'a.balanceCents'])
    .where('a.entityId', '=', entityId);
  if (classes) accounts = accounts.where('a.class', 'in', classes);
  // Each window's sums join under its own alias (w0, w1…); kysely cannot type a computed alias, hence the widening.
  let query = accounts as unknown as SelectQueryBuilder<Record<string, Record<string, unknown>>, string, Record<string, unknown>>;
  sumsWindows.forEach((sumsWindow, index) => {
    const alias = `w${index}`;
    query =
      sumsWindow === undefined
        ? query.select(sql<string>`0`.as(alias))
        : query
            .leftJoin(windowSumsQuery(db, entityId, sumsWindow).as(alias), (join) => join.on(sql<boolean>`${sql.ref(`${alias}.accountId`)} = a.id`))
            .select(sql<string>`coalesce(${sql.ref(`${alias}.total`)}, 0)`.as(alias));
  });
  const rows = (await query.execute()) as unknown as (AccountRow & Record<string, string>)[];
  return windows.map((window, index) =>
    rows.map((row) => {
      const windowCents = centsFromDb(row[`w${index}`] as string);
      return {
        accountId: row.id,
        name: row.name,
        code: row.code,
        class: row.class as AccountClass,
        kind: row.kind,
        currency: row.currency,
        counterpartyEntityId: row.counterpartyEntityId,
        balanceCents: window.fromOn !== undefined ? windowCents : centsFromDb(row.balanceCents) - windowCents,
      };
    }),
  );
}

interface AccountRow {
  id: string;
  name: string;
  code: string | null;
  class: string;
  kind: string;
  currency: string;
  counterpartyEntityId: string | null;
  balanceCents: string;
}

const firstOfMonth = (date: string) => `${date.slice(0, 7)}-01`;

/**
 * Per-account sums of the postings whose entry was posted in [fromOn, toOn] (either bound open), from the period
 * totals the postings trigger keeps (0014_period_totals): the whole months inside the window from the month rows,
 * the partial months at its edges from the day rows. A year's P&L on a million postings reads a few hundred rows.
 */
export async function windowSums(db: Db, entityId: string, window: { fromOn?: string | undefined; toOn?: string | undefined }): Promise<Map<string, number>> {
  const rows = await windowSumsQuery(db, entityId, window).execute();
  return new Map(rows.map((row) => [row.accountId, centsFromDb(row.total)]));
}

/** The query behind windowSums: one grouped aggregate over the month rows and the edge days' rows, UNION ALL. */
function windowSumsQuery(db: Db, entityId: string, window: { fromOn?: string | undefined; toOn?: string | undefined }) {
  const { fromOn, toOn } = window;
  // Whole months are those in [firstWhole, pastWhole): from the first month that starts on or after fromOn to the
  // month that holds the day after toOn.
  const firstWhole = fromOn === undefined ? undefined : fromOn.endsWith('-01') ? fromOn : addMonths(firstOfMonth(fromOn), 1);
  const pastWhole = toOn === undefined ? undefined : firstOfMonth(addDays(toOn, 1));
  const days = (from: string | undefined, before: string | undefined, through: string | undefined) => {
    let query = db.selectFrom('accountDayTotals').select(['accountId', 'totalCents']).where('entityId', '=', entityId);
    if (from !== undefined) query = query.where('day', '>=', from);
    if (before !== undefined) query = query.where('day', '<', before);
    if (through !== undefined) query = query.where('day', '<=', through);
    return query;
  };
  let parts;
  if (firstWhole !== undefined && pastWhole !== undefined && firstWhole >= pastWhole) {
    // No whole month inside: the window's days.
    parts = days(fromOn, undefined, toOn);
  } else {
    let months = db.selectFrom('accountMonthTotals').select(['accountId', 'totalCents']).where('entityId', '=', entityId);
    if (firstWhole !== undefined) months = months.where('month', '>=', firstWhole);
    if (pastWhole !== undefined) months = months.where('month', '<', pastWhole);
    parts = months;
    if (fromOn !== undefined && firstWhole !== undefined && fromOn < firstWhole) parts = parts.unionAll(days(fromOn, firstWhole, undefined));
    if (toOn !== undefined && pastWhole !== undefined && pastWhole <= toOn) parts = parts.unionAll(days(pastWhole, undefined, toOn));
  }
  return db
    .selectFrom(parts.as('parts'))
    .select(['parts.accountId', sql<string>`sum(parts.total_cents)`.as('total')])
    .groupBy('parts.accountId');
}

type PostingSumsQuery = ReturnType<typeof postingSumsQuery>;

function postingSumsQuery(db: Db, entityId: string) {
  return db
    .selectFrom('postings as p')
    .innerJoin('journalEntries as e', 'e.id', 'p.entryId')
    .select(['p.accountId', sql<string>`sum(p.amount_cents)`.as('total')])
    .where('e.entityId', '=', entityId)
    .where('p.entityId', '=', entityId)
    .groupBy('p.accountId');
}

/** Per-account sums of the postings whose entry the filter keeps: one grouped aggregate on the posted_on index. */
async function postingSums(db: Db, entityId: string, filter: (query: PostingSumsQuery) => PostingSumsQuery): Promise<Map<string, number>> {
  const rows = await filter(postingSumsQuery(db, entityId)).execute();
  return new Map(rows.map((row) => [row.accountId, centsFromDb(row.total)]));
}

/**
 * Every figure of a report from one snapshot, so an entry booked while the report runs cannot make its parts
 * disagree (and trip the balance assertions).
 */
export function snapshot<T>(db: Db, work: (db: Db) => Promise<T>): Promise<T> {
  return db.transaction().setIsolationLevel('repeatable read').execute((trx) => work(trx));
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** `to` defaults to today and `from` to the first day of `to`'s year (the fiscal year is the calendar year). */
export function periodOf(query: { from?: string; to?: string }, now = today()): Period {
  const toOn = query.to ?? now;
  const fromOn = query.from ?? `${toOn.slice(0, 4)}-01-01`;
  if (fromOn > toOn) throw new RuleViolation('invalid_request', 'from must not be after to', { field: 'query.from' });
  return { fromOn, toOn };
}

export function dayBefore(date: string): string {
  return addDays(date, -1);
}

export interface Header {
  entityId: string;
  entityName: string;
  fromOn: string;
  toOn: string;
}

// The trial balance, balance sheet, income statement and equity statement each read all their figures in one
// statement (accountTotalsOver), which is a consistent snapshot by itself: no transaction around them.

export async function trialBalance(db: Db, entityId: string, period: Period) {
  const entity = await getEntity(db, entityId);
  const totals = await accountTotals(db, entityId, { toOn: period.toOn });
  const header: Header = { entityId, entityName: entity.name, ...period };
  return { ...header, byCurrency: reports.currenciesOf(totals.filter((t) => t.balanceCents !== 0), entity.currency).map((currency) => reports.trialBalance(currency, totals)) };
}

export async function balanceSheet(db: Db, entityId: string, period: Period) {
  const entity = await getEntity(db, entityId);
  const [balances, before] = (await accountTotalsOver(db, entityId, [{ toOn: period.toOn }, { toOn: dayBefore(period.fromOn) }])) as [AccountTotal[], AccountTotal[]];
  const prior = before.filter((t) => t.class === 'income' || t.class === 'expense');
  const header: Header = { entityId, entityName: entity.name, ...period };
  return { ...header, byCurrency: reports.currenciesOf(balances.filter((t) => t.balanceCents !== 0), entity.currency).map((currency) => reports.balanceSheet(currency, balances, prior)) };
}

export async function incomeStatement(db: Db, entityId: string, period: Period) {
  const entity = await getEntity(db, entityId);
  const activity = await accountTotals(db, entityId, { fromOn: period.fromOn, toOn: period.toOn }, ['income', 'expense']);
  const header: Header = { entityId, entityName: entity.name, ...period };
  return { ...header, byCurrency: reports.currenciesOf(activity.filter((t) => t.balanceCents !== 0), entity.currency).map((currency) => reports.incomeStatement(currency, activity)) };
}

/** The owner's equity rolled forward over the period: opening, contributions, net income, draws, closing. */
export async function equityStatement(db: Db, entityId: string, period: Period) {
  const entity = await getEntity(db, entityId);
  const [opening, activity, closing] = (await accountTotalsOver(db, entityId, [
    { toOn: dayBefore(period.fromOn) },
    { fromOn: period.fromOn, toOn: period.toOn },
    { toOn: period.toOn },
  ])) as [AccountTotal[], AccountTotal[], AccountTotal[]];
  const header: Header = { entityId, entityName: entity.name, ...period };
  return { ...header, byCurrency: reports.currenciesOf(closing.filter((t) => t.balanceCents !== 0), entity.currency).map((currency) => reports.equityStatement(currency, opening, activity, closing)) };
}

export function equityStatementCsv(report: Awaited<ReturnType<typeof equityStatement>>): string {
  return reports.equityStatementCsv(report.byCurrency);
}

export function trialBalanceCsv(report: Awaited<ReturnType<typeof trialBalance>>): string {
  return reports.trialBalanceCsv(report.byCurrency);
}

export function balanceSheetCsv(report: Awaited<ReturnType<typeof balanceSheet>>): string {
  return reports.sectionsCsv(
    report.byCurrency.flatMap((part) => [
      { label: 'Assets', currency: part.currency, section: part.assets },
      { label: 'Liabilities', currency: part.currency, section: part.liabilities },
      { label: 'Equity', currency: part.currency, section: part.equity },
    ]),
    report.byCurrency.flatMap((part): [string, string, number][] => [
      ['Retained earnings', part.currency, part.retainedEarningsCents],
      ['Current earnings', part.currency, part.currentEarningsCents],
      ['Total liabilities and equity', part.currency, part.liabilitiesAndEquityCents],
    ]),
  );
}

export function incomeStatementCsv(report: Awaited<ReturnType<typeof incomeStatement>>): string {
  return reports.sectionsCsv(
    report.byCurrency.flatMap((part) => [
      { label: 'Income', currency: part.currency, section: part.income },
      { label: 'Expenses', currency: part.currency, section: part.expenses },
    ]),
    report.byCurrency.map((part): [string, string, number] => ['Net income', part.currency, part.netIncomeCents]),
  );
}

/** Cash flow, direct method: what moved cash in the period, by the account on the other side of each entry. */
export function cashFlow(db: Db, entityId: string, period: Period) {
  return snapshot(db, async (db) => {
    const entity = await getEntity(db, entityId);
    const [opening, closing] = (await accountTotalsOver(db, entityId, [{ toOn: dayBefore(period.fromOn) }, { toOn: period.toOn }], ['asset'])) as [AccountTotal[], AccountTotal[]];
    const cashKinds = [...CASH_KINDS];
    // Non-cash postings of the entries that moved cash in the same currency; their negated sum is that cash.
    const rows = await db
      .selectFrom('postings as p')
      .innerJoin('journalEntries as e', 'e.id', 'p.entryId')
      .innerJoin('accounts as a', 'a.id', 'p.accountId')
      .select(['p.accountId', 'a.name', 'a.code', 'a.class', 'a.kind', 'a.currency', sql<string>`sum(-p.amount_cents)`.as('total')])
      .where('e.entityId', '=', entityId)
      .where('p.entityId', '=', entityId)
      .where('e.postedOn', '>=', period.fromOn)
      .where('e.postedOn', '<=', period.toOn)
      .where('a.kind', 'not in', cashKinds)
      .where(
        sql<boolean>`exists (select 1 from postings c join accounts ca on ca.id = c.account_id where c.entry_id = p.entry_id and c.currency = p.currency and ca.kind in (${sql.join(cashKinds)}))`,
      )
      .groupBy(['p.accountId', 'a.name', 'a.code', 'a.class', 'a.kind', 'a.currency'])
      .execute();
    const sources = rows.map((row) => ({
      accountId: row.accountId,
      name: row.name,
      code: row.code,
      class: row.class as AccountClass,
      kind: row.kind,
      currency: row.currency,
      cashCents: centsFromDb(row.total),
    }));
    const cashOf = (totals: readonly AccountTotal[], currency: string) =>
      totals.filter((t) => t.currency === currency && CASH_KINDS.has(t.kind as AccountKind)).reduce((sum, t) => sum + t.balanceCents, 0);
    const cash = [...opening, ...closing].filter((t) => t.balanceCents !== 0 && CASH_KINDS.has(t.kind as AccountKind)).map((t) => t.currency);
    const found = [...new Set([...cash, ...sources.filter((s) => s.cashCents !== 0).map((s) => s.currency)])].sort();
    const currencies = found.length > 0 ? found : [entity.currency];
    const header: Header = { entityId, entityName: entity.name, ...period };
    return { ...header, byCurrency: currencies.map((currency) => cashFlowStatement(currency, cashOf(opening, currency), sources, cashOf(closing, currency))) };
  });
}

export function cashFlowCsv(report: Awaited<ReturnType<typeof cashFlow>>): string {
  return cashFlowCsvOf(report.byCurrency);
}

/** A general ledger lists every posting: past this many in one report, name an account or a shorter period. */
export const GENERAL_LEDGER_POSTINGS_MAX = 100_000;

/** Every posting of the period per account (or of one account), with running balances from opening to closing. */
export function generalLedger(db: Db, entityId: string, period: Period, accountId?: string) {
  return snapshot(db, async (db) => {
    const entity = await getEntity(db, entityId);
    const [opening, closingTotals] = (await accountTotalsOver(db, entityId, [{ toOn: dayBefore(period.fromOn) }, { toOn: period.toOn }])) as [AccountTotal[], AccountTotal[]];
    const closing = new Map(closingTotals.map((t) => [t.accountId, t.balanceCents]));
    if (accountId !== undefined && !opening.some((t) => t.accountId === accountId)) throw new NotFound('account', accountId);
    let query = db
      .selectFrom('postings as p')
      .innerJoin('journalEntries as e', 'e.id', 'p.entryId')
      .select(['p.accountId', 'p.entryId', 'e.seq', 'e.postedOn', 'e.description', 'p.memo', 'p.amountCents'])
      .where('e.entityId', '=', entityId)
      .where('p.entityId', '=', entityId)
      .where('e.postedOn', '>=', period.fromOn)
      .where('e.postedOn', '<=', period.toOn)
      .orderBy('e.postedOn')
      .orderBy('e.seq')
      .orderBy('p.id')
      .limit(GENERAL_LEDGER_POSTINGS_MAX + 1);
    if (accountId !== undefined) query = query.where('p.accountId', '=', accountId);
    const rows = await query.execute();
    if (rows.length > GENERAL_LEDGER_POSTINGS_MAX) {
      throw new RuleViolation('report_too_large', `the period has more than ${GENERAL_LEDGER_POSTINGS_MAX} postings: name an account or a shorter period`, {
        postingsMax: GENERAL_LEDGER_POSTINGS_MAX,
      });
    }
    const accounts = opening
      .filter((t) => accountId === undefined || t.accountId === accountId)
      .map((t) => ({ ...t, openingCents: t.balanceCents, closingCents: closing.get(t.accountId) ?? 0 }));
    const postings = rows.map((row) => ({ ...row, seq: String(row.seq), amountCents: centsFromDb(row.amountCents) }));
    const header: Header = { entityId, entityName: entity.name, ...period };
    return { ...header, accounts: generalLedgerOf(accounts, postings) };
  });
}

export function generalLedgerCsv(report: Awaited<ReturnType<typeof generalLedger>>): string {
  return generalLedgerCsvOf(report.accounts);
}

/** Entries per page while exporting, so a large book streams in bounded memory. */
const EXPORT_PAGE_ENTRIES = 2_000;

/**
 * The entity's journal in hledger's format, every entry up to `toOn` (all of them when undefined). Written in
 * pages to `write`; the running balances it asserts are checked against the maintained balances at the end.
 */
export function exportHledgerJournal(db: Db, entityId: string, toOn: string | undefined, write: (chunk: string) => void): Promise<void> {
  return snapshot(db, (trx) => writeJournal(trx, entityId, toOn, write));
}

async function writeJournal(db: Db, entityId: string, toOn: string | undefined, write: (chunk: string) => void): Promise<void> {
  const entity = await getEntity(db, entityId);
  const accounts = await db.selectFrom('accounts').select(['id', 'name', 'class', 'kind', 'currency', 'balanceCents']).where('entityId', '=', entityId).execute();
  const journalAccounts = accounts.map((account) => ({ id: account.id, name: account.name, class: account.class as AccountClass, kind: account.kind }));
  const names = journalAccountNames(journalAccounts);
  const currencies = [...new Set([entity.currency, ...accounts.map((account) => account.currency)])].sort();
  write(journalHeader(`${entity.name} (${entity.kind}) — journal${toOn ? ` to ${toOn}` : ''}`, currencies, journalAccounts, names));
  const running = new Map<string, number>();
  // Keyset pagination on (posted_on, seq): the order hledger checks balance assertions in.
  let after: { postedOn: string; seq: string } | undefined;
  for (;;) {
    let query = db
      .selectFrom('journalEntries')
      .select(['id', 'seq', 'postedOn', 'description', 'reversesEntryId'])
      .where('entityId', '=', entityId)
      .orderBy('postedOn')
      .orderBy('seq')
      .limit(EXPORT_PAGE_ENTRIES);
    if (toOn !== undefined) query = query.where('postedOn', '<=', toOn);
    if (after !== undefined) {
      const { postedOn, seq } = after;
      query = query.where((eb) => eb.or([eb('postedOn', '>', postedOn), eb.and([eb('postedOn', '=', postedOn), eb('seq', '>', seq)])]));
    }
    const entries = await query.execute();
    if (entries.length === 0) break;
    const postings = await db
      .selectFrom('postings')
      .select(['entryId', 'accountId', 'currency', 'amountCents', 'memo'])
      .where('entityId', '=', entityId)
      .where('entryId', 'in', entries.map((entry) => entry.id))
      .orderBy('id')
      .execute();
    const byEntry = new Map<string, { accountId: string; currency: string; amountCents: number; memo: string | null }[]>();
    for (const posting of postings) {
      const list = byEntry.get(posting.entryId) ?? [];
      list.push({ accountId: posting.accountId, currency: posting.currency, amountCents: centsFromDb(posting.amountCents), memo: posting.memo });
      byEntry.set(posting.entryId, list);
    }
    let chunk = '';
    for (const entry of entries) {
      chunk += journalTransaction({ ...entry, seq: String(entry.seq), postings: byEntry.get(entry.id) ?? [] }, names, running);
    }
    write(chunk);
    const last = entries[entries.length - 1] as (typeof entries)[number];
    after = { postedOn: last.postedOn, seq: String(last.seq) };
    if (entries.length < EXPORT_PAGE_ENTRIES) break;
  }
  if (toOn === undefined) {
    // The export re-added every posting; it must land on the balances the ledger maintains.
    for (const account of accounts) {
      assert((running.get(account.id) ?? 0) === centsFromDb(account.balanceCents), `journal export: ${account.id} does not end on its maintained balance`);
    }
  }
}

/** Schedule C of a disregarded single-member LLC for a calendar year. */
export function scheduleC(db: Db, entityId: string, year: number, table: ScheduleCTable) {
  return snapshot(db, async (db) => {
    const entity = await getEntity(db, entityId);
    // Schedule C is the form of a sole proprietor; an LLC that elected S or C status, a partnership or a person files otherwise.
    if (entity.kind !== 'llc' || entity.taxProfile !== 'disregarded') {
      throw new RuleViolation('report_not_applicable', 'Schedule C applies to a disregarded single-member LLC only', { kind: entity.kind, taxProfile: entity.taxProfile });
    }
    const period = { fromOn: `${year}-01-01`, toOn: `${year}-12-31` };
    const activity = await accountTotals(db, entityId, period, ['income', 'expense']);
    const currencies = reports.currenciesOf(activity.filter((t) => t.balanceCents !== 0), entity.currency);
    if (currencies.length > 1 || currencies[0] !== entity.currency) {
      throw new RuleViolation('report_not_applicable', `Schedule C is filed in ${entity.currency}; this year has income or expense in ${currencies.join(', ')}`);
    }
    return { entityId, entityName: entity.name, year, currency: entity.currency, ...period, ...scheduleCLines(table, activity) };
  });
}

export function scheduleCCsv(report: Awaited<ReturnType<typeof scheduleC>>): string {
  const rows: string[][] = [['line', 'label', 'amount', 'accounts']];
  for (const line of report.lines) rows.push([line.line, line.label, formatCents(line.amountCents), line.accounts.map((account) => account.name).join('; ')]);
  const computed: [string, string, number][] = [
    ['3', 'Subtract line 2 from line 1', report.grossReceiptsLessReturnsCents],
    ['4', 'Cost of goods sold', report.costOfGoodsSoldCents],
    ['5', 'Gross profit', report.grossProfitCents],
    ['7', 'Gross income', report.grossIncomeCents],
    ['28', 'Total expenses before business use of home', report.totalExpensesCents],
    ['29', 'Tentative profit or (loss)', report.tentativeProfitCents],
    ['31', 'Net profit or (loss)', report.netProfitCents],
  ];
  for (const [line, label, cents] of computed) rows.push([line, label, formatCents(cents), '']);
  const order = (line: string) => Number.parseInt(line, 10) * 10 + (line.endsWith('b') ? 2 : line.endsWith('a') ? 1 : 0);
  const [header, ...body] = rows;
  return reports.toCsv([header as string[], ...body.sort((a, b) => order(a[0] as string) - order(b[0] as string))]);
}

/** Loans between the books with interest accrued to `to`, open reimbursements, and the period's contributions and draws. */
export function interEntityStatement(db: Db, entityId: string, period: Period) {
  return snapshot(db, async (db) => {
    const entity = await getEntity(db, entityId);
    // Live as of `to`: posted by then, and not reversed by then (a reversal dated later still counts it).
    const rows = await db
      .selectFrom('interEntityTransfers as t')
      .leftJoin('interEntityTransferReversals as r', 'r.transferId', 't.id')
      .leftJoin('journalEntries as re', 're.id', 'r.fromReversalEntryId')
      .select(['t.id', 't.classification', 't.fromEntityId', 't.toEntityId', 't.amountCents', 't.currency', 't.postedOn', 't.relatedTransferId', 't.terms'])
      .where((eb) => eb.or([eb('t.fromEntityId', '=', entityId), eb('t.toEntityId', '=', entityId)]))
      .where('t.postedOn', '<=', period.toOn)
      .where((eb) => eb.or([eb('r.transferId', 'is', null), eb('re.postedOn', '>', period.toOn)]))
      .execute();
    const facts = rows.map((row) => ({ ...row, amountCents: centsFromDb(row.amountCents), terms: row.terms as Record<string, unknown> }));
    const statement = interEntityStatementOf(entityId, facts, period);
    const counterpartyIds = [...new Set(facts.map((fact) => (fact.fromEntityId === entityId ? fact.toEntityId : fact.fromEntityId)))];
    const counterparties =
      counterpartyIds.length === 0 ? [] : await db.selectFrom('entities').select(['id', 'name', 'kind']).where('id', 'in', counterpartyIds).orderBy('name').execute();
    return { entityId, entityName: entity.name, ...period, counterparties, ...statement };
  });
}

export function interEntityStatementCsv(report: Awaited<ReturnType<typeof interEntityStatement>>): string {
  const nameOf = new Map(report.counterparties.map((c) => [c.id, c.name]));
  const rows: string[][] = [['item', 'counterparty', 'transfer', 'date', 'currency', 'amount', 'outstanding', 'accrued_interest', 'detail']];
  for (const loan of report.loans) {
    rows.push([
      loan.role === 'lender' ? 'Loan receivable' : 'Loan payable',
      nameOf.get(loan.counterpartyEntityId) ?? loan.counterpartyEntityId,
      loan.transferId,
      loan.postedOn,
      loan.currency,
      formatCents(loan.principalCents),
      formatCents(loan.outstandingPrincipalCents),
      formatCents(loan.accruedInterestCents),
      `${loan.annualRateBasisPoints} bp; ${loan.repayments} repayments; accrued since ${loan.interestAccruedFromOn}`,
    ]);
  }
  for (const open of report.openReimbursements) {
    rows.push([
      open.direction === 'owed_to_entity' ? 'Reimbursement owed to us' : 'Reimbursement we owe',
      nameOf.get(open.counterpartyEntityId) ?? open.counterpartyEntityId,
      open.transferId,
      open.postedOn,
      open.currency,
      formatCents(open.amountCents),
      formatCents(open.outstandingCents),
      '',
      `expense on ${open.expenseOn}; ${open.daysOpen} days open`,
    ]);
  }
  for (const [label, list] of [['Contribution', report.contributions], ['Draw', report.draws]] as const) {
    for (const movement of list) {
      rows.push([label, nameOf.get(movement.counterpartyEntityId) ?? movement.counterpartyEntityId, movement.transferId, movement.postedOn, movement.currency, formatCents(movement.amountCents), '', '', '']);
    }
  }
  return reports.toCsv(rows);
}
