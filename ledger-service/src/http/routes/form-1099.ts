import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Request, Response, Router } from 'express';
import type { ThresholdRow } from '../../domain/form-1099';
import { authorizeEntity } from '../../security/authorization';
import type { Deps } from '../../services/context';
import * as form1099 from '../../services/form-1099';
import * as f from '../form-1099-schemas';
import { createMounter, parsePart, type ActorResolver } from '../route';
import * as s from '../schemas';
import { z } from '../zod';

// 1099-NEC tracking: payees with contractor and W-9 status, payments with their method, and the yearly list of who
// needs a form. Every handler authorizes the entity that owns the row before reading anything else of it.

const EntityParams = z.object({ entityId: s.Id });
const PayeeParams = z.object({ payeeId: s.Id });
const PaymentParams = z.object({ paymentId: s.Id });
const ReportQuery = f.YearQuery.extend({ format: z.enum(['json', 'csv']).default('json') }).strict();

export function mountForm1099Routes(router: Router, registry: OpenAPIRegistry, deps: Deps, actorOf: ActorResolver, thresholds: readonly ThresholdRow[]) {
  const mount = createMounter(router, registry, deps, actorOf);
  const keyring = deps.security.keyring;

  mount({
    method: 'post',
    path: '/entities/:entityId/payees',
    tag: '1099',
    summary: 'Add a payee: contractor or not, W-9 status, and optionally the TIN (stored encrypted; only its last 4 digits are ever shown)',
    idempotent: true,
    params: EntityParams,
    body: f.NewPayee,
    responses: { 201: { description: 'the payee', schema: f.Payee } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, params.entityId, 'write');
      return { status: 201, body: await form1099.createPayee(trx, keyring, actor, params.entityId, body) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/payees',
    tag: '1099',
    summary: "The entity's payees",
    params: EntityParams,
    responses: { 200: { description: 'payees', schema: z.object({ items: z.array(f.Payee) }) } },
    handler: async ({ params, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: { items: await form1099.listPayees(deps.db, params.entityId) } };
    },
  });
  mount({
    method: 'patch',
    path: '/payees/:payeeId',
    tag: '1099',
    summary: 'Change a payee: name, contractor flag, W-9 status, or a new TIN',
    idempotent: true,
    params: PayeeParams,
    body: f.PayeeChanges,
    responses: { 200: { description: 'the payee', schema: f.Payee } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, await form1099.payeeEntityId(trx, params.payeeId), 'write');
      return { status: 200, body: await form1099.updatePayee(trx, keyring, actor, params.payeeId, body) };
    },
  });
  mount({
    method: 'post',
    path: '/payees/:payeeId/payments',
    tag: '1099',
    summary: 'Record a payment to a payee with its method (cash, check and ACH count toward 1099-NEC; card and third-party networks do not)',
    idempotent: true,
    params: PayeeParams,
    body: f.NewPayeePayment,
    responses: { 201: { description: 'the payment', schema: f.PayeePayment } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, await form1099.payeeEntityId(trx, params.payeeId), 'write');
      return { status: 201, body: await form1099.recordPayment(trx, actor, params.payeeId, body) };
    },
  });
  mount({
    method: 'get',
    path: '/payees/:payeeId/payments',
    tag: '1099',
    summary: "A payee's payments, optionally for one year",
    params: PayeeParams,
    query: f.YearQuery,
    responses: { 200: { description: 'payments', schema: z.object({ items: z.array(f.PayeePayment) }) } },
    handler: async ({ params, query, actor }) => {
      await authorizeEntity(deps.db, actor, await form1099.payeeEntityId(deps.db, params.payeeId), 'read');
      return { status: 200, body: { items: await form1099.listPayments(deps.db, params.payeeId, query.year) } };
    },
  });
  mount({
    method: 'post',
    path: '/payee-payments/:paymentId/void',
    tag: '1099',
    summary: 'Void a payment recorded by mistake (kept, with the date it was voided; it then counts toward no year)',
    idempotent: true,
    params: PaymentParams,
    body: f.PaymentVoid,
    responses: { 200: { description: 'the voided payment', schema: f.PayeePayment } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, await form1099.paymentEntityId(trx, params.paymentId), 'write');
      return { status: 200, body: await form1099.voidPayment(trx, actor, params.paymentId, body.voidedOn) };
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/entities/{entityId}/reports/1099-nec',
    summary: "1099-NEC for a payment year: each contractor's totals by method, what counts toward the year's threshold, who needs a form and whose W-9 is missing",
    tags: ['reports'],
    security: [{ bearer: [] }],
    request: { params: EntityParams, query: ReportQuery },
    responses: {
      200: {
        description: 'the list as JSON (integer cents), or as CSV with format=csv',
        content: { 'application/json': { schema: z.record(z.string(), z.unknown()) }, 'text/csv': { schema: z.string() } },
      },
    },
  });
  router.get('/entities/:entityId/reports/1099-nec', async (req: Request, res: Response) => {
    const actor = await actorOf(req);
    const { entityId } = parsePart(EntityParams, req.params, 'params');
    const query = parsePart(ReportQuery, req.query, 'query');
    await authorizeEntity(deps.db, actor, entityId, 'read');
    const year = query.year ?? new Date().getUTCFullYear();
    const report = await form1099.form1099NecReport(deps.db, entityId, year, thresholds);
    if (query.format === 'csv') {
      res.setHeader('Content-Type', 'text/csv; charset=utf-8');
      res.setHeader('Content-Disposition', `attachment; filename="1099-nec-${year}.csv"`);
      res.send(form1099.form1099NecCsv(report));
      return;
    }
    res.status(200).json(report);
  });
}
