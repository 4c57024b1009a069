#!/usr/bin/env node
// `npm test`: installs what is missing, type-checks, then runs every suite on the embedded PGlite and again on
// PostgreSQL when DATABASE_URL is set. Ends with one plain line: "N passed, N failed".
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

const backends = [{ name: 'pglite', env: {} }];
if (process.env.DATABASE_URL) backends.push({ name: 'postgres', env: { DATABASE_URL: process.env.DATABASE_URL } });
else console.log('[veil] DATABASE_URL is not set: the ledger suites run on PGlite only');

for (const backend of backends) {
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
}

const runs = fs.existsSync(summaryFile)
  ? fs.readFileSync(summaryFile, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line))
  : [];
const passed = runs.reduce((sum, run) => sum + run.passed, 0);
const failed = runs.reduce((sum, run) => sum + run.failed, 0) + (runs.length < backends.length ? 1 : 0);
console.log('');
for (const run of runs) console.log(`[veil] ${run.label}: ${run.passed} passed, ${run.failed} failed`);
console.log(`${passed} passed, ${failed + failedSteps} failed`);
process.exit(failed + failedSteps > 0 ? 1 : 0);
