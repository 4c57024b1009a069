// The one HTTP client of the dashboard. Same origin as the ledger, so no CORS. The access token lives only in
// memory; the refresh token is kept in sessionStorage (this tab only) so a reload keeps the session, and every 401
// is answered by one refresh (shared by concurrent requests) and one retry.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresAt?: string;
}

const REFRESH_KEY = 'veil.refreshToken';
let accessToken: string | null = null;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<(signedIn: boolean) => void>();

function storage(): Storage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null;
  }
}

export const session = {
  set(tokens: TokenPair) {
    accessToken = tokens.accessToken;
    storage()?.setItem(REFRESH_KEY, tokens.refreshToken);
    for (const listener of listeners) listener(true);
  },
  clear() {
    accessToken = null;
    storage()?.removeItem(REFRESH_KEY);
    for (const listener of listeners) listener(false);
  },
  hasAccessToken: () => accessToken !== null,
  hasRefreshToken: () => Boolean(storage()?.getItem(REFRESH_KEY)),
  subscribe(listener: (signedIn: boolean) => void) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

/** Trades the stored refresh token for a new pair; false (and signed out) when that is no longer possible. */
export async function refreshSession(): Promise<boolean> {
  const refreshToken = storage()?.getItem(REFRESH_KEY);
  if (!refreshToken) return false;
  refreshing ??= (async () => {
    try {
      const response = await fetch('/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ refreshToken }),
      });
      if (!response.ok) {
        session.clear();
        return false;
      }
      session.set((await response.json()) as TokenPair);
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export type Query = Record<string, string | number | undefined | null>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Writes carry an Idempotency-Key; pass the same key to retry the same submission without booking twice. */
  idempotencyKey?: string;
  /** Public routes (login) are sent without a token and never trigger a refresh. */
  anonymous?: boolean;
  signal?: AbortSignal;
}

export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

/** Turns a failed response into an ApiError: the ledger's {error:{code,message,details}}, or the HTTP status. */
export async function errorFrom(response: Response): Promise<ApiError> {
  let payload: unknown = null;
  try {
    payload = await response.json();
  } catch {
    // not JSON (a proxy's page, an empty body)
  }
  const error = (payload as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    return new ApiError(response.status, error.code, error.message, error.details);
  }
  return new ApiError(response.status, `http_${response.status}`, `the ledger answered ${response.status} ${response.statusText}`.trim());
}

async function send(method: string, path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (!options.anonymous && accessToken) headers.authorization = `Bearer ${accessToken}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['idempotency-key'] = options.idempotencyKey ?? crypto.randomUUID();
  try {
    return await fetch(buildUrl(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'network_error', 'the ledger could not be reached; check your connection and try again');
  }
}

export async function rawRequest(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  // A fresh tab has a refresh token but no access token yet.
  if (!options.anonymous && !accessToken && session.hasRefreshToken()) await refreshSession();
  let response = await send(method, path, options);
  if (response.status === 401 && !options.anonymous && (await refreshSession())) {
    response = await send(method, path, options);
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && !options.anonymous) session.clear();
    throw error;
  }
  return response;
}

export async function request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options: RequestOptions = {}): Promise<T> {
  const response = await rawRequest(method, path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal }),
  post: <T>(path: string, body?: unknown, options: Omit<RequestOptions, 'body'> = {}) => request<T>('POST', path, { ...options, body }),
  put: <T>(path: string, body?: unknown, options: Omit<RequestOptions, 'body'> = {}) => request<T>('PUT', path, { ...options, body }),
  patch: <T>(path: string, body?: unknown, options: Omit<RequestOptions, 'body'> = {}) => request<T>('PATCH', path, { ...options, body }),
  delete: <T>(path: string, options: RequestOptions = {}) => request<T>('DELETE', path, options),
};

/** Fetches a file with the session's credentials and hands it to the browser as a download. */
export async function download(path: string, fallbackName: string): Promise<string> {
  const response = await rawRequest('GET', path);
  const disposition = response.headers.get('content-disposition') ?? '';
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = name;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

export interface UploadProgress {
  loadedBytes: number;
  totalBytes: number;
}

export interface UploadOptions {
  /** Extra multipart fields beside `file` (JSON fields are sent as strings). */
  fields?: Record<string, string>;
  idempotencyKey?: string;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

// fetch reports no upload progress, so a file goes up through XMLHttpRequest, with the same token, refresh and
// error handling as every other request.
function sendUpload(path: string, file: File, options: UploadOptions, idempotencyKey: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.setRequestHeader('idempotency-key', idempotencyKey);
    if (accessToken) xhr.setRequestHeader('authorization', `Bearer ${accessToken}`);
    xhr.upload.onprogress = (event) => options.onProgress?.({ loadedBytes: event.loaded, totalBytes: event.lengthComputable ? event.total : file.size });
    xhr.onload = () => {
      const headers = new Headers({ 'content-type': xhr.getResponseHeader('content-type') ?? 'application/json' });
      resolve(new Response(xhr.status === 204 ? null : xhr.responseText, { status: xhr.status, statusText: xhr.statusText, headers }));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'the ledger could not be reached; check your connection and try again'));
    xhr.onabort = () => reject(new DOMException('the upload was cancelled', 'AbortError'));
    options.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    const form = new FormData();
    for (const [name, value] of Object.entries(options.fields ?? {})) form.append(name, value);
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

/** Uploads one file as multipart/form-data (field `file`), reporting progress; answers the ledger's JSON. */
export async function upload<T>(path: string, file: File, options: UploadOptions = {}): Promise<T> {
  const idempotencyKey = options.idempotencyKey ?? crypto.randomUUID();
  if (!accessToken && session.hasRefreshToken()) await refreshSession();
  let response = await sendUpload(path, file, options, idempotencyKey);
  if (response.status === 401 && (await refreshSession())) response = await sendUpload(path, file, options, idempotencyKey);
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401) session.clear();
    throw error;
  }
  return (await response.json()) as T;
}
