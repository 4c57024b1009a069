import { useState, type FormEvent } from 'react';
import { Card, ErrorNotice, Money } from '../../../components/ui';
import { useAuth } from '../../../lib/auth-context';
import { todayOn } from '../../../lib/dates';
import { parseCents } from '../../../lib/money';
import type { Account, Entity } from '../../../lib/types';
import { CLASSIFICATIONS, useCreateTransfer, useEntityAccounts, useTransfers, type Classification, type NewTransfer } from '../api/veil';

const DEFAULT_FROM: Record<Classification, 'llc' | 'personal'> = {
  capital_contribution: 'personal',
  owner_draw: 'llc',
  loan: 'personal',
  loan_repayment: 'llc',
  reimbursement: 'personal',
  reimbursement_payment: 'llc',
};

const usable = (accounts: Account[] | undefined) =>
  (accounts ?? []).filter((account) => account.archivedAt === null && account.counterpartyEntityId === null && account.class !== 'equity');

/** A classified crossing between the LLC and its owner: booked in both books at once, with its document. */
export function NewTransferForm({ entity, other }: { entity: Entity; other: Entity }) {
  const { me } = useAuth();
  const create = useCreateTransfer();
  const llc = entity.kind === 'llc' ? entity : other;
  const personal = entity.kind === 'llc' ? other : entity;
  const [classification, setClassification] = useState<Classification>('owner_draw');
  const [fromKind, setFromKind] = useState<'llc' | 'personal'>('llc');
  const [fromAccountId, setFromAccountId] = useState('');
  const [toAccountId, setToAccountId] = useState('');
  const [amount, setAmount] = useState('');
  const [postedOn, setPostedOn] = useState(todayOn());
  const [memo, setMemo] = useState('');
  const [rate, setRate] = useState('5.00');
  const [termMonths, setTermMonths] = useState('12');
  const [frequency, setFrequency] = useState('monthly');
  const [relatedTransferId, setRelatedTransferId] = useState('');
  const [businessPurpose, setBusinessPurpose] = useState('');
  const [receiptReference, setReceiptReference] = useState('');
  const [expenseOn, setExpenseOn] = useState(todayOn());
  const [idempotencyKey, setIdempotencyKey] = useState(() => crypto.randomUUID());
  const from = fromKind === 'llc' ? llc : personal;
  const to = fromKind === 'llc' ? personal : llc;
  const fromAccounts = useEntityAccounts(from.id);
  const toAccounts = useEntityAccounts(to.id);
  const relatedKind = classification === 'loan_repayment' ? 'loan' : classification === 'reimbursement_payment' ? 'reimbursement' : undefined;
  const related = useTransfers(llc.id, undefined, relatedKind);
  const amountCents = parseCents(amount);
  const rateBasisPoints = parseCents(rate);

  function choose(next: Classification) {
    setClassification(next);
    setFromKind(DEFAULT_FROM[next]);
    setFromAccountId('');
    setToAccountId('');
    setRelatedTransferId('');
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (amountCents === null || amountCents <= 0) return;
    const transfer: NewTransfer = {
      classification,
      fromEntityId: from.id,
      fromAccountId,
      toEntityId: to.id,
      toAccountId,
      amountCents,
      postedOn,
      ...(memo.trim() ? { memo: memo.trim() } : {}),
      ...(classification === 'loan' && rateBasisPoints !== null
        ? { loan: { annualRateBasisPoints: rateBasisPoints, termMonths: Number(termMonths), paymentFrequency: frequency } }
        : {}),
      ...(relatedKind && relatedTransferId ? { relatedTransferId } : {}),
      ...(classification === 'reimbursement' ? { reimbursement: { businessPurpose: businessPurpose.trim(), receiptReference: receiptReference.trim(), expenseOn } } : {}),
    };
    create.mutate({ transfer, idempotencyKey }, { onSuccess: () => setIdempotencyKey(crypto.randomUUID()) });
  }

  return (
    <Card title="New transfer">
      {me && !me.actor.mfa ? (
        <p className="notice info" role="note">
          Moving money between the books needs a session that passed two-step verification. Set it up under Security and sign in again with a code.
        </p>
      ) : null}
      <form onSubmit={submit} className="stack" aria-label="New transfer">
        <div className="row">
          <label>
            Classification
            <select value={classification} onChange={(event) => choose(event.target.value as Classification)}>
              {CLASSIFICATIONS.map((item) => (
                <option key={item.value} value={item.value}>
                  {item.label}
                </option>
              ))}
            </select>
          </label>
          <fieldset className="inline-group">
            <legend>Direction</legend>
            <label className="inline">
              <input type="radio" name="direction" checked={fromKind === 'llc'} onChange={() => setFromKind('llc')} /> LLC → owner
            </label>
            <label className="inline">
              <input type="radio" name="direction" checked={fromKind === 'personal'} onChange={() => setFromKind('personal')} /> Owner → LLC
            </label>
          </fieldset>
        </div>
        <div className="row">
          <label>
            From account ({from.name})
            <select required value={fromAccountId} onChange={(event) => setFromAccountId(event.target.value)}>
              <option value="">Choose an account</option>
              {usable(fromAccounts.data).map((account) => (
                <option key={account.id} value={account.id}>
                  {account.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            To account ({to.name})
            <select required value={toAccountId} onChange={(event) => setToAccountId(event.target.value)}>
              <option value="">Choose an account</option>
              {usable(toAccounts.data).map((account) => (
                <option key={account.id} value={account.id}>
                  {account.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Amount
            <input required inputMode="decimal" value={amount} onChange={(event) => setAmount(event.target.value)} aria-invalid={amount !== '' && (amountCents === null || amountCents <= 0)} />
          </label>
          <label>
            Date
            <input type="date" required value={postedOn} onChange={(event) => setPostedOn(event.target.value)} />
          </label>
        </div>
        <label>
          Memo
          <input maxLength={500} value={memo} onChange={(event) => setMemo(event.target.value)} />
        </label>
        {classification === 'loan' ? (
          <div className="row">
            <label>
              Annual rate (%)
              <input inputMode="decimal" required value={rate} onChange={(event) => setRate(event.target.value)} />
            </label>
            <label>
              Term (months)
              <input type="number" min={1} max={480} required value={termMonths} onChange={(event) => setTermMonths(event.target.value)} />
            </label>
            <label>
              Payments
              <select value={frequency} onChange={(event) => setFrequency(event.target.value)}>
                <option value="monthly">monthly</option>
                <option value="quarterly">quarterly</option>
                <option value="annually">annually</option>
                <option value="at_maturity">at maturity</option>
              </select>
            </label>
          </div>
        ) : null}
        {relatedKind ? (
          <label>
            {relatedKind === 'loan' ? 'Loan being repaid' : 'Reimbursement being paid'}
            <select required value={relatedTransferId} onChange={(event) => setRelatedTransferId(event.target.value)}>
              <option value="">Choose</option>
              {(related.data ?? []).map((transfer) => (
                <option key={transfer.id} value={transfer.id}>
                  {transfer.postedOn} {transfer.memo ?? ''}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        {classification === 'reimbursement' ? (
          <div className="row">
            <label className="grow">
              Business purpose
              <input required value={businessPurpose} onChange={(event) => setBusinessPurpose(event.target.value)} />
            </label>
            <label>
              Receipt (file name or URL)
              <input required value={receiptReference} onChange={(event) => setReceiptReference(event.target.value)} />
            </label>
            <label>
              Expense date
              <input type="date" required value={expenseOn} onChange={(event) => setExpenseOn(event.target.value)} />
            </label>
          </div>
        ) : null}
        <button type="submit" className="primary" disabled={create.isPending || amountCents === null || amountCents <= 0}>
          Record transfer
        </button>
        <ErrorNotice error={create.error} />
        {create.data ? (
          <div className="notice success" role="status">
            Recorded {create.data.classification.replace(/_/g, ' ')} of <Money cents={create.data.amountCents} currency={create.data.currency} />
            {create.data.document ? ` with “${create.data.document.title}”` : ''}.
            {create.data.warnings.map((warning) => (
              <p key={warning.code} className="warn">
                {warning.message}
              </p>
            ))}
          </div>
        ) : null}
      </form>
    </Card>
  );
}
