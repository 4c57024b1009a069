import { sql, type Transaction } from 'kysely';
import type { Database, Db } from '../db/database';
import type { AfrRow } from '../domain/afr';
import { daysBetween } from '../domain/dates';
import { centsFromDb } from '../domain/money';
import { recordAudit } from './audit';
import { bookBankLines, type BookingWork } from './bank-booking';
import { getBankLines, type BankLine } from './bank-lines';
import type { Actor } from './context';
import { evaluateMovement, guardAccounts } from './guard';

type Trx = Transaction<Database>;

// Money the owner moves between their own accounts shows up twice: once leaving one account, once arriving in
// another, usually a day or two apart. Within one entity the two lines become ONE transfer entry (booked from
// the outflow line, the inflow line matched to the same entry). Across entities it is a crossing of the veil:
// only a proposal, judged by Entity Guard, for the owner to classify through POST /transfers.

export const TRANSFER_MATCH_DAYS_MAX = 4;

export interface TransferMatch {
  outflowLineId: string;
  inflowLineId: string;
  sameEntity: boolean;
  entryId: string | null;
  proposalId: string | null;
}

export interface GuardContext {
  afrRows: readonly AfrRow[];
  today: string;
}

/** The entities this owner holds: the only places a mirror line may be looked for. */
async function ownedEntityIds(db: Db, entityId: string): Promise<string[]> {
  const owner = await db.selectFrom('entities').select('ownerUserId').where('id', '=', entityId).executeTakeFirst();
  if (!owner || owner.ownerUserId === null) return [entityId];
  const rows = await db.selectFrom('entities').select('id').where('ownerUserId', '=', owner.ownerUserId).execute();
  return rows.map((row) => row.id);
}

/** Fresh lines whose mirrors are looked up in one statement. */
const MIRROR_LOOKUP_LINES = 2_000;

interface MirrorRow {
  freshId: string;
  id: string;
  entityId: string;
  accountId: string;
  postedOn: string;
}

/** Every waiting line that could be the mirror of one of these lines, in one query per chunk, grouped by line. */
async function mirrorCandidates(trx: Trx, lines: readonly BankLine[], entities: readonly string[]): Promise<Map<string, MirrorRow[]>> {
  const byLine = new Map<string, MirrorRow[]>();
  for (let start = 0; start < lines.length; start += MIRROR_LOOKUP_LINES) {
    const chunk = lines.slice(start, start + MIRROR_LOOKUP_LINES);
    const values = chunk.map((line) => sql`(${line.id}::uuid, ${line.accountId}::uuid, ${String(-line.amountCents)}::bigint, ${line.currency}::text, ${line.postedOn}::date)`);
    const { rows } = await sql<MirrorRow>`
      select f.fresh_id as "freshId", b.id, b.entity_id as "entityId", b.account_id as "accountId", b.posted_on::text as "postedOn"
        from (values ${sql.join(values)}) as f (fresh_id, account_id, mirror_cents, currency, posted_on)
        join bank_lines b
          on b.entity_id in (${sql.join(entities.map((id) => sql`${id}::uuid`))})
         and b.status = 'unmatched' and not b.pending
         and b.amount_cents = f.mirror_cents and b.currency = f.currency and b.account_id <> f.account_id
         and b.posted_on between f.posted_on - ${TRANSFER_MATCH_DAYS_MAX}::int and f.posted_on + ${TRANSFER_MATCH_DAYS_MAX}::int
       order by b.posted_on, b.id`.execute(trx);
    for (const row of rows) {
      const list = byLine.get(row.freshId);
      if (list) list.push(row);
      else byLine.set(row.freshId, [row]);
    }
  }
  return byLine;
}

/**
 * Looks for the mirror of each fresh line among the owner's other bank lines still waiting, pairing each line at
 * most once (in the order given, the nearest date first); books or proposes each pair. Lines left over are
 * returned for the rules. The candidates are read set-based (one query per chunk of lines, per owner), the
 * same-entity transfers booked through the journal's batch path.
 */
