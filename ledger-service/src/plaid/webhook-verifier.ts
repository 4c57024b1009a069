import { createHash, timingSafeEqual } from 'node:crypto';
import { RuleViolation } from '../domain/errors';
import { plaidErrorOf, type PlaidDeps } from './client';

// Plaid signs every webhook: the `Plaid-Verification` header is a JWT (ES256 only) whose header names the key
// (`kid`) and whose claims carry `iat` and `request_body_sha256`, the SHA-256 of the exact bytes of the body.
// A webhook is believed only if the key comes from Plaid (fetched by kid, cached), the signature verifies with
// it, it is at most five minutes old, and the hash of the raw body matches (compared in constant time).

type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });
let joseModule: Promise<Jose> | undefined;
function jose(): Promise<Jose> {
  joseModule ??= import('jose');
  return joseModule;
}

export const WEBHOOK_AGE_SECONDS_MAX = 5 * 60;
const HEADER_LENGTH_MAX = 4_096;

function refuse(reason: string): never {
  // One message for every failure: a forger learns nothing about which check caught them.
  throw new RuleViolation('webhook_unverified', 'the webhook signature could not be verified', { reason });
}

async function keyFor(plaid: PlaidDeps, kid: string): Promise<Record<string, unknown>> {
  const cached = plaid.keyCache.get(kid);
  if (cached) return cached.jwk;
  let response;
  try {
    response = await plaid.client.webhookVerificationKeyGet({ key_id: kid });
  } catch (error) {
    refuse(plaidErrorOf(error)?.error_code ?? 'key_fetch_failed');
  }
  const { key } = response.data;
  // Plaid keeps serving rotated keys with expired_at set; a webhook signed after that is not believed.
  plaid.keyCache.set(kid, { jwk: key as unknown as Record<string, unknown>, expiredAtSeconds: key.expired_at });
  return key as unknown as Record<string, unknown>;
}

/** Verifies a webhook; returns normally only when every check passes. `nowMs` is the service clock. */
export async function verifyPlaidWebhook(plaid: PlaidDeps, rawBody: Buffer | undefined, header: string | undefined, nowMs: number): Promise<void> {
  if (rawBody === undefined) refuse('no_body');
  if (header === undefined || header.length === 0 || header.length > HEADER_LENGTH_MAX) refuse('no_signature');
  const { decodeProtectedHeader, importJWK, jwtVerify } = await jose();
  let protectedHeader;
  try {
    protectedHeader = decodeProtectedHeader(header);
  } catch {
    refuse('malformed_signature');
  }
  if (protectedHeader.alg !== 'ES256') refuse('algorithm_not_es256');
  if (typeof protectedHeader.kid !== 'string' || protectedHeader.kid.length === 0 || protectedHeader.kid.length > 200) refuse('no_kid');
  const jwk = await keyFor(plaid, protectedHeader.kid);
  let payload;
  try {
    const key = await importJWK({ ...jwk, alg: 'ES256' }, 'ES256');
    ({ payload } = await jwtVerify(header, key, {
      algorithms: ['ES256'],
      currentDate: new Date(nowMs),
      maxTokenAge: WEBHOOK_AGE_SECONDS_MAX,
      requiredClaims: ['iat'],
    }));
  } catch {
    refuse('signature_or_age');
  }
  const iat = payload.iat as number;
  if (iat > Math.floor(nowMs / 1000) + 60) refuse('issued_in_future');
  const expiredAt = plaid.keyCache.get(protectedHeader.kid)?.expiredAtSeconds ?? null;
  if (expiredAt !== null && iat > expiredAt) refuse('key_expired');
  const claimed = payload.request_body_sha256;
  if (typeof claimed !== 'string' || !/^[0-9a-f]{64}$/.test(claimed)) refuse('no_body_hash');
  const actual = createHash('sha256').update(rawBody).digest();
  if (!timingSafeEqual(actual, Buffer.from(claimed, 'hex'))) refuse('body_hash_mismatch');
}
