import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { generateSync } from 'otplib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { centsToDecimalString, formatCents } from '../src/lib/money';
import { BACKEND, DEMO_EMAIL, DEMO_PASSWORD, SCREENSHOT_DIR, startBrowser, startLedger, type Browser, type Ledger } from './support';

// One journey through the real ledger process and the built dashboard in Debian's chromium. The steps share one
// browser tab (the session lives in it), so they run in order.

const TOTP_STEP_SECONDS = 30;

describe(`dashboard in chromium on ${BACKEND}`, () => {
  let ledger: Ledger;
  let browser: Browser;
  let page: Page;
  let secret = '';
  let recoveryCodes: string[] = [];
  const problems: string[] = [];

  async function shot(name: string) {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${BACKEND}-${name}.png`), fullPage: true });
  }

  /** The ledger's own answer, outside the browser, to check what the page shows. */
  async function apiAs(password: string, recoveryCode: string) {
    const login = await fetch(`${ledger.baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: DEMO_EMAIL, password, recoveryCode }),
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    // GET, or POST the body (with an Idempotency-Key) when one is given.
    return async <T>(url: string, body?: unknown, headers: Record<string, string> = {}, statusExpected = body === undefined ? 200 : 201): Promise<T> => {
      const response = await fetch(`${ledger.baseUrl}${url}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          authorization: `Bearer ${accessToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json', 'idempotency-key': randomUUID() }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      expect(response.status).toBe(statusExpected);
      return (await response.json()) as T;
    };
  }

  // One session from outside for the whole journey (sign-ins are rate-limited); the browser used the TOTP step,
  // so it signs in with a recovery code.
  let outside: Awaited<ReturnType<typeof apiAs>> | undefined;
  const outsideApi = async () => (outside ??= await apiAs(DEMO_PASSWORD, recoveryCodes[0] as string));

  beforeAll(async () => {
    // The journey signs in, enrols, refreshes and mints a token from one address within a minute: more than the
    // ledger's default of 10 auth requests a minute, whose limiter has its own tests.
    [ledger, browser] = await Promise.all([startLedger({ VEIL_RATE_LIMIT_AUTH_MAX: '100' }), startBrowser()]);
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(20_000);
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('dialog', (dialog) => void dialog.accept());
  });

  afterAll(async () => {
    await browser?.close();
    await ledger?.stop();
  });

  it('serves the app at /app and still answers an unknown API path with JSON', async () => {
    const app = await fetch(`${ledger.baseUrl}/app/reports`);
    expect(app.status).toBe(200);
    expect(app.headers.get('content-type')).toContain('text/html');
    expect(app.headers.get('content-security-policy')).toContain("script-src 'self'");
    const missing = await fetch(`${ledger.baseUrl}/no-such-route`, { headers: { accept: 'text/html' } });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const missingEntity = await fetch(`${ledger.baseUrl}/entities/00000000-0000-4000-8000-000000000000`, { headers: { accept: 'text/html' } });
    expect(missingEntity.headers.get('content-type')).toContain('application/json');
  });

  it('signs in with the password, refuses a wrong one with its code, and shows the overview', async () => {
    await page.goto(`${ledger.baseUrl}/`);
    await page.getByLabel('Email').fill(DEMO_EMAIL);
    await page.getByLabel('Password').fill('Wrong-Passphrase-123');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('invalid_credentials');
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: /Overview — Northwind Studio LLC \(LLC\)/ }).waitFor();
    await page.getByRole('group', { name: 'Net worth' }).waitFor();
    await page.getByText('Recent activity').waitFor();
    // Net worth over time, from /entities/:id/balance-history: twelve month ends drawn as a line, and in a table.
    const history = page.getByRole('table', { name: /Net worth at the end of each month/ });
    await expect.poll(() => history.getByRole('row').count()).toBe(13);
    await page.locator('.recharts-line .recharts-curve').first().waitFor();
    // Amounts in the entity's currency; nothing in the demo books is dated after today, so the chart's last point
    // (today) is the net worth shown now.
    const lastPoint = await history.getByRole('row').last().getByRole('cell').textContent();
    expect(lastPoint).toMatch(/^-?\$[\d,]+\.\d{2}$/);
    expect(await page.getByRole('group', { name: 'Net worth' }).locator('.stat-value').textContent()).toBe(lastPoint);
    await shot('overview');
  });

  it('enrols in MFA with the QR code and gets ten recovery codes', async () => {
    await page.getByRole('link', { name: 'Security' }).click();
    await page.getByRole('button', { name: 'Set up two-step verification' }).click();
    await page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
    await page.getByText("Can't scan? Enter the key by hand").click();
    secret = (await page.getByTestId('mfa-secret').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    await page.getByLabel('Code from the app').fill(generateSync({ secret, epoch: Math.floor(Date.now() / 1000) }));
    await page.getByRole('button', { name: 'Turn on' }).click();
    const codes = page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
    await codes.first().waitFor();
    expect(await codes.count()).toBe(10);
    recoveryCodes = (await codes.allTextContents()).map((code) => code.trim());
    await shot('mfa-recovery-codes');
  });

  it('signs out and back in with a TOTP code', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email').fill(DEMO_EMAIL);
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await shot('sign-in-totp');
    // The enrolment used this 30-second step; a step is accepted once, so sign in with the next one (within the
    // ledger's tolerance of one step).
    await page.getByLabel('Authentication code').fill(generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + TOTP_STEP_SECONDS }));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: /Overview — Northwind Studio LLC/ }).waitFor();
  });

  it('switches between the LLC, the personal books and the read-only consolidated view', async () => {
    const switcher = page.getByLabel('Books');
    await switcher.selectOption({ label: 'Consolidated (read-only)' });
    await page.getByRole('heading', { name: 'Overview — Consolidated (read-only)' }).waitFor();
    await page.getByRole('note').filter({ hasText: 'never edits' }).waitFor();
    await page.getByRole('cell', { name: 'Alex Rivera' }).or(page.getByRole('rowheader', { name: 'Alex Rivera' })).first().waitFor();
    // The group's net worth over time and each entity's, as the ledger computes them (eliminations included).
    const api = await outsideApi();
    const { items } = await api<{ items: { id: string }[] }>('/entities');
    const group = await api<{ byCurrency: Record<string, { netWorthCents: number }[]>; perEntity: { byCurrency: Record<string, { netWorthCents: number }[]> }[] }>(
      `/consolidated/balance-history?entityIds=${items.map((entity) => entity.id).join(',')}`,
    );
    const groupHistory = page.getByRole('table', { name: /Net worth in USD, consolidated/ });
    await expect.poll(() => groupHistory.getByRole('row').count()).toBe(13);
    const expectedLast = [group.byCurrency.USD?.at(-1), ...group.perEntity.map((entity) => entity.byCurrency.USD?.at(-1))].map((point) => formatCents(point?.netWorthCents ?? NaN, 'USD'));
    expect(await groupHistory.getByRole('row').last().getByRole('cell').allTextContents()).toEqual(expectedLast);
    expect(await page.locator('.recharts-line').count()).toBe(1 + group.perEntity.length);
    await shot('overview-consolidated');
    await page.getByRole('link', { name: 'Accounts' }).click();
    await page.getByText('Accounts and registers belong to one set of books').waitFor();
    expect(await page.getByRole('form', { name: 'New entry' }).count()).toBe(0);
    await switcher.selectOption({ label: 'Alex Rivera (Personal)' });
    await page.getByRole('button', { name: 'Everyday Checking' }).waitFor();
    await switcher.selectOption({ label: 'Northwind Studio LLC (LLC)' });
    await page.getByRole('button', { name: 'Business Checking' }).waitFor();
  });

  it('books an entry, sees the balance change, and reverses it', async () => {
    const api = await outsideApi();
    const entities = await api<{ items: { id: string; kind: string }[] }>('/entities');
    const llc = entities.items.find((entity) => entity.kind === 'llc');
    const balances = await api<{ accounts: { name: string; naturalBalanceCents: number }[] }>(`/entities/${llc?.id}/balances`);
    const before = balances.accounts.find((account) => account.name === 'Office Supplies')?.naturalBalanceCents as number;
    const balance = page.getByTestId('balance-Office Supplies');
    await expect.poll(() => balance.textContent()).toBe(formatCents(before));

    const form = page.getByRole('form', { name: 'New entry' });
    await form.getByLabel('Description').fill('E2E printer paper');
    await form.getByLabel('Account, line 1').selectOption({ label: '6220 Office Supplies' });
    await form.getByLabel('Debit, line 1').fill('12.34');
    await form.getByLabel('Account, line 2').selectOption({ label: '1010 Business Checking' });
    await form.getByLabel('Credit, line 2').fill('12.30');
    await form.getByText('Out of balance by +$0.04').waitFor();
    expect(await form.getByRole('button', { name: 'Book entry' }).isDisabled()).toBe(true);
    await form.getByLabel('Credit, line 2').fill('12.34');
    await form.getByText('Balanced: $12.34').waitFor();
    await form.getByRole('button', { name: 'Book entry' }).click();
    await form.getByText('Booked “E2E printer paper”').waitFor();
    await expect.poll(() => balance.textContent()).toBe(formatCents(before + 1234));

    await page.getByRole('searchbox', { name: 'Search' }).fill('printer paper');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('cell', { name: 'E2E printer paper' }).first().waitFor();
    await shot('accounts-register');
    await page.getByRole('button', { name: /Reverse E2E printer paper/ }).click();
    await page.getByText('reversed', { exact: true }).waitFor();
    await expect.poll(() => balance.textContent()).toBe(formatCents(before));
  });

  it('records an owner draw with its document, which downloads as a PDF', async () => {
    await page.getByRole('link', { name: 'Inter-entity' }).click();
    const form = page.getByRole('form', { name: 'New transfer' });
    await form.getByLabel('Classification').selectOption({ label: 'Owner draw' });
    await form.getByLabel(/From account/).selectOption({ label: 'Business Checking' });
    await form.getByLabel(/To account/).selectOption({ label: 'Everyday Checking' });
    await form.getByLabel('Amount').fill('250.00');
    await form.getByLabel('Memo').fill('E2E draw');
    await form.getByRole('button', { name: 'Record transfer' }).click();
    await form.getByText('Recorded owner draw of $250.00').waitFor();
    const row = page.getByRole('row').filter({ hasText: 'E2E draw' });
    await row.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: /PDF/ }).click()]);
    const file = await download.path();
    expect(fs.readFileSync(file).subarray(0, 5).toString()).toBe('%PDF-');
    // The year's veil binder: one zip of every document of the year, this draw's among them.
    const year = new Date().getFullYear();
    const [binder] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Download the veil binder for ${year}` }).click()]);
    expect(binder.suggestedFilename()).toMatch(/\.zip$/);
    const zip = fs.readFileSync(await binder.path());
    expect(zip.subarray(0, 2).toString()).toBe('PK');
    expect(zip.toString('latin1')).toContain(`veil-binder-${year}/index.md`);
    await page.getByRole('heading', { name: 'Loans' }).waitFor();
    await page.getByText('Below the AFR:').first().waitFor();
    await shot('inter-entity');
  });

  it('shows the balance sheet, profit and loss, trial balance and Schedule C', async () => {
    await page.getByRole('link', { name: 'Reports' }).click();
    await page.getByRole('rowheader', { name: 'Liabilities and equity' }).waitFor();
    await shot('reports-balance-sheet');
    await page.getByRole('tab', { name: 'Profit and loss' }).click();
    await page.getByRole('rowheader', { name: 'Net income' }).waitFor();
    await page.getByRole('tab', { name: 'Trial balance' }).click();
    await page.getByRole('rowheader', { name: 'Totals (balanced)' }).waitFor();
    await page.getByRole('tab', { name: 'Schedule C' }).click();
    await page.getByRole('rowheader', { name: 'Net profit (line 31)' }).waitFor();
  });

  it('shows the audit trail with the chain verified', async () => {
    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.getByText(/Chain verified: \d+ rows/).waitFor();
    await page.getByRole('cell', { name: 'transfer.created' }).first().waitFor();
    await shot('audit');
  });

  it('keeps the session across a reload of a client route', async () => {
    await page.goto(`${ledger.baseUrl}/app/reports`);
    await page.getByRole('heading', { name: 'Reports' }).waitFor();
  });

  it('imports a statement with progress, skips its duplicates on a second upload, and resolves a review item', async () => {
    // A line typed by hand before the statement arrives: the statement's copy of it must go to review.
    const api = await outsideApi();
    const llc = (await api<{ items: { id: string; kind: string }[] }>('/entities')).items.find((entity) => entity.kind === 'llc');
    const balances = await api<{ accounts: { id: string; name: string }[] }>(`/entities/${llc?.id}/balances`);
    const checking = balances.accounts.find((account) => account.name === 'Business Checking');
    await api(`/accounts/${checking?.id}/bank-lines`, { postedOn: '2026-11-03', amountCents: -4217, payee: 'Adobe Creative Cloud' });

    await page.getByRole('link', { name: 'Imports' }).click();
    const form = page.getByRole('form', { name: 'Import a statement' });
    await form.getByLabel('Bank account').selectOption({ label: 'Business Checking' });
    const statement = {
      name: 'e2e-checking.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        [
          'Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #',
          'DEBIT,11/04/2026,ADOBE CREATIVE CLOUD,-42.17,ACH_DEBIT,4957.83,,',
          'DEBIT,11/05/2026,BLUE BOTTLE COFFEE 0412,-6.35,DEBIT_CARD,4951.48,,',
          'CREDIT,11/06/2026,E2E CLIENT PAYMENT,1234.56,ACH_CREDIT,6186.04,,',
        ].join('\n'),
      ),
    };
    await form.getByLabel('Statement file').setInputFiles(statement);
    await form.getByRole('button', { name: 'Import' }).click();
    await page.getByText('Imported.').waitFor();
    expect(Number(await page.getByRole('progressbar', { name: 'Upload progress' }).getAttribute('value'))).toBe(100);
    const report = page.getByRole('region', { name: 'Import report' });
    await expect.poll(() => report.getByRole('listitem').allTextContents()).toEqual([
      expect.stringMatching(/^3 new lines added/),
      expect.stringMatching(/^0 skipped as duplicates/),
      expect.stringMatching(/^1 sent to review/),
    ]);
    await shot('imports-report');
    // The same file again: every line is already there.
    await form.getByLabel('Statement file').setInputFiles(statement);
    await form.getByRole('button', { name: 'Import' }).click();
    await expect.poll(() => report.getByRole('listitem').first().textContent()).toMatch(/^0 new lines added/);
    expect(await report.getByRole('listitem').nth(1).textContent()).toMatch(/^3 skipped as duplicates/);

    const queue = page.getByRole('table', { name: 'Lines waiting for review' });
    const item = queue.getByRole('row').filter({ hasText: 'ADOBE CREATIVE CLOUD' });
    await item.getByText(/possible duplicate of a manual line of 2026-11-03/).waitFor();
    await shot('imports-review');
    await item.getByLabel(/Reason for ADOBE CREATIVE CLOUD/).fill('the same charge as the one typed by hand');
    await item.getByRole('button', { name: /Reject ADOBE CREATIVE CLOUD/ }).click();
    await page.getByText('Rejected ADOBE CREATIVE CLOUD of 2026-11-04.').waitFor();
    await page.getByText('Nothing to review.').waitFor();
    const queueNow = await api<{ items: unknown[] }>(`/entities/${llc?.id}/review-queue`);
    expect(queueNow.items).toEqual([]);
  });

  it('previews a categorisation rule on the waiting lines, then saves it', async () => {
    const form = page.getByRole('form', { name: 'New rule' });
    await form.getByLabel('Rule name').fill('Coffee with clients');
    await form.getByLabel('Payee contains').fill('blue bottle');
    await form.getByRole('button', { name: 'Preview' }).click();
    await form.getByRole('alert').filter({ hasText: 'Choose the category' }).waitFor();
    await form.getByLabel('Book to category').selectOption({ label: 'Office Supplies' });
    await form.getByRole('button', { name: 'Preview' }).click();
    const preview = page.getByRole('region', { name: 'Rule preview' });
    await expect.poll(() => preview.getByRole('status').textContent()).toMatch(/^This rule would categorise 1 of the \d+ lines waiting\.$/);
    const row = preview.getByRole('row').filter({ hasText: 'BLUE BOTTLE COFFEE 0412' });
    expect(await row.textContent()).toContain('Office Supplies');
    expect(await row.textContent()).toContain(formatCents(-635));
    await shot('imports-rule-preview');
    await form.getByRole('button', { name: 'Save rule' }).click();
    const rules = page.getByRole('table', { name: /Categorisation rules/ });
    await rules.getByRole('rowheader', { name: 'Coffee with clients' }).waitFor();
    expect(await rules.getByRole('row').filter({ hasText: 'Coffee with clients' }).textContent()).toContain('payee contains “blue bottle”');
  });

  it('categorises bank lines: one split across two categories, two at once, and reverses the split', async () => {
    const api = await outsideApi();
    const llc = (await api<{ items: { id: string; kind: string }[] }>('/entities')).items.find((entity) => entity.kind === 'llc');
    type Balance = { id: string; name: string; naturalBalanceCents: number };
    const balances = async () => (await api<{ accounts: Balance[] }>(`/entities/${llc?.id}/balances`)).accounts;
    const before = await balances();
    const natural = (accounts: Balance[], name: string) => accounts.find((account) => account.name === name)?.naturalBalanceCents as number;
    const checking = before.find((account) => account.name === 'Business Checking');
    const postedOn = new Date().toISOString().slice(0, 10);
    // Three lines from the bank that no rule knows, typed in as a statement would bring them.
    for (const [payee, amountCents] of [['E2E SPLIT SUPPLIER', -10_000], ['E2E BULK ONE', -1_234], ['E2E BULK TWO', -5_678]] as const) {
      await api(`/accounts/${checking?.id}/bank-lines`, { postedOn, amountCents, payee });
    }

    await page.getByRole('link', { name: 'Accounts' }).click();
    await page.getByRole('button', { name: 'Business Checking' }).click();
    const card = page.getByRole('region', { name: 'To categorise — Business Checking' });
    await card.getByRole('checkbox', { name: `Select E2E BULK TWO of ${postedOn}` }).waitFor();

    // A split: $60.00 of supplies and $40.00 of software; it cannot be booked until the parts add up.
    await card.getByRole('button', { name: `Split E2E SPLIT SUPPLIER of ${postedOn}` }).click();
    const split = card.getByRole('form', { name: `Split E2E SPLIT SUPPLIER of ${postedOn}` });
    await split.getByLabel('Split category 1').selectOption({ label: '6220 Office Supplies' });
    await split.getByLabel('Split amount 1').fill('60.00');
    await split.getByLabel('Split category 2').selectOption({ label: '6180 Software & Subscriptions' });
    await split.getByLabel('Split amount 2').fill('40.01');
    await split.getByText(`Over by ${formatCents(1)}`).waitFor();
    expect(await split.getByRole('button', { name: 'Book split' }).isDisabled()).toBe(true);
    await split.getByLabel('Split amount 2').fill('40.00');
    await split.getByText(`Fully split: ${formatCents(10_000)}`).waitFor();
    await split.getByRole('button', { name: 'Book split' }).click();
    await card.getByText('Booked 1 of 1 line.').waitFor();

    // Bulk: both other lines to supplies in one go.
    await card.getByRole('checkbox', { name: `Select E2E BULK ONE of ${postedOn}` }).check();
    await card.getByRole('checkbox', { name: `Select E2E BULK TWO of ${postedOn}` }).check();
    await card.getByLabel('Category for the selected lines').selectOption({ label: '6220 Office Supplies' });
    await card.getByRole('button', { name: 'Categorise 2 selected' }).click();
    await card.getByText('Booked 2 of 2 lines as Office Supplies.').waitFor();
    await expect.poll(() => card.getByRole('checkbox', { name: /^Select E2E (SPLIT|BULK) / }).count()).toBe(0);

    const supplies = page.getByTestId('balance-Office Supplies');
    const software = page.getByTestId('balance-Software & Subscriptions');
    await expect.poll(() => supplies.textContent()).toBe(formatCents(natural(before, 'Office Supplies') + 6_000 + 1_234 + 5_678));
    await expect.poll(() => software.textContent()).toBe(formatCents(natural(before, 'Software & Subscriptions') + 4_000));
    // The ledger booked the split as one entry of three postings, each line once.
    const entries = await api<{ items: { description: string; postings: { amountCents: number }[] }[] }>(`/entities/${llc?.id}/entries?q=E2E&limit=50`);
    const splitEntry = entries.items.filter((entry) => entry.description === 'E2E SPLIT SUPPLIER');
    expect(splitEntry).toHaveLength(1);
    expect(splitEntry[0]?.postings.map((posting) => posting.amountCents).sort((a, b) => a - b)).toEqual([-10_000, 4_000, 6_000]);
    expect(entries.items.filter((entry) => entry.description.startsWith('E2E BULK'))).toHaveLength(2);
    await shot('accounts-categorise');

    // A booking is corrected by reversing it: the split's categories go back to where they were.
    await page.getByRole('button', { name: `Reverse E2E SPLIT SUPPLIER of ${postedOn}` }).click();
    await page.getByRole('row').filter({ hasText: 'E2E SPLIT SUPPLIER' }).getByText('reversed', { exact: true }).first().waitFor();
    await expect.poll(() => software.textContent()).toBe(formatCents(natural(before, 'Software & Subscriptions')));
    await expect.poll(() => supplies.textContent()).toBe(formatCents(natural(before, 'Office Supplies') + 1_234 + 5_678));
  });

  it('shows the bills calendar with each bill on its day and its state, and moves through it by keyboard', async () => {
    const api = await outsideApi();
    const llc = (await api<{ items: { id: string; kind: string }[] }>('/entities')).items.find((entity) => entity.kind === 'llc');
    type Occurrences = { occurrences: { billName: string; dueOn: string; amountCents: number; status: string }[] };
    const monthOf = (on: string) => {
      const [year, month] = on.split('-').map(Number) as [number, number];
      const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
      return { from: `${on.slice(0, 7)}-01`, to: `${on.slice(0, 7)}-${last}` };
    };
    const today = new Date().toISOString().slice(0, 10);
    const nextMonthDay = new Date(Date.UTC(Number(today.slice(0, 4)), Number(today.slice(5, 7)), 1)).toISOString().slice(0, 10);
    const thisMonth = await api<Occurrences>(`/entities/${llc?.id}/bill-occurrences?from=${monthOf(today).from}&to=${monthOf(today).to}`);
    const nextMonth = await api<Occurrences>(`/entities/${llc?.id}/bill-occurrences?from=${monthOf(nextMonthDay).from}&to=${monthOf(nextMonthDay).to}`);
    // The demo's bills start today: at least the month-end bank fee is still to come this month.
    expect(thisMonth.occurrences.length).toBeGreaterThan(0);
    expect(nextMonth.occurrences.length).toBeGreaterThan(0);

    await page.getByRole('link', { name: 'Bills' }).click();
    const grid = page.getByRole('grid', { name: /^Bills calendar, / });
    await grid.waitFor();
    const day = (on: string) => grid.locator(`[role="gridcell"][data-on="${on}"]`);
    for (const occurrence of thisMonth.occurrences) {
      await expect.poll(() => day(occurrence.dueOn).getAttribute('aria-label')).toContain(`${occurrence.billName} ${formatCents(occurrence.amountCents)} ${occurrence.status}`);
    }
    // The list beside it holds the same bills.
    const list = page.getByRole('table', { name: /^Bills due in / });
    expect(await list.getByRole('row').count()).toBe(1 + thisMonth.occurrences.length);
    await shot('bills-calendar');

    // Keyboard: the selected day is the one tab stop; arrows move it, Page Down goes to the next month.
    const first = thisMonth.occurrences[0]?.dueOn as string;
    await day(first).click();
    const focusedOn = () => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.on ?? null);
    expect(await focusedOn()).toBe(first);
    await page.keyboard.press('ArrowLeft');
    await expect.poll(focusedOn).not.toBe(first);
    expect(await grid.locator('[role="gridcell"][tabindex="0"]').count()).toBe(1);
    await page.keyboard.press('ArrowRight');
    await expect.poll(focusedOn).toBe(first);
    await page.keyboard.press('PageDown');
    await expect.poll(() => grid.locator('caption').textContent()).toContain(new Intl.DateTimeFormat('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${nextMonthDay}T00:00:00Z`)));
    await expect.poll(focusedOn).toMatch(new RegExp(`^${nextMonthDay.slice(0, 7)}-`));
    for (const occurrence of nextMonth.occurrences) {
      await expect.poll(() => day(occurrence.dueOn).getAttribute('aria-label')).toContain(`${occurrence.billName} ${formatCents(occurrence.amountCents)} ${occurrence.status}`);
    }
    await day(nextMonth.occurrences[0]?.dueOn as string).click();
    await page.getByRole('region', { name: /^Bills due / }).getByText(new RegExp(`^${nextMonth.occurrences[0]?.billName}`)).waitFor();
  });

  it('draws the money flow as a Sankey, with the LLC ↔ owner flows by kind as the ledger has them', async () => {
    const api = await outsideApi();
    const llc = (await api<{ items: { id: string; kind: string }[] }>('/entities')).items.find((entity) => entity.kind === 'llc');
    const today = new Date().toISOString().slice(0, 10);
    const flow = await api<{ nodes: unknown[]; links: unknown[] }>(`/entities/${llc?.id}/money-flow?from=${today.slice(0, 4)}-01-01&to=${today}`);
    expect(flow.links.length).toBeGreaterThan(0);
    await page.getByRole('link', { name: 'Money flow' }).click();
    const chart = page.getByRole('img', { name: 'Sankey diagram of money flowing from income to spending' });
    await chart.waitFor();
    await expect.poll(() => chart.locator('.recharts-sankey-node').count()).toBeGreaterThan(2);
    expect(await chart.locator('.recharts-sankey-link').count()).toBeGreaterThan(1);
    expect(await page.getByRole('table', { name: 'Flows' }).getByRole('row').count()).toBe(flow.links.length);
    // Owner draws of the year, as listed by the ledger (the E2E draw above included), summed by the page.
    const transfers = await api<{ items: { classification: string; fromEntityId: string; amountCents: number; postedOn: string; reversal: unknown }[] }>(`/entities/${llc?.id}/transfers`);
    const draws = transfers.items.filter((transfer) => transfer.classification === 'owner_draw' && transfer.reversal === null && transfer.postedOn >= `${today.slice(0, 4)}-01-01`);
    expect(draws.length).toBeGreaterThan(0);
    const byKind = page.getByRole('table', { name: /by kind$/ });
    const drawRow = byKind.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Owner draws' }) });
    await expect.poll(() => drawRow.getByRole('cell').allTextContents()).toEqual([
      'Northwind Studio LLC → Alex Rivera',
      String(draws.length),
      formatCents(draws.reduce((sum, transfer) => sum + transfer.amountCents, 0)),
    ]);
    await shot('money-flow');
  });

  it('shows the investments, bank connections and security pages', async () => {
    await page.getByRole('link', { name: 'Investments' }).click();
    await page.getByRole('heading', { name: 'Investments' }).waitFor();
    await page.getByRole('region', { name: /^Contributions vs limits/ }).waitFor();
    await shot('investments');
    await page.getByRole('link', { name: 'Banks' }).click();
    await page.getByRole('heading', { name: 'Bank connections' }).waitFor();
    await shot('banks');
    await page.getByRole('link', { name: 'Security' }).click();
    await page.getByRole('heading', { name: 'API tokens' }).waitFor();
    // A token for n8n: read-only on the LLC's books, shown once, works against the API until it is revoked.
    const form = page.getByRole('form', { name: 'New API token' });
    await form.getByLabel('Token name').fill('E2E n8n');
    await form.getByLabel('Northwind Studio LLC (LLC)').check();
    await form.getByRole('button', { name: 'Create token' }).click();
    await page.getByLabel('New token').or(form.getByRole('alert')).first().waitFor();
    expect(await form.getByRole('alert').allTextContents()).toEqual([]);
    const token = (await page.getByLabel('New token').textContent())?.trim() ?? '';
    expect(token.length).toBeGreaterThan(20);
    const asToken = (url: string) => fetch(`${ledger.baseUrl}${url}`, { headers: { authorization: `Bearer ${token}` } });
    const { items } = (await (await asToken('/entities')).json()) as { items: { id: string; kind: string }[] };
    expect(items.map((entity) => entity.kind)).toEqual(['llc']);
    expect((await asToken(`/entities/${items[0]?.id}/balances`)).status).toBe(200);
    await shot('security-api-tokens');
    await page.getByRole('button', { name: 'Revoke E2E n8n' }).click();
    await page.getByRole('row').filter({ hasText: 'E2E n8n' }).getByText('revoked').waitFor();
    expect((await asToken(`/entities/${items[0]?.id}/balances`)).status).toBe(401);
  });

  it('assigns money to an envelope, moves it, and sees Ready to Assign change and come back', async () => {
    const api = await outsideApi();
    const llc = (await api<{ items: { id: string; kind: string }[] }>('/entities')).items.find((entity) => entity.kind === 'llc');
    const now = new Date();
    const month = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}`;
    type Month = { readyToAssignCents: number; groups: { envelopes: { name: string; assignedCents: number }[] }[] };
    const budget = () => api<Month>(`/entities/${llc?.id}/budget/${month}`);
    const assigned = (data: Month, name: string) => data.groups.flatMap((group) => group.envelopes).find((envelope) => envelope.name === name)?.assignedCents as number;
    const before = await budget();
    const readyBefore = before.readyToAssignCents;

    await page.getByRole('link', { name: 'Budget' }).click();
    const banner = page.getByRole('status').filter({ hasText: 'Ready to Assign' });
    await expect.poll(() => banner.textContent()).toContain(`Ready to Assign: ${formatCents(readyBefore)}`);
    const software = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /^Software/ }) });
    const taxes = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /^Taxes/ }) });
    await expect.poll(() => software.getByRole('cell').first().textContent()).toBe(formatCents(assigned(before, 'Software')));

    // Assign $10.00 more to Software: Ready to Assign drops by exactly that.
    await page.getByLabel('Amount to assign to Software').fill('10.00');
    await page.getByRole('button', { name: 'Assign to Software' }).click();
    await expect.poll(() => banner.textContent()).toContain(`Ready to Assign: ${formatCents(readyBefore - 1000)}`);
    await expect.poll(() => software.getByRole('cell').first().textContent()).toBe(formatCents(assigned(before, 'Software') + 1000));
    expect(await banner.getAttribute('class')).toContain(readyBefore - 1000 < 0 ? 'over' : readyBefore - 1000 === 0 ? 'ok' : 'todo');

    // Move it on to Taxes: the envelopes change, Ready to Assign does not.
    const move = page.getByRole('form', { name: 'Move money between envelopes' });
    await move.getByLabel('From envelope').selectOption({ label: 'Software' });
    await move.getByLabel('To envelope').selectOption({ label: 'Taxes' });
    await move.getByLabel('Amount').fill('10.00');
    await move.getByRole('button', { name: 'Move' }).click();
    await expect.poll(() => taxes.getByRole('cell').first().textContent()).toBe(formatCents(assigned(before, 'Taxes') + 1000));
    await expect.poll(() => software.getByRole('cell').first().textContent()).toBe(formatCents(assigned(before, 'Software')));
    expect(await banner.textContent()).toContain(`Ready to Assign: ${formatCents(readyBefore - 1000)}`);

    // Take it back from Taxes, by keyboard only: the arrows walk the envelopes like a spreadsheet, Enter assigns.
    // Ready to Assign is where it started, and the ledger agrees with the page.
    const focusedLabel = () => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? null);
    await page.getByLabel('Amount to assign to Taxes').focus();
    await page.keyboard.press('ArrowDown');
    await expect.poll(focusedLabel).toMatch(/^Amount to assign to (?!Taxes$)/);
    await page.keyboard.press('ArrowUp');
    await expect.poll(focusedLabel).toBe('Amount to assign to Taxes');
    await page.keyboard.type('-10.00');
    await page.keyboard.press('Enter');
    await expect.poll(() => banner.textContent()).toContain(`Ready to Assign: ${formatCents(readyBefore)}`);
    const after = await budget();
    expect(after.readyToAssignCents).toBe(readyBefore);
    expect(assigned(after, 'Taxes')).toBe(assigned(before, 'Taxes'));
    expect(assigned(after, 'Software')).toBe(assigned(before, 'Software'));

    // Give every dollar a job: assign what is left (or take back what is over) in the reserve; the banner turns
    // green at exactly zero. (The owner draw above left the LLC's month over-assigned.)
    if (readyBefore !== 0) {
      await page.getByLabel('Amount to assign to Operating reserve').fill(centsToDecimalString(readyBefore));
      await page.getByRole('button', { name: 'Assign to Operating reserve' }).click();
    }
    await expect.poll(() => banner.textContent()).toBe(`Ready to Assign: ${formatCents(0)} — every dollar has a job`);
    expect(await banner.getAttribute('class')).toContain('ok');
    expect((await budget()).readyToAssignCents).toBe(0);
    await shot('budget');
  });

  it('lists what an n8n execution booked, with its workflow and status, and rolls it back, restoring the balance and naming the bank money moved', async () => {
    const api = await outsideApi();
    const entities = await api<{ items: { id: string; kind: string }[] }>('/entities');
    const llc = entities.items.find((entity) => entity.kind === 'llc');
    const balances = async () => (await api<{ accounts: { id: string; name: string; balanceCents: number }[] }>(`/entities/${llc?.id}/balances`)).accounts;
    const before = await balances();
    const supplies = before.find((account) => account.name === 'Office Supplies');
    const checking = before.find((account) => account.name === 'Business Checking');
    const executionId = `e2e-${randomUUID().slice(0, 8)}`;
    const workflowId = `wfE2e${randomUUID().slice(0, 6)}`;
    // As the Veil nodes send them: the execution id, and the workflow's id and (percent-encoded) name.
    const n8nHeaders = { 'x-n8n-execution-id': executionId, 'x-n8n-workflow-id': workflowId, 'x-n8n-workflow-name': encodeURIComponent('E2E: supplies run') };
    const today = new Date().toISOString().slice(0, 10);
    // Two entries booked as an n8n execution would book them.
    for (const cents of [1_111, 2_222]) {
      await api(`/entities/${llc?.id}/entries`, {
        postedOn: today,
        description: `E2E workflow ${cents}`,
        postings: [{ accountId: supplies?.id, amountCents: cents }, { accountId: checking?.id, amountCents: -cents }],
      }, n8nHeaders);
    }
    // And a bank line it booked: money the bank has already moved, which a rollback must name.
    const line = await api<{ id: string }>(`/accounts/${checking?.id}/bank-lines`, { postedOn: today, amountCents: -4_444, payee: 'E2E supplier' });
    await api(`/bank-lines/${line.id}/book`, { categoryAccountId: supplies?.id }, n8nHeaders);
    const suppliesNow = async () => (await balances()).find((account) => account.id === supplies?.id)?.balanceCents;
    expect(await suppliesNow()).toBe((supplies?.balanceCents as number) + 3_333 + 4_444);

    await page.getByRole('link', { name: 'Executions' }).click();
    const row = page.getByRole('row').filter({ hasText: executionId });
    await row.getByText('3 entries, 0 transfers').waitFor();
    await row.getByRole('cell', { name: `E2E: supplies run (id ${workflowId})` }).waitFor();
    // Nothing reported the end yet: running. The workflow's last node (Veil Execution) reports success.
    await row.getByRole('cell', { name: 'running', exact: true }).waitFor();
    await api(`/executions/${executionId}/status`, { status: 'succeeded' }, {}, 200);
    await page.reload();
    await row.getByRole('cell', { name: 'succeeded', exact: true }).waitFor();
    await row.getByRole('button', { name: executionId, exact: true }).click();
    await page.getByRole('rowheader', { name: 'E2E workflow 2222' }).waitFor();
    const card = page.getByRole('region', { name: `Execution ${executionId}` });
    await card.getByRole('definition').filter({ hasText: 'succeeded' }).waitFor();
    expect(await card.getByRole('definition').first().textContent()).toBe(`E2E: supplies run (id ${workflowId})`);
    await page.getByRole('button', { name: `Roll back execution ${executionId}` }).click();
    await page.getByRole('status').getByText(`Rolled back execution ${executionId}: 3 items reversed`).waitFor();
    await row.getByText('rolled back').waitFor();
    const moved = page.getByRole('table', { name: `Money the bank already moved for execution ${executionId}` });
    const movedLine = moved.getByRole('row').filter({ hasText: today });
    expect(await movedLine.getByRole('cell').allTextContents()).toEqual(['Entry', 'booked', formatCents(-4_444)]);
    await shot('executions');
    expect(await suppliesNow()).toBe(supplies?.balanceCents);
    const listed = await api<{ items: { executionId: string; status: string; workflowId: string | null }[] }>(`/executions?entityId=${llc?.id}`);
    expect(listed.items.find((item) => item.executionId === executionId)).toMatchObject({ status: 'rolled_back', workflowId });
  });

  it('fits a phone screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const menu = page.getByRole('button', { name: 'Menu' });
    expect(await menu.isVisible()).toBe(true);
    await menu.click();
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('group', { name: 'Net worth' }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot('overview-phone');
  });

  it('fits the bills calendar and the accounts register on a phone too', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const pages = [
      ['Bills', page.getByRole('grid', { name: /^Bills calendar, / })],
      ['Accounts', page.getByRole('region', { name: /^Register — / })],
    ] as const;
    for (const [link, ready] of pages) {
      await page.getByRole('button', { name: 'Menu' }).click();
      await page.getByRole('link', { name: link }).click();
      await ready.waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      // Named in the failure: elements that stick out to the right with no scrolling box around them.
      const wide = await page.evaluate(() => {
        const clipped = (element: HTMLElement) => {
          for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
            if (getComputedStyle(parent).overflowX !== 'visible') return true;
          }
          return false;
        };
        return [...document.querySelectorAll<HTMLElement>('body *')]
          .filter((element) => element.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5 && (!clipped(element) || getComputedStyle(element).position === 'absolute'))
          .map((element) => `${element.tagName.toLowerCase()}.${element.className}[${element.textContent?.slice(0, 30)}] ${Math.round(element.getBoundingClientRect().right)}`)
          .slice(0, 8);
      });
      expect(overflow, `${link}: ${wide.join(', ')}`).toBeLessThanOrEqual(0);
      await shot(`${link.toLowerCase()}-phone`);
    }
  });

  it('logged no script error and no CSP violation', () => {
    expect(problems).toEqual([]);
  });
});
