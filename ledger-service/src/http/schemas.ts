import { ACCOUNT_CLASSES, ACCOUNT_KINDS } from '../domain/accounts';
import {
  AMOUNT_CENTS_MAX,
  DESCRIPTION_LENGTH_MAX,
  ENTRIES_PER_BATCH_MAX,
  IDEMPOTENCY_KEY_LENGTH_MAX,
  MEMO_LENGTH_MAX,
  NAME_LENGTH_MAX,
  PAGE_SIZE_DEFAULT,
  PAGE_SIZE_MAX,
  POSTED_ON_MAX,
  POSTED_ON_MIN,
  POSTINGS_PER_ENTRY_MAX,
} from '../domain/limits';
import { ENTRY_SOURCES } from '../services/journal';
import { z } from './zod';

export const Id = z.uuid().openapi({ example: '0b6c7f9e-2f1d-4c1e-9a55-2f5d0f3c7a10' });
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD')
  .openapi({ example: 'USD' });
export const AccountingDate = z.iso
  .date()
  .refine((value) => value >= POSTED_ON_MIN && value <= POSTED_ON_MAX, {
    message: `a date between ${POSTED_ON_MIN} and ${POSTED_ON_MAX}`,
  })
  .openapi({ example: '2026-11-24', description: 'accounting date, YYYY-MM-DD' });
export const AmountCents = z
  .int()
  .min(-AMOUNT_CENTS_MAX)
  .max(AMOUNT_CENTS_MAX)
  .refine((value) => value !== 0, { message: 'must not be zero' })
  .openapi({ description: 'integer minor units (cents), debit positive, credit negative', example: 12_345 });

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'unbalanced_entry' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

export const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(IDEMPOTENCY_KEY_LENGTH_MAX)
    .openapi({ description: 'required on every write; a retry with the same key and body returns the first result' }),
});

export const EntityKind = z.enum(['llc', 'personal']);
export const TaxProfile = z.enum(['individual', 'disregarded', 's_corp', 'partnership', 'c_corp']);

export const NewEntity = z
  .object({
    kind: EntityKind,
    name: z.string().trim().min(1).max(NAME_LENGTH_MAX),
    currency: Currency.default('USD'),
    taxProfile: TaxProfile.optional().openapi({
      description: 'defaults to individual for a person and disregarded for a single-member LLC',
    }),
  })
  .strict()
  .openapi('NewEntity');

export const Entity = z
  .object({
    id: Id,
    kind: EntityKind,
    name: z.string(),
    currency: Currency,
    taxProfile: z.string(),
    createdAt: z.string(),
  })
  .openapi('Entity');

export const AccountClass = z.enum(ACCOUNT_CLASSES);
export const AccountKind = z.enum(ACCOUNT_KINDS);

export const NewAccount = z
  .object({
    name: z.string().trim().min(1).max(NAME_LENGTH_MAX),
    code: z.string().trim().min(1).max(40).optional(),
    kind: AccountKind,
    class: AccountClass.optional().openapi({ description: 'derived from kind; when given it must agree' }),
    currency: Currency.optional().openapi({ description: "defaults to the entity's currency" }),
    counterpartyEntityId: Id.optional().openapi({ description: 'the other entity, for inter-entity kinds only' }),
  })
  .strict()
  .openapi('NewAccount');

export const AccountChanges = z
  .object({
    name: z.string().trim().min(1).max(NAME_LENGTH_MAX).optional(),
    code: z.string().trim().min(1).max(40).nullable().optional(),
    archived: z.boolean().optional(),
  })
  .strict()
  .openapi('AccountChanges');

