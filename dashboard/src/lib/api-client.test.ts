import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, errorFrom, session, upload } from './api-client';

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

afterEach(() => {
  vi.unstubAllGlobals();
  session.clear();
});

describe('api client', () => {
  it("turns the ledger's error body into an ApiError with code, message and details", async () => {
    const error = await errorFrom(json(422, { error: { code: 'unbalanced_entry', message: 'postings sum to 4', details: { sumCents: 4 } } }));
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 422, code: 'unbalanced_entry', message: 'postings sum to 4', details: { sumCents: 4 } });
  });

  it('names the HTTP status when the body is not the ledger’s', async () => {
    const error = await errorFrom(new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    expect(error).toMatchObject({ status: 502, code: 'http_502' });
  });

  it('reports a network failure as network_error', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')));
    await expect(api.get('/entities')).rejects.toMatchObject({ code: 'network_error', status: 0 });
  });

  it('sends the bearer token and an Idempotency-Key on writes, the given one when a form retries', async () => {
    const fetch = vi.fn(async () => json(201, { id: 'e1' }));
    vi.stubGlobal('fetch', fetch);
    session.set({ accessToken: 'access-1', refreshToken: 'refresh-1' });
    await api.post('/entities/x/entries', { a: 1 }, { idempotencyKey: 'form-key' });
    await api.post('/entities/x/entries', { a: 1 }, { idempotencyKey: 'form-key' });
    const [, first] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    const [, second] = fetch.mock.calls[1] as unknown as [string, RequestInit];
    expect((first.headers as Record<string, string>).authorization).toBe('Bearer access-1');
    expect((first.headers as Record<string, string>)['idempotency-key']).toBe('form-key');
    expect((second.headers as Record<string, string>)['idempotency-key']).toBe('form-key');
    await api.get('/entities');
    const [url, read] = fetch.mock.calls[2] as unknown as [string, RequestInit];
    expect(url).toBe('/entities');
    expect((read.headers as Record<string, string>)['idempotency-key']).toBeUndefined();
  });

  it('refreshes once on a 401 and retries with the new token; concurrent requests share the refresh', async () => {
    session.set({ accessToken: 'expired', refreshToken: 'refresh-1' });
    let refreshes = 0;
    const fetch = vi.fn(async (url: string, init: RequestInit) => {
      if (url === '/auth/refresh') {
        refreshes += 1;
        expect(JSON.parse(init.body as string)).toEqual({ refreshToken: 'refresh-1' });
        return json(200, { accessToken: 'fresh', refreshToken: 'refresh-2' });
      }
      const auth = (init.headers as Record<string, string>).authorization;
      return auth === 'Bearer fresh' ? json(200, { ok: true }) : json(401, { error: { code: 'unauthenticated', message: 'expired' } });
    });
    vi.stubGlobal('fetch', fetch);
    const results = await Promise.all([api.get('/a'), api.get('/b')]);
    expect(results).toEqual([{ ok: true }, { ok: true }]);
    expect(refreshes).toBe(1);
    expect(sessionStorage.getItem('veil.refreshToken')).toBe('refresh-2');
  });

  it('signs out when the refresh token is refused', async () => {
    session.set({ accessToken: 'expired', refreshToken: 'reused' });
    const signedIn: boolean[] = [];
    const unsubscribe = session.subscribe((value) => signedIn.push(value));
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) =>
        url === '/auth/refresh'
          ? json(401, { error: { code: 'invalid_token', message: 'this refresh token was already used' } })
          : json(401, { error: { code: 'unauthenticated', message: 'expired' } }),
      ),
    );
    await expect(api.get('/entities')).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(session.hasAccessToken()).toBe(false);
    expect(session.hasRefreshToken()).toBe(false);
    expect(signedIn).toContain(false);
    unsubscribe();
  });
});

describe('upload', () => {
  it('sends the file with progress, and after a 401 refreshes once and resends with the same Idempotency-Key', async () => {
    const { FakeXhr } = await import('../test-utils');
    FakeXhr.all = [];
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const refresh = vi.fn(async () => json(200, { accessToken: 'access-2', refreshToken: 'refresh-2' }));
    vi.stubGlobal('fetch', refresh);
    session.set({ accessToken: 'access-1', refreshToken: 'refresh-1' });
    const progress: number[] = [];
    const answer = upload<{ importId: string }>('/accounts/a1/imports', new File(['x'], 's.csv'), { idempotencyKey: 'upload-key', onProgress: (step) => progress.push(step.loadedBytes) });
    await vi.waitFor(() => expect(FakeXhr.all).toHaveLength(1));
    const first = FakeXhr.all[0] as InstanceType<typeof FakeXhr>;
    expect(first.headers.authorization).toBe('Bearer access-1');
    first.progress(1, 1);
    first.answer(401, { error: { code: 'invalid_token', message: 'expired' } });
    await vi.waitFor(() => expect(FakeXhr.all).toHaveLength(2));
    const second = FakeXhr.all[1] as InstanceType<typeof FakeXhr>;
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(second.headers.authorization).toBe('Bearer access-2');
    expect(second.headers['idempotency-key']).toBe('upload-key');
    expect(first.headers['idempotency-key']).toBe('upload-key');
    second.answer(201, { importId: 'i1' });
    await expect(answer).resolves.toEqual({ importId: 'i1' });
    expect(progress).toEqual([1]);
  });

  it("rejects with the ledger's error code", async () => {
    const { FakeXhr } = await import('../test-utils');
    FakeXhr.all = [];
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    session.set({ accessToken: 'access-1', refreshToken: 'refresh-1' });
    const answer = upload('/accounts/a1/imports', new File(['x'], 's.csv'));
    await vi.waitFor(() => expect(FakeXhr.all).toHaveLength(1));
    (FakeXhr.all[0] as InstanceType<typeof FakeXhr>).answer(422, { error: { code: 'import_invalid', message: 'not a statement' } });
    await expect(answer).rejects.toMatchObject({ status: 422, code: 'import_invalid', message: 'not a statement' });
  });
});
