#!/usr/bin/env node
// `npm start`: installs what is missing, then runs the ledger on the embedded PGlite (data under ./data) with a
// seeded demo, or on PostgreSQL when DATABASE_URL is set. Ctrl-C stops it cleanly.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDeps } from './ensure-deps.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
ensureDeps();

// The ledger serves the dashboard from dashboard/dist; build it once when it is missing (`npm run build
// --workspace dashboard` rebuilds it after a change).
const dashboardIndex = path.join(root, 'dashboard', 'dist', 'index.html');
if (!fs.existsSync(dashboardIndex)) {
  console.log('[veil] building the dashboard (once; about half a minute)…');
  const built = spawnSync(path.join(root, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], {
    cwd: path.join(root, 'dashboard'),
    stdio: 'inherit',
  });
  if (built.status !== 0) console.error('[veil] the dashboard did not build; the API still starts without it');
}

const port = process.env.PORT ?? '4100';
const env = {
  ...process.env,
  PORT: port,
  VEIL_DATA_DIR: process.env.VEIL_DATA_DIR ?? path.join(root, 'data'),
  VEIL_SEED_DEMO: process.env.VEIL_SEED_DEMO ?? 'true',
};
// Without Plaid credentials, the Plaid sandbox emulator runs beside the ledger and the demo books get linked banks.
const children = [];
if (!process.env.PLAID_CLIENT_ID && !process.env.PLAID_SECRET) {
  const emulatorPort = process.env.PLAID_EMULATOR_PORT ?? '4200';
  Object.assign(env, {
    PLAID_ENV: 'emulator',
    PLAID_BASE_URL: `http://127.0.0.1:${emulatorPort}`,
    PLAID_CLIENT_ID: 'veil-emulator-client',
    PLAID_SECRET: 'veil-emulator-secret',
    PLAID_WEBHOOK_URL: process.env.PLAID_WEBHOOK_URL ?? `http://127.0.0.1:${port}/plaid/webhook`,
    PLAID_EMULATOR_PORT: emulatorPort,
  });
  console.log(`[veil] no Plaid credentials: starting the Plaid sandbox emulator on http://127.0.0.1:${emulatorPort}`);
  const emulator = spawn(process.execPath, ['--import', 'tsx', 'src/plaid-emulator/main.ts'], {
    cwd: path.join(root, 'ledger-service'),
    env,
    stdio: 'inherit',
  });
  children.push(emulator);
}
console.log(`[veil] starting the ledger on ${process.env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${env.VEIL_DATA_DIR}`}`);
if (fs.existsSync(dashboardIndex)) console.log(`[veil] dashboard http://127.0.0.1:${port}/app`);
console.log(`[veil] API  http://127.0.0.1:${port}   docs http://127.0.0.1:${port}/docs   OpenAPI http://127.0.0.1:${port}/openapi.json`);

// `node --import tsx` runs the service in this one child, so a signal reaches the process that holds the database.
const ledger = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
  cwd: path.join(root, 'ledger-service'),
  env,
  stdio: 'inherit',
});
children.push(ledger);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => children.forEach((child) => child.kill(signal)));
ledger.on('exit', (code, signal) => {
  for (const child of children) if (child !== ledger) child.kill('SIGTERM');
  process.exit(code ?? (signal ? 0 : 1));
});
