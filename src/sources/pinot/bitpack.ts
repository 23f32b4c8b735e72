/**
 * MSB-first fixed-bit packing (§9.1): value i of width b occupies bits `[i·b, (i+1)·b)`, bit 0 being the most
 * significant bit of byte 0. Used by every dictionary-encoded forward index, so this is the exporter's hot
 * path: values are read through 32-bit big-endian windows, eight at a time (eight values of b bits are exactly
 * b bytes, so each of the eight lanes sits at a fixed byte and shift inside its group).
 */
import { ErrorCodes, SegmentFormatError } from '../../errors.js';

/** Set bits of a 32-bit word (SWAR). */
export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * Positions of the set bits of an LSB-first bitset of 32-bit words, ascending, into `out` (which must hold
 * them all). Word w is `bits[w * stride]`: stride 2 leaves room for a per-word rank beside each word.
 */
export function setBitPositions(bits: Int32Array, wordCount: number, stride: number, out: Int32Array): void {
  for (let w = 0, k = 0; w < wordCount; w++) {
    let word = bits[w * stride]!;
    while (word !== 0) {
      const low = word & -word;
      out[k++] = (w << 5) + 31 - Math.clz32(low);
      word ^= low;
    }
  }
}

/**
 * Bits Pinot uses to store numbers `0 … maxValue` (`PinotDataBitSet.getNumBitsPerValue`): 1 for 0 and 1,
 * else the bit length. Dict ids use `bitsFor(cardinality − 1)`; MV_ENTRY_DICT offsets use `bitsFor(V)`.
 */
export function bitsFor(maxValue: number): number {
  if (!Number.isInteger(maxValue) || maxValue < 0 || maxValue > 0xffffffff) {
    throw new RangeError(`bitsFor: ${maxValue} is not a 32-bit unsigned integer`);
  }
  return maxValue <= 1 ? 1 : 32 - Math.clz32(maxValue);
}

/** Bytes holding `count` values of `bits` bits, starting on a byte boundary (trailing bits are padding). */
export function packedByteLength(count: number, bits: number): number {
  return Math.ceil((count * bits) / 8);
}

/**
 * Unpacks values `firstValueIndex … firstValueIndex+count-1` of a packed array into `out[outOffset …]`.
 * Widths 1–32 are accepted (Pinot writes ≤ 31). At width 32 a value ≥ 2^31 cannot be held by an Int32Array
 * and comes out as its two's-complement (negative) int32; dict-id readers reject it as out of range.
 */
export function unpackBits(
  bytes: Uint8Array, firstValueIndex: number, count: number, bits: number, out: Int32Array, outOffset = 0,
): void {
  unpackBitsAt(bytes, firstValueIndex * bits, count, bits, out, outOffset);
}

/**
 * Like `unpackBits`, but the first value starts at bit `bitOffset` of `bytes`, which need not be a multiple of
 * `bits`: readers slice the bytes a doc range needs and pass the bit offset of the first value in that slice.
 */
export function unpackBitsAt(
  bytes: Uint8Array, bitOffset: number, count: number, bits: number, out: Int32Array, outOffset = 0,
): void {
  checkArgs(bytes, bitOffset, count, bits, out, outOffset);
  if (count === 0) return;
  // Groups whose last 4-byte (or 5-byte) window still lies inside `bytes`; the rest go value by value.
  const groups = Math.floor(count / 8);
  const firstByte = Math.floor(bitOffset / 8);
  const off = bitOffset % 8;
  const windowEnd = (((off + 7 * bits) >>> 3) + (bits <= 25 ? 4 : 5));
  const safeGroups = Math.max(0, Math.min(groups, Math.floor((bytes.length - firstByte - windowEnd) / bits) + 1));
  if (safeGroups > 0) {
    if (bits <= 25) unpackGroups4(bytes, firstByte, off, safeGroups, bits, out, outOffset);
    else unpackGroups5(bytes, firstByte, off, safeGroups, bits, out, outOffset);
  }
  const done = safeGroups * 8;
  unpackTail(bytes, bitOffset + done * bits, count - done, bits, out, outOffset + done);
}

function checkArgs(bytes: Uint8Array, bitOffset: number, count: number, bits: number, out: Int32Array,
  outOffset: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 32) throw new RangeError(`bit width ${bits} is not in 1…32`);
  if (!Number.isSafeInteger(bitOffset) || bitOffset < 0 || !Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`invalid bit offset ${bitOffset} or count ${count}`);
  }
  if (!Number.isSafeInteger(outOffset) || outOffset < 0 || outOffset + count > out.length) {
    throw new RangeError(`output of ${out.length} values cannot take ${count} values at ${outOffset}`);
  }
  const needed = Math.ceil((bitOffset + count * bits) / 8);
  if (needed > bytes.length) {
    throw new SegmentFormatError(
      ErrorCodes.PINOT_TRUNCATED,
      `${count} values of ${bits} bits at bit ${bitOffset} need ${needed} bytes, only ${bytes.length} present`,
      { context: { offset: bytes.length } },
    );
  }
}

