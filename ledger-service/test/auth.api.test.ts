import { sql } from 'kysely';
import { enableMfa, totpAt } from './support/mfa';
import { startTestLedger, TEST_PASSWORD, type TestLedger } from './support/harness';

let ledger: TestLedger;

// A fixed instant for everything that depends on time (TOTP steps, token expiry, backoff).
const T0 = Date.parse('2026-11-24T12:00:00.000Z');

beforeAll(async () => {
  ledger = await startTestLedger();
  ledger.clock.set(T0);
  ledger.owner = await ledger.login(ledger.owner.email, ledger.owner.password);
});
afterAll(() => ledger.close());

async function count(table: string): Promise<number> {
  const result = await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(ledger.deps.db);
  return Number(result.rows[0]?.n);
}

describe('registration', () => {
  it('makes the first user the owner and admits later users only by invitation', async () => {
    const me = await ledger.http.get('/auth/me').expect(200);
    expect(me.body).toMatchObject({ role: 'owner', mfaEnabled: false, actor: { type: 'user', mfa: false } });
    const closed = await ledger.anonymous.post('/auth/register').send({ email: 'walk-in@veil.test', password: TEST_PASSWORD }).expect(403);
    expect(closed.body.error.code).toBe('registration_closed');
    const invitation = await ledger.http.post('/auth/invitations').send({ email: 'invited@veil.test' }).expect(201);
    const wrongEmail = await ledger.anonymous
      .post('/auth/register')
      .send({ email: 'other@veil.test', password: TEST_PASSWORD, invitationToken: invitation.body.invitationToken })
      .expect(401);
    expect(wrongEmail.body.error.code).toBe('invalid_token');
    const member = await ledger.anonymous
      .post('/auth/register')
      .send({ email: 'Invited@veil.test', password: TEST_PASSWORD, invitationToken: invitation.body.invitationToken })
      .expect(201);
    expect(member.body).toMatchObject({ email: 'invited@veil.test', role: 'member' });
    await ledger.anonymous
      .post('/auth/register')
      .send({ email: 'invited@veil.test', password: TEST_PASSWORD, invitationToken: invitation.body.invitationToken })
      .expect(401);
    const memberSession = await ledger.login('invited@veil.test', TEST_PASSWORD);
    const notOwner = await ledger.as(memberSession.accessToken).post('/auth/invitations').send({ email: 'x@veil.test' }).expect(403);
    expect(notOwner.body.error.code).toBe('forbidden');
  });

  it.each([
    ['too short', 'Sh0rt-pass'],
    ['one repeated character', 'aaaaaaaaaaaaaaaa'],
    ['a common password', 'correcthorsebatterystaple'],
    ['containing the email name', 'weakling-Zq9!x'],
  ])('refuses a password that is %s, and writes nothing', async (_label, password) => {
    const invitation = await ledger.http.post('/auth/invitations').send({ email: 'weakling@veil.test' }).expect(201);
    const users = await count('users');
    const response = await ledger.anonymous
      .post('/auth/register')
      .send({ email: 'weakling@veil.test', password, invitationToken: invitation.body.invitationToken })
      .expect(422);
    expect(response.body.error).toMatchObject({ code: 'weak_password', details: { rules: expect.any(Array) } });
    expect(await count('users')).toBe(users);
  });

  it('stores an argon2id hash, never the password', async () => {
    const row = await ledger.deps.db.selectFrom('users').select('passwordHash').where('id', '=', ledger.owner.id).executeTakeFirstOrThrow();
    expect(row.passwordHash).toMatch(/^\$argon2id\$v=19\$/);
    expect(row.passwordHash).not.toContain(TEST_PASSWORD);
  });

  it('refuses unknown fields and oversized bodies on auth routes', async () => {
    const extra = await ledger.anonymous.post('/auth/login').send({ email: ledger.owner.email, password: 'x', admin: true }).expect(400);
    expect(extra.body.error.code).toBe('invalid_request');
    const huge = await ledger.anonymous.post('/auth/login').send({ email: ledger.owner.email, password: 'x'.repeat(20_000) }).expect(413);
    expect(huge.body.error.code).toBe('payload_too_large');
  });
});

