/**
 * Chunk decompression for Pinot raw forward indexes (spec §9.8). Pure functions over bytes: no I/O.
 *
 * Every codec is bounded before anything is allocated: the caller passes the chunk's largest possible
 * decompressed size (`maxSize`), the declared size inside the compressed bytes (LZ4 prefix, zstd content size,
 * Snappy varint, GZIP trailer, DELTA count) must not exceed it, and the libraries are given output buffers of
 * at most that size. A corrupt or hostile chunk therefore fails with PINOT_CORRUPT instead of allocating
 * gigabytes.
 */
import { inflateSync } from 'node:zlib';
import { uncompressSync as lz4Uncompress } from 'lz4-napi';
import { uncompressSync as snappyUncompress } from 'snappy';
import zstd from 'zstd-napi/binding.js';
import { ErrorCodes, SegmentFormatError, type ErrorContext } from '../../errors.js';

/** Header values of `ChunkCompressionType` (§9.8). */
export const ChunkCodec = {
  PASS_THROUGH: 0,
  SNAPPY: 1,
  ZSTANDARD: 2,
  LZ4: 3,
  LZ4_LENGTH_PREFIXED: 4,
  GZIP: 5,
  DELTA: 6,
  DELTADELTA: 7,
} as const;

export type ChunkCodecId = (typeof ChunkCodec)[keyof typeof ChunkCodec];

/**
 * Byte order of the container the chunk sits in. It decides the GZIP trailer and the DELTA header fields:
 * BE in v1–v3 chunk files (and fixed-width files with header ≥ 4), LE in V4/V5/V6 files.
 */
export type ByteOrder = 'BE' | 'LE';

/** Largest buffer a chunk may decompress to: VarBytes offsets are i32, and so are Pinot's buffers. */
export const MAX_CHUNK_BYTES = 0x7fffffff;

const CODEC_NAMES: Readonly<Record<number, string>> = {
  0: 'PASS_THROUGH', 1: 'SNAPPY', 2: 'ZSTANDARD', 3: 'LZ4', 4: 'LZ4_LENGTH_PREFIXED', 5: 'GZIP', 6: 'DELTA',
  7: 'DELTADELTA',
};

export function codecName(codec: number): string {
  return CODEC_NAMES[codec] ?? `unknown(${codec})`;
}

/** Throws PINOT_UNSUPPORTED_CODEC unless `codec` is one of §9.8's ids. */
export function checkCodec(codec: number, context?: ErrorContext): asserts codec is ChunkCodecId {
  if (!Number.isInteger(codec) || CODEC_NAMES[codec] === undefined) {
    throw new SegmentFormatError(
      ErrorCodes.PINOT_UNSUPPORTED_CODEC,
      `unknown chunk compression type ${codec} (known: 0–7)`,
      { context: { ...context } },
    );
  }
}

/**
 * Most output bytes one input byte can produce, per codec, so a chunk whose declared size is implausible for
 * its compressed length is rejected before allocation. Snappy: a 3-byte copy yields ≤ 64 bytes. LZ4: each
 * 0xFF length byte adds 255. Deflate: ≤ 1032:1. Zstd: a ≥ 3-byte block yields ≤ 128 KiB (ZSTD_decompressBound).
 */
function expansionBound(codec: ChunkCodecId, srcLength: number): number {
  switch (codec) {
    case ChunkCodec.PASS_THROUGH: return srcLength;
    case ChunkCodec.SNAPPY: return 22 * srcLength + 16;
    case ChunkCodec.LZ4:
    case ChunkCodec.LZ4_LENGTH_PREFIXED:
    case ChunkCodec.DELTA:
    case ChunkCodec.DELTADELTA: return 256 * srcLength + 16;
    case ChunkCodec.GZIP: return 1032 * srcLength + 16;
    case ChunkCodec.ZSTANDARD: return Math.ceil(srcLength / 3) * 131072;
  }
}

