/**
 * renumberIds and markNullRowElements against a plain reference on random inputs that reach each of
 * renumberIds' three paths (every entry used, a dense rank table, the popcount bitset), with and without nulls.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCodes, SegmentFormatError } from '../../src/errors.js';
import { markNullRowElements, renumberIds } from '../../src/sources/pinot/dictionary-subset.js';
import { rng } from '../support/random.js';

function reference(ids: Int32Array, validBitmap?: Uint8Array): { ids: number[]; used: number[] } {
  const valid = (i: number): boolean => validBitmap === undefined || (validBitmap[i >> 3]! & (1 << (i & 7))) !== 0;
  const used = [...new Set([...ids].filter((_, i) => valid(i)))].sort((a, b) => a - b);
  const rank = new Map(used.map((id, r) => [id, r]));
  return { ids: [...ids].map((id, i) => (valid(i) ? rank.get(id)! : 0)), used };
}

function bitmap(n: number, random: () => number, nullShare: number): Uint8Array {
  const bits = new Uint8Array(Math.ceil(n / 8));
  for (let i = 0; i < n; i++) if (random() >= nullShare) bits[i >> 3]! |= 1 << (i & 7);
  return bits;
}

describe('renumberIds', () => {
  const cases: { name: string; n: number; cardinality: number; draw: number }[] = [
    // draw = how many distinct ids the values come from (≤ cardinality)
    { name: 'every entry used (ranks are the ids)', n: 5000, cardinality: 37, draw: 37 },
    { name: 'dense rank table (cardinality ≤ 4 × ids)', n: 5000, cardinality: 9000, draw: 9000 },
    { name: 'bitset path (cardinality ≫ ids)', n: 300, cardinality: 3_000_000, draw: 3_000_000 },
    { name: 'bitset path over 2^21 entries with many ids', n: 20_000, cardinality: 2_500_000, draw: 2_500_000 },
    { name: 'ids at the top of a 32-bit word', n: 2000, cardinality: 64, draw: 64 },
  ];
  for (const c of cases) {
    for (const nullShare of [0, 0.3]) {
      it(`${c.name}${nullShare > 0 ? ', with nulls' : ''}`, () => {
        const random = rng(c.n * 31 + c.cardinality + (nullShare > 0 ? 7 : 0));
        const ids = new Int32Array(c.n);
        for (let i = 0; i < c.n; i++) ids[i] = Math.floor(random() * c.draw);
        if (c.cardinality === 64) for (let i = 0; i < c.n; i += 3) ids[i] = i % 2 === 0 ? 31 : 63;
        const valid = nullShare > 0 ? bitmap(c.n, random, nullShare) : undefined;
        const expected = reference(ids, valid);
        const copy = ids.slice();
        const used = renumberIds(copy, c.cardinality, { validBitmap: valid, column: 'col' });
        expect([...used]).toEqual(expected.used);
        expect([...copy]).toEqual(expected.ids);
      });
    }
  }

  it('a subset that misses entries of a small dictionary is renumbered, not taken as the ids', () => {
    const ids = Int32Array.from([5, 2, 5, 9, 2]);
    expect([...renumberIds(ids, 10)]).toEqual([2, 5, 9]);
    expect([...ids]).toEqual([1, 0, 1, 2, 0]);
  });

  it('ids at null positions are bounds-checked too, and −1 is only a null mark when marks are announced', () => {
    const valid = Uint8Array.of(0b1011);
    expect(() => renumberIds(Int32Array.from([0, 1, 12, 2]), 12, { validBitmap: valid })).toThrow(/dict id 12 is not below/);
    expect(() => renumberIds(Int32Array.from([0, -1, 3]), 12)).toThrow(/dict id 4294967295 is not below/);
    const marked = Int32Array.from([5, -1, 3]);
    expect([...renumberIds(marked, 12, { nullMarks: true })]).toEqual([3, 5]);
    expect([...marked]).toEqual([1, 0, 0]);
  });

  it('an id at or above the cardinality fails naming the column and the id', () => {
    const ids = Int32Array.from([0, 1, 12, 2]);
    let error: unknown;
    try {
      renumberIds(ids, 12, { column: 'city' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SegmentFormatError);
    expect((error as SegmentFormatError).code).toBe(ErrorCodes.PINOT_CORRUPT);
    expect((error as Error).message).toContain('dict id 12');
    expect((error as SegmentFormatError).context).toMatchObject({ column: 'city' });
  });
});

describe('markNullRowElements', () => {
  it('marks the elements of null rows −1 in place, so renumberIds neither counts nor keeps them', () => {
    const random = rng(11);
    const rows = 3000;
    const offsets = new Int32Array(rows + 1);
    for (let r = 0; r < rows; r++) offsets[r + 1] = offsets[r]! + Math.floor(random() * 5);
    const values = new Int32Array(offsets[rows]!);
    // Entries 1000..1099 appear only in null rows: they must not be in the used set.
    const valid = bitmap(rows, random, 0.25);
    const isValid = (r: number): boolean => (valid[r >> 3]! & (1 << (r & 7))) !== 0;
    for (let r = 0; r < rows; r++) {
      for (let j = offsets[r]!; j < offsets[r + 1]!; j++) values[j] = isValid(r) ? Math.floor(random() * 1000) : 1000 + Math.floor(random() * 100);
    }
    const before = values.slice();
    markNullRowElements(offsets, values, valid);
    for (let r = 0; r < rows; r++) {
      for (let j = offsets[r]!; j < offsets[r + 1]!; j++) expect(values[j]).toBe(isValid(r) ? before[j] : -1);
    }
    const used = renumberIds(values, 1100, { nullMarks: true });
    const validIds = [...new Set(Array.from({ length: rows }, (_, r) => r).filter(isValid).flatMap((r) => [...before.subarray(offsets[r]!, offsets[r + 1]!)]))].sort((a, b) => a - b);
    expect([...used]).toEqual(validIds);
    for (let r = 0; r < rows; r++) {
      for (let j = offsets[r]!; j < offsets[r + 1]!; j++) expect(values[j]).toBe(isValid(r) ? validIds.indexOf(before[j]!) : 0);
    }
  });
});
