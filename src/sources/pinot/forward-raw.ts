/**
 * Raw (no dictionary) forward indexes, spec §7 part 2, §9.5–§9.7, §9.9:
 * - chunk format v1–v3 (and fixed-width SV with header ≥ 4): fixed-width SV values, or var-byte rows;
 * - var-byte V4 / V5 / V6: variable docs per chunk, LE chunk framing, "huge" single-value chunks.
 *
 * Decoding is one chunk at a time from the ByteRange, and the last chunk is cached, so ascending batches cost
 * one decompression per chunk and memory stays bounded by a chunk plus the batch. Every header field, chunk
 * offset and row offset is checked against the bytes before it is used.
 */
import { ErrorCodes, SegmentFormatError, type ErrorCode, type ErrorContext } from '../../errors.js';
import { dataView, unfilledBytes, type ByteRange } from './bytes.js';
import { ChunkCodec, MAX_CHUNK_BYTES, checkCodec, codecName, declaredSize, decompressChunk } from './codecs.js';
import {
  FIXED_WIDTH, type MVRawForwardReader, type MultiValueBlock, type SVRawForwardReader, type StoredType,
  type ValueBlock, type VarBytes,
} from './types.js';

export interface RawForwardOptions {
  storedType: StoredType;
  singleValue: boolean;
  /** `segment.total.docs` (v1 files do not record it). */
  totalDocs: number;
  column?: string;
}

/** One decompressed chunk: docs `[first, first + count)`. */
interface Chunk {
  first: number;
  count: number;
  /** Where the compressed chunk starts in the forward-index buffer (for error context). */
  offset: number;
  bytes: Uint8Array;
  /** Var-byte chunks: `count + 1` row boundaries inside `bytes` (rows are back to back). */
  rows?: Int32Array;
}

/** Where chunks are and how to decode one; implemented by the two container formats. */
interface ChunkLayout {
  /** Index of the chunk holding `doc` (0 ≤ doc < totalDocs). */
  chunkOf(doc: number, hint: number): number;
  load(k: number): Chunk;
}

function fail(code: ErrorCode, message: string, context: ErrorContext, offset?: number): SegmentFormatError {
  return new SegmentFormatError(code, message, { context: offset === undefined ? context : { ...context, offset } });
}

export function openRawForward(
  range: ByteRange, opts: RawForwardOptions,
): SVRawForwardReader | MVRawForwardReader {
  const ctx: ErrorContext = opts.column === undefined
    ? { index: 'forward_index' }
    : { column: opts.column, index: 'forward_index' };
  const n = opts.totalDocs;
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
    throw fail(ErrorCodes.PINOT_BAD_METADATA, `totalDocs ${n} is not a doc count`, ctx);
  }
  rejectClp(range, ctx);
  if (range.length < 4) throw fail(ErrorCodes.PINOT_TRUNCATED, `forward index of ${range.length} bytes has no header`, ctx, 0);
  const version = dataView(range.read(0, 4)).getInt32(0);
  const width = FIXED_WIDTH[opts.storedType];
  const fixedSV = opts.singleValue && width !== undefined;

  let layout: ChunkLayout;
  let countPrefixed = true;
  if (fixedSV || (version >= 1 && version <= 3)) {
    layout = openChunkFile(range, version, n, fixedSV ? width : undefined, ctx);
  } else if (version >= 4 && version <= 6) {
    layout = openV4(range, version, n, ctx);
    countPrefixed = version === 4;
  } else {
    throw fail(ErrorCodes.PINOT_UNSUPPORTED_VERSION, `raw forward index version ${version} is not one of 1–6`, ctx, 0);
  }
  const cache = new ChunkCache(layout);
  const check = (start: number, end: number): void => checkReadRange(start, end, n);
  if (opts.singleValue) {
    return {
      kind: 'sv-raw',
      read: width !== undefined
        ? (s, e) => (check(s, e), readFixed(cache, opts.storedType, width, s, e))
        : (s, e) => (check(s, e), { kind: 'BYTES', values: readVarSV(cache, s, e) }),
    };
  }
  return {
    kind: 'mv-raw',
    read: (s, e) => (check(s, e), readMV(cache, opts.storedType, countPrefixed, s, e, ctx)),
  };
}

