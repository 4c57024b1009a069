import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { vi } from 'vitest';
import { EntityProvider } from './lib/entity-context';

// Component tests stop at the API client's boundary: `fetch` answers like the ledger, from a table of routes, and
// records what the page sent.

export const ENTITIES = [
  { id: 'p1', kind: 'personal', name: 'Alex Rivera', currency: 'USD', taxProfile: 'individual', createdAt: '' },
  { id: 'l1', kind: 'llc', name: 'Northwind Studio LLC', currency: 'USD', taxProfile: 'disregarded', createdAt: '' },
];

export interface SentRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

export type Route = (request: SentRequest) => { status?: number; body?: unknown } | undefined;

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** Stubs fetch with the routes (first answer wins; /entities is built in). Returns the requests sent. */
export function mockLedger(...routes: Route[]): SentRequest[] {
  const sent: SentRequest[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init: RequestInit = {}) => {
      const url = new URL(input, 'http://ledger.test');
      const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : init.body;
      const request: SentRequest = { method: init.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: (init.headers ?? {}) as Record<string, string>, body };
      sent.push(request);
      if (request.method === 'GET' && request.path === '/entities') return json(200, { items: ENTITIES });
      for (const route of routes) {
        const answer = route(request);
        if (answer) return json(answer.status ?? 200, answer.body ?? {});
      }
      return json(404, { error: { code: 'not_found', message: `no route ${request.method} ${request.path}` } });
    }),
  );
  return sent;
}

/** Renders a page inside the providers the app gives it, on the books with `entityId` selected. */
export function renderPage(page: ReactNode, entityId = 'l1') {
  sessionStorage.setItem('veil.scope', entityId);
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <EntityProvider>{page}</EntityProvider>
    </QueryClientProvider>,
  );
}

/** A stand-in for the browser's XMLHttpRequest: the test sends progress and the ledger's answer by hand. */
export class FakeXhr {
  static last: FakeXhr | null = null;
  static all: FakeXhr[] = [];
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: FormData | null = null;
  status = 0;
  statusText = '';
  responseText = '';
  upload: { onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  getResponseHeader() {
    return 'application/json';
  }
  send(body: FormData) {
    this.body = body;
    FakeXhr.last = this;
    FakeXhr.all.push(this);
  }
  abort() {
    this.onabort?.();
  }
  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ loaded, total, lengthComputable: true });
  }
  answer(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }
}

