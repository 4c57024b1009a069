import type { Db } from '../db/database';
import { naturalBalanceCents, type AccountClass } from '../domain/accounts';
import { assert } from '../domain/errors';
import { accountView, type AccountView } from './accounts';
import { getEntity } from './entities';
import { windowSums } from './reports';

export interface EntityBalances {
  entityId: string;
  /** Null for current (maintained) balances; a date when summed from postings up to and including that day. */
  asOfOn: string | null;
  accounts: AccountView[];
  /** Sum of every account per currency. Double entry makes this zero; it is reported so anyone can check. */
  totalCentsByCurrency: Record<string, number>;
}

export async function entityBalances(db: Db, entityId: string, asOfOn?: string): Promise<EntityBalances> {
  await getEntity(db, entityId);
  const rows = await db.selectFrom('accounts').selectAll().where('entityId', '=', entityId).orderBy('class').orderBy('name').execute();
  let accounts = rows.map(accountView);
  if (asOfOn !== undefined) {
    const byAccount = await windowSums(db, entityId, { toOn: asOfOn });
    accounts = accounts.map((account) => {
      const balanceCents = byAccount.get(account.id) ?? 0;
      return { ...account, balanceCents, naturalBalanceCents: naturalBalanceCents(account.class as AccountClass, balanceCents) };
    });
  }
  const totalCentsByCurrency: Record<string, number> = {};
  for (const account of accounts) {
    totalCentsByCurrency[account.currency] = (totalCentsByCurrency[account.currency] ?? 0) + account.balanceCents;
  }
  for (const [currency, total] of Object.entries(totalCentsByCurrency)) {
    assert(total === 0, `entity ${entityId} does not sum to zero in ${currency}: ${total}`);
  }
  return { entityId, asOfOn: asOfOn ?? null, accounts, totalCentsByCurrency };
}
