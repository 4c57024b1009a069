import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import { authorizeAccount, authorizeBankLine, authorizeEntity, authorizeImport, authorizeRule } from '../../security/authorization';
import type { Deps } from '../../services/context';
import * as imports from '../../services/imports';
import * as rules from '../../services/rules';
import { addBalanceAssertion, reconcile } from '../../services/reconciliation';
import { loadAfrTable } from '../../services/reference';
import { listTransferProposals, type GuardContext } from '../../services/transfer-matching';
import { BankLine } from '../bank-line-schemas';
import * as i from '../import-schemas';
import { createMounter, type ActorResolver } from '../route';
import * as s from '../schemas';
import { readUpload, uploadedBytes } from '../upload';
import { z } from '../zod';

const AccountParams = z.object({ accountId: s.Id });
const EntityParams = z.object({ entityId: s.Id });
const ImportParams = z.object({ importId: s.Id });
const BankLineParams = z.object({ bankLineId: s.Id });
const RuleParams = z.object({ ruleId: s.Id });
const UPLOAD_CONTENT = { 'multipart/form-data': i.UploadForm, 'application/octet-stream': i.RawUpload };

/** Statement imports, manual bank lines, the review queue and categorisation rules. */
export function mountImportRoutes(router: Router, registry: OpenAPIRegistry, deps: Deps, actorOf: ActorResolver) {
  const mount = createMounter(router, registry, deps, actorOf);
  const afrRows = deps.afrRows ?? loadAfrTable();
  const guard = (): GuardContext => ({ afrRows, today: new Date().toISOString().slice(0, 10) });

  mount({
    method: 'post',
    path: '/accounts/:accountId/imports',
    tag: 'imports',
    summary: 'Import a statement file into one account: new lines stored, exact duplicates skipped and counted, near-duplicates sent to review, rules applied',
    idempotent: true,
    params: AccountParams,
    body: i.UploadBody,
    upload: {
      authorize: async ({ params, actor }) => {
        await authorizeAccount(deps.db, actor, params.accountId, 'write');
      },
      read: readUpload,
      content: UPLOAD_CONTENT,
    },
    responses: { 201: { description: 'the import report', schema: i.ImportReport } },
    handler: async ({ params, body, actor, trx, req }) => {
      const entityId = await authorizeAccount(trx, actor, params.accountId, 'write');
      const report = await imports.importStatement(
        trx,
        actor,
        { entityId, accountId: params.accountId },
        { fileName: body.file.name, bytes: uploadedBytes(req), csvMapping: body.mapping, saveMapping: body.saveMapping, accountMap: body.accountMap },
        async (accountId) => {
          await authorizeAccount(trx, actor, accountId, 'write');
        },
        guard(),
      );
      return { status: 201, body: report };
    },
  });
  mount({
    method: 'post',
    path: '/entities/:entityId/imports',
    tag: 'imports',
    summary: 'Import a statement file holding several accounts of one entity; accountMap names the Veil account of each',
    idempotent: true,
    params: EntityParams,
    body: i.UploadBody,
    upload: {
      authorize: async ({ params, actor }) => {
        await authorizeEntity(deps.db, actor, params.entityId, 'write');
      },
      read: readUpload,
      content: UPLOAD_CONTENT,
    },
    responses: { 201: { description: 'the import report', schema: i.ImportReport } },
    handler: async ({ params, body, actor, trx, req }) => {
      await authorizeEntity(trx, actor, params.entityId, 'write');
      const report = await imports.importStatement(
        trx,
        actor,
        { entityId: params.entityId },
        { fileName: body.file.name, bytes: uploadedBytes(req), csvMapping: body.mapping, accountMap: body.accountMap },
        async (accountId) => {
          await authorizeAccount(trx, actor, accountId, 'write');
        },
        guard(),
      );
      return { status: 201, body: report };
    },
  });
  mount({
    method: 'get',
    path: '/imports/:importId',
    tag: 'imports',
    summary: 'The report of one import',
    params: ImportParams,
    responses: { 200: { description: 'the stored report', schema: i.StoredImport } },
    handler: async ({ params, actor }) => {
      await authorizeImport(deps.db, actor, params.importId, 'read');
      return { status: 200, body: await imports.getImport(deps.db, params.importId) };
    },
  });
  mount({
    method: 'get',
    path: '/accounts/:accountId/csv-mapping',
    tag: 'imports',
    summary: "The CSV column mapping this account remembers (null when none)",
    params: AccountParams,
    responses: { 200: { description: 'the mapping', schema: z.object({ mapping: i.CsvMapping.nullable() }) } },
    handler: async ({ params, actor }) => {
      await authorizeAccount(deps.db, actor, params.accountId, 'read');
      return { status: 200, body: { mapping: await imports.getCsvMapping(deps.db, params.accountId) } };
    },
  });
  mount({
    method: 'post',
    path: '/accounts/:accountId/bank-lines',
    tag: 'bank lines',
    summary: 'Enter a bank line by hand (deduplicated and reviewed like any import, then the rules)',
    idempotent: true,
    params: AccountParams,
    body: i.ManualBankLine,
    responses: { 201: { description: 'the stored line', schema: BankLine } },
    handler: async ({ params, body, actor, trx, req }) => {
      await authorizeAccount(trx, actor, params.accountId, 'write');
      const line = await imports.enterBankLine(trx, params.accountId, body, req.get('idempotency-key') ?? '', actor);
      return { status: 201, body: line };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/review-queue',
    tag: 'bank lines',
    summary: 'Lines waiting for review, each with the earlier line it may duplicate and the reason',
    params: EntityParams,
    query: i.ReviewQueueQuery,
    responses: { 200: { description: 'the queue', schema: i.ReviewQueue } },
    handler: async ({ params, query, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: { items: await imports.reviewQueue(deps.db, params.entityId, query.limit ?? 100) } };
    },
  });
  mount({
    method: 'post',
    path: '/bank-lines/:bankLineId/review',
    tag: 'bank lines',
    summary: 'Decide a line in review: accept (a real transaction: unmatched, then the rules) or reject (a duplicate: ignored)',
    idempotent: true,
    params: BankLineParams,
    body: i.ReviewDecision,
    responses: { 200: { description: 'the line', schema: BankLine } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeBankLine(trx, actor, params.bankLineId, 'write');
      return { status: 200, body: await imports.reviewBankLine(trx, params.bankLineId, body.decision, body.reason, actor) };
    },
  });

  mount({
    method: 'get',
    path: '/entities/:entityId/transfer-proposals',
    tag: 'bank lines',
    summary: "Mirrored bank lines across this owner's entities: crossings of the veil to classify through POST /transfers, with Entity Guard's verdict",
    params: EntityParams,
    responses: { 200: { description: 'the proposals', schema: i.TransferProposalList } },
    handler: async ({ params, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: { items: await listTransferProposals(deps.db, params.entityId) } };
    },
  });
  mount({
    method: 'post',
    path: '/accounts/:accountId/balance-assertions',
    tag: 'reconciliation',
    summary: 'State what the bank says the balance was at the end of a day',
    idempotent: true,
    params: AccountParams,
    body: i.NewBalanceAssertion,
    responses: { 201: { description: 'the reconciliation with it', schema: i.Reconciliation } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeAccount(trx, actor, params.accountId, 'write');
      await addBalanceAssertion(trx, params.accountId, body, actor);
      return { status: 201, body: await reconcile(trx, params.accountId) };
    },
  });
  mount({
    method: 'get',
    path: '/accounts/:accountId/reconciliation',
    tag: 'reconciliation',
    summary: "Every stated balance (statements' and the owner's) against the books on that day, with the differences",
    params: AccountParams,
    responses: { 200: { description: 'the reconciliation', schema: i.Reconciliation } },
    handler: async ({ params, actor }) => {
      await authorizeAccount(deps.db, actor, params.accountId, 'read');
      return { status: 200, body: await reconcile(deps.db, params.accountId) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/rules',
    tag: 'rules',
    summary: "The entity's categorisation rules, in the order they are tried",
    params: EntityParams,
    responses: { 200: { description: 'the rules', schema: i.RuleList } },
    handler: async ({ params, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: { items: await rules.listRules(deps.db, params.entityId) } };
    },
  });
  mount({
    method: 'post',
    path: '/entities/:entityId/rules',
    tag: 'rules',
    summary: 'Add a categorisation rule',
    idempotent: true,
    params: EntityParams,
    body: i.RuleInput,
    responses: { 201: { description: 'the rule', schema: i.Rule } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, params.entityId, 'write');
      return { status: 201, body: await rules.createRule(trx, params.entityId, body, actor) };
    },
  });
  mount({
    method: 'put',
    path: '/rules/:ruleId',
    tag: 'rules',
    summary: 'Replace a categorisation rule (configuration, not journal: audited)',
    idempotent: true,
    params: RuleParams,
    body: i.RuleInput,
    responses: { 200: { description: 'the rule', schema: i.Rule } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeRule(trx, actor, params.ruleId, 'write');
      return { status: 200, body: await rules.updateRule(trx, params.ruleId, body, actor) };
    },
  });
  mount({
    method: 'delete',
    path: '/rules/:ruleId',
    tag: 'rules',
    summary: 'Delete a categorisation rule (entries it booked stay)',
    idempotent: true,
    params: RuleParams,
    responses: { 200: { description: 'deleted', schema: z.object({ deleted: z.literal(true) }) } },
    handler: async ({ params, actor, trx }) => {
      await authorizeRule(trx, actor, params.ruleId, 'write');
      await rules.deleteRule(trx, params.ruleId, actor);
      return { status: 200, body: { deleted: true } };
    },
  });
  mount({
    method: 'post',
    path: '/entities/:entityId/rules/preview',
    tag: 'rules',
    summary: 'What the saved rules, or the given drafts, would do to the lines still waiting; writes nothing',
    params: EntityParams,
    body: i.RulePreviewRequest,
    responses: { 200: { description: 'the preview', schema: i.RulePreview } },
    handler: async ({ params, body, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: await rules.previewRules(deps.db, params.entityId, body.rules) };
    },
  });
}
