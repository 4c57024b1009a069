import type { Transaction } from 'kysely';
import type { Database, Db } from '../db/database';
import type { AfrRow } from '../domain/afr';
import { addDays, daysBetween } from '../domain/dates';
import { centsFromDb } from '../domain/money';
import { recordAudit } from './audit';
import { bookBankLine } from './bank-booking';
import { getBankLine, setBankLineStatus, type BankLine } from './bank-lines';
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

/**
 * Looks for the mirror of each fresh line among the owner's other bank lines still waiting, pairing each line at
 * most once; books or proposes each pair. Lines left over are returned for the rules.
 */
export async function matchTransfers(trx: Trx, fresh: readonly BankLine[], actor: Actor, guard: GuardContext): Promise<{ matches: TransferMatch[]; rest: BankLine[] }> {
  const matches: TransferMatch[] = [];
  const used = new Set<string>();
  const candidatesFor = new Map<string, string[]>();
  for (const line of fresh) {
    if (line.pending || line.status !== 'unmatched' || used.has(line.id) || line.amountCents === 0) continue;
    let entities = candidatesFor.get(line.entityId);
    if (!entities) {
      entities = await ownedEntityIds(trx, line.entityId);
      candidatesFor.set(line.entityId, entities);
    }
    const proposed = await trx.selectFrom('transferProposals').select(['outflowLineId', 'inflowLineId']).where((eb) => eb.or([eb('outflowLineId', '=', line.id), eb('inflowLineId', '=', line.id)])).where('status', '=', 'open').executeTakeFirst();
    if (proposed) continue;
    const rows = await trx
      .selectFrom('bankLines')
      .select(['id', 'entityId', 'accountId', 'postedOn', 'amountCents', 'currency'])
      .where('entityId', 'in', entities)
      .where('accountId', '!=', line.accountId)
      .where('status', '=', 'unmatched')
      .where('pending', '=', false)
      .where('amountCents', '=', String(-line.amountCents))
      .where('currency', '=', line.currency)
      .where('postedOn', '>=', addDays(line.postedOn, -TRANSFER_MATCH_DAYS_MAX))
      .where('postedOn', '<=', addDays(line.postedOn, TRANSFER_MATCH_DAYS_MAX))
      .orderBy('postedOn')
      .orderBy('id')
      .execute();
    const open = await trx.selectFrom('transferProposals').select(['outflowLineId', 'inflowLineId']).where('status', '=', 'open').execute();
    const taken = new Set(open.flatMap((row) => [row.outflowLineId, row.inflowLineId]));
    const mirror = rows
      .filter((row) => !used.has(row.id) && !taken.has(row.id))
      .sort((a, b) => Math.abs(daysBetween(a.postedOn, line.postedOn)) - Math.abs(daysBetween(b.postedOn, line.postedOn)))[0];
    if (!mirror) continue;
    used.add(line.id);
    used.add(mirror.id);
    const outflow = line.amountCents < 0 ? line : await getBankLine(trx, mirror.id);
    const inflow = line.amountCents < 0 ? await getBankLine(trx, mirror.id) : line;
    if (outflow.entityId === inflow.entityId) {
      // The outflow's entry moves the money from its account to the other: one entry, both lines on it.
      const booked = await bookBankLine(trx, outflow.id, { splits: [{ accountId: inflow.accountId, amountCents: outflow.amountCents }], description: `Transfer: ${outflow.payee ?? 'own accounts'}` }, actor);
      await setBankLineStatus(trx, inflow.id, { status: 'matched', entryId: booked.entry.id, reason: `the other side of transfer line ${outflow.id}` }, actor);
      matches.push({ outflowLineId: outflow.id, inflowLineId: inflow.id, sameEntity: true, entryId: booked.entry.id, proposalId: null });
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
  const matched = new Set(matches.flatMap((match) => [match.outflowLineId, match.inflowLineId]));
  return { matches, rest: fresh.filter((line) => !matched.has(line.id)) };
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
