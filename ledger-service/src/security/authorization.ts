import type { Db } from '../db/database';
import { NotFound, RuleViolation } from '../domain/errors';
import type { Actor, Scope } from '../services/context';

// THE authorization rules, in one place.
//
// 1. Visibility: an actor sees an entity when the entity's owner is the actor's user and, for an API token, the
//    entity is in the token's entity list. Anything else is answered exactly like a row that does not exist
//    (404 not_found): the caller learns nothing about other users' books, not even that they exist.
// 2. Scope, checked only on visible entities (403 forbidden): `read` to look, `write` to change the books
//    (entities, accounts, entries, reversals), `move_money` for anything that moves real money or crosses the
//    veil (inter-entity transfers, bill payments, bank transfers). A user session holds all three scopes.
// 3. MFA: `move_money` (and creating API tokens) also needs a session that passed MFA. A user who has not
//    enrolled MFA therefore cannot move money until they do. An API token can only be created by such a session,
//    so a token carrying `move_money` already stands for a second factor.
// 4. The system actor (seed, key rotation) reaches everything; anonymous reaches nothing.
//
// Rows reached by their own id (accounts, entries) are resolved to their entity and checked the same way, with
// the row's own kind in the 404.

export type Need = Scope;

type Reader = Pick<Db, 'selectFrom'>;

function visible(actor: Actor, entity: { id: string; ownerUserId: string | null }): boolean {
  if (actor.type === 'system') return true;
  if (actor.type === 'anonymous' || actor.userId === undefined) return false;
  if (entity.ownerUserId !== actor.userId) return false;
  return actor.entityScope === 'all' || actor.entityScope.includes(entity.id);
}

/** Throws 403 unless the actor holds `need` (and, for money movement, passed MFA). */
export function requireScope(actor: Actor, need: Need): void {
  if (!actor.scopes.includes(need)) {
    throw new RuleViolation('forbidden', `this credential lacks the ${need} scope`, { scope: need });
  }
  if (need === 'move_money' && !actor.mfa) {
    throw new RuleViolation('mfa_required', 'moving money needs a session that passed multi-factor authentication');
  }
}

function check(actor: Actor, entity: { id: string; ownerUserId: string | null } | undefined, need: Need, kind: string, id: string) {
  if (entity === undefined || !visible(actor, entity)) throw new NotFound(kind, id);
  requireScope(actor, need);
}

/** Authorizes `need` on an entity; returns nothing the caller did not know. Use the transaction inside one. */
export async function authorizeEntity(db: Reader, actor: Actor, entityId: string, need: Need): Promise<void> {
  const entity = await db.selectFrom('entities').select(['id', 'ownerUserId']).where('id', '=', entityId).executeTakeFirst();
  check(actor, entity, need, 'entity', entityId);
}

/** Resolves an account to its entity and authorizes it there; returns the entity id. */
export async function authorizeAccount(db: Reader, actor: Actor, accountId: string, need: Need): Promise<string> {
  const entity = await db
    .selectFrom('accounts as a')
    .innerJoin('entities as e', 'e.id', 'a.entityId')
    .select(['e.id', 'e.ownerUserId'])
    .where('a.id', '=', accountId)
    .executeTakeFirst();
  check(actor, entity, need, 'account', accountId);
  return (entity as { id: string }).id;
}

/** Resolves an entry to its entity and authorizes it there; returns the entity id. */
export async function authorizeEntry(db: Reader, actor: Actor, entryId: string, need: Need): Promise<string> {
  const entity = await db
    .selectFrom('journalEntries as j')
    .innerJoin('entities as e', 'e.id', 'j.entityId')
    .select(['e.id', 'e.ownerUserId'])
    .where('j.id', '=', entryId)
    .executeTakeFirst();
  check(actor, entity, need, 'entry', entryId);
  return (entity as { id: string }).id;
}

export async function authorizeBankLine(db: Reader, actor: Actor, bankLineId: string, need: Need): Promise<string> {
  const entity = await db
    .selectFrom('bankLines as l')
    .innerJoin('entities as e', 'e.id', 'l.entityId')
    .select(['e.id', 'e.ownerUserId'])
    .where('l.id', '=', bankLineId)
    .executeTakeFirst();
  check(actor, entity, need, 'bank line', bankLineId);
  return (entity as { id: string }).id;
}

export async function authorizeImport(db: Reader, actor: Actor, importId: string, need: Need): Promise<string> {
  const entity = await db
    .selectFrom('imports as i')
    .innerJoin('entities as e', 'e.id', 'i.entityId')
    .select(['e.id', 'e.ownerUserId'])
    .where('i.id', '=', importId)
    .executeTakeFirst();
  check(actor, entity, need, 'import', importId);
  return (entity as { id: string }).id;
}

export async function authorizeRule(db: Reader, actor: Actor, ruleId: string, need: Need): Promise<string> {
  const entity = await db
    .selectFrom('categorisationRules as r')
    .innerJoin('entities as e', 'e.id', 'r.entityId')
    .select(['e.id', 'e.ownerUserId'])
    .where('r.id', '=', ruleId)
    .executeTakeFirst();
  check(actor, entity, need, 'rule', ruleId);
  return (entity as { id: string }).id;
}
