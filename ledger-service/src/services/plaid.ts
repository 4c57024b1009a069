import { createHash } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { CountryCode, Products, type APR, type Security, type AccountBase, type InvestmentsHoldingsGetResponse, type LiabilitiesObject, type Transaction as PlaidTransaction, type TransactionsSyncResponse } from 'plaid';
import type { Database, Db, PlaidItemStatus } from '../db/database';
import { assert, NotFound, RuleViolation } from '../domain/errors';
import { accountKindFor, basisPointsFromPercentage, centsFromPlaidBalance, veilCentsFromPlaidAmount } from '../domain/plaid';
import { centsFromDb } from '../domain/money';
import { ITEM_ERROR_STATUS, callPlaid, requirePlaid, type PlaidDeps } from '../plaid/client';
import { authorizeEntity } from '../security/authorization';
import { auditedTransaction, recordAudit } from './audit';
import { draftFields, type BankLine, type BankLineDraft } from './bank-lines';
import { bookBankLines, withdrawBankLine, type Categorisation } from './bank-booking';
import { matchBillPayments } from './bill-matching';
import { applyEntryMatches, findBookedEntries } from './entry-matching';
import { createCategoriser, type Categoriser } from './plaid-categorise';
import { BOOKED_LINES, bookDecidedLines, FRESH_LINES, openSyncStage, storeWaiting } from './ingest';
import type { Actor, Deps } from './context';
import { readSecret, storeSecret } from './secrets';
import { createAccount } from './accounts';
import { getEntity } from './entities';
import { timeOrderedUuid } from './ids';
import { storeLiabilityBills, storePlaidHoldings } from './plaid-facts';

// Bank sync through Plaid. Linking stores the item (access token encrypted) and creates one Veil account per Plaid
// account in the entity the user chose. Syncing walks /transactions/sync from the stored cursor: each page and the
// cursor that acknowledges it are written in ONE transaction, so a failure never leaves half a page and a retry
// resumes exactly where the last stored page ended. Lines land as bank lines (deduplicated by Plaid's transaction
// id); posted lines whose category is known are booked, the rest wait for review; pending lines are stored, never
// booked, and withdrawn when they post under a new id.

type Trx = Transaction<Database>;

export const SYNC_RESTARTS_MAX = 5;
export const BANK_LINES_IN_REPLY_MAX = 1_000;

export interface PlaidAccountView {
  id: string;
  accountId: string;
  plaidAccountId: string;
  name: string;
  officialName: string | null;
  mask: string | null;
  type: string;
  subtype: string | null;
  kind: string;
  currency: string;
  currentCents: number | null;
  availableCents: number | null;
  limitCents: number | null;
  balancesAt: string | null;
  interestRateBps: number | null;
  liability: unknown;
  holdings: HoldingView[];
}

export interface HoldingView {
  securityId: string;
  ticker: string | null;
  name: string | null;
  securityType: string | null;
  quantity: string;
  priceCents: number | null;
  valueCents: number;
  costBasisCents: number | null;
  currency: string;
  asOf: string;
}

export interface PlaidItemView {
  id: string;
  entityId: string;
  institutionId: string | null;
  institutionName: string;
  status: PlaidItemStatus;
  error: { code: string; type: string; message: string } | null;
  lastSyncedAt: string | null;
  createdAt: string;
  accounts: PlaidAccountView[];
}

export interface SyncReport {
  itemId: string;
  added: number;
  modified: number;
  removed: number;
  booked: number;
  pendingStored: number;
  duplicates: number;
  pages: number;
  restarts: number;
  /** True when the page cap stopped the run before Plaid said has_more=false; the next sync continues. */
  hasMore: boolean;
  bankLines: BankLine[];
  bankLinesTruncated: boolean;
}

// ------------------------------------------------------------------------------------------------ reading

function itemError(raw: unknown): PlaidItemView['error'] {
  if (raw === null || raw === undefined) return null;
  const error = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { code: string; type: string; message: string };
  return { code: error.code, type: error.type, message: error.message };
}

function centsOrNull(value: string | number | null): number | null {
  return value === null ? null : centsFromDb(value);
}

async function accountsOf(db: Db | Trx, itemIds: readonly string[]): Promise<Map<string, PlaidAccountView[]>> {
  const byItem = new Map<string, PlaidAccountView[]>();
  if (itemIds.length === 0) return byItem;
  const rows = await db
    .selectFrom('plaidAccounts as p')
    .innerJoin('accounts as a', 'a.id', 'p.accountId')
    .select([
      'p.id', 'p.itemId', 'p.accountId', 'p.plaidAccountId', 'p.name', 'p.officialName', 'p.mask', 'p.plaidType', 'p.plaidSubtype',
      'p.currentCents', 'p.availableCents', 'p.limitCents', 'p.balancesAt', 'p.interestRateBps', 'p.liability', 'a.kind', 'a.currency',
    ])
    .where('p.itemId', 'in', itemIds)
    .orderBy('p.createdAt')
    .orderBy('p.id')
    .execute();
  const holdings = rows.length === 0
    ? []
    : await db
        .selectFrom('plaidHoldings')
        .select(['plaidAccountId', 'securityId', 'ticker', 'name', 'securityType', sql<string>`quantity::text`.as('quantity'), 'priceCents', 'valueCents', 'costBasisCents', 'currency', 'asOf'])
        .where('plaidAccountId', 'in', rows.map((row) => row.id))
        .orderBy('ticker')
        .execute();
  for (const row of rows) {
    const list = byItem.get(row.itemId) ?? [];
    list.push({
      id: row.id,
      accountId: row.accountId,
      plaidAccountId: row.plaidAccountId,
      name: row.name,
      officialName: row.officialName,
      mask: row.mask,
      type: row.plaidType,
      subtype: row.plaidSubtype,
      kind: row.kind,
      currency: row.currency,
      currentCents: centsOrNull(row.currentCents),
      availableCents: centsOrNull(row.availableCents),
      limitCents: centsOrNull(row.limitCents),
      balancesAt: row.balancesAt?.toISOString() ?? null,
      interestRateBps: row.interestRateBps,
      liability: typeof row.liability === 'string' ? JSON.parse(row.liability) : (row.liability ?? null),
      holdings: holdings
        .filter((holding) => holding.plaidAccountId === row.id)
        .map((holding) => ({
          securityId: holding.securityId,
          ticker: holding.ticker,
          name: holding.name,
          securityType: holding.securityType,
          quantity: holding.quantity,
          priceCents: centsOrNull(holding.priceCents),
          valueCents: centsFromDb(holding.valueCents),
          costBasisCents: centsOrNull(holding.costBasisCents),
          currency: holding.currency,
          asOf: holding.asOf,
        })),
    });
    byItem.set(row.itemId, list);
  }
  return byItem;
}

