import fs from 'node:fs';
import path from 'node:path';
import { CamelCasePlugin, Kysely, PostgresDialect, sql, type ColumnType, type Generated } from 'kysely';
import pg from 'pg';

// bigint arrives as a string from both drivers (parsed once, by centsFromDb); dates stay 'YYYY-MM-DD' strings so
// an accounting date never shifts with the server's time zone.
const INT8_OID = 20;
const DATE_OID = 1082;
pg.types.setTypeParser(INT8_OID, (value) => value);
pg.types.setTypeParser(DATE_OID, (value) => value);

type Bigint = ColumnType<string, number | string, number | string>;
type CreatedAt = ColumnType<Date, never, never>;

export interface EntitiesTable {
  id: Generated<string>;
  kind: 'llc' | 'personal';
  name: string;
  currency: string;
  taxProfile: string;
  ownerUserId: string | null;
  createdAt: CreatedAt;
}

export interface AccountsTable {
  id: Generated<string>;
  entityId: string;
  name: string;
  code: string | null;
  class: string;
  kind: string;
  currency: string;
  counterpartyEntityId: string | null;
  veilRole: ColumnType<string | null, string | null | undefined, never>;
  balanceCents: ColumnType<string, never, never>;
  archivedAt: ColumnType<Date | null, never, Date | null>;
  createdAt: CreatedAt;
}

export interface JournalEntriesTable {
  id: Generated<string>;
  seq: ColumnType<string, never, never>;
  entityId: string;
  postedOn: string;
  description: string;
  source: string;
  reversesEntryId: string | null;
  idempotencyKey: string | null;
  contentHash: string;
  actor: string;
  createdAt: CreatedAt;
  /** Checked at the end of the statement that inserted it, not at commit (migration 0031). */
  checkedInStatement: Generated<boolean>;
}

export interface PostingsTable {
  id: ColumnType<string, never, never>;
  entryId: string;
  entityId: string;
  accountId: string;
  currency: string;
  amountCents: Bigint;
  memo: string | null;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  requestHash: string;
  statusCode: number;
  response: ColumnType<unknown, string, string>;
  createdAt: CreatedAt;
}

type Instant = ColumnType<Date, Date | undefined, Date>;
type NullableInstant = ColumnType<Date | null, Date | null | undefined, Date | null>;
type Json = ColumnType<unknown, string, string>;

export interface UsersTable {
  id: Generated<string>;
  email: string;
  passwordHash: string;
  role: 'owner' | 'member';
  totpSecretEncrypted: string | null;
  totpPendingEncrypted: string | null;
  totpLastStep: ColumnType<string | null, number | null | undefined, number | null>;
  mfaEnabledAt: NullableInstant;
  failedLogins: ColumnType<number, number | undefined, number>;
  lockedUntil: NullableInstant;
  passwordChangedAt: Instant;
  createdAt: CreatedAt;
}

export interface InvitationsTable {
  id: Generated<string>;
  email: string;
  tokenHash: string;
  invitedBy: string;
  expiresAt: Date;
  acceptedAt: NullableInstant;
  createdAt: CreatedAt;
}

export interface PasswordResetsTable {
  id: Generated<string>;
  userId: string;
  tokenHash: string;
  expiresAt: Date;
  usedAt: NullableInstant;
  createdAt: CreatedAt;
}

export interface RecoveryCodesTable {
  userId: string;
  codeHash: string;
  usedAt: NullableInstant;
}

export interface SessionsTable {
  id: Generated<string>;
  userId: string;
  mfa: boolean;
  revokedAt: NullableInstant;
  revokedReason: string | null;
  createdAt: CreatedAt;
}

export interface RefreshTokensTable {
  id: Generated<string>;
  sessionId: string;
  tokenHash: string;
  expiresAt: Date;
  usedAt: NullableInstant;
  createdAt: CreatedAt;
}

export interface ApiTokensTable {
  id: Generated<string>;
  userId: string;
  name: string;
  tokenHash: string;
  prefix: string;
  scopes: Json;
  entityIds: Json;
  lastUsedAt: NullableInstant;
  expiresAt: NullableInstant;
  revokedAt: NullableInstant;
  createdAt: CreatedAt;
}

