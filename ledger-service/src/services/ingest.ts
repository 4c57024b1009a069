import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import canonicalize from 'canonicalize';
import { sql, type RawBuilder, type Transaction } from 'kysely';
import type pg from 'pg';
import { from as copyFrom, type CopyStreamQuery } from 'pg-copy-streams';
import { transactionClient, type Database } from '../db/database';
import type { AccountClass } from '../domain/accounts';
import { assert, RuleViolation } from '../domain/errors';
import { checkEntry } from '../domain/journal';
import { AMOUNT_CENTS_MAX } from '../domain/limits';
import { alertsAfterPostings } from './alert-events';
import { appendAuditRowsAtCommit } from './audit';
import { BOOKING_BATCH_MAX } from './bank-booking';
import { actorLabel, type Actor } from './context';
import { lockAccounts } from './idempotency';
import { timeOrderedUuid } from './ids';
import type { Rule } from './rules';

type Trx = Transaction<Database>;

// Set-based ingestion of bank lines: the lines of a statement are loaded into a table of the transaction (COPY on
// PostgreSQL, multi-row INSERTs on PGlite) as they are parsed, and every later step (exact dedup, near-duplicates,
// transfers, bills, rules, booking) is a statement over that table instead of work per line. The tables are
// temporary (an import's dropped at commit, and by `dropStage` when it ends; a Plaid sync's and the audit rows' kept
// by the connection and emptied at every commit), so a refused import or page leaves nothing.

/**
 * The lines as the file gave them, in file order (`ord`), with the rule Node found for each, and ids made in Node as
 * they are staged: the line's (`id`) and, for a line a rule decided, its entry's (`entry_id`). PostgreSQL makes a
 * time-ordered id in 3.5 µs here (veil_uuid_v7), Node in 0.3 µs (2026-11-25). Per 300,000 lines dedup fell by
 * ~0.6 s and parse and stage rose by 0.2-0.8 s (the server reads two more uuid columns): about neutral overall.
 */
export const STAGED_LINES = 'veil_ingest_lines';
/** The lines stored by this import (not already in the account), with where each ended up (`status`). */
export const FRESH_LINES = 'veil_ingest_fresh';

export interface StagedLine {
  /** Which statement account of the file (0 for a CSV). */
  accountIndex: number;
  /** The bank's own id for the line; null when it gave none (the id is then made from `identity`, in SQL). */
  externalId: string | null;
  /**
   * For a line without a bank id: its identity (import/index.ts rowIdentity). Identical rows are told apart by
   * their ordinal among the file's rows of the same identity, counted in SQL (`stagedExternalId`), so no map of every
   * row's identity is held in Node: it was 265 MB of a million-row import's peak.
   */
  identity: string | null;
  postedOn: string;
  amountCents: number;
  payee: string | null;
  memo: string | null;
  /** JSON text of the line's raw data. */
  rawJson: string;
  /** The first rule that matches the line, decided in Node (a rule may hold a JavaScript regular expression). */
  ruleId: string | null;
}

/** The server memory (MB) one sort or hash of an import may take before it spills to disk (PostgreSQL only). */
const IMPORT_WORK_MEM_MB = 128;
/** Rows a multi-row INSERT carries on PGlite (12 values a row, well under the bind parameter cap). */
const INSERT_ROWS = 1_000;
/** Rows a COPY data message carries: one message (and socket write) a row made the client the bottleneck. */
const COPY_ROWS = 2_000;

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value in COPY's text format: backslash, tab, newline and carriage return escaped; null as \N. */
function copyValue(value: string | null): string {
  if (value === null) return '\\N';
  return value.replace(/[\\\t\n\r]/g, (character) => COPY_ESCAPES[character] as string);
}

/**
 * Collects staged lines into the transaction's STAGED_LINES table. `add` buffers; the buffer goes to the database
 * a chunk at a time. While a COPY is open, the transaction's connection runs nothing else: call `finish` (or
 * `abort`) before the next query.
 */
