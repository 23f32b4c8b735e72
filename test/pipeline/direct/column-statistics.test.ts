/** Column chunk min/max functions against orders computed independently (BigInt sort, Buffer.compare). */
import { describe, expect, it } from 'vitest';
import {
  booleanMinMax, byteArrayMinMax, compareBytes, float32MinMax, float64MinMax, int32MinMax, int64MinMax, statisticsOf,
} from '../../../src/pipeline/direct/statistics.js';

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

describe('INT64 min/max through 32-bit halves', () => {
  it('matches a BigInt sort on values around the half and sign boundaries', () => {
    const r = random(3);
    const edges = [0n, -1n, 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, -(2n ** 32n), -(2n ** 31n) - 1n, 2n ** 63n - 1n, -(2n ** 63n)];
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(r() * 12);
      const values = BigInt64Array.from({ length: n }, () => edges[Math.floor(r() * edges.length)]! + BigInt(Math.floor(r() * 5) - 2));
      const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const m = int64MinMax(values, undefined, n)!;
      expect([view(m.min).getBigInt64(0, true), view(m.max).getBigInt64(0, true)]).toStrictEqual([sorted[0], sorted[n - 1]]);
    }
  });

  it('reads only the indexed positions, in a subarray of a larger buffer', () => {
    const all = BigInt64Array.of(-100n, 7n, 2n ** 40n, -5n, 99n);
    const values = all.subarray(1);
    const m = int64MinMax(values, Int32Array.of(0, 2), 2)!;
    expect([view(m.min).getBigInt64(0, true), view(m.max).getBigInt64(0, true)]).toStrictEqual([-5n, 7n]);
    expect(int64MinMax(values, undefined, 0)).toBeUndefined();
  });
});

