import { randomUUID } from 'node:crypto';
import { seededRandom } from '../src/domain/random';
import type { Client } from './client';

// The books the harness attacks, and the table of operations it runs on them. Each operation is one generator:
// it plans a write (path, body, Idempotency-Key) from the current state of the world, and says what an
// acknowledged answer books. Plain entries and batches take the one-statement fast path (migration 0018); a batch
// that moves money through Plaid Transfer, a bill payment and a contribution book the long way.

export interface World {
  llcId: string;
  personalId: string;
  /** The hot set: two LLC accounts every client fights over (transfers hit the checking account too). */
  hot: { checking: string; revenue: string };
  llcSoftware: string;
  ownerChecking: string;
  ownerCard: string;
  /** The spread set: many LLC accounts, so writers rarely meet. */
  spread: string[];
  /** Acknowledged plain entries not yet claimed by a reversal. */
  reversibleEntries: string[];
  /** Acknowledged contributions and draws not yet claimed by a transfer reversal. */
  reversibleTransfers: string[];
  loans: { id: string; principalCents: number }[];
  reimbursements: { id: string; remainingCents: number }[];
  /** The owner's IRA (retirement, counted against the IRA limit) and taxable brokerage, which contributions go to from the owner's checking. */
  ownerIra: string;
  ownerBrokerage: string;
  /** A daily bill of the LLC (software, paid from the hot checking): each payment claims the next due date. */
  bill: { id: string; nextDueOn: string };
  /** Two envelopes of the owner's budget that allocations assign to, and what acknowledged ones assigned. */
  envelopes: { fixed: string; remainder: string };
  allocatedCents: Map<string, number>;
  /** Acknowledged contributions (each books one entry and one contributions row). */
  contributions: number;
  /** Two linked depository accounts of a third entity with Plaid Transfer on, when a Plaid (emulator) is set up. */
  plaid?: { entityId: string; checking: string; savings: string };
  /** Acknowledged Plaid moves (each entry moves money in two legs). */
  plaidMoves: number;
  /** Entries no harness write booked: what linking the Plaid item imported. */
  baselineEntries: Set<string>;
  /** An LLC checking account statements are imported into (no rule, no bill, no entries: imports book nothing). */
  importAccount: string;
  /** Bank lines acknowledged imports stored (their reports' `new`). */
  importedLines: number;
}

/** The entities whose books the harness writes to and checks. */
export function entityIdsOf(world: World): string[] {
  return [world.llcId, world.personalId, ...(world.plaid ? [world.plaid.entityId] : [])];
}

export interface PlannedWrite {
  operation: string;
  path: string;
  body: unknown;
  idempotencyKey: string;
  /** The ids of the journal entries an acknowledged answer reports: each must exist exactly once. */
  entryIdsOf(answer: Record<string, unknown>): string[];
  /** Updates the world once the write is acknowledged (what later operations may build on). */
  settle?(world: World, answer: Record<string, unknown>): void;
  /** A multipart upload (a statement import) sent instead of the JSON body. */
  upload?: { field: string; fileName: string; bytes: Uint8Array };
}

export type Random = () => number;

export interface Operation {
  name: string;
  /** Relative frequency in the mix. */
  weight: number;
  plan(world: World, random: Random): PlannedWrite | undefined;
}

const POSTED_ON = '2026-06-15';
/** Allocations assign in this month; alert sweeps evaluate as of this day. */
export const BUDGET_MONTH = '2026-06';
const SWEEP_DAY = '2026-06-20';

