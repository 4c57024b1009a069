import type { InvestmentTransaction, Security } from 'plaid';
import { addDays } from '../domain/dates';
import { callPlaid, requirePlaid } from '../plaid/client';
import { auditedTransaction, recordAudit } from './audit';
import type { Actor, Deps } from './context';
import { accessTokenOf, linksOf, storeHoldingFacts, storeLiabilityFacts, withItemErrors } from './plaid';
import { storeInvestmentTransactions, storeLiabilityBills, storePlaidHoldings, type LiabilityBillView } from './plaid-facts';

// Refreshing an item's liabilities and investments on demand (the Plaid Account node, the dashboard). Plaid is
// called first, outside any transaction (an item error is stored on the item by withItemErrors in its own
// transaction); what it said is then written in one transaction, so a refresh is all or nothing and repeating it
// changes nothing that Plaid did not change.

/** Plaid keeps 24 months of investment transactions. */
export const INVESTMENT_HISTORY_DAYS = 730;
/** Plaid's largest page for /investments/transactions/get. */
export const INVESTMENT_PAGE_SIZE = 500;
export const INVESTMENT_PAGES_MAX = 40;

export interface LiabilitiesRefresh {
  itemId: string;
  accounts: number;
  bills: LiabilityBillView[];
  skipped: { accountId: string; reason: string }[];
}

async function itemOf(deps: Deps, itemId: string) {
  return deps.db.selectFrom('plaidItems').select(['id', 'entityId', 'institutionName']).where('id', '=', itemId).executeTakeFirstOrThrow();
}

export async function refreshLiabilities(deps: Deps, actor: Actor, itemId: string): Promise<LiabilitiesRefresh> {
  const plaid = requirePlaid(deps.plaid);
  const item = await itemOf(deps, itemId);
  const links = await linksOf(deps.db, itemId);
  if (![...links.values()].some((link) => link.type === 'credit' || link.type === 'loan')) {
    return { itemId, accounts: 0, bills: [], skipped: [] };
  }
  const accessToken = await accessTokenOf(deps.db, deps, itemId);
  const { liabilities } = await withItemErrors(deps, itemId, () => callPlaid(() => plaid.client.liabilitiesGet({ access_token: accessToken })));
  return auditedTransaction(deps.db, async (trx) => {
    await storeLiabilityFacts(trx, links, liabilities);
    const stored = await storeLiabilityBills(trx, item.entityId, item.institutionName, links, liabilities, actor);
    const accounts = (liabilities.credit?.length ?? 0) + (liabilities.mortgage?.length ?? 0) + (liabilities.student?.length ?? 0);
    recordAudit(trx, actor, { action: 'plaid_item.liabilities_refreshed', entityId: item.entityId, objectType: 'plaid_item', objectId: itemId, after: { accounts, bills: stored.bills.length } });
    return { itemId, accounts, ...stored };
  });
}

export interface InvestmentsRefresh {
  itemId: string;
  holdings: number;
  securities: number;
  holdingsRemoved: number;
  transactionsAdded: number;
  transactionsSeen: number;
}

export async function refreshInvestments(deps: Deps, actor: Actor, itemId: string, today: string): Promise<InvestmentsRefresh> {
  const plaid = requirePlaid(deps.plaid);
  const item = await itemOf(deps, itemId);
  const links = await linksOf(deps.db, itemId);
  if (![...links.values()].some((link) => link.type === 'investment')) {
    return { itemId, holdings: 0, securities: 0, holdingsRemoved: 0, transactionsAdded: 0, transactionsSeen: 0 };
  }
  const accessToken = await accessTokenOf(deps.db, deps, itemId);
  const holdings = await withItemErrors(deps, itemId, () => callPlaid(() => plaid.client.investmentsHoldingsGet({ access_token: accessToken })));
  const transactions: InvestmentTransaction[] = [];
  const securities = new Map<string, Security>();
  for (let page = 0; page < INVESTMENT_PAGES_MAX; page += 1) {
    const response = await withItemErrors(deps, itemId, () =>
      callPlaid(() =>
        plaid.client.investmentsTransactionsGet({
          access_token: accessToken,
          start_date: addDays(today, -INVESTMENT_HISTORY_DAYS),
          end_date: today,
          options: { count: INVESTMENT_PAGE_SIZE, offset: transactions.length },
        }),
      ),
    );
    transactions.push(...response.investment_transactions);
    for (const security of response.securities) securities.set(security.security_id, security);
    if (response.investment_transactions.length === 0 || transactions.length >= response.total_investment_transactions) break;
  }
  return auditedTransaction(deps.db, async (trx) => {
    await storeHoldingFacts(trx, links, holdings);
    const stored = await storePlaidHoldings(trx, item.entityId, links, holdings, actor);
    const added = await storeInvestmentTransactions(trx, item.entityId, links, transactions, [...securities.values()]);
    recordAudit(trx, actor, {
      action: 'plaid_item.investments_refreshed',
      entityId: item.entityId,
      objectType: 'plaid_item',
      objectId: itemId,
      after: { holdings: stored.holdings, transactionsAdded: added },
    });
    return { itemId, holdings: stored.holdings, securities: stored.securities, holdingsRemoved: stored.removed, transactionsAdded: added, transactionsSeen: transactions.length };
  });
}
