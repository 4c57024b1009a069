import { AMOUNT_CENTS_MAX, NAME_LENGTH_MAX } from '../domain/limits';
import { LIMIT_KINDS, QUANTITY_PATTERN } from '../domain/investments';
import { INVESTMENT_TRANSACTIONS_PAGE_MAX } from '../services/investments';
import { AccountingDate, Entry, Id } from './schemas';
import { z } from './zod';

const PositiveCents = z.int().min(1).max(AMOUNT_CENTS_MAX).openapi({ description: 'integer cents, positive' });
const NonNegativeCents = z.int().min(0).max(AMOUNT_CENTS_MAX).openapi({ description: 'integer cents, zero or more' });
const Cents = z.int().openapi({ description: 'integer cents' });
const TaxYear = z.int().min(1900).max(2199);

export const LimitKind = z.enum(LIMIT_KINDS).openapi({ description: 'ira: traditional + Roth IRA combined; 401k_employee: §402(g) elective deferral; sep_ira: the §415(c) dollar cap' });
export const SecurityType = z.enum(['equity', 'etf', 'mutual_fund', 'fixed_income', 'cash', 'cryptocurrency', 'derivative', 'loan', 'other']);
const Quantity = z.string().regex(QUANTITY_PATTERN, 'a non-negative decimal with at most 8 decimals').openapi({ example: '12.5', description: 'number of shares, a decimal string (never a float)' });
const Standing = z.enum(['ok', 'near', 'exceeded', 'unknown']).openapi({ description: 'near: 90% of the limit or more' });

export const Security = z
  .object({ id: Id, ticker: z.string().nullable(), name: z.string(), securityType: z.string(), currency: z.string(), plaidSecurityId: z.string().nullable() })
  .openapi('Security');
export const Holding = z
  .object({
    accountId: Id,
    security: Security,
    quantity: z.string(),
    priceCents: Cents.nullable(),
    valueCents: Cents,
    costBasisCents: Cents.nullable(),
    asOf: z.string(),
    source: z.enum(['manual', 'plaid']),
  })
  .openapi('Holding');
export const AccountHoldings = z
  .object({
    accountId: Id,
    accountName: z.string(),
    kind: z.string(),
    currency: z.string(),
    balanceCents: Cents.openapi({ description: "the books' balance (contributions in, withdrawals out)" }),
    valueCents: Cents.openapi({ description: 'market value: the sum of the holdings' }),
    holdings: z.array(Holding),
  })
  .openapi('AccountHoldings');
export const HoldingInput = z
  .object({
    ticker: z.string().trim().min(1).max(20),
    name: z.string().trim().min(1).max(NAME_LENGTH_MAX),
    securityType: SecurityType,
    quantity: Quantity,
    priceCents: NonNegativeCents,
    costBasisCents: NonNegativeCents.optional(),
    asOf: AccountingDate,
  })
  .strict()
  .openapi('HoldingInput');
export const InvestmentTransaction = z
  .object({
    id: Id,
    accountId: Id,
    securityId: Id.nullable(),
    ticker: z.string().nullable(),
    externalId: z.string(),
    occurredOn: z.string(),
    name: z.string(),
    type: z.string(),
    subtype: z.string().nullable(),
    quantity: z.string(),
    priceCents: Cents.nullable(),
    amountCents: Cents.openapi({ description: "as the broker reports it: positive when cash leaves the account's cash (a buy)" }),
    feesCents: Cents.nullable(),
    currency: z.string(),
    source: z.enum(['manual', 'plaid']),
  })
  .openapi('InvestmentTransaction');
export const InvestmentTransactionQuery = z
  .object({ accountId: Id.optional(), limit: z.coerce.number().int().min(1).max(INVESTMENT_TRANSACTIONS_PAGE_MAX).default(100) })
  .strict();

export const RetirementProfile = z.object({ entityId: Id, birthYear: z.int().nullable() }).openapi('RetirementProfile');
export const RetirementProfileInput = z
  .object({ birthYear: z.int().min(1900).max(2199).nullable().openapi({ description: 'for the catch-up limits (50+, and 60 to 63 for 401(k) from 2025); null forgets it' }) })
  .strict();

const Rrule = z.string().trim().min(1).max(500).openapi({ example: 'FREQ=MONTHLY;BYMONTHDAY=15', description: "RFC 5545 RRULE over dates, as bills use; startsOn is its start" });

