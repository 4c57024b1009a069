import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ACHClass, Configuration, PlaidApi, Products, TransferNetwork, TransferType } from 'plaid';
import { createPlaidEmulator, type PlaidEmulator } from '../src/plaid-emulator/emulator';
import { createPlaidDeps } from '../src/plaid/client';
import { checkInvariants, createBooks, type Books } from './support/books';
import { key, listen, startTestLedger, type TestLedger } from './support/harness';

// Moving real money through Plaid Transfer, end to end over HTTP: the ledger's real `plaid` client talks to the
// emulator; the emulator's TRANSFER_EVENTS_UPDATE webhooks reach the ledger, which reads /transfer/event/sync and
// settles or reverses what it booked.

const CLIENT_ID = 'transfer-client';
const SECRET = 'transfer-secret';

let ledger: TestLedger;
let emulator: PlaidEmulator;
let emulatorServer: Server;
let ledgerServer: Awaited<ReturnType<typeof listen>>;
let sandbox: PlaidApi;
let llc: Books;
let owner: Books;
/** Veil account ids of the linked accounts, by Plaid account name. */
const linked: { llc: Record<string, string>; owner: Record<string, string> } = { llc: {}, owner: {} };
const accessTokens: { llc: string; owner: string } = { llc: '', owner: '' };
/** The emulator dates a posted transfer's bank transaction today (real time): entries are dated just before it. */
const RECENT = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  ledger = await startTestLedger({ ownerMfa: true });
  emulator = await createPlaidEmulator({ clientId: CLIENT_ID, secret: SECRET, seed: 11, historyDays: 10 });
  emulatorServer = await new Promise<Server>((resolve) => {
    const server = emulator.app.listen(0, '127.0.0.1', () => resolve(server));
  });
  const emulatorUrl = `http://127.0.0.1:${(emulatorServer.address() as AddressInfo).port}`;
  ledgerServer = await listen(ledger.app);
  ledger.deps.plaid = createPlaidDeps({ basePath: emulatorUrl, clientId: CLIENT_ID, secret: SECRET, webhookUrl: `${ledgerServer.baseUrl}/plaid/webhook`, emulator: true });
  sandbox = new PlaidApi(new Configuration({ basePath: emulatorUrl, baseOptions: { headers: { 'PLAID-CLIENT-ID': CLIENT_ID, 'PLAID-SECRET': SECRET } } }));
  llc = await createBooks(ledger, { name: 'Transfer LLC', accounts: { software: 'expense_category', cash: 'cash' } });
  owner = await createBooks(ledger, { kind: 'personal', name: 'Robin Owner', accounts: { utilities: 'expense_category' } });
  for (const [side, books, username, institution] of [['llc', llc, 'user_llc', 'ins_109511'], ['owner', owner, 'user_good', 'ins_109508']] as const) {
    const created = await sandbox.sandboxPublicTokenCreate({
      institution_id: institution,
      initial_products: [Products.Transactions],
      options: { webhook: `${ledgerServer.baseUrl}/plaid/webhook`, override_username: username },
    });
    const item = await ledger.http.post('/plaid/items').set('Idempotency-Key', key()).send({ entityId: books.entityId, publicToken: created.data.public_token }).expect(201);
    for (const account of item.body.accounts) linked[side][account.name] = account.accountId;
    const row = await ledger.deps.db.selectFrom('plaidItems').select('plaidItemId').where('id', '=', item.body.id).executeTakeFirstOrThrow();
    accessTokens[side] = emulator.accessTokenOf(row.plaidItemId);
    // The history is in the books before any test: a posted transfer's sync then brings only its own line.
    await ledger.http.post(`/plaid/items/${item.body.id}/sync`).set('Idempotency-Key', key()).send({}).expect(200);
  }
  await emulator.settleWebhooks();
});
afterAll(async () => {
  await emulator.settleWebhooks();
  await ledgerServer.stop();
  emulatorServer.closeAllConnections();
  await new Promise((resolve) => emulatorServer.close(resolve));
  await ledger.close();
});

