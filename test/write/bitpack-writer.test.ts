/**
 * MSB-first bit packing (§9.1): the spec's vectors, a seeded round trip through `unpackBitsAt` for every
 * width 1–32 at every bit alignment, neighbouring bits left alone, bad input, and a throughput floor.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes } from '../../src/errors.js';
import { unpackBitsAt } from '../../src/sources/pinot/bitpack.js';
import { packBits, packBitsInto, setBit } from '../../src/sources/pinot/write/bitpack-writer.js';
import { SEED, randInt, rng, toHex } from './fixture-segments.js';

describe('spec vectors', () => {
  it('§9.1: 7,6,8,9,1,5,0,3,2,4 at 4 bits → 76 89 15 03 24', () => {
    expect(toHex(packBits(Int32Array.of(7, 6, 8, 9, 1, 5, 0, 3, 2, 4), 4))).toBe('7689150324');
  });

  it('§9.3: 18498 at 15 bits starts 90 85 (100100001000010 + padding)', () => {
    expect(toHex(packBits(Int32Array.of(18498), 15))).toBe('9084');
    expect(toHex(packBits(Int32Array.of(18498, 0x7fff), 15).subarray(0, 2))).toBe('9085');
  });

  it('widths 8, 16, 24 and 32 are plain BE bytes; trailing bits of the last byte are 0', () => {
    expect(toHex(packBits(Int32Array.of(1, 255), 8))).toBe('01ff');
    expect(toHex(packBits(Int32Array.of(0x1234, 0xffff), 16))).toBe('1234ffff');
    expect(toHex(packBits(Int32Array.of(0x123456), 24))).toBe('123456');
    expect(toHex(packBits(Uint32Array.of(0xdeadbeef, 1), 32))).toBe('deadbeef00000001');
    expect(toHex(packBits(Int32Array.of(-1), 32))).toBe('ffffffff');
    expect(toHex(packBits(Int32Array.of(1, 1, 1), 1))).toBe('e0');
    expect(packBits(new Int32Array(0), 7).length).toBe(0);
  });

  it('setBit sets MSB-first bits', () => {
    const b = new Uint8Array(2);
    setBit(b, 0);
    setBit(b, 9);
    expect(toHex(b)).toBe('8040');
  });
});

describe(`round trip through unpackBitsAt (seed ${SEED})`, () => {
  it('every width 1…32, random counts and bit offsets; surrounding bits are kept', () => {
    const r = rng(SEED);
    for (let bits = 1; bits <= 32; bits++) {
      for (let iter = 0; iter < 12; iter++) {
        const count = iter === 0 ? 0 : randInt(r, 1, iter < 6 ? 20 : 2000);
        const values = Uint32Array.from({ length: count }, () => Math.floor(r() * 2 ** bits));
        const bitOffset = randInt(r, 0, 40);
        const size = Math.ceil((bitOffset + count * bits) / 8) + 2;
        // Background of ones outside the written range proves the packer leaves neighbours alone.
        const out = new Uint8Array(size).fill(0xff);
        for (let b = bitOffset; b < bitOffset + count * bits; b++) out[b >> 3]! &= ~(0x80 >> (b & 7));
        packBitsInto(out, bitOffset, values, bits);
        const back = new Int32Array(count);
        unpackBitsAt(out, bitOffset, count, bits, back);
        expect(Array.from(new Uint32Array(back.buffer)), `bits ${bits} offset ${bitOffset} count ${count}`).toEqual(Array.from(values));
        for (let b = 0; b < size * 8; b++) {
          if (b >= bitOffset && b < bitOffset + count * bits) continue;
          if (((out[b >> 3]! >> (7 - (b & 7))) & 1) !== 1) throw new Error(`bits ${bits}: neighbour bit ${b} cleared`);
        }
      }
    }
  });

  it('packs a sub-range of the input (start, count)', () => {
    const out = new Uint8Array(2);
    packBitsInto(out, 3, Int32Array.of(9, 1, 2, 3, 9), 3, 1, 3);
    expect(toHex(out)).toBe(toHex(Uint8Array.of(0b00000101, 0b00110000)));
  });
});

describe('bad input', () => {
  it('rejects a value ≥ 2^bits, a negative value below width 32, and bad widths', () => {
    const usage = (fn: () => unknown, msg: RegExp) => {
      expect(fn).toThrow(ConfigError);
      try { fn(); } catch (err) {
        expect((err as ConfigError).code).toBe(ErrorCodes.USAGE);
        expect((err as Error).message).toMatch(msg);
      }
    };
    usage(() => packBits(Int32Array.of(3, 8), 3), /value 8 at index 1 does not fit in 3 bits \(must be 0 … 7\)/);
    usage(() => packBits(Int32Array.of(-1), 31), /value -1 at index 0 does not fit in 31 bits/);
    usage(() => packBits(Uint32Array.of(2 ** 26), 26), /does not fit in 26 bits/);
    usage(() => packBits(Int32Array.of(1), 33), /bit width 33/);
    expect(() => packBitsInto(new Uint8Array(1), 0, Int32Array.of(1, 2), 5)).toThrow(RangeError);
  });
});

describe('throughput', () => {
  it('packs 4 M values of 17 and 29 bits without per-bit work', () => {
    const values = Int32Array.from({ length: 4_000_000 }, (_, i) => (i * 2654435761) & 0x1ffff);
    const t0 = performance.now();
    const a = packBits(values, 17);
    const b = packBits(values, 29);
    const ms = performance.now() - t0;
    expect(a.length).toBe(8_500_000);
    expect(b.length).toBe(14_500_000);
    console.log(`[bitpack] 8 M values packed in ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(3000);
  });
});
