import { ALLOCATION_RULE_KINDS, ALLOCATION_RULES_MAX, BASIS_POINTS_WHOLE } from '../domain/allocation';
import { MONTH } from '../domain/budget';
import { AMOUNT_CENTS_MAX, NAME_LENGTH_MAX } from '../domain/limits';
import { MoveMoney } from './plaid-schemas';
import { AccountingDate, AmountCents, Id } from './schemas';
import { z } from './zod';

export const ENVELOPE_CATEGORIES_MAX = 50;

export const Month = z.string().regex(MONTH, 'a month, YYYY-MM').openapi({ example: '2026-11', description: 'a budget month, YYYY-MM' });
const PositiveCents = z.int().min(1).max(AMOUNT_CENTS_MAX).openapi({ description: 'integer cents, positive' });
const Cents = z.int().openapi({ description: 'integer cents' });

export const TargetKind = z.enum(['monthly', 'by_date', 'fill_to']);
export const Target = z
  .object({
    kind: TargetKind.openapi({ description: 'monthly: assign this much every month; by_date: have it by dueOn; fill_to: keep this much available' }),
    amountCents: PositiveCents,
    dueOn: AccountingDate.optional().openapi({ description: 'by_date only' }),
  })
  .strict()
  .openapi('Target');

export const NewEnvelopeGroup = z.object({ name: z.string().trim().min(1).max(NAME_LENGTH_MAX) }).strict().openapi('NewEnvelopeGroup');
export const EnvelopeGroup = z
  .object({ id: Id, name: z.string(), kind: z.enum(['user', 'credit_card_payments']), createdAt: z.string() })
  .openapi('EnvelopeGroup');

export const NewEnvelope = z
  .object({
    name: z.string().trim().min(1).max(NAME_LENGTH_MAX),
    groupId: Id,
    categoryAccountIds: z.array(Id).max(ENVELOPE_CATEGORIES_MAX).openapi({ description: "the entity's expense accounts whose spending is this envelope's activity" }),
    target: Target.optional(),
  })
  .strict()
  .openapi('NewEnvelope');
export const EnvelopeChanges = z
  .object({
    name: z.string().trim().min(1).max(NAME_LENGTH_MAX).optional(),
    groupId: Id.optional(),
    target: Target.nullable().optional().openapi({ description: 'null clears the target' }),
  })
  .strict()
  .refine((changes) => Object.keys(changes).length > 0, { message: 'name at least one field to change' })
  .openapi('EnvelopeChanges');
export const Envelope = z
  .object({
    id: Id,
    name: z.string(),
    groupId: Id,
    kind: z.enum(['category', 'credit_card_payment']),
    categoryAccountIds: z.array(Id),
    paymentAccountId: Id.nullable().openapi({ description: 'the credit card, for a payment envelope' }),
    target: Target.nullable(),
  })
  .openapi('Envelope');

export const BudgetEnvelope = z
  .object({
    id: Id,
    name: z.string(),
    kind: z.enum(['category', 'credit_card_payment']),
    paymentAccountId: Id.nullable(),
    carriedOverCents: Cents,
    assignedCents: Cents,
    activityCents: Cents.openapi({ description: 'spending in the month (refunds negative); for a payment envelope, payments less funded card spending' }),
    availableCents: Cents.openapi({ description: 'carried over + assigned − activity' }),
    target: Target.nullable(),
    underfundedCents: Cents,
    cashOverspentCents: Cents,
    creditOverspentCents: Cents,
  })
  .openapi('BudgetEnvelope');
export const BudgetMonth = z
  .object({
    month: Month,
    readyToAssignCents: Cents.openapi({ description: 'money received so far − everything assigned − earlier cash overspending; zero is the goal' }),
    assignedInFutureCents: Cents,
    overspentLastMonthCents: Cents,
    totals: z.object({ assignedCents: Cents, activityCents: Cents, availableCents: Cents, underfundedCents: Cents }),
    groups: z.array(z.object({ id: Id, name: z.string(), kind: z.enum(['user', 'credit_card_payments']), envelopes: z.array(BudgetEnvelope) })),
  })
  .openapi('BudgetMonth');

export const Assignment = z
  .object({ envelopeId: Id, amountCents: AmountCents.openapi({ description: 'a change to the assigned amount: negative takes money back' }) })
  .strict()
  .openapi('Assignment');
export const Move = z
  .object({ fromEnvelopeId: Id, toEnvelopeId: Id, amountCents: PositiveCents })
  .strict()
  .openapi('BudgetMove');

export const AllocationRule = z
  .object({
    kind: z.enum(ALLOCATION_RULE_KINDS),
    envelopeId: Id,
    amountCents: PositiveCents.optional().openapi({ description: 'fixed only' }),
    basisPoints: z.int().min(1).max(BASIS_POINTS_WHOLE).optional().openapi({ description: 'percent only: 2550 = 25.50% of the incoming amount, rounded down to the cent' }),
  })
  .strict()
  .openapi('AllocationRule');
export const AllocationRules = z.object({ rules: z.array(AllocationRule).max(ALLOCATION_RULES_MAX) }).strict().openapi('AllocationRules');
export const AllocationRulesView = AllocationRules.extend({ updatedAt: z.string().nullable() }).openapi('AllocationRulesView');

