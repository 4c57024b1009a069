import { createHash, randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  AccountType,
  APRAprTypeEnum,
  InvestmentTransactionSubtype,
  InvestmentTransactionType,
  ItemUpdateTypeEnum,
  PlaidErrorType,
  Products,
  StudentLoanStatusTypeEnum,
  StudentRepaymentPlanTypeEnum,
  TransactionsUpdateStatus,
  ItemWithConsentFieldsUpdateTypeEnum,
  type InvestmentAccount,
  type InvestmentTransaction,
  AccountSubtype,
  type AccountBase,
  type AccountsGetResponse,
  type InvestmentsHoldingsGetResponse,
  type InvestmentsTransactionsGetResponse,
  type Item,
  type ItemGetResponse,
  type ItemPublicTokenExchangeResponse,
  type LiabilitiesGetResponse,
  type LinkTokenCreateResponse,
  type PlaidError,
  type Transaction,
  type TransactionPaymentChannelEnum,
  type TransactionsSyncResponse,
  type WebhookVerificationKeyGetResponse,
  ACHClass,
  TransferAuthorizationDecision,
  TransferAuthorizationDecisionRationaleCode,
  TransferAuthorizationGuaranteeDecision,
  TransferCreditFundsSource,
  TransferEventType,
  TransferNetwork,
  TransferStatus,
  TransferType,
  OmittableTransferType,
  type Transfer,
  type TransferAuthorization,
  type TransferEvent,
} from 'plaid';
import { z } from 'zod';
import { parseCents } from '../domain/money';
import { seededRandom } from '../domain/random';
import { addDays, DYNAMIC_MERCHANTS, generateDataset, holdingValueCents, plaidId, type SandboxDataset, type SandboxTransaction, type SandboxUser } from './data';
import * as s from './schemas';

// A Plaid sandbox that the real `plaid` client cannot tell from the real one, for the endpoints Veil uses.
// Behaviour, not only shapes: each item keeps an append-only change log of its transactions, and a sync cursor is
// a position in that log; pages of `count` changes with `has_more`; a log that grows while a client pages through
// it answers TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION; a pending transaction posts under a new id carrying
// `pending_transaction_id` while the pending id is removed; reset_login puts the item in ITEM_LOGIN_REQUIRED; and
// webhooks are signed ES256 with a key served by /webhook_verification_key/get.

export interface EmulatorOptions {
  clientId: string;
  secret: string;
  /** Seeds every generated id and amount; the same seed and clock give the same data. */
  seed?: number;
  /** Milliseconds since the epoch. */
  now?: () => number;
  historyDays?: number;
  /** How many transactions a `user_bulk` item carries (the benchmark). */
  bulkCount?: number;
}

type ChangeKind = 'added' | 'modified' | 'removed';
interface Change {
  kind: ChangeKind;
  transaction: SandboxTransaction;
}

interface ItemState {
  itemId: string;
  accessToken: string;
  user: SandboxUser;
  institutionId: string;
  institutionName: string;
  webhook: string | null;
  error: PlaidError | null;
  products: Products[];
  data: SandboxDataset;
  /** The change log behind every cursor: only ever appended to. */
  log: Change[];
  /** Current state of each transaction id that has not been removed. */
  live: Map<string, SandboxTransaction>;
  random: () => number;
  consentExpiresAt: string | null;
}

interface LinkTokenState {
  webhook: string | null;
  expiresAtMs: number;
  /** Update mode: the item whose login the user repairs. */
  itemId: string | null;
  products: Products[];
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
  createdAtSeconds: number;
  expiredAtSeconds: number | null;
}

export interface WebhookDelivery {
  url: string;
  body: Record<string, unknown>;
  status: number | null;
  error: string | null;
}

// jose ships only ES modules; this package compiles to CommonJS, so it is loaded with a dynamic import.
type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });
type CryptoKey = Awaited<ReturnType<Jose['generateKeyPair']>>['privateKey'];
type JWK = Awaited<ReturnType<Jose['exportJWK']>>;

const INSTITUTIONS: Record<string, string> = {
  ins_109508: 'First Platypus Bank',
  ins_109509: 'First Gingham Credit Union',
  ins_109511: 'Tartan Bank',
  ins_109512: 'Houndstooth Bank',
};

const SANDBOX_USERS = ['user_good', 'user_llc', 'user_transactions_dynamic', 'user_bulk'] as const;
const SYNC_COUNT_DEFAULT = 100;
const SYNC_COUNT_MAX = 500;
const LINK_TOKEN_TTL_MS = 4 * 3_600_000;
/** A single transfer above this is declined TRANSFER_LIMIT_REACHED (the sandbox's default per-transfer limit). */
const TRANSFER_AMOUNT_CENTS_MAX = 10_000_000;
const TRANSFER_EVENTS_PAGE_DEFAULT = 25;
const TRANSFER_EVENTS_PAGE_MAX = 500;
/** What /sandbox/transfer/simulate may do from each status, as Plaid's sandbox allows. */
const SIMULATED_TRANSITIONS: Partial<Record<TransferStatus, TransferEventType[]>> = {
  [TransferStatus.Pending]: [TransferEventType.Posted, TransferEventType.Failed],
  [TransferStatus.Posted]: [TransferEventType.Settled, TransferEventType.Returned],
  [TransferStatus.Settled]: [TransferEventType.FundsAvailable, TransferEventType.Returned],
  [TransferStatus.FundsAvailable]: [TransferEventType.Returned],
};

interface AuthorizationState {
  authorization: TransferAuthorization;
  itemId: string;
  /** The one transfer created from this authorization. */
  transferId: string | null;
}

interface TransferState {
  transfer: Transfer;
  itemId: string;
}

class PlaidFailure extends Error {
  constructor(
    readonly status: number,
    readonly errorType: PlaidErrorType,
    readonly errorCode: string,
    message: string,
    readonly displayMessage: string | null = null,
  ) {
    super(message);
  }
}

function dollars(cents: number): number {
  return cents / 100;
}

/** Plaid amounts are decimal dollars in JSON numbers: read through their decimal text, never by float arithmetic. */
function centsOfAmount(amount: number): number {
  try {
    return parseCents(String(amount));
  } catch {
    throw new PlaidFailure(400, PlaidErrorType.InvalidRequest, 'INVALID_FIELD', `amount ${amount} must have at most two decimals`);
  }
}

function requestId(): string {
  return randomBytes(8).toString('base64url');
}

export interface PlaidEmulator {
  app: express.Express;
  /** Waits until every webhook sent so far has been answered (tests; the benchmark). */
  settleWebhooks(): Promise<WebhookDelivery[]>;
  deliveries: WebhookDelivery[];
  /** Emulator controls that stand for the bank changing its mind; not part of Plaid's API. */
  removeTransaction(itemId: string, transactionId: string): void;
  modifyTransaction(itemId: string, transactionId: string, changes: Partial<Pick<SandboxTransaction, 'amountCents' | 'name' | 'date'>>): void;
  /** Signs a webhook body as the emulator would, without sending it (tests of the ledger's verification). */
  signWebhook(itemId: string, body: Record<string, unknown>, iatSeconds?: number): Promise<{ payload: string; jwt: string }>;
  accessTokenOf(itemId: string): string;
  /** A new signing key; the old one stays served (with expired_at) so in-flight webhooks still verify. */
  rotateWebhookKey(): Promise<void>;
  itemIdOf(accessToken: string): string;
  liveTransactions(itemId: string): SandboxTransaction[];
  /**
   * Fault injection (tests): the next `times` requests to `path`, after `skip` good ones, fail: `reset` drops the
   * connection without an answer, `error` answers Plaid's error with that status and code.
   */
  injectFault(fault: EmulatorFault): void;
  /** Requests received per path, faulty ones included. */
  requestCount(path: string): number;
}

export type EmulatorFault = { path: string; times?: number; skip?: number } & (
  | { kind: 'reset' }
  | { kind: 'error'; status: number; errorType: PlaidErrorType; errorCode: string }
);

