import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import type { LimitRow } from '../../domain/investments';
import { authorizeEntity } from '../../security/authorization';
import type { Deps } from '../../services/context';
import * as investments from '../../services/investments';
import { createMounter, type ActorResolver } from '../route';
import * as i from '../investment-schemas';
import * as s from '../schemas';
import { z } from '../zod';

// Investments: holdings per brokerage/retirement account, retirement contribution plans with limit warnings,
// contributions (booked; refused over the limit) and the year's totals against the limits table.

const EntityParams = z.object({ entityId: s.Id });
const AccountParams = z.object({ accountId: s.Id });
const PlanParams = z.object({ planId: s.Id });

export function mountInvestmentRoutes(router: Router, registry: OpenAPIRegistry, deps: Deps, actorOf: ActorResolver, limits: readonly LimitRow[]) {
  const mount = createMounter(router, registry, deps, actorOf);
  const today = () => new Date(deps.security.now()).toISOString().slice(0, 10);

  mount({
    method: 'get',
    path: '/reference/contribution-limits',
    tag: 'investments',
    summary: 'The retirement contribution limits table (per year and kind, with the source of each row)',
    responses: { 200: { description: 'the rows', schema: z.object({ rows: z.array(i.LimitRow) }) } },
    handler: async () => ({ status: 200, body: { rows: limits } }),
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/holdings',
    tag: 'investments',
    summary: 'Holdings per brokerage/retirement account (market value), next to what the books hold',
    params: EntityParams,
    responses: { 200: { description: 'accounts with their holdings', schema: z.object({ accounts: z.array(i.AccountHoldings) }) } },
    handler: async ({ params, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: { accounts: await investments.holdingsOf(deps.db, params.entityId) } };
    },
  });
  mount({
    method: 'put',
    path: '/accounts/:accountId/holdings',
    tag: 'investments',
    summary: 'Set a holding of a brokerage/retirement account by hand (the security by ticker; value = quantity × price)',
    idempotent: true,
    params: AccountParams,
    body: i.HoldingInput,
    responses: { 200: { description: 'the holding', schema: i.Holding } },
    handler: async ({ params, body, actor, trx }) => {
      const entityId = await investments.authorizeAccount(trx, actor, params.accountId, 'write');
      return { status: 200, body: await investments.upsertHolding(trx, params.accountId, entityId, body, actor) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/investment-transactions',
    tag: 'investments',
    summary: 'Investment transactions (buys, sells, dividends, contributions) as the broker reported them, newest first',
    params: EntityParams,
    query: i.InvestmentTransactionQuery,
    responses: { 200: { description: 'the transactions', schema: z.object({ transactions: z.array(i.InvestmentTransaction) }) } },
    handler: async ({ params, query, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: { transactions: await investments.listInvestmentTransactions(deps.db, params.entityId, query) } };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/retirement-profile',
    tag: 'investments',
    summary: "The person's birth year, which decides the catch-up limits",
    params: EntityParams,
    responses: { 200: { description: 'the profile', schema: i.RetirementProfile } },
    handler: async ({ params, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: await investments.getRetirementProfile(deps.db, params.entityId) };
    },
  });
  mount({
    method: 'put',
    path: '/entities/:entityId/retirement-profile',
    tag: 'investments',
    summary: "Set the person's birth year (personal entities only)",
    idempotent: true,
    params: EntityParams,
    body: i.RetirementProfileInput,
    responses: { 200: { description: 'the profile', schema: i.RetirementProfile } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, params.entityId, 'write');
      return { status: 200, body: await investments.setRetirementProfile(trx, params.entityId, body.birthYear, actor) };
    },
  });
  mount({
    method: 'post',
    path: '/entities/:entityId/contribution-plans/preview',
    tag: 'investments',
    summary: 'Preview a contribution plan without saving it: next due dates and the limit warnings it would raise',
    params: EntityParams,
    body: i.NewPlan,
    responses: { 200: { description: 'the preview', schema: i.PlanPreview } },
    handler: async ({ params, body, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: await investments.previewPlan(deps.db, params.entityId, body, limits, today()) };
    },
  });
  mount({
    method: 'post',
    path: '/entities/:entityId/contribution-plans',
    tag: 'investments',
    summary: 'Create an auto-contribution plan (amount, RRULE schedule, from, to); saved even when it would exceed a limit, with warnings',
    idempotent: true,
    params: EntityParams,
    body: i.NewPlan,
    responses: { 201: { description: 'the plan and its warnings', schema: i.PlanReply } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, params.entityId, 'write');
      return { status: 201, body: await investments.createPlan(trx, params.entityId, body, actor, limits, today()) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/contribution-plans',
    tag: 'investments',
    summary: 'The contribution plans of an entity, each with its current limit warnings',
    params: EntityParams,
    responses: { 200: { description: 'the plans', schema: z.object({ plans: z.array(i.PlanReply) }) } },
    handler: async ({ params, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      return { status: 200, body: { plans: await investments.listPlans(deps.db, params.entityId, limits, today()) } };
    },
  });
  mount({
    method: 'patch',
    path: '/contribution-plans/:planId',
    tag: 'investments',
    summary: 'Pause, resume or change the amount of a plan',
    idempotent: true,
    params: PlanParams,
    body: i.PlanChanges,
    responses: { 200: { description: 'the plan and its warnings', schema: i.PlanReply } },
    handler: async ({ params, body, actor, trx }) => {
      const plan = await investments.authorizePlan(trx, actor, params.planId, 'write');
      return { status: 200, body: await investments.updatePlan(trx, plan, body, actor, limits, today()) };
    },
  });
  mount({
    method: 'post',
    path: '/contribution-plans/:planId/occurrences/:dueOn/contribute',
    tag: 'investments',
    summary: "Contribute one occurrence of a plan (books to / from once); 422 contribution_limit_exceeded when it would pass the year's limit",
    idempotent: true,
    params: i.PlanOccurrenceParams,
    body: i.PlanContribution,
    responses: { 201: { description: 'the contribution and its entry', schema: i.ContributionReply } },
    handler: async ({ params, body, actor, trx }) => {
      const plan = await investments.authorizePlan(trx, actor, params.planId, 'write');
      return { status: 201, body: await investments.contributePlanOccurrence(trx, plan, params.dueOn, body, actor, limits) };
    },
  });
  mount({
    method: 'post',
    path: '/entities/:entityId/contributions',
    tag: 'investments',
    summary: "Record a one-off contribution (books to / from); 422 contribution_limit_exceeded when it would pass the year's limit",
    idempotent: true,
    params: EntityParams,
    body: i.NewContribution,
    responses: { 201: { description: 'the contribution and its entry', schema: i.ContributionReply } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeEntity(trx, actor, params.entityId, 'write');
      return { status: 201, body: await investments.contribute(trx, params.entityId, body, actor, limits) };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/contributions',
    tag: 'investments',
    summary: 'Contributions counted for a tax year (default: this year)',
    params: EntityParams,
    query: i.YearQuery,
    responses: { 200: { description: 'the contributions', schema: z.object({ contributions: z.array(i.Contribution) }) } },
    handler: async ({ params, query, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      const year = query.year ?? Number(today().slice(0, 4));
      return { status: 200, body: { contributions: await investments.listContributions(deps.db, params.entityId, year) } };
    },
  });
  mount({
    method: 'get',
    path: '/entities/:entityId/contributions/summary',
    tag: 'investments',
    summary: "A tax year's contributions per limit (IRA, 401(k) deferral, SEP-IRA): contributed, still planned, limit with catch-up, standing",
    params: EntityParams,
    query: i.YearQuery,
    responses: { 200: { description: 'the summary', schema: i.ContributionSummary } },
    handler: async ({ params, query, actor }) => {
      await authorizeEntity(deps.db, actor, params.entityId, 'read');
      const year = query.year ?? Number(today().slice(0, 4));
      return { status: 200, body: await investments.contributionSummary(deps.db, params.entityId, year, limits, today()) };
    },
  });
}
