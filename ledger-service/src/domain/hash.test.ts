import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { canonicalJson, contentHash } from './hash';

// canonicalJson must write every value exactly as the `canonicalize` package does: the hashes it feeds are stored
// (entries' content hashes, idempotency request hashes, the audit chain's digests) and recomputed later by the
// verifier, so a single differing byte would report an untouched trail as tampered.

/** Keys that stress the ordering: array-index-like, numeric-looking, non-ASCII, astral, empty, `__proto__`. */
const key = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('0', '1', '2', '10', '01', '-1', '1.5', '4294967295', '4294967294', '', '__proto__', 'constructor', 'é', 'e\u0301', '\ud83d\ude00', '\uffff', 'Z', 'a'),
);

const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.string({ unit: 'grapheme' }),
    fc.constantFrom('\ud800', 'a\udc00b', '\u2028\u2029', '\u0000\u001f"\\/', '</script>'),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(0, -0, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, 0.1 + 0.2),
    fc.boolean(),
    fc.constant(null),
    fc.date({ noInvalidDate: true }),
  ),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('array'), tie('object')),
  array: fc.array(fc.oneof(tie('node'), fc.constant(undefined)), { maxLength: 5 }),
  object: fc.dictionary(key, fc.oneof(tie('node'), fc.constant(undefined)), { maxKeys: 6 }),
})).node;

describe('canonicalJson', () => {
  it('writes every JSON value, with any keys, byte for byte as canonicalize does', () => {
    fc.assert(
      fc.property(value, (input) => {
        expect(canonicalJson(input)).toBe(canonicalize(input));
      }),
      { numRuns: 2_000 },
    );
  });

  it('agrees on JSON read back from text, as request bodies and stored rows are', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => {
        const parsed: unknown = JSON.parse(JSON.stringify(input));
        expect(canonicalJson(parsed)).toBe(canonicalize(parsed));
      }),
      { numRuns: 1_000 },
    );
  });

  it('writes values already in canonical order (taken as they are, not copied) as canonicalize does', () => {
    fc.assert(
      fc.property(value, (input) => {
        const text = canonicalize(input);
        if (text === undefined) return;
        // Read back from canonical text, every object's keys are in canonical order (but for index-like keys).
        const ordered: unknown = JSON.parse(text);
        const before = JSON.stringify(ordered);
        expect(canonicalJson(ordered)).toBe(text);
        expect(JSON.stringify(ordered)).toBe(before);
      }),
      { numRuns: 2_000 },
    );
  });

  it('copies an ordered object only from the member that changes, and never changes the value it is given', () => {
    const inner = { d: 1, c: [2, undefined] };
    const input = { a: 'kept', b: [undefined, inner, new Date(0)], c: undefined, d: { e: Symbol('dropped'), f: 1 } };
    const text = canonicalJson(input);
    expect(text).toBe(canonicalize(input));
    expect(text).toBe('{"a":"kept","b":[null,{"c":[2,null],"d":1},"1970-01-01T00:00:00.000Z"],"d":{"f":1}}');
    expect(Object.keys(inner)).toEqual(['d', 'c']);
    expect(input.b[0]).toBeUndefined();
    expect(canonicalJson({ b: 1, a: { z: undefined, y: 2 } })).toBe('{"a":{"y":2},"b":1}');
  });

  it('orders keys by UTF-16 code units, index-like keys as strings, and keeps a __proto__ member', () => {
    expect(canonicalJson({ b: 1, 10: 'x', 2: 'y', a: [undefined, 3] })).toBe('{"10":"x","2":"y","a":[null,3],"b":1}');
    expect(canonicalJson(JSON.parse('{"__proto__":{"z":1,"a":2},"k":true}'))).toBe('{"__proto__":{"a":2,"z":1},"k":true}');
    expect(canonicalJson({ '\ud83d\ude00': 1, '\uffff': 2 })).toBe('{"\ud83d\ude00":1,"\uffff":2}');
  });

  it('refuses what has no canonical form, as canonicalize does', () => {
    expect(() => canonicalJson({ a: [Number.NaN] })).toThrow('NaN is not allowed');
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow('Infinity is not allowed');
    expect(() => canonicalJson({ a: 1n })).toThrow(TypeError);
    expect(canonicalJson(undefined)).toBeUndefined();
  });
});

describe('contentHash', () => {
  it('is the SHA-256 of the canonical text', () => {
    fc.assert(
      fc.property(value, (input) => {
        const canonical = canonicalize(input);
        fc.pre(canonical !== undefined);
        expect(contentHash(input)).toBe(createHash('sha256').update(canonical as string).digest('hex'));
      }),
      { numRuns: 500 },
    );
  });
});
