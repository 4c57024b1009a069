import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAfrTable } from './reference';

function tableFile(content: unknown): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'veil-afr-')), 'afr.json');
  fs.writeFileSync(file, JSON.stringify(content));
  return file;
}

const row = { month: '2026-01', ruling: 'Rev. Rul. 2026-2', shortBasisPoints: 363, midBasisPoints: 381, longBasisPoints: 463, source: 'rr-26-02.pdf', status: 'verified' };

describe('loadAfrTable', () => {
  it('loads the shipped table, one row per month, each with its source', () => {
    const rows = loadAfrTable();
    expect(rows.length).toBeGreaterThanOrEqual(32);
    expect(rows.find((candidate) => candidate.month === '2026-03')).toMatchObject({ ruling: 'Rev. Rul. 2026-6', shortBasisPoints: 359, midBasisPoints: 393, longBasisPoints: 472 });
    expect(rows.every((candidate) => candidate.source.length > 0)).toBe(true);
  });

  it('loads a replacement file, so the rates are updated without code', () => {
    expect(loadAfrTable(tableFile({ rows: [row] }))).toEqual([row]);
  });

  it.each([
    ['a bad month', { rows: [{ ...row, month: '2026-13' }] }],
    ['a rate in percent instead of basis points', { rows: [{ ...row, shortBasisPoints: 3.63 }] }],
    ['a month twice', { rows: [row, row] }],
    ['a row without its source', { rows: [{ ...row, source: undefined }] }],
  ])('refuses %s, naming the file', (_label, content) => {
    const file = tableFile(content);
    expect(() => loadAfrTable(file)).toThrow(file);
  });
});
