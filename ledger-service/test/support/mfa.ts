import { generateSync } from 'otplib';
import type { TestLedger, TestUser } from './harness';

/** The six-digit code an authenticator app would show at `atMs`. */
export function totpAt(secret: string, atMs: number): string {
  return generateSync({ secret, epoch: Math.floor(atMs / 1000) });
}

const STEP_MS = 30_000;

/**
 * Enrols `user` in MFA on the ledger's clock, then signs in again with a code from the next 30-second step (a
 * step is accepted once), returning the MFA session and the recovery codes.
 */
export async function enableMfa(ledger: TestLedger, user: TestUser): Promise<{ user: TestUser; secret: string; recoveryCodes: string[] }> {
  const enrol = await ledger.as(user.accessToken).post('/auth/mfa/enrol').expect(200);
  const secret: string = enrol.body.secret;
  const confirm = await ledger
    .as(user.accessToken)
    .post('/auth/mfa/confirm')
    .send({ totpCode: totpAt(secret, ledger.clock.now()) })
    .expect(200);
  ledger.clock.advance(STEP_MS);
  const signedIn = await ledger.login(user.email, user.password, { totpCode: totpAt(secret, ledger.clock.now()) });
  return { user: signedIn, secret, recoveryCodes: confirm.body.recoveryCodes };
}