/** Widths ≤ 25: any value lies inside the 4 bytes starting at its first byte. */
function unpackGroups4(b: Uint8Array, firstByte: number, off: number, groups: number, bits: number,
  out: Int32Array, o: number): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const mask = (2 ** bits - 1) | 0;
  const q0 = off >>> 3, s0 = 32 - (off & 7) - bits;
  const q1 = (off + bits) >>> 3, s1 = 32 - ((off + bits) & 7) - bits;
  const q2 = (off + 2 * bits) >>> 3, s2 = 32 - ((off + 2 * bits) & 7) - bits;
  const q3 = (off + 3 * bits) >>> 3, s3 = 32 - ((off + 3 * bits) & 7) - bits;
  const q4 = (off + 4 * bits) >>> 3, s4 = 32 - ((off + 4 * bits) & 7) - bits;
  const q5 = (off + 5 * bits) >>> 3, s5 = 32 - ((off + 5 * bits) & 7) - bits;
  const q6 = (off + 6 * bits) >>> 3, s6 = 32 - ((off + 6 * bits) & 7) - bits;
  const q7 = (off + 7 * bits) >>> 3, s7 = 32 - ((off + 7 * bits) & 7) - bits;
  let p = firstByte;
  for (let g = 0; g < groups; g++) {
    out[o] = (dv.getUint32(p + q0) >>> s0) & mask;
    out[o + 1] = (dv.getUint32(p + q1) >>> s1) & mask;
    out[o + 2] = (dv.getUint32(p + q2) >>> s2) & mask;
    out[o + 3] = (dv.getUint32(p + q3) >>> s3) & mask;
    out[o + 4] = (dv.getUint32(p + q4) >>> s4) & mask;
    out[o + 5] = (dv.getUint32(p + q5) >>> s5) & mask;
    out[o + 6] = (dv.getUint32(p + q6) >>> s6) & mask;
    out[o + 7] = (dv.getUint32(p + q7) >>> s7) & mask;
    p += bits;
    o += 8;
  }
}

/** Widths 26–32: a value may touch a fifth byte, whose high bits complete the 32-bit window. */
function unpackGroups5(b: Uint8Array, firstByte: number, off: number, groups: number, bits: number,
  out: Int32Array, o: number): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const sh = 32 - bits;
  const q0 = off >>> 3, l0 = off & 7, r0 = 8 - l0;
  const q1 = (off + bits) >>> 3, l1 = (off + bits) & 7, r1 = 8 - l1;
  const q2 = (off + 2 * bits) >>> 3, l2 = (off + 2 * bits) & 7, r2 = 8 - l2;
  const q3 = (off + 3 * bits) >>> 3, l3 = (off + 3 * bits) & 7, r3 = 8 - l3;
  const q4 = (off + 4 * bits) >>> 3, l4 = (off + 4 * bits) & 7, r4 = 8 - l4;
  const q5 = (off + 5 * bits) >>> 3, l5 = (off + 5 * bits) & 7, r5 = 8 - l5;
  const q6 = (off + 6 * bits) >>> 3, l6 = (off + 6 * bits) & 7, r6 = 8 - l6;
  const q7 = (off + 7 * bits) >>> 3, l7 = (off + 7 * bits) & 7, r7 = 8 - l7;
  let p = firstByte;
  for (let g = 0; g < groups; g++) {
    // `x >>> 8` is 0, so a lane starting on a byte boundary ignores its fifth byte.
    out[o] = ((dv.getUint32(p + q0) << l0) | (b[p + q0 + 4]! >>> r0)) >>> sh;
    out[o + 1] = ((dv.getUint32(p + q1) << l1) | (b[p + q1 + 4]! >>> r1)) >>> sh;
    out[o + 2] = ((dv.getUint32(p + q2) << l2) | (b[p + q2 + 4]! >>> r2)) >>> sh;
    out[o + 3] = ((dv.getUint32(p + q3) << l3) | (b[p + q3 + 4]! >>> r3)) >>> sh;
    out[o + 4] = ((dv.getUint32(p + q4) << l4) | (b[p + q4 + 4]! >>> r4)) >>> sh;
    out[o + 5] = ((dv.getUint32(p + q5) << l5) | (b[p + q5 + 4]! >>> r5)) >>> sh;
    out[o + 6] = ((dv.getUint32(p + q6) << l6) | (b[p + q6 + 4]! >>> r6)) >>> sh;
    out[o + 7] = ((dv.getUint32(p + q7) << l7) | (b[p + q7 + 4]! >>> r7)) >>> sh;
    p += bits;
    o += 8;
  }
}

