/**
 * Forward indexes of dictionary-encoded columns (§7 part 1, §9.1–9.4): doc → dict id(s). Readers are lazy:
 * each call reads only the bytes of the requested doc range from the ByteRange, so a large column is never
 * held in memory; small per-reader cursors make ascending sequential batches cheap.
 */
import { ErrorCodes, SegmentFormatError, type ErrorCode, type ErrorContext } from '../../errors.js';
import { countSetBits, findSetBits, nthSetBit, packedByteLength, unpackBitsAt, bitsFor } from './bitpack.js';
import { dataView, readTransient, unfilledInt32, type ByteRange } from './bytes.js';
import type { MultiValueBlock, MVDictForwardReader, SVDictForwardReader } from './types.js';

export interface DictForwardOptions {
  singleValue: boolean;
  isSorted: boolean;
  /** `bitsPerElement`: width of a dict id. */
  bits: number;
  cardinality: number;
  totalDocs: number;
  /** `totalNumberOfEntries`; needed only by the fixed-bit MV format. */
  totalEntries: number;
  column?: string;
}

/** Picks the decoder as §7 part 1 says; MV_ENTRY_DICT is recognised by its magic number. */
export function openDictForward(range: ByteRange, o: DictForwardOptions): SVDictForwardReader | MVDictForwardReader {
  const { bits, cardinality, totalDocs, column } = o;
  if (o.singleValue) {
    return o.isSorted ? openSortedSV(range, { cardinality, totalDocs, column })
      : openFixedBitSV(range, { bits, totalDocs, cardinality, column });
  }
  if (range.length > 4 && dataView(range.read(0, 4)).getUint32(0) === MV_ENTRY_DICT_MAGIC) {
    return openMVEntryDict(range, { bits, totalDocs, cardinality, column });
  }
  return openFixedBitMV(range, { bits, totalDocs, totalEntries: o.totalEntries, cardinality, column });
}

// ---- shared checks ----

function fail(code: ErrorCode, detail: string, ctx: ErrorContext, offset?: number, row?: number): SegmentFormatError {
  return new SegmentFormatError(code, detail, { context: { ...ctx, offset, row } });
}

function contextOf(column: string | undefined): ErrorContext {
  return { column, index: 'forward_index' };
}

function checkCount(name: string, n: number, ctx: ErrorContext): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > 0x7fffffff) {
    throw fail(ErrorCodes.PINOT_BAD_METADATA, `${name} ${n} is not a count`, ctx);
  }
}

function checkBits(bits: number, ctx: ErrorContext): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 32) {
    throw fail(ErrorCodes.PINOT_BAD_METADATA, `bits per dict id ${bits} is not in 1…32`, ctx);
  }
}

/** Buffer length must match the format's arithmetic exactly (Pinot writes no slack). */
function checkLength(range: ByteRange, expected: number, what: string, ctx: ErrorContext): void {
  if (range.length < expected) {
    throw fail(ErrorCodes.PINOT_TRUNCATED, `${what} need ${expected} bytes, the buffer has ${range.length}`, ctx, range.length);
  }
  if (range.length > expected) {
    throw fail(ErrorCodes.PINOT_CORRUPT, `${what} need ${expected} bytes, the buffer has ${range.length}`, ctx, expected);
  }
}

function checkDocRange(start: number, end: number, totalDocs: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > totalDocs) {
    throw new RangeError(`doc range [${start}, ${end}) is outside 0…${totalDocs}`);
  }
}

/**
 * Throws PINOT_CORRUPT for the first id ≥ `limit` (or negative: a 32-bit id ≥ 2^31) in `ids`. `where(i)` gives
 * the byte offset and row of `ids[i]` for the message.
 */
