import type { Transaction } from 'kysely';
import type { Database, Db } from '../db/database';
import { RuleViolation } from '../domain/errors';
import { centsFromDb } from '../domain/money';
import { recordAudit } from './audit';
import type { Actor } from './context';

type Trx = Transaction<Database>;

// Reconciliation: what the bank says the balance was on a day (a statement's ledger/closing balance, or one the
// owner typed) against what the books say on that day, and against the bank lines themselves. A difference is
// reported with both figures; nothing is adjusted behind the owner's back.

export interface ReconciliationRow {
  assertionId: string;
  asOn: string;
  kind: string;
  importId: string | null;
  statedCents: number;
  /** The account's balance in the journal at the end of `asOn` (debit-positive, as the bank states an asset). */
  bookCents: number;
  differenceCents: number;
  /** Bank lines of the account up to `asOn` not yet booked or matched: usually what explains a difference. */
  unbookedLineCount: number;
  unbookedCents: number;
  reconciled: boolean;
}

export async function addBalanceAssertion(trx: Trx, accountId: string, input: { asOn: string; balanceCents: number }, actor: Actor) {
  const account = await trx.selectFrom('accounts').select(['id', 'entityId', 'class']).where('id', '=', accountId).executeTakeFirst();
  if (!account) throw new RuleViolation('not_found', 'no such account', { accountId });
  if (account.class !== 'asset' && account.class !== 'liability') {
    throw new RuleViolation('account_kind_mismatch', 'balance assertions belong to bank, card or loan accounts', { accountId });
  }
  const row = await trx
    .insertInto('balanceAssertions')
    .values({ entityId: account.entityId, accountId, asOn: input.asOn, balanceCents: input.balanceCents, kind: 'manual', importId: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  recordAudit(trx, actor, { action: 'balance_assertion.added', entityId: account.entityId, objectType: 'account', objectId: accountId, after: { id: row.id, ...input } });
  return row.id;
}

export async function reconcile(db: Db, accountId: string): Promise<{ accountId: string; rows: ReconciliationRow[] }> {
  const assertions = await db
    .selectFrom('balanceAssertions')
    .select(['id', 'asOn', 'kind', 'importId', 'balanceCents'])
    .where('accountId', '=', accountId)
    .where('kind', '!=', 'available')
    .orderBy('asOn', 'desc')
    .orderBy('createdAt', 'desc')
    .limit(200)
    .execute();
  const rows: ReconciliationRow[] = [];
  for (const assertion of assertions) {
    const book = await db
      .selectFrom('postings as p')
      .innerJoin('journalEntries as j', 'j.id', 'p.entryId')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<string>('p.amountCents'), eb.val('0')).as('total'))
      .where('p.accountId', '=', accountId)
      .where('j.postedOn', '<=', assertion.asOn)
      .executeTakeFirstOrThrow();
    const unbooked = await db
      .selectFrom('bankLines')
      .select((eb) => [eb.fn.countAll<string>().as('count'), eb.fn.coalesce(eb.fn.sum<string>('amountCents'), eb.val('0')).as('total')])
      .where('accountId', '=', accountId)
      .where('postedOn', '<=', assertion.asOn)
      .where('status', 'in', ['unmatched', 'review'])
      .where('pending', '=', false)
      .executeTakeFirstOrThrow();
    const statedCents = centsFromDb(assertion.balanceCents);
    const bookCents = centsFromDb(book.total);
    rows.push({
      assertionId: assertion.id,
      asOn: assertion.asOn,
      kind: assertion.kind,
      importId: assertion.importId,
      statedCents,
      bookCents,
      differenceCents: statedCents - bookCents,
      unbookedLineCount: Number(unbooked.count),
      unbookedCents: centsFromDb(unbooked.total),
      reconciled: statedCents === bookCents,
    });
  }
  return { accountId, rows };
}
