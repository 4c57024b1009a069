import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import { RuleViolation } from '../../domain/errors';
import { authorizeEntity } from '../../security/authorization';
import { requirePlaid } from '../../plaid/client';
import { verifyPlaidWebhook } from '../../plaid/webhook-verifier';
import type { Deps } from '../../services/context';
import * as plaid from '../../services/plaid';
import * as plaidTransfer from '../../services/plaid-transfer';
import { completeDemoLink } from '../../services/plaid-demo';
import { refreshInvestments, refreshLiabilities } from '../../services/plaid-refresh';
import { createMounter, type ActorResolver } from '../route';
import * as p from '../plaid-schemas';
import * as s from '../schemas';
import { z } from '../zod';

const ItemParams = z.object({ itemId: s.Id });
const EntityParams = z.object({ entityId: s.Id });

/** The raw bytes of a webhook body, kept by the JSON parser (app.ts) for the signature check. */
export const RAW_BODY = Symbol('rawBody');

/**
 * Bank sync. Linking and syncing write through their own transactions: a sync stores each Plaid page with its
 * cursor, so it is safe to repeat (a second sync books nothing new) and needs no Idempotency-Key.
 */
export function mountPlaidRoutes(router: Router, registry: OpenAPIRegistry, deps: Deps, actorOf: ActorResolver) {
  const mount = createMounter(router, registry, deps, actorOf);

  mount({
    method: 'post',
    path: '/plaid/link-token',
    tag: 'plaid',
    summary: 'A Plaid Link token for linking a bank login to an entity (with this service as webhook)',
    body: p.LinkTokenRequest,
    responses: { 201: { description: 'the link token', schema: p.LinkToken } },
    handler: async ({ body, actor }) => {
      await authorizeEntity(deps.db, actor, body.entityId, 'write');
      return { status: 201, body: await plaid.createLinkToken(deps, actor, body.entityId) };
    },
  });
  mount({
    method: 'post',
    path: '/plaid/demo/link',
    tag: 'plaid',
    summary: "Demo only (the bundled emulator): finish Link as the user would in Plaid's window; answers the public token to exchange, or null when an update-mode token repaired an item",
    body: p.DemoLinkRequest,
    responses: { 200: { description: 'the public token', schema: p.DemoLink } },
    handler: async ({ body }) => ({ status: 200, body: await completeDemoLink(deps, body) }),
  });
  mount({
    method: 'post',
    path: '/plaid/items',
    tag: 'plaid',
    summary: "Exchange Link's public token and store the item in the chosen entity, with one account per Plaid account",
    idempotent: true,
    body: p.LinkItemRequest,
    responses: { 201: { description: 'the linked item and its accounts', schema: p.PlaidItem } },
    handler: async ({ body, actor, trx }) => ({ status: 201, body: await plaid.linkItem(trx, deps, actor, body) }),
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/plaid/items',
    tag: 'plaid',
    summary: "An entity's linked Plaid items, their status and accounts (with card and loan terms and holdings)",
    params: EntityParams,
    responses: { 200: { description: 'the items', schema: p.PlaidItemList } },
    handler: async ({ params, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: { items: await plaid.listPlaidItems(deps.db, params.entityId) } };
    },
  });
  mount({
    method: 'post',
    path: '/plaid/items/:itemId/sync',
    tag: 'plaid',
    summary: 'Pull new, changed and removed transactions from Plaid into bank lines and book what can be booked',
    params: ItemParams,
    query: p.SyncQuery,
    responses: { 200: { description: 'what the sync did', schema: p.SyncReport } },
    handler: async ({ params, query, actor }) => {
      await plaid.authorizePlaidItem(deps.db, actor, params.itemId, 'write');
      requirePlaid(deps.plaid);
      return { status: 200, body: await plaid.syncItem(deps, actor, params.itemId, { pagesMax: query.pagesMax }) };
    },
  });
  mount({
    method: 'get',
    path: '/plaid/items/:itemId/accounts',
    tag: 'plaid',
    summary: "The item's accounts with balances fetched live from Plaid (refresh=false: the last stored ones)",
    params: ItemParams,
    query: z.object({ refresh: z.enum(['true', 'false']).default('true') }),
    responses: { 200: { description: 'the item and its accounts', schema: p.PlaidItem } },
    handler: async ({ params, query, actor }) => {
      await plaid.authorizePlaidItem(deps.db, actor, params.itemId, 'read');
      if (query.refresh === 'false') return { status: 200, body: await plaid.getPlaidItem(deps.db, params.itemId) };
      requirePlaid(deps.plaid);
      return { status: 200, body: await plaid.refreshBalances(deps, actor, params.itemId) };
    },
  });
  mount({
    method: 'post',
    path: '/plaid/items/:itemId/refresh-liabilities',
    tag: 'plaid',
    summary: 'Fetch card and loan terms from Plaid: APR and rates on the accounts, and one bill per card, mortgage and student loan (statement balance or payment, due date); repeatable',
    params: ItemParams,
    responses: { 200: { description: 'the bills created or updated', schema: p.LiabilitiesRefresh } },
    handler: async ({ params, actor }) => {
      await plaid.authorizePlaidItem(deps.db, actor, params.itemId, 'write');
      requirePlaid(deps.plaid);
      return { status: 200, body: await refreshLiabilities(deps, actor, params.itemId) };
    },
  });
  mount({
    method: 'post',
    path: '/plaid/items/:itemId/refresh-investments',
    tag: 'plaid',
    summary: "Fetch holdings, securities and the last 24 months of investment transactions into the item's brokerage and retirement accounts; repeatable",
    params: ItemParams,
    responses: { 200: { description: 'what was stored', schema: p.InvestmentsRefresh } },
    handler: async ({ params, actor }) => {
      await plaid.authorizePlaidItem(deps.db, actor, params.itemId, 'write');
      requirePlaid(deps.plaid);
      const today = new Date(deps.security.now()).toISOString().slice(0, 10);
      return { status: 200, body: await refreshInvestments(deps, actor, params.itemId, today) };
    },
  });
  mount({
    method: 'post',
    path: '/plaid/items/:itemId/update-link-token',
    tag: 'plaid',
    summary: 'A Link token in update mode, to repair an item whose login or consent needs the user',
    params: ItemParams,
    responses: { 201: { description: 'the link token', schema: p.LinkToken } },
    handler: async ({ params, actor }) => {
      const entityId = await plaid.authorizePlaidItem(deps.db, actor, params.itemId, 'write');
      return { status: 201, body: await plaid.createLinkToken(deps, actor, entityId, params.itemId) };
    },
  });
  mount({
    method: 'post',
    path: '/plaid/webhook',
    tag: 'plaid',
    summary: 'Plaid webhooks (verified: ES256 Plaid-Verification JWT, body SHA-256, at most 5 minutes old)',
    public: true,
    documentBody: p.WebhookBody,
    responses: { 200: { description: 'acted on', schema: p.WebhookReply } },
    handler: async ({ req }) => {
      const configured = requirePlaid(deps.plaid);
      const raw = (req as unknown as Record<symbol, Buffer | undefined>)[RAW_BODY];
      await verifyPlaidWebhook(configured, raw, req.get('plaid-verification'), deps.security.now());
      // Only a verified body is parsed and acted on.
      const body = p.WebhookBody.safeParse(JSON.parse((raw as Buffer).toString('utf8')));
      if (!body.success) return { status: 200, body: { received: true, action: 'ignored' } };
      // Transfer's webhook is about the Plaid client, not an item: it carries no item_id.
      if (body.data.webhook_type === 'TRANSFER' && body.data.webhook_code === 'TRANSFER_EVENTS_UPDATE') {
        await plaidTransfer.syncTransferEvents(deps);
        return { status: 200, body: { received: true, action: 'transfer_events_synced' } };
      }
      const outcome = await plaid.handleWebhook(deps, body.data);
      return { status: 200, body: { received: true, action: outcome.action } };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/plaid/transfer-settings',
    tag: 'plaid',
    summary: 'Whether this entity moves real money through Plaid Transfer, under which name and on which network',
    params: EntityParams,
    responses: { 200: { description: 'the settings', schema: p.PlaidTransferSettings } },
    handler: async ({ params, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: await plaidTransfer.getTransferSettings(deps.db, params.entityId) };
    },
  });
  mount({
    method: 'put',
    path: '/entities/:entityId/plaid/transfer-settings',
    tag: 'plaid',
    summary: 'Enable or disable moving real money through Plaid Transfer for this entity (needs move_money)',
    idempotent: true,
    params: EntityParams,
    body: p.PlaidTransferSettingsChanges,
    responses: { 200: { description: 'the settings', schema: p.PlaidTransferSettings } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, params.entityId, 'move_money');
      return { status: 200, body: await plaidTransfer.setTransferSettings(trx, params.entityId, body, actor) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/plaid/transfers',
    tag: 'plaid',
    summary: "The entity's Plaid transfers (one per leg of an entry that moved real money), oldest first, with status",
    params: EntityParams,
    query: p.PlaidTransferQuery,
    responses: { 200: { description: 'the transfers', schema: z.object({ items: z.array(p.PlaidTransfer) }) } },
    handler: async ({ params, query, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: { items: await plaidTransfer.listPlaidTransfers(deps.db, params.entityId, query) } };
    },
  });
  mount({
    method: 'post',
    path: '/plaid/transfers/sync-events',
    tag: 'plaid',
    summary: "Read Plaid's transfer events since the last run and apply them (settle, or reverse failed and returned); what TRANSFER_EVENTS_UPDATE does",
    responses: { 200: { description: "what was applied in the caller's books", schema: p.TransferEventsReport } },
    handler: async ({ actor }) => {
      if (!actor.scopes.includes('write')) throw new RuleViolation('forbidden', 'applying transfer events needs the write scope');
      const report = await plaidTransfer.syncTransferEvents(deps);
      // Plaid's events concern every book of this service: the caller hears only about its own.
      let applied = 0;
      let reversed = 0;
      for (const [entityId, counts] of report.byEntity) {
        const visible = await authorizeEntity(deps.db, actor, entityId, 'read').then(
          () => true,
          () => false,
        );
        if (!visible) continue;
        applied += counts.applied;
        reversed += counts.reversed;
      }
      return { status: 200, body: { applied, reversed, hasMore: report.hasMore } };
    },
  });
}
