/**
 * Parquet's RLE/bit-packing hybrid encoder (repetition/definition levels, dictionary ids). The hottest loop of
 * the direct writer, so it works on typed arrays in one pass over the whole input:
 * - runs of ≥ 8 equal values starting at a group boundary become RLE runs (header `count << 1`, then the value
 *   in ceil(bitWidth / 8) little-endian bytes);
 * - everything else goes into bit-packed runs of whole 8-value groups (header `(groups << 1) | 1` as a varint,
 *   then `bitWidth` bytes per group, LSB first). Only the very last group of the output may be padded (with 0).
 * A bit-packed run must stay a multiple of 8 values, so a long run that starts inside a group joins RLE at the
 * next group boundary.
 */
import { bytesLength, copyChunks } from '../concat-bytes.js';
import type { OutputOf } from './plain.js';

type Values = Int32Array | Uint8Array | Uint16Array;

/** Bits needed to store 0..max (0 when max is 0). */
export function bitWidthOf(max: number): number {
  return max <= 0 ? 0 : 32 - Math.clz32(max);
}

/** Runs of this many equal values become RLE runs (arrow-rs and parquet-mr use 8 too). */
const MIN_RLE_RUN = 8;

/**
 * One scratch buffer reused by every call (encoding is synchronous); results are copied out of it. Grown on
 * demand; a very large one is not kept so one huge page does not pin its memory.
 */
let scratch = new Uint8Array(1 << 16);
const KEEP_SCRATCH_MAX = 1 << 26;

function scratchOf(size: number): Uint8Array {
  if (size <= scratch.length) return scratch;
  const buf = new Uint8Array(Math.max(size, scratch.length * 2));
  if (buf.length <= KEEP_SCRATCH_MAX) scratch = buf;
  return buf;
}

/** Upper bound of the hybrid's size: every 8 values cost at most a group and a varint header (≤ 5 bytes). */
function maxHybridSize(count: number, bitWidth: number): number {
  return Math.ceil(count / 8) * (bitWidth + 6) + 16;
}

function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[pos++] = n;
  return pos;
}

function checkArgs(values: Values, count: number, bitWidth: number): void {
  if (!Number.isInteger(bitWidth) || bitWidth < 0 || bitWidth > 32) throw new RangeError(`bit width ${bitWidth} is not in 0..32`);
  if (!Number.isInteger(count) || count < 0 || count > values.length || count >= 2 ** 30) {
    throw new RangeError(`count ${count} is outside the ${values.length} values given`);
  }
}

/**
 * Writes the hybrid of values[0, count) into `out` from `pos`; returns the end position. `out` must hold
 * maxHybridSize(count, bitWidth) bytes from `pos`.
 */
function hybridInto(values: Values, count: number, bitWidth: number, out: Uint8Array, pos: number): number {
  if (count === 0) return pos;
  const valueBytes = (bitWidth + 7) >>> 3;
  if (bitWidth === 0) {
    // Every value is 0: one RLE run with a zero-byte value.
    return writeVarint(out, pos, count * 2);
  }
  let i = 0;
  let literalStart = 0; // pending bit-packed values are [literalStart, i); always a multiple of 8
  while (i < count) {
    const v = values[i]!;
    // Length of the run of v starting at i.
    let j = i + 1;
    while (j < count && values[j] === v) j++;
    if (j - i >= MIN_RLE_RUN) {
      if (literalStart < i) pos = bitPacked(values, literalStart, i, count, bitWidth, out, pos);
      // writeVarint's bit operations hold run lengths < 2^30; pages are far smaller.
      pos = writeVarint(out, pos, (j - i) * 2);
      let value = v >>> 0;
      for (let b = 0; b < valueBytes; b++) {
        out[pos++] = value & 0xff;
        value >>>= 8;
      }
      i = j;
      literalStart = i;
    } else {
      // Not a long run here: this 8-value group is bit-packed. (j - i < 8, so the scan cost stays linear.)
      i += 8;
    }
  }
  if (literalStart < count) pos = bitPacked(values, literalStart, Math.min(i, count), count, bitWidth, out, pos);
  return pos;
}

/** A bit-packed run of values[from, to) (to - from a multiple of 8, or the input's end padded with zeros). */
function bitPacked(values: Values, from: number, to: number, count: number, bitWidth: number, out: Uint8Array, pos: number): number {
  const groups = Math.ceil((to - from) / 8);
  pos = writeVarint(out, pos, groups * 2 + 1);
  const end = from + groups * 8;
  if (end > count) {
    // Only the output's last group is partial: pack it from a zero-padded copy.
    const full = from + (groups - 1) * 8;
    pos = packGroups(values, from, full, bitWidth, out, pos);
    const tail = new Int32Array(8);
    for (let k = full; k < count; k++) tail[k - full] = values[k]!;
    return packGroups(tail, 0, 8, bitWidth, out, pos);
  }
  return packGroups(values, from, end, bitWidth, out, pos);
}

