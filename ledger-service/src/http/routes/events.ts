import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import type { Deps } from '../../services/context';
import * as events from '../../services/events';
import { createMounter, type ActorResolver } from '../route';
import * as s from '../schemas';
import { z } from '../zod';

const EventType = z.enum(events.EVENT_TYPES).openapi({ description: 'a ledger event type' });

const NewSubscription = z
  .object({
    url: z
      .url({ protocol: /^https?$/ })
      .max(2_000)
      .openapi({ description: 'where each event is POSTed, signed with `Veil-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`' }),
    events: z.array(EventType).min(1).max(events.EVENT_TYPES.length),
    entityIds: z.array(s.Id).min(1).max(100).optional().openapi({ description: 'only these entities (default: every entity the credential reaches)' }),
  })
  .strict()
  .openapi('NewWebhookSubscription');

const Subscription = z
  .object({ id: s.Id, url: z.string(), events: z.array(EventType), entityIds: z.array(s.Id).nullable(), createdAt: z.string() })
  .openapi('WebhookSubscription');

const SubscriptionParams = z.object({ subscriptionId: s.Id });

export function mountEventRoutes(router: Router, registry: OpenAPIRegistry, deps: Deps, actorOf: ActorResolver) {
  const mount = createMounter(router, registry, deps, actorOf);

  mount({
    method: 'post',
    path: '/webhooks',
    tag: 'webhooks',
    summary: 'Subscribe a URL to ledger events (the Veil Trigger does this on activation); the secret is shown once',
    idempotent: true,
    body: NewSubscription,
    responses: { 201: { description: 'subscribed; `secret` signs every delivery and is never shown again', schema: Subscription.extend({ secret: z.string() }) } },
    handler: async ({ body, actor, trx }) => ({
      status: 201,
      body: await events.createSubscription(trx, deps.security.keyring, actor, body),
    }),
  });
  mount({
    method: 'get',
    path: '/webhooks',
    tag: 'webhooks',
    summary: 'Your webhook subscriptions (an API token sees the ones it created); never their secrets',
    responses: { 200: { description: 'subscriptions', schema: z.object({ items: z.array(Subscription) }) } },
    handler: async ({ actor }) => ({ status: 200, body: { items: await events.listSubscriptions(deps.db, actor) } }),
  });
  mount({
    method: 'delete',
    path: '/webhooks/:subscriptionId',
    tag: 'webhooks',
    summary: 'Unsubscribe (the Veil Trigger does this on deactivation); pending deliveries are dropped',
    idempotent: true,
    params: SubscriptionParams,
    responses: { 200: { description: 'the deleted subscription', schema: Subscription } },
    handler: async ({ params, actor, trx }) => ({ status: 200, body: await events.deleteSubscription(trx, actor, params.subscriptionId) }),
  });
}