const ITEM_COLUMNS = ['id', 'entityId', 'institutionId', 'institutionName', 'status', 'error', 'lastSyncedAt', 'createdAt'] as const;

export async function getPlaidItem(db: Db | Trx, itemId: string): Promise<PlaidItemView> {
  const row = await db.selectFrom('plaidItems').select(ITEM_COLUMNS).where('id', '=', itemId).executeTakeFirst();
  if (!row) throw new NotFound('plaid item', itemId);
  const accounts = await accountsOf(db, [row.id]);
  return { ...row, error: itemError(row.error), lastSyncedAt: row.lastSyncedAt?.toISOString() ?? null, createdAt: row.createdAt.toISOString(), accounts: accounts.get(row.id) ?? [] };
}

export async function listPlaidItems(db: Db, entityId: string): Promise<PlaidItemView[]> {
  const rows = await db.selectFrom('plaidItems').select(ITEM_COLUMNS).where('entityId', '=', entityId).orderBy('createdAt').orderBy('id').execute();
  const accounts = await accountsOf(db, rows.map((row) => row.id));
  return rows.map((row) => ({
    ...row,
    error: itemError(row.error),
    lastSyncedAt: row.lastSyncedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    accounts: accounts.get(row.id) ?? [],
  }));
}

/** Resolves an item to its entity and authorizes it there. */
export async function authorizePlaidItem(db: Db | Trx, actor: Actor, itemId: string, need: 'read' | 'write'): Promise<string> {
  const row = await db.selectFrom('plaidItems').select('entityId').where('id', '=', itemId).executeTakeFirst();
  if (!row) throw new NotFound('plaid item', itemId);
  try {
    await authorizeEntity(db, actor, row.entityId, need);
  } catch (error) {
    // An item in books the caller cannot see is answered like a missing item, with the item's id, not the entity's.
    if (error instanceof RuleViolation && error.code === 'not_found') throw new NotFound('plaid item', itemId);
    throw error;
  }
  return row.entityId;
}

// ------------------------------------------------------------------------------------------------ linking

export async function createLinkToken(deps: Deps, actor: Actor, entityId: string, itemId?: string): Promise<{ linkToken: string; expiration: string }> {
  const plaid = requirePlaid(deps.plaid);
  const accessToken = itemId === undefined ? undefined : await accessTokenOf(deps.db, deps, itemId);
  const response = await callPlaid(() =>
    plaid.client.linkTokenCreate({
      client_name: plaid.clientName,
      language: 'en',
      country_codes: [CountryCode.Us],
      user: { client_user_id: actor.userId ?? actor.id },
      ...(accessToken === undefined
        ? { products: [Products.Transactions], optional_products: [Products.Liabilities, Products.Investments] }
        : { access_token: accessToken }),
      ...(plaid.webhookUrl ? { webhook: plaid.webhookUrl } : {}),
    }),
  );
  return { linkToken: response.link_token, expiration: response.expiration };
}

export async function accessTokenOf(db: Db | Trx, deps: Deps, itemId: string): Promise<string> {
  const row = await db.selectFrom('plaidItems').select('accessTokenSecretId').where('id', '=', itemId).executeTakeFirst();
  if (!row) throw new NotFound('plaid item', itemId);
  // The service reads the token on the item's behalf after authorizing the caller on the item.
  return readSecret(db, deps.security.keyring, { type: 'system', id: 'plaid', scopes: ['read'], entityScope: 'all', mfa: false }, row.accessTokenSecretId);
}

async function uniqueAccountName(trx: Trx, entityId: string, wanted: string, plaidAccountId: string): Promise<string> {
  const base = wanted.slice(0, 180);
  const taken = await trx.selectFrom('accounts').select('id').where('entityId', '=', entityId).where('name', '=', base).executeTakeFirst();
  return taken ? `${base} (${plaidAccountId.slice(0, 8)})` : base;
}

async function linkAccount(trx: Trx, actor: Actor, item: { id: string; entityId: string; institutionName: string }, entityKind: 'llc' | 'personal', account: AccountBase): Promise<void> {
  const kind = accountKindFor(account.type, account.subtype ?? null, entityKind);
  const wanted = `${item.institutionName} ${account.name}${account.mask ? ` ••${account.mask}` : ''}`;
  const created = await createAccount(trx, item.entityId, { name: await uniqueAccountName(trx, item.entityId, wanted, account.account_id), kind, currency: account.balances.iso_currency_code ?? undefined }, actor);
  await trx
    .insertInto('plaidAccounts')
    .values({
      itemId: item.id,
      entityId: item.entityId,
      accountId: created.id,
      currency: created.currency,
      plaidAccountId: account.account_id,
      name: account.name,
      officialName: account.official_name,
      mask: account.mask,
      plaidType: account.type,
      plaidSubtype: account.subtype ?? null,
      currentCents: centsFromPlaidBalance(account.balances.current),
      availableCents: centsFromPlaidBalance(account.balances.available),
      limitCents: centsFromPlaidBalance(account.balances.limit),
      balancesAt: new Date(),
    })
    .execute();
}

