import type { Transaction } from 'kysely';
import type { Database, Db } from '../db/database';
import { NotFound } from '../domain/errors';
import { decryptSecret, encryptSecret, envelopeKeyId, type Keyring } from '../security/crypto';
import { authorizeEntity } from '../security/authorization';
import { auditedTransaction, recordAudit } from './audit';
import { totpContext } from './auth';
import { systemActor, type Actor } from './context';

// The generic encrypted-secret store: Plaid access tokens (and any other third-party credential) go through here,
// never into a plain column. The ciphertext is bound to its row id, so it cannot be moved to another row.

type Trx = Transaction<Database>;

function context(secretId: string): string {
  return `encrypted_secrets:${secretId}`;
}

export async function storeSecret(
  trx: Trx,
  keyring: Keyring,
  actor: Actor,
  input: { purpose: string; entityId?: string | undefined; plaintext: string },
): Promise<{ id: string }> {
  if (input.entityId !== undefined) await authorizeEntity(trx, actor, input.entityId, 'write');
  const id = crypto.randomUUID();
  const ciphertext = encryptSecret(keyring, input.plaintext, context(id));
  await trx
    .insertInto('encryptedSecrets')
    .values({ id, ownerUserId: actor.userId as string, entityId: input.entityId ?? null, purpose: input.purpose, ciphertext, keyId: keyring.activeKeyId })
    .execute();
  recordAudit(trx, actor, { action: 'secret.stored', entityId: input.entityId ?? null, objectType: 'secret', objectId: id, after: { purpose: input.purpose, secret: input.plaintext } });
  return { id };
}

/** Reads a secret the actor owns; anyone else's is answered like a missing one. */
export async function readSecret(db: Db | Trx, keyring: Keyring, actor: Actor, secretId: string): Promise<string> {
  const row = await db.selectFrom('encryptedSecrets').selectAll().where('id', '=', secretId).executeTakeFirst();
  if (row === undefined || (actor.type !== 'system' && row.ownerUserId !== actor.userId)) throw new NotFound('secret', secretId);
  if (row.entityId !== null) await authorizeEntity(db, actor, row.entityId, 'read');
  return decryptSecret(keyring, row.ciphertext, context(row.id));
}

export interface RotationReport {
  activeKeyId: string;
  reencrypted: { secrets: number; totpSecrets: number };
}

const ROTATION_PAGE = 500;

/**
 * Re-encrypts every secret not already under the active key, in one transaction: either all of them move to the
 * new key or none does. Afterwards the old keys can be dropped from VEIL_ENCRYPTION_KEY.
 */
export async function rotateEncryption(db: Db, keyring: Keyring): Promise<RotationReport> {
  const actor = systemActor('key-rotation');
  return auditedTransaction(db, async (trx) => {
    let secrets = 0;
    let totpSecrets = 0;
    for (;;) {
      const rows = await trx
        .selectFrom('encryptedSecrets')
        .select(['id', 'ciphertext'])
        .where('keyId', '!=', keyring.activeKeyId)
        .limit(ROTATION_PAGE)
        .forUpdate()
        .execute();
      if (rows.length === 0) break;
      for (const row of rows) {
        const plaintext = decryptSecret(keyring, row.ciphertext, context(row.id));
        await trx
          .updateTable('encryptedSecrets')
          .set({ ciphertext: encryptSecret(keyring, plaintext, context(row.id)), keyId: keyring.activeKeyId, updatedAt: new Date() })
          .where('id', '=', row.id)
          .execute();
        secrets += 1;
      }
    }
    const users = await trx
      .selectFrom('users')
      .select(['id', 'totpSecretEncrypted', 'totpPendingEncrypted'])
      .where((eb) => eb.or([eb('totpSecretEncrypted', 'is not', null), eb('totpPendingEncrypted', 'is not', null)]))
      .forUpdate()
      .execute();
    for (const user of users) {
      const reencrypt = (envelope: string | null) => {
        if (envelope === null || envelopeKeyId(envelope) === keyring.activeKeyId) return envelope;
        totpSecrets += 1;
        const bound = totpContext(user.id);
        return encryptSecret(keyring, decryptSecret(keyring, envelope, bound), bound);
      };
      const totpSecretEncrypted = reencrypt(user.totpSecretEncrypted);
      const totpPendingEncrypted = reencrypt(user.totpPendingEncrypted);
      if (totpSecretEncrypted !== user.totpSecretEncrypted || totpPendingEncrypted !== user.totpPendingEncrypted) {
        await trx.updateTable('users').set({ totpSecretEncrypted, totpPendingEncrypted }).where('id', '=', user.id).execute();
      }
    }
    const report = { activeKeyId: keyring.activeKeyId, reencrypted: { secrets, totpSecrets } };
    recordAudit(trx, actor, { action: 'encryption.keys_rotated', objectType: 'keyring', objectId: keyring.activeKeyId, after: report });
    return report;
  });
}
