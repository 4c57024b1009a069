import { useQuery } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api } from './api-client';
import type { Entity } from './types';

/** The books being looked at: one entity, or every entity added up (consolidated, read-only). */
export type Scope = { kind: 'entity'; entity: Entity } | { kind: 'consolidated'; entities: Entity[] };

interface EntityState {
  entities: Entity[];
  scope: Scope | null;
  select(id: string): void;
  isLoading: boolean;
  error: Error | null;
}

const EntityContext = createContext<EntityState | null>(null);
const SELECTED_KEY = 'veil.scope';
export const CONSOLIDATED = 'consolidated';

export function useEntities() {
  return useQuery({ queryKey: ['entities'], queryFn: () => api.get<{ items: Entity[] }>('/entities').then((page) => page.items) });
}

export function EntityProvider({ children }: { children: ReactNode }) {
  const entities = useEntities();
  const [selected, setSelected] = useState<string | null>(() => sessionStorage.getItem(SELECTED_KEY));
  const items = useMemo(() => entities.data ?? [], [entities.data]);
  useEffect(() => {
    if (selected) sessionStorage.setItem(SELECTED_KEY, selected);
  }, [selected]);
  const scope = useMemo<Scope | null>(() => {
    if (items.length === 0) return null;
    if (selected === CONSOLIDATED) return { kind: 'consolidated', entities: items };
    const entity = items.find((candidate) => candidate.id === selected) ?? items.find((candidate) => candidate.kind === 'llc') ?? items[0];
    return entity ? { kind: 'entity', entity } : null;
  }, [items, selected]);
  const value = useMemo<EntityState>(
    () => ({ entities: items, scope, select: setSelected, isLoading: entities.isLoading, error: entities.error }),
    [items, scope, entities.isLoading, entities.error],
  );
  return <EntityContext.Provider value={value}>{children}</EntityContext.Provider>;
}

export function useScope(): EntityState {
  const state = useContext(EntityContext);
  if (!state) throw new Error('useScope outside EntityProvider');
  return state;
}

/** The selected single entity, or null in the consolidated view. */
export function useEntity(): Entity | null {
  const { scope } = useScope();
  return scope?.kind === 'entity' ? scope.entity : null;
}

export function entityLabel(entity: Entity): string {
  return `${entity.name} (${entity.kind === 'llc' ? 'LLC' : 'Personal'})`;
}
