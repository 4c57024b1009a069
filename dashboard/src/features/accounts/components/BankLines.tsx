import { useState, type FormEvent, type ReactNode } from 'react';
import { Card, Empty, ErrorNotice, Loading, Money } from '../../../components/ui';
import { formatCents, parseCents, sumCents } from '../../../lib/money';
import type { Account } from '../../../lib/types';
import { lineLabel, useBookLines, useUncategorisedLines, type BankLine, type BookingOutcome, type Split } from '../api/bank-lines';

const SPLIT_ROWS_MAX = 20;

/** Accounts that can take the other side of a bank line: the entity's open accounts but the bank account itself. */
function categoryOptions(accounts: readonly Account[], accountId: string) {
  const order = ['expense', 'income', 'liability', 'asset', 'equity'];
  return accounts
    .filter((account) => account.archivedAt === null && account.id !== accountId)
    .sort((a, b) => order.indexOf(a.class) - order.indexOf(b.class) || a.name.localeCompare(b.name))
    .map((account) => (
      <option key={account.id} value={account.id}>
        {account.code ? `${account.code} ` : ''}
        {account.name}
      </option>
    ));
}

function summary(outcomes: readonly BookingOutcome[], accountName: (id: string) => string, categoryId: string | null): string {
  const booked = outcomes.filter((outcome) => outcome.entry).length;
  const what = categoryId ? ` as ${accountName(categoryId)}` : '';
  return `Booked ${booked} of ${outcomes.length} line${outcomes.length === 1 ? '' : 's'}${what}.`;
}

/**
 * The bank lines of one account that no entry accounts for yet: categorise one, split one across several
 * categories, or select several and categorise them at once. A booking is corrected by reversing its entry.
 */
