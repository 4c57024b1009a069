import fs from 'node:fs';
import path from 'node:path';
import { checkInvariants } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// Every file of the shared conformance corpus (../shared/fixtures/bank-exports beside the repository, as CI
// clones it) goes through the real upload route. Each either imports with the accounts, line counts and totals
// written here — read off the files by hand, not from the parser — or is refused with an error naming the file
// and line, writing nothing. A file added to the corpus without an expectation fails this test.

const CORPUS = path.resolve(__dirname, '..', '..', '..', 'shared', 'fixtures', 'bank-exports');

type Expectation =
  | { accounts: { id: string; currency: string; kind: 'checking' | 'credit_card' | 'brokerage' | 'savings'; lines: number; totalCents: number }[] }
  | { error: RegExp; line: number };

const EXPECTED: Record<string, Expectation> = {
  'actual/camt.053.payee-memo.xml': { accounts: [{ id: 'DE14740618130000033626', currency: 'EUR', kind: 'checking', lines: 4, totalCents: -10_000 }] },
  'actual/data-multi-decimal.ofx': { accounts: [{ id: '123456789123', currency: 'USD', kind: 'checking', lines: 2, totalCents: -3_000 - 377 }] },
  'actual/data-payee-memo.qif': { accounts: [{ id: '', currency: 'USD', kind: 'checking', lines: 4, totalCents: -10_000 }] },
  // 1500.00 opening; -42.50 +1200.00 -89.99 -15.00 -24.80 -31.00 = 996.71; closes at 2496.71 (checked by the importer).
  'actual/data.sta': { accounts: [{ id: 'FR7630006000011234567890189', currency: 'EUR', kind: 'checking', lines: 6, totalCents: 99_671 }] },
  'actual/html-vals.qfx': { accounts: [{ id: '00000 00-00000', currency: 'CAD', kind: 'checking', lines: 2, totalCents: -200 }] },
  'ofxparse/account_listing_aggregation.ofx': { error: /lists accounts but holds no statement/, line: 11 },
  'ofxparse/anzcc.ofx': { accounts: [{ id: '1234123412341234', currency: 'AUD', kind: 'credit_card', lines: 1, totalCents: -550 }] },
  'ofxparse/bank_medium.ofx': { accounts: [{ id: '12300 000012345678', currency: 'CAD', kind: 'checking', lines: 3, totalCents: -660 - 31_667 - 2_200 }] },
  'ofxparse/bank_small.ofx': { error: /holds no statement/, line: 11 },
  'ofxparse/checking.ofx': { accounts: [{ id: '1452687~7', currency: 'USD', kind: 'checking', lines: 3, totalCents: 1 - 3_451 - 2_500 }] },
  'ofxparse/error_message.ofx': { error: /OFX status 2000: General Server Error/, line: 22 },
  'ofxparse/fail_nice__date_missing.ofx': { error: /has no <DTPOSTED>/, line: 33 },
  'ofxparse/fail_nice__decimal_error.ofx': { error: /<DTPOSTED>201120000000 is not a date/, line: 36 },
  // Its balances are empty: the line imports, the balances are reported as unusable warnings.
  'ofxparse/fail_nice__empty_balance.ofx': { accounts: [{ id: '192639749', currency: 'CAD', kind: 'checking', lines: 1, totalCents: 12_000 }] },
  // -1500.0000 +115.8331 -197.1063 -197.1220: sub-cent digits rounded half to even per line, with a warning each.
  'ofxparse/fidelity-savings.ofx': { accounts: [{ id: 'X0000001', currency: 'USD', kind: 'brokerage', lines: 4, totalCents: -150_000 + 11_583 - 19_711 - 19_712 }] },
  // 8 buys, 4 income, 1 sell, 4 more: the cash total of each investment transaction.
  'ofxparse/fidelity.ofx': { accounts: [{ id: '01234567890', currency: 'USD', kind: 'brokerage', lines: 17, totalCents: -1_052_667 }] },
  'ofxparse/investment_401k.ofx': { accounts: [{ id: '12345678.123456-01', currency: 'USD', kind: 'brokerage', lines: 3, totalCents: -19_720 }] },
  'ofxparse/investment_medium.ofx': { accounts: [{ id: 'ABC123', currency: 'CAD', kind: 'brokerage', lines: 3, totalCents: -365 + 335 - 365 }] },
  'ofxparse/multiple_accounts.ofx': {
    accounts: [
      { id: '9100', currency: 'USD', kind: 'checking', lines: 0, totalCents: 0 },
      { id: '9200', currency: 'USD', kind: 'savings', lines: 0, totalCents: 0 },
    ],
  },
  'ofxparse/ofx-v102-empty-tags.ofx': { accounts: [{ id: '12345678', currency: 'USD', kind: 'checking', lines: 1, totalCents: 1_234 }] },
  'ofxparse/signon_fail.ofx': { error: /OFX status 15500/, line: 11 },
  'ofxparse/suncorp.ofx': { accounts: [{ id: '123456789', currency: 'AUD', kind: 'checking', lines: 1, totalCents: -1_685 }] },
  // Positions only: an account with no transactions.
  'ofxparse/td_ameritrade.ofx': { accounts: [{ id: '121212121', currency: 'USD', kind: 'brokerage', lines: 0, totalCents: 0 }] },
  'ofxparse/tiaacref.ofx': { accounts: [{ id: '111A1111 22B222 33C333', currency: 'USD', kind: 'brokerage', lines: 1, totalCents: 0 }] },
  'ofxparse/vanguard.ofx': { accounts: [{ id: '01234567890', currency: 'USD', kind: 'brokerage', lines: 1, totalCents: 421_230 }] },
  'ofxparse/vanguard401k.ofx': { accounts: [{ id: '0123456', currency: 'USD', kind: 'brokerage', lines: 5, totalCents: -67_300 - 33_650 - 67_300 - 33_650 }] },
};

