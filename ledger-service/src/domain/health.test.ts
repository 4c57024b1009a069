import { principalDueBy, scoreFindings, type Finding } from './health';

const finding = (code: Finding['code'], overdue = false): Finding => ({ code, message: code, amountCents: 1, overdue });

describe('scoreFindings', () => {
  it('gives clean books 100 with a reason', () => {
    expect(scoreFindings([])).toEqual({ score: 100, reasons: [expect.stringMatching(/no findings/)] });
  });

  it('takes each penalty off, more when overdue, and explains each', () => {
    expect(scoreFindings([finding('commingling'), finding('open_reimbursement', true)])).toEqual({
      score: 75,
      reasons: ['-15: commingling', '-10: open_reimbursement'],
    });
  });

  it('never goes below zero', () => {
    expect(scoreFindings(Array.from({ length: 10 }, () => finding('undocumented_crossing'))).score).toBe(0);
  });
});

describe('principalDueBy', () => {
  it('sums the principal of installments due on or before the date', () => {
    const schedule = [
      { dueOn: '2026-02-15', principalCents: 100 },
      { dueOn: '2026-03-15', principalCents: 101 },
      { dueOn: '2026-04-15', principalCents: 102 },
    ];
    expect(principalDueBy(schedule, '2026-02-14')).toBe(0);
    expect(principalDueBy(schedule, '2026-03-15')).toBe(201);
  });
});
