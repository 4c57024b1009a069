import { createHash, randomBytes, timingSafeEqual, webcrypto } from 'node:crypto';

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

/** What a verified token says, with the times that bound it (epoch seconds), kept to answer it again without jose. */
interface Verified {
  claims: AccessClaims;
  expiresAt: number;
  notBefore: number | undefined;
}

/** Tokens verified since the process started, per secret, until they expire; cleared whole when it grows this big. */
const VERIFIED_TOKENS_MAX = 10_000;
const verifiedBySecret = new WeakMap<Uint8Array, Map<string, Verified>>();
/** The secret as a CryptoKey, imported once: jose would import a raw key on every verification. */
const keyBySecret = new WeakMap<Uint8Array, Promise<webcrypto.CryptoKey>>();

function hmacKey(secret: Uint8Array): Promise<webcrypto.CryptoKey> {
  let key = keyBySecret.get(secret);
  if (key === undefined) {
    key = webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    keyBySecret.set(secret, key);
  }
  return key;
}

/**
 * Null for anything that is not a valid, unexpired token of ours; the reason is not told to the caller.
 *
 * A token this process has verified with this secret is answered from memory until its `exp`, as jose would
 * answer it again (the same time checks, against `nowMs`): an HMAC check through WebCrypto cost about a quarter of
 * the service's CPU for a one-entry booking. The memory holds only tokens whose signature was verified, keyed by
 * the whole token, so a token that differs in any byte is verified afresh. Revocation is not decided here: the
 * session is checked by the caller (or by the statement it defers to) on every request.
 */
export async function verifyAccessToken(secret: Uint8Array, token: string, nowMs: number): Promise<AccessClaims | null> {
  const now = Math.floor(nowMs / 1000);
  let verified = verifiedBySecret.get(secret);
  if (verified === undefined) {
    verified = new Map();
    verifiedBySecret.set(secret, verified);
  }
  const known = verified.get(token);
  if (known !== undefined) {
    if (known.expiresAt > now && (known.notBefore === undefined || known.notBefore <= now)) return { ...known.claims };
    if (known.expiresAt <= now) verified.delete(token);
    return null;
  }
  const { errors: joseErrors, jwtVerify } = await jose();
  try {
    const { payload } = await jwtVerify(token, await hmacKey(secret), {
      algorithms: [...ACCESS_TOKEN_ALGORITHMS],
      issuer: ISSUER,
      audience: AUDIENCE,
      currentDate: new Date(nowMs),
      requiredClaims: ['sub', 'exp', 'iat'],
    });
    if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string' || typeof payload.mfa !== 'boolean') return null;
    const claims = { userId: payload.sub, sessionId: payload.sid, mfa: payload.mfa };
    if (verified.size >= VERIFIED_TOKENS_MAX) verified.clear();
    verified.set(token, { claims, expiresAt: payload.exp as number, notBefore: payload.nbf });
    return { ...claims };
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
