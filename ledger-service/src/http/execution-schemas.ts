import { PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX } from '../domain/limits';
import { AccountingDate, Id } from './schemas';
import { z } from './zod';

const EXECUTION_ID_LENGTH_MAX = 100;
const WORKFLOW_ID_LENGTH_MAX = 100;
const WORKFLOW_NAME_LENGTH_MAX = 200;
const ERROR_MESSAGE_LENGTH_MAX = 1000;

const ExecutionStatus = z.enum(['running', 'succeeded', 'failed', 'rolled_back']).openapi({
  description: 'running until n8n reports the end (POST /executions/{id}/status) or a rollback; rolled_back is final',
});

const ExecutionFacts = {
  workflowId: z.string().nullable().openapi({ description: "the n8n workflow's id, as the Veil nodes send it (X-N8N-Workflow-Id)" }),
  workflowName: z.string().nullable(),
  status: ExecutionStatus,
  failedAt: z.iso.datetime().nullable().openapi({ description: 'when n8n reported it failed (kept after a rollback)' }),
  errorMessage: z.string().nullable(),
};

const WorkflowFacts = {
  workflowId: z.string().min(1).max(WORKFLOW_ID_LENGTH_MAX).optional(),
  workflowName: z.string().min(1).max(WORKFLOW_NAME_LENGTH_MAX).optional(),
  errorMessage: z.string().max(ERROR_MESSAGE_LENGTH_MAX).optional(),
};

export const ExecutionStatusReport = z
  .object({ status: z.enum(['succeeded', 'failed']), ...WorkflowFacts })
  .strict()
  .openapi('ExecutionStatusReport');

export const ExecutionStatusView = z.object({ executionId: z.string(), ...ExecutionFacts }).openapi('ExecutionStatus');

export const RollbackRequest = z
  .object({
    failed: z.boolean().optional().openapi({ description: "true from the Error Trigger: the execution failed; recorded with errorMessage" }),
    ...WorkflowFacts,
  })
  .strict()
  .openapi('RollbackRequest');

export const ExecutionParams = z.object({
  executionId: z
    .string()
    .min(1)
    .max(EXECUTION_ID_LENGTH_MAX)
    .openapi({ description: 'the n8n execution id, as sent in X-N8N-Execution-Id', example: '1042' }),
});

export const ExecutionQuery = z
  .object({
    entityId: Id.optional().openapi({ description: 'only executions that wrote to this entity' }),
    workflowId: z.string().min(1).max(WORKFLOW_ID_LENGTH_MAX).optional().openapi({ description: 'only executions of this n8n workflow (as the Veil nodes sent it)' }),
    limit: z.coerce.number().int().min(1).max(PAGE_SIZE_MAX).default(PAGE_SIZE_DEFAULT),
  })
  .strict();

const ItemKind = z.enum(['entry', 'transfer']);

export const ExecutionSummary = z
  .object({
    executionId: z.string(),
    ...ExecutionFacts,
    firstAt: z.iso.datetime(),
    lastAt: z.iso.datetime(),
    actionCount: z.int().openapi({ description: 'audit rows the execution wrote in the books you can see' }),
    entryCount: z.int().openapi({ description: 'plain entries it booked (not counting the two sides of transfers, nor reversals)' }),
    transferCount: z.int().openapi({ description: 'inter-entity transfers it booked' }),
    rolledBack: z.boolean().openapi({ description: 'a rollback of this execution was recorded' }),
  })
  .openapi('ExecutionSummary');

export const ExecutionItem = z
  .object({
    kind: ItemKind,
    id: Id,
    entityId: Id.openapi({ description: "the entry's entity; for a transfer, the entity money left" }),
    postedOn: AccountingDate,
    description: z.string(),
    amountCents: z.int().openapi({ description: 'integer cents: the sum of the debits of an entry, the amount of a transfer' }),
    createdAt: z.iso.datetime(),
    reversedById: Id.nullable().openapi({ description: 'the reversing entry (for a transfer, the reversal in the books money left), or null' }),
  })
  .openapi('ExecutionItem');

export const ExecutionList = z.object({ items: z.array(ExecutionSummary) }).openapi('ExecutionList');

export const ExecutionDetail = z
  .object({ executionId: z.string(), ...ExecutionFacts, rolledBack: z.boolean(), items: z.array(ExecutionItem) })
  .openapi('ExecutionDetail');

export const ExecutionRollback = z
  .object({
    executionId: z.string(),
    reversed: z.array(z.object({ kind: ItemKind, id: Id, reversalId: Id })),
    alreadyReversed: z.array(z.object({ kind: ItemKind, id: Id })),
    allocations: z
      .array(z.object({ id: Id, entityId: Id, month: z.string(), amountCents: z.int(), reversedNow: z.boolean() }))
      .openapi({ description: "the execution's allocations (Allocate node): amountCents taken back from the envelopes now (0 when it had been already)" }),
    budgetChanges: z
      .array(
        z.object({
          kind: z.enum(['assign', 'move']),
          id: Id.openapi({ description: 'the assignment or move (its group of budget rows)' }),
          entityId: Id,
          month: z.string(),
          fromEnvelopeId: Id.nullable().openapi({ description: 'the envelope a move took money from; null for an assignment' }),
          toEnvelopeId: Id.openapi({ description: 'the envelope assigned to, or moved to' }),
          amountCents: z.int().openapi({ description: 'integer cents assigned or moved by the execution' }),
          reversedNow: z.boolean().openapi({ description: 'taken back by this call (false: it had been already)' }),
        }),
      )
      .openapi({ description: 'assignments (/assign) and moves (/move) the execution made, taken back by negating budget rows' }),
    billsReopened: z
      .array(z.object({ billId: Id, entityId: Id, dueOn: AccountingDate, entryId: Id }))
      .openapi({ description: 'bill occurrences the execution paid: their payment is reversed, so they are due or late again' }),
    bankMoneyMoved: z
      .array(
        z.object({
          kind: ItemKind,
          id: Id,
          entryId: Id,
          bankLineId: Id,
          accountId: Id,
          postedOn: AccountingDate,
          amountCents: z.int(),
          status: z.string(),
        }),
      )
      .openapi({ description: 'bank lines already matched to what was reversed: the bank moved this money, the reversal does not move it back' }),
  })
  .openapi('ExecutionRollback');
