import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import type { AfrRow } from '../../domain/afr';
import type { Deps } from '../../services/context';
import * as documents from '../../services/documents';
import * as consolidated from '../../services/consolidated';
import * as balanceHistory from '../../services/balance-history';
import { historyWindow } from '../../domain/balance-history';
import * as guard from '../../services/guard';
import * as health from '../../services/health';
import { getAccount } from '../../services/accounts';
import { getEntry } from '../../services/journal';
import * as veil from '../../services/veil';
import { moveMoney } from '../../services/plaid-transfer';
import { emitEvent } from '../../services/events';
import { authorizeEntity, type Need } from '../../security/authorization';
import type { Actor } from '../../services/context';
import { createMounter, parsePart, type ActorResolver } from '../route';
import * as s from '../schemas';
import * as v from '../veil-schemas';
import { z } from '../zod';

const EntityParams = z.object({ entityId: s.Id });
const TransferParams = z.object({ transferId: s.Id });
const DocumentParams = z.object({ documentId: s.Id });
const BinderParams = z.object({ entityId: s.Id, year: v.Year });

function parseParams<T extends z.ZodType>(schema: T, value: unknown) {
  return parsePart(schema, value, 'params') as z.infer<T>;
}

type Reader = Parameters<typeof authorizeEntity>[0];

/**
 * Every handler authorizes each entity it touches before doing any work: crossings move money between books, so
 * they need `move_money` (and an MFA session) on both sides; looking needs `read` on every entity named.
 */
async function touches(db: Reader, actor: Actor, need: Need, ...entityIds: (string | undefined)[]): Promise<void> {
  for (const entityId of new Set(entityIds)) if (entityId !== undefined) await authorizeEntity(db, actor, entityId, need);
}

