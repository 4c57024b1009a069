import { createHash } from 'node:crypto';
import { unzipSync } from 'fflate';
import { sql } from 'kysely';
import { createBooks, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

let ledger: TestLedger;
let llc: Books;
let owner: Books;

beforeAll(async () => {
  ledger = await startTestLedger({ ownerMfa: true });
  llc = await createBooks(ledger, { name: 'Binder LLC', accounts: { checking: 'checking' } });
  owner = await createBooks(ledger, { kind: 'personal', name: 'Robin Owner', accounts: { checking: 'checking' } });
});
afterAll(() => ledger.close());

function binary(response: { body: unknown }) {
  return response.body as Buffer;
}

function get(path: string) {
  return ledger.http
    .get(path)
    .buffer(true)
    .parse((res, callback) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => callback(null, Buffer.concat(chunks)));
    });
}

async function crossing(classification: string, postedOn: string, amountCents: number, extra: Record<string, unknown> = {}) {
  const intoLlc = classification === 'capital_contribution' || classification === 'loan';
  const [from, to] = intoLlc ? [owner, llc] : [llc, owner];
  const response = await ledger.http
    .post('/transfers')
    .set('Idempotency-Key', key())
    .send({
      classification,
      fromEntityId: from.entityId,
      fromAccountId: from.accounts.checking,
      toEntityId: to.entityId,
      toAccountId: to.accounts.checking,
      amountCents,
      postedOn,
      ...extra,
    })
    .expect(201);
  return response.body;
}

describe('veil documents', () => {
  let noteId: string;

  it('stores a promissory note with its schedule, served as Markdown whose SHA-256 matches the record', async () => {
    await crossing('capital_contribution', '2025-12-30', 100_000, { memo: 'Seed capital *not* a loan' });
    const loan = await crossing('loan', '2026-02-01', 300_000, { loan: { annualRateBasisPoints: 500, termMonths: 36, paymentFrequency: 'monthly' } });
    noteId = loan.document.id;
    const markdown = await ledger.http.get(`/documents/${noteId}/markdown`).expect(200);
    expect(markdown.headers['content-type']).toMatch(/^text\/markdown/);
    expect(markdown.text).toContain('# Promissory note');
    expect(markdown.text).toContain('| 36 | 2029-02-01 |');
    expect(createHash('sha256').update(markdown.text).digest('hex')).toBe(loan.document.sha256);
    const json = await ledger.http.get(`/documents/${noteId}`).expect(200);
    expect(json.body).toMatchObject({ kind: 'promissory_note', year: 2026, sha256: loan.document.sha256, markdown: markdown.text });
  });

  it('escapes user text so a memo cannot add Markdown structure', async () => {
    const list = await ledger.http.get(`/entities/${llc.entityId}/documents?year=2025`).expect(200);
    expect(list.body.items).toHaveLength(1);
    const document = await ledger.http.get(`/documents/${list.body.items[0].id}`).expect(200);
    expect(document.body.markdown).toContain('Seed capital \\*not\\* a loan');
  });

  it('renders the same document as a PDF, identically each time', async () => {
    const first = await get(`/documents/${noteId}/pdf`).expect(200);
    expect(first.headers['content-type']).toBe('application/pdf');
    expect(binary(first).subarray(0, 5).toString()).toBe('%PDF-');
    const second = await get(`/documents/${noteId}/pdf`).expect(200);
    expect(Buffer.compare(binary(first), binary(second))).toBe(0);
  });

  it('lists documents per entity and year, and zips the year into a binder with an index of hashes', async () => {
    await crossing('owner_draw', '2026-05-01', 10_000);
    const list = await ledger.http.get(`/entities/${owner.entityId}/documents?year=2026`).expect(200);
    expect(list.body.items.map((item: { kind: string }) => item.kind)).toEqual(['promissory_note', 'draw_record']);
    const binder = await get(`/entities/${llc.entityId}/binder/2026`).expect(200);
    expect(binder.headers['content-type']).toBe('application/zip');
    const files = unzipSync(new Uint8Array(binary(binder)));
    const names = Object.keys(files).sort();
    expect(names.filter((name) => name.endsWith('.md'))).toHaveLength(3);
    expect(names.filter((name) => name.endsWith('.pdf'))).toHaveLength(2);
    const index = new TextDecoder().decode(files['veil-binder-2026/index.md']);
    for (const item of list.body.items) expect(index).toContain(item.sha256);
    for (const name of names.filter((file) => file.endsWith('.md') && !file.endsWith('index.md'))) {
      const hash = createHash('sha256').update(files[name] as Uint8Array).digest('hex');
      expect(index).toContain(hash);
    }
  });

  it('answers 404 for an unknown document and 400 for a bad year', async () => {
    const missing = await ledger.http.get('/documents/00000000-0000-4000-8000-000000000000/pdf').expect(404);
    expect(missing.body.error.code).toBe('not_found');
    const badYear = await ledger.http.get(`/entities/${llc.entityId}/binder/20265`).expect(400);
    expect(badYear.body.error.code).toBe('invalid_request');
  });

  it('the database itself refuses to edit a document or transfer, or to link entries that do not pair', async () => {
    const db = ledger.deps.db;
    await expect(sql`update veil_documents set markdown = 'forged' where id = ${noteId}`.execute(db)).rejects.toThrow(/journal_immutable/);
    await expect(sql`delete from inter_entity_transfers`.execute(db)).rejects.toThrow(/journal_immutable/);
    // Two ordinary entries, one per entity, dressed up as a transfer: neither books against the other entity.
    const entry = async (books: Books, other: string) =>
      (
        await ledger.http
          .post(`/entities/${books.entityId}/entries`)
          .set('Idempotency-Key', key())
          .send({
            postedOn: '2026-06-01',
            description: 'not a crossing',
            postings: [
              { accountId: books.accounts.checking, amountCents: 5 },
              { accountId: other, amountCents: -5 },
            ],
          })
          .expect(201)
      ).body.id as string;
    const extra = await ledger.http.post(`/entities/${llc.entityId}/accounts`).set('Idempotency-Key', key()).send({ name: 'Sales', kind: 'income_category' }).expect(201);
    const extraOwner = await ledger.http.post(`/entities/${owner.entityId}/accounts`).set('Idempotency-Key', key()).send({ name: 'Gifts', kind: 'income_category' }).expect(201);
    const fromEntry = await entry(llc, extra.body.id);
    const toEntry = await entry(owner, extraOwner.body.id);
    await expect(
      db.transaction().execute((trx) =>
        sql`insert into inter_entity_transfers (classification, from_entity_id, to_entity_id, from_account_id, to_account_id,
              from_entry_id, to_entry_id, amount_cents, currency, posted_on, actor)
            values ('owner_draw', ${llc.entityId}, ${owner.entityId}, ${llc.accounts.checking}, ${owner.accounts.checking},
              ${fromEntry}, ${toEntry}, 5, 'USD', '2026-06-01', 'test')`.execute(trx),
      ),
    ).rejects.toThrow(/veil_pairing/);
  });
});
