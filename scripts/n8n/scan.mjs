#!/usr/bin/env node
// The community package scanner's gate, offline: `npm pack` the pack, unpack the tarball and run the scanner's own
// `analyzePackage` on it (its CLI insists on fetching from the registry, and exits 0 even when it cannot).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzePackage } from '@n8n/scan-community-package/scanner/scanner.mjs';
import { packNodes } from './runtime.mjs';

export async function scanPack({ build = false } = {}) {
  const tarball = packNodes({ build });
  const unpacked = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-scan-'));
  const untar = spawnSync('tar', ['-xzf', tarball, '-C', unpacked]);
  if (untar.status !== 0) throw new Error(`could not unpack ${tarball}: ${untar.stderr}`);
  const packageDir = path.join(unpacked, 'package');
  const files = spawnSync('find', ['.', '-type', 'f'], { cwd: packageDir, encoding: 'utf8' }).stdout.trim().split('\n');
  const result = await analyzePackage(packageDir);
  fs.rmSync(path.dirname(tarball), { recursive: true, force: true });
  fs.rmSync(unpacked, { recursive: true, force: true });
  return { ...result, files };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await scanPack();
  console.log(`[scan] ${result.files.length} files in the tarball`);
  if (!result.passed) {
    console.error(`[scan] failed: ${result.message}\n${result.details ?? ''}`);
    process.exit(1);
  }
  console.log(`[scan] passed${result.message ? ` (${result.message})` : ''}`);
}