export class LineStage {
  private count = 0;
  private buffer: (StagedLine & { id: string; entryId: string | null })[] = [];
  private copyText = '';
  private copyError: unknown = undefined;

  private constructor(
    private readonly trx: Trx,
    private readonly copy: CopyStreamQuery | undefined,
  ) {}

  static async open(trx: Trx): Promise<LineStage> {
    await sql`drop table if exists ${sql.table(FRESH_LINES)}`.execute(trx);
    await sql`drop table if exists ${sql.table(STAGED_LINES)}`.execute(trx);
    await sql`
      create temporary table ${sql.table(STAGED_LINES)} (
        ord integer not null,
        id uuid not null,
        entry_id uuid,
        account_index integer not null,
        external_id text,
        identity text,
        posted_on date not null,
        amount_cents bigint not null,
        payee text,
        memo text,
        raw jsonb not null,
        rule_id uuid
      ) on commit drop`.execute(trx);
    const client: pg.ClientBase | undefined = await transactionClient(trx);
    if (client === undefined) return new LineStage(trx, undefined);
    // The import's statements sort its lines (file order, entries, events, audit rows): with the server's default
    // 4 MB a sort of a million-line file went to disk, 40 MB for 200,000 lines. For this transaction only, and not on
    // PGlite, whose memory is the service process's own.
    await sql`set local work_mem = '${sql.raw(String(IMPORT_WORK_MEM_MB))}MB'`.execute(trx);
    const copy = client.query(
      copyFrom(`copy ${STAGED_LINES} (ord, id, entry_id, account_index, external_id, identity, posted_on, amount_cents, payee, memo, raw, rule_id) from stdin`),
    );
    const stage = new LineStage(trx, copy);
    copy.on('error', (error: unknown) => {
      stage.copyError = error;
    });
    return stage;
  }

  get lines(): number {
    return this.count;
  }

  async add(line: StagedLine): Promise<void> {
    const ord = this.count;
    this.count += 1;
    const id = timeOrderedUuid();
    const entryId = line.ruleId === null ? null : timeOrderedUuid();
    if (this.copy) {
      this.copyText += `${ord}\t${id}\t${entryId ?? '\\N'}\t${line.accountIndex}\t${copyValue(line.externalId)}\t${copyValue(line.identity)}\t${line.postedOn}\t${line.amountCents}\t${copyValue(line.payee)}\t${copyValue(line.memo)}\t${copyValue(line.rawJson)}\t${line.ruleId ?? '\\N'}\n`;
      if (this.count % COPY_ROWS === 0) await this.flushCopy();
      return;
    }
    this.buffer.push({ ...line, id, entryId });
    if (this.buffer.length >= INSERT_ROWS) await this.flushInsert();
  }

  private async flushCopy(): Promise<void> {
    if (this.copyError !== undefined) throw this.copyError;
    const copy = this.copy as CopyStreamQuery;
    const text = this.copyText;
    this.copyText = '';
    // events.once rejects if the stream errors meanwhile (the server refused a row).
    if (text.length > 0 && !copy.write(text)) await once(copy, 'drain');
    if (this.copyError !== undefined) throw this.copyError;
    // While the socket takes every write at once, parsing and sending run on microtasks alone and would starve the
    // event loop (timers, other requests) for the whole file: give it a turn every chunk.
    await new Promise((resolve) => setImmediate(resolve));
  }

  private async flushInsert(): Promise<void> {
    if (this.buffer.length === 0) return;
    const first = this.count - this.buffer.length;
    const values = this.buffer.map(
      (line, index) =>
        sql`(${first + index}::int, ${line.id}::uuid, ${line.entryId}::uuid, ${line.accountIndex}::int, ${line.externalId}::text, ${line.identity}::text, ${line.postedOn}::date, ${String(line.amountCents)}::bigint, ${line.payee}::text, ${line.memo}::text, ${line.rawJson}::jsonb, ${line.ruleId}::uuid)`,
    );
    this.buffer = [];
    await new Promise((resolve) => setImmediate(resolve));
    await sql`insert into ${sql.table(STAGED_LINES)} (ord, id, entry_id, account_index, external_id, identity, posted_on, amount_cents, payee, memo, raw, rule_id) values ${sql.join(values)}`.execute(this.trx);
  }