function post(path: string, body: object, idempotencyKey = key()) {
  return ledger.http.post(path).set('Idempotency-Key', idempotencyKey).send(body);
}

async function enable(entityId: string, legalName: string) {
  return ledger.http.put(`/entities/${entityId}/plaid/transfer-settings`).set('Idempotency-Key', key()).send({ enabled: true, legalName }).expect(200);
}

async function counts() {
  const invariants = await checkInvariants(ledger.deps.db);
  const transfers = await ledger.deps.db.selectFrom('plaidTransfers').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  const events = await sandbox.transferEventSync({ after_id: 0, count: 500 });
  return { entries: invariants.entries, plaidTransfers: Number(transfers.n), plaidEvents: events.data.transfer_events.length };
}

async function simulate(transferId: string, eventType: string, failureReason?: { ach_return_code?: string; description?: string }) {
  await sandbox.sandboxTransferSimulate({ transfer_id: transferId, event_type: eventType, ...(failureReason ? { failure_reason: failureReason } : {}) });
  await emulator.settleWebhooks();
}

async function balanceOf(accountId: string): Promise<number> {
  const row = await ledger.deps.db.selectFrom('accounts').select('balanceCents').where('id', '=', accountId).executeTakeFirstOrThrow();
  return Number(row.balanceCents);
}

function move(entityId: string, fromAccountId: string, toAccountId: string, amountCents: number, moveMoney = 'plaid_transfer') {
  return {
    moveMoney,
    entries: [
      {
        postedOn: RECENT,
        description: 'Move to savings',
        source: 'workflow',
        idempotencyKey: key('move'),
        postings: [
          { accountId: toAccountId, amountCents },
          { accountId: fromAccountId, amountCents: -amountCents },
        ],
      },
    ],
  };
}

describe('Plaid Transfer settings', () => {
  it('is off by default; a move through Plaid is then refused and books nothing', async () => {
    const settings = await ledger.http.get(`/entities/${owner.entityId}/plaid/transfer-settings`).expect(200);
    expect(settings.body).toEqual({ entityId: owner.entityId, enabled: false, legalName: null, network: 'ach' });
    const before = await counts();
    const refused = await post(`/entities/${owner.entityId}/entries/batch`, move(owner.entityId, linked.owner['Plaid Checking'] as string, linked.owner['Plaid Saving'] as string, 10_000)).expect(409);
    expect(refused.body.error.code).toBe('plaid_transfer_disabled');
    expect(await counts()).toEqual(before);
  });

  it('rejects bad settings with 400 and needs move_money to change them', async () => {
    const bad = await ledger.http.put(`/entities/${owner.entityId}/plaid/transfer-settings`).set('Idempotency-Key', key()).send({ enabled: true, network: 'wire' }).expect(400);
    expect(bad.body.error.code).toBe('invalid_request');
    const token = await ledger.http.post('/auth/tokens').send({ name: 'read-write only', scopes: ['read', 'write'], entityIds: [owner.entityId] }).expect(201);
    const forbidden = await ledger.as(token.body.token).put(`/entities/${owner.entityId}/plaid/transfer-settings`).set('Idempotency-Key', key()).send({ enabled: true }).expect(403);
    expect(forbidden.body.error.code).toBe('forbidden');
    const enabled = await enable(owner.entityId, 'Robin Owner');
    expect(enabled.body).toMatchObject({ enabled: true, legalName: 'Robin Owner' });
    await enable(llc.entityId, 'Transfer LLC');
  });
});

describe('linking', () => {
  // Found by the hardening fuzzer: a public token Plaid does not know was answered 502 plaid_upstream_error.
  it('refuses a public token Plaid does not know with 400 invalid_request and links nothing', async () => {
    const items = () => ledger.deps.db.selectFrom('plaidItems').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    const before = await items();
    const refused = await post('/plaid/items', { entityId: owner.entityId, publicToken: 'public-sandbox-not-a-token' }).expect(400);
    expect(refused.body.error).toMatchObject({ code: 'invalid_request', details: { plaidErrorCode: 'INVALID_PUBLIC_TOKEN' } });
    expect(refused.body.error.message).toContain('public token');
    expect(await items()).toEqual(before);
  });
});

