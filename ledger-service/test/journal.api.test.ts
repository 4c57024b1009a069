import { sql, type Transaction } from 'kysely';
import { createBooks, checkInvariants, type Books } from './support/books';
import { openDatabase, type Database } from '../src/db/database';
import { migrateToLatest, migrationsCurrent } from '../src/db/migrate';
import { BACKEND, dropSchemaLocked, key, startTestLedger, type TestLedger } from './support/harness';

let ledger: TestLedger;
let books: Books;
let other: Books;

beforeAll(async () => {
  ledger = await startTestLedger();
  books = await createBooks(ledger, {
    accounts: { checking: 'checking', card: 'credit_card', revenue: 'income_category', software: 'expense_category' },
  });
  other = await createBooks(ledger, { kind: 'personal', name: 'Owner', accounts: { checking: 'checking' } });
});
afterAll(() => ledger.close());

function post(path: string, body: unknown, idempotencyKey: string | null = key()) {
  const req = ledger.http.post(path);
  if (idempotencyKey !== null) req.set('Idempotency-Key', idempotencyKey);
  return req.send(body as object);
}

function sale(amountCents: number, postedOn = '2026-03-15') {
  return {
    postedOn,
    description: 'Invoice 42',
    postings: [
      { accountId: books.accounts.checking, amountCents },
      { accountId: books.accounts.revenue, amountCents: -amountCents },
    ],
  };
}

async function balanceOf(accountId: string | undefined): Promise<number> {
  const response = await ledger.http.get(`/accounts/${accountId}`).expect(200);
  return response.body.balanceCents;
}

async function counts() {
  return checkInvariants(ledger.deps.db);
}

describe('entities and accounts', () => {
  it('derives the class from the kind and reads credit-normal balances naturally', async () => {
    const card = await ledger.http.get(`/accounts/${books.accounts.card}`).expect(200);
    expect(card.body).toMatchObject({ class: 'liability', kind: 'credit_card', currency: 'USD', balanceCents: 0 });
    await post(`/entities/${books.entityId}/entries`, {
      postedOn: '2026-03-01',
      description: 'Figma',
      postings: [
        { accountId: books.accounts.software, amountCents: 1500 },
        { accountId: books.accounts.card, amountCents: -1500 },
      ],
    }).expect(201);
    const after = await ledger.http.get(`/accounts/${books.accounts.card}`).expect(200);
    expect(after.body).toMatchObject({ balanceCents: -1500, naturalBalanceCents: 1500 });
  });

  it('refuses a class that contradicts the kind, and inter-entity kinds without a counterparty', async () => {
    const mismatch = await post(`/entities/${books.entityId}/accounts`, { name: 'X', kind: 'checking', class: 'liability' }).expect(422);
    expect(mismatch.body.error.code).toBe('account_kind_mismatch');
    const due = await post(`/entities/${books.entityId}/accounts`, { name: 'Due', kind: 'due_to_entity' }).expect(422);
    expect(due.body.error.code).toBe('account_kind_mismatch');
    const ok = await post(`/entities/${books.entityId}/accounts`, {
      name: 'Due to owner',
      kind: 'due_to_entity',
      counterpartyEntityId: other.entityId,
    }).expect(201);
    expect(ok.body.class).toBe('liability');
  });

  it('refuses a duplicate account name with 409', async () => {
    const response = await post(`/entities/${books.entityId}/accounts`, { name: 'checking', kind: 'checking' }).expect(409);
    expect(response.body.error.code).toBe('duplicate_name');
  });

  it('answers 404 for an entry in an unknown entity', async () => {
    const response = await post('/entities/00000000-0000-4000-8000-000000000000/entries', sale(100)).expect(404);
    expect(response.body.error.code).toBe('not_found');
  });

  it('answers 404 for unknown ids and 400 naming the field for malformed ones', async () => {
    const missing = await ledger.http.get('/entities/00000000-0000-4000-8000-000000000000').expect(404);
    expect(missing.body.error).toMatchObject({ code: 'not_found' });
    const malformed = await ledger.http.get('/accounts/not-a-uuid').expect(400);
    expect(malformed.body.error.message).toMatch(/^params\.accountId/);
  });

  it('archives only an empty account, and then refuses postings to it', async () => {
    const spare = await post(`/entities/${books.entityId}/accounts`, { name: 'Spare', kind: 'savings' }).expect(201);
    await post(`/entities/${books.entityId}/entries`, sale(250)).expect(201);
    const holding = await ledger.http.patch(`/accounts/${books.accounts.checking}`).set('Idempotency-Key', key()).send({ archived: true }).expect(422);
    expect(holding.body.error.message).toMatch(/still holds 250 cents/);
    await ledger.http.patch(`/accounts/${spare.body.id}`).set('Idempotency-Key', key()).send({ archived: true }).expect(200);
    const refused = await post(`/entities/${books.entityId}/entries`, {
      postedOn: '2026-03-01',
      description: 'to archived',
      postings: [
        { accountId: spare.body.id, amountCents: 100 },
        { accountId: books.accounts.checking, amountCents: -100 },
      ],
    }).expect(422);
    expect(refused.body.error.code).toBe('account_archived');
    const listed = await ledger.http.get(`/entities/${books.entityId}/accounts`).expect(200);
    expect(listed.body.items.map((account: { id: string }) => account.id)).not.toContain(spare.body.id);
  });
});