/** Packs values[from, to) (a multiple of 8) LSB first; each group of 8 takes exactly bitWidth bytes. */
function packGroups(values: Values, from: number, to: number, bitWidth: number, out: Uint8Array, pos: number): number {
  switch (bitWidth) {
    case 1:
      for (let i = from; i < to; i += 8) {
        out[pos++] = values[i]! | (values[i + 1]! << 1) | (values[i + 2]! << 2) | (values[i + 3]! << 3)
          | (values[i + 4]! << 4) | (values[i + 5]! << 5) | (values[i + 6]! << 6) | (values[i + 7]! << 7);
      }
      return pos;
    case 2:
      for (let i = from; i < to; i += 8) {
        out[pos++] = values[i]! | (values[i + 1]! << 2) | (values[i + 2]! << 4) | (values[i + 3]! << 6);
        out[pos++] = values[i + 4]! | (values[i + 5]! << 2) | (values[i + 6]! << 4) | (values[i + 7]! << 6);
      }
      return pos;
    case 4:
      for (let i = from; i < to; i += 2) out[pos++] = values[i]! | (values[i + 1]! << 4);
      return pos;
    case 8:
      for (let i = from; i < to; i++) out[pos++] = values[i]!;
      return pos;
    case 16:
      for (let i = from; i < to; i++) {
        const v = values[i]!;
        out[pos++] = v;
        out[pos++] = v >>> 8;
      }
      return pos;
  }
  return packerFor(bitWidth)(values, from, to, out, pos);
}

type Packer = (values: Values, from: number, to: number, out: Uint8Array, pos: number) => number;

const packers: Array<Packer | undefined> = [];

/**
 * A packer for one bit width, generated once as straight-line code: per group of 8 values, each of the
 * `bitWidth` output bytes is the OR of the shifted values overlapping it (a Uint8Array store keeps the low 8
 * bits; `>>>` reads an Int32Array id ≥ 2^31 as unsigned). 2–3× faster than a loop that accumulates bits
 * and tests after each value how many bytes are ready (bench/rle.ts; widths 17–24 are the ids of big
 * dictionaries). The source is built from integers only.
 */
function packerFor(bitWidth: number): Packer {
  const known = packers[bitWidth];
  if (known !== undefined) return known;
  const lines: string[] = [];
  for (let k = 0; k < 8; k++) lines.push(`const v${k} = values[i + ${k}];`);
  for (let b = 0; b < bitWidth; b++) {
    const parts: string[] = [];
    for (let k = 0; k < 8; k++) {
      const shift = 8 * b - k * bitWidth; // value k holds bits [k·w, (k+1)·w) of the group
      if (shift >= bitWidth || shift <= -8) continue;
      parts.push(shift > 0 ? `(v${k} >>> ${shift})` : shift < 0 ? `(v${k} << ${-shift})` : `v${k}`);
    }
    lines.push(`out[pos + ${b}] = ${parts.join(' | ')};`);
  }
  const packer = new Function('values', 'from', 'to', 'out', 'pos',
    `for (let i = from; i < to; i += 8) {\n${lines.join('\n')}\npos += ${bitWidth};\n}\nreturn pos;`) as Packer;
  packers[bitWidth] = packer;
  return packer;
}

/** RLE/bit-packing hybrid of values[0, count) (each < 2^bitWidth), no length prefix. */
export function encodeHybrid(values: Int32Array | Uint8Array | Uint16Array, count: number, bitWidth: number): Uint8Array {
  checkArgs(values, count, bitWidth);
  const out = scratchOf(maxHybridSize(count, bitWidth));
  const end = hybridInto(values, count, bitWidth, out, 0);
  return out.slice(0, end);
}

/**
 * hybridInto specialised for Uint8Array levels of bit width 1 or 2 (flat and LIST columns). V8 optimises typed
 * array access per call site: sharing hybridInto between Uint8Array levels and Int32Array ids made both 2-3×
 * slower (bench/rle.ts), hence this monomorphic copy of its loop.
 */
