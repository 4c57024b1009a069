import type { Selectable } from 'kysely';
import type { Transaction } from 'kysely';
import type { AccountsTable, Database, Db } from '../db/database';
import { authorizeEntity } from '../security/authorization';
import { recordAudit } from './audit';
import type { Actor } from './context';
import {
  classOfKind,
  INTER_ENTITY_KINDS,
  naturalBalanceCents,
  type AccountClass,
  type AccountKind,
} from '../domain/accounts';
import { NotFound, RuleViolation } from '../domain/errors';
import { centsFromDb } from '../domain/money';
import { translateDbError } from './db-errors';
import { getEntity } from './entities';

export interface AccountView {
  id: string;
  entityId: string;
  name: string;
  code: string | null;
  class: AccountClass;
  kind: AccountKind;
  currency: string;
  counterpartyEntityId: string | null;
  /** Sum of postings, debit-positive. */
  balanceCents: number;
  /** The balance as people read it: credit-normal accounts (cards, loans, equity, income) shown positive. */
  naturalBalanceCents: number;
  archivedAt: string | null;
  createdAt: string;
}

export interface NewAccount {
  name: string;
  code?: string | undefined;
  kind: AccountKind;
  /** Optional: derived from the kind; when given it must agree. */
  class?: AccountClass | undefined;
  currency?: string | undefined;
  counterpartyEntityId?: string | undefined;
}

export function accountView(row: Selectable<AccountsTable>): AccountView {
  const balanceCents = centsFromDb(row.balanceCents);
  const accountClass = row.class as AccountClass;
  return {
    id: row.id,
    entityId: row.entityId,
    name: row.name,
    code: row.code,
    class: accountClass,
    kind: row.kind as AccountKind,
    currency: row.currency,
    counterpartyEntityId: row.counterpartyEntityId,
    balanceCents,
    naturalBalanceCents: naturalBalanceCents(accountClass, balanceCents),
    archivedAt: row.archivedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

export async function createAccount(
  db: Transaction<Database>,
  entityId: string,
  input: NewAccount,
  actor: Actor,
): Promise<AccountView> {
  const entity = await getEntity(db, entityId);
  const accountClass = classOfKind(input.kind);
  if (input.class !== undefined && input.class !== accountClass) {
    throw new RuleViolation(
      'account_kind_mismatch',
      `an account of kind ${input.kind} is of class ${accountClass}, not ${input.class}`,
    );
  }
  if (INTER_ENTITY_KINDS.has(input.kind) !== (input.counterpartyEntityId !== undefined)) {
    throw new RuleViolation(
      'account_kind_mismatch',
      INTER_ENTITY_KINDS.has(input.kind)
        ? `an account of kind ${input.kind} needs counterpartyEntityId: the entity on the other side`
        : `only inter-entity kinds take a counterpartyEntityId`,
    );
  }
  if (input.counterpartyEntityId !== undefined) {
    if (input.counterpartyEntityId === entityId) {
      throw new RuleViolation('account_kind_mismatch', 'an inter-entity account cannot point at its own entity');
    }
    // The other side must be books this actor can see: naming someone else's entity is answered like a typo.
    await authorizeEntity(db, actor, input.counterpartyEntityId, 'read');
  }
  try {
    const row = await db
      .insertInto('accounts')
      .values({
        entityId,
        name: input.name,
        code: input.code ?? null,
        class: accountClass,
        kind: input.kind,
        currency: input.currency ?? entity.currency,
        counterpartyEntityId: input.counterpartyEntityId ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const created = accountView(row);
    recordAudit(db, actor, { action: 'account.created', entityId, objectType: 'account', objectId: created.id, after: created });
    return created;
  } catch (error) {
    throw translateDbError(error);
  }
}

export async function listAccounts(
  db: Db,
  entityId: string,
  options: { includeArchived?: boolean } = {},
): Promise<AccountView[]> {
  await getEntity(db, entityId);
  let query = db.selectFrom('accounts').selectAll().where('entityId', '=', entityId);
  if (!options.includeArchived) query = query.where('archivedAt', 'is', null);
  const rows = await query.orderBy('class').orderBy('name').execute();
  return rows.map(accountView);
}

export async function getAccount(db: Db, accountId: string): Promise<AccountView> {
  const row = await db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirst();
  if (row === undefined) throw new NotFound('account', accountId);
  return accountView(row);
}

export interface AccountChanges {
  name?: string | undefined;
  code?: string | null | undefined;
  archived?: boolean | undefined;
}

/** Renames or archives an account. Balance, entity, class and currency never change (the database refuses). */
export async function updateAccount(
  db: Transaction<Database>,
  accountId: string,
  changes: AccountChanges,
  actor: Actor,
): Promise<AccountView> {
  const current = await getAccount(db, accountId);
  if (changes.name === undefined && changes.code === undefined && changes.archived === undefined) return current;
  if (changes.archived === true && current.balanceCents !== 0) {
    throw new RuleViolation(
      'account_archived',
      `account ${accountId} still holds ${current.balanceCents} cents; move the balance before archiving it`,
    );
  }
  try {
    const row = await db
      .updateTable('accounts')
      .set({
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.code !== undefined ? { code: changes.code } : {}),
        ...(changes.archived !== undefined ? { archivedAt: changes.archived ? new Date() : null } : {}),
      })
      .where('id', '=', accountId)
      .returningAll()
      .executeTakeFirstOrThrow();
    const updated = accountView(row);
    recordAudit(db, actor, {
      action: 'account.updated',
      entityId: updated.entityId,
      objectType: 'account',
      objectId: accountId,
      before: current,
      after: updated,
    });
    return updated;
  } catch (error) {
    throw translateDbError(error);
  }
}
