import { accountSegment, journalAccountNames, journalTransaction } from './hledger';
import { toCsv } from './reports';

describe('hledger account names', () => {
  it('turns what hledger would misread into plain text', () => {
    expect(accountSegment('Office: supplies')).toBe('Office- supplies');
    expect(accountSegment('Amex  Business\tcard')).toBe('Amex Business card');
    expect(accountSegment('Software; tools')).toBe('Software- tools');
    expect(accountSegment('  ')).toBe('-');
  });

  it('never merges two accounts into one name', () => {
    const names = journalAccountNames([
      { id: 'aaaaaaaa-1', name: 'Office: supplies', class: 'expense', kind: 'expense_category' },
      { id: 'bbbbbbbb-2', name: 'Office; supplies', class: 'expense', kind: 'expense_category' },
      { id: 'cccccccc-3', name: 'Checking', class: 'asset', kind: 'checking' },
    ]);
    expect(names.get('cccccccc-3')).toBe('assets:checking:Checking');
    expect(names.get('aaaaaaaa-1')).toBe('expenses:expense_category:Office- supplies aaaaaaaa');
    expect(names.get('bbbbbbbb-2')).toBe('expenses:expense_category:Office- supplies bbbbbbbb');
  });
});

describe('hledger transactions', () => {
  it('asserts each account once per entry, after its last posting, with the running balance', () => {
    const names = new Map([['a', 'assets:checking:A'], ['b', 'income:income_category:B']]);
    const running = new Map([['a', 1_000]]);
    const text = journalTransaction(
      {
        id: 'e1',
        seq: '7',
        postedOn: '2026-01-02',
        description: 'Two; parts\nsale',
        reversesEntryId: null,
        postings: [
          { accountId: 'a', currency: 'USD', amountCents: 150, memo: null },
          { accountId: 'a', currency: 'USD', amountCents: 50, memo: 'second; half' },
          { accountId: 'b', currency: 'USD', amountCents: -200, memo: null },
        ],
      },
      names,
      running,
    );
    expect(text).toBe(
      [
        '2026-01-02 (7) Two, parts sale  ; entry: e1',
        '    assets:checking:A  1.50 USD',
        '    assets:checking:A  0.50 USD = 12.00 USD  ; second, half',
        '    income:income_category:B  -2.00 USD = -2.00 USD',
        '',
        '',
      ].join('\n'),
    );
    expect(running.get('a')).toBe(1_200);
  });
});

describe('report CSV', () => {
  it('quotes separators and neutralises spreadsheet formulas, but keeps negative amounts as numbers', () => {
    expect(toCsv([['a,b', 'say "hi"', '=cmd()', '-12.50', '-x']])).toBe('"a,b","say ""hi""",\'=cmd(),-12.50,\'-x\r\n');
  });
});
