import { randomBytes } from 'node:crypto';
import { RedisStore } from 'rate-limit-redis';
import { createClient } from 'redis';
import { createApp } from './app';
import { createMetrics } from './http/metrics';
import { loadConfig } from './config';
import { openDatabase } from './db/database';
import { migrateToLatest } from './db/migrate';
import { createLogger } from './logger';
import { securityFromConfig } from './security/setup';
import { register } from './services/auth';
import { seedDemo } from './services/demo';
import { loadAfrTable } from './services/reference';
import { startAlertSweeper } from './services/alert-events';
import { sealPendingAudit } from './services/audit';
import { startPeriodic } from './services/periodic';
import { analyzeStaleTables, keepsOwnStatistics } from './services/statistics';
import { startDispatcher } from './services/events';
import { liveBackupSource } from './services/backup';
import { createPlaidDeps } from './plaid/client';
import { linkDemoBanks } from './services/plaid-demo';

const DEMO_EMAIL = 'demo@veil.local';
const AUDIT_SEAL_INTERVAL_MS = 5_000;
const STATISTICS_INTERVAL_MS = 10 * 60_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const handle = await openDatabase({
    databaseUrl: config.databaseUrl,
    schema: config.databaseUrl ? config.databaseSchema : undefined,
    pgliteDataDir: config.pgliteDataDir,
    poolSizeMax: config.poolSizeMax,
    onPoolError: (error) => logger.warn({ err: error }, 'an idle database connection failed; the pool replaces it'),
  });
  const applied = await migrateToLatest(handle.db);
  if (applied.length > 0) logger.info({ applied }, 'migrations applied');

  let redis: { sendCommand(args: string[]): Promise<unknown>; quit(): Promise<unknown> } | undefined;
  if (config.redisUrl) {
    const client = createClient({ url: config.redisUrl });
    client.on('error', (error) => logger.error({ err: error }, 'redis error'));
    await client.connect();
    redis = client as unknown as NonNullable<typeof redis>;
  }
  const shared = redis;
  const security = securityFromConfig(config, {
    rateLimitStore: shared
      ? (prefix) => new RedisStore({ prefix, sendCommand: (...args: string[]) => shared.sendCommand(args) as never })
      : undefined,
  });
  if (config.encryptionKey === undefined) logger.warn({ file: config.encryptionKeyFile }, 'VEIL_ENCRYPTION_KEY is not set: using the key file in the data directory');
  const plaid = config.plaid ? createPlaidDeps(config.plaid) : undefined;
  const backups = config.backupDir
    ? {
        dir: config.backupDir,
        keep: config.backupKeep,
        source: liveBackupSource(handle, { databaseUrl: config.databaseUrl, schema: config.databaseUrl ? config.databaseSchema : undefined }),
      }
    : undefined;
  const deps = { db: handle.db, logger, backend: handle.backend, security, afrRows: loadAfrTable(config.afrTablePath), plaid, backups, bookingTransactionsMax: config.bookingTransactionsMax };
  if (plaid === undefined) logger.info('Plaid is not configured (PLAID_CLIENT_ID, PLAID_SECRET): bank sync is off');
  let demoBooks: { ownerUserId: string; llcEntityId: string; personalEntityId: string } | undefined;

  if (config.seedDemo) {
    const anyone = await handle.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
    if (anyone === undefined) {
      const password = config.demoPassword ?? randomBytes(12).toString('base64url');
      const owner = await register(deps, { email: DEMO_EMAIL, password });
      const seeded = await seedDemo(deps, { ownerUserId: owner.id });
      if (seeded) demoBooks = { ownerUserId: owner.id, llcEntityId: seeded.llcEntityId, personalEntityId: seeded.personalEntityId };
      logger.info(
        { ...seeded, email: DEMO_EMAIL, ...(config.demoPassword ? {} : { password }) },
        'demo data seeded; sign in at POST /auth/login with this demo user',
      );
    }
  }
  const state = { stopping: false };
  // One registry for the app and this process's webhook dispatcher, so /metrics counts its delivery attempts.
  const metrics = createMetrics(deps);
  const app = createApp(deps, { metricsToken: config.metricsToken, metrics, stopping: () => state.stopping, dashboardDir: config.dashboardDir });
  // Webhook deliveries: every second, send what the outbox holds (retries back off on their own schedule).
  const stopDispatcher = startDispatcher(deps, config.webhookDispatchIntervalMs, metrics.observeDelivery);
  // Date-driven alerts (bills due and late, month end) need no write to happen: sweep them on a timer too.
  const stopAlertSweeper = config.alertSweepIntervalMs > 0 ? startAlertSweeper(deps, config.alertSweepIntervalMs) : async () => {};
  // Audit rows a fast-path booking queued and could not seal (a crash, a failed seal): into the chain at start and
  // every few seconds after (migration 0028). Each booking seals its own before it answers.
  const sealQueuedAudit = async () => {
    if ((await sealPendingAudit(handle.db)) < 0) logger.error('the audit queue holds a row the chain refuses: nothing is sealed until it is repaired');
  };
  await sealQueuedAudit();
  const stopAuditSealer = startPeriodic(AUDIT_SEAL_INTERVAL_MS, logger, 'sealing queued audit rows failed', sealQueuedAudit);
  // Planner statistics where no autovacuum keeps them (PGlite; PostgreSQL with autovacuum off): the tables that
  // changed enough are analyzed at start and every ten minutes (services/statistics.ts).
  const analyzeTables = async () => {
    const analyzed = await analyzeStaleTables(handle.db);
    if (analyzed.length > 0) logger.info({ tables: analyzed }, 'planner statistics refreshed');
  };
  let stopStatistics = async () => {};
  if (await keepsOwnStatistics(handle.db, handle.backend)) {
    await analyzeTables();
    stopStatistics = startPeriodic(STATISTICS_INTERVAL_MS, logger, 'refreshing planner statistics failed', analyzeTables);
  }
  const server = app.listen(config.port, config.host, () => {
    const url = `http://${config.host}:${config.port}`;
    logger.info(
      { url, backend: handle.backend, dataDir: handle.backend === 'pglite' ? config.pgliteDataDir : undefined },
      `Veil ledger listening on ${url} (API docs ${url}/docs)`,
    );
    if (demoBooks && config.plaid?.emulator) void linkDemo(demoBooks);
  });
  // Longer than the idle timeout of the proxies and clients in front (Caddy, n8n's HTTP agent): the server must
  // never close a keep-alive connection at the moment a client reuses it, which the client sees as ECONNRESET.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  // The emulator starts beside the ledger (scripts/start.mjs): wait for it a little, then link the demo banks.
  async function linkDemo(books: NonNullable<typeof demoBooks>): Promise<void> {
    for (let attempt = 1; attempt <= 40; attempt += 1) {
      try {
        const linked = await linkDemoBanks(deps, books.ownerUserId, books);
        logger.info(linked, 'demo banks linked through the Plaid sandbox emulator');
        return;
      } catch (error) {
        if (attempt === 40) logger.error({ err: error }, 'could not link the demo banks');
        else await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  const stop = (signal: string) => {
    if (state.stopping) return;
    state.stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    server.close(async () => {
      await stopDispatcher();
      await stopAlertSweeper();
      await stopAuditSealer();
      await stopStatistics();
      await handle.close();
      await redis?.quit();
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
