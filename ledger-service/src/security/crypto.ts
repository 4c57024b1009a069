import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AssertionFailure } from '../domain/errors';

// AES-256-GCM with a key id in every envelope, so keys can rotate: old ciphertext names the key that opens it,
// new ciphertext always uses the active key. The caller passes a context (e.g. "users.totp:<user id>") that is
// bound in as additional authenticated data: a ciphertext copied onto another row does not decrypt there.

const ENVELOPE_VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export interface Keyring {
  /** Encrypts with this key. */
  activeKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}

/** A decryption failure: wrong key, wrong context, or tampered ciphertext. Never a user error. */
export class DecryptionFailure extends AssertionFailure {}

function keyIdOf(key: Buffer): string {
  return `k${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

/**
 * Parses `VEIL_ENCRYPTION_KEY`: comma-separated keys, each `id:base64` or bare base64 (its id is then derived from
 * the key). The first key is active; the others are kept only to decrypt until `veil rotate-keys` has run.
 */
export function parseKeyring(text: string): Keyring {
  const keys = new Map<string, Buffer>();
  let activeKeyId: string | undefined;
  for (const part of text.split(',').map((item) => item.trim()).filter(Boolean)) {
    const separator = part.indexOf(':');
    const material = Buffer.from(separator >= 0 ? part.slice(separator + 1) : part, 'base64');
    if (material.length !== KEY_BYTES) throw new Error(`an encryption key must be ${KEY_BYTES} bytes of base64`);
    const id = separator >= 0 ? part.slice(0, separator) : keyIdOf(material);
    if (!KEY_ID.test(id)) throw new Error(`encryption key id "${id}" must match ${KEY_ID}`);
    if (keys.has(id)) throw new Error(`encryption key id "${id}" appears twice`);
    keys.set(id, material);
    activeKeyId ??= id;
  }
  if (activeKeyId === undefined) throw new Error('no encryption key given');
  return { activeKeyId, keys };
}

export function formatKeyring(keyring: Keyring): string {
  const ordered = [keyring.activeKeyId, ...[...keyring.keys.keys()].filter((id) => id !== keyring.activeKeyId)];
  return ordered.map((id) => `${id}:${(keyring.keys.get(id) as Buffer).toString('base64')}`).join(',');
}

export function newKey(): { id: string; material: Buffer } {
  const material = randomBytes(KEY_BYTES);
  return { id: keyIdOf(material), material };
}

/** Adds a fresh key and makes it the active one; older keys remain for decryption. */
export function withNewActiveKey(keyring: Keyring): Keyring {
  const { id, material } = newKey();
  return { activeKeyId: id, keys: new Map([[id, material], ...keyring.keys]) };
}

/**
 * Reads a secret file from the data directory, creating it with `create()` and mode 0600 on first start. The
 * file is written exclusively (`wx`) so two processes starting at once cannot each write a different key.
 */
export function loadOrCreateSecretFile(file: string, create: () => string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, `${create()}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return fs.readFileSync(file, 'utf8').trim();
}

export function encryptSecret(keyring: Keyring, plaintext: string, context: string): string {
  const key = keyring.keys.get(keyring.activeKeyId);
  if (key === undefined) throw new AssertionFailure('the active encryption key is missing from the keyring');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [ENVELOPE_VERSION, keyring.activeKeyId, iv, ciphertext, tag]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

export function envelopeKeyId(envelope: string): string {
  const [version, keyId] = envelope.split('.');
  if (version !== ENVELOPE_VERSION || keyId === undefined) throw new DecryptionFailure('not a Veil ciphertext envelope');
  return keyId;
}

export function decryptSecret(keyring: Keyring, envelope: string, context: string): string {
  const parts = envelope.split('.');
  const [version, keyId, iv, ciphertext, tag] = parts;
  if (parts.length !== 5 || version !== ENVELOPE_VERSION || !keyId || !iv || ciphertext === undefined || !tag) {
    throw new DecryptionFailure('not a Veil ciphertext envelope');
  }
  const key = keyring.keys.get(keyId);
  if (key === undefined) throw new DecryptionFailure(`encryption key ${keyId} is not in the keyring`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new DecryptionFailure('the ciphertext does not open with its key and context');
  }
}
