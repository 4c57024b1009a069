#!/usr/bin/env node
// Installs the workspace's dependencies when they are missing or older than the lockfile, so `npm start` and
// `npm test` work on a fresh clone with nothing but Node and npm. Cheap when nothing changed: one hash.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const inputs = ['package-lock.json', 'package.json', 'ledger-service/package.json', 'dashboard/package.json', '.npmrc'];
const marker = path.join(root, 'node_modules', '.veil-deps-hash');

function currentHash() {
  const hash = createHash('sha256');
  for (const file of inputs) {
    const full = path.join(root, file);
    hash.update(file).update(fs.existsSync(full) ? fs.readFileSync(full) : '');
  }
  return hash.digest('hex');
}

export function ensureDeps() {
  const wanted = currentHash();
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === wanted) return;
  const fresh = !fs.existsSync(path.join(root, 'node_modules'));
  // `npm install`, which keeps the locked versions, rather than `npm ci`: npm 11's `ci` refuses this lockfile for
  // the optional per-platform packages of unrs-resolver (pulled in by @n8n/node-cli's eslint) that npm itself
  // records only for the platform it ran on ("Missing: @unrs/resolver-binding-… from lock file").
  console.log(`[veil] ${fresh ? 'installing' : 'updating'} dependencies (npm install; about two minutes the first time)…`);
  const started = Date.now();
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    console.error('[veil] npm could not install the dependencies; see the messages above');
    process.exit(result.status ?? 1);
  }
  fs.writeFileSync(marker, currentHash());
  console.log(`[veil] dependencies ready in ${Math.round((Date.now() - started) / 1000)} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) ensureDeps();
