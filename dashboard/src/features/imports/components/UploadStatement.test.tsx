import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeXhr, mockLedger, renderPage } from '../../../test-utils';
import { ImportsPage } from './ImportsPage';
import { percentSent } from './UploadStatement';

const ACCOUNTS = [
  { id: 'a-check', entityId: 'l1', name: 'Business Checking', class: 'asset', kind: 'checking', archivedAt: null },
  { id: 'a-supplies', entityId: 'l1', name: 'Office Supplies', class: 'expense', kind: 'expense_category', archivedAt: null },
];

const REPORT = {
  importId: 'i1',
  fileName: 'nov.csv',
  format: 'csv',
  encoding: 'utf-8',
  csvPreset: 'chase-checking',
  accounts: [{ statementAccountId: 'csv', accountId: 'a-check', lines: 5, totalCents: -4217, new: 3, skippedExact: 1, queuedForReview: 1, booked: 0, balances: [] }],
  new: 3,
  skippedExact: 1,
  queuedForReview: 1,
  booked: 0,
  matchedToEntries: 0,
  transfersBooked: 0,
  transferProposals: 0,
  warnings: [{ line: 4, message: 'a pending line was skipped' }],
  errors: [],
};

afterEach(() => {
  vi.unstubAllGlobals();
  FakeXhr.last = null;
  FakeXhr.all = [];
});

describe('percentSent', () => {
  it('is a whole percent, 0 before anything is known, and never above 100', () => {
    expect(percentSent(null)).toBe(0);
    expect(percentSent({ loadedBytes: 0, totalBytes: 0 })).toBe(0);
    expect(percentSent({ loadedBytes: 1, totalBytes: 3 })).toBe(33);
    expect(percentSent({ loadedBytes: 3, totalBytes: 3 })).toBe(100);
    expect(percentSent({ loadedBytes: 5, totalBytes: 3 })).toBe(100);
  });
});

async function chooseFile(user: ReturnType<typeof userEvent.setup>, name = 'nov.csv') {
  renderPage(<ImportsPage />);
  const form = await screen.findByRole('form', { name: 'Import a statement' });
  await user.selectOptions(within(form).getByLabelText('Bank account'), 'Business Checking');
  await user.upload(within(form).getByLabelText('Statement file'), new File(['Details,Posting Date\n'.repeat(10)], name, { type: 'text/csv' }));
  return form;
}

describe('UploadStatement', () => {
  it('sends the file as multipart with an Idempotency-Key, shows the progress, then the report', async () => {
    mockLedger((request) => (request.path === '/entities/l1/balances' ? { body: { accounts: ACCOUNTS } } : request.path === '/entities/l1/review-queue' ? { body: { items: [] } } : request.path === '/entities/l1/rules' ? { body: { items: [] } } : undefined));
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const user = userEvent.setup();
    const form = await chooseFile(user);
    // Only bank accounts (assets and liabilities) take a statement.
    expect(within(within(form).getByLabelText('Bank account')).getAllByRole('option').map((option) => option.textContent)).toEqual(['Choose', 'Business Checking']);
    await user.click(within(form).getByRole('button', { name: 'Import' }));
    await waitFor(() => expect(FakeXhr.last).not.toBeNull());
    const xhr = FakeXhr.last as FakeXhr;
    expect([xhr.method, xhr.url]).toEqual(['POST', '/accounts/a-check/imports']);
    expect(xhr.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect((xhr.body?.get('file') as File).name).toBe('nov.csv');
    expect(within(form).getByRole('button', { name: 'Import' })).toHaveProperty('disabled', true);

    xhr.progress(50, 200);
    const bar = await screen.findByRole('progressbar', { name: 'Upload progress' });
    await waitFor(() => expect(bar.getAttribute('value')).toBe('25'));
    expect(screen.getByText('Sending the file: 25%')).toBeTruthy();
    xhr.progress(200, 200);
    await screen.findByText('Sent; the ledger is reading the statement…');
    xhr.answer(201, REPORT);

    const report = await screen.findByRole('region', { name: 'Import report' });
    expect(within(report).getByRole('heading').textContent).toBe('Import report: nov.csv (CSV, chase-checking)');
    const summary = within(report).getAllByRole('listitem').map((item) => item.textContent);
    expect(summary[0]).toMatch(/^3 new lines added\.$/);
    expect(summary[1]).toMatch(/^1 skipped as duplicates: the account already had a line with the same bank id/);
    expect(summary[2]).toMatch(/^1 sent to review/);
    expect(within(report).getByRole('row', { name: /Business Checking/ }).textContent).toContain('-$42.17');
    expect(within(report).getByRole('list', { name: 'Warnings' }).textContent).toBe('Line 4: a pending line was skipped');
    expect(screen.getByText('Imported.')).toBeTruthy();
  });

  it("shows the ledger's refusal with its code", async () => {
    mockLedger((request) => (request.path === '/entities/l1/balances' ? { body: { accounts: ACCOUNTS } } : request.path.endsWith('/review-queue') || request.path.endsWith('/rules') ? { body: { items: [] } } : undefined));
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const user = userEvent.setup();
    const form = await chooseFile(user, 'broken.csv');
    await user.click(within(form).getByRole('button', { name: 'Import' }));
    await waitFor(() => expect(FakeXhr.last).not.toBeNull());
    (FakeXhr.last as FakeXhr).answer(422, { error: { code: 'import_unreadable', message: 'broken.csv:3: "1.2.3" is not an amount' } });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('broken.csv:3: "1.2.3" is not an amount');
    expect(alert.textContent).toContain('import_unreadable');
    expect(screen.queryByRole('region', { name: 'Import report' })).toBeNull();
  });
});
