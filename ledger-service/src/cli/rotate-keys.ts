import fs from 'node:fs';
import { loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { migrateToLatest } from '../db/migrate';
import { formatKeyring, withNewActiveKey } from '../security/crypto';
import { loadKeyring } from '../security/setup';
import { rotateEncryption } from '../services/secrets';

// `tsx src/cli/rotate-keys.ts`: re-encrypts every secret under the active key.
//  - key file (embedded default): a new key is generated and made active in the file, then everything moves to it.
//  - VEIL_ENCRYPTION_KEY: put the new key first (keep the old ones after it), run this, then drop the old ones.
// The database is changed first, in one transaction; the key file is rewritten only after that commits, and keeps
// the old keys, so a crash in between leaves nothing unreadable.

async function main(): Promise<void> {
  const config = loadConfig();
  const { keyring: current, source } = loadKeyring(config);
  const keyring = source === 'file' ? withNewActiveKey(current) : current;
  const handle = await openDatabase({ databaseUrl: config.databaseUrl, pgliteDataDir: config.pgliteDataDir });
  try {
    await migrateToLatest(handle.db);
    if (source === 'file') {
      // The new key must be on disk before any ciphertext uses it.
      fs.writeFileSync(config.encryptionKeyFile, `${formatKeyring(keyring)}\n`, { mode: 0o600 });
    }
    const report = await rotateEncryption(handle.db, keyring);
    console.log(JSON.stringify(report));
  } finally {
    await handle.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
