import { randomBytes } from 'node:crypto';
import type { Config } from '../config';
import { formatKeyring, loadOrCreateSecretFile, newKey, parseKeyring, type Keyring } from './crypto';
import type { SecurityDeps } from './deps';

const JWT_SECRET_BYTES_MIN = 32;

/** The keyring from VEIL_ENCRYPTION_KEY, or from the data dir's key file (created 0600 on first start). */
export function loadKeyring(config: Pick<Config, 'encryptionKey' | 'encryptionKeyFile'>): { keyring: Keyring; source: 'env' | 'file' } {
  if (config.encryptionKey !== undefined) return { keyring: parseKeyring(config.encryptionKey), source: 'env' };
  const text = loadOrCreateSecretFile(config.encryptionKeyFile, () => {
    const { id, material } = newKey();
    return formatKeyring({ activeKeyId: id, keys: new Map([[id, material]]) });
  });
  return { keyring: parseKeyring(text), source: 'file' };
}

export function loadJwtSecret(config: Pick<Config, 'jwtSecret' | 'jwtSecretFile'>): Uint8Array {
  const text = config.jwtSecret ?? loadOrCreateSecretFile(config.jwtSecretFile, () => randomBytes(JWT_SECRET_BYTES_MIN).toString('base64'));
  const secret = Buffer.from(text, 'base64');
  if (secret.length < JWT_SECRET_BYTES_MIN) throw new Error(`the JWT secret must be at least ${JWT_SECRET_BYTES_MIN} bytes`);
  return new Uint8Array(secret);
}

export function securityFromConfig(config: Config, extra: Pick<SecurityDeps, 'rateLimitStore'> = {}): SecurityDeps {
  return {
    keyring: loadKeyring(config).keyring,
    jwtSecret: loadJwtSecret(config),
    accessTokenTtlMs: config.accessTokenTtlMs,
    refreshTokenTtlMs: config.refreshTokenTtlMs,
    argon2: config.argon2,
    corsOrigins: config.corsOrigins,
    rateLimits: config.rateLimits,
    rateLimitStore: extra.rateLimitStore,
    now: Date.now,
    totpIssuer: 'Veil',
  };
}
