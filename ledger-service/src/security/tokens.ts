import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// jose ships only ES modules; this package compiles to CommonJS, so it is loaded with a (cached) dynamic import.
type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });
let joseModule: Promise<Jose> | undefined;
function jose(): Promise<Jose> {
  joseModule ??= import('jose');
  return joseModule;
}

// Access tokens are short-lived JWTs signed with HS256. Verification names the ONE algorithm it accepts, so a
// token with `alg: none` or an asymmetric algorithm is refused before its signature is even looked at.

export const ACCESS_TOKEN_ALGORITHMS = ['HS256'] as const;
const ISSUER = 'veil-ledger';
const AUDIENCE = 'veil-api';

export const API_TOKEN_PREFIX = 'veil_';

export interface AccessClaims {
  userId: string;
  sessionId: string;
  mfa: boolean;
}

export async function signAccessToken(secret: Uint8Array, claims: AccessClaims, nowMs: number, ttlMs: number): Promise<string> {
  const { SignJWT } = await jose();
  const issuedAt = Math.floor(nowMs / 1000);
  return new SignJWT({ sid: claims.sessionId, mfa: claims.mfa })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + Math.floor(ttlMs / 1000))
    .sign(secret);
}

/** Null for anything that is not a valid, unexpired token of ours; the reason is not told to the caller. */
export async function verifyAccessToken(secret: Uint8Array, token: string, nowMs: number): Promise<AccessClaims | null> {
  const { errors: joseErrors, jwtVerify } = await jose();
  try {
    const { payload } = await jwtVerify(token, secret, {
      algorithms: [...ACCESS_TOKEN_ALGORITHMS],
      issuer: ISSUER,
      audience: AUDIENCE,
      currentDate: new Date(nowMs),
      requiredClaims: ['sub', 'exp', 'iat'],
    });
    if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string' || typeof payload.mfa !== 'boolean') return null;
    return { userId: payload.sub, sessionId: payload.sid, mfa: payload.mfa };
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) return null;
    throw error;
  }
}

/** 256 random bits, URL-safe. */
export function opaqueToken(prefix = ''): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/**
 * Refresh tokens, API tokens, invitations and recovery codes carry 128+ random bits, so a plain SHA-256 is enough
 * to make a stolen database useless (a slow hash protects low-entropy secrets such as passwords, not these).
 */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** 16 characters from a 32-letter alphabet without look-alikes (80 bits), shown as four groups of four. */
export function recoveryCode(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz234567890';
  const characters = [...randomBytes(16)].map((byte) => alphabet[byte % 32]).join('');
  return (characters.match(/.{4}/g) as string[]).join('-');
}

export function normalizeRecoveryCode(code: string): string {
  return code.trim().toLowerCase().replace(/[\s-]+/g, '');
}