function checkIds(ids: Int32Array, limit: number | undefined, what: string, ctx: ErrorContext,
  where: (i: number) => { offset: number; row?: number }): void {
  if (limit === undefined) return;
  for (let i = 0; i < ids.length; i++) {
    if ((ids[i]! >>> 0) >= limit) {
      const at = where(i);
      throw fail(ErrorCodes.PINOT_CORRUPT, `${what} ${ids[i]! >>> 0} is not below ${limit}`, ctx, at.offset, at.row);
    }
  }
}

/** The bound ids must stay under, or undefined when every `bits`-bit value is a valid id anyway. */
function idLimit(cardinality: number | undefined, bits: number): number | undefined {
  return cardinality !== undefined && cardinality < 2 ** bits ? cardinality : undefined;
}

/** Bytes of values `[first, first+count)` of a packed section starting at `sectionStart`, plus the bit offset. */
function readPacked(range: ByteRange, sectionStart: number, first: number, count: number, bits: number,
  out: Int32Array): void {
  const firstBit = first * bits;
  const from = Math.floor(firstBit / 8);
  // Unpacked at once into `out`: the bytes need not outlive this call.
  const bytes = readTransient(range, sectionStart + from, sectionStart + Math.ceil((firstBit + count * bits) / 8));
  unpackBitsAt(bytes, firstBit - from * 8, count, bits, out);
}

// ---- §9.1 fixed-bit SV ----

export function openFixedBitSV(range: ByteRange,
  o: { bits: number; totalDocs: number; cardinality?: number; column?: string }): SVDictForwardReader {
  const ctx = contextOf(o.column);
  const { bits, totalDocs } = o;
  checkBits(bits, ctx);
  checkCount('totalDocs', totalDocs, ctx);
  checkLength(range, packedByteLength(totalDocs, bits), `${totalDocs} dict ids of ${bits} bits`, ctx);
  const limit = idLimit(o.cardinality, bits);
  return {
    kind: 'sv-dict',
    readDictIds(start, end, opts) {
      checkDocRange(start, end, totalDocs);
      const out = unfilledInt32(end - start);
      if (end === start) return out;
      readPacked(range, 0, start, end - start, bits, out);
      // 32-bit ids are checked anyway: one of them can be −1, which renumberIds takes for a null mark.
      if (opts?.unchecked !== true || bits === 32) {
        checkIds(out, limit, 'dict id', ctx, (i) => ({ offset: Math.floor(((start + i) * bits) / 8), row: start + i }));
      }
      return out;
    },
  };
}

// ---- §9.2 sorted SV ----

const PAIRS_PER_WINDOW = 8192;

/**
 * `cardinality` pairs (first doc, last doc) — dict id d covers docs `[first_d, last_d]`. Pairs are loaded a
 * window at a time and every loaded window is checked: contiguous, non-empty, starting at doc 0, ending at
 * the last doc. The reader keeps the pair of the last doc read, so sequential batches never search.
 */
