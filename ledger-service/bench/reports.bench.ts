// `npm run bench:reports` (and part of `npm run bench`): the balance sheet and income statement on a book of
// 1,000,000 postings (BENCH_REPORT_POSTINGS), next to ledger-cli and hledger from Debian's packages on the
// ledger's own journal export of the same book, in the same run. Target: Veil ≥ 100× faster than
// `ledger balance` and ≤ 100 ms per report. PostgreSQL when DATABASE_URL is set, PGlite otherwise.
// Not a test: it prints figures and ratios, and asserts nothing about time.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle } from '../src/db/database';
import { migrateToLatest } from '../src/db/migrate';
import { signIn, startService, type ServiceProcess } from '../test/support/process';
import { createClient } from './http-client';
import { createBenchSchema, dropBenchSchema } from './schema';

const POSTINGS = Number(process.env.BENCH_REPORT_POSTINGS ?? 1_000_000);
const ENTRIES = Math.floor(POSTINGS / 2);
const CHUNK = 50_000;
const RUNS = 9;
const YEAR = '2025';

const progress = (message: string) => process.stdout.write(`  … ${message}\n`);

const ACCOUNTS = {
  checking: 'checking',
  savings: 'savings',
  card: 'credit_card',
  sales: 'income_category',
  consulting: 'income_category',
  interest: 'income_category',
  capital: 'contributed_capital',
  rent: 'expense_category',
  software: 'expense_category',
  travel: 'expense_category',
  meals: 'expense_category',
  insurance: 'expense_category',
  utilities: 'expense_category',
  advertising: 'expense_category',
  supplies: 'expense_category',
} as const;
type Name = keyof typeof ACCOUNTS;

/** Entry g's two accounts, by g mod 10: sales, card spending, cash spending, card payments, savings, capital… */
const SHAPES: [Name | 'expense', Name][] = [
  ['checking', 'sales'],
  ['expense', 'card'],
  ['expense', 'card'],
  ['expense', 'checking'],
  ['card', 'checking'],
  ['savings', 'checking'],
  ['savings', 'consulting'],
  ['checking', 'interest'],
  ['expense', 'checking'],
  ['checking', 'capital'],
];
const EXPENSES: Name[] = ['rent', 'software', 'travel', 'meals', 'insurance', 'utilities', 'advertising', 'supplies'];

interface Backend {
  label: string;
  env: Record<string, string>;
  open(dataDir: string): Promise<DatabaseHandle>;
  /** PGlite is one process: the service must be stopped while the benchmark writes straight to the data. */
  exclusive: boolean;
  cleanup(): Promise<void>;
}

