import fs from 'node:fs';
import { parseArgs } from 'node:util';

// `veil report <name> --entity ID [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--csv]`: a report from a running Veil
// service, printed to stdout (JSON, or CSV with --csv). It talks to the API only, like any other client, with
// VEIL_URL and VEIL_TOKEN (an API token or an access token).

const ENTITY_REPORTS = ['balance-sheet', 'income-statement', 'trial-balance', 'owner-equity', 'cash-flow', 'general-ledger', 'inter-entity'] as const;
const GROUP_REPORTS = ['consolidated-balance-sheet', 'consolidated-income-statement'] as const;
const YEAR_REPORTS = ['schedule-c', '1099-nec', 'summary'] as const;
export const REPORT_NAMES = [...ENTITY_REPORTS, ...GROUP_REPORTS, ...YEAR_REPORTS] as const;

export const REPORT_USAGE = `usage: veil report <${REPORT_NAMES.join('|')}>
  --entity ID           the entity (every report but the consolidated ones)
  --entities ID,ID,...  the entities of a consolidated report
  --from YYYY-MM-DD     start of the period (default: 1 January of --to's year)
  --to YYYY-MM-DD       end of the period / balance sheet date (default: today)
  --year YYYY           schedule-c, 1099-nec and summary (default: this year)
  --account ID          general-ledger: one account only
  --csv                 CSV instead of JSON
  --out FILE            write to FILE instead of stdout (required for summary, a PDF)
environment: VEIL_URL (e.g. http://127.0.0.1:3000), VEIL_TOKEN`;

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export class CliError extends Error {}

/** Builds the request path of a report from the command line; throws CliError on bad usage. */
export function reportPath(argv: readonly string[]): { path: string; binary: boolean; out: string | undefined } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      entity: { type: 'string' },
      entities: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      year: { type: 'string' },
      account: { type: 'string' },
      csv: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const [name, ...rest] = positionals;
  if (name === undefined || !(REPORT_NAMES as readonly string[]).includes(name) || rest.length > 0) throw new CliError(REPORT_USAGE);
  const query = new URLSearchParams();
  const set = (key: string, value: string | undefined) => {
    if (value !== undefined) query.set(key, value);
  };
  if (values.csv) query.set('format', 'csv');
  let path: string;
  if ((GROUP_REPORTS as readonly string[]).includes(name)) {
    if (values.entities === undefined) throw new CliError(`${name} needs --entities ID,ID,...\n${REPORT_USAGE}`);
    set('entityIds', values.entities);
    set('from', values.from);
    set('to', values.to);
    path = `/reports/consolidated/${name.replace('consolidated-', '')}`;
  } else {
    if (values.entity === undefined) throw new CliError(`${name} needs --entity ID\n${REPORT_USAGE}`);
    const entity = encodeURIComponent(values.entity);
    if ((YEAR_REPORTS as readonly string[]).includes(name)) {
      set('year', values.year);
      if (name === 'summary') {
        query.delete('format');
        if (values.out === undefined) throw new CliError(`summary is a PDF: name a file with --out\n${REPORT_USAGE}`);
      }
      path = `/entities/${entity}/reports/${name === 'summary' ? 'summary.pdf' : name}`;
    } else {
      set('from', values.from);
      set('to', values.to);
      if (name === 'general-ledger') set('accountId', values.account);
      path = `/entities/${entity}/reports/${name}`;
    }
  }
  const search = query.toString();
  return { path: search ? `${path}?${search}` : path, binary: name === 'summary', out: values.out };
}

/** Runs `veil report …`; resolves to the process exit code (0 ok, 1 the service refused, 2 bad usage). */
export async function runReport(argv: readonly string[], io: CliIo): Promise<number> {
  let request: ReturnType<typeof reportPath>;
  try {
    request = reportPath(argv);
  } catch (error) {
    io.stderr(`${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const baseUrl = io.env.VEIL_URL;
  const token = io.env.VEIL_TOKEN;
  if (!baseUrl || !token) {
    io.stderr(`set VEIL_URL and VEIL_TOKEN\n${REPORT_USAGE}\n`);
    return 2;
  }
  const response = await fetch(new URL(request.path, baseUrl), { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) {
    // The service answers { error: { code, message } }: say it plainly.
    const text = await response.text();
    let message = text;
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
      if (body.error) message = `${body.error.code}: ${body.error.message}`;
    } catch {
      // not JSON: print as is
    }
    io.stderr(`veil report: ${response.status} ${message}\n`);
    return 1;
  }
  if (request.binary || request.out !== undefined) {
    const bytes = Buffer.from(await response.arrayBuffer());
    if (request.out === undefined) throw new CliError('unreachable: a binary report always has --out');
    fs.writeFileSync(request.out, bytes);
    io.stderr(`wrote ${bytes.length} bytes to ${request.out}\n`);
    return 0;
  }
  const text = await response.text();
  const isJson = (response.headers.get('content-type') ?? '').startsWith('application/json');
  io.stdout(isJson ? `${JSON.stringify(JSON.parse(text), null, 2)}\n` : text);
  return 0;
}
