import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import type { Deps } from '../../services/context';
import * as budget from '../../services/budget';
import { listAlerts } from '../../services/alerts';
import { NotFound } from '../../domain/errors';
import { authorizeEntity } from '../../security/authorization';
import { createMounter, type ActorResolver } from '../route';
import * as b from '../budget-schemas';
import * as s from '../schemas';
import { z } from '../zod';

const EntityParams = z.object({ entityId: s.Id });
const MonthParams = z.object({ entityId: s.Id, month: b.Month });

export function mountBudgetRoutes(router: Router, registry: OpenAPIRegistry, deps: Deps, actorOf: ActorResolver) {
  const mount = createMounter(router, registry, deps, actorOf);

  mount({
    method: 'post',
    path: '/entities/:entityId/envelope-groups',
    tag: 'budget',
    summary: 'Create an envelope group',
    idempotent: true,
    params: EntityParams,
    body: b.NewEnvelopeGroup,
    responses: { 201: { description: 'created', schema: b.EnvelopeGroup } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, params.entityId, 'write');
      return { status: 201, body: await budget.createGroup(trx, params.entityId, body, actor) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/envelope-groups',
    tag: 'budget',
    summary: 'List envelope groups',
    params: EntityParams,
    responses: { 200: { description: 'groups', schema: z.object({ groups: z.array(b.EnvelopeGroup) }) } },
    handler: async ({ params, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: { groups: await budget.listGroups(deps.db, params.entityId) } };
    },
  });
  mount({
    method: 'post',
    path: '/entities/:entityId/envelopes',
    tag: 'budget',
    summary: 'Create an envelope over expense categories, with an optional target',
    idempotent: true,
    params: EntityParams,
    body: b.NewEnvelope,
    responses: { 201: { description: 'created', schema: b.Envelope } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, params.entityId, 'write');
      return { status: 201, body: await budget.createEnvelope(trx, params.entityId, body, actor) };
    },
  });
  mount({
    method: 'patch',
    path: '/envelopes/:envelopeId',
    tag: 'budget',
    summary: "Rename an envelope, move it to another group, or set or clear its target (its categories stay: past months' budget depends on them)",
    idempotent: true,
    params: z.object({ envelopeId: s.Id }),
    body: b.EnvelopeChanges,
    responses: { 200: { description: 'the envelope as changed', schema: b.Envelope } },
    handler: async ({ params, body, actor, trx }) => {
      const entityId = await budget.envelopeEntityId(trx, params.envelopeId);
      try {
        await authorizeEntity(trx, actor, entityId, 'write');
      } catch (error) {
        // Another user's envelope is answered like a missing one.
        if (error instanceof NotFound) throw new NotFound('envelope', params.envelopeId);
        throw error;
      }
      return { status: 200, body: await budget.updateEnvelope(trx, entityId, params.envelopeId, body, actor) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/envelopes',
    tag: 'budget',
    summary: 'List envelopes (credit-card payment envelopes included)',
    params: EntityParams,
    responses: { 200: { description: 'envelopes', schema: z.object({ envelopes: z.array(b.Envelope) }) } },
    handler: async ({ params, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: { envelopes: await budget.listEnvelopes(deps.db, params.entityId) } };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/budget/:month',
    tag: 'budget',
    summary: 'A budget month: Ready to Assign and, per envelope, carried over, assigned, activity, available, underfunded',
    params: MonthParams,
    responses: { 200: { description: 'the month', schema: b.BudgetMonth } },
    handler: async ({ params, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: await budget.getBudgetMonth(deps.db, params.entityId, params.month) };
    },
  });
  mount({
    method: 'post',
    path: '/entities/:entityId/budget/:month/assign',
    tag: 'budget',
    summary: 'Change what an envelope is assigned in a month (a delta; negative takes money back to Ready to Assign)',
    idempotent: true,
    params: MonthParams,
    body: b.Assignment,
    responses: { 200: { description: 'the month after the change', schema: b.BudgetMonth } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, params.entityId, 'write');
      return { status: 200, body: await budget.assign(trx, params.entityId, params.month, body, actor) };
    },
  });
  mount({
    method: 'post',
    path: '/entities/:entityId/budget/:month/move',
    tag: 'budget',
    summary: 'Move assigned money from one envelope to another within a month',
    idempotent: true,
    params: MonthParams,
    body: b.Move,
    responses: { 200: { description: 'the month after the move', schema: b.BudgetMonth } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, params.entityId, 'write');
      return { status: 200, body: await budget.move(trx, params.entityId, params.month, body, actor) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/allocation-rules',
    tag: 'budget',
    summary: 'The saved allocation rules, applied in order',
    params: EntityParams,
    responses: { 200: { description: 'the rules', schema: b.AllocationRulesView } },
    handler: async ({ params, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: await budget.getAllocationRules(deps.db, params.entityId) };
    },
  });
  mount({
    method: 'put',
    path: '/entities/:entityId/allocation-rules',
    tag: 'budget',
    summary: 'Replace the allocation rules (fixed, percent in basis points, fill to target, remainder last)',
    idempotent: true,
    params: EntityParams,
    body: b.AllocationRules,
    responses: { 200: { description: 'the rules', schema: b.AllocationRulesView } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, params.entityId, 'write');
      return { status: 200, body: await budget.setAllocationRules(trx, params.entityId, body.rules, actor) };
    },
  });
  mount({
    method: 'post',
    path: '/entities/:entityId/allocations',
    tag: 'budget',
    summary: 'Allocate an income amount or an income entry by the rules: assigns in the month, or previews with dryRun',
    idempotent: true,
    params: EntityParams,
    body: b.AllocationRequest,
    responses: {
      200: { description: 'the preview (dryRun): nothing was assigned', schema: b.AllocationResult },
      201: { description: 'applied: every line assigned in the month', schema: b.AllocationResult },
    },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, params.entityId, 'write');
      if (body.dryRun === true) return { status: 200, body: await budget.runAllocation(trx, params.entityId, body, actor) };
      return { status: 201, body: await budget.runAllocation(trx, params.entityId, body, actor, trx) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/money-flow',
    tag: 'budget',
    summary: 'Money flow for a Sankey: income sources → Ready to Assign → envelopes → spending, for a period',
    params: EntityParams,
    query: b.MoneyFlowQuery,
    responses: { 200: { description: 'nodes and links (positive cents)', schema: b.MoneyFlow } },
    handler: async ({ params, query, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      const toOn = query.to ?? new Date(deps.security.now()).toISOString().slice(0, 10);
      const fromOn = query.from ?? `${toOn.slice(0, 7)}-01`;
      return { status: 200, body: await budget.moneyFlow(deps.db, params.entityId, fromOn, toOn) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/alerts',
    tag: 'budget',
    summary: 'What needs attention: low cash balances, overspent envelopes, negative Ready to Assign, underfunded targets, bills due or late',
    params: EntityParams,
    query: b.AlertQuery,
    responses: { 200: { description: 'alerts', schema: z.object({ today: z.string(), alerts: z.array(b.Alert) }) } },
    handler: async ({ params, query, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      const today = query.today ?? new Date(deps.security.now()).toISOString().slice(0, 10);
      const alerts = await listAlerts(deps.db, params.entityId, { today, balanceCentsMin: query.balanceCentsMin, dueWithinDays: query.dueWithinDays });
      return { status: 200, body: { today, alerts } };
    },
  });
}
