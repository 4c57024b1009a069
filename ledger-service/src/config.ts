import path from 'node:path';
import { z } from 'zod';

// The environment is read and validated once, at start-up; nothing else reads process.env.

const Env = z.object({
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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  VEIL_SEED_DEMO: z.enum(['true', 'false']).default('false'),
  VEIL_AFR_TABLE: z.string().min(1).optional(),
});

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  databaseSchema: string | undefined;
  dataDir: string;
  pgliteDataDir: string;
  poolSizeMax: number;
  logLevel: z.infer<typeof Env>['LOG_LEVEL'];
  seedDemo: boolean;
  /** The AFR data table; undefined means the one shipped in reference/afr.json. */
  afrTablePath: string | undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = Env.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n');
    throw new Error(`invalid configuration:\n${problems}`);
  }
  const parsed = result.data;
  const dataDir = path.resolve(parsed.VEIL_DATA_DIR);
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    databaseUrl: parsed.DATABASE_URL,
    databaseSchema: parsed.VEIL_DB_SCHEMA,
    dataDir,
    pgliteDataDir: path.join(dataDir, 'pglite'),
    poolSizeMax: parsed.VEIL_DB_POOL_MAX,
    logLevel: parsed.LOG_LEVEL,
    seedDemo: parsed.VEIL_SEED_DEMO === 'true',
    afrTablePath: parsed.VEIL_AFR_TABLE ? path.resolve(parsed.VEIL_AFR_TABLE) : undefined,
  };
}