describe('sessions', () => {
  it('rotates the refresh token on every use, and a reused one revokes the whole family', async () => {
    const user = await ledger.createUser();
    const first = await ledger.anonymous.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    expect(first.body.refreshToken).not.toBe(user.refreshToken);
    const second = await ledger.anonymous.post('/auth/refresh').send({ refreshToken: first.body.refreshToken }).expect(200);
    await ledger.as(second.body.accessToken).get('/auth/me').expect(200);

    // The first token was stolen and replayed: the session ends, for the thief and for the victim.
    const reuse = await ledger.anonymous.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
    expect(reuse.body.error.code).toBe('invalid_token');
    await ledger.anonymous.post('/auth/refresh').send({ refreshToken: second.body.refreshToken }).expect(401);
    await ledger.as(second.body.accessToken).get('/auth/me').expect(401);
    // Another session of the same user is untouched.
    const other = await ledger.login(user.email, user.password);
    await ledger.as(other.accessToken).get('/auth/me').expect(200);
    const stored = await ledger.deps.db.selectFrom('refreshTokens').select('tokenHash').execute();
    expect(stored.map((row) => row.tokenHash)).not.toContain(user.refreshToken);
    const audit = await ledger.as(other.accessToken).get('/audit').query({ action: 'session.revoked_reuse' }).expect(200);
    expect(audit.body.items).toHaveLength(1);
  });

  it('ends the session on logout: access and refresh tokens stop working', async () => {
    const user = await ledger.createUser();
    await ledger.as(user.accessToken).post('/auth/logout').expect(204);
    await ledger.as(user.accessToken).get('/auth/me').expect(401);
    await ledger.anonymous.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
  });

  it('refuses an access token after it expires', async () => {
    const user = await ledger.createUser();
    ledger.clock.advance(15 * 60_000 + 1_000);
    const expired = await ledger.as(user.accessToken).get('/auth/me').expect(401);
    expect(expired.body.error.code).toBe('unauthenticated');
    const renewed = await ledger.anonymous.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    await ledger.as(renewed.body.accessToken).get('/auth/me').expect(200);
    ledger.owner = await ledger.login(ledger.owner.email, ledger.owner.password);
  });

  it('backs off after repeated failed logins, even for the right password', async () => {
    const user = await ledger.createUser();
    for (let attempt = 0; attempt < 6; attempt += 1) {
      await ledger.anonymous.post('/auth/login').send({ email: user.email, password: 'Wrong-password-123' }).expect(401);
    }
    const locked = await ledger.anonymous.post('/auth/login').send({ email: user.email, password: user.password }).expect(429);
    expect(locked.body.error).toMatchObject({ code: 'account_locked', details: { retryAfterSeconds: 2 } });
    ledger.clock.advance(2_000);
    await ledger.login(user.email, user.password);
    const unknown = await ledger.anonymous.post('/auth/login').send({ email: 'nobody@veil.test', password: TEST_PASSWORD }).expect(401);
    expect(unknown.body.error.code).toBe('invalid_credentials');
  });

  it('changes a password (other sessions end) and resets one with an owner-issued token', async () => {
    const user = await ledger.createUser();
    const elsewhere = await ledger.login(user.email, user.password);
    const newPassword = 'Another-Strong-Passphrase-7';
    await ledger.as(user.accessToken).post('/auth/password').send({ currentPassword: 'not-it-at-all', newPassword }).expect(401);
    await ledger.as(user.accessToken).post('/auth/password').send({ currentPassword: user.password, newPassword }).expect(204);
    await ledger.as(user.accessToken).get('/auth/me').expect(200);
    await ledger.as(elsewhere.accessToken).get('/auth/me').expect(401);
    await ledger.anonymous.post('/auth/login').send({ email: user.email, password: user.password }).expect(401);

    const reset = await ledger.http.post('/auth/password/reset-tokens').send({ email: user.email }).expect(201);
    const resetPassword = 'Reset-Passphrase-Number-9';
    await ledger.anonymous.post('/auth/password/reset').send({ resetToken: reset.body.resetToken, newPassword: resetPassword }).expect(204);
    await ledger.anonymous.post('/auth/password/reset').send({ resetToken: reset.body.resetToken, newPassword: resetPassword }).expect(401);
    await ledger.as(user.accessToken).get('/auth/me').expect(401);
    await ledger.login(user.email, resetPassword);
  });
});

