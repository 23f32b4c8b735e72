/**
 * The RLE/bit-packing hybrid encoder against two independent decoders: hyparquet's readRleBitPackedHybrid and
 * @dsnp/parquetjs's bit-by-bit RLE codec (the latter also covers the widths hyparquet's 32-bit reader cannot).
 */
import { rng } from '../../support/random.js';
import { describe, expect, it } from 'vitest';
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js';
import { decodeValues as parquetjsDecode } from '@dsnp/parquetjs/dist/lib/codec/rle.js';
import { bitWidthOf, encodeDictionaryIds, encodeHybrid, encodeLevels, encodeRepeatedLevel } from '../../../src/pipeline/direct/rle.js';

const prng = rng;

/** Values < 2^bitWidth: random stretches mixed with runs of random lengths (some straddling 8-value groups). */
function mixed(count: number, bitWidth: number, seed: number): Int32Array {
  const rnd = prng(seed);
  const limit = 2 ** bitWidth;
  const value = (): number => Math.floor(rnd() * limit) | 0;
  const out = new Int32Array(count);
  let i = 0;
  while (i < count) {
    const n = 1 + Math.floor(rnd() * 40);
    if (rnd() < 0.5) {
      const v = value();
      for (let k = 0; k < n && i < count; k++) out[i++] = v;
    } else {
      for (let k = 0; k < n && i < count; k++) out[i++] = value();
    }
  }
  return out;
}

function hyparquetDecode(bytes: Uint8Array, bitWidth: number, count: number): number[] {
  const output = new Array<number>(count);
  const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
  readRleBitPackedHybrid(reader, bitWidth, output, bytes.length);
  expect(reader.offset).toBe(bytes.length);
  return output;
}

