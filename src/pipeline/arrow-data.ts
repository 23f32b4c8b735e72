/**
 * Small Arrow `Data` helpers for the schema mapping: validity normalised to offset 0, all-null columns,
 * dictionary materialisation and per-row text access. Works on sliced Data too (arrow-js slices value and
 * offset buffers but keeps the validity bitmap and `offset`).
 */
import {
  DataType as ArrowTypes, Struct, makeData, makeVector, type Binary, type Int32, type Data, type DataType, type Dictionary, type Utf8,
} from 'apache-arrow';
import { gatherWords } from '../sources/pinot/arrow-values.js';
import { unfilledBytes, unfilledInt32 } from '../sources/pinot/bytes.js';

export interface Validity {
  nullBitmap?: Uint8Array;
  nullCount: number;
}

/** The validity of `data` as a bitmap starting at bit 0 (none when there are no nulls). */
export function validityOf(data: Data): Validity {
  const nullCount = data.nullCount;
  if (nullCount === 0) return { nullCount: 0 };
  if (data.offset === 0) return { nullBitmap: data.nullBitmap, nullCount };
  const bitmap = new Uint8Array((data.length + 7) >> 3);
  for (let i = 0; i < data.length; i++) if (data.getValid(i)) bitmap[i >> 3]! |= 1 << (i & 7);
  return { nullBitmap: bitmap, nullCount };
}

/** A column of `length` nulls of `type` (a column the segment does not have). */
export function nullData(type: DataType, length: number): Data {
  const nullBitmap = new Uint8Array((length + 7) >> 3);
  const t = type as DataType;
  if (ArrowTypes.isList(t)) {
    return makeData({ type: t, length, nullCount: length, nullBitmap, valueOffsets: new Int32Array(length + 1), child: nullData(t.children[0]!.type, 0) });
  }
  if (ArrowTypes.isStruct(t)) {
    return makeData({ type: t as Struct, length, nullCount: length, nullBitmap, children: t.children.map((c) => nullData(c.type, length)) });
  }
  if (ArrowTypes.isUtf8(t) || ArrowTypes.isBinary(t)) {
    return makeData({ type: t as Utf8, length, nullCount: length, nullBitmap, valueOffsets: new Int32Array(length + 1), data: new Uint8Array(0) });
  }
  if (ArrowTypes.isDictionary(t)) {
    return makeData({ type: t, length, nullCount: length, nullBitmap, data: new Int32Array(length), dictionary: makeVector(nullData(t.dictionary, 0)) });
  }
  if (ArrowTypes.isBool(t)) return makeData({ type: t, length, nullCount: length, nullBitmap, data: new Uint8Array((length + 7) >> 3) });
  if (ArrowTypes.isDecimal(t)) return makeData({ type: t, length, nullCount: length, nullBitmap, data: new Uint32Array(length * 4) });
  if (ArrowTypes.isInt(t) || ArrowTypes.isFloat(t) || ArrowTypes.isTimestamp(t)) {
    const ArrayType = t.ArrayType as unknown as new (n: number) => ArrayLike<number>;
    return makeData({ type: t as Int32, length, nullCount: length, nullBitmap, data: new ArrayType(length) as Int32Array });
  }
  throw new Error(`no null column for Arrow type ${String(type)}`);
}

/**
 * Dictionary<Int32, Utf8|Binary> → the plain Utf8/Binary column it encodes (same validity). One pass over
 * the keys: for a dictionary of a million entries every key is a cache miss, so each entry's offsets and
 * bytes are touched once; the output grows by doubling from a guess of the average value length.
 */
export function materializeDictionary(data: Data<Dictionary<Utf8 | Binary>>): Data<Utf8 | Binary> {
  const dict = data.dictionary!.data[0] as Data<Utf8 | Binary>;
  const keys = data.values as Int32Array;
  const dOffsets = dict.valueOffsets;
  const dBytes = dict.values;
  const n = data.length;
  const validity = validityOf(data);
  const bitmap = validity.nullBitmap;
  const offsets = new Int32Array(n + 1);
  const entries = dict.length;
  const average = entries > 0 ? (dOffsets[entries]! - dOffsets[0]!) / entries : 0;
  let out = new Uint8Array(Math.max(16, Math.ceil(average * n * 1.1)));
  let at = 0;
  for (let i = 0; i < n; i++) {
    if (bitmap === undefined || (bitmap[i >> 3]! & (1 << (i & 7))) !== 0) {
      const k = keys[i]!;
      let from = dOffsets[k]!;
      const to = dOffsets[k + 1]!;
      const len = to - from;
      if (at + len > out.length) {
        const grown = new Uint8Array(Math.max(out.length * 2, at + len));
        grown.set(out.subarray(0, at));
        out = grown;
      }
      // Most values are short: a plain loop beats a subarray view per value.
      if (len <= 32) while (from < to) out[at++] = dBytes[from++]!;
      else {
        out.set(dBytes.subarray(from, to), at);
        at += len;
      }
    }
    offsets[i + 1] = at;
  }
  return makeData({ type: dict.type as Utf8, length: n, valueOffsets: offsets, data: out.subarray(0, at), ...validity }) as Data<Utf8 | Binary>;
}