/**
 * Exchanges a public token from Link and stores the item in the chosen entity: the access token encrypted, one
 * account per Plaid account (kind from Plaid's type/subtype), balances, card and loan terms, holdings.
 */
export async function linkItem(trx: Trx, deps: Deps, actor: Actor, input: { entityId: string; publicToken: string }): Promise<PlaidItemView> {
  await authorizeEntity(trx, actor, input.entityId, 'write');
  const plaid = requirePlaid(deps.plaid);
  const entity = await getEntity(trx, input.entityId);
  const exchanged = await callPlaid(() => plaid.client.itemPublicTokenExchange({ public_token: input.publicToken }));
  const accounts = await callPlaid(() => plaid.client.accountsGet({ access_token: exchanged.access_token }));
  const secret = await storeSecret(trx, deps.security.keyring, actor, { purpose: 'plaid_access_token', entityId: input.entityId, plaintext: exchanged.access_token });
  const institutionName = accounts.item.institution_name ?? 'Bank';
  const item = await trx
    .insertInto('plaidItems')
    .values({
      entityId: input.entityId,
      plaidItemId: exchanged.item_id,
      institutionId: accounts.item.institution_id ?? null,
      institutionName,
      accessTokenSecretId: secret.id,
      webhookUrl: accounts.item.webhook,
    })
    .returning(['id', 'entityId'])
    .executeTakeFirstOrThrow()
    .catch((error: unknown) => {
      if (String((error as Error).message).includes('plaid_items_plaid_item_id_key')) {
        throw new RuleViolation('duplicate_name', 'this Plaid item is already linked', { plaidItemId: exchanged.item_id });
      }
      throw error;
    });
  for (const account of accounts.accounts) await linkAccount(trx, actor, { ...item, institutionName }, entity.kind as 'llc' | 'personal', account);
  const facts = await refreshFacts(trx, plaid, item.id, exchanged.access_token);
  // The same facts into the investments tables and the bills, as a refresh would store them.
  const links = await linksOf(trx, item.id);
  if (facts.holdings) await storePlaidHoldings(trx, input.entityId, links, facts.holdings, actor);
  if (facts.liabilities) await storeLiabilityBills(trx, input.entityId, institutionName, links, facts.liabilities, actor);
  recordAudit(trx, actor, {
    action: 'plaid_item.linked',
    entityId: input.entityId,
    objectType: 'plaid_item',
    objectId: item.id,
    after: { institutionName, plaidItemId: exchanged.item_id, accounts: accounts.accounts.length },
  });
  return getPlaidItem(trx, item.id);
}

// ------------------------------------------------------------------------------------------------ facts

export type Links = Map<string, { id: string; accountId: string; type: string }>;

export async function linksOf(db: Db | Trx, itemId: string): Promise<Links> {
  const rows = await db.selectFrom('plaidAccounts').select(['id', 'accountId', 'plaidAccountId', 'plaidType']).where('itemId', '=', itemId).execute();
  return new Map(rows.map((row) => [row.plaidAccountId, { id: row.id, accountId: row.accountId, type: row.plaidType }]));
}

/** What refreshFacts read from Plaid, for the investments and liability-bill services to store too. */
export interface PlaidFacts {
  liabilities: LiabilitiesObject | null;
  holdings: InvestmentsHoldingsGetResponse | null;
}

/** Card and loan terms (liabilities) and holdings (investments): facts stored on the account links. */
export async function refreshFacts(trx: Trx, plaid: PlaidDeps, itemId: string, accessToken: string): Promise<PlaidFacts> {
  const links = await linksOf(trx, itemId);
  const types = new Set([...links.values()].map((link) => link.type));
  const read: PlaidFacts = { liabilities: null, holdings: null };
  if (types.has('credit') || types.has('loan')) {
    const { liabilities } = await callPlaid(() => plaid.client.liabilitiesGet({ access_token: accessToken }));
    await storeLiabilityFacts(trx, links, liabilities);
    read.liabilities = liabilities;
  }
  if (types.has('investment')) {
    const holdings = await callPlaid(() => plaid.client.investmentsHoldingsGet({ access_token: accessToken }));
    await storeHoldingFacts(trx, links, holdings);
    read.holdings = holdings;
  }
  return read;
}

/** Card APR, statement and payment facts, and loan rates, on the account links. */
export async function storeLiabilityFacts(trx: Trx, links: Links, liabilities: LiabilitiesObject): Promise<void> {
  const facts: { plaidAccountId: string | null; interestRateBps: number | null; liability: Record<string, unknown> }[] = [];
  for (const card of liabilities.credit ?? []) {
    const purchase = card.aprs.find((apr: APR) => apr.apr_type === 'purchase_apr') ?? card.aprs[0];
    facts.push({
      plaidAccountId: card.account_id,
      interestRateBps: basisPointsFromPercentage(purchase?.apr_percentage),
      liability: {
        kind: 'credit',
        aprBps: basisPointsFromPercentage(purchase?.apr_percentage),
        statementBalanceCents: centsFromPlaidBalance(card.last_statement_balance),
        statementIssuedOn: card.last_statement_issue_date,
        minimumPaymentCents: centsFromPlaidBalance(card.minimum_payment_amount),
        nextPaymentDueOn: card.next_payment_due_date,
        lastPaymentCents: centsFromPlaidBalance(card.last_payment_amount),
        lastPaymentOn: card.last_payment_date,
        isOverdue: card.is_overdue,
      },
    });
  }
  for (const loan of liabilities.mortgage ?? []) {
    facts.push({
      plaidAccountId: loan.account_id,
      interestRateBps: basisPointsFromPercentage(loan.interest_rate.percentage),
      liability: {
        kind: 'mortgage',
        rateType: loan.interest_rate.type,
        originationPrincipalCents: centsFromPlaidBalance(loan.origination_principal_amount),
        originatedOn: loan.origination_date,
        maturesOn: loan.maturity_date,
        loanTerm: loan.loan_term,
        nextMonthlyPaymentCents: centsFromPlaidBalance(loan.next_monthly_payment),
        nextPaymentDueOn: loan.next_payment_due_date,
        escrowBalanceCents: centsFromPlaidBalance(loan.escrow_balance),
      },
    });
  }
  for (const loan of liabilities.student ?? []) {
    facts.push({
      plaidAccountId: loan.account_id,
      interestRateBps: basisPointsFromPercentage(loan.interest_rate_percentage),
      liability: {
        kind: 'student',
        loanName: loan.loan_name,
        originationPrincipalCents: centsFromPlaidBalance(loan.origination_principal_amount),
        originatedOn: loan.origination_date,
        expectedPayoffOn: loan.expected_payoff_date,
        minimumPaymentCents: centsFromPlaidBalance(loan.minimum_payment_amount),
        nextPaymentDueOn: loan.next_payment_due_date,
        repaymentPlan: loan.repayment_plan.description,
      },
    });
  }
  for (const fact of facts) {
    const link = fact.plaidAccountId === null ? undefined : links.get(fact.plaidAccountId);
    if (!link) continue;
    await trx
      .updateTable('plaidAccounts')
      .set({ interestRateBps: fact.interestRateBps, liability: JSON.stringify(fact.liability), updatedAt: new Date() })
      .where('id', '=', link.id)
      .execute();
  }
}

