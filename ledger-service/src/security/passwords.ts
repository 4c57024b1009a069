import { hash, verify } from '@node-rs/argon2';
import { RuleViolation } from '../domain/errors';

// The package declares Algorithm as a `const enum`, which isolated-module compilers cannot inline; 2 is Argon2id.
const ARGON2ID = 2;

export interface Argon2Cost {
  memoryCostKib: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP's argon2id baseline (19 MiB, 2 passes). Tests lower it through VEIL_ARGON2_* so a hash costs milliseconds. */
export const ARGON2_PRODUCTION: Argon2Cost = { memoryCostKib: 19_456, timeCost: 2, parallelism: 1 };

export const PASSWORD_LENGTH_MIN = 12;
/** argon2 takes any length; the bound stops a megabyte password from being a denial of service. */
export const PASSWORD_LENGTH_MAX = 256;

const COMMON = new Set([
  'passwordpassword',
  'password1234',
  '123456789012',
  'qwertyuiopas',
  'letmeinletmein',
  'iloveyou1234',
  'correcthorsebatterystaple',
]);

/** Length over composition rules (NIST SP 800-63B), plus refusing the obvious. */
export function checkPasswordRules(password: string, email: string): void {
  const problems: string[] = [];
  if ([...password].length < PASSWORD_LENGTH_MIN) problems.push(`at least ${PASSWORD_LENGTH_MIN} characters`);
  if (password.length > PASSWORD_LENGTH_MAX) problems.push(`at most ${PASSWORD_LENGTH_MAX} characters`);
  if (new Set(password).size < 5) problems.push('at least 5 different characters');
  const lowered = password.toLowerCase();
  if (COMMON.has(lowered)) problems.push('not a commonly used password');
  const local = email.split('@')[0] ?? '';
  if (local.length >= 4 && lowered.includes(local.toLowerCase())) problems.push('not containing your email name');
  if (problems.length > 0) {
    throw new RuleViolation('weak_password', `the password needs ${problems.join(', ')}`, { rules: problems });
  }
}

export function hashPassword(password: string, cost: Argon2Cost): Promise<string> {
  return hash(password, {
    algorithm: ARGON2ID as never,
    memoryCost: cost.memoryCostKib,
    timeCost: cost.timeCost,
    parallelism: cost.parallelism,
  });
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}