describe('TOTP MFA (fixed clock)', () => {
  it('enrols with a URI and QR code, then requires a code at login and refuses a replayed one', async () => {
    const user = await ledger.createUser('mfa-user@veil.test');
    const enrol = await ledger.as(user.accessToken).post('/auth/mfa/enrol').expect(200);
    expect(enrol.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/Veil%20test:mfa-user%40veil\.test\?secret=[A-Z2-7]+/);
    expect(enrol.body.qrCodeDataUrl).toMatch(/^data:image\/png;base64,/);
    const secret: string = enrol.body.secret;
    const wrong = await ledger.as(user.accessToken).post('/auth/mfa/confirm').send({ totpCode: totpAt(secret, ledger.clock.now() - 5 * 60_000) }).expect(401);
    expect(wrong.body.error.code).toBe('invalid_credentials');
    const confirm = await ledger.as(user.accessToken).post('/auth/mfa/confirm').send({ totpCode: totpAt(secret, ledger.clock.now()) }).expect(200);
    expect(confirm.body.recoveryCodes).toHaveLength(10);
    expect(new Set(confirm.body.recoveryCodes).size).toBe(10);

    const needsCode = await ledger.anonymous.post('/auth/login').send({ email: user.email, password: user.password }).expect(401);
    expect(needsCode.body.error.code).toBe('mfa_code_required');
    // The code of the step used to confirm was spent: the same step is refused even though the code is right.
    const replay = await ledger.anonymous.post('/auth/login').send({ email: user.email, password: user.password, totpCode: totpAt(secret, ledger.clock.now()) }).expect(401);
    expect(replay.body.error.code).toBe('invalid_credentials');
    ledger.clock.advance(30_000);
    const code = totpAt(secret, ledger.clock.now());
    const session = await ledger.login(user.email, user.password, { totpCode: code });
    const me = await ledger.as(session.accessToken).get('/auth/me').expect(200);
    expect(me.body).toMatchObject({ mfaEnabled: true, actor: { mfa: true } });
    await ledger.anonymous.post('/auth/login').send({ email: user.email, password: user.password, totpCode: code }).expect(401);
    // A code from far outside the tolerance window is refused.
    ledger.clock.advance(30_000);
    await ledger.anonymous.post('/auth/login').send({ email: user.email, password: user.password, totpCode: totpAt(secret, ledger.clock.now() + 10 * 60_000) }).expect(401);
  });

  it('accepts each recovery code once, and disables MFA only with the password and a code', async () => {
    const user = await ledger.createUser();
    const { recoveryCodes, secret, user: session } = await enableMfa(ledger, user);
    const [first, second] = recoveryCodes as [string, string];
    await ledger.login(user.email, user.password, { recoveryCode: first });
    const again = await ledger.anonymous.post('/auth/login').send({ email: user.email, password: user.password, recoveryCode: first }).expect(401);
    expect(again.body.error.code).toBe('invalid_credentials');
    const stored = await ledger.deps.db.selectFrom('recoveryCodes').select(['codeHash', 'usedAt']).where('userId', '=', user.id).execute();
    expect(stored).toHaveLength(10);
    expect(stored.filter((row) => row.usedAt !== null)).toHaveLength(1);
    expect(stored.map((row) => row.codeHash).join()).not.toContain(first.replaceAll('-', ''));

    await ledger.as(session.accessToken).post('/auth/mfa/disable').send({ password: 'Wrong-password-123', recoveryCode: second }).expect(401);
    await ledger.as(session.accessToken).post('/auth/mfa/disable').send({ password: user.password }).expect(401);
    ledger.clock.advance(30_000);
    await ledger.as(session.accessToken).post('/auth/mfa/disable').send({ password: user.password, totpCode: totpAt(secret, ledger.clock.now()) }).expect(204);
    await ledger.login(user.email, user.password);
    expect(await ledger.deps.db.selectFrom('recoveryCodes').select('codeHash').where('userId', '=', user.id).execute()).toHaveLength(0);
  });
});