function nextDay(isoDate: string): string {
  const date = new Date(`${isoDate}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** Removes and returns a random element (a claim: two clients never reverse the same thing). */
function claim<T>(random: Random, items: T[]): T | undefined {
  if (items.length === 0) return undefined;
  const index = Math.floor(random() * items.length);
  const [item] = items.splice(index, 1);
  return item;
}

function amount(random: Random, max = 100_000): number {
  return 1 + Math.floor(random() * max);
}

const entryId = (answer: Record<string, unknown>) => [String(answer.id)];
const transferEntryIds = (answer: Record<string, unknown>) => [String((answer.fromEntry as { id: string }).id), String((answer.toEntry as { id: string }).id)];

function entryBody(description: string, debit: string, credit: string, amountCents: number) {
  return {
    postedOn: POSTED_ON,
    description,
    postings: [
      { accountId: debit, amountCents },
      { accountId: credit, amountCents: -amountCents },
    ],
  };
}

function two(random: Random, accounts: readonly string[]): [string, string] {
  const first = pick(random, accounts);
  let second = pick(random, accounts);
  if (second === first) second = accounts[(accounts.indexOf(first) + 1) % accounts.length] as string;
  return [first, second];
}

function entryOperation(name: string, weight: number, accountsOf: (world: World) => readonly string[]): Operation {
  return {
    name,
    weight,
    plan: (world, random) => {
      const [debit, credit] = two(random, accountsOf(world));
      return {
        operation: name,
        path: `/entities/${world.llcId}/entries`,
        body: entryBody(name, debit, credit, amount(random)),
        idempotencyKey: `${name}-${randomUUID()}`,
        entryIdsOf: entryId,
        settle: (w, answer) => w.reversibleEntries.push(String(answer.id)),
      };
    },
  };
}

function transferOperation(
  classification: string,
  weight: number,
  shape: (world: World, random: Random) => Record<string, unknown> | undefined,
  settle?: (world: World, answer: Record<string, unknown>, body: Record<string, unknown>) => void,
): Operation {
  return {
    name: classification,
    weight,
    plan: (world, random) => {
      const body = shape(world, random);
      if (body === undefined) return undefined;
      const full = { classification, postedOn: POSTED_ON, ...body };
      return {
        operation: classification,
        path: '/transfers',
        body: full,
        idempotencyKey: `${classification}-${randomUUID()}`,
        entryIdsOf: transferEntryIds,
        ...(settle
          ? {
              settle: (w: World, answer: Record<string, unknown>) => settle(w, answer, full),
            }
          : {}),
      };
    },
  };
}

const llcToOwner = (world: World, amountCents: number) => ({
  fromEntityId: world.llcId,
  fromAccountId: world.hot.checking,
  toEntityId: world.personalId,
  toAccountId: world.ownerChecking,
  amountCents,
});
const ownerToLlc = (world: World, amountCents: number) => ({
  fromEntityId: world.personalId,
  fromAccountId: world.ownerChecking,
  toEntityId: world.llcId,
  toAccountId: world.hot.checking,
  amountCents,
});

export const OPERATIONS: Operation[] = [
  entryOperation('entry_hot', 30, (world) => [world.hot.checking, world.hot.revenue]),
  entryOperation('entry_spread', 30, (world) => world.spread),
  {
    name: 'batch',
    weight: 8,
    plan: (world, random) => {
      const count = 2 + Math.floor(random() * 19);
      const entries = Array.from({ length: count }, (_, index) => {
        const accounts = random() < 0.3 ? [world.hot.checking, world.hot.revenue] : world.spread;
        const [debit, credit] = two(random, accounts);
        return {
          ...entryBody(`batch item ${index}`, debit, credit, amount(random)),
          idempotencyKey: `item-${randomUUID()}`,
        };
      });
      return {
        operation: 'batch',
        path: `/entities/${world.llcId}/entries/batch`,
        body: { entries },
        idempotencyKey: `batch-${randomUUID()}`,
        entryIdsOf: (answer) => (answer.entries as { id: string }[]).map((entry) => entry.id),
      };
    },
  },
  {
    name: 'reversal',
    weight: 6,
    plan: (world, random) => {
      const target = claim(random, world.reversibleEntries);
      if (target === undefined) return undefined;
      return {
        operation: 'reversal',
        path: `/entries/${target}/reverse`,
        body: { description: 'harness reversal' },
        idempotencyKey: `reversal-${randomUUID()}`,
        entryIdsOf: entryId,
      };
    },
  },
  transferOperation(
    'capital_contribution',
    4,
    (world, random) => ownerToLlc(world, amount(random, 500_000)),
    (world, answer) => {
      world.reversibleTransfers.push(String(answer.id));
    },
  ),
  transferOperation(
    'owner_draw',
    4,
    (world, random) => llcToOwner(world, amount(random, 50_000)),
    (world, answer) => {
      world.reversibleTransfers.push(String(answer.id));
    },
  ),
  transferOperation(
    'loan',
    2,
    (world, random) => ({
      ...ownerToLlc(world, 100_000 + amount(random, 900_000)),
      loan: {
        annualRateBasisPoints: 500 + Math.floor(random() * 300),
        termMonths: 12 + Math.floor(random() * 48),
        paymentFrequency: 'monthly',
      },
    }),
    (world, answer, body) =>
      world.loans.push({
        id: String(answer.id),
        principalCents: body.amountCents as number,
      }),
  ),
  // A small payment: principal and interest follow the schedule; an overpayment is refused (422), not booked.
  transferOperation('loan_repayment', 3, (world, random) => {
    if (world.loans.length === 0) return undefined;
    const loan = pick(random, world.loans);
    return {
      ...llcToOwner(world, 1_000 + amount(random, Math.max(1, Math.floor(loan.principalCents / 20)))),
      relatedTransferId: loan.id,
    };
  }),
  transferOperation(
    'reimbursement',
    3,
    (world, random) => ({
      fromEntityId: world.personalId,
      fromAccountId: world.ownerCard,
      toEntityId: world.llcId,
      toAccountId: world.llcSoftware,
      amountCents: amount(random, 20_000),
      reimbursement: {
        businessPurpose: 'harness software',
        receiptReference: `receipt-${randomUUID()}`,
        expenseOn: '2026-06-01',
      },
    }),
    (world, answer, body) =>
      world.reimbursements.push({
        id: String(answer.id),
        remainingCents: body.amountCents as number,
      }),
  ),
  transferOperation('reimbursement_payment', 3, (world, random) => {
    const open = world.reimbursements.filter((reimbursement) => reimbursement.remainingCents > 0);
    if (open.length === 0) return undefined;
    const reimbursement = pick(random, open);
    // Claimed up front: concurrent payments of one reimbursement never plan more than it owes.
    const amountCents = Math.max(1, Math.floor(reimbursement.remainingCents * random()));
    reimbursement.remainingCents -= amountCents;
    return {
      ...llcToOwner(world, amountCents),
      relatedTransferId: reimbursement.id,
    };
  }),
  {
    name: 'transfer_reversal',
    weight: 2,
    plan: (world, random) => {
      const target = claim(random, world.reversibleTransfers);
      if (target === undefined) return undefined;
      return {
        operation: 'transfer_reversal',
        path: `/transfers/${target}/reverse`,
        body: {},
        idempotencyKey: `transfer-reversal-${randomUUID()}`,
        entryIdsOf: transferEntryIds,
      };
    },
  },
  {
    name: 'bill_payment',
    weight: 3,
    plan: (world) => {
      // Claimed up front: two clients never pay the same occurrence (that is refused whatever the key).
      const dueOn = world.bill.nextDueOn;
      world.bill.nextDueOn = nextDay(dueOn);
      return {
        operation: 'bill_payment',
        path: `/bills/${world.bill.id}/occurrences/${dueOn}/pay`,
        body: { paidOn: POSTED_ON },
        idempotencyKey: `bill-payment-${randomUUID()}`,
        entryIdsOf: (answer) => [String((answer.entry as { id: string }).id)],
        // A reversed payment reopens its occurrence; the reversal operation may pick it.
        settle: (w, answer) => w.reversibleEntries.push(String((answer.entry as { id: string }).id)),
      };
    },
  },
  {
    name: 'allocation',
    weight: 2,
    plan: (world, random) => {
      const amountCents = amount(random, 200_000);
      return {
        operation: 'allocation',
        path: `/entities/${world.personalId}/allocations`,
        body: {
          month: BUDGET_MONTH,
          amountCents,
          rules: [
            {
              kind: 'fixed',
              envelopeId: world.envelopes.fixed,
              amountCents: amount(random, 50_000),
            },
            { kind: 'remainder', envelopeId: world.envelopes.remainder },
          ],
        },
        idempotencyKey: `allocation-${randomUUID()}`,
        entryIdsOf: () => [],
        settle: (w, answer) => {
          for (const line of answer.lines as {
            envelopeId: string;
            amountCents: number;
          }[]) {
            w.allocatedCents.set(line.envelopeId, (w.allocatedCents.get(line.envelopeId) ?? 0) + line.amountCents);
          }
        },
      };
    },
  },
  {
    // IRA contributions run into the year's limit: 422 contribution_limit_exceeded is an expected answer.
    name: 'contribution',
    weight: 3,
    plan: (world, random) => {
      const ira = random() < 0.5;
      return {
        operation: 'contribution',
        path: `/entities/${world.personalId}/contributions`,
        body: {
          fromAccountId: world.ownerChecking,
          toAccountId: ira ? world.ownerIra : world.ownerBrokerage,
          limitKind: ira ? 'ira' : null,
          amountCents: amount(random, 100_000),
          contributedOn: POSTED_ON,
        },
        idempotencyKey: `contribution-${randomUUID()}`,
        entryIdsOf: (answer) => [String((answer.entry as { id: string }).id)],
        settle: (w) => {
          w.contributions += 1;
        },
      };
    },
  },
  {
    // A small CSV statement through the set-based import (stream parse, staging, dedup, near-duplicates, entry,
    // transfer and bill matching): its lines are new (unique payees), and with no rule it books nothing, so what
    // it stored is its report's `new`, once, however often a retry sends it.
    name: 'statement_import',
    weight: 2,
    plan: (world, random) => {
      const rows = 1 + Math.floor(random() * 5);
      const lines = ['Date,Description,Amount'];
      for (let index = 0; index < rows; index += 1) {
        const cents = amount(random, 50_000) * (random() < 0.5 ? -1 : 1);
        const text = `${cents < 0 ? '-' : ''}${Math.trunc(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;
        lines.push(`2026-06-${String(1 + Math.floor(random() * 28)).padStart(2, '0')},HARNESS ${randomUUID()},${text}`);
      }
      return {
        operation: 'statement_import',
        path: `/accounts/${world.importAccount}/imports`,
        body: undefined,
        upload: { field: 'file', fileName: 'harness.csv', bytes: Buffer.from(`${lines.join('\n')}\n`) },
        idempotencyKey: `import-${randomUUID()}`,
        entryIdsOf: () => [],
        settle: (w, answer) => {
          w.importedLines += Number(answer.new);
        },
      };
    },
  },
  {
    name: 'alert_sweep',
    weight: 1,
    plan: (world, random) => ({
      operation: 'alert_sweep',
      path: '/alerts/sweep',
      body: {
        entityId: random() < 0.5 ? world.llcId : world.personalId,
        today: SWEEP_DAY,
      },
      idempotencyKey: `sweep-${randomUUID()}`,
      entryIdsOf: () => [],
    }),
  },
  {
    // Real money through Plaid Transfer (the emulator): the batch books the long way, calling Plaid inside its
    // transaction; the entry's own key keys Plaid's authorization, so a retry after a crash moves nothing twice.
    name: 'plaid_move',
    weight: 3,
    plan: (world, random) => {
      if (world.plaid === undefined) return undefined;
      const [from, to] = random() < 0.5 ? [world.plaid.checking, world.plaid.savings] : [world.plaid.savings, world.plaid.checking];
      const amountCents = amount(random, 5_000);
      return {
        operation: 'plaid_move',
        path: `/entities/${world.plaid.entityId}/entries/batch`,
        body: {
          moveMoney: 'plaid_transfer',
          entries: [
            {
              postedOn: POSTED_ON,
              description: 'harness move',
              idempotencyKey: `move-${randomUUID()}`,
              postings: [
                { accountId: to, amountCents },
                { accountId: from, amountCents: -amountCents },
              ],
            },
          ],
        },
        idempotencyKey: `plaid-move-${randomUUID()}`,
        entryIdsOf: (answer) => (answer.entries as { id: string }[]).map((entry) => entry.id),
        settle: (w) => {
          w.plaidMoves += 1;
        },
      };
    },
  },
];