function corrupt(message: string, context: ErrorContext | undefined, cause?: unknown): SegmentFormatError {
  return new SegmentFormatError(ErrorCodes.PINOT_CORRUPT, message, { context: { ...context }, cause });
}

/** Buffer → Uint8Array view (no copy): callers get one array type, without Buffer's `slice` semantics. */
function plain(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The decompressed size a chunk declares about itself, or undefined when the codec carries none (LZ4 without
 * prefix, a zstd frame without content size). Pinot sizes V4+ "huge" chunks this way.
 */
export function declaredSize(
  codec: number, src: Uint8Array, order: ByteOrder = 'BE', context?: ErrorContext,
): number | undefined {
  checkCodec(codec, context);
  switch (codec) {
    case ChunkCodec.PASS_THROUGH: return src.length;
    case ChunkCodec.SNAPPY: return snappyLength(src, context);
    case ChunkCodec.ZSTANDARD: return zstdContentSize(src, context);
    case ChunkCodec.LZ4: return undefined;
    case ChunkCodec.LZ4_LENGTH_PREFIXED:
      need(src, 4, 'LZ4 length prefix', context);
      return nonNegative(view(src).getInt32(0, true), codec, context);
    case ChunkCodec.GZIP:
      need(src, 4, 'GZIP size trailer', context);
      return nonNegative(view(src).getInt32(src.length - 4, order === 'LE'), codec, context);
    case ChunkCodec.DELTA:
    case ChunkCodec.DELTADELTA: {
      const { count, width } = deltaHeader(src, order, codec, context);
      return count * width;
    }
  }
}

function nonNegative(size: number, codec: ChunkCodecId, context: ErrorContext | undefined): number {
  if (size < 0) throw corrupt(`${codecName(codec)} chunk declares a negative size ${size}`, context);
  return size;
}

function need(src: Uint8Array, n: number, what: string, context: ErrorContext | undefined): void {
  if (src.length < n) throw corrupt(`chunk of ${src.length} bytes is too short for its ${what}`, context);
}

/** Snappy raw block: little-endian base-128 varint of the uncompressed length (≤ 5 bytes for 32 bits). */
function snappyLength(src: Uint8Array, context: ErrorContext | undefined): number {
  let result = 0;
  for (let i = 0; i < 5; i++) {
    const b = src[i];
    if (b === undefined) break;
    result += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return result;
  }
  throw corrupt('Snappy chunk has no valid length varint', context);
}

function zstdContentSize(src: Uint8Array, context: ErrorContext | undefined): number | undefined {
  try {
    return zstd.getFrameContentSize(src) ?? undefined;
  } catch (err) {
    throw corrupt('ZSTANDARD chunk has no valid zstd frame header', context, err);
  }
}

/**
 * Decompresses one chunk. `maxSize` bounds the output (the chunk's largest legal decompressed size from the
 * forward-index header); without it the codec's own declared size is used, checked against the codec's
 * maximum expansion. The result may be shorter than `maxSize`; callers check exact sizes.
 * LZ4 (3) has no length anywhere, so `maxSize` is what it decompresses into.
 */
export function decompressChunk(
  codec: number,
  src: Uint8Array,
  maxSize?: number,
  context?: ErrorContext,
  order: ByteOrder = 'BE',
): Uint8Array {
  checkCodec(codec, context);
  const bound = Math.min(maxSize ?? expansionBound(codec, src.length), MAX_CHUNK_BYTES);
  if (!Number.isSafeInteger(bound) || bound < 0) {
    throw new RangeError(`decompressChunk: bad size bound ${String(maxSize)}`);
  }
  switch (codec) {
    case ChunkCodec.PASS_THROUGH:
      if (src.length > bound) throw corrupt(`uncompressed chunk of ${src.length} bytes exceeds ${bound}`, context);
      return src;
    case ChunkCodec.SNAPPY: return snappy(src, bound, context);
    case ChunkCodec.ZSTANDARD: return zstandard(src, bound, context);
    case ChunkCodec.LZ4:
      // No length anywhere: decompress into the bound (lz4 returns the actual, possibly shorter, output).
      return lz4(withLengthPrefix(src, Math.min(bound, expansionBound(codec, src.length))), bound, context);
    case ChunkCodec.LZ4_LENGTH_PREFIXED: return lz4(src, bound, context);
    case ChunkCodec.GZIP: return gzip(src, bound, order, context);
    case ChunkCodec.DELTA:
    case ChunkCodec.DELTADELTA: return delta(codec, src, bound, order, context);
  }
}

function checkDeclared(
  codec: ChunkCodecId, declared: number, src: Uint8Array, bound: number, context: ErrorContext | undefined,
): void {
  if (declared < 0 || declared > bound) {
    throw corrupt(`${codecName(codec)} chunk declares ${declared} decompressed bytes, more than the ${bound} allowed`, context);
  }
  if (declared > expansionBound(codec, src.length)) {
    throw corrupt(`${codecName(codec)} chunk of ${src.length} bytes cannot decompress to the ${declared} it declares`, context);
  }
}

function snappy(src: Uint8Array, bound: number, context: ErrorContext | undefined): Uint8Array {
  checkDeclared(ChunkCodec.SNAPPY, snappyLength(src, context), src, bound, context);
  try {
    return plain(snappyUncompress(src) as Buffer);
  } catch (err) {
    throw corrupt(`SNAPPY chunk does not decompress: ${(err as Error).message}`, context, err);
  }
}

let dctx: InstanceType<typeof zstd.DCtx> | undefined;

function zstandard(src: Uint8Array, bound: number, context: ErrorContext | undefined): Uint8Array {
  const declared = zstdContentSize(src, context);
  if (declared !== undefined) checkDeclared(ChunkCodec.ZSTANDARD, declared, src, bound, context);
  // Frames without a content size decompress into the bound; zstd fails rather than overrun it.
  const out = Buffer.allocUnsafe(declared ?? Math.min(bound, expansionBound(ChunkCodec.ZSTANDARD, src.length)));
  let n: number;
  try {
    dctx ??= new zstd.DCtx();
    n = dctx.decompress(out, src);
  } catch (err) {
    throw corrupt(`ZSTANDARD chunk does not decompress: ${(err as Error).message}`, context, err);
  }
  if (declared !== undefined && n !== declared) {
    throw corrupt(`ZSTANDARD chunk decompressed to ${n} bytes, its frame says ${declared}`, context);
  }
  return plain(out.subarray(0, n));
}

/** lz4-napi's format is Pinot's LZ4_LENGTH_PREFIXED: i32 LE length + raw block; a larger length is fine. */
function withLengthPrefix(block: Uint8Array, length: number): Uint8Array {
  const out = Buffer.allocUnsafe(block.length + 4);
  out.writeUInt32LE(length, 0);
  out.set(block, 4);
  return out;
}

function lz4(prefixed: Uint8Array, bound: number, context: ErrorContext | undefined): Uint8Array {
  need(prefixed, 4, 'LZ4 length prefix', context);
  const declared = view(prefixed).getInt32(0, true);
  checkDeclared(ChunkCodec.LZ4, declared, prefixed.subarray(4), bound, context);
  try {
    return plain(lz4Uncompress(prefixed));
  } catch (err) {
    throw corrupt(`LZ4 chunk does not decompress: ${(err as Error).message}`, context, err);
  }
}

/** A zlib stream (not gzip framing, despite the name) plus a 4-byte uncompressed length in container order. */
function gzip(src: Uint8Array, bound: number, order: ByteOrder, context: ErrorContext | undefined): Uint8Array {
  need(src, 4, 'GZIP size trailer', context);
  const declared = view(src).getInt32(src.length - 4, order === 'LE');
  checkDeclared(ChunkCodec.GZIP, declared, src, bound, context);
  let out: Buffer;
  try {
    out = inflateSync(src.subarray(0, src.length - 4), { maxOutputLength: Math.max(1, declared) });
  } catch (err) {
    throw corrupt(`GZIP chunk does not inflate to its declared ${declared} bytes: ${(err as Error).message}`, context, err);
  }
  if (out.length !== declared) {
    throw corrupt(`GZIP chunk inflated to ${out.length} bytes, its trailer says ${declared}`, context);
  }
  return plain(out);
}

interface DeltaHeader {
  width: 4 | 8;
  count: number;
  /** Offset of the first value. */
  first: number;
}

/**
 * DELTA / DELTADELTA (Pinot 1.5+): u8 flag (0 = 32-bit words, 1 = 64-bit), i32 count, the first word,
 * then (count ≥ 2) i32 compressed size and a raw LZ4 block of count − 1 BE words. Header fields and the
 * output words use the container's byte order (Pinot writes them through the chunk buffer); the LZ4 payload
 * is always BE (Pinot's temporary buffer).
 */
function deltaHeader(src: Uint8Array, order: ByteOrder, codec: ChunkCodecId, context: ErrorContext | undefined): DeltaHeader {
  need(src, 5, `${codecName(codec)} header`, context);
  const flag = src[0];
  if (flag !== 0 && flag !== 1) throw corrupt(`${codecName(codec)} chunk has word-size flag ${flag} (expected 0 or 1)`, context);
  const count = view(src).getInt32(1, order === 'LE');
  if (count < 0) throw corrupt(`${codecName(codec)} chunk has negative value count ${count}`, context);
  return { width: flag === 0 ? 4 : 8, count, first: 5 };
}

function delta(
  codec: ChunkCodecId, src: Uint8Array, bound: number, order: ByteOrder, context: ErrorContext | undefined,
): Uint8Array {
  const { width, count, first } = deltaHeader(src, order, codec, context);
  const size = count * width;
  if (size > bound) throw corrupt(`${codecName(codec)} chunk declares ${size} bytes, more than the ${bound} allowed`, context);
  const out = new Uint8Array(size);
  if (count === 0) return out;
  need(src, first + width, `${codecName(codec)} first value`, context);
  out.set(src.subarray(first, first + width), 0);
  if (count === 1) return out;
  const sizeAt = first + width;
  need(src, sizeAt + 4, `${codecName(codec)} payload size`, context);
  const payloadSize = view(src).getInt32(sizeAt, order === 'LE');
  if (payloadSize < 0 || sizeAt + 4 + payloadSize > src.length) {
    throw corrupt(`${codecName(codec)} payload of ${payloadSize} bytes does not fit the ${src.length}-byte chunk`, context);
  }
  const deltasSize = (count - 1) * width;
  const block = src.subarray(sizeAt + 4, sizeAt + 4 + payloadSize);
  const deltas = lz4(withLengthPrefix(block, deltasSize), deltasSize, context);
  if (deltas.length !== deltasSize) {
    throw corrupt(`${codecName(codec)} payload decompressed to ${deltas.length} bytes, expected ${deltasSize}`, context);
  }
  integrate(out, deltas, count, width, order === 'LE', codec === ChunkCodec.DELTADELTA);
  return out;
}

/** Rebuilds the words from the first one and the deltas (or deltas of deltas), wrapping like Java. */
function integrate(out: Uint8Array, deltas: Uint8Array, count: number, width: 4 | 8, le: boolean, twice: boolean): void {
  const o = view(out);
  const d = view(deltas);
  if (width === 4) {
    let prev = o.getInt32(0, le);
    let step = 0;
    for (let i = 1; i < count; i++) {
      const x = d.getInt32((i - 1) * 4, false);
      step = twice && i > 1 ? (step + x) | 0 : x;
      prev = (prev + step) | 0;
      o.setInt32(i * 4, prev, le);
    }
    return;
  }
  let prev = o.getBigInt64(0, le);
  let step = 0n;
  for (let i = 1; i < count; i++) {
    const x = d.getBigInt64((i - 1) * 8, false);
    step = twice && i > 1 ? BigInt.asIntN(64, step + x) : x;
    prev = BigInt.asIntN(64, prev + step);
    o.setBigInt64(i * 8, prev, le);
  }
}
