// The one way the harness talks to the service. Two transports: fetch to a real process (run.ts) and supertest to
// the app in this process (the short jest version); everything above them is shared.

export interface HttpRequest {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  headers?: Record<string, string>;
  /** A JSON value, or a raw string sent as is (malformed JSON, deep nesting built by hand). */
  body?: unknown;
  rawBody?: string;
  /** A multipart upload of one file (statement imports): sent instead of a body. */
  upload?: { field: string; fileName: string; bytes: Uint8Array };
}

export interface HttpResponse {
  status: number;
  body: unknown;
}

export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

export function fetchTransport(baseUrl: () => string): Transport {
  return async (request) => {
    const headers: Record<string, string> = { ...request.headers };
    let body: string | FormData | undefined;
    if (request.upload !== undefined) {
      const form = new FormData();
      form.append(request.upload.field, new Blob([request.upload.bytes]), request.upload.fileName);
      body = form;
    } else if (request.rawBody !== undefined) body = request.rawBody;
    else if (request.body !== undefined) body = JSON.stringify(request.body);
    if (typeof body === 'string' && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${baseUrl()}${request.path}`, { method: request.method.toUpperCase(), headers, body, signal: AbortSignal.timeout(60_000) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text, which a 4xx check reports as a missing machine-readable code
    }
    return { status: response.status, body: parsed };
  };
}

/** An authenticated caller: the transport plus a bearer token. */
export class Client {
  constructor(
    readonly transport: Transport,
    public token: string,
  ) {}

  send(request: HttpRequest): Promise<HttpResponse> {
    return this.transport({ ...request, headers: { authorization: `Bearer ${this.token}`, ...request.headers } });
  }

  get(path: string): Promise<HttpResponse> {
    return this.send({ method: 'get', path });
  }

  write(path: string, idempotencyKey: string, body: unknown, method: HttpRequest['method'] = 'post'): Promise<HttpResponse> {
    return this.send({ method, path, body, headers: { 'idempotency-key': idempotencyKey } });
  }

  async expect(response: Promise<HttpResponse>, status: number): Promise<Record<string, unknown>> {
    const answer = await response;
    if (answer.status !== status) throw new Error(`expected ${status}, got ${answer.status}: ${JSON.stringify(answer.body).slice(0, 500)}`);
    return answer.body as Record<string, unknown>;
  }
}

/** A machine-readable error: `{ error: { code, message } }` with both strings. */
export function errorCodeOf(body: unknown): string | undefined {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (typeof error?.code === 'string' && error.code.length > 0 && typeof error.message === 'string' && error.message.length > 0) return error.code;
  return undefined;
}