describe('moving money between two linked accounts of one entity', () => {
  it('books the entry pending with a debit and a credit, and settles it when Plaid settles both legs', async () => {
    const checking = linked.owner['Plaid Checking'] as string;
    const savings = linked.owner['Plaid Saving'] as string;
    const checkingBefore = await balanceOf(checking);
    const response = await post(`/entities/${owner.entityId}/entries/batch`, move(owner.entityId, checking, savings, 25_000)).expect(201);
    const entry = response.body.entries[0];
    expect(response.body.moneyMovement.status).toBe('pending');
    const legs = response.body.moneyMovement.transfers;
    expect(legs.map((leg: { accountId: string; direction: string; amountCents: number; status: string }) => [leg.accountId, leg.direction, leg.amountCents, leg.status])).toEqual([
      [savings, 'credit', 25_000, 'pending'],
      [checking, 'debit', 25_000, 'pending'],
    ]);
    expect(legs.every((leg: { entryId: string }) => leg.entryId === entry.id)).toBe(true);
    expect(await balanceOf(checking)).toBe(checkingBefore - 25_000);

    // What Plaid says about them, read with the real client.
    const plaidTransfer = await sandbox.transferGet({ transfer_id: legs[1].plaidTransferId });
    expect(plaidTransfer.data.transfer).toMatchObject({ type: 'debit', amount: '250.00', status: 'pending', description: 'Move to savings', ach_class: 'ppd' });

    for (const leg of legs) {
      await simulate(leg.plaidTransferId, 'posted');
      await simulate(leg.plaidTransferId, 'settled');
    }
    // Posting, the bank shows each leg as a transaction; the sync that follows matches each line to the entry that
    // moved the money instead of booking it again (a rule or Plaid's TRANSFER category would have).
    const bankLines = await ledger.deps.db.selectFrom('bankLines').select(['accountId', 'amountCents', 'status']).where('entryId', '=', entry.id).orderBy('amountCents').execute();
    expect(bankLines.map((line) => [line.accountId, Number(line.amountCents), line.status])).toEqual([
      [checking, -25_000, 'matched'],
      [savings, 25_000, 'matched'],
    ]);
    // Every bank line of that amount on the two accounts is one of these two: none was booked on its own.
    const sameAmount = await ledger.deps.db.selectFrom('bankLines').select(['status', 'entryId']).where('accountId', 'in', [checking, savings]).where('amountCents', 'in', ['25000', '-25000'] as never).execute();
    expect(sameAmount).toEqual([
      { status: 'matched', entryId: entry.id },
      { status: 'matched', entryId: entry.id },
    ]);
    const after = await ledger.http.get(`/entities/${owner.entityId}/plaid/transfers?entryId=${entry.id}`).expect(200);
    expect(after.body.items.map((leg: { status: string; reversalEntryId: string | null }) => [leg.status, leg.reversalEntryId])).toEqual([
      ['settled', null],
      ['settled', null],
    ]);
    const stored = await ledger.http.get(`/entries/${entry.id}`).expect(200);
    expect(stored.body.reversedByEntryId).toBeNull();
    expect(await balanceOf(checking)).toBe(checkingBefore - 25_000);
  });

  it('a retried request (same Idempotency-Key) replays: no second entry, no second Plaid transfer', async () => {
    const body = move(owner.entityId, linked.owner['Plaid Checking'] as string, linked.owner['Plaid Saving'] as string, 1_500);
    const idempotencyKey = key('retry');
    const first = await post(`/entities/${owner.entityId}/entries/batch`, body, idempotencyKey).expect(201);
    const before = await counts();
    const again = await post(`/entities/${owner.entityId}/entries/batch`, body, idempotencyKey).expect(201);
    expect(again.body).toEqual(first.body);
    // A new request carrying the same per-entry key (a re-run n8n execution) finds the entry booked and moves nothing.
    const rerun = await post(`/entities/${owner.entityId}/entries/batch`, body).expect(201);
    expect(rerun.body.entries[0]).toMatchObject({ id: first.body.entries[0].id, replayed: true });
    expect(rerun.body.moneyMovement).toBeUndefined();
    expect(await counts()).toEqual(before);
  });

  it('a return the bank shows before Plaid\'s event is matched to the reversal once the event books it', async () => {
    const checking = linked.owner['Plaid Checking'] as string;
    const savings = linked.owner['Plaid Saving'] as string;
    const response = await post(`/entities/${owner.entityId}/entries/batch`, move(owner.entityId, checking, savings, 3_300)).expect(201);
    const [debit] = response.body.moneyMovement.transfers.filter((leg: { direction: string }) => leg.direction === 'debit');
    await simulate(debit.plaidTransferId, 'posted');
    // The return's transfer event goes nowhere for now (as if Plaid's webhook were late); its bank transaction
    // reaches the ledger through the item's own webhook, so the line arrives first, with no reversal to stand for.
    await sandbox.sandboxTransferSimulate({ transfer_id: debit.plaidTransferId, event_type: 'returned', webhook: 'http://127.0.0.1:9/nowhere' });
    await emulator.settleWebhooks();
    const returnLine = () =>
      ledger.deps.db.selectFrom('bankLines').select(['status', 'entryId']).where('accountId', '=', checking).where('amountCents', '=', '3300' as never).executeTakeFirstOrThrow();
    expect(await returnLine()).toMatchObject({ status: 'unmatched', entryId: null });
    // Reading the events books the reversal, and the waiting line is matched to it.
    await ledger.http.post('/plaid/transfers/sync-events').set('Idempotency-Key', key()).send({}).expect(200);
    const [leg] = (await ledger.http.get(`/entities/${owner.entityId}/plaid/transfers?entryId=${response.body.entries[0].id}`).expect(200)).body.items.filter(
      (item: { direction: string }) => item.direction === 'debit',
    );
    expect(leg.reversalEntryId).toEqual(expect.any(String));
    expect(await returnLine()).toEqual({ status: 'matched', entryId: leg.reversalEntryId });
  });

  it('moves the money of a single entry too (POST …/entries): pending legs, and a retry moves nothing twice', async () => {
    const checking = linked.owner['Plaid Checking'] as string;
    const savings = linked.owner['Plaid Saving'] as string;
    const [entry] = move(owner.entityId, checking, savings, 4_200).entries;
    const { idempotencyKey: _perEntryKey, ...single } = entry as NonNullable<typeof entry>;
    const requestKey = key('single');
    const first = await post(`/entities/${owner.entityId}/entries`, { ...single, moveMoney: 'plaid_transfer' }, requestKey).expect(201);
    expect(first.body.moneyMovement.status).toBe('pending');
    expect(first.body.moneyMovement.transfers.map((leg: { accountId: string; direction: string; amountCents: number; entryId: string }) => [leg.accountId, leg.direction, leg.amountCents, leg.entryId])).toEqual([
      [savings, 'credit', 4_200, first.body.id],
      [checking, 'debit', 4_200, first.body.id],
    ]);
    const before = await counts();
    const again = await post(`/entities/${owner.entityId}/entries`, { ...single, moveMoney: 'plaid_transfer' }, requestKey).expect(201);
    expect(again.body).toEqual(first.body);
    expect(await counts()).toEqual(before);
    // Without moveMoney (or with ledger_only) the same route books and moves nothing, by the fast path as before.
    const ledgerOnly = await post(`/entities/${owner.entityId}/entries`, { ...single, moveMoney: 'ledger_only' }).expect(201);
    expect(ledgerOnly.body.moneyMovement).toBeUndefined();
    expect(await counts()).toEqual({ ...before, entries: before.entries + 1 });
    // A bad value is a 400 that books nothing.
    const bad = await post(`/entities/${owner.entityId}/entries`, { ...single, moveMoney: 'wire' }).expect(400);
    expect(bad.body.error.code).toEqual(expect.any(String));
    expect(await counts()).toEqual({ ...before, entries: before.entries + 1 });
  });

  it('refuses an entry with no Plaid-linked depository account (422) and books nothing', async () => {
    const before = await counts();
    const refused = await post(`/entities/${llc.entityId}/entries/batch`, move(llc.entityId, llc.accounts.cash as string, llc.accounts.software as string, 1_000)).expect(422);
    expect(refused.body.error.code).toBe('plaid_transfer_unavailable');
    // In a batch each entry is its own movement: one that cannot move real money refuses them all.
    const linkedMove = move(llc.entityId, linked.llc['Business Checking'] as string, llc.accounts.cash as string, 1_000);
    const unlinkedMove = move(llc.entityId, llc.accounts.cash as string, llc.accounts.software as string, 1_000);
    const mixed = await post(`/entities/${llc.entityId}/entries/batch`, { moveMoney: 'plaid_transfer', entries: [...linkedMove.entries, ...unlinkedMove.entries] }).expect(422);
    expect(mixed.body.error.code).toBe('plaid_transfer_unavailable');
    expect(mixed.body.error.details.entryIds).toHaveLength(1);
    expect(await counts()).toEqual(before);
  });

  it('a decline (insufficient funds) answers 422 with Plaid\'s rationale, and books and moves nothing', async () => {
    const before = await counts();
    const declined = await post(`/entities/${owner.entityId}/entries/batch`, move(owner.entityId, linked.owner['Plaid Checking'] as string, linked.owner['Plaid Saving'] as string, 5_000_000)).expect(422);
    expect(declined.body.error).toMatchObject({ code: 'plaid_transfer_declined', details: { decision: 'declined', rationaleCode: 'NSF', direction: 'debit' } });
    expect(await counts()).toEqual(before);
  });
});

