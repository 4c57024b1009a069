import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import { RuleViolation } from '../../domain/errors';
import { BackupError, backupToDirectory, listDirectoryBackups, type DirectoryBackup } from '../../services/backup';
import type { Actor, Deps } from '../../services/context';
import { createMounter, type ActorResolver } from '../route';
import { z } from '../zod';

const DirectoryBackupSchema = z
  .object({
    backend: z.enum(['postgres', 'pglite']),
    file: z.string(),
    bytes: z.int(),
    entries: z.int(),
    auditRows: z.int(),
    createdAt: z.string(),
    removed: z.array(z.string()),
  })
  .openapi('DirectoryBackup');

/** Answers kept for retried requests (same actor, same Idempotency-Key), newest last. */
const REPLAYS_MAX = 100;

/**
 * A backup holds every user's books, so only the instance owner (the first user, role `owner`) may take one, with a
 * session or an API token that can write.
 */
async function requireInstanceOwner(deps: Deps, actor: Actor): Promise<void> {
  if ((actor.type !== 'user' && actor.type !== 'api_token') || actor.userId === undefined) throw new RuleViolation('forbidden', 'sign in as the instance owner');
  if (!actor.scopes.includes('write')) throw new RuleViolation('forbidden', 'backups need the write scope');
  const user = await deps.db.selectFrom('users').select('role').where('id', '=', actor.userId).executeTakeFirst();
  if (user?.role !== 'owner') throw new RuleViolation('forbidden', 'only the instance owner may back up the whole ledger');
}

function configured(deps: Deps) {
  if (deps.backups === undefined) {
    throw new RuleViolation('backups_not_configured', 'this ledger has no backup directory: set VEIL_BACKUP_DIR (and VEIL_BACKUP_KEEP) and restart it');
  }
  return deps.backups;
}

export function mountAdminRoutes(router: Router, registry: OpenAPIRegistry, deps: Deps, actorOf: ActorResolver) {
  const mount = createMounter(router, registry, deps, actorOf);
  let running = false;
  const replays = new Map<string, DirectoryBackup>();

  // Not a ledger write: the dump must not run inside the request's transaction (PGlite has one connection), so
  // the Idempotency-Key is honoured here, by this process: a retry answers the backup the first request took.
  mount({
    method: 'post',
    path: '/admin/backups',
    tag: 'admin',
    summary: 'Back up the whole ledger into the configured directory (VEIL_BACKUP_DIR), removing the oldest beyond VEIL_BACKUP_KEEP',
    responses: { 201: { description: 'the backup written', schema: DirectoryBackupSchema } },
    handler: async ({ actor, req }) => {
      // In the order of every other write: the key, then who may, then whether this install can.
      const key = req.get('idempotency-key');
      if (key === undefined || key.length === 0 || key.length > 200) {
        throw new RuleViolation('idempotency_key_required', 'every write needs an Idempotency-Key header (1 to 200 characters); reuse it when you retry');
      }
      await requireInstanceOwner(deps, actor);
      const backups = configured(deps);
      const replayKey = `${actor.type}:${actor.id}:${key}`;
      const earlier = replays.get(replayKey);
      if (earlier !== undefined) {
        req.res?.setHeader('Idempotent-Replayed', 'true');
        return { status: 201, body: earlier };
      }
      if (running) throw new RuleViolation('backup_in_progress', 'a backup is being written; try again when it is done');
      running = true;
      try {
        const result = await backupToDirectory(backups, deps.security.now());
        deps.logger.info({ file: result.file, bytes: result.bytes, removed: result.removed }, 'backup written');
        replays.set(replayKey, result);
        if (replays.size > REPLAYS_MAX) replays.delete(replays.keys().next().value as string);
        return { status: 201, body: result };
      } catch (error) {
        if (error instanceof BackupError) throw new RuleViolation('backup_failed', error.message);
        throw error;
      } finally {
        running = false;
      }
    },
  });
  mount({
    method: 'get',
    path: '/admin/backups',
    tag: 'admin',
    summary: 'The backups in the configured directory, newest first',
    responses: { 200: { description: 'backups', schema: z.object({ keep: z.int(), items: z.array(z.object({ file: z.string(), bytes: z.int() })) }) } },
    handler: async ({ actor }) => {
      await requireInstanceOwner(deps, actor);
      const backups = configured(deps);
      return { status: 200, body: { keep: backups.keep, items: await listDirectoryBackups(backups.dir) } };
    },
  });
}
