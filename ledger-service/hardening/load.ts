import { errorCodeOf, type Client } from './client';
import { planner, type Operation, type PlannedWrite, type World } from './operations';

// N clients running planned writes. A write is acknowledged once the service answered 2xx; a write whose fate is
// unknown (the connection died, or the database was down: 503) stays pending and is retried with the same
// Idempotency-Key, as a real client would, until it is settled.

export interface Tally {
  /** Idempotency-Key → the entry ids its acknowledged answer reported. */
  acknowledged: Map<string, { operation: string; entryIds: string[] }>;
  /** Writes whose answer was lost: retried later with their own keys. */
  pending: PlannedWrite[];
  operations: number;
  /** 4xx answers by code (expected ones: an overpaid loan, a racing reversal). */
  refused: Map<string, number>;
  /** Every 5xx other than 503 database_unavailable: each is a bug. */
  serverErrors: string[];
  /** 4xx without `{error:{code,message}}`: each is a bug. */
  uncoded: string[];
  /** Answers lost to an injected fault (connection refused/reset, 503 while the database was down). */
  faultsSeen: number;
}

export function newTally(): Tally {
  return { acknowledged: new Map(), pending: [], operations: 0, refused: new Map(), serverErrors: [], uncoded: [], faultsSeen: 0 };
}

type Outcome = 'settled' | 'lost';

/** Sends one planned write and files the answer in the tally. */
export async function attempt(client: Client, world: World, tally: Tally, write: PlannedWrite): Promise<Outcome> {
  let response;
  try {
    response =
      write.upload === undefined
        ? await client.write(write.path, write.idempotencyKey, write.body)
        : await client.send({ method: 'post', path: write.path, upload: write.upload, headers: { 'idempotency-key': write.idempotencyKey } });
  } catch {
    tally.faultsSeen += 1;
    return 'lost';
  }
  if (response.status === 503 && errorCodeOf(response.body) === 'database_unavailable') {
    tally.faultsSeen += 1;
    return 'lost';
  }
  if (response.status >= 200 && response.status < 300) {
    const answer = response.body as Record<string, unknown>;
    const previous = tally.acknowledged.get(write.idempotencyKey);
    const entryIds = write.entryIdsOf(answer);
    if (previous && previous.entryIds.join() !== entryIds.join()) {
      tally.serverErrors.push(`${write.operation} ${write.idempotencyKey}: a retry answered other entries than the first answer`);
    }
    if (!previous) {
      tally.acknowledged.set(write.idempotencyKey, { operation: write.operation, entryIds });
      write.settle?.(world, answer);
    }
    return 'settled';
  }
  const code = errorCodeOf(response.body);
  if (response.status >= 500) tally.serverErrors.push(`${write.operation} ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
  else if (code === undefined) tally.uncoded.push(`${write.operation} ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
  else tally.refused.set(`${write.operation}:${code}`, (tally.refused.get(`${write.operation}:${code}`) ?? 0) + 1);
  return 'settled';
}

export interface LoadOptions {
  clients: number;
  /** Writes to plan across all clients. */
  operations: number;
  seed: number;
  operationTable?: readonly Operation[];
  /** Stop planning new writes (a crash is under way); lost writes stay pending. */
  halted?: () => boolean;
  /** Retry lost writes in the loop (database restart: the service stays up) instead of leaving them pending. */
  retryInline?: boolean;
  onProgress?: (done: number) => void;
}

const RETRY_PAUSE_MS = 100;

/** Runs the clients until `operations` writes were planned (and, with retryInline, settled) or `halted()`. */
export async function runLoad(client: Client, world: World, tally: Tally, options: LoadOptions): Promise<void> {
  let planned = 0;
  await Promise.all(
    Array.from({ length: options.clients }, async (_, index) => {
      const plan = planner(options.seed * 1_000 + index, options.operationTable);
      while (planned < options.operations && !options.halted?.()) {
        planned += 1;
        tally.operations += 1;
        const write = plan(world);
        let outcome = await attempt(client, world, tally, write);
        while (outcome === 'lost' && options.retryInline && !options.halted?.()) {
          await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
          outcome = await attempt(client, world, tally, write);
        }
        if (outcome === 'lost') {
          tally.pending.push(write);
          if (options.halted?.()) return;
        }
        options.onProgress?.(tally.operations);
      }
    }),
  );
}

/** Retries every pending write with its own key until each is settled (the service is back). */
export async function settlePending(client: Client, world: World, tally: Tally, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (tally.pending.length > 0) {
    if (Date.now() > deadline) throw new Error(`${tally.pending.length} writes still unsettled after ${timeoutMs} ms`);
    const write = tally.pending.shift() as PlannedWrite;
    if ((await attempt(client, world, tally, write)) === 'lost') {
      tally.pending.push(write);
      await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
    }
  }
}
