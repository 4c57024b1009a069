import { AMOUNT_CENTS_MAX, MEMO_LENGTH_MAX, NAME_LENGTH_MAX } from '../domain/limits';
import { PAYMENT_METHODS } from '../domain/form-1099';
import { AccountingDate, Id } from './schemas';
import { z } from './zod';

// 1099-NEC tracking. A TIN goes in (write-only) and never comes back: responses carry its last four digits.

export const W9Status = z.enum(['received', 'requested', 'missing']);
export const TinType = z.enum(['ssn', 'ein', 'itin']);
export const PaymentMethod = z.enum(PAYMENT_METHODS).openapi({ description: 'cash, check and ach count toward 1099-NEC; card and third_party_network are reported on the 1099-K' });

const Tin = z
  .string()
  .regex(/^(\d{3}-?\d{2}-?\d{4}|\d{2}-?\d{7})$/, 'nine digits: 123-45-6789 (SSN, ITIN) or 12-3456789 (EIN)')
  .openapi({ description: 'taxpayer identification number; stored encrypted, never returned (only its last 4 digits)', writeOnly: true });

const tinPair = (value: { tin?: string | undefined; tinType?: string | undefined }) => (value.tin === undefined) === (value.tinType === undefined);
const TIN_PAIR = { message: 'tin and tinType go together', path: ['tinType'] };

export const NewPayee = z
  .object({
    name: z.string().trim().min(1).max(NAME_LENGTH_MAX),
    isContractor: z.boolean(),
    w9Status: W9Status.default('missing'),
    tin: Tin.optional(),
    tinType: TinType.optional(),
  })
  .strict()
  .refine(tinPair, TIN_PAIR)
  .openapi('NewPayee');

export const PayeeChanges = z
  .object({
    name: z.string().trim().min(1).max(NAME_LENGTH_MAX).optional(),
    isContractor: z.boolean().optional(),
    w9Status: W9Status.optional(),
    tin: Tin.optional(),
    tinType: TinType.optional(),
  })
  .strict()
  .refine(tinPair, TIN_PAIR)
  .openapi('PayeeChanges');

export const Payee = z
  .object({
    id: Id,
    entityId: Id,
    name: z.string(),
    isContractor: z.boolean(),
    w9Status: W9Status,
    tinType: TinType.nullable(),
    tinLast4: z.string().nullable().openapi({ description: 'last four digits of the TIN on file, if any' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Payee');

export const NewPayeePayment = z
  .object({
    paidOn: AccountingDate,
    amountCents: z.int().min(1).max(AMOUNT_CENTS_MAX).openapi({ description: 'positive integer cents' }),
    method: PaymentMethod,
    entryId: Id.optional().openapi({ description: 'the journal entry that booked the payment, in the same entity' }),
    memo: z.string().max(MEMO_LENGTH_MAX).optional(),
  })
  .strict()
  .openapi('NewPayeePayment');

export const PayeePayment = z
  .object({
    id: Id,
    entityId: Id,
    payeeId: Id,
    paidOn: z.string(),
    amountCents: z.int(),
    method: PaymentMethod,
    entryId: Id.nullable(),
    memo: z.string().nullable(),
    voidedOn: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('PayeePayment');

export const PaymentVoid = z.object({ voidedOn: AccountingDate }).strict().openapi('PaymentVoid');

export const YearQuery = z
  .object({ year: z.coerce.number().int().min(1900).max(2199).optional().openapi({ description: 'payment year; defaults to the current year' }) })
  .strict();
