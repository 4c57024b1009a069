import fc from 'fast-check';
import { AMOUNT_CENTS_MAX } from '../src/domain/limits';
import { errorCodeOf, type HttpRequest, type Transport } from './client';
import type { Snapshot } from './snapshot';

// Requests built from the service's own /openapi.json: for every write route a body that matches its schema
// (ids drawn from real books so requests get past "not found" into the rules), then mutated by fast-check: wrong
// types, huge and odd unicode strings, negative and overflowing amounts, missing and extra fields, deep JSON, bad
// path ids and bad Idempotency-Key headers. Every answer must be a 2xx or a 4xx with a machine-readable code, and
// a refused request must leave the books exactly as they were.

type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
};

interface OpenApiDocument {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> }; security?: unknown[]; parameters?: { name: string; in: string }[] }>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface WriteRoute {
  method: HttpRequest['method'];
  /** OpenAPI template, `/entities/{entityId}/entries`. */
  template: string;
  bodySchema: Schema | undefined;
  public: boolean;
}

/** Routes the fuzzer leaves alone: logout takes no input and would only end the harness's own session. */
const UNFUZZED = new Set(['post /auth/logout']);

export function writeRoutes(document: OpenApiDocument): WriteRoute[] {
  const routes: WriteRoute[] = [];
  for (const [template, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!['post', 'put', 'patch', 'delete'].includes(method) || UNFUZZED.has(`${method} ${template}`)) continue;
      routes.push({
        method: method as WriteRoute['method'],
        template,
        bodySchema: operation.requestBody?.content?.['application/json']?.schema,
        public: operation.security === undefined,
      });
    }
  }
  return routes;
}

/** Real ids to draw from, so a request reaches the rules beyond "not found". */
export type IdPool = Record<string, string[]>;

const LEAF_LIMIT = 40;

function resolve(document: OpenApiDocument, schema: Schema): Schema {
  if (schema.$ref) return resolve(document, document.components?.schemas?.[schema.$ref.replace('#/components/schemas/', '')] ?? {});
  return schema;
}

/** A value matching `schema`, as far as shape, enums, bounds and patterns go. */
export function valueOf(document: OpenApiDocument, raw: Schema, ids: IdPool, name = '', depth = 0): fc.Arbitrary<unknown> {
  const schema = resolve(document, raw);
  if (depth > 6) return fc.constant(null);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const choices = schema.anyOf ?? schema.oneOf;
  if (choices) return fc.oneof(...choices.map((choice) => valueOf(document, choice, ids, name, depth + 1)));
  if (schema.allOf) return valueOf(document, Object.assign({}, ...schema.allOf.map((part) => resolve(document, part))), ids, name, depth + 1);
  const types = Array.isArray(schema.type) ? schema.type.filter((type) => type !== 'null') : [schema.type];
  const type = types[0];
  if (type === 'object' || schema.properties) {
    const properties = schema.properties ?? {};
    const required = new Set(schema.required ?? []);
    const record: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [key, property] of Object.entries(properties)) record[key] = valueOf(document, property, ids, key, depth + 1);
    return fc.record(record, { requiredKeys: Object.keys(properties).filter((key) => required.has(key)) });
  }
  if (type === 'array') {
    const minLength = schema.minItems ?? 0;
    return fc.array(valueOf(document, schema.items ?? {}, ids, name, depth + 1), { minLength, maxLength: Math.min(schema.maxItems ?? 4, Math.max(minLength, 4)) });
  }
  if (type === 'integer' || type === 'number') {
    const min = schema.minimum ?? (/Cents$/.test(name) ? -100_000 : 0);
    const max = Math.min(schema.maximum ?? 100_000, 100_000);
    return fc.integer({ min: Math.ceil(min), max: Math.max(Math.ceil(min), max) });
  }
  if (type === 'boolean') return fc.boolean();
  if (type === 'string') {
    if (schema.format === 'uuid' || /Id$/.test(name)) {
      const known = ids[name] ?? ids['*'] ?? [];
      return known.length > 0 ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: fc.uuid() }) : fc.uuid();
    }
    if (schema.format === 'date' || /On$/.test(name)) return fc.date({ min: new Date('2025-01-01'), max: new Date('2027-12-31'), noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10));
    if (schema.pattern) {
      try {
        return fc.stringMatching(new RegExp(schema.pattern)).filter((text) => text.length <= (schema.maxLength ?? 200));
      } catch {
        // a pattern JavaScript cannot read: fall through to plain text
      }
    }
    return fc.string({ minLength: Math.max(schema.minLength ?? 0, 1), maxLength: Math.min(schema.maxLength ?? 40, 40) });
  }
  return fc.jsonValue({ maxDepth: 2 });
}

type Path = (string | number)[];

