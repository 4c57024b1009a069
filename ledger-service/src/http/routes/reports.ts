import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Request, Response, Router } from 'express';
import type { Deps } from '../../services/context';
import * as consolidated from '../../services/consolidated-reports';
import * as reports from '../../services/reports';
import { authorizeEntity } from '../../security/authorization';
import { loadScheduleCTable } from '../../services/schedule-c-table';
import { renderSummaryPdf, summaryOf } from '../../services/report-pdf';
import { parsePart, type ActorResolver } from '../route';
import * as s from '../schemas';
import { ConsolidatedQuery } from '../veil-schemas';
import { z } from '../zod';

// Reports answer JSON or, with `format=csv`, a CSV file; the journal export is plain text. The route mounter only
// speaks JSON, so these are mounted directly and described in the OpenAPI document by hand, like the binder.

const EntityParams = z.object({ entityId: s.Id });
const ReportQuery = z
  .object({
    from: s.AccountingDate.optional().openapi({ description: "start of the period (inclusive); defaults to 1 January of `to`'s year" }),
    to: s.AccountingDate.optional().openapi({ description: 'end of the period and balance sheet date (inclusive); defaults to today' }),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();
const ScheduleCQuery = z
  .object({
    year: z.coerce.number().int().min(1900).max(2199).optional().openapi({ description: 'tax year (calendar year); defaults to the current year, to date' }),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();
const ExportQuery = z
  .object({ to: s.AccountingDate.optional().openapi({ description: 'last posting date to include (inclusive); defaults to everything' }) })
  .strict();

const GeneralLedgerQuery = ReportQuery.extend({
  accountId: s.Id.optional().openapi({ description: 'only this account; otherwise every account of the entity' }),
}).strict();

const GroupReportQuery = ConsolidatedQuery.extend({ format: z.enum(['json', 'csv']).default('json') }).strict();

interface ReportSpec<R, Q extends typeof ReportQuery = typeof ReportQuery> {
  name: string;
  summary: string;
  query?: Q;
  build: (deps: Deps, entityId: string, period: reports.Period, query: z.infer<Q>) => Promise<R>;
  csv: (report: R) => string;
}

export function mountReportRoutes(router: Router, registry: OpenAPIRegistry, deps: Deps, actorOf: ActorResolver) {
  function report<R, Q extends typeof ReportQuery = typeof ReportQuery>(spec: ReportSpec<R, Q>) {
    const querySchema = spec.query ?? ReportQuery;
    registry.registerPath({
      method: 'get',
      path: `/entities/{entityId}/reports/${spec.name}`,
      summary: spec.summary,
      tags: ['reports'],
      security: [{ bearer: [] }],
      request: { params: EntityParams, query: querySchema },
      responses: {
        200: {
          description: 'the report as JSON (amounts in integer cents), or as CSV (amounts as decimals) with format=csv',
          content: { 'application/json': { schema: z.record(z.string(), z.unknown()) }, 'text/csv': { schema: z.string() } },
        },
      },
    });
    router.get(`/entities/:entityId/reports/${spec.name}`, async (req: Request, res: Response) => {
      const actor = await actorOf(req);
      const { entityId } = parsePart(EntityParams, req.params, 'params');
      const query = parsePart(querySchema, req.query, 'query') as z.infer<Q>;
      await authorizeEntity(deps.db, actor, entityId, 'read');
      const period = reports.periodOf(query);
      const result = await spec.build(deps, entityId, period, query);
      if (query.format === 'csv') {
        res.setHeader('Content-Type', 'text/csv; charset=utf-8');
        res.setHeader('Content-Disposition', `attachment; filename="${spec.name}-${period.fromOn}-${period.toOn}.csv"`);
        res.send(spec.csv(result));
        return;
      }
      res.status(200).json(result);
    });
  }

  report({
    name: 'trial-balance',
    summary: 'Trial balance as of `to`: debits and credits per account, which must be equal',
    build: (d, entityId, period) => reports.trialBalance(d.db, entityId, period),
    csv: reports.trialBalanceCsv,
  });
  report({
    name: 'balance-sheet',
    summary: 'Balance sheet as of `to`: assets = liabilities + equity + earnings (retained before `from`, current from `from`)',
    build: (d, entityId, period) => reports.balanceSheet(d.db, entityId, period),
    csv: reports.balanceSheetCsv,
  });
  report({
    name: 'income-statement',
    summary: 'Income statement (profit and loss) from `from` to `to`',
    build: (d, entityId, period) => reports.incomeStatement(d.db, entityId, period),
    csv: reports.incomeStatementCsv,
  });
  report({
    name: 'owner-equity',
    summary: "Owner's equity statement from `from` to `to`: opening equity, contributions, net income, draws, closing",
    build: (d, entityId, period) => reports.equityStatement(d.db, entityId, period),
    csv: reports.equityStatementCsv,
  });
  report({
    name: 'cash-flow',
    summary:
      'Cash flow statement from `from` to `to`, direct method: cash received and paid per counter-account, grouped operating / investing / financing (owner contributions and draws are financing), bridging opening to closing cash',
    build: (d, entityId, period) => reports.cashFlow(d.db, entityId, period),
    csv: reports.cashFlowCsv,
  });
  report({
    name: 'general-ledger',
    summary: 'General ledger from `from` to `to`: every posting per account in booking order with its running balance, between opening and closing balances',
    query: GeneralLedgerQuery,
    build: (d, entityId, period, query) => reports.generalLedger(d.db, entityId, period, query.accountId),
    csv: reports.generalLedgerCsv,
  });

  report({
    name: 'inter-entity',
    summary:
      'Inter-entity statement as of `to`: loans between the books with principal outstanding and interest accrued (simple, actual/365, since the last repayment), open reimbursements, and the contributions and draws from `from` to `to`',
    build: (d, entityId, period) => reports.interEntityStatement(d.db, entityId, period),
    csv: reports.interEntityStatementCsv,
  });

  function groupReport<R>(spec: { name: string; summary: string; build: (entityIds: string[], period: reports.Period) => Promise<R>; csv: (report: R) => string }) {
    registry.registerPath({
      method: 'get',
      path: `/reports/consolidated/${spec.name}`,
      summary: spec.summary,
      tags: ['reports'],
      security: [{ bearer: [] }],
      request: { query: GroupReportQuery },
      responses: {
        200: {
          description: 'the consolidated report as JSON (integer cents; every line names its entity), or as CSV with format=csv',
          content: { 'application/json': { schema: z.record(z.string(), z.unknown()) }, 'text/csv': { schema: z.string() } },
        },
      },
    });
    router.get(`/reports/consolidated/${spec.name}`, async (req: Request, res: Response) => {
      const actor = await actorOf(req);
      const query = parsePart(GroupReportQuery, req.query, 'query');
      // Read on every entity named, before any work: one the caller may not read answers 404 like a missing one.
      for (const entityId of new Set(query.entityIds)) await authorizeEntity(deps.db, actor, entityId, 'read');
      const period = reports.periodOf(query);
      const result = await spec.build(query.entityIds, period);
      if (query.format === 'csv') {
        res.setHeader('Content-Type', 'text/csv; charset=utf-8');
        res.setHeader('Content-Disposition', `attachment; filename="consolidated-${spec.name}-${period.fromOn}-${period.toOn}.csv"`);
        res.send(spec.csv(result));
        return;
      }
      res.status(200).json(result);
    });
  }

  groupReport({
    name: 'balance-sheet',
    summary:
      "Consolidated balance sheet of several entities as of `to`: mirror balances between them (due to/from, loans between the books, investment in the LLC against its member capital and draws) eliminated",
    build: (entityIds, period) => consolidated.consolidatedBalanceSheet(deps.db, entityIds, period),
    csv: consolidated.consolidatedBalanceSheetCsv,
  });
  groupReport({
    name: 'income-statement',
    summary: 'Consolidated income statement of several entities from `from` to `to`: interest between them eliminated',
    build: (entityIds, period) => consolidated.consolidatedIncomeStatement(deps.db, entityIds, period),
    csv: consolidated.consolidatedIncomeStatementCsv,
  });

  const scheduleCTable = loadScheduleCTable();
  registry.registerPath({
    method: 'get',
    path: '/entities/{entityId}/reports/schedule-c',
    summary: 'Schedule C of a disregarded single-member LLC for a year: income and expense accounts mapped to lines (reference/schedule-c.json)',
    tags: ['reports'],
    security: [{ bearer: [] }],
    request: { params: EntityParams, query: ScheduleCQuery },
    responses: {
      200: {
        description: 'the lines as JSON (integer cents), or a per-line CSV with format=csv',
        content: { 'application/json': { schema: z.record(z.string(), z.unknown()) }, 'text/csv': { schema: z.string() } },
      },
    },
  });
  router.get('/entities/:entityId/reports/schedule-c', async (req: Request, res: Response) => {
    const actor = await actorOf(req);
    const { entityId } = parsePart(EntityParams, req.params, 'params');
    const query = parsePart(ScheduleCQuery, req.query, 'query');
    await authorizeEntity(deps.db, actor, entityId, 'read');
    const year = query.year ?? new Date().getUTCFullYear();
    const result = await reports.scheduleC(deps.db, entityId, year, scheduleCTable);
    if (query.format === 'csv') {
      res.setHeader('Content-Type', 'text/csv; charset=utf-8');
      res.setHeader('Content-Disposition', `attachment; filename="schedule-c-${year}.csv"`);
      res.send(reports.scheduleCCsv(result));
      return;
    }
    res.status(200).json(result);
  });

  const SummaryQuery = z
    .object({ year: z.coerce.number().int().min(1900).max(2199).optional().openapi({ description: 'calendar year; defaults to the current year, to date' }) })
    .strict();
  registry.registerPath({
    method: 'get',
    path: '/entities/{entityId}/reports/summary.pdf',
    summary: "A printable summary of an entity's calendar year: profit and loss, balance sheet at year end, and Schedule C when it applies",
    tags: ['reports'],
    security: [{ bearer: [] }],
    request: { params: EntityParams, query: SummaryQuery },
    responses: { 200: { description: 'application/pdf', content: { 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) } } } },
  });
  router.get('/entities/:entityId/reports/summary.pdf', async (req: Request, res: Response) => {
    const actor = await actorOf(req);
    const { entityId } = parsePart(EntityParams, req.params, 'params');
    const query = parsePart(SummaryQuery, req.query, 'query');
    await authorizeEntity(deps.db, actor, entityId, 'read');
    const year = query.year ?? new Date().getUTCFullYear();
    // The whole calendar year, like Schedule C (which is a yearly form): the three parts always agree.
    const period = { fromOn: `${year}-01-01`, toOn: `${year}-12-31` };
    const lines = await summaryOf(deps.db, entityId, year, period, scheduleCTable);
    const pdf = await renderSummaryPdf(lines[0]?.label ?? `Summary ${year}`, lines, new Date(`${period.toOn}T23:59:59Z`));
    res.setHeader('Content-Type', 'application/pdf');
    res.setHeader('Content-Disposition', `attachment; filename="summary-${year}.pdf"`);
    res.send(Buffer.from(pdf));
  });

  registry.registerPath({
    method: 'get',
    path: '/entities/{entityId}/exports/hledger.journal',
    summary: "The entity's books as a plain-text journal that hledger and ledger-cli read, with balance assertions",
    tags: ['reports'],
    security: [{ bearer: [] }],
    request: { params: EntityParams, query: ExportQuery },
    responses: { 200: { description: 'text/plain journal', content: { 'text/plain': { schema: z.string() } } } },
  });
  router.get('/entities/:entityId/exports/hledger.journal', async (req: Request, res: Response) => {
    const actor = await actorOf(req);
    const { entityId } = parsePart(EntityParams, req.params, 'params');
    const query = parsePart(ExportQuery, req.query, 'query');
    await authorizeEntity(deps.db, actor, entityId, 'read');
    // Collected before sending, so a failure still answers with the JSON error rather than a truncated file.
    const chunks: string[] = [];
    await reports.exportHledgerJournal(deps.db, entityId, query.to, (chunk) => chunks.push(chunk));
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="${entityId}${query.to ? `-${query.to}` : ''}.journal"`);
    res.send(chunks.join(''));
  });
}