/** Any Dictionary<Int32, V> data → the plain V column it encodes (same validity). */
export function materializeAny(data: Data): Data {
  const dict = data.dictionary!.data[0]!;
  if (ArrowTypes.isUtf8(dict.type) || ArrowTypes.isBinary(dict.type)) return materializeDictionary(data as Data<Dictionary<Utf8 | Binary>>);
  const t = dict.type as DataType;
  if (!(ArrowTypes.isInt(t) || ArrowTypes.isFloat(t) || ArrowTypes.isTimestamp(t))) throw new Error(`cannot materialise a dictionary of ${String(t)}`);
  // Fixed-width values gathered as 32-bit words (the reader's gather): exact bits, no BigInt per value.
  const words = (t.ArrayType as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT / 4;
  if (words !== 1 && words !== 2) throw new Error(`cannot materialise a dictionary of ${String(t)}`);
  const n = data.length;
  const out = gatherWords(dict.values as Int32Array, words, (data.values as Int32Array).subarray(0, n));
  const ArrayType = t.ArrayType as unknown as new (b: ArrayBuffer) => Int32Array;
  return makeData({ type: t as Int32, length: n, data: new ArrayType(out), ...validityOf(data) });
}

/**
 * A Utf8 column with `rewrite` applied to the values containing byte `a` or `b` (`data` itself when there
 * are none); the runs of values between them are copied as whole byte ranges.
 */
export function rewriteUtf8(data: Data<Utf8>, a: number, b: number, rewrite: (text: string) => string): Data<Utf8> {
  const values = data.values;
  const offsets = data.valueOffsets;
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const n = data.length;
  // Rows to rewrite, found by the native indexOf (a JS byte loop cost 5 ns a byte: 0.5 s over the decimal
  // texts of 10M rows, which almost never contain either byte).
  const hits: number[] = [];
  const end = offsets[n]!;
  const hay = values.subarray(0, end);
  const find = (byte: number, from: number): number => {
    const at = hay.indexOf(byte, from);
    return at < 0 ? end : at;
  };
  let row = 0;
  let nextA = find(a, offsets[0]!);
  let nextB = find(b, offsets[0]!);
  while (nextA < end || nextB < end) {
    const j = Math.min(nextA, nextB);
    while (offsets[row + 1]! <= j) row++;
    hits.push(row);
    const after = offsets[row + 1]!;
    if (nextA < after) nextA = find(a, after);
    if (nextB < after) nextB = find(b, after);
  }
  if (hits.length === 0) return data;
  const replaced = hits.map((r) => encoder.encode(rewrite(decoder.decode(values.subarray(offsets[r]!, offsets[r + 1]!)))));
  let total = end - offsets[0]!;
  hits.forEach((r, h) => (total += replaced[h]!.length - (offsets[r + 1]! - offsets[r]!)));
  const out = unfilledBytes(total);
  const outOffsets = unfilledInt32(n + 1);
  outOffsets[0] = 0;
  let at = 0;
  let next = 0;
  for (let h = 0; h <= hits.length; h++) {
    // Rows [next, stop) are copied as is, then row `stop` is replaced.
    const stop = h < hits.length ? hits[h]! : n;
    const shift = at - offsets[next]!;
    out.set(values.subarray(offsets[next]!, offsets[stop]!), at);
    for (let r = next; r < stop; r++) outOffsets[r + 1] = offsets[r + 1]! + shift;
    at += offsets[stop]! - offsets[next]!;
    if (h === hits.length) break;
    out.set(replaced[h]!, at);
    at += replaced[h]!.length;
    outOffsets[stop + 1] = at;
    next = stop + 1;
  }
  return makeData({ type: data.type, length: n, valueOffsets: outOffsets, data: out, ...validityOf(data) });
}

/** Utf8 Data (plain or dictionary) → one string (or null) per row; the dictionary is decoded once per call. */
export function textsOf(data: Data, decoder = new TextDecoder()): (string | null)[] {
  const out: (string | null)[] = new Array<string | null>(data.length);
  if (ArrowTypes.isDictionary(data.type)) {
    const dictTexts = textsOf(data.dictionary!.data[0]!, decoder);
    const keys = data.values as Int32Array;
    for (let i = 0; i < data.length; i++) out[i] = data.getValid(i) ? dictTexts[keys[i]!]! : null;
    return out;
  }
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  for (let i = 0; i < data.length; i++) out[i] = data.getValid(i) ? decoder.decode(bytes.subarray(offsets[i]!, offsets[i + 1]!)) : null;
  return out;
}

/** Utf8 column from strings (null → null). */
export function utf8Data(type: Utf8, texts: readonly (string | null)[]): Data<Utf8> {
  const encoder = new TextEncoder();
  const encoded = texts.map((t) => (t === null ? null : encoder.encode(t)));
  const offsets = new Int32Array(texts.length + 1);
  let total = 0;
  let nullCount = 0;
  const bitmap = new Uint8Array((texts.length + 7) >> 3);
  encoded.forEach((b, i) => {
    if (b === null) nullCount++;
    else {
      bitmap[i >> 3]! |= 1 << (i & 7);
      total += b.length;
    }
    offsets[i + 1] = total;
  });
  const bytes = new Uint8Array(total);
  encoded.forEach((b, i) => b && bytes.set(b, offsets[i]!));
  return makeData({ type, length: texts.length, valueOffsets: offsets, data: bytes, nullCount, nullBitmap: nullCount > 0 ? bitmap : undefined });
}