describe('API tokens', () => {
  it('need an MFA session; are shown once, stored hashed, scoped, listed with last use, and revocable', async () => {
    const books = await ledger.http.post('/entities').set('Idempotency-Key', 'tok-entity').send({ kind: 'llc', name: 'Token LLC' }).expect(201);
    const noMfa = await ledger.http.post('/auth/tokens').send({ name: 'n8n', scopes: ['read'], entityIds: [books.body.id] }).expect(403);
    expect(noMfa.body.error.code).toBe('mfa_required');

    const { user: mfaOwner } = await enableMfa(ledger, ledger.owner);
    ledger.owner = mfaOwner;
    const created = await ledger.http.post('/auth/tokens').send({ name: 'n8n', scopes: ['read', 'write'], entityIds: [books.body.id] }).expect(201);
    expect(created.body.token).toMatch(/^veil_[\w-]{43}$/);
    expect(created.body).toMatchObject({ scopes: ['read', 'write'], entityIds: [books.body.id], lastUsedAt: null });
    const row = await ledger.deps.db.selectFrom('apiTokens').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(created.body.token);

    const token = ledger.as(created.body.token);
    await token.get(`/entities/${books.body.id}`).expect(200);
    const listed = await token.get('/entities').expect(200);
    expect(listed.body.items.map((entity: { id: string }) => entity.id)).toEqual([books.body.id]);
    // Tokens are scoped: no entity creation, no token management, no money movement.
    await token.post('/entities').set('Idempotency-Key', 'tok-2').send({ kind: 'llc', name: 'Nope' }).expect(403);
    await token.get('/auth/tokens').expect(403);

    const list = await ledger.http.get('/auth/tokens').expect(200);
    const item = list.body.items.find((entry: { id: string }) => entry.id === created.body.id);
    expect(item.lastUsedAt).toBe(new Date(ledger.clock.now()).toISOString());
    expect(JSON.stringify(list.body)).not.toContain(created.body.token);

    await ledger.http.delete(`/auth/tokens/${created.body.id}`).expect(200);
    await token.get(`/entities/${books.body.id}`).expect(401);
    await ledger.http.delete('/auth/tokens/00000000-0000-4000-8000-000000000000').expect(404);
    const invalid = await ledger.http.post('/auth/tokens').send({ name: 'x', scopes: ['admin'], entityIds: [books.body.id] }).expect(400);
    expect(invalid.body.error.code).toBe('invalid_request');
  });
});

describe('transport protections', () => {
  it('sets a strict CSP and answers CORS only for allow-listed origins', async () => {
    const response = await ledger.anonymous.get('/healthz').set('Origin', 'http://dashboard.test').expect(200);
    expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(response.headers['access-control-allow-origin']).toBe('http://dashboard.test');
    const foreign = await ledger.anonymous.get('/healthz').set('Origin', 'http://evil.test').expect(200);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('rate-limits the auth endpoints more strictly than the rest', async () => {
    // startTestLedger itself spends two auth requests (register, login) of the five.
    const strict = await startTestLedger({ security: { rateLimits: { windowMs: 60_000, generalMax: 1_000, authMax: 5 } } });
    try {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        await strict.anonymous.post('/auth/login').send({ email: 'nobody@veil.test', password: 'whatever-it-is' }).expect(401);
      }
      const limited = await strict.anonymous.post('/auth/login').send({ email: strict.owner.email, password: TEST_PASSWORD }).expect(429);
      expect(limited.body.error.code).toBe('rate_limited');
      expect(limited.headers.ratelimit).toBeDefined();
      await strict.anonymous.post('/auth/refresh').send({ refreshToken: strict.owner.refreshToken }).expect(429);
      // The ledger itself is still reachable: only the auth limit was spent.
      await strict.http.get('/entities').expect(200);
    } finally {
      await strict.close();
    }
  });
});