describe('journal entries', () => {
  it('books a balanced entry and moves both balances', async () => {
    const before = await balanceOf(books.accounts.checking);
    const response = await post(`/entities/${books.entityId}/entries`, sale(12_345)).expect(201);
    expect(response.body).toMatchObject({ entityId: books.entityId, postedOn: '2026-03-15', source: 'manual', reversedByEntryId: null });
    expect(response.body.postings).toHaveLength(2);
    expect(await balanceOf(books.accounts.checking)).toBe(before + 12_345);
    const fetched = await ledger.http.get(`/entries/${response.body.id}`).expect(200);
    expect(fetched.body).toEqual(response.body);
  });

  it.each([
    ['unbalanced', (b: ReturnType<typeof sale>) => ({ ...b, postings: [b.postings[0], { ...b.postings[1], amountCents: -1 }] }), 422, 'unbalanced_entry'],
    ['a float amount', (b: ReturnType<typeof sale>) => ({ ...b, postings: [{ ...b.postings[0], amountCents: 1.5 }, b.postings[1]] }), 400, 'invalid_request'],
    ['an amount as a string', (b: ReturnType<typeof sale>) => ({ ...b, postings: [{ ...b.postings[0], amountCents: '100' }, b.postings[1]] }), 400, 'invalid_request'],
    ['a negative-overflow amount', (b: ReturnType<typeof sale>) => ({ ...b, postings: [{ ...b.postings[0], amountCents: -1e16 }, b.postings[1]] }), 400, 'invalid_request'],
    ['an impossible date', (b: ReturnType<typeof sale>) => ({ ...b, postedOn: '2026-02-30' }), 400, 'invalid_request'],
    ['an unknown field', (b: ReturnType<typeof sale>) => ({ ...b, amount: 5 }), 400, 'invalid_request'],
    ['a single posting', (b: ReturnType<typeof sale>) => ({ ...b, postings: [b.postings[0]] }), 400, 'invalid_request'],
  ])('refuses %s and writes nothing', async (_label, mutate, status, code) => {
    const before = await counts();
    const response = await post(`/entities/${books.entityId}/entries`, mutate(sale(700))).expect(status);
    expect(response.body.error.code).toBe(code);
    expect(typeof response.body.error.message).toBe('string');
    expect(await counts()).toEqual(before);
  });

  it('names the offending field in a 400', async () => {
    const body = sale(100);
    const response = await post(`/entities/${books.entityId}/entries`, {
      ...body,
      postings: [body.postings[0], { ...body.postings[1], amountCents: 'x' }],
    }).expect(400);
    expect(response.body.error.message).toMatch(/^body\.postings\.1\.amountCents: /);
  });

  it('refuses a posting to another entity with 422 entity_mismatch', async () => {
    const before = await counts();
    const response = await post(`/entities/${books.entityId}/entries`, {
      postedOn: '2026-03-15',
      description: 'Owner paid from business',
      postings: [
        { accountId: other.accounts.checking, amountCents: 500 },
        { accountId: books.accounts.checking, amountCents: -500 },
      ],
    }).expect(422);
    expect(response.body.error.code).toBe('entity_mismatch');
    expect(await counts()).toEqual(before);
  });

  it('refuses malformed JSON and writes without an Idempotency-Key', async () => {
    const bad = await ledger.http
      .post(`/entities/${books.entityId}/entries`)
      .set('Idempotency-Key', key())
      .set('Content-Type', 'application/json')
      .send('{"postedOn":')
      .expect(400);
    expect(bad.body.error.code).toBe('invalid_json');
    // A NUL character in any string (PostgreSQL text cannot hold one) is refused before anything is read, not a 500.
    const before = await counts();
    const nul = await post(`/entities/${books.entityId}/entries`, { ...sale(100), description: 'coffee\u0000beans' }).expect(400);
    expect(nul.body.error).toMatchObject({ code: 'invalid_json', message: expect.stringMatching(/"description" holds a NUL character/) });
    expect(await counts()).toEqual(before);
    const keyless = await post(`/entities/${books.entityId}/entries`, sale(100), null).expect(400);
    expect(keyless.body.error.code).toBe('idempotency_key_required');
  });

  it('reverses an entry once, linking both ways, and refuses to reverse twice or reverse a reversal', async () => {
    const before = await balanceOf(books.accounts.checking);
    const original = await post(`/entities/${books.entityId}/entries`, sale(9_900)).expect(201);
    const reversal = await post(`/entries/${original.body.id}/reverse`, { description: 'Invoice voided' }).expect(201);
    expect(reversal.body).toMatchObject({ reversesEntryId: original.body.id, description: 'Invoice voided', postedOn: '2026-03-15' });
    expect(reversal.body.postings.map((p: { amountCents: number }) => p.amountCents)).toEqual([-9_900, 9_900]);
    expect(await balanceOf(books.accounts.checking)).toBe(before);
    const reread = await ledger.http.get(`/entries/${original.body.id}`).expect(200);
    expect(reread.body.reversedByEntryId).toBe(reversal.body.id);
    const twice = await post(`/entries/${original.body.id}/reverse`, {}).expect(409);
    expect(twice.body.error.code).toBe('already_reversed');
    const ofReversal = await post(`/entries/${reversal.body.id}/reverse`, {}).expect(422);
    expect(ofReversal.body.error.code).toBe('cannot_reverse_reversal');
  });
});

