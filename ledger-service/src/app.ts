import { randomUUID } from 'node:crypto';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import express, { type Request } from 'express';
import { sql } from 'kysely';
import { pinoHttp } from 'pino-http';
import swaggerUi from 'swagger-ui-express';
import { migrationsCurrent } from './db/migrate';
import { REQUEST_BODY_BYTES_MAX } from './domain/limits';
import type { Actor, Deps } from './services/context';
import { errorHandler, notFoundHandler } from './http/errors';
import type { ActorResolver } from './http/route';
import { mountLedgerRoutes } from './http/routes/ledger';
import { mountVeilRoutes } from './http/routes/veil';
import { loadAfrTable } from './services/reference';
import { ErrorBody } from './http/schemas';

const REQUEST_ID = /^[\w.:-]{1,100}$/;

/** Until authentication lands every caller is the local operator; the n8n execution id is kept when sent. */
const localActor: ActorResolver = (req: Request): Actor => ({
  type: 'anonymous',
  id: 'local',
  executionId: req.get('x-n8n-execution-id')?.slice(0, 100),
});

/** Builds the whole service from its dependencies; main.ts listens, tests drive it directly. */
export function createApp(deps: Deps, options: { actorOf?: ActorResolver } = {}) {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
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
  app.use(express.json({ limit: REQUEST_BODY_BYTES_MAX }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await sql`select 1`.execute(deps.db);
      const current = await migrationsCurrent(deps.db);
      res.status(current ? 200 : 503).json({ status: current ? 'ready' : 'migrations_pending', backend: deps.backend });
    } catch (error) {
      res.status(503).json({ status: 'database_unreachable', message: (error as Error).message });
    }
  });

  const registry = new OpenAPIRegistry();
  registry.register('Error', ErrorBody);
  const router = express.Router();
  mountLedgerRoutes(router, registry, deps, options.actorOf ?? localActor);
  mountVeilRoutes(router, registry, deps, options.actorOf ?? localActor, deps.afrRows ?? loadAfrTable());
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

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
