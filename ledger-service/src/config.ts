import path from 'node:path';
import { z } from 'zod';
import { ARGON2_PRODUCTION, type Argon2Cost } from './security/passwords';

/** Where `npm run build --workspace dashboard` writes the app, seen from this file in src/ or dist/. */
const DASHBOARD_DIR_DEFAULT = path.resolve(__dirname, '..', '..', 'dashboard', 'dist');

// The environment is read and validated once, at start-up; nothing else reads process.env.

export const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(4100),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// connection string')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  VEIL_DATA_DIR: z.string().default('./data'),
  /** PostgreSQL schema for the tables (default: the connection's search path). Lets several ledgers share a database. */
  VEIL_DB_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL identifier')
    .optional(),
  VEIL_DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /**
   * Single-entry booking transactions run at once; requests arriving meanwhile are booked together, one COMMIT for
   * the group (services/journal-fast.ts). 2 suits a database on 2 cores; raise it with the database's cores.
   */
  VEIL_BOOKING_TRANSACTIONS: z.coerce.number().int().min(1).max(64).default(2),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  VEIL_SEED_DEMO: z.enum(['true', 'false']).default('false'),
  /** The built dashboard (index.html and assets/); served at / and /app when it exists. */
  VEIL_DASHBOARD_DIR: z.string().min(1).optional(),
  VEIL_AFR_TABLE: z.string().min(1).optional(),
  /** The demo user's password; generated and logged once when absent. */
  VEIL_DEMO_PASSWORD: z.string().min(12).max(256).optional(),
  /** `id:base64,…` or one base64 key (32 bytes); the first is active. Absent: a key file in the data dir. */
  VEIL_ENCRYPTION_KEY: z.string().min(40).max(10_000).optional(),
  /** HS256 key for access tokens, base64, at least 32 bytes. Absent: a key file in the data dir. */
  VEIL_JWT_SECRET: z.string().min(43).max(1_000).optional(),
  VEIL_ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(3_600).default(900),
  VEIL_REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(300).max(90 * 86_400).default(30 * 86_400),
  /** argon2id cost. Production defaults; lower them only for tests. */
  VEIL_ARGON2_MEMORY_KIB: z.coerce.number().int().min(8).max(4_194_304).default(ARGON2_PRODUCTION.memoryCostKib),
  VEIL_ARGON2_TIME_COST: z.coerce.number().int().min(1).max(20).default(ARGON2_PRODUCTION.timeCost),
  /** Comma-separated origins allowed to call the API from a browser (the dashboard). */
  VEIL_CORS_ORIGINS: z.string().max(2_000).default(''),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'a redis:// URL')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  VEIL_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3_600).default(60),
  VEIL_RATE_LIMIT_MAX: z.coerce.number().int().min(1).max(1_000_000).default(600),
  /** Bearer token for GET /metrics; absent, /metrics answers only requests from this machine. */
  VEIL_METRICS_TOKEN: z.string().min(16).max(500).optional(),
  /** Directory POST /admin/backups writes to; absent, the service takes no backups itself (`veil backup` still does). */
  VEIL_BACKUP_DIR: z.string().min(1).max(1_000).optional(),
  /** How many backups POST /admin/backups keeps in VEIL_BACKUP_DIR (the oldest beyond are removed). */
  VEIL_BACKUP_KEEP: z.coerce.number().int().min(1).max(1_000).default(14),
  VEIL_RATE_LIMIT_AUTH_MAX: z.coerce.number().int().min(1).max(10_000).default(10),
  /** How often the webhook dispatcher looks for due deliveries. */
  VEIL_WEBHOOK_DISPATCH_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  // The alert sweep (bills due/late, month end): every 15 minutes by default; 0 turns it off (n8n calls POST /alerts/sweep).
  VEIL_ALERT_SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(900),
  /** Which Plaid: its sandbox or production, or the bundled emulator (PLAID_BASE_URL says where it listens). */
  PLAID_ENV: z.enum(['sandbox', 'production', 'emulator']).optional(),
  /** Overrides the Plaid host PLAID_ENV implies (the emulator's URL). */
  PLAID_BASE_URL: z.url().optional(),
  PLAID_CLIENT_ID: z.string().min(1).max(200).optional(),
  PLAID_SECRET: z.string().min(1).max(200).optional(),
  /** Where Plaid should POST webhooks: this service's public URL + /plaid/webhook. */
  PLAID_WEBHOOK_URL: z.url().optional(),
});

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  databaseSchema: string | undefined;
  dataDir: string;
  dashboardDir: string;
  pgliteDataDir: string;
  poolSizeMax: number;
  bookingTransactionsMax: number;
  logLevel: z.infer<typeof Env>['LOG_LEVEL'];
  seedDemo: boolean;
  /** The AFR data table; undefined means the one shipped in reference/afr.json. */
  afrTablePath: string | undefined;
  demoPassword: string | undefined;
  encryptionKey: string | undefined;
  encryptionKeyFile: string;
  jwtSecret: string | undefined;
  jwtSecretFile: string;
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  argon2: Argon2Cost;
  corsOrigins: string[];
  redisUrl: string | undefined;
  rateLimits: { windowMs: number; generalMax: number; authMax: number };
  metricsToken: string | undefined;
  backupDir: string | undefined;
  backupKeep: number;
  webhookDispatchIntervalMs: number;
  alertSweepIntervalMs: number;
  /** Absent when no Plaid credentials are configured: bank sync is then off (npm start runs the emulator). */
  plaid: PlaidConfig | undefined;
}