export const NewPlan = z
  .object({
    name: z.string().trim().min(1).max(NAME_LENGTH_MAX),
    limitKind: LimitKind.nullable().openapi({ description: 'the limit the plan counts against; null for a taxable brokerage account' }),
    amountCents: PositiveCents,
    rrule: Rrule,
    startsOn: AccountingDate,
    fromAccountId: Id.openapi({ description: 'a checking, savings, money market or cash account' }),
    toAccountId: Id.openapi({ description: 'a brokerage or retirement account of the same entity' }),
  })
  .strict()
  .openapi('NewContributionPlan');
export const PlanChanges = z
  .object({ active: z.boolean().optional(), amountCents: PositiveCents.optional() })
  .strict()
  .refine((value) => value.active !== undefined || value.amountCents !== undefined, 'give active or amountCents')
  .openapi('ContributionPlanChanges');
export const Plan = NewPlan.extend({
  id: Id,
  entityId: Id,
  active: z.boolean(),
  nextDueOn: z.string().nullable(),
  createdAt: z.string(),
}).openapi('ContributionPlan');
export const PlanWarning = z
  .object({
    code: z.enum(['contribution_limit_exceeded', 'contribution_limit_near', 'contribution_limit_unknown']),
    year: z.int(),
    kind: LimitKind,
    projectedCents: Cents.openapi({ description: 'contributed so far plus every planned occurrence of the year (all active plans of the kind)' }),
    limitCents: Cents.nullable(),
    firstDueOn: z.string().nullable().openapi({ description: 'the first occurrence that takes the year over (or to 90% of) the limit' }),
    message: z.string(),
  })
  .openapi('ContributionPlanWarning');
export const PlanReply = z.object({ plan: Plan, warnings: z.array(PlanWarning) }).openapi('ContributionPlanReply');
export const PlanPreview = z
  .object({ occurrences: z.array(z.string()).openapi({ description: 'the next due dates (at most 24)' }), warnings: z.array(PlanWarning) })
  .openapi('ContributionPlanPreview');

export const NewContribution = z
  .object({
    fromAccountId: Id,
    toAccountId: Id,
    limitKind: LimitKind.nullable(),
    amountCents: PositiveCents,
    contributedOn: AccountingDate,
    taxYear: TaxYear.optional().openapi({ description: "defaults to contributedOn's year; an IRA or SEP-IRA contribution made by April 15 may count for the year before" }),
  })
  .strict()
  .openapi('NewContribution');
export const PlanOccurrenceParams = z.object({ planId: Id, dueOn: AccountingDate });
export const PlanContribution = z
  .object({ contributedOn: AccountingDate.optional(), amountCents: PositiveCents.optional() })
  .strict()
  .openapi('PlanContribution');
export const Contribution = z
  .object({
    id: Id,
    entityId: Id,
    planId: Id.nullable(),
    dueOn: z.string().nullable(),
    fromAccountId: Id,
    toAccountId: Id,
    limitKind: LimitKind.nullable(),
    taxYear: z.int(),
    amountCents: Cents,
    contributedOn: z.string(),
    entryId: Id,
    createdAt: z.string(),
  })
  .openapi('Contribution');
export const ContributionReply = z
  .object({ contribution: Contribution, entry: Entry, totalCents: Cents, limitCents: Cents.nullable(), standing: Standing })
  .openapi('ContributionReply');
export const YearQuery = z.object({ year: z.coerce.number().int().min(1900).max(2199).optional() }).strict();
export const LimitSummary = z
  .object({
    kind: LimitKind,
    label: z.string(),
    taxYear: z.int(),
    contributedCents: Cents,
    plannedCents: Cents.openapi({ description: 'occurrences of active plans still to come in the year' }),
    limitCents: Cents.nullable(),
    catchUpCents: Cents,
    remainingCents: Cents.nullable(),
    standing: Standing,
    projectedStanding: Standing,
    source: z.string().nullable(),
    sourceStatus: z.enum(['verified', 'secondary', 'unverified']).nullable(),
    warning: PlanWarning.nullable(),
  })
  .openapi('ContributionLimitSummary');
export const ContributionSummary = z
  .object({ taxYear: z.int(), birthYear: z.int().nullable(), limits: z.array(LimitSummary) })
  .openapi('ContributionSummary');
export const LimitRow = z
  .object({
    year: z.int(),
    kind: LimitKind,
    baseCents: Cents,
    catchUp50Cents: Cents,
    catchUp60To63Cents: Cents.nullable(),
    source: z.string(),
    status: z.enum(['verified', 'secondary', 'unverified']),
  })
  .openapi('ContributionLimit');
