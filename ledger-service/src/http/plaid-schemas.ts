import { BankLine } from './bank-line-schemas';
import * as s from './schemas';
import { z } from './zod';

const cents = (description: string) => z.int().nullable().openapi({ description });

export const PlaidItemStatus = z.enum(['healthy', 'login_required', 'pending_expiration', 'error', 'removed']);

export const Holding = z
  .object({
    securityId: z.string(),
    ticker: z.string().nullable(),
    name: z.string().nullable(),
    securityType: z.string().nullable(),
    quantity: z.string().openapi({ description: 'shares, as an exact decimal string' }),
    priceCents: cents('price per share in cents'),
    valueCents: z.int(),
    costBasisCents: cents('cost basis in cents'),
    currency: s.Currency,
    asOf: s.AccountingDate,
  })
  .openapi('PlaidHolding');

export const PlaidAccount = z
  .object({
    id: s.Id.openapi({ description: 'the link between the Plaid account and the Veil account' }),
    accountId: s.Id.openapi({ description: 'the Veil account the lines land in' }),
    plaidAccountId: z.string(),
    name: z.string(),
    officialName: z.string().nullable(),
    mask: z.string().nullable(),
    type: z.string().openapi({ description: "Plaid's account type (depository, credit, loan, investment)" }),
    subtype: z.string().nullable(),
    kind: z.string().openapi({ description: 'the Veil account kind it became' }),
    currency: s.Currency,
    currentCents: cents('current balance as the bank states it (owed, for cards and loans)'),
    availableCents: cents('available balance as the bank states it'),
    limitCents: cents('credit limit'),
    balancesAt: z.string().nullable(),
    interestRateBps: z.int().nullable().openapi({ description: 'card purchase APR or loan rate, in basis points' }),
    liability: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: 'card: aprBps, statementBalanceCents, minimumPaymentCents, nextPaymentDueOn…; loans: rate, origination, maturity, next payment' }),
    holdings: z.array(Holding),
  })
  .openapi('PlaidAccount');

export const PlaidItem = z
  .object({
    id: s.Id,
    entityId: s.Id,
    institutionId: z.string().nullable(),
    institutionName: z.string(),
    status: PlaidItemStatus,
    error: z.object({ code: z.string(), type: z.string(), message: z.string() }).nullable(),
    lastSyncedAt: z.string().nullable(),
    createdAt: z.string(),
    accounts: z.array(PlaidAccount),
  })
  .openapi('PlaidItem');

export const PlaidItemList = z.object({ items: z.array(PlaidItem) }).openapi('PlaidItemList');

export const LinkTokenRequest = z.object({ entityId: s.Id }).openapi('PlaidLinkTokenRequest');
export const LinkToken = z
  .object({ linkToken: z.string(), expiration: z.string() })
  .openapi('PlaidLinkToken', { description: 'hand linkToken to Plaid Link; it returns a public token for POST /plaid/items' });

export const DemoLinkRequest = z
  .object({
    linkToken: z.string().min(1).max(500),
    username: z.enum(['user_good', 'user_llc']).optional().openapi({ description: "the emulator's sandbox login: a personal bank (user_good) or a business bank (user_llc)" }),
  })
  .strict()
  .openapi('PlaidDemoLinkRequest');
export const DemoLink = z
  .object({ publicToken: z.string().nullable().openapi({ description: 'to exchange with POST /plaid/items; null in update mode (the item was repaired)' }) })
  .openapi('PlaidDemoLink');

export const LinkItemRequest = z
  .object({ entityId: s.Id.openapi({ description: 'the books the linked accounts belong to' }), publicToken: z.string().min(1).max(500) })
  .openapi('PlaidLinkItemRequest');

export const SyncQuery = z
  .object({
    pagesMax: z.coerce.number().int().min(1).max(1_000).optional().openapi({
      description: 'stop after this many Plaid pages (hasMore then says to sync again); 1 keeps every line of the run in the reply (a page is at most 500 changes)',
    }),
  })
  .strict();

export const SyncReport = z
  .object({
    itemId: s.Id,
    added: z.int(),
    modified: z.int(),
    removed: z.int(),
    booked: z.int().openapi({ description: 'posted lines booked as entries (their category was known)' }),
    pendingStored: z.int().openapi({ description: 'pending lines stored (never booked; their posted successor is)' }),
    duplicates: z.int(),
    pages: z.int(),
    restarts: z.int().openapi({ description: 'times pagination restarted because Plaid data changed mid-sync' }),
    hasMore: z.boolean().openapi({ description: 'the page cap stopped this run; sync again to continue' }),
    bankLines: z.array(BankLine),
    bankLinesTruncated: z.boolean(),
  })
  .openapi('PlaidSyncReport');

