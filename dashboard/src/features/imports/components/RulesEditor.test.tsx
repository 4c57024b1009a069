import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mockLedger, renderPage } from '../../../test-utils';
import type { Rule } from '../api/imports';
import { EMPTY_DRAFT, draftOf, ruleFromDraft } from './RulesEditor';
import { ImportsPage } from './ImportsPage';

afterEach(() => vi.unstubAllGlobals());

const ACCOUNTS = [
  { id: 'a-check', entityId: 'l1', name: 'Business Checking', class: 'asset', kind: 'checking', archivedAt: null },
  { id: 'a-supplies', entityId: 'l1', name: 'Office Supplies', class: 'expense', kind: 'expense_category', archivedAt: null },
  { id: 'a-old', entityId: 'l1', name: 'Old Card', class: 'liability', kind: 'credit_card', archivedAt: '2026-01-01T00:00:00Z' },
];

const SAVED: Rule = {
  id: 'r1',
  entityId: 'l1',
  position: 4,
  enabled: false,
  name: 'Coffee',
  conditions: { payeeContains: 'blue bottle', amountMinCents: -2000, amountMaxCents: 0 },
  action: { categoryAccountId: 'a-supplies' },
  createdAt: '',
  updatedAt: '',
};

describe('ruleFromDraft', () => {
  it('turns a draft into a rule with integer cents, and keeps only the conditions given', () => {
    expect(ruleFromDraft({ ...EMPTY_DRAFT, name: ' Coffee ', payeeContains: 'blue bottle', amountMin: '-20', amountMax: '0.5', categoryAccountId: 'c' })).toEqual({
      rule: { name: 'Coffee', conditions: { payeeContains: 'blue bottle', amountMinCents: -2000, amountMaxCents: 50 }, action: { categoryAccountId: 'c' } },
    });
  });

  it('says what is wrong: no name, no condition, a bad or inverted amount, no category', () => {
    expect(ruleFromDraft({ ...EMPTY_DRAFT, payeeContains: 'x', categoryAccountId: 'c' })).toEqual({ problem: 'Give the rule a name.' });
    expect(ruleFromDraft({ ...EMPTY_DRAFT, name: 'n', categoryAccountId: 'c' })).toMatchObject({ problem: expect.stringContaining('which lines') });
    expect(ruleFromDraft({ ...EMPTY_DRAFT, name: 'n', amountMin: '1.234', categoryAccountId: 'c' })).toMatchObject({ problem: expect.stringContaining('Amount from is not an amount') });
    expect(ruleFromDraft({ ...EMPTY_DRAFT, name: 'n', amountMin: '5', amountMax: '-5', categoryAccountId: 'c' })).toEqual({ problem: 'Amount from is above Amount to.' });
    expect(ruleFromDraft({ ...EMPTY_DRAFT, name: 'n', memoContains: 'x' })).toMatchObject({ problem: expect.stringContaining('category') });
  });

  it('reads a saved rule back into the form exactly (cents as decimal strings)', () => {
    expect(draftOf(SAVED)).toEqual({ ...EMPTY_DRAFT, name: 'Coffee', payeeContains: 'blue bottle', amountMin: '-20.00', amountMax: '0.00', categoryAccountId: 'a-supplies' });
    expect(ruleFromDraft(draftOf(SAVED))).toEqual({ rule: { name: SAVED.name, conditions: SAVED.conditions, action: SAVED.action } });
  });
});

function ledger(rules: Rule[]) {
  return mockLedger((request) => {
    if (request.path === '/entities/l1/balances') return { body: { accounts: ACCOUNTS } };
    if (request.path === '/entities/l1/review-queue') return { body: { items: [] } };
    if (request.method === 'GET' && request.path === '/entities/l1/rules') return { body: { items: rules } };
    if (request.method === 'POST' && request.path === '/entities/l1/rules/preview') {
      return {
        body: {
          items: [
            { bankLineId: 'b1', postedOn: '2026-11-05', payee: 'BLUE BOTTLE 0412', amountCents: -635, ruleId: null, ruleName: 'Coffee', categoryAccountId: 'a-supplies', splits: null },
            { bankLineId: 'b2', postedOn: '2026-11-06', payee: 'CLIENT', amountCents: 123456, ruleId: null, ruleName: null, categoryAccountId: null, splits: null },
          ],
          matched: 1,
          unmatched: 1,
        },
      };
    }
    if (request.method === 'POST' && request.path === '/entities/l1/rules') return { status: 201, body: { ...SAVED, ...(request.body as object), id: 'r2' } };
    if (request.method === 'PUT' && request.path === '/rules/r1') return { body: { ...SAVED, ...(request.body as object) } };
    return undefined;
  });
}

