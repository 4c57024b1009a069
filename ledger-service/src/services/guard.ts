import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { AccountClass, AccountKind } from '../domain/accounts';
import type { AfrRow } from '../domain/afr';
import { NotFound } from '../domain/errors';
import { evaluateGuard, type GuardAccount, type GuardVerdict } from '../domain/guard';
import { centsFromDb } from '../domain/money';
import { warningBasis, type Classification } from '../domain/veil';
import { getVeilPolicy } from './veil';

export interface ProposedMovement {
  sourceAccountId: string;
  targetAccountId?: string | undefined;
  amountCents: number;
  payee?: string | undefined;
  category?: string | undefined;
  memo?: string | undefined;
  classification?: Classification | undefined;
  loan?: { annualRateBasisPoints: number; termMonths: number } | undefined;
  postedOn?: string | undefined;
}

export interface BankLine {
  /** The account the bank reported the line on. */
  accountId: string;
  /** Signed as the bank reports it: negative is money leaving the account. */
  amountCents: number;
  payee?: string | undefined;
  category?: string | undefined;
  memo?: string | undefined;
  postedOn?: string | undefined;
}

export type GuardRequest = { movement: ProposedMovement; bankLine?: undefined } | { bankLine: BankLine; movement?: undefined };

/** A bank line is a movement whose other side is the outside world; an inflow is judged from the receiving side. */
export function movementOfBankLine(line: BankLine): ProposedMovement {
  return {
    sourceAccountId: line.accountId,
    amountCents: Math.abs(line.amountCents),
    payee: line.payee,
    category: line.category,
    memo: line.memo,
    postedOn: line.postedOn,
  };
}

export async function guardAccount(db: Db, accountId: string): Promise<GuardAccount> {
  const row = await db
    .selectFrom('accounts as a')
    .innerJoin('entities as e', 'e.id', 'a.entityId')
    .select(['a.id', 'a.entityId', 'a.name', 'a.kind', 'a.class', 'e.kind as entityKind', 'e.name as entityName', 'e.taxProfile'])
    .where('a.id', '=', accountId)
    .executeTakeFirst();
  if (row === undefined) throw new NotFound('account', accountId);
  return {
    id: row.id,
    entityId: row.entityId,
    entityKind: row.entityKind,
    entityName: row.entityName,
    name: row.name,
    kind: row.kind as AccountKind,
    class: row.class as AccountClass,
    taxProfile: row.taxProfile,
  };
}

/** The accounts a request names: the handler authorizes their entities before evaluating. */
export async function guardAccounts(db: Db, movement: ProposedMovement): Promise<{ source: GuardAccount; target: GuardAccount | undefined }> {
  const source = await guardAccount(db, movement.sourceAccountId);
  const target = movement.targetAccountId === undefined ? undefined : await guardAccount(db, movement.targetAccountId);
  return { source, target };
}

async function drawFacts(db: Db, source: GuardAccount) {
  const account = await db.selectFrom('accounts').select(['balanceCents', 'currency']).where('id', '=', source.id).executeTakeFirstOrThrow();
  const equity = await db
    .selectFrom('accounts')
    .select(sql<string>`coalesce(sum(balance_cents), 0)`.as('total'))
    .where('entityId', '=', source.entityId)
    .where('currency', '=', account.currency)
    .where('class', 'in', ['asset', 'liability'])
    .executeTakeFirstOrThrow();
  return { cashBalanceCents: centsFromDb(account.balanceCents), equityCents: centsFromDb(equity.total) };
}

/** Evaluates one movement. The same function serves the API, the n8n Entity Guard node and veil health. */
export async function evaluateMovement(
  db: Db,
  movement: ProposedMovement,
  accounts: { source: GuardAccount; target: GuardAccount | undefined },
  afrRows: readonly AfrRow[],
  today: string,
): Promise<GuardVerdict> {
  const { source, target } = accounts;
  const llc = [source, target].find((account) => account?.entityKind === 'llc');
  return evaluateGuard({
    source,
    target,
    amountCents: movement.amountCents,
    payee: movement.payee,
    category: movement.category,
    memo: movement.memo,
    classification: movement.classification,
    loan: movement.loan,
    postedOn: movement.postedOn ?? today,
    policy: await getVeilPolicy(db, source.entityId),
    llcTaxBasis: warningBasis(llc?.taxProfile ?? 'disregarded'),
    afrRows,
    drawFacts: movement.classification === 'owner_draw' && source.entityKind === 'llc' ? await drawFacts(db, source) : undefined,
  });
}
