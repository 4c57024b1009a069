import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import { ACHClass, TransferAuthorizationDecision, TransferNetwork, TransferType, type TransferEvent } from 'plaid';
import type { Database, Db, PlaidTransferNetwork, PlaidTransferStatus } from '../db/database';
import { RuleViolation } from '../domain/errors';
import { centsFromDb, formatCents } from '../domain/money';
import { callPlaid, requirePlaid } from '../plaid/client';
import { auditedTransaction, recordAudit } from './audit';
import type { Actor, Deps } from './context';
import { getEntity } from './entities';
import { matchWaitingLines } from './entry-matching';
import { reverseEntry } from './journal';
import { accessTokenOf } from './plaid';
import { reverseTransfer } from './veil';

type Trx = Transaction<Database>;

// Moving real money through Plaid Transfer. The ledger side is always booked first, as for any Transfer or bill
// payment; when the caller asks for it and the entity has opted in, each posting of the entry on a Plaid-linked
// depository account becomes one Plaid transfer (money leaving the account: a debit; arriving: a credit), in the
// same database transaction. All legs are authorized before any is created, so a decline books nothing and moves
// nothing. The entry stays pending while a leg is; Plaid's transfer events (TRANSFER_EVENTS_UPDATE → event sync)
// settle it, or reverse it (a reversing entry, never a deletion) when a leg fails, is cancelled or is returned.
//
// Plaid is called inside the transaction: if the commit fails after Plaid created a transfer, the retry (same
// Idempotency-Key) asks Plaid again with the same authorization idempotency key, gets the same authorization, and
// /transfer/create answers the transfer already made for it. Money never moves twice for one request.

export const TRANSFER_EVENT_PAGE_SIZE = 100;
export const TRANSFER_EVENT_PAGES_MAX = 100;
const TRANSFER_DESCRIPTION_LENGTH_MAX = 15;
const SYNC_RESTARTS_MAX = 5;

export type MoneyMovementStatus = 'pending' | 'settled' | 'failed';

export interface PlaidTransferSettingsView {
  entityId: string;
  enabled: boolean;
  legalName: string | null;
  network: PlaidTransferNetwork;
}

