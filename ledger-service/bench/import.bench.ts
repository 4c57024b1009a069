// `npm run bench` (after the journal bench): a generated CSV of BENCH_IMPORT_ROWS rows (1,000,000 by default)
// imported end to end through the import service (parse, dedup ids, near-duplicate check, transfer matching,
// rules, booking; one transaction), with a progress line, rows/s and peak RSS; and, in the same run on the same
// database, the raw floor for the ratio: a COPY of the same rows into bank_lines on PostgreSQL (DATABASE_URL), a
// raw multi-row INSERT on PGlite (no DATABASE_URL). A rule books the lines whose payee contains BENCH_IMPORT_RULE
// (default "Merchant 1": 22% of them) and one line in a hundred has a mirror in another account of the entity (a
// transfer), so matching and booking are part of the figure. On PostgreSQL it also prints the floor of everything the
// import writes (rawJournalFloor) and the ratio to it. Prints figures, asserts nothing.
// Run with a V8 heap limit of 256 MB (package.json), as a memory-limited deployment runs the service: the import's
// live heap stays under ~100 MB, but with no limit V8 lets collected-later garbage grow the RSS to ~500 MB first.
import { randomUUID } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import pg from 'pg';
import { dropBenchSchema } from './schema';
import { from as copyFrom } from 'pg-copy-streams';
import { openDatabase } from '../src/db/database';
import { migrateToLatest } from '../src/db/migrate';
import { auditedTransaction } from '../src/services/audit';
import { systemActor } from '../src/services/context';
import { importStatement } from '../src/services/imports';
import { timeOrderedUuid } from '../src/services/ids';

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 1_000_000);
const RULE_PAYEE = process.env.BENCH_IMPORT_RULE ?? 'Merchant 1';
// BENCH_IMPORT_PROFILE=1: the import's statements of 50 ms or more go to the server's log (with the backend pid
// printed here to find them), and the time spent in each PL/pgSQL function (triggers included) is printed at the end.
const PROFILE = process.env.BENCH_IMPORT_PROFILE === '1';
// BENCH_IMPORT_EXPLAIN=<ms>: the plan (EXPLAIN ANALYZE, BUFFERS) of each statement of the import that takes longer,
// nested ones too, goes to the server's log (auto_explain, loaded for the benchmark's connections only).

let peakRssBytes = 0;
const sampler = setInterval(() => {
  peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss);
}, 50);

function fields(index: number) {
  const day = String((index % 28) + 1).padStart(2, '0');
  const month = String((Math.floor(index / 28) % 12) + 1).padStart(2, '0');
  return { date: `2025-${month}-${day}`, payee: `Merchant ${index % 5_000}`, cents: (index % 99_991) - 50_000, memo: `ref ${index}` };
}