/** Picks operations by weight; a generator with nothing to build on yet (no loan to repay) yields to another. */
export function planner(seed: number, operations: readonly Operation[] = OPERATIONS) {
  const random = seededRandom(seed);
  const total = operations.reduce((sum, operation) => sum + operation.weight, 0);
  return (world: World): PlannedWrite => {
    for (;;) {
      let ticket = random() * total;
      const operation = operations.find((candidate) => (ticket -= candidate.weight) < 0) ?? (operations[0] as Operation);
      const planned = operation.plan(world, random);
      if (planned) return planned;
    }
  };
}

/** A setup write, retried with its own key when the connection drops (a keep-alive socket closed under it). */
async function setupWrite(client: Client, path: string, body: unknown, method: 'post' | 'put' = 'post', status = method === 'post' ? 201 : 200): Promise<Record<string, unknown>> {
  const idempotencyKey = `setup-${randomUUID()}`;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await client.expect(client.write(path, idempotencyKey, body, method), status);
    } catch (error) {
      if (attempt >= 5 || !(error instanceof TypeError)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

export interface WorldOptions {
  spreadAccounts: number;
  parallel: number;
  onProgress?: (done: number) => void;
  /** Link a bank through the Plaid emulator the service is configured with; `settle` waits for its webhooks. */
  plaid?: { settle: () => Promise<unknown> };
}

/** Creates the entities, their accounts, a bill, envelopes and (optionally) a linked bank through the API; the spread set by `spreadAccounts` POSTs. */
export async function createWorld(client: Client, options: WorldOptions): Promise<World> {
  const entity = (kind: string, name: string) => setupWrite(client, '/entities', { kind, name });
  const llc = await entity('llc', 'Harness LLC');
  const personal = await entity('personal', 'Harness Owner');
  const account = async (entityId: unknown, name: string, kind: string) =>
    String(
      (
        await setupWrite(client, `/entities/${entityId}/accounts`, {
          name,
          kind,
        })
      ).id,
    );
  const world: World = {
    llcId: String(llc.id),
    personalId: String(personal.id),
    hot: {
      checking: await account(llc.id, 'Hot checking', 'checking'),
      revenue: await account(llc.id, 'Hot revenue', 'income_category'),
    },
    llcSoftware: await account(llc.id, 'Software', 'expense_category'),
    ownerChecking: await account(personal.id, 'Owner checking', 'checking'),
    ownerCard: await account(personal.id, 'Owner card', 'credit_card'),
    spread: [],
    reversibleEntries: [],
    reversibleTransfers: [],
    loans: [],
    reimbursements: [],
    ownerIra: await account(personal.id, 'Owner IRA', 'retirement'),
    ownerBrokerage: await account(personal.id, 'Owner brokerage', 'brokerage'),
    bill: { id: '', nextDueOn: '2026-01-01' },
    envelopes: { fixed: '', remainder: '' },
    allocatedCents: new Map(),
    contributions: 0,
    plaidMoves: 0,
    baselineEntries: new Set(),
    importAccount: await account(llc.id, 'Import checking', 'checking'),
    importedLines: 0,
  };
  const bill = await setupWrite(client, `/entities/${world.llcId}/bills`, {
    name: 'Harness hosting',
    payee: 'Harness Cloud',
    rrule: 'FREQ=DAILY',
    startsOn: world.bill.nextDueOn,
    amountCents: 1_500,
    estimated: false,
    categoryAccountId: world.llcSoftware,
    payFromAccountId: world.hot.checking,
    autopay: false,
  });
  world.bill.id = String(bill.id);
  const groceries = await account(personal.id, 'Groceries', 'expense_category');
  const dining = await account(personal.id, 'Dining', 'expense_category');
  const group = await setupWrite(client, `/entities/${world.personalId}/envelope-groups`, { name: 'Harness' });
  const envelope = async (name: string, category: string) =>
    String(
      (
        await setupWrite(client, `/entities/${world.personalId}/envelopes`, {
          name,
          groupId: group.id,
          categoryAccountIds: [category],
        })
      ).id,
    );
  world.envelopes = {
    fixed: await envelope('Groceries', groceries),
    remainder: await envelope('Dining', dining),
  };
  // Low-balance floors, so postings and sweeps raise and clear balance.low.
  await setupWrite(client, `/entities/${world.llcId}/alert-settings`, { balanceCentsMin: 10_000, billDueWithinDays: 3 }, 'put');
  await setupWrite(client, `/entities/${world.personalId}/alert-settings`, { balanceCentsMin: 5_000, billDueWithinDays: 3 }, 'put');
  if (options.plaid) world.plaid = await linkBank(client, options.plaid.settle, world);
  // There is no batch route for accounts: the spread set is created by parallel single POSTs.
  let next = 0;
  await Promise.all(
    Array.from({ length: options.parallel }, async () => {
      while (next < options.spreadAccounts) {
        const index = next++;
        const kind = index % 2 === 0 ? 'checking' : 'expense_category';
        world.spread.push(await account(llc.id, `Spread ${String(index).padStart(5, '0')}`, kind));
        if (world.spread.length % 250 === 0) options.onProgress?.(world.spread.length);
      }
    }),
  );
  options.onProgress?.(world.spread.length);
  return world;
}

/** A third entity with a bank linked through the demo Link of the Plaid emulator, and Plaid Transfer on. */
async function linkBank(client: Client, settle: () => Promise<unknown>, world: World): Promise<NonNullable<World['plaid']>> {
  const entity = await setupWrite(client, '/entities', {
    kind: 'llc',
    name: 'Harness Bank LLC',
  });
  const entityId = String(entity.id);
  const token = await client.expect(
    client.send({
      method: 'post',
      path: '/plaid/link-token',
      body: { entityId },
    }),
    201,
  );
  const link = await client.expect(
    client.send({
      method: 'post',
      path: '/plaid/demo/link',
      body: { linkToken: token.linkToken, username: 'user_good' },
    }),
    200,
  );
  const item = await setupWrite(client, '/plaid/items', {
    entityId,
    publicToken: link.publicToken,
  });
  const byName = new Map((item.accounts as { name: string; accountId: string }[]).map((linked) => [linked.name, linked.accountId]));
  const checking = byName.get('Plaid Checking');
  const savings = byName.get('Plaid Saving');
  if (checking === undefined || savings === undefined) throw new Error(`the linked item has no Plaid Checking and Plaid Saving: ${[...byName.keys()].join(', ')}`);
  await setupWrite(client, `/entities/${entityId}/plaid/transfer-settings`, { enabled: true, legalName: 'Harness Bank LLC' }, 'put');
  // What the link imported (its history, booked by the bank-line rules) is no harness write.
  await settle();
  let cursor: string | undefined;
  do {
    const page = await client.expect(client.get(`/entities/${entityId}/entries?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`), 200);
    for (const entry of page.items as { id: string }[]) world.baselineEntries.add(entry.id);
    cursor = (page.nextCursor as string | null) ?? undefined;
  } while (cursor);
  return { entityId, checking, savings };
}
