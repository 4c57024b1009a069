import type { Selectable } from 'kysely';
import type { Db, EntitiesTable } from '../db/database';
import { NotFound } from '../domain/errors';

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
  return { ...row, createdAt: row.createdAt.toISOString() };
}

/** A personal entity files as an individual; a single-member LLC is disregarded unless it elected otherwise. */
function defaultTaxProfile(kind: NewEntity['kind']): string {
  return kind === 'personal' ? 'individual' : 'disregarded';
}

export async function createEntity(db: Db, input: NewEntity): Promise<EntityView> {
  const row = await db
    .insertInto('entities')
    .values({
      kind: input.kind,
      name: input.name,
      currency: input.currency,
      taxProfile: input.taxProfile ?? defaultTaxProfile(input.kind),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return view(row);
}

export async function listEntities(db: Db): Promise<EntityView[]> {
  const rows = await db.selectFrom('entities').selectAll().orderBy('createdAt').orderBy('id').execute();
  return rows.map(view);
}

export async function getEntity(db: Db, entityId: string): Promise<EntityView> {
  const row = await db.selectFrom('entities').selectAll().where('id', '=', entityId).executeTakeFirst();
  if (row === undefined) throw new NotFound('entity', entityId);
  return view(row);
}
