import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestLedger, type TestLedger } from './support/harness';

// The ledger serves the built dashboard from the same origin. Its fallback must answer client routes with the app
// and nothing else: an API path, known or not, keeps its JSON answer.

describe('serving the dashboard', () => {
  let ledger: TestLedger;
  let dist: string;

  beforeAll(async () => {
    dist = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-dist-'));
    fs.mkdirSync(path.join(dist, 'assets'));
    fs.writeFileSync(path.join(dist, 'index.html'), '<!doctype html><script type="module" src="/assets/app-1a2b.js"></script>');
    fs.writeFileSync(path.join(dist, 'assets', 'app-1a2b.js'), 'console.log("veil")');
    ledger = await startTestLedger({ dashboardDir: dist });
  });
  afterAll(async () => {
    await ledger.close();
    fs.rmSync(dist, { recursive: true, force: true });
  });

  it('answers / and every /app route with index.html under the strict CSP', async () => {
    for (const url of ['/', '/app', '/app/accounts', '/app/reports/deep/link']) {
      const response = await ledger.anonymous.get(url).set('Accept', 'text/html').expect(200);
      expect(response.headers['content-type']).toContain('text/html');
      expect(response.text).toContain('/assets/app-1a2b.js');
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers['content-security-policy']).toContain("script-src 'self'");
      expect(response.headers['content-security-policy']).not.toContain("script-src 'self' 'unsafe-inline'");
    }
  });

  it('serves hashed assets for a year and a missing asset as the JSON 404', async () => {
    const asset = await ledger.anonymous.get('/assets/app-1a2b.js').expect(200);
    expect(asset.headers['content-type']).toContain('javascript');
    expect(asset.headers['cache-control']).toContain('immutable');
    const missing = await ledger.anonymous.get('/assets/nope.js').expect(404);
    expect(missing.body.error.code).toBe('not_found');
  });

  it('never answers an API path with the app, even for a browser', async () => {
    const unknown = await ledger.anonymous.get('/no-such-route').set('Accept', 'text/html').expect(404);
    expect(unknown.body.error.code).toBe('not_found');
    const entity = await ledger.http.get('/entities/00000000-0000-4000-8000-000000000000').set('Accept', 'text/html').expect(404);
    expect(entity.headers['content-type']).toContain('application/json');
    expect(entity.body.error.code).toBe('not_found');
    const outside = await ledger.anonymous.get('/application').set('Accept', 'text/html').expect(404);
    expect(outside.body.error.code).toBe('not_found');
  });
});

describe('without a built dashboard', () => {
  it('starts, and / is the JSON 404', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-no-dist-'));
    const ledger = await startTestLedger({ dashboardDir: empty });
    try {
      const response = await ledger.anonymous.get('/').expect(404);
      expect(response.body.error.code).toBe('not_found');
    } finally {
      await ledger.close();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
