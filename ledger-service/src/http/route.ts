import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { Request, Response, Router } from 'express';
import type { Transaction } from 'kysely';
import type { Database } from '../db/database';
import { RuleViolation } from '../domain/errors';
import { ANONYMOUS, type Actor, type Deps } from '../services/context';
import { noteExecution } from '../services/executions';
import { idempotentWrite, type IdempotentRequest, type WriteResult } from '../services/idempotency';
import { ErrorBody, IdempotencyHeaders } from './schemas';
import { z } from './zod';

// One declaration per route: the same zod schemas validate the request and describe it in /openapi.json, so the
// document cannot drift from what the service accepts.

export type AnyObject = z.ZodObject<z.ZodRawShape>;
type Infer<T> = T extends z.ZodType ? z.infer<T> : undefined;

export interface RouteInput<P, Q, B> {
  params: Infer<P>;
  query: Infer<Q>;
  body: Infer<B>;
  actor: Actor;
  req: Request;
}

export interface Reply {
  status: number;
  body: unknown;
}

interface RouteSpecBase<P, Q, B> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express syntax (`/entities/:entityId`); converted to OpenAPI's `{entityId}` for the document. */
  path: string;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  /**
   * A file upload: after authentication, `authorize` runs on the path alone, and only then is the request stream
   * read by `read` (instead of the JSON body) into what `body` validates; documented as `schema` per media type.
   */
  upload?: {
    authorize: (input: { params: Infer<P>; actor: Actor }) => Promise<void>;
    read: (req: Request) => Promise<unknown>;
    content: Record<string, z.ZodType>;
  };
  /** Documented in /openapi.json but parsed by the handler itself (a signed webhook: verify first, then parse). */
  documentBody?: z.ZodType;
  /** Reachable without credentials (register, login, refresh…). Every other route authenticates first. */
  public?: true;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
}

export interface ReadRoute<P, Q, B> extends RouteSpecBase<P, Q, B> {
  idempotent?: false;
  handler: (input: RouteInput<P, Q, B>) => Promise<Reply>;
}

/** A write: runs in one transaction together with its Idempotency-Key, and is replayed, never repeated. */
export interface WriteRoute<P, Q, B> extends RouteSpecBase<P, Q, B> {
  idempotent: true;
  handler: (input: RouteInput<P, Q, B> & { trx: Transaction<Database> }) => Promise<Reply>;
  /**
   * Tried first: does the whole write (key, work, answer, audit) in one round trip, or returns undefined having
   * written nothing, and `handler` runs as usual. It must give exactly the answer `handler` would.
   */
  fastPath?: (input: RouteInput<P, Q, B> & { idempotency: IdempotentRequest }) => Promise<WriteResult<unknown> | undefined>;
}

/**
 * Authenticates a request (401 when it cannot); called before anything else of a non-public route.
 * `deferRevocationCheck`: a route with a fast path may leave a session's revocation to its own statement (see
 * `Actor.revocationDeferred`); a resolver may ignore it and check everything.
 */
export type ActorResolver = (req: Request, options?: { deferRevocationCheck?: boolean }) => Promise<Actor>;

const EXECUTION_ID_LENGTH_MAX = 100;
const WORKFLOW_ID_LENGTH_MAX = 100;
const WORKFLOW_NAME_LENGTH_MAX = 200;

/** The workflow name travels percent-encoded (a header carries Latin-1 only); a malformed one is dropped. */
function workflowNameOf(header: string | undefined): string | undefined {
  if (header === undefined || header.length === 0) return undefined;
  try {
    return decodeURIComponent(header).slice(0, WORKFLOW_NAME_LENGTH_MAX);
  } catch {
    return undefined;
  }
}

/** What every actor carries from the request itself: the n8n execution (and workflow) and the request id, for the audit. */
export function requestFacts(req: Request): Pick<Actor, 'executionId' | 'workflowId' | 'workflowName' | 'requestId'> {
  const executionId = req.get('x-n8n-execution-id')?.slice(0, EXECUTION_ID_LENGTH_MAX) || undefined;
  return {
    executionId,
    workflowId: executionId === undefined ? undefined : req.get('x-n8n-workflow-id')?.slice(0, WORKFLOW_ID_LENGTH_MAX) || undefined,
    workflowName: executionId === undefined ? undefined : workflowNameOf(req.get('x-n8n-workflow-name')),
    requestId: typeof req.id === 'string' ? req.id : undefined,
  };
}

export function parsePart<T extends z.ZodType | undefined>(schema: T, value: unknown, location: string): Infer<T> {
  if (schema === undefined) return undefined as Infer<T>;
  const result = schema.safeParse(value ?? {});
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({
      field: [location, ...issue.path.map(String)].join('.'),
      message: issue.message,
    }));
    const first = issues[0];
    throw new RuleViolation(
      'invalid_request',
      first ? `${first.field}: ${first.message}` : `${location} is invalid`,
      { issues: issues.slice(0, 50) },
    );
  }
  return result.data as Infer<T>;
}

