import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import type { Deps } from '../../services/context';
import * as bills from '../../services/bills';
import { moveMoney } from '../../services/plaid-transfer';
import { authorizeEntity } from '../../security/authorization';
import { createMounter, type ActorResolver } from '../route';
import * as b from '../budget-schemas';
import { MoneyMovement } from '../plaid-schemas';
import * as s from '../schemas';
import { z } from '../zod';

const EntityParams = z.object({ entityId: s.Id });
const BillParams = z.object({ billId: s.Id });

export function mountBillRoutes(router: Router, registry: OpenAPIRegistry, deps: Deps, actorOf: ActorResolver) {
  const mount = createMounter(router, registry, deps, actorOf);
  // The service's date (UTC); tests move it with the security clock.
  const today = () => new Date(deps.security.now()).toISOString().slice(0, 10);

  mount({
    method: 'post',
    path: '/entities/:entityId/bills',
    tag: 'bills',
    summary: 'Create a recurring bill (RRULE recurrence, fixed or estimated amount, category, pay-from account, autopay)',
    idempotent: true,
    params: EntityParams,
    body: b.NewBill,
    responses: { 201: { description: 'created', schema: b.Bill } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, params.entityId, 'write');
      return { status: 201, body: await bills.createBill(trx, params.entityId, body, actor, today()) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/bills',
    tag: 'bills',
    summary: 'List the bills of an entity',
    params: EntityParams,
    responses: { 200: { description: 'bills', schema: z.object({ bills: z.array(b.Bill) }) } },
    handler: async ({ params, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: { bills: await bills.listBills(deps.db, params.entityId, today()) } };
    },
  });
  mount({
    method: 'get',
    path: '/bills/:billId',
    tag: 'bills',
    summary: 'Get a bill',
    params: BillParams,
    responses: { 200: { description: 'the bill', schema: b.Bill } },
    handler: async ({ params, actor }) => {
      const bill = await bills.authorizeBill(deps.db, actor, params.billId, 'read');
      return { status: 200, body: bills.getBill(bill, today()) };
    },
  });
  mount({
    method: 'patch',
    path: '/bills/:billId',
    tag: 'bills',
    summary: 'Change a bill (name, payee, rule, amount, accounts, autopay); settled occurrences stay as they were, and a new rule applies from today unless startsOn is given',
    idempotent: true,
    params: BillParams,
    body: b.BillChanges,
    responses: { 200: { description: 'the bill as changed', schema: b.Bill } },
    handler: async ({ params, body, actor, trx }) => {
      const bill = await bills.authorizeBill(trx, actor, params.billId, 'write');
      return { status: 200, body: await bills.updateBill(trx, bill, body, actor, today()) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/bill-occurrences',
    tag: 'bills',
    summary: 'Bill occurrences due in a window, with their status (upcoming, due, late, paid, skipped)',
    params: EntityParams,
    query: b.OccurrenceQuery,
    responses: { 200: { description: 'occurrences by due date', schema: z.object({ occurrences: z.array(b.BillOccurrence) }) } },
    handler: async ({ params, query, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      const asOf = query.today ?? today();
      const window = bills.defaultWindow(asOf);
      const occurrences = await bills.listOccurrences(deps.db, params.entityId, {
        fromOn: query.from ?? window.fromOn,
        toOn: query.to ?? window.toOn,
        today: asOf,
        status: query.status,
      });
      return { status: 200, body: { occurrences } };
    },
  });
  mount({
    method: 'post',
    path: '/bills/:billId/occurrences/:dueOn/pay',
    tag: 'bills',
    summary: 'Pay an occurrence: books category / pay-from once; paying it again is refused whatever the Idempotency-Key',
    idempotent: true,
    params: b.OccurrenceParams,
    body: b.BillPayment,
    responses: { 201: { description: 'paid', schema: z.object({ occurrence: b.BillOccurrence, entry: s.Entry, moneyMovement: MoneyMovement.optional() }) } },
    handler: async ({ params, body, actor, trx }) => {
      const bill = await bills.authorizeBill(trx, actor, params.billId, 'write');
      const { moveMoney: how, ...payment } = body;
      if (how === 'plaid_transfer') await authorizeEntity(trx, actor, bill.entityId, 'move_money');
      const paid = await bills.payOccurrence(trx, bill, params.dueOn, payment, actor, today());
      if (how !== 'plaid_transfer') return { status: 201, body: paid };
      // The occurrence's entry key is stable across retries, so it keys Plaid's authorization too.
      const moneyMovement = await moveMoney(trx, deps, actor, [{ id: paid.entry.id, entityId: bill.entityId, description: bill.payee, plaidKey: `bill:${bill.id}:${params.dueOn}` }]);
      return { status: 201, body: { ...paid, moneyMovement } };
    },
  });
  mount({
    method: 'post',
    path: '/bills/:billId/occurrences/:dueOn/skip',
    tag: 'bills',
    summary: 'Skip an occurrence, with the reason',
    idempotent: true,
    params: b.OccurrenceParams,
    body: b.BillSkip,
    responses: { 201: { description: 'skipped', schema: z.object({ occurrence: b.BillOccurrence }) } },
    handler: async ({ params, body, actor, trx }) => {
      const bill = await bills.authorizeBill(trx, actor, params.billId, 'write');
      return { status: 201, body: await bills.skipOccurrence(trx, bill, params.dueOn, body, actor, today()) };
    },
  });
}
