import { timeOrderedUuid } from './ids';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('timeOrderedUuid', () => {
  it('makes version 7 UUIDs carrying the time in their first 48 bits', () => {
    const nowMs = Date.UTC(2026, 10, 24, 21, 0, 0, 123);
    const id = timeOrderedUuid(nowMs);
    expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(nowMs);
  });

  it('sorts ids of later milliseconds after earlier ones, and never repeats', () => {
    // Ten ids a millisecond: each one of a later millisecond sorts after every one of the earlier milliseconds.
    const ids = Array.from({ length: 2_000 }, (_, index) => timeOrderedUuid(1_700_000_000_000 + Math.floor(index / 10)));
    for (let index = 10; index < ids.length; index += 1) {
      const firstOfItsMillisecond = index - (index % 10);
      expect((ids[index] as string) > (ids.slice(0, firstOfItsMillisecond).sort().at(-1) as string)).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('holds the edges of its 48-bit time and refuses times outside them', () => {
    expect(timeOrderedUuid(0)).toMatch(/^00000000-0000-7/);
    expect(timeOrderedUuid(2 ** 48 - 1)).toMatch(/^ffffffff-ffff-7/);
    expect(() => timeOrderedUuid(2 ** 48)).toThrow();
    expect(() => timeOrderedUuid(-1)).toThrow();
    expect(() => timeOrderedUuid(1.5)).toThrow();
  });
});
