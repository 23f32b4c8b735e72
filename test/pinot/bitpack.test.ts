import { describe, expect, it } from 'vitest';
import { SegmentFormatError } from '../../src/errors.js';
import {
  bitsFor, countSetBits, findSetBits, nthSetBit, packedByteLength, unpackBits, unpackBitsAt,
} from '../../src/sources/pinot/bitpack.js';
import { rng } from '../support/random.js';

/** Reference packer, one bit at a time, MSB-first (§9.1); `startBit` leaves that many leading zero bits. */
function packReference(values: ArrayLike<number>, bits: number, startBit = 0): Uint8Array {
  const out = new Uint8Array(Math.ceil((startBit + values.length * bits) / 8));
  let pos = startBit;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    for (let b = bits - 1; b >= 0; b--) {
      if (Math.floor(v / 2 ** b) % 2 === 1) out[pos >> 3]! |= 0x80 >> (pos & 7);
      pos++;
    }
  }
  return out;
}


function randomValues(n: number, bits: number, seed: number): number[] {
  const r = rng(seed);
  // Include the extremes so the top and bottom bit of every width are exercised.
  const max = 2 ** bits - 1;
  return Array.from({ length: n }, (_, i) => (i === 3 ? max : i === 5 ? 0 : Math.floor(r() * 2 ** bits)));
}

/** What an Int32Array holds for an unsigned value (only differs at width 32). */
const asInt32 = (v: number): number => v | 0;

describe('bitsFor', () => {
  it('follows PinotDataBitSet.getNumBitsPerValue', () => {
    expect([0, 1, 2, 3, 4, 7, 8, 15, 16, 18498, 2 ** 31 - 1, 2 ** 32 - 1].map(bitsFor))
      .toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 15, 31, 32]);
  });
  it('rejects negative and fractional input', () => {
    expect(() => bitsFor(-1)).toThrow(RangeError);
    expect(() => bitsFor(1.5)).toThrow(RangeError);
  });
});

