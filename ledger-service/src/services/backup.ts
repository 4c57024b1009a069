import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { loadPglite, openDatabase, type Db } from '../db/database';
import { migrationsCurrent } from '../db/migrate';
import { verifyAuditChain } from './audit';

// Backups of the whole ledger. PostgreSQL: `pg_dump --format=custom` of the ledger's schema, restored with
// `pg_restore` into an EMPTY database. PGlite: its data-directory dump (a gzipped tar), restored into an EMPTY
// data directory. Neither ever writes over books that exist. Secrets stay encrypted in the backup, and the
// encryption key is NOT in it: keep VEIL_ENCRYPTION_KEY (or the data directory's key file) somewhere else.

const PG_DUMP_MAGIC = 'PGDMP';
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

export type Target = { databaseUrl: string; schema?: string | undefined } | { pgliteDataDir: string };

export interface BackupSummary {
  backend: 'postgres' | 'pglite';
  file: string;
  bytes: number;
  entries: number;
  auditRows: number;
}

export class BackupError extends Error {}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', (error) => reject(new BackupError(`${command}: ${error.message} (is the PostgreSQL client installed?)`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new BackupError(`${command} exited with ${code}: ${stderr.trim()}`))));
  });
}

async function counts(target: Target): Promise<{ entries: number; auditRows: number; chainOk: boolean }> {
  const handle = await openDatabase('databaseUrl' in target ? { databaseUrl: target.databaseUrl, schema: target.schema } : { pgliteDataDir: target.pgliteDataDir });
  try {
    const entries = await handle.db.selectFrom('journalEntries').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    const chain = await verifyAuditChain(handle.db);
    return { entries: Number(entries.n), auditRows: chain.checked, chainOk: chain.ok };
  } finally {
    await handle.close();
  }
}

async function currentSchema(databaseUrl: string, schema: string | undefined): Promise<string> {
  if (schema) return schema;
  const handle = await openDatabase({ databaseUrl });
  try {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(handle.db);
    return rows[0]?.schema ?? 'public';
  } finally {
    await handle.close();
  }
}

/** Writes a backup of the books at `target` to `file` (refusing to overwrite one). */
export async function backup(target: Target, file: string, progress: (message: string) => void = () => {}): Promise<BackupSummary> {
  if (fs.existsSync(file)) throw new BackupError(`${file}: already exists; choose a new file name`);
  const before = await counts(target);
  if (!before.chainOk) throw new BackupError('the audit chain does not verify: refusing to back up books that may have been tampered with');
  if ('databaseUrl' in target) {
    const schema = await currentSchema(target.databaseUrl, target.schema);
    progress(`pg_dump of schema ${schema}`);
    await run('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--schema=${schema}`, `--file=${file}`, `--dbname=${target.databaseUrl}`]);
  } else {
    progress(`dumping the PGlite data directory ${target.pgliteDataDir}`);
    const { PGlite } = loadPglite();
    const pglite = await PGlite.create(target.pgliteDataDir);
    try {
      const dump = await pglite.dumpDataDir('gzip');
      fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()), { mode: 0o600 });
    } finally {
      await pglite.close();
    }
  }
  const bytes = fs.statSync(file).size;
  progress(`wrote ${bytes} bytes: ${before.entries} entries, ${before.auditRows} audit rows`);
  return { backend: 'databaseUrl' in target ? 'postgres' : 'pglite', file, bytes, entries: before.entries, auditRows: before.auditRows };
}

function kindOf(file: string): 'postgres' | 'pglite' {
  const head = Buffer.alloc(5);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 5, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head.toString('latin1') === PG_DUMP_MAGIC) return 'postgres';
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) return 'pglite';
  throw new BackupError(`${file}: not a Veil backup (neither a pg_dump archive nor a PGlite data-directory dump)`);
}