export async function matchTransfers(trx: Trx, fresh: readonly BankLine[], actor: Actor, guard: GuardContext): Promise<{ matches: TransferMatch[]; rest: BankLine[] }> {
  const eligible = fresh.filter((line) => !line.pending && line.status === 'unmatched' && line.amountCents !== 0);
  if (eligible.length === 0) return { matches: [], rest: [...fresh] };
  // Group the lines by the set of entities their owner holds: the only places their mirrors may be.
  const entitiesOf = new Map<string, string[]>();
  for (const entityId of new Set(eligible.map((line) => line.entityId))) entitiesOf.set(entityId, await ownedEntityIds(trx, entityId));
  const allEntities = [...new Set([...entitiesOf.values()].flat())];
  const candidates = new Map<string, MirrorRow[]>();
  const groups = new Map<string, { entities: string[]; lines: BankLine[] }>();
  for (const line of eligible) {
    const entities = entitiesOf.get(line.entityId) as string[];
    const key = [...entities].sort().join(',');
    const group = groups.get(key) ?? { entities, lines: [] };
    group.lines.push(line);
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    for (const [lineId, rows] of await mirrorCandidates(trx, group.lines, group.entities)) candidates.set(lineId, rows);
  }
  const matches = await pairAndBook(trx, eligible, new Map(fresh.map((line) => [line.id, line])), candidates, allEntities, actor, guard);
  const matched = new Set(matches.flatMap((match) => [match.outflowLineId, match.inflowLineId]));
  return { matches, rest: fresh.filter((line) => !matched.has(line.id)) };
}

/**
 * matchTransfers for the lines an import just stored, listed in a table of the transaction (`id`, `ord`, `status`;
 * services/ingest.ts), all of one entity: the candidates come from one statement over that table, and only the
 * lines that have one are read into memory. Same pairing, same entries and proposals.
 */
export async function matchStagedTransfers(
  trx: Trx,
  entityId: string,
  freshTable: string,
  actor: Actor,
  guard: GuardContext,
  /** Called with the fresh lines that have a mirror candidate, before they are read from bank_lines. */
  beforeRead: (freshIds: readonly string[]) => Promise<void> = async () => undefined,
): Promise<TransferMatch[]> {
  const entities = await ownedEntityIds(trx, entityId);
  const { rows } = await sql<MirrorRow>`
    select f.id as "freshId", b.id, b.entity_id as "entityId", b.account_id as "accountId", b.posted_on::text as "postedOn"
      from ${sql.table(freshTable)} f
      join bank_lines b
        on b.entity_id in (${sql.join(entities.map((id) => sql`${id}::uuid`))})
       and b.status = 'unmatched' and not b.pending
       and b.amount_cents = -f.amount_cents and b.currency = f.currency and b.account_id <> f.account_id
       and b.posted_on between f.posted_on - ${TRANSFER_MATCH_DAYS_MAX}::int and f.posted_on + ${TRANSFER_MATCH_DAYS_MAX}::int
     where f.status = 'unmatched' and f.amount_cents <> 0
     order by f.ord, b.posted_on, b.id`.execute(trx);
  if (rows.length === 0) return [];
  const candidates = new Map<string, MirrorRow[]>();
  const order: string[] = [];
  for (const row of rows) {
    const list = candidates.get(row.freshId);
    if (list) list.push(row);
    else {
      candidates.set(row.freshId, [row]);
      order.push(row.freshId);
    }
  }
  const known = new Map<string, BankLine>();
  for (let start = 0; start < order.length; start += MIRROR_LOOKUP_LINES) {
    const ids = order.slice(start, start + MIRROR_LOOKUP_LINES);
    await beforeRead(ids);
    for (const line of await getBankLines(trx, ids)) known.set(line.id, line);
  }
  const eligible = order.map((id) => known.get(id) as BankLine);
  return pairAndBook(trx, eligible, known, candidates, entities, actor, guard);
}

