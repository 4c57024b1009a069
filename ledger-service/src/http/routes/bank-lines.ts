import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import type { Deps } from '../../services/context';
import * as bankLines from '../../services/bank-lines';
import * as booking from '../../services/bank-booking';
import { authorizeAccount, authorizeBankLine } from '../../security/authorization';
import { createMounter, type ActorResolver } from '../route';
import * as b from '../bank-line-schemas';
import * as s from '../schemas';
import { z } from '../zod';

const AccountParams = z.object({ accountId: s.Id });
const BankLineParams = z.object({ bankLineId: s.Id });

/** What the banks said, per account: the raw material that imports and Plaid sync turn into entries. */
export function mountBankLineRoutes(router: Router, registry: OpenAPIRegistry, deps: Deps, actorOf: ActorResolver) {
  const mount = createMounter(router, registry, deps, actorOf);

  mount({
    method: 'get',
    path: '/accounts/:accountId/bank-lines',
    tag: 'bank lines',
    summary: "An account's bank lines, newest first, filtered by status and dates",
    params: AccountParams,
    query: b.BankLineQuery,
    responses: { 200: { description: 'a page of bank lines', schema: b.BankLinePage } },
    handler: async ({ params, query, actor }) => {
      await authorizeAccount(deps.db, actor, params.accountId, 'read');
      const page = await bankLines.listBankLines(deps.db, params.accountId, {
        status: query.status,
        fromOn: query.from,
        toOn: query.to,
        limit: query.limit,
        cursor: query.cursor,
      });
      return { status: 200, body: page };
    },
  });
  mount({
    method: 'get',
    path: '/bank-lines/:bankLineId',
    tag: 'bank lines',
    summary: 'Get one bank line',
    params: BankLineParams,
    responses: { 200: { description: 'the bank line', schema: b.BankLine } },
    handler: async ({ params, actor }) => {
      await authorizeBankLine(deps.db, actor, params.bankLineId, 'read');
      return { status: 200, body: await bankLines.getBankLine(deps.db, params.bankLineId) };
    },
  });
  mount({
    method: 'post',
    path: '/bank-lines/:bankLineId/book',
    tag: 'bank lines',
    summary: 'Book a posted bank line as an entry against one category or a split (at most once per line)',
    idempotent: true,
    params: BankLineParams,
    body: b.BookBankLine,
    responses: { 201: { description: 'the line, now booked, and its entry', schema: b.BookedBankLine } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeBankLine(trx, actor, params.bankLineId, 'write');
      const line = await bankLines.getBankLine(trx, params.bankLineId);
      const splits = body.splits ?? [{ accountId: body.categoryAccountId as string, amountCents: line.amountCents }];
      const booked = await booking.bookBankLine(trx, params.bankLineId, { splits, description: body.description }, actor);
      return { status: 201, body: booked };
    },
  });
  mount({
    method: 'post',
    path: '/bank-lines/:bankLineId/ignore',
    tag: 'bank lines',
    summary: 'Mark a bank line as needing no entry, with the reason',
    idempotent: true,
    params: BankLineParams,
    body: b.IgnoreBankLine,
    responses: { 200: { description: 'the line', schema: b.BankLine } },
    handler: async ({ params, body, actor, trx }) => {
      await authorizeBankLine(trx, actor, params.bankLineId, 'write');
      return { status: 200, body: await booking.ignoreBankLine(trx, params.bankLineId, body.reason, actor) };
    },
  });
}
