/**
 * Raw (no dictionary) forward indexes (§9.5–§9.7) as Pinot writes them: the chunk files of
 * `FixedByteChunkForwardIndexWriter` / `VarByteChunkForwardIndexWriter` (v2, v3, fixed-width ≥ 4) and the
 * var-byte files of `VarByteChunkForwardIndexWriterV4/V5/V6`, with the creators' chunk sizing
 * (`SingleValueFixedByteRawIndexCreator`, `SingleValueVarByteRawIndexCreator`, `MultiValueFixedByteRawIndexCreator`,
 * `MultiValueVarByteRawIndexCreator`, `ForwardIndexUtils.getDynamicTargetChunkSize`) of Pinot 1.5.1.
 *
 * Which file a requested writer version yields (`planRawForward`):
 *
 * | column | 2 / 3 | 4 | 5 | 6 |
 * |---|---|---|---|---|
 * | SV INT/LONG/FLOAT/DOUBLE | fixed chunk file v2/v3 | fixed, header 4 | fixed, header 5 | fixed, header 6 |
 * | SV STRING/BYTES/BIG_DECIMAL/MAP | var-byte chunk file v2/v3 | V4 | V4 | V6 |
 * | MV INT/LONG/FLOAT/DOUBLE | var-byte chunk file v2/v3 | V4 | V5 | V6 |
 * | MV STRING/BYTES/BIG_DECIMAL | var-byte chunk file v2/v3 | V4 | V4 | V6 |
 *
 * Version 6 follows Pinot master (after 1.5.1): Pinot 1.5.1 itself has no V6 writer or reader (it writes V4 for
 * the var-length and MV columns and rejects version 6 for fixed-width SV), so only request 6 for a Pinot that
 * reads it.
 */
import { Buffer } from 'node:buffer';
import { ConfigError, ErrorCodes } from '../../../errors.js';
import { ChunkCodec, codecName, type ChunkCodecId } from '../codecs.js';
import { FIXED_WIDTH, type StoredType, type ValueBlock, type VarBytes } from '../types.js';
import { compressChunk, storedCodec } from './chunk-compress.js';
import type { MultiValueBlock, RawForwardConfig, RawForwardInput } from './contracts.js';
import { checkVarBytes, copyBytes } from './value-encoders.js';

/** RawForwardConfig plus the forward-index key `deriveNumDocsPerChunk` (v2/v3 SV var-length and MV fixed-width). */
export interface RawForwardWriterConfig extends RawForwardConfig {
  deriveNumDocsPerChunk?: boolean;
}

export type RawForwardWriterInput = RawForwardInput & { config: RawForwardWriterConfig };

export const DEFAULT_TARGET_MAX_CHUNK_SIZE = 1024 * 1024;
export const DEFAULT_TARGET_DOCS_PER_CHUNK = 1000;
const TARGET_MIN_CHUNK_SIZE = 4096;
const INT_MAX = 0x7fffffff;
const HUGE_FLAG = 0x80000000;

export type RawForwardFormat = 'fixed-chunk' | 'var-chunk' | 'V4' | 'V5' | 'V6';

/** What `writeRawForward` writes for an input: the header values Pinot derives from the config and stats. */
export interface RawForwardPlan {
  format: RawForwardFormat;
  /** The version field of the header. */
  version: number;
  /** The compression type field of the header (LZ4 upgraded to LZ4_LENGTH_PREFIXED in V4/V5/V6). */
  codec: ChunkCodecId;
  /** Chunk files: docs per chunk and the header's entry size. */
  docsPerChunk?: number;
  entrySize?: number;
  /** V4/V5/V6: the target (maximum) decompressed chunk size. */
  chunkSize?: number;
}

function usage(detail: string): ConfigError {
  return new ConfigError(ErrorCodes.USAGE, `raw forward index: ${detail}`, { context: { index: 'forward_index' } });
}

/** `ForwardIndexUtils.getDynamicTargetChunkSize`. */
export function dynamicTargetChunkSize(maxLength: number, targetDocsPerChunk: number, targetMaxChunkSize: number): number {
  if (targetDocsPerChunk < 0 || maxLength * targetDocsPerChunk > INT_MAX) {
    return Math.max(targetMaxChunkSize, TARGET_MIN_CHUNK_SIZE);
  }
  return Math.max(Math.min(maxLength * targetDocsPerChunk, targetMaxChunkSize), TARGET_MIN_CHUNK_SIZE);
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min || v > INT_MAX) throw usage(`${name} ${v} is not an integer in ${min}…${INT_MAX}`);
}

