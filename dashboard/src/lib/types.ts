// The ledger's shapes that several features read (each feature keeps its own request types beside its requests).
export type EntityKind = 'llc' | 'personal';

export interface Entity {
  id: string;
  kind: EntityKind;
  name: string;
  currency: string;
  taxProfile: string;
  createdAt: string;
}

export type AccountClass = 'asset' | 'liability' | 'equity' | 'income' | 'expense';

export interface Account {
  id: string;
  entityId: string;
  name: string;
  code: string | null;
  class: AccountClass;
  kind: string;
  currency: string;
  counterpartyEntityId: string | null;
  balanceCents: number;
  naturalBalanceCents: number;
  archivedAt: string | null;
  createdAt: string;
}

export interface Posting {
  accountId: string;
  amountCents: number;
  currency: string;
  memo: string | null;
}

export interface Entry {
  id: string;
  entityId: string;
  postedOn: string;
  description: string;
  source: string;
  reversesEntryId: string | null;
  reversedByEntryId: string | null;
  actor: string;
  createdAt: string;
  postings: Posting[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const CASH_KINDS = new Set(['checking', 'savings', 'money_market', 'cash']);
