import { useState, type FormEvent, type ReactNode } from 'react';
import { DataTable } from '../../../components/data-table';
import { Card, ErrorNotice, Money, QueryState } from '../../../components/ui';
import { centsToDecimalString, parseCents } from '../../../lib/money';
import type { Account } from '../../../lib/types';
import { useDeleteRule, usePreviewRules, useRules, useSaveRule, type Rule, type RuleInput } from '../api/imports';

export interface RuleDraft {
  name: string;
  payeeContains: string;
  memoContains: string;
  amountMin: string;
  amountMax: string;
  accountId: string;
  categoryAccountId: string;
  description: string;
}

export const EMPTY_DRAFT: RuleDraft = { name: '', payeeContains: '', memoContains: '', amountMin: '', amountMax: '', accountId: '', categoryAccountId: '', description: '' };

export function draftOf(rule: Rule): RuleDraft {
  const amount = (cents: number | undefined) => (cents === undefined ? '' : centsToDecimalString(cents));
  return {
    name: rule.name,
    payeeContains: rule.conditions.payeeContains ?? '',
    memoContains: rule.conditions.memoContains ?? '',
    amountMin: amount(rule.conditions.amountMinCents),
    amountMax: amount(rule.conditions.amountMaxCents),
    accountId: rule.conditions.accountId ?? '',
    categoryAccountId: rule.action.categoryAccountId ?? '',
    description: rule.action.description ?? '',
  };
}

/** The rule a draft describes, or what is wrong with it (checked here so the owner sees it before the ledger does). */
export function ruleFromDraft(draft: RuleDraft): { rule: RuleInput } | { problem: string } {
  const name = draft.name.trim();
  if (!name) return { problem: 'Give the rule a name.' };
  const conditions: RuleInput['conditions'] = {};
  if (draft.payeeContains.trim()) conditions.payeeContains = draft.payeeContains.trim();
  if (draft.memoContains.trim()) conditions.memoContains = draft.memoContains.trim();
  if (draft.accountId) conditions.accountId = draft.accountId;
  for (const [field, text, label] of [
    ['amountMinCents', draft.amountMin, 'Amount from'],
    ['amountMaxCents', draft.amountMax, 'Amount to'],
  ] as const) {
    if (!text.trim()) continue;
    const cents = parseCents(text);
    if (cents === null) return { problem: `${label} is not an amount (like -12.50).` };
    conditions[field] = cents;
  }
  if (conditions.amountMinCents !== undefined && conditions.amountMaxCents !== undefined && conditions.amountMinCents > conditions.amountMaxCents) {
    return { problem: 'Amount from is above Amount to.' };
  }
  if (Object.keys(conditions).length === 0) return { problem: 'Say which lines the rule matches (payee, memo, amount or account).' };
  if (!draft.categoryAccountId) return { problem: 'Choose the category the matching lines are booked to.' };
  const action: RuleInput['action'] = { categoryAccountId: draft.categoryAccountId };
  if (draft.description.trim()) action.description = draft.description.trim();
  return { rule: { name, conditions, action } };
}

function describeConditions(rule: Rule, name: (id: string) => string, currency: string) {
  const parts: ReactNode[] = [];
  if (rule.conditions.payeeContains) parts.push(`payee contains “${rule.conditions.payeeContains}”`);
  if (rule.conditions.payeeRegex) parts.push(`payee matches /${rule.conditions.payeeRegex}/`);
  if (rule.conditions.memoContains) parts.push(`memo contains “${rule.conditions.memoContains}”`);
  if (rule.conditions.amountMinCents !== undefined) parts.push(<>from <Money cents={rule.conditions.amountMinCents} currency={currency} /></>);
  if (rule.conditions.amountMaxCents !== undefined) parts.push(<>to <Money cents={rule.conditions.amountMaxCents} currency={currency} /></>);
  if (rule.conditions.accountId) parts.push(`in ${name(rule.conditions.accountId)}`);
  return parts.map((part, index) => (
    <span key={index}>
      {index > 0 ? ', ' : ''}
      {part}
    </span>
  ));
}