describe('idempotency', () => {
  it('returns the original result for the same key and body, and 409 for a different body', async () => {
    const idempotencyKey = key('retry');
    const before = await counts();
    const first = await post(`/entities/${books.entityId}/entries`, sale(4_200), idempotencyKey).expect(201);
    const again = await post(`/entities/${books.entityId}/entries`, sale(4_200), idempotencyKey).expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const conflict = await post(`/entities/${books.entityId}/entries`, sale(4_201), idempotencyKey).expect(409);
    expect(conflict.body.error.code).toBe('idempotency_conflict');
    expect((await counts()).entries).toBe(before.entries + 1);
  });

  it('does not keep the key of a failed request, so a corrected retry succeeds', async () => {
    const idempotencyKey = key('fix');
    const body = sale(100);
    await post(`/entities/${books.entityId}/entries`, { ...body, postings: [body.postings[0], { ...body.postings[1], amountCents: -99 }] }, idempotencyKey).expect(422);
    await post(`/entities/${books.entityId}/entries`, body, idempotencyKey).expect(201);
  });
});

describe('batch', () => {
  it('books all entries atomically and replays per-entry keys', async () => {
    const before = await counts();
    const entries = [1, 2, 3].map((n) => ({ ...sale(n * 100), idempotencyKey: `exec-1/node/item-${n}` }));
    const response = await post(`/entities/${books.entityId}/entries/batch`, { entries }).expect(201);
    expect(response.body.entries).toHaveLength(3);
    expect(response.body.entries.every((entry: { replayed: boolean }) => !entry.replayed)).toBe(true);
    // A retried execution sends the same items under a new request key: nothing is booked twice.
    const retried = await post(`/entities/${books.entityId}/entries/batch`, { entries: [...entries, { ...sale(400), idempotencyKey: 'exec-1/node/item-4' }] }).expect(201);
    expect(retried.body.entries.map((entry: { replayed: boolean }) => entry.replayed)).toEqual([true, true, true, false]);
    expect(retried.body.entries[0].id).toBe(response.body.entries[0].id);
    expect((await counts()).entries).toBe(before.entries + 4);
  });

  it('writes nothing when any entry breaks a rule, and reports every broken entry', async () => {
    const before = await counts();
    const good = sale(100);
    const entries = [
      good,
      { ...good, postings: [good.postings[0], { ...good.postings[1], amountCents: -1 }] },
      good,
      { ...good, postings: [{ ...good.postings[0], accountId: other.accounts.checking }, good.postings[1]] },
    ];
    const response = await post(`/entities/${books.entityId}/entries/batch`, { entries }).expect(422);
    expect(response.body.error.code).toBe('batch_rejected');
    expect(response.body.error.details.errors).toEqual([
      expect.objectContaining({ index: 1, code: 'unbalanced_entry' }),
      expect.objectContaining({ index: 3, code: 'entity_mismatch' }),
    ]);
    expect(await counts()).toEqual(before);
  });

  it('takes 1,000 entries and refuses 1,001', async () => {
    const entries = Array.from({ length: 1000 }, (_, index) => sale(index + 1, '2026-04-01'));
    const response = await post(`/entities/${books.entityId}/entries/batch`, { entries }).expect(201);
    expect(response.body.entries).toHaveLength(1000);
    const tooMany = await post(`/entities/${books.entityId}/entries/batch`, { entries: [...entries, sale(1)] }).expect(400);
    expect(tooMany.body.error.message).toMatch(/^body\.entries/);
  });
});

