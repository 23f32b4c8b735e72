/**
 * A dictionary read per call, only where the needed entries are: the bytes are walked in windows of a few
 * MiB (gaps with no needed entry are skipped), so a 10M-entry dictionary is never held whole. Checks and
 * error messages follow dictionary.ts (which decodes whole dictionaries); every error names the column, the
 * `dictionary` index and the byte offset. No I/O of its own: reads go through the ByteRange.
 */
import { ErrorCodes, type ErrorContext } from '../../errors.js';
import { presentBlock } from './arrow-values.js';
import { bigDecimalTexts } from './bigdecimal-text.js';
import { copyBytes, dataView, readTransient, unfilledBytes, unfilledInt32, type ByteRange } from './bytes.js';
import { checkLength, dictionaryFailure, isVarLengthDictionary, legacyPadByte, type DictionaryOptions } from './dictionary.js';
import type { DictionarySource } from './dictionary-subset.js';
import type { DataType, ValueBlock, VarBytes } from './types.js';

/** Largest single read. Big enough that syscalls are few, small enough to stay out of the RSS budget. */
const WINDOW_BYTES = 4 << 20;
/** A run of unneeded bytes longer than this ends the window (cheaper to skip than to read). */
const MAX_GAP_BYTES = 256 << 10;
const VL_MAGIC_HEADER = 16;

/**
 * Opens a windowed dictionary. Cheap checks (sizes, the `.vl;` header, legacy padding) happen here so a
 * bad dictionary fails when the column is opened, as with whole decoding; entry-level checks happen as
 * entries are read.
 */
export function windowedDictionary(range: ByteRange, dataType: DataType, opts: DictionaryOptions): DictionarySource {
  const ctx: ErrorContext = { column: opts.column, index: 'dictionary' };
  const { storedType, cardinality } = opts;
  if (!Number.isSafeInteger(cardinality) || cardinality < 0) {
    throw dictionaryFailure(ErrorCodes.PINOT_BAD_METADATA, `cardinality ${cardinality} is not a count`, ctx, 0);
  }
  let values: (used: Int32Array) => ValueBlock;
  switch (storedType) {
    case 'INT': case 'LONG': case 'FLOAT': case 'DOUBLE':
      values = numericReader(range, storedType, cardinality, ctx);
      break;
    case 'STRING': case 'BYTES': case 'BIG_DECIMAL': {
      const head = range.read(0, Math.min(range.length, 20));
      const raw = isVarLengthDictionary(head) ? varLengthReader(range, head, cardinality, ctx) : fixedWidthReader(range, opts, ctx);
      // BIG_DECIMAL text is written straight from the bytes (same text as presentBlock, see bigdecimal-text.ts).
      values = dataType === 'BIG_DECIMAL'
        ? (used) => ({ kind: 'BYTES', values: bigDecimalTexts(raw(used)) })
        : (used) => presentBlock(dataType, { kind: 'BYTES', values: raw(used) });
      break;
    }
    case 'MAP':
      throw dictionaryFailure(ErrorCodes.PINOT_UNSUPPORTED_TYPE, 'MAP columns have no dictionary', ctx, 0);
  }
  return { cardinality, inMemory: false, values };
}

function numericReader(range: ByteRange, type: 'INT' | 'LONG' | 'FLOAT' | 'DOUBLE', cardinality: number,
  ctx: ErrorContext): (used: Int32Array) => ValueBlock {
  const width = type === 'INT' || type === 'FLOAT' ? 4 : 8;
  checkLength(range.length, cardinality * width, `${cardinality} ${type} entries of ${width} bytes`, ctx);
  return (used) => {
    const n = used.length;
    // Values land as 32-bit words in host (little-endian) order; for 8-byte entries the low word is second in BE.
    const out = unfilledInt32(n * (width / 4));
    for (const w of stridedWindows(used, width, 0, width)) {
      const bytes = readTransient(range, w.base, w.end);
      const dv = dataView(bytes);
      const base = w.base;
      if (width === 4) {
        for (let k = w.from; k < w.to; k++) out[k] = dv.getInt32(used[k]! * 4 - base);
      } else {
        for (let k = w.from; k < w.to; k++) {
          const at = used[k]! * 8 - base;
          out[2 * k] = dv.getInt32(at + 4);
          out[2 * k + 1] = dv.getInt32(at);
        }
      }
    }
    switch (type) {
      case 'INT': return { kind: 'INT', values: out };
      case 'FLOAT': return { kind: 'FLOAT', values: new Float32Array(out.buffer) };
      case 'LONG': return { kind: 'LONG', values: new BigInt64Array(out.buffer) };
      case 'DOUBLE': return { kind: 'DOUBLE', values: new Float64Array(out.buffer) };
    }
  };
}