export const Account = z
  .object({
    id: Id,
    entityId: Id,
    name: z.string(),
    code: z.string().nullable(),
    class: AccountClass,
    kind: AccountKind,
    currency: Currency,
    counterpartyEntityId: Id.nullable(),
    balanceCents: z.int(),
    naturalBalanceCents: z.int(),
    archivedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('Account');

export const PostingInput = z
  .object({
    accountId: Id,
    amountCents: AmountCents,
    memo: z.string().max(MEMO_LENGTH_MAX).optional(),
  })
  .strict()
  .openapi('PostingInput');

export const EntrySource = z.enum(ENTRY_SOURCES);

export const NewEntry = z
  .object({
    postedOn: AccountingDate,
    description: z.string().trim().min(1).max(DESCRIPTION_LENGTH_MAX),
    source: EntrySource.optional(),
    postings: z.array(PostingInput).min(2).max(POSTINGS_PER_ENTRY_MAX),
  })
  .strict()
  .openapi('NewEntry');

export const BatchEntry = NewEntry.extend({
  idempotencyKey: z
    .string()
    .min(1)
    .max(IDEMPOTENCY_KEY_LENGTH_MAX)
    .optional()
    .openapi({ description: 'per-entry key: an entry already booked under it is returned, not booked again' }),
}).openapi('BatchEntry');

const EntryMoveMoney = z.enum(['ledger_only', 'plaid_transfer']);

/** One entry, and whether its real money moves through Plaid Transfer (the batch's per-entry form carries no such field). */
export const NewEntryRequest = NewEntry.extend({
  moveMoney: EntryMoveMoney.optional().openapi({
    description: 'plaid_transfer: move the real money of the entry through Plaid Transfer (see MoveMoney); needs move_money',
  }),
})
  .strict()
  .openapi('NewEntryRequest');

export const NewBatch = z
  .object({
    entries: z.array(BatchEntry).min(1).max(ENTRIES_PER_BATCH_MAX),
    moveMoney: EntryMoveMoney.optional().openapi({
      description: 'plaid_transfer: move the real money of every new entry through Plaid Transfer (see MoveMoney); needs move_money',
    }),
  })
  .strict()
  .openapi('NewBatch');

export const Reversal = z
  .object({
    postedOn: AccountingDate.optional(),
    description: z.string().trim().min(1).max(DESCRIPTION_LENGTH_MAX).optional(),
  })
  .strict()
  .openapi('Reversal');

export const Posting = z
  .object({ accountId: Id, amountCents: z.int(), currency: Currency, memo: z.string().nullable() })
  .openapi('Posting');

export const Entry = z
  .object({
    id: Id,
    entityId: Id,
    postedOn: z.string(),
    description: z.string(),
    source: EntrySource,
    reversesEntryId: Id.nullable(),
    reversedByEntryId: Id.nullable(),
    idempotencyKey: z.string().nullable(),
    actor: z.string(),
    createdAt: z.string(),
    postings: z.array(Posting),
  })
  .openapi('Entry');

export const BatchResult = z
  .object({ entries: z.array(Entry.extend({ replayed: z.boolean() })) })
  .openapi('BatchResult');

export const EntryQuery = z
  .object({
    accountId: Id.optional(),
    from: AccountingDate.optional(),
    to: AccountingDate.optional(),
    source: EntrySource.optional(),
    q: z.string().min(1).max(100).optional(),
    limit: z.coerce.number().int().min(1).max(PAGE_SIZE_MAX).default(PAGE_SIZE_DEFAULT),
    cursor: z.string().max(200).optional(),
  })
  .strict();

export const EntryPage = z
  .object({ items: z.array(Entry), nextCursor: z.string().nullable() })
  .openapi('EntryPage');

export const BalancesQuery = z.object({ asOf: AccountingDate.optional() }).strict();

export const Balances = z
  .object({
    entityId: Id,
    asOfOn: z.string().nullable(),
    accounts: z.array(Account),
    totalCentsByCurrency: z.record(z.string(), z.int()),
  })
  .openapi('Balances');

/** A window of end-of-day balances: daily or monthly points; by default the last twelve months (or 30 days). */
export const BalanceHistoryQuery = z
  .object({
    from: AccountingDate.optional(),
    to: AccountingDate.optional(),
    interval: z.enum(['day', 'month']).optional().openapi({ description: 'one point per day, or per month end (default)' }),
  })
  .strict();

const NetWorthPoint = z.object({ on: z.string(), netWorthCents: z.int() });
const HistoryWindowFields = { fromOn: z.string(), toOn: z.string(), interval: z.enum(['day', 'month']) };

export const AccountBalanceHistory = z
  .object({
    accountId: Id,
    entityId: Id,
    currency: z.string(),
    class: z.string(),
    ...HistoryWindowFields,
    points: z.array(z.object({ on: z.string(), balanceCents: z.int(), naturalBalanceCents: z.int() })),
  })
  .openapi('AccountBalanceHistory');

export const EntityNetWorthHistory = z
  .object({ entityId: Id, ...HistoryWindowFields, byCurrency: z.record(z.string(), z.array(NetWorthPoint)) })
  .openapi('EntityNetWorthHistory');

export const ConsolidatedNetWorthHistory = z
  .object({
    entityIds: z.array(Id),
    ...HistoryWindowFields,
    byCurrency: z.record(z.string(), z.array(NetWorthPoint)),
    perEntity: z.array(z.object({ entityId: Id, name: z.string(), kind: z.string(), byCurrency: z.record(z.string(), z.array(NetWorthPoint)) })),
  })
  .openapi('ConsolidatedNetWorthHistory');

export const AccountListQuery = z.object({ includeArchived: z.enum(['true', 'false']).optional() }).strict();