export function openSortedSV(range: ByteRange,
  o: { cardinality: number; totalDocs: number; column?: string }): SVDictForwardReader {
  const ctx = contextOf(o.column);
  const { cardinality, totalDocs } = o;
  checkCount('cardinality', cardinality, ctx);
  checkCount('totalDocs', totalDocs, ctx);
  checkLength(range, 8 * cardinality, `${cardinality} sorted doc ranges`, ctx);
  if ((cardinality === 0) !== (totalDocs === 0)) {
    throw fail(ErrorCodes.PINOT_CORRUPT, `${cardinality} sorted doc ranges cannot cover ${totalDocs} docs`, ctx, 0);
  }
  let winFirst = -1; // pair index of pairs[0]
  let pairs = new Int32Array(0); // first, last, first, last, …
  let cursor = 0;

  const load = (window: number): void => {
    const first = window * PAIRS_PER_WINDOW;
    const count = Math.min(PAIRS_PER_WINDOW, cardinality - first);
    // Include the previous pair's last doc so continuity is checked across windows too.
    const from = first === 0 ? 0 : 8 * first - 4;
    const dv = dataView(range.read(from, 8 * (first + count)));
    let prevLast = first === 0 ? -1 : dv.getInt32(0);
    const base = first === 0 ? 0 : 4;
    const next = new Int32Array(2 * count);
    for (let i = 0; i < count; i++) {
      const s = dv.getInt32(base + 8 * i);
      const e = dv.getInt32(base + 8 * i + 4);
      const at = 8 * (first + i);
      if (s !== prevLast + 1) {
        throw fail(ErrorCodes.PINOT_CORRUPT, `sorted range ${first + i} starts at doc ${s}, expected ${prevLast + 1}`, ctx, at);
      }
      if (e < s || e >= totalDocs) {
        throw fail(ErrorCodes.PINOT_CORRUPT, `sorted range ${first + i} ends at doc ${e} (starts ${s}, ${totalDocs} docs)`, ctx, at + 4);
      }
      next[2 * i] = s;
      next[2 * i + 1] = e;
      prevLast = e;
    }
    if (first + count === cardinality && prevLast !== totalDocs - 1) {
      throw fail(ErrorCodes.PINOT_CORRUPT, `sorted ranges end at doc ${prevLast}, expected ${totalDocs - 1}`, ctx, 8 * cardinality - 4);
    }
    winFirst = first;
    pairs = next;
  };

  /** Pair index whose range holds `doc`. */
  const locate = (doc: number): number => {
    const inWindow = (): boolean => winFirst >= 0 && doc >= pairs[0]! && doc <= pairs[pairs.length - 1]!;
    if (!inWindow()) {
      // Binary search for the window: first doc of window w is the first doc of pair w·PAIRS_PER_WINDOW.
      let lo = 0;
      let hi = Math.ceil(cardinality / PAIRS_PER_WINDOW) - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        const at = 8 * mid * PAIRS_PER_WINDOW;
        if (dataView(range.read(at, at + 4)).getInt32(0) <= doc) lo = mid;
        else hi = mid - 1;
      }
      load(lo);
      if (!inWindow()) {
        // The next window's first range (read by the search) starts after a gap.
        throw fail(ErrorCodes.PINOT_CORRUPT, `no sorted range holds doc ${doc}`, ctx, 8 * (winFirst + pairs.length / 2), doc);
      }
    }
    let lo = 0;
    let hi = pairs.length / 2 - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (pairs[2 * mid]! <= doc) lo = mid;
      else hi = mid - 1;
    }
    return winFirst + lo;
  };

  return {
    kind: 'sv-dict',
    readDictIds(start, end) {
      checkDocRange(start, end, totalDocs);
      const out = unfilledInt32(end - start);
      if (end === start) return out;
      const cur = cursor - winFirst;
      let d = winFirst >= 0 && cur >= 0 && cur < pairs.length / 2 && pairs[2 * cur]! <= start && start <= pairs[2 * cur + 1]!
        ? cursor : locate(start);
      let doc = start;
      for (;;) {
        const last = pairs[2 * (d - winFirst) + 1]!;
        const stop = Math.min(last + 1, end);
        out.fill(d, doc - start, stop - start);
        doc = stop;
        if (doc === end) break;
        d++;
        if (d - winFirst >= pairs.length / 2) load(Math.floor(d / PAIRS_PER_WINDOW));
      }
      cursor = d;
      return out;
    },
  };
}

// ---- §9.3 fixed-bit MV ----

const BITMAP_WINDOW = 1 << 16;

/**
 * Chunk offsets, then a row-start bitmap (one set bit per doc at its first value), then the packed values.
 * The reader walks the bitmap from a cursor (the first value of the next doc) for sequential batches and
 * jumps through the chunk offsets otherwise.
 */