export function BankLines({ account, accounts }: { account: Account; accounts: readonly Account[] }) {
  const lines = useUncategorisedLines(account.id);
  const book = useBookLines();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [categoryOf, setCategoryOf] = useState<Record<string, string>>({});
  const [bulkCategory, setBulkCategory] = useState('');
  const [splitting, setSplitting] = useState<BankLine | null>(null);
  const [result, setResult] = useState<{ text: string; outcomes: BookingOutcome[] } | null>(null);
  const name = (id: string) => accounts.find((candidate) => candidate.id === id)?.name ?? id;
  const items = lines.data ?? [];
  const chosen = items.filter((line) => selected.has(line.id));
  const options = categoryOptions(accounts, account.id);

  function run(work: { line: BankLine; splits: Split[] }[], categoryId: string | null) {
    setResult(null);
    book.mutate(
      { items: work, submissionId: crypto.randomUUID() },
      {
        onSuccess: (outcomes) => {
          setResult({ text: summary(outcomes, name, categoryId), outcomes });
          const done = new Set(outcomes.filter((outcome) => outcome.entry).map((outcome) => outcome.line.id));
          setSelected(new Set([...selected].filter((id) => !done.has(id))));
          if (splitting && done.has(splitting.id)) setSplitting(null);
        },
      },
    );
  }

  function toggle(id: string, on: boolean) {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  }

  const allSelected = items.length > 0 && chosen.length === items.length;
  return (
    <Card title={`To categorise — ${account.name}`}>
      <ErrorNotice error={lines.error ?? book.error} />
      {lines.isLoading ? (
        <Loading label="Loading bank lines" />
      ) : items.length === 0 ? (
        <Empty>Every bank line of {account.name} is categorised.</Empty>
      ) : (
        <>
          <form
            className="row bulk-bar"
            aria-label="Categorise the selected lines"
            onSubmit={(event) => {
              event.preventDefault();
              if (bulkCategory === '' || chosen.length === 0) return;
              run(
                chosen.map((line) => ({ line, splits: [{ accountId: bulkCategory, amountCents: line.amountCents }] })),
                bulkCategory,
              );
            }}
          >
            <span role="status" className="muted">
              {chosen.length} of {items.length} selected
            </span>
            <label>
              Category for the selected lines
              <select value={bulkCategory} onChange={(event) => setBulkCategory(event.target.value)}>
                <option value="">Choose a category</option>
                {options}
              </select>
            </label>
            <button type="submit" className="primary" disabled={chosen.length === 0 || bulkCategory === '' || book.isPending}>
              Categorise {chosen.length} selected
            </button>
          </form>
          <table className="bank-lines">
            <caption className="visually-hidden">Bank lines of {account.name} to categorise</caption>
            <thead>
              <tr>
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select every line"
                    checked={allSelected}
                    onChange={(event) => setSelected(event.target.checked ? new Set(items.map((line) => line.id)) : new Set())}
                  />
                </th>
                <th scope="col">Date</th>
                <th scope="col">Payee</th>
                <th scope="col" className="amount">
                  Amount
                </th>
                <th scope="col">Category</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((line) => {
                const label = lineLabel(line);
                const category = categoryOf[line.id] ?? '';
                return (
                  <tr key={line.id} aria-selected={selected.has(line.id)}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Select ${label}`}
                        checked={selected.has(line.id)}
                        onChange={(event) => toggle(line.id, event.target.checked)}
                      />
                    </td>
                    <td>{line.postedOn}</td>
                    <th scope="row">{line.payee ?? line.memo ?? '—'}</th>
                    <td className="amount">
                      <Money cents={line.amountCents} currency={account.currency} signed />
                    </td>
                    <td>
                      <select
                        aria-label={`Category for ${label}`}
                        value={category}
                        onChange={(event) => setCategoryOf({ ...categoryOf, [line.id]: event.target.value })}
                      >
                        <option value="">Choose a category</option>
                        {options}
                      </select>
                    </td>
                    <td className="row compact">
                      <button
                        type="button"
                        aria-label={`Book ${label}`}
                        disabled={category === '' || book.isPending}
                        onClick={() => run([{ line, splits: [{ accountId: category, amountCents: line.amountCents }] }], category)}
                      >
                        Book
                      </button>
                      <button
                        type="button"
                        aria-label={`Split ${label}`}
                        aria-expanded={splitting?.id === line.id}
                        onClick={() => setSplitting(splitting?.id === line.id ? null : line)}
                      >
                        Split
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
      {splitting ? (
        <SplitForm
          key={splitting.id}
          line={splitting}
          currency={account.currency}
          options={options}
          pending={book.isPending}
          onBook={(splits) => run([{ line: splitting, splits }], null)}
          onCancel={() => setSplitting(null)}
        />
      ) : null}
      {result ? (
        <div className={`notice ${result.outcomes.every((outcome) => outcome.entry) ? 'success' : 'error'}`} role="status">
          <p>{result.text} A booking is corrected by reversing its entry in the register.</p>
          {result.outcomes
            .filter((outcome) => outcome.error)
            .map((outcome) => (
              <p key={outcome.line.id}>
                {lineLabel(outcome.line)}: {outcome.error?.message} <code className="error-code">{outcome.error?.code}</code>
              </p>
            ))}
        </div>
      ) : null}
    </Card>
  );
}

interface SplitRow {
  accountId: string;
  amount: string;
}

/** Amounts are typed as positive figures of the line's own direction; the line's sign is applied when sent. */
export function SplitForm({
  line,
  currency,
  options,
  pending,
  onBook,
  onCancel,
}: {
  line: BankLine;
  currency: string;
  options: ReactNode;
  pending: boolean;
  onBook: (splits: Split[]) => void;
  onCancel: () => void;
}) {
  const magnitudeCents = Math.abs(line.amountCents);
  const sign = line.amountCents < 0 ? -1 : 1;
  const [rows, setRows] = useState<SplitRow[]>([
    { accountId: '', amount: '' },
    { accountId: '', amount: '' },
  ]);
  const parsed = rows.map((row) => (row.amount.trim() === '' ? 0 : parseCents(row.amount)));
  const invalid = parsed.some((cents) => cents === null || cents < 0);
  const assignedCents = invalid ? 0 : sumCents(parsed as number[]);
  const leftCents = magnitudeCents - assignedCents;
  const used = rows.filter((_, index) => (parsed[index] ?? 0) !== 0);
  const missingAccount = used.some((row) => row.accountId === '');
  const ready = !invalid && !missingAccount && leftCents === 0 && used.length >= 2;
  const label = lineLabel(line);

  function update(index: number, change: Partial<SplitRow>) {
    setRows(rows.map((row, position) => (position === index ? { ...row, ...change } : row)));
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!ready) return;
    onBook(rows.map((row, index) => ({ accountId: row.accountId, amountCents: sign * (parsed[index] as number) })).filter((split) => split.amountCents !== 0));
  }

  return (
    <form className="stack split-form" aria-label={`Split ${label}`} onSubmit={submit}>
      <h3>
        Split {label}: <Money cents={line.amountCents} currency={currency} signed />
      </h3>
      <table className="lines">
        <thead>
          <tr>
            <th scope="col">Category</th>
            <th scope="col">Amount</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={index}>
              <td>
                <select aria-label={`Split category ${index + 1}`} value={row.accountId} onChange={(event) => update(index, { accountId: event.target.value })}>
                  <option value="">Choose a category</option>
                  {options}
                </select>
              </td>
              <td>
                <input
                  aria-label={`Split amount ${index + 1}`}
                  inputMode="decimal"
                  value={row.amount}
                  onChange={(event) => update(index, { amount: event.target.value })}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <button type="button" onClick={() => setRows([...rows, { accountId: '', amount: '' }])} disabled={rows.length >= SPLIT_ROWS_MAX}>
          Add a category
        </button>
        <p className={`balance-check ${leftCents === 0 && !invalid ? 'ok' : 'off'}`} role="status">
          {invalid
            ? 'An amount is not a number of dollars and cents.'
            : leftCents === 0
              ? `Fully split: ${formatCents(magnitudeCents, currency)}`
              : leftCents > 0
                ? `Left to split: ${formatCents(leftCents, currency)}`
                : `Over by ${formatCents(-leftCents, currency)}`}
        </p>
      </div>
      <div className="row">
        <button type="submit" className="primary" disabled={!ready || pending}>
          Book split
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
