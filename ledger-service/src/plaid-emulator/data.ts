import { AccountSubtype, AccountType } from 'plaid';
import { seededRandom } from '../domain/random';

// Deterministic sandbox data: the same seed, user and date give the same accounts and transactions on every
// machine. Amounts are integer cents here; the HTTP layer turns them into Plaid's decimal dollars at the edge.
// Plaid's sign convention: a positive amount is money leaving the account (a purchase), negative is money in.

export type SandboxUser = 'user_good' | 'user_llc' | 'user_transactions_dynamic' | 'user_bulk';

export interface SandboxAccount {
  accountId: string;
  name: string;
  officialName: string;
  mask: string;
  type: AccountType;
  subtype: AccountSubtype;
  /** Current balance in cents: what is owed for credit and loans, what is held otherwise. */
  currentCents: number;
  limitCents: number | null;
}

export interface SandboxTransaction {
  transactionId: string;
  accountId: string;
  amountCents: number;
  date: string;
  authorizedDate: string | null;
  name: string;
  merchantName: string | null;
  category: { primary: string; detailed: string };
  channel: 'online' | 'in store' | 'other';
  pending: boolean;
  pendingTransactionId: string | null;
}

export interface SandboxLiability {
  credit: { accountId: string; aprPercentage: number; statementCents: number; minimumCents: number; dueOn: string; statementOn: string; lastPaymentCents: number; lastPaymentOn: string }[];
  mortgage: { accountId: string; ratePercentage: number; originationCents: number; originatedOn: string; maturesOn: string; monthlyCents: number; dueOn: string; termLabel: string }[];
  student: { accountId: string; ratePercentage: number; originationCents: number; originatedOn: string; payoffOn: string; minimumCents: number; dueOn: string; name: string }[];
}

export interface SandboxSecurity {
  securityId: string;
  name: string;
  ticker: string;
  type: string;
  closePriceCents: number;
}

export interface SandboxHolding {
  accountId: string;
  securityId: string;
  /** Shares in thousandths: quantities are not money, but they are kept exact too. */
  quantityMilli: number;
  costBasisCents: number;
}

export interface SandboxDataset {
  accounts: SandboxAccount[];
  transactions: SandboxTransaction[];
  liabilities: SandboxLiability;
  securities: SandboxSecurity[];
  holdings: SandboxHolding[];
}

/** A stable Plaid-looking id (37 base-62-ish characters) from a seeded generator. */
export function plaidId(random: () => number, length = 37): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  for (let index = 0; index < length; index += 1) id += alphabet[Math.floor(random() * alphabet.length)];
  return id;
}

