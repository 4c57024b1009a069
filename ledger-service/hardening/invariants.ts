import type { Db } from '../src/db/database';
import { verifyAuditChain } from '../src/services/audit';
import { pairingReport } from '../src/services/veil';
import { checkInvariants } from '../test/support/books';
import type { Client } from './client';
import type { Tally } from './load';
import { BUDGET_MONTH, entityIdsOf, type World } from './operations';

// The books are checked twice, independently: through the API (recomputing every balance from the listed
// postings, on both backends and while the service runs), and, when the harness can reach the database, in SQL
// with the same checks as the test suites. Called only when no write is in flight or pending, so "acknowledged
// == stored" is exact.

export interface BookCheck {
  violations: string[];
  entries: number;
}

const PAGE = 500;

async function listEntries(client: Client, entityId: string) {
  const entries: {
    id: string;
    postings: { accountId: string; amountCents: number; currency: string }[];
  }[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.expect(client.get(`/entities/${entityId}/entries?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`), 200);
    entries.push(...(page.items as typeof entries));
    cursor = (page.nextCursor as string | null) ?? undefined;
  } while (cursor);
  return entries;
}

export async function checkBooks(client: Client, world: World, tally: Tally, db?: Db): Promise<BookCheck> {
  const violations: string[] = [];
  if (tally.pending.length > 0) violations.push(`checked with ${tally.pending.length} writes pending (harness error)`);
  const stored = new Map<string, number>();
  for (const entityId of entityIdsOf(world)) {
    const sums = new Map<string, number>();
    for (const entry of await listEntries(client, entityId)) {
      stored.set(entry.id, (stored.get(entry.id) ?? 0) + 1);
      const byCurrency = new Map<string, number>();
      for (const posting of entry.postings) {
        byCurrency.set(posting.currency, (byCurrency.get(posting.currency) ?? 0) + posting.amountCents);
        sums.set(posting.accountId, (sums.get(posting.accountId) ?? 0) + posting.amountCents);
      }
      if (entry.postings.length < 2) violations.push(`entry ${entry.id} has ${entry.postings.length} posting(s)`);
      for (const [currency, total] of byCurrency) if (total !== 0) violations.push(`entry ${entry.id} is off by ${total} ${currency}`);
    }
    const balances = await client.expect(client.get(`/entities/${entityId}/balances`), 200);
    for (const account of balances.accounts as {
      id: string;
      balanceCents: number;
    }[]) {
      const expected = sums.get(account.id) ?? 0;
      if (account.balanceCents !== expected) violations.push(`account ${account.id}: balance ${account.balanceCents}, postings sum ${expected}`);
    }
    for (const [currency, total] of Object.entries(balances.totalCentsByCurrency as Record<string, number>)) {
      if (total !== 0) violations.push(`entity ${entityId} sums to ${total} ${currency}, not zero`);
    }
  }
  const pairing = await client.expect(client.get(`/entities/${world.llcId}/veil/pairing`), 200);
  for (const mismatch of pairing.mismatches as unknown[]) violations.push(`pairing: ${JSON.stringify(mismatch)}`);
  const chain = await client.expect(client.send({ method: 'post', path: '/audit/verify' }), 200);
  if (chain.ok !== true) violations.push(`audit chain broken at ${String(chain.firstBrokenSeq)}: ${String(chain.reason)}`);

  // Every acknowledged write exists exactly once, and nothing else was booked.
  const acknowledgedIds = new Set<string>();
  for (const [key, { entryIds }] of tally.acknowledged) {
    for (const id of entryIds) {
      if (acknowledgedIds.has(id)) violations.push(`entry ${id} acknowledged under two keys (latest ${key})`);
      acknowledgedIds.add(id);
      const copies = stored.get(id) ?? 0;
      if (copies !== 1) violations.push(`acknowledged entry ${id} (${key}) stored ${copies} times`);
    }
  }
  const unacknowledged = [...stored.keys()].filter((id) => !acknowledgedIds.has(id) && !world.baselineEntries.has(id));
  if (unacknowledged.length > 0) violations.push(`${unacknowledged.length} stored entries no acknowledged write booked (first ${unacknowledged[0]})`);
  const harnessStored = stored.size - [...world.baselineEntries].filter((id) => stored.has(id)).length;
  if (harnessStored !== acknowledgedIds.size) violations.push(`stored ${harnessStored} entries, acknowledged ${acknowledgedIds.size}`);

  // What acknowledged writes did besides entries: assignments, contribution rows, Plaid transfer legs.
  const month = await client.expect(client.get(`/entities/${world.personalId}/budget/${BUDGET_MONTH}`), 200);
  const assigned = new Map((month.groups as { envelopes: { id: string; assignedCents: number }[] }[]).flatMap((group) => group.envelopes.map((line) => [line.id, line.assignedCents] as const)));
  for (const envelopeId of [world.envelopes.fixed, world.envelopes.remainder]) {
    const expected = world.allocatedCents.get(envelopeId) ?? 0;
    if (assigned.get(envelopeId) !== expected) violations.push(`envelope ${envelopeId}: assigned ${assigned.get(envelopeId)}, acknowledged allocations ${expected}`);
  }
  const contributions = await client.expect(client.get(`/entities/${world.personalId}/contributions?year=${BUDGET_MONTH.slice(0, 4)}`), 200);
  const contributionRows = (contributions.contributions as unknown[]).length;
  if (contributionRows !== world.contributions) violations.push(`${contributionRows} contributions stored, ${world.contributions} acknowledged`);
  if (world.plaid && world.plaidMoves * 2 <= 1_000) {
    const legs = await client.expect(client.get(`/entities/${world.plaid.entityId}/plaid/transfers?limit=1000`), 200);
    const count = (legs.items as unknown[]).length;
    if (count !== world.plaidMoves * 2) violations.push(`${count} Plaid transfer legs stored, ${world.plaidMoves} moves acknowledged (two legs each)`);
  }

  const importedLines = await countBankLines(client, world.importAccount);
  if (importedLines !== world.importedLines) violations.push(`${importedLines} bank lines stored by imports, ${world.importedLines} acknowledged`);

  if (db) {
    const report = await checkInvariants(db);
    if (report.unbalancedEntries !== 0) violations.push(`SQL: ${report.unbalancedEntries} unbalanced entries`);
    if (report.balanceMismatches !== 0) violations.push(`SQL: ${report.balanceMismatches} balances differ from their postings`);
    if (report.entitiesNotZero !== 0) violations.push(`SQL: ${report.entitiesNotZero} entities do not sum to zero`);
    // Only this world's entities: the fuzz phase books its own world in the same database.
    const inWorld = await db
      .selectFrom('journalEntries')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('entityId', 'in', entityIdsOf(world))
      .executeTakeFirstOrThrow();
    if (Number(inWorld.count) !== stored.size) violations.push(`SQL: ${inWorld.count} entries of these books in the database, ${stored.size} listed by the API`);
    const verdict = await verifyAuditChain(db);
    if (!verdict.ok) violations.push(`SQL: audit chain broken at ${verdict.firstBrokenSeq}: ${verdict.reason}`);
    const sqlPairing = await pairingReport(db, world.llcId);
    if (sqlPairing.mismatches.length > 0) violations.push(`SQL: pairing ${JSON.stringify(sqlPairing.mismatches)}`);
  }
  return { violations, entries: stored.size };
}

/** Every bank line of an account, counted through the API's pages. */
async function countBankLines(client: Client, accountId: string): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page: Record<string, unknown> = await client.expect(client.get(`/accounts/${accountId}/bank-lines?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`), 200);
    count += (page.items as unknown[]).length;
    cursor = (page.nextCursor as string | null | undefined) ?? null;
  } while (cursor !== null);
  return count;
}
