import { PAYMENT_FREQUENCIES, LOAN_TERM_MONTHS_MAX, RATE_BASIS_POINTS_MAX } from '../domain/amortization';
import { AMOUNT_CENTS_MAX, DESCRIPTION_LENGTH_MAX, MEMO_LENGTH_MAX } from '../domain/limits';
import { CLASSIFICATIONS } from '../domain/veil';
import { MoneyMovement, MoveMoney } from './plaid-schemas';
import { AccountingDate, Currency, Entry, Id } from './schemas';
import { z } from './zod';

export const Classification = z.enum(CLASSIFICATIONS);
export const PositiveCents = z.int().min(1).max(AMOUNT_CENTS_MAX).openapi({ description: 'integer cents, positive' });

export const LoanTermsInput = z
  .object({
    annualRateBasisPoints: z.int().min(0).max(RATE_BASIS_POINTS_MAX).openapi({ description: '450 = 4.50% a year', example: 450 }),
    termMonths: z.int().min(1).max(LOAN_TERM_MONTHS_MAX),
    paymentFrequency: z.enum(PAYMENT_FREQUENCIES),
    startOn: AccountingDate.optional().openapi({ description: "defaults to the transfer's postedOn" }),
  })
  .strict()
  .openapi('LoanTermsInput');

export const ReimbursementInput = z
  .object({
    businessPurpose: z.string().trim().min(1).max(DESCRIPTION_LENGTH_MAX),
    receiptReference: z.string().trim().min(1).max(1_000).openapi({ description: 'a file name or URL of the receipt' }),
    expenseOn: AccountingDate,
    substantiatedOn: AccountingDate.optional().openapi({ description: "defaults to the transfer's postedOn" }),
  })
  .strict()
  .openapi('ReimbursementInput');

export const NewTransfer = z
  .object({
    classification: Classification.optional().openapi({
      description: 'required: an unclassified crossing is refused with 422 veil_crossing_unclassified',
    }),
    fromEntityId: Id,
    fromAccountId: Id,
    toEntityId: Id,
    toAccountId: Id,
    amountCents: PositiveCents,
    postedOn: AccountingDate,
    memo: z.string().trim().min(1).max(MEMO_LENGTH_MAX).optional(),
    loan: LoanTermsInput.optional().openapi({ description: 'loans only' }),
    relatedTransferId: Id.optional().openapi({ description: 'loan_repayment: the loan; reimbursement_payment: the reimbursement' }),
    interestCents: z.int().min(0).max(AMOUNT_CENTS_MAX).optional().openapi({
      description: 'loan_repayment only: overrides the interest the schedule gives for the next installment',
    }),
    reimbursement: ReimbursementInput.optional().openapi({ description: 'reimbursements only' }),
    moveMoney: MoveMoney.optional(),
  })
  .strict()
  .openapi('NewTransfer');

