import { assert, RuleViolation } from './errors';

// The zero-based budget, month by month, from facts the service reads out of the journal and the assignment log.
// Pure: no I/O, integer cents only.
//
// The rules (YNAB's, which Actual Budget's envelope mode shares):
// - available = carried over + assigned − activity; activity is spending (debits to the envelope's categories),
//   so a refund is negative activity.
// - An envelope that ends a month below zero starts the next one at zero. The part overspent in cash (or by a
//   payment envelope paying more than it held) is taken from the next month's Ready to Assign; the part
//   overspent on a credit card is not: it stays as card debt nobody funded.
// - Spending on a credit card moves the funded part of it from the category's envelope to the card's payment
//   envelope, so the money to pay the card is set aside as it is spent. Paying the card is that envelope's activity.
// - Ready to Assign for a month = money received up to the month's end − everything assigned (this month, before
//   it, and in later months) − cash overspending of earlier months.

export type Month = string; // 'YYYY-MM'

export const MONTH = /^(19|20|21)\d{2}-(0[1-9]|1[0-2])$/;

export type TargetKind = 'monthly' | 'by_date' | 'fill_to';

export interface Target {
  kind: TargetKind;
  amountCents: number;
  /** Only for `by_date`: the date the amount must be available by. */
  dueOn?: string | null | undefined;
}

export interface BudgetEnvelope {
  id: string;
  /** Set for a credit card's payment envelope. */
  paymentAccountId: string | null;
  target: Target | null;
}

/** Amounts per month per key; absent means zero. */
export type PerMonth<T> = ReadonlyMap<Month, T>;

export interface BudgetFacts {
  envelopes: readonly BudgetEnvelope[];
  /** Money that reached Ready to Assign (income, contributions, opening balances; negative for money that left
   *  the budget uncategorised: draws, transfers to off-budget accounts, uncategorised spending). */
  inflowCents: PerMonth<number>;
  /** Assigned per envelope (assign, move and allocation events summed). */
  assignedCents: PerMonth<ReadonlyMap<string, number>>;
  /** Category spending paid from cash (or anything that is not a single credit card), per envelope. */
  cashSpendingCents: PerMonth<ReadonlyMap<string, number>>;
  /** Category spending charged to a credit card, per envelope and card account. */
  cardSpendingCents: PerMonth<ReadonlyMap<string, ReadonlyMap<string, number>>>;
  /** Uncategorised card charges (already taken from Ready to Assign), per card account: they fund its payment. */
  cardFundedFromReadyCents: PerMonth<ReadonlyMap<string, number>>;
  /** Payments to a card from on-budget cash, per card account. */
  cardPaymentsCents: PerMonth<ReadonlyMap<string, number>>;
}

export interface EnvelopeMonth {
  envelopeId: string;
  carriedOverCents: number;
  assignedCents: number;
  activityCents: number;
  availableCents: number;
  underfundedCents: number;
  /** The part of a negative balance spent in cash (taken from next month's Ready to Assign). */
  cashOverspentCents: number;
  /** The part of a negative balance charged to a card (left as unfunded card debt). */
  creditOverspentCents: number;
}

export interface BudgetMonth {
  month: Month;
  readyToAssignCents: number;
  /** Assigned in months after this one (already subtracted from Ready to Assign). */
  assignedInFutureCents: number;
  /** Cash overspending of the previous month (already subtracted from Ready to Assign). */
  overspentLastMonthCents: number;
  envelopes: EnvelopeMonth[];
}

export function assertMonth(month: string): asserts month is Month {
  if (!MONTH.test(month)) throw new RuleViolation('invalid_request', `${month} is not a month (YYYY-MM)`);
}

export function nextMonth(month: Month): Month {
  const [year, number] = month.split('-').map(Number) as [number, number];
  return number === 12 ? `${year + 1}-01` : `${year}-${String(number + 1).padStart(2, '0')}`;
}

/** Whole months from `from` to `to` (0 when equal, negative when `to` is earlier). */
export function monthsBetween(from: Month, to: Month): number {
  const [fromYear, fromNumber] = from.split('-').map(Number) as [number, number];
  const [toYear, toNumber] = to.split('-').map(Number) as [number, number];
  return (toYear - fromYear) * 12 + (toNumber - fromNumber);
}

export function monthOf(date: string): Month {
  return date.slice(0, 7);
}

/** First and last day of a month, as accounting dates. */
export function monthBounds(month: Month): { firstOn: string; lastOn: string } {
  const [year, number] = month.split('-').map(Number) as [number, number];
  const lastDay = new Date(Date.UTC(year, number, 0)).getUTCDate();
  return { firstOn: `${month}-01`, lastOn: `${month}-${String(lastDay).padStart(2, '0')}` };
}

function sumValues(map: ReadonlyMap<string, number> | undefined): number {
  let total = 0;
  for (const value of map?.values() ?? []) total += value;
  return total;
}

/** Ceiling of a / b for integers with b > 0. */
function ceilDiv(a: number, b: number): number {
  return a <= 0 ? -Math.floor(-a / b) : Math.floor((a + b - 1) / b);
}

/**
 * How much more this month's assignment must be for the target to be on track (never negative):
 * - monthly: assign `amount` every month;
 * - fill_to: have `amount` available (carried over + assigned) this month;
 * - by_date: have `amount` by the due month, spread evenly over the months left (this one included).
 */
