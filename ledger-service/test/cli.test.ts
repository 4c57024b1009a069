import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { runCli } from '../src/cli/veil';
import { createApiToken } from '../src/services/auth';
import type { Actor } from '../src/services/context';
import { createBooks } from './support/books';
import { listen, startTestLedger, type TestLedger } from './support/harness';

let ledger: TestLedger;
let server: Awaited<ReturnType<typeof listen>>;
let token: string;
let accountId: string;

beforeAll(async () => {
  ledger = await startTestLedger();
  server = await listen(ledger.app);
  const books = await createBooks(ledger, { name: 'CLI LLC', accounts: { checking: 'checking' } });
  accountId = books.accounts.checking as string;
  const owner: Actor = { type: 'user', id: ledger.owner.id, userId: ledger.owner.id, scopes: ['read', 'write'], entityScope: 'all', mfa: true };
  token = (await createApiToken(ledger.deps, owner, { name: 'cli', scopes: ['read', 'write'], entityIds: [books.entityId] })).token;
});
afterAll(async () => {
  await server.stop();
  await ledger.close();
});

async function run(args: string[]) {
  const out: string[] = [];
  const err = new PassThrough();
  let errText = '';
  err.on('data', (chunk: Buffer) => {
    errText += chunk.toString();
  });
  const code = await runCli(args, { stdout: (text) => out.push(text), stderr: err, env: { VEIL_URL: server.baseUrl, VEIL_TOKEN: token } });
  return { code, out: out.join(''), err: errText };
}

describe('veil import', () => {
  const file = path.join(__dirname, 'fixtures', 'import', 'chase-checking.csv');

  it('streams a file to the API with a progress bar and prints the report; running it again replays', async () => {
    const first = await run(['import', file, '--account', accountId]);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^csv import [0-9a-f-]{36}: 4 new, 0 already there, 0 for review/);
    expect(first.err).toMatch(/uploading .* 100% \| 315\/315 bytes/);
    const again = await run(['import', file, '--account', accountId]);
    expect(again.out).toMatch(/^already imported \(the first answer\): csv import/);
    const lines = await ledger.http.get(`/accounts/${accountId}/bank-lines`).expect(200);
    expect(lines.body.items).toHaveLength(4);
  });

  it('imports a PDF statement, found by its content whatever the file is called', async () => {
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    const page = doc.addPage([612, 792]);
    const rows: [number, string][][] = [
      [[40, 'Statement period 10/01/2026 - 10/31/2026']],
      [[40, 'Beginning balance'], [500, '50.00']],
      [[40, '10/05'], [100, 'PDF COFFEE'], [400, '-3.25'], [500, '46.75']],
      [[40, '10/09'], [100, 'PDF CLIENT'], [400, '100.00'], [500, '146.75']],
      [[40, 'Ending balance'], [500, '146.75']],
    ];
    rows.forEach((cells, index) => cells.forEach(([x, text]) => page.drawText(text, { x, y: 740 - index * 16, size: 9, font })));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-cli-pdf-'));
    const pdfFile = path.join(dir, 'october-statement.dat');
    fs.writeFileSync(pdfFile, await doc.save());
    try {
      const imported = await run(['import', pdfFile, '--account', accountId]);
      expect(imported.code).toBe(0);
      expect(imported.out).toMatch(/^pdf import [0-9a-f-]{36}: 2 new, 0 already there, 0 for review/);
      const lines = await ledger.http.get(`/accounts/${accountId}/bank-lines`).query({ from: '2026-10-01', to: '2026-10-31' }).expect(200);
      expect(lines.body.items.map((line: { payee: string; amountCents: number }) => [line.payee, line.amountCents])).toEqual([
        ['PDF CLIENT', 10_000],
        ['PDF COFFEE', -325],
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what is wrong and exits non-zero', async () => {
    expect((await run(['import', file])).code).toBe(2);
    expect((await run(['import', '/nonexistent.csv', '--account', accountId])).err).toBe('/nonexistent.csv: no such file\n');
    const refused = await run(['import', path.join(__dirname, 'fixtures', 'import', 'camt-unbalanced.xml'), '--account', accountId]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/import refused \(422 import_invalid\): camt-unbalanced\.xml:10: opening 100\.00/);
  });
});