export interface EncryptedSecretsTable {
  id: Generated<string>;
  ownerUserId: string;
  entityId: string | null;
  purpose: string;
  ciphertext: string;
  keyId: string;
  createdAt: CreatedAt;
  updatedAt: Instant;
}

export interface AuditLogTable {
  seq: ColumnType<string, number | string, never>;
  occurredAt: ColumnType<Date, Date, never>;
  actorType: string;
  actorId: string;
  actorUserId: string | null;
  tokenId: string | null;
  executionId: string | null;
  action: string;
  entityId: string | null;
  objectType: string;
  objectId: string | null;
  before: ColumnType<unknown, string | null, never>;
  after: ColumnType<unknown, string | null, never>;
  requestId: string | null;
  prevHash: string;
  hash: string;
  /** 1: linked by the service (before migration 0018); 2: linked in SQL by veil_audit_append. */
  chainVersion: ColumnType<number, never, never>;
}

/** Audit rows a fast-path booking committed, waiting for `veil_audit_seal` to append them (migration 0028). */
export interface AuditPendingTable {
  id: ColumnType<string, never, never>;
  content: unknown;
}

export interface AuditChainHeadTable {
  singleton: boolean;
  seq: ColumnType<string, never, number | string>;
  hash: string;
}

export interface VeilPoliciesTable {
  entityId: string;
  drawPolicy: Generated<'warn' | 'block'>;
  comminglingPolicy: Generated<'block' | 'document_as_draw'>;
  personalPaysBusinessPolicy: Generated<'block' | 'document_as_reimbursement'>;
  personalMarkers: ColumnType<string[], string | undefined, string>;
  businessMarkers: ColumnType<string[], string | undefined, string>;
  updatedAt: ColumnType<Date, Date | undefined, Date>;
}

export interface InterEntityTransfersTable {
  id: Generated<string>;
  classification: string;
  fromEntityId: string;
  toEntityId: string;
  fromAccountId: string;
  toAccountId: string;
  fromEntryId: string;
  toEntryId: string;
  amountCents: Bigint;
  currency: string;
  postedOn: string;
  memo: string | null;
  relatedTransferId: string | null;
  terms: Json;
  warnings: Json;
  actor: string;
  createdAt: CreatedAt;
}

export interface InterEntityTransferReversalsTable {
  transferId: string;
  fromEntityId: string;
  toEntityId: string;
  fromReversalEntryId: string;
  toReversalEntryId: string;
  actor: string;
  createdAt: CreatedAt;
}

export interface VeilDocumentsTable {
  id: Generated<string>;
  transferId: string;
  kind: string;
  title: string;
  year: number;
  markdown: string;
  sha256: string;
  createdAt: CreatedAt;
}

export type BankLineSource = 'plaid' | 'csv' | 'ofx' | 'qif' | 'camt' | 'mt940' | 'pdf' | 'manual';
export type BankLineStatus = 'unmatched' | 'review' | 'matched' | 'booked' | 'ignored' | 'removed';

export interface BankLinesTable {
  id: Generated<string>;
  entityId: string;
  accountId: string;
  currency: string;
  source: BankLineSource;
  externalId: string;
  importId: string | null;
  postedOn: string;
  authorizedOn: string | null;
  amountCents: Bigint;
  payee: string | null;
  memo: string | null;
  pending: ColumnType<boolean, boolean | undefined, boolean>;
  pendingExternalId: string | null;
  status: ColumnType<BankLineStatus, BankLineStatus | undefined, BankLineStatus>;
  entryId: string | null;
  statusReason: string | null;
  raw: ColumnType<unknown, string | undefined, string>;
  createdAt: CreatedAt;
  updatedAt: Instant;
  reviewOf: ColumnType<string | null, string | null | undefined, string | null>;
  ruleId: ColumnType<string | null, string | null | undefined, string | null>;
  /** 1 until the owner reverses the line's entry; the next booking's entry key carries it (0023). */
  bookingAttempt: ColumnType<number, number | undefined, number>;
}

export interface ImportsTable {
  id: Generated<string>;
  entityId: string;
  accountId: string | null;
  fileName: string;
  format: string;
  fileSha256: string;
  report: ColumnType<unknown, string, string>;
  createdBy: string;
  createdAt: CreatedAt;
}