describe('listing', () => {
  it('pages newest first with a stable cursor and filters', async () => {
    const fresh = await createBooks(ledger, { accounts: { cash: 'cash', income: 'income_category', savings: 'savings' } });
    const days = ['2026-01-05', '2026-01-20', '2026-02-03', '2026-02-03', '2026-03-09'];
    for (const [index, postedOn] of days.entries()) {
      await post(`/entities/${fresh.entityId}/entries`, {
        postedOn,
        description: index === 4 ? 'Coffee beans' : `Sale ${index}`,
        postings: [
          { accountId: index % 2 ? fresh.accounts.savings : fresh.accounts.cash, amountCents: 100 + index },
          { accountId: fresh.accounts.income, amountCents: -(100 + index) },
        ],
      }).expect(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { postedOn: string; description: string }[]; nextCursor: string | null } } = await ledger.http
        .get(`/entities/${fresh.entityId}/entries`)
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .expect(200);
      seen.push(...page.body.items.map((item) => `${item.postedOn} ${item.description}`));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([
      '2026-03-09 Coffee beans',
      '2026-02-03 Sale 3',
      '2026-02-03 Sale 2',
      '2026-01-20 Sale 1',
      '2026-01-05 Sale 0',
    ]);
    const savings = await ledger.http.get(`/entities/${fresh.entityId}/entries`).query({ accountId: fresh.accounts.savings }).expect(200);
    expect(savings.body.items.map((item: { description: string }) => item.description)).toEqual(['Sale 3', 'Sale 1']);
    const february = await ledger.http.get(`/entities/${fresh.entityId}/entries`).query({ from: '2026-02-01', to: '2026-02-28' }).expect(200);
    expect(february.body.items).toHaveLength(2);
    const search = await ledger.http.get(`/entities/${fresh.entityId}/entries`).query({ q: 'coffee' }).expect(200);
    expect(search.body.items).toHaveLength(1);
    await ledger.http.get(`/entities/${fresh.entityId}/entries`).query({ cursor: 'garbage' }).expect(400);
    await ledger.http.get(`/entities/${fresh.entityId}/entries`).query({ limit: 501 }).expect(400);

    const asOf = await ledger.http.get(`/entities/${fresh.entityId}/balances`).query({ asOf: '2026-01-31' }).expect(200);
    const cash = asOf.body.accounts.find((account: { id: string }) => account.id === fresh.accounts.cash);
    expect(cash.balanceCents).toBe(100);
    expect(asOf.body.totalCentsByCurrency).toEqual({ USD: 0 });
  });
});

