/**
 * Chunk compression for Pinot raw forward indexes (§9.8), the writing side of `../codecs.ts`. The output of
 * each codec is what Pinot's `ChunkCompressor` of that type writes, up to compressor build differences in the
 * compressed bytes themselves (same framing, same levels: zstd level 3 one-shot frame with content size, zlib
 * level 6, LZ4 fast block, Snappy raw block):
 *
 * | codec | bytes |
 * |---|---|
 * | PASS_THROUGH | the chunk (returned as is, not copied) |
 * | SNAPPY | raw Snappy block |
 * | ZSTANDARD | one zstd frame, level 3, content size set, no checksum |
 * | LZ4 | raw LZ4 block, no length (v2/v3 and fixed-width files) |
 * | LZ4_LENGTH_PREFIXED | i32 LE uncompressed length + raw LZ4 block (V4+ files; lz4-java `LZ4CompressorWithLength`) |
 * | GZIP | zlib stream (level 6) + i32 uncompressed length in the container's byte order |
 * | DELTA / DELTADELTA | u8 word flag, i32 count, first word, i32 payload size, LZ4 block of BE (delta-)deltas |
 */
import { Buffer } from 'node:buffer';
import { deflateSync } from 'node:zlib';
import { compressSync as lz4Compress } from 'lz4-napi';
import { compressSync as snappyCompress } from 'snappy';
import zstd from 'zstd-napi/binding.js';
import { ConfigError, ErrorCodes } from '../../../errors.js';
import { ChunkCodec, codecName, type ByteOrder, type ChunkCodecId } from '../codecs.js';

/** zstd-jni's `Zstd.compress` default, which Pinot's ZstandardCompressor uses. */
const ZSTD_LEVEL = 3;

let cctx: InstanceType<typeof zstd.CCtx> | undefined;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function plain(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/**
 * The codec id a writer stores for a requested codec: V4/V5/V6 files upgrade LZ4 to LZ4_LENGTH_PREFIXED
 * (`ChunkCompressorFactory.getCompressor(type, true)`); chunk files (v2/v3, fixed-width ≥ 4) keep it.
 */
export function storedCodec(codec: ChunkCodecId, lengthPrefixedLz4: boolean): ChunkCodecId {
  return codec === ChunkCodec.LZ4 && lengthPrefixedLz4 ? ChunkCodec.LZ4_LENGTH_PREFIXED : codec;
}

/**
 * Compresses one chunk with the codec whose id is stored in the header. `order` is the container's byte order
 * (BE for v2/v3 and fixed-width files, LE for V4/V5/V6): it decides the GZIP trailer and DELTA header fields.
 */
export function compressChunk(codec: ChunkCodecId, chunk: Uint8Array, order: ByteOrder): Uint8Array {
  switch (codec) {
    case ChunkCodec.PASS_THROUGH: return chunk;
    case ChunkCodec.SNAPPY: return plain(snappyCompress(chunk));
    case ChunkCodec.ZSTANDARD: return zstdCompress(chunk);
    case ChunkCodec.LZ4: return plain(lz4Compress(asBuffer(chunk))).subarray(4);
    case ChunkCodec.LZ4_LENGTH_PREFIXED: return plain(lz4Compress(asBuffer(chunk)));
    case ChunkCodec.GZIP: return gzip(chunk, order);
    case ChunkCodec.DELTA: return delta(chunk, order, false);
    case ChunkCodec.DELTADELTA: return delta(chunk, order, true);
    default:
      throw new ConfigError(ErrorCodes.USAGE, `unknown chunk compression type ${String(codec)} (known: 0–7)`);
  }
}

function zstdCompress(chunk: Uint8Array): Uint8Array {
  cctx ??= new zstd.CCtx();
  const dst = Buffer.allocUnsafe(zstd.compressBound(chunk.length));
  const n = cctx.compress(dst, chunk, ZSTD_LEVEL);
  // Copy out so the bound-sized buffer is not kept alive by every chunk of a large index.
  return Uint8Array.prototype.slice.call(dst, 0, n);
}

/** Java `Deflater()` (zlib wrapper, level 6) output, then the uncompressed length (`getBytesRead`). */
function gzip(chunk: Uint8Array, order: ByteOrder): Uint8Array {
  const z = deflateSync(chunk);
  const out = new Uint8Array(z.length + 4);
  out.set(z, 0);
  new DataView(out.buffer).setInt32(z.length, chunk.length, order === 'LE');
  return out;
}

/**
 * Pinot 1.5's DeltaCompressor / DeltaDeltaCompressor: 64-bit words when the chunk length is a multiple of 8,
 * else 32-bit. Header fields and the first word follow the container's byte order; the words are read from the
 * chunk in that order too, and the LZ4 payload of (delta-)deltas is always BE.
 */
function delta(chunk: Uint8Array, order: ByteOrder, twice: boolean): Uint8Array {
  if (chunk.length % 4 !== 0) {
    throw new ConfigError(ErrorCodes.USAGE, `${codecName(twice ? ChunkCodec.DELTADELTA : ChunkCodec.DELTA)} needs a chunk of 4- or 8-byte words, got ${chunk.length} bytes`);
  }
  const le = order === 'LE';
  const wide = chunk.length % 8 === 0;
  const width = wide ? 8 : 4;
  const count = chunk.length / width;
  const src = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (count <= 1) {
    const out = new Uint8Array(5 + count * width);
    const dv = new DataView(out.buffer);
    out[0] = wide ? 1 : 0;
    dv.setInt32(1, count, le);
    if (count === 1) out.set(chunk, 5);
    return out;
  }
  const deltas = new Uint8Array((count - 1) * width);
  const d = new DataView(deltas.buffer);
  if (wide) {
    let prev = src.getBigInt64(0, le);
    let prevDelta = 0n;
    for (let i = 1; i < count; i++) {
      const cur = src.getBigInt64(i * 8, le);
      const step = BigInt.asIntN(64, cur - prev);
      d.setBigInt64((i - 1) * 8, twice && i > 1 ? BigInt.asIntN(64, step - prevDelta) : step);
      prevDelta = step;
      prev = cur;
    }
  } else {
    let prev = src.getInt32(0, le);
    let prevDelta = 0;
    for (let i = 1; i < count; i++) {
      const cur = src.getInt32(i * 4, le);
      const step = (cur - prev) | 0;
      d.setInt32((i - 1) * 4, twice && i > 1 ? (step - prevDelta) | 0 : step);
      prevDelta = step;
      prev = cur;
    }
  }
  const block = plain(lz4Compress(asBuffer(deltas))).subarray(4);
  const head = 1 + 4 + width + 4;
  const out = new Uint8Array(head + block.length);
  const dv = new DataView(out.buffer);
  out[0] = wide ? 1 : 0;
  dv.setInt32(1, count, le);
  if (wide) dv.setBigInt64(5, src.getBigInt64(0, le), le);
  else dv.setInt32(5, src.getInt32(0, le), le);
  dv.setInt32(5 + width, block.length, le);
  out.set(block, head);
  return out;
}