/** Holdings as Plaid states them, on the account links (the investments service keeps its own per account). */
export async function storeHoldingFacts(trx: Trx, links: Links, holdings: InvestmentsHoldingsGetResponse): Promise<void> {
  const securities = new Map<string, Security>(holdings.securities.map((security: Security) => [security.security_id, security]));
  for (const holding of holdings.holdings) {
    const link = links.get(holding.account_id);
    if (!link) continue;
    const security = securities.get(holding.security_id);
    const row = {
      plaidAccountId: link.id,
      securityId: holding.security_id,
      ticker: security?.ticker_symbol ?? null,
      name: security?.name ?? null,
      securityType: security?.type ?? null,
      quantity: String(holding.quantity),
      priceCents: centsFromPlaidBalance(Number(holding.institution_price.toFixed(2))),
      valueCents: centsFromPlaidBalance(Number(holding.institution_value.toFixed(2))) ?? 0,
      costBasisCents: holding.cost_basis === null ? null : centsFromPlaidBalance(Number(holding.cost_basis.toFixed(2))),
      currency: holding.iso_currency_code ?? 'USD',
      asOf: holding.institution_price_as_of ?? new Date().toISOString().slice(0, 10),
    };
    await trx
      .insertInto('plaidHoldings')
      .values(row)
      .onConflict((oc) => oc.columns(['plaidAccountId', 'securityId']).doUpdateSet({ ...row, updatedAt: new Date() }))
      .execute();
  }
}

/** Live balances from Plaid, stored on the links (the bank's statement of them, not the ledger's). */
export async function refreshBalances(deps: Deps, actor: Actor, itemId: string): Promise<PlaidItemView> {
  const plaid = requirePlaid(deps.plaid);
  const accessToken = await accessTokenOf(deps.db, deps, itemId);
  const response = await withItemErrors(deps, itemId, () => callPlaid(() => plaid.client.accountsBalanceGet({ access_token: accessToken })));
  return auditedTransaction(deps.db, async (trx) => {
    const item = await trx.selectFrom('plaidItems').select(['id', 'entityId', 'institutionName']).where('id', '=', itemId).executeTakeFirstOrThrow();
    const entity = await getEntity(trx, item.entityId);
    const links = await linksOf(trx, itemId);
    for (const account of response.accounts) {
      if (!links.has(account.account_id)) await linkAccount(trx, actor, item, entity.kind as 'llc' | 'personal', account);
      await trx
        .updateTable('plaidAccounts')
        .set({
          currentCents: centsFromPlaidBalance(account.balances.current),
          availableCents: centsFromPlaidBalance(account.balances.available),
          limitCents: centsFromPlaidBalance(account.balances.limit),
          balancesAt: new Date(),
          updatedAt: new Date(),
        })
        .where('itemId', '=', itemId)
        .where('plaidAccountId', '=', account.account_id)
        .execute();
    }
    recordAudit(trx, actor, { action: 'plaid_item.balances_refreshed', entityId: item.entityId, objectType: 'plaid_item', objectId: itemId, after: { accounts: response.accounts.length } });
    return getPlaidItem(trx, itemId);
  });
}

// ------------------------------------------------------------------------------------------------ item status

async function setItemStatus(db: Db, actor: Actor, itemId: string, status: PlaidItemStatus, error: { code: string; type: string; message: string } | null): Promise<void> {
  await auditedTransaction(db, async (trx) => {
    const before = await trx.selectFrom('plaidItems').select(['entityId', 'status']).where('id', '=', itemId).forUpdate().executeTakeFirstOrThrow();
    await trx.updateTable('plaidItems').set({ status, error: error === null ? null : JSON.stringify(error), updatedAt: new Date() }).where('id', '=', itemId).execute();
    recordAudit(trx, actor, { action: 'plaid_item.status_changed', entityId: before.entityId, objectType: 'plaid_item', objectId: itemId, before: { status: before.status }, after: { status, error } });
  });
}

/** Runs a Plaid call for an item; an item error (login required…) is stored on the item before it is reported. */
export async function withItemErrors<T>(deps: Deps, itemId: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof RuleViolation && error.code === 'plaid_item_error') {
      const details = error.details as { plaidErrorCode: string; plaidErrorType: string };
      await setItemStatus(deps.db, { type: 'system', id: 'plaid', scopes: ['write'], entityScope: 'all', mfa: false }, itemId, ITEM_ERROR_STATUS[details.plaidErrorCode] ?? 'error', {
        code: details.plaidErrorCode,
        type: details.plaidErrorType,
        message: error.message,
      });
    }
    throw error;
  }
}

