import { randomUUID } from 'node:crypto';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import cors from 'cors';
import express, { type Request, type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { sql } from 'kysely';
import { pinoHttp } from 'pino-http';
import swaggerUi from 'swagger-ui-express';
import { migrationsCurrent } from './db/migrate';
import { AUTH_BODY_BYTES_MAX, REQUEST_BODY_BYTES_MAX } from './domain/limits';
import { authenticate } from './services/auth';
import type { Deps } from './services/context';
import { errorHandler, notFoundHandler } from './http/errors';
import { requestFacts, type ActorResolver } from './http/route';
import { mountDashboard } from './http/dashboard';
import { mountAdminRoutes } from './http/routes/admin';
import { mountAuthRoutes } from './http/routes/auth';
import { mountLedgerRoutes } from './http/routes/ledger';
import { mountVeilRoutes } from './http/routes/veil';
import { mountReportRoutes } from './http/routes/reports';
import { mountForm1099Routes } from './http/routes/form-1099';
import { loadForm1099Table } from './services/form-1099-table';
import { mountBankLineRoutes } from './http/routes/bank-lines';
import { mountBudgetRoutes } from './http/routes/budget';
import { mountBillRoutes } from './http/routes/bills';
import { mountEventRoutes } from './http/routes/events';
import { mountExecutionRoutes } from './http/routes/executions';
import { mountAlertRoutes } from './http/routes/alerts';
import { mountImportRoutes } from './http/routes/imports';
import { mountPlaidRoutes, RAW_BODY } from './http/routes/plaid';
import { mountInvestmentRoutes } from './http/routes/investments';
import { loadContributionLimits } from './services/contribution-limits-table';
import { loadAfrTable } from './services/reference';
import { ErrorBody } from './http/schemas';
import { createMetrics, mountMetrics, timeRequests, type Metrics } from './http/metrics';

const REQUEST_ID = /^[\w.:-]{1,100}$/;

/** Login, MFA, refresh, password and token routes: guessing happens here, so these get the strict limit. */
const AUTH_PATHS = ['/auth/login', '/auth/register', '/auth/refresh', '/auth/mfa', '/auth/password', '/auth/tokens', '/auth/invitations'];

function limiter(deps: Deps, prefix: string, limit: number): RequestHandler {
  const { rateLimits, rateLimitStore } = deps.security;
  return rateLimit({
    windowMs: rateLimits.windowMs,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    ...(rateLimitStore ? { store: rateLimitStore(prefix) } : {}),
    handler: (_req, res, _next, options) => {
      res.status(options.statusCode).json({
        error: { code: 'rate_limited', message: 'too many requests; slow down', details: { retryAfterSeconds: Math.ceil(rateLimits.windowMs / 1000) } },
      });
    },
  });
}

/** Builds the whole service from its dependencies; main.ts listens, tests drive it directly. */
/**
 * PostgreSQL text cannot hold a NUL character: a JSON string carrying one (\u0000) would reach the database and fail
 * there as a 500. The body parser refuses it instead, as invalid JSON for this service (400 invalid_json).
 */
function refuseNul(key: string, value: unknown): unknown {
  if ((typeof value === 'string' && value.includes('\u0000')) || key.includes('\u0000')) {
    throw new SyntaxError(`${key === '' ? 'the body' : `"${key.replace(/\u0000/g, '\\u0000')}"`} holds a NUL character (\\u0000), which no field accepts`);
  }
  return value;
}

export function createApp(
  deps: Deps,
  options: { actorOf?: ActorResolver; metricsToken?: string | undefined; metrics?: Metrics | undefined; stopping?: () => boolean; dashboardDir?: string | undefined } = {},
) {
  const actorOf: ActorResolver =
    options.actorOf ??
    ((req: Request, resolveOptions = {}) => authenticate(deps, req.get('authorization'), requestFacts(req), resolveOptions));
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          // Swagger UI's page carries inline styles; nothing else needs them, and inline scripts stay forbidden.
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    }),
  );
  const allowedOrigins = new Set(deps.security.corsOrigins);
  app.use(
    cors({
      // Requests without an Origin (n8n, curl) are not browser requests; CORS does not concern them.
      origin: (origin, callback) => callback(null, origin !== undefined && allowedOrigins.has(origin)),
      allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id', 'X-N8N-Execution-Id', 'X-File-Name', 'X-Csv-Mapping', 'X-Account-Map', 'X-Save-Mapping'],
      exposedHeaders: ['X-Request-Id', 'Idempotent-Replayed', 'RateLimit', 'RateLimit-Policy'],
      maxAge: 600,
    }),
  );
  const metrics = options.metrics ?? createMetrics(deps);
  app.use(timeRequests(metrics));
  app.use(limiter(deps, 'veil-rl-all:', deps.security.rateLimits.generalMax));
  app.use(AUTH_PATHS, limiter(deps, 'veil-rl-auth:', deps.security.rateLimits.authMax));
  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
    }),
  );
  // Credentials and codes are small: the auth routes refuse anything bigger long before argon2 sees it.
  app.use('/auth', express.json({ limit: AUTH_BODY_BYTES_MAX, reviver: refuseNul }));
  app.use(
    express.json({
      limit: REQUEST_BODY_BYTES_MAX,
      reviver: refuseNul,
      // Plaid signs the exact bytes of a webhook body: keep them for the signature check.
      verify: (req, _res, buffer) => {
        if (req.url?.startsWith('/plaid/webhook')) (req as unknown as Record<symbol, Buffer>)[RAW_BODY] = Buffer.from(buffer);
      },
    }),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    // A replica that is shutting down finishes what it has but takes nothing new: the balancer should look away.
    if (options.stopping?.()) {
      res.status(503).json({ status: 'stopping', backend: deps.backend });
      return;
    }
    try {
      await sql`select 1`.execute(deps.db);
      const current = await migrationsCurrent(deps.db);
      res.status(current ? 200 : 503).json({ status: current ? 'ready' : 'migrations_pending', backend: deps.backend });
    } catch (error) {
      res.status(503).json({ status: 'database_unreachable', message: (error as Error).message });
    }
  });

  mountMetrics(app, metrics, options.metricsToken);

  const registry = new OpenAPIRegistry();
  registry.register('Error', ErrorBody);
  const router = express.Router();
  mountAuthRoutes(router, registry, deps, actorOf);
  mountLedgerRoutes(router, registry, deps, actorOf);
  mountVeilRoutes(router, registry, deps, actorOf, deps.afrRows ?? loadAfrTable());
  mountReportRoutes(router, registry, deps, actorOf);
  mountForm1099Routes(router, registry, deps, actorOf, loadForm1099Table());
  mountBankLineRoutes(router, registry, deps, actorOf);
  mountBudgetRoutes(router, registry, deps, actorOf);
  mountBillRoutes(router, registry, deps, actorOf);
  mountEventRoutes(router, registry, deps, actorOf);
  mountAlertRoutes(router, registry, deps, actorOf);
  mountExecutionRoutes(router, registry, deps, actorOf);
  mountImportRoutes(router, registry, deps, actorOf);
  mountPlaidRoutes(router, registry, deps, actorOf);
  mountInvestmentRoutes(router, registry, deps, actorOf, loadContributionLimits());
  mountAdminRoutes(router, registry, deps, actorOf);
  app.use(router);

  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Veil ledger',
      version: '0.1.0',
      description: 'Double-entry books for an LLC and its owner. Amounts are integer cents. Every write takes an Idempotency-Key.',
    },
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(document));
  // The dashboard's scripts and styles are files from this origin, so the CSP above needs no exception for them.
  if (options.dashboardDir !== undefined) mountDashboard(app, options.dashboardDir);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