describe('other physical types', () => {
  it('INT32 signed, honouring the index', () => {
    const m = int32MinMax(Int32Array.of(5, -(2 ** 31), 2 ** 31 - 1, 0), Int32Array.of(0, 3), 2)!;
    expect([view(m.min).getInt32(0, true), view(m.max).getInt32(0, true)]).toStrictEqual([0, 5]);
  });

  it('FLOAT/DOUBLE skip NaN and write a zero min as −0 and a zero max as +0', () => {
    const d = float64MinMax(Float64Array.of(NaN, 0, -0, NaN), undefined, 4)!;
    expect(Object.is(view(d.min).getFloat64(0, true), -0)).toBe(true);
    expect(Object.is(view(d.max).getFloat64(0, true), 0)).toBe(true);
    const f = float32MinMax(Float32Array.of(NaN, 2.5, -Infinity), undefined, 3)!;
    expect([view(f.min).getFloat32(0, true), view(f.max).getFloat32(0, true)]).toStrictEqual([-Infinity, 2.5]);
    expect(float32MinMax(Float32Array.of(NaN, NaN), undefined, 2)).toBeUndefined();
  });

  it('BOOLEAN false < true, bits read at the bit offset', () => {
    // Bits (LSB first) of 0b00001100: positions 2 and 3 are true.
    const bits = Uint8Array.of(0b00001100);
    const at = (offset: number, count: number): number[] => {
      const m = booleanMinMax(bits, offset, undefined, count)!;
      return [m.min[0]!, m.max[0]!];
    };
    expect(at(2, 2)).toStrictEqual([1, 1]);
    expect(at(1, 2)).toStrictEqual([0, 1]);
    expect(at(4, 3)).toStrictEqual([0, 0]);
    expect(booleanMinMax(bits, 0, Int32Array.of(3, 0), 2)!.min[0]).toBe(0);
  });

  it('BYTE_ARRAY unsigned lexicographic, as Buffer.compare orders bytes', () => {
    const r = random(9);
    for (let trial = 0; trial < 100; trial++) {
      const n = 1 + Math.floor(r() * 10);
      const items = Array.from({ length: n }, () => Uint8Array.from({ length: Math.floor(r() * 4) }, () => [0, 1, 0x7f, 0x80, 0xff][Math.floor(r() * 5)]!));
      const offsets = new Int32Array(n + 1);
      items.forEach((b, i) => (offsets[i + 1] = offsets[i]! + b.length));
      const data = Buffer.concat(items);
      const sorted = [...items].sort((a, b) => Buffer.compare(a, b));
      const m = byteArrayMinMax(offsets, data, undefined, n)!;
      expect([Buffer.from(m.min).toString('hex'), Buffer.from(m.max).toString('hex')]).toStrictEqual([
        Buffer.from(sorted[0]!).toString('hex'), Buffer.from(sorted[n - 1]!).toString('hex'),
      ]);
    }
    // Lengths 0..13 over few byte values (shared 4- and 8-byte prefixes, zero bytes against padding), through an
    // index, inside a buffer at a non-zero offset.
    for (let trial = 0; trial < 600; trial++) {
      const n = 1 + Math.floor(r() * 40);
      const items = Array.from({ length: n }, () => Uint8Array.from({ length: Math.floor(r() * 14) }, () => [0, 1, 0xff][Math.floor(r() * 3)]!));
      const offsets = new Int32Array(n + 1);
      items.forEach((b, i) => (offsets[i + 1] = offsets[i]! + b.length));
      const data = new Uint8Array(Buffer.concat([Buffer.of(9, 9, 9), ...items])).subarray(3);
      const index = Int32Array.from({ length: 1 + Math.floor(r() * n) }, () => Math.floor(r() * n));
      const picked = [...index].map((i) => items[i]!).sort((a, b) => Buffer.compare(a, b));
      const m = byteArrayMinMax(offsets, data, index, index.length)!;
      expect([Buffer.from(m.min).toString('hex'), Buffer.from(m.max).toString('hex')]).toStrictEqual([
        Buffer.from(picked[0]!).toString('hex'), Buffer.from(picked.at(-1)!).toString('hex'),
      ]);
    }
    // [1, 2] after its prefix [1].
    expect(compareBytes(Uint8Array.of(1, 2, 1), 0, 2, 2, 3)).toBeGreaterThan(0);
    // Longer values (compared four bytes at a time) sharing prefixes, inside a buffer at a non-zero offset.
    for (let round = 0; round < 300; round++) {
      const prefix = Uint8Array.from({ length: Math.floor(r() * 9) }, () => [0x7b, 0x22, 0x80, 0xff][Math.floor(r() * 4)]!);
      const a = Buffer.concat([prefix, Uint8Array.from({ length: Math.floor(r() * 7) }, () => [0, 0x7f, 0x80, 0xff][Math.floor(r() * 4)]!)]);
      const b = Buffer.concat([prefix, Uint8Array.from({ length: Math.floor(r() * 7) }, () => [0, 0x7f, 0x80, 0xff][Math.floor(r() * 4)]!)]);
      const backing = new Uint8Array(3 + a.length + b.length);
      backing.set(a, 3);
      backing.set(b, 3 + a.length);
      const data = backing.subarray(1);
      const got = Math.sign(compareBytes(data, 2, 2 + a.length, 2 + a.length, 2 + a.length + b.length));
      expect(got, `${a.toString('hex')} vs ${b.toString('hex')}`).toBe(Math.sign(Buffer.compare(a, b)));
    }
    expect(compareBytes(Uint8Array.of(1, 2, 1), 2, 3, 0, 2)).toBeLessThan(0);
  });

  it('statisticsOf keeps the null count without min/max when nothing is ordered', () => {
    expect(statisticsOf(3, undefined)).toStrictEqual({ nullCount: 3 });
    const m = int32MinMax(Int32Array.of(1), undefined, 1)!;
    expect(statisticsOf(0, m)).toStrictEqual({ nullCount: 0, minValue: m.min, maxValue: m.max });
  });
});