export const WebhookBody = z
  .object({ webhook_type: z.string(), webhook_code: z.string(), item_id: z.string().optional(), error: z.unknown().optional() })
  .passthrough()
  .openapi('PlaidWebhook', { description: 'sent by Plaid; verified by the Plaid-Verification header (ES256 JWT) over the raw body' });

export const WebhookReply = z
  .object({ received: z.literal(true), action: z.enum(['synced', 'status_changed', 'transfer_events_synced', 'ignored']) })
  .openapi('PlaidWebhookReply');

export const LiabilityBill = z
  .object({
    billId: s.Id,
    accountId: s.Id,
    kind: z.enum(['credit', 'mortgage', 'student']),
    name: z.string(),
    amountCents: z.int().openapi({ description: "the bill's amount: a card's statement balance (paying it avoids interest), a loan's payment" }),
    statementBalanceCents: z.int().nullable(),
    minimumPaymentCents: z.int().nullable(),
    nextPaymentDueOn: z.string().nullable(),
    interestRateBps: z.int().nullable().openapi({ description: 'purchase APR or loan rate in basis points' }),
    created: z.boolean().openapi({ description: 'false: an existing bill was updated' }),
  })
  .openapi('PlaidLiabilityBill');

export const LiabilitiesRefresh = z
  .object({
    itemId: s.Id,
    accounts: z.int(),
    bills: z.array(LiabilityBill),
    skipped: z.array(z.object({ accountId: s.Id, reason: z.string() })),
  })
  .openapi('PlaidLiabilitiesRefresh');

export const InvestmentsRefresh = z
  .object({
    itemId: s.Id,
    holdings: z.int(),
    securities: z.int(),
    holdingsRemoved: z.int().openapi({ description: 'positions Plaid no longer lists (sold), removed from the Plaid-sourced holdings' }),
    transactionsAdded: z.int(),
    transactionsSeen: z.int(),
  })
  .openapi('PlaidInvestmentsRefresh');

// ---------------------------------------------------------------- Plaid Transfer (moving real money)

export const MoveMoney = z
  .enum(['ledger_only', 'plaid_transfer'])
  .openapi('MoveMoney', {
    description:
      'plaid_transfer: also move the real money through Plaid Transfer (the entity must enable it; every posting on a Plaid-linked checking or savings account becomes a debit or credit, the entry stays pending until Plaid settles it and is reversed if Plaid fails or returns it; needs move_money). Default ledger_only.',
  });

export const PlaidTransferNetwork = z.enum(['ach', 'same-day-ach', 'rtp']);

export const PlaidTransferSettings = z
  .object({ entityId: s.Id, enabled: z.boolean(), legalName: z.string().nullable(), network: PlaidTransferNetwork })
  .openapi('PlaidTransferSettings');

export const PlaidTransferSettingsChanges = z
  .object({
    enabled: z.boolean().optional(),
    legalName: z.string().trim().min(1).max(100).nullable().optional().openapi({ description: "the account holder's legal name Plaid needs; defaults to the entity's name" }),
    network: PlaidTransferNetwork.optional(),
  })
  .strict()
  .openapi('PlaidTransferSettingsChanges');

export const PlaidTransferStatus = z.enum(['pending', 'posted', 'settled', 'funds_available', 'cancelled', 'failed', 'returned']);

export const PlaidTransfer = z
  .object({
    id: s.Id,
    entityId: s.Id,
    entryId: s.Id,
    accountId: s.Id,
    direction: z.enum(['debit', 'credit']).openapi({ description: 'debit: money leaves the account; credit: money arrives' }),
    amountCents: z.int(),
    currency: s.Currency,
    plaidTransferId: z.string(),
    status: PlaidTransferStatus,
    failure: z.object({ code: z.string().nullable(), achReturnCode: z.string().nullable(), description: z.string().nullable() }).nullable(),
    reversalEntryId: s.Id.nullable().openapi({ description: 'the entry that reversed the booking after a failure or return' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('PlaidTransfer');

export const MoneyMovement = z
  .object({ via: z.literal('plaid_transfer'), status: z.enum(['pending', 'settled', 'failed']), transfers: z.array(PlaidTransfer) })
  .openapi('MoneyMovement');

export const PlaidTransferQuery = z
  .object({ entryId: s.Id.optional(), limit: z.coerce.number().int().min(1).max(1_000).default(100) })
  .strict();

export const TransferEventsReport = z
  .object({
    applied: z.int().openapi({ description: "status changes applied to the caller's Plaid transfers" }),
    reversed: z.int().openapi({ description: 'entries (or crossings) reversed because a leg failed, was cancelled or returned' }),
    hasMore: z.boolean().openapi({ description: 'the page cap stopped this run; call again to continue' }),
  })
  .openapi('PlaidTransferEventsReport');
