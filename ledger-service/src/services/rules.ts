import { sql, type Transaction } from 'kysely';
import type { Database, Db } from '../db/database';
import { RuleViolation } from '../domain/errors';
import { recordAudit } from './audit';
import { matchBillPayments } from './bill-matching';
import { matchBookedEntries } from './entry-matching';
import { bookBankLines, type BookingWork } from './bank-booking';
import { getBankLine, type BankLine } from './bank-lines';
import type { Actor } from './context';

type Trx = Transaction<Database>;

// Categorisation rules: the owner's "this payee is that category", ordered, first match wins. Rules are
// configuration, not journal: they are edited and deleted freely, and every change is audited. The same function
// serves statement imports and Plaid sync (`categorise`, `applyRulesAndBook`).

export const RULES_PER_ENTITY_MAX = 500;
export const RULE_PATTERN_LENGTH_MAX = 200;
const SHARE_TOTAL_BASIS_POINTS = 10_000;

export interface RuleConditions {
  payeeContains?: string | undefined;
  /** A JavaScript regular expression, matched case-insensitively against the payee. */
  payeeRegex?: string | undefined;
  memoContains?: string | undefined;
  /** Signed like the line (positive = money in), inclusive. */
  amountMinCents?: number | undefined;
  amountMaxCents?: number | undefined;
  /** Only lines of this bank account. */
  accountId?: string | undefined;
}

export interface RuleAction {
  categoryAccountId?: string | undefined;
  /** Or a split by shares in basis points adding up to 10,000; the last share takes the rounding remainder. */
  splits?: { accountId: string; shareBasisPoints: number }[] | undefined;
  description?: string | undefined;
}

export interface Rule {
  id: string;
  entityId: string;
  position: number;
  name: string;
  enabled: boolean;
  conditions: RuleConditions;
  action: RuleAction;
  createdAt: string;
  updatedAt: string;
}

export interface RuleInput {
  name: string;
  position?: number | undefined;
  enabled?: boolean | undefined;
  conditions: RuleConditions;
  action: RuleAction;
}

export interface Decision {
  bankLineId: string;
  ruleId: string | null;
  categoryAccountId: string | null;
  splits: { accountId: string; amountCents: number }[] | null;
  description?: string | undefined;
}

type RuleRow = { id: string; entityId: string; position: number; name: string; enabled: boolean; conditions: unknown; action: unknown; createdAt: Date; updatedAt: Date };