export function openFixedBitMV(range: ByteRange,
  o: { bits: number; totalDocs: number; totalEntries: number; cardinality?: number; column?: string }): MVDictForwardReader {
  const ctx = contextOf(o.column);
  const { bits, totalDocs: N, totalEntries: T } = o;
  checkBits(bits, ctx);
  checkCount('totalDocs', N, ctx);
  checkCount('totalNumberOfEntries', T, ctx);
  if (N === 0) return emptyMV();
  if (T < N) {
    throw fail(ErrorCodes.PINOT_BAD_METADATA, `${T} values cannot fill ${N} multi-value rows (each has at least one)`, ctx);
  }
  // Pinot divides with integers first: 106688 values / 100000 docs → 1 → 2048 docs per chunk.
  const docsPerChunk = Math.ceil(2048 / Math.floor(T / N));
  const numChunks = Math.ceil(N / docsPerChunk);
  const bitmapStart = 4 * numChunks;
  const bitmapBytes = Math.ceil(T / 8);
  const valuesStart = bitmapStart + bitmapBytes;
  checkLength(range, valuesStart + packedByteLength(T, bits),
    `${numChunks} chunk offsets, a ${T}-bit row-start bitmap and ${T} dict ids of ${bits} bits`, ctx);
  const limit = idLimit(o.cardinality, bits);

  // One cached window of the bitmap, addressed in bits from the start of the bitmap.
  let win: Uint8Array = new Uint8Array(0);
  let winBit = 0;
  const windowAt = (bit: number): void => {
    const byte = Math.floor(bit / 8);
    if (byte >= winBit / 8 && byte < winBit / 8 + win.length) return;
    const end = Math.min(bitmapBytes, byte + BITMAP_WINDOW);
    win = range.read(bitmapStart + byte, bitmapStart + end);
    winBit = byte * 8;
  };
  /** Position of the set bit with `n` set bits before it at or after `from`; -1 when the bitmap runs out. */
  const skip = (from: number, n: number): number => {
    let pos = from;
    let left = n;
    while (pos < T) {
      windowAt(pos);
      const stop = Math.min(T, winBit + 8 * win.length);
      const c = countSetBits(win, pos - winBit, stop - winBit);
      if (c > left) return winBit + nthSetBit(win, pos - winBit, stop - winBit, left);
      left -= c;
      pos = stop;
    }
    return -1;
  };
  /** Up to `need` set-bit positions at or after `from`, minus `origin`, into `out[at …]`; returns the count. */
  const collect = (from: number, need: number, out: Int32Array, at: number, origin: number): number => {
    let pos = from;
    let found = 0;
    while (found < need && pos < T) {
      windowAt(pos);
      const stop = Math.min(T, winBit + 8 * win.length);
      found += findSetBits(win, pos - winBit, stop - winBit, need - found, out, at + found, winBit - origin);
      pos = stop;
    }
    return found;
  };
  const missingRows = (doc: number): SegmentFormatError => fail(ErrorCodes.PINOT_CORRUPT,
    `row-start bitmap has fewer than ${N} set bits (no start for doc ${doc})`, ctx, valuesStart, doc);

  if (skip(0, 0) !== 0) {
    throw fail(ErrorCodes.PINOT_CORRUPT, 'row-start bitmap does not start with a set bit (doc 0 must start at value 0)', ctx, bitmapStart);
  }
  let cursorDoc = 0;
  let cursorPos = 0; // first value of cursorDoc

  /** First value index of `doc` (< N). */
  const rowStart = (doc: number): number => {
    if (doc === cursorDoc) return cursorPos;
    let fromDoc = cursorDoc;
    let fromPos = cursorPos;
    if (doc < cursorDoc || doc - cursorDoc > docsPerChunk) {
      const chunk = Math.floor(doc / docsPerChunk);
      fromDoc = chunk * docsPerChunk;
      fromPos = dataView(range.read(4 * chunk, 4 * chunk + 4)).getInt32(0);
      if (fromPos < 0 || fromPos >= T || (chunk === 0 && fromPos !== 0) || skip(fromPos, 0) !== fromPos) {
        throw fail(ErrorCodes.PINOT_CORRUPT, `chunk ${chunk} offset ${fromPos} is not the start of a row`, ctx, 4 * chunk, fromDoc);
      }
    }
    if (doc === fromDoc) return fromPos;
    const pos = skip(fromPos + 1, doc - fromDoc - 1);
    if (pos < 0) throw missingRows(doc);
    return pos;
  };

  return {
    kind: 'mv-dict',
    readDictIds(start, end) {
      checkDocRange(start, end, N);
      const rows = end - start;
      const offsets = new Int32Array(rows + 1);
      if (rows === 0) return { offsets, values: new Int32Array(0) };
      const first = rowStart(start);
      // Starts of docs start+1 … end-1, and of doc `end` unless it is past the last doc (then T).
      const need = end < N ? rows : rows - 1;
      const found = collect(first + 1, need, offsets, 1, first);
      if (found < need) throw missingRows(start + 1 + found);
      let last: number;
      if (end < N) {
        last = first + offsets[rows]!;
      } else {
        const after = rows > 1 ? first + offsets[rows - 1]! : first;
        if (collect(after + 1, 1, new Int32Array(1), 0, 0) !== 0) {
          throw fail(ErrorCodes.PINOT_CORRUPT, `row-start bitmap has more than ${N} set bits`, ctx, bitmapStart);
        }
        last = T;
        offsets[rows] = T - first;
      }
      cursorDoc = end;
      cursorPos = last;
      const values = new Int32Array(last - first);
      readPacked(range, valuesStart, first, last - first, bits, values);
      checkIds(values, limit, 'dict id', ctx, (i) => ({ offset: valuesStart + Math.floor(((first + i) * bits) / 8) }));
      return { offsets, values };
    },
  };
}