// ------------------------------------------------------------------------------------------------ sync

class StaleCursor extends Error {}

interface PageOutcome {
  added: number;
  modified: number;
  removed: number;
  booked: number;
  pendingStored: number;
  duplicates: number;
  lines: BankLine[];
}

function draftOf(transaction: PlaidTransaction, externalId = transaction.transaction_id): BankLineDraft {
  return {
    externalId,
    postedOn: transaction.date,
    authorizedOn: transaction.authorized_date,
    amountCents: veilCentsFromPlaidAmount(transaction.amount),
    payee: transaction.merchant_name ?? transaction.name,
    memo: transaction.name,
    pending: transaction.pending,
    pendingExternalId: transaction.pending_transaction_id,
    raw: {
      transaction_id: transaction.transaction_id,
      account_id: transaction.account_id,
      personal_finance_category: transaction.personal_finance_category ?? null,
      payment_channel: transaction.payment_channel,
      iso_currency_code: transaction.iso_currency_code,
    },
  };
}

/** A modified transaction is stored as a new revision of its line: same Plaid id, a suffix from its content. */
function revisionId(transaction: PlaidTransaction): string {
  const content = `${transaction.amount}|${transaction.date}|${transaction.name}|${transaction.pending}`;
  return `${transaction.transaction_id}@${createHash('sha256').update(content).digest('hex').slice(0, 12)}`;
}

async function liveLinesOf(trx: Trx, accountId: string, transactionId: string) {
  return trx
    .selectFrom('bankLines')
    .select(['id', 'externalId', 'amountCents', 'postedOn', 'pending', 'memo'])
    .where('accountId', '=', accountId)
    .where((eb) => eb.or([eb('externalId', '=', transactionId), eb('externalId', 'like', `${transactionId.replace(/[\\%_]/g, '\\$&')}@%`)]))
    .where('status', '!=', 'removed')
    .execute();
}

/** One line's booking as the set-based path takes it: the whole amount to one category account. */
interface Decision {
  line_id: string;
  category_account_id: string;
  description: string;
}

/** The categorisation in the shape bookDecidedLines books, or undefined when it needs bookBankLines (a split). */
function decisionOf(line: BankLine, categorisation: Categorisation): Decision | undefined {
  const [split, ...others] = categorisation.splits;
  if (split === undefined || others.length > 0 || split.amountCents !== line.amountCents || (split.memo ?? null) !== null) return undefined;
  return { line_id: line.id, category_account_id: split.accountId, description: categorisation.description ?? line.payee ?? line.memo ?? 'Bank line' };
}

/**
 * Stores a page's lines (of several accounts of the item's entity) and books them, set-based (services/ingest.ts):
 * the lines go to the sync's stage (openSyncStage) with one statement, to bank_lines with another (deduplicated by
 * Plaid's transaction id per account, as recordBankLines does), bills and entries already booked are matched
 * first, and the lines the categoriser sends whole to one category are booked by bookDecidedLines with the same
 * entries, events and audit rows bookBankLines writes. What that declines, and split categorisations, go through
 * bookBankLines, which books them or reports the exact error.
 */
