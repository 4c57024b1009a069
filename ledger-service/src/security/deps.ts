import type { Store } from 'express-rate-limit';
import type { Keyring } from './crypto';
import type { Argon2Cost } from './passwords';

export interface RateLimits {
  windowMs: number;
  /** Requests per window per client on every route. */
  generalMax: number;
  /** Requests per window per client on login, refresh, MFA and token routes. */
  authMax: number;
}

/** Secrets and knobs of the security layer, resolved once from the configuration (or given by a test). */
export interface SecurityDeps {
  keyring: Keyring;
  jwtSecret: Uint8Array;
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  argon2: Argon2Cost;
  corsOrigins: readonly string[];
  rateLimits: RateLimits;
  /** A shared store (Redis) so that several replicas count together; memory when absent. */
  rateLimitStore?: ((prefix: string) => Store) | undefined;
  /** Milliseconds since the epoch; tests pass a fixed clock (TOTP, expiry). */
  now: () => number;
  /** The name shown in authenticator apps. */
  totpIssuer: string;
}