function pathsOf(value: unknown, prefix: Path = [], into: Path[] = []): Path[] {
  if (into.length > LEAF_LIMIT) return into;
  into.push(prefix);
  if (Array.isArray(value)) value.forEach((item, index) => pathsOf(item, [...prefix, index], into));
  else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) pathsOf(item, [...prefix, key], into);
  return into;
}

function setAt(value: unknown, path: Path, replacement: unknown, remove = false): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let cursor = copy;
  for (const step of path.slice(0, -1)) cursor = cursor[step] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (remove) {
    if (Array.isArray(cursor)) cursor.splice(last as number, 1);
    else delete cursor[last];
  } else cursor[last] = replacement;
  return copy;
}

const weirdStrings = fc.oneof(
  fc.constant(''),
  fc.constant(' '),
  fc.constant('x'.repeat(100_000)),
  fc.constant('\u0000'),
  fc.constant('\ud800'),
  fc.constant('\u202e\u200b\ufeff'),
  fc.constant("'; drop table journal_entries; --"),
  fc.constant('1e309'),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
);
const wrongTypes = fc.oneof(fc.constant(null), fc.constant({}), fc.constant([]), fc.constant(true), fc.constant('12.34'), fc.constant(1.5), fc.constant(-1), fc.jsonValue({ maxDepth: 3 }));
/** Amounts at and beyond every edge: negative, zero, fractional, the limit and past it, past 2^53. */
const badAmounts = fc.oneof(
  fc.constantFrom(-1, 0, 0.5, -0.01, AMOUNT_CENTS_MAX, AMOUNT_CENTS_MAX + 1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, -Number.MAX_SAFE_INTEGER, 1e21, 1e308, -1e308),
  fc.integer(),
  fc.double({ noNaN: true }),
);
const badIds = fc.constantFrom(
  'not-a-uuid',
  '00000000-0000-0000-0000-000000000000',
  "1' or '1'='1",
  '%00',
  '..%2F..%2Fetc%2Fpasswd',
  'x'.repeat(5_000),
  '%E2%80%AE',
  '%F0%9F%92%B8',
  '12345678-1234-1234-1234-1234567890ab',
);
/**
 * Header values a client could send: fetch and supertest allow only bytes, so no raw control characters. No header
 * past Node's 16 KiB limit either: Node itself answers those 431 with an empty body before the app sees them.
 */
const badKeys = fc.oneof(fc.constant(''), fc.constant('   '), fc.constant('k'.repeat(201)), fc.constant('k'.repeat(10_000)), fc.constant('\u00e9\u00ff\u00a0'), fc.constant(undefined));

export interface FuzzCase {
  route: string;
  mutation: string;
  request: HttpRequest;
}