function parquetjsDecodeAll(bytes: Uint8Array, bitWidth: number, count: number): number[] {
  const cursor = { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
  const values = parquetjsDecode('INT32', cursor, count, { bitWidth, disableEnvelope: true }) as number[];
  // The bit-by-bit decoder builds 32-bit values with `|`, so width 32 comes back signed.
  return values.map((v) => v | 0);
}

/** hyparquet's bit-packed reader keeps its bit buffer in a 32-bit int, which overflows beyond 24-bit values. */
const HYPARQUET_MAX_WIDTH = 24;

describe('bitWidthOf', () => {
  it('is the number of bits of the maximum', () => {
    const cases: [number, number][] = [[0, 0], [1, 1], [2, 2], [3, 2], [4, 3], [7, 3], [8, 4], [255, 8], [256, 9], [2 ** 31 - 1, 31], [2 ** 32 - 1, 32]];
    for (const [max, bits] of cases) expect(bitWidthOf(max), `max ${max}`).toBe(bits);
  });
});

describe('encodeHybrid', () => {
  for (let bitWidth = 0; bitWidth <= 32; bitWidth++) {
    it(`round-trips random data with runs at bit width ${bitWidth}`, () => {
      for (const count of [1, 7, 8, 9, 1001 + bitWidth]) {
        const values = mixed(count, bitWidth, bitWidth * 1000 + count);
        const bytes = encodeHybrid(values, count, bitWidth);
        const expected = Array.from(values);
        expect(parquetjsDecodeAll(bytes, bitWidth, count), `count ${count}`).toEqual(expected);
        if (bitWidth <= HYPARQUET_MAX_WIDTH) expect(hyparquetDecode(bytes, bitWidth, count), `count ${count}`).toEqual(expected);
      }
    });
  }

  it('uses 32-bit values with the top bit set', () => {
    const values = new Int32Array([-1, 0, -2147483648, 2147483647, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 5]);
    const bytes = encodeHybrid(values, values.length, 32);
    expect(parquetjsDecodeAll(bytes, 32, values.length)).toEqual(Array.from(values));
  });

  it('encodes all-equal input as one RLE run', () => {
    const count = 1_000_003;
    const values = new Uint8Array(count).fill(5);
    const bytes = encodeHybrid(values, count, 3);
    // varint(count << 1) (3 bytes for 2,000,006) + one value byte
    expect(Array.from(bytes)).toEqual([0x86, 0x89, 0x7a, 5]);
    expect(hyparquetDecode(bytes, 3, count).every((v) => v === 5)).toBe(true);
  });

  it('writes one RLE run of zero-width values at bit width 0', () => {
    const bytes = encodeHybrid(new Int32Array(100), 100, 0);
    expect(Array.from(bytes)).toEqual([200, 1]);
    expect(parquetjsDecodeAll(bytes, 0, 100)).toEqual(new Array(100).fill(0));
  });

  it('bit-packs data without runs into ceil(count / 8) groups', () => {
    const count = 1000;
    const values = new Uint16Array(count);
    for (let i = 0; i < count; i++) values[i] = (i * 7919) % 4096; // no two neighbours equal
    const bytes = encodeHybrid(values, count, 12);
    // One bit-packed run: varint header ((125 << 1) | 1 = 251 → 2 bytes) + 125 groups × 12 bytes.
    expect(bytes.length).toBe(2 + 125 * 12);
    expect(hyparquetDecode(bytes, 12, count)).toEqual(Array.from(values));
  });

  it('handles runs that straddle group boundaries and short runs', () => {
    const pattern: number[] = [];
    const push = (v: number, n: number): void => { for (let k = 0; k < n; k++) pattern.push(v); };
    push(1, 3); push(2, 20); push(3, 7); push(4, 8); push(1, 1); push(5, 9); push(6, 15); push(7, 16); push(0, 5); push(3, 8);
    for (const u of [Uint8Array, Uint16Array, Int32Array]) {
      const values = u.from(pattern);
      for (const count of [pattern.length, pattern.length - 1, 12, 30, 31]) {
        const bytes = encodeHybrid(values, count, 3);
        expect(hyparquetDecode(bytes, 3, count), `${u.name} count ${count}`).toEqual(pattern.slice(0, count));
        expect(parquetjsDecodeAll(bytes, 3, count)).toEqual(pattern.slice(0, count));
      }
    }
  });

  it('encodes only the first `count` values', () => {
    const values = new Int32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(hyparquetDecode(encodeHybrid(values, 5, 4), 4, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(encodeHybrid(values, 0, 4).length).toBe(0);
  });

  it('rejects a bad bit width or count', () => {
    expect(() => encodeHybrid(new Int32Array(4), 4, 33)).toThrow(/bit width 33/);
    expect(() => encodeHybrid(new Int32Array(4), 4, -1)).toThrow(/bit width -1/);
    expect(() => encodeHybrid(new Int32Array(4), 5, 3)).toThrow(/count 5 is outside the 4 values/);
  });
});

describe('encodeLevels', () => {
  it('prefixes the hybrid with its 4-byte little-endian length', () => {
    const levels = Uint8Array.from(mixed(777, 2, 42));
    const bytes = encodeLevels(levels, 777, 3);
    const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    expect(length).toBe(bytes.length - 4);
    // hyparquet reads the prefix itself when no length is given.
    const output = new Array<number>(777);
    const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
    readRleBitPackedHybrid(reader, 2, output);
    expect(output).toEqual(Array.from(levels));
    expect(reader.offset).toBe(bytes.length);
  });

  it('round-trips levels of max level 1 and 3 (its own fast path) for many shapes', () => {
    for (const maxLevel of [1, 3]) {
      const bitWidth = bitWidthOf(maxLevel);
      for (const count of [1, 5, 8, 9, 16, 100, 1001, 4099]) {
        for (const levels of [Uint8Array.from(mixed(count, bitWidth, count * 31 + maxLevel)), new Uint8Array(count).fill(maxLevel)]) {
          const bytes = encodeLevels(levels, count, maxLevel);
          expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true)).toBe(bytes.length - 4);
          const expected = Array.from(levels);
          expect(hyparquetDecode(bytes.subarray(4), bitWidth, count), `max ${maxLevel} count ${count}`).toEqual(expected);
          expect(parquetjsDecodeAll(bytes.subarray(4), bitWidth, count)).toEqual(expected);
        }
      }
    }
    // All equal: a single RLE run (header varint(2 × 4099) = 2 bytes, then one value byte).
    expect(encodeLevels(new Uint8Array(4099).fill(1), 4099, 1).length).toBe(4 + 3);
    expect(encodeLevels(new Uint8Array(0), 0, 1)).toEqual(new Uint8Array(4));
  });

  it('encodeRepeatedLevel writes what encodeLevels writes for levels that are all equal, without levels', () => {
    for (const maxLevel of [1, 2, 3, 200]) {
      for (const level of new Set([0, 1, maxLevel])) {
        for (const count of [0, 1, 7, 8, 9, 100, 4099, 70_000, 1 << 21]) {
          const got = encodeRepeatedLevel(level, count, maxLevel);
          expect(got, `level ${level}/${maxLevel} × ${count}`).toEqual(encodeLevels(new Uint8Array(count).fill(level), count, maxLevel));
          if (count > 0 && maxLevel < 4) expect(hyparquetDecode(got.subarray(4), bitWidthOf(maxLevel), count).every((v) => v === level)).toBe(true);
        }
      }
    }
    expect(() => encodeRepeatedLevel(2, 10, 1)).toThrow(RangeError);
  });

  it('uses one bit for max level 1', () => {
    const levels = new Uint8Array(64);
    for (let i = 0; i < 64; i++) levels[i] = (i * 5) % 3 === 0 ? 0 : 1;
    const bytes = encodeLevels(levels, 64, 1);
    expect(parquetjsDecode('INT32', { buffer: Buffer.from(bytes), offset: 0 }, 64, { bitWidth: 1 })).toEqual(Array.from(levels));
  });
});

describe('encodeDictionaryIds', () => {
  it('starts with the bit width byte', () => {
    const ids = mixed(500, 10, 7);
    const bytes = encodeDictionaryIds(ids, 500, 10);
    expect(bytes[0]).toBe(10);
    expect(hyparquetDecode(bytes.subarray(1), 10, 500)).toEqual(Array.from(ids));
  });

  it('writes a head (the page levels) first, then exactly the bytes it writes without one', () => {
    const ids = mixed(700, 13, 3);
    const bare = encodeDictionaryIds(ids, 700, 13);
    for (const head of [[], [Uint8Array.of(1, 2, 3)], [Uint8Array.of(9, 8, 7, 6), Uint8Array.of(5)]]) {
      const at = head.reduce((n, h) => n + h.length, 0);
      const bytes = encodeDictionaryIds(ids, 700, 13, head);
      expect(Array.from(bytes.subarray(0, at))).toEqual(head.flatMap((h) => Array.from(h)));
      expect(Array.from(bytes.subarray(at))).toEqual(Array.from(bare));
    }
  });

  it('writes into a caller\'s dirty buffer exactly the bytes it returns otherwise, as a view of that buffer', () => {
    const ids = mixed(700, 13, 5);
    const head = [Uint8Array.of(1, 2, 3)];
    const buffer = new Uint8Array(8192).fill(0xa5);
    const bytes = encodeDictionaryIds(ids, 700, 13, head, (n) => buffer.subarray(0, n));
    expect(bytes.buffer).toBe(buffer.buffer);
    expect(Array.from(bytes)).toEqual(Array.from(encodeDictionaryIds(ids, 700, 13, head)));
  });
});