export function mountRoute<P extends AnyObject | undefined, Q extends AnyObject | undefined, B extends z.ZodType | undefined>(
  router: Router,
  registry: OpenAPIRegistry,
  deps: Deps,
  actorOf: ActorResolver,
  spec: ReadRoute<P, Q, B> | WriteRoute<P, Q, B>,
): void {
  const openApiPath = spec.path.replace(/:(\w+)/g, '{$1}');
  const request: RouteConfig['request'] = {};
  if (spec.params) request.params = spec.params;
  if (spec.query) request.query = spec.query;
  if (spec.idempotent) request.headers = IdempotencyHeaders;
  if (spec.upload) {
    request.body = { content: Object.fromEntries(Object.entries(spec.upload.content).map(([type, schema]) => [type, { schema }])), required: true };
  } else {
    const documented = spec.body ?? spec.documentBody;
    if (documented) request.body = { content: { 'application/json': { schema: documented } }, required: true };
  }
  const responses: RouteConfig['responses'] = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    responses[status] = response.schema
      ? { description: response.description, content: { 'application/json': { schema: response.schema } } }
      : { description: response.description };
  }
  responses['4XX'] = { description: 'rule violation or bad request', content: { 'application/json': { schema: ErrorBody } } };
  if (!spec.public) responses['401'] = { description: 'no valid credentials', content: { 'application/json': { schema: ErrorBody } } };
  registry.registerPath({
    method: spec.method,
    path: openApiPath,
    summary: spec.summary,
    tags: [spec.tag],
    request,
    responses,
    ...(spec.public ? {} : { security: [{ bearer: [] }] }),
  });

  router[spec.method](spec.path, async (req: Request, res: Response) => {
    // Authentication comes first, so an anonymous caller learns nothing, not even which inputs are valid.
    // A write from an n8n execution takes the long way: it records the execution beside what it books, which the
    // one-statement fast path does not.
    const fastPath = spec.idempotent && requestFacts(req).executionId === undefined ? spec.fastPath : undefined;
    let actor = spec.public
      ? { ...ANONYMOUS, ...requestFacts(req) }
      : await actorOf(req, { deferRevocationCheck: fastPath !== undefined });
    const parseInputs = async () => {
      const params = parsePart(spec.params, req.params, 'params');
      const query = parsePart(spec.query, req.query, 'query');
      if (spec.upload) await spec.upload.authorize({ params: params as Infer<P>, actor });
      const body = parsePart(spec.body, spec.upload ? await spec.upload.read(req) : req.body, 'body');
      return { params, query, body };
    };
    const parsed = await parseInputs().catch(async (error: unknown) => {
      // A revoked session learns nothing either: it hears 401, not which of its inputs were wrong.
      if (actor.revocationDeferred) await actorOf(req);
      throw error;
    });
    let input = { ...parsed, actor, req } as RouteInput<P, Q, B>;
    if (!spec.idempotent) {
      const reply = await spec.handler(input);
      res.status(reply.status).json(reply.body);
      return;
    }
    const key = req.get('idempotency-key');
    if (key === undefined || key.length === 0 || key.length > 200) {
      if (actor.revocationDeferred) await actorOf(req);
      throw new RuleViolation(
        'idempotency_key_required',
        'every write needs an Idempotency-Key header (1 to 200 characters); reuse it when you retry',
      );
    }
    const idempotency: IdempotentRequest = {
      scope: `${actor.type}:${actor.id}`,
      key,
      method: spec.method,
      path: req.originalUrl.split('?')[0] ?? '',
      body: parsed.body,
    };
    let result = fastPath ? await fastPath({ ...input, idempotency }) : undefined;
    if (result === undefined && actor.revocationDeferred) {
      // Declined: the long way, with every check, starting with the session's.
      actor = await actorOf(req);
      input = { ...input, actor };
    }
    result ??= await idempotentWrite(deps, idempotency, async (trx) => {
      // A write from an n8n execution records the execution (and its workflow) with the write.
      await noteExecution(trx, actor);
      const reply = await spec.handler({ ...input, trx });
      return { statusCode: reply.status, body: reply.body };
    });
    if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
    if (result.bodyJson !== undefined) res.status(result.statusCode).type('application/json').send(result.bodyJson);
    else res.status(result.statusCode).json(result.body);
  });
}

/** Binds the shared arguments once; the returned function keeps each route's schema types for its handler. */
export function createMounter(router: Router, registry: OpenAPIRegistry, deps: Deps, actorOf: ActorResolver) {
  return function mount<
    P extends AnyObject | undefined = undefined,
    Q extends AnyObject | undefined = undefined,
    B extends z.ZodType | undefined = undefined,
  >(spec: ReadRoute<P, Q, B> | WriteRoute<P, Q, B>): void {
    mountRoute(router, registry, deps, actorOf, spec);
  };
}
