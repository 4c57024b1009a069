#!/usr/bin/env node
// `n8n-node lint` on the node pack, in strict mode (the unmodified eslint.config.mjs the n8n CLI insists on).
// That config lints every .ts file under the working directory with n8n's community-node rules, which are for
// nodes, not for the ledger service beside them; so the pack's own files (package.json, eslint.config.mjs,
// tsconfig.json, nodes/, credentials/ — exactly what is built into the published tarball) are staged in an ignored
// folder, with the repository's node_modules linked in, and linted there.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PACK_FILES = ['package.json', 'eslint.config.mjs', 'tsconfig.json', 'nodes', 'credentials'];

export function lintPack() {
  const stage = path.join(root, '.cache', 'pack-lint');
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  for (const file of PACK_FILES) fs.cpSync(path.join(root, file), path.join(stage, file), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
  const result = spawnSync(path.join(root, 'node_modules', '.bin', 'n8n-node'), ['lint'], { cwd: stage, stdio: 'inherit', env: { ...process.env, CI: 'true' } });
  return result.status ?? 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exit(lintPack());
