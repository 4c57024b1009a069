import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import { NAME_LENGTH_MAX, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX } from '../../domain/limits';
import { RuleViolation } from '../../domain/errors';
import { authorizeEntity, requireScope } from '../../security/authorization';
import { PASSWORD_LENGTH_MAX } from '../../security/passwords';
import * as audit from '../../services/audit';
import * as auth from '../../services/auth';
import { SCOPES, type Deps } from '../../services/context';
import { createMounter, type ActorResolver } from '../route';
import { Id } from '../schemas';
import { z } from '../zod';

const EMAIL_LENGTH_MAX = 254;
const API_TOKEN_ENTITIES_MAX = 100;

const Email = z.email().max(EMAIL_LENGTH_MAX);
// The rules (length, variety) are checked by the service so the message can list every unmet rule at once.
const Password = z.string().min(1).max(PASSWORD_LENGTH_MAX);
const TotpCode = z.string().regex(/^\d{6}$/, 'six digits');
const RecoveryCode = z.string().min(8).max(40);
const OpaqueToken = z.string().min(10).max(200);

const User = z
  .object({ id: Id, email: z.string(), role: z.enum(['owner', 'member']), mfaEnabled: z.boolean(), createdAt: z.string() })
  .openapi('User');
const TokenPair = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal('Bearer'),
    expiresInSeconds: z.int(),
    refreshToken: z.string(),
    user: User,
  })
  .openapi('TokenPair');
