// `npm run bench` (after the journal bench): a generated CSV of BENCH_IMPORT_ROWS rows (1,000,000 by default)
// imported end to end on PostgreSQL through the import service (parse, dedup ids, near-duplicate check, rules,
// one transaction), with a progress line, rows/s and peak RSS; and, in the same run on the same database, a raw
// COPY of the same rows into bank_lines, for the ratio. Needs DATABASE_URL. Prints figures, asserts nothing.
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { openDatabase } from '../src/db/database';
import { migrateToLatest } from '../src/db/migrate';
import { auditedTransaction } from '../src/services/audit';
import { systemActor } from '../src/services/context';
import { importStatement } from '../src/services/imports';

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 1_000_000);

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

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('the import benchmark runs on PostgreSQL: set DATABASE_URL');
  const schema = `bench_import_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema},public`);
  const handle = await openDatabase({ databaseUrl: url.toString() });
  try {
    await migrateToLatest(handle.db);
    // Two entities with no owner: the COPY rows must not look like transfer mirrors of the imported ones.
    const [entity, copyEntity] = await handle.db
      .insertInto('entities')
      .values(['Bench import', 'Bench COPY'].map((name) => ({ kind: 'llc' as const, name, currency: 'USD', taxProfile: 'disregarded' as const })))
      .returning('id')
      .execute();
    if (!entity || !copyEntity) throw new Error('no entities');
    const copyEntityId = copyEntity.id;
    const [copyAccount, importAccount] = await handle.db
      .insertInto('accounts')
      .values([copyEntity.id, entity.id].map((entityId, index) => ({ entityId, name: index === 0 ? 'COPY target' : 'Import target', class: 'asset' as const, kind: 'checking' as const, currency: 'USD' })))
      .returning('id')
      .execute();
    const lines = ['Date,Description,Amount,Memo'];
    for (let index = 0; index < ROWS; index += 1) lines.push(csvRow(index));
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    lines.length = 0;
    console.log(`import benchmark: ${ROWS.toLocaleString('en-US')} CSV rows, ${(bytes.length / 1e6).toFixed(1)} MB, PostgreSQL schema ${schema}`);

    // Raw COPY of the same rows (already parsed: the floor any importer could reach on this database).
    const copyClient = new pg.Client({ connectionString: url.toString() });
    await copyClient.connect();
    const copyStart = performance.now();
    const copyStream = copyClient.query(
      copyFrom('copy bank_lines (entity_id, account_id, currency, source, external_id, posted_on, amount_cents, payee, memo) from stdin'),
    );
    async function* copyRows() {
      for (let index = 0; index < ROWS; index += 1) {
        const { date, payee, cents, memo } = fields(index);
        yield `${copyEntityId}\t${copyAccount?.id}\tUSD\tcsv\trow-${index}\t${date}\t${cents}\t${payee}\t${memo}\n`;
      }
    }
    await pipeline(Readable.from(copyRows()), copyStream);
    const copySeconds = (performance.now() - copyStart) / 1000;
    await copyClient.end();
    console.log(`  raw COPY: ${(ROWS / copySeconds).toFixed(0)} rows/s (${copySeconds.toFixed(1)} s)`);

    const started = performance.now();
    const ticker = setInterval(async () => {
      const elapsed = (performance.now() - started) / 1000;
      process.stdout.write(`  … importing: ${elapsed.toFixed(0)} s, RSS ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB\n`);
    }, 5_000);
    const report = await auditedTransaction(handle.db, (trx) =>
      importStatement(trx, systemActor('bench'), { entityId: entity.id, accountId: importAccount?.id }, { fileName: 'bench.csv', bytes }, async () => undefined, {
        afrRows: [],
        today: '2026-01-01',
      }),
    );
    clearInterval(ticker);
    const importSeconds = (performance.now() - started) / 1000;
    const stored = await sql<{ count: string }>`select count(*) as count from bank_lines where account_id = ${importAccount?.id}`.execute(handle.db);
    console.log(`  import:   ${(ROWS / importSeconds).toFixed(0)} rows/s (${importSeconds.toFixed(1)} s), ${report.new} new, ${stored.rows[0]?.count} stored`);
    console.log(`  ratio import / COPY: ${(copySeconds / importSeconds).toFixed(3)} (import takes ${(importSeconds / copySeconds).toFixed(1)}× as long)`);
    console.log(`  peak RSS: ${(peakRssBytes / 1e6).toFixed(0)} MB (targets: ≥ 25,000 rows/s, ≤ 300 MB)`);
  } finally {
    clearInterval(sampler);
    await handle.close();
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