/** Header values Pinot 1.5.1 (master for version 6) derives for this column, config and statistics. */
export function planRawForward(input: RawForwardWriterInput): RawForwardPlan {
  const { storedType, singleValue, config } = input;
  const version = config.writerVersion;
  if (![2, 3, 4, 5, 6].includes(version)) throw usage(`rawIndexWriterVersion ${version} is not one of 2–6`);
  const codec = config.codec;
  if (codecName(codec).startsWith('unknown')) throw usage(`unknown chunk compression type ${String(codec)}`);
  const maxChunk = config.targetMaxChunkSizeBytes ?? DEFAULT_TARGET_MAX_CHUNK_SIZE;
  const targetDocs = config.targetDocsPerChunk ?? DEFAULT_TARGET_DOCS_PER_CHUNK;
  checkInt('targetMaxChunkSize', maxChunk, 0);
  if (!Number.isSafeInteger(targetDocs) || targetDocs < -INT_MAX || targetDocs > INT_MAX) {
    throw usage(`targetDocsPerChunk ${targetDocs} is not a 32-bit integer`);
  }
  const width = FIXED_WIDTH[storedType];
  if ((codec === ChunkCodec.DELTA || codec === ChunkCodec.DELTADELTA) && !(singleValue && (storedType === 'INT' || storedType === 'LONG'))) {
    throw usage(`${codecName(codec)} can only be used on single-value INT/LONG columns (stored type ${storedType}, ${singleValue ? 'SV' : 'MV'})`);
  }
  if (storedType === 'MAP' && !singleValue) throw usage('MAP columns are single-value only');
  const maxValues = singleValue ? 0 : requireCount('maxValuesPerRow', input.maxValuesPerRow);
  const chunkSize = (maxLength: number): number => {
    checkInt('the longest entry', maxLength, 0);
    return dynamicTargetChunkSize(maxLength, targetDocs, maxChunk);
  };

  if (singleValue && width !== undefined) {
    checkInt('targetDocsPerChunk', targetDocs, 1);
    const docsPerChunk = version >= 4 ? nextPowerOfTwo(targetDocs) : targetDocs;
    if (docsPerChunk * width > INT_MAX) throw usage(`chunks of ${docsPerChunk} × ${width} bytes exceed 2 GB`);
    return { format: 'fixed-chunk', version, codec, docsPerChunk, entrySize: width };
  }
  const maxValueBytes = width !== undefined && !singleValue ? 0 : requireCount('maxValueBytes', input.maxValueBytes);
  if (version < 4) {
    let entrySize: number;
    let docsPerChunk: number;
    const derived = (size: number): number => Math.max(Math.floor(maxChunk / (size + 4)), 1);
    if (singleValue) {
      entrySize = maxValueBytes;
      docsPerChunk = config.deriveNumDocsPerChunk ? derived(entrySize) : targetDocs;
    } else if (width !== undefined) {
      entrySize = 4 + maxValues * width;
      docsPerChunk = config.deriveNumDocsPerChunk ? derived(entrySize) : targetDocs;
    } else {
      entrySize = 4 + 4 * maxValues + maxValueBytes;
      docsPerChunk = derived(entrySize);
    }
    checkInt('the entry size', entrySize, 0);
    checkInt('targetDocsPerChunk', docsPerChunk, 1);
    if (docsPerChunk * (4 + entrySize) > INT_MAX) throw usage(`chunks of ${docsPerChunk} × ${4 + entrySize} bytes exceed 2 GB (Pinot's limit)`);
    return { format: 'var-chunk', version, codec, docsPerChunk, entrySize };
  }
  const v4codec = storedCodec(codec, true);
  if (singleValue) {
    return version === 6
      ? { format: 'V6', version: 6, codec: v4codec, chunkSize: chunkSize(maxValueBytes) }
      : { format: 'V4', version: 4, codec: v4codec, chunkSize: chunkSize(maxValueBytes) };
  }
  if (width !== undefined) {
    if (version === 6) return { format: 'V6', version: 6, codec: v4codec, chunkSize: chunkSize(maxValues * width) };
    if (version === 5) return { format: 'V5', version: 5, codec: v4codec, chunkSize: chunkSize(maxValues * width) };
    return { format: 'V4', version: 4, codec: v4codec, chunkSize: chunkSize(4 + maxValues * width) };
  }
  const rowMax = 4 + 4 * maxValues + maxValueBytes;
  return version === 6
    ? { format: 'V6', version: 6, codec: v4codec, chunkSize: chunkSize(rowMax) }
    : { format: 'V4', version: 4, codec: v4codec, chunkSize: chunkSize(rowMax) };
}