function emptyMV(): MVDictForwardReader {
  return {
    kind: 'mv-dict',
    readDictIds(start, end) {
      checkDocRange(start, end, 0);
      return { offsets: new Int32Array(1), values: new Int32Array(0) };
    },
  };
}

// ---- §9.4 MV_ENTRY_DICT ----

export const MV_ENTRY_DICT_MAGIC = 0xffabcdef;
const ENTRY_HEADER = 24;

/**
 * Per doc an entry id; per distinct entry a slice of the value section. Entry ids are assigned in order of
 * first appearance, so a sequential read only ever needs a growing prefix of the entries: offsets and values
 * are decoded into that prefix on demand (the format exists for columns with few distinct rows).
 */
export function openMVEntryDict(range: ByteRange,
  o: { bits: number; totalDocs: number; cardinality?: number; column?: string }): MVDictForwardReader {
  const ctx = contextOf(o.column);
  const { bits, totalDocs: N } = o;
  checkBits(bits, ctx);
  checkCount('totalDocs', N, ctx);
  if (range.length < ENTRY_HEADER) {
    throw fail(ErrorCodes.PINOT_TRUNCATED, `MV_ENTRY_DICT header needs ${ENTRY_HEADER} bytes, the buffer has ${range.length}`, ctx, range.length);
  }
  const h = dataView(range.read(0, ENTRY_HEADER));
  if (h.getUint32(0) !== MV_ENTRY_DICT_MAGIC) {
    throw fail(ErrorCodes.PINOT_BAD_MAGIC, `MV_ENTRY_DICT magic is 0x${h.getUint32(0).toString(16)}, expected 0xffabcdef`, ctx, 0);
  }
  if (h.getInt16(4) !== 1) {
    throw fail(ErrorCodes.PINOT_UNSUPPORTED_VERSION, `MV_ENTRY_DICT version ${h.getInt16(4)} (only 1 exists)`, ctx, 4);
  }
  if (h.getUint8(6) !== bits) {
    throw fail(ErrorCodes.PINOT_CORRUPT, `MV_ENTRY_DICT stores ${h.getUint8(6)} bits per value, metadata says ${bits}`, ctx, 6);
  }
  const idBits = h.getUint8(7);
  const U = h.getInt32(8);
  const V = h.getInt32(12);
  const offsetsStart = h.getInt32(16);
  const valuesStart = h.getInt32(20);
  if (idBits < 1 || idBits > 32 || U < (N > 0 ? 1 : 0) || U > N || V < 0) {
    throw fail(ErrorCodes.PINOT_CORRUPT, `MV_ENTRY_DICT header is inconsistent: ${idBits} bits per id, ${U} entries, ${V} values, ${N} docs`, ctx, 7);
  }
  const offsetBits = bitsFor(V);
  const expectOffsets = ENTRY_HEADER + packedByteLength(N, idBits);
  const expectValues = expectOffsets + packedByteLength(U + 1, offsetBits);
  if (offsetsStart !== expectOffsets || valuesStart !== expectValues) {
    throw fail(ErrorCodes.PINOT_CORRUPT, `MV_ENTRY_DICT sections start at ${offsetsStart}/${valuesStart}, expected ${expectOffsets}/${expectValues}`, ctx, 16);
  }
  checkLength(range, valuesStart + packedByteLength(V, bits), `MV_ENTRY_DICT with ${V} values of ${bits} bits`, ctx);
  const limit = idLimit(o.cardinality, bits);

  let entryOffsets = new Int32Array(0); // decoded prefix of the U+1 offsets
  let values = new Int32Array(0); // decoded prefix of the V values
  const ensureOffsets = (count: number): void => {
    if (count <= entryOffsets.length) return;
    const have = entryOffsets.length;
    const want = Math.min(U + 1, Math.max(count, 2 * have, 1024));
    const next = new Int32Array(want);
    next.set(entryOffsets);
    readPacked(range, offsetsStart, have, want - have, offsetBits, next.subarray(have));
    for (let i = have; i < want; i++) {
      const prev = i === 0 ? 0 : next[i - 1]!;
      const v = next[i]!;
      if ((i === 0 && v !== 0) || v < prev || v > V || (i === U && v !== V)) {
        throw fail(ErrorCodes.PINOT_CORRUPT, `entry offset ${i} is ${v} (previous ${prev}, ${V} values)`, ctx,
          offsetsStart + Math.floor((i * offsetBits) / 8));
      }
    }
    entryOffsets = next;
  };
  const ensureValues = (count: number): void => {
    if (count <= values.length) return;
    const have = values.length;
    const want = Math.min(V, Math.max(count, 2 * have, 4096));
    const next = new Int32Array(want);
    next.set(values);
    const added = next.subarray(have);
    readPacked(range, valuesStart, have, want - have, bits, added);
    checkIds(added, limit, 'dict id', ctx, (i) => ({ offset: valuesStart + Math.floor(((have + i) * bits) / 8) }));
    values = next;
  };

  return {
    kind: 'mv-dict',
    readDictIds(start, end): MultiValueBlock<Int32Array> {
      checkDocRange(start, end, N);
      const rows = end - start;
      const ids = new Int32Array(rows);
      const offsets = new Int32Array(rows + 1);
      if (rows === 0) return { offsets, values: new Int32Array(0) };
      readPacked(range, ENTRY_HEADER, start, rows, idBits, ids);
      checkIds(ids, U, 'entry id', ctx, (i) => ({ offset: ENTRY_HEADER + Math.floor(((start + i) * idBits) / 8), row: start + i }));
      let maxId = 0;
      for (let i = 0; i < rows; i++) if (ids[i]! > maxId) maxId = ids[i]!;
      ensureOffsets(maxId + 2);
      ensureValues(entryOffsets[maxId + 1]!);
      let total = 0;
      for (let i = 0; i < rows; i++) {
        const e = ids[i]!;
        total += entryOffsets[e + 1]! - entryOffsets[e]!;
        offsets[i + 1] = total;
      }
      const out = new Int32Array(total);
      for (let i = 0, o = 0; i < rows; i++) {
        const e = ids[i]!;
        for (let v = entryOffsets[e]!, stop = entryOffsets[e + 1]!; v < stop; v++) out[o++] = values[v]!;
      }
      return { offsets, values: out };
    },
  };
}
