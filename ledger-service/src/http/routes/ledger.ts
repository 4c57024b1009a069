import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import type { Deps } from '../../services/context';
import * as accounts from '../../services/accounts';
import { entityBalances } from '../../services/balances';
import * as balanceHistory from '../../services/balance-history';
import { historyWindow } from '../../domain/balance-history';
import * as entities from '../../services/entities';
import * as journal from '../../services/journal';
import { bookEntriesFast } from '../../services/journal-fast';
import { moveMoney } from '../../services/plaid-transfer';
import { releaseBankLines } from '../../services/bank-booking';
import { authorizeAccount, authorizeEntity, authorizeEntry, requireScope } from '../../security/authorization';
import { RuleViolation } from '../../domain/errors';
import { createMounter, type ActorResolver } from '../route';
import { MoneyMovement } from '../plaid-schemas';
import * as s from '../schemas';
import { z } from '../zod';

const EntityParams = z.object({ entityId: s.Id });
const AccountParams = z.object({ accountId: s.Id });
const EntryParams = z.object({ entryId: s.Id });

export function mountLedgerRoutes(router: Router, registry: OpenAPIRegistry, deps: Deps, actorOf: ActorResolver) {
  const mount = createMounter(router, registry, deps, actorOf);

  mount({
    method: 'post',
    path: '/entities',
    tag: 'entities',
    summary: 'Create an entity: an LLC or a person, each with its own books',
    idempotent: true,
    body: s.NewEntity,
    responses: { 201: { description: 'created', schema: s.Entity } },
    handler: async ({ body, actor, trx }) => {
      // New books belong to the user who opens them; an API token is confined to existing entities.
      if (actor.type !== 'user') throw new RuleViolation('forbidden', 'only a signed-in user can create an entity');
      return { status: 201, body: await entities.createEntity(trx, body, actor) };
    },
  });
  mount({
    method: 'get',
    path: '/entities',
    tag: 'entities',
    summary: 'List entities',
    responses: { 200: { description: 'entities', schema: z.object({ items: z.array(s.Entity) }) } },
    handler: async ({ actor }) => {
      requireScope(actor, 'read');
      return { status: 200, body: { items: await entities.listEntities(deps.db, actor) } };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId',
    tag: 'entities',
    summary: 'Get an entity',
    params: EntityParams,
    responses: { 200: { description: 'the entity', schema: s.Entity } },
    handler: async ({ params, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: await entities.getEntity(deps.db, params.entityId) };
    },
  });

  mount({
    method: 'post',
    path: '/entities/:entityId/accounts',
    tag: 'accounts',
    summary: 'Open an account in an entity\'s chart of accounts',
    idempotent: true,
    params: EntityParams,
    body: s.NewAccount,
    responses: { 201: { description: 'created', schema: s.Account } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, params.entityId, 'write');
      return { status: 201, body: await accounts.createAccount(trx, params.entityId, body, actor) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/accounts',
    tag: 'accounts',
    summary: 'List the accounts of an entity with their balances',
    params: EntityParams,
    query: s.AccountListQuery,
    responses: { 200: { description: 'accounts', schema: z.object({ items: z.array(s.Account) }) } },
    handler: async ({ params, query, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return {
        status: 200,
        body: {
          items: await accounts.listAccounts(deps.db, params.entityId, {
            includeArchived: query.includeArchived === 'true',
          }),
        },
      };
    },
  });
  mount({
    method: 'get',
    path: '/accounts/:accountId',
    tag: 'accounts',
    summary: 'Get an account and its balance',
    params: AccountParams,
    responses: { 200: { description: 'the account', schema: s.Account } },
    handler: async ({ params, actor }) => {
      await authorizeAccount(deps.db, actor, params.accountId, 'read');
      return { status: 200, body: await accounts.getAccount(deps.db, params.accountId) };
    },
  });
  mount({
    method: 'patch',
    path: '/accounts/:accountId',
    tag: 'accounts',
    summary: 'Rename or archive an account (an account with a balance cannot be archived)',
    idempotent: true,
    params: AccountParams,
    body: s.AccountChanges,
    responses: { 200: { description: 'the account', schema: s.Account } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeAccount(trx, actor, params.accountId, 'write');
      return { status: 200, body: await accounts.updateAccount(trx, params.accountId, body, actor) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/balances',
    tag: 'accounts',
    summary: 'Balances of every account of an entity, now or as of a date',
    params: EntityParams,
    query: s.BalancesQuery,
    responses: { 200: { description: 'balances', schema: s.Balances } },
    handler: async ({ params, query, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: await entityBalances(deps.db, params.entityId, query.asOf) };
    },
  });

  const today = () => new Date(deps.security.now()).toISOString().slice(0, 10);
  mount({
    method: 'get',
    path: '/entities/:entityId/balance-history',
    tag: 'accounts',
    summary: 'Net worth (assets less liabilities) at the end of each day or month of a window, per currency',
    params: EntityParams,
    query: s.BalanceHistoryQuery,
    responses: { 200: { description: 'net worth over time', schema: s.EntityNetWorthHistory } },
    handler: async ({ params, query, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: await balanceHistory.entityNetWorthHistory(deps.db, params.entityId, historyWindow(query, today())) };
    },
  });
  mount({
    method: 'get',
    path: '/accounts/:accountId/balance-history',
    tag: 'accounts',
    summary: 'Balance of one account at the end of each day or month of a window',
    params: AccountParams,
    query: s.BalanceHistoryQuery,
    responses: { 200: { description: 'the account balance over time', schema: s.AccountBalanceHistory } },
    handler: async ({ params, query, actor }) => {
      await authorizeAccount(deps.db, actor, params.accountId, 'read');
      return { status: 200, body: await balanceHistory.accountBalanceHistory(deps.db, params.accountId, historyWindow(query, today())) };
    },
  });

  mount({
    method: 'post',
    path: '/entities/:entityId/entries',
    tag: 'journal',
    summary: 'Book one balanced journal entry',
    idempotent: true,
    params: EntityParams,
    body: s.NewEntryRequest,
    responses: { 201: { description: 'booked', schema: s.Entry.extend({ moneyMovement: MoneyMovement.optional() }) } },
    // Moving real money calls Plaid inside the write's transaction: the long way.
    fastPath: ({ params, body, actor, idempotency }) => {
      const { moveMoney: how, ...entry } = body;
      return how === 'plaid_transfer' ? Promise.resolve(undefined) : bookEntriesFast(deps, idempotency, params.entityId, [entry], actor, true);
    },
    handler: async ({ params, body, actor, trx, req }) => {
      const { entityId } = params;
      const { moveMoney: how, ...draft } = body;
      await authorizeEntity(trx, actor, entityId, 'write');
      if (how === 'plaid_transfer') await authorizeEntity(trx, actor, entityId, 'move_money');
      const [entry] = await journal.bookEntries(trx, entityId, [draft], actor);
      const { replayed: _replayed, ...view } = entry as journal.BookedEntry;
      if (how !== 'plaid_transfer') return { status: 201, body: view };
      // The request's own Idempotency-Key names the movement to Plaid, so a retry after a lost commit is answered
      // with the transfer Plaid already made rather than a second one.
      const moneyMovement = await moveMoney(trx, deps, actor, [{ id: view.id, entityId, description: view.description, plaidKey: `entry:${req.get('idempotency-key') ?? view.id}` }]);
      return { status: 201, body: { ...view, moneyMovement } };
    },
  });
  mount({
    method: 'post',
    path: '/entities/:entityId/entries/batch',
    tag: 'journal',
    summary: `Book up to 1,000 entries atomically: all or nothing, with every entry's error reported`,
    idempotent: true,
    params: EntityParams,
    body: s.NewBatch,
    responses: { 201: { description: 'booked', schema: s.BatchResult.extend({ moneyMovement: MoneyMovement.optional() }) } },
    // Moving real money calls Plaid inside the write's transaction: the long way.
    fastPath: ({ params, body, actor, idempotency }) =>
      body.moveMoney === 'plaid_transfer' ? Promise.resolve(undefined) : bookEntriesFast(deps, idempotency, params.entityId, body.entries, actor, false),
    handler: async ({ params, body, actor, trx, req }) => {
      const { entityId } = params;
      await authorizeEntity(trx, actor, entityId, 'write');
      if (body.moveMoney === 'plaid_transfer') await authorizeEntity(trx, actor, entityId, 'move_money');
      const entries = await journal.bookEntries(trx, entityId, body.entries, actor);
      if (body.moveMoney !== 'plaid_transfer') return { status: 201, body: { entries } };
      // Entries replayed by their own key were booked (and their money moved, or not) by an earlier request.
      const fresh = entries.flatMap((entry, index) =>
        entry.replayed ? [] : [{ id: entry.id, entityId, description: entry.description, plaidKey: entry.idempotencyKey ?? `batch:${req.get('idempotency-key') ?? entry.id}#${index}` }],
      );
      if (fresh.length === 0) return { status: 201, body: { entries } };
      // Each entry of a batch is a movement of its own: one that cannot move real money refuses the whole batch.
      const moneyMovement = await moveMoney(trx, deps, actor, fresh, 'each');
      return { status: 201, body: { entries, moneyMovement } };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/entries',
    tag: 'journal',
    summary: 'List entries, newest first, with filters and cursor pagination',
    params: EntityParams,
    query: s.EntryQuery,
    responses: { 200: { description: 'a page of entries', schema: s.EntryPage } },
    handler: async ({ params, query, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      const filters = query;
      return {
        status: 200,
        body: await journal.listEntries(deps.db, params.entityId, {
          accountId: filters.accountId,
          fromOn: filters.from,
          toOn: filters.to,
          source: filters.source,
          search: filters.q,
          limit: filters.limit,
          cursor: filters.cursor,
        }),
      };
    },
  });
  mount({
    method: 'get',
    path: '/entries/:entryId',
    tag: 'journal',
    summary: 'Get an entry with its postings',
    params: EntryParams,
    responses: { 200: { description: 'the entry', schema: s.Entry } },
    handler: async ({ params, actor }) => {
      await authorizeEntry(deps.db, actor, params.entryId, 'read');
      return { status: 200, body: await journal.getEntry(deps.db, params.entryId) };
    },
  });
  mount({
    method: 'post',
    path: '/entries/:entryId/reverse',
    tag: 'journal',
    summary: 'Correct an entry by booking its reversal (entries are never edited or deleted)',
    idempotent: true,
    params: EntryParams,
    body: s.Reversal,
    responses: { 201: { description: 'the reversing entry', schema: s.Entry } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntry(trx, actor, params.entryId, 'write');
      const reversal = await journal.reverseEntry(trx, params.entryId, body, actor);
      // The owner's correction: bank lines that stood for the entry wait to be categorised again.
      await releaseBankLines(trx, params.entryId, reversal.id, actor);
      return { status: 201, body: reversal };
    },
  });
}
