import type { Transaction } from 'kysely';
import type { InvestmentsHoldingsGetResponse, InvestmentTransaction, LiabilitiesObject, Security } from 'plaid';
import type { Database } from '../db/database';
import { CASH_KINDS } from '../domain/accounts';
import { basisPointsFromPercentage, centsFromPlaidBalance } from '../domain/plaid';
import { holdingValueCents, quantityFromPlaid } from '../domain/investments';
import { centsFromDb } from '../domain/money';
import { actorLabel, type Actor } from './context';
import { recordAudit } from './audit';
import { ensureSecurity } from './investments';

// What Plaid's liabilities and investments products say, stored where the rest of Veil reads it: holdings and
// investment transactions in the investments tables of the linked brokerage/retirement accounts, and a bill per
// card, mortgage and student loan (paid from the entity's checking account; paying it books loan / checking).
// Every store is an upsert keyed by Plaid's ids, so a refresh repeated gives the same rows.

type Trx = Transaction<Database>;
/** Plaid account id → the link row and the Veil account it became. */
type Links = Map<string, { id: string; accountId: string; type: string }>;

function centsOrNull(value: string | number | null): number | null {
  return value === null ? null : centsFromDb(value);
}

const SECURITY_TYPES = new Set(['equity', 'etf', 'mutual_fund', 'fixed_income', 'cash', 'cryptocurrency', 'derivative', 'loan', 'other']);

function securityType(plaidType: string | null | undefined): string {
  const normalised = (plaidType ?? 'other').replace(/\s+/g, '_');
  return SECURITY_TYPES.has(normalised) ? normalised : 'other';
}

async function securityIds(trx: Trx, entityId: string, securities: readonly Security[], currency: string): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const security of securities) {
    ids.set(
      security.security_id,
      await ensureSecurity(trx, entityId, {
        ticker: security.ticker_symbol ? security.ticker_symbol.slice(0, 20) : null,
        name: (security.name ?? security.ticker_symbol ?? security.security_id).slice(0, 200),
        securityType: securityType(security.type),
        currency: security.iso_currency_code ?? currency,
        plaidSecurityId: security.security_id,
      }),
    );
  }
  return ids;
}

export interface HoldingsStored {
  holdings: number;
  securities: number;
  removed: number;
}

/**
 * Plaid's holdings snapshot into the holdings of the linked accounts. A position Plaid no longer lists (sold) is
 * removed from the account's Plaid-sourced holdings; holdings entered by hand are left alone.
 */
export async function storePlaidHoldings(trx: Trx, entityId: string, links: Links, response: InvestmentsHoldingsGetResponse, actor: Actor): Promise<HoldingsStored> {
  const ids = await securityIds(trx, entityId, response.securities, 'USD');
  const kept = new Map<string, Set<string>>();
  let stored = 0;
  for (const holding of response.holdings) {
    const link = links.get(holding.account_id);
    const securityId = ids.get(holding.security_id);
    if (!link || securityId === undefined) continue;
    const quantity = quantityFromPlaid(holding.quantity);
    // Plaid sends prices as floats: read them through their 2-decimal text, never multiply floats.
    const priceCents = centsFromPlaidBalance(Number(holding.institution_price.toFixed(2))) ?? 0;
    const stated = centsFromPlaidBalance(Number(holding.institution_value.toFixed(2)));
    const values = {
      quantity,
      priceCents,
      valueCents: stated ?? holdingValueCents(quantity, priceCents),
      costBasisCents: holding.cost_basis === null ? null : centsFromPlaidBalance(Number(holding.cost_basis.toFixed(2))),
      asOf: holding.institution_price_as_of ?? new Date().toISOString().slice(0, 10),
      source: 'plaid' as const,
      actor: actorLabel(actor),
    };
    await trx
      .insertInto('holdings')
      .values({ entityId, accountId: link.accountId, securityId, ...values })
      .onConflict((oc) => oc.columns(['accountId', 'securityId']).doUpdateSet({ ...values, updatedAt: new Date() }))
      .execute();
    const set = kept.get(link.accountId) ?? new Set<string>();
    set.add(securityId);
    kept.set(link.accountId, set);
    stored += 1;
  }
  let removed = 0;
  for (const link of links.values()) {
    if (link.type !== 'investment') continue;
    const keep = [...(kept.get(link.accountId) ?? [])];
    let query = trx.deleteFrom('holdings').where('accountId', '=', link.accountId).where('source', '=', 'plaid');
    if (keep.length > 0) query = query.where('securityId', 'not in', keep);
    const result = await query.executeTakeFirst();
    removed += Number(result.numDeletedRows);
  }
  return { holdings: stored, securities: ids.size, removed };
}