/** CLP-encoded log columns (§9.9) are a different index family; say so rather than "bad version". */
function rejectClp(range: ByteRange, ctx: ErrorContext): void {
  if (range.length < 5) return;
  const head = range.read(0, 5);
  if (head[0] === 0x43 && head[1] === 0x4c && head[2] === 0x50 && head[3] === 0x2e && head[4] === 0x76) {
    throw fail(
      ErrorCodes.PINOT_NO_FORWARD_INDEX,
      'forward index is CLP-encoded (CLP.v1/CLP.v2 log compression), which this exporter does not decode',
      ctx, 0,
    );
  }
}

function checkReadRange(start: number, end: number, totalDocs: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > totalDocs) {
    throw new RangeError(`read(${start}, ${end}) is outside docs [0, ${totalDocs}]`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Chunk format v1–v3 (§9.5)

function openChunkFile(
  range: ByteRange, version: number, totalDocs: number, width: number | undefined, ctx: ErrorContext,
): ChunkLayout {
  if (version < 1) throw fail(ErrorCodes.PINOT_UNSUPPORTED_VERSION, `raw forward index version ${version} is not ≥ 1`, ctx, 0);
  const headerLen = version === 1 ? 16 : 28;
  if (range.length < headerLen) {
    throw fail(ErrorCodes.PINOT_TRUNCATED, `version ${version} header needs ${headerLen} bytes, index has ${range.length}`, ctx, 0);
  }
  const h = dataView(range.read(0, headerLen));
  const numChunks = h.getInt32(4);
  const docsPerChunk = h.getInt32(8);
  const entrySize = h.getInt32(12);
  // v1 has no totalDocs/codec/table-offset fields: it was always SNAPPY with the table at 16.
  const codec = version === 1 ? ChunkCodec.SNAPPY : h.getInt32(20);
  const tableAt = version === 1 ? 16 : h.getInt32(24);
  if (version >= 2 && h.getInt32(16) !== totalDocs) {
    throw fail(ErrorCodes.PINOT_CORRUPT, `header says ${h.getInt32(16)} docs, segment metadata ${totalDocs}`, ctx, 16);
  }
  checkCodec(codec, { ...ctx, offset: 20 });
  if (docsPerChunk < 1) throw fail(ErrorCodes.PINOT_CORRUPT, `docsPerChunk ${docsPerChunk} is not positive`, ctx, 8);
  if (width !== undefined && version >= 4 && (docsPerChunk & (docsPerChunk - 1)) !== 0) {
    throw fail(ErrorCodes.PINOT_CORRUPT, `version ${version} needs a power-of-two docsPerChunk, got ${docsPerChunk}`, ctx, 8);
  }
  if (width !== undefined ? entrySize !== width : entrySize < 0) {
    throw fail(ErrorCodes.PINOT_CORRUPT, `entry size ${entrySize} is wrong for this column (fixed width ${width ?? 'none'})`, ctx, 12);
  }
  if (numChunks !== Math.ceil(totalDocs / docsPerChunk)) {
    throw fail(ErrorCodes.PINOT_CORRUPT, `${numChunks} chunks cannot hold ${totalDocs} docs at ${docsPerChunk} per chunk`, ctx, 4);
  }
  const maxChunk = docsPerChunk * (width ?? 4 + entrySize);
  if (maxChunk > MAX_CHUNK_BYTES) throw fail(ErrorCodes.PINOT_CORRUPT, `chunks of ${maxChunk} bytes exceed 2 GiB`, ctx, 8);
  const offsets = readChunkOffsets(range, version <= 2 ? 4 : 8, tableAt, numChunks, headerLen, ctx);

  return {
    chunkOf: (doc) => Math.floor(doc / docsPerChunk),
    load(k) {
      const first = k * docsPerChunk;
      const count = Math.min(totalDocs, first + docsPerChunk) - first;
      const at = offsets[k]!;
      const chunkCtx = { ...ctx, offset: at };
      const bytes = decompressChunk(codec, range.read(at, offsets[k + 1]!), maxChunk, chunkCtx, 'BE');
      if (width !== undefined) {
        if (bytes.length < count * width) {
          throw fail(ErrorCodes.PINOT_CORRUPT, `chunk ${k} holds ${bytes.length} bytes, ${count} values need ${count * width}`, chunkCtx);
        }
        return { first, count, offset: at, bytes };
      }
      return { first, count, offset: at, bytes, rows: chunkRowBounds(bytes, docsPerChunk, count, chunkCtx) };
    },
  };
}

/** The chunk offset table (i32 in v1/v2, i64 later) plus the end of the buffer, validated ascending. */
function readChunkOffsets(
  range: ByteRange, entry: 4 | 8, tableAt: number, numChunks: number, headerLen: number, ctx: ErrorContext,
): number[] {
  const tableEnd = tableAt + numChunks * entry;
  if (tableAt < headerLen) {
    throw fail(ErrorCodes.PINOT_CORRUPT, `chunk offset table at ${tableAt} overlaps the ${headerLen}-byte header`, ctx, 24);
  }
  if (tableEnd > range.length) {
    throw fail(ErrorCodes.PINOT_TRUNCATED, `chunk offset table [${tableAt}, ${tableEnd}) does not fit ${range.length} bytes`, ctx, tableAt);
  }
  const t = dataView(range.read(tableAt, tableEnd));
  const offsets = new Array<number>(numChunks + 1);
  let prev = tableEnd;
  for (let k = 0; k < numChunks; k++) {
    const off = entry === 4 ? t.getInt32(k * 4) : Number(t.getBigInt64(k * 8));
    if (off < prev || off > range.length) {
      throw fail(ErrorCodes.PINOT_CORRUPT, `chunk ${k} offset ${off} is outside [${prev}, ${range.length}]`, ctx, tableAt + k * entry);
    }
    offsets[k] = prev = off;
  }
  offsets[numChunks] = range.length;
  return offsets;
}

/**
 * A var-byte chunk starts with `docsPerChunk` i32 BE row offsets; a row ends at the next offset, or at the
 * chunk end for the last slot or when the next slot is 0 (unused slots of the last chunk).
 */
function chunkRowBounds(bytes: Uint8Array, docsPerChunk: number, count: number, ctx: ErrorContext): Int32Array {
  const tableLen = 4 * docsPerChunk;
  if (bytes.length < tableLen) {
    throw fail(ErrorCodes.PINOT_CORRUPT, `var-byte chunk of ${bytes.length} bytes is shorter than its ${tableLen}-byte row table`, ctx);
  }
  const v = dataView(bytes);
  const rows = new Int32Array(count + 1);
  for (let r = 0; r < count; r++) rows[r] = v.getInt32(4 * r);
  const next = count < docsPerChunk ? v.getInt32(4 * count) : 0;
  rows[count] = next === 0 ? bytes.length : next;
  checkAscending(rows, tableLen, bytes.length, ctx);
  return rows;
}

function checkAscending(rows: Int32Array, min: number, max: number, ctx: ErrorContext): void {
  let prev = min;
  for (let r = 0; r < rows.length; r++) {
    const x = rows[r]!;
    if (x < prev || x > max) {
      throw fail(ErrorCodes.PINOT_CORRUPT, `row ${r} of the chunk starts at ${x}, outside [${prev}, ${max}]`, ctx);
    }
    prev = x;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Var-byte V4 / V5 / V6 (§9.6)

const HUGE_FLAG = 0x80000000;

function openV4(range: ByteRange, version: number, totalDocs: number, ctx: ErrorContext): ChunkLayout {
  if (range.length < 16) throw fail(ErrorCodes.PINOT_TRUNCATED, `V${version} header needs 16 bytes, index has ${range.length}`, ctx, 0);
  const h = dataView(range.read(0, 16));
  const chunkSize = h.getInt32(4);
  const codec = h.getInt32(8);
  const dataAt = h.getInt32(12);
  checkCodec(codec, { ...ctx, offset: 8 });
  if (chunkSize < 8) throw fail(ErrorCodes.PINOT_CORRUPT, `target chunk size ${chunkSize} is too small`, ctx, 4);
  if (dataAt < 16 || (dataAt - 16) % 8 !== 0 || dataAt > range.length) {
    throw fail(ErrorCodes.PINOT_CORRUPT, `chunk data offset ${dataAt} is not 16 + 8·k within ${range.length} bytes`, ctx, 12);
  }
  const { firsts, offsets, huge } = readV4Metadata(range, dataAt, totalDocs, ctx);
  const numChunks = firsts.length;
  firsts.push(totalDocs);
  // V6 stores row sizes instead of offsets whenever the chunks are compressed.
  const sizes = version === 6 && codec !== ChunkCodec.PASS_THROUGH;

  return {
    chunkOf(doc, hint) {
      if (doc >= firsts[hint]! && doc < firsts[hint + 1]!) return hint;
      if (doc >= firsts[hint + 1]! && doc < (firsts[hint + 2] ?? 0)) return hint + 1;
      let lo = 0;
      let hi = numChunks - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (firsts[mid]! <= doc) lo = mid; else hi = mid - 1;
      }
      return lo;
    },
    load(k) {
      const first = firsts[k]!;
      const count = firsts[k + 1]! - first;
      const at = offsets[k]!;
      const chunkCtx = { ...ctx, offset: at };
      const src = range.read(at, offsets[k + 1]!);
      if (huge[k]) {
        const size = declaredSize(codec, src, 'LE', chunkCtx);
        if (size === undefined) {
          throw fail(ErrorCodes.PINOT_CORRUPT, `huge chunk ${k} (${codecName(codec)}) does not record its size`, chunkCtx);
        }
        const bytes = decompressChunk(codec, src, size, chunkCtx, 'LE');
        return { first, count, offset: at, bytes, rows: Int32Array.of(0, bytes.length) };
      }
      const bytes = decompressChunk(codec, src, chunkSize, chunkCtx, 'LE');
      return { first, count, offset: at, bytes, rows: v4RowBounds(bytes, count, sizes, chunkCtx) };
    },
  };
}

/** Chunk metadata (LE): i32 firstDocId (bit 31 = huge) and u32 offset relative to the data start. */
function readV4Metadata(
  range: ByteRange, dataAt: number, totalDocs: number, ctx: ErrorContext,
): { firsts: number[]; offsets: number[]; huge: boolean[] } {
  const numChunks = (dataAt - 16) / 8;
  if ((numChunks === 0) !== (totalDocs === 0)) {
    throw fail(ErrorCodes.PINOT_CORRUPT, `${numChunks} chunks for ${totalDocs} docs`, ctx, 12);
  }
  const m = dataView(range.read(16, dataAt));
  const firsts: number[] = [];
  const offsets: number[] = [];
  const huge: boolean[] = [];
  for (let k = 0; k < numChunks; k++) {
    const word = m.getUint32(8 * k, true);
    const first = (word & ~HUGE_FLAG) >>> 0;
    const off = dataAt + m.getUint32(8 * k + 4, true);
    const minFirst = k === 0 ? 0 : firsts[k - 1]! + 1;
    if (first < minFirst || first >= totalDocs || (k === 0 && first !== 0)) {
      throw fail(ErrorCodes.PINOT_CORRUPT, `chunk ${k} starts at doc ${first}, expected ${minFirst}…${totalDocs - 1}`, ctx, 16 + 8 * k);
    }
    if (off < (offsets[k - 1] ?? dataAt) || off > range.length) {
      throw fail(ErrorCodes.PINOT_CORRUPT, `chunk ${k} offset ${off} is outside its predecessor … ${range.length}`, ctx, 20 + 8 * k);
    }
    firsts.push(first);
    offsets.push(off);
    huge.push((word & HUGE_FLAG) !== 0);
  }
  for (let k = 0; k < numChunks; k++) {
    if (huge[k] && (firsts[k + 1] ?? totalDocs) !== firsts[k]! + 1) {
      throw fail(ErrorCodes.PINOT_CORRUPT, `huge chunk ${k} must hold exactly one doc`, ctx, 16 + 8 * k);
    }
  }
  offsets.push(range.length);
  return { firsts, offsets, huge };
}

/** Regular V4+ chunk (LE): i32 n, then n row offsets (or V6 sizes), then the row bytes. */
function v4RowBounds(bytes: Uint8Array, count: number, sizes: boolean, ctx: ErrorContext): Int32Array {
  const headerLen = 4 * (count + 1);
  if (bytes.length < headerLen) {
    throw fail(ErrorCodes.PINOT_CORRUPT, `chunk of ${bytes.length} bytes is shorter than its ${headerLen}-byte row header`, ctx);
  }
  const v = dataView(bytes);
  const n = v.getInt32(0, true);
  if (n !== count) throw fail(ErrorCodes.PINOT_CORRUPT, `chunk holds ${n} docs, its metadata says ${count}`, ctx);
  const rows = new Int32Array(count + 1);
  if (sizes) {
    let end = headerLen;
    for (let r = 0; r < count; r++) {
      rows[r] = end;
      const size = v.getInt32(4 + 4 * r, true);
      if (size < 0 || end + size > bytes.length) {
        throw fail(ErrorCodes.PINOT_CORRUPT, `row ${r} of ${size} bytes at ${end} overruns the ${bytes.length}-byte chunk`, ctx);
      }
      end += size;
    }
    rows[count] = end;
    return rows;
  }
  for (let r = 0; r < count; r++) rows[r] = v.getInt32(4 + 4 * r, true);
  rows[count] = bytes.length;
  checkAscending(rows, headerLen, bytes.length, ctx);
  return rows;
}

// ---------------------------------------------------------------------------------------------------------
// Rows out of chunks

/** Keeps the last decoded chunk: ascending batches touch each chunk once. */
class ChunkCache {
  private index = -1;
  private chunk: Chunk | undefined;

  constructor(private readonly layout: ChunkLayout) {}

  /** The chunk holding `doc`. */
  get(doc: number): Chunk {
    const k = this.layout.chunkOf(doc, Math.max(0, this.index));
    if (k !== this.index || this.chunk === undefined) {
      this.chunk = undefined; // let the old chunk go before the new one is allocated
      this.chunk = this.layout.load(k);
      this.index = k;
    }
    return this.chunk;
  }
}

/** Calls `fn(chunk, from, to)` for each chunk piece of docs `[start, end)` (chunk-relative rows). */
function forEachPiece(cache: ChunkCache, start: number, end: number, fn: (c: Chunk, from: number, to: number) => void): void {
  let doc = start;
  while (doc < end) {
    const c = cache.get(doc);
    const to = Math.min(end, c.first + c.count) - c.first;
    fn(c, doc - c.first, to);
    doc = c.first + to;
  }
}

function readFixed(cache: ChunkCache, type: StoredType, width: number, start: number, end: number): ValueBlock {
  const out = new Uint8Array((end - start) * width);
  let pos = 0;
  forEachPiece(cache, start, end, (c, from, to) => {
    out.set(c.bytes.subarray(from * width, to * width), pos);
    pos += (to - from) * width;
  });
  return fixedBlock(type, out);
}

/** Big-endian values → a typed array; Buffer's native swap is far faster than DataView reads. */
function fixedBlock(type: StoredType, be: Uint8Array): ValueBlock {
  const buf = Buffer.from(be.buffer, be.byteOffset, be.byteLength);
  switch (type) {
    case 'INT': buf.swap32(); return { kind: 'INT', values: new Int32Array(be.buffer, be.byteOffset, be.length / 4) };
    case 'FLOAT': buf.swap32(); return { kind: 'FLOAT', values: new Float32Array(be.buffer, be.byteOffset, be.length / 4) };
    case 'LONG': buf.swap64(); return { kind: 'LONG', values: new BigInt64Array(be.buffer, be.byteOffset, be.length / 8) };
    case 'DOUBLE': buf.swap64(); return { kind: 'DOUBLE', values: new Float64Array(be.buffer, be.byteOffset, be.length / 8) };
    default: throw new Error(`not a fixed-width type: ${type}`);
  }
}

/** SV var-length rows: consecutive rows of a chunk are contiguous, so each chunk piece is one copy. */
function readVarSV(cache: ChunkCache, start: number, end: number): VarBytes {
  const offsets = new Int32Array(end - start + 1);
  const parts = new Parts();
  let i = 0;
  forEachPiece(cache, start, end, (c, from, to) => {
    const rows = c.rows!;
    const shift = parts.length - rows[from]!;
    for (let r = from; r < to; r++) offsets[++i] = rows[r + 1]! + shift;
    parts.push(c.bytes.subarray(rows[from], rows[to]));
  });
  return { offsets, data: parts.concat() };
}

/**
 * MV rows (§9.7), all BE: fixed-width elements as "i32 count + values" (or bare values in V5/V6);
 * var-length elements as "i32 count, count × i32 length, elements".
 */
function readMV(
  cache: ChunkCache, type: StoredType, countPrefixed: boolean, start: number, end: number, ctx: ErrorContext,
): MultiValueBlock<ValueBlock> {
  const rowOffsets = new Int32Array(end - start + 1);
  const width = FIXED_WIDTH[type];
  const parts = new Parts();
  const elementEnds = new Int32Builder();
  let i = 0;
  let elements = 0;
  forEachPiece(cache, start, end, (c, from, to) => {
    const rows = c.rows!;
    const v = dataView(c.bytes);
    for (let r = from; r < to; r++) {
      const a = rows[r]!;
      const b = rows[r + 1]!;
      const n = width !== undefined ? fixedRow(v, a, b, width, countPrefixed, parts) : varRow(v, c.bytes, a, b, parts, elementEnds);
      if (typeof n === 'string') throw fail(ErrorCodes.PINOT_CORRUPT, n, { ...ctx, offset: c.offset, row: c.first + r });
      elements += n;
      rowOffsets[++i] = elements;
    }
  });
  const data = parts.concat();
  if (width !== undefined) return { offsets: rowOffsets, values: fixedBlock(type, data) };
  return { offsets: rowOffsets, values: { kind: 'BYTES', values: { offsets: elementEnds.finish(), data } } };
}

/** Appends one fixed-width MV row's values; returns the element count, or what is wrong with the row. */
function fixedRow(v: DataView, a: number, b: number, width: number, countPrefixed: boolean, parts: Parts): number | string {
  let from = a;
  let count = (b - a) / width;
  if (countPrefixed) {
    if (b - a < 4) return `MV row of ${b - a} bytes has no element count`;
    count = v.getInt32(a);
    from = a + 4;
    if (count < 0 || from + count * width !== b) return `MV row of ${b - a} bytes cannot hold ${count} values of ${width} bytes`;
  } else if (!Number.isInteger(count)) {
    return `MV row of ${b - a} bytes is not a whole number of ${width}-byte values`;
  }
  parts.push(new Uint8Array(v.buffer, v.byteOffset + from, b - from));
  return count;
}

/** Appends one var-length MV row's elements; returns the element count, or what is wrong with the row. */
function varRow(v: DataView, bytes: Uint8Array, a: number, b: number, parts: Parts, ends: Int32Builder): number | string {
  const count = b - a >= 4 ? v.getInt32(a) : -1;
  if (count < 0 || 4 + 4 * count > b - a) return `MV row of ${b - a} bytes cannot hold ${count} element lengths`;
  const dataStart = a + 4 + 4 * count;
  let pos = dataStart;
  let end = parts.length;
  for (let e = 0; e < count; e++) {
    const len = v.getInt32(a + 4 + 4 * e);
    if (len < 0 || pos + len > b) return `MV element ${e} of ${len} bytes overruns its ${b - a}-byte row`;
    pos += len;
    ends.push(end += len);
  }
  if (pos !== b) return `MV row has ${b - pos} bytes after its ${count} elements`;
  parts.push(bytes.subarray(dataStart, b));
  return count;
}

/** Byte views collected across chunks, copied once into one exactly-sized buffer. */
class Parts {
  private readonly list: Uint8Array[] = [];
  length = 0;

  push(part: Uint8Array): void {
    if (part.length === 0) return;
    if (this.length + part.length > MAX_CHUNK_BYTES) {
      throw new RangeError('a raw forward-index batch exceeds 2 GiB of values; read fewer docs at a time');
    }
    this.list.push(part);
    this.length += part.length;
  }

  concat(): Uint8Array {
    const out = unfilledBytes(this.length);
    let pos = 0;
    for (const p of this.list) {
      if (p.length < 16) {
        for (let j = 0; j < p.length; j++) out[pos + j] = p[j]!;
      } else {
        out.set(p, pos);
      }
      pos += p.length;
    }
    return out;
  }
}

/** Element end offsets; starts with the leading 0 of a VarBytes offsets array. */
class Int32Builder {
  private buf = new Int32Array(1024);
  private n = 1;

  push(x: number): void {
    if (this.n === this.buf.length) {
      const grown = new Int32Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.n++] = x;
  }

  finish(): Int32Array {
    return this.buf.slice(0, this.n);
  }
}
