import { useState, type FormEvent } from 'react';
import { Card, ErrorNotice } from '../../../components/ui';
import { todayOn } from '../../../lib/dates';
import { formatCents, parseCents } from '../../../lib/money';
import type { Account } from '../../../lib/types';
import { useBookEntry } from '../api/accounts';

interface Line {
  accountId: string;
  debit: string;
  credit: string;
}

const EMPTY_LINE: Line = { accountId: '', debit: '', credit: '' };
const LINES_MAX = 20;

/** Debits and credits per line; the entry can be sent only when they balance. A split is more than two lines. */
export function NewEntryForm({ entityId, accounts }: { entityId: string; accounts: Account[] }) {
  const book = useBookEntry(entityId);
  const [postedOn, setPostedOn] = useState(todayOn());
  const [description, setDescription] = useState('');
  const [lines, setLines] = useState<Line[]>([{ ...EMPTY_LINE }, { ...EMPTY_LINE }]);
  // One key per submission: a double click or a retry after a timeout books once.
  const [idempotencyKey, setIdempotencyKey] = useState(() => crypto.randomUUID());
  const [booked, setBooked] = useState<string | null>(null);
  const open = accounts.filter((account) => account.archivedAt === null);
  const currency = accounts[0]?.currency ?? 'USD';

  const parsed = lines.map((line) => {
    const debit = line.debit.trim() === '' ? 0 : parseCents(line.debit);
    const credit = line.credit.trim() === '' ? 0 : parseCents(line.credit);
    return { accountId: line.accountId, debit, credit };
  });
  const invalidAmount = parsed.some((line) => line.debit === null || line.credit === null || (line.debit ?? 0) < 0 || (line.credit ?? 0) < 0);
  const postings = parsed
    .map((line) => ({ accountId: line.accountId, amountCents: (line.debit ?? 0) - (line.credit ?? 0) }))
    .filter((posting) => posting.amountCents !== 0);
  const debitCents = postings.filter((posting) => posting.amountCents > 0).reduce((sum, posting) => sum + posting.amountCents, 0);
  const creditCents = -postings.filter((posting) => posting.amountCents < 0).reduce((sum, posting) => sum + posting.amountCents, 0);
  const differenceCents = debitCents - creditCents;
  const missingAccount = postings.some((posting) => posting.accountId === '');
  const ready = !invalidAmount && !missingAccount && postings.length >= 2 && differenceCents === 0 && description.trim() !== '';

  function update(index: number, change: Partial<Line>) {
    setLines(lines.map((line, position) => (position === index ? { ...line, ...change } : line)));
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!ready) return;
    book.mutate(
      { entry: { postedOn, description: description.trim(), postings }, idempotencyKey },
      {
        onSuccess: (entry) => {
          setBooked(`Booked “${entry.description}” on ${entry.postedOn}.`);
          setDescription('');
          setLines([{ ...EMPTY_LINE }, { ...EMPTY_LINE }]);
          setIdempotencyKey(crypto.randomUUID());
        },
      },
    );
  }

  return (
    <Card title="New entry">
      <form onSubmit={submit} className="stack" aria-label="New entry">
        <div className="row">
          <label>
            Date
            <input type="date" required value={postedOn} onChange={(event) => setPostedOn(event.target.value)} />
          </label>
          <label className="grow">
            Description
            <input required maxLength={500} value={description} onChange={(event) => setDescription(event.target.value)} />
          </label>
        </div>
        <table className="lines">
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">Debit</th>
              <th scope="col">Credit</th>
            </tr>
          </thead>
          <tbody>
            {lines.map((line, index) => (
              <tr key={index}>
                <td>
                  <select aria-label={`Account, line ${index + 1}`} value={line.accountId} onChange={(event) => update(index, { accountId: event.target.value })}>
                    <option value="">Choose an account</option>
                    {open.map((account) => (
                      <option key={account.id} value={account.id}>
                        {account.code ? `${account.code} ` : ''}
                        {account.name}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  <input aria-label={`Debit, line ${index + 1}`} inputMode="decimal" value={line.debit} onChange={(event) => update(index, { debit: event.target.value })} />
                </td>
                <td>
                  <input aria-label={`Credit, line ${index + 1}`} inputMode="decimal" value={line.credit} onChange={(event) => update(index, { credit: event.target.value })} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="row">
          <button type="button" onClick={() => setLines([...lines, { ...EMPTY_LINE }])} disabled={lines.length >= LINES_MAX}>
            Add line (split)
          </button>
          <p className={`balance-check ${differenceCents === 0 ? 'ok' : 'off'}`} role="status">
            {invalidAmount
              ? 'An amount is not a number of dollars and cents.'
              : differenceCents === 0
                ? `Balanced: ${formatCents(debitCents, currency)}`
                : `Out of balance by ${formatCents(differenceCents, currency, { signed: true })}`}
          </p>
          <button type="submit" className="primary" disabled={!ready || book.isPending}>
            Book entry
          </button>
        </div>
        <ErrorNotice error={book.error} />
        {booked && !book.error ? (
          <p className="notice success" role="status">
            {booked}
          </p>
        ) : null}
      </form>
    </Card>
  );
}
