import { Buffer } from 'node:buffer';
import { ErrorCodes, SegmentFormatError, type ErrorContext } from '../../errors.js';

/**
 * A read-only range of bytes: the whole interface the format decoders see. Backed by a Uint8Array in
 * tests and by a file descriptor for extracted segments, so the decoders themselves do no I/O and can
 * read a 1 GB `columns.psf` one chunk at a time.
 */
export interface ByteRange {
  readonly length: number;
  /**
   * Bytes `[start, end)`. May return a view (memory-backed) or a fresh copy (file-backed); callers must
   * not write into it. Implementations throw PINOT_TRUNCATED for a range outside `[0, length]`.
   */
  read(start: number, end: number): Uint8Array;
  /**
   * As `read`, but the bytes may live in a buffer that the next `readTransient` of any file of the same
   * segment reuses: for a window consumed before the next one is read. File-backed ranges implement it so a
   * walk over a big dictionary does not allocate (and leave for the GC) a fresh buffer per window. Use
   * `readTransient()`.
   */
  readTransient?(start: number, end: number): Uint8Array;
}

/** Bytes `[start, end)` valid until the next transient read of the segment's files (see ByteRange.readTransient). */
export function readTransient(range: ByteRange, start: number, end: number): Uint8Array {
  return range.readTransient === undefined ? range.read(start, end) : range.readTransient(start, end);
}

export function checkBounds(range: { length: number }, start: number, end: number, context?: ErrorContext): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > range.length) {
    throw new SegmentFormatError(
      ErrorCodes.PINOT_TRUNCATED,
      `read of bytes [${start}, ${end}) is outside a buffer of ${range.length} bytes`,
      { context: { offset: start, ...context } },
    );
  }
}

/** A ByteRange over memory. */
export function bytesRange(bytes: Uint8Array): ByteRange {
  return {
    length: bytes.length,
    read(start, end) {
      checkBounds(bytes, start, end);
      return bytes.subarray(start, end);
    },
  };
}

/** Bytes `[start, end)` of another range, addressed from 0. */
export function subRange(parent: ByteRange, start: number, end: number, context?: ErrorContext): ByteRange {
  checkBounds(parent, start, end, context);
  return {
    length: end - start,
    read(s, e) {
      checkBounds({ length: end - start }, s, e, context);
      return parent.read(start + s, start + e);
    },
    readTransient(s, e) {
      checkBounds({ length: end - start }, s, e, context);
      return readTransient(parent, start + s, start + e);
    },
  };
}

/** Reads a whole range into memory (for small structures such as headers and dictionaries). */
export function readAll(range: ByteRange): Uint8Array {
  return range.read(0, range.length);
}

/** Below this size a zero-filled array costs about the same, and small ones come from V8's own heap. */
const UNFILLED_MIN_BYTES = 64 << 10;
let poison: number | undefined;

/**
 * `n` bytes holding whatever the allocator had, for outputs that are written in full before they are read:
 * zero-filling the large arrays of a conversion (joined column chunks, raw values, dictionary subsets) was
 * ~4 % of its CPU time in memset. Callers write every element before anything reads it (see poisonUnfilled).
 */
export function unfilledBytes(n: number): Uint8Array<ArrayBuffer> {
  if (n < UNFILLED_MIN_BYTES && poison === undefined) return new Uint8Array(n);
  return new Uint8Array(unfilledBuffer(n), 0, n);
}

/** `n` int32s holding whatever the allocator had; see unfilledBytes. */
export function unfilledInt32(n: number): Int32Array<ArrayBuffer> {
  if (4 * n < UNFILLED_MIN_BYTES && poison === undefined) return new Int32Array(n);
  return new Int32Array(unfilledBuffer(4 * n), 0, n);
}

/**
 * Makes every unfilled array, small ones included, start as `byte` repeated; undefined restores the default
 * (large ones as the allocator left them, small ones zeroed). For tests: an output that reads an element it
 * did not write then differs from the same output made with another poison byte.
 */
export function poisonUnfilled(byte: number | undefined): void {
  poison = byte;
}

function unfilledBuffer(bytes: number): ArrayBuffer {
  // The Buffer's own ArrayBuffer: allocUnsafeSlow skips the fill and the shared pool, and views of the plain
  // typed-array classes (not Buffer) keep the consumers' element loads monomorphic.
  const buffer = Buffer.allocUnsafeSlow(bytes);
  if (poison !== undefined) buffer.fill(poison);
  return buffer.buffer as ArrayBuffer;
}

export function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Copies src[from, to) into dst at `at` (dstView and srcView view the same bytes as dst and src). Values up
 * to 128 bytes, the common case, go four bytes at a time, faster than a subarray and `set` per value.
 */
export function copyBytes(dst: Uint8Array, dstView: DataView, at: number, src: Uint8Array, srcView: DataView, from: number, to: number): void {
  if (to - from > 128) {
    dst.set(src.subarray(from, to), at);
    return;
  }
  for (; from + 4 <= to; from += 4, at += 4) dstView.setInt32(at, srcView.getInt32(from));
  while (from < to) dst[at++] = src[from++]!;
}
