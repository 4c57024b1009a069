import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';

// `veil import FILE --account ACCOUNT`: uploads a statement to a running ledger with an API token (VEIL_TOKEN or
// --token) and prints the import report. The file is streamed with a progress bar; its Idempotency-Key is its
// SHA-256 and the account, so running the same command twice replays the first answer instead of importing again.

const USAGE = `usage: veil import FILE --account ACCOUNT_ID [--url URL] [--token TOKEN] [--mapping JSON] [--save-mapping]
  URL defaults to $VEIL_URL or http://127.0.0.1:4100; TOKEN to $VEIL_TOKEN.`;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function runImport(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        account: { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        mapping: { type: 'string' },
        'save-mapping': { type: 'boolean' },
      },
    });
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const [command, file] = parsed.positionals;
  const { account } = parsed.values;
  if (command !== 'import' || file === undefined || account === undefined) {
    io.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const token = parsed.values.token ?? io.env.VEIL_TOKEN;
  if (!token) {
    io.stderr.write('no API token: set VEIL_TOKEN or pass --token\n');
    return 2;
  }
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    io.stderr.write(`${file}: no such file\n`);
    return 2;
  }
  const baseUrl = (parsed.values.url ?? io.env.VEIL_URL ?? 'http://127.0.0.1:4100').replace(/\/$/, '');
  const digest = await sha256Of(file);
  const bar = new cliProgress.SingleBar(
    { format: 'uploading {bar} {percentage}% | {value}/{total} bytes', stream: io.stderr, noTTYOutput: true, notTTYSchedule: 1000, hideCursor: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(size, 0);
  let sent = 0;
  const counted = fs.createReadStream(file).pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        sent += chunk.length;
        bar.update(sent);
        callback(null, chunk);
      },
    }),
  );
  const headers: Record<string, string> = {
    authorization: `Bearer ${token}`,
    'content-type': 'application/octet-stream',
    'content-length': String(size),
    'idempotency-key': `veil-cli:${account}:${digest}`,
    'x-file-name': path.basename(file),
  };
  if (parsed.values.mapping) headers['x-csv-mapping'] = parsed.values.mapping;
  if (parsed.values['save-mapping']) headers['x-save-mapping'] = 'true';
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/accounts/${encodeURIComponent(account)}/imports`, {
      method: 'POST',
      headers,
      body: Readable.toWeb(counted) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
  } catch (error) {
    bar.stop();
    io.stderr.write(`cannot reach ${baseUrl}: ${(error as Error).message}\n`);
    return 1;
  }
  bar.update(size);
  bar.stop();
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const error = (body.error ?? {}) as { code?: string; message?: string };
    io.stderr.write(`import refused (${response.status} ${error.code ?? ''}): ${error.message ?? 'no message'}\n`);
    return 1;
  }
  const replayed = response.headers.get('idempotent-replayed') === 'true';
  io.stdout(
    `${replayed ? 'already imported (the first answer): ' : ''}${String(body.format)} import ${String(body.importId)}: ${String(body.new)} new, ` +
      `${String(body.skippedExact)} already there, ${String(body.queuedForReview)} for review, ${String(body.booked)} booked by rules, ` +
      `${String(body.matchedToEntries ?? 0)} already in the books, ` +
      `${String(body.transfersBooked)} transfers, ${String(body.transferProposals)} transfer proposals\n`,
  );
  io.stdout(`${JSON.stringify(body)}\n`);
  return 0;
}
