import { useState } from 'react';
import { Card, Money, NeedsEntity, PageHeader, QueryState } from '../../../components/ui';
import { useEntity } from '../../../lib/entity-context';
import type { AccountClass } from '../../../lib/types';
import { useAccounts } from '../api/accounts';
import { BankLines } from './BankLines';
import { NewEntryForm } from './NewEntryForm';
import { Register } from './Register';

// Accounts a bank or card issuer reports lines for (statements, Plaid).
const BANK_KINDS = new Set(['checking', 'savings', 'money_market', 'cash', 'credit_card']);

const CLASS_TITLES: Record<AccountClass, string> = {
  asset: 'Assets',
  liability: 'Liabilities',
  equity: 'Equity',
  income: 'Income',
  expense: 'Expenses',
};

export function AccountsPage() {
  const entity = useEntity();
  const [accountId, setAccountId] = useState<string | undefined>(undefined);
  if (!entity) return <NeedsEntity what="Accounts and registers" />;
  return <EntityAccounts key={entity.id} entityId={entity.id} currency={entity.currency} accountId={accountId} onAccount={setAccountId} />;
}

function EntityAccounts({
  entityId,
  currency,
  accountId,
  onAccount,
}: {
  entityId: string;
  currency: string;
  accountId: string | undefined;
  onAccount: (id: string | undefined) => void;
}) {
  const accounts = useAccounts(entityId);
  return (
    <>
      <PageHeader title="Accounts and register" />
      <QueryState query={accounts} label="Loading accounts">
        {(items) => {
          const selected = items.find((account) => account.id === accountId);
          return (
            <div className="accounts-layout">
              <Card title="Balances" className="balances">
                {(Object.keys(CLASS_TITLES) as AccountClass[]).map((accountClass) => {
                  const rows = items.filter((account) => account.class === accountClass);
                  if (rows.length === 0) return null;
                  return (
                    <table key={accountClass} className="balances-table">
                      <caption>{CLASS_TITLES[accountClass]}</caption>
                      <tbody>
                        {rows.map((account) => (
                          <tr key={account.id} aria-current={account.id === accountId ? 'true' : undefined}>
                            <th scope="row">
                              <button type="button" className="link" onClick={() => onAccount(account.id === accountId ? undefined : account.id)}>
                                {account.name}
                              </button>
                            </th>
                            <td className="amount" data-testid={`balance-${account.name}`}>
                              <Money cents={account.naturalBalanceCents} currency={account.currency} />
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  );
                })}
              </Card>
              <div className="stack">
                <NewEntryForm entityId={entityId} accounts={items} />
                {selected && BANK_KINDS.has(selected.kind) ? <BankLines key={selected.id} account={selected} accounts={items} /> : null}
                <Register entityId={entityId} accounts={items} currency={currency} accountId={accountId} onAccount={onAccount} />
              </div>
            </div>
          );
        }}
      </QueryState>
    </>
  );
}