/** Investment transactions, once each (by Plaid's investment_transaction_id). Returns how many were new. */
export async function storeInvestmentTransactions(
  trx: Trx,
  entityId: string,
  links: Links,
  transactions: readonly InvestmentTransaction[],
  securities: readonly Security[],
): Promise<number> {
  const ids = await securityIds(trx, entityId, securities, 'USD');
  const rows = transactions.flatMap((transaction) => {
    const link = links.get(transaction.account_id);
    if (!link) return [];
    return [
      {
        entityId,
        accountId: link.accountId,
        securityId: transaction.security_id ? (ids.get(transaction.security_id) ?? null) : null,
        externalId: transaction.investment_transaction_id,
        occurredOn: transaction.date,
        name: transaction.name.slice(0, 500) || transaction.type,
        type: transaction.type,
        subtype: transaction.subtype ?? null,
        // Sells come with a negative quantity: the sign is kept, the magnitude read exactly.
        quantity: `${transaction.quantity < 0 ? '-' : ''}${quantityFromPlaid(Math.abs(transaction.quantity))}`,
        priceCents: centsFromPlaidBalance(Number(transaction.price.toFixed(2))),
        amountCents: centsFromPlaidBalance(Number(transaction.amount.toFixed(2))) ?? 0,
        feesCents: transaction.fees === null || transaction.fees === undefined ? null : centsFromPlaidBalance(Number(transaction.fees.toFixed(2))),
        currency: transaction.iso_currency_code ?? 'USD',
        source: 'plaid' as const,
      },
    ];
  });
  if (rows.length === 0) return 0;
  const inserted = await trx
    .insertInto('investmentTransactions')
    .values(rows)
    .onConflict((oc) => oc.columns(['entityId', 'externalId']).doNothing())
    .returning('id')
    .execute();
  return inserted.length;
}

export interface LiabilityBillView {
  billId: string;
  accountId: string;
  kind: 'credit' | 'mortgage' | 'student';
  name: string;
  amountCents: number;
  statementBalanceCents: number | null;
  minimumPaymentCents: number | null;
  nextPaymentDueOn: string | null;
  interestRateBps: number | null;
  created: boolean;
}

export interface LiabilityBillsStored {
  bills: LiabilityBillView[];
  /** Liabilities that could not become a bill, with the reason (no checking account, nothing due…). */
  skipped: { accountId: string; reason: string }[];
}

/** A monthly RRULE on the due date's day; past the 28th it falls back to the month's last day when shorter. */
export function monthlyRuleFor(dueOn: string): string {
  const day = Number(dueOn.slice(8, 10));
  if (day <= 28) return `FREQ=MONTHLY;BYMONTHDAY=${day}`;
  const days = [];
  for (let candidate = 28; candidate <= day; candidate += 1) days.push(candidate);
  return `FREQ=MONTHLY;BYMONTHDAY=${days.join(',')};BYSETPOS=-1`;
}

interface LiabilityTerms {
  plaidAccountId: string;
  kind: 'credit' | 'mortgage' | 'student';
  /** What the bill asks for: the statement balance for a card (paying it avoids interest), the payment for a loan. */
  amountCents: number | null;
  statementBalanceCents: number | null;
  minimumPaymentCents: number | null;
  nextPaymentDueOn: string | null;
  interestRateBps: number | null;
}

function termsOf(liabilities: LiabilitiesObject): LiabilityTerms[] {
  const terms: LiabilityTerms[] = [];
  for (const card of liabilities.credit ?? []) {
    if (card.account_id === null) continue;
    const purchase = card.aprs.find((apr) => apr.apr_type === 'purchase_apr') ?? card.aprs[0];
    const statement = centsFromPlaidBalance(card.last_statement_balance);
    const minimum = centsFromPlaidBalance(card.minimum_payment_amount);
    terms.push({
      plaidAccountId: card.account_id,
      kind: 'credit',
      amountCents: statement !== null && statement > 0 ? statement : minimum,
      statementBalanceCents: statement,
      minimumPaymentCents: minimum,
      nextPaymentDueOn: card.next_payment_due_date,
      interestRateBps: basisPointsFromPercentage(purchase?.apr_percentage),
    });
  }
  for (const loan of liabilities.mortgage ?? []) {
    const payment = centsFromPlaidBalance(loan.next_monthly_payment);
    terms.push({
      plaidAccountId: loan.account_id,
      kind: 'mortgage',
      amountCents: payment,
      statementBalanceCents: null,
      minimumPaymentCents: payment,
      nextPaymentDueOn: loan.next_payment_due_date,
      interestRateBps: basisPointsFromPercentage(loan.interest_rate.percentage),
    });
  }
  for (const loan of liabilities.student ?? []) {
    if (loan.account_id === null) continue;
    const minimum = centsFromPlaidBalance(loan.minimum_payment_amount);
    terms.push({
      plaidAccountId: loan.account_id,
      kind: 'student',
      amountCents: minimum,
      statementBalanceCents: centsFromPlaidBalance(loan.last_statement_balance),
      minimumPaymentCents: minimum,
      nextPaymentDueOn: loan.next_payment_due_date,
      interestRateBps: basisPointsFromPercentage(loan.interest_rate_percentage),
    });
  }
  return terms;
}

