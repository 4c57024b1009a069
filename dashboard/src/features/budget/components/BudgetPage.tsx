import { useState, type FormEvent } from 'react';
import { Card, ErrorNotice, Money, NeedsEntity, PageHeader, QueryState } from '../../../components/ui';
import { monthOf, shiftMonth, todayOn } from '../../../lib/dates';
import { useEntity } from '../../../lib/entity-context';
import { parseCents } from '../../../lib/money';
import type { Entity } from '../../../lib/types';
import { useAssign, useBudgetMonth, useMoveMoney, type Envelope } from '../api/budget';

export function BudgetPage() {
  const entity = useEntity();
  if (!entity) return <NeedsEntity what="Budgets" />;
  return <EntityBudget key={entity.id} entity={entity} />;
}

function EntityBudget({ entity }: { entity: Entity }) {
  const [month, setMonth] = useState(monthOf(todayOn()));
  const budget = useBudgetMonth(entity.id, month);
  const assign = useAssign(entity.id, month);
  const move = useMoveMoney(entity.id, month);
  const currency = entity.currency;
  return (
    <>
      <PageHeader title="Budget">
        <button type="button" aria-label="Previous month" onClick={() => setMonth(shiftMonth(month, -1))}>
          ←
        </button>
        <span aria-live="polite">{month}</span>
        <button type="button" aria-label="Next month" onClick={() => setMonth(shiftMonth(month, 1))}>
          →
        </button>
      </PageHeader>
      <QueryState query={budget} label="Loading the budget">
        {(data) => {
          const envelopes = data.groups.flatMap((group) => group.envelopes);
          return (
            <>
              <p className={`banner ${data.readyToAssignCents === 0 ? 'ok' : data.readyToAssignCents < 0 ? 'over' : 'todo'}`} role="status">
                Ready to Assign: <Money cents={data.readyToAssignCents} currency={currency} />
                {data.readyToAssignCents === 0 ? ' — every dollar has a job' : ''}
              </p>
              {data.groups.map((group) => (
                <Card key={group.id} title={group.name}>
                  <table className="budget">
                    <thead>
                      <tr>
                        <th scope="col">Envelope</th>
                        <th scope="col" className="amount">
                          Assigned
                        </th>
                        <th scope="col" className="amount">
                          Activity
                        </th>
                        <th scope="col" className="amount">
                          Available
                        </th>
                        <th scope="col">Assign more</th>
                      </tr>
                    </thead>
                    <tbody>
                      {group.envelopes.map((envelope) => (
                        <EnvelopeRow key={envelope.id} envelope={envelope} currency={currency} onAssign={(amountCents) => assign.mutate({ envelopeId: envelope.id, amountCents })} />
                      ))}
                    </tbody>
                  </table>
                </Card>
              ))}
              <MoveMoney envelopes={envelopes} onMove={(input) => move.mutate(input)} />
              <ErrorNotice error={assign.error ?? move.error} />
            </>
          );
        }}
      </QueryState>
    </>
  );
}

function EnvelopeRow({ envelope, currency, onAssign }: { envelope: Envelope; currency: string; onAssign: (amountCents: number) => void }) {
  const [amount, setAmount] = useState('');
  const cents = parseCents(amount);
  return (
    <tr>
      <th scope="row">
        {envelope.name}
        {envelope.underfundedCents > 0 ? (
          <span className="badge warn">
            needs <Money cents={envelope.underfundedCents} currency={currency} />
          </span>
        ) : null}
      </th>
      <td className="amount">
        <Money cents={envelope.assignedCents} currency={currency} />
      </td>
      <td className="amount">
        <Money cents={envelope.activityCents} currency={currency} />
      </td>
      <td className="amount">
        <Money cents={envelope.availableCents} currency={currency} />
      </td>
      <td>
        <form
          className="row compact"
          onSubmit={(event) => {
            event.preventDefault();
            if (cents !== null && cents !== 0) {
              onAssign(cents);
              setAmount('');
            }
          }}
        >
          <input
            aria-label={`Amount to assign to ${envelope.name}`}
            aria-keyshortcuts="ArrowUp ArrowDown Escape"
            data-assign-input=""
            inputMode="decimal"
            value={amount}
            onChange={(event) => setAmount(event.target.value)}
            onKeyDown={(event) => {
              // Spreadsheet keys: up and down go to the envelope above or below, Escape drops what was typed.
              if (event.key === 'Escape') setAmount('');
              const step = event.key === 'ArrowDown' ? 1 : event.key === 'ArrowUp' ? -1 : 0;
              if (step === 0) return;
              const inputs = [...document.querySelectorAll<HTMLInputElement>('input[data-assign-input]')];
              const next = inputs[inputs.indexOf(event.currentTarget) + step];
              if (next) {
                event.preventDefault();
                next.focus();
              }
            }}
            size={8}
          />
          <button type="submit" aria-label={`Assign to ${envelope.name}`} disabled={cents === null || cents === 0}>
            Assign
          </button>
        </form>
      </td>
    </tr>
  );
}

function MoveMoney({ envelopes, onMove }: { envelopes: Envelope[]; onMove: (input: { fromEnvelopeId: string; toEnvelopeId: string; amountCents: number }) => void }) {
  const [fromEnvelopeId, setFrom] = useState('');
  const [toEnvelopeId, setTo] = useState('');
  const [amount, setAmount] = useState('');
  const cents = parseCents(amount);
  function submit(event: FormEvent) {
    event.preventDefault();
    if (cents !== null && cents > 0) onMove({ fromEnvelopeId, toEnvelopeId, amountCents: cents });
  }
  return (
    <Card title="Move money">
      <form className="row" onSubmit={submit} aria-label="Move money between envelopes">
        <label>
          From envelope
          <select required value={fromEnvelopeId} onChange={(event) => setFrom(event.target.value)}>
            <option value="">Choose</option>
            {envelopes.map((envelope) => (
              <option key={envelope.id} value={envelope.id}>
                {envelope.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          To envelope
          <select required value={toEnvelopeId} onChange={(event) => setTo(event.target.value)}>
            <option value="">Choose</option>
            {envelopes.map((envelope) => (
              <option key={envelope.id} value={envelope.id}>
                {envelope.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Amount
          <input required inputMode="decimal" value={amount} onChange={(event) => setAmount(event.target.value)} />
        </label>
        <button type="submit" disabled={cents === null || cents <= 0 || fromEnvelopeId === toEnvelopeId}>
          Move
        </button>
      </form>
    </Card>
  );
}