export interface PlaidConfig {
  basePath: string;
  clientId: string;
  secret: string;
  webhookUrl: string | undefined;
  /** PLAID_ENV=emulator: the bundled sandbox emulator, so the demo books get linked banks on first start. */
  emulator: boolean;
}

const PLAID_HOSTS = { sandbox: 'https://sandbox.plaid.com', production: 'https://production.plaid.com' } as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable is an unset one (compose passes `${X:-}` through as ''), never a value to validate.
  const result = Env.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n');
    throw new Error(`invalid configuration:\n${problems}`);
  }
  const parsed = result.data;
  const dataDir = path.resolve(parsed.VEIL_DATA_DIR);
  let plaid: PlaidConfig | undefined;
  if (parsed.PLAID_CLIENT_ID !== undefined && parsed.PLAID_SECRET !== undefined) {
    const basePath = parsed.PLAID_BASE_URL ?? (parsed.PLAID_ENV === 'production' ? PLAID_HOSTS.production : parsed.PLAID_ENV === 'emulator' ? undefined : PLAID_HOSTS.sandbox);
    if (basePath === undefined) throw new Error('invalid configuration:\n  PLAID_BASE_URL: PLAID_ENV=emulator needs the emulator URL');
    plaid = { basePath: basePath.replace(/\/$/, ''), clientId: parsed.PLAID_CLIENT_ID, secret: parsed.PLAID_SECRET, webhookUrl: parsed.PLAID_WEBHOOK_URL, emulator: parsed.PLAID_ENV === 'emulator' };
  } else if (parsed.PLAID_CLIENT_ID !== undefined || parsed.PLAID_SECRET !== undefined) {
    throw new Error('invalid configuration:\n  PLAID_CLIENT_ID and PLAID_SECRET go together');
  }
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    databaseUrl: parsed.DATABASE_URL,
    databaseSchema: parsed.VEIL_DB_SCHEMA,
    dataDir,
    dashboardDir: parsed.VEIL_DASHBOARD_DIR ? path.resolve(parsed.VEIL_DASHBOARD_DIR) : DASHBOARD_DIR_DEFAULT,
    pgliteDataDir: path.join(dataDir, 'pglite'),
    poolSizeMax: parsed.VEIL_DB_POOL_MAX,
    bookingTransactionsMax: parsed.VEIL_BOOKING_TRANSACTIONS,
    logLevel: parsed.LOG_LEVEL,
    seedDemo: parsed.VEIL_SEED_DEMO === 'true',
    afrTablePath: parsed.VEIL_AFR_TABLE ? path.resolve(parsed.VEIL_AFR_TABLE) : undefined,
    demoPassword: parsed.VEIL_DEMO_PASSWORD,
    encryptionKey: parsed.VEIL_ENCRYPTION_KEY,
    encryptionKeyFile: path.join(dataDir, 'secrets', 'encryption-keys'),
    jwtSecret: parsed.VEIL_JWT_SECRET,
    jwtSecretFile: path.join(dataDir, 'secrets', 'jwt-secret'),
    accessTokenTtlMs: parsed.VEIL_ACCESS_TOKEN_TTL_SECONDS * 1000,
    refreshTokenTtlMs: parsed.VEIL_REFRESH_TOKEN_TTL_SECONDS * 1000,
    argon2: { memoryCostKib: parsed.VEIL_ARGON2_MEMORY_KIB, timeCost: parsed.VEIL_ARGON2_TIME_COST, parallelism: 1 },
    corsOrigins: parsed.VEIL_CORS_ORIGINS.split(',').map((origin) => origin.trim()).filter(Boolean),
    redisUrl: parsed.REDIS_URL,
    rateLimits: {
      windowMs: parsed.VEIL_RATE_LIMIT_WINDOW_SECONDS * 1000,
      generalMax: parsed.VEIL_RATE_LIMIT_MAX,
      authMax: parsed.VEIL_RATE_LIMIT_AUTH_MAX,
    },
    metricsToken: parsed.VEIL_METRICS_TOKEN,
    backupDir: parsed.VEIL_BACKUP_DIR ? path.resolve(parsed.VEIL_BACKUP_DIR) : undefined,
    backupKeep: parsed.VEIL_BACKUP_KEEP,
    webhookDispatchIntervalMs: parsed.VEIL_WEBHOOK_DISPATCH_INTERVAL_MS,
    alertSweepIntervalMs: parsed.VEIL_ALERT_SWEEP_INTERVAL_SECONDS * 1000,
    plaid,
  };
}