function view(row: RuleRow): Rule {
  return {
    id: row.id,
    entityId: row.entityId,
    position: row.position,
    name: row.name,
    enabled: row.enabled,
    conditions: row.conditions as RuleConditions,
    action: row.action as RuleAction,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const COLUMNS = ['id', 'entityId', 'position', 'name', 'enabled', 'conditions', 'action', 'createdAt', 'updatedAt'] as const;

export async function listRules(db: Db, entityId: string): Promise<Rule[]> {
  const rows = await db.selectFrom('categorisationRules').select(COLUMNS).where('entityId', '=', entityId).orderBy('position').orderBy('createdAt').orderBy('id').execute();
  return rows.map((row) => view(row));
}

export async function getRule(db: Db, ruleId: string): Promise<Rule> {
  const row = await db.selectFrom('categorisationRules').select(COLUMNS).where('id', '=', ruleId).executeTakeFirst();
  if (!row) throw new RuleViolation('not_found', 'no such rule', { ruleId });
  return view(row);
}

/** A rule may only name accounts of its own entity, and a category on the right side of the books. */
async function validateRule(db: Db, entityId: string, input: RuleInput): Promise<void> {
  const { conditions, action } = input;
  if (conditions.payeeRegex !== undefined) {
    try {
      new RegExp(conditions.payeeRegex, 'i');
    } catch (error) {
      throw new RuleViolation('invalid_request', `payeeRegex is not a regular expression: ${(error as Error).message}`);
    }
  }
  if (conditions.amountMinCents !== undefined && conditions.amountMaxCents !== undefined && conditions.amountMinCents > conditions.amountMaxCents) {
    throw new RuleViolation('invalid_request', 'amountMinCents is above amountMaxCents');
  }
  if ((action.categoryAccountId === undefined) === (action.splits === undefined)) {
    throw new RuleViolation('invalid_request', 'a rule names either categoryAccountId or splits');
  }
  if (action.splits && action.splits.reduce((sum, split) => sum + split.shareBasisPoints, 0) !== SHARE_TOTAL_BASIS_POINTS) {
    throw new RuleViolation('invalid_request', 'split shares must add up to 10,000 basis points');
  }
  const named = [action.categoryAccountId, ...(action.splits ?? []).map((split) => split.accountId), conditions.accountId].filter((id): id is string => id !== undefined);
  const accounts = named.length === 0 ? [] : await db.selectFrom('accounts').select(['id', 'entityId']).where('id', 'in', named).execute();
  for (const id of named) {
    const account = accounts.find((candidate) => candidate.id === id);
    // Another entity's account is "not found" to a rule, exactly like a missing one.
    if (!account || account.entityId !== entityId) throw new RuleViolation('not_found', 'no such account', { accountId: id });
  }
}

export async function createRule(trx: Trx, entityId: string, input: RuleInput, actor: Actor): Promise<Rule> {
  await validateRule(trx, entityId, input);
  const count = await trx.selectFrom('categorisationRules').select(sql<string>`count(*)`.as('count')).where('entityId', '=', entityId).executeTakeFirstOrThrow();
  if (Number(count.count) >= RULES_PER_ENTITY_MAX) throw new RuleViolation('invalid_request', `an entity holds at most ${RULES_PER_ENTITY_MAX} rules`);
  const row = await trx
    .insertInto('categorisationRules')
    .values({
      entityId,
      position: input.position ?? Number(count.count),
      name: input.name,
      enabled: input.enabled ?? true,
      conditions: JSON.stringify(input.conditions),
      action: JSON.stringify(input.action),
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  const rule = view(row);
  recordAudit(trx, actor, { action: 'rule.created', entityId, objectType: 'categorisation_rule', objectId: rule.id, after: rule });
  return rule;
}

export async function updateRule(trx: Trx, ruleId: string, input: RuleInput, actor: Actor): Promise<Rule> {
  const before = await getRule(trx, ruleId);
  await validateRule(trx, before.entityId, input);
  const row = await trx
    .updateTable('categorisationRules')
    .set({
      name: input.name,
      position: input.position ?? before.position,
      enabled: input.enabled ?? before.enabled,
      conditions: JSON.stringify(input.conditions),
      action: JSON.stringify(input.action),
      updatedAt: sql<Date>`now()`,
    })
    .where('id', '=', ruleId)
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  const after = view(row);
  recordAudit(trx, actor, { action: 'rule.updated', entityId: before.entityId, objectType: 'categorisation_rule', objectId: ruleId, before, after });
  return after;
}

export async function deleteRule(trx: Trx, ruleId: string, actor: Actor): Promise<void> {
  const before = await getRule(trx, ruleId);
  // Lines booked by the rule keep their entries; they only forget which rule it was.
  await trx.updateTable('bankLines').set({ ruleId: null }).where('ruleId', '=', ruleId).execute();
  await trx.deleteFrom('categorisationRules').where('id', '=', ruleId).execute();
  recordAudit(trx, actor, { action: 'rule.deleted', entityId: before.entityId, objectType: 'categorisation_rule', objectId: ruleId, before });
}

/** A rule ready to test many lines: its regular expression compiled and its texts lowered once, not per line. */
export interface CompiledRule {
  rule: Rule;
  matches: (line: Pick<BankLine, 'payee' | 'memo' | 'amountCents' | 'accountId'>) => boolean;
}

export function compileRule(rule: Rule): CompiledRule {
  const c = rule.conditions;
  const payeeContains = c.payeeContains?.toLowerCase();
  const payeeRegex = c.payeeRegex !== undefined ? new RegExp(c.payeeRegex, 'i') : undefined;
  const memoContains = c.memoContains?.toLowerCase();
  return {
    rule,
    matches: (line) => {
      if (!rule.enabled) return false;
      if (payeeContains !== undefined && !(line.payee ?? '').toLowerCase().includes(payeeContains)) return false;
      if (payeeRegex !== undefined && !payeeRegex.test(line.payee ?? '')) return false;
      if (memoContains !== undefined && !(line.memo ?? '').toLowerCase().includes(memoContains)) return false;
      if (c.amountMinCents !== undefined && line.amountCents < c.amountMinCents) return false;
      if (c.amountMaxCents !== undefined && line.amountCents > c.amountMaxCents) return false;
      if (c.accountId !== undefined && line.accountId !== c.accountId) return false;
      return true;
    },
  };
}

export function ruleMatches(rule: Rule, line: Pick<BankLine, 'payee' | 'memo' | 'amountCents' | 'accountId'>): boolean {
  return compileRule(rule).matches(line);
}

/** Shares of a line in exact cents: each share rounds toward zero, the last takes what is left. */
export function splitByShares(amountCents: number, splits: { accountId: string; shareBasisPoints: number }[]): { accountId: string; amountCents: number }[] {
  let left = amountCents;
  return splits.map((split, index) => {
    const cents = index === splits.length - 1 ? left : Math.trunc((amountCents * split.shareBasisPoints) / SHARE_TOTAL_BASIS_POINTS);
    left -= cents;
    return { accountId: split.accountId, amountCents: cents };
  });
}

function decide(rules: readonly CompiledRule[], line: BankLine): Decision {
  const rule = rules.find((candidate) => candidate.matches(line))?.rule;
  if (!rule) return { bankLineId: line.id, ruleId: null, categoryAccountId: null, splits: null };
  return {
    bankLineId: line.id,
    ruleId: rule.id,
    categoryAccountId: rule.action.categoryAccountId ?? null,
    splits: rule.action.splits ? splitByShares(line.amountCents, rule.action.splits) : null,
    description: rule.action.description,
  };
}

/** What the entity's rules say about each line (first enabled match, in order); null where none matches. */
export async function categorise(trx: Db, entityId: string, lines: readonly BankLine[], _actor: Actor, rules?: readonly Rule[]): Promise<Decision[]> {
  const active = (rules ?? (await listRules(trx, entityId))).map(compileRule);
  return lines.map((line) => {
    if (line.entityId !== entityId) throw new RuleViolation('entity_mismatch', 'a line of another entity', { bankLineId: line.id });
    return decide(active, line);
  });
}

/**
 * Books every posted, unmatched line a rule decides (at most once per line: the entry key is the line's), and
 * leaves the rest unmatched for the owner. Lines of several entities may be passed; each meets its own entity's
 * rules, compiled once, and each entity's lines are booked through the journal's batch path.
 */
export async function applyRulesAndBook(
  trx: Trx,
  lines: readonly BankLine[],
  actor: Actor,
): Promise<{ booked: Decision[]; unmatched: string[]; billPayments: string[]; matchedToEntries: string[] }> {
  const booked: Decision[] = [];
  const unmatched: string[] = [];
  const billPayments: string[] = [];
  const matchedToEntries: string[] = [];
  const byEntity = new Map<string, BankLine[]>();
  for (const line of lines) {
    const group = byEntity.get(line.entityId);
    if (group) group.push(line);
    else byEntity.set(line.entityId, [line]);
  }
  for (const [entityId, all] of byEntity) {
    // A line that pays a bill settles it first: more specific than any rule (services/bill-matching.ts).
    const paid = await matchBillPayments(trx, entityId, all, actor);
    billPayments.push(...paid.keys());
    // Then money Veil had already booked: the line stands for that entry and no rule books it again.
    const alreadyBooked = await matchBookedEntries(trx, all.filter((line) => !paid.has(line.id)), actor);
    matchedToEntries.push(...alreadyBooked.keys());
    const group = all.filter((line) => !paid.has(line.id) && !alreadyBooked.has(line.id));
    const rules = await listRules(trx, entityId);
    if (rules.length === 0) {
      unmatched.push(...group.map((line) => line.id));
      continue;
    }
    const decisions = await categorise(trx, entityId, group, actor, rules);
    const work: BookingWork[] = [];
    for (const [index, decision] of decisions.entries()) {
      const line = group[index] as BankLine;
      if (decision.ruleId === null || line.pending || line.status !== 'unmatched') {
        unmatched.push(line.id);
        continue;
      }
      const splits = decision.splits ?? [{ accountId: decision.categoryAccountId as string, amountCents: line.amountCents }];
      work.push({ line, categorisation: { splits, description: decision.description }, ruleId: decision.ruleId });
      booked.push(decision);
    }
    await bookBankLines(trx, actor, entityId, work);
  }
  return { booked, unmatched, billPayments, matchedToEntries };
}

export const PREVIEW_LINES_MAX = 500;

/**
 * What the saved rules (or the given drafts) would do to the entity's lines still waiting (unmatched or in
 * review): nothing is written.
 */
export async function previewRules(db: Db, entityId: string, drafts: readonly RuleInput[] | undefined) {
  if (drafts) for (const draft of drafts) await validateRule(db, entityId, draft);
  const rules: (Rule & { draft: boolean })[] = drafts
    ? drafts.map((draft, index) => ({
        id: `draft-${index}`,
        entityId,
        position: draft.position ?? index,
        name: draft.name,
        enabled: draft.enabled ?? true,
        conditions: draft.conditions,
        action: draft.action,
        createdAt: '',
        updatedAt: '',
        draft: true,
      }))
    : (await listRules(db, entityId)).map((rule) => ({ ...rule, draft: false }));
  rules.sort((a, b) => a.position - b.position);
  const compiled = rules.map(compileRule);
  const rows = await db
    .selectFrom('bankLines')
    .select(['id'])
    .where('entityId', '=', entityId)
    .where('status', 'in', ['unmatched', 'review'])
    .orderBy('postedOn', 'desc')
    .orderBy('id')
    .limit(PREVIEW_LINES_MAX)
    .execute();
  const items = [];
  for (const row of rows) {
    const line = await getBankLine(db, row.id);
    const decision = decide(compiled, line);
    const rule = rules.find((candidate) => candidate.id === decision.ruleId);
    items.push({
      bankLineId: line.id,
      postedOn: line.postedOn,
      payee: line.payee,
      amountCents: line.amountCents,
      ruleId: rule && !rule.draft ? rule.id : null,
      ruleName: rule?.name ?? null,
      categoryAccountId: decision.categoryAccountId,
      splits: decision.splits,
    });
  }
  const matched = items.filter((item) => item.ruleName !== null).length;
  return { items, matched, unmatched: items.length - matched };
}