export interface CsvMappingsTable {
  accountId: string;
  entityId: string;
  mapping: ColumnType<unknown, string, string>;
  updatedAt: Instant;
}

export interface CategorisationRulesTable {
  id: Generated<string>;
  entityId: string;
  position: number;
  name: string;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  conditions: ColumnType<unknown, string, string>;
  action: ColumnType<unknown, string, string>;
  createdAt: CreatedAt;
  updatedAt: Instant;
}

export interface TransferProposalsTable {
  id: Generated<string>;
  outflowLineId: string;
  inflowLineId: string;
  outflowEntityId: string;
  inflowEntityId: string;
  amountCents: Bigint;
  guardDecision: 'allow' | 'document' | 'block';
  guardVerdict: ColumnType<unknown, string, string>;
  status: ColumnType<'open' | 'dismissed' | 'booked', 'open' | 'dismissed' | 'booked' | undefined, 'open' | 'dismissed' | 'booked'>;
  createdAt: CreatedAt;
}

export interface BalanceAssertionsTable {
  id: Generated<string>;
  entityId: string;
  accountId: string;
  asOn: string;
  balanceCents: Bigint;
  kind: 'ledger' | 'available' | 'opening' | 'closing' | 'manual';
  importId: string | null;
  createdAt: CreatedAt;
}

export interface EnvelopeGroupsTable {
  id: Generated<string>;
  seq: ColumnType<string, never, never>;
  entityId: string;
  name: string;
  systemRole: string | null;
  createdAt: CreatedAt;
}

export interface EnvelopesTable {
  id: Generated<string>;
  seq: ColumnType<string, never, never>;
  entityId: string;
  groupId: string;
  name: string;
  targetKind: 'monthly' | 'by_date' | 'fill_to' | null;
  targetAmountCents: ColumnType<string | null, number | null, number | null>;
  targetDueOn: string | null;
  paymentAccountId: string | null;
  createdAt: CreatedAt;
}

export interface EnvelopeCategoriesTable {
  entityId: string;
  envelopeId: string;
  accountId: string;
}

export interface BudgetAssignmentsTable {
  seq: ColumnType<string, never, never>;
  entityId: string;
  envelopeId: string;
  month: string;
  amountCents: Bigint;
  kind: 'assign' | 'move' | 'allocation';
  groupId: string | null;
  actor: string;
  createdAt: CreatedAt;
}

export interface AllocationRulesTable {
  entityId: string;
  rules: Json;
  updatedAt: Instant;
}

export interface AllocationsTable {
  id: Generated<string>;
  entityId: string;
  month: string;
  incomeCents: Bigint;
  sourceEntryId: string | null;
  rules: Json;
  lines: Json;
  leftoverCents: Bigint;
  actor: string;
  createdAt: CreatedAt;
  /** The allocations of one income entry are numbered: a new one only after the previous one was taken back. */
  attempt: ColumnType<number, number | undefined, never>;
}

/** A group of budget assignments (an allocation, a move, an /assign) taken back, once (migration 0021). */
export interface BudgetReversalsTable {
  groupId: string;
  entityId: string;
  kind: 'assign' | 'move' | 'allocation';
  actor: string;
  reversedAt: ColumnType<Date, Date | undefined, never>;
}

export interface BillsTable {
  id: Generated<string>;
  entityId: string;
  name: string;
  payee: string;
  rrule: string;
  startsOn: string;
  amountCents: Bigint;
  estimated: boolean;
  categoryAccountId: string;
  payFromAccountId: string;
  autopay: boolean;
  actor: string;
  createdAt: CreatedAt;
}

export interface BillOccurrencesTable {
  id: Generated<string>;
  billId: string;
  entityId: string;
  dueOn: string;
  /** 1, then 2… when a paid settlement's entry was reversed and the occurrence was settled again (0015). */
  settlement: ColumnType<number, number | undefined, never>;
  status: 'paid' | 'skipped';
  amountCents: ColumnType<string | null, number | null, never>;
  paidOn: string | null;
  entryId: string | null;
  reason: string | null;
  actor: string;
  createdAt: CreatedAt;
}

export interface WebhookSubscriptionsTable {
  id: Generated<string>;
  ownerUserId: string;
  url: string;
  events: Json;
  entityIds: ColumnType<unknown, string | null, string | null>;
  secretCiphertext: string;
  createdBy: string;
  createdAt: CreatedAt;
  deletedAt: NullableInstant;
}