describe('the database enforces the invariants by itself', () => {
  it('refuses to update or delete entries and postings, or to touch balances directly', async () => {
    const entry = await post(`/entities/${books.entityId}/entries`, sale(300)).expect(201);
    const db = ledger.deps.db;
    await expect(sql`update journal_entries set description = 'edited' where id = ${entry.body.id}`.execute(db)).rejects.toThrow(/journal_immutable/);
    await expect(sql`delete from postings where entry_id = ${entry.body.id}`.execute(db)).rejects.toThrow(/journal_immutable/);
    await expect(sql`delete from journal_entries where id = ${entry.body.id}`.execute(db)).rejects.toThrow(/journal_immutable/);
    await expect(sql`update accounts set balance_cents = 0 where id = ${books.accounts.checking}`.execute(db)).rejects.toThrow(/only through postings/);
  });

  it('refuses an unbalanced entry at commit, and a posting to another entity\'s account', async () => {
    const db = ledger.deps.db;
    await expect(
      db.transaction().execute(async (trx) => {
        const entry = await sql<{ id: string }>`
          insert into journal_entries (entity_id, posted_on, description, source, content_hash, actor)
          values (${books.entityId}, '2026-01-01', 'raw', 'manual', 'x', 'test') returning id`.execute(trx);
        const id = entry.rows[0]?.id;
        await sql`insert into postings (entry_id, entity_id, account_id, currency, amount_cents)
          values (${id}, ${books.entityId}, ${books.accounts.checking}, 'USD', 100),
                 (${id}, ${books.entityId}, ${books.accounts.revenue}, 'USD', -99)`.execute(trx);
      }),
    ).rejects.toThrow(/unbalanced_entry/);
    await expect(
      db.transaction().execute(async (trx) => {
        const entry = await sql<{ id: string }>`
          insert into journal_entries (entity_id, posted_on, description, source, content_hash, actor)
          values (${books.entityId}, '2026-01-01', 'raw', 'manual', 'x', 'test') returning id`.execute(trx);
        const id = entry.rows[0]?.id;
        await sql`insert into postings (entry_id, entity_id, account_id, currency, amount_cents)
          values (${id}, ${books.entityId}, ${other.accounts.checking}, 'USD', 100),
                 (${id}, ${books.entityId}, ${books.accounts.revenue}, 'USD', -100)`.execute(trx);
      }),
    ).rejects.toThrow(/foreign key/);
    await expect(
      db.transaction().execute(async (trx) => {
        await sql`insert into journal_entries (entity_id, posted_on, description, source, content_hash, actor)
          values (${books.entityId}, '2026-01-01', 'empty', 'manual', 'x', 'test')`.execute(trx);
      }),
    ).rejects.toThrow(/unbalanced_entry/);
    // A posting to a mirror account (one with a counterparty entity) outside an inter-entity transfer.
    const mirror = await post(`/entities/${books.entityId}/accounts`, { name: 'Due to owner (raw)', kind: 'due_to_entity', counterpartyEntityId: other.entityId }).expect(201);
    await expect(
      db.transaction().execute(async (trx) => {
        const entry = await sql<{ id: string }>`
          insert into journal_entries (entity_id, posted_on, description, source, content_hash, actor)
          values (${books.entityId}, '2026-01-01', 'raw one-sided', 'manual', 'x', 'test') returning id`.execute(trx);
        const id = entry.rows[0]?.id;
        await sql`insert into postings (entry_id, entity_id, account_id, currency, amount_cents)
          values (${id}, ${books.entityId}, ${books.accounts.checking}, 'USD', 100),
                 (${id}, ${books.entityId}, ${mirror.body.id}, 'USD', -100)`.execute(trx);
      }),
    ).rejects.toThrow(/veil_account_reserved/);
    // A committed entry cannot gain postings later, even balanced ones.
    const committed = await post(`/entities/${books.entityId}/entries`, sale(400)).expect(201);
    await expect(
      sql`insert into postings (entry_id, entity_id, account_id, currency, amount_cents)
        values (${committed.body.id}, ${books.entityId}, ${books.accounts.checking}, 'USD', 5),
               (${committed.body.id}, ${books.entityId}, ${books.accounts.revenue}, 'USD', -5)`.execute(db),
    ).rejects.toThrow(/journal_immutable/);
    const report = await counts();
    expect(report).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
  });

  it('lets an entry be reversed once, whoever asks and however many at a time (migration 0036)', async () => {
    const db = ledger.deps.db;
    // Entries that reverse nothing are not limited by the rule: many at once, in one statement.
    const plain = await post(`/entities/${books.entityId}/entries/batch`, { entries: [sale(11), sale(12), sale(13)] }).expect(201);
    expect(plain.body.entries.map((entry: { reversesEntryId: string | null }) => entry.reversesEntryId)).toEqual([null, null, null]);
    // Six concurrent requests to reverse one entry, each with its own key: one reversal, five refusals.
    const original = await post(`/entities/${books.entityId}/entries`, sale(2_500)).expect(201);
    const answers = await Promise.all(Array.from({ length: 6 }, () => post(`/entries/${original.body.id}/reverse`, {})));
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const answer of answers.filter((candidate) => candidate.status === 409)) expect(answer.body.error.code).toBe('already_reversed');
    // The database refuses a second reversal by itself, however it is written.
    await expect(
      db.transaction().execute(async (trx) => {
        const entry = await sql<{ id: string }>`
          insert into journal_entries (entity_id, posted_on, description, source, content_hash, actor, reverses_entry_id)
          values (${books.entityId}, '2026-03-15', 'raw second reversal', 'manual', 'x', 'test', ${original.body.id}) returning id`.execute(trx);
        await sql`insert into postings (entry_id, entity_id, account_id, currency, amount_cents)
          values (${entry.rows[0]?.id}, ${books.entityId}, ${books.accounts.checking}, 'USD', -2500),
                 (${entry.rows[0]?.id}, ${books.entityId}, ${books.accounts.revenue}, 'USD', 2500)`.execute(trx);
      }),
    ).rejects.toThrow(/journal_entries_reverses_entry_id_key/);
    const { rows } = await sql<{ n: string }>`select count(*) as n from journal_entries where reverses_entry_id = ${original.body.id}`.execute(db);
    expect(Number(rows[0]?.n)).toBe(1);
    expect(await counts()).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
  });

  it('checks an entry marked checked_in_statement at the end of its statement, and every posting added to it later', async () => {
    const db = ledger.deps.db;
    const checking = books.accounts.checking as string;
    const revenue = books.accounts.revenue as string;
    const mirror = await post(`/entities/${books.entityId}/accounts`, { name: 'Due to owner (marked)', kind: 'due_to_entity', counterpartyEntityId: other.entityId }).expect(201);
    const before = await counts();
    // The entry and its postings in one statement, as the set-based booking writes them.
    const marked = (legs: readonly (readonly [string, number])[]) => sql<{ id: string }>`
      with entry as (
        insert into journal_entries (entity_id, posted_on, description, source, content_hash, actor, checked_in_statement)
        values (${books.entityId}, '2026-01-01', 'marked', 'import', 'x', 'test', true) returning id),
      legs as (
        insert into postings (entry_id, entity_id, account_id, currency, amount_cents)
        select entry.id, ${books.entityId}::uuid, leg.account_id, 'USD', leg.amount_cents
          from entry cross join (values ${sql.join(legs.map(([accountId, cents]) => sql`(${accountId}::uuid, ${cents}::bigint)`))}) as leg (account_id, amount_cents))
      select id from entry`;
    const inTransaction = (work: (trx: Transaction<Database>) => Promise<unknown>) => db.transaction().execute(work);
    // Refused by the statement itself: unbalanced, one-sided, without postings, on a mirror account.
    await expect(inTransaction((trx) => marked([[checking, 100], [revenue, -99]]).execute(trx))).rejects.toThrow(/unbalanced_entry: .* off by 1 USD/);
    await expect(inTransaction((trx) => marked([[checking, 100]]).execute(trx))).rejects.toThrow(/unbalanced_entry: .* 1 posting/);
    await expect(
      inTransaction((trx) =>
        sql`insert into journal_entries (entity_id, posted_on, description, source, content_hash, actor, checked_in_statement)
          values (${books.entityId}, '2026-01-01', 'marked, empty', 'import', 'x', 'test', true)`.execute(trx),
      ),
    ).rejects.toThrow(/unbalanced_entry: .* 0 posting/);
    await expect(inTransaction((trx) => marked([[checking, 100], [mirror.body.id, -100]]).execute(trx))).rejects.toThrow(/veil_account_reserved/);
    // A marked entry, balanced in its statement, cannot be unbalanced or put on a mirror account by a later one.
    await expect(
      inTransaction(async (trx) => {
        const { rows } = await marked([[checking, 100], [revenue, -100]]).execute(trx);
        await sql`insert into postings (entry_id, entity_id, account_id, currency, amount_cents)
          values (${rows[0]?.id}, ${books.entityId}, ${checking}, 'USD', 7)`.execute(trx);
      }),
    ).rejects.toThrow(/unbalanced_entry: .* off by 7 USD/);
    await expect(
      inTransaction(async (trx) => {
        const { rows } = await marked([[checking, 100], [revenue, -100]]).execute(trx);
        await sql`insert into postings (entry_id, entity_id, account_id, currency, amount_cents)
          values (${rows[0]?.id}, ${books.entityId}, ${checking}, 'USD', 7), (${rows[0]?.id}, ${books.entityId}, ${mirror.body.id}, 'USD', -7)`.execute(trx);
      }),
    ).rejects.toThrow(/veil_account_reserved/);
    expect(await counts()).toEqual(before);
    // A balanced marked entry commits, and later balanced postings in its transaction keep it balanced.
    await inTransaction(async (trx) => {
      const { rows } = await marked([[checking, 100], [revenue, -100]]).execute(trx);
      await sql`insert into postings (entry_id, entity_id, account_id, currency, amount_cents)
        values (${rows[0]?.id}, ${books.entityId}, ${checking}, 'USD', 7), (${rows[0]?.id}, ${books.entityId}, ${revenue}, 'USD', -7)`.execute(trx);
    });
    expect(await counts()).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
  });

  it('refuses bank lines and events that name nothing, checked per statement (migration 0038)', async () => {
    const db = ledger.deps.db;
    const checking = books.accounts.checking as string;
    const nowhere = '00000000-0000-4000-8000-000000000000';
    const line = (entityId: string, accountId: string, currency: string, externalId: string) =>
      sql`(${entityId}::uuid, ${accountId}::uuid, ${currency}, 'manual', ${externalId}, '2026-01-02', 100)`;
    const insertLines = (rows: ReturnType<typeof line>[]) =>
      sql`insert into bank_lines (entity_id, account_id, currency, source, external_id, posted_on, amount_cents) values ${sql.join(rows)}`.execute(db);
    const linesNamed = async (prefix: string) =>
      Number((await sql<{ count: string }>`select count(*) as count from bank_lines where external_id like ${`${prefix}%`}`.execute(db)).rows[0]?.count);
    // Another entity's account, the wrong currency, an account that does not exist: each refused, with the one good
    // row of the same statement, as the foreign key refused them.
    for (const bad of [line(other.entityId, checking, 'USD', 'ref-0038-a'), line(books.entityId, checking, 'EUR', 'ref-0038-b'), line(books.entityId, nowhere, 'USD', 'ref-0038-c')]) {
      await expect(insertLines([line(books.entityId, checking, 'USD', 'ref-0038-ok'), bad])).rejects.toMatchObject({
        code: '23503',
        constraint: 'bank_lines_entity_id_account_id_currency_fkey',
      });
    }
    expect(await linesNamed('ref-0038')).toBe(0);
    await insertLines([line(books.entityId, checking, 'USD', 'ref-0038-ok')]);
    expect(await linesNamed('ref-0038')).toBe(1);
    // What was checked stays true: a bank line keeps its entity, account and currency; an account and an entity keep their id.
    await expect(sql`update bank_lines set account_id = ${other.accounts.checking}, entity_id = ${other.entityId} where external_id = 'ref-0038-ok'`.execute(db)).rejects.toThrow(
      /cannot change entity, account or currency/,
    );
    await expect(sql`update bank_lines set currency = 'EUR' where external_id = 'ref-0038-ok'`.execute(db)).rejects.toThrow(/cannot change entity, account or currency/);
    await sql`update bank_lines set memo = 'still allowed' where external_id = 'ref-0038-ok'`.execute(db);
    // A line's entry must be an entry of its entity, and its rule a rule, whether the line is inserted or updated.
    const entry = await post(`/entities/${books.entityId}/entries`, sale(500)).expect(201);
    const otherEntry = await post(`/entities/${other.entityId}/entries`, {
      postedOn: '2026-03-15',
      description: 'other books',
      postings: [
        { accountId: other.accounts.checking, amountCents: 5 },
        { accountId: other.accounts.checking, amountCents: -5 },
      ],
    }).expect(201);
    const rule = await sql<{ id: string }>`
      insert into categorisation_rules (entity_id, position, name, enabled, conditions, action)
      values (${books.entityId}, 0, 'rule 0038', false, '{"payeeContains":"x"}', '{}') returning id`.execute(db);
    const ruleId = rule.rows[0]?.id as string;
    const booked = (externalId: string, entryId: string | null, lineRuleId: string | null) =>
      sql`insert into bank_lines (entity_id, account_id, currency, source, external_id, posted_on, amount_cents, entry_id, rule_id, status)
        values (${books.entityId}, ${checking}, 'USD', 'manual', ${externalId}, '2026-01-02', 100, ${entryId}, ${lineRuleId}, 'booked')`.execute(db);
    await expect(booked('ref-0038-e', otherEntry.body.id, null)).rejects.toMatchObject({ code: '23503', constraint: 'bank_lines_entity_id_entry_id_fkey' });
    await expect(booked('ref-0038-e', nowhere, null)).rejects.toMatchObject({ code: '23503', constraint: 'bank_lines_entity_id_entry_id_fkey' });
    await expect(booked('ref-0038-e', entry.body.id, nowhere)).rejects.toMatchObject({ code: '23503', constraint: 'bank_lines_rule_id_fkey' });
    await booked('ref-0038-e', entry.body.id, ruleId);
    await expect(sql`update bank_lines set entry_id = ${otherEntry.body.id} where external_id = 'ref-0038-ok'`.execute(db)).rejects.toMatchObject({
      code: '23503',
      constraint: 'bank_lines_entity_id_entry_id_fkey',
    });
    await expect(sql`update bank_lines set rule_id = ${nowhere} where external_id = 'ref-0038-ok'`.execute(db)).rejects.toMatchObject({
      code: '23503',
      constraint: 'bank_lines_rule_id_fkey',
    });
    await sql`update bank_lines set rule_id = ${ruleId}, entry_id = ${entry.body.id} where external_id = 'ref-0038-ok'`.execute(db);
    // A rule its lines still name is not deleted; once they forget it, it is.
    await expect(sql`delete from categorisation_rules where id = ${ruleId}`.execute(db)).rejects.toMatchObject({ code: '23503', constraint: 'bank_lines_rule_id_fkey' });
    await sql`update bank_lines set rule_id = null where rule_id = ${ruleId}`.execute(db);
    await sql`delete from categorisation_rules where id = ${ruleId}`.execute(db);
    expect(await linesNamed('ref-0038')).toBe(2);
    await expect(sql`update accounts set id = ${nowhere} where id = ${checking}`.execute(db)).rejects.toThrow(/an account cannot change id/);
    await expect(sql`update entities set id = ${nowhere} where id = ${books.entityId}`.execute(db)).rejects.toThrow(/an entity cannot change id/);
    // Events name an entity, and are never rewritten; an entity its events name is not deleted.
    await expect(sql`insert into ledger_events (entity_id, type, payload) values (${nowhere}, 'entry.posted', '{}')`.execute(db)).rejects.toMatchObject({
      code: '23503',
      constraint: 'ledger_events_entity_id_fkey',
    });
    const fresh = await createBooks(ledger, { name: 'Events only', accounts: {} });
    await sql`insert into ledger_events (entity_id, type, payload) values (${fresh.entityId}, 'entity.noted', '{}')`.execute(db);
    await expect(sql`update ledger_events set payload = '{"edited":true}' where entity_id = ${fresh.entityId}`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from entities where id = ${fresh.entityId}`.execute(db)).rejects.toMatchObject({ code: '23503', constraint: 'ledger_events_entity_id_fkey' });
    // An entry of an entity that does not exist cannot commit: its postings need an account of that entity.
    await expect(
      db.transaction().execute(async (trx) => {
        const entry = await sql<{ id: string }>`
          insert into journal_entries (entity_id, posted_on, description, source, content_hash, actor)
          values (${nowhere}, '2026-01-01', 'no entity', 'manual', 'x', 'test') returning id`.execute(trx);
        await sql`insert into postings (entry_id, entity_id, account_id, currency, amount_cents)
          values (${entry.rows[0]?.id}, ${nowhere}, ${checking}, 'USD', 100), (${entry.rows[0]?.id}, ${nowhere}, ${books.accounts.revenue}, 'USD', -100)`.execute(trx);
      }),
    ).rejects.toThrow(/foreign key/);
    await expect(
      sql`insert into journal_entries (entity_id, posted_on, description, source, content_hash, actor) values (${nowhere}, '2026-01-01', 'no entity', 'manual', 'x', 'test')`.execute(db),
    ).rejects.toThrow(/unbalanced_entry/);
  });
});

describe('service surface', () => {
  it('serves health, readiness, the OpenAPI document and its UI', async () => {
    await ledger.http.get('/healthz').expect(200, { status: 'ok' });
    const ready = await ledger.http.get('/readyz').expect(200);
    expect(ready.body.status).toBe('ready');
    // Not ready until every migration ran: an empty database, then one whose bookkeeping lacks the newest one.
    const databaseUrl = process.env.DATABASE_URL as string;
    const schema = `veil_readyz_${key().replace(/\W/g, '').slice(-12).toLowerCase()}`;
    if (BACKEND === 'postgres') await sql.raw(`create schema ${schema}`).execute(ledger.deps.db);
    const empty = await openDatabase(BACKEND === 'postgres' ? { databaseUrl, schema } : {});
    try {
      expect(await migrationsCurrent(empty.db)).toBe(false);
      await migrateToLatest(empty.db);
      expect(await migrationsCurrent(empty.db)).toBe(true);
      await sql`delete from kysely_migration where name = (select max(name) from kysely_migration)`.execute(empty.db);
      expect(await migrationsCurrent(empty.db)).toBe(false);
    } finally {
      await empty.close();
      if (BACKEND === 'postgres') await dropSchemaLocked(databaseUrl, schema);
    }
    const openapi = await ledger.http.get('/openapi.json').expect(200);
    expect(openapi.body.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(['/entities', '/entities/{entityId}/entries', '/entities/{entityId}/entries/batch', '/entries/{entryId}/reverse']),
    );
    expect(openapi.body.components.schemas.NewEntry.properties.postings).toBeDefined();
    const docs = await ledger.http.get('/docs/').expect(200);
    expect(docs.text).toContain('swagger-ui');
    const unknown = await ledger.http.get('/nope').expect(404);
    expect(unknown.body.error.code).toBe('not_found');
    expect(unknown.headers['x-request-id']).toMatch(/.+/);
  });
});

describe('moving money between books', () => {
  it('needs a session that passed MFA, and writes nothing without one', async () => {
    const before = await counts();
    const response = await post('/transfers', {
      classification: 'owner_draw',
      fromEntityId: books.entityId,
      fromAccountId: books.accounts.checking,
      toEntityId: other.entityId,
      toAccountId: other.accounts.checking,
      amountCents: 100,
      postedOn: '2026-03-20',
    }).expect(403);
    expect(response.body.error.code).toBe('mfa_required');
    expect(await counts()).toEqual(before);
  });
});