function corpusFiles(): string[] {
  return fs
    .readdirSync(CORPUS)
    .filter((folder) => fs.statSync(path.join(CORPUS, folder)).isDirectory())
    .flatMap((folder) => fs.readdirSync(path.join(CORPUS, folder)).map((name) => `${folder}/${name}`))
    .filter((file) => !/LICENSE|PROVENANCE|README/.test(file))
    .sort();
}

let ledger: TestLedger;
beforeAll(async () => {
  ledger = await startTestLedger();
});
afterAll(() => ledger.close());

describe('the shared bank-export corpus', () => {
  it('is where CI puts it, and every file in it has an expectation here', () => {
    expect(fs.existsSync(CORPUS)).toBe(true);
    expect(corpusFiles()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.keys(EXPECTED).sort())('%s', async (file) => {
    const expected = EXPECTED[file] as Expectation;
    const bytes = fs.readFileSync(path.join(CORPUS, file));
    const entity = await ledger.http.post('/entities').set('Idempotency-Key', key()).send({ kind: 'llc', name: `Corpus ${file}` }).expect(201);
    const entityId = entity.body.id as string;
    if ('error' in expected) {
      const account = await ledger.http.post(`/entities/${entityId}/accounts`).set('Idempotency-Key', key()).send({ name: 'Target', kind: 'checking' }).expect(201);
      const response = await ledger.http.post(`/accounts/${account.body.id}/imports`).set('Idempotency-Key', key()).attach('file', bytes, file).expect(422);
      expect(response.body.error.code).toBe('import_invalid');
      expect(response.body.error.message).toMatch(expected.error);
      // The upload names the file by its base name, as a browser would.
      expect(response.body.error.details.errors).toEqual([{ file: path.basename(file), line: expected.line, message: expect.stringMatching(expected.error) }]);
      // The line named really is in the file, and nothing was written.
      expect(expected.line).toBeLessThanOrEqual(bytes.toString('utf8').split('\n').length);
      const stored = await ledger.deps.db.selectFrom('bankLines').select('id').where('entityId', '=', entityId).execute();
      const imports = await ledger.deps.db.selectFrom('imports').select('id').where('entityId', '=', entityId).execute();
      expect([stored.length, imports.length]).toEqual([0, 0]);
      return;
    }
    const accountMap: Record<string, string> = {};
    for (const account of expected.accounts) {
      const created = await ledger.http
        .post(`/entities/${entityId}/accounts`)
        .set('Idempotency-Key', key())
        .send({ name: `Statement ${account.id || 'account'}`, kind: account.kind, currency: account.currency })
        .expect(201);
      accountMap[account.id] = created.body.id;
    }
    // One account: the account's own route; several: the entity's, with the map.
    const send = () =>
      expected.accounts.length === 1
        ? ledger.http.post(`/accounts/${accountMap[expected.accounts[0]?.id as string]}/imports`).set('Idempotency-Key', key()).attach('file', bytes, file)
        : ledger.http.post(`/entities/${entityId}/imports`).set('Idempotency-Key', key()).attach('file', bytes, file).field('accountMap', JSON.stringify(accountMap));
    const report = await send().expect(201);
    expect(report.body.accounts.map((account: { statementAccountId: string; lines: number; totalCents: number; new: number }) => [account.statementAccountId, account.lines, account.totalCents, account.new])).toEqual(
      expected.accounts.map((account) => [account.id, account.lines, account.totalCents, account.lines]),
    );
    // What was stored adds up to what the file said, and a second import stores nothing more.
    for (const account of expected.accounts) {
      const lines = await ledger.deps.db.selectFrom('bankLines').select('amountCents').where('accountId', '=', accountMap[account.id] as string).execute();
      expect([lines.length, lines.reduce((sum, line) => sum + Number(line.amountCents), 0)]).toEqual([account.lines, account.totalCents]);
    }
    const again = await send().expect(201);
    expect([again.body.new, again.body.skippedExact]).toEqual([0, expected.accounts.reduce((sum, account) => sum + account.lines, 0)]);
  });

  it('leaves the books consistent', async () => {
    expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0 });
  });
});
