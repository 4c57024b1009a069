import type { Selectable } from 'kysely';
import type { Transaction } from 'kysely';
import type { Database, Db, EntitiesTable } from '../db/database';
import { assert, NotFound } from '../domain/errors';
import { recordAudit } from './audit';
import type { Actor } from './context';

export interface EntityView {
  id: string;
  kind: 'llc' | 'personal';
  name: string;
  currency: string;
  taxProfile: string;
  createdAt: string;
}

export interface NewEntity {
  kind: 'llc' | 'personal';
  name: string;
  currency: string;
  taxProfile?: string | undefined;
}

function view(row: Selectable<EntitiesTable>): EntityView {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    currency: row.currency,
    taxProfile: row.taxProfile,
    createdAt: row.createdAt.toISOString(),
  };
}

/** A personal entity files as an individual; a single-member LLC is disregarded unless it elected otherwise. */
function defaultTaxProfile(kind: NewEntity['kind']): string {
  return kind === 'personal' ? 'individual' : 'disregarded';
}

/** Creates an entity owned by the acting user: its books are visible to that user only. */
export async function createEntity(trx: Transaction<Database>, input: NewEntity, actor: Actor): Promise<EntityView> {
  assert(actor.type === 'system' || actor.userId !== undefined, 'an entity is created by a user or the system');
  const row = await trx
    .insertInto('entities')
    .values({
      kind: input.kind,
      name: input.name,
      currency: input.currency,
      taxProfile: input.taxProfile ?? defaultTaxProfile(input.kind),
      ownerUserId: actor.userId ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const created = view(row);
  recordAudit(trx, actor, { action: 'entity.created', entityId: created.id, objectType: 'entity', objectId: created.id, after: created });
  return created;
}

/** The entities the actor can see: its user's own, narrowed to an API token's entity list. */
export async function listEntities(db: Db, actor: Actor): Promise<EntityView[]> {
  if (actor.type !== 'system' && actor.userId === undefined) return [];
  let query = db.selectFrom('entities').selectAll();
  if (actor.type !== 'system') query = query.where('ownerUserId', '=', actor.userId as string);
  if (actor.entityScope !== 'all') {
    if (actor.entityScope.length === 0) return [];
    query = query.where('id', 'in', [...actor.entityScope]);
  }
  const rows = await query.orderBy('createdAt').orderBy('id').execute();
  return rows.map(view);
}

export async function getEntity(db: Db, entityId: string): Promise<EntityView> {
  const row = await db.selectFrom('entities').selectAll().where('id', '=', entityId).executeTakeFirst();
  if (row === undefined) throw new NotFound('entity', entityId);
  return view(row);
}
