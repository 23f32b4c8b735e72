/**
 * Small Arrow `Data` helpers for the schema mapping: validity normalised to offset 0, all-null columns,
 * dictionary materialisation and per-row text access. Works on sliced Data too (arrow-js slices value and
 * offset buffers but keeps the validity bitmap and `offset`).
 */
import {
  DataType as ArrowTypes, Struct, makeData, makeVector, type Binary, type Int32, type Data, type DataType, type Dictionary, type Utf8,
} from 'apache-arrow';

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

/** Dictionary<Int32, Utf8|Binary> → the plain Utf8/Binary column it encodes (same validity). */
export function materializeDictionary(data: Data<Dictionary<Utf8 | Binary>>): Data<Utf8 | Binary> {
  const dict = data.dictionary!.data[0] as Data<Utf8 | Binary>;
  const keys = data.values as Int32Array;
  const dOffsets = dict.valueOffsets;
  const dBytes = dict.values;
  const n = data.length;
  const validity = validityOf(data);
  const bitmap = validity.nullBitmap;
  const valid = (i: number): boolean => bitmap === undefined || (bitmap[i >> 3]! & (1 << (i & 7))) !== 0;
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (valid(i)) {
      const k = keys[i]!;
      total += dOffsets[k + 1]! - dOffsets[k]!;
    }
    offsets[i + 1] = total;
  }
  const out = new Uint8Array(total);
  for (let i = 0; i < n; i++) {
    let at = offsets[i]!;
    const end = offsets[i + 1]!;
    if (at === end) continue;
    let from = dOffsets[keys[i]!]!;
    // Most values are short: a plain loop beats a subarray view per value.
    if (end - at <= 32) while (at < end) out[at++] = dBytes[from++]!;
    else out.set(dBytes.subarray(from, from + end - at), at);
  }
  return makeData({ type: dict.type as Utf8, length: n, valueOffsets: offsets, data: out, ...validity }) as Data<Utf8 | Binary>;
}

/** Whether any value of a Utf8 column contains byte `a` or `b` (e.g. the exponent of decimal text). */
export function containsByte(data: Data, a: number, b: number): boolean {
  const values = data.values as Uint8Array;
  const offsets = data.valueOffsets as Int32Array;
  const end = offsets[data.length]!;
  for (let i = offsets[0]!; i < end; i++) {
    const v = values[i]!;
    if (v === a || v === b) return true;
  }
  return false;
}

/** A Utf8 column with `rewrite` applied to the values containing byte `a` or `b`; the others are copied as is. */
export function rewriteUtf8(data: Data<Utf8>, a: number, b: number, rewrite: (text: string) => string): Data<Utf8> {
  const values = data.values;
  const offsets = data.valueOffsets;
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const n = data.length;
  const replaced = new Map<number, Uint8Array>();
  const outOffsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const from = offsets[i]!;
    const to = offsets[i + 1]!;
    let hit = false;
    for (let j = from; j < to && !hit; j++) hit = values[j] === a || values[j] === b;
    if (hit) {
      const b = encoder.encode(rewrite(decoder.decode(values.subarray(from, to))));
      replaced.set(i, b);
      total += b.length;
    } else {
      total += to - from;
    }
    outOffsets[i + 1] = total;
  }
  const out = new Uint8Array(total);
  for (let i = 0; i < n; i++) out.set(replaced.get(i) ?? values.subarray(offsets[i]!, offsets[i + 1]!), outOffsets[i]!);
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