describe('paying a bill through Plaid Transfer', () => {
  it('books the payment pending; a failed debit reverses it, once, whatever the number of event syncs', async () => {
    const checking = linked.owner['Plaid Checking'] as string;
    const bill = await post(`/entities/${owner.entityId}/bills`, {
      name: 'Power',
      payee: 'City Power & Light',
      rrule: 'FREQ=MONTHLY;BYMONTHDAY=15',
      startsOn: '2026-01-15',
      amountCents: 8_400,
      estimated: false,
      categoryAccountId: owner.accounts.utilities,
      payFromAccountId: checking,
      autopay: false,
    }).expect(201);
    const checkingBefore = await balanceOf(checking);
    const paid = await post(`/bills/${bill.body.id}/occurrences/2026-11-15/pay`, { moveMoney: 'plaid_transfer' }).expect(201);
    expect(paid.body.moneyMovement.transfers).toHaveLength(1);
    const leg = paid.body.moneyMovement.transfers[0];
    expect(leg).toMatchObject({ accountId: checking, direction: 'debit', amountCents: 8_400, status: 'pending', entryId: paid.body.entry.id });
    expect((await sandbox.transferGet({ transfer_id: leg.plaidTransferId })).data.transfer.description).toBe('City Power & Li');
    expect(await balanceOf(checking)).toBe(checkingBefore - 8_400);

    await simulate(leg.plaidTransferId, 'failed', { description: 'account closed' });
    const [failed] = (await ledger.http.get(`/entities/${owner.entityId}/plaid/transfers?entryId=${paid.body.entry.id}`).expect(200)).body.items;
    expect(failed).toMatchObject({ status: 'failed', failure: { description: 'account closed' } });
    expect(failed.reversalEntryId).toEqual(expect.any(String));
    const reversal = await ledger.http.get(`/entries/${failed.reversalEntryId}`).expect(200);
    expect(reversal.body.reversesEntryId).toBe(paid.body.entry.id);
    expect(await balanceOf(checking)).toBe(checkingBefore);

    // Reading the events again applies nothing new and reverses nothing twice.
    const before = await counts();
    const again = await ledger.http.post('/plaid/transfers/sync-events').expect(200);
    expect(again.body).toMatchObject({ applied: 0, reversed: 0 });
    expect(await counts()).toEqual(before);
    expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0 });
  });
});