async function storeAndBook(trx: Trx, actor: Actor, entityId: string, byAccount: ReadonlyMap<string, readonly BankLineDraft[]>, categorise: Categoriser, outcome: PageOutcome): Promise<void> {
  if (byAccount.size === 0) return;
  // FOR KEY SHARE, as storing a line has always taken it (the line's key to its account): a booking on these accounts
  // (a Plaid Transfer's reversal, which then matches the waiting lines) commits before this page looks for entries,
  // or waits until the page is stored. Without it, lines stored late in the page's transaction met neither.
  const accounts = await trx.selectFrom('accounts').select(['id', 'entityId', 'currency', 'class']).where('id', 'in', [...byAccount.keys()]).forKeyShare().execute();
  const accountById = new Map(accounts.map((account) => [account.id, account]));
  const rows: { id: string; ord: number; account_id: string; draft: BankLineDraft }[] = [];
  for (const [accountId, drafts] of byAccount) {
    const account = accountById.get(accountId);
    if (!account) throw new RuleViolation('not_found', 'no such account', { accountId });
    if (account.class !== 'asset' && account.class !== 'liability') {
      throw new RuleViolation('account_kind_mismatch', 'bank lines belong to asset or liability accounts (a bank, card or loan account)', { accountId, class: account.class });
    }
    assert(account.entityId === entityId, `storeAndBook: account ${accountId} is not of the item's entity`);
    // Time-ordered ids (0032): the page's lines, and the entry keys made from them, go to the indexes' last leaves.
    for (const draft of drafts) rows.push({ id: timeOrderedUuid(), ord: rows.length, account_id: accountId, draft });
  }
  const fresh = sql.table(FRESH_LINES);
  const linesJson = JSON.stringify(
    rows.map(({ id, ord, account_id, draft }) => {
      const fields = draftFields(draft);
      return {
        id,
        ord,
        account_id,
        external_id: draft.externalId,
        posted_on: draft.postedOn,
        authorized_on: fields.authorizedOn,
        amount_cents: draft.amountCents,
        payee: fields.payee,
        memo: fields.memo,
        pending: fields.pending,
        pending_external_id: fields.pendingExternalId,
        raw: fields.raw,
      };
    }),
  );
  // Exact dedup: a transaction id the account already has is skipped (counted), and so is a repeat within the page
  // (the first wins, as recordBankLines has it). The rest waits in FRESH_LINES (`stored` false) to be stored by the
  // step that acts on it first, or already booked by the booking, in one write.
  // Every line stored by this transaction is created at its start (now()), as the column's default has it.
  await openSyncStage(trx);
  const { rows: kept } = await sql<{ id: string; createdAt: Date }>`
    insert into ${fresh} (id, ord, account_id, entity_id, currency, source, import_id, external_id, posted_on, authorized_on, amount_cents,
                          payee, memo, pending, pending_external_id, raw, rule_id, status, stored)
    select x.id, x.ord, x.account_id, a.entity_id, a.currency, 'plaid', null, x.external_id, x.posted_on, x.authorized_on, x.amount_cents,
           x.payee, x.memo, x.pending, x.pending_external_id, x.raw, null, 'unmatched', false
      from (select distinct on (x.account_id, x.external_id) x.*
              from jsonb_to_recordset(${linesJson}::jsonb) as x (id uuid, ord integer, account_id uuid, external_id text, posted_on date, authorized_on date,
                                                                  amount_cents bigint, payee text, memo text, pending boolean, pending_external_id text, raw jsonb)
             order by x.account_id, x.external_id, x.ord) as x
      join accounts a on a.id = x.account_id
     where not exists (select 1 from bank_lines b where b.account_id = x.account_id and b.external_id = x.external_id)
    returning id, now() as "createdAt"`.execute(trx);
  const createdAtOf = new Map(kept.map((row) => [row.id, new Date(row.createdAt).toISOString()]));
  const inserted: BankLine[] = [];
  const counts = new Map<string, { inserted: number; duplicates: number }>();
  for (const { id, account_id: accountId, draft } of rows) {
    const count = counts.get(accountId) ?? { inserted: 0, duplicates: 0 };
    counts.set(accountId, count);
    const createdAt = createdAtOf.get(id);
    if (createdAt === undefined) {
      count.duplicates += 1;
      continue;
    }
    count.inserted += 1;
    const account = accountById.get(accountId) as (typeof accounts)[number];
    const { raw: _raw, ...fields } = draftFields(draft);
    inserted.push({
      id,
      entityId,
      accountId,
      currency: account.currency,
      source: 'plaid',
      externalId: draft.externalId,
      importId: null,
      postedOn: draft.postedOn,
      amountCents: draft.amountCents,
      ...fields,
      status: 'unmatched',
      statusReason: null,
      entryId: null,
      createdAt,
    });
  }
  for (const [accountId, count] of counts) {
    outcome.duplicates += count.duplicates;
    recordAudit(trx, actor, {
      action: 'bank_lines.recorded',
      entityId,
      objectType: 'account',
      objectId: accountId,
      after: { source: 'plaid', importId: null, inserted: count.inserted, duplicates: count.duplicates },
    });
  }
  const rawOf = new Map(rows.map(({ id, draft }) => [id, draft.raw]));
  // A line that pays a bill settles it first (services/bill-matching.ts), before any categorisation: the lines that
  // could are stored for it.
  const billAccounts = new Set(
    (await trx.selectFrom('bills').select('payFromAccountId').distinct().where('entityId', '=', entityId).where('payFromAccountId', 'in', [...byAccount.keys()]).execute()).map(
      (row) => row.payFromAccountId,
    ),
  );
  const billCandidates = inserted.filter((line) => billAccounts.has(line.accountId) && !line.pending && line.amountCents < 0);
  await storeWaiting(trx, billCandidates.map((line) => line.id));
  const billPaid = billCandidates.length === 0 ? new Map<string, { entryId: string; status: 'booked' | 'matched' }>() : await matchBillPayments(trx, entityId, billCandidates, actor);
  // Then money Veil had already booked (a Transfer, a draw, a Plaid Transfer leg): the bank's line stands for it.
  const entryMatches = await findBookedEntries(trx, inserted.filter((line) => !billPaid.has(line.id)));
  await storeWaiting(trx, entryMatches.map((match) => match.line.id));
  const alreadyBooked = await applyEntryMatches(trx, entryMatches, actor);
  // The lines a step stored already (for a bill, an entry, or booked set-based below): the rest waits.
  const storedIds = new Set([...billCandidates.map((line) => line.id), ...entryMatches.map((match) => match.line.id)]);
  const decided: { line: BankLine; categorisation: Categorisation; decision: Decision }[] = [];
  const toBook: { line: BankLine; categorisation: Categorisation }[] = [];
  for (const line of inserted) {
    const billPayment = billPaid.get(line.id);
    if (billPayment !== undefined) {
      if (billPayment.status === 'booked') outcome.booked += 1;
      outcome.lines.push({ ...line, ...billPayment });
      continue;
    }
    const bookedEntryId = alreadyBooked.get(line.id);
    if (bookedEntryId !== undefined) {
      outcome.lines.push({ ...line, status: 'matched', entryId: bookedEntryId });
      continue;
    }
    if (line.pending) {
      outcome.pendingStored += 1;
      outcome.lines.push(line);
      continue;
    }
    const categorisation = await categorise(trx, line, rawOf.get(line.id));
    if (categorisation === null) {
      outcome.lines.push(line);
      continue;
    }
    const decision = decisionOf(line, categorisation);
    if (decision === undefined) toBook.push({ line, categorisation });
    else decided.push({ line, categorisation, decision });
  }
  if (decided.length > 0) {
    const { rows: entries } = await sql<{ lineId: string; entryId: string }>`
      insert into ${sql.table(BOOKED_LINES)} (line_id, entry_id, ord, account_id, currency, posted_on, amount_cents, memo, rule_id, category_account_id, description, position)
      select f.id, veil_uuid_v7(), f.ord, f.account_id, f.currency, f.posted_on, f.amount_cents, f.memo,
             null, d.category_account_id, d.description, row_number() over (order by f.ord) - 1
        from ${fresh} f
        join jsonb_to_recordset(${JSON.stringify(decided.map((item) => item.decision))}::jsonb) as d (line_id uuid, category_account_id uuid, description text) on d.line_id = f.id
       where f.status = 'unmatched'
      returning line_id as "lineId", entry_id as "entryId"`.execute(trx);
    if (await bookDecidedLines(trx, actor, entityId, 'plaid', () => undefined)) {
      const entryOf = new Map(entries.map((entry) => [entry.lineId, entry.entryId]));
      assert(entryOf.size === decided.length, 'bookDecidedLines booked every decided line');
      outcome.booked += decided.length;
      outcome.lines.push(...decided.map(({ line }) => ({ ...line, status: 'booked' as const, entryId: entryOf.get(line.id) as string })));
      for (const { line } of decided) storedIds.add(line.id);
    } else {
      toBook.unshift(...decided.map(({ line, categorisation }) => ({ line, categorisation })));
    }
  }
  // The rest (pending, waiting for review, split or declined bookings) is stored unmatched.
  if (inserted.some((line) => !storedIds.has(line.id))) await storeWaiting(trx);
  if (toBook.length === 0) return;
  // The same entries bookBankLine would book one by one, through the journal's batch path.
  const entries = await bookBankLines(trx, actor, entityId, toBook);
  outcome.booked += entries.length;
  outcome.lines.push(...toBook.map(({ line }, index) => ({ ...line, status: 'booked' as const, entryId: (entries[index] as { id: string }).id })));
}

