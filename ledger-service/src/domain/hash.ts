import { hash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { assert } from './errors';

/** An array-index-like key, which JSON.stringify would lay out before the others whatever their order. */
const INDEX_KEY = /^(?:0|[1-9]\d*)$/;

/** Thrown by `sortedCopy` when a key's order cannot be left to JSON.stringify: the value takes the library's way. */
class UnorderableKey extends Error {}

/**
 * A copy of `value` whose objects have their keys inserted in RFC 8785 order (UTF-16 code units, as Array#sort),
 * dropping what canonicalize drops (undefined and symbol members) and refusing what it refuses (NaN, ±Infinity).
 * JSON.stringify writes such a copy exactly as canonicalize writes the value: numbers and strings are serialised
 * by the same ECMAScript rules in both. Keys JSON.stringify would not keep in insertion order (array indices come
 * first, `__proto__` would set the prototype) make it throw UnorderableKey.
 */
function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(Number.isNaN(value) ? 'NaN is not allowed' : 'Infinity is not allowed');
    return value;
  }
  const withJson = value as { toJSON?: unknown };
  if (typeof withJson.toJSON === 'function') return sortedCopy((withJson.toJSON as () => unknown).call(value));
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    for (let index = 0; index < value.length; index += 1) {
      const item: unknown = value[index];
      copy[index] = item === undefined || typeof item === 'symbol' ? null : sortedCopy(item);
    }
    return copy;
  }
  const record = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined || typeof member === 'symbol') continue;
    if (INDEX_KEY.test(key) || key === '__proto__') throw new UnorderableKey();
    copy[key] = sortedCopy(member);
  }
  return copy;
}

/**
 * The RFC 8785 canonical JSON text of a value, exactly as the `canonicalize` package writes it (a property test
 * holds them equal), or undefined when the value has no JSON form. A key-sorted copy written by JSON.stringify: a
 * flat string, where canonicalize's concatenations build a rope that hashing must flatten first — a third of the
 * service's CPU for a batch of 1,000 entries went to hashing their canonical forms. Values with array-index keys
 * are left to canonicalize.
 */
export function canonicalJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(sortedCopy(value));
  } catch (error) {
    if (error instanceof UnorderableKey) return canonicalize(value);
    throw error;
  }
}

/** SHA-256 over the RFC 8785 canonical JSON of a value: equal content, equal hash, whatever the key order. */
export function contentHash(value: unknown): string {
  const canonical = canonicalJson(value);
  assert(canonical !== undefined, 'contentHash: value has no JSON form');
  return hash('sha256', canonical, 'hex');
}
