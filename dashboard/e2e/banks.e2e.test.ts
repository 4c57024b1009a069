import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlaidEmulator, type PlaidEmulator } from '../../ledger-service/src/plaid-emulator/emulator';
import { BACKEND, DEMO_EMAIL, DEMO_PASSWORD, SCREENSHOT_DIR, startBrowser, startLedger, type Browser, type Ledger } from './support';

// Bank connections as `npm start` runs them: the ledger with the Plaid sandbox emulator, the demo banks linked on
// start, and the dashboard's demo Link. The emulator runs in this process behind a small relay that notes the
// access tokens the ledger uses, so the test can break one item's login the way a bank would.

const CLIENT_ID = 'veil-e2e-client';
const SECRET = 'veil-e2e-secret';

describe(`bank connections in chromium on ${BACKEND}`, () => {
  let emulator: PlaidEmulator;
  let emulatorServer: http.Server;
  let relay: http.Server;
  let relayUrl = '';
  const accessTokens = new Set<string>();
  /** The access token of the bank this journey links (the relay saw it first after the link). */
  let linkedAccessToken = '';
  let ledger: Ledger;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  async function shot(name: string) {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${BACKEND}-${name}.png`), fullPage: true });
  }

  async function listen(server: http.Server): Promise<string> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async function close(server: http.Server | undefined) {
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  beforeAll(async () => {
    emulator = await createPlaidEmulator({ clientId: CLIENT_ID, secret: SECRET, seed: 17, historyDays: 30 });
    emulatorServer = http.createServer(emulator.app);
    const emulatorUrl = new URL(await listen(emulatorServer));
    relay = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        try {
          const token = (JSON.parse(body.toString('utf8')) as { access_token?: unknown }).access_token;
          if (typeof token === 'string') accessTokens.add(token);
        } catch {
          // not JSON: nothing to note
        }
        const upstream = http.request({ host: emulatorUrl.hostname, port: emulatorUrl.port, path: request.url, method: request.method, headers: request.headers }, (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        });
        upstream.on('error', () => response.destroy());
        upstream.end(body);
      });
    });
    relayUrl = await listen(relay);
    [ledger, browser] = await Promise.all([
      startLedger({ PLAID_ENV: 'emulator', PLAID_BASE_URL: relayUrl, PLAID_CLIENT_ID: CLIENT_ID, PLAID_SECRET: SECRET }),
      startBrowser(),
    ]);
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(20_000);
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  });

  afterAll(async () => {
    await browser?.close();
    await ledger?.stop();
    await close(relay);
    await close(emulatorServer);
  });

  it('shows the demo bank that was linked on start, once signed in', async () => {
    await page.goto(`${ledger.baseUrl}/app/banks`);
    await page.getByLabel('Email').fill(DEMO_EMAIL);
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Banks' }).click();
    await page.getByRole('heading', { name: 'Bank connections' }).waitFor();
    // The ledger links the demo banks right after it starts listening: wait for the LLC's to show.
    await expect
      .poll(
        async () => {
          await page.reload();
          const tables = page.getByRole('table', { name: /^Accounts at / });
          await page.getByText('No bank is linked to these books yet.').or(tables.first()).waitFor();
          return tables.count();
        },
        { timeout: 60_000, interval: 1_000 },
      )
      .toBe(1);
  });

  it('links another bank through the demo Link, syncs it now, and sees what the sync did', async () => {
    const before = new Set(accessTokens);
    const form = page.getByRole('form', { name: 'Link a bank' });
    await form.getByLabel('Sandbox bank').selectOption('user_good');
    await form.getByRole('button', { name: 'Link a bank' }).click();
    const linked = page.getByRole('status').filter({ hasText: /^Linked First Platypus Bank: \d+ accounts\.$/ });
    await linked.waitFor();
    await expect.poll(() => page.getByRole('table', { name: /^Accounts at / }).count()).toBe(2);
    const accounts = page.getByRole('table', { name: 'Accounts at First Platypus Bank' });
    expect(await accounts.getByRole('row').count()).toBeGreaterThan(2);

    await page.getByRole('button', { name: 'Sync First Platypus Bank now' }).click();
    const synced = page.getByRole('status').filter({ hasText: /^Synced First Platypus Bank: / });
    await synced.waitFor();
    expect(await synced.textContent()).toMatch(/^Synced First Platypus Bank: [1-9]\d* new, \d+ changed, \d+ removed; \d+ booked, \d+ pending, \d+ duplicates?\.$/);
    // A second sync finds nothing new: the cursor moved on.
    await page.getByRole('button', { name: 'Sync First Platypus Bank now' }).click();
    await page.getByRole('status').filter({ hasText: /^Synced First Platypus Bank: 0 new, 0 changed, 0 removed; 0 booked/ }).waitFor();
    await shot('banks');

    const fresh = [...accessTokens].filter((token) => !before.has(token));
    expect(fresh).toHaveLength(1);
    linkedAccessToken = fresh[0] as string;
  });

  it('shows an item whose login broke, and fixes it in update mode', async () => {
    const reset = await fetch(`${relayUrl}/sandbox/item/reset_login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'PLAID-CLIENT-ID': CLIENT_ID, 'PLAID-SECRET': SECRET },
      body: JSON.stringify({ access_token: linkedAccessToken }),
    });
    expect(reset.status).toBe(200);
    await page.getByRole('button', { name: 'Sync First Platypus Bank now' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('plaid_item_error');
    const note = page.getByRole('note').filter({ hasText: 'ITEM_LOGIN_REQUIRED' });
    await note.waitFor();
    await page.getByText('login required', { exact: true }).waitFor();
    await shot('banks-login-required');

    await page.getByRole('button', { name: 'Fix the connection to First Platypus Bank' }).click();
    await page.getByRole('status').filter({ hasText: /^Reconnected First Platypus Bank and synced: / }).waitFor();
    await expect.poll(() => page.getByRole('button', { name: /Fix the connection/ }).count()).toBe(0);
    expect(await note.count()).toBe(0);
  });

  it("shows the linked bank's holdings on the Investments page, with this year's contributions against the limits", async () => {
    await page.getByRole('link', { name: 'Investments' }).click();
    await page.getByRole('heading', { name: 'Investments' }).waitFor();
    // Linking stored Plaid's holdings in the IRA, 401(k) and brokerage accounts it created.
    const ira = page.getByRole('table', { name: /^Holdings of First Platypus Bank Plaid IRA/ });
    await ira.waitFor();
    expect(await ira.getByRole('row').count()).toBeGreaterThan(1);
    expect(await page.getByRole('table', { name: /^Holdings of / }).count()).toBe(3);
    const limits = page.getByRole('table', { name: `Contributions against limits in ${new Date().getUTCFullYear()}` });
    await limits.getByRole('rowheader', { name: 'IRA (traditional + Roth)' }).waitFor();
    await limits.getByRole('rowheader', { name: 'SEP-IRA' }).waitFor();
    await page.getByText('No contribution plans.', { exact: false }).waitFor();
  });

  it('contributes a plan occurrence from the page and sees the SEP-IRA total move', async () => {
    // A plan made through the API, as a workflow would: monthly from the LLC's checking into the linked IRA.
    const login = await fetch(`${ledger.baseUrl}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: DEMO_EMAIL, password: DEMO_PASSWORD }) });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const call = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${ledger.baseUrl}${url}`, {
        method,
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', 'idempotency-key': `e2e-${Math.random()}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      expect(response.status).toBeLessThan(300);
      return (await response.json()) as T;
    };
    const entities = await call<{ items: { id: string; kind: string }[] }>('GET', '/entities');
    const llc = entities.items.find((entity) => entity.kind === 'llc') as { id: string };
    const { accounts } = await call<{ accounts: { id: string; name: string; kind: string }[] }>('GET', `/entities/${llc.id}/balances`);
    const checking = accounts.find((account) => account.kind === 'checking') as { id: string; name: string };
    const ira = accounts.find((account) => account.kind === 'retirement' && account.name.includes('IRA')) as { id: string };
    const today = new Date().toISOString().slice(0, 10);
    await call('POST', `/entities/${llc.id}/contribution-plans`, { name: 'E2E SEP-IRA', limitKind: 'sep_ira', amountCents: 100_000, rrule: 'FREQ=MONTHLY', startsOn: today, fromAccountId: checking.id, toAccountId: ira.id });

    await page.reload();
    const plans = page.getByRole('table', { name: 'Auto-contribution plans' });
    const row = plans.getByRole('row').filter({ hasText: 'E2E SEP-IRA' });
    await row.getByText(`${checking.name} →`, { exact: false }).waitFor();
    await row.getByRole('button', { name: `Contribute E2E SEP-IRA of ${today}` }).click();
    const limits = page.getByRole('table', { name: `Contributions against limits in ${new Date().getUTCFullYear()}` });
    await expect.poll(() => limits.getByRole('row').filter({ hasText: 'SEP-IRA' }).first().textContent(), { timeout: 20_000 }).toContain('$1,000.00');
    // The next occurrence is now a month on: today's was contributed once.
    await expect.poll(() => row.getByRole('button', { name: /^Contribute E2E SEP-IRA of / }).getAttribute('aria-label'), { timeout: 20_000 }).not.toContain(today);
    await shot('investments');
  });

  it('logged no script error and no CSP violation', () => {
    expect(problems).toEqual([]);
  });
});