export function addDays(isoDate: string, days: number): string {
  const date = new Date(`${isoDate}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

interface Recurring {
  account: string;
  name: string;
  merchant: string | null;
  category: [string, string];
  amountCents: number;
  /** Days of the month it happens, or every n days from the start. */
  days?: number[];
  everyDays?: number;
  jitterCents?: number;
  channel?: SandboxTransaction['channel'];
}

interface Spending {
  account: string;
  perMonth: number;
  merchants: { name: string; category: [string, string]; minCents: number; maxCents: number; channel: SandboxTransaction['channel'] }[];
}

interface Profile {
  accounts: Omit<SandboxAccount, 'accountId'>[];
  recurring: Recurring[];
  spending: Spending[];
}

const PERSONAL: Profile = {
  accounts: [
    { name: 'Plaid Checking', officialName: 'Plaid Gold Standard 0% Interest Checking', mask: '0000', type: AccountType.Depository, subtype: AccountSubtype.Checking, currentCents: 1_245_000, limitCents: null },
    { name: 'Plaid Saving', officialName: 'Plaid Silver Standard 0.1% Interest Saving', mask: '1111', type: AccountType.Depository, subtype: AccountSubtype.Savings, currentCents: 2_010_000, limitCents: null },
    { name: 'Plaid Credit Card', officialName: 'Plaid Diamond 12.5% APR Interest Credit Card', mask: '3333', type: AccountType.Credit, subtype: AccountSubtype.CreditCard, currentCents: 41_000, limitCents: 2_000_000 },
    { name: 'Plaid Mortgage', officialName: 'Plaid 30-year fixed mortgage', mask: '8888', type: AccountType.Loan, subtype: AccountSubtype.Mortgage, currentCents: 28_450_000, limitCents: null },
    { name: 'Plaid Student Loan', officialName: 'Plaid Federal Direct Loan', mask: '7777', type: AccountType.Loan, subtype: AccountSubtype.Student, currentCents: 2_180_000, limitCents: null },
    { name: 'Plaid IRA', officialName: 'Plaid Traditional IRA', mask: '5555', type: AccountType.Investment, subtype: AccountSubtype.Ira, currentCents: 0, limitCents: null },
    { name: 'Plaid 401k', officialName: 'Plaid 401k', mask: '6666', type: AccountType.Investment, subtype: AccountSubtype._401k, currentCents: 0, limitCents: null },
    { name: 'Plaid Brokerage', officialName: 'Plaid Individual Brokerage', mask: '4444', type: AccountType.Investment, subtype: AccountSubtype.Brokerage, currentCents: 0, limitCents: null },
  ],
  recurring: [
    { account: 'Plaid Checking', name: 'ACME CORP PAYROLL', merchant: 'Acme Corp', category: ['INCOME', 'INCOME_WAGES'], amountCents: -325_000, everyDays: 14, channel: 'other' },
    { account: 'Plaid Checking', name: 'VEIL STUDIO LLC DRAW', merchant: null, category: ['TRANSFER_IN', 'TRANSFER_IN_ACCOUNT_TRANSFER'], amountCents: -150_000, days: [28], channel: 'other' },
    { account: 'Plaid Checking', name: 'PLAID MORTGAGE PMT', merchant: 'Plaid Mortgage', category: ['LOAN_PAYMENTS', 'LOAN_PAYMENTS_MORTGAGE_PAYMENT'], amountCents: 185_000, days: [1], channel: 'other' },
    { account: 'Plaid Checking', name: 'NELNET STUDENT LN', merchant: 'Nelnet', category: ['LOAN_PAYMENTS', 'LOAN_PAYMENTS_STUDENT_LOAN_PAYMENT'], amountCents: 31_200, days: [12], channel: 'other' },
    { account: 'Plaid Checking', name: 'CON EDISON', merchant: 'Con Edison', category: ['RENT_AND_UTILITIES', 'RENT_AND_UTILITIES_GAS_AND_ELECTRICITY'], amountCents: 9_800, days: [18], jitterCents: 3_000, channel: 'online' },
    { account: 'Plaid Checking', name: 'VERIZON WIRELESS', merchant: 'Verizon', category: ['RENT_AND_UTILITIES', 'RENT_AND_UTILITIES_TELEPHONE'], amountCents: 8_500, days: [22], channel: 'online' },
    { account: 'Plaid Checking', name: 'FIDELITY IRA CONTRIB', merchant: 'Fidelity', category: ['TRANSFER_OUT', 'TRANSFER_OUT_INVESTMENT_AND_RETIREMENT_FUNDS'], amountCents: 50_000, days: [15], channel: 'other' },
    { account: 'Plaid Checking', name: 'PLAID CREDIT CARD PAYMENT', merchant: null, category: ['LOAN_PAYMENTS', 'LOAN_PAYMENTS_CREDIT_CARD_PAYMENT'], amountCents: 90_000, days: [25], channel: 'other' },
    { account: 'Plaid Credit Card', name: 'PAYMENT THANK YOU', merchant: null, category: ['LOAN_PAYMENTS', 'LOAN_PAYMENTS_CREDIT_CARD_PAYMENT'], amountCents: -90_000, days: [25], channel: 'other' },
    { account: 'Plaid Credit Card', name: 'NETFLIX.COM', merchant: 'Netflix', category: ['ENTERTAINMENT', 'ENTERTAINMENT_TV_AND_MOVIES'], amountCents: 1_549, days: [9], channel: 'online' },
    { account: 'Plaid Credit Card', name: 'SPOTIFY USA', merchant: 'Spotify', category: ['ENTERTAINMENT', 'ENTERTAINMENT_MUSIC_AND_AUDIO'], amountCents: 1_199, days: [3], channel: 'online' },
    { account: 'Plaid Saving', name: 'INTEREST PAYMENT', merchant: null, category: ['INCOME', 'INCOME_INTEREST_EARNED'], amountCents: -167, days: [28], channel: 'other' },
  ],
  spending: [
    {
      account: 'Plaid Credit Card',
      perMonth: 18,
      merchants: [
        { name: 'WHOLE FOODS MARKET', category: ['FOOD_AND_DRINK', 'FOOD_AND_DRINK_GROCERIES'], minCents: 2_500, maxCents: 18_000, channel: 'in store' },
        { name: 'TRADER JOE S', category: ['FOOD_AND_DRINK', 'FOOD_AND_DRINK_GROCERIES'], minCents: 1_800, maxCents: 9_000, channel: 'in store' },
        { name: 'STARBUCKS', category: ['FOOD_AND_DRINK', 'FOOD_AND_DRINK_COFFEE'], minCents: 450, maxCents: 1_400, channel: 'in store' },
        { name: 'CHIPOTLE', category: ['FOOD_AND_DRINK', 'FOOD_AND_DRINK_FAST_FOOD'], minCents: 1_100, maxCents: 3_200, channel: 'in store' },
        { name: 'SHELL OIL', category: ['TRANSPORTATION', 'TRANSPORTATION_GAS'], minCents: 3_000, maxCents: 7_500, channel: 'in store' },
        { name: 'AMAZON.COM', category: ['GENERAL_MERCHANDISE', 'GENERAL_MERCHANDISE_ONLINE_MARKETPLACES'], minCents: 900, maxCents: 14_000, channel: 'online' },
        { name: 'UBER TRIP', category: ['TRANSPORTATION', 'TRANSPORTATION_TAXIS_AND_RIDE_SHARES'], minCents: 1_200, maxCents: 4_800, channel: 'online' },
      ],
    },
  ],
};

const LLC: Profile = {
  accounts: [
    { name: 'Business Checking', officialName: 'Tartan Business Checking', mask: '9001', type: AccountType.Depository, subtype: AccountSubtype.Checking, currentCents: 3_870_000, limitCents: null },
    { name: 'Business Card', officialName: 'Tartan Business Platinum Card', mask: '9002', type: AccountType.Credit, subtype: AccountSubtype.CreditCard, currentCents: 128_000, limitCents: 1_500_000 },
  ],
  recurring: [
    { account: 'Business Checking', name: 'NORTHWIND TRADERS ACH', merchant: 'Northwind Traders', category: ['INCOME', 'INCOME_OTHER_INCOME'], amountCents: -840_000, days: [5], jitterCents: 120_000, channel: 'other' },
    { account: 'Business Checking', name: 'CONTOSO LTD INVOICE', merchant: 'Contoso', category: ['INCOME', 'INCOME_OTHER_INCOME'], amountCents: -410_000, days: [20], jitterCents: 60_000, channel: 'other' },
    { account: 'Business Checking', name: 'OWNER DRAW', merchant: null, category: ['TRANSFER_OUT', 'TRANSFER_OUT_ACCOUNT_TRANSFER'], amountCents: 150_000, days: [28], channel: 'other' },
    { account: 'Business Checking', name: 'WEWORK MEMBERSHIP', merchant: 'WeWork', category: ['RENT_AND_UTILITIES', 'RENT_AND_UTILITIES_RENT'], amountCents: 45_000, days: [1], channel: 'online' },
    { account: 'Business Checking', name: 'BUSINESS CARD AUTOPAY', merchant: null, category: ['LOAN_PAYMENTS', 'LOAN_PAYMENTS_CREDIT_CARD_PAYMENT'], amountCents: 120_000, days: [24], channel: 'other' },
    { account: 'Business Card', name: 'AUTOPAY PAYMENT', merchant: null, category: ['LOAN_PAYMENTS', 'LOAN_PAYMENTS_CREDIT_CARD_PAYMENT'], amountCents: -120_000, days: [24], channel: 'other' },
    { account: 'Business Card', name: 'FIGMA', merchant: 'Figma', category: ['GENERAL_SERVICES', 'GENERAL_SERVICES_OTHER_GENERAL_SERVICES'], amountCents: 1_500, days: [2], channel: 'online' },
    { account: 'Business Card', name: 'GITHUB', merchant: 'GitHub', category: ['GENERAL_SERVICES', 'GENERAL_SERVICES_OTHER_GENERAL_SERVICES'], amountCents: 2_100, days: [6], channel: 'online' },
    { account: 'Business Card', name: 'AWS EMEA', merchant: 'Amazon Web Services', category: ['GENERAL_SERVICES', 'GENERAL_SERVICES_OTHER_GENERAL_SERVICES'], amountCents: 8_700, days: [3], jitterCents: 4_000, channel: 'online' },
    { account: 'Business Card', name: 'GOOGLE WORKSPACE', merchant: 'Google', category: ['GENERAL_SERVICES', 'GENERAL_SERVICES_OTHER_GENERAL_SERVICES'], amountCents: 1_400, days: [1], channel: 'online' },
  ],
  spending: [
    {
      account: 'Business Card',
      perMonth: 6,
      merchants: [
        { name: 'STAPLES', category: ['GENERAL_MERCHANDISE', 'GENERAL_MERCHANDISE_OFFICE_SUPPLIES'], minCents: 1_500, maxCents: 12_000, channel: 'in store' },
        { name: 'DELTA AIR LINES', category: ['TRAVEL', 'TRAVEL_FLIGHTS'], minCents: 18_000, maxCents: 65_000, channel: 'online' },
        { name: 'CLIENT LUNCH BISTRO', category: ['FOOD_AND_DRINK', 'FOOD_AND_DRINK_RESTAURANT'], minCents: 4_000, maxCents: 16_000, channel: 'in store' },
      ],
    },
  ],
};

const DYNAMIC: Profile = {
  accounts: [
    { name: 'Plaid Checking', officialName: 'Plaid Gold Standard 0% Interest Checking', mask: '0000', type: AccountType.Depository, subtype: AccountSubtype.Checking, currentCents: 500_000, limitCents: null },
    { name: 'Plaid Credit Card', officialName: 'Plaid Diamond 12.5% APR Interest Credit Card', mask: '3333', type: AccountType.Credit, subtype: AccountSubtype.CreditCard, currentCents: 12_000, limitCents: 1_000_000 },
  ],
  recurring: [
    { account: 'Plaid Checking', name: 'ACME CORP PAYROLL', merchant: 'Acme Corp', category: ['INCOME', 'INCOME_WAGES'], amountCents: -325_000, everyDays: 14, channel: 'other' },
    { account: 'Plaid Credit Card', name: 'NETFLIX.COM', merchant: 'Netflix', category: ['ENTERTAINMENT', 'ENTERTAINMENT_TV_AND_MOVIES'], amountCents: 1_549, days: [9], channel: 'online' },
  ],
  spending: [{ account: 'Plaid Credit Card', perMonth: 8, merchants: (PERSONAL.spending[0] as Spending).merchants }],
};

/** The merchants a dynamic user's new purchases are drawn from. */
export const DYNAMIC_MERCHANTS = (PERSONAL.spending[0] as Spending).merchants;

const PROFILES: Record<SandboxUser, Profile> = { user_good: PERSONAL, user_llc: LLC, user_transactions_dynamic: DYNAMIC, user_bulk: DYNAMIC };

function lastDayOfMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/**
 * The accounts and history of one sandbox user as of `today`. `historyDays` of posted transactions, oldest first;
 * `user_bulk` instead gets `bulkCount` card purchases spread over the same window (for the benchmark).
 */
export function generateDataset(user: SandboxUser, options: { seed: number; today: string; historyDays: number; bulkCount?: number }): SandboxDataset {
  const random = seededRandom(options.seed);
  const profile = PROFILES[user];
  const accounts: SandboxAccount[] = profile.accounts.map((account) => ({ ...account, accountId: plaidId(random) }));
  const idOf = new Map(accounts.map((account) => [account.name, account.accountId]));
  const start = addDays(options.today, -options.historyDays);
  const transactions: SandboxTransaction[] = [];
  const push = (account: string, date: string, amountCents: number, name: string, merchant: string | null, category: [string, string], channel: SandboxTransaction['channel']) => {
    transactions.push({
      transactionId: plaidId(random),
      accountId: idOf.get(account) as string,
      amountCents,
      date,
      authorizedDate: channel === 'in store' ? addDays(date, -1) : date,
      name,
      merchantName: merchant,
      category: { primary: category[0], detailed: category[1] },
      channel,
      pending: false,
      pendingTransactionId: null,
    });
  };
  if (user === 'user_bulk') {
    const count = options.bulkCount ?? 1_000;
    const merchants = DYNAMIC_MERCHANTS;
    for (let index = 0; index < count; index += 1) {
      const merchant = merchants[Math.floor(random() * merchants.length)] as (typeof merchants)[number];
      const date = addDays(start, Math.floor((index / count) * options.historyDays));
      const amount = merchant.minCents + Math.floor(random() * (merchant.maxCents - merchant.minCents));
      push(index % 10 === 0 ? 'Plaid Checking' : 'Plaid Credit Card', date, amount, merchant.name, merchant.name, merchant.category, merchant.channel);
    }
    return { accounts, transactions, liabilities: { credit: [], mortgage: [], student: [] }, securities: [], holdings: [] };
  }
  for (let offset = 0; offset < options.historyDays; offset += 1) {
    const date = addDays(start, offset);
    const day = Number(date.slice(8, 10));
    const year = Number(date.slice(0, 4));
    const month = Number(date.slice(5, 7)) - 1;
    for (const rule of profile.recurring) {
      const due = rule.days
        ? rule.days.some((wanted) => wanted === day || (wanted > lastDayOfMonth(year, month) && day === lastDayOfMonth(year, month)))
        : offset % (rule.everyDays ?? 30) === 0;
      if (!due) continue;
      const jitter = rule.jitterCents ? Math.floor(random() * rule.jitterCents) * Math.sign(rule.amountCents) : 0;
      push(rule.account, date, rule.amountCents + jitter, rule.name, rule.merchant, rule.category, rule.channel ?? 'other');
    }
    for (const spending of profile.spending) {
      if (random() >= spending.perMonth / 30) continue;
      const merchant = spending.merchants[Math.floor(random() * spending.merchants.length)] as Spending['merchants'][number];
      const amount = merchant.minCents + Math.floor(random() * (merchant.maxCents - merchant.minCents));
      push(spending.account, date, amount, merchant.name, merchant.name, merchant.category, merchant.channel);
    }
  }
  const liabilities: SandboxLiability = { credit: [], mortgage: [], student: [] };
  for (const account of accounts) {
    const nextDue = addDays(options.today, 12);
    if (account.subtype === AccountSubtype.CreditCard) {
      liabilities.credit.push({
        accountId: account.accountId,
        aprPercentage: user === 'user_llc' ? 21.24 : 15.24,
        statementCents: account.currentCents,
        minimumCents: Math.max(2_500, Math.floor(account.currentCents / 50)),
        dueOn: nextDue,
        statementOn: addDays(options.today, -13),
        lastPaymentCents: user === 'user_llc' ? 120_000 : 90_000,
        lastPaymentOn: addDays(options.today, -20),
      });
    } else if (account.subtype === AccountSubtype.Mortgage) {
      liabilities.mortgage.push({
        accountId: account.accountId,
        ratePercentage: 3.99,
        originationCents: 32_500_000,
        originatedOn: '2019-07-24',
        maturesOn: '2049-07-24',
        monthlyCents: 185_000,
        dueOn: nextDue,
        termLabel: '30 year',
      });
    } else if (account.subtype === AccountSubtype.Student) {
      liabilities.student.push({
        accountId: account.accountId,
        ratePercentage: 5.25,
        originationCents: 3_500_000,
        originatedOn: '2016-08-15',
        payoffOn: '2032-06-15',
        minimumCents: 31_200,
        dueOn: nextDue,
        name: 'Consolidation',
      });
    }
  }
  const securities: SandboxSecurity[] = [
    { securityId: plaidId(random), name: 'Vanguard Total Stock Market Index Fund ETF', ticker: 'VTI', type: 'etf', closePriceCents: 28_412 },
    { securityId: plaidId(random), name: 'Vanguard Total Bond Market Index Fund ETF', ticker: 'BND', type: 'etf', closePriceCents: 7_318 },
    { securityId: plaidId(random), name: 'Apple Inc.', ticker: 'AAPL', type: 'equity', closePriceCents: 22_855 },
    { securityId: plaidId(random), name: 'Fidelity 500 Index Fund', ticker: 'FXAIX', type: 'mutual fund', closePriceCents: 20_497 },
  ];
  const holdings: SandboxHolding[] = [];
  const investment = accounts.filter((account) => account.type === AccountType.Investment);
  for (const [index, account] of investment.entries()) {
    for (const security of securities.slice(index, index + 2)) {
      const quantityMilli = 5_000 + Math.floor(random() * 120_000);
      holdings.push({ accountId: account.accountId, securityId: security.securityId, quantityMilli, costBasisCents: Math.floor((security.closePriceCents * quantityMilli * 0.8) / 1000) });
    }
    account.currentCents = holdings
      .filter((holding) => holding.accountId === account.accountId)
      .reduce((sum, holding) => sum + holdingValueCents(holding, securities), 0);
  }
  return { accounts, transactions, liabilities, securities: user === 'user_good' ? securities : [], holdings };
}

export function holdingValueCents(holding: SandboxHolding, securities: readonly SandboxSecurity[]): number {
  const security = securities.find((candidate) => candidate.securityId === holding.securityId);
  return security ? Math.round((security.closePriceCents * holding.quantityMilli) / 1000) : 0;
}