async function bulkLoad(handle: DatabaseHandle, entityId: string, ids: Record<Name, string>) {
  const debit = SHAPES.map(([to]) => (to === 'expense' ? null : ids[to]));
  const credit = SHAPES.map(([, from]) => ids[from]);
  const expenses = EXPENSES.map((name) => ids[name]);
  const started = performance.now();
  for (let first = 0; first < ENTRIES; first += CHUNK) {
    const last = Math.min(ENTRIES, first + CHUNK) - 1;
    // One statement per chunk: the entries, then both postings of each; the postings trigger keeps balances and
    // month totals, and the commit-time check proves every entry balanced, as for any write.
    await handle.db.transaction().execute(async (trx) => {
      await sql`
        with source as materialized (
          select g, gen_random_uuid() as id, date '2022-01-01' + (g * 7 % 1461)::int as posted_on, 100 + (g * 7919 % 500000) as amount
          from generate_series(${first}::bigint, ${last}::bigint) g
        ), entries as (
          insert into journal_entries (id, entity_id, posted_on, description, source, content_hash, actor)
          select id, ${entityId}, posted_on, 'bench entry ' || g, 'manual', 'bench', 'bench' from source
          returning id
        )
        insert into postings (entry_id, entity_id, account_id, currency, amount_cents)
        select s.id, ${entityId}, p.account_id, 'USD', p.amount
        from source s
        cross join lateral (values
          (coalesce((${debit}::uuid[])[(s.g % 10)::int + 1], (${expenses}::uuid[])[((s.g / 10) % 8)::int + 1]), s.amount),
          ((${credit}::uuid[])[(s.g % 10)::int + 1], -s.amount)
        ) as p(account_id, amount)`.execute(trx);
    });
    progress(`${(last + 1) * 2} of ${ENTRIES * 2} postings stored (${Math.round(((last + 1) * 2) / ((performance.now() - started) / 1000))} postings/s)`);
  }
  await sql`analyze`.execute(handle.db);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function timeCommand(command: string, args: string[]): { ms: number; ok: boolean; output: string } {
  const started = performance.now();
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - started;
  return { ms, ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

function toolVersion(command: string): string | undefined {
  try {
    return execFileSync(command, ['--version'], { encoding: 'utf8' }).split('\n')[0];
  } catch {
    return undefined;
  }
}

async function run(backend: Backend) {
  console.log(`\n== ${backend.label}: ${ENTRIES * 2} postings ==`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-bench-reports-'));
  const env = { VEIL_DATA_DIR: dataDir, VEIL_RATE_LIMIT_MAX: '1000000', ...backend.env };
  let service: ServiceProcess | undefined = await startService(env);
  try {
    const token = await signIn(service.baseUrl);
    let client = createClient(service.baseUrl, 1);
    const headers = { authorization: `Bearer ${token}` };
    const write = async (route: string, body: unknown) => {
      const response = await client.post(route, body, { ...headers, 'idempotency-key': randomUUID() });
      if (response.status !== 201) throw new Error(`${route}: ${response.status} ${response.body}`);
      return JSON.parse(response.body) as { id: string };
    };
    const entity = await write('/entities', { kind: 'llc', name: 'Million Postings LLC' });
    const ids = {} as Record<Name, string>;
    for (const [name, kind] of Object.entries(ACCOUNTS) as [Name, string][]) ids[name] = (await write(`/entities/${entity.id}/accounts`, { name, kind })).id;

    if (backend.exclusive) {
      client.close();
      service.child.kill('SIGTERM');
      await new Promise((resolve) => service?.child.once('exit', resolve));
      service = undefined;
    }
    const handle = await backend.open(dataDir);
    await bulkLoad(handle, entity.id, ids);
    await handle.close();
    let fresh = token;
    if (backend.exclusive) {
      service = await startService(env);
      client = createClient(service.baseUrl, 1);
      fresh = await signIn(service.baseUrl);
    }
    const get = async (route: string) => {
      const response = await client.get(route, { authorization: `Bearer ${fresh}` });
      if (response.status !== 200) throw new Error(`${route}: ${response.status} ${response.body.slice(0, 500)}`);
      return response.body;
    };

    const reports = {
      'balance sheet': `/entities/${entity.id}/reports/balance-sheet?from=${YEAR}-01-01&to=${YEAR}-12-31`,
      'income statement': `/entities/${entity.id}/reports/income-statement?from=${YEAR}-01-01&to=${YEAR}-12-31`,
      'balance sheet mid-month': `/entities/${entity.id}/reports/balance-sheet?from=${YEAR}-02-11&to=${YEAR}-09-17`,
      'income statement mid-month': `/entities/${entity.id}/reports/income-statement?from=${YEAR}-02-11&to=${YEAR}-09-17`,
    };
    const veil: Record<string, { median: number; max: number }> = {};
    for (const [name, route] of Object.entries(reports)) {
      await get(route);
      const times: number[] = [];
      for (let index = 0; index < RUNS; index += 1) {
        const started = performance.now();
        await get(route);
        times.push(performance.now() - started);
      }
      veil[name] = { median: median(times), max: Math.max(...times) };
      progress(`Veil ${name}: median ${veil[name].median.toFixed(1)} ms over ${RUNS} runs`);
    }

    progress('exporting the journal for ledger-cli and hledger');
    const journal = path.join(dataDir, 'export.journal');
    fs.writeFileSync(journal, await get(`/entities/${entity.id}/exports/hledger.journal`));
    progress(`journal: ${(fs.statSync(journal).size / 1e6).toFixed(1)} MB`);

    // BENCH_REPORT_HLEDGER=0 leaves hledger out (minutes on a million postings); ledger-cli, the target's yardstick,
    // always runs.
    const withHledger = process.env.BENCH_REPORT_HLEDGER !== '0';
    const peers: [string, string, string[]][] = [
      ['ledger-cli balance (whole book)', 'ledger', ['-f', journal, 'balance']],
      ['ledger-cli P&L for the year', 'ledger', ['-f', journal, '-b', `${YEAR}-01-01`, '-e', `${Number(YEAR) + 1}-01-01`, 'balance', '^Income', '^Expenses']],
      ['hledger balance sheet', 'hledger', ['-f', journal, 'balancesheet', '-e', `${Number(YEAR) + 1}-01-01`]],
      ['hledger income statement', 'hledger', ['-f', journal, 'incomestatement', '-b', `${YEAR}-01-01`, '-e', `${Number(YEAR) + 1}-01-01`]],
    ].filter(([, command]) => withHledger || command !== 'hledger') as [string, string, string[]][];
    const peerMs: Record<string, number> = {};
    for (const [name, command, args] of peers) {
      if (toolVersion(command) === undefined) {
        console.log(`  ${name}: ${command} is not installed (apt-get install ledger hledger)`);
        continue;
      }
      progress(`${name}…`);
      const result = timeCommand(command, args);
      if (!result.ok) throw new Error(`${command} failed: ${result.output.slice(0, 2000)}`);
      peerMs[name] = result.ms;
      progress(`${name}: ${result.ms.toFixed(0)} ms`);
    }

    console.log(`\n${backend.label} — ${ENTRIES * 2} postings, ${os.cpus().length} cores, Node ${process.version}; ${toolVersion('ledger') ?? 'no ledger'}; ${toolVersion('hledger') ?? 'no hledger'}`);
    console.log(`${'report'.padEnd(40)}${'median ms'.padStart(11)}${'max ms'.padStart(9)}`);
    for (const [name, figure] of Object.entries(veil)) console.log(`Veil ${name.padEnd(35)}${figure.median.toFixed(1).padStart(11)}${figure.max.toFixed(1).padStart(9)}`);
    for (const [name, ms] of Object.entries(peerMs)) console.log(`${name.padEnd(40)}${ms.toFixed(0).padStart(11)}`);
    const slowestVeil = Math.max(...Object.values(veil).map((figure) => figure.median));
    const ledgerWhole = peerMs['ledger-cli balance (whole book)'];
    if (ledgerWhole !== undefined) {
      console.log(`ratio ledger-cli balance / Veil's slowest report: ${(ledgerWhole / slowestVeil).toFixed(0)}×   target ≥ 100×`);
    }
    const ledgerPnl = peerMs['ledger-cli P&L for the year'];
    if (ledgerPnl !== undefined) console.log(`ratio ledger-cli P&L / Veil income statement: ${(ledgerPnl / (veil['income statement']?.median ?? NaN)).toFixed(0)}×`);
    console.log(`Veil's slowest report (median): ${slowestVeil.toFixed(1)} ms   target ≤ 100 ms`);
    client.close();
  } finally {
    if (service) {
      service.child.kill('SIGTERM');
      await new Promise((resolve) => service?.child.once('exit', resolve));
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
    await backend.cleanup();
  }
}

async function main() {
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    const schema = await createBenchSchema(databaseUrl, 'veil_bench_reports');
    const migrate = await openDatabase({ databaseUrl, schema });
    await migrateToLatest(migrate.db);
    await migrate.close();
    await run({
      label: 'PostgreSQL',
      env: { DATABASE_URL: databaseUrl, VEIL_DB_SCHEMA: schema },
      open: () => openDatabase({ databaseUrl, schema }),
      exclusive: false,
      cleanup: () => dropBenchSchema(databaseUrl, schema),
    });
  } else {
    await run({
      label: 'PGlite',
      env: { DATABASE_URL: '' },
      open: (dataDir) => openDatabase({ pgliteDataDir: path.join(dataDir, 'pglite') }),
      exclusive: true,
      cleanup: async () => {},
    });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
