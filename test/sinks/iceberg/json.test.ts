/** Lossless JSON: 64-bit ids survive a parse → stringify round trip as bare numbers. */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { parseJson, stringifyJson, toBigInt } from '../../../src/sinks/iceberg/json.js';
import { describeFixtures } from '../../support/fixtures.js';

describe('parseJson', () => {
  it('turns integers beyond 2^53 into bigint and keeps the rest as numbers', () => {
    const v = parseJson('{"id": 9158179788527662767, "neg": -9158179788527662767, "small": 42, "max": 9007199254740991, "f": 1.5, "e": 1e3}') as Record<string, unknown>;
    expect(v.id).toBe(9158179788527662767n);
    expect(v.neg).toBe(-9158179788527662767n);
    expect(v.small).toBe(42);
    expect(v.max).toBe(9007199254740991);
    expect(v.f).toBe(1.5);
    expect(v.e).toBe(1000);
  });

  it('the first unsafe integer is already a bigint (plain JSON.parse would round it)', () => {
    expect(parseJson('9007199254740993')).toBe(9007199254740993n);
    expect(JSON.parse('9007199254740993')).toBe(9007199254740992);
  });

  it('throws SyntaxError on malformed text', () => {
    expect(() => parseJson('{"a": }')).toThrow(SyntaxError);
  });
});

describe('stringifyJson', () => {
  it('writes bigint as a bare JSON number, never a string', () => {
    const text = stringifyJson({ 'snapshot-id': 9158179788527662767n, 'parent-snapshot-id': null, n: 3, s: 'x' });
    expect(text).toBe('{"snapshot-id":9158179788527662767,"parent-snapshot-id":null,"n":3,"s":"x"}');
  });

  it('omits undefined members like JSON.stringify', () => {
    expect(stringifyJson({ a: undefined, b: [1, 2] })).toBe('{"b":[1,2]}');
  });

  it('refuses NaN and Infinity instead of writing null', () => {
    expect(() => stringifyJson({ x: Number.NaN })).toThrow(/NaN/);
    expect(() => stringifyJson([Infinity])).toThrow(/Infinity/);
  });

  it('toBigInt accepts either representation', () => {
    expect(toBigInt(5)).toBe(5n);
    expect(toBigInt(9158179788527662767n)).toBe(9158179788527662767n);
  });
});

describeFixtures('lossless round trip of Java-written metadata', 'fixtures/iceberg-java-1.8.1-bunnies', (dir) => {
  it('every 19-digit id of v5.metadata.json comes back exactly', () => {
    const text = readFileSync(`${dir}/metadata/v5.metadata.json`, 'utf8');
    const ids = [...text.matchAll(/\d{19}/g)].map((m) => m[0]);
    expect(ids.length).toBeGreaterThan(5);
    const out = stringifyJson(parseJson(text));
    for (const id of ids) expect(out).toContain(id);
    // Whitespace aside, the document is unchanged: compare with lossless-json's own number-as-text mode.
    expect(out).toBe(stringify(parse(text)));
  });
});