export const AllocationRequest = z
  .object({
    month: Month,
    amountCents: PositiveCents.optional(),
    sourceEntryId: Id.optional().openapi({ description: 'an income entry: what it brought into on-budget cash is allocated (once)' }),
    rules: z.array(AllocationRule).min(1).max(ALLOCATION_RULES_MAX).optional().openapi({ description: 'instead of the saved rules' }),
    dryRun: z.boolean().optional(),
  })
  .strict()
  .openapi('AllocationRequest');
export const AllocationResult = z
  .object({
    id: Id.nullable(),
    dryRun: z.boolean(),
    month: Month,
    incomeCents: Cents,
    sourceEntryId: Id.nullable(),
    lines: z.array(z.object({ ruleIndex: z.int(), kind: z.enum(ALLOCATION_RULE_KINDS), envelopeId: Id, envelopeName: z.string(), amountCents: Cents })),
    leftoverCents: Cents.openapi({ description: 'what no rule took: still in Ready to Assign' }),
    readyToAssignCents: Cents,
  })
  .openapi('AllocationResult');

// ---- bills ----

export const BillStatus = z.enum(['upcoming', 'due', 'late', 'paid', 'skipped']);
export const NewBill = z
  .object({
    name: z.string().trim().min(1).max(NAME_LENGTH_MAX),
    payee: z.string().trim().min(1).max(NAME_LENGTH_MAX),
    rrule: z.string().trim().min(1).max(500).openapi({ example: 'FREQ=MONTHLY;BYMONTHDAY=-1', description: 'RFC 5545 RRULE over dates; startsOn is its start' }),
    startsOn: AccountingDate,
    amountCents: PositiveCents,
    estimated: z.boolean().openapi({ description: 'the amount is an estimate (utilities): the payment gives the real one' }),
    categoryAccountId: Id,
    payFromAccountId: Id,
    autopay: z.boolean(),
  })
  .strict()
  .openapi('NewBill');
export const Bill = NewBill.extend({
  id: Id,
  entityId: Id,
  nextDueOn: z.string().nullable().openapi({ description: 'the next due date from today, null when the rule has ended' }),
  createdAt: z.string(),
}).openapi('Bill');
export const BillChanges = NewBill.partial()
  .strict()
  .refine((changes) => Object.keys(changes).length > 0, { message: 'name at least one field to change' })
  .openapi('BillChanges');
export const BillOccurrence = z
  .object({
    billId: Id,
    billName: z.string(),
    payee: z.string(),
    dueOn: z.string(),
    amountCents: Cents,
    estimated: z.boolean(),
    status: BillStatus.openapi({ description: `unpaid: upcoming, due (within 7 days), late (past); settled: paid or skipped` }),
    autopay: z.boolean(),
    entryId: Id.nullable(),
    paidOn: z.string().nullable(),
    skipReason: z.string().nullable(),
  })
  .openapi('BillOccurrence');
export const OccurrenceQuery = z
  .object({
    from: AccountingDate.optional().openapi({ description: 'defaults to 31 days before today' }),
    to: AccountingDate.optional().openapi({ description: 'defaults to 62 days after today' }),
    status: BillStatus.optional(),
    today: AccountingDate.optional().openapi({ description: "the date statuses are computed against; defaults to the server's date (UTC)" }),
  })
  .strict();
export const OccurrenceParams = z.object({ billId: Id, dueOn: AccountingDate });
export const BillPayment = z
  .object({
    amountCents: PositiveCents.optional().openapi({ description: "defaults to the bill's amount (give the real one for an estimated bill)" }),
    paidOn: AccountingDate.optional().openapi({ description: 'defaults to today' }),
    fromAccountId: Id.optional().openapi({ description: "defaults to the bill's pay-from account" }),
    moveMoney: MoveMoney.optional(),
  })
  .strict()
  .openapi('BillPayment');
export const BillSkip = z.object({ reason: z.string().trim().min(1).max(500) }).strict().openapi('BillSkip');

export const MoneyFlowQuery = z
  .object({
    from: AccountingDate.optional().openapi({ description: "defaults to the first day of to's month" }),
    to: AccountingDate.optional().openapi({ description: 'defaults to today' }),
  })
  .strict();
export const MoneyFlow = z
  .object({
    fromOn: z.string(),
    toOn: z.string(),
    nodes: z.array(z.object({ id: z.string(), name: z.string(), kind: z.enum(['income', 'budget', 'envelope', 'spending', 'outflow']) })),
    links: z.array(z.object({ source: z.string(), target: z.string(), valueCents: Cents.openapi({ description: 'positive integer cents' }) })),
  })
  .openapi('MoneyFlow');

export const AlertQuery = z
  .object({
    today: AccountingDate.optional(),
    balanceCentsMin: z.coerce.number().int().min(-AMOUNT_CENTS_MAX).max(AMOUNT_CENTS_MAX).default(0).openapi({ description: 'a cash account under this balance is low (default 0: overdrawn)' }),
    dueWithinDays: z.coerce.number().int().min(0).max(92).default(7),
  })
  .strict();
export const Alert = z
  .object({
    kind: z.enum(['low_balance', 'envelope_overspent', 'ready_to_assign_negative', 'target_underfunded', 'bill_due', 'bill_late']),
    severity: z.enum(['warning', 'info']),
    message: z.string(),
    accountId: Id.optional(),
    envelopeId: Id.optional(),
    billId: Id.optional(),
    dueOn: z.string().optional(),
    amountCents: Cents,
  })
  .openapi('Alert');