export interface LedgerEventsTable {
  id: Generated<string>;
  seq: ColumnType<string, never, never>;
  entityId: string;
  type: string;
  payload: Json;
  createdAt: CreatedAt;
}

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  eventId: string;
  subscriptionId: string;
  status: ColumnType<'pending' | 'delivered' | 'failed', 'pending' | undefined, 'pending' | 'delivered' | 'failed'>;
  attempts: ColumnType<number, never, number>;
  nextAttemptAt: Instant;
  lastError: ColumnType<string | null, never, string | null>;
  deliveredAt: NullableInstant;
}

export interface AlertSettingsTable {
  entityId: string;
  balanceCentsMin: Bigint;
  accountBalanceCentsMin: Json;
  billDueWithinDays: number;
  updatedAt: Instant;
}

export interface AlertStatesTable {
  entityId: string;
  conditionKey: string;
  type: string;
  active: boolean;
  raisedCount: ColumnType<number, number | undefined, number>;
  raisedAt: Instant;
  clearedAt: NullableInstant;
}

export type WorkflowExecutionStatus = 'running' | 'succeeded' | 'failed' | 'rolled_back';

export interface WorkflowExecutionsTable {
  ownerUserId: string;
  executionId: string;
  workflowId: string | null;
  workflowName: string | null;
  status: ColumnType<WorkflowExecutionStatus, WorkflowExecutionStatus | undefined, WorkflowExecutionStatus>;
  errorMessage: string | null;
  failedAt: NullableInstant;
  firstAt: Instant;
  updatedAt: Instant;
}

export type PlaidItemStatus = 'healthy' | 'login_required' | 'pending_expiration' | 'error' | 'removed';

export interface PlaidItemsTable {
  id: Generated<string>;
  entityId: string;
  plaidItemId: string;
  institutionId: string | null;
  institutionName: string;
  accessTokenSecretId: string;
  cursor: string | null;
  status: ColumnType<PlaidItemStatus, PlaidItemStatus | undefined, PlaidItemStatus>;
  error: ColumnType<unknown, string | null | undefined, string | null>;
  webhookUrl: string | null;
  lastSyncedAt: NullableInstant;
  createdAt: CreatedAt;
  updatedAt: Instant;
}

export interface PlaidAccountsTable {
  id: Generated<string>;
  itemId: string;
  entityId: string;
  accountId: string;
  currency: string;
  plaidAccountId: string;
  name: string;
  officialName: string | null;
  mask: string | null;
  plaidType: string;
  plaidSubtype: string | null;
  currentCents: ColumnType<string | null, number | null | undefined, number | null>;
  availableCents: ColumnType<string | null, number | null | undefined, number | null>;
  limitCents: ColumnType<string | null, number | null | undefined, number | null>;
  balancesAt: NullableInstant;
  interestRateBps: number | null;
  liability: ColumnType<unknown, string | null | undefined, string | null>;
  createdAt: CreatedAt;
  updatedAt: Instant;
}

export interface PlaidHoldingsTable {
  id: Generated<string>;
  plaidAccountId: string;
  securityId: string;
  ticker: string | null;
  name: string | null;
  securityType: string | null;
  /** numeric: a decimal string, never a float. */
  quantity: string;
  priceCents: ColumnType<string | null, number | null, number | null>;
  valueCents: Bigint;
  costBasisCents: ColumnType<string | null, number | null, number | null>;
  currency: string;
  asOf: string;
  updatedAt: Instant;
}

export interface SecuritiesTable {
  id: Generated<string>;
  entityId: string;
  ticker: string | null;
  name: string;
  securityType: string;
  currency: string;
  plaidSecurityId: string | null;
  createdAt: CreatedAt;
}

type NullableCents = ColumnType<string | null, number | null | undefined, number | null>;

export interface HoldingsTable {
  id: Generated<string>;
  entityId: string;
  accountId: string;
  securityId: string;
  /** numeric: a decimal string, never a float. */
  quantity: string;
  priceCents: NullableCents;
  valueCents: Bigint;
  costBasisCents: NullableCents;
  asOf: string;
  source: 'manual' | 'plaid';
  actor: string;
  updatedAt: Instant;
}

