import { sql, type Transaction } from 'kysely';
import QRCode from 'qrcode';
import { generateSecret, generateURI, verifySync } from 'otplib';
import type { Database, Db } from '../db/database';
import { assert, NotFound, RuleViolation } from '../domain/errors';
import { decryptSecret, encryptSecret } from '../security/crypto';
import { checkPasswordRules, hashPassword, verifyPassword } from '../security/passwords';
import {
  API_TOKEN_PREFIX,
  normalizeRecoveryCode,
  opaqueToken,
  recoveryCode,
  signAccessToken,
  tokenHash,
  verifyAccessToken,
} from '../security/tokens';
import { auditedTransaction, recordAudit } from './audit';
import { ANONYMOUS, SCOPES, type Actor, type Deps, type Scope } from './context';

// Users, sessions, MFA and API tokens. Every change is audited; every credential that could be replayed is stored
// as a hash (tokens, codes) or as AES-256-GCM ciphertext (TOTP secrets).

type Trx = Transaction<Database>;

export const RECOVERY_CODE_COUNT = 10;
const INVITATION_TTL_MS = 7 * 24 * 3600_000;
const PASSWORD_RESET_TTL_MS = 3600_000;
/** Failed logins before the account backs off; then each failure doubles the wait, up to the maximum. */
const LOGIN_FAILURES_FREE = 5;
const LOGIN_BACKOFF_MS_MAX = 15 * 60_000;
/** Codes from the previous and next 30-second step are accepted, for clock drift. */
const TOTP_TOLERANCE_SECONDS = 30;
const API_TOKEN_TOUCH_MS = 60_000;

export interface UserView {
  id: string;
  email: string;
  role: 'owner' | 'member';
  mfaEnabled: boolean;
  createdAt: string;
}

export interface TokenPair {
  accessToken: string;
  tokenType: 'Bearer';
  expiresInSeconds: number;
  refreshToken: string;
  user: UserView;
}

