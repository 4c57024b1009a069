import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { backup, BackupError, restore, type Target } from '../services/backup';

// `veil backup --out FILE` and `veil restore --from FILE`: the books named by the usual settings (DATABASE_URL
// and VEIL_DB_SCHEMA, or VEIL_DATA_DIR for PGlite). Restore only ever fills an empty database or data directory.

export async function backupCommand(command: 'backup' | 'restore', argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string' }, from: { type: 'string' } }, strict: true });
  const config = loadConfig();
  const target: Target = config.databaseUrl ? { databaseUrl: config.databaseUrl, schema: config.databaseSchema } : { pgliteDataDir: config.pgliteDataDir };
  const progress = (message: string) => process.stderr.write(`[veil ${command}] ${message}\n`);
  try {
    if (command === 'backup') {
      if (!values.out) throw new BackupError('usage: veil backup --out FILE');
      const summary = await backup(target, path.resolve(values.out), progress);
      progress('the encryption key is not in the backup: keep VEIL_ENCRYPTION_KEY (or the key file in the data directory) safe on its own');
      console.log(JSON.stringify(summary));
    } else {
      if (!values.from) throw new BackupError('usage: veil restore --from FILE');
      console.log(JSON.stringify(await restore(path.resolve(values.from), target, progress)));
    }
    return 0;
  } catch (error) {
    if (error instanceof BackupError) {
      process.stderr.write(`veil ${command}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