describe('unpackBits', () => {
  it('decodes the recipes `score` forward index (§9.1 worked example)', () => {
    const out = new Int32Array(10);
    unpackBits(Uint8Array.of(0x76, 0x89, 0x15, 0x03, 0x24), 0, 10, 4, out);
    expect(Array.from(out)).toEqual([7, 6, 8, 9, 1, 5, 0, 3, 2, 4]);
  });

  it('decodes the first 15-bit value of column6.mv.fwd (`90 85 …` → 18498)', () => {
    const out = new Int32Array(1);
    unpackBits(Uint8Array.of(0x90, 0x85, 0x00), 0, 1, 15, out);
    expect(out[0]).toBe(18498);
  });

  for (let bits = 1; bits <= 32; bits++) {
    it(`round-trips random values at width ${bits}, every start index and count`, () => {
      const values = randomValues(203, bits, bits * 7919);
      const packed = packReference(values, bits);
      expect(packed.length).toBe(packedByteLength(values.length, bits));
      // Whole array, then many (start, count) windows so every lane, group and tail position is hit.
      const all = new Int32Array(values.length);
      unpackBits(packed, 0, values.length, bits, all);
      expect(Array.from(all)).toEqual(values.map(asInt32));
      for (const start of [0, 1, 2, 3, 5, 7, 8, 9, 13, 64, 100, 190, 202]) {
        for (const count of [0, 1, 2, 7, 8, 9, 16, 17, 41]) {
          if (start + count > values.length) continue;
          const out = new Int32Array(count + 3).fill(-7);
          unpackBits(packed, start, count, bits, out, 2);
          expect(out[0]).toBe(-7);
          expect(out[1]).toBe(-7);
          expect(Array.from(out.subarray(2, 2 + count))).toEqual(values.slice(start, start + count).map(asInt32));
          expect(out[2 + count]).toBe(-7);
        }
      }
    });

    it(`decodes width ${bits} from bit offsets that are not byte- or value-aligned`, () => {
      const values = randomValues(77, bits, bits * 31 + 1);
      for (const startBit of [1, 3, 7, 9, 13]) {
        const packed = packReference(values, bits, startBit);
        const out = new Int32Array(values.length);
        unpackBitsAt(packed, startBit, values.length, bits, out);
        expect(Array.from(out)).toEqual(values.map(asInt32));
      }
    });
  }

  it('reads exactly the bytes it needs: a buffer ending on the last value works, one byte less is truncated', () => {
    for (const bits of [3, 9, 17, 25, 26, 31]) {
      const values = randomValues(64, bits, bits);
      const packed = packReference(values, bits);
      const out = new Int32Array(64);
      unpackBits(packed, 0, 64, bits, out);
      expect(Array.from(out)).toEqual(values);
      const err = (() => {
        try {
          unpackBits(packed.subarray(0, packed.length - 1), 0, 64, bits, out);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(SegmentFormatError);
      expect((err as SegmentFormatError).code).toBe('PINOT_TRUNCATED');
    }
  });

  it('documents width 32: values ≥ 2^31 come out as negative int32', () => {
    const out = new Int32Array(2);
    unpackBits(Uint8Array.of(0xff, 0xff, 0xff, 0xfe, 0x80, 0, 0, 1), 0, 2, 32, out);
    expect(Array.from(out)).toEqual([-2, -2147483647]);
  });

  it('rejects bad widths and an output that is too small', () => {
    const out = new Int32Array(4);
    expect(() => unpackBits(new Uint8Array(8), 0, 1, 0, out)).toThrow(RangeError);
    expect(() => unpackBits(new Uint8Array(8), 0, 1, 33, out)).toThrow(RangeError);
    expect(() => unpackBits(new Uint8Array(8), 0, 5, 8, out)).toThrow(RangeError);
    expect(() => unpackBits(new Uint8Array(8), 0, -1, 8, out)).toThrow(RangeError);
    expect(() => unpackBitsAt(new Uint8Array(8), 0.5, 1, 8, out)).toThrow(RangeError);
  });
});

describe('bitmap helpers', () => {
  // Bits set: 0, 1, 9, 15, 16..23, 30
  const bitmap = Uint8Array.of(0b1100_0000, 0b0100_0001, 0xff, 0b0000_0010);
  const set = [0, 1, 9, 15, 16, 17, 18, 19, 20, 21, 22, 23, 30];

  it('countSetBits counts any sub-range', () => {
    for (let from = 0; from <= 32; from++) {
      for (let end = from; end <= 32; end++) {
        expect(countSetBits(bitmap, from, end)).toBe(set.filter((b) => b >= from && b < end).length);
      }
    }
  });

  it('nthSetBit finds the n-th set bit or -1', () => {
    for (let from = 0; from < 32; from++) {
      const after = set.filter((b) => b >= from && b < 31);
      for (let n = 0; n <= after.length; n++) expect(nthSetBit(bitmap, from, 31, n)).toBe(after[n] ?? -1);
    }
  });

  it('rejects ranges outside the bitmap and an output that is too small', () => {
    expect(() => countSetBits(bitmap, 0, 33)).toThrow(RangeError);
    expect(() => nthSetBit(bitmap, -1, 8, 0)).toThrow(RangeError);
    expect(() => findSetBits(bitmap, 0, 32, 5, new Int32Array(4))).toThrow(RangeError);
  });

  it('findSetBits lists positions (with bias) and stops at maxCount or endBit', () => {
    const out = new Int32Array(20);
    expect(findSetBits(bitmap, 0, 32, 20, out)).toBe(set.length);
    expect(Array.from(out.subarray(0, set.length))).toEqual(set);
    for (let from = 0; from < 32; from++) {
      for (const max of [1, 3, 8, 9, 20]) {
        const expected = set.filter((b) => b >= from && b < 30).slice(0, max);
        const got = new Int32Array(max + 1);
        expect(findSetBits(bitmap, from, 30, max, got, 1, -5)).toBe(expected.length);
        expect(Array.from(got.subarray(1, 1 + expected.length))).toEqual(expected.map((b) => b - 5));
      }
    }
  });
});