async function applyPage(trx: Trx, actor: Actor, itemId: string, expectedCursor: string | null, page: TransactionsSyncResponse, categorise: Categoriser): Promise<PageOutcome> {
  const item = await trx.selectFrom('plaidItems').select(['id', 'entityId', 'cursor', 'status']).where('id', '=', itemId).forUpdate().executeTakeFirstOrThrow();
  // Another sync of this item stored pages since we read the cursor: this page is not ours to store.
  if (item.cursor !== expectedCursor) throw new StaleCursor();
  let links = await linksOf(trx, itemId);
  const unknown = [...page.added, ...page.modified].some((transaction) => !links.has(transaction.account_id));
  if (unknown) {
    const entity = await getEntity(trx, item.entityId);
    const itemRow = await trx.selectFrom('plaidItems').select(['id', 'entityId', 'institutionName']).where('id', '=', itemId).executeTakeFirstOrThrow();
    for (const account of page.accounts) if (!links.has(account.account_id)) await linkAccount(trx, actor, itemRow, entity.kind as 'llc' | 'personal', account);
    links = await linksOf(trx, itemId);
  }
  const accountOf = (plaidAccountId: string): string => {
    const link = links.get(plaidAccountId);
    if (!link) throw new RuleViolation('plaid_upstream_error', 'Plaid sent a transaction for an account it did not list', { plaidAccountId });
    return link.accountId;
  };
  const outcome: PageOutcome = { added: page.added.length, modified: page.modified.length, removed: page.removed.length, booked: 0, pendingStored: 0, duplicates: 0, lines: [] };
  const withdraw = async (accountId: string, transactionId: string, reason: string) => {
    for (const line of await liveLinesOf(trx, accountId, transactionId)) await withdrawBankLine(trx, line.id, reason, actor);
  };
  // Removed first: a pending id is removed in the same page its posted successor is added.
  for (const removed of page.removed) {
    const link = links.get(removed.account_id ?? '');
    if (link) await withdraw(link.accountId, removed.transaction_id, 'removed by Plaid');
  }
  const byAccount = new Map<string, BankLineDraft[]>();
  for (const transaction of page.added) {
    const accountId = accountOf(transaction.account_id);
    if (transaction.pending_transaction_id) await withdraw(accountId, transaction.pending_transaction_id, 'posted under a new id');
    const list = byAccount.get(accountId) ?? [];
    list.push(draftOf(transaction));
    byAccount.set(accountId, list);
  }
  await storeAndBook(trx, actor, item.entityId, byAccount, categorise, outcome);
  const revisions = new Map<string, BankLineDraft[]>();
  for (const transaction of page.modified) {
    const accountId = accountOf(transaction.account_id);
    const draft = draftOf(transaction, revisionId(transaction));
    const current = await liveLinesOf(trx, accountId, transaction.transaction_id);
    const unchanged = current.some(
      (line) => centsFromDb(line.amountCents) === draft.amountCents && line.postedOn === draft.postedOn && line.pending === draft.pending && line.memo === draft.memo,
    );
    if (unchanged) continue;
    for (const line of current) await withdrawBankLine(trx, line.id, 'modified by Plaid', actor);
    revisions.set(accountId, [...(revisions.get(accountId) ?? []), draft]);
  }
  await storeAndBook(trx, actor, item.entityId, revisions, categorise, outcome);
  await trx
    .updateTable('plaidItems')
    .set({ cursor: page.next_cursor, lastSyncedAt: new Date(), updatedAt: new Date(), ...(item.status === 'healthy' ? {} : { status: 'healthy', error: null }) })
    .where('id', '=', itemId)
    .execute();
  recordAudit(trx, actor, {
    action: 'plaid_item.page_synced',
    entityId: item.entityId,
    objectType: 'plaid_item',
    objectId: itemId,
    after: { added: outcome.added, modified: outcome.modified, removed: outcome.removed, booked: outcome.booked, hasMore: page.has_more },
  });
  return outcome;
}

/**
 * Pulls everything new for an item. Each page is stored with its cursor in one transaction. When Plaid reports
 * that the data changed mid-pagination, the run restarts from the cursor the update began with (pages already
 * stored come back as duplicates and are skipped). Stops after `syncPagesMax` pages (hasMore tells the caller).
 */
