import * as s from './schemas';
import { z } from './zod';

export const BankLineSource = z.enum(['plaid', 'csv', 'ofx', 'qif', 'camt', 'mt940', 'pdf', 'manual']);
export const BankLineStatus = z.enum(['unmatched', 'review', 'matched', 'booked', 'ignored', 'removed']);

export const BankLine = z
  .object({
    id: s.Id,
    entityId: s.Id,
    accountId: s.Id,
    currency: s.Currency,
    source: BankLineSource,
    externalId: z.string().openapi({ description: "the bank's id for the line (FITID, Plaid transaction_id) or a stable hash of the row" }),
    importId: s.Id.nullable(),
    postedOn: s.AccountingDate,
    authorizedOn: s.AccountingDate.nullable(),
    amountCents: z.int().openapi({ description: 'integer cents, signed from the account holder\'s side: positive = money into the account' }),
    payee: z.string().nullable(),
    memo: z.string().nullable(),
    pending: z.boolean(),
    pendingExternalId: z.string().nullable(),
    status: BankLineStatus,
    statusReason: z.string().nullable(),
    entryId: s.Id.nullable(),
    createdAt: z.string(),
  })
  .openapi('BankLine');

export const BankLineQuery = z
  .object({
    status: BankLineStatus.optional(),
    from: s.AccountingDate.optional(),
    to: s.AccountingDate.optional(),
    limit: s.EntryQuery.shape.limit,
    cursor: z.string().max(200).optional(),
  })
  .strict();

export const BankLinePage = z.object({ items: z.array(BankLine), nextCursor: z.string().nullable() }).openapi('BankLinePage');

export const BookBankLine = z
  .object({
    categoryAccountId: s.Id.optional().openapi({ description: 'the one account that takes the other side of the whole line' }),
    splits: z
      .array(z.object({ accountId: s.Id, amountCents: s.AmountCents, memo: z.string().max(500).optional() }).strict())
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: 'or a split: amounts signed like the line (positive = money in) and adding up to it' }),
    description: z.string().min(1).max(500).optional(),
  })
  .strict()
  .refine((body) => (body.categoryAccountId === undefined) !== (body.splits === undefined), {
    message: 'give either categoryAccountId or splits',
  })
  .openapi('BookBankLine');

export const IgnoreBankLine = z.object({ reason: z.string().min(1).max(500) }).strict().openapi('IgnoreBankLine');

export const BookedBankLine = z.object({ line: BankLine, entry: s.Entry }).openapi('BookedBankLine');