  /** Sends what is buffered and closes the COPY; the table then holds every line added. */
  async finish(): Promise<void> {
    if (this.copy) {
      await this.flushCopy();
      this.copy.end();
      await finished(this.copy);
      if (this.copyError !== undefined) throw this.copyError;
    } else {
      await this.flushInsert();
    }
  }

  /**
   * Ends an unfinished COPY so the connection can roll the transaction back. It is ended, not destroyed: destroying
   * it sends CopyFail, and one sent before the server's CopyInResponse (a file refused on its first line) broke the
   * connection ("not queryable"), so the refusal came back as 503 database_unavailable instead of the parse error.
   * What was sent lands in a table of a transaction about to roll back.
   */
  async abort(_reason: unknown): Promise<void> {
    if (!this.copy || this.copy.destroyed || this.copy.writableEnded) return;
    this.copy.end();
    await finished(this.copy).catch(() => undefined);
  }
}

/**
 * The external id of a staged line (a column expression over STAGED_LINES aliased `s`): the bank's id, or for a line
 * without one `row:` and the first 40 hex digits of SHA-256 over its identity, U+001E and its ordinal among the
 * account's staged lines of the same identity in file order — exactly what imports.ts externalIdsOf gives.
 */
export const stagedExternalId = sql<string>`coalesce(s.external_id, 'row:' || left(encode(sha256(convert_to(s.identity || chr(30) || (row_number() over (partition by s.account_index, s.identity order by s.ord) - 1)::text, 'UTF8')), 'hex'), 40))`;

/**
 * The columns of a bank line FRESH_LINES holds, in bank_lines' names, as storeWaiting and the booking store them
 * (authorized_on, pending and pending_external_id are Plaid's; an import's fresh lines hold null, false, null).
 */
const FRESH_LINE_COLUMN_NAMES = ['id', 'entity_id', 'account_id', 'currency', 'source', 'external_id', 'import_id', 'posted_on', 'authorized_on', 'amount_cents', 'payee', 'memo', 'pending', 'pending_external_id', 'raw'];
const FRESH_LINE_COLUMNS = sql.raw(FRESH_LINE_COLUMN_NAMES.join(', '));

/**
 * Stores the lines of FRESH_LINES that wait to be stored (`stored` false: a rule decided them, and the booking
 * would store them as booked) — those named, or all of them — as unmatched lines, before a step acts on them. A
 * line another import or sync stored meanwhile refuses the import (nothing is written; importing again skips it).
 */
export async function storeWaiting(trx: Trx, ids?: readonly string[]): Promise<void> {
  if (ids !== undefined && ids.length === 0) return;
  const fresh = sql.table(FRESH_LINES);
  const named = ids === undefined ? sql`` : sql`and f.id in (${sql.join(ids.map((id) => sql`${id}::uuid`))})`;
  const { rows } = await sql<{ count: string }>`select count(*) as count from ${fresh} f where not f.stored ${named}`.execute(trx);
  const waiting = Number(rows[0]?.count ?? 0);
  if (waiting === 0) return;
  const inserted = await sql`
    insert into bank_lines (${FRESH_LINE_COLUMNS})
    select ${FRESH_LINE_COLUMNS} from ${fresh} f where not f.stored ${named} order by f.ord
    on conflict (account_id, external_id) do nothing`.execute(trx);
  refuseIfTaken(waiting, Number(inserted.numAffectedRows ?? 0));
  await sql`update ${fresh} f set stored = true where not f.stored ${named}`.execute(trx);
}

function refuseIfTaken(expected: number, stored: number): void {
  if (stored !== expected) {
    throw new RuleViolation('bank_line_state', `another import or sync stored ${expected - stored} of these bank lines meanwhile: nothing was imported; import the file again`);
  }
}

