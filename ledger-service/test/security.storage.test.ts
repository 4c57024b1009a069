import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createBooks, type Books } from './support/books';
import { enableMfa, totpAt } from './support/mfa';
import { key, startTestLedger, type TestLedger } from './support/harness';
import { decryptSecret, encryptSecret, parseKeyring, withNewActiveKey } from '../src/security/crypto';
import { loadKeyring } from '../src/security/setup';
import { auditedTransaction } from '../src/services/audit';
import type { Actor } from '../src/services/context';
import { readSecret, rotateEncryption, storeSecret } from '../src/services/secrets';

let ledger: TestLedger;
let books: Books;
let ownerActor: Actor;

const PLAID_TOKEN = 'access-sandbox-8f2c1d9e-4b7a-4c3e-9d1f-plaintext-marker';

beforeAll(async () => {
  ledger = await startTestLedger();
  books = await createBooks(ledger, { accounts: { checking: 'checking', revenue: 'income_category' } });
  ownerActor = { type: 'user', id: ledger.owner.id, userId: ledger.owner.id, scopes: ['read', 'write', 'move_money'], entityScope: 'all', mfa: true };
});
afterAll(() => ledger.close());

/** Every row of every table of this database, as text: what a stolen backup would contain. */
async function dumpDatabase(): Promise<string> {
  const tables = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(ledger.deps.db);
  expect(tables.rows.map((row) => row.name)).toEqual(expect.arrayContaining(['users', 'encrypted_secrets', 'audit_log']));
  const parts: string[] = [];
  for (const { name } of tables.rows) {
    const rows = await sql<{ dump: string | null }>`select json_agg(t)::text as dump from ${sql.table(name)} t`.execute(ledger.deps.db);
    parts.push(`${name}: ${rows.rows[0]?.dump ?? ''}`);
  }
  return parts.join('\n');
}

async function storePlaidToken(plaintext = PLAID_TOKEN): Promise<string> {
  return auditedTransaction(ledger.deps.db, async (trx) => {
    const { id } = await storeSecret(trx, ledger.deps.security.keyring, ownerActor, { purpose: 'plaid.access_token', entityId: books.entityId, plaintext });
    return id;
  });
}

