import {
  AccountSubtype,
  AccountType,
  APRAprTypeEnum,
  InvestmentTransactionSubtype,
  InvestmentTransactionType,
  ItemUpdateTypeEnum,
  PlaidErrorType,
  Products,
  StudentLoanStatusTypeEnum,
  StudentRepaymentPlanTypeEnum,
  ItemWithConsentFieldsUpdateTypeEnum,
  type InvestmentAccount,
  type ItemWithConsentFields,
  TransactionPaymentChannelEnum,
  TransactionsUpdateStatus,
  type AccountBase,
  type AccountsGetResponse,
  type Holding,
  type InvestmentsHoldingsGetResponse,
  type InvestmentsTransactionsGetResponse,
  type Item,
  type ItemGetResponse,
  type ItemPublicTokenExchangeResponse,
  type ItemRemoveResponse,
  type LiabilitiesGetResponse,
  type LinkTokenCreateResponse,
  type PlaidError,
  type SandboxItemFireWebhookResponse,
  type SandboxItemResetLoginResponse,
  type SandboxPublicTokenCreateResponse,
  type SandboxTransactionsCreateResponse,
  type Security,
  type Transaction,
  type TransactionsRefreshResponse,
  type TransactionsSyncResponse,
  type WebhookVerificationKeyGetResponse,
  ACHClass,
  OmittableTransferType,
  TransferAuthorizationDecision,
  TransferAuthorizationDecisionRationaleCode,
  TransferAuthorizationGuaranteeDecision,
  TransferCreditFundsSource,
  TransferEventType,
  TransferNetwork,
  TransferStatus,
  TransferType,
  type SandboxTransferSimulateResponse,
  type SandboxTransferFireWebhookResponse,
  type Transfer,
  type TransferAuthorization,
  type TransferAuthorizationCreateResponse,
  type TransferCreateResponse,
  type TransferEvent,
  type TransferEventSyncResponse,
  type TransferGetResponse,
} from 'plaid';
import { z } from 'zod';

// Every response the emulator sends is parsed by one of these before it leaves. Each schema is declared as
// `z.ZodType<PlaidType>`, so the compiler checks it against the `plaid` package's own response types (a missing
// required field or a wrong enum does not compile) and zod checks every actual response at run time (a handler
// that builds a wrong shape answers 500 instead of lying to the client).

const money = z.number().finite();
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const nullableString = z.string().nullable();

export const PlaidErrorSchema: z.ZodType<PlaidError> = z.object({
  error_type: z.enum(PlaidErrorType),
  error_code: z.string().min(1),
  error_message: z.string().min(1),
  display_message: nullableString,
  request_id: z.string().min(1),
  causes: z.array(z.any()).optional(),
  status: z.number().int().nullable().optional(),
  documentation_url: z.string().optional(),
  suggested_action: nullableString.optional(),
});

const Balance = z.object({
  available: money.nullable(),
  current: money.nullable(),
  limit: money.nullable(),
  iso_currency_code: nullableString,
  unofficial_currency_code: nullableString,
  last_updated_datetime: nullableString.optional(),
});

export const AccountSchema: z.ZodType<AccountBase> = z.object({
  account_id: z.string().min(1),
  balances: Balance,
  mask: nullableString,
  name: z.string(),
  official_name: nullableString,
  type: z.enum(AccountType),
  subtype: z.enum(AccountSubtype).nullable(),
});

const itemShape = {
  item_id: z.string().min(1),
  institution_id: nullableString.optional(),
  institution_name: nullableString.optional(),
  webhook: nullableString,
  error: PlaidErrorSchema.nullable(),
  available_products: z.array(z.enum(Products)),
  billed_products: z.array(z.enum(Products)),
  products: z.array(z.enum(Products)).optional(),
  consented_products: z.array(z.enum(Products)).optional(),
  consent_expiration_time: nullableString,
};
const ItemSchema: z.ZodType<Item> = z.object({ ...itemShape, update_type: z.enum(ItemUpdateTypeEnum) });
const ItemWithConsentSchema: z.ZodType<ItemWithConsentFields> = z.object({ ...itemShape, update_type: z.enum(ItemWithConsentFieldsUpdateTypeEnum) });

const Location = z.object({
  address: nullableString,
  city: nullableString,
  region: nullableString,
  postal_code: nullableString,
  country: nullableString,
  lat: z.number().nullable(),
  lon: z.number().nullable(),
  store_number: nullableString,
});

const PaymentMeta = z.object({
  reference_number: nullableString,
  ppd_id: nullableString,
  payee: nullableString,
  by_order_of: nullableString,
  payer: nullableString,
  payment_method: nullableString,
  payment_processor: nullableString,
  reason: nullableString,
});