/**
 * FRESH_LINES and BOOKED_LINES for a Plaid sync, empty: tables of the connection (ON COMMIT DELETE ROWS), created by
 * its first page and reused by every later one, instead of two tables created and dropped per page (each a catalog
 * write, 1-2 ms of a page). An import's own tables of these names are created and dropped with its transaction
 * (LineStage.open, bookFreshLinesByRules drop what is there first), so a connection that served one meets these
 * again only when its transaction has ended. One round trip: the rows a previous step of this transaction left
 * (a page's added lines, before its modified ones) are deleted.
 */
export async function openSyncStage(trx: Trx): Promise<void> {
  await sql`
    do $$ begin
      create temporary table if not exists ${sql.raw(FRESH_LINES)} (
        id uuid not null, ord integer not null, account_id uuid not null, entity_id uuid not null, currency text not null,
        source text not null, import_id uuid, external_id text not null, posted_on date not null, authorized_on date,
        amount_cents bigint not null, payee text, memo text, pending boolean not null, pending_external_id text,
        raw jsonb not null, rule_id uuid, status text not null, stored boolean not null
      ) on commit delete rows;
      create temporary table if not exists ${sql.raw(BOOKED_LINES)} (
        line_id uuid not null, entry_id uuid not null, ord integer not null, account_id uuid not null, currency text not null,
        posted_on date not null, amount_cents bigint not null, memo text, rule_id uuid, category_account_id uuid not null,
        description text not null, position bigint not null
      ) on commit delete rows;
      delete from ${sql.raw(FRESH_LINES)};
      delete from ${sql.raw(BOOKED_LINES)};
    end $$`.execute(trx);
}

/** Drops the import's tables now: a transaction that imports twice starts clean, and memory is freed early. */
export async function dropStage(trx: Trx): Promise<void> {
  await sql`drop table if exists ${sql.table(FRESH_LINES)}`.execute(trx);
  await sql`drop table if exists ${sql.table(STAGED_LINES)}`.execute(trx);
}

/**
 * The lines of FRESH_LINES about to be booked to a single category account, with their entry ids: line_id, entry_id,
 * ord, account_id, currency, posted_on, amount_cents, memo, rule_id (null unless a rule decided), category_account_id,
 * description, position (0-based, in ord order).
 */
export const BOOKED_LINES = 'veil_ingest_booked';
/** Audit rows built in SQL for the booked lines, appended at commit (audit.ts appendAuditRowsAtCommit). */
const AUDIT_ROWS = 'veil_ingest_audit';
/**
 * Audit rows handed to veil_audit_append_contents at a time: an import's in chunks, not all of them in memory. The
 * function reads its array by subscript, and a subscript of a text array walks the elements before it: per row, a
 * chunk of 20,000 cost three times what a chunk of 2,000 does (4.3 s of a 200,000-row import's COMMIT).
 */
const AUDIT_APPEND_ROWS = 2_000;
/** Transactions whose AUDIT_ROWS table is already appended at commit (a transaction may import several files). */
const auditRowsRegistered = new WeakSet<object>();
/** Lines named by one `bank_lines.booked` audit row, as bookBankLines writes one per journal batch. */
const AUDIT_BATCH_LINES = BOOKING_BATCH_MAX;

/**
 * JSON text built in SQL from a value's RFC 8785 canonical form: `canonicalize` lays out the constant parts (key
 * order, literals), and each hole (a string `@@name@@` in the value) is replaced by an SQL expression giving the
 * JSON text of that member. So the text is canonical by construction, and its SHA-256 is what contentHash gives.
 */
function canonicalTemplate(value: unknown, holes: Record<string, RawBuilder<string>>): RawBuilder<string> {
  const text = canonicalize(value);
  assert(text !== undefined, 'canonicalTemplate: value has no JSON form');
  const parts = text.split(/"@@(\w+)@@"/);
  const pieces: RawBuilder<string>[] = [];
  for (const [index, part] of parts.entries()) {
    if (index % 2 === 0) {
      if (part.length > 0) pieces.push(sql<string>`${part}::text`);
      continue;
    }
    const hole = holes[part];
    assert(hole !== undefined, `canonicalTemplate: no expression for @@${part}@@`);
    pieces.push(hole);
  }
  return sql<string>`(${sql.join(pieces, sql` || `)})`;
}