/** The account a liability bill is paid from: a checking account of the same item, else the entity's first. */
async function payFromAccount(trx: Trx, entityId: string, links: Links): Promise<string | null> {
  const linked = new Set([...links.values()].map((link) => link.accountId));
  const candidates = await trx
    .selectFrom('accounts')
    .select(['id', 'kind'])
    .where('entityId', '=', entityId)
    .where('kind', 'in', [...CASH_KINDS])
    .where('archivedAt', 'is', null)
    .orderBy('createdAt')
    .orderBy('id')
    .execute();
  const checking = candidates.filter((account) => account.kind === 'checking');
  return (checking.find((account) => linked.has(account.id)) ?? checking[0] ?? candidates[0])?.id ?? null;
}

/**
 * One bill per card, mortgage and student loan: amount and due day from the lender's latest statement, paid from
 * checking; its category is the liability account itself, so paying it books liability / checking. A refresh
 * updates the same bill (amount, and the rule when the due day moved) and the stored terms.
 */
export async function storeLiabilityBills(
  trx: Trx,
  entityId: string,
  institutionName: string,
  links: Links,
  liabilities: LiabilitiesObject,
  actor: Actor,
): Promise<LiabilityBillsStored> {
  const stored: LiabilityBillsStored = { bills: [], skipped: [] };
  const payFrom = await payFromAccount(trx, entityId, links);
  for (const terms of termsOf(liabilities)) {
    const link = links.get(terms.plaidAccountId);
    if (!link) continue;
    if (terms.nextPaymentDueOn === null || terms.amountCents === null || terms.amountCents <= 0) {
      stored.skipped.push({ accountId: link.accountId, reason: 'nothing due: the lender states no payment or due date' });
      continue;
    }
    const facts = {
      kind: terms.kind,
      statementBalanceCents: terms.statementBalanceCents,
      minimumPaymentCents: terms.minimumPaymentCents,
      nextPaymentDueOn: terms.nextPaymentDueOn,
      interestRateBps: terms.interestRateBps,
    };
    const existing = await trx
      .selectFrom('liabilityBills as l')
      .innerJoin('bills as b', 'b.id', 'l.billId')
      .select(['l.billId', 'b.name', 'b.rrule', 'b.amountCents', 'l.statementBalanceCents', 'l.minimumPaymentCents', 'l.nextPaymentDueOn', 'l.interestRateBps'])
      .where('l.plaidAccountId', '=', link.id)
      .executeTakeFirst();
    const rrule = monthlyRuleFor(terms.nextPaymentDueOn);
    if (existing) {
      const changes = { amountCents: terms.amountCents, ...(existing.rrule === rrule ? {} : { rrule, startsOn: terms.nextPaymentDueOn }) };
      await trx.updateTable('bills').set(changes).where('id', '=', existing.billId).execute();
      await trx.updateTable('liabilityBills').set({ ...facts, refreshedAt: new Date() }).where('plaidAccountId', '=', link.id).execute();
      const unchanged =
        existing.rrule === rrule &&
        centsFromDb(existing.amountCents) === terms.amountCents &&
        centsOrNull(existing.statementBalanceCents) === facts.statementBalanceCents &&
        centsOrNull(existing.minimumPaymentCents) === facts.minimumPaymentCents &&
        existing.nextPaymentDueOn === facts.nextPaymentDueOn &&
        existing.interestRateBps === facts.interestRateBps;
      // A refresh that learnt nothing new leaves no trace in the audit trail.
      if (!unchanged) recordAudit(trx, actor, { action: 'bill.updated_from_plaid', entityId, objectType: 'bill', objectId: existing.billId, after: { ...changes, ...facts } });
      stored.bills.push({ billId: existing.billId, accountId: link.accountId, name: existing.name, amountCents: terms.amountCents, ...facts, created: false });
      continue;
    }
    if (payFrom === null) {
      stored.skipped.push({ accountId: link.accountId, reason: 'the entity has no checking or cash account to pay it from' });
      continue;
    }
    const account = await trx.selectFrom('accounts').select('name').where('id', '=', link.accountId).executeTakeFirstOrThrow();
    // Bill names are unique per entity: a bill of the user's with the same name keeps its name.
    const wanted = `${account.name.slice(0, 180)} payment`;
    const taken = await trx.selectFrom('bills').select('id').where('entityId', '=', entityId).where('name', '=', wanted).executeTakeFirst();
    const name = taken ? `${wanted} (${terms.plaidAccountId.slice(0, 8)})` : wanted;
    const bill = await trx
      .insertInto('bills')
      .values({
        entityId,
        name,
        payee: institutionName.slice(0, 200),
        rrule,
        startsOn: terms.nextPaymentDueOn,
        amountCents: terms.amountCents,
        // A card's statement balance and a loan's payment change from one statement to the next.
        estimated: terms.kind === 'credit',
        categoryAccountId: link.accountId,
        payFromAccountId: payFrom,
        autopay: false,
        actor: actorLabel(actor),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx.insertInto('liabilityBills').values({ plaidAccountId: link.id, entityId, billId: bill.id, ...facts }).execute();
    recordAudit(trx, actor, { action: 'bill.created_from_plaid', entityId, objectType: 'bill', objectId: bill.id, after: { name, rrule, amountCents: terms.amountCents, ...facts } });
    stored.bills.push({ billId: bill.id, accountId: link.accountId, name, amountCents: terms.amountCents, ...facts, created: true });
  }
  return stored;
}