/** Pairs each eligible line (in order) with its nearest free mirror, then books or proposes every pair. */
async function pairAndBook(
  trx: Trx,
  eligible: readonly BankLine[],
  known: ReadonlyMap<string, BankLine>,
  candidates: ReadonlyMap<string, MirrorRow[]>,
  allEntities: readonly string[],
  actor: Actor,
  guard: GuardContext,
): Promise<TransferMatch[]> {
  const matches: TransferMatch[] = [];
  // Lines already in an open proposal are spoken for (either side).
  const open = await trx
    .selectFrom('transferProposals')
    .select(['outflowLineId', 'inflowLineId'])
    .where('status', '=', 'open')
    .where((eb) => eb.or([eb('outflowEntityId', 'in', allEntities), eb('inflowEntityId', 'in', allEntities)]))
    .execute();
  const taken = new Set(open.flatMap((row) => [row.outflowLineId, row.inflowLineId]));
  const used = new Set<string>();
  const pairs: { outflowId: string; inflowId: string }[] = [];
  for (const line of eligible) {
    if (used.has(line.id) || taken.has(line.id)) continue;
    const rows = candidates.get(line.id);
    if (!rows) continue;
    const mirror = rows
      .filter((row) => !used.has(row.id) && !taken.has(row.id))
      .sort((a, b) => Math.abs(daysBetween(a.postedOn, line.postedOn)) - Math.abs(daysBetween(b.postedOn, line.postedOn)))[0];
    if (!mirror) continue;
    used.add(line.id);
    used.add(mirror.id);
    pairs.push(line.amountCents < 0 ? { outflowId: line.id, inflowId: mirror.id } : { outflowId: mirror.id, inflowId: line.id });
  }
  // Mirrors found among older lines are read once, in one query per chunk.
  const lines = new Map(known);
  const missing = [...new Set(pairs.flatMap((pair) => [pair.outflowId, pair.inflowId]))].filter((id) => !lines.has(id));
  for (let start = 0; start < missing.length; start += MIRROR_LOOKUP_LINES) {
    for (const line of await getBankLines(trx, missing.slice(start, start + MIRROR_LOOKUP_LINES))) lines.set(line.id, line);
  }
  const sameEntity = new Map<string, BookingWork[]>();
  for (const pair of pairs) {
    const outflow = lines.get(pair.outflowId) as BankLine;
    const inflow = lines.get(pair.inflowId) as BankLine;
    if (outflow.entityId === inflow.entityId) {
      // The outflow's entry moves the money from its account to the other: one entry, both lines on it.
      const work = sameEntity.get(outflow.entityId) ?? [];
      work.push({ line: outflow, mirror: inflow, categorisation: { splits: [{ accountId: inflow.accountId, amountCents: outflow.amountCents }], description: `Transfer: ${outflow.payee ?? 'own accounts'}` } });
      sameEntity.set(outflow.entityId, work);
      continue;
    }
    const movement = { sourceAccountId: outflow.accountId, targetAccountId: inflow.accountId, amountCents: centsFromDb(Math.abs(outflow.amountCents)), payee: outflow.payee ?? undefined, memo: outflow.memo ?? undefined, postedOn: outflow.postedOn };
    const verdict = await evaluateMovement(trx, movement, await guardAccounts(trx, movement), guard.afrRows, guard.today);
    const proposal = await trx
      .insertInto('transferProposals')
      .values({
        outflowLineId: outflow.id,
        inflowLineId: inflow.id,
        outflowEntityId: outflow.entityId,
        inflowEntityId: inflow.entityId,
        amountCents: Math.abs(outflow.amountCents),
        guardDecision: verdict.decision,
        guardVerdict: JSON.stringify(verdict),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (const entityId of [outflow.entityId, inflow.entityId]) {
      recordAudit(trx, actor, { action: 'transfer_proposal.created', entityId, objectType: 'transfer_proposal', objectId: proposal.id, after: { outflowLineId: outflow.id, inflowLineId: inflow.id, decision: verdict.decision } });
    }
    matches.push({ outflowLineId: outflow.id, inflowLineId: inflow.id, sameEntity: false, entryId: null, proposalId: proposal.id });
  }
  for (const [entityId, work] of sameEntity) {
    const entries = await bookBankLines(trx, actor, entityId, work);
    for (const [index, item] of work.entries()) {
      matches.push({ outflowLineId: item.line.id, inflowLineId: (item.mirror as BankLine).id, sameEntity: true, entryId: (entries[index] as { id: string }).id, proposalId: null });
    }
  }
  return matches;
}

export interface TransferProposalView {
  id: string;
  outflowLineId: string;
  inflowLineId: string;
  outflowEntityId: string;
  inflowEntityId: string;
  amountCents: number;
  guardDecision: string;
  guardVerdict: unknown;
  status: string;
  createdAt: string;
}

export async function listTransferProposals(db: Db, entityId: string): Promise<TransferProposalView[]> {
  const rows = await db
    .selectFrom('transferProposals')
    .selectAll()
    .where((eb) => eb.or([eb('outflowEntityId', '=', entityId), eb('inflowEntityId', '=', entityId)]))
    .orderBy('createdAt', 'desc')
    .orderBy('id')
    .limit(500)
    .execute();
  return rows.map((row) => ({ ...row, amountCents: centsFromDb(row.amountCents), createdAt: row.createdAt.toISOString() }));
}