export interface InvestmentTransactionsTable {
  id: Generated<string>;
  entityId: string;
  accountId: string;
  securityId: string | null;
  externalId: string;
  occurredOn: string;
  name: string;
  type: string;
  subtype: string | null;
  quantity: string;
  priceCents: NullableCents;
  amountCents: Bigint;
  feesCents: NullableCents;
  currency: string;
  source: 'manual' | 'plaid';
  createdAt: CreatedAt;
}

export interface RetirementProfilesTable {
  entityId: string;
  birthYear: number | null;
  updatedAt: Instant;
}

export interface ContributionPlansTable {
  id: Generated<string>;
  entityId: string;
  name: string;
  limitKind: string | null;
  amountCents: Bigint;
  rrule: string;
  startsOn: string;
  fromAccountId: string;
  toAccountId: string;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  actor: string;
  createdAt: CreatedAt;
  updatedAt: Instant;
}

export interface ContributionsTable {
  id: Generated<string>;
  entityId: string;
  planId: string | null;
  dueOn: string | null;
  fromAccountId: string;
  toAccountId: string;
  limitKind: string | null;
  taxYear: number;
  amountCents: Bigint;
  contributedOn: string;
  entryId: string;
  actor: string;
  createdAt: CreatedAt;
}

export interface LiabilityBillsTable {
  plaidAccountId: string;
  entityId: string;
  billId: string;
  kind: 'credit' | 'mortgage' | 'student';
  statementBalanceCents: NullableCents;
  minimumPaymentCents: NullableCents;
  nextPaymentDueOn: string | null;
  interestRateBps: number | null;
  refreshedAt: Instant;
  createdAt: CreatedAt;
}

export type PlaidTransferNetwork = 'ach' | 'same-day-ach' | 'rtp';
export type PlaidTransferStatus = 'pending' | 'posted' | 'settled' | 'funds_available' | 'cancelled' | 'failed' | 'returned';

export interface PlaidTransferSettingsTable {
  entityId: string;
  enabled: boolean;
  legalName: string | null;
  network: ColumnType<PlaidTransferNetwork, PlaidTransferNetwork | undefined, PlaidTransferNetwork>;
  updatedAt: Instant;
}

/** One leg of real money movement through Plaid Transfer, tied to the entry that books it (0019). */
export interface PlaidTransfersTable {
  id: Generated<string>;
  entityId: string;
  entryId: string;
  accountId: string;
  plaidAccountId: string;
  direction: 'debit' | 'credit';
  amountCents: Bigint;
  currency: string;
  plaidAuthorizationId: string;
  plaidTransferId: string;
  status: PlaidTransferStatus;
  failure: ColumnType<unknown, string | null | undefined, string | null>;
  reversalEntryId: string | null;
  lastEventId: number | null;
  createdAt: CreatedAt;
  updatedAt: Instant;
}

export interface PlaidTransferEventCursorTable {
  id: number;
  lastEventId: number;
  updatedAt: Instant;
}