export interface PlaidTransferView {
  id: string;
  entityId: string;
  entryId: string;
  accountId: string;
  direction: 'debit' | 'credit';
  amountCents: number;
  currency: string;
  plaidTransferId: string;
  status: PlaidTransferStatus;
  failure: { code: string | null; achReturnCode: string | null; description: string | null } | null;
  reversalEntryId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface MoneyMovement {
  via: 'plaid_transfer';
  status: MoneyMovementStatus;
  transfers: PlaidTransferView[];
}

const SYSTEM: Actor = { type: 'system', id: 'plaid-transfer', scopes: ['read', 'write', 'move_money'], entityScope: 'all', mfa: true };

// ------------------------------------------------------------------------------------------------ settings

export async function getTransferSettings(db: Db | Trx, entityId: string): Promise<PlaidTransferSettingsView> {
  await getEntity(db, entityId);
  const row = await db.selectFrom('plaidTransferSettings').select(['enabled', 'legalName', 'network']).where('entityId', '=', entityId).executeTakeFirst();
  return { entityId, enabled: row?.enabled ?? false, legalName: row?.legalName ?? null, network: row?.network ?? 'ach' };
}

export async function setTransferSettings(
  trx: Trx,
  entityId: string,
  changes: { enabled?: boolean | undefined; legalName?: string | null | undefined; network?: PlaidTransferNetwork | undefined },
  actor: Actor,
): Promise<PlaidTransferSettingsView> {
  const before = await getTransferSettings(trx, entityId);
  const next = {
    enabled: changes.enabled ?? before.enabled,
    legalName: changes.legalName === undefined ? before.legalName : changes.legalName,
    network: changes.network ?? before.network,
  };
  await trx
    .insertInto('plaidTransferSettings')
    .values({ entityId, ...next })
    .onConflict((conflict) => conflict.column('entityId').doUpdateSet({ ...next, updatedAt: new Date() }))
    .execute();
  recordAudit(trx, actor, { action: 'plaid_transfer.settings_changed', entityId, objectType: 'entity', objectId: entityId, before, after: { entityId, ...next } });
  return { entityId, ...next };
}

// ------------------------------------------------------------------------------------------------ views

type Row = Awaited<ReturnType<ReturnType<typeof selectTransfers>['execute']>>[number];

function selectTransfers(db: Db | Trx) {
  return db
    .selectFrom('plaidTransfers')
    .select(['id', 'entityId', 'entryId', 'accountId', 'direction', 'amountCents', 'currency', 'plaidTransferId', 'status', 'failure', 'reversalEntryId', 'createdAt', 'updatedAt'])
    .orderBy('createdAt')
    .orderBy('id');
}

function viewOf(row: Row): PlaidTransferView {
  const failure = (typeof row.failure === 'string' ? JSON.parse(row.failure) : row.failure) as PlaidTransferView['failure'];
  return {
    ...row,
    amountCents: centsFromDb(row.amountCents),
    failure: failure ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Pending while any leg is; failed once one failed, was cancelled or returned; settled when every leg settled. */
export function movementStatus(transfers: readonly Pick<PlaidTransferView, 'status'>[]): MoneyMovementStatus {
  if (transfers.some((transfer) => ['failed', 'cancelled', 'returned'].includes(transfer.status))) return 'failed';
  if (transfers.length > 0 && transfers.every((transfer) => transfer.status === 'settled' || transfer.status === 'funds_available')) return 'settled';
  return 'pending';
}

export async function listPlaidTransfers(db: Db, entityId: string, options: { entryId?: string | undefined; limit: number }): Promise<PlaidTransferView[]> {
  let query = selectTransfers(db).where('entityId', '=', entityId);
  if (options.entryId !== undefined) query = query.where('entryId', '=', options.entryId);
  return (await query.limit(options.limit).execute()).map(viewOf);
}

// ------------------------------------------------------------------------------------------------ moving money

export interface EntryToMove {
  id: string;
  entityId: string;
  description: string;
  /** Stable across retries of the same request (never the entry's id, which a rolled-back attempt changes). */
  plaidKey: string;
}

interface Leg {
  entry: EntryToMove;
  accountId: string;
  plaidAccountLinkId: string;
  plaidAccountId: string;
  itemId: string;
  direction: 'debit' | 'credit';
  amountCents: number;
  currency: string;
}

/** Plaid's idempotency_key is at most 50 characters: a digest of what makes the leg unique. */
function authorizationKey(leg: Leg): string {
  return createHash('sha256').update(`${leg.entry.entityId}|${leg.entry.plaidKey}|${leg.plaidAccountLinkId}|${leg.direction}`).digest('base64url');
}

/** Plaid Transfer descriptions are at most 15 characters (they reach the bank statement). */
export function transferDescription(description: string): string {
  const compact = description.replace(/\s+/g, ' ').trim();
  return (compact.length === 0 ? 'Veil' : compact).slice(0, TRANSFER_DESCRIPTION_LENGTH_MAX).trim();
}

async function legsOf(trx: Trx, entries: readonly EntryToMove[]): Promise<Leg[]> {
  if (entries.length === 0) return [];
  const rows = await trx
    .selectFrom('postings as p')
    .innerJoin('plaidAccounts as l', 'l.accountId', 'p.accountId')
    .select(['p.entryId', 'p.accountId', 'p.amountCents', 'p.currency', 'l.id as linkId', 'l.plaidAccountId', 'l.itemId'])
    .where('p.entryId', 'in', entries.map((entry) => entry.id))
    .where('l.plaidType', '=', 'depository')
    .orderBy('p.id')
    .execute();
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  return rows
    .map((row) => ({ row, amountCents: centsFromDb(row.amountCents) }))
    .filter(({ amountCents }) => amountCents !== 0)
    .map(({ row, amountCents }) => ({
      entry: byId.get(row.entryId) as EntryToMove,
      accountId: row.accountId,
      plaidAccountLinkId: row.linkId,
      plaidAccountId: row.plaidAccountId,
      itemId: row.itemId,
      direction: amountCents < 0 ? ('debit' as const) : ('credit' as const),
      amountCents: Math.abs(amountCents),
      currency: row.currency,
    }));
}

/**
 * Moves the real money of freshly booked entries through Plaid Transfer, in the caller's transaction. Refuses
 * (and so books nothing) when an entity has not enabled it, when no posting is on a Plaid-linked depository
 * account, or when Plaid declines any leg.
 */
export async function moveMoney(
  trx: Trx,
  deps: Deps,
  actor: Actor,
  entries: readonly EntryToMove[],
  /** `each`: every entry must move money (independent entries of a batch); `any`: the entries are one movement
   * (the two sides of a crossing, where one side may be an unlinked account). */
  require: 'each' | 'any' = 'any',
): Promise<MoneyMovement> {
  const plaid = requirePlaid(deps.plaid);
  const settings = new Map<string, PlaidTransferSettingsView>();
  for (const entityId of new Set(entries.map((entry) => entry.entityId))) {
    const setting = await getTransferSettings(trx, entityId);
    if (!setting.enabled) {
      throw new RuleViolation('plaid_transfer_disabled', `moving real money through Plaid Transfer is not enabled for entity ${entityId}`, { entityId });
    }
    settings.set(entityId, setting);
  }
  const legs = await legsOf(trx, entries);
  const idle = require === 'each' ? entries.filter((entry) => !legs.some((leg) => leg.entry.id === entry.id)) : legs.length === 0 ? entries : [];
  if (idle.length > 0) {
    throw new RuleViolation('plaid_transfer_unavailable', 'none of the accounts is a Plaid-linked checking or savings account: Plaid Transfer has nothing to move', {
      entryIds: idle.map((entry) => entry.id),
    });
  }
  const items = await trx.selectFrom('plaidItems').select(['id', 'status']).where('id', 'in', [...new Set(legs.map((leg) => leg.itemId))]).execute();
  const broken = items.find((item) => item.status !== 'healthy' && item.status !== 'pending_expiration');
  if (broken) throw new RuleViolation('plaid_item_error', `the bank login of item ${broken.id} needs repair (${broken.status}) before money can move`, { itemId: broken.id, status: broken.status });
  const tokens = new Map<string, string>();
  for (const item of items) tokens.set(item.id, await accessTokenOf(trx, deps, item.id));

  // Every leg is authorized before any transfer is created: a decline anywhere moves nothing anywhere.
  const authorized: { leg: Leg; authorizationId: string; accessToken: string }[] = [];
  for (const leg of legs) {
    const setting = settings.get(leg.entry.entityId) as PlaidTransferSettingsView;
    const entity = await getEntity(trx, leg.entry.entityId);
    const accessToken = tokens.get(leg.itemId) as string;
    const network = setting.network as TransferNetwork;
    const { authorization } = await callPlaid(() =>
      plaid.client.transferAuthorizationCreate({
        access_token: accessToken,
        account_id: leg.plaidAccountId,
        type: leg.direction === 'debit' ? TransferType.Debit : TransferType.Credit,
        network,
        amount: formatCents(leg.amountCents),
        ...(network === TransferNetwork.Rtp ? {} : { ach_class: entity.kind === 'llc' ? ACHClass.Ccd : ACHClass.Ppd }),
        user: { legal_name: setting.legalName ?? entity.name.slice(0, 100) },
        iso_currency_code: leg.currency,
        idempotency_key: authorizationKey(leg),
      }),
    );
    if (authorization.decision !== TransferAuthorizationDecision.Approved) {
      throw new RuleViolation(
        'plaid_transfer_declined',
        `Plaid ${authorization.decision === TransferAuthorizationDecision.Declined ? 'declined' : 'needs user action for'} the ${leg.direction} of ${formatCents(leg.amountCents)} ${leg.currency}` +
          (authorization.decision_rationale ? `: ${authorization.decision_rationale.description}` : ''),
        {
          decision: authorization.decision,
          rationaleCode: authorization.decision_rationale?.code ?? null,
          rationale: authorization.decision_rationale?.description ?? null,
          accountId: leg.accountId,
          direction: leg.direction,
          amountCents: leg.amountCents,
        },
      );
    }
    authorized.push({ leg, authorizationId: authorization.id, accessToken });
  }

  const views: PlaidTransferView[] = [];
  for (const { leg, authorizationId, accessToken } of authorized) {
    const { transfer } = await callPlaid(() =>
      plaid.client.transferCreate({
        access_token: accessToken,
        account_id: leg.plaidAccountId,
        authorization_id: authorizationId,
        description: transferDescription(leg.entry.description),
        metadata: { veil_entry_id: leg.entry.id },
      }),
    );
    const row = await trx
      .insertInto('plaidTransfers')
      .values({
        entityId: leg.entry.entityId,
        entryId: leg.entry.id,
        accountId: leg.accountId,
        plaidAccountId: leg.plaidAccountLinkId,
        direction: leg.direction,
        amountCents: leg.amountCents,
        currency: leg.currency,
        plaidAuthorizationId: authorizationId,
        plaidTransferId: transfer.id,
        status: transfer.status as PlaidTransferStatus,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const [view] = (await selectTransfers(trx).where('id', '=', row.id).execute()).map(viewOf);
    views.push(view as PlaidTransferView);
    recordAudit(trx, actor, {
      action: 'plaid_transfer.created',
      entityId: leg.entry.entityId,
      objectType: 'plaid_transfer',
      objectId: row.id,
      after: { entryId: leg.entry.id, accountId: leg.accountId, direction: leg.direction, amountCents: leg.amountCents, plaidTransferId: transfer.id, status: transfer.status },
    });
  }
  return { via: 'plaid_transfer', status: movementStatus(views), transfers: views };
}

// ------------------------------------------------------------------------------------------------ events

const STATUS_OF_EVENT: Readonly<Record<string, PlaidTransferStatus>> = {
  pending: 'pending',
  posted: 'posted',
  settled: 'settled',
  funds_available: 'funds_available',
  cancelled: 'cancelled',
  failed: 'failed',
  returned: 'returned',
};
const FAILED: ReadonlySet<PlaidTransferStatus> = new Set(['failed', 'cancelled', 'returned']);

export interface TransferEventsReport {
  events: number;
  applied: number;
  reversed: number;
  pages: number;
  restarts: number;
  hasMore: boolean;
  lastEventId: number;
  /** What was applied in each entity's books: a caller is told only about the books it can see. */
  byEntity: Map<string, { applied: number; reversed: number }>;
}

class StaleEventCursor extends Error {}

/** Reverses what a failed leg booked: the whole crossing when the entry is one side of one, else the entry. */
async function reverseFailed(trx: Trx, entryId: string, reason: string): Promise<string> {
  const already = await trx.selectFrom('journalEntries').select('id').where('reversesEntryId', '=', entryId).executeTakeFirst();
  if (already) return already.id;
  const crossing = await trx
    .selectFrom('interEntityTransfers')
    .select(['id', 'fromEntryId'])
    .where((eb) => eb.or([eb('fromEntryId', '=', entryId), eb('toEntryId', '=', entryId)]))
    .executeTakeFirst();
  if (crossing) {
    const reversed = await reverseTransfer(trx, crossing.id, {}, SYSTEM);
    const mine = crossing.fromEntryId === entryId ? reversed.reversal?.fromReversalEntryId : reversed.reversal?.toReversalEntryId;
    return mine as string;
  }
  const reversal = await reverseEntry(trx, entryId, { description: `Reversed: ${reason}`.slice(0, 200) }, SYSTEM);
  return reversal.id;
}

async function applyEvent(trx: Trx, event: TransferEvent): Promise<{ applied: boolean; reversed: boolean; entityId?: string }> {
  const row = await trx
    .selectFrom('plaidTransfers')
    .select(['id', 'entityId', 'entryId', 'status', 'lastEventId', 'reversalEntryId'])
    .where('plaidTransferId', '=', event.transfer_id)
    .forUpdate()
    .executeTakeFirst();
  const status = STATUS_OF_EVENT[event.event_type];
  // Another client's transfer, an event already applied, or a sweep/refund event that does not change the status.
  if (!row || (row.lastEventId ?? 0) >= event.event_id || status === undefined) return { applied: false, reversed: false };
  const failure = event.failure_reason ? { code: event.failure_reason.failure_code ?? null, achReturnCode: event.failure_reason.ach_return_code ?? null, description: event.failure_reason.description ?? null } : null;
  let reversalEntryId = row.reversalEntryId;
  let reversed = false;
  if (FAILED.has(status) && reversalEntryId === null) {
    reversalEntryId = await reverseFailed(trx, row.entryId, `Plaid transfer ${status}${failure?.description ? ` (${failure.description})` : ''}`);
    reversed = true;
    // The bank may have shown the money coming back before this event: that line stands for the reversal.
    await matchWaitingLines(trx, [reversalEntryId], SYSTEM);
  }
  await trx
    .updateTable('plaidTransfers')
    .set({ status, failure: failure === null ? null : JSON.stringify(failure), lastEventId: event.event_id, reversalEntryId, updatedAt: new Date() })
    .where('id', '=', row.id)
    .execute();
  recordAudit(trx, SYSTEM, {
    action: 'plaid_transfer.status_changed',
    entityId: row.entityId,
    objectType: 'plaid_transfer',
    objectId: row.id,
    before: { status: row.status },
    after: { status, eventId: event.event_id, failure, reversalEntryId },
  });
  return { applied: true, reversed, entityId: row.entityId };
}

/**
 * Reads Plaid's transfer events after the stored cursor and applies them. Each page and the cursor that
 * acknowledges it are stored in one transaction; two runs at once cannot both apply a page (the cursor row is
 * locked and compared). Runs on TRANSFER_EVENTS_UPDATE, and on demand.
 */
export async function syncTransferEvents(deps: Deps): Promise<TransferEventsReport> {
  const plaid = requirePlaid(deps.plaid);
  const readCursor = async () => (await deps.db.selectFrom('plaidTransferEventCursor').select('lastEventId').where('id', '=', 1).executeTakeFirstOrThrow()).lastEventId;
  const report: TransferEventsReport = { events: 0, applied: 0, reversed: 0, pages: 0, restarts: 0, hasMore: false, lastEventId: await readCursor(), byEntity: new Map() };
  let afterId = report.lastEventId;
  for (;;) {
    if (report.pages >= TRANSFER_EVENT_PAGES_MAX) {
      report.hasMore = true;
      break;
    }
    const page = await callPlaid(() => plaid.client.transferEventSync({ after_id: afterId, count: TRANSFER_EVENT_PAGE_SIZE }));
    const expected = afterId;
    try {
      const outcome = await auditedTransaction(deps.db, async (trx) => {
        const cursor = await trx.selectFrom('plaidTransferEventCursor').select('lastEventId').where('id', '=', 1).forUpdate().executeTakeFirstOrThrow();
        if (cursor.lastEventId !== expected) throw new StaleEventCursor();
        let last = expected;
        const results: Awaited<ReturnType<typeof applyEvent>>[] = [];
        for (const event of [...page.transfer_events].sort((a, b) => a.event_id - b.event_id)) {
          results.push(await applyEvent(trx, event));
          last = Math.max(last, event.event_id);
        }
        await trx.updateTable('plaidTransferEventCursor').set({ lastEventId: last, updatedAt: new Date() }).where('id', '=', 1).execute();
        return { results, last };
      });
      report.pages += 1;
      report.events += page.transfer_events.length;
      for (const result of outcome.results) {
        if (!result.applied || result.entityId === undefined) continue;
        const counts = report.byEntity.get(result.entityId) ?? { applied: 0, reversed: 0 };
        counts.applied += 1;
        report.applied += 1;
        if (result.reversed) {
          counts.reversed += 1;
          report.reversed += 1;
        }
        report.byEntity.set(result.entityId, counts);
      }
      report.lastEventId = outcome.last;
      afterId = outcome.last;
    } catch (error) {
      if (!(error instanceof StaleEventCursor) || report.restarts >= SYNC_RESTARTS_MAX) throw error;
      report.restarts += 1;
      afterId = await readCursor();
      continue;
    }
    if (!page.has_more) break;
  }
  return report;
}