const ApiToken = z
  .object({
    id: Id,
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.enum(SCOPES as ['read', 'write', 'move_money'])),
    entityIds: z.array(Id),
    lastUsedAt: z.string().nullable(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('ApiToken');

const AuditRow = z
  .object({
    seq: z.int(),
    occurredAt: z.string(),
    actorType: z.string(),
    actorId: z.string(),
    actorUserId: Id.nullable(),
    tokenId: Id.nullable(),
    executionId: z.string().nullable(),
    action: z.string(),
    entityId: Id.nullable(),
    objectType: z.string(),
    objectId: z.string().nullable(),
    before: z.unknown(),
    after: z.unknown(),
    requestId: z.string().nullable(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi('AuditRow');

const AuditQuery = z
  .object({
    entityId: Id.optional(),
    action: z.string().min(1).max(100).optional(),
    objectType: z.string().min(1).max(100).optional(),
    objectId: z.string().min(1).max(100).optional(),
    from: z.iso.datetime().optional(),
    to: z.iso.datetime().optional(),
    limit: z.coerce.number().int().min(1).max(PAGE_SIZE_MAX).default(PAGE_SIZE_DEFAULT),
    cursor: z.string().max(20).optional(),
  })
  .strict();

export function mountAuthRoutes(router: Router, registry: OpenAPIRegistry, deps: Deps, actorOf: ActorResolver) {
  const mount = createMounter(router, registry, deps, actorOf);
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'an access token from /auth/login, or an API token (veil_…) for n8n',
  });

  mount({
    method: 'post',
    path: '/auth/register',
    tag: 'auth',
    summary: 'Register: the first user becomes the owner; later users need an invitation token',
    public: true,
    body: z.object({ email: Email, password: Password, invitationToken: OpaqueToken.optional() }).strict(),
    responses: { 201: { description: 'registered', schema: User } },
    handler: async ({ body, actor }) => ({ status: 201, body: await auth.register(deps, body, actor.requestId) }),
  });
  mount({
    method: 'post',
    path: '/auth/login',
    tag: 'auth',
    summary: 'Sign in; with MFA enabled, send totpCode or recoveryCode too',
    public: true,
    body: z
      .object({ email: Email, password: Password, totpCode: TotpCode.optional(), recoveryCode: RecoveryCode.optional() })
      .strict(),
    responses: { 200: { description: 'tokens', schema: TokenPair } },
    handler: async ({ body, actor }) => ({ status: 200, body: await auth.login(deps, body, actor.requestId) }),
  });
  mount({
    method: 'post',
    path: '/auth/refresh',
    tag: 'auth',
    summary: 'Trade a refresh token for new tokens (each refresh token works once; a reused one ends the session)',
    public: true,
    body: z.object({ refreshToken: OpaqueToken }).strict(),
    responses: { 200: { description: 'tokens', schema: TokenPair } },
    handler: async ({ body, actor }) => ({ status: 200, body: await auth.refresh(deps, body.refreshToken, actor.requestId) }),
  });
  mount({
    method: 'post',
    path: '/auth/password/reset',
    tag: 'auth',
    summary: 'Set a new password with a reset token issued by the owner',
    public: true,
    body: z.object({ resetToken: OpaqueToken, newPassword: Password }).strict(),
    responses: { 204: { description: 'changed; every session of the user is ended' } },
    handler: async ({ body, actor }) => {
      await auth.resetPassword(deps, body.resetToken, body.newPassword, actor.requestId);
      return { status: 204, body: undefined };
    },
  });
  mount({
    method: 'post',
    path: '/auth/logout',
    tag: 'auth',
    summary: 'End this session: its access and refresh tokens stop working',
    responses: { 204: { description: 'signed out' } },
    handler: async ({ actor }) => {
      await auth.logout(deps, actor);
      return { status: 204, body: undefined };
    },
  });
  mount({
    method: 'get',
    path: '/auth/me',
    tag: 'auth',
    summary: 'The signed-in user and what this credential may do',
    responses: { 200: { description: 'the user', schema: User.extend({ actor: z.object({ type: z.string(), scopes: z.array(z.string()), mfa: z.boolean() }) }) } },
    handler: async ({ actor }) => ({ status: 200, body: await auth.currentUser(deps.db, actor) }),
  });
  mount({
    method: 'post',
    path: '/auth/password',
    tag: 'auth',
    summary: 'Change the password (other sessions end)',
    body: z.object({ currentPassword: Password, newPassword: Password }).strict(),
    responses: { 204: { description: 'changed' } },
    handler: async ({ body, actor }) => {
      await auth.changePassword(deps, actor, body.currentPassword, body.newPassword);
      return { status: 204, body: undefined };
    },
  });
  mount({
    method: 'post',
    path: '/auth/password/reset-tokens',
    tag: 'auth',
    summary: 'Owner only: issue a one-hour password reset token for a user (hand it over out of band)',
    body: z.object({ email: Email }).strict(),
    responses: { 201: { description: 'the token, shown once', schema: z.object({ resetToken: z.string(), expiresAt: z.string() }) } },
    handler: async ({ body, actor }) => ({ status: 201, body: await auth.createPasswordReset(deps, actor, body.email) }),
  });
  mount({
    method: 'post',
    path: '/auth/invitations',
    tag: 'auth',
    summary: 'Owner only: invite a user by email (the token is shown once)',
    body: z.object({ email: Email }).strict(),
    responses: { 201: { description: 'invitation', schema: z.object({ invitationToken: z.string(), email: z.string(), expiresAt: z.string() }) } },
    handler: async ({ body, actor }) => ({ status: 201, body: await auth.createInvitation(deps, actor, body.email) }),
  });

  mount({
    method: 'post',
    path: '/auth/mfa/enrol',
    tag: 'mfa',
    summary: 'Start TOTP enrolment: returns the otpauth URI and a QR code; confirm with a first code',
    responses: {
      200: { description: 'enrolment', schema: z.object({ secret: z.string(), otpauthUri: z.string(), qrCodeDataUrl: z.string() }) },
    },
    handler: async ({ actor }) => ({ status: 200, body: await auth.enrolMfa(deps, actor) }),
  });
  mount({
    method: 'post',
    path: '/auth/mfa/confirm',
    tag: 'mfa',
    summary: 'Confirm enrolment with a first code; returns 10 one-time recovery codes, shown once',
    body: z.object({ totpCode: TotpCode }).strict(),
    responses: { 200: { description: 'enabled', schema: z.object({ recoveryCodes: z.array(z.string()) }) } },
    handler: async ({ body, actor }) => ({ status: 200, body: await auth.confirmMfa(deps, actor, body.totpCode) }),
  });
  mount({
    method: 'post',
    path: '/auth/mfa/disable',
    tag: 'mfa',
    summary: 'Disable MFA with the password and a TOTP or recovery code',
    body: z.object({ password: Password, totpCode: TotpCode.optional(), recoveryCode: RecoveryCode.optional() }).strict(),
    responses: { 204: { description: 'disabled' } },
    handler: async ({ body, actor }) => {
      await auth.disableMfa(deps, actor, body.password, body);
      return { status: 204, body: undefined };
    },
  });

  mount({
    method: 'post',
    path: '/auth/tokens',
    tag: 'api tokens',
    summary: 'Create an API token for n8n, scoped to entities and to read / write / move_money; shown once',
    body: z
      .object({
        name: z.string().trim().min(1).max(NAME_LENGTH_MAX),
        scopes: z.array(z.enum(SCOPES as ['read', 'write', 'move_money'])).min(1).max(3),
        entityIds: z.array(Id).min(1).max(API_TOKEN_ENTITIES_MAX),
        expiresAt: z.iso.datetime().optional(),
      })
      .strict(),
    responses: { 201: { description: 'created; `token` is never shown again', schema: ApiToken.extend({ token: z.string() }) } },
    handler: async ({ body, actor }) => ({ status: 201, body: await auth.createApiToken(deps, actor, body) }),
  });
  mount({
    method: 'get',
    path: '/auth/tokens',
    tag: 'api tokens',
    summary: 'List your API tokens (never the tokens themselves)',
    responses: { 200: { description: 'tokens', schema: z.object({ items: z.array(ApiToken) }) } },
    handler: async ({ actor }) => ({ status: 200, body: { items: await auth.listApiTokens(deps.db, actor) } }),
  });
  mount({
    method: 'delete',
    path: '/auth/tokens/:tokenId',
    tag: 'api tokens',
    summary: 'Revoke an API token',
    params: z.object({ tokenId: Id }),
    responses: { 200: { description: 'revoked', schema: ApiToken } },
    handler: async ({ params, actor }) => ({ status: 200, body: await auth.revokeApiToken(deps, actor, params.tokenId) }),
  });

  mount({
    method: 'get',
    path: '/audit',
    tag: 'audit',
    summary: 'The audit trail you may read (your entities and your own account), newest first',
    query: AuditQuery,
    responses: { 200: { description: 'a page of audit rows', schema: z.object({ items: z.array(AuditRow), nextCursor: z.string().nullable() }) } },
    handler: async ({ query, actor }) => {
      requireScope(actor, 'read');
      if (query.entityId !== undefined) await authorizeEntity(deps.db, actor, query.entityId, 'read');
      const userId = actor.userId as string;
      const owned = await deps.db.selectFrom('entities').select('id').where('ownerUserId', '=', userId).execute();
      const entityIds = owned.map((row) => row.id).filter((id) => actor.entityScope === 'all' || actor.entityScope.includes(id));
      const page = await audit.listAudit(
        deps.db,
        { userId, entityIds, ownRows: actor.type === 'user' },
        {
          entityId: query.entityId,
          action: query.action,
          objectType: query.objectType,
          objectId: query.objectId,
          from: query.from,
          to: query.to,
          limit: query.limit,
          beforeSeq: query.cursor === undefined ? undefined : audit.auditCursor(query.cursor),
        },
      );
      return { status: 200, body: page };
    },
  });
  mount({
    method: 'post',
    path: '/audit/verify',
    tag: 'audit',
    summary: 'Owner only: recompute the hash chain and name the first broken link',
    responses: {
      200: {
        description: 'verdict',
        schema: z.object({ ok: z.boolean(), checked: z.int(), firstBrokenSeq: z.int().nullable(), reason: z.string().nullable() }),
      },
    },
    handler: async ({ actor }) => {
      if (actor.type !== 'user') throw new RuleViolation('forbidden', 'only the owner can verify the audit chain');
      const user = await deps.db.selectFrom('users').select('role').where('id', '=', actor.userId as string).executeTakeFirstOrThrow();
      if (user.role !== 'owner') throw new RuleViolation('forbidden', 'only the owner can verify the audit chain');
      return { status: 200, body: await audit.verifyAuditChain(deps.db) };
    },
  });
}
