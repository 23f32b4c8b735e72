/**
 * MSB-first fixed-bit packing (§9.1), the inverse of `../bitpack.ts`: value i of width b occupies bits
 * `[i·b, (i+1)·b)`, bit 0 being the most significant bit of byte 0, trailing bits of the last byte 0. This is
 * how Pinot's `PinotDataBitSet` / `FixedBitIntReaderWriter` lay down every dictionary-encoded forward index.
 *
 * The packer keeps a small bit accumulator and emits whole bytes: at most one shift-or per value and one store
 * per output byte (no per-bit loops). Widths above 24 are pushed as two halves so the accumulator never
 * exceeds 31 bits and stays in V8's fast small-integer arithmetic.
 */
import { ConfigError, ErrorCodes } from '../../../errors.js';

export { bitsFor, packedByteLength } from '../bitpack.js';

/** Anything whose elements are unsigned values below 2^bits (Int32Array values are read as uint32). */
export type PackableValues = Int32Array | Uint32Array;

function checkWidth(bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 32) {
    throw new ConfigError(ErrorCodes.USAGE, `bit width ${bits} is not in 1…32`);
  }
}

function tooWide(value: number, index: number, bits: number): ConfigError {
  return new ConfigError(ErrorCodes.USAGE, `value ${value} at index ${index} does not fit in ${bits} bits (must be 0 … ${2 ** bits - 1})`);
}

/** Packs `values` into a fresh, exactly sized buffer (`⌈count·bits/8⌉` bytes). */
export function packBits(values: PackableValues, bits: number): Uint8Array {
  checkWidth(bits);
  const out = new Uint8Array(Math.ceil((values.length * bits) / 8));
  packBitsInto(out, 0, values, bits);
  return out;
}

/**
 * Writes `count` values starting at `values[start]` into `out`, the first at bit `bitOffset` (any bit, not
 * only a multiple of `bits`). Bits of `out` outside the written range are kept; the written range must be
 * zero beforehand (a fresh buffer is). Throws USAGE for a value ≥ 2^bits (for Int32Array input: any negative
 * value when bits < 32) and RangeError when `out` is too small.
 */
export function packBitsInto(
  out: Uint8Array, bitOffset: number, values: PackableValues, bits: number, start = 0, count = values.length - start,
): void {
  checkWidth(bits);
  if (!Number.isSafeInteger(bitOffset) || bitOffset < 0 || !Number.isSafeInteger(start) || start < 0
    || !Number.isSafeInteger(count) || count < 0 || start + count > values.length) {
    throw new RangeError(`cannot pack ${count} values from index ${start} of ${values.length} at bit ${bitOffset}`);
  }
  const endByte = Math.ceil((bitOffset + count * bits) / 8);
  if (endByte > out.length) {
    throw new RangeError(`${count} values of ${bits} bits at bit ${bitOffset} need ${endByte} bytes, output has ${out.length}`);
  }
  if (count === 0) return;
  let p = Math.floor(bitOffset / 8);
  let n = bitOffset % 8; // bits pending in `acc` (always < 8 between values)
  let acc = n === 0 ? 0 : out[p]! >>> (8 - n);
  const end = start + count;
  if (bits <= 24) {
    for (let i = start; i < end; i++) {
      const v = values[i]!;
      if (v >>> bits !== 0 || v < 0) throw tooWide(v, i, bits);
      acc = (acc << bits) | v;
      n += bits;
      while (n >= 8) {
        n -= 8;
        out[p++] = acc >>> n;
      }
      acc &= (1 << n) - 1;
    }
  } else {
    const hiBits = bits - 16;
    for (let i = start; i < end; i++) {
      const v = values[i]!;
      const u = v >>> 0;
      if (bits < 32 && (u >>> bits !== 0)) throw tooWide(v, i, bits);
      acc = (acc << hiBits) | (u >>> 16);
      n += hiBits;
      while (n >= 8) {
        n -= 8;
        out[p++] = acc >>> n;
      }
      acc = ((acc & ((1 << n) - 1)) << 16) | (u & 0xffff);
      n += 16;
      while (n >= 8) {
        n -= 8;
        out[p++] = acc >>> n;
      }
      acc &= (1 << n) - 1;
    }
  }
  if (n > 0) out[p] = ((acc << (8 - n)) & 0xff) | (out[p]! & (0xff >>> n));
}

/** Sets bit `bit` (MSB-first) of `out`: the row-start bitmap of the fixed-bit MV index (§9.3). */
export function setBit(out: Uint8Array, bit: number): void {
  const i = Math.floor(bit / 8);
  out[i] = out[i]! | (0x80 >>> (bit % 8));
}