/** Restores `file` into an empty target, then checks what came back: migrations current, audit chain intact. */
export async function restore(file: string, target: Target, progress: (message: string) => void = () => {}): Promise<BackupSummary> {
  if (!fs.existsSync(file)) throw new BackupError(`${file}: no such file`);
  const kind = kindOf(file);
  if (kind === 'postgres') {
    if (!('databaseUrl' in target)) throw new BackupError(`${file}: a PostgreSQL backup; set DATABASE_URL to an empty database to restore it`);
    const handle = await openDatabase({ databaseUrl: target.databaseUrl });
    try {
      const { rows } = await sql<{ n: string }>`select count(*) as n from information_schema.tables where table_name = 'journal_entries'`.execute(handle.db);
      if (Number(rows[0]?.n ?? 0) > 0) throw new BackupError('the target database already holds Veil books: restore into an empty database');
    } finally {
      await handle.close();
    }
    progress('pg_restore');
    await run('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${target.databaseUrl}`, file]);
  } else {
    if ('databaseUrl' in target) throw new BackupError(`${file}: a PGlite backup; restore it into an empty data directory (unset DATABASE_URL)`);
    const dir = path.resolve(target.pgliteDataDir);
    if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new BackupError(`${dir}: not empty; restore into an empty data directory`);
    progress(`loading the dump into ${dir}`);
    fs.mkdirSync(dir, { recursive: true });
    const { PGlite } = loadPglite();
    const pglite = await PGlite.create(dir, { loadDataDir: new Blob([fs.readFileSync(file)]) });
    await pglite.close();
  }
  const schemaTarget: Target = 'databaseUrl' in target ? { databaseUrl: target.databaseUrl, schema: target.schema } : target;
  const handle = await openDatabase('databaseUrl' in schemaTarget ? schemaTarget : { pgliteDataDir: schemaTarget.pgliteDataDir });
  try {
    if (!(await migrationsCurrent(handle.db))) progress('note: the backup is from an older version; the service migrates it on start');
  } finally {
    await handle.close();
  }
  const after = await counts(schemaTarget);
  if (!after.chainOk) throw new BackupError('restored, but the audit chain does not verify: the backup is damaged');
  progress(`restored ${after.entries} entries, ${after.auditRows} audit rows; the audit chain verifies`);
  return { backend: kind, file, bytes: fs.statSync(file).size, entries: after.entries, auditRows: after.auditRows };
}

// Backups taken by the running service (POST /admin/backups, the scheduled-backup template): of the books this
// process serves, into a directory the operator configured, keeping the newest `keep` files. PostgreSQL: pg_dump of
// the service's schema (the PostgreSQL client must be on the path). PGlite: a dump of the open database itself, as
// a second process may not open its data directory. Either file restores with `veil restore`.

/** Names of the files this writes: the instant in UTC, to the millisecond, then the kind. Sorting them sorts by time. */
export const BACKUP_FILE_PATTERN = /^veil-backup-\d{8}T\d{9}Z\.(dump|tar\.gz)$/;

export interface LiveBackupSource {
  db: Db;
  backend: 'postgres' | 'pglite';
  /** Writes the dump of the open books to `file`. */
  dumpTo(file: string): Promise<void>;
}

export interface BackupDeps {
  dir: string;
  keep: number;
  source: LiveBackupSource;
}

export interface DirectoryBackup {
  backend: 'postgres' | 'pglite';
  /** The file's name inside the backup directory (never the directory itself: that is the operator's business). */
  file: string;
  bytes: number;
  entries: number;
  auditRows: number;
  createdAt: string;
  /** Older backups removed to keep `keep`. */
  removed: string[];
}

export function liveBackupSource(
  handle: { db: Db; backend: 'postgres' | 'pglite'; dumpDataDir?: (() => Promise<Blob>) | undefined },
  postgres: { databaseUrl?: string | undefined; schema?: string | undefined },
): LiveBackupSource {
  if (handle.backend === 'pglite') {
    const dump = handle.dumpDataDir;
    if (dump === undefined) throw new Error('a PGlite handle without dumpDataDir');
    return { db: handle.db, backend: 'pglite', dumpTo: async (file) => fs.writeFileSync(file, Buffer.from(await (await dump()).arrayBuffer()), { mode: 0o600, flag: 'wx' }) };
  }
  const { databaseUrl } = postgres;
  if (databaseUrl === undefined) throw new Error('a PostgreSQL backup source needs the database URL');
  return {
    db: handle.db,
    backend: 'postgres',
    dumpTo: async (file) => {
      const schema = await currentSchema(databaseUrl, postgres.schema);
      await run('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--schema=${schema}`, `--file=${file}`, `--dbname=${databaseUrl}`]);
    },
  };
}

function stamp(ms: number): string {
  // 2026-11-24T09:45:01.123Z → 20261124T094501123Z
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

export async function listDirectoryBackups(dir: string): Promise<{ file: string; bytes: number }[]> {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => BACKUP_FILE_PATTERN.test(name))
    .sort()
    .reverse()
    .map((file) => ({ file, bytes: fs.statSync(path.join(dir, file)).size }));
}

/**
 * One backup of the open books into `dir`: refused when the audit chain does not verify; written under a temporary
 * name and renamed when complete, so a crash never leaves a file that looks like a backup; then the oldest backups
 * beyond `keep` are removed (files of this naming only).
 */
export async function backupToDirectory(backups: BackupDeps, nowMs: number): Promise<DirectoryBackup> {
  const { source, dir, keep } = backups;
  const chain = await verifyAuditChain(source.db);
  if (!chain.ok) throw new BackupError('the audit chain does not verify: refusing to back up books that may have been tampered with');
  const entries = await source.db.selectFrom('journalEntries').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = `veil-backup-${stamp(nowMs)}.${source.backend === 'postgres' ? 'dump' : 'tar.gz'}`;
  const finalPath = path.join(dir, file);
  if (fs.existsSync(finalPath)) throw new BackupError(`${file} already exists`);
  const partial = path.join(dir, `.${file}.partial`);
  try {
    await source.dumpTo(partial);
    fs.renameSync(partial, finalPath);
  } finally {
    fs.rmSync(partial, { force: true });
  }
  const removed: string[] = [];
  for (const old of (await listDirectoryBackups(dir)).slice(keep)) {
    fs.rmSync(path.join(dir, old.file), { force: true });
    removed.push(old.file);
  }
  return {
    backend: source.backend,
    file,
    bytes: fs.statSync(finalPath).size,
    entries: Number(entries.n),
    auditRows: chain.checked,
    createdAt: new Date(nowMs).toISOString(),
    removed,
  };
}