export interface Database {
  users: UsersTable;
  invitations: InvitationsTable;
  passwordResets: PasswordResetsTable;
  recoveryCodes: RecoveryCodesTable;
  sessions: SessionsTable;
  refreshTokens: RefreshTokensTable;
  apiTokens: ApiTokensTable;
  encryptedSecrets: EncryptedSecretsTable;
  auditLog: AuditLogTable;
  auditChainHead: AuditChainHeadTable;
  auditPending: AuditPendingTable;
  entities: EntitiesTable;
  accounts: AccountsTable;
  journalEntries: JournalEntriesTable;
  postings: PostingsTable;
  idempotencyKeys: IdempotencyKeysTable;
  veilPolicies: VeilPoliciesTable;
  interEntityTransfers: InterEntityTransfersTable;
  interEntityTransferReversals: InterEntityTransferReversalsTable;
  veilDocuments: VeilDocumentsTable;
  bankLines: BankLinesTable;
  envelopeGroups: EnvelopeGroupsTable;
  envelopes: EnvelopesTable;
  envelopeCategories: EnvelopeCategoriesTable;
  budgetAssignments: BudgetAssignmentsTable;
  allocationRules: AllocationRulesTable;
  allocations: AllocationsTable;
  budgetReversals: BudgetReversalsTable;
  bills: BillsTable;
  billOccurrences: BillOccurrencesTable;
  webhookSubscriptions: WebhookSubscriptionsTable;
  ledgerEvents: LedgerEventsTable;
  webhookDeliveries: WebhookDeliveriesTable;
  imports: ImportsTable;
  csvMappings: CsvMappingsTable;
  categorisationRules: CategorisationRulesTable;
  balanceAssertions: BalanceAssertionsTable;
  transferProposals: TransferProposalsTable;
  payees: PayeesTable;
  payeePayments: PayeePaymentsTable;
  plaidItems: PlaidItemsTable;
  plaidAccounts: PlaidAccountsTable;
  plaidHoldings: PlaidHoldingsTable;
  securities: SecuritiesTable;
  holdings: HoldingsTable;
  investmentTransactions: InvestmentTransactionsTable;
  retirementProfiles: RetirementProfilesTable;
  contributionPlans: ContributionPlansTable;
  contributions: ContributionsTable;
  liabilityBills: LiabilityBillsTable;
  plaidTransferSettings: PlaidTransferSettingsTable;
  plaidTransfers: PlaidTransfersTable;
  plaidTransferEventCursor: PlaidTransferEventCursorTable;
  accountMonthTotals: AccountMonthTotalsTable;
  accountDayTotals: AccountDayTotalsTable;
  alertSettings: AlertSettingsTable;
  alertStates: AlertStatesTable;
  workflowExecutions: WorkflowExecutionsTable;
  balanceHistoryDaily: BalanceHistoryDailyView;
}

/**
 * Per account and day, the sum of the postings booked on it (0017): a view over account_day_totals, or a TimescaleDB
 * continuous aggregate where the extension exists. Read-only either way.
 */
export interface BalanceHistoryDailyView {
  accountId: string;
  entityId: string;
  day: string;
  totalCents: Bigint;
}

/** Per account and posting day: the sum and count of its postings (kept by the postings trigger, 0014). */
export interface AccountDayTotalsTable {
  accountId: string;
  entityId: string;
  day: string;
  totalCents: Bigint;
  postingCount: Bigint;
}

/** Per account and calendar month: the sum and count of its postings (kept by the postings trigger, 0014). */
export interface AccountMonthTotalsTable {
  accountId: string;
  entityId: string;
  /** The first day of the month, YYYY-MM-01. */
  month: string;
  totalCents: Bigint;
  postingCount: Bigint;
}

export interface PayeesTable {
  id: Generated<string>;
  entityId: string;
  name: string;
  isContractor: boolean;
  w9Status: string;
  tinType: string | null;
  tinLast4: string | null;
  tinSecretId: string | null;
  createdAt: CreatedAt;
  updatedAt: Instant;
}

export interface PayeePaymentsTable {
  id: Generated<string>;
  entityId: string;
  payeeId: string;
  paidOn: string;
  amountCents: Bigint;
  method: string;
  entryId: string | null;
  memo: string | null;
  voidedOn: string | null;
  createdAt: CreatedAt;
}

export type Db = Kysely<Database>;

export interface DatabaseHandle {
  db: Db;
  backend: 'postgres' | 'pglite';
  /** PGlite only: a gzipped tar of the open data directory (what `veil restore` loads). */
  dumpDataDir?: () => Promise<Blob>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL connection string; when absent the embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** PGlite data directory; `memory://` keeps everything in memory (tests). */
  pgliteDataDir?: string | undefined;
  /** A dumped PGlite data directory to start from (tests load a migrated template instead of re-running initdb). */
  pgliteLoadDataDir?: Blob | undefined;
  /** PostgreSQL schema to use (tests run each file in a fresh schema). */
  schema?: string | undefined;
  poolSizeMax?: number | undefined;
  /**
   * Told about errors of idle pooled connections (the server restarted, an admin ended the backend). pg drops such
   * a connection from the pool and opens a new one on the next checkout; without a listener the pool's 'error'
   * event would be unhandled and kill the process.
   */
  onPoolError?: ((error: Error) => void) | undefined;
}

/** bigint and date values as PostgreSQL's text (the type OIDs PGlite's `types.INT8` and `types.DATE` name). */
export function pgliteParsers() {
  return {
    20: (value: string) => value,
    1082: (value: string) => value,
  };
}

