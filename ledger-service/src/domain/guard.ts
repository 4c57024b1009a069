import type { AccountClass, AccountKind } from './accounts';
import { lookupAfr, type AfrRow } from './afr';
import { formatCents, formatBasisPoints } from './money';
import type { Classification, WarningBasis } from './veil';

// Entity Guard: one pure evaluation of a proposed movement (or an imported bank line) against the veil. The API,
// the n8n node and the veil-health view all call this function; none has rules of its own.

export type GuardDecision = 'allow' | 'document' | 'block';

export type GuardReasonCode =
  | 'same_entity'
  | 'crossing_unclassified'
  | 'crossing_needs_document'
  | 'commingling_personal_expense'
  | 'reimbursement_owed'
  | 'loan_without_terms'
  | 'loan_below_afr'
  | 'draw_beyond_policy';

export interface GuardReason {
  code: GuardReasonCode;
  decision: GuardDecision;
  message: string;
  basis?: WarningBasis | undefined;
}

export interface GuardAccount {
  id: string;
  entityId: string;
  entityKind: 'llc' | 'personal';
  entityName: string;
  /** The entity's tax profile: decides whether a warning is veil advice or a tax rule. */
  taxProfile: string;
  name: string;
  kind: AccountKind;
  class: AccountClass;
}

export interface GuardPolicy {
  drawPolicy: 'warn' | 'block';
  comminglingPolicy: 'block' | 'document_as_draw';
  personalPaysBusinessPolicy: 'block' | 'document_as_reimbursement';
  personalMarkers: readonly string[];
  businessMarkers: readonly string[];
}

export interface GuardInput {
  source: GuardAccount;
  /** Absent when the money leaves to (or arrives from) the outside world: a merchant, a client. */
  target?: GuardAccount | undefined;
  amountCents: number;
  payee?: string | undefined;
  category?: string | undefined;
  memo?: string | undefined;
  classification?: Classification | undefined;
  loan?: { annualRateBasisPoints: number; termMonths: number } | undefined;
  postedOn: string;
  /** The policy of the entity the money leaves. */
  policy: GuardPolicy;
  llcTaxBasis: WarningBasis;
  afrRows: readonly AfrRow[];
  /** Draws only: what the LLC account holds and the LLC's equity now. */
  drawFacts?: { cashBalanceCents: number; equityCents: number } | undefined;
}

export interface GuardVerdict {
  decision: GuardDecision;
  reasons: GuardReason[];
  explanation: string;
  /** How to document the movement when the decision is `document`. */
  suggestedClassification: Classification | null;
}

/**
 * Categories and merchants that are personal on their face. Deliberately short and unambiguous: meals, travel
 * or phones can be business, so they are left to the owner-marked lists.
 */
export const PERSONAL_MARKERS: readonly string[] = [
  'groceries',
  'grocery',
  'supermarket',
  'personal care',
  'clothing',
  'childcare',
  'daycare',
  'pet supplies',
  'veterinar',
  'gym membership',
  'vacation',
  'netflix',
  'spotify',
  'disney+',
  'hulu',
  'whole foods',
  "trader joe",
  'safeway',
  'kroger',
  'sephora',
  'petsmart',
  'chewy',
  'peloton',
];