export const TransactionSchema: z.ZodType<Transaction> = z.object({
  account_id: z.string().min(1),
  amount: money,
  iso_currency_code: nullableString,
  unofficial_currency_code: nullableString,
  date,
  location: Location,
  name: z.string(),
  merchant_name: nullableString.optional(),
  original_description: nullableString.optional(),
  payment_meta: PaymentMeta,
  pending: z.boolean(),
  pending_transaction_id: nullableString,
  account_owner: nullableString,
  transaction_id: z.string().min(1),
  authorized_date: date.nullable(),
  authorized_datetime: nullableString,
  datetime: nullableString,
  payment_channel: z.enum(TransactionPaymentChannelEnum),
  personal_finance_category: z.object({ primary: z.string(), detailed: z.string(), confidence_level: nullableString.optional() }).nullable().optional(),
  transaction_code: z.null(),
});

export const LinkTokenCreateResponseSchema: z.ZodType<LinkTokenCreateResponse> = z.object({
  link_token: z.string().startsWith('link-'),
  expiration: z.string(),
  request_id: z.string(),
});

export const ExchangeResponseSchema: z.ZodType<ItemPublicTokenExchangeResponse> = z.object({
  access_token: z.string().startsWith('access-'),
  item_id: z.string(),
  request_id: z.string(),
});

export const ItemGetResponseSchema: z.ZodType<ItemGetResponse> = z.object({
  item: ItemWithConsentSchema,
  request_id: z.string(),
});

export const AccountsGetResponseSchema: z.ZodType<AccountsGetResponse> = z.object({
  accounts: z.array(AccountSchema),
  item: ItemSchema,
  request_id: z.string(),
});

export const TransactionsSyncResponseSchema: z.ZodType<TransactionsSyncResponse> = z.object({
  transactions_update_status: z.enum(TransactionsUpdateStatus),
  accounts: z.array(AccountSchema),
  added: z.array(TransactionSchema),
  modified: z.array(TransactionSchema),
  removed: z.array(z.object({ transaction_id: z.string(), account_id: z.string() })),
  next_cursor: z.string(),
  has_more: z.boolean(),
  request_id: z.string(),
});

const Apr = z.object({
  apr_percentage: z.number(),
  apr_type: z.enum(APRAprTypeEnum),
  balance_subject_to_apr: money.nullable(),
  interest_charge_amount: money.nullable(),
});

const CreditLiability = z.object({
  account_id: nullableString,
  aprs: z.array(Apr),
  is_overdue: z.boolean().nullable(),
  last_payment_amount: money.nullable(),
  last_payment_date: date.nullable(),
  last_statement_issue_date: date.nullable(),
  last_statement_balance: money.nullable(),
  minimum_payment_amount: money.nullable(),
  next_payment_due_date: date.nullable(),
});

const MortgageLiabilitySchema = z.object({
  account_id: z.string(),
  account_number: nullableString,
  current_late_fee: money.nullable(),
  escrow_balance: money.nullable(),
  has_pmi: z.boolean().nullable(),
  has_prepayment_penalty: z.boolean().nullable(),
  interest_rate: z.object({ percentage: z.number().nullable(), type: nullableString }),
  last_payment_amount: money.nullable(),
  last_payment_date: date.nullable(),
  loan_type_description: nullableString,
  loan_term: nullableString,
  maturity_date: date.nullable(),
  next_monthly_payment: money.nullable(),
  next_payment_due_date: date.nullable(),
  origination_date: date.nullable(),
  origination_principal_amount: money.nullable(),
  past_due_amount: money.nullable(),
  property_address: z.object({
    city: nullableString,
    country: nullableString,
    postal_code: nullableString,
    region: nullableString,
    street: nullableString,
  }),
  ytd_interest_paid: money.nullable(),
  ytd_principal_paid: money.nullable(),
});

