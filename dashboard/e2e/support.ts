import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { chromium, type BrowserContext } from 'playwright-core';
import { killHard, startService, type ServiceProcess } from '../../ledger-service/test/support/process';

export const DEMO_EMAIL = 'demo@veil.local';
export const DEMO_PASSWORD = 'Northwind-Sample-Passphrase-9';
export const BACKEND = process.env.VEIL_TEST_DB === 'postgres' ? 'postgres' : 'pglite';
const DASHBOARD_DIST = path.resolve(__dirname, '..', 'dist');
export const CHROMIUM = process.env.VEIL_CHROMIUM ?? '/usr/bin/chromium';

async function admin(statement: string) {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export interface Ledger {
  service: ServiceProcess;
  baseUrl: string;
  stop(): Promise<void>;
}

/** The real ledger process on a fresh database with the demo books, serving the built dashboard. */
export async function startLedger(extraEnv: Record<string, string> = {}): Promise<Ledger> {
  if (!fs.existsSync(path.join(DASHBOARD_DIST, 'index.html'))) throw new Error(`build the dashboard first: ${DASHBOARD_DIST} has no index.html`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-e2e-'));
  const schema = `veil_e2e_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const env: Record<string, string> = {
    VEIL_DATA_DIR: dataDir,
    VEIL_SEED_DEMO: 'true',
    VEIL_DEMO_PASSWORD: DEMO_PASSWORD,
    VEIL_DASHBOARD_DIR: DASHBOARD_DIST,
    DATABASE_URL: '',
  };
  if (BACKEND === 'postgres') {
    if (!process.env.DATABASE_URL) throw new Error('VEIL_TEST_DB=postgres needs DATABASE_URL');
    await admin(`create schema ${schema}`);
    Object.assign(env, { DATABASE_URL: process.env.DATABASE_URL, VEIL_DB_SCHEMA: schema });
  }
  const service = await startService({ ...env, ...extraEnv }, 180_000);
  return {
    service,
    baseUrl: service.baseUrl,
    async stop() {
      await killHard(service);
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (BACKEND === 'postgres') await admin(`drop schema ${schema} cascade`);
    },
  };
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Debian's chromium, headless, with a fresh profile and nothing that calls home. */
export async function startBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1360, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Inside the repository, where .gitignore's `screenshots/` keeps them out of every commit and a reviewer finds them.
export const SCREENSHOT_DIR = process.env.VEIL_SCREENSHOT_DIR ?? path.resolve(__dirname, '..', 'screenshots');