function csvRow(index: number): string {
  const { date, payee, cents, memo } = fields(index);
  const amount = `${cents < 0 ? '-' : ''}${Math.trunc(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;
  return `${date},${payee},${amount},${memo}`;
}

/** Whether the bench's rule books line `index` (payee contains RULE_PAYEE, as rules.ts compares: case-insensitively). */
function bookedByRule(index: number): boolean {
  return fields(index).payee.toLowerCase().includes(RULE_PAYEE.toLowerCase());
}

/**
 * The journal half of the import's floor, in seconds (PostgreSQL): for each line the rule books, the rows the import
 * writes besides the bank line, with nothing computed that the raw COPY baseline does not compute either. Entries and
 * postings go through a COPY into a table of the transaction and one statement, as the import writes them (an entry
 * checked in the statement that inserts it with its postings, 0031): entries inserted alone would wait for a
 * per-entry check at COMMIT that the import does not pay. Events by COPY, with a payload of an entry view's size;
 * audit rows by COPY into a table shaped like audit_log (raw rows would break the trail's hash chain), with hashes
 * of the right length. Runs after the import, so that its rows do not slow the import's indexes.
 */
async function rawJournalFloor(url: URL, entityId: string, cashId: string, expenseId: string): Promise<{ seconds: number; entries: number }> {
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  const started = performance.now();
  const stream = async (statement: string, row: (index: number) => string) => {
    async function* rows() {
      let chunk = '';
      for (let index = 0; index < ROWS; index += 1) {
        if (!bookedByRule(index)) continue;
        chunk += row(index);
        if (chunk.length > 1_000_000) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk.length > 0) yield chunk;
    }
    await pipeline(Readable.from(rows()), client.query(copyFrom(statement)));
  };
  const entryIds = new Map<number, string>();
  const entryId = (index: number) => entryIds.get(index) ?? (entryIds.set(index, timeOrderedUuid()).get(index) as string);
  const view = (index: number) => {
    const { date, payee, cents, memo } = fields(index);
    return `{"actor":"system:bench","createdAt":"2026-01-01T00:00:00.000Z","description":"${payee}","entityId":"${entityId}","id":"${entryId(index)}","idempotencyKey":"bank-line:${entryId(index)}","postedOn":"${date}","postings":[{"accountId":"${cashId}","amountCents":${cents},"currency":"USD","memo":"${memo}"},{"accountId":"${expenseId}","amountCents":${-cents},"currency":"USD","memo":null}],"reversedByEntryId":null,"reversesEntryId":null,"source":"import"}`;
  };
  await client.query('begin');
  await client.query('create temporary table floor_entries (id uuid, posted_on date, description text, amount_cents bigint, memo text) on commit drop');
  await stream('copy floor_entries (id, posted_on, description, amount_cents, memo) from stdin', (index) => {
    const { date, payee, cents, memo } = fields(index);
    return `${entryId(index)}\t${date}\t${payee}\t${cents}\t${memo}\n`;
  });
  await client.query(
    `with entries as (
       insert into journal_entries (id, entity_id, posted_on, description, source, idempotency_key, content_hash, actor, checked_in_statement)
       select f.id, $1, f.posted_on, f.description, 'import', 'bank-line:' || f.id, repeat('0', 64), 'system:bench', true
         from floor_entries f where f.amount_cents <> 0)
     insert into postings (entry_id, entity_id, account_id, currency, amount_cents, memo)
     select f.id, $1, p.account_id, 'USD', p.sign * f.amount_cents, case when p.sign = 1 then f.memo end
       from floor_entries f cross join (values ($2::uuid, 1), ($3::uuid, -1)) as p (account_id, sign)
      where f.amount_cents <> 0`,
    [entityId, cashId, expenseId],
  );
  await stream('copy ledger_events (entity_id, type, payload) from stdin', (index) => `${entityId}\tentry.posted\t{"entry":${view(index).replaceAll('\\', '\\\\')}}\n`);
  await client.query('create table floor_audit (like audit_log including defaults including indexes)');
  let seq = 0;
  const hash = '0'.repeat(64);
  await stream('copy floor_audit (seq, occurred_at, actor_type, actor_id, action, entity_id, object_type, object_id, after, prev_hash, hash, chain_version) from stdin', (index) => {
    seq += 1;
    return `${seq}\t2026-01-01T00:00:00Z\tsystem\tbench\tentry.booked\t${entityId}\tentry\t${entryId(index)}\t${view(index)}\t${hash}\t${hash}\t2\n`;
  });
  await client.query('commit');
  const seconds = (performance.now() - started) / 1000;
  await client.end();
  return { seconds, entries: entryIds.size };
}

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  const schema = `bench_import_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  let url: URL | undefined;
  if (databaseUrl) {
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    url = new URL(databaseUrl);
    url.searchParams.set('options', `-c search_path=${schema},public${PROFILE ? ' -c track_functions=pl -c log_min_duration_statement=50' : ''}${process.env.BENCH_IMPORT_EXPLAIN ? ' -c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=' + process.env.BENCH_IMPORT_EXPLAIN + ' -c auto_explain.log_analyze=on -c auto_explain.log_buffers=on -c auto_explain.log_nested_statements=on' : ''}`);
  }
  const handle = await openDatabase(url ? { databaseUrl: url.toString() } : { pgliteDataDir: 'memory://' });
  try {
    await migrateToLatest(handle.db);
    // Two entities with no owner: the baseline rows must not look like transfer mirrors of the imported ones.
    const [entity, copyEntity] = await handle.db
      .insertInto('entities')
      .values(['Bench import', 'Bench COPY'].map((name) => ({ kind: 'llc' as const, name, currency: 'USD', taxProfile: 'disregarded' as const })))
      .returning('id')
      .execute();
    if (!entity || !copyEntity) throw new Error('no entities');
    const copyEntityId = copyEntity.id;
    const [copyAccount, importAccount, savings, expense, copyExpense] = await handle.db
      .insertInto('accounts')
      .values([
        { entityId: copyEntity.id, name: 'COPY target', class: 'asset' as const, kind: 'checking' as const, currency: 'USD' },
        { entityId: entity.id, name: 'Import target', class: 'asset' as const, kind: 'checking' as const, currency: 'USD' },
        { entityId: entity.id, name: 'Savings', class: 'asset' as const, kind: 'savings' as const, currency: 'USD' },
        { entityId: entity.id, name: 'Bench expenses', class: 'expense' as const, kind: 'expense_category' as const, currency: 'USD' },
        { entityId: copyEntity.id, name: 'COPY expenses', class: 'expense' as const, kind: 'expense_category' as const, currency: 'USD' },
      ])
      .returning('id')
      .execute();
    if (!copyAccount || !importAccount || !savings || !expense || !copyExpense) throw new Error('no accounts');
    await handle.db
      .insertInto('categorisationRules')
      .values({ entityId: entity.id, position: 0, name: 'bench', enabled: true, conditions: JSON.stringify({ payeeContains: RULE_PAYEE }), action: JSON.stringify({ categoryAccountId: expense.id }) })
      .execute();
    // Waiting lines in the entity's savings account, one in a hundred the mirror of an imported line: transfers.
    const mirrors = [];
    for (let index = 0; index < ROWS; index += 100) {
      const { date, cents } = fields(index);
      if (cents !== 0) mirrors.push({ entityId: entity.id, accountId: savings.id, currency: 'USD', source: 'manual' as const, externalId: `mirror-${index}`, postedOn: date, amountCents: -cents, payee: 'Own transfer' });
    }
    for (let start = 0; start < mirrors.length; start += 2_000) await handle.db.insertInto('bankLines').values(mirrors.slice(start, start + 2_000)).execute();
    // The file as an upload holds it: one buffer. Built 10,000 rows at a time, so that the benchmark's own garbage
    // (a million row strings) does not count in the import's peak RSS: it was 444 MB of heap before the import began.
    const chunks = [Buffer.from('Date,Description,Amount,Memo\n')];
    for (let start = 0; start < ROWS; start += 10_000) {
      let text = '';
      for (let index = start; index < Math.min(ROWS, start + 10_000); index += 1) text += `${csvRow(index)}\n`;
      chunks.push(Buffer.from(text));
    }
    const bytes = Buffer.concat(chunks);
    chunks.length = 0;
    const heapLimitMb = getHeapStatistics().heap_size_limit / 1e6;
    console.log(`import benchmark: ${ROWS.toLocaleString('en-US')} CSV rows, ${(bytes.length / 1e6).toFixed(1)} MB, ${url ? `PostgreSQL schema ${schema}` : 'PGlite (memory)'}, V8 heap limit ${heapLimitMb.toFixed(0)} MB`);

    // The floor any importer could reach on this database: the same rows, already parsed, written raw (COPY on
    // PostgreSQL; on PGlite, which has no COPY from a client stream, multi-row INSERTs of 2,000 rows).
    const copyStart = performance.now();
    let baseline: string;
    if (url) {
      baseline = 'raw COPY';
      const copyClient = new pg.Client({ connectionString: url.toString() });
      await copyClient.connect();
      const copyStream = copyClient.query(
        copyFrom('copy bank_lines (entity_id, account_id, currency, source, external_id, posted_on, amount_cents, payee, memo) from stdin'),
      );
      // 1,000 rows a chunk: one CopyData message (and socket write) a row made the floor the client's, not the
      // database's (4,000 rows/s under load).
      async function* copyRows() {
        let chunk = '';
        for (let index = 0; index < ROWS; index += 1) {
          const { date, payee, cents, memo } = fields(index);
          chunk += `${copyEntityId}\t${copyAccount?.id}\tUSD\tcsv\trow-${index}\t${date}\t${cents}\t${payee}\t${memo}\n`;
          if (index % 1_000 === 999) {
            yield chunk;
            chunk = '';
          }
        }
        if (chunk.length > 0) yield chunk;
      }
      await pipeline(Readable.from(copyRows()), copyStream);
      await copyClient.end();
    } else {
      baseline = 'raw INSERT';
      for (let start = 0; start < ROWS; start += 2_000) {
        const values = [];
        for (let index = start; index < Math.min(ROWS, start + 2_000); index += 1) {
          const { date, payee, cents, memo } = fields(index);
          values.push(sql`(${copyEntityId}::uuid, ${copyAccount.id}::uuid, 'USD', 'csv', ${`row-${index}`}, ${date}::date, ${cents}::bigint, ${payee}, ${memo})`);
        }
        await sql`insert into bank_lines (entity_id, account_id, currency, source, external_id, posted_on, amount_cents, payee, memo) values ${sql.join(values)}`.execute(handle.db);
      }
    }
    const copySeconds = (performance.now() - copyStart) / 1000;
    console.log(`  ${baseline}: ${(ROWS / copySeconds).toFixed(0)} rows/s (${copySeconds.toFixed(1)} s)`);

    const started = performance.now();
    const ticker = setInterval(async () => {
      const elapsed = (performance.now() - started) / 1000;
      process.stdout.write(`  … importing: ${elapsed.toFixed(0)} s, RSS ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB\n`);
    }, 5_000);
    // Where the time goes: each step of the import as it ends, then the commit (audit rows and the journal's
    // commit-time checks run in the transaction's last statement).
    const phases: string[] = [];
    let phaseStart = performance.now();
    const phase = (name: string) => {
      const now = performance.now();
      phases.push(`${name} ${((now - phaseStart) / 1000).toFixed(1)} s (RSS ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB)`);
      phaseStart = now;
    };
    const report = await auditedTransaction(handle.db, async (trx) => {
      if (PROFILE) console.log(`  backend pid: ${(await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]?.pid}`);
      const result = await importStatement(
        trx,
        systemActor('bench'),
        { entityId: entity.id, accountId: importAccount?.id },
        { fileName: 'bench.csv', bytes },
        async () => undefined,
        { afrRows: [], today: '2026-01-01' },
        { onPhase: phase },
      );
      phase('report');
      return result;
    });
    phase('commit');
    clearInterval(ticker);
    const importSeconds = (performance.now() - started) / 1000;
    const stored = await sql<{ count: string }>`select count(*) as count from bank_lines where account_id = ${importAccount?.id}`.execute(handle.db);
    console.log(`  import:   ${(ROWS / importSeconds).toFixed(0)} rows/s (${importSeconds.toFixed(1)} s), ${report.new} new, ${stored.rows[0]?.count} stored, ${report.booked} booked by the rule, ${report.transfersBooked} transfers`);
    console.log(`  steps: ${phases.join(', ')}`);
    console.log(`  ratio import / ${baseline}: ${(copySeconds / importSeconds).toFixed(3)} (import takes ${(importSeconds / copySeconds).toFixed(1)}× as long)`);
    console.log(`  peak RSS: ${(peakRssBytes / 1e6).toFixed(0)} MB (targets: ≥ 25,000 rows/s, ≤ 300 MB)`);
    if (url) {
      const journal = await rawJournalFloor(url, copyEntityId, copyAccount.id, copyExpense.id);
      const floorSeconds = copySeconds + journal.seconds;
      console.log(
        `  raw floor of what the import writes (the COPY above, then ${journal.entries} entries with their postings, events and audit rows, raw): ${(ROWS / floorSeconds).toFixed(0)} rows/s (${copySeconds.toFixed(1)} + ${journal.seconds.toFixed(1)} s)`,
      );
      console.log(`  ratio import / that floor: ${(floorSeconds / importSeconds).toFixed(3)}`);
    }
    if (PROFILE) {
      // The backend reports its function statistics when it goes idle (at most once a second).
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const { rows } = await sql<{ name: string; calls: string; totalMs: number; selfMs: number }>`
        select funcname as name, calls, total_time as "totalMs", self_time as "selfMs" from pg_stat_user_functions
         where schemaname = ${schema} order by total_time desc`.execute(handle.db);
      for (const row of rows) console.log(`  function ${row.name}: ${row.calls} calls, ${(row.totalMs / 1000).toFixed(2)} s (self ${(row.selfMs / 1000).toFixed(2)} s)`);
    }
  } finally {
    clearInterval(sampler);
    await handle.close();
    if (databaseUrl) await dropBenchSchema(databaseUrl, schema);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
