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
    [ledger, browser] = await Promise.all([startLedger(), startBrowser()]);
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
    // Amounts in the entity's currency (the figures themselves are checked against the ledger in the consolidated
    // view below; the demo books hold entries dated after today, so the last point is not the balance shown now).
    expect(await history.getByRole('row').last().getByRole('cell').textContent()).toMatch(/^-?\$[\d,]+\.\d{2}$/);
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

    // Take it back from Taxes: Ready to Assign is where it started, and the ledger agrees with the page.
    await page.getByLabel('Amount to assign to Taxes').fill('-10.00');
    await page.getByRole('button', { name: 'Assign to Taxes' }).click();
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

  it('logged no script error and no CSP violation', () => {
    expect(problems).toEqual([]);
  });
});
