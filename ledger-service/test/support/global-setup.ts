import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { CamelCasePlugin, Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { pgliteParsers, type Database } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';

/**
 * PGlite's initdb costs seconds; loading a dumped data directory costs about one. Migrate once per run, dump the
 * result, and let every test file start from that template.
 */
export default async function globalSetup(): Promise<void> {
  if ((process.env.VEIL_TEST_DB ?? 'pglite') !== 'pglite') return;
  const pglite = await PGlite.create('memory://', { parsers: pgliteParsers() });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite), plugins: [new CamelCasePlugin()] });
  await migrateToLatest(db);
  const dump = await pglite.dumpDataDir('none');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'veil-pglite-')), 'template.tar');
  fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  process.env.VEIL_PGLITE_TEMPLATE = file;
  // Destroying the Kysely instance closes PGlite too.
  await db.destroy();
}
