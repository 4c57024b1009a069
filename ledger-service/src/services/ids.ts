import { randomUUID } from 'node:crypto';
import { assert } from '../domain/errors';

/** The largest millisecond time a version 7 UUID holds (48 bits). */
const UUID_V7_TIME_MS_MAX = 2 ** 48 - 1;

/**
 * A version 7 UUID (RFC 9562): 48 bits of Unix time in milliseconds, then random bits, as veil_uuid_v7() makes them
 * in the database (migration 0032). Ids made later sort after earlier ones, so rows written in bulk land on the last
 * leaves of the indexes keyed by them instead of a random leaf each.
 */
export function timeOrderedUuid(nowMs: number = Date.now()): string {
  assert(Number.isSafeInteger(nowMs) && nowMs >= 0 && nowMs <= UUID_V7_TIME_MS_MAX, 'timeOrderedUuid: time out of range');
  // A version 4 UUID's random bits and variant; its version digit (position 14) becomes 7.
  const random = randomUUID();
  const time = nowMs.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15, 18)}-${random.slice(19)}`;
}
