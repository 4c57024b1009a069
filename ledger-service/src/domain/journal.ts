import type { AccountClass } from './accounts';
import { assert, RuleViolation } from './errors';
import { AMOUNT_CENTS_MAX, POSTINGS_PER_ENTRY_MAX } from './limits';

// Pure rules of the journal. The database enforces the same invariants (see the first migration); the code
// checks them first so the caller gets a precise error instead of a constraint name.

export interface AccountFacts {
  id: string;
  entityId: string;
  currency: string;
  accountClass: AccountClass;
  archived: boolean;
  /** Records what another entity owes or owns (due to/from, loans, investment, contributed capital, draws). */
  interEntity: boolean;
}

export interface PostingDraft {
  accountId: string;
  amountCents: number;
  memo?: string | undefined;
}

export interface CheckedPosting extends PostingDraft {
  currency: string;
}

/**
 * Checks a proposed entry against the accounts it names. Returns the postings with their currency, or throws a
 * RuleViolation naming the first rule broken.
 */
export function checkEntry(
  entityId: string,
  postings: readonly PostingDraft[],
  accounts: ReadonlyMap<string, AccountFacts>,
  options: { crossing?: boolean } = {},
): CheckedPosting[] {
  if (postings.length < 2 || postings.length > POSTINGS_PER_ENTRY_MAX) {
    throw new RuleViolation(
      'unbalanced_entry',
      `an entry needs between 2 and ${POSTINGS_PER_ENTRY_MAX} postings, got ${postings.length}`,
    );
  }
  const sums = new Map<string, number>();
  const checked = postings.map((posting, index) => {
    if (!Number.isSafeInteger(posting.amountCents) || posting.amountCents === 0) {
      throw new RuleViolation('amount_out_of_range', `postings[${index}].amountCents must be a non-zero integer`);
    }
    if (Math.abs(posting.amountCents) > AMOUNT_CENTS_MAX) {
      throw new RuleViolation('amount_out_of_range', `postings[${index}].amountCents exceeds ${AMOUNT_CENTS_MAX}`);
    }
    const account = accounts.get(posting.accountId);
    if (account === undefined) {
      throw new RuleViolation('not_found', `postings[${index}]: account ${posting.accountId} was not found`, {
        kind: 'account',
        id: posting.accountId,
      });
    }
    if (account.entityId !== entityId) {
      throw new RuleViolation(
        'entity_mismatch',
        `postings[${index}]: account ${account.id} belongs to another entity; money crossing between entities ` +
          'is an inter-entity transfer, never a plain entry',
        { accountId: account.id },
      );
    }
    if (account.interEntity && !options.crossing) {
      // A one-sided posting here would break the pairing between the two books: only a transfer books both.
      throw new RuleViolation(
        'veil_account_reserved',
        `postings[${index}]: account ${account.id} mirrors another entity's books; only an inter-entity transfer ` +
          '(POST /transfers) may post to it',
        { accountId: account.id },
      );
    }
    if (account.archived) {
      throw new RuleViolation('account_archived', `postings[${index}]: account ${account.id} is archived`);
    }
    sums.set(account.currency, (sums.get(account.currency) ?? 0) + posting.amountCents);
    return { ...posting, currency: account.currency };
  });
  const unbalanced = [...sums].filter(([, sum]) => sum !== 0);
  if (unbalanced.length > 0) {
    const detail = unbalanced.map(([currency, sum]) => `${currency} ${sum > 0 ? '+' : ''}${sum}`).join(', ');
    throw new RuleViolation('unbalanced_entry', `postings must sum to zero per currency; off by ${detail} cents`, {
      imbalanceCents: Object.fromEntries(unbalanced),
    });
  }
  return checked;
}

/** The postings of a reversal: the same accounts, amounts negated. */
export function reversalPostings(original: readonly CheckedPosting[]): CheckedPosting[] {
  const reversed = original.map((posting) => ({ ...posting, amountCents: -posting.amountCents }));
  assert(
    reversed.reduce((sum, posting) => sum + posting.amountCents, 0) ===
      -original.reduce((sum, posting) => sum + posting.amountCents, 0),
    'a reversal negates every posting',
  );
  return reversed;
}
