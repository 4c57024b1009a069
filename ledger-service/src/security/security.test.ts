import { randomBytes } from 'node:crypto';
import { redact } from '../services/audit';
import { checkPasswordRules, PASSWORD_LENGTH_MAX } from './passwords';
import { normalizeRecoveryCode, recoveryCode, signAccessToken, verifyAccessToken } from './tokens';

const secret = new Uint8Array(randomBytes(32));
const NOW = Date.parse('2026-11-24T12:00:00Z');

describe('password rules', () => {
  it('accepts 12 characters and refuses 11, and bounds the length', () => {
    expect(() => checkPasswordRules('Abcdefgh12-x', 'someone@veil.test')).not.toThrow();
    expect(() => checkPasswordRules('Abcdefgh12-', 'someone@veil.test')).toThrow(/at least 12 characters/);
    expect(() => checkPasswordRules(`Ab1-${'x'.repeat(PASSWORD_LENGTH_MAX)}`, 'someone@veil.test')).toThrow(/at most/);
  });

  it('lists every unmet rule at once', () => {
    try {
      checkPasswordRules('aaaa', 'a@veil.test');
      throw new Error('accepted');
    } catch (error) {
      expect((error as { details: { rules: string[] } }).details.rules).toHaveLength(2);
    }
  });
});

describe('access tokens', () => {
  it('round-trips our own token and refuses it after expiry', async () => {
    const token = await signAccessToken(secret, { userId: 'u1', sessionId: 's1', mfa: true }, NOW, 60_000);
    expect(await verifyAccessToken(secret, token, NOW + 59_000)).toEqual({ userId: 'u1', sessionId: 's1', mfa: true });
    expect(await verifyAccessToken(secret, token, NOW + 61_000)).toBeNull();
  });

  it('answers a verified token again from memory, but only that token, only with its secret, only until it expires', async () => {
    const token = await signAccessToken(secret, { userId: 'u2', sessionId: 's2', mfa: false }, NOW, 60_000);
    expect(await verifyAccessToken(secret, token, NOW)).toEqual({ userId: 'u2', sessionId: 's2', mfa: false });
    const again = await verifyAccessToken(secret, token, NOW + 1_000);
    expect(again).toEqual({ userId: 'u2', sessionId: 's2', mfa: false });
    // The answer is a copy: a caller changing it changes nothing for the next.
    (again as { userId: string }).userId = 'mallory';
    expect(await verifyAccessToken(secret, token, NOW + 2_000)).toEqual({ userId: 'u2', sessionId: 's2', mfa: false });
    // Another secret does not know it; a token differing in one byte of its signature or payload is refused.
    expect(await verifyAccessToken(new Uint8Array(randomBytes(32)), token, NOW)).toBeNull();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    expect(await verifyAccessToken(secret, `${header}.${payload}.${flipped}`, NOW)).toBeNull();
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'mallory' })).toString('base64url');
    expect(await verifyAccessToken(secret, `${header}.${forged}.${signature}`, NOW)).toBeNull();
    // Expired: refused from memory as jose refuses it (exp is exclusive); a clock set back has it verified afresh.
    expect(await verifyAccessToken(secret, token, NOW + 59_999)).not.toBeNull();
    expect(await verifyAccessToken(secret, token, NOW + 60_000)).toBeNull();
    expect(await verifyAccessToken(secret, token, NOW + 30_000)).not.toBeNull();
  });

  it('refuses another algorithm signed with the same secret, and alg none', async () => {
    const { SignJWT } = await import('jose');
    const claims = { sid: 's1', mfa: true };
    const hs512 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('u1')
      .setIssuer('veil-ledger')
      .setAudience('veil-api')
      .setIssuedAt(NOW / 1000)
      .setExpirationTime(NOW / 1000 + 60)
      .sign(secret);
    expect(await verifyAccessToken(secret, hs512, NOW)).toBeNull();
    const [, payload] = hs512.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
    expect(await verifyAccessToken(secret, none, NOW)).toBeNull();
    expect(await verifyAccessToken(new Uint8Array(randomBytes(32)), await signAccessToken(secret, { userId: 'u', sessionId: 's', mfa: false }, NOW, 60_000), NOW)).toBeNull();
  });
});

describe('recovery codes', () => {
  it('are 80-bit codes in four groups, matched however they are typed', () => {
    const code = recoveryCode();
    expect(code).toMatch(/^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/);
    expect(normalizeRecoveryCode(` ${code.toUpperCase().replaceAll('-', ' ')} `)).toBe(code.replaceAll('-', ''));
  });
});

describe('audit redaction', () => {
  it('replaces every secret-looking field at any depth and keeps the rest', () => {
    expect(
      redact({
        name: 'Checking',
        code: '1010',
        totpCode: '123456',
        password: 'p',
        nested: { totpSecret: 's', refreshToken: 'r', tokenHash: 'h', items: [{ secret: 'x', amountCents: 5 }] },
        when: new Date(NOW),
      }),
    ).toEqual({
      name: 'Checking',
      code: '1010',
      totpCode: '[redacted]',
      password: '[redacted]',
      nested: { totpSecret: '[redacted]', refreshToken: '[redacted]', tokenHash: '[redacted]', items: [{ secret: '[redacted]', amountCents: 5 }] },
      when: '2026-11-24T12:00:00.000Z',
    });
  });
});