export function underfundedCents(target: Target | null, month: Month, carriedOverCents: number, assignedCents: number): number {
  if (target === null) return 0;
  switch (target.kind) {
    case 'monthly':
      return Math.max(0, target.amountCents - assignedCents);
    case 'fill_to':
      return Math.max(0, target.amountCents - carriedOverCents - assignedCents);
    case 'by_date': {
      assert(typeof target.dueOn === 'string', 'a by_date target has a due date');
      const monthsLeft = Math.max(1, monthsBetween(month, monthOf(target.dueOn)) + 1);
      const stillNeeded = target.amountCents - carriedOverCents;
      if (stillNeeded <= 0) return 0;
      return Math.max(0, ceilDiv(stillNeeded, monthsLeft) - assignedCents);
    }
  }
}

/** The earliest month any fact mentions, or undefined when there are none. */
function firstMonthOf(facts: BudgetFacts): Month | undefined {
  let first: Month | undefined;
  const maps: ReadonlyMap<Month, unknown>[] = [
    facts.inflowCents,
    facts.assignedCents,
    facts.cashSpendingCents,
    facts.cardSpendingCents,
    facts.cardFundedFromReadyCents,
    facts.cardPaymentsCents,
  ];
  for (const map of maps) for (const month of map.keys()) if (first === undefined || month < first) first = month;
  return first;
}

/** Computes one month of the budget, walking every month from the first fact so carry-overs are exact. */
export function computeBudgetMonth(facts: BudgetFacts, month: Month): BudgetMonth {
  assertMonth(month);
  const paymentEnvelopeOfCard = new Map<string, string>();
  for (const envelope of facts.envelopes) {
    if (envelope.paymentAccountId !== null) paymentEnvelopeOfCard.set(envelope.paymentAccountId, envelope.id);
  }
  const carried = new Map<string, number>(facts.envelopes.map((envelope) => [envelope.id, 0]));
  let readyCents = 0;
  let overspentLastMonthCents = 0;
  let result: EnvelopeMonth[] = [];

  const first = firstMonthOf(facts);
  let current: Month = first !== undefined && first < month ? first : month;
  for (;;) {
    readyCents -= overspentLastMonthCents;
    readyCents += facts.inflowCents.get(current) ?? 0;
    const assigned = facts.assignedCents.get(current);
    readyCents -= sumValues(assigned);

    // Category envelopes first: their card spending decides what reaches the payment envelopes.
    const fundedIntoCard = new Map<string, number>();
    for (const [card, cents] of facts.cardFundedFromReadyCents.get(current) ?? []) fundedIntoCard.set(card, cents);
    const months: EnvelopeMonth[] = [];
    for (const envelope of facts.envelopes) {
      if (envelope.paymentAccountId !== null) continue;
      const carriedOverCents = carried.get(envelope.id) ?? 0;
      const assignedCents = assigned?.get(envelope.id) ?? 0;
      const cashCents = facts.cashSpendingCents.get(current)?.get(envelope.id) ?? 0;
      const byCard = facts.cardSpendingCents.get(current)?.get(envelope.id);
      let cardCents = 0;
      let movedCents = 0;
      let fundsLeft = Math.max(0, carriedOverCents + assignedCents - cashCents);
      for (const [card, cents] of [...(byCard ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        cardCents += cents;
        // A card refund (negative) gives back to the category what it took from the payment envelope.
        const moved = cents < 0 ? cents : Math.min(cents, fundsLeft);
        fundsLeft -= Math.max(0, moved);
        movedCents += moved;
        fundedIntoCard.set(card, (fundedIntoCard.get(card) ?? 0) + moved);
      }
      const activityCents = cashCents + cardCents;
      const availableCents = carriedOverCents + assignedCents - activityCents;
      const overspent = Math.max(0, -availableCents);
      const creditOverspentCents = Math.min(overspent, Math.max(0, cardCents - movedCents));
      months.push({
        envelopeId: envelope.id,
        carriedOverCents,
        assignedCents,
        activityCents,
        availableCents,
        underfundedCents: underfundedCents(envelope.target, current, carriedOverCents, assignedCents),
        cashOverspentCents: overspent - creditOverspentCents,
        creditOverspentCents,
      });
    }
    for (const envelope of facts.envelopes) {
      if (envelope.paymentAccountId === null) continue;
      const card = envelope.paymentAccountId;
      const carriedOverCents = carried.get(envelope.id) ?? 0;
      const assignedCents = assigned?.get(envelope.id) ?? 0;
      const paidCents = facts.cardPaymentsCents.get(current)?.get(card) ?? 0;
      const activityCents = paidCents - (fundedIntoCard.get(card) ?? 0);
      const availableCents = carriedOverCents + assignedCents - activityCents;
      months.push({
        envelopeId: envelope.id,
        carriedOverCents,
        assignedCents,
        activityCents,
        availableCents,
        underfundedCents: underfundedCents(envelope.target, current, carriedOverCents, assignedCents),
        cashOverspentCents: Math.max(0, -availableCents),
        creditOverspentCents: 0,
      });
    }
    const order = new Map(facts.envelopes.map((envelope, index) => [envelope.id, index]));
    months.sort((a, b) => (order.get(a.envelopeId) ?? 0) - (order.get(b.envelopeId) ?? 0));

    if (current === month) {
      result = months;
      break;
    }
    overspentLastMonthCents = 0;
    for (const line of months) {
      carried.set(line.envelopeId, Math.max(0, line.availableCents));
      overspentLastMonthCents += line.cashOverspentCents;
    }
    current = nextMonth(current);
  }

  let assignedInFutureCents = 0;
  for (const [later, byEnvelope] of facts.assignedCents) if (later > month) assignedInFutureCents += sumValues(byEnvelope);
  return {
    month,
    readyToAssignCents: readyCents - assignedInFutureCents,
    assignedInFutureCents,
    overspentLastMonthCents,
    envelopes: result,
  };
}