/** Fixed-width STRING/BYTES/BIG_DECIMAL entries (§8.3): STRING values end at the first NUL (or legacy pad). */
function fixedWidthReader(range: ByteRange, opts: DictionaryOptions, ctx: ErrorContext): (used: Int32Array) => VarBytes {
  const { cardinality } = opts;
  const length = range.length;
  let width = opts.entryWidth;
  if (width === undefined) {
    if (cardinality === 0 ? length !== 0 : length % cardinality !== 0) {
      throw dictionaryFailure(ErrorCodes.PINOT_CORRUPT, `${length} bytes do not divide into ${cardinality} equal entries`, ctx, 0);
    }
    width = cardinality === 0 ? 0 : length / cardinality;
  } else if (!Number.isSafeInteger(width) || width < 0) {
    throw dictionaryFailure(ErrorCodes.PINOT_BAD_METADATA, `dictionary entry width ${width} is not a byte count`, ctx, 0);
  }
  checkLength(length, cardinality * width, `${cardinality} entries of ${width} bytes`, ctx);
  const w = width;
  const strip = opts.storedType === 'STRING';
  const pad = strip ? legacyPadByte(opts, ctx) : undefined;
  return (used) => {
    const n = used.length;
    const offsets = new Int32Array(n + 1);
    const data = new Uint8Array(n * w);
    let size = 0;
    for (const win of stridedWindows(used, w, 0, w)) {
      const bytes = readTransient(range, win.base, win.end);
      for (let k = win.from; k < win.to; k++) {
        const start = used[k]! * w - win.base;
        const limit = start + w;
        let end = limit;
        if (strip) {
          end = start;
          while (end < limit && bytes[end] !== 0) end++;
          if (pad !== undefined) while (end > start && bytes[end - 1] === pad) end--;
        }
        for (let i = start; i < end; i++) data[size++] = bytes[i]!;
        offsets[k + 1] = size;
      }
    }
    return { offsets, data: size === data.length ? data : data.slice(0, size) };
  };
}

/**
 * `.vl;` dictionaries (§8.2): header, cardinality+1 absolute BE offsets, then the values back to back. Per
 * call, the offsets of the needed ids are read window by window, then the value bytes.
 */
