import { useState } from 'react';
import { Card, Empty, ErrorNotice, Money, QueryState } from '../../../components/ui';
import type { Entity } from '../../../lib/types';
import { useApplyFix, useEntityAccounts, useVeilHealth, type Finding } from '../api/veil';

export function HealthCard({ entity, other }: { entity: Entity; other: Entity | undefined }) {
  const health = useVeilHealth(entity.id);
  return (
    <Card title="Veil health">
      <QueryState query={health} label="Checking the veil">
        {(data) => (
          <>
            <p className={`score ${data.score >= 90 ? 'good' : data.score >= 60 ? 'fair' : 'poor'}`}>
              Score <strong>{data.score}</strong>/100 <span className="muted small">({data.fromOn} to {data.toOn})</span>
            </p>
            <ul>
              {data.reasons.map((reason) => (
                <li key={reason}>{reason}</li>
              ))}
            </ul>
            {data.findings.length === 0 ? (
              <Empty>No findings.</Empty>
            ) : (
              <ul className="findings">
                {data.findings.map((finding, index) => (
                  <FindingItem key={`${finding.code}-${finding.entryId ?? finding.transferId ?? index}`} finding={finding} entity={entity} other={other} />
                ))}
              </ul>
            )}
          </>
        )}
      </QueryState>
    </Card>
  );
}

function FindingItem({ finding, entity, other }: { finding: Finding; entity: Entity; other: Entity | undefined }) {
  const apply = useApplyFix();
  const llc = entity.kind === 'llc' ? entity : other;
  const personal = entity.kind === 'personal' ? entity : other;
  const personalAccounts = useEntityAccounts(finding.fix?.kind === 'reclassify_as_draw' ? personal?.id : undefined);
  const llcAccounts = useEntityAccounts(finding.fix?.kind === 'create_reimbursement' ? llc?.id : undefined);
  const [accountId, setAccountId] = useState('');
  const [receipt, setReceipt] = useState('');
  const fix = finding.fix;
  return (
    <li className="finding">
      <p>
        <code>{finding.code}</code> {finding.message} <Money cents={finding.amountCents} currency={entity.currency} />
        {finding.overdue ? <span className="badge warn">overdue</span> : null}
      </p>
      {fix && finding.entryId && !apply.isSuccess ? (
        <form
          className="row"
          aria-label={`Fix ${finding.code}`}
          onSubmit={(event) => {
            event.preventDefault();
            if (!finding.entryId) return;
            apply.mutate(
              fix.kind === 'reclassify_as_draw'
                ? { fix: 'reclassify_as_draw', entryId: finding.entryId, personalAccountId: accountId }
                : { fix: 'create_reimbursement', entryId: finding.entryId, llcExpenseAccountId: accountId, receiptReference: receipt.trim() },
            );
          }}
        >
          <label>
            {fix.kind === 'reclassify_as_draw' ? "Owner's account the draw lands on" : 'LLC expense account'}
            <select required value={accountId} onChange={(event) => setAccountId(event.target.value)}>
              <option value="">Choose</option>
              {(fix.kind === 'reclassify_as_draw' ? personalAccounts.data : llcAccounts.data)
                ?.filter((account) => (fix.kind === 'create_reimbursement' ? account.class === 'expense' : account.counterpartyEntityId === null))
                .map((account) => (
                  <option key={account.id} value={account.id}>
                    {account.name}
                  </option>
                ))}
            </select>
          </label>
          {fix.kind === 'create_reimbursement' ? (
            <label>
              Receipt reference
              <input required value={receipt} onChange={(event) => setReceipt(event.target.value)} />
            </label>
          ) : null}
          <button type="submit" disabled={apply.isPending}>
            {fix.kind === 'reclassify_as_draw' ? 'Reclassify as a draw' : 'Document as a reimbursement'}
          </button>
        </form>
      ) : null}
      {apply.isSuccess ? <p className="notice success">Fixed: the entry was reversed and booked as a documented transfer.</p> : null}
      <ErrorNotice error={apply.error} />
    </li>
  );
}