export function mountVeilRoutes(router: Router, registry: OpenAPIRegistry, deps: Deps, actorOf: ActorResolver, afrRows: readonly AfrRow[]) {
  const mount = createMounter(router, registry, deps, actorOf);

  mount({
    method: 'post',
    path: '/transfers',
    tag: 'veil',
    summary: 'Move money between an LLC and its owner: two entries, one in each book, classified and documented',
    idempotent: true,
    body: v.NewTransfer,
    responses: { 201: { description: 'booked in both books', schema: v.TransferWithEntries } },
    handler: async ({ body, actor, trx, req }) => {
      await touches(trx, actor, 'move_money', body.fromEntityId, body.toEntityId);
      const { moveMoney: how, ...input } = body;
      const transfer = await veil.createTransfer(trx, input, actor, afrRows);
      if (how !== 'plaid_transfer') return { status: 201, body: transfer };
      const key = `transfer:${req.get('idempotency-key') ?? transfer.id}`;
      const moneyMovement = await moveMoney(trx, deps, actor, [
        { id: transfer.fromEntryId, entityId: transfer.fromEntityId, description: transfer.fromEntry.description, plaidKey: `${key}:from` },
        { id: transfer.toEntryId, entityId: transfer.toEntityId, description: transfer.toEntry.description, plaidKey: `${key}:to` },
      ]);
      return { status: 201, body: { ...transfer, moneyMovement } };
    },
  });
  mount({
    method: 'get',
    path: '/transfers/:transferId',
    tag: 'veil',
    summary: 'Get an inter-entity transfer with both entries',
    params: TransferParams,
    responses: { 200: { description: 'the transfer', schema: v.TransferWithEntries } },
    handler: async ({ params, actor }) => {
      const transfer = await veil.getTransfer(deps.db, params.transferId);
      await touches(deps.db, actor, 'read', transfer.fromEntityId, transfer.toEntityId);
      return { status: 200, body: transfer };
    },
  });
  mount({
    method: 'post',
    path: '/transfers/:transferId/reverse',
    tag: 'veil',
    summary: 'Reverse both entries of a transfer at once',
    idempotent: true,
    params: TransferParams,
    body: v.TransferReversal,
    responses: { 201: { description: 'the transfer with its two reversing entries', schema: v.TransferWithEntries } },
    handler: async ({ params, body, actor, trx }) => {
      const { fromEntityId, toEntityId } = await veil.getTransferIn(trx, params.transferId);
      await touches(trx, actor, 'move_money', fromEntityId, toEntityId);
      return { status: 201, body: await veil.reverseTransfer(trx, params.transferId, body, actor) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/transfers',
    tag: 'veil',
    summary: 'Inter-entity transfers of an entity (either side), by year and classification',
    params: EntityParams,
    query: v.TransferQuery,
    responses: { 200: { description: 'transfers', schema: z.object({ items: z.array(v.Transfer) }) } },
    handler: async ({ params, query, actor }) => {
      await touches(deps.db, actor, 'read', params.entityId);
      return { status: 200, body: { items: await veil.listTransfers(deps.db, params.entityId, query) } };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/veil-policy',
    tag: 'veil',
    summary: "An entity's veil policy (what a draw beyond cash or equity does)",
    params: EntityParams,
    responses: { 200: { description: 'the policy', schema: v.VeilPolicy } },
    handler: async ({ params, actor }) => {
      await touches(deps.db, actor, 'read', params.entityId);
      return { status: 200, body: await veil.getVeilPolicy(deps.db, params.entityId) };
    },
  });
  mount({
    method: 'patch',
    path: '/entities/:entityId/veil-policy',
    tag: 'veil',
    summary: "Change an entity's veil policy",
    idempotent: true,
    params: EntityParams,
    body: v.VeilPolicyChanges,
    responses: { 200: { description: 'the policy', schema: v.VeilPolicy } },
    handler: async ({ params, body, actor, trx }) => {
      await touches(trx, actor, 'write', params.entityId);
      return { status: 200, body: await veil.setVeilPolicy(trx, params.entityId, body, actor) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/veil/pairing',
    tag: 'veil',
    summary: 'The pairing invariant: inter-entity balances of this entity and its counterparties, and any mismatch',
    params: EntityParams,
    responses: { 200: { description: 'the report', schema: v.PairingReport } },
    handler: async ({ params, actor }) => {
      await touches(deps.db, actor, 'read', params.entityId);
      return { status: 200, body: await veil.pairingReport(deps.db, params.entityId) };
    },
  });

  mount({
    method: 'post',
    path: '/guard/evaluate',
    tag: 'guard',
    summary: 'Entity Guard: judge a proposed movement or a bank line: allow, document (allowed once documented) or block',
    body: v.GuardRequest,
    responses: { 200: { description: 'the verdict; nothing is written', schema: v.GuardVerdict } },
    handler: async ({ body, actor }) => {
      const movement = 'movement' in body ? body.movement : guard.movementOfBankLine(body.bankLine);
      const accounts = await guard.guardAccounts(deps.db, movement);
      await touches(deps.db, actor, 'read', accounts.source.entityId, accounts.target?.entityId);
      const today = new Date().toISOString().slice(0, 10);
      const verdict = await guard.evaluateMovement(deps.db, movement, accounts, afrRows, today);
      if (verdict.decision === 'block') {
        // Nothing else is written by an evaluation; the violation itself is the event subscribers asked for.
        await deps.db.transaction().execute((trx) =>
          emitEvent(trx, accounts.source.entityId, 'veil.violation', { ...body, verdict }),
        );
      }
      return { status: 200, body: verdict };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/veil-health',
    tag: 'veil health',
    summary: 'Veil health of an entity over a period: findings, a score with its reasons, and the fixes that apply',
    params: EntityParams,
    query: v.PeriodQuery,
    responses: { 200: { description: 'the health report', schema: v.VeilHealth } },
    handler: async ({ params, query, actor }) => {
      await touches(deps.db, actor, 'read', params.entityId);
      const today = new Date().toISOString().slice(0, 10);
      return { status: 200, body: await health.veilHealth(deps.db, params.entityId, { fromOn: query.from, toOn: query.to }, today) };
    },
  });
  mount({
    method: 'post',
    path: '/veil-health/fixes',
    tag: 'veil health',
    summary: 'Apply a suggested fix: reverse the entry and book it as the crossing it was (a draw, or a reimbursement owed)',
    idempotent: true,
    body: v.HealthFix,
    responses: { 201: { description: 'the reversal and the new transfer', schema: v.HealthFixResult } },
    handler: async ({ body, actor, trx }) => {
      const { entityId } = await getEntry(trx, body.entryId);
      const { entityId: otherEntityId } = await getAccount(trx, body.fix === 'reclassify_as_draw' ? body.personalAccountId : body.llcExpenseAccountId);
      await touches(trx, actor, 'move_money', entityId, otherEntityId);
      return { status: 201, body: await health.applyFix(trx, body, actor, afrRows) };
    },
  });
  mount({
    method: 'get',
    path: '/consolidated',
    tag: 'veil health',
    summary: "Several entities' books as one (net worth, net income, cash flow) with balances between them eliminated",
    query: v.ConsolidatedQuery,
    responses: { 200: { description: 'the consolidated view', schema: v.ConsolidatedView } },
    handler: async ({ query, actor }) => {
      const toOn = query.to ?? new Date().toISOString().slice(0, 10);
      const fromOn = query.from ?? `${toOn.slice(0, 4)}-01-01`;
      await touches(deps.db, actor, 'read', ...query.entityIds);
      return { status: 200, body: await consolidated.consolidatedView(deps.db, query.entityIds, { fromOn, toOn }) };
    },
  });
  mount({
    method: 'get',
    path: '/consolidated/balance-history',
    tag: 'veil health',
    summary: "Several entities' net worth over time as one group (balances between them eliminated), and each entity's own",
    query: v.ConsolidatedHistoryQuery,
    responses: { 200: { description: 'net worth over time', schema: s.ConsolidatedNetWorthHistory } },
    handler: async ({ query, actor }) => {
      await touches(deps.db, actor, 'read', ...query.entityIds);
      const window = historyWindow(query, new Date(deps.security.now()).toISOString().slice(0, 10));
      return { status: 200, body: await balanceHistory.consolidatedNetWorthHistory(deps.db, query.entityIds, window) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/documents',
    tag: 'documents',
    summary: 'Veil documents of an entity (either side of the crossing), optionally for one year',
    params: EntityParams,
    query: v.DocumentQuery,
    responses: { 200: { description: 'documents', schema: z.object({ items: z.array(v.VeilDocument) }) } },
    handler: async ({ params, query, actor }) => {
      await touches(deps.db, actor, 'read', params.entityId);
      const items = await documents.listDocuments(deps.db, params.entityId, query.year);
      return { status: 200, body: { items: items.map(({ markdown: _markdown, ...item }) => item) } };
    },
  });
  mount({
    method: 'get',
    path: '/documents/:documentId',
    tag: 'documents',
    summary: 'A veil document with its Markdown and SHA-256',
    params: DocumentParams,
    responses: { 200: { description: 'the document', schema: v.VeilDocumentWithMarkdown } },
    handler: async ({ params, actor }) => {
      const document = await documents.getDocument(deps.db, params.documentId);
      await touches(deps.db, actor, 'read', document.fromEntityId, document.toEntityId);
      return { status: 200, body: document };
    },
  });

  // Files, not JSON: mounted directly, described in the OpenAPI document by hand.
  registry.registerPath({
    method: 'get',
    path: '/documents/{documentId}/markdown',
    summary: 'A veil document as Markdown (the stored original)',
    tags: ['documents'],
    security: [{ bearer: [] }],
    request: { params: DocumentParams },
    responses: { 200: { description: 'text/markdown', content: { 'text/markdown': { schema: z.string() } } } },
  });
  router.get('/documents/:documentId/markdown', async (req, res) => {
    const actor = await actorOf(req);
    const { documentId } = parseParams(DocumentParams, req.params);
    const document = await documents.getDocument(deps.db, documentId);
    await touches(deps.db, actor, 'read', document.fromEntityId, document.toEntityId);
    res.setHeader('Content-Type', 'text/markdown; charset=utf-8');
    res.setHeader('X-Content-SHA256', document.sha256);
    res.send(document.markdown);
  });
  registry.registerPath({
    method: 'get',
    path: '/documents/{documentId}/pdf',
    summary: 'A veil document rendered as PDF',
    tags: ['documents'],
    security: [{ bearer: [] }],
    request: { params: DocumentParams },
    responses: { 200: { description: 'application/pdf', content: { 'application/pdf': { schema: z.string() } } } },
  });
  router.get('/documents/:documentId/pdf', async (req, res) => {
    const actor = await actorOf(req);
    const { documentId } = parseParams(DocumentParams, req.params);
    const document = await documents.getDocument(deps.db, documentId);
    await touches(deps.db, actor, 'read', document.fromEntityId, document.toEntityId);
    const pdf = await documents.renderPdf(document);
    res.setHeader('Content-Type', 'application/pdf');
    res.setHeader('Content-Disposition', `inline; filename="${document.kind}-${document.id.slice(0, 8)}.pdf"`);
    res.setHeader('X-Source-SHA256', document.sha256);
    res.send(Buffer.from(pdf));
  });
  registry.registerPath({
    method: 'get',
    path: '/entities/{entityId}/binder/{year}',
    summary: "The year's veil binder: every document as Markdown and PDF, with a SHA-256 index, in one zip",
    tags: ['documents'],
    security: [{ bearer: [] }],
    request: { params: BinderParams },
    responses: { 200: { description: 'application/zip', content: { 'application/zip': { schema: z.string() } } } },
  });
  router.get('/entities/:entityId/binder/:year', async (req, res) => {
    const actor = await actorOf(req);
    const { entityId, year } = parseParams(BinderParams, req.params);
    await touches(deps.db, actor, 'read', entityId);
    const binder = await documents.veilBinder(deps.db, entityId, year);
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader('Content-Disposition', `attachment; filename="${binder.fileName}"`);
    res.send(Buffer.from(binder.zip));
  });
}
