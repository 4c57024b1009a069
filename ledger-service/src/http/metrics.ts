import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Router } from 'express';
import { sql } from 'kysely';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Deps } from '../services/context';
import type { DeliveryObserver } from '../services/events';
import { bookingGroupOutcomes, fastPathAlertEvaluations, fastPathOutcomes } from '../services/journal-fast';

/**
 * Prometheus metrics, one registry per app (tests build several apps in one process). Request figures come from
 * this process; book figures (entries, audit rows) are read from the database at scrape time, so every replica
 * reports the same truth and nothing is lost across restarts.
 */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  writesReplayed: Counter<'route'>;
  /** Pass to the webhook dispatcher of this process (startDispatcher / dispatchDue) to count and time its attempts. */
  observeDelivery: DeliveryObserver;
}

export function createMetrics(deps: Deps): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'veil_' });
  const httpDuration = new Histogram({
    name: 'veil_http_request_duration_seconds',
    help: 'HTTP request latency by route template',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const writesReplayed = new Counter({
    name: 'veil_idempotent_replays_total',
    help: 'Writes answered from the stored response of an earlier request with the same Idempotency-Key',
    labelNames: ['route'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'veil_journal_entries',
    help: 'Entries in the journal (all entities), read from the database at scrape time',
    registers: [registry],
    async collect() {
      const row = await sql<{ count: string | null }>`select max(seq) as count from journal_entries`.execute(deps.db);
      this.set(Number(row.rows[0]?.count ?? 0));
    },
  });
  new Gauge({
    name: 'veil_audit_rows',
    help: 'Rows in the hash-chained audit log, read at scrape time',
    registers: [registry],
    async collect() {
      const row = await deps.db.selectFrom('auditChainHead').select('seq').executeTakeFirst();
      this.set(Number(row?.seq ?? 0));
    },
  });
  new Gauge({
    name: 'veil_audit_pending',
    help: 'Audit rows committed by fast-path bookings and not yet sealed into the chain (each booking seals its own before it answers; a timer seals what is left)',
    registers: [registry],
    async collect() {
      const row = await deps.db.selectFrom('auditPending').select(sql<string>`count(*)`.as('n')).executeTakeFirst();
      this.set(Number(row?.n ?? 0));
    },
  });
  new Gauge({
    name: 'veil_fast_path_requests',
    help: "Entry and batch writes by how the one-statement fast path took them since this process started: booked, replayed, or declined (booked the long way)",
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      for (const [outcome, count] of Object.entries(fastPathOutcomes)) this.set({ outcome }, count);
    },
  });
  new Gauge({
    name: 'veil_booking_groups',
    help: 'Concurrent single-entry requests booked together since this process started: groups booked, requests booked in them, and groups declined (each of their requests then booked alone)',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      this.set({ outcome: 'groups' }, bookingGroupOutcomes.groups);
      this.set({ outcome: 'grouped_requests' }, bookingGroupOutcomes.grouped);
      this.set({ outcome: 'groups_declined' }, bookingGroupOutcomes.groupsDeclined);
    },
  });
  new Gauge({
    name: 'veil_fast_path_alert_evaluations',
    help: 'Fast-path bookings since this process started after which the alerts were evaluated (the booking statement found a balance.low to raise or clear, or a budgeted account); the others skip the evaluation',
    registers: [registry],
    collect() {
      this.set(fastPathAlertEvaluations.count);
    },
  });
  new Gauge({
    name: 'veil_database_up',
    help: '1 when the database answered the scrape, 0 otherwise',
    registers: [registry],
    async collect() {
      try {
        await sql`select 1`.execute(deps.db);
        this.set(1);
      } catch {
        this.set(0);
      }
    },
  });
  // Webhook deliveries. Attempts are this process's (its dispatcher's); the states are the outbox's, read at scrape
  // time, so every replica reports the same backlog.
  const deliveryAttempts = new Counter({
    name: 'veil_webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts made by this process, by outcome (retrying: failed, will be tried again)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const deliveryDuration = new Histogram({
    name: 'veil_webhook_delivery_duration_seconds',
    help: 'Time to POST a webhook delivery and read the answer, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  for (const outcome of ['delivered', 'failed', 'retrying'] as const) {
    deliveryAttempts.inc({ outcome }, 0);
    deliveryDuration.zero({ outcome });
  }
  new Gauge({
    name: 'veil_webhook_deliveries',
    help: 'Webhook deliveries in the outbox by state (pending: not tried yet; retrying: failed, to be tried again), read at scrape time',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const { rows } = await sql<{ state: string; count: string }>`
        select case when status = 'pending' and attempts > 0 then 'retrying' else status end as state, count(*) as count
        from webhook_deliveries group by 1`.execute(deps.db);
      const counts = new Map(rows.map((row) => [row.state, Number(row.count)]));
      for (const state of ['pending', 'retrying', 'delivered', 'failed']) this.set({ state }, counts.get(state) ?? 0);
    },
  });
  // Plaid: how long since each linked item last synced (since it was linked, if never). Labelled by the ledger's
  // item id, never Plaid's item id or anything secret; removed items are left out.
  new Gauge({
    name: 'veil_plaid_sync_lag_seconds',
    help: 'Seconds since the last successful transactions sync of each Plaid item (since linking when never synced)',
    labelNames: ['item', 'status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const items = await deps.db.selectFrom('plaidItems').select(['id', 'status', 'lastSyncedAt', 'createdAt']).where('status', '<>', 'removed').execute();
      const nowMs = deps.security.now();
      for (const item of items) {
        const sinceMs = (item.lastSyncedAt ?? item.createdAt).getTime();
        this.set({ item: item.id, status: item.status }, Math.max(0, (nowMs - sinceMs) / 1000));
      }
    },
  });
  const observeDelivery: DeliveryObserver = (outcome, seconds) => {
    deliveryAttempts.inc({ outcome });
    deliveryDuration.observe({ outcome }, seconds);
  };
  return { registry, httpDuration, writesReplayed, observeDelivery };
}

/** Times every request under its route template (`/entities/:entityId/entries`), never its raw URL. */
export function timeRequests(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      const template = route === undefined ? 'unmatched' : `${req.baseUrl}${route}`;
      end({ method: req.method, route: template, status: String(res.statusCode) });
      if (res.getHeader('idempotent-replayed') === 'true') metrics.writesReplayed.inc({ route: template });
    });
    next();
  };
}

function loopback(req: Request): boolean {
  const address = req.socket.remoteAddress ?? '';
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

/**
 * GET /metrics: with VEIL_METRICS_TOKEN set, only for `Authorization: Bearer <token>`; without it, only for
 * requests from this machine. Metrics name routes and volumes, which is nobody else's business.
 */
export function mountMetrics(router: Router, metrics: Metrics, token: string | undefined): void {
  const expected = token === undefined ? undefined : Buffer.from(`Bearer ${token}`);
  router.get('/metrics', async (req, res) => {
    const given = Buffer.from(req.get('authorization') ?? '');
    const allowed = expected === undefined ? loopback(req) : given.length === expected.length && timingSafeEqual(given, expected);
    if (!allowed) {
      res.status(expected === undefined ? 403 : 401).json({
        error: { code: expected === undefined ? 'forbidden' : 'unauthenticated', message: 'metrics need the metrics token (VEIL_METRICS_TOKEN)' },
      });
      return;
    }
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
}