describe('encryption at rest', () => {
  it('keeps no plaintext TOTP secret or stored secret anywhere in the database', async () => {
    const { secret } = await enableMfa(ledger, ledger.owner).then((result) => {
      ledger.owner = result.user;
      return result;
    });
    const secretId = await storePlaidToken();
    expect(await readSecret(ledger.deps.db, ledger.deps.security.keyring, ownerActor, secretId)).toBe(PLAID_TOKEN);

    const dump = await dumpDatabase();
    expect(dump).toContain(secretId);
    expect(dump).toContain('"key_id"');
    expect(dump).not.toContain(PLAID_TOKEN);
    expect(dump).not.toContain('plaintext-marker');
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(secret.toLowerCase());
    // The audit row of the stored secret says what happened without the secret itself.
    const audit = await ledger.http.get('/audit').query({ action: 'secret.stored' }).expect(200);
    expect(audit.body.items[0].after).toEqual({ purpose: 'plaid.access_token', secret: '[redacted]' });
  });

  it("binds a ciphertext to its row and refuses another user's secret like a missing one", async () => {
    const first = await storePlaidToken('first-secret-value');
    const second = await storePlaidToken('second-secret-value');
    const row = await ledger.deps.db.selectFrom('encryptedSecrets').select('ciphertext').where('id', '=', first).executeTakeFirstOrThrow();
    const original = await ledger.deps.db.selectFrom('encryptedSecrets').select('ciphertext').where('id', '=', second).executeTakeFirstOrThrow();
    // Copy the first ciphertext onto the second row: authenticated data (the row id) no longer matches.
    await ledger.deps.db.updateTable('encryptedSecrets').set({ ciphertext: row.ciphertext }).where('id', '=', second).execute();
    await expect(readSecret(ledger.deps.db, ledger.deps.security.keyring, ownerActor, second)).rejects.toThrow(/does not open/);
    // A rotation would refuse to run over the broken row (all or nothing): put it back.
    await expect(rotateEncryption(ledger.deps.db, withNewActiveKey(ledger.deps.security.keyring))).rejects.toThrow(/does not open/);
    await ledger.deps.db.updateTable('encryptedSecrets').set({ ciphertext: original.ciphertext }).where('id', '=', second).execute();
    const stranger = await ledger.createUser();
    const strangerActor: Actor = { ...ownerActor, id: stranger.id, userId: stranger.id };
    await expect(readSecret(ledger.deps.db, ledger.deps.security.keyring, strangerActor, first)).rejects.toMatchObject({ code: 'not_found' });
    const envelope = encryptSecret(ledger.deps.security.keyring, 'x', 'context-a');
    expect(() => decryptSecret(ledger.deps.security.keyring, envelope, 'context-b')).toThrow(/does not open/);
    const tampered = `${envelope.slice(0, -3)}${envelope.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    expect(() => decryptSecret(ledger.deps.security.keyring, tampered, 'context-a')).toThrow(/does not open/);
  });

  it('rotates keys: everything is re-encrypted under the new key and still opens, TOTP included', async () => {
    const secretId = await storePlaidToken('rotate-me');
    const oldKeyId = ledger.deps.security.keyring.activeKeyId;
    const rotated = withNewActiveKey(ledger.deps.security.keyring);
    const report = await rotateEncryption(ledger.deps.db, rotated);
    expect(report.activeKeyId).toBe(rotated.activeKeyId);
    expect(report.reencrypted.totpSecrets).toBe(1);
    expect(report.reencrypted.secrets).toBeGreaterThanOrEqual(1);
    const keyIds = await ledger.deps.db.selectFrom('encryptedSecrets').select('keyId').distinct().execute();
    expect(keyIds.map((row) => row.keyId)).toEqual([rotated.activeKeyId]);

    // The old key can now be dropped: only the new one is needed.
    const onlyNew = { activeKeyId: rotated.activeKeyId, keys: new Map([[rotated.activeKeyId, rotated.keys.get(rotated.activeKeyId) as Buffer]]) };
    expect(onlyNew.activeKeyId).not.toBe(oldKeyId);
    expect(await readSecret(ledger.deps.db, onlyNew, ownerActor, secretId)).toBe('rotate-me');
    ledger.deps.security.keyring = onlyNew;
    const user = await ledger.deps.db.selectFrom('users').select('totpSecretEncrypted').where('id', '=', ledger.owner.id).executeTakeFirstOrThrow();
    expect(user.totpSecretEncrypted).toMatch(new RegExp(`^v1\\.${rotated.activeKeyId}\\.`));
    const secret = decryptSecret(onlyNew, user.totpSecretEncrypted as string, `users.totp:${ledger.owner.id}`);
    ledger.clock.advance(30_000);
    await ledger.login(ledger.owner.email, ledger.owner.password, { totpCode: totpAt(secret, ledger.clock.now()) });
    const again = await rotateEncryption(ledger.deps.db, onlyNew);
    expect(again.reencrypted).toEqual({ secrets: 0, totpSecrets: 0 });
  });

  it('creates the embedded key file once, with 0600 permissions, and parses explicit keys with ids', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-keys-'));
    const file = path.join(dir, 'secrets', 'encryption-keys');
    const first = loadKeyring({ encryptionKey: undefined, encryptionKeyFile: file });
    expect(first.source).toBe('file');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const second = loadKeyring({ encryptionKey: undefined, encryptionKeyFile: file });
    expect(second.keyring.activeKeyId).toBe(first.keyring.activeKeyId);
    const material = Buffer.alloc(32, 7).toString('base64');
    const explicit = parseKeyring(`k2:${material},k1:${Buffer.alloc(32, 1).toString('base64')}`);
    expect(explicit.activeKeyId).toBe('k2');
    expect([...explicit.keys.keys()]).toEqual(['k2', 'k1']);
    expect(() => parseKeyring('k1:c2hvcnQ=')).toThrow(/32 bytes/);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('audit trail', () => {
  it('records every state change with actor, request id and before/after, and nothing for a refused request', async () => {
    const account = await ledger.http
      .post(`/entities/${books.entityId}/accounts`)
      .set('Idempotency-Key', key())
      .set('X-Request-Id', 'req-audit-1')
      .set('X-N8N-Execution-Id', 'exec-77')
      .send({ name: 'Audited savings', kind: 'savings' })
      .expect(201);
    await ledger.http.patch(`/accounts/${account.body.id}`).set('Idempotency-Key', key()).send({ name: 'Renamed savings' }).expect(200);
    const entry = await ledger.http
      .post(`/entities/${books.entityId}/entries`)
      .set('Idempotency-Key', key())
      .send({
        postedOn: '2026-06-01',
        description: 'Audited sale',
        postings: [
          { accountId: books.accounts.checking, amountCents: 5_000 },
          { accountId: books.accounts.revenue, amountCents: -5_000 },
        ],
      })
      .expect(201);
    await ledger.http.post(`/entries/${entry.body.id}/reverse`).set('Idempotency-Key', key()).send({}).expect(201);

    const before = await ledger.deps.db.selectFrom('auditLog').select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow();
    await ledger.http
      .post(`/entities/${books.entityId}/entries`)
      .set('Idempotency-Key', key())
      .send({ postedOn: '2026-06-01', description: 'Unbalanced', postings: [{ accountId: books.accounts.checking, amountCents: 1 }, { accountId: books.accounts.revenue, amountCents: -2 }] })
      .expect(422);
    const after = await ledger.deps.db.selectFrom('auditLog').select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);

    const created = await ledger.http.get('/audit').query({ objectId: account.body.id }).expect(200);
    expect(created.body.items.map((row: { action: string }) => row.action)).toEqual(['account.updated', 'account.created']);
    const [updated, opened] = created.body.items;
    expect(opened).toMatchObject({ actorType: 'user', actorId: ledger.owner.id, executionId: 'exec-77', requestId: 'req-audit-1', entityId: books.entityId, before: null });
    expect(updated.before.name).toBe('Audited savings');
    expect(updated.after.name).toBe('Renamed savings');
    const entries = await ledger.http.get('/audit').query({ entityId: books.entityId, objectType: 'entry' }).expect(200);
    expect(entries.body.items.map((row: { action: string }) => row.action).slice(0, 2)).toEqual(['entry.reversal_booked', 'entry.booked']);
    expect(entries.body.items[1].after.postings).toHaveLength(2);

    const sessions = await ledger.http.get('/audit').query({ objectType: 'session' }).expect(200);
    expect(sessions.body.items.length).toBeGreaterThan(0);
  });

  it('pages with a cursor and refuses a forged one', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { seq: number }[]; nextCursor: string | null } } = await ledger.http
        .get('/audit')
        .query({ limit: 3, ...(cursor ? { cursor } : {}) })
        .expect(200);
      seen.push(...page.body.items.map((row) => row.seq));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.length).toBeGreaterThan(6);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
    expect(new Set(seen).size).toBe(seen.length);
    await ledger.http.get('/audit').query({ cursor: 'abc' }).expect(400);
    await ledger.http.get('/audit').query({ limit: 501 }).expect(400);
  });

  it('keeps one unbroken chain under concurrent writers', async () => {
    await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        ledger.http
          .post(`/entities/${books.entityId}/entries`)
          .set('Idempotency-Key', key())
          .send({
            postedOn: '2026-07-01',
            description: `Concurrent ${index}`,
            postings: [
              { accountId: books.accounts.checking, amountCents: 100 + index },
              { accountId: books.accounts.revenue, amountCents: -(100 + index) },
            ],
          })
          .expect(201),
      ),
    );
    const verdict = await ledger.http.post('/audit/verify').expect(200);
    expect(verdict.body).toMatchObject({ ok: true, firstBrokenSeq: null });
    const rows = await ledger.deps.db.selectFrom('auditLog').select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow();
    expect(verdict.body.checked).toBe(Number(rows.n));
  });

  it('refuses UPDATE and DELETE on the audit log, and verify names a row tampered with behind the trigger', async () => {
    const db = ledger.deps.db;
    await expect(sql`update audit_log set action = 'x' where seq = 1`.execute(db)).rejects.toThrow(/audit_immutable/);
    await expect(sql`delete from audit_log where seq = 1`.execute(db)).rejects.toThrow(/audit_immutable/);
    await expect(sql`truncate audit_log`.execute(db)).rejects.toThrow(/audit_immutable/);

    const target = await db.selectFrom('auditLog').select(['seq']).where('action', '=', 'entry.booked').orderBy('seq').executeTakeFirstOrThrow();
    const seq = Number(target.seq);
    await sql`alter table audit_log disable trigger audit_log_append_only`.execute(db);
    await sql`update audit_log set after = jsonb_set(after, '{description}', '"Edited after the fact"') where seq = ${seq}`.execute(db);
    await sql`alter table audit_log enable trigger audit_log_append_only`.execute(db);
    const verdict = await ledger.http.post('/audit/verify').expect(200);
    expect(verdict.body).toMatchObject({ ok: false, firstBrokenSeq: seq, reason: 'content does not match its hash' });

    // A member (not the owner) may not run the verification.
    const member = await ledger.createUser();
    await ledger.as(member.accessToken).post('/audit/verify').expect(403);
  });
});
