import type { Transaction } from 'kysely';
import type { Database, Db } from '../db/database';
import { categoryNamesFor } from '../domain/plaid';
import type { BankLine } from './bank-lines';
import type { Categorisation } from './bank-booking';

// THE decision of where a synced bank line goes. Today: Plaid's personal-finance category, through the data table
// in domain/plaid.ts, to a category account of the line's entity with a matching name. Null means "no idea":
// the line stays unmatched for review. The categorisation rules engine replaces the body of this one function.

export type Categoriser = (trx: Transaction<Database>, line: BankLine, raw: unknown) => Promise<Categorisation | null>;

export async function createCategoriser(db: Db, entityId: string): Promise<Categoriser> {
  const rows = await db
    .selectFrom('accounts')
    .select(['id', 'name'])
    .where('entityId', '=', entityId)
    .where('kind', 'in', ['income_category', 'expense_category'])
    .where('archivedAt', 'is', null)
    .execute();
  const byName = new Map(rows.map((row) => [row.name.toLowerCase(), row.id]));
  return async (_trx, line, raw) => {
    const category = (raw as { personal_finance_category?: { primary: string; detailed: string } | null } | undefined)?.personal_finance_category;
    for (const name of categoryNamesFor(category)) {
      const accountId = byName.get(name.toLowerCase());
      if (accountId !== undefined) return { splits: [{ accountId, amountCents: line.amountCents }], description: line.payee ?? line.memo ?? 'Bank line' };
    }
    return null;
  };
}