describe('reading transfer events on demand', () => {
  it("applies Plaid's events whoever asks, and tells each caller only about its own books", async () => {
    const response = await post(`/entities/${owner.entityId}/entries/batch`, move(owner.entityId, linked.owner['Plaid Checking'] as string, linked.owner['Plaid Saving'] as string, 700)).expect(201);
    const [debit] = response.body.moneyMovement.transfers.filter((leg: { direction: string }) => leg.direction === 'debit');
    await emulator.settleWebhooks();
    // The webhook goes nowhere: nothing tells the ledger, until someone asks.
    await sandbox.sandboxTransferSimulate({ transfer_id: debit.plaidTransferId, event_type: 'posted', webhook: 'http://127.0.0.1:9/unreachable' });
    await emulator.settleWebhooks();
    const status = async () => (await ledger.http.get(`/entities/${owner.entityId}/plaid/transfers?entryId=${debit.entryId}`).expect(200)).body.items.find((leg: { id: string }) => leg.id === debit.id).status;
    expect(await status()).toBe('pending');
    const stranger = await ledger.createUser();
    const strangers = await ledger.as(stranger.accessToken).post('/plaid/transfers/sync-events').expect(200);
    expect(strangers.body).toEqual({ applied: 0, reversed: 0, hasMore: false });
    expect(await status()).toBe('posted');
    // Plaid's sandbox can also just announce that there are events: the ledger reads them on its own.
    await sandbox.sandboxTransferSimulate({ transfer_id: debit.plaidTransferId, event_type: 'settled', webhook: 'http://127.0.0.1:9/unreachable' });
    await sandbox.sandboxTransferFireWebhook({ webhook: `${ledgerServer.baseUrl}/plaid/webhook` });
    await emulator.settleWebhooks();
    expect(await status()).toBe('settled');
  });
});

