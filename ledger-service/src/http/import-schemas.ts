import { BankLine } from './bank-line-schemas';
import * as s from './schemas';
import { z } from './zod';

const Column = z.union([z.string().min(1).max(100), z.int().min(0).max(200)]);

export const CsvMapping = z
  .object({
    delimiter: z.enum([',', ';', '\t', '|']).optional(),
    headerLine: z.int().min(0).max(1000).optional().openapi({ description: '1-based line of the header row; 0 when the file has none' }),
    date: Column.optional(),
    dateOrder: z.enum(['ymd', 'mdy', 'dmy']).optional(),
    payee: Column.optional(),
    memo: Column.optional(),
    amount: Column.optional().openapi({ description: 'one signed amount column (positive = money in, unless negate)' }),
    debit: Column.optional(),
    credit: Column.optional(),
    balance: Column.optional(),
    externalId: Column.optional(),
    decimalSeparator: z.enum([',', '.']).optional(),
    negate: z.boolean().optional().openapi({ description: 'card exports that write a purchase as a positive amount' }),
  })
  .strict()
  .openapi('CsvMapping');

export const UploadBody = z
  .object({
    file: z.object({ name: z.string().min(1).max(300), size: z.int().min(0), sha256: z.string().length(64) }),
    mapping: CsvMapping.optional(),
    accountMap: z.record(z.string().min(1).max(200), s.Id).optional(),
    saveMapping: z.boolean().optional(),
  })
  .strict();

export const UploadForm = z
  .object({
    file: z.string().openapi({ format: 'binary', description: 'the statement file (OFX, QFX, QBO, QIF, CAMT.053, MT940, CSV, TSV); the format is read from its content' }),
    mapping: z.string().optional().openapi({ description: 'CSV only: a CsvMapping as JSON' }),
    accountMap: z.string().optional().openapi({ description: 'files with several accounts: JSON object, statement account id → Veil account id' }),
    saveMapping: z.enum(['true', 'false']).optional().openapi({ description: 'remember the CSV mapping for this account' }),
  })
  .openapi('StatementUpload');

export const RawUpload = z.string().openapi({ format: 'binary', description: 'the raw file; name it in X-File-Name' });

export const ImportAccountReport = z.object({
  statementAccountId: z.string(),
  accountId: s.Id,
  lines: z.int(),
  totalCents: z.int(),
  new: z.int(),
  skippedExact: z.int(),
  queuedForReview: z.int(),
  booked: z.int(),
  balances: z.array(z.object({ kind: z.string(), amountCents: z.int(), asOn: s.AccountingDate })),
});

export const ImportReport = z
  .object({
    importId: s.Id,
    fileName: z.string(),
    format: z.enum(['csv', 'ofx', 'qif', 'camt', 'mt940', 'pdf']),
    encoding: z.string().nullable(),
    csvPreset: z.string().nullable(),
    accounts: z.array(ImportAccountReport),
    new: z.int(),
    skippedExact: z.int().openapi({ description: 'lines whose external id (FITID, or the hash of the row and its ordinal) the account already had' }),
    queuedForReview: z.int().openapi({ description: 'stored with status review: they look like a line from another source' }),
    booked: z.int().openapi({ description: 'booked by a categorisation rule' }),
    matchedToEntries: z.int().openapi({ description: 'lines that stand for an entry Veil had already booked (a Transfer, a draw, a bill paid in Veil): matched to it, never booked again' }),
    transfersBooked: z.int().openapi({ description: 'same-entity transfers booked from a line and its mirror in another account' }),
    transferProposals: z.int().openapi({ description: 'mirrors in another entity: proposals judged by Entity Guard, never booked automatically' }),
    warnings: z.array(z.object({ line: z.int(), message: z.string() })),
    errors: z.array(z.object({ file: z.string(), line: z.int(), message: z.string() })),
  })
  .openapi('ImportReport');

export const StoredImport = ImportReport.extend({ entityId: s.Id, createdAt: z.string() }).openapi('StoredImport');

export const ManualBankLine = z
  .object({
    postedOn: s.AccountingDate,
    amountCents: s.AmountCents.openapi({ description: 'signed: positive = money into the account' }),
    payee: z.string().min(1).max(500).optional(),
    memo: z.string().min(1).max(500).optional(),
    externalId: z.string().min(1).max(200).optional(),
  })
  .strict()
  .openapi('ManualBankLine');

