import fc from 'fast-check';
import { RuleViolation } from './errors';
import { checkEntry, reversalPostings, type AccountFacts } from './journal';
import { AMOUNT_CENTS_MAX } from './limits';

const ENTITY = 'entity-a';
const accounts = new Map<string, AccountFacts>(
  [
    { id: 'cash', entityId: ENTITY, currency: 'USD', accountClass: 'asset', archived: false },
    { id: 'income', entityId: ENTITY, currency: 'USD', accountClass: 'income', archived: false },
    { id: 'eur', entityId: ENTITY, currency: 'EUR', accountClass: 'asset', archived: false },
    { id: 'eur-income', entityId: ENTITY, currency: 'EUR', accountClass: 'income', archived: false },
    { id: 'old', entityId: ENTITY, currency: 'USD', accountClass: 'asset', archived: true },
    { id: 'other', entityId: 'entity-b', currency: 'USD', accountClass: 'asset', archived: false },
    { id: 'mirror', entityId: ENTITY, currency: 'USD', accountClass: 'liability', archived: false, interEntity: true },
  ].map((account) => [account.id, { interEntity: false, ...account } as AccountFacts]),
);

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof RuleViolation ? error.code : 'not-a-rule-violation';
  }
}

describe('checkEntry', () => {
  it('accepts a balanced entry and attaches currencies', () => {
    const checked = checkEntry(ENTITY, [
      { accountId: 'cash', amountCents: 500 },
      { accountId: 'income', amountCents: -500 },
    ], accounts);
    expect(checked.map((posting) => posting.currency)).toEqual(['USD', 'USD']);
  });

  it('lets only a crossing post to a mirror account', () => {
    const postings = [
      { accountId: 'cash', amountCents: 5 },
      { accountId: 'mirror', amountCents: -5 },
    ];
    expect(codeOf(() => checkEntry(ENTITY, postings, accounts, { crossing: true }))).toBeUndefined();
  });

  it('balances per currency, not in total', () => {
    const mixed = [
      { accountId: 'cash', amountCents: 500 },
      { accountId: 'eur-income', amountCents: -500 },
    ];
    expect(codeOf(() => checkEntry(ENTITY, mixed, accounts))).toBe('unbalanced_entry');
    const twoCurrencies = [
      { accountId: 'cash', amountCents: 500 },
      { accountId: 'income', amountCents: -500 },
      { accountId: 'eur', amountCents: 70 },
      { accountId: 'eur-income', amountCents: -70 },
    ];
    expect(codeOf(() => checkEntry(ENTITY, twoCurrencies, accounts))).toBeUndefined();
  });

  it.each([
    ['one posting', [{ accountId: 'cash', amountCents: 0 }], 'unbalanced_entry'],
    ['off by a cent', [{ accountId: 'cash', amountCents: 500 }, { accountId: 'income', amountCents: -499 }], 'unbalanced_entry'],
    ['zero amount', [{ accountId: 'cash', amountCents: 0 }, { accountId: 'income', amountCents: 0 }], 'amount_out_of_range'],
    ['fractional cents', [{ accountId: 'cash', amountCents: 0.5 }, { accountId: 'income', amountCents: -0.5 }], 'amount_out_of_range'],
    [
      'over the limit',
      [{ accountId: 'cash', amountCents: AMOUNT_CENTS_MAX + 1 }, { accountId: 'income', amountCents: -AMOUNT_CENTS_MAX - 1 }],
      'amount_out_of_range',
    ],
    ['another entity', [{ accountId: 'other', amountCents: 5 }, { accountId: 'income', amountCents: -5 }], 'entity_mismatch'],
    ['unknown account', [{ accountId: 'nope', amountCents: 5 }, { accountId: 'income', amountCents: -5 }], 'not_found'],
    ['archived account', [{ accountId: 'old', amountCents: 5 }, { accountId: 'income', amountCents: -5 }], 'account_archived'],
    ['a mirror account outside a crossing', [{ accountId: 'cash', amountCents: 5 }, { accountId: 'mirror', amountCents: -5 }], 'veil_account_reserved'],
  ])('refuses %s', (_label, postings, code) => {
    expect(codeOf(() => checkEntry(ENTITY, postings, accounts))).toBe(code);
  });

  it('accepts exactly the entries that sum to zero (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ accountId: fc.constantFrom('cash', 'income'), amountCents: fc.integer({ min: -1e9, max: 1e9 }).filter((n) => n !== 0) }), {
          minLength: 2,
          maxLength: 12,
        }),
        (postings) => {
          const sum = postings.reduce((total, posting) => total + posting.amountCents, 0);
          expect(codeOf(() => checkEntry(ENTITY, postings, accounts))).toBe(sum === 0 ? undefined : 'unbalanced_entry');
        },
      ),
    );
  });

  it('a reversal of a balanced entry is balanced and cancels it (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 1e9 }), { minLength: 1, maxLength: 10 }), (amounts) => {
        const postings = amounts.flatMap((amountCents) => [
          { accountId: 'cash', amountCents },
          { accountId: 'income', amountCents: -amountCents },
        ]);
        const checked = checkEntry(ENTITY, postings, accounts);
        const reversed = reversalPostings(checked);
        expect(codeOf(() => checkEntry(ENTITY, reversed, accounts))).toBeUndefined();
        checked.forEach((posting, index) => expect(posting.amountCents + (reversed[index]?.amountCents ?? NaN)).toBe(0));
      }),
    );
  });
});