export function RulesEditor({ entityId, accounts, currency }: { entityId: string; accounts: Account[]; currency: string }) {
  const rules = useRules(entityId);
  const save = useSaveRule(entityId);
  const remove = useDeleteRule(entityId);
  const preview = usePreviewRules(entityId);
  const [draft, setDraft] = useState<RuleDraft>(EMPTY_DRAFT);
  const [editing, setEditing] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [idempotencyKey, setIdempotencyKey] = useState(() => crypto.randomUUID());
  const name = (id: string) => accounts.find((account) => account.id === id)?.name ?? id;
  const bankAccounts = accounts.filter((account) => account.class === 'asset' || account.class === 'liability');
  const categories = accounts.filter((account) => account.class === 'expense' || account.class === 'income');

  function update(change: Partial<RuleDraft>) {
    setDraft({ ...draft, ...change });
    setIdempotencyKey(crypto.randomUUID());
  }

  function checked(): RuleInput | null {
    const result = ruleFromDraft(draft);
    if ('problem' in result) {
      setProblem(result.problem);
      return null;
    }
    setProblem(null);
    return result.rule;
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const rule = checked();
    if (!rule) return;
    // A replace keeps the rule's place in the order and whether it is on.
    const current = rules.data?.find((candidate) => candidate.id === editing);
    save.mutate(
      { ruleId: editing, rule: current ? { ...rule, position: current.position, enabled: current.enabled } : rule, idempotencyKey },
      {
        onSuccess: () => {
          setDraft(EMPTY_DRAFT);
          setEditing(null);
          setIdempotencyKey(crypto.randomUUID());
          preview.reset();
        },
      },
    );
  }

  const previewed = preview.data;
  return (
    <Card title="Rules">
      <QueryState query={rules} label="Loading rules">
        {(items) => (
          <DataTable
            rows={items}
            caption="Categorisation rules, in the order they are tried"
            empty="No rules yet: lines wait for you to categorise them."
            rowKey={(rule) => rule.id}
            columns={[
              { header: 'Rule', rowHeader: true, cell: (rule) => rule.name + (rule.enabled ? '' : ' (off)') },
              { header: 'Matches', cell: (rule) => describeConditions(rule, name, currency) },
              { header: 'Books to', cell: (rule) => (rule.action.categoryAccountId ? name(rule.action.categoryAccountId) : rule.action.splits ? `a split over ${rule.action.splits.length} accounts` : '') },
              {
                header: 'Actions',
                hideHeader: true,
                cell: (rule) => (
                  <div className="row compact">
                    <button
                      type="button"
                      aria-label={`Edit rule ${rule.name}`}
                      onClick={() => {
                        setDraft(draftOf(rule));
                        setEditing(rule.id);
                        setIdempotencyKey(crypto.randomUUID());
                      }}
                    >
                      Edit
                    </button>
                    <button
                      type="button"
                      aria-label={`Delete rule ${rule.name}`}
                      disabled={remove.isPending}
                      onClick={() => {
                        if (window.confirm(`Delete the rule “${rule.name}”? Entries it booked stay.`)) remove.mutate(rule.id);
                      }}
                    >
                      Delete
                    </button>
                  </div>
                ),
              },
            ]}
          />
        )}
      </QueryState>
      <form className="stack" aria-label={editing ? 'Edit rule' : 'New rule'} onSubmit={submit}>
        <h3>{editing ? `Edit “${draft.name}”` : 'New rule'}</h3>
        <div className="row">
          <label>
            Rule name
            <input required maxLength={200} value={draft.name} onChange={(event) => update({ name: event.target.value })} />
          </label>
          <label>
            Payee contains
            <input maxLength={200} value={draft.payeeContains} onChange={(event) => update({ payeeContains: event.target.value })} />
          </label>
          <label>
            Memo contains
            <input maxLength={200} value={draft.memoContains} onChange={(event) => update({ memoContains: event.target.value })} />
          </label>
        </div>
        <div className="row">
          <label>
            Amount from
            <input inputMode="decimal" placeholder="-100.00" value={draft.amountMin} onChange={(event) => update({ amountMin: event.target.value })} />
          </label>
          <label>
            Amount to
            <input inputMode="decimal" placeholder="0.00" value={draft.amountMax} onChange={(event) => update({ amountMax: event.target.value })} />
          </label>
          <label>
            Only in account
            <select value={draft.accountId} onChange={(event) => update({ accountId: event.target.value })}>
              <option value="">Any account</option>
              {bankAccounts.map((account) => (
                <option key={account.id} value={account.id}>
                  {account.name}
                </option>
              ))}
            </select>
          </label>
        </div>
        <div className="row">
          <label>
            Book to category
            <select value={draft.categoryAccountId} onChange={(event) => update({ categoryAccountId: event.target.value })}>
              <option value="">Choose</option>
              {categories.map((account) => (
                <option key={account.id} value={account.id}>
                  {account.name}
                </option>
              ))}
            </select>
          </label>
          <label className="grow">
            Entry description (optional)
            <input maxLength={500} value={draft.description} onChange={(event) => update({ description: event.target.value })} />
          </label>
        </div>
        {problem ? (
          <p role="alert" className="notice error">
            {problem}
          </p>
        ) : null}
        <ErrorNotice error={save.error ?? remove.error ?? preview.error} />
        <div className="row">
          <button
            type="button"
            disabled={preview.isPending}
            onClick={() => {
              const rule = checked();
              if (rule) preview.mutate([rule]);
            }}
          >
            Preview
          </button>
          <button type="submit" disabled={save.isPending}>
            {editing ? 'Update rule' : 'Save rule'}
          </button>
          {editing ? (
            <button
              type="button"
              onClick={() => {
                setEditing(null);
                setDraft(EMPTY_DRAFT);
                setProblem(null);
              }}
            >
              Cancel
            </button>
          ) : null}
        </div>
      </form>
      {previewed ? (
        <section aria-label="Rule preview" className="stack">
          <p role="status">
            This rule would categorise {previewed.matched} of the {previewed.matched + previewed.unmatched} lines waiting.
          </p>
          <DataTable
            rows={previewed.items.filter((item) => item.ruleId !== null || item.ruleName !== null)}
            caption="Lines the rule would categorise"
            empty="No waiting line matches."
            rowKey={(item) => item.bankLineId}
            columns={[
              { header: 'Date', cell: (item) => item.postedOn },
              { header: 'Payee', rowHeader: true, cell: (item) => item.payee ?? '' },
              { header: 'Amount', amount: true, cell: (item) => <Money cents={item.amountCents} currency={currency} /> },
              {
                header: 'Would book to',
                cell: (item) =>
                  item.categoryAccountId ? name(item.categoryAccountId) : item.splits ? item.splits.map((split) => name(split.accountId)).join(', ') : '',
              },
            ]}
          />
        </section>
      ) : null}
    </Card>
  );
}