describe('an owner draw through Plaid Transfer', () => {
  it('debits the LLC, credits the owner; a returned debit reverses the transfer in both books', async () => {
    const llcChecking = linked.llc['Business Checking'] as string;
    const ownerChecking = linked.owner['Plaid Checking'] as string;
    const [llcBefore, ownerBefore] = [await balanceOf(llcChecking), await balanceOf(ownerChecking)];
    const response = await post('/transfers', {
      classification: 'owner_draw',
      fromEntityId: llc.entityId,
      fromAccountId: llcChecking,
      toEntityId: owner.entityId,
      toAccountId: ownerChecking,
      amountCents: 300_000,
      postedOn: RECENT,
      moveMoney: 'plaid_transfer',
    }).expect(201);
    const legs = response.body.moneyMovement.transfers;
    expect(legs.map((leg: { entityId: string; direction: string }) => [leg.entityId, leg.direction])).toEqual([
      [llc.entityId, 'debit'],
      [owner.entityId, 'credit'],
    ]);
    expect((await sandbox.transferGet({ transfer_id: legs[0].plaidTransferId })).data.transfer).toMatchObject({ ach_class: 'ccd', user: { legal_name: 'Transfer LLC' } });
    expect([await balanceOf(llcChecking), await balanceOf(ownerChecking)]).toEqual([llcBefore - 300_000, ownerBefore + 300_000]);

    await simulate(legs[1].plaidTransferId, 'posted');
    await simulate(legs[0].plaidTransferId, 'posted');
    await simulate(legs[0].plaidTransferId, 'returned', { ach_return_code: 'R01', description: 'Insufficient funds' });
    const transfer = await ledger.http.get(`/transfers/${response.body.id}`).expect(200);
    expect(transfer.body.reversal).not.toBeNull();
    expect([await balanceOf(llcChecking), await balanceOf(ownerChecking)]).toEqual([llcBefore, ownerBefore]);
    const [returned] = (await ledger.http.get(`/entities/${llc.entityId}/plaid/transfers?entryId=${response.body.fromEntryId}`).expect(200)).body.items;
    expect(returned).toMatchObject({ status: 'returned', failure: { achReturnCode: 'R01' }, reversalEntryId: transfer.body.reversal.fromReversalEntryId });

    // The bank's lines: the debit posting matched the draw's entry, the return its reversal; nothing booked twice.
    const llcLines = await ledger.deps.db
      .selectFrom('bankLines')
      .select(['amountCents', 'status', 'entryId'])
      .where('entryId', 'in', [response.body.fromEntryId, transfer.body.reversal.fromReversalEntryId])
      .orderBy('amountCents')
      .execute();
    expect(llcLines.map((line) => [Number(line.amountCents), line.status, line.entryId])).toEqual([
      [-300_000, 'matched', response.body.fromEntryId],
      [300_000, 'matched', transfer.body.reversal.fromReversalEntryId],
    ]);

    // The credit leg failing afterwards finds the transfer already reversed.
    await simulate(legs[1].plaidTransferId, 'returned');
    const [credit] = (await ledger.http.get(`/entities/${owner.entityId}/plaid/transfers?entryId=${response.body.toEntryId}`).expect(200)).body.items;
    expect(credit).toMatchObject({ status: 'returned', reversalEntryId: transfer.body.reversal.toReversalEntryId });
    expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0 });
  });
});