function levelsInto(levels: Uint8Array, count: number, bitWidth: 1 | 2, out: Uint8Array, pos: number): number {
  let i = 0;
  let literalStart = 0;
  while (i < count) {
    const v = levels[i]!;
    let j = i + 1;
    while (j < count && levels[j] === v) j++;
    if (j - i >= MIN_RLE_RUN) {
      if (literalStart < i) pos = levelsBitPacked(levels, literalStart, i, count, bitWidth, out, pos);
      pos = writeVarint(out, pos, (j - i) * 2);
      out[pos++] = v;
      i = j;
      literalStart = i;
    } else i += 8;
  }
  if (literalStart < count) pos = levelsBitPacked(levels, literalStart, Math.min(i, count), count, bitWidth, out, pos);
  return pos;
}

function levelsBitPacked(levels: Uint8Array, from: number, to: number, count: number, bitWidth: 1 | 2, out: Uint8Array, pos: number): number {
  const groups = Math.ceil((to - from) / 8);
  pos = writeVarint(out, pos, groups * 2 + 1);
  let src = levels;
  const end = from + groups * 8;
  if (end > count) {
    // The output's last group is partial: pack from a zero-padded copy.
    src = new Uint8Array(end - from);
    src.set(levels.subarray(from, count));
    from = 0;
  }
  const stop = from + groups * 8;
  if (bitWidth === 1) {
    for (let i = from; i < stop; i += 8) {
      out[pos++] = src[i]! | (src[i + 1]! << 1) | (src[i + 2]! << 2) | (src[i + 3]! << 3)
        | (src[i + 4]! << 4) | (src[i + 5]! << 5) | (src[i + 6]! << 6) | (src[i + 7]! << 7);
    }
  } else {
    for (let i = from; i < stop; i += 4) out[pos++] = src[i]! | (src[i + 1]! << 2) | (src[i + 2]! << 4) | (src[i + 3]! << 6);
  }
  return pos;
}

/** Repetition/definition levels as data page v1 stores them: 4-byte little-endian length, then the hybrid. */
export function encodeLevels(levels: Uint8Array, count: number, maxLevel: number): Uint8Array {
  const bitWidth = bitWidthOf(maxLevel);
  checkArgs(levels, count, bitWidth);
  const out = scratchOf(maxHybridSize(count, bitWidth) + 4);
  const end = count > 0 && (bitWidth === 1 || bitWidth === 2)
    ? levelsInto(levels, count, bitWidth, out, 4)
    : hybridInto(levels, count, bitWidth, out, 4);
  return withLengthPrefix(out, end);
}

/** out[4, end) prefixed with its length (4 bytes, little-endian, in out[0, 4)), copied out. */
function withLengthPrefix(out: Uint8Array, end: number): Uint8Array {
  const n = end - 4;
  out[0] = n;
  out[1] = n >>> 8;
  out[2] = n >>> 16;
  out[3] = n >>> 24;
  return out.slice(0, end);
}

/**
 * encodeLevels of `count` levels that all equal `level` (a column without nulls): what the scan would find,
 * one RLE run — or, below MIN_RLE_RUN levels, the scan's bit-packed group — without reading any level.
 */
export function encodeRepeatedLevel(level: number, count: number, maxLevel: number): Uint8Array {
  if (!Number.isInteger(level) || level < 0 || level > maxLevel) throw new RangeError(`level ${level} is not in 0..${maxLevel}`);
  if (count < MIN_RLE_RUN || level === 0) return encodeLevels(new Uint8Array(count).fill(level), count, maxLevel);
  const bitWidth = bitWidthOf(maxLevel);
  const out = new Uint8Array(4 + 5 + 4);
  let end = writeVarint(out, 4, count * 2);
  for (let b = 0, v = level; b < (bitWidth + 7) >>> 3; b++, v >>>= 8) out[end++] = v & 0xff;
  return withLengthPrefix(out, end);
}

/**
 * RLE_DICTIONARY data page values: one byte bit width, then the hybrid of ids[0, count). `head` (the page's
 * encoded levels) is written first, so the page body comes out of one copy, not a copy and a concatenation.
 * `output` (see plain.ts OutputOf): the body is written there and a view of it returned, not copied out of
 * this module's scratch.
 */
export function encodeDictionaryIds(ids: Int32Array, count: number, bitWidth: number, head?: readonly Uint8Array[], output?: OutputOf): Uint8Array {
  checkArgs(ids, count, bitWidth);
  const levels = head ?? [];
  const size = bytesLength(levels) + maxHybridSize(count, bitWidth) + 1;
  const out = output === undefined ? scratchOf(size) : output(size);
  const at = copyChunks(out, levels, 0);
  out[at] = bitWidth;
  const end = hybridInto(ids, count, bitWidth, out, at + 1);
  return output === undefined ? out.slice(0, end) : out.subarray(0, end);
}
