#!/usr/bin/env node
// `npm start`: installs what is missing, then runs the ledger on the embedded PGlite (data under ./data) with a
// seeded demo, or on PostgreSQL when DATABASE_URL is set. Ctrl-C stops it cleanly.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDeps } from './ensure-deps.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
ensureDeps();

const port = process.env.PORT ?? '4100';
const env = {
  ...process.env,
  PORT: port,
  VEIL_DATA_DIR: process.env.VEIL_DATA_DIR ?? path.join(root, 'data'),
  VEIL_SEED_DEMO: process.env.VEIL_SEED_DEMO ?? 'true',
};
console.log(`[veil] starting the ledger on ${process.env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${env.VEIL_DATA_DIR}`}`);
console.log(`[veil] API  http://127.0.0.1:${port}   docs http://127.0.0.1:${port}/docs   OpenAPI http://127.0.0.1:${port}/openapi.json`);

// `node --import tsx` runs the service in this one child, so a signal reaches the process that holds the database.
const ledger = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
  cwd: path.join(root, 'ledger-service'),
  env,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => ledger.kill(signal));
ledger.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