const hole = (name: string) => `@@${name}@@`;
const jsonText = (expression: RawBuilder<unknown>) => sql<string>`to_json(${expression})::text`;

/**
 * Books the fresh lines a single-category rule decided (status still `unmatched`), set-based: the very entries,
 * postings, line updates, events and audit rows bookBankLines would write (same entry key `bank-line:<id>`, same
 * content hash, one `entry.booked` audit row and one `entry.posted` event per entry, one `bank_lines.booked` row per
 * batch of lines), in a handful of statements instead of a round of work per thousand lines. It declines (books
 * nothing, returns false) whenever a line is not plainly bookable by the same checks — an amount of zero or out of
 * range, an account the journal would refuse — so the caller's one-batch-at-a-time path books it or reports the
 * exact error. Lines of split rules are left to that path too.
 */
export async function bookFreshLinesByRules(
  trx: Trx,
  actor: Actor,
  entityId: string,
  rules: readonly Rule[],
  entrySource: 'import' | 'plaid',
  accountCount: (accountId: string, booked: number) => void,
): Promise<boolean> {
  const simple = rules.filter((rule) => rule.action.categoryAccountId !== undefined && rule.action.splits === undefined);
  if (simple.length === 0) return true;
  const fresh = sql.table(FRESH_LINES);
  const booked = sql.table(BOOKED_LINES);
  const ruleValues = simple.map((rule) => sql`(${rule.id}::uuid, ${rule.action.categoryAccountId as string}::uuid, ${rule.action.description ?? null}::text)`);
  await sql`drop table if exists ${booked}`.execute(trx);
  await sql`
    create temporary table ${booked} on commit drop as
    select f.id as line_id, f.entry_id, f.ord, f.account_id, f.currency, f.posted_on, f.amount_cents, f.memo,
           f.rule_id, r.category_account_id, coalesce(r.description, f.payee, f.memo, 'Bank line') as description,
           row_number() over (order by f.ord) - 1 as position
      from ${fresh} f
      join (values ${sql.join(ruleValues)}) as r (rule_id, category_account_id, description) on r.rule_id = f.rule_id
     where f.status = 'unmatched'`.execute(trx);
  return bookDecidedLines(trx, actor, entityId, entrySource, accountCount);
}

/**
 * Books the lines of BOOKED_LINES (filled by the caller from FRESH_LINES: each line with the one category account
 * that takes its other side, decided by a rule or by the Plaid categoriser) exactly as bookFreshLinesByRules
 * describes, or declines (books nothing, returns false) for the caller's one-batch-at-a-time path.
 */
