import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import pg from 'pg';
import request from 'supertest';
import { createApp } from '../../src/app';
import { openDatabase, type DatabaseHandle } from '../../src/db/database';
import { migrateToLatest, SCHEMA_DDL_LOCK } from '../../src/db/migrate';
import { parseKeyring } from '../../src/security/crypto';
import type { SecurityDeps } from '../../src/security/deps';
import type { Deps } from '../../src/services/context';
import { enableMfa } from './mfa';

export type Backend = 'pglite' | 'postgres';

export const BACKEND: Backend = process.env.VEIL_TEST_DB === 'postgres' ? 'postgres' : 'pglite';

type Agent = ReturnType<typeof request>;

/** supertest's verbs, each request carrying `Authorization: Bearer <token>`. */
export interface AuthedHttp {
  get(url: string): request.Test;
  post(url: string): request.Test;
  put(url: string): request.Test;
  patch(url: string): request.Test;
  delete(url: string): request.Test;
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

/** The service's clock: real time plus an offset the test moves, or a fixed instant. */
export interface TestClock {
  now(): number;
  set(ms: number): void;
  advance(ms: number): void;
}

/** A strong, rule-abiding password for test users. */
export const TEST_PASSWORD = 'Correct-Horse-Battery-42!';

export interface TestLedger {
  deps: Deps;
  handle: DatabaseHandle;
  app: ReturnType<typeof createApp>;
  /** Requests as the owner (the first user, created by startTestLedger). */
  http: AuthedHttp;
  /** Requests without credentials. */
  anonymous: Agent;
  owner: TestUser;
  clock: TestClock;
  /** Requests with any bearer credential (another user's access token, an API token, a forged one…). */
  as(token: string): AuthedHttp;
  /** Invites, registers and signs in another user; `ledger.as(user.accessToken)` acts as them. */
  createUser(email?: string): Promise<TestUser>;
  login(email: string, password: string, extra?: Record<string, string>): Promise<TestUser>;
  /** PostgreSQL schema of this file, when on PostgreSQL. */
  schema: string | undefined;
  close(): Promise<void>;
}

/** A fresh, migrated database (its own schema on PostgreSQL, a template copy on PGlite) and the real app on it. */
export async function startTestLedger(
  options: {
    poolSizeMax?: number;
    security?: Partial<SecurityDeps>;
    /** Sign the owner in with MFA, as moving money (inter-entity transfers) requires. */
    ownerMfa?: boolean;
    /** Serve a built dashboard from this directory, as main.ts does. */
    dashboardDir?: string;
  } = {},
): Promise<TestLedger> {
  let handle: DatabaseHandle;
  let schema: string | undefined;
  let dropSchema = async () => {};
  if (BACKEND === 'postgres') {
    const databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) throw new Error('VEIL_TEST_DB=postgres needs DATABASE_URL');
    schema = `veil_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    handle = await openDatabase({ databaseUrl, schema, poolSizeMax: options.poolSizeMax ?? 10 });
    await migrateToLatest(handle.db);
    const created = schema;
    dropSchema = async () => {
      await dropSchemaLocked(databaseUrl, created);
    };
  } else {
    const template = process.env.VEIL_PGLITE_TEMPLATE;
    handle = await openDatabase({
      pgliteDataDir: 'memory://',
      pgliteLoadDataDir: template ? new Blob([fs.readFileSync(template)]) : undefined,
    });
    await migrateToLatest(handle.db);
  }
  let fixedMs: number | undefined;
  let offsetMs = 0;
  const clock: TestClock = {
    now: () => fixedMs ?? Date.now() + offsetMs,
    set: (ms) => {
      fixedMs = ms;
    },
    advance: (ms) => {
      if (fixedMs !== undefined) fixedMs += ms;
      else offsetMs += ms;
    },
  };
  const security: SecurityDeps = {
    keyring: parseKeyring(randomBytes(32).toString('base64')),
    jwtSecret: new Uint8Array(randomBytes(32)),
    accessTokenTtlMs: 15 * 60_000,
    refreshTokenTtlMs: 7 * 86_400_000,
    // Production argon2 costs ~50 ms a hash; the lowest cost keeps dozens of logins per file cheap.
    argon2: { memoryCostKib: 64, timeCost: 1, parallelism: 1 },
    corsOrigins: ['http://dashboard.test'],
    rateLimits: { windowMs: 60_000, generalMax: 1_000_000, authMax: 100_000 },
    now: clock.now,
    totpIssuer: 'Veil test',
    ...options.security,
  };
  const deps: Deps = { db: handle.db, logger: pino({ level: 'silent' }), backend: handle.backend, security };
  const app = createApp(deps, { dashboardDir: options.dashboardDir });
  const anonymous = request(app);
  const as = (token: string): AuthedHttp => ({
    get: (url) => anonymous.get(url).set('Authorization', `Bearer ${token}`),
    post: (url) => anonymous.post(url).set('Authorization', `Bearer ${token}`),
    put: (url) => anonymous.put(url).set('Authorization', `Bearer ${token}`),
    patch: (url) => anonymous.patch(url).set('Authorization', `Bearer ${token}`),
    delete: (url) => anonymous.delete(url).set('Authorization', `Bearer ${token}`),
  });
  const login = async (email: string, password: string, extra: Record<string, string> = {}): Promise<TestUser> => {
    const response = await anonymous.post('/auth/login').send({ email, password, ...extra });
    if (response.status !== 200) throw new Error(`login ${email}: ${response.status} ${JSON.stringify(response.body)}`);
    return { id: response.body.user.id, email, password, accessToken: response.body.accessToken, refreshToken: response.body.refreshToken };
  };
  const ownerEmail = `owner-${randomUUID().slice(0, 8)}@veil.test`;
  await anonymous.post('/auth/register').send({ email: ownerEmail, password: TEST_PASSWORD }).expect(201);
  const owner = await login(ownerEmail, TEST_PASSWORD);
  const createUser = async (email = `user-${randomUUID().slice(0, 8)}@veil.test`): Promise<TestUser> => {
    const invitation = await as(ledger.owner.accessToken).post('/auth/invitations').send({ email }).expect(201);
    await anonymous.post('/auth/register').send({ email, password: TEST_PASSWORD, invitationToken: invitation.body.invitationToken }).expect(201);
    return login(email, TEST_PASSWORD);
  };
  const ledger: TestLedger = {
    deps,
    handle,
    app,
    // A getter, so a test that re-logs the owner in (ledger.owner = …) keeps `http` in step.
    get http(): AuthedHttp {
      return as(ledger.owner.accessToken);
    },
    anonymous,
    owner,
    clock,
    as,
    createUser,
    login,
    schema,
    close: async () => {
      await handle.close();
      await dropSchema();
    },
  };
  if (options.ownerMfa) ledger.owner = (await enableMfa(ledger, owner)).user;
  return ledger;
}

const KEEP_ALIVE_MS = 65_000;

/** Drops a test schema under the lock migrations take, so no other file's migration reads the catalog meanwhile. */
export async function dropSchemaLocked(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [SCHEMA_DDL_LOCK]);
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}

/** Listens on a free loopback port, for tests that need real concurrent HTTP clients. */
export async function listen(app: TestLedger['app']): Promise<{ baseUrl: string; server: Server; stop(): Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const started = app.listen(0, '127.0.0.1', () => resolve(started));
  });
  // Like main.ts: a keep-alive socket outlives a client's pause, so the client never writes into one the server
  // is closing at that moment (ECONNRESET on a busy machine).
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1_000;
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    server,
    stop: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

let keyCounter = 0;
export function key(label = 'k'): string {
  keyCounter += 1;
  return `${label}-${keyCounter}-${randomUUID()}`;
}