function varLengthReader(range: ByteRange, head: Uint8Array, cardinality: number, ctx: ErrorContext): (used: Int32Array) => VarBytes {
  const length = range.length;
  const hv = dataView(head);
  const count = hv.getInt32(8);
  if (count !== cardinality) {
    throw dictionaryFailure(ErrorCodes.PINOT_CORRUPT, `var-length dictionary holds ${count} values, metadata cardinality is ${cardinality}`, ctx, 8);
  }
  const offsetsStart = hv.getInt32(12);
  const offsetsEnd = offsetsStart + 4 * (count + 1);
  if (offsetsStart < VL_MAGIC_HEADER) {
    throw dictionaryFailure(ErrorCodes.PINOT_CORRUPT, `var-length offsets start at ${offsetsStart}, inside the ${VL_MAGIC_HEADER}-byte header`, ctx, 12);
  }
  if (offsetsEnd > length) {
    throw dictionaryFailure(ErrorCodes.PINOT_TRUNCATED, `var-length offsets end at ${offsetsEnd}, past the ${length}-byte buffer`, ctx, offsetsStart);
  }
  const first = dataView(range.read(offsetsStart, offsetsStart + 4)).getInt32(0);
  if (first < offsetsEnd) {
    throw dictionaryFailure(ErrorCodes.PINOT_CORRUPT, `first value offset ${first} points into the offsets array (ends at ${offsetsEnd})`, ctx, offsetsStart);
  }
  const last = dataView(range.read(offsetsEnd - 4, offsetsEnd)).getInt32(0);
  if (last > length) {
    throw dictionaryFailure(ErrorCodes.PINOT_TRUNCATED, `last value ends at ${last}, past the ${length}-byte buffer`, ctx, offsetsEnd - 4);
  }
  return (used) => {
    const n = used.length;
    // Absolute start/end of each needed value; entry i spans offsets i and i+1.
    const starts = unfilledInt32(n);
    const ends = unfilledInt32(n);
    /** Why the offsets read for used[k] are wrong (the ones before it were right). */
    const offsetFailure = (k: number) => {
      const id = used[k]!;
      const s = starts[k]!;
      const e = ends[k]!;
      const prevEnd = k === 0 ? first : ends[k - 1]!;
      if (s < prevEnd) {
        const what = k === 0 ? `the first value offset (${first})` : `the end of value ${used[k - 1]!} (${prevEnd})`;
        return dictionaryFailure(ErrorCodes.PINOT_CORRUPT, `value offset ${id} (${s}) is before ${what}`, ctx, offsetsStart + 4 * id);
      }
      if (e < s) {
        return dictionaryFailure(ErrorCodes.PINOT_CORRUPT, `value offset ${id + 1} (${e}) is before offset ${id} (${s})`, ctx, offsetsStart + 4 * (id + 1));
      }
      return dictionaryFailure(ErrorCodes.PINOT_TRUNCATED, `value ${id} ends at ${e}, past the ${length}-byte buffer`, ctx, offsetsStart + 4 * (id + 1));
    };
    let total = 0;
    let prevEnd = first;
    // Whole decoding checks every offset against its predecessor; here the needed ones are checked against
    // each other and the buffer, which is what the reads below rely on. Ids ascend, so the check runs as the
    // offsets are read (one pass, not two).
    for (const win of stridedWindows(used, 4, offsetsStart, 8)) {
      const dv = dataView(readTransient(range, win.base, win.end));
      const base = win.base;
      for (let k = win.from; k < win.to; k++) {
        const pos = offsetsStart + 4 * used[k]! - base;
        const s = dv.getInt32(pos);
        const e = dv.getInt32(pos + 4);
        starts[k] = s;
        ends[k] = e;
        if (s < prevEnd || e < s || e > length) throw offsetFailure(k);
        prevEnd = e;
        total += e - s;
      }
    }
    const offsets = unfilledInt32(n + 1);
    offsets[0] = 0;
    const data = unfilledBytes(total);
    let size = 0;
    const into = dataView(data);
    for (const win of spanWindows(starts, ends)) {
      const bytes = readTransient(range, win.base, win.end);
      const view = dataView(bytes);
      const base = win.base;
      const available = bytes.length;
      for (let k = win.from; k < win.to; k++) {
        const s = starts[k]! - base;
        const e = ends[k]! - base;
        const len = e - s;
        const words = (len + 3) & ~3;
        if (len <= 128 && size + words <= total && s + words <= available) {
          // Whole words, up to 3 bytes past the value: they land where the next value goes, which overwrites
          // them (values past the end of `data` or of the window take copyBytes). Short values of random
          // lengths (BYTES dictionaries) cost ~1/3 less than a word loop with a byte tail.
          for (let w = 0; w < words; w += 4) into.setInt32(size + w, view.getInt32(s + w));
        } else copyBytes(data, into, size, bytes, view, s, e);
        size += len;
        offsets[k + 1] = size;
      }
    }
    return { offsets, data };
  };
}

/** One read: bytes [base, end) cover the spans of items [from, to). */
interface Window {
  from: number;
  to: number;
  base: number;
  end: number;
}

/**
 * Groups items whose byte spans ascend into as few reads as is sensible: a read grows while it stays within
 * WINDOW_BYTES and no gap exceeds MAX_GAP_BYTES (a single larger item gets a read of its own). Item k of the
 * strided form spans [offset + used[k]·stride, … + length).
 */
function stridedWindows(used: Int32Array, stride: number, offset: number, length: number): Window[] {
  const out: Window[] = [];
  const n = used.length;
  let k = 0;
  while (k < n) {
    const base = offset + used[k]! * stride;
    let end = base + length;
    let j = k + 1;
    while (j < n) {
      const s = offset + used[j]! * stride;
      if (s + length - base > WINDOW_BYTES || s - end > MAX_GAP_BYTES) break;
      end = s + length;
      j++;
    }
    out.push({ from: k, to: j, base, end });
    k = j;
  }
  return out;
}

/** As stridedWindows, for items spanning [starts[k], ends[k]) (ascending, non-overlapping). */
function spanWindows(starts: Int32Array, ends: Int32Array): Window[] {
  const out: Window[] = [];
  const n = starts.length;
  let k = 0;
  while (k < n) {
    const base = starts[k]!;
    let end = ends[k]!;
    let j = k + 1;
    while (j < n) {
      const e = ends[j]!;
      if (e - base > WINDOW_BYTES || starts[j]! - end > MAX_GAP_BYTES) break;
      end = e;
      j++;
    }
    out.push({ from: k, to: j, base, end });
    k = j;
  }
  return out;
}
