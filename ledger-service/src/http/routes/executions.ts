import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import type { Deps } from '../../services/context';
import * as executions from '../../services/executions';
import { authorizeEntity, requireScope } from '../../security/authorization';
import { createMounter, type ActorResolver } from '../route';
import * as x from '../execution-schemas';

export function mountExecutionRoutes(router: Router, registry: OpenAPIRegistry, deps: Deps, actorOf: ActorResolver) {
  const mount = createMounter(router, registry, deps, actorOf);

  mount({
    method: 'get',
    path: '/executions',
    tag: 'executions',
    summary: 'n8n executions that wrote to your books (from X-N8N-Execution-Id on every write), newest first',
    query: x.ExecutionQuery,
    responses: { 200: { description: 'executions', schema: x.ExecutionList } },
    handler: async ({ query, actor }) => {
      let entityIds: string[];
      if (query.entityId !== undefined) {
        await authorizeEntity(deps.db, actor, query.entityId, 'read');
        entityIds = [query.entityId];
      } else {
        requireScope(actor, 'read');
        entityIds = await executions.visibleEntityIds(deps.db, actor);
      }
      return { status: 200, body: { items: await executions.listExecutions(deps.db, actor, entityIds, query.limit, query.workflowId) } };
    },
  });
  mount({
    method: 'get',
    path: '/executions/:executionId',
    tag: 'executions',
    summary: 'What one n8n execution booked: its entries and inter-entity transfers, newest first',
    params: x.ExecutionParams,
    responses: { 200: { description: 'the execution', schema: x.ExecutionDetail }, 404: { description: 'execution_not_found' } },
    handler: async ({ params, actor }) => ({ status: 200, body: await executions.getExecution(deps.db, actor, params.executionId) }),
  });
  mount({
    method: 'post',
    path: '/executions/:executionId/rollback',
    tag: 'executions',
    summary: 'Reverse everything an n8n execution booked, in one transaction (transfers in both books); idempotent',
    idempotent: true,
    params: x.ExecutionParams,
    body: x.RollbackRequest.optional(),
    responses: { 200: { description: 'what was reversed now and what already was', schema: x.ExecutionRollback }, 404: { description: 'execution_not_found' } },
    handler: async ({ params, body, actor, trx }) => ({ status: 200, body: await executions.rollbackExecution(trx, actor, params.executionId, body ?? {}) }),
  });
  mount({
    method: 'post',
    path: '/executions/:executionId/status',
    tag: 'executions',
    summary: 'Report how an n8n execution ended (succeeded or failed, with the workflow); a rolled-back execution stays rolled back (409)',
    idempotent: true,
    params: x.ExecutionParams,
    body: x.ExecutionStatusReport,
    responses: { 200: { description: 'the execution as recorded', schema: x.ExecutionStatusView }, 409: { description: 'execution_rolled_back' } },
    handler: async ({ params, body, actor, trx }) => ({ status: 200, body: await executions.reportExecutionStatus(trx, actor, params.executionId, body) }),
  });
}