const StudentLoanSchema = z.object({
  account_id: nullableString,
  account_number: nullableString,
  disbursement_dates: z.array(date).nullable(),
  expected_payoff_date: date.nullable(),
  guarantor: nullableString,
  interest_rate_percentage: z.number(),
  is_overdue: z.boolean().nullable(),
  last_payment_amount: money.nullable(),
  last_payment_date: date.nullable(),
  last_statement_issue_date: date.nullable(),
  loan_name: nullableString,
  loan_status: z.object({ end_date: date.nullable(), type: z.enum(StudentLoanStatusTypeEnum) }),
  minimum_payment_amount: money.nullable(),
  next_payment_due_date: date.nullable(),
  origination_date: date.nullable(),
  origination_principal_amount: money.nullable(),
  outstanding_interest_amount: money.nullable(),
  payment_reference_number: nullableString,
  pslf_status: z.object({ estimated_eligibility_date: date.nullable(), payments_made: z.number().nullable(), payments_remaining: z.number().nullable() }),
  repayment_plan: z.object({ description: nullableString, type: z.enum(StudentRepaymentPlanTypeEnum) }),
  sequence_number: nullableString,
  servicer_address: z.object({
    city: nullableString,
    region: nullableString,
    street: nullableString,
    postal_code: nullableString,
    country: nullableString,
  }),
  ytd_interest_paid: money.nullable(),
  ytd_principal_paid: money.nullable(),
});

export const LiabilitiesGetResponseSchema: z.ZodType<LiabilitiesGetResponse> = z.object({
  accounts: z.array(AccountSchema),
  item: ItemSchema,
  liabilities: z.object({
    credit: z.array(CreditLiability).nullable(),
    mortgage: z.array(MortgageLiabilitySchema).nullable(),
    student: z.array(StudentLoanSchema).nullable(),
  }),
  request_id: z.string(),
});

const InvestmentAccountSchema: z.ZodType<InvestmentAccount> = z.object({
  account_id: z.string().min(1),
  balances: Balance.extend({ margin_loan_amount: money.nullable() }),
  mask: nullableString,
  name: z.string(),
  official_name: nullableString,
  type: z.enum(AccountType),
  subtype: z.enum(AccountSubtype).nullable(),
});

const HoldingSchema: z.ZodType<Holding> = z.object({
  account_id: z.string(),
  security_id: z.string(),
  institution_price: money,
  institution_price_as_of: date.nullable().optional(),
  institution_value: money,
  cost_basis: money.nullable(),
  quantity: z.number(),
  iso_currency_code: nullableString,
  unofficial_currency_code: nullableString,
});

const SecuritySchema: z.ZodType<Security> = z.object({
  security_id: z.string(),
  isin: nullableString,
  cusip: nullableString,
  sedol: nullableString,
  institution_security_id: nullableString,
  institution_id: nullableString,
  proxy_security_id: nullableString,
  name: nullableString,
  ticker_symbol: nullableString,
  is_cash_equivalent: z.boolean().nullable(),
  type: nullableString,
  close_price: money.nullable(),
  close_price_as_of: date.nullable(),
  iso_currency_code: nullableString,
  unofficial_currency_code: nullableString,
  market_identifier_code: nullableString,
  sector: nullableString,
  industry: nullableString,
  cfi_code: nullableString,
  figi: nullableString,
  option_contract: z.null(),
  fixed_income: z.null(),
});

export const HoldingsGetResponseSchema: z.ZodType<InvestmentsHoldingsGetResponse> = z.object({
  accounts: z.array(InvestmentAccountSchema),
  holdings: z.array(HoldingSchema),
  securities: z.array(SecuritySchema),
  item: ItemSchema,
  request_id: z.string(),
});

const InvestmentTransactionSchema = z.object({
  investment_transaction_id: z.string(),
  account_id: z.string(),
  security_id: nullableString,
  date,
  name: z.string(),
  quantity: z.number(),
  amount: money,
  price: money,
  fees: money.nullable(),
  type: z.enum(InvestmentTransactionType),
  subtype: z.enum(InvestmentTransactionSubtype),
  iso_currency_code: nullableString,
  unofficial_currency_code: nullableString,
});

export const InvestmentTransactionsGetResponseSchema: z.ZodType<InvestmentsTransactionsGetResponse> = z.object({
  item: ItemSchema,
  accounts: z.array(InvestmentAccountSchema),
  securities: z.array(SecuritySchema),
  investment_transactions: z.array(InvestmentTransactionSchema),
  total_investment_transactions: z.number().int(),
  request_id: z.string(),
});

export const WebhookKeyResponseSchema: z.ZodType<WebhookVerificationKeyGetResponse> = z.object({
  key: z.object({
    alg: z.literal('ES256'),
    crv: z.literal('P-256'),
    kid: z.string(),
    kty: z.literal('EC'),
    use: z.literal('sig'),
    x: z.string(),
    y: z.string(),
    created_at: z.number().int(),
    expired_at: z.number().int().nullable(),
  }),
  request_id: z.string(),
});