function userView(row: { id: string; email: string; role: 'owner' | 'member'; mfaEnabledAt: Date | null; createdAt: Date }): UserView {
  return { id: row.id, email: row.email, role: row.role, mfaEnabled: row.mfaEnabledAt !== null, createdAt: row.createdAt.toISOString() };
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function totpContext(userId: string): string {
  return `users.totp:${userId}`;
}

function userActor(userId: string, base: Partial<Actor> = {}): Actor {
  return { type: 'user', id: userId, userId, scopes: SCOPES, entityScope: 'all', mfa: false, ...base };
}

// ---- registration -------------------------------------------------------------------------------------------

export interface Registration {
  email: string;
  password: string;
  invitationToken?: string | undefined;
}

/**
 * The first user of an empty instance becomes its owner; after that only an invitation admits a new user. The
 * "empty" check and the insert run under a table lock so that two racing first registrations cannot both win.
 */
export async function register(deps: Deps, input: Registration, requestId?: string): Promise<UserView> {
  const email = normalizeEmail(input.email);
  checkPasswordRules(input.password, email);
  const passwordHash = await hashPassword(input.password, deps.security.argon2);
  const now = new Date(deps.security.now());
  return auditedTransaction(deps.db, async (trx) => {
    if (deps.backend === 'postgres') await sqlLockUsers(trx);
    const anyone = await trx.selectFrom('users').select('id').limit(1).executeTakeFirst();
    let role: 'owner' | 'member' = 'owner';
    let invitationId: string | undefined;
    if (anyone !== undefined) {
      if (input.invitationToken === undefined) {
        throw new RuleViolation('registration_closed', 'this instance has an owner; a new user needs an invitation');
      }
      const invitation = await trx
        .selectFrom('invitations')
        .select(['id', 'email', 'expiresAt', 'acceptedAt'])
        .where('tokenHash', '=', tokenHash(input.invitationToken))
        .forUpdate()
        .executeTakeFirst();
      if (invitation === undefined || invitation.acceptedAt !== null || invitation.expiresAt.getTime() <= now.getTime() || invitation.email !== email) {
        throw new RuleViolation('invalid_token', 'the invitation is unknown, used, expired or for another email');
      }
      role = 'member';
      invitationId = invitation.id;
    }
    const taken = await trx.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
    if (taken !== undefined) throw new RuleViolation('email_taken', 'a user with this email exists');
    const row = await trx
      .insertInto('users')
      .values({ email, passwordHash, role, passwordChangedAt: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    if (invitationId !== undefined) {
      await trx.updateTable('invitations').set({ acceptedAt: now }).where('id', '=', invitationId).execute();
    }
    const user = userView(row);
    recordAudit(trx, userActor(user.id, { requestId }), { action: 'user.registered', objectType: 'user', objectId: user.id, after: user });
    return user;
  });
}

async function sqlLockUsers(trx: Trx): Promise<void> {
  await sql`lock table users in share row exclusive mode`.execute(trx);
}

export async function createInvitation(deps: Deps, actor: Actor, email: string): Promise<{ invitationToken: string; email: string; expiresAt: string }> {
  if (actor.type !== 'user' || actor.userId === undefined) throw new RuleViolation('forbidden', 'only a signed-in user can invite');
  const inviter = await deps.db.selectFrom('users').select('role').where('id', '=', actor.userId).executeTakeFirstOrThrow();
  if (inviter.role !== 'owner') throw new RuleViolation('forbidden', 'only the owner can invite users');
  const token = opaqueToken('inv_');
  const expiresAt = new Date(deps.security.now() + INVITATION_TTL_MS);
  const normalized = normalizeEmail(email);
  await auditedTransaction(deps.db, async (trx) => {
    const row = await trx
      .insertInto('invitations')
      .values({ email: normalized, tokenHash: tokenHash(token), invitedBy: actor.userId as string, expiresAt })
      .returning('id')
      .executeTakeFirstOrThrow();
    recordAudit(trx, actor, { action: 'user.invited', objectType: 'invitation', objectId: row.id, after: { email: normalized, expiresAt } });
  });
  return { invitationToken: token, email: normalized, expiresAt: expiresAt.toISOString() };
}

// ---- login, refresh, logout ---------------------------------------------------------------------------------

export interface Login {
  email: string;
  password: string;
  totpCode?: string | undefined;
  recoveryCode?: string | undefined;
}

async function issueTokens(deps: Deps, trx: Trx, user: UserView, sessionId: string, mfa: boolean): Promise<TokenPair> {
  const refreshToken = opaqueToken('rt_');
  await trx
    .insertInto('refreshTokens')
    .values({ sessionId, tokenHash: tokenHash(refreshToken), expiresAt: new Date(deps.security.now() + deps.security.refreshTokenTtlMs) })
    .execute();
  const accessToken = await signAccessToken(
    deps.security.jwtSecret,
    { userId: user.id, sessionId, mfa },
    deps.security.now(),
    deps.security.accessTokenTtlMs,
  );
  return { accessToken, tokenType: 'Bearer', expiresInSeconds: Math.floor(deps.security.accessTokenTtlMs / 1000), refreshToken, user };
}

const INVALID_LOGIN = () => new RuleViolation('invalid_credentials', 'email or password is wrong');

export async function login(deps: Deps, input: Login, requestId?: string): Promise<TokenPair> {
  const email = normalizeEmail(input.email);
  const nowMs = deps.security.now();
  const row = await deps.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  if (row === undefined) {
    // Spend the same time as a real check, so response time does not tell which emails exist.
    await hashPassword(input.password, deps.security.argon2);
    throw INVALID_LOGIN();
  }
  if (row.lockedUntil !== null && row.lockedUntil.getTime() > nowMs) {
    throw new RuleViolation('account_locked', 'too many failed logins; try again later', {
      retryAfterSeconds: Math.ceil((row.lockedUntil.getTime() - nowMs) / 1000),
    });
  }
  const passwordOk = await verifyPassword(row.passwordHash, input.password);
  const mfa = passwordOk && row.totpSecretEncrypted !== null;
  if (mfa && input.totpCode === undefined && input.recoveryCode === undefined) {
    throw new RuleViolation('mfa_code_required', 'this account has MFA: send totpCode or recoveryCode', { mfa: true });
  }
  return auditedTransaction(deps.db, async (trx) => {
    let failure: RuleViolation | undefined = passwordOk ? undefined : INVALID_LOGIN();
    const actor = userActor(row.id, { requestId });
    if (failure === undefined && mfa) {
      const ok = await checkSecondFactor(deps, trx, row.id, input.totpCode, input.recoveryCode, actor);
      if (!ok) failure = new RuleViolation('invalid_credentials', 'the MFA code is wrong or was already used');
    }
    if (failure !== undefined) {
      const failures = row.failedLogins + 1;
      const backoffMs = failures > LOGIN_FAILURES_FREE ? Math.min(1000 * 2 ** (failures - LOGIN_FAILURES_FREE), LOGIN_BACKOFF_MS_MAX) : 0;
      await trx
        .updateTable('users')
        .set({ failedLogins: failures, lockedUntil: backoffMs > 0 ? new Date(nowMs + backoffMs) : null })
        .where('id', '=', row.id)
        .execute();
      recordAudit(trx, actor, { action: 'session.login_failed', objectType: 'user', objectId: row.id, after: { failures } });
      // Commit the counter, then refuse: the failure must count even though the request fails.
      return failure;
    }
    await trx.updateTable('users').set({ failedLogins: 0, lockedUntil: null }).where('id', '=', row.id).execute();
    const session = await trx.insertInto('sessions').values({ userId: row.id, mfa }).returning('id').executeTakeFirstOrThrow();
    recordAudit(trx, { ...actor, sessionId: session.id, mfa }, { action: 'session.created', objectType: 'session', objectId: session.id, after: { mfa } });
    return issueTokens(deps, trx, userView(row), session.id, mfa);
  }).then((result) => {
    if (result instanceof RuleViolation) throw result;
    return result;
  });
}

/**
 * Rotates a refresh token: the presented one is spent and a new one issued in the same session. Presenting a
 * token that was already spent means it was copied: the whole session (every token of the family) is revoked.
 */
export async function refresh(deps: Deps, presented: string, requestId?: string): Promise<TokenPair> {
  const nowMs = deps.security.now();
  const outcome = await auditedTransaction(deps.db, async (trx) => {
    const token = await trx
      .selectFrom('refreshTokens as r')
      .innerJoin('sessions as s', 's.id', 'r.sessionId')
      .innerJoin('users as u', 'u.id', 's.userId')
      .select(['r.id', 'r.sessionId', 'r.usedAt', 'r.expiresAt', 's.revokedAt', 's.mfa', 's.userId', 'u.email', 'u.role', 'u.mfaEnabledAt', 'u.createdAt'])
      .where('r.tokenHash', '=', tokenHash(presented))
      .forUpdate()
      .executeTakeFirst();
    if (token === undefined) return 'invalid' as const;
    const actor = userActor(token.userId, { sessionId: token.sessionId, requestId });
    if (token.revokedAt !== null) return 'invalid' as const;
    if (token.usedAt !== null) {
      await trx
        .updateTable('sessions')
        .set({ revokedAt: new Date(nowMs), revokedReason: 'refresh_token_reuse' })
        .where('id', '=', token.sessionId)
        .execute();
      recordAudit(trx, actor, { action: 'session.revoked_reuse', objectType: 'session', objectId: token.sessionId, after: { reason: 'refresh_token_reuse' } });
      return 'reused' as const;
    }
    if (token.expiresAt.getTime() <= nowMs) return 'invalid' as const;
    await trx.updateTable('refreshTokens').set({ usedAt: new Date(nowMs) }).where('id', '=', token.id).execute();
    recordAudit(trx, actor, { action: 'session.refreshed', objectType: 'session', objectId: token.sessionId });
    const user = userView({ id: token.userId, email: token.email, role: token.role, mfaEnabledAt: token.mfaEnabledAt, createdAt: token.createdAt });
    return issueTokens(deps, trx, user, token.sessionId, token.mfa);
  });
  if (outcome === 'invalid') throw new RuleViolation('invalid_token', 'the refresh token is unknown, expired or revoked');
  if (outcome === 'reused') {
    throw new RuleViolation('invalid_token', 'this refresh token was already used: the session has been revoked; sign in again');
  }
  return outcome;
}

export async function logout(deps: Deps, actor: Actor): Promise<void> {
  if (actor.type !== 'user' || actor.sessionId === undefined) throw new RuleViolation('forbidden', 'only a user session can log out');
  await auditedTransaction(deps.db, async (trx) => {
    await trx
      .updateTable('sessions')
      .set({ revokedAt: new Date(deps.security.now()), revokedReason: 'logout' })
      .where('id', '=', actor.sessionId as string)
      .where('revokedAt', 'is', null)
      .execute();
    recordAudit(trx, actor, { action: 'session.logged_out', objectType: 'session', objectId: actor.sessionId });
  });
}

// ---- passwords ----------------------------------------------------------------------------------------------

async function revokeAllSessions(trx: Trx, userId: string, nowMs: number, reason: string): Promise<void> {
  await trx
    .updateTable('sessions')
    .set({ revokedAt: new Date(nowMs), revokedReason: reason })
    .where('userId', '=', userId)
    .where('revokedAt', 'is', null)
    .execute();
}

export async function changePassword(deps: Deps, actor: Actor, currentPassword: string, newPassword: string): Promise<void> {
  const user = await requireUser(deps.db, actor);
  if (!(await verifyPassword(user.passwordHash, currentPassword))) throw new RuleViolation('invalid_credentials', 'the current password is wrong');
  checkPasswordRules(newPassword, user.email);
  const passwordHash = await hashPassword(newPassword, deps.security.argon2);
  const nowMs = deps.security.now();
  await auditedTransaction(deps.db, async (trx) => {
    await trx.updateTable('users').set({ passwordHash, passwordChangedAt: new Date(nowMs) }).where('id', '=', user.id).execute();
    // Every other session ends; the caller's own session survives so the dashboard does not sign itself out.
    await trx
      .updateTable('sessions')
      .set({ revokedAt: new Date(nowMs), revokedReason: 'password_changed' })
      .where('userId', '=', user.id)
      .where('revokedAt', 'is', null)
      .where('id', '!=', actor.sessionId ?? '00000000-0000-0000-0000-000000000000')
      .execute();
    recordAudit(trx, actor, { action: 'user.password_changed', objectType: 'user', objectId: user.id });
  });
}

/**
 * Issues a one-hour password reset token. There is no mail service: the owner runs this (CLI or API) and hands
 * the token over out of band.
 */
export async function createPasswordReset(deps: Deps, actor: Actor, email: string): Promise<{ resetToken: string; expiresAt: string }> {
  const owner = await requireUser(deps.db, actor);
  if (owner.role !== 'owner' && actor.type !== 'system') throw new RuleViolation('forbidden', 'only the owner can issue a password reset');
  const target = await deps.db.selectFrom('users').select('id').where('email', '=', normalizeEmail(email)).executeTakeFirst();
  if (target === undefined) throw new NotFound('user', normalizeEmail(email));
  const token = opaqueToken('pr_');
  const expiresAt = new Date(deps.security.now() + PASSWORD_RESET_TTL_MS);
  await auditedTransaction(deps.db, async (trx) => {
    await trx.insertInto('passwordResets').values({ userId: target.id, tokenHash: tokenHash(token), expiresAt }).execute();
    recordAudit(trx, actor, { action: 'user.password_reset_issued', objectType: 'user', objectId: target.id });
  });
  return { resetToken: token, expiresAt: expiresAt.toISOString() };
}

export async function resetPassword(deps: Deps, token: string, newPassword: string, requestId?: string): Promise<void> {
  const nowMs = deps.security.now();
  const reset = await deps.db
    .selectFrom('passwordResets as r')
    .innerJoin('users as u', 'u.id', 'r.userId')
    .select(['r.id', 'r.userId', 'r.usedAt', 'r.expiresAt', 'u.email'])
    .where('r.tokenHash', '=', tokenHash(token))
    .executeTakeFirst();
  if (reset === undefined || reset.usedAt !== null || reset.expiresAt.getTime() <= nowMs) {
    throw new RuleViolation('invalid_token', 'the reset token is unknown, used or expired');
  }
  checkPasswordRules(newPassword, reset.email);
  const passwordHash = await hashPassword(newPassword, deps.security.argon2);
  await auditedTransaction(deps.db, async (trx) => {
    const spent = await trx
      .updateTable('passwordResets')
      .set({ usedAt: new Date(nowMs) })
      .where('id', '=', reset.id)
      .where('usedAt', 'is', null)
      .executeTakeFirst();
    if (spent.numUpdatedRows !== 1n) throw new RuleViolation('invalid_token', 'the reset token was used');
    await trx
      .updateTable('users')
      .set({ passwordHash, passwordChangedAt: new Date(nowMs), failedLogins: 0, lockedUntil: null })
      .where('id', '=', reset.userId)
      .execute();
    await revokeAllSessions(trx, reset.userId, nowMs, 'password_reset');
    recordAudit(trx, userActor(reset.userId, { requestId }), { action: 'user.password_reset', objectType: 'user', objectId: reset.userId });
  });
}

// ---- MFA ----------------------------------------------------------------------------------------------------

async function requireUser(db: Db | Trx, actor: Actor) {
  if (actor.type !== 'user' || actor.userId === undefined) throw new RuleViolation('forbidden', 'this needs a signed-in user');
  const user = await db.selectFrom('users').selectAll().where('id', '=', actor.userId).executeTakeFirst();
  assert(user !== undefined, 'an authenticated user exists');
  return user;
}

export async function enrolMfa(deps: Deps, actor: Actor): Promise<{ secret: string; otpauthUri: string; qrCodeDataUrl: string }> {
  const user = await requireUser(deps.db, actor);
  if (user.mfaEnabledAt !== null) throw new RuleViolation('mfa_state', 'MFA is already enabled; disable it first');
  const secret = generateSecret();
  const otpauthUri = generateURI({ issuer: deps.security.totpIssuer, label: user.email, secret });
  await auditedTransaction(deps.db, async (trx) => {
    await trx
      .updateTable('users')
      .set({ totpPendingEncrypted: encryptSecret(deps.security.keyring, secret, totpContext(user.id)) })
      .where('id', '=', user.id)
      .execute();
    recordAudit(trx, actor, { action: 'mfa.enrolment_started', objectType: 'user', objectId: user.id });
  });
  return { secret, otpauthUri, qrCodeDataUrl: await QRCode.toDataURL(otpauthUri) };
}

/** The time step of a valid code, or null. A step at or before the last accepted one is a replay. */
function acceptTotp(secret: string, code: string, nowMs: number, lastStep: string | null): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const result = verifySync({ secret, token: code, epoch: Math.floor(nowMs / 1000), epochTolerance: TOTP_TOLERANCE_SECONDS });
  if (!result.valid || !('timeStep' in result)) return null;
  if (lastStep !== null && result.timeStep <= Number(lastStep)) return null;
  return result.timeStep;
}

export async function confirmMfa(deps: Deps, actor: Actor, code: string): Promise<{ recoveryCodes: string[] }> {
  return auditedTransaction(deps.db, async (trx) => {
    const user = await requireUser(trx, actor);
    if (user.mfaEnabledAt !== null || user.totpPendingEncrypted === null) {
      throw new RuleViolation('mfa_state', 'there is no pending MFA enrolment; start one first');
    }
    const secret = decryptSecret(deps.security.keyring, user.totpPendingEncrypted, totpContext(user.id));
    const step = acceptTotp(secret, code, deps.security.now(), null);
    if (step === null) throw new RuleViolation('invalid_credentials', 'the code does not match; check the device clock');
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, recoveryCode);
    await trx
      .updateTable('users')
      .set({
        totpSecretEncrypted: user.totpPendingEncrypted,
        totpPendingEncrypted: null,
        totpLastStep: step,
        mfaEnabledAt: new Date(deps.security.now()),
      })
      .where('id', '=', user.id)
      .execute();
    await trx.deleteFrom('recoveryCodes').where('userId', '=', user.id).execute();
    await trx
      .insertInto('recoveryCodes')
      .values(codes.map((item) => ({ userId: user.id, codeHash: tokenHash(normalizeRecoveryCode(item)) })))
      .execute();
    recordAudit(trx, actor, { action: 'mfa.enabled', objectType: 'user', objectId: user.id, after: { recoveryCodeCount: codes.length } });
    return { recoveryCodes: codes };
  });
}

/** Checks a TOTP or recovery code and spends it (a TOTP step or a recovery code is accepted once). */
async function checkSecondFactor(
  deps: Deps,
  trx: Trx,
  userId: string,
  totpCode: string | undefined,
  recovery: string | undefined,
  actor: Actor,
): Promise<boolean> {
  const user = await trx.selectFrom('users').select(['totpSecretEncrypted', 'totpLastStep']).where('id', '=', userId).forUpdate().executeTakeFirstOrThrow();
  if (user.totpSecretEncrypted === null) return false;
  if (totpCode !== undefined) {
    const secret = decryptSecret(deps.security.keyring, user.totpSecretEncrypted, totpContext(userId));
    const step = acceptTotp(secret, totpCode, deps.security.now(), user.totpLastStep);
    if (step === null) return false;
    await trx.updateTable('users').set({ totpLastStep: step }).where('id', '=', userId).execute();
    return true;
  }
  if (recovery !== undefined) {
    const spent = await trx
      .updateTable('recoveryCodes')
      .set({ usedAt: new Date(deps.security.now()) })
      .where('userId', '=', userId)
      .where('codeHash', '=', tokenHash(normalizeRecoveryCode(recovery)))
      .where('usedAt', 'is', null)
      .executeTakeFirst();
    if (spent.numUpdatedRows !== 1n) return false;
    recordAudit(trx, actor, { action: 'mfa.recovery_code_used', objectType: 'user', objectId: userId });
    return true;
  }
  return false;
}

export async function disableMfa(deps: Deps, actor: Actor, password: string, code: { totpCode?: string | undefined; recoveryCode?: string | undefined }): Promise<void> {
  const user = await requireUser(deps.db, actor);
  if (user.mfaEnabledAt === null) throw new RuleViolation('mfa_state', 'MFA is not enabled');
  if (!(await verifyPassword(user.passwordHash, password))) throw new RuleViolation('invalid_credentials', 'the password is wrong');
  await auditedTransaction(deps.db, async (trx) => {
    if (!(await checkSecondFactor(deps, trx, user.id, code.totpCode, code.recoveryCode, actor))) {
      throw new RuleViolation('invalid_credentials', 'the MFA code is wrong or was already used');
    }
    await trx
      .updateTable('users')
      .set({ totpSecretEncrypted: null, totpPendingEncrypted: null, totpLastStep: null, mfaEnabledAt: null })
      .where('id', '=', user.id)
      .execute();
    await trx.deleteFrom('recoveryCodes').where('userId', '=', user.id).execute();
    recordAudit(trx, actor, { action: 'mfa.disabled', objectType: 'user', objectId: user.id });
  });
}

// ---- API tokens ---------------------------------------------------------------------------------------------

export interface ApiTokenView {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  entityIds: string[];
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

function apiTokenView(row: {
  id: string;
  name: string;
  prefix: string;
  scopes: unknown;
  entityIds: unknown;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}): ApiTokenView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes as Scope[],
    entityIds: row.entityIds as string[],
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

export async function createApiToken(
  deps: Deps,
  actor: Actor,
  input: { name: string; scopes: Scope[]; entityIds: string[]; expiresAt?: string | undefined },
): Promise<ApiTokenView & { token: string }> {
  if (actor.type !== 'user' || actor.userId === undefined) throw new RuleViolation('forbidden', 'API tokens are created by a signed-in user');
  if (!actor.mfa) throw new RuleViolation('mfa_required', 'creating an API token needs a session that passed MFA');
  const token = opaqueToken(API_TOKEN_PREFIX);
  return auditedTransaction(deps.db, async (trx) => {
    const owned = await trx
      .selectFrom('entities')
      .select('id')
      .where('ownerUserId', '=', actor.userId as string)
      .where('id', 'in', input.entityIds)
      .execute();
    const ownedIds = new Set(owned.map((row) => row.id));
    const missing = input.entityIds.find((id) => !ownedIds.has(id));
    if (missing !== undefined) throw new NotFound('entity', missing);
    const row = await trx
      .insertInto('apiTokens')
      .values({
        userId: actor.userId as string,
        name: input.name,
        tokenHash: tokenHash(token),
        prefix: token.slice(0, API_TOKEN_PREFIX.length + 6),
        scopes: JSON.stringify([...new Set(input.scopes)]),
        entityIds: JSON.stringify([...new Set(input.entityIds)]),
        expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const view = apiTokenView(row);
    recordAudit(trx, actor, { action: 'api_token.created', objectType: 'api_token', objectId: view.id, after: view });
    return { ...view, token };
  });
}

export async function listApiTokens(db: Db, actor: Actor): Promise<ApiTokenView[]> {
  if (actor.type !== 'user' || actor.userId === undefined) throw new RuleViolation('forbidden', 'API tokens are listed by a signed-in user');
  const rows = await db.selectFrom('apiTokens').selectAll().where('userId', '=', actor.userId).orderBy('createdAt').execute();
  return rows.map(apiTokenView);
}

export async function revokeApiToken(deps: Deps, actor: Actor, tokenId: string): Promise<ApiTokenView> {
  if (actor.type !== 'user' || actor.userId === undefined) throw new RuleViolation('forbidden', 'API tokens are revoked by a signed-in user');
  return auditedTransaction(deps.db, async (trx) => {
    const current = await trx.selectFrom('apiTokens').selectAll().where('id', '=', tokenId).where('userId', '=', actor.userId as string).executeTakeFirst();
    if (current === undefined) throw new NotFound('api_token', tokenId);
    if (current.revokedAt !== null) return apiTokenView(current);
    const row = await trx
      .updateTable('apiTokens')
      .set({ revokedAt: new Date(deps.security.now()) })
      .where('id', '=', tokenId)
      .returningAll()
      .executeTakeFirstOrThrow();
    const view = apiTokenView(row);
    recordAudit(trx, actor, { action: 'api_token.revoked', objectType: 'api_token', objectId: tokenId, before: apiTokenView(current), after: view });
    return view;
  });
}

// ---- authentication -----------------------------------------------------------------------------------------

/**
 * What never changes about an API token (only its revocation and last use do), kept per database after a full
 * lookup so a write with a fast path can skip the lookup: `veil_book_entries_alerting` checks the revocation and expiry
 * itself, in the statement that writes. Every other route looks the token up each time.
 */
interface KnownToken {
  id: string;
  userId: string;
  scopes: Scope[];
  entityIds: string[];
  expiresAtMs: number | null;
  /** When `last_used_at` was last written (or read): past a minute, the full lookup runs and touches it. */
  usedAtMs: number;
}

const TOKENS_KNOWN_MAX = 1_000;
const tokensByDb = new WeakMap<Db, Map<string, KnownToken>>();

function knownTokens(db: Db): Map<string, KnownToken> {
  let tokens = tokensByDb.get(db);
  if (tokens === undefined) {
    tokens = new Map();
    tokensByDb.set(db, tokens);
  }
  return tokens;
}

function tokenActor(token: KnownToken, extra: Partial<Actor>): Actor {
  return {
    ...ANONYMOUS,
    ...extra,
    type: 'api_token',
    id: token.id,
    userId: token.userId,
    tokenId: token.id,
    scopes: token.scopes,
    entityScope: token.entityIds,
    mfa: true,
  };
}

const UNAUTHENTICATED = () => new RuleViolation('unauthenticated', 'a valid Bearer access token or API token is required');

/**
 * Turns an `Authorization` header into an actor: `Bearer veil_…` is an API token, any other Bearer value must be
 * one of our access tokens whose session is still open. Anything else is 401, with the same message whatever the
 * reason (expired, tampered, unknown, revoked).
 */
export async function authenticate(
  deps: Deps,
  authorization: string | undefined,
  extra: Partial<Actor>,
  options: { deferRevocationCheck?: boolean } = {},
): Promise<Actor> {
  const match = authorization === undefined ? null : /^Bearer ([\w.~+/=-]{10,2000})$/.exec(authorization);
  if (match === null) throw UNAUTHENTICATED();
  const credential = match[1] as string;
  const nowMs = deps.security.now();
  if (credential.startsWith(API_TOKEN_PREFIX)) {
    const hash = tokenHash(credential);
    const tokens = knownTokens(deps.db);
    const known = tokens.get(hash);
    // A token seen within the last minute, on a route whose own statement checks revocation: no lookup here.
    if (
      options.deferRevocationCheck &&
      known !== undefined &&
      nowMs - known.usedAtMs <= API_TOKEN_TOUCH_MS &&
      (known.expiresAtMs === null || known.expiresAtMs > nowMs)
    ) {
      return { ...tokenActor(known, extra), revocationDeferred: true };
    }
    const row = await deps.db
      .selectFrom('apiTokens')
      .select(['id', 'userId', 'scopes', 'entityIds', 'expiresAt', 'revokedAt', 'lastUsedAt'])
      .where('tokenHash', '=', hash)
      .executeTakeFirst();
    if (row === undefined || row.revokedAt !== null || (row.expiresAt !== null && row.expiresAt.getTime() <= nowMs)) {
      tokens.delete(hash);
      throw UNAUTHENTICATED();
    }
    let usedAtMs = row.lastUsedAt?.getTime() ?? null;
    if (usedAtMs === null || nowMs - usedAtMs > API_TOKEN_TOUCH_MS) {
      // Throttled to once a minute: "last used" is for people, and a write per request would cost the hot path.
      await deps.db.updateTable('apiTokens').set({ lastUsedAt: new Date(nowMs) }).where('id', '=', row.id).execute();
      usedAtMs = nowMs;
    }
    const facts: KnownToken = {
      id: row.id,
      userId: row.userId,
      scopes: row.scopes as Scope[],
      entityIds: row.entityIds as string[],
      expiresAtMs: row.expiresAt?.getTime() ?? null,
      usedAtMs,
    };
    if (tokens.size >= TOKENS_KNOWN_MAX) tokens.clear();
    tokens.set(hash, facts);
    return tokenActor(facts, extra);
  }
  const claims = await verifyAccessToken(deps.security.jwtSecret, credential, nowMs);
  if (claims === null) throw UNAUTHENTICATED();
  if (options.deferRevocationCheck) {
    return userActor(claims.userId, { ...extra, sessionId: claims.sessionId, mfa: claims.mfa, revocationDeferred: true });
  }
  const session = await deps.db
    .selectFrom('sessions')
    .select(['revokedAt', 'userId'])
    .where('id', '=', claims.sessionId)
    .executeTakeFirst();
  if (session === undefined || session.revokedAt !== null || session.userId !== claims.userId) throw UNAUTHENTICATED();
  return userActor(claims.userId, { ...extra, sessionId: claims.sessionId, mfa: claims.mfa });
}

export async function currentUser(db: Db, actor: Actor): Promise<UserView & { actor: { type: string; scopes: readonly Scope[]; mfa: boolean } }> {
  if (actor.userId === undefined) throw UNAUTHENTICATED();
  const row = await db.selectFrom('users').selectAll().where('id', '=', actor.userId).executeTakeFirstOrThrow();
  return { ...userView(row), actor: { type: actor.type, scopes: actor.scopes, mfa: actor.mfa } };
}
