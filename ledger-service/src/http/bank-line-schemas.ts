import * as s from './schemas';
import { z } from './zod';

export const BankLineSource = z.enum(['plaid', 'csv', 'ofx', 'qif', 'camt', 'pdf', 'manual']);
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