function requireCount(name: string, v: number | undefined): number {
  if (v === undefined) throw usage(`${name} is required for this column`);
  checkInt(name, v, 0);
  return v;
}

/** Java's `1 << (32 - numberOfLeadingZeros(n - 1))` for a non-power of two. */
function nextPowerOfTwo(n: number): number {
  if ((n & (n - 1)) === 0) return n;
  const p = 2 ** (32 - Math.clz32(n - 1));
  if (p > INT_MAX) throw usage(`targetDocsPerChunk ${n} rounds up past 2^30`);
  return p;
}

/**
 * Writes the whole raw forward index buffer for the input (what sits in `columns.psf` after the v3 marker, or
 * in a `.sv.raw.fwd` / `.mv.raw.fwd` file). Throws USAGE for bad input: a value longer than `maxValueBytes`, a
 * row with more than `maxValuesPerRow` values, a values block of the wrong kind, an unsupported combination.
 */
export function writeRawForward(input: RawForwardWriterInput): Uint8Array {
  return writeRawForwardWithPlan(input, planRawForward(input));
}

/**
 * `writeRawForward` with the header values given instead of derived (e.g. a V4 chunk size below Pinot's 4 KiB
 * minimum, as the writer classes allow and the spec's vectors use). The plan must suit the input's column kind.
 */