/**
 * PGlite and its kysely dialect, loaded only when the embedded database is opened: loading them cost ~60 MB of RSS
 * in every process, a ledger replica on PostgreSQL included.
 */
export function loadPglite(): { PGlite: typeof import('@electric-sql/pglite').PGlite; PGliteDialect: typeof import('kysely-pglite-dialect').PGliteDialect } {
  // require, not import(): the dynamic import of these packages would load their ES module builds, and with them a
  // second kysely beside the CommonJS one the service runs on.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PGliteDialect } = require('kysely-pglite-dialect') as typeof import('kysely-pglite-dialect');
  return { PGlite, PGliteDialect };
}

// Bulk loads (COPY FROM STDIN, services/ingest.ts) need the pg client that runs the caller's transaction, which
// kysely does not expose: the pooled clients are known by their server process id, which the transaction can ask
// for (`pg_backend_pid()`). A process id seen on two clients (two servers) is ambiguous, and COPY is not used then.
const clientsByProcessId = new Map<number, pg.ClientBase[]>();

function processIdOf(client: pg.ClientBase): number | undefined {
  const id = (client as pg.ClientBase & { processID?: unknown }).processID;
  return typeof id === 'number' ? id : undefined;
}

function rememberClient(client: pg.ClientBase): void {
  const id = processIdOf(client);
  if (id === undefined) return;
  clientsByProcessId.set(id, [...(clientsByProcessId.get(id) ?? []), client]);
}

function forgetClient(client: pg.ClientBase): void {
  const id = processIdOf(client);
  if (id === undefined) return;
  const left = (clientsByProcessId.get(id) ?? []).filter((other) => other !== client);
  if (left.length === 0) clientsByProcessId.delete(id);
  else clientsByProcessId.set(id, left);
}

/** The PostgreSQL client running this transaction, for COPY; undefined on PGlite or when it cannot be told. */
export async function transactionClient(trx: Kysely<Database>): Promise<pg.ClientBase | undefined> {
  if (clientsByProcessId.size === 0) return undefined;
  const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
  const clients = clientsByProcessId.get(Number(rows[0]?.pid));
  return clients?.length === 1 ? clients[0] : undefined;
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const plugins = [new CamelCasePlugin()];
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSizeMax ?? 10,
      // jit=off: the journal's statement-level checks (0031) plan over transition tables that have no statistics;
      // once the books held ~20,000 entries their estimated cost passed jit_above_cost, and compiling the plan took
      // ~220 ms of a 7 ms booking (seen with auto_explain). Every statement this service runs is short and
      // indexed: JIT cannot speed it up. (A DATABASE_URL carrying its own `options` replaces these.)
      options: options.schema ? `-c jit=off -c search_path=${options.schema}` : '-c jit=off',
    });
    // An idle client's error reaches the pool's listener; a client checked out between two statements (inside a
    // transaction, while the service works) emits it on itself, and an 'error' event with no listener kills the
    // process. The statement in flight, or the next one, fails on its own (and is answered 503), the transaction
    // rolls back, and the pool drops the broken client when it is released: nothing to do here but to listen. (An
    // idle client's error also passes through this listener before the pool reports it once, below.) Found by the
    // hardening harness restarting PostgreSQL under load.
    pool.on('connect', (client) => {
      client.on('error', () => {});
      rememberClient(client);
    });
    pool.on('remove', (client) => forgetClient(client));
    pool.on('error', (error) => options.onPoolError?.(error));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins });
    return { db, backend: 'postgres', close: () => db.destroy() };
  }
  const dataDir = options.pgliteDataDir ?? 'memory://';
  if (!dataDir.startsWith('memory://')) fs.mkdirSync(path.resolve(dataDir), { recursive: true });
  const { PGlite, PGliteDialect } = loadPglite();
  const pglite = await PGlite.create(dataDir, {
    parsers: pgliteParsers(),
    ...(options.pgliteLoadDataDir ? { loadDataDir: options.pgliteLoadDataDir } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite), plugins });
  return {
    db,
    backend: 'pglite',
    dumpDataDir: () => pglite.dumpDataDir('gzip'),
    close: async () => {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
}
