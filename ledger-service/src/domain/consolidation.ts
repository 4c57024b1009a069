import { assert } from './errors';
import type { AccountTotal, ReportLine, Section } from './reports';

// Consolidation: several entities' books read as one. A crossing between two of them is booked twice, once in each
// book, on mirror accounts that name the other entity (due to / due from, loans between the books, interest between
// them, and the owner's investment in the LLC against the LLC's member capital and draws). Inside the group those
// pairs say nothing, so they are eliminated; the database keeps each pair equal and opposite (migration 0004), so
// what is eliminated sums to zero per currency and the group's books still balance.

export interface EntityAccountTotal extends AccountTotal {
  entityId: string;
}

export interface Split {
  kept: EntityAccountTotal[];
  eliminated: EntityAccountTotal[];
}

/** A mirror account is eliminated when the entity it names is in the group too; otherwise it is a real balance. */
export function splitEliminations(totals: readonly EntityAccountTotal[], entityIds: readonly string[]): Split {
  const group = new Set(entityIds);
  const kept: EntityAccountTotal[] = [];
  const eliminated: EntityAccountTotal[] = [];
  for (const total of totals) {
    assert(group.has(total.entityId), `consolidation: account ${total.accountId} is outside the group`);
    if (total.counterpartyEntityId !== null && group.has(total.counterpartyEntityId)) eliminated.push(total);
    else kept.push(total);
  }
  return { kept, eliminated };
}

export interface Eliminations {
  lines: { entityId: string; accountId: string; name: string; kind: string; counterpartyEntityId: string; balanceCents: number }[];
  /** Debit-positive sum of the eliminated balances: zero, since each crossing is booked equal and opposite. */
  totalCents: number;
}

export function eliminationsOf(currency: string, eliminated: readonly EntityAccountTotal[]): Eliminations {
  const lines = eliminated
    .filter((total) => total.currency === currency && total.balanceCents !== 0)
    .map((total) => ({
      entityId: total.entityId,
      accountId: total.accountId,
      name: total.name,
      kind: total.kind,
      counterpartyEntityId: total.counterpartyEntityId as string,
      balanceCents: total.balanceCents,
    }))
    .sort((a, b) => a.entityId.localeCompare(b.entityId) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  let totalCents = 0;
  for (const line of lines) totalCents += line.balanceCents;
  assert(totalCents === 0, `consolidation in ${currency}: the eliminated mirror balances sum to ${totalCents}, not zero`);
  return { lines, totalCents: 0 };
}

export type EntityReportLine = ReportLine & { entityId: string };
export type EntitySection = { lines: EntityReportLine[]; totalCents: number };

/** The statement functions work on plain totals; each line gets back the entity it belongs to. */
export function withEntities(section: Section, entityOf: ReadonlyMap<string, string>): EntitySection {
  return {
    totalCents: section.totalCents,
    lines: section.lines.map((line) => {
      const entityId = entityOf.get(line.accountId);
      assert(entityId !== undefined, `consolidation: line ${line.accountId} has no entity`);
      return { entityId, ...line };
    }),
  };
}