describe('a sync in rounds (what the Plaid Account node does)', () => {
  it('?pagesMax=1 stores one page and says hasMore; rounds until hasMore is false store every transaction once', async () => {
    ledger.deps.plaid = { ...(ledger.deps.plaid as NonNullable<typeof ledger.deps.plaid>), syncPageSize: 2 };
    const books = await createBooks(ledger, { name: 'Rounds LLC', accounts: {} });
    const created = await sandbox.sandboxPublicTokenCreate({ institution_id: 'ins_109511', initial_products: [Products.Transactions], options: { override_username: 'user_llc' } });
    const item = await ledger.http.post('/plaid/items').set('Idempotency-Key', key()).send({ entityId: books.entityId, publicToken: created.data.public_token }).expect(201);
    const bad = await ledger.http.post(`/plaid/items/${item.body.id}/sync?pagesMax=0`).expect(400);
    expect(bad.body.error.code).toBe('invalid_request');
    const rounds: { pages: number; hasMore: boolean; added: number; lines: number }[] = [];
    for (let round = 0; round < 100; round += 1) {
      const synced = await ledger.http.post(`/plaid/items/${item.body.id}/sync?pagesMax=1`).expect(200);
      rounds.push({ pages: synced.body.pages, hasMore: synced.body.hasMore, added: synced.body.added, lines: synced.body.bankLines.length });
      if (!synced.body.hasMore) break;
    }
    expect(rounds.every((round) => round.pages === 1 && round.added <= 2)).toBe(true);
    expect(rounds.slice(0, -1).every((round) => round.hasMore)).toBe(true);
    const row = await ledger.deps.db.selectFrom('plaidItems').select('plaidItemId').where('id', '=', item.body.id).executeTakeFirstOrThrow();
    const live = emulator.liveTransactions(row.plaidItemId).length;
    expect(live).toBeGreaterThan(2);
    expect(rounds.length).toBe(Math.ceil(live / 2));
    expect(rounds.reduce((sum, round) => sum + round.added, 0)).toBe(live);
    expect(rounds.reduce((sum, round) => sum + round.lines, 0)).toBe(live);
    ledger.deps.plaid = { ...(ledger.deps.plaid as NonNullable<typeof ledger.deps.plaid>), syncPageSize: 500 };
  });
});