export async function bookDecidedLines(
  trx: Trx,
  actor: Actor,
  entityId: string,
  entrySource: 'import' | 'plaid',
  accountCount: (accountId: string, booked: number) => void,
): Promise<boolean> {
  const fresh = sql.table(FRESH_LINES);
  const booked = sql.table(BOOKED_LINES);
  // Per account pair, in one statement: the lines, those the journal would refuse for their amount, those waiting
  // to be stored (not yet in bank_lines), and the days booked into; and the transaction's time (now()).
  const { rows: pairs } = await sql<{ accountId: string; categoryAccountId: string; lines: string; unbookable: string; waiting: string; days: string; createdAt: string }>`
    select b.account_id as "accountId", b.category_account_id as "categoryAccountId", count(*) as lines,
           count(*) filter (where b.amount_cents = 0 or abs(b.amount_cents) > ${AMOUNT_CENTS_MAX}::bigint) as unbookable,
           count(*) filter (where not f.stored) as waiting,
           string_agg(distinct to_char(b.posted_on, 'YYYY-MM-DD'), ',') as days, to_json(now())#>>'{}' as "createdAt"
      from ${booked} b left join ${fresh} f on f.id = b.line_id
     group by b.account_id, b.category_account_id`.execute(trx);
  if (pairs.length === 0) return true;
  // The journal's own checks, on one entry of each account pair (the accounts locked in id order, as bookEntries
  // does); amounts are the only thing that differs between the entries of a pair, and were counted above.
  const facts = new Map(
    (await lockAccounts(trx, pairs.flatMap((pair) => [pair.accountId, pair.categoryAccountId]))).map((row) => [
      row.id,
      { id: row.id, entityId: row.entityId, currency: row.currency, accountClass: row.class as AccountClass, archived: row.archivedAt !== null, interEntity: row.counterpartyEntityId !== null },
    ]),
  );
  for (const pair of pairs) {
    if (Number(pair.unbookable) > 0) return false;
    try {
      checkEntry(entityId, [{ accountId: pair.accountId, amountCents: 1 }, { accountId: pair.categoryAccountId, amountCents: -1 }], facts);
    } catch (error) {
      if (error instanceof RuleViolation) return false;
      throw error;
    }
  }
  const currencyValues = [...facts.values()].map((account) => sql`(${account.id}::uuid, ${account.currency}::text)`);
  const label = actorLabel(actor);
  const createdAt = (pairs[0] as (typeof pairs)[number]).createdAt;
  // Exactly the JavaScript Date the journal's answer would carry (milliseconds, UTC).
  const createdAtIso = new Date(createdAt).toISOString();
  const entryHashText = canonicalTemplate(
    {
      postedOn: hole('postedOn'),
      description: hole('description'),
      source: entrySource,
      postings: [
        { accountId: hole('accountId'), amountCents: hole('amountCents'), memo: hole('memo') },
        { accountId: hole('categoryAccountId'), amountCents: hole('categoryCents'), memo: null },
      ],
    },
    {
      postedOn: jsonText(sql`to_char(b.posted_on, 'YYYY-MM-DD')`),
      description: jsonText(sql`b.description`),
      accountId: jsonText(sql`b.account_id::text`),
      amountCents: sql<string>`b.amount_cents::text`,
      memo: sql<string>`coalesce(to_json(b.memo)::text, 'null')`,
      categoryAccountId: jsonText(sql`b.category_account_id::text`),
      categoryCents: sql<string>`(-b.amount_cents)::text`,
    },
  );
  // The entries and their postings in one statement, marked checked in it (migration 0031): the journal checks
  // every entry's balance and accounts once, set-based, at the end of this statement, instead of once per entry at
  // commit.
  await sql`
    with entries as (
      insert into journal_entries (id, entity_id, posted_on, description, source, idempotency_key, content_hash, actor, checked_in_statement)
      select b.entry_id, ${entityId}::uuid, b.posted_on, b.description, ${entrySource}, 'bank-line:' || b.line_id,
             encode(sha256(convert_to(${entryHashText}, 'UTF8')), 'hex'), ${label}, true
        from ${booked} b order by b.ord)
    insert into postings (entry_id, entity_id, account_id, currency, amount_cents, memo)
    select p.entry_id, ${entityId}::uuid, p.account_id, c.currency, p.amount_cents, p.memo
      from (select b.entry_id, b.ord, 0 as side, b.account_id, b.amount_cents, b.memo from ${booked} b
            union all
            select b.entry_id, b.ord, 1 as side, b.category_account_id, -b.amount_cents, null from ${booked} b) p
      join (values ${sql.join(currencyValues)}) as c (id, currency) on c.id = p.account_id
     order by p.ord, p.side`.execute(trx);
  // Lines already stored are marked booked; lines waiting to be stored are stored booked, in one write each.
  const waiting = pairs.reduce((sum, pair) => sum + Number(pair.waiting), 0);
  const count = pairs.reduce((sum, pair) => sum + Number(pair.lines), 0);
  // A line waiting to be stored has no row in bank_lines yet (its id is ours): when every line waits, none to update.
  if (waiting < count) {
    const updated = await sql`
      update bank_lines l
         set status = 'booked', entry_id = b.entry_id, rule_id = coalesce(b.rule_id, l.rule_id), status_reason = null, updated_at = now()
        from ${booked} b
       where l.id = b.line_id and l.status in ('unmatched', 'review') and not l.pending`.execute(trx);
    if (Number(updated.numAffectedRows ?? 0) !== count - waiting) {
      throw new RuleViolation('bank_line_state', `${count - waiting - Number(updated.numAffectedRows ?? 0)} of these bank lines changed meanwhile (already booked or pending): nothing was booked`);
    }
  }
  if (waiting > 0) {
    const inserted = await sql`
      insert into bank_lines (${FRESH_LINE_COLUMNS}, status, entry_id, rule_id)
      select ${sql.raw(FRESH_LINE_COLUMN_NAMES.map((column) => `f.${column}`).join(', '))},
             'booked', b.entry_id, f.rule_id
        from ${booked} b join ${fresh} f on f.id = b.line_id
       where not f.stored order by f.ord
      on conflict (account_id, external_id) do nothing`.execute(trx);
    refuseIfTaken(waiting, Number(inserted.numAffectedRows ?? 0));
  }
  // Booked and stored: nothing after this acts on them (storeWaiting stores what still waits, the import books the
  // rule-decided lines still unmatched), so they leave the stage. Deleting marks each row; updating them wrote each
  // row again and its index entry (28 µs a line of an import's ~370, 2026-11-25).
  await sql`delete from ${fresh} f using ${booked} b where f.id = b.line_id`.execute(trx);
  // The entry as the journal answers it (BookedEntry): the `entry.posted` event's payload and the audit row's after.
  const currencyOf = (column: RawBuilder<unknown>) => sql<string>`to_json((select c.currency from (values ${sql.join(currencyValues)}) as c (id, currency) where c.id = ${column}))::text`;
  const entryView = canonicalTemplate(
    {
      id: hole('id'),
      entityId,
      postedOn: hole('postedOn'),
      description: hole('description'),
      source: entrySource,
      reversesEntryId: null,
      reversedByEntryId: null,
      idempotencyKey: hole('idempotencyKey'),
      actor: label,
      createdAt: createdAtIso,
      postings: [
        { accountId: hole('accountId'), amountCents: hole('amountCents'), currency: hole('currency'), memo: hole('memo') },
        { accountId: hole('categoryAccountId'), amountCents: hole('categoryCents'), currency: hole('categoryCurrency'), memo: null },
      ],
    },
    {
      id: jsonText(sql`b.entry_id::text`),
      postedOn: jsonText(sql`to_char(b.posted_on, 'YYYY-MM-DD')`),
      description: jsonText(sql`b.description`),
      idempotencyKey: jsonText(sql`'bank-line:' || b.line_id`),
      accountId: jsonText(sql`b.account_id::text`),
      amountCents: sql<string>`b.amount_cents::text`,
      currency: currencyOf(sql`b.account_id`),
      memo: sql<string>`coalesce(to_json(b.memo)::text, 'null')`,
      categoryAccountId: jsonText(sql`b.category_account_id::text`),
      categoryCents: sql<string>`(-b.amount_cents)::text`,
      categoryCurrency: currencyOf(sql`b.category_account_id`),
    },
  );
  // The outbox: one event per entry, and its deliveries to the owner's subscriptions that want it (as emitEvents).
  const subscriptions = await trx
    .selectFrom('webhookSubscriptions as s')
    .innerJoin('entities as e', 'e.ownerUserId', 's.ownerUserId')
    .select(['s.id', 's.events', 's.entityIds'])
    .where('e.id', '=', entityId)
    .where('s.deletedAt', 'is', null)
    .execute();
  const wanted = subscriptions.filter((subscription) => (subscription.events as string[]).includes('entry.posted') && ((subscription.entityIds as string[] | null) === null || (subscription.entityIds as string[]).includes(entityId)));
  const occurredAt = new Date().toISOString();
  // Audit rows as their canonical content (auditRowsParameter's shape without the digest: the SHA-256 of this text,
  // which veil_audit_append_contents computes when it appends them, migration 0030).
  const auditContent = (action: string, objectType: string, objectId: RawBuilder<string>, after: RawBuilder<string>) =>
    canonicalTemplate(
      {
        occurredAt,
        actorType: actor.type,
        actorId: actor.id,
        actorUserId: actor.userId ?? null,
        tokenId: actor.tokenId ?? null,
        executionId: actor.executionId ?? null,
        action,
        entityId,
        objectType,
        objectId: hole('objectId'),
        before: null,
        after: hole('after'),
        requestId: actor.requestId ?? null,
      },
      { objectId, after },
    );
  const lineItem = sql<string>`'{"bankLineId":' || to_json(v.line_id::text)::text || ',"entryId":' || to_json(v.entry_id::text)::text || case when v.rule_id is null then '' else ',"ruleId":' || to_json(v.rule_id::text)::text end || '}'`;
  const deliveries =
    wanted.length === 0
      ? sql``
      : sql`, deliveries as (
          insert into webhook_deliveries (event_id, subscription_id)
          select events.id, s.id from events cross join (values ${sql.join(wanted.map((subscription) => sql`(${subscription.id}::uuid)`))}) as s (id))`;
  // A table of the connection, like the sync's stage (openSyncStage): created once, emptied by every commit.
  await sql`create temporary table if not exists ${sql.table(AUDIT_ROWS)} (position bigint generated always as identity primary key, content text not null) on commit delete rows`.execute(trx);
  // One statement from the entry views: the events (and their deliveries), then the audit rows, each entry's
  // `entry.booked` row in entry order and after them one `bank_lines.booked` row per batch of lines.
  await sql`
    with views as materialized (
           select b.position, b.entry_id, b.line_id, b.rule_id, ${entryView} as view from ${booked} b),
         events as (
           insert into ledger_events (entity_id, type, payload)
           select ${entityId}::uuid, 'entry.posted', ('{"entry":' || v.view || '}')::jsonb from views v order by v.position
           returning id)${deliveries}
    insert into ${sql.table(AUDIT_ROWS)} (content)
    select a.content
      from (select 0 as part, v.position as n, ${auditContent('entry.booked', 'entry', jsonText(sql`v.entry_id::text`), sql<string>`v.view`)} as content
              from views v
            union all
            select 1 as part, g.batch as n, ${auditContent('bank_lines.booked', 'bank_line_batch', sql<string>`'null'`, sql<string>`'{"lines":[' || g.items || ']}'`)} as content
              from (select v.position / ${AUDIT_BATCH_LINES}::int as batch, string_agg(${lineItem}, ',' order by v.position) as items
                      from views v group by 1) g) a
     order by a.part, a.n`.execute(trx);
  if (!auditRowsRegistered.has(trx)) {
    auditRowsRegistered.add(trx);
    appendAuditRowsAtCommit(trx, async (last) => {
      // A chunk at a time, in position order (positions go on from the connection's earlier transactions), each
      // found through the primary key rather than by sorting the whole table again.
      let after = 0;
      for (;;) {
        const { rows } = await sql<{ count: string; last: string | null }>`
          with chunk as (
            select a.position, a.content from ${sql.table(AUDIT_ROWS)} a where a.position > ${after}::bigint order by a.position limit ${AUDIT_APPEND_ROWS})
          select veil_audit_append_contents(array(select c.content from chunk c order by c.position)),
                 (select count(*) from chunk) as count, (select max(c.position) from chunk c) as last`.execute(last);
        if (Number(rows[0]?.count ?? 0) < AUDIT_APPEND_ROWS) break;
        after = Number(rows[0]?.last);
      }
    });
  }
  const perAccount = new Map<string, number>();
  for (const pair of pairs) perAccount.set(pair.accountId, (perAccount.get(pair.accountId) ?? 0) + Number(pair.lines));
  for (const [accountId, lines] of perAccount) accountCount(accountId, lines);
  await alertsAfterPostings(
    trx,
    entityId,
    [...facts.keys()],
    [...new Set(pairs.flatMap((pair) => pair.days.split(',')))],
  );
  return true;
}