describe('RulesEditor', () => {
  it('previews a draft against the waiting lines without saving it, then saves it with an Idempotency-Key', async () => {
    const sent = ledger([]);
    const user = userEvent.setup();
    renderPage(<ImportsPage />);
    const form = await screen.findByRole('form', { name: 'New rule' });
    await screen.findByText('No rules yet: lines wait for you to categorise them.');
    // Archived accounts are not offered; categories are income and expense accounts only.
    expect(within(form).getAllByRole('option').map((option) => option.textContent)).toEqual(['Any account', 'Business Checking', 'Choose', 'Office Supplies']);
    await user.type(within(form).getByLabelText('Rule name'), 'Coffee');
    await user.type(within(form).getByLabelText('Payee contains'), 'blue bottle');
    await user.click(within(form).getByRole('button', { name: 'Preview' }));
    expect(within(form).getByRole('alert').textContent).toContain('Choose the category');
    expect(sent.some((request) => request.path.endsWith('/preview'))).toBe(false);
    await user.selectOptions(within(form).getByLabelText('Book to category'), 'Office Supplies');
    await user.click(within(form).getByRole('button', { name: 'Preview' }));
    const preview = await screen.findByRole('region', { name: 'Rule preview' });
    expect(within(preview).getByRole('status').textContent).toBe('This rule would categorise 1 of the 2 lines waiting.');
    expect(within(preview).getAllByRole('row')).toHaveLength(2);
    expect(within(preview).getByRole('row', { name: /BLUE BOTTLE 0412/ }).textContent).toContain('Office Supplies');
    const previewRequest = sent.find((request) => request.path.endsWith('/preview'));
    expect(previewRequest?.body).toEqual({ rules: [{ name: 'Coffee', conditions: { payeeContains: 'blue bottle' }, action: { categoryAccountId: 'a-supplies' } }] });
    expect(sent.some((request) => request.method === 'POST' && request.path === '/entities/l1/rules')).toBe(false);

    await user.click(within(form).getByRole('button', { name: 'Save rule' }));
    await waitFor(() => expect(sent.some((request) => request.method === 'POST' && request.path === '/entities/l1/rules')).toBe(true));
    const save = sent.find((request) => request.method === 'POST' && request.path === '/entities/l1/rules');
    expect(save?.body).toEqual({ name: 'Coffee', conditions: { payeeContains: 'blue bottle' }, action: { categoryAccountId: 'a-supplies' } });
    expect(save?.headers['idempotency-key']).toBeTruthy();
    await waitFor(() => expect((within(form).getByLabelText('Rule name') as HTMLInputElement).value).toBe(''));
  });

  it('edits a saved rule in place with PUT, keeping its position and whether it is on', async () => {
    const sent = ledger([SAVED]);
    const user = userEvent.setup();
    renderPage(<ImportsPage />);
    const row = await screen.findByRole('row', { name: /Coffee \(off\)/ });
    expect(row.textContent).toContain('payee contains “blue bottle”');
    expect(row.textContent).toContain('Office Supplies');
    await user.click(within(row).getByRole('button', { name: 'Edit rule Coffee' }));
    const form = screen.getByRole('form', { name: 'Edit rule' });
    expect((within(form).getByLabelText('Amount from') as HTMLInputElement).value).toBe('-20.00');
    await user.clear(within(form).getByLabelText('Amount from'));
    await user.type(within(form).getByLabelText('Amount from'), '-25');
    await user.click(within(form).getByRole('button', { name: 'Update rule' }));
    await waitFor(() => expect(sent.some((request) => request.method === 'PUT')).toBe(true));
    expect(sent.find((request) => request.method === 'PUT')?.body).toEqual({
      name: 'Coffee',
      position: 4,
      enabled: false,
      conditions: { payeeContains: 'blue bottle', amountMinCents: -2500, amountMaxCents: 0 },
      action: { categoryAccountId: 'a-supplies' },
    });
  });
});
