import { createApp } from './app';
import { loadConfig } from './config';
import { openDatabase } from './db/database';
import { migrateToLatest } from './db/migrate';
import { createLogger } from './logger';
import { seedDemo } from './services/demo';
import { loadAfrTable } from './services/reference';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const handle = await openDatabase({
    databaseUrl: config.databaseUrl,
    schema: config.databaseUrl ? config.databaseSchema : undefined,
    pgliteDataDir: config.pgliteDataDir,
    poolSizeMax: config.poolSizeMax,
  });
  const applied = await migrateToLatest(handle.db);
  if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  const deps = { db: handle.db, logger, backend: handle.backend, afrRows: loadAfrTable(config.afrTablePath) };
  if (config.seedDemo) {
    const seeded = await seedDemo(deps);
    if (seeded) logger.info(seeded, 'demo data seeded');
  }
  const app = createApp(deps);
  const server = app.listen(config.port, config.host, () => {
    const url = `http://${config.host}:${config.port}`;
    logger.info(
      { url, backend: handle.backend, dataDir: handle.backend === 'pglite' ? config.pgliteDataDir : undefined },
      `Veil ledger listening on ${url} (API docs ${url}/docs)`,
    );
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    server.close(async () => {
      await handle.close();
      logger.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