function normalize(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The first marker that the movement's payee, category, memo or target account name contains. */
export function matchMarker(markers: readonly string[], texts: readonly (string | undefined)[]): string | undefined {
  const haystack = texts.filter((text): text is string => text !== undefined && text.length > 0).map(normalize);
  for (const marker of markers) {
    const needle = normalize(marker);
    if (needle.length > 0 && haystack.some((text) => text.includes(needle))) return marker;
  }
  return undefined;
}

const RANK: Record<GuardDecision, number> = { allow: 0, document: 1, block: 2 };


export function evaluateGuard(input: GuardInput): GuardVerdict {
  const reasons: GuardReason[] = [];
  let suggested: Classification | null = null;
  const { source, target } = input;
  const texts = [input.payee, input.category, input.memo, target?.entityId === source.entityId ? target.name : undefined];
  const crossing = target !== undefined && target.entityId !== source.entityId;

  if (target !== undefined && target.id === source.id) {
    reasons.push({ code: 'same_entity', decision: 'block', message: 'the source and the target are the same account' });
  }

  if (crossing) {
    if (input.classification === undefined) {
      if (source.entityKind === 'personal' && target.class === 'expense' && target.entityKind === 'llc') {
        suggested = 'reimbursement';
        reasons.push({
          code: 'reimbursement_owed',
          decision: input.policy.personalPaysBusinessPolicy === 'block' ? 'block' : 'document',
          message: `${source.entityName} pays an expense of ${target.entityName}: book it as a reimbursement owed to the member`,
        });
      } else {
        reasons.push({
          code: 'crossing_unclassified',
          decision: 'block',
          message: `money moving from ${source.entityName} to ${target.entityName} needs a classification (contribution, draw, loan, repayment or reimbursement)`,
        });
      }
    } else {
      suggested = input.classification;
      reasons.push({
        code: 'crossing_needs_document',
        decision: 'document',
        message: `a ${input.classification.replace('_', ' ')} between ${source.entityName} and ${target.entityName} is allowed once its document is generated (POST /transfers does both)`,
      });
    }
    if (input.classification === 'loan') {
      if (input.loan === undefined) {
        reasons.push({ code: 'loan_without_terms', decision: 'block', message: 'a loan needs written terms: rate, term and payment schedule' });
      } else {
        const afr = lookupAfr(input.afrRows, input.postedOn, input.loan.termMonths);
        if (afr !== undefined && input.loan.annualRateBasisPoints < afr.rateBasisPoints) {
          reasons.push({
            code: 'loan_below_afr',
            decision: 'document',
            basis: input.llcTaxBasis,
            message:
              `${input.llcTaxBasis === 'veil_formality' ? 'Veil formality' : 'Tax rule'}: ${formatBasisPoints(input.loan.annualRateBasisPoints)} is below the ` +
              `${afr.bucket}-term AFR of ${formatBasisPoints(afr.rateBasisPoints)} (${afr.row.ruling}); the promissory note will say so`,
          });
        }
      }
    }
    if (input.classification === 'owner_draw' && input.drawFacts !== undefined) {
      const { cashBalanceCents, equityCents } = input.drawFacts;
      if (input.amountCents > cashBalanceCents || input.amountCents > equityCents) {
        reasons.push({
          code: 'draw_beyond_policy',
          decision: input.policy.drawPolicy === 'block' ? 'block' : 'document',
          message:
            `a draw of ${formatCents(input.amountCents)} exceeds ` +
            (input.amountCents > cashBalanceCents ? `the ${formatCents(cashBalanceCents)} in the account` : `the LLC's equity of ${formatCents(equityCents)}`),
        });
      }
    }
  } else if (source.entityKind === 'llc') {
    const marker = matchMarker([...input.policy.personalMarkers, ...PERSONAL_MARKERS], texts);
    if (marker !== undefined) {
      suggested = 'owner_draw';
      reasons.push({
        code: 'commingling_personal_expense',
        decision: input.policy.comminglingPolicy === 'block' ? 'block' : 'document',
        message:
          `${source.entityName} would pay what looks personal ("${marker}"): that is commingling. ` +
          (input.policy.comminglingPolicy === 'block'
            ? 'Pay it from personal money, or take a draw first'
            : 'It will be documented as an owner draw'),
      });
    }
  } else if (source.entityKind === 'personal') {
    const marker = matchMarker(input.policy.businessMarkers, texts);
    if (marker !== undefined) {
      suggested = 'reimbursement';
      reasons.push({
        code: 'reimbursement_owed',
        decision: input.policy.personalPaysBusinessPolicy === 'block' ? 'block' : 'document',
        message: `${source.entityName} would pay what is marked as a business expense ("${marker}"): the LLC owes a reimbursement; record it under the accountable plan`,
      });
    }
  }

  const decision = reasons.reduce<GuardDecision>((worst, reason) => (RANK[reason.decision] > RANK[worst] ? reason.decision : worst), 'allow');
  const explanation =
    reasons.length === 0
      ? 'Nothing crosses the veil and nothing looks out of place: allowed.'
      : `${decision === 'block' ? 'Blocked' : 'Allowed once documented'}: ${reasons.map((reason) => reason.message).join('; ')}.`;
  return { decision, reasons, explanation, suggestedClassification: decision === 'allow' ? null : suggested };
}
