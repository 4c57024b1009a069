import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import { AMOUNT_CENTS_MAX } from '../../domain/limits';
import * as alerts from '../../services/alert-events';
import type { Deps } from '../../services/context';
import { visibleEntityIds } from '../../services/executions';
import { authorizeEntity, requireScope } from '../../security/authorization';
import { createMounter, type ActorResolver } from '../route';
import * as s from '../schemas';
import { z } from '../zod';

const EntityParams = z.object({ entityId: s.Id });
const Cents = z.int().min(-AMOUNT_CENTS_MAX).max(AMOUNT_CENTS_MAX);

const AlertSettingsInput = z
  .object({
    balanceCentsMin: Cents.default(0).openapi({ description: 'integer cents: a cash account under this balance raises balance.low (default 0: overdrawn)' }),
    accountBalanceCentsMin: z
      .record(s.Id, Cents)
      .default({})
      .refine((floors) => Object.keys(floors).length <= alerts.ACCOUNT_FLOORS_MAX, { message: `at most ${alerts.ACCOUNT_FLOORS_MAX} account floors` })
      .openapi({ description: 'integer cents per cash account id: a floor for that account instead of balanceCentsMin' }),
    billDueWithinDays: z.int().min(0).max(60).default(3).openapi({ description: 'bill.due is raised this many days before a due date' }),
  })
  .strict()
  .openapi('AlertSettingsInput');

const AlertSettings = z
  .object({
    entityId: s.Id,
    balanceCentsMin: z.int(),
    accountBalanceCentsMin: z.record(z.string(), z.int()),
    billDueWithinDays: z.int(),
    updatedAt: z.iso.datetime().nullable().openapi({ description: 'null: the defaults, never changed' }),
  })
  .openapi('AlertSettings');

const SweepInput = z
  .object({
    entityId: s.Id.optional().openapi({ description: 'only this entity (default: every entity the caller can write to)' }),
    today: s.AccountingDate.optional().openapi({ description: "the date to evaluate as today (default: the ledger's date, UTC)" }),
  })
  .strict();

const SweepReport = z
  .object({
    today: s.AccountingDate,
    entities: z.int(),
    raised: z.array(z.object({ entityId: s.Id, type: z.string(), key: z.string() })).openapi({ description: 'conditions that turned active now (one event each)' }),
  })
  .openapi('AlertSweepReport');

export function mountAlertRoutes(router: Router, registry: OpenAPIRegistry, deps: Deps, actorOf: ActorResolver) {
  const mount = createMounter(router, registry, deps, actorOf);

  mount({
    method: 'get',
    path: '/entities/:entityId/alert-settings',
    tag: 'events',
    summary: 'The thresholds of the pushed alerts: balance floors (entity-wide and per account) and the bill due window',
    params: EntityParams,
    responses: { 200: { description: 'the settings (defaults when never set)', schema: AlertSettings } },
    handler: async ({ params, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: await alerts.getAlertSettings(deps.db, params.entityId) };
    },
  });
  mount({
    method: 'put',
    path: '/entities/:entityId/alert-settings',
    tag: 'events',
    summary: 'Set the alert thresholds; a balance already under a new floor raises balance.low at once',
    idempotent: true,
    params: EntityParams,
    body: AlertSettingsInput,
    responses: { 200: { description: 'the settings', schema: AlertSettings } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, params.entityId, 'write');
      return { status: 200, body: await alerts.setAlertSettings(trx, params.entityId, body, actor) };
    },
  });
  mount({
    method: 'post',
    path: '/alerts/sweep',
    tag: 'events',
    summary:
      'Evaluate the date-driven alerts now (bill.due, bill.late, budget.ready_to_assign_not_zero, budget.target_underfunded, and balances/envelopes again): ' +
      'each condition emits its event once per occurrence, so calling this from a schedule is safe',
    idempotent: true,
    body: SweepInput,
    responses: { 200: { description: 'what was raised now', schema: SweepReport } },
    handler: async ({ body, actor, trx }) => {
      let entityIds: string[];
      if (body.entityId !== undefined) {
        await authorizeEntity(trx, actor, body.entityId, 'write');
        entityIds = [body.entityId];
      } else {
        requireScope(actor, 'write');
        entityIds = [];
        for (const entityId of await visibleEntityIds(trx, actor)) {
          const writable = await authorizeEntity(trx, actor, entityId, 'write').then(() => true, () => false);
          if (writable) entityIds.push(entityId);
        }
      }
      const today = body.today ?? new Date(deps.security.now()).toISOString().slice(0, 10);
      return { status: 200, body: await alerts.sweepAlerts(trx, entityIds, today) };
    },
  });
}