/** The last few values, near the end of `bytes`: bytes past the end read as 0 (they are never needed). */
function unpackTail(b: Uint8Array, bitOffset: number, count: number, bits: number, out: Int32Array, o: number): void {
  const len = b.length;
  let p = Math.floor(bitOffset / 8);
  let off = bitOffset % 8;
  const sh = 32 - bits;
  for (let k = 0; k < count; k++) {
    const w = ((b[p] ?? 0) << 24) | ((p + 1 < len ? b[p + 1]! : 0) << 16) | ((p + 2 < len ? b[p + 2]! : 0) << 8)
      | (p + 3 < len ? b[p + 3]! : 0);
    const fifth = p + 4 < len ? b[p + 4]! : 0;
    out[o + k] = ((w << off) | (fifth >>> (8 - off))) >>> sh;
    off += bits;
    p += off >>> 3;
    off &= 7;
  }
}

// ---- MSB-first bitmaps (row-start bitmap of the fixed-bit MV forward index, §9.3) ----

const POPCOUNT = (() => {
  const t = new Uint8Array(256);
  for (let i = 1; i < 256; i++) t[i] = (i & 1) + t[i >>> 1]!;
  return t;
})();

/** Byte `i` of the bitmap with the bits outside `[fromBit, endBit)` cleared. */
function maskedByte(bytes: Uint8Array, i: number, fromBit: number, endBit: number): number {
  let x = bytes[i]!;
  const first = i * 8;
  if (fromBit > first) x &= 0xff >>> (fromBit - first);
  if (endBit < first + 8) x &= (0xff << (first + 8 - endBit)) & 0xff;
  return x;
}

function checkBitRange(bytes: Uint8Array, fromBit: number, endBit: number): void {
  if (!Number.isSafeInteger(fromBit) || !Number.isSafeInteger(endBit) || fromBit < 0 || endBit > bytes.length * 8) {
    throw new RangeError(`bit range [${fromBit}, ${endBit}) is outside a bitmap of ${bytes.length} bytes`);
  }
}

/** Number of set bits in `[fromBit, endBit)`. */
export function countSetBits(bytes: Uint8Array, fromBit: number, endBit: number): number {
  checkBitRange(bytes, fromBit, endBit);
  if (fromBit >= endBit) return 0;
  const firstByte = Math.floor(fromBit / 8);
  const lastByte = Math.floor((endBit - 1) / 8);
  if (firstByte === lastByte) return POPCOUNT[maskedByte(bytes, firstByte, fromBit, endBit)]!;
  let n = POPCOUNT[maskedByte(bytes, firstByte, fromBit, endBit)]! + POPCOUNT[maskedByte(bytes, lastByte, fromBit, endBit)]!;
  for (let i = firstByte + 1; i < lastByte; i++) n += POPCOUNT[bytes[i]!]!;
  return n;
}

/** Position of the set bit that has `n` set bits before it in `[fromBit, endBit)`; -1 when there are ≤ n. */
export function nthSetBit(bytes: Uint8Array, fromBit: number, endBit: number, n: number): number {
  checkBitRange(bytes, fromBit, endBit);
  if (fromBit >= endBit) return -1;
  let remaining = n;
  const lastByte = Math.floor((endBit - 1) / 8);
  for (let i = Math.floor(fromBit / 8); i <= lastByte; i++) {
    let x = maskedByte(bytes, i, fromBit, endBit);
    const c = POPCOUNT[x]!;
    if (remaining >= c) {
      remaining -= c;
      continue;
    }
    for (; remaining > 0; remaining--) x ^= 0x80 >>> (Math.clz32(x) - 24);
    return i * 8 + Math.clz32(x) - 24;
  }
  return -1;
}

/**
 * Writes `position + bias` of up to `maxCount` set bits in `[fromBit, endBit)` into `out[outOffset …]`, in
 * ascending order, and returns how many it found.
 */
export function findSetBits(bytes: Uint8Array, fromBit: number, endBit: number, maxCount: number, out: Int32Array,
  outOffset = 0, bias = 0): number {
  checkBitRange(bytes, fromBit, endBit);
  if (fromBit >= endBit || maxCount <= 0) return 0;
  if (outOffset + maxCount > out.length) throw new RangeError(`output too small for ${maxCount} positions`);
  const lastByte = Math.floor((endBit - 1) / 8);
  let i = Math.floor(fromBit / 8);
  let o = outOffset;
  const stop = outOffset + maxCount;
  let x = maskedByte(bytes, i, fromBit, endBit);
  for (;;) {
    if (x !== 0) {
      const base = i * 8 + bias;
      if (x === 0xff && o + 8 <= stop) {
        // Mostly-single-value MV columns are runs of 0xFF: one doc per bit.
        out[o] = base; out[o + 1] = base + 1; out[o + 2] = base + 2; out[o + 3] = base + 3;
        out[o + 4] = base + 4; out[o + 5] = base + 5; out[o + 6] = base + 6; out[o + 7] = base + 7;
        o += 8;
        if (o === stop) return maxCount;
      } else {
        while (x !== 0) {
          const bit = Math.clz32(x) - 24;
          out[o++] = base + bit;
          if (o === stop) return maxCount;
          x ^= 0x80 >>> bit;
        }
      }
    }
    if (++i > lastByte) return o - outOffset;
    x = i === lastByte ? maskedByte(bytes, i, fromBit, endBit) : bytes[i]!;
  }
}