function deepJson(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

export function fuzzCases(document: OpenApiDocument, routes: WriteRoute[], ids: IdPool): fc.Arbitrary<FuzzCase> {
  return fc.constantFrom(...routes).chain((route) => {
    const body = route.bodySchema ? valueOf(document, route.bodySchema, ids) : fc.constant({});
    const params = [...route.template.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string);
    const paramValues = fc.tuple(
      ...params.map((param) => {
        const known = ids[param] ?? [];
        return fc.oneof({ weight: 6, arbitrary: known.length > 0 ? fc.constantFrom(...known) : fc.uuid() }, { weight: 1, arbitrary: badIds });
      }),
    );
    const mutation = fc.oneof(
      fc.constant({ kind: 'none' as const }),
      fc.record({ kind: fc.constant('wrong_type' as const), at: fc.nat(), value: wrongTypes }),
      fc.record({ kind: fc.constant('weird_string' as const), at: fc.nat(), value: weirdStrings }),
      fc.record({ kind: fc.constant('bad_amount' as const), at: fc.nat(), value: badAmounts }),
      fc.record({ kind: fc.constant('missing_field' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('extra_field' as const), at: fc.nat(), name: fc.constantFrom('extra', '__proto__', 'constructor', 'id', 'balanceCents') }),
      fc.record({ kind: fc.constant('deep_json' as const), depth: fc.constantFrom(100, 5_000, 100_000) }),
      fc.record({ kind: fc.constant('not_json' as const), text: fc.constantFrom('{', '{"a":', 'null', '"text"', '[1,2', '{"postings":[}]}', '\u0000') }),
      fc.record({ kind: fc.constant('bad_key' as const), key: badKeys }),
    );
    return fc.tuple(body, paramValues, mutation, fc.uuid()).map(([validBody, values, change, idempotencyKey]): FuzzCase => {
      let path = route.template;
      params.forEach((param, index) => (path = path.replace(`{${param}}`, String(values[index]))));
      const request: HttpRequest = { method: route.method, path, headers: { 'idempotency-key': `fuzz-${idempotencyKey}` }, body: validBody };
      const paths = pathsOf(validBody);
      const target = (at: number) => paths[at % paths.length] as Path;
      switch (change.kind) {
        case 'wrong_type':
        case 'weird_string':
          request.body = setAt(validBody, target(change.at), change.value);
          break;
        case 'bad_amount': {
          const amounts = paths.filter((candidate) => /Cents$|Points$|Months$/.test(String(candidate[candidate.length - 1])));
          request.body = setAt(validBody, amounts.length > 0 ? (amounts[change.at % amounts.length] as Path) : target(change.at), change.value);
          break;
        }
        case 'missing_field': {
          const inner = paths.filter((candidate) => candidate.length > 0);
          if (inner.length > 0) request.body = setAt(validBody, inner[change.at % inner.length] as Path, undefined, true);
          break;
        }
        case 'extra_field': {
          const objects = paths.filter((candidate) => {
            let cursor: unknown = validBody;
            for (const step of candidate) cursor = (cursor as Record<string | number, unknown>)[step];
            return cursor !== null && typeof cursor === 'object' && !Array.isArray(cursor);
          });
          if (objects.length > 0) {
            // Raw JSON: `__proto__` must arrive as an own key, which an object literal cannot carry.
            const holder = objects[change.at % objects.length] as Path;
            const text = JSON.stringify(setAt(validBody, [...holder, 'harness_extra_marker'], { polluted: true }));
            request.rawBody = text.replace('"harness_extra_marker"', JSON.stringify(change.name));
          }
          break;
        }
        case 'deep_json':
          request.rawBody = deepJson(change.depth);
          break;
        case 'not_json':
          request.rawBody = change.text;
          break;
        case 'bad_key':
          if (change.key === undefined) delete request.headers?.['idempotency-key'];
          else (request.headers as Record<string, string>)['idempotency-key'] = change.key;
          break;
        case 'none':
          break;
      }
      return { route: `${route.method.toUpperCase()} ${route.template}`, mutation: change.kind, request };
    });
  });
}

/** Webhook-shaped deliveries (Plaid's JSON and its signature header) to every public write route and to paths a webhook would use. */
export function webhookCases(routes: WriteRoute[]): fc.Arbitrary<FuzzCase> {
  const targets = [...routes.filter((route) => route.public).map((route) => route.template), '/webhooks/plaid', '/plaid/webhook'];
  const body = fc.record({
    webhook_type: fc.constantFrom('TRANSACTIONS', 'ITEM', 'TRANSFER', 'AUTH', ''),
    webhook_code: fc.constantFrom('SYNC_UPDATES_AVAILABLE', 'ERROR', 'LOGIN_REPAIRED', 'TRANSFER_EVENTS_UPDATE', 'DEFAULT_UPDATE'),
    item_id: fc.string({ maxLength: 60 }),
    error: fc.option(fc.record({ error_code: fc.string(), error_message: fc.string() })),
    environment: fc.constantFrom('sandbox', 'production'),
    new_transactions: fc.integer(),
  });
  const signature = fc.oneof(
    fc.constant(undefined),
    fc.constant('eyJhbGciOiJub25lIn0.eyJpYXQiOjB9.'),
    fc.constant('eyJhbGciOiJFUzI1NiIsImtpZCI6ImsifQ.eyJpYXQiOjEsInJlcXVlc3RfYm9keV9zaGEyNTYiOiIwIn0.AAAA'),
    fc.string({ minLength: 1, maxLength: 500 }).map((text) => Buffer.from(text).toString('base64')),
  );
  return fc.tuple(fc.constantFrom(...targets), body, signature).map(([path, payload, header]): FuzzCase => {
    const headers: Record<string, string> = header === undefined ? {} : { 'plaid-verification': header };
    return { route: `POST ${path}`, mutation: 'webhook', request: { method: 'post', path, body: payload, headers } };
  });
}

/** A statement file of the corpus, the seed of importer mutations. */
export interface CorpusFile {
  name: string;
  bytes: Uint8Array;
}

const IMPORT_MUTATIONS = ['none', 'truncate', 'flip_bytes', 'utf16_no_bom', 'latin1_of_utf8', 'bogus_bom', 'huge_field', 'nul_bytes', 'pdf_header', 'empty', 'many_lines'] as const;

function mutateFile(bytes: Uint8Array, mutation: (typeof IMPORT_MUTATIONS)[number], at: number, noise: number[]): Uint8Array {
  const buffer = Buffer.from(bytes);
  const position = buffer.length === 0 ? 0 : at % buffer.length;
  switch (mutation) {
    case 'none':
      return buffer;
    case 'truncate':
      return buffer.subarray(0, position);
    case 'flip_bytes': {
      const copy = Buffer.from(buffer);
      noise.forEach((value, index) => {
        if (copy.length === 0) return;
        const offset = (position + index * 7919) % copy.length;
        copy[offset] = (copy[offset] as number) ^ (value & 0xff || 0x01);
      });
      return copy;
    }
    case 'utf16_no_bom':
      return Buffer.from(buffer.toString('utf8'), 'utf16le');
    case 'latin1_of_utf8':
      return Buffer.from(buffer.toString('latin1'), 'utf8');
    case 'bogus_bom':
      return Buffer.concat([Buffer.from([0xfe, 0xff]), buffer]);
    case 'huge_field': {
      // A field of 200,000 characters in the middle of a line.
      return Buffer.concat([buffer.subarray(0, position), Buffer.from('X'.repeat(200_000)), buffer.subarray(position)]);
    }
    case 'nul_bytes':
      return Buffer.concat([buffer.subarray(0, position), Buffer.alloc(64), buffer.subarray(position)]);
    case 'pdf_header':
      return Buffer.concat([Buffer.from('%PDF-1.7\n'), buffer]);
    case 'empty':
      return Buffer.alloc(0);
    case 'many_lines': {
      // The body of the file repeated until it is a few megabytes: duplicates of itself, large but legal.
      const copies = Math.max(1, Math.floor(2_000_000 / Math.max(1, buffer.length)));
      return Buffer.concat(Array.from({ length: Math.min(copies, 200) }, () => buffer));
    }
  }
}

/**
 * Statement uploads mutated from the corpus (cut short, bytes flipped, re-encoded, a huge field, NUL bytes, a PDF
 * header on a text file, empty, repeated): an import either succeeds or is refused with a coded 4xx, never a 5xx,
 * and a refused one stores nothing.
 */
export function importCases(corpus: readonly CorpusFile[], accountIds: readonly string[]): fc.Arbitrary<FuzzCase> {
  return fc
    .tuple(fc.constantFrom(...corpus), fc.constantFrom(...accountIds), fc.constantFrom(...IMPORT_MUTATIONS), fc.nat(), fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: 16 }), fc.uuid())
    .map(([file, accountId, mutation, at, noise, idempotencyKey]): FuzzCase => ({
      route: 'POST /accounts/{accountId}/imports',
      mutation: `import:${mutation}`,
      request: {
        method: 'post',
        path: `/accounts/${accountId}/imports`,
        headers: { 'idempotency-key': `fuzz-import-${idempotencyKey}` },
        upload: { field: 'file', fileName: file.name, bytes: mutateFile(file.bytes, mutation, at, noise) },
      },
    }));
}

