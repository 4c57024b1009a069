import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runReport } from '../src/cli/report';
import { createBooks, type Books } from './support/books';
import { key, listen, startTestLedger, type TestLedger } from './support/harness';

// `veil report …` against a real service over HTTP: what it prints is what the API answers.

let ledger: TestLedger;
let server: Awaited<ReturnType<typeof listen>>;
let llc: Books;
let tempDir: string;

beforeAll(async () => {
  ledger = await startTestLedger();
  server = await listen(ledger.app);
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-cli-'));
  llc = await createBooks(ledger, { name: 'CLI Books LLC', accounts: { Checking: 'checking', Sales: 'income_category' } });
  await ledger.http
    .post(`/entities/${llc.entityId}/entries`)
    .set('Idempotency-Key', key())
    .send({ postedOn: '2026-02-01', description: 'Sale', postings: [{ accountId: llc.accounts.Checking, amountCents: 12_345 }, { accountId: llc.accounts.Sales, amountCents: -12_345 }] })
    .expect(201);
});
afterAll(async () => {
  await server.stop();
  await ledger.close();
  fs.rmSync(tempDir, { recursive: true, force: true });
});

async function cli(argv: string[], env = { VEIL_URL: server.baseUrl, VEIL_TOKEN: ledger.owner.accessToken }) {
  let stdout = '';
  let stderr = '';
  const code = await runReport(argv, { env, stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

describe('veil report', () => {
  it('prints the JSON the API answers, and its CSV with --csv', async () => {
    const json = await cli(['balance-sheet', '--entity', llc.entityId, '--from', '2026-01-01', '--to', '2026-03-31']);
    expect(json.code).toBe(0);
    const api = await ledger.http.get(`/entities/${llc.entityId}/reports/balance-sheet?from=2026-01-01&to=2026-03-31`).expect(200);
    expect(JSON.parse(json.stdout)).toEqual(api.body);
    const csv = await cli(['income-statement', '--entity', llc.entityId, '--from', '2026-01-01', '--to', '2026-03-31', '--csv']);
    expect(csv.code).toBe(0);
    expect(csv.stdout).toContain('Income,Sales,,income_category,USD,123.45\r\n');
    const group = await cli(['consolidated-income-statement', '--entities', llc.entityId, '--to', '2026-03-31']);
    expect(JSON.parse(group.stdout).byCurrency[0].netIncomeCents).toBe(12_345);
    const ledgerLines = await cli(['general-ledger', '--entity', llc.entityId, '--account', llc.accounts.Checking as string, '--to', '2026-03-31']);
    expect(JSON.parse(ledgerLines.stdout).accounts[0].closingCents).toBe(12_345);
  });

  it('writes the summary PDF to --out', async () => {
    const out = path.join(tempDir, 'summary.pdf');
    const result = await cli(['summary', '--entity', llc.entityId, '--year', '2026', '--out', out]);
    expect(result).toMatchObject({ code: 0, stdout: '' });
    expect(fs.readFileSync(out).subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('exits 2 on bad usage and 1 with the service\'s error code when it refuses', async () => {
    expect((await cli(['balance-sheet'])).code).toBe(2);
    expect((await cli(['profit', '--entity', llc.entityId])).stderr).toContain('usage: veil report');
    expect((await cli(['balance-sheet', '--entity', llc.entityId, '--bogus'])).code).toBe(2);
    expect((await cli(['summary', '--entity', llc.entityId])).code).toBe(2);
    expect((await cli(['balance-sheet', '--entity', llc.entityId], { VEIL_URL: server.baseUrl, VEIL_TOKEN: '' })).code).toBe(2);
    const missing = await cli(['balance-sheet', '--entity', '00000000-0000-4000-8000-000000000000']);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toContain('404 not_found');
    const unauthenticated = await cli(['balance-sheet', '--entity', llc.entityId], { VEIL_URL: server.baseUrl, VEIL_TOKEN: 'nope' });
    expect(unauthenticated.stderr).toContain('401 unauthenticated');
  });

  it('runs as a program through the `veil` dispatcher', async () => {
    const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
    const { stdout } = await promisify(execFile)(tsx, [path.resolve(__dirname, '../src/cli/veil.ts'), 'report', 'trial-balance', '--entity', llc.entityId, '--to', '2026-03-31', '--csv'], {
      env: { ...process.env, VEIL_URL: server.baseUrl, VEIL_TOKEN: ledger.owner.accessToken },
    });
    expect(stdout.split('\r\n')).toContain('Total,,,,USD,123.45,123.45');
  });
});