export const ReviewDecision = z
  .object({ decision: z.enum(['accept', 'reject']), reason: z.string().min(1).max(500) })
  .strict()
  .openapi('ReviewDecision');

export const ReviewQueue = z
  .object({ items: z.array(z.object({ line: BankLine, reviewOf: BankLine.nullable() })) })
  .openapi('ReviewQueue');

export const ReviewQueueQuery = z.object({ limit: s.EntryQuery.shape.limit }).strict();

const Cents = z.int().min(-1_000_000_000_000).max(1_000_000_000_000);

export const RuleConditions = z
  .object({
    payeeContains: z.string().min(1).max(200).optional(),
    payeeRegex: z.string().min(1).max(200).optional(),
    memoContains: z.string().min(1).max(200).optional(),
    amountMinCents: Cents.optional(),
    amountMaxCents: Cents.optional(),
    accountId: s.Id.optional().openapi({ description: 'only lines of this bank account' }),
  })
  .strict()
  .openapi('RuleConditions');

export const RuleAction = z
  .object({
    categoryAccountId: s.Id.optional(),
    splits: z.array(z.object({ accountId: s.Id, shareBasisPoints: z.int().min(1).max(10_000) }).strict()).min(2).max(20).optional(),
    description: z.string().min(1).max(500).optional(),
  })
  .strict()
  .openapi('RuleAction');

export const RuleInput = z
  .object({
    name: z.string().min(1).max(200),
    position: z.int().min(0).max(10_000).optional(),
    enabled: z.boolean().optional(),
    conditions: RuleConditions,
    action: RuleAction,
  })
  .strict()
  .openapi('RuleInput');

export const Rule = RuleInput.extend({ id: s.Id, entityId: s.Id, position: z.int(), enabled: z.boolean(), createdAt: z.string(), updatedAt: z.string() }).openapi('Rule');

export const RuleList = z.object({ items: z.array(Rule) }).openapi('RuleList');

export const RulePreviewRequest = z
  .object({ rules: z.array(RuleInput).max(500).optional().openapi({ description: 'rules to try instead of the saved ones' }) })
  .strict()
  .openapi('RulePreviewRequest');

export const RulePreview = z
  .object({
    items: z.array(
      z.object({
        bankLineId: s.Id,
        postedOn: s.AccountingDate,
        payee: z.string().nullable(),
        amountCents: z.int(),
        ruleId: s.Id.nullable(),
        ruleName: z.string().nullable(),
        categoryAccountId: s.Id.nullable(),
        splits: z.array(z.object({ accountId: s.Id, amountCents: z.int() })).nullable(),
      }),
    ),
    matched: z.int(),
    unmatched: z.int(),
  })
  .openapi('RulePreview');

export const TransferProposal = z
  .object({
    id: s.Id,
    outflowLineId: s.Id,
    inflowLineId: s.Id,
    outflowEntityId: s.Id,
    inflowEntityId: s.Id,
    amountCents: z.int(),
    guardDecision: z.enum(['allow', 'document', 'block']),
    guardVerdict: z.unknown().openapi({ description: "Entity Guard's verdict: decision, reasons, explanation, suggested classification" }),
    status: z.enum(['open', 'dismissed', 'booked']),
    createdAt: z.string(),
  })
  .openapi('TransferProposal');

export const TransferProposalList = z.object({ items: z.array(TransferProposal) }).openapi('TransferProposalList');

export const NewBalanceAssertion = z
  .object({ asOn: s.AccountingDate, balanceCents: z.int().min(-1_000_000_000_000).max(1_000_000_000_000) })
  .strict()
  .openapi('NewBalanceAssertion');

export const Reconciliation = z
  .object({
    accountId: s.Id,
    rows: z.array(
      z.object({
        assertionId: s.Id,
        asOn: s.AccountingDate,
        kind: z.string(),
        importId: s.Id.nullable(),
        statedCents: z.int(),
        bookCents: z.int(),
        differenceCents: z.int().openapi({ description: 'stated − books; 0 when reconciled' }),
        unbookedLineCount: z.int(),
        unbookedCents: z.int().openapi({ description: 'bank lines up to that day still unmatched or in review: what usually explains a difference' }),
        reconciled: z.boolean(),
      }),
    ),
  })
  .openapi('Reconciliation');