export async function syncItem(
  deps: Deps,
  actor: Actor,
  itemId: string,
  options: { onPage?: (report: SyncReport) => void; pagesMax?: number | undefined } = {},
): Promise<SyncReport> {
  const plaid = requirePlaid(deps.plaid);
  const accessToken = await accessTokenOf(deps.db, deps, itemId);
  const report: SyncReport = { itemId, added: 0, modified: 0, removed: 0, booked: 0, pendingStored: 0, duplicates: 0, pages: 0, restarts: 0, hasMore: false, bankLines: [], bankLinesTruncated: false };
  const readCursor = async () => (await deps.db.selectFrom('plaidItems').select('cursor').where('id', '=', itemId).executeTakeFirstOrThrow()).cursor;
  // `stored`: the cursor this run last wrote (what the item row must still hold); `cursor`: the one we fetch with.
  // They differ after a restart, when pages already stored are fetched again from the start of the update.
  let stored = await readCursor();
  let updateStart = stored;
  let cursor = stored;
  const entityId = (await deps.db.selectFrom('plaidItems').select('entityId').where('id', '=', itemId).executeTakeFirstOrThrow()).entityId;
  const categorise = await createCategoriser(deps.db, entityId);
  const pagesMax = Math.min(options.pagesMax ?? plaid.syncPagesMax, plaid.syncPagesMax);
  const fetchPage = (from: string | null) => callPlaid(() => plaid.client.transactionsSync({ access_token: accessToken, count: plaid.syncPageSize, ...(from ? { cursor: from } : {}) }));
  // The next page is asked for while this one is stored (the request is read-only; a page not stored is simply
  // dropped). Its failure is acted on (withItemErrors) only when the loop gets to it, in page order, so an item
  // error is never overwritten by the healthy status of the page stored meanwhile.
  let prefetched: { cursor: string; page: Promise<TransactionsSyncResponse> } | undefined;
  for (;;) {
    if (report.pages >= pagesMax) {
      report.hasMore = true;
      break;
    }
    let page: TransactionsSyncResponse;
    try {
      const ahead = prefetched !== undefined && prefetched.cursor === cursor ? prefetched.page : undefined;
      prefetched = undefined;
      page = await withItemErrors(deps, itemId, () => ahead ?? fetchPage(cursor));
    } catch (error) {
      const code = (error as RuleViolation).details as { plaidErrorCode?: string } | undefined;
      if (code?.plaidErrorCode === 'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION' && report.restarts < SYNC_RESTARTS_MAX) {
        report.restarts += 1;
        cursor = updateStart;
        continue;
      }
      throw error;
    }
    if (page.has_more && report.pages + 1 < pagesMax) {
      const ahead = fetchPage(page.next_cursor);
      // Awaited (and its error handled) by the next round, or dropped with the run.
      ahead.catch(() => undefined);
      prefetched = { cursor: page.next_cursor, page: ahead };
    }
    let outcome: PageOutcome;
    try {
      const expected = stored;
      outcome = await auditedTransaction(deps.db, (trx) => applyPage(trx, actor, itemId, expected, page, categorise));
    } catch (error) {
      if (!(error instanceof StaleCursor) || report.restarts >= SYNC_RESTARTS_MAX) throw error;
      report.restarts += 1;
      stored = await readCursor();
      updateStart = stored;
      cursor = stored;
      continue;
    }
    report.pages += 1;
    report.added += outcome.added;
    report.modified += outcome.modified;
    report.removed += outcome.removed;
    report.booked += outcome.booked;
    report.pendingStored += outcome.pendingStored;
    report.duplicates += outcome.duplicates;
    const room = BANK_LINES_IN_REPLY_MAX - report.bankLines.length;
    report.bankLines.push(...outcome.lines.slice(0, Math.max(0, room)));
    if (outcome.lines.length > room) report.bankLinesTruncated = true;
    options.onPage?.(report);
    cursor = page.next_cursor;
    stored = page.next_cursor;
    if (!page.has_more) break;
  }
  return report;
}

// ------------------------------------------------------------------------------------------------ webhooks

export interface WebhookOutcome {
  action: 'synced' | 'status_changed' | 'ignored';
  itemId: string | null;
  sync?: Omit<SyncReport, 'bankLines'> | undefined;
}

/** Acts on a verified webhook. An item this ledger does not know is acknowledged and ignored. */
export async function handleWebhook(deps: Deps, body: { webhook_type?: unknown; webhook_code?: unknown; item_id?: unknown; error?: unknown }): Promise<WebhookOutcome> {
  const actor: Actor = { type: 'system', id: 'plaid-webhook', scopes: ['read', 'write'], entityScope: 'all', mfa: false };
  if (typeof body.item_id !== 'string') return { action: 'ignored', itemId: null };
  const item = await deps.db.selectFrom('plaidItems').select(['id', 'status']).where('plaidItemId', '=', body.item_id).executeTakeFirst();
  if (!item) return { action: 'ignored', itemId: null };
  const kind = `${String(body.webhook_type)}:${String(body.webhook_code)}`;
  switch (kind) {
    case 'TRANSACTIONS:SYNC_UPDATES_AVAILABLE':
    case 'TRANSACTIONS:DEFAULT_UPDATE': {
      const { bankLines: _lines, ...sync } = await syncItem(deps, actor, item.id);
      return { action: 'synced', itemId: item.id, sync };
    }
    case 'ITEM:ERROR': {
      const error = (body.error ?? {}) as { error_code?: unknown; error_type?: unknown; error_message?: unknown };
      const code = typeof error.error_code === 'string' ? error.error_code : 'UNKNOWN';
      await setItemStatus(deps.db, actor, item.id, ITEM_ERROR_STATUS[code] ?? 'error', {
        code,
        type: typeof error.error_type === 'string' ? error.error_type : 'ITEM_ERROR',
        message: typeof error.error_message === 'string' ? error.error_message.slice(0, 500) : 'the item reported an error',
      });
      return { action: 'status_changed', itemId: item.id };
    }
    case 'ITEM:PENDING_EXPIRATION':
      await setItemStatus(deps.db, actor, item.id, 'pending_expiration', { code: 'PENDING_EXPIRATION', type: 'ITEM_ERROR', message: 'the consent for this item expires soon: repair it with update mode' });
      return { action: 'status_changed', itemId: item.id };
    case 'ITEM:LOGIN_REPAIRED':
      await setItemStatus(deps.db, actor, item.id, 'healthy', null);
      return { action: 'status_changed', itemId: item.id };
    default:
      return { action: 'ignored', itemId: item.id };
  }
}
