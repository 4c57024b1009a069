import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { assert } from './errors';

/** SHA-256 over the RFC 8785 canonical JSON of a value: equal content, equal hash, whatever the key order. */
export function contentHash(value: unknown): string {
  const canonical = canonicalize(value);
  assert(canonical !== undefined, 'contentHash: value has no JSON form');
  return createHash('sha256').update(canonical).digest('hex');
}