export function writeRawForwardWithPlan(input: RawForwardWriterInput, plan: RawForwardPlan): Uint8Array {
  const rows = rowSource(input, plan);
  switch (plan.format) {
    case 'fixed-chunk': return writeFixedChunkFile(input.values as FixedBlock, plan);
    case 'var-chunk': return writeVarChunkFile(rows, plan);
    default: return writeV4File(rows, plan);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Rows

type FixedBlock = Exclude<ValueBlock, { kind: 'BYTES' }>;

/** Serialised rows (§9.7) of a column, written into chunk buffers without per-row allocation. */
interface Rows {
  readonly count: number;
  /** Serialised length of row i. */
  length(i: number): number;
  /** Writes rows `[from, to)` back to back at `dst[at …]`. */
  write(from: number, to: number, dst: Uint8Array, at: number): void;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function rowSource(input: RawForwardWriterInput, plan: RawForwardPlan): Rows {
  const { storedType, singleValue, values } = input;
  const width = FIXED_WIDTH[storedType];
  if (singleValue) {
    if (!('kind' in values)) throw usage('a single-value column needs a ValueBlock, not multi-value rows');
    if (width !== undefined) {
      expectKind(values, storedType);
      return { count: (values as FixedBlock).values.length, length: () => width, write: () => undefined };
    }
    expectKind(values, 'BYTES');
    const v = (values as Extract<ValueBlock, { kind: 'BYTES' }>).values;
    checkVarBytes(v, 'raw forward index');
    checkLongest(v, input.maxValueBytes ?? 0);
    return svVarRows(v);
  }
  if ('kind' in values) throw usage('a multi-value column needs multi-value rows, not a ValueBlock');
  checkMvOffsets(values);
  const maxValues = input.maxValuesPerRow ?? 0;
  if (width !== undefined) {
    expectKind(values.values, storedType);
    checkRowSizes(values.offsets, maxValues);
    // V5/V6 rows are the bare values; v2/v3/V4 rows start with the element count.
    return mvFixedRows(values as MultiValueBlock<FixedBlock>, width, plan.format !== 'V5' && plan.format !== 'V6');
  }
  expectKind(values.values, 'BYTES');
  const elements = (values.values as Extract<ValueBlock, { kind: 'BYTES' }>).values;
  checkVarBytes(elements, 'raw forward index');
  checkRowSizes(values.offsets, maxValues);
  const rowBytes = (r: number): number => elements.offsets[values.offsets[r + 1]!]! - elements.offsets[values.offsets[r]!]!;
  for (let r = 0; r + 1 < values.offsets.length; r++) {
    if (rowBytes(r) > (input.maxValueBytes ?? 0)) {
      throw usage(`row ${r} holds ${rowBytes(r)} bytes of values, more than maxValueBytes ${input.maxValueBytes}`);
    }
  }
  return mvVarRows(values.offsets, elements);
}

function expectKind(values: ValueBlock, kind: StoredType | 'BYTES'): void {
  const want = kind === 'STRING' || kind === 'BIG_DECIMAL' || kind === 'MAP' ? 'BYTES' : kind;
  if (values.kind !== want) throw usage(`a ${kind} column needs ${want} values, got ${values.kind}`);
}

function checkLongest(v: VarBytes, maxValueBytes: number): void {
  const { offsets } = v;
  for (let i = 0; i + 1 < offsets.length; i++) {
    const len = offsets[i + 1]! - offsets[i]!;
    if (len > maxValueBytes) throw usage(`value ${i} is ${len} bytes, longer than maxValueBytes ${maxValueBytes}`);
  }
}

function checkMvOffsets(rows: MultiValueBlock<ValueBlock>): void {
  const { offsets } = rows;
  if (offsets.length < 1 || offsets[0] !== 0) throw usage('multi-value offsets must start with 0');
  for (let r = 1; r < offsets.length; r++) {
    if (offsets[r]! < offsets[r - 1]!) throw usage(`multi-value offset ${r} is before offset ${r - 1}`);
  }
  const v = rows.values;
  const n = v.kind === 'BYTES' ? v.values.offsets.length - 1 : v.values.length;
  if (offsets[offsets.length - 1]! > n) throw usage(`multi-value offsets reach ${offsets[offsets.length - 1]}, only ${n} values given`);
}

function checkRowSizes(offsets: Int32Array, maxValues: number): void {
  for (let r = 0; r + 1 < offsets.length; r++) {
    const n = offsets[r + 1]! - offsets[r]!;
    if (n > maxValues) throw usage(`row ${r} has ${n} values, more than maxValuesPerRow ${maxValues}`);
  }
}

/** SV var-length: rows are the values themselves, contiguous in `data`. */
function svVarRows(v: VarBytes): Rows {
  const { offsets, data } = v;
  return {
    count: offsets.length - 1,
    length: (i) => offsets[i + 1]! - offsets[i]!,
    write: (from, to, dst, at) => copyBytes(dst, at, data, offsets[from]!, offsets[to]!),
  };
}

/**
 * MV INT/LONG/FLOAT/DOUBLE: `[i32 BE count] BE values` (count only when `counted`). The elements of a run of
 * rows are contiguous, so each `write` byte-swaps them in one native pass and then lays the rows down.
 */
function mvFixedRows(rows: MultiValueBlock<FixedBlock>, width: number, counted: boolean): Rows {
  const { offsets } = rows;
  const src = rows.values.values;
  const bytes = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  const prefix = counted ? 4 : 0;
  return {
    count: offsets.length - 1,
    length: (i) => prefix + (offsets[i + 1]! - offsets[i]!) * width,
    write(from, to, dst, at) {
      const be = bigEndianCopy(bytes, offsets[from]! * width, offsets[to]! * width, width);
      if (!counted) {
        dst.set(be, at);
        return;
      }
      let p = at;
      const base = offsets[from]! * width;
      for (let r = from; r < to; r++) {
        const a = offsets[r]! * width - base;
        const b = offsets[r + 1]! * width - base;
        writeInt32BE(dst, p, (b - a) / width);
        copyBytes(dst, p + 4, be, a, b);
        p += 4 + b - a;
      }
    },
  };
}

/** Bytes `[from, to)` of host-order elements of `width` bytes, as a BE copy (native swap; NaN payloads kept). */
function bigEndianCopy(bytes: Uint8Array, from: number, to: number, width: number): Uint8Array {
  const copy = bytes.slice(from, to);
  if (LITTLE_ENDIAN_HOST && copy.length > 0) {
    const b = Buffer.from(copy.buffer, copy.byteOffset, copy.byteLength);
    if (width === 4) b.swap32(); else b.swap64();
  }
  return copy;
}

/** MV STRING/BYTES/BIG_DECIMAL: `i32 BE count, count × i32 BE length, elements`. */
function mvVarRows(rowOffsets: Int32Array, elements: VarBytes): Rows {
  const { offsets, data } = elements;
  return {
    count: rowOffsets.length - 1,
    length(i) {
      const a = rowOffsets[i]!;
      const b = rowOffsets[i + 1]!;
      return 4 + 4 * (b - a) + offsets[b]! - offsets[a]!;
    },
    write(from, to, dst, at) {
      let p = at;
      for (let r = from; r < to; r++) {
        const a = rowOffsets[r]!;
        const b = rowOffsets[r + 1]!;
        writeInt32BE(dst, p, b - a);
        p += 4;
        for (let e = a; e < b; e++, p += 4) writeInt32BE(dst, p, offsets[e + 1]! - offsets[e]!);
        copyBytes(dst, p, data, offsets[a]!, offsets[b]!);
        p += offsets[b]! - offsets[a]!;
      }
    },
  };
}

function writeInt32BE(dst: Uint8Array, at: number, v: number): void {
  dst[at] = v >>> 24;
  dst[at + 1] = v >>> 16;
  dst[at + 2] = v >>> 8;
  dst[at + 3] = v;
}

function writeInt32LE(dst: Uint8Array, at: number, v: number): void {
  dst[at] = v;
  dst[at + 1] = v >>> 8;
  dst[at + 2] = v >>> 16;
  dst[at + 3] = v >>> 24;
}

// ---------------------------------------------------------------------------------------------------------
// Chunk files: fixed-width SV (v2, v3, ≥ 4) and var-byte v2/v3 (§9.5)

/**
 * Header (7 × i32 BE) + chunk offset table (i32 for v2, i64 later), then the chunks back to back. `fill`, when
 * given, writes all chunk bytes at once (the chunks then only carry their lengths).
 */
function assembleChunkFile(plan: RawForwardPlan, totalDocs: number, chunks: ArrayLike<number>[],
  fill?: (out: Uint8Array, at: number) => void): Uint8Array {
  const entry = plan.version === 2 ? 4 : 8;
  const headerSize = 28 + chunks.length * entry;
  let size = headerSize;
  for (const c of chunks) size += c.length;
  if (plan.version === 2 && size - (chunks[chunks.length - 1]?.length ?? 0) > INT_MAX) {
    throw usage(`chunk offsets pass 2 GB, which a version 2 file cannot hold; use version 3 or 4`);
  }
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, plan.version);
  dv.setInt32(4, chunks.length);
  dv.setInt32(8, plan.docsPerChunk!);
  dv.setInt32(12, plan.entrySize!);
  dv.setInt32(16, totalDocs);
  dv.setInt32(20, plan.codec);
  dv.setInt32(24, 28);
  let pos = headerSize;
  chunks.forEach((c, k) => {
    if (entry === 4) dv.setInt32(28 + 4 * k, pos); else dv.setBigInt64(28 + 8 * k, BigInt(pos));
    if (fill === undefined) out.set(c as Uint8Array, pos);
    pos += c.length;
  });
  fill?.(out, headerSize);
  return out;
}

function writeFixedChunkFile(values: FixedBlock, plan: RawForwardPlan): Uint8Array {
  const src = values.values;
  const width = src.BYTES_PER_ELEMENT;
  const n = src.length;
  const docsPerChunk = plan.docsPerChunk!;
  const bytes = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  if (plan.codec === ChunkCodec.PASS_THROUGH) {
    // Chunks are the values themselves, back to back: one copy and one native byte swap for the whole column.
    const sizes = Array.from({ length: Math.ceil(n / docsPerChunk) }, (_, k) =>
      ({ length: (Math.min(n, (k + 1) * docsPerChunk) - k * docsPerChunk) * width }));
    return assembleChunkFile(plan, n, sizes, (out, at) => out.set(bigEndianCopy(bytes, 0, bytes.length, width), at));
  }
  const chunks: Uint8Array[] = [];
  for (let first = 0; first < n; first += docsPerChunk) {
    const last = Math.min(n, first + docsPerChunk);
    chunks.push(compressChunk(plan.codec, bigEndianCopy(bytes, first * width, last * width, width), 'BE'));
  }
  return assembleChunkFile(plan, n, chunks);
}

/** Var-byte chunks: `docsPerChunk` i32 BE row offsets (0 for unused slots), then the rows. */
function writeVarChunkFile(rows: Rows, plan: RawForwardPlan): Uint8Array {
  const docsPerChunk = plan.docsPerChunk!;
  const tableSize = 4 * docsPerChunk;
  const chunks: Uint8Array[] = [];
  for (let first = 0; first < rows.count; first += docsPerChunk) {
    const last = Math.min(rows.count, first + docsPerChunk);
    let size = tableSize;
    for (let r = first; r < last; r++) size += rows.length(r);
    const chunk = new Uint8Array(size);
    let offset = tableSize;
    for (let r = first; r < last; r++) {
      writeInt32BE(chunk, 4 * (r - first), offset);
      offset += rows.length(r);
    }
    rows.write(first, last, chunk, tableSize);
    chunks.push(compressChunk(plan.codec, chunk, 'BE'));
  }
  return assembleChunkFile(plan, rows.count, chunks);
}

// ---------------------------------------------------------------------------------------------------------
// V4 / V5 / V6 (§9.6)

interface V4Chunk {
  firstDoc: number;
  huge: boolean;
  bytes: Uint8Array;
}

/**
 * Fills chunks as `VarByteChunkForwardIndexWriterV4.putBytes` does: a row needs 4 + ℓ bytes in a buffer of
 * `chunkSize` whose first 4 bytes are reserved; when it does not fit, the chunk is flushed, and a row that
 * cannot fit even an empty chunk (ℓ > chunkSize − 8) becomes a huge chunk of its own.
 */
function writeV4File(rows: Rows, plan: RawForwardPlan): Uint8Array {
  const capacity = plan.chunkSize!;
  const sizes = plan.format === 'V6' && plan.codec !== ChunkCodec.PASS_THROUGH;
  const chunks: V4Chunk[] = [];
  let first = 0;
  let used = 4;
  const flush = (end: number): void => {
    if (end > first) chunks.push({ firstDoc: first, huge: false, bytes: compressChunk(plan.codec, regularChunk(rows, first, end, used, sizes), 'LE') });
    first = end;
    used = 4;
  };
  for (let i = 0; i < rows.count; i++) {
    const need = 4 + rows.length(i);
    if (used > capacity - need) {
      flush(i);
      if (need > capacity - 4) {
        const value = new Uint8Array(need - 4);
        rows.write(i, i + 1, value, 0);
        chunks.push({ firstDoc: i, huge: true, bytes: compressChunk(plan.codec, value, 'LE') });
        first = i + 1;
        continue;
      }
    }
    used += need;
  }
  flush(rows.count);
  return assembleV4File(plan, chunks);
}

/** `[n][n row offsets or sizes][rows]`, framing LE, `used` = 4 + Σ(4 + ℓ) bytes. */
function regularChunk(rows: Rows, first: number, end: number, used: number, sizes: boolean): Uint8Array {
  const n = end - first;
  const chunk = new Uint8Array(used);
  writeInt32LE(chunk, 0, n);
  let offset = 4 * (n + 1);
  for (let r = first; r < end; r++) {
    const len = rows.length(r);
    writeInt32LE(chunk, 4 * (r - first + 1), sizes ? len : offset);
    offset += len;
  }
  rows.write(first, end, chunk, 4 * (n + 1));
  return chunk;
}

function assembleV4File(plan: RawForwardPlan, chunks: V4Chunk[]): Uint8Array {
  const dataStart = 16 + 8 * chunks.length;
  let dataSize = 0;
  for (const c of chunks) {
    // Pinot checks before each value that the chunks so far stay below 4 GB (u32 offsets).
    if (dataSize >= 2 ** 32) throw usage('compressed chunks exceed 4 GB, which u32 chunk offsets cannot address');
    dataSize += c.bytes.length;
  }
  const out = new Uint8Array(dataStart + dataSize);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, plan.version);
  dv.setInt32(4, plan.chunkSize!);
  dv.setInt32(8, plan.codec);
  dv.setInt32(12, dataStart);
  let offset = 0;
  chunks.forEach((c, k) => {
    dv.setUint32(16 + 8 * k, (c.firstDoc | (c.huge ? HUGE_FLAG : 0)) >>> 0, true);
    dv.setUint32(20 + 8 * k, offset, true);
    out.set(c.bytes, dataStart + offset);
    offset += c.bytes.length;
  });
  return out;
}
