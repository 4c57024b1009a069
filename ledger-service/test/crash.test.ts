import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { BACKEND, dropSchemaLocked } from './support/harness';
import { killHard, signIn, startService, type ServiceProcess } from './support/process';

// kill -9 the real service process while clients write, restart it on the same data, and let the clients retry
// with their idempotency keys. On PGlite this proves survival of a process crash, which is what it promises: it
// does not fsync, so an OS crash is another matter (see README). On PostgreSQL the same run proves that no
// acknowledged write depends on the ledger process surviving.

const KILLS = 3;
// A bound, not a speed assertion: each restart re-opens the database, which is slow on a busy machine.
jest.setTimeout(600_000);
const WRITERS = 4;

async function json(response: Response) {
  return (await response.json()) as Record<string, unknown>;
}

describe(`process crash on ${BACKEND}`, () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;
  let env: Record<string, string>;
  const schema = `veil_crash_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

  async function admin(statement: string) {
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    await client.query(statement);
    await client.end();
  }

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-crash-'));
    if (BACKEND === 'postgres') {
      await admin(`create schema ${schema}`);
      env = { DATABASE_URL: process.env.DATABASE_URL as string, VEIL_DB_SCHEMA: schema, VEIL_DATA_DIR: dataDir };
    } else {
      env = { VEIL_DATA_DIR: dataDir, DATABASE_URL: '' };
    }
  });
  afterAll(async () => {
    if (service) await killHard(service);
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (BACKEND === 'postgres') await dropSchemaLocked(process.env.DATABASE_URL as string, schema);
  });

  it(`keeps every acknowledged write exactly once across ${KILLS} kill -9`, async () => {
    service = await startService(env);
    // The signing key lives in the data directory, so the token outlives every restart below.
    const token = await signIn(service.baseUrl);
    const authorization = `Bearer ${token}`;
    const post = (url: string, key: string, body: unknown) =>
      fetch(`${url}`, { method: 'POST', headers: { authorization, 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(body) });
    const get = (url: string) => fetch(url, { headers: { authorization } });
    const entity = await json(await post(`${service.baseUrl}/entities`, 'crash-entity', { kind: 'llc', name: 'Crash LLC' }));
    const cash = await json(await post(`${service.baseUrl}/entities/${entity.id}/accounts`, 'crash-cash', { name: 'Cash', kind: 'cash' }));
    const income = await json(await post(`${service.baseUrl}/entities/${entity.id}/accounts`, 'crash-income', { name: 'Income', kind: 'income_category' }));

    const acknowledged = new Map<string, { id: string; amountCents: number }>();
    const attempted = new Map<string, number>();
    let sequence = 0;
    const bodyOf = (amountCents: number) => ({
      postedOn: '2026-07-01',
      description: `write ${amountCents}`,
      postings: [
        { accountId: cash.id, amountCents },
        { accountId: income.id, amountCents: -amountCents },
      ],
    });

    for (let round = 0; round < KILLS; round += 1) {
      const current = service;
      let stop = false;
      const writers = Array.from({ length: WRITERS }, async () => {
        while (!stop) {
          sequence += 1;
          const key = `crash-${sequence}`;
          const amountCents = sequence;
          attempted.set(key, amountCents);
          try {
            const response = await post(`${current.baseUrl}/entities/${entity.id}/entries`, key, bodyOf(amountCents));
            if (response.status === 201) acknowledged.set(key, { id: String((await json(response)).id), amountCents });
          } catch {
            return; // the process died under this request: its fate is settled by the retry below
          }
        }
      });
      // Kill at a varying moment while writers are busy.
      await new Promise((resolve) => setTimeout(resolve, 400 + round * 350));
      await killHard(current);
      stop = true;
      await Promise.all(writers);
      service = await startService(env);
      // Clients retry everything they sent but did not see acknowledged, with the same keys.
      for (const [key, amountCents] of attempted) {
        if (acknowledged.has(key)) continue;
        const response = await post(`${service.baseUrl}/entities/${entity.id}/entries`, key, bodyOf(amountCents));
        expect(response.status).toBe(201);
        acknowledged.set(key, { id: String((await json(response)).id), amountCents });
      }
    }

    // A retry of an acknowledged write returns the same entry: nothing is booked twice.
    for (const [key, { id, amountCents }] of [...acknowledged].slice(0, 25)) {
      const again = await post(`${service.baseUrl}/entities/${entity.id}/entries`, key, bodyOf(amountCents));
      expect((await json(again)).id).toBe(id);
    }
    const ids = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await json(await get(`${service.baseUrl}/entities/${entity.id}/entries?limit=500${cursor ? `&cursor=${cursor}` : ''}`));
      for (const item of page.items as { id: string }[]) ids.add(item.id);
      cursor = (page.nextCursor as string | null) ?? undefined;
    } while (cursor);
    expect(ids.size).toBe(acknowledged.size);
    for (const { id } of acknowledged.values()) expect(ids.has(id)).toBe(true);
    const total = [...acknowledged.values()].reduce((sum, write) => sum + write.amountCents, 0);
    const account = await json(await get(`${service.baseUrl}/accounts/${cash.id}`));
    expect(account.balanceCents).toBe(total);
    expect(acknowledged.size).toBeGreaterThan(KILLS);
  });
});
