import { hash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { assert } from './errors';

/** An array-index-like key, which JSON.stringify would lay out before the others whatever their order. */
const INDEX_KEY = /^(?:0|[1-9]\d*)$/;

/** Thrown by `sortedCopy` when a key's order cannot be left to JSON.stringify: the value takes the library's way. */
class UnorderableKey extends Error {}

/**
 * `value` with its objects' keys in RFC 8785 order (UTF-16 code units, as Array#sort), dropping what canonicalize
 * drops (undefined and symbol members) and refusing what it refuses (NaN, ±Infinity). JSON.stringify writes the
 * result exactly as canonicalize writes the value: numbers and strings are serialised by the same ECMAScript rules
 * in both, and JSON.stringify itself leaves out undefined and symbol members and writes them as null in arrays.
 * An object or array that is already in that order is returned as it is, not copied: the service builds what it
 * hashes most (entries, audit rows) with sorted keys, and copying them was most of the work (a batch of 1,000
 * entries spent 14 ms on its audit rows' digests, 2026-11-25). Keys JSON.stringify would not keep in insertion
 * order (array indices come first, `__proto__` would set the prototype) make it throw UnorderableKey.
 */
function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(Number.isNaN(value) ? 'NaN is not allowed' : 'Infinity is not allowed');
    return value;
  }
  const withJson = value as { toJSON?: unknown };
  if (typeof withJson.toJSON === 'function') return sortedCopy((withJson.toJSON as () => unknown).call(value));
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < value.length; index += 1) {
      const item: unknown = value[index];
      const written = item === undefined || typeof item === 'symbol' ? null : sortedCopy(item);
      if (copy === undefined && written !== item) copy = value.slice(0, index);
      if (copy !== undefined) copy[index] = written;
    }
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let ordered = true;
  for (let index = 1; index < keys.length; index += 1) {
    if ((keys[index - 1] as string) > (keys[index] as string)) {
      ordered = false;
      break;
    }
  }
  if (!ordered) keys.sort();
  let copy: Record<string, unknown> | undefined = ordered ? undefined : {};
  for (let index = 0; index < keys.length; index += 1) {
    const key = keys[index] as string;
    const member = record[key];
    if (member === undefined || typeof member === 'symbol') continue;
    if (INDEX_KEY.test(key) || key === '__proto__') throw new UnorderableKey();
    const written = sortedCopy(member);
    if (copy === undefined && written !== member) {
      // The first member that changes: the members before it, unchanged, go into a copy (the keys are in order).
      copy = {};
      for (const earlier of keys.slice(0, index)) {
        const kept = record[earlier];
        if (kept !== undefined && typeof kept !== 'symbol') copy[earlier] = kept;
      }
    }
    if (copy !== undefined) copy[key] = written;
  }
  return copy ?? value;
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