export async function createPlaidEmulator(options: EmulatorOptions): Promise<PlaidEmulator> {
  const now = options.now ?? Date.now;
  const seed = options.seed ?? 42;
  const historyDays = options.historyDays ?? 90;
  const items = new Map<string, ItemState>();
  const itemByToken = new Map<string, string>();
  const linkTokens = new Map<string, LinkTokenState>();
  const publicTokens = new Map<string, string>();
  const keys: SigningKey[] = [];
  const deliveries: WebhookDelivery[] = [];
  const inFlight = new Set<Promise<void>>();
  let itemCounter = 0;
  const authorizations = new Map<string, AuthorizationState>();
  const authorizationsByKey = new Map<string, AuthorizationState>();
  const transfers = new Map<string, TransferState>();
  /** Every transfer event of this client, in order; event_id is the position + 1. */
  const transferEvents: TransferEvent[] = [];

  const today = () => new Date(now()).toISOString().slice(0, 10);

  const { exportJWK, generateKeyPair, SignJWT } = await import('jose');

  async function addKey(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const createdAtSeconds = Math.floor(now() / 1000);
    for (const key of keys) key.expiredAtSeconds ??= createdAtSeconds;
    keys.push({ kid: randomBytes(16).toString('hex'), privateKey, jwk, createdAtSeconds, expiredAtSeconds: null });
  }
  await addKey();

  /** An item's webhooks carry its item_id; Transfer's (TRANSFER_EVENTS_UPDATE) are about the client and carry none. */
  async function signWebhook(item: ItemState | null, body: Record<string, unknown>, iatSeconds = Math.floor(now() / 1000)): Promise<{ payload: string; jwt: string }> {
    const payload = JSON.stringify({ ...body, ...(item === null ? {} : { item_id: item.itemId }), environment: 'sandbox' }, null, 2);
    const key = keys.at(-1) as SigningKey;
    const jwt = await new SignJWT({ request_body_sha256: createHash('sha256').update(payload).digest('hex') })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .setIssuedAt(iatSeconds)
      .sign(key.privateKey);
    return { payload, jwt };
  }

  async function sendWebhook(item: ItemState, body: Record<string, unknown>, target: { url: string; aboutItem: boolean } | null = null): Promise<void> {
    const url = target?.url ?? item.webhook;
    if (url === null) return;
    const { payload, jwt } = await signWebhook(target === null || target.aboutItem ? item : null, body);
    const delivery: WebhookDelivery = { url, body: JSON.parse(payload), status: null, error: null };
    deliveries.push(delivery);
    await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'plaid-verification': jwt }, body: payload })
      .then(async (response) => {
        delivery.status = response.status;
        await response.arrayBuffer();
      })
      .catch((error: unknown) => {
        delivery.error = (error as Error).message;
      });
  }

  function fireWebhook(item: ItemState, body: Record<string, unknown>, target: { url: string; aboutItem: boolean } | null = null): void {
    // Registered before the first await, so settleWebhooks() never misses a webhook already fired.
    const attempt = sendWebhook(item, body, target);
    inFlight.add(attempt);
    void attempt.finally(() => inFlight.delete(attempt));
  }

  function record(item: ItemState, kind: ChangeKind, transaction: SandboxTransaction): void {
    item.log.push({ kind, transaction: { ...transaction } });
    if (kind === 'removed') item.live.delete(transaction.transactionId);
    else item.live.set(transaction.transactionId, { ...transaction });
  }

  function createItem(user: SandboxUser, institutionId: string, webhook: string | null, products: Products[]): ItemState {
    itemCounter += 1;
    const random = seededRandom(seed * 1_000 + itemCounter);
    const data = generateDataset(user, { seed: seed * 7_919 + itemCounter * 104_729 + SANDBOX_USERS.indexOf(user), today: today(), historyDays, bulkCount: options.bulkCount });
    const item: ItemState = {
      itemId: plaidId(random),
      accessToken: `access-sandbox-${crypto.randomUUID()}`,
      user,
      institutionId,
      institutionName: INSTITUTIONS[institutionId] ?? 'Sandbox Bank',
      webhook,
      error: null,
      products,
      data,
      log: [],
      live: new Map(),
      random,
      consentExpiresAt: null,
    };
    for (const transaction of data.transactions) record(item, 'added', transaction);
    items.set(item.itemId, item);
    itemByToken.set(item.accessToken, item.itemId);
    return item;
  }

  function itemFor(accessToken: unknown): ItemState {
    const itemId = typeof accessToken === 'string' ? itemByToken.get(accessToken) : undefined;
    const item = itemId === undefined ? undefined : items.get(itemId);
    if (!item) throw new PlaidFailure(400, PlaidErrorType.InvalidInput, 'INVALID_ACCESS_TOKEN', 'provided access token is in an invalid format or does not exist');
    return item;
  }

  /** Data endpoints refuse an item whose login must be repaired, as Plaid does. */
  function healthyItem(accessToken: unknown): ItemState {
    const item = itemFor(accessToken);
    if (item.error) throw new PlaidFailure(400, item.error.error_type, item.error.error_code, item.error.error_message, item.error.display_message);
    return item;
  }

  function itemView(item: ItemState): Item {
    return {
      item_id: item.itemId,
      institution_id: item.institutionId,
      institution_name: item.institutionName,
      webhook: item.webhook,
      error: item.error,
      available_products: [Products.Balance, Products.Auth, Products.Identity].filter((product) => !item.products.includes(product)),
      billed_products: item.products,
      products: item.products,
      consented_products: item.products,
      consent_expiration_time: item.consentExpiresAt,
      update_type: ItemUpdateTypeEnum.Background,
    };
  }

  function accountView(account: SandboxDataset['accounts'][number]): AccountBase {
    const owed = account.type === AccountType.Credit || account.type === AccountType.Loan;
    return {
      account_id: account.accountId,
      balances: {
        available: account.type === AccountType.Credit && account.limitCents !== null ? dollars(account.limitCents - account.currentCents) : owed ? null : dollars(account.currentCents),
        current: dollars(account.currentCents),
        limit: account.limitCents === null ? null : dollars(account.limitCents),
        iso_currency_code: 'USD',
        unofficial_currency_code: null,
      },
      mask: account.mask,
      name: account.name,
      official_name: account.officialName,
      type: account.type,
      subtype: account.subtype,
    };
  }

  function transactionView(transaction: SandboxTransaction): Transaction {
    return {
      account_id: transaction.accountId,
      amount: dollars(transaction.amountCents),
      iso_currency_code: 'USD',
      unofficial_currency_code: null,
      date: transaction.date,
      location: { address: null, city: null, region: null, postal_code: null, country: null, lat: null, lon: null, store_number: null },
      name: transaction.name,
      merchant_name: transaction.merchantName,
      original_description: transaction.name,
      payment_meta: { reference_number: null, ppd_id: null, payee: null, by_order_of: null, payer: null, payment_method: null, payment_processor: null, reason: null },
      pending: transaction.pending,
      pending_transaction_id: transaction.pendingTransactionId,
      account_owner: null,
      transaction_id: transaction.transactionId,
      authorized_date: transaction.authorizedDate,
      authorized_datetime: null,
      datetime: null,
      payment_channel: transaction.channel as TransactionPaymentChannelEnum,
      personal_finance_category: { ...transaction.category, confidence_level: 'VERY_HIGH' },
      transaction_code: null,
    };
  }

  /** New activity at the bank: a dynamic user's pending transactions post, and new purchases arrive pending. */
  function refresh(item: ItemState): number {
    let changes = 0;
    for (const pending of [...item.live.values()].filter((transaction) => transaction.pending)) {
      postPending(item, pending);
      changes += 2;
    }
    if (item.user === 'user_transactions_dynamic') {
      const account = item.data.accounts.find((candidate) => candidate.type === AccountType.Credit) ?? (item.data.accounts[0] as SandboxDataset['accounts'][number]);
      for (let index = 0; index < 3; index += 1) {
        const merchant = DYNAMIC_MERCHANTS[Math.floor(item.random() * DYNAMIC_MERCHANTS.length)] as (typeof DYNAMIC_MERCHANTS)[number];
        record(item, 'added', {
          transactionId: plaidId(item.random),
          accountId: account.accountId,
          amountCents: merchant.minCents + Math.floor(item.random() * (merchant.maxCents - merchant.minCents)),
          date: today(),
          authorizedDate: today(),
          name: merchant.name,
          merchantName: merchant.name,
          category: { primary: merchant.category[0], detailed: merchant.category[1] },
          channel: merchant.channel,
          pending: true,
          pendingTransactionId: null,
        });
        changes += 1;
      }
    }
    return changes;
  }

  function postPending(item: ItemState, pending: SandboxTransaction): void {
    record(item, 'removed', pending);
    record(item, 'added', { ...pending, transactionId: plaidId(item.random), pending: false, pendingTransactionId: pending.transactionId, date: addDays(pending.date, 1) });
  }

  function transferAccount(item: ItemState, accountId: string): SandboxDataset['accounts'][number] {
    const account = item.data.accounts.find((candidate) => candidate.accountId === accountId);
    if (!account) throw new PlaidFailure(400, PlaidErrorType.InvalidInput, 'INVALID_ACCOUNT_ID', 'account_id does not belong to this access token');
    if (account.type !== AccountType.Depository) {
      throw new PlaidFailure(400, PlaidErrorType.TransferError, 'TRANSFER_UNSUPPORTED_ACCOUNT_TYPE', `transfers move money from and to depository accounts only, not ${account.type}`);
    }
    return account;
  }

  function transferFor(transferId: string | undefined): TransferState {
    const state = transferId === undefined ? undefined : transfers.get(transferId);
    if (!state) throw new PlaidFailure(400, PlaidErrorType.InvalidInput, 'INVALID_TRANSFER_ID', 'the transfer_id does not exist');
    return state;
  }

  /** Appends an event and tells the client (Plaid sends TRANSFER_EVENTS_UPDATE to the client's configured URL;
   * the emulator has no dashboard, so it uses the simulate call's `webhook`, else the item's webhook URL). */
  function appendTransferEvent(item: ItemState, transfer: Transfer, eventType: TransferEventType, failure: Transfer['failure_reason'], webhook?: string): void {
    transferEvents.push({
      event_id: transferEvents.length + 1,
      timestamp: new Date(now()).toISOString(),
      event_type: eventType,
      account_id: transfer.account_id as string,
      funding_account_id: null,
      transfer_id: transfer.id,
      origination_account_id: null,
      transfer_type: transfer.type as unknown as OmittableTransferType,
      transfer_amount: transfer.amount,
      failure_reason: failure,
      sweep_id: null,
      sweep_amount: null,
      refund_id: null,
      originator_client_id: null,
    });
    const url = webhook ?? item.webhook;
    if (url !== null) fireWebhook(item, { webhook_type: 'TRANSFER', webhook_code: 'TRANSFER_EVENTS_UPDATE' }, { url, aboutItem: false });
  }

  function cursorOf(itemId: string, position: number, logLength: number): string {
    return Buffer.from(JSON.stringify({ i: itemId, p: position, n: logLength })).toString('base64url');
  }

  function parseCursor(item: ItemState, cursor: string | undefined): { position: number; logLength: number } {
    if (cursor === undefined || cursor === '') return { position: 0, logLength: item.log.length };
    try {
      const parsed = z.object({ i: z.string(), p: z.number().int().min(0), n: z.number().int().min(0) }).parse(JSON.parse(Buffer.from(cursor, 'base64url').toString()));
      if (parsed.i !== item.itemId || parsed.p > item.log.length || parsed.n > item.log.length) throw new Error('foreign cursor');
      return { position: parsed.p, logLength: parsed.n };
    } catch {
      throw new PlaidFailure(400, PlaidErrorType.InvalidInput, 'INVALID_FIELD', 'cursor is not valid for this item');
    }
  }

  function sync(item: ItemState, cursor: string | undefined, count: number): TransactionsSyncResponse {
    const { position, logLength } = parseCursor(item, cursor);
    // The client was told has_more with this cursor: the update it is paging through must not have changed.
    if (position < logLength && item.log.length !== logLength) {
      throw new PlaidFailure(
        400,
        PlaidErrorType.TransactionsError,
        'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION',
        'Underlying transaction data changed since last page was fetched. Please restart pagination from last update.',
      );
    }
    const end = Math.min(item.log.length, position + count);
    // Within one page Plaid reports each transaction once, in its final state.
    const net = new Map<string, Change>();
    for (const change of item.log.slice(position, end)) {
      const id = change.transaction.transactionId;
      const earlier = net.get(id);
      if (earlier?.kind === 'added' && change.kind === 'removed') net.delete(id);
      else if (earlier?.kind === 'added') net.set(id, { kind: 'added', transaction: change.transaction });
      else net.set(id, change);
    }
    const changes = [...net.values()];
    return {
      transactions_update_status: TransactionsUpdateStatus.HistoricalUpdateComplete,
      accounts: item.data.accounts.map(accountView),
      added: changes.filter((change) => change.kind === 'added').map((change) => transactionView(change.transaction)),
      modified: changes.filter((change) => change.kind === 'modified').map((change) => transactionView(change.transaction)),
      removed: changes.filter((change) => change.kind === 'removed').map((change) => ({ transaction_id: change.transaction.transactionId, account_id: change.transaction.accountId })),
      next_cursor: cursorOf(item.itemId, end, item.log.length),
      has_more: end < item.log.length,
      request_id: requestId(),
    };
  }

  function liabilities(item: ItemState): LiabilitiesGetResponse {
    const { credit, mortgage, student } = item.data.liabilities;
    const linked = new Set([...credit, ...mortgage, ...student].map((liability) => liability.accountId));
    return {
      accounts: item.data.accounts.filter((account) => linked.has(account.accountId)).map(accountView),
      item: itemView(item),
      liabilities: {
        credit: credit.map((card) => ({
          account_id: card.accountId,
          aprs: [{ apr_percentage: card.aprPercentage, apr_type: APRAprTypeEnum.PurchaseApr, balance_subject_to_apr: dollars(card.statementCents), interest_charge_amount: 0 }],
          is_overdue: false,
          last_payment_amount: dollars(card.lastPaymentCents),
          last_payment_date: card.lastPaymentOn,
          last_statement_issue_date: card.statementOn,
          last_statement_balance: dollars(card.statementCents),
          minimum_payment_amount: dollars(card.minimumCents),
          next_payment_due_date: card.dueOn,
        })),
        mortgage: mortgage.map((loan) => ({
          account_id: loan.accountId,
          account_number: '3120194154',
          current_late_fee: 0,
          escrow_balance: 3_141.54,
          has_pmi: false,
          has_prepayment_penalty: false,
          interest_rate: { percentage: loan.ratePercentage, type: 'fixed' },
          last_payment_amount: dollars(loan.monthlyCents),
          last_payment_date: addDays(loan.dueOn, -30),
          loan_type_description: 'conventional',
          loan_term: loan.termLabel,
          maturity_date: loan.maturesOn,
          next_monthly_payment: dollars(loan.monthlyCents),
          next_payment_due_date: loan.dueOn,
          origination_date: loan.originatedOn,
          origination_principal_amount: dollars(loan.originationCents),
          past_due_amount: 0,
          property_address: { city: 'Malakoff', country: 'US', postal_code: '14236', region: 'NY', street: '2992 Cameron Road' },
          ytd_interest_paid: 9_812.4,
          ytd_principal_paid: 8_537.6,
        })),
        student: student.map((loan) => ({
          account_id: loan.accountId,
          account_number: '4277075694',
          disbursement_dates: [loan.originatedOn],
          expected_payoff_date: loan.payoffOn,
          guarantor: 'DEPT OF ED',
          interest_rate_percentage: loan.ratePercentage,
          is_overdue: false,
          last_payment_amount: dollars(loan.minimumCents),
          last_payment_date: addDays(loan.dueOn, -30),
          last_statement_issue_date: addDays(loan.dueOn, -21),
          loan_name: loan.name,
          loan_status: { end_date: loan.payoffOn, type: StudentLoanStatusTypeEnum.Repayment },
          minimum_payment_amount: dollars(loan.minimumCents),
          next_payment_due_date: loan.dueOn,
          origination_date: loan.originatedOn,
          origination_principal_amount: dollars(loan.originationCents),
          outstanding_interest_amount: 62.41,
          payment_reference_number: '4277075694',
          pslf_status: { estimated_eligibility_date: null, payments_made: null, payments_remaining: null },
          repayment_plan: { description: 'Standard Repayment', type: StudentRepaymentPlanTypeEnum.Standard },
          sequence_number: '1',
          servicer_address: { city: 'San Matias', region: 'CA', street: '123 Relaxation Road', postal_code: '99415', country: 'US' },
          ytd_interest_paid: 280.55,
          ytd_principal_paid: 1_212.5,
        })),
      },
      request_id: requestId(),
    };
  }

  function securitiesView(item: ItemState) {
    return item.data.securities.map((security) => ({
      security_id: security.securityId,
      isin: null,
      cusip: null,
      sedol: null,
      institution_security_id: null,
      institution_id: null,
      proxy_security_id: null,
      name: security.name,
      ticker_symbol: security.ticker,
      is_cash_equivalent: false,
      type: security.type,
      close_price: dollars(security.closePriceCents),
      close_price_as_of: today(),
      iso_currency_code: 'USD',
      unofficial_currency_code: null,
      market_identifier_code: 'XNAS',
      sector: null,
      industry: null,
      cfi_code: null,
      figi: null,
      option_contract: null,
      fixed_income: null,
    }));
  }

  function investmentAccounts(item: ItemState): InvestmentAccount[] {
    return item.data.accounts
      .filter((account) => account.type === AccountType.Investment)
      .map((account) => {
        const { account_id, balances, mask, name, official_name, type, subtype } = accountView(account);
        return { account_id, mask, name, official_name, type, subtype, balances: { ...balances, margin_loan_amount: null } };
      });
  }

  function holdings(item: ItemState): InvestmentsHoldingsGetResponse {
    return {
      accounts: investmentAccounts(item),
      holdings: item.data.holdings.map((holding) => {
        const security = item.data.securities.find((candidate) => candidate.securityId === holding.securityId);
        return {
          account_id: holding.accountId,
          security_id: holding.securityId,
          institution_price: dollars(security?.closePriceCents ?? 0),
          institution_price_as_of: today(),
          institution_value: dollars(holdingValueCents(holding, item.data.securities)),
          cost_basis: dollars(holding.costBasisCents),
          quantity: holding.quantityMilli / 1000,
          iso_currency_code: 'USD',
          unofficial_currency_code: null,
        };
      }),
      securities: securitiesView(item),
      item: itemView(item),
      request_id: requestId(),
    };
  }

  /**
   * An item's investment history, generated once (first asked for) from a seed derived from its id, so every call
   * returns the same transactions with the same ids: a buy per holding, a monthly contribution into each
   * retirement account for the past year (IRA 500.00, 401(k) 1,000.00), and quarterly dividends on brokerage
   * holdings. Amounts follow Plaid's sign: positive when cash leaves the account (a buy), negative when it comes in.
   */
  const investmentHistories = new WeakMap<ItemState, InvestmentTransaction[]>();
  function investmentHistory(item: ItemState): InvestmentTransaction[] {
    const cached = investmentHistories.get(item);
    if (cached) return cached;
    let hash = seed;
    for (const character of item.itemId) hash = (hash * 31 + character.charCodeAt(0)) % 2_147_483_647;
    const random = seededRandom(hash);
    const anchor = today();
    const rows: InvestmentTransaction[] = [];
    const row = (fields: Omit<InvestmentTransaction, 'investment_transaction_id' | 'iso_currency_code' | 'unofficial_currency_code' | 'fees'>) =>
      rows.push({ investment_transaction_id: plaidId(random), fees: 0, iso_currency_code: 'USD', unofficial_currency_code: null, ...fields });
    for (const holding of item.data.holdings) {
      const security = item.data.securities.find((candidate) => candidate.securityId === holding.securityId);
      const price = security?.closePriceCents ?? 0;
      const quantityMilli = 1_000 + Math.floor(random() * 4_000);
      row({
        account_id: holding.accountId,
        security_id: holding.securityId,
        date: addDays(anchor, -Math.floor(random() * 60)),
        name: `BUY ${security?.ticker ?? ''}`.trim(),
        quantity: quantityMilli / 1000,
        amount: dollars(Math.round((price * quantityMilli) / 1000)),
        price: dollars(price),
        type: InvestmentTransactionType.Buy,
        subtype: InvestmentTransactionSubtype.Buy,
      });
    }
    const investment = item.data.accounts.filter((account) => account.type === AccountType.Investment);
    for (let monthsAgo = 0; monthsAgo < 12; monthsAgo += 1) {
      const [year, month] = anchor.split('-').map(Number) as [number, number];
      const index = year * 12 + (month - 1) - monthsAgo;
      const date = `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}-15`;
      if (date > anchor) continue;
      for (const account of investment) {
        const monthlyCents = account.subtype === AccountSubtype.Ira ? 50_000 : account.subtype === AccountSubtype._401k ? 100_000 : 0;
        if (monthlyCents > 0) {
          row({ account_id: account.accountId, security_id: null, date, name: 'CONTRIBUTION', quantity: 0, amount: dollars(-monthlyCents), price: 0, type: InvestmentTransactionType.Cash, subtype: InvestmentTransactionSubtype.Contribution });
        }
        if (account.subtype === AccountSubtype.Brokerage && monthsAgo % 3 === 0) {
          for (const holding of item.data.holdings.filter((candidate) => candidate.accountId === account.accountId)) {
            const security = item.data.securities.find((candidate) => candidate.securityId === holding.securityId);
            const dividendCents = Math.max(1, Math.round(holdingValueCents(holding, item.data.securities) / 400));
            row({ account_id: account.accountId, security_id: holding.securityId, date, name: `DIVIDEND ${security?.ticker ?? ''}`.trim(), quantity: 0, amount: dollars(-dividendCents), price: 0, type: InvestmentTransactionType.Cash, subtype: InvestmentTransactionSubtype.Dividend });
          }
        }
      }
    }
    // Newest first, as Plaid lists them; ties by id so pages never overlap.
    rows.sort((x, y) => (x.date === y.date ? (x.investment_transaction_id < y.investment_transaction_id ? -1 : 1) : x.date < y.date ? 1 : -1));
    investmentHistories.set(item, rows);
    return rows;
  }

  function investmentTransactions(
    item: ItemState,
    startOn: string,
    endOn: string,
    options: { account_ids?: string[] | undefined; count?: number | undefined; offset?: number | undefined },
  ): InvestmentsTransactionsGetResponse {
    if (startOn > endOn) throw new PlaidFailure(400, PlaidErrorType.InvalidRequest, 'INVALID_FIELD', 'start_date must be on or before end_date');
    const accounts = options.account_ids === undefined ? null : new Set(options.account_ids);
    const inRange = investmentHistory(item).filter((row) => row.date >= startOn && row.date <= endOn && (accounts === null || accounts.has(row.account_id)));
    const offset = options.offset ?? 0;
    const count = options.count ?? 100;
    return {
      item: itemView(item),
      accounts: investmentAccounts(item),
      securities: securitiesView(item),
      investment_transactions: inRange.slice(offset, offset + count),
      total_investment_transactions: inRange.length,
      request_id: requestId(),
    };
  }

  // ---------------------------------------------------------------- HTTP

  const app = express();
  app.disable('x-powered-by');
  const faults: (EmulatorFault & { remaining: number; skipLeft: number })[] = [];
  const requestCounts = new Map<string, number>();
  app.use((req: Request, _res: Response, next: NextFunction) => {
    requestCounts.set(req.path, (requestCounts.get(req.path) ?? 0) + 1);
    const fault = faults.find((candidate) => candidate.path === req.path && candidate.remaining > 0);
    if (fault === undefined) return next();
    if (fault.skipLeft > 0) {
      fault.skipLeft -= 1;
      return next();
    }
    fault.remaining -= 1;
    if (fault.kind === 'reset') {
      // What a dropped connection looks like to the client: no status, no body, ECONNRESET.
      req.socket.destroy();
      return;
    }
    next(new PlaidFailure(fault.status, fault.errorType, fault.errorCode, `injected fault: ${fault.errorCode}`));
  });
  app.use(express.json({ limit: '1mb' }));

  function send<T>(res: Response, schema: z.ZodType<T>, body: T): void {
    res.status(200).json(schema.parse(body));
  }

  /** Plaid authenticates every call by client_id and secret, in the body or in PLAID-CLIENT-ID / PLAID-SECRET. */
  function authenticate(req: Request): void {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const clientId = req.get('plaid-client-id') ?? body.client_id;
    const secret = req.get('plaid-secret') ?? body.secret;
    if (clientId === undefined || secret === undefined) {
      throw new PlaidFailure(400, PlaidErrorType.InvalidRequest, 'MISSING_FIELDS', 'the following required fields are missing: client_id, secret');
    }
    if (clientId !== options.clientId || secret !== options.secret) {
      throw new PlaidFailure(400, PlaidErrorType.InvalidInput, 'INVALID_API_KEYS', 'invalid client_id or secret provided');
    }
  }

  function parse<T>(schema: z.ZodType<T>, body: unknown): T {
    const result = schema.safeParse(body);
    if (result.success) return result.data;
    const missing = result.error.issues.filter((issue) => issue.code === 'invalid_type' && issue.message.includes('undefined'));
    if (missing.length > 0) {
      throw new PlaidFailure(400, PlaidErrorType.InvalidRequest, 'MISSING_FIELDS', `the following required fields are missing: ${missing.map((issue) => issue.path.join('.')).join(', ')}`);
    }
    const first = result.error.issues[0];
    throw new PlaidFailure(400, PlaidErrorType.InvalidRequest, 'INVALID_FIELD', `${first?.path.join('.') ?? 'request'}: ${first?.message ?? 'invalid'}`);
  }

  type Handler = (req: Request, res: Response) => Promise<void> | void;
  function post(path: string, handler: Handler): void {
    app.post(path, async (req, res) => {
      authenticate(req);
      await handler(req, res);
    });
  }

  const AccessToken = z.object({ access_token: z.string() });
  const ProductList = z.array(z.enum(Products)).min(1);

  post('/link/token/create', (req, res) => {
    const body = parse(
      z.object({
        client_name: z.string().min(1).max(30),
        language: z.string(),
        country_codes: z.array(z.string()).min(1),
        user: z.object({ client_user_id: z.string().min(1) }),
        products: ProductList.optional(),
        webhook: z.url().optional(),
        access_token: z.string().optional(),
      }),
      req.body,
    );
    let itemId: string | null = null;
    if (body.access_token !== undefined) itemId = itemFor(body.access_token).itemId;
    else if (body.products === undefined) throw new PlaidFailure(400, PlaidErrorType.InvalidRequest, 'MISSING_FIELDS', 'the following required fields are missing: products');
    const token = `link-sandbox-${crypto.randomUUID()}`;
    const expiresAtMs = now() + LINK_TOKEN_TTL_MS;
    linkTokens.set(token, { webhook: body.webhook ?? null, expiresAtMs, itemId, products: body.products ?? [] });
    if (itemId !== null && body.webhook !== undefined) (items.get(itemId) as ItemState).webhook = body.webhook;
    const response: LinkTokenCreateResponse = { link_token: token, expiration: new Date(expiresAtMs).toISOString(), request_id: requestId() };
    send(res, s.LinkTokenCreateResponseSchema, response);
  });

  /**
   * Stands for the user finishing Link in a browser, which has no HTTP API at Plaid: in create mode it returns the
   * public token Link would hand to the client; in update mode it repairs the item's login.
   */
  app.post('/emulator/link/complete', (req, res) => {
    const body = parse(z.object({ link_token: z.string(), username: z.enum(SANDBOX_USERS).optional(), institution_id: z.string().optional() }), req.body);
    const link = linkTokens.get(body.link_token);
    if (!link || link.expiresAtMs < now()) throw new PlaidFailure(400, PlaidErrorType.InvalidInput, 'INVALID_LINK_TOKEN', 'link token is invalid or expired');
    linkTokens.delete(body.link_token);
    if (link.itemId !== null) {
      const item = items.get(link.itemId) as ItemState;
      const wasBroken = item.error !== null;
      item.error = null;
      if (wasBroken) fireWebhook(item, { webhook_type: 'ITEM', webhook_code: 'LOGIN_REPAIRED' });
      res.json({ public_token: null, item_id: item.itemId, request_id: requestId() });
      return;
    }
    const item = createItem(body.username ?? 'user_good', body.institution_id ?? 'ins_109508', link.webhook, link.products);
    const publicToken = `public-sandbox-${crypto.randomUUID()}`;
    publicTokens.set(publicToken, item.itemId);
    res.json({ public_token: publicToken, item_id: item.itemId, request_id: requestId() });
  });

  post('/sandbox/public_token/create', (req, res) => {
    const body = parse(
      z.object({
        institution_id: z.string().min(1),
        initial_products: ProductList,
        options: z.object({ webhook: z.url().optional(), override_username: z.string().optional(), override_password: z.string().optional() }).optional(),
      }),
      req.body,
    );
    const username = body.options?.override_username ?? 'user_good';
    if (!(SANDBOX_USERS as readonly string[]).includes(username)) {
      throw new PlaidFailure(400, PlaidErrorType.ItemError, 'INVALID_CREDENTIALS', 'the provided credentials were not correct', 'The credentials you provided were incorrect.');
    }
    if (!(body.institution_id in INSTITUTIONS)) throw new PlaidFailure(400, PlaidErrorType.InvalidInput, 'INVALID_INSTITUTION', 'invalid institution_id provided');
    const item = createItem(username as SandboxUser, body.institution_id, body.options?.webhook ?? null, body.initial_products);
    const publicToken = `public-sandbox-${crypto.randomUUID()}`;
    publicTokens.set(publicToken, item.itemId);
    send(res, s.SandboxPublicTokenResponseSchema, { public_token: publicToken, request_id: requestId() });
  });

  post('/item/public_token/exchange', (req, res) => {
    const body = parse(z.object({ public_token: z.string() }), req.body);
    const itemId = publicTokens.get(body.public_token);
    if (itemId === undefined) throw new PlaidFailure(400, PlaidErrorType.InvalidInput, 'INVALID_PUBLIC_TOKEN', 'provided public token is expired or invalid');
    publicTokens.delete(body.public_token);
    const item = items.get(itemId) as ItemState;
    const response: ItemPublicTokenExchangeResponse = { access_token: item.accessToken, item_id: item.itemId, request_id: requestId() };
    send(res, s.ExchangeResponseSchema, response);
    // Plaid announces the first batch of transactions once the item is ready.
    if (item.products.includes(Products.Transactions)) {
      fireWebhook(item, { webhook_type: 'TRANSACTIONS', webhook_code: 'SYNC_UPDATES_AVAILABLE', initial_update_complete: true, historical_update_complete: true });
    }
  });

  post('/item/get', (req, res) => {
    const item = itemFor(parse(AccessToken, req.body).access_token);
    const response: ItemGetResponse = { item: { ...itemView(item), update_type: ItemWithConsentFieldsUpdateTypeEnum.Background }, request_id: requestId() };
    send(res, s.ItemGetResponseSchema, response);
  });

  post('/item/remove', (req, res) => {
    const item = itemFor(parse(AccessToken, req.body).access_token);
    items.delete(item.itemId);
    itemByToken.delete(item.accessToken);
    send(res, s.ItemRemoveResponseSchema, { request_id: requestId() });
  });

  const accountsHandler: Handler = (req, res) => {
    const body = parse(AccessToken.extend({ options: z.object({ account_ids: z.array(z.string()).optional() }).optional() }), req.body);
    const item = healthyItem(body.access_token);
    const wanted = body.options?.account_ids;
    const response: AccountsGetResponse = {
      accounts: item.data.accounts.filter((account) => wanted === undefined || wanted.includes(account.accountId)).map(accountView),
      item: itemView(item),
      request_id: requestId(),
    };
    send(res, s.AccountsGetResponseSchema, response);
  };
  post('/accounts/get', accountsHandler);
  post('/accounts/balance/get', accountsHandler);

  post('/transactions/sync', (req, res) => {
    const body = parse(AccessToken.extend({ cursor: z.string().max(1_000).optional(), count: z.number().int().min(1).max(SYNC_COUNT_MAX).optional() }), req.body);
    const item = healthyItem(body.access_token);
    send(res, s.TransactionsSyncResponseSchema, sync(item, body.cursor, body.count ?? SYNC_COUNT_DEFAULT));
  });

  post('/transactions/refresh', (req, res) => {
    const item = healthyItem(parse(AccessToken, req.body).access_token);
    if (refresh(item) > 0) fireWebhook(item, { webhook_type: 'TRANSACTIONS', webhook_code: 'SYNC_UPDATES_AVAILABLE', initial_update_complete: true, historical_update_complete: true });
    send(res, s.RequestIdOnlySchema, { request_id: requestId() });
  });

  post('/sandbox/transactions/create', (req, res) => {
    const body = parse(
      AccessToken.extend({
        transactions: z
          .array(z.object({ date_transacted: z.iso.date(), date_posted: z.iso.date(), amount: z.number().finite(), description: z.string().min(1).max(200), iso_currency_code: z.literal('USD').optional() }))
          .min(1)
          .max(10),
      }),
      req.body,
    );
    const item = healthyItem(body.access_token);
    const account = item.data.accounts.find((candidate) => candidate.type === AccountType.Depository) ?? (item.data.accounts[0] as SandboxDataset['accounts'][number]);
    for (const custom of body.transactions) {
      const amountCents = centsOfAmount(custom.amount);
      record(item, 'added', {
        transactionId: plaidId(item.random),
        accountId: account.accountId,
        amountCents,
        date: custom.date_posted,
        authorizedDate: custom.date_transacted,
        name: custom.description,
        merchantName: null,
        category: amountCents < 0 ? { primary: 'INCOME', detailed: 'INCOME_OTHER_INCOME' } : { primary: 'GENERAL_MERCHANDISE', detailed: 'GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE' },
        channel: 'other',
        // A dynamic user's new transactions arrive pending and post on the next refresh.
        pending: item.user === 'user_transactions_dynamic',
        pendingTransactionId: null,
      });
    }
    fireWebhook(item, { webhook_type: 'TRANSACTIONS', webhook_code: 'SYNC_UPDATES_AVAILABLE', initial_update_complete: true, historical_update_complete: true });
    send(res, s.RequestIdOnlySchema, { request_id: requestId() });
  });

  post('/liabilities/get', (req, res) => {
    send(res, s.LiabilitiesGetResponseSchema, liabilities(healthyItem(parse(AccessToken, req.body).access_token)));
  });

  post('/investments/holdings/get', (req, res) => {
    send(res, s.HoldingsGetResponseSchema, holdings(healthyItem(parse(AccessToken, req.body).access_token)));
  });

  post('/investments/transactions/get', (req, res) => {
    const body = parse(
      AccessToken.extend({
        start_date: z.iso.date(),
        end_date: z.iso.date(),
        // Plaid's limits: at most 500 per page.
        options: z.object({ account_ids: z.array(z.string()).max(100).optional(), count: z.int().min(1).max(500).optional(), offset: z.int().min(0).optional() }).optional(),
      }),
      req.body,
    );
    send(res, s.InvestmentTransactionsGetResponseSchema, investmentTransactions(healthyItem(body.access_token), body.start_date, body.end_date, body.options ?? {}));
  });

  post('/webhook_verification_key/get', (req, res) => {
    const body = parse(z.object({ key_id: z.string() }), req.body);
    const key = keys.find((candidate) => candidate.kid === body.key_id);
    if (!key) throw new PlaidFailure(400, PlaidErrorType.InvalidInput, 'INVALID_WEBHOOK_VERIFICATION_KEY_ID', 'invalid key_id provided');
    const response: WebhookVerificationKeyGetResponse = {
      key: {
        alg: 'ES256',
        crv: 'P-256',
        kid: key.kid,
        kty: 'EC',
        use: 'sig',
        x: key.jwk.x as string,
        y: key.jwk.y as string,
        created_at: key.createdAtSeconds,
        expired_at: key.expiredAtSeconds,
      },
      request_id: requestId(),
    };
    send(res, s.WebhookKeyResponseSchema, response);
  });

  post('/sandbox/item/reset_login', (req, res) => {
    const item = itemFor(parse(AccessToken, req.body).access_token);
    item.error = {
      error_type: PlaidErrorType.ItemError,
      error_code: 'ITEM_LOGIN_REQUIRED',
      error_message: "the login details of this item have changed (credentials, MFA, or required user action) and a user login is required to update this information. use Link's update mode to restore the item to a good state",
      display_message: null,
      request_id: requestId(),
      causes: [],
      status: 400,
      documentation_url: 'https://plaid.com/docs/errors/item/#item_login_required',
      suggested_action: null,
    };
    fireWebhook(item, { webhook_type: 'ITEM', webhook_code: 'ERROR', error: item.error });
    send(res, s.ResetLoginResponseSchema, { reset_login: true, request_id: requestId() });
  });

  post('/sandbox/item/fire_webhook', (req, res) => {
    const body = parse(
      AccessToken.extend({
        webhook_type: z.enum(['TRANSACTIONS', 'ITEM']).optional(),
        webhook_code: z.enum(['SYNC_UPDATES_AVAILABLE', 'DEFAULT_UPDATE', 'NEW_ACCOUNTS_AVAILABLE', 'LOGIN_REPAIRED', 'PENDING_EXPIRATION', 'ERROR']),
      }),
      req.body,
    );
    const item = itemFor(body.access_token);
    if (item.webhook === null) throw new PlaidFailure(400, PlaidErrorType.InvalidRequest, 'INVALID_FIELD', 'the item has no webhook URL');
    const itemCodes = new Set(['LOGIN_REPAIRED', 'PENDING_EXPIRATION', 'ERROR', 'NEW_ACCOUNTS_AVAILABLE']);
    const type = body.webhook_type ?? (itemCodes.has(body.webhook_code) ? 'ITEM' : 'TRANSACTIONS');
    const extra: Record<string, unknown> = {};
    if (body.webhook_code === 'PENDING_EXPIRATION') {
      item.consentExpiresAt = new Date(now() + 7 * 86_400_000).toISOString();
      extra.consent_expiration_time = item.consentExpiresAt;
    }
    if (body.webhook_code === 'ERROR') extra.error = item.error;
    if (body.webhook_code === 'SYNC_UPDATES_AVAILABLE') Object.assign(extra, { initial_update_complete: true, historical_update_complete: true });
    if (body.webhook_code === 'DEFAULT_UPDATE') extra.new_transactions = 0;
    fireWebhook(item, { webhook_type: type, webhook_code: body.webhook_code, ...extra });
    send(res, s.FireWebhookResponseSchema, { webhook_fired: true, request_id: requestId() });
  });

  // ---------------------------------------------------------------- Transfer
  // Plaid Transfer moves money between a linked depository account and the client's Plaid balance: a `debit` pulls
  // from the account, a `credit` pushes to it. An authorization first (approved or declined with a rationale), then
  // one transfer per authorization; its status moves through events (pending → posted → settled, or failed, or
  // returned), read by the client through /transfer/event/sync after a TRANSFER_EVENTS_UPDATE webhook.

  const Amount = z.string().regex(/^\d{1,9}\.\d{2}$/, 'amount must be a decimal string with two decimals');

  post('/transfer/authorization/create', (req, res) => {
    const body = parse(
      AccessToken.extend({
        account_id: z.string().min(1),
        type: z.enum(TransferType),
        network: z.enum([TransferNetwork.Ach, TransferNetwork.SameDayAch, TransferNetwork.Rtp]),
        amount: Amount,
        ach_class: z.enum(ACHClass).optional(),
        user: z.object({ legal_name: z.string().min(1).max(100), email_address: z.string().max(200).optional(), phone_number: z.string().max(30).optional() }),
        iso_currency_code: z.literal('USD').optional(),
        idempotency_key: z.string().min(1).max(50).nullable().optional(),
      }),
      req.body,
    );
    const item = itemFor(body.access_token);
    if (body.network !== TransferNetwork.Rtp && body.ach_class === undefined) {
      throw new PlaidFailure(400, PlaidErrorType.InvalidRequest, 'MISSING_FIELDS', 'the following required fields are missing: ach_class');
    }
    if (body.idempotency_key) {
      const earlier = authorizationsByKey.get(body.idempotency_key);
      if (earlier !== undefined) {
        send(res, s.TransferAuthorizationCreateResponseSchema, { authorization: earlier.authorization, request_id: requestId() });
        return;
      }
    }
    const account = transferAccount(item, body.account_id);
    const amountCents = parseCents(body.amount);
    if (amountCents <= 0) throw new PlaidFailure(400, PlaidErrorType.InvalidRequest, 'INVALID_FIELD', 'amount must be greater than 0');
    let decision = TransferAuthorizationDecision.Approved;
    let rationale: TransferAuthorization['decision_rationale'] = null;
    if (item.error !== null) {
      decision = TransferAuthorizationDecision.UserActionRequired;
      rationale = { code: TransferAuthorizationDecisionRationaleCode.ItemLoginRequired, description: 'Unable to pull required information on account needed for authorization decision due to item staleness.' };
    } else if (amountCents > TRANSFER_AMOUNT_CENTS_MAX) {
      decision = TransferAuthorizationDecision.Declined;
      rationale = { code: TransferAuthorizationDecisionRationaleCode.TransferLimitReached, description: 'One or several transfer limits are reached.' };
    } else if (body.type === TransferType.Debit && amountCents > account.currentCents) {
      decision = TransferAuthorizationDecision.Declined;
      rationale = { code: TransferAuthorizationDecisionRationaleCode.Nsf, description: 'Transaction likely to result in a return due to insufficient funds.' };
    }
    const user = { legal_name: body.user.legal_name, email_address: body.user.email_address ?? null, phone_number: body.user.phone_number ?? null, address: null };
    const authorization: TransferAuthorization = {
      id: crypto.randomUUID(),
      created: new Date(now()).toISOString(),
      decision,
      decision_rationale: rationale,
      guarantee_decision: TransferAuthorizationGuaranteeDecision.Null,
      guarantee_decision_rationale: null,
      payment_risk: null,
      proposed_transfer: {
        ...(body.ach_class === undefined ? {} : { ach_class: body.ach_class }),
        account_id: account.accountId,
        funding_account_id: null,
        type: body.type,
        user,
        amount: body.amount,
        requested_amount: body.amount,
        network: body.network,
        origination_account_id: '',
        iso_currency_code: 'USD',
        originator_client_id: null,
        credit_funds_source: body.type === TransferType.Credit ? TransferCreditFundsSource.Sweep : TransferCreditFundsSource.Null,
      },
    };
    const state: AuthorizationState = { authorization, itemId: item.itemId, transferId: null };
    authorizations.set(authorization.id, state);
    if (body.idempotency_key) authorizationsByKey.set(body.idempotency_key, state);
    send(res, s.TransferAuthorizationCreateResponseSchema, { authorization, request_id: requestId() });
  });

  post('/transfer/create', (req, res) => {
    const body = parse(
      AccessToken.extend({
        account_id: z.string().min(1),
        authorization_id: z.string().min(1),
        amount: Amount.optional(),
        description: z.string().min(1).max(15),
        metadata: z.record(z.string().max(40), z.string().max(500)).nullable().optional(),
      }),
      req.body,
    );
    const item = itemFor(body.access_token);
    const state = authorizations.get(body.authorization_id);
    if (state === undefined || state.itemId !== item.itemId) {
      throw new PlaidFailure(400, PlaidErrorType.InvalidInput, 'INVALID_AUTHORIZATION_ID', 'the authorization_id does not exist or does not belong to this access token');
    }
    const proposed = state.authorization.proposed_transfer;
    // The authorization is the idempotency key of the transfer: asking again answers the same transfer.
    if (state.transferId !== null) {
      send(res, s.TransferResponseSchema, { transfer: (transfers.get(state.transferId) as TransferState).transfer, request_id: requestId() });
      return;
    }
    if (state.authorization.decision !== TransferAuthorizationDecision.Approved) {
      throw new PlaidFailure(400, PlaidErrorType.TransferError, 'TRANSFER_AUTHORIZATION_DECLINED', `the authorization was not approved: ${state.authorization.decision}`);
    }
    if (body.account_id !== proposed.account_id) throw new PlaidFailure(400, PlaidErrorType.InvalidRequest, 'INVALID_FIELD', 'account_id does not match the authorization');
    if (body.amount !== undefined && body.amount !== proposed.amount) throw new PlaidFailure(400, PlaidErrorType.InvalidRequest, 'INVALID_FIELD', 'amount does not match the authorization');
    const createdOn = today();
    const transfer: Transfer = {
      id: crypto.randomUUID(),
      authorization_id: state.authorization.id,
      ...(proposed.ach_class === undefined ? {} : { ach_class: proposed.ach_class }),
      account_id: proposed.account_id as string,
      funding_account_id: null,
      type: proposed.type,
      user: proposed.user,
      amount: proposed.amount,
      description: body.description,
      created: new Date(now()).toISOString(),
      status: TransferStatus.Pending,
      network: proposed.network as TransferNetwork,
      cancellable: true,
      failure_reason: null,
      metadata: body.metadata ?? null,
      origination_account_id: '',
      guarantee_decision: TransferAuthorizationGuaranteeDecision.Null,
      guarantee_decision_rationale: null,
      iso_currency_code: 'USD',
      standard_return_window: addDays(createdOn, 2),
      unauthorized_return_window: addDays(createdOn, 60),
      expected_settlement_date: addDays(createdOn, proposed.network === TransferNetwork.Ach ? 2 : 0),
      originator_client_id: null,
      refunds: [],
      recurring_transfer_id: null,
      credit_funds_source: proposed.credit_funds_source,
    };
    transfers.set(transfer.id, { transfer, itemId: item.itemId });
    state.transferId = transfer.id;
    appendTransferEvent(item, transfer, TransferEventType.Pending, null);
    send(res, s.TransferResponseSchema, { transfer, request_id: requestId() });
  });

  post('/transfer/get', (req, res) => {
    const body = parse(z.object({ transfer_id: z.string().optional(), authorization_id: z.string().optional() }), req.body);
    const id = body.transfer_id ?? (body.authorization_id === undefined ? undefined : (authorizations.get(body.authorization_id)?.transferId ?? undefined));
    if (body.transfer_id === undefined && body.authorization_id === undefined) {
      throw new PlaidFailure(400, PlaidErrorType.InvalidRequest, 'MISSING_FIELDS', 'the following required fields are missing: transfer_id');
    }
    send(res, s.TransferResponseSchema, { transfer: transferFor(id).transfer, request_id: requestId() });
  });

  post('/transfer/event/sync', (req, res) => {
    const body = parse(z.object({ after_id: z.number().int().min(0), count: z.number().int().min(1).max(TRANSFER_EVENTS_PAGE_MAX).nullable().optional() }), req.body);
    const count = body.count ?? TRANSFER_EVENTS_PAGE_DEFAULT;
    // Event ids are 1, 2, 3… in order: the page after `after_id` starts at that index.
    const page = transferEvents.slice(body.after_id, body.after_id + count);
    send(res, s.TransferEventSyncResponseSchema, { transfer_events: page, has_more: body.after_id + page.length < transferEvents.length, request_id: requestId() });
  });

  post('/sandbox/transfer/simulate', (req, res) => {
    const body = parse(
      z.object({
        transfer_id: z.string().min(1),
        event_type: z.enum([TransferEventType.Posted, TransferEventType.Settled, TransferEventType.FundsAvailable, TransferEventType.Failed, TransferEventType.Returned]),
        failure_reason: z.object({ failure_code: z.string().max(20).nullable().optional(), ach_return_code: z.string().max(4).nullable().optional(), description: z.string().max(200).optional() }).nullable().optional(),
        webhook: z.url().optional(),
      }),
      req.body,
    );
    const state = transferFor(body.transfer_id);
    const from = state.transfer.status;
    if (!(SIMULATED_TRANSITIONS[from] ?? []).includes(body.event_type)) {
      throw new PlaidFailure(400, PlaidErrorType.SandboxError, 'SANDBOX_TRANSFER_EVENT_TRANSITION_INVALID', `the transfer cannot move from ${from} to ${body.event_type}`);
    }
    const failure =
      body.event_type === TransferEventType.Failed || body.event_type === TransferEventType.Returned
        ? (body.failure_reason ?? (body.event_type === TransferEventType.Returned ? { ach_return_code: 'R01', description: 'Insufficient funds' } : { failure_code: null, description: 'the bank refused the transfer' }))
        : null;
    const item = items.get(state.itemId);
    if (item === undefined) throw new PlaidFailure(400, PlaidErrorType.InvalidInput, 'INVALID_ACCESS_TOKEN', 'the item of this transfer was removed');
    // The account's balance moves when the transfer posts and moves back when it is returned.
    const account = item.data.accounts.find((candidate) => candidate.accountId === state.transfer.account_id);
    const signedCents = (state.transfer.type === TransferType.Debit ? -1 : 1) * parseCents(state.transfer.amount);
    if (account && body.event_type === TransferEventType.Posted) account.currentCents += signedCents;
    if (account && body.event_type === TransferEventType.Returned) account.currentCents -= signedCents;
    state.transfer.status = body.event_type as unknown as TransferStatus;
    state.transfer.cancellable = false;
    state.transfer.failure_reason = failure;
    appendTransferEvent(item, state.transfer, body.event_type, failure, body.webhook);
    // The bank shows the movement like any other: a transaction on the account when it posts, and the money coming
    // back when it is returned (Plaid's amount: positive = money out of the account).
    if (account && (body.event_type === TransferEventType.Posted || body.event_type === TransferEventType.Returned)) {
      const outCents = -signedCents * (body.event_type === TransferEventType.Posted ? 1 : -1);
      record(item, 'added', {
        transactionId: plaidId(item.random),
        accountId: account.accountId,
        amountCents: outCents,
        date: today(),
        authorizedDate: today(),
        name: body.event_type === TransferEventType.Posted ? state.transfer.description : `RETURN ${state.transfer.description}`,
        merchantName: null,
        category: outCents > 0 ? { primary: 'TRANSFER_OUT', detailed: 'TRANSFER_OUT_ACCOUNT_TRANSFER' } : { primary: 'TRANSFER_IN', detailed: 'TRANSFER_IN_ACCOUNT_TRANSFER' },
        channel: 'other',
        pending: false,
        pendingTransactionId: null,
      });
      fireWebhook(item, { webhook_type: 'TRANSACTIONS', webhook_code: 'SYNC_UPDATES_AVAILABLE', initial_update_complete: true, historical_update_complete: true });
    }
    send(res, s.SandboxTransferSimulateResponseSchema, { request_id: requestId() });
  });

  post('/sandbox/transfer/fire_webhook', (req, res) => {
    const body = parse(z.object({ webhook: z.url() }), req.body);
    const item = [...items.values()][0];
    if (item === undefined) throw new PlaidFailure(400, PlaidErrorType.InvalidRequest, 'INVALID_FIELD', 'no item: the emulator signs webhooks on behalf of one');
    fireWebhook(item, { webhook_type: 'TRANSFER', webhook_code: 'TRANSFER_EVENTS_UPDATE' }, { url: body.webhook, aboutItem: false });
    send(res, s.SandboxTransferSimulateResponseSchema, { request_id: requestId() });
  });

  app.use((req: Request, res: Response) => {
    res.status(404).json({
      error_type: PlaidErrorType.InvalidRequest,
      error_code: 'NOT_FOUND',
      error_message: `unrecognized endpoint ${req.path}`,
      display_message: null,
      request_id: requestId(),
    });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const failure =
      error instanceof PlaidFailure
        ? error
        : (error as { type?: string }).type === 'entity.parse.failed'
          ? new PlaidFailure(400, PlaidErrorType.InvalidRequest, 'INVALID_BODY', 'body could not be parsed as JSON')
          : new PlaidFailure(500, PlaidErrorType.ApiError, 'INTERNAL_SERVER_ERROR', `an unexpected error occurred: ${(error as Error).message}`);
    const body: PlaidError = {
      error_type: failure.errorType,
      error_code: failure.errorCode,
      error_message: failure.message,
      display_message: failure.displayMessage,
      request_id: requestId(),
      causes: [],
      status: failure.status,
      documentation_url: `https://plaid.com/docs/errors/${failure.errorType.toLowerCase().replaceAll('_', '-')}/#${failure.errorCode.toLowerCase()}`,
      suggested_action: null,
    };
    res.status(failure.status).json(s.PlaidErrorSchema.parse(body));
  });

  return {
    app,
    deliveries,
    async settleWebhooks() {
      // A webhook can cause another (a sync that…); loop until nothing is in flight.
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      return deliveries;
    },
    removeTransaction(itemId, transactionId) {
      const item = items.get(itemId);
      const transaction = item?.live.get(transactionId);
      if (!item || !transaction) throw new Error(`no live transaction ${transactionId} on item ${itemId}`);
      record(item, 'removed', transaction);
    },
    modifyTransaction(itemId, transactionId, changes) {
      const item = items.get(itemId);
      const transaction = item?.live.get(transactionId);
      if (!item || !transaction) throw new Error(`no live transaction ${transactionId} on item ${itemId}`);
      record(item, 'modified', { ...transaction, ...changes });
    },
    rotateWebhookKey: addKey,
    signWebhook(itemId, body, iatSeconds) {
      const item = items.get(itemId);
      if (!item) throw new Error(`no item ${itemId}`);
      return signWebhook(item, body, iatSeconds);
    },
    accessTokenOf(itemId) {
      const item = items.get(itemId);
      if (!item) throw new Error(`no item ${itemId}`);
      return item.accessToken;
    },
    itemIdOf(accessToken) {
      return itemFor(accessToken).itemId;
    },
    liveTransactions(itemId) {
      return [...(items.get(itemId)?.live.values() ?? [])];
    },
    injectFault(fault) {
      faults.push({ ...fault, remaining: fault.times ?? 1, skipLeft: fault.skip ?? 0 });
    },
    requestCount(path) {
      return requestCounts.get(path) ?? 0;
    },
  };
}