export interface FuzzResult {
  requests: number;
  serverErrors: string[];
  uncoded: string[];
  partialWrites: string[];
  statuses: Map<number, number>;
  /** Statuses per mutation kind ("import:truncate" → 422 × 3…): shows the mutations reached the code they aim at. */
  statusesByMutation: Map<string, Map<number, number>>;
}

/**
 * Sends each case (authenticated unless the route is public or a webhook), and after every refusal compares the
 * books' snapshot with the one before: a refused request must not have written anything.
 */
export async function runFuzz(
  cases: FuzzCase[],
  options: { transport: Transport; token: string; snapshot: () => Promise<Snapshot>; onProgress?: (done: number) => void },
): Promise<FuzzResult> {
  const result: FuzzResult = { requests: 0, serverErrors: [], uncoded: [], partialWrites: [], statuses: new Map(), statusesByMutation: new Map() };
  let before = await options.snapshot();
  for (const fuzzCase of cases) {
    const headers = { ...fuzzCase.request.headers };
    if (fuzzCase.mutation !== 'webhook') headers.authorization = `Bearer ${options.token}`;
    const response = await options.transport({ ...fuzzCase.request, headers });
    result.requests += 1;
    result.statuses.set(response.status, (result.statuses.get(response.status) ?? 0) + 1);
    const byMutation = result.statusesByMutation.get(fuzzCase.mutation) ?? new Map<number, number>();
    byMutation.set(response.status, (byMutation.get(response.status) ?? 0) + 1);
    result.statusesByMutation.set(fuzzCase.mutation, byMutation);
    const where = `${fuzzCase.route} [${fuzzCase.mutation}] ${fuzzCase.request.path.slice(0, 120)}`;
    if (response.status >= 500) result.serverErrors.push(`${where}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
    const after = await options.snapshot();
    if (response.status >= 400 && response.status < 500) {
      if (errorCodeOf(response.body) === undefined) result.uncoded.push(`${where}: ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`);
      // Auth routes legitimately audit a refused attempt (a failed login); the books must still not move.
      const auditMoved = !fuzzCase.route.includes('/auth/') && after.audit !== before.audit;
      if (after.books !== before.books || auditMoved) result.partialWrites.push(`${where}: refused with ${response.status} but the books changed`);
    }
    before = after;
    options.onProgress?.(result.requests);
  }
  return result;
}
