import { createHash } from 'node:crypto';
import busboy from 'busboy';
import type { Request } from 'express';
import { RuleViolation } from '../domain/errors';
import { IMPORT_BYTES_MAX } from '../services/imports';

// A statement upload, streamed: multipart/form-data (field `file`, plus optional JSON fields `mapping` and
// `accountMap`, and `saveMapping`), or the raw file as the body with its name in X-File-Name. The bytes stay out
// of the validated body (they are not JSON); the body carries their name, size and SHA-256, so a retried upload
// with the same Idempotency-Key replays and another file under the same key is a conflict.

const uploads = new WeakMap<Request, Buffer>();

export function uploadedBytes(req: Request): Buffer {
  const bytes = uploads.get(req);
  if (!bytes) throw new RuleViolation('invalid_request', 'no file was uploaded');
  return bytes;
}

function jsonField(name: string, value: string | undefined): unknown {
  if (value === undefined || value === '') return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw new RuleViolation('invalid_request', `${name} is not JSON`);
  }
}

function describe(req: Request, name: string, chunks: Buffer[], fields: Record<string, string | undefined>) {
  const bytes = Buffer.concat(chunks);
  uploads.set(req, bytes);
  return {
    file: { name, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
    mapping: jsonField('mapping', fields.mapping),
    accountMap: jsonField('accountMap', fields.accountMap),
    saveMapping: fields.saveMapping === undefined ? undefined : fields.saveMapping === 'true',
  };
}

const tooLarge = () => new RuleViolation('invalid_request', `a statement file is at most ${IMPORT_BYTES_MAX} bytes`);

export async function readUpload(req: Request): Promise<unknown> {
  const type = req.get('content-type') ?? '';
  if (type.startsWith('multipart/form-data')) {
    return new Promise((resolve, reject) => {
      let parser: busboy.Busboy;
      try {
        parser = busboy({ headers: req.headers, limits: { files: 1, fields: 10, fileSize: IMPORT_BYTES_MAX, fieldSize: 64 * 1024 } });
      } catch (error) {
        reject(new RuleViolation('invalid_request', `not a readable multipart body: ${(error as Error).message}`));
        return;
      }
      const fields: Record<string, string> = {};
      const chunks: Buffer[] = [];
      let name: string | undefined;
      let truncated = false;
      parser.on('file', (field, stream, info) => {
        if (field !== 'file') {
          stream.resume();
          return;
        }
        name = info.filename || 'statement';
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('limit', () => {
          truncated = true;
        });
      });
      parser.on('field', (field, value) => {
        fields[field] = value;
      });
      parser.on('error', (error) => reject(new RuleViolation('invalid_request', `not a readable multipart body: ${(error as Error).message}`)));
      parser.on('close', () => {
        if (truncated) return reject(tooLarge());
        if (name === undefined) return reject(new RuleViolation('invalid_request', 'the multipart body has no `file` part'));
        resolve(describe(req, name, chunks, fields));
      });
      req.pipe(parser);
    });
  }
  if (type.startsWith('application/json')) {
    throw new RuleViolation('invalid_request', 'upload the statement as multipart/form-data (field `file`) or as the raw body with X-File-Name');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > IMPORT_BYTES_MAX) throw tooLarge();
    chunks.push(chunk);
  }
  const name = req.get('x-file-name') ?? 'statement';
  return describe(req, name, chunks, { mapping: req.get('x-csv-mapping'), accountMap: req.get('x-account-map'), saveMapping: req.get('x-save-mapping') });
}