describe('the emulator speaks Plaid Transfer', () => {
  async function checkingId(side: 'llc' | 'owner'): Promise<string> {
    const accounts = await sandbox.accountsGet({ access_token: accessTokens[side] });
    return (accounts.data.accounts.find((candidate: { subtype: string | null }) => candidate.subtype === 'checking') as { account_id: string }).account_id;
  }

  function plaidError(error: unknown) {
    return (error as { response: { status: number; data: { error_type: string; error_code: string; error_message: string } } }).response;
  }

  it('validates requests with Plaid error shapes', async () => {
    const base = { access_token: accessTokens.owner, account_id: await checkingId('owner'), type: TransferType.Debit, network: TransferNetwork.Ach, user: { legal_name: 'Robin Owner' } };
    const missing = await sandbox.transferAuthorizationCreate({ ...base, amount: '10.00' }).catch(plaidError);
    expect(missing).toMatchObject({ status: 400, data: { error_type: 'INVALID_REQUEST', error_code: 'MISSING_FIELDS' } });
    const badAmount = await sandbox.transferAuthorizationCreate({ ...base, amount: '10.5', ach_class: ACHClass.Ppd }).catch(plaidError);
    expect(badAmount).toMatchObject({ status: 400, data: { error_code: 'INVALID_FIELD' } });
    const card = (await sandbox.accountsGet({ access_token: accessTokens.owner })).data.accounts.find((candidate: { type: string }) => candidate.type === 'credit') as { account_id: string };
    const unsupported = await sandbox.transferAuthorizationCreate({ ...base, account_id: card.account_id, amount: '10.00', ach_class: ACHClass.Ppd }).catch(plaidError);
    expect(unsupported).toMatchObject({ status: 400, data: { error_type: 'TRANSFER_ERROR', error_code: 'TRANSFER_UNSUPPORTED_ACCOUNT_TYPE' } });
    const unknown = await sandbox.transferGet({ transfer_id: 'no-such-transfer' }).catch(plaidError);
    expect(unknown).toMatchObject({ status: 400, data: { error_type: 'INVALID_INPUT' } });
  });

  it('declines over the transfer limit with a rationale, one transfer per authorization, and refuses impossible transitions', async () => {
    const base = { access_token: accessTokens.llc, account_id: await checkingId('llc'), type: TransferType.Debit, network: TransferNetwork.Ach, ach_class: ACHClass.Ccd, user: { legal_name: 'Transfer LLC' } };
    const declined = await sandbox.transferAuthorizationCreate({ ...base, amount: '999999.00' });
    expect(declined.data.authorization).toMatchObject({ decision: 'declined', decision_rationale: { code: 'TRANSFER_LIMIT_REACHED' } });
    const refused = await sandbox.transferCreate({ access_token: base.access_token, account_id: base.account_id, authorization_id: declined.data.authorization.id, description: 'payment' }).catch(plaidError);
    expect(refused).toMatchObject({ status: 400, data: { error_type: 'TRANSFER_ERROR' } });

    const approved = await sandbox.transferAuthorizationCreate({ ...base, amount: '12.34', idempotency_key: 'emulator-test-1' });
    const sameKey = await sandbox.transferAuthorizationCreate({ ...base, amount: '12.34', idempotency_key: 'emulator-test-1' });
    expect(sameKey.data.authorization.id).toBe(approved.data.authorization.id);
    const created = await sandbox.transferCreate({ access_token: base.access_token, account_id: base.account_id, authorization_id: approved.data.authorization.id, description: 'payment' });
    const twice = await sandbox.transferCreate({ access_token: base.access_token, account_id: base.account_id, authorization_id: approved.data.authorization.id, description: 'payment' });
    expect(twice.data.transfer.id).toBe(created.data.transfer.id);

    const settle = await sandbox.sandboxTransferSimulate({ transfer_id: created.data.transfer.id, event_type: 'settled' }).catch(plaidError);
    expect(settle).toMatchObject({ status: 400, data: { error_type: 'SANDBOX_ERROR', error_code: 'SANDBOX_TRANSFER_EVENT_TRANSITION_INVALID' } });
    await simulate(created.data.transfer.id, 'posted');
    const events = await sandbox.transferEventSync({ after_id: 0, count: 500 });
    type Event = { event_id: number; event_type: string; transfer_id: string };
    const all: Event[] = events.data.transfer_events;
    const mine = all.filter((event) => event.transfer_id === created.data.transfer.id);
    expect(mine.map((event) => event.event_type)).toEqual(['pending', 'posted']);
    // Event ids are consecutive from 1, and paging by after_id walks them all.
    expect(all.map((event) => event.event_id)).toEqual(all.map((_event, index) => index + 1));
    const page = await sandbox.transferEventSync({ after_id: 1, count: 2 });
    expect((page.data.transfer_events as Event[]).map((event) => event.event_id)).toEqual([2, 3]);
    expect(page.data.has_more).toBe(true);
  });
});
