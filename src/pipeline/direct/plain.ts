/**
 * PLAIN encoders (little-endian). Fixed-width values are copied or gathered as raw 32-bit words, so float NaN
 * payloads and -0 survive bit for bit. `index` lists the source positions to emit, in output order (e.g. the
 * non-null rows, or dictionary ids to gather); undefined means positions 0..count-1. `head`: bytes to place
 * before the values in the same output (a data page's levels), so the page body is built without a second copy.
 * `output`: where the bytes go (default: a fresh array); the writer passes a buffer it reuses for page bodies
 * that are compressed at once (ChunkScratch.page), so ~1.2 GB of arrays per 10M-row file are not allocated.
 */

import { copyBytes, dataView } from '../../sources/pinot/bytes.js';
import { bytesLength, copyChunks } from '../concat-bytes.js';

// Arrow buffers are in host order and Parquet is little-endian: the raw copies below assume a little-endian host.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('the direct Parquet writer needs a little-endian host');

/** An array of `size` bytes for an encoder's output; its contents need not be zero. */
export type OutputOf = (size: number) => Uint8Array;

const fresh: OutputOf = (size) => new Uint8Array(size);

function checkCount(length: number, index: Int32Array | undefined, count: number): void {
  const available = index ? index.length : length;
  if (!Number.isInteger(count) || count < 0 || count > available) {
    throw new RangeError(`count ${count} is outside the ${available} ${index ? 'index entries' : 'values'} given`);
  }
}

/** INT32/INT64/FLOAT/DOUBLE PLAIN. */
export function plainFixed(
  values: Int32Array | Float32Array | Float64Array | BigInt64Array, index: Int32Array | undefined, count: number, head?: readonly Uint8Array[], output: OutputOf = fresh,
): Uint8Array {
  checkCount(values.length, index, count);
  const width = values.BYTES_PER_ELEMENT;
  const { out, at } = withHead(head, count * width, output);
  if (!index) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, count * width), at);
    return out;
  }
  const words = width >>> 2;
  const src = new Int32Array(values.buffer, values.byteOffset, values.length * words);
  // Gathered as words straight into the output when the values start word-aligned (no head, or a head of whole
  // words); else into a scratch array copied after the head.
  const aligned = ((out.byteOffset + at) & 3) === 0;
  const dst = aligned ? new Int32Array(out.buffer, out.byteOffset + at, count * words) : new Int32Array(count * words);
  const n = src.length;
  if (words === 1) {
    for (let i = 0; i < count; i++) {
      const j = index[i]!;
      if (j >>> 0 >= n) throw outOfRange(j, n);
      dst[i] = src[j]!;
    }
  } else {
    for (let i = 0; i < count; i++) {
      const j = index[i]! * 2;
      if (j >>> 0 >= n) throw outOfRange(j / 2, n / 2);
      dst[2 * i] = src[j]!;
      dst[2 * i + 1] = src[j + 1]!;
    }
  }
  if (!aligned) out.set(new Uint8Array(dst.buffer), at);
  return out;
}

/** An output of `head` then `valueBytes` (not necessarily zeroed); returns it and where the values start. */
function withHead(head: readonly Uint8Array[] | undefined, valueBytes: number, output: OutputOf): { out: Uint8Array; at: number } {
  if (!head) return { out: output(valueBytes), at: 0 };
  const out = output(bytesLength(head) + valueBytes);
  return { out, at: copyChunks(out, head, 0) };
}

function outOfRange(j: number, n: number): RangeError {
  return new RangeError(`index ${j} is outside the ${n} values given`);
}

/** BOOLEAN PLAIN (bit-packed, LSB first) from an Arrow bitmap (bit i of `bitmap` at bitOffset + i). */
export function plainBoolean(
  bitmap: Uint8Array, bitOffset: number, index: Int32Array | undefined, count: number, head?: readonly Uint8Array[], output: OutputOf = fresh,
): Uint8Array {
  const bits = bitmap.length * 8 - bitOffset;
  checkCount(bits, index, count);
  const { out: whole, at } = withHead(head, (count + 7) >>> 3, output);
  // The bits are written through a view at the values' start (the head is whole bytes).
  const out = whole.subarray(at);
  if (!index && (bitOffset & 7) === 0) {
    out.set(bitmap.subarray(bitOffset >>> 3, (bitOffset >>> 3) + out.length));
    // Clear the padding bits after the last value (Arrow leaves them undefined).
    if (count & 7) out[out.length - 1]! &= (1 << (count & 7)) - 1;
    return whole;
  }
  // Bit by bit, OR-ed into zeros (the output may hold stale bytes).
  out.fill(0);
  for (let i = 0; i < count; i++) {
    let p: number;
    if (index) {
      p = index[i]!;
      if (p >>> 0 >= bits) throw outOfRange(p, bits);
      p += bitOffset;
    } else p = i + bitOffset;
    if ((bitmap[p >>> 3]! >>> (p & 7)) & 1) out[i >>> 3]! |= 1 << (i & 7);
  }
  return whole;
}

/** BYTE_ARRAY PLAIN (4-byte LE length + bytes each); value i is data[offsets[i], offsets[i+1]). */
export function plainByteArray(
  offsets: Int32Array, data: Uint8Array, index: Int32Array | undefined, count: number, head?: readonly Uint8Array[], output: OutputOf = fresh,
): Uint8Array {
  const n = offsets.length - 1;
  checkCount(Math.max(n, 0), index, count);
  let total = 4 * count;
  if (index) {
    for (let i = 0; i < count; i++) {
      const j = index[i]!;
      if (j >>> 0 >= n) throw outOfRange(j, n);
      total += offsets[j + 1]! - offsets[j]!;
    }
  } else if (count > 0) total += offsets[count]! - offsets[0]!;
  if (total < 0) throw new RangeError('offsets are not ascending');
  const { out, at } = withHead(head, total, output);
  const to = dataView(out);
  const from = dataView(data);
  const outLength = out.length;
  const dataLength = data.length;
  let pos = at;
  for (let i = 0; i < count; i++) {
    const j = index ? index[i]! : i;
    const start = offsets[j]!;
    const end = offsets[j + 1]!;
    const len = end - start;
    if (len < 0 || end > dataLength) throw new RangeError(`value ${j} has offsets ${start}..${end} outside the ${dataLength} data bytes`);
    to.setInt32(pos, len, true);
    pos += 4;
    const words = (len + 3) & ~3;
    if (len <= 128 && pos + words <= outLength && start + words <= dataLength) {
      // Whole words, up to 3 bytes past the value: they land where the next value's length goes and are
      // overwritten by it (the last value, whose overrun would pass the end, and long values take copyBytes).
      for (let k = 0; k < words; k += 4) to.setInt32(pos + k, from.getInt32(start + k));
    } else copyBytes(out, to, pos, data, from, start, end);
    pos += len;
  }
  return out;
}