export const VeilWarning = z
  .object({
    code: z.string(),
    basis: z.enum(['veil_formality', 'tax_rule']),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi('VeilWarning');

export const Transfer = z
  .object({
    id: Id,
    classification: Classification,
    fromEntityId: Id,
    toEntityId: Id,
    fromAccountId: Id,
    toAccountId: Id,
    amountCents: z.int(),
    currency: Currency,
    postedOn: z.string(),
    memo: z.string().nullable(),
    relatedTransferId: Id.nullable(),
    terms: z.record(z.string(), z.unknown()),
    warnings: z.array(VeilWarning),
    fromEntryId: Id,
    toEntryId: Id,
    reversal: z.object({ fromReversalEntryId: Id, toReversalEntryId: Id, createdAt: z.string() }).nullable(),
    document: z.object({ id: Id, kind: z.string(), title: z.string(), sha256: z.string() }).nullable(),
    actor: z.string(),
    createdAt: z.string(),
  })
  .openapi('Transfer');

export const TransferWithEntries = Transfer.extend({ fromEntry: Entry, toEntry: Entry, moneyMovement: MoneyMovement.optional() }).openapi('TransferWithEntries');

export const TransferReversal = z.object({ postedOn: AccountingDate.optional() }).strict().openapi('TransferReversal');

export const Year = z.coerce.number().int().min(1900).max(2199);

export const TransferQuery = z.object({ year: Year.optional(), classification: Classification.optional() }).strict();

const Markers = z.array(z.string().trim().min(1).max(100)).max(500);

export const VeilPolicy = z
  .object({
    entityId: Id,
    drawPolicy: z.enum(['warn', 'block']),
    comminglingPolicy: z.enum(['block', 'document_as_draw']),
    personalPaysBusinessPolicy: z.enum(['block', 'document_as_reimbursement']),
    personalMarkers: z.array(z.string()),
    businessMarkers: z.array(z.string()),
  })
  .openapi('VeilPolicy');
export const VeilPolicyChanges = z
  .object({
    drawPolicy: z.enum(['warn', 'block']).optional().openapi({ description: 'a draw beyond cash or equity: book it with a warning, or refuse it' }),
    comminglingPolicy: z.enum(['block', 'document_as_draw']).optional(),
    personalPaysBusinessPolicy: z.enum(['block', 'document_as_reimbursement']).optional(),
    personalMarkers: Markers.optional().openapi({ description: "merchants or words the owner marks as personal (checked on the LLC's payments)" }),
    businessMarkers: Markers.optional().openapi({ description: "merchants or words the owner marks as business (checked on the owner's payments)" }),
  })
  .strict()
  .openapi('VeilPolicyChanges');

export const PairingReport = z
  .object({
    entityId: Id,
    balances: z.array(
      z.object({ accountId: Id, entityId: Id, counterpartyEntityId: Id, kind: z.string(), balanceCents: z.int() }),
    ),
    mismatches: z.array(
      z.object({ entityId: Id, counterpartyEntityId: Id, pair: z.enum(['due', 'loan', 'equity']), assetCents: z.int(), mirrorCents: z.int() }),
    ),
  })
  .openapi('PairingReport');

export const VeilDocument = z
  .object({
    id: Id,
    transferId: Id,
    kind: z.string(),
    title: z.string(),
    year: z.int(),
    sha256: z.string(),
    fromEntityId: Id,
    toEntityId: Id,
    postedOn: z.string(),
    createdAt: z.string(),
  })
  .openapi('VeilDocument');

export const VeilDocumentWithMarkdown = VeilDocument.extend({ markdown: z.string() }).openapi('VeilDocumentWithMarkdown');

export const DocumentQuery = z.object({ year: Year.optional() }).strict();

const GuardText = z.string().trim().min(1).max(500);

export const GuardMovement = z
  .object({
    sourceAccountId: Id,
    targetAccountId: Id.optional().openapi({ description: 'absent when the money goes to a merchant or other outside party' }),
    amountCents: PositiveCents,
    payee: GuardText.optional(),
    category: GuardText.optional(),
    memo: GuardText.optional(),
    classification: Classification.optional(),
    loan: z.object({ annualRateBasisPoints: z.int().min(0).max(10_000), termMonths: z.int().min(1).max(480) }).strict().optional(),
    postedOn: AccountingDate.optional(),
  })
  .strict()
  .openapi('GuardMovement');

export const GuardBankLine = z
  .object({
    accountId: Id,
    amountCents: z.int().min(-AMOUNT_CENTS_MAX).max(AMOUNT_CENTS_MAX).refine((value) => value !== 0, 'must not be zero'),
    payee: GuardText.optional(),
    category: GuardText.optional(),
    memo: GuardText.optional(),
    postedOn: AccountingDate.optional(),
  })
  .strict()
  .openapi('GuardBankLine');

export const GuardRequest = z
  .union([
    z.object({ movement: GuardMovement }).strict(),
    z.object({ bankLine: GuardBankLine }).strict(),
  ])
  .openapi('GuardRequest', { description: 'either a proposed movement or an imported bank line' });

export const GuardVerdict = z
  .object({
    decision: z.enum(['allow', 'document', 'block']),
    reasons: z.array(z.object({ code: z.string(), decision: z.enum(['allow', 'document', 'block']), message: z.string(), basis: z.string().optional() })),
    explanation: z.string(),
    suggestedClassification: Classification.nullable(),
  })
  .openapi('GuardVerdict');

export const PeriodQuery = z.object({ from: AccountingDate.optional(), to: AccountingDate.optional() }).strict();

export const Finding = z
  .object({
    code: z.string(),
    message: z.string(),
    entryId: Id.optional(),
    transferId: Id.optional(),
    amountCents: z.int(),
    overdue: z.boolean().optional(),
    fix: z.object({ kind: z.enum(['reclassify_as_draw', 'create_reimbursement']), needs: z.array(z.string()) }).optional(),
  })
  .openapi('VeilFinding');

export const VeilHealth = z
  .object({ entityId: Id, fromOn: z.string(), toOn: z.string(), score: z.int(), reasons: z.array(z.string()), findings: z.array(Finding) })
  .openapi('VeilHealth');

export const HealthFix = z
  .discriminatedUnion('fix', [
    z
      .object({
        fix: z.literal('reclassify_as_draw'),
        entryId: Id,
        personalAccountId: Id.openapi({ description: "the owner's account (cash or expense category) that the draw lands on" }),
        postedOn: AccountingDate.optional(),
      })
      .strict(),
    z
      .object({
        fix: z.literal('create_reimbursement'),
        entryId: Id,
        llcExpenseAccountId: Id,
        receiptReference: z.string().trim().min(1).max(1_000),
        businessPurpose: z.string().trim().min(1).max(DESCRIPTION_LENGTH_MAX).optional(),
        postedOn: AccountingDate.optional(),
      })
      .strict(),
  ])
  .openapi('VeilHealthFix');

export const HealthFixResult = z
  .object({ fix: z.string(), reversedEntryId: Id, reversalEntryId: Id, transfer: TransferWithEntries })
  .openapi('VeilHealthFixResult');

export const ConsolidatedQuery = z
  .object({
    entityIds: z
      .string()
      .max(20 * 37)
      .transform((value) => value.split(','))
      .pipe(z.array(Id).min(1).max(20))
      .openapi({ description: 'comma-separated entity ids (at most 20)' }),
    from: AccountingDate.optional(),
    to: AccountingDate.optional(),
  })
  .strict();

/** The consolidated query with the balance history's interval. */
export const ConsolidatedHistoryQuery = ConsolidatedQuery.extend({ interval: z.enum(['day', 'month']).optional() }).strict();

const Totals = z.object({
  netWorthCents: z.int(),
  netIncomeCents: z.int(),
  cashFlowCents: z.int(),
  eliminatedCents: z.int(),
  eliminatedAccounts: z.int(),
});

export const ConsolidatedView = z
  .object({
    entityIds: z.array(Id),
    fromOn: z.string(),
    toOn: z.string(),
    perEntity: z.array(z.object({ entityId: Id, name: z.string(), kind: z.string(), netWorthCentsByCurrency: z.record(z.string(), z.int()) })),
    byCurrency: z.record(z.string(), Totals),
  })
  .openapi('ConsolidatedView');
