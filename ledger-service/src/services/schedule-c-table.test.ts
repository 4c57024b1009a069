import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadScheduleCTable } from './schedule-c-table';
import { lineOfAccount, scheduleC } from '../domain/schedule-c';
import type { AccountTotal } from '../domain/reports';

const table = loadScheduleCTable();

describe('Schedule C line mapping', () => {
  it.each([
    ['Credit card fees', '10'],
    ['Car and truck', '9'],
    ['Mortgage interest', '16a'],
    ['Loan interest', '16b'],
    ['Home office', '30'],
    ['Office supplies', '18'],
    ['Equipment lease', '20a'],
    ['Studio rent', '20b'],
    ['Printer paper and supplies', '22'],
    ['Contractors', '11'],
    ['Cardboard boxes', '27b'],
  ])('%s → line %s', (name, line) => {
    expect(lineOfAccount(table, 'expense', name)).toBe(line);
  });

  it('maps income to receipts unless it is a return or other income', () => {
    expect(lineOfAccount(table, 'income', 'Consulting')).toBe('1');
    expect(lineOfAccount(table, 'income', 'Customer refunds')).toBe('2');
    expect(lineOfAccount(table, 'income', 'Interest income')).toBe('6');
    // An expense keyword never moves an income account to an expense line.
    expect(lineOfAccount(table, 'income', 'Advertising revenue')).toBe('1');
  });

  it('reads only income and expense accounts, and leaves out balances with the owner', () => {
    const total = (name: string, accountClass: AccountTotal['class'], balanceCents: number, counterpartyEntityId: string | null = null): AccountTotal => ({
      accountId: name, name, code: null, class: accountClass, kind: 'x', currency: 'USD', counterpartyEntityId, balanceCents,
    });
    const report = scheduleC(table, [
      total('Sales', 'income', -10_000),
      total('Member draws', 'equity', 5_000),
      total('Member contributions', 'equity', -7_000),
      total('Interest income from owner', 'income', -300, 'owner'),
      total('Advertising', 'expense', 2_000),
    ]);
    expect(report.netProfitCents).toBe(8_000);
    expect(report.excluded.map((account) => account.name)).toEqual(['Interest income from owner']);
  });
});

describe('loadScheduleCTable', () => {
  function tableFile(content: unknown): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'schedule-c-')), 'table.json');
    fs.writeFileSync(file, JSON.stringify(content));
    return file;
  }
  const raw = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../reference/schedule-c.json'), 'utf8'));

  it('refuses a mapping to a line the table does not have, naming the file and the row', () => {
    const file = tableFile({ ...raw, mapping: [{ line: '99', keywords: ['x'] }] });
    expect(() => loadScheduleCTable(file)).toThrow(/mapping\.0\.line: line 99 is not in the table/);
  });

  it('refuses a default that is not a line of its part', () => {
    expect(() => loadScheduleCTable(tableFile({ ...raw, defaults: { income: '8', expense: '27b' } }))).toThrow(/defaults\.income/);
  });
});