export const ItemRemoveResponseSchema: z.ZodType<ItemRemoveResponse> = z.object({ request_id: z.string() });
export const SandboxPublicTokenResponseSchema: z.ZodType<SandboxPublicTokenCreateResponse> = z.object({
  public_token: z.string().startsWith('public-'),
  request_id: z.string(),
});
export const ResetLoginResponseSchema: z.ZodType<SandboxItemResetLoginResponse> = z.object({ reset_login: z.boolean(), request_id: z.string() });
export const FireWebhookResponseSchema: z.ZodType<SandboxItemFireWebhookResponse> = z.object({ webhook_fired: z.boolean(), request_id: z.string() });
export const RequestIdOnlySchema: z.ZodType<SandboxTransactionsCreateResponse & TransactionsRefreshResponse> = z.object({ request_id: z.string() });

// ---------------------------------------------------------------- Transfer

const decimalAmount = z.string().regex(/^\d+\.\d{2}$/);
const TransferUserSchema = z.object({ legal_name: z.string(), phone_number: nullableString, email_address: nullableString, address: z.null() });
const TransferFailureSchema = z.object({ failure_code: nullableString.optional(), ach_return_code: nullableString.optional(), description: z.string().optional() });

export const TransferAuthorizationSchema: z.ZodType<TransferAuthorization> = z.object({
  id: z.string().min(1),
  created: z.string(),
  decision: z.enum(TransferAuthorizationDecision),
  decision_rationale: z.object({ code: z.enum(TransferAuthorizationDecisionRationaleCode), description: z.string() }).nullable(),
  guarantee_decision: z.enum(TransferAuthorizationGuaranteeDecision),
  guarantee_decision_rationale: z.null(),
  payment_risk: z.null(),
  proposed_transfer: z.object({
    ach_class: z.enum(ACHClass).optional(),
    account_id: z.string().optional(),
    funding_account_id: z.null(),
    type: z.enum(TransferType),
    user: TransferUserSchema,
    amount: decimalAmount,
    requested_amount: decimalAmount,
    network: z.string(),
    origination_account_id: z.string(),
    iso_currency_code: z.literal('USD'),
    originator_client_id: z.null(),
    credit_funds_source: z.enum(TransferCreditFundsSource),
  }),
});

export const TransferAuthorizationCreateResponseSchema: z.ZodType<TransferAuthorizationCreateResponse> = z.object({
  authorization: TransferAuthorizationSchema,
  request_id: z.string(),
});

export const TransferSchema: z.ZodType<Transfer> = z.object({
  id: z.string().min(1),
  authorization_id: z.string().min(1),
  ach_class: z.enum(ACHClass).optional(),
  account_id: z.string().optional(),
  funding_account_id: z.null(),
  type: z.enum(TransferType),
  user: TransferUserSchema,
  amount: decimalAmount,
  description: z.string().min(1).max(15),
  created: z.string(),
  status: z.enum(TransferStatus),
  network: z.enum(TransferNetwork),
  cancellable: z.boolean(),
  failure_reason: TransferFailureSchema.nullable(),
  metadata: z.record(z.string(), z.string()).nullable(),
  origination_account_id: z.string(),
  guarantee_decision: z.enum(TransferAuthorizationGuaranteeDecision),
  guarantee_decision_rationale: z.null(),
  iso_currency_code: z.literal('USD'),
  standard_return_window: date.nullable(),
  unauthorized_return_window: date.nullable(),
  expected_settlement_date: date.nullable(),
  originator_client_id: z.null(),
  refunds: z.array(z.never()),
  recurring_transfer_id: z.null(),
  credit_funds_source: z.enum(TransferCreditFundsSource),
});

export const TransferResponseSchema: z.ZodType<TransferCreateResponse & TransferGetResponse> = z.object({ transfer: TransferSchema, request_id: z.string() });

export const TransferEventSchema: z.ZodType<TransferEvent> = z.object({
  event_id: z.number().int().positive(),
  timestamp: z.string(),
  event_type: z.enum(TransferEventType),
  account_id: z.string(),
  funding_account_id: z.null(),
  transfer_id: z.string(),
  origination_account_id: z.null(),
  transfer_type: z.enum(OmittableTransferType),
  transfer_amount: decimalAmount,
  failure_reason: TransferFailureSchema.nullable(),
  sweep_id: z.null(),
  sweep_amount: z.null(),
  refund_id: z.null(),
  originator_client_id: z.null(),
});

export const TransferEventSyncResponseSchema: z.ZodType<TransferEventSyncResponse> = z.object({
  transfer_events: z.array(TransferEventSchema),
  has_more: z.boolean(),
  request_id: z.string(),
});

export const SandboxTransferSimulateResponseSchema: z.ZodType<SandboxTransferSimulateResponse & SandboxTransferFireWebhookResponse> = z.object({ request_id: z.string() });
