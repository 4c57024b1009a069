#!/usr/bin/env node
// `npm test`: installs what is missing, type-checks, builds the dashboard, then runs every suite on the embedded
// PGlite and again on PostgreSQL when DATABASE_URL is set: the ledger's Jest suites, the dashboard's unit tests and
// its browser tests (Debian's chromium against a real ledger process). Ends with one plain line: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDeps } from './ensure-deps.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
ensureDeps();

const summaryFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'veil-test-')), 'summary.jsonl');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const extraArgs = process.argv.slice(2);
let failedSteps = 0;

function step(label, command, args, options = {}) {
  console.log(`\n[veil] ${label}`);
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    failedSteps += 1;
    console.error(`[veil] ${label}: failed (exit ${result.status ?? result.signal})`);
  }
}

step('type-check', bin('tsc'), ['-p', 'ledger-service/tsconfig.json', '--noEmit'], { cwd: root });
step('dashboard type-check', bin('tsc'), ['-p', 'dashboard/tsconfig.json', '--noEmit'], { cwd: root });
// The browser tests drive the built app that the ledger serves, so it is built fresh from this tree first.
step('dashboard build', bin('vite'), ['build', '--logLevel', 'warn'], { cwd: path.join(root, 'dashboard') });

let expectedRuns = 0;

/** Runs Vitest with a JSON report and appends its counts to the summary, as the Jest reporter does. */
function vitest(label, args, env = {}) {
  expectedRuns += 1;
  const report = path.join(path.dirname(summaryFile), `${label.replace(/\W+/g, '-')}.json`);
  console.log(`\n[veil] ${label}`);
  const result = spawnSync(bin('vitest'), ['run', ...args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
    cwd: path.join(root, 'dashboard'),
    stdio: 'inherit',
    env: { ...process.env, ...env, NODE_NO_WARNINGS: '1' },
  });
  let passed = 0;
  let failed = 0;
  if (fs.existsSync(report)) {
    const counts = JSON.parse(fs.readFileSync(report, 'utf8'));
    passed = counts.numPassedTests;
    failed = counts.numFailedTests + counts.numPendingTests + counts.numTodoTests;
  }
  // A file that could not load, or a hook that threw, fails the run even when no single test was counted.
  if (result.status !== 0 && failed === 0) failed = 1;
  console.log(`\n${label}: ${passed} passed, ${failed} failed`);
  fs.appendFileSync(summaryFile, JSON.stringify({ label, passed, failed, skipped: 0 }) + '\n');
}

vitest('dashboard unit tests', []);

const backends = [{ name: 'pglite', env: {} }];
if (process.env.DATABASE_URL) backends.push({ name: 'postgres', env: { DATABASE_URL: process.env.DATABASE_URL } });
else console.log('[veil] DATABASE_URL is not set: the ledger suites run on PGlite only');

for (const backend of backends) {
  expectedRuns += 1;
  step(`ledger-service on ${backend.name}`, process.execPath, ['--experimental-vm-modules', bin('jest'), ...extraArgs], {
    cwd: path.join(root, 'ledger-service'),
    env: {
      ...process.env,
      ...backend.env,
      VEIL_TEST_DB: backend.name,
      VEIL_TEST_LABEL: `ledger-service on ${backend.name}`,
      VEIL_TEST_SUMMARY_FILE: summaryFile,
      NODE_NO_WARNINGS: '1',
    },
  });
  vitest(`dashboard in chromium on ${backend.name}`, ['--config', 'vitest.e2e.config.ts'], { ...backend.env, VEIL_TEST_DB: backend.name });
}

// The n8n node pack: build and lint it (n8n-node, strict), scan the packed tarball like the community-package
// scanner does, then run its tests under Node 24 against real ledger processes: the nodes in-process with
// n8n-core, and end to end in a real n8n 2.41.1 (installed once into ~/.cache/veil, see scripts/n8n/install.mjs).
// test/n8n/*.test.mjs includes the workflow templates' suite (templates.test.mjs): every file of
// workflows-templates/ checked statically, imported, run and judged by the books. VEIL_TEST_PORTS=low-high keeps
// every process those suites start inside one port range.
const n8nRuns = [];
{
  const { ensureN8n } = await import('./n8n/install.mjs');
  let n8nPaths;
  try {
    n8nPaths = await ensureN8n();
  } catch (error) {
    console.error(`[veil] n8n could not be installed: ${error.message}`);
    failedSteps += 1;
  }
  step('node pack: build (n8n-node build)', bin('n8n-node'), ['build'], { cwd: root, env: { ...process.env, CI: 'true' } });
  step('node pack: lint (n8n-node lint, strict)', process.execPath, [path.join(root, 'scripts', 'n8n', 'lint.mjs')], { cwd: root });
  step('node pack: community package scanner (analyzePackage on the packed tarball)', process.execPath, [path.join(root, 'scripts', 'n8n', 'scan.mjs')], { cwd: root });
  if (n8nPaths) {
    // Files that run with one backend only. queue.test.mjs is the scale-out topology (n8n queue mode, two ledger
    // replicas): it needs PostgreSQL and Redis. The templates' suite and npm start's test each boot n8n many times
    // (about 10 s a boot on a quiet machine, minutes under load); what they test is n8n, the templates and the start
    // script, while the ledger's backends are covered by every ledger suite, so each runs once: npm start's test on
    // PGlite (its default), the templates on PostgreSQL when there is one. Every other file runs on both.
    const last = backends[backends.length - 1].name;
    const ONE_BACKEND = { 'queue.test.mjs': 'postgres', 'start.test.mjs': 'pglite', 'templates.test.mjs': last, 'mint.test.mjs': 'pglite' };
    const n8nTests = fs
      .readdirSync(path.join(root, 'test', 'n8n'))
      .filter((name) => name.endsWith('.test.mjs'))
      .sort()
      .map((name) => path.join('test', 'n8n', name));
    for (const backend of backends) {
      const label = `n8n nodes on ${backend.name}`;
      const files = n8nTests.filter((file) => (ONE_BACKEND[path.basename(file)] ?? backend.name) === backend.name);
      const tapFile = path.join(path.dirname(summaryFile), `n8n-${backend.name}.tap`);
      step(label, n8nPaths.node, ['--test', '--test-concurrency=1', '--test-timeout=900000', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tapFile}`, ...files], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: backend.env.DATABASE_URL ?? '', VEIL_LEDGER_NODE: process.execPath, NODE_NO_WARNINGS: '1' },
      });
      const tap = fs.existsSync(tapFile) ? fs.readFileSync(tapFile, 'utf8') : '';
      const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
      n8nRuns.push({ label, passed: count('pass'), failed: count('fail') + count('cancelled') + (tap ? 0 : 1) });
    }
  }
}

const runs = fs.existsSync(summaryFile)
  ? fs.readFileSync(summaryFile, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line))
  : [];
runs.push(...n8nRuns);
const passed = runs.reduce((sum, run) => sum + run.passed, 0);
const failed = runs.reduce((sum, run) => sum + run.failed, 0) + (runs.length - n8nRuns.length < expectedRuns ? 1 : 0);
console.log('');
for (const run of runs) console.log(`[veil] ${run.label}: ${run.passed} passed, ${run.failed} failed`);
console.log(`${passed} passed, ${failed + failedSteps} failed`);
process.exit(failed + failedSteps > 0 ? 1 : 0);
