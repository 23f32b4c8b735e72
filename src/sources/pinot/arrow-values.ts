/**
 * Turning decoded Pinot values (ValueBlock, dict ids, null docs) into Arrow `Data`. No I/O.
 *
 * Representation choices (documented in the README):
 * - BOOLEAN is stored as INT 0/1 → Arrow Bool (any non-zero is true, as Pinot reads it).
 * - TIMESTAMP is stored as LONG epoch ms → Arrow Timestamp(ms, "UTC").
 * - BIG_DECIMAL has a per-value scale → Arrow Utf8 holding a lossless decimal string (see values.ts).
 * - MAP → Arrow Utf8 holding a JSON object whose values are Pinot's JSON text.
 */
import { bigDecimalTexts } from './bigdecimal-text.js';
import { unfilledBytes, unfilledInt32 } from './bytes.js';
import {
  Binary, Bool, Dictionary, Field, Float32, Float64, Int32, Int64, List, TimestampMillisecond, Utf8,
  makeData, makeVector, type Data, type DataType as ArrowType, type Vector,
} from 'apache-arrow';
import type { DataType, ValueBlock, VarBytes } from './types.js';
import { decodeMapValue } from './values.js';

const utf8Encoder = new TextEncoder();

/** Arrow type of one (element) value of a Pinot logical type. */
export function arrowValueType(dataType: DataType): ArrowType {
  switch (dataType) {
    case 'INT': return new Int32();
    case 'LONG': return new Int64();
    case 'FLOAT': return new Float32();
    case 'DOUBLE': return new Float64();
    case 'BOOLEAN': return new Bool();
    case 'TIMESTAMP': return new TimestampMillisecond('UTC');
    case 'STRING': case 'JSON': case 'BIG_DECIMAL': case 'MAP': return new Utf8();
    case 'BYTES': return new Binary();
  }
}

/** Element field of an Arrow List for multi-value columns; named as Parquet's 3-level LIST names it. */
export function listElementField(dataType: DataType): Field {
  return new Field('element', arrowValueType(dataType), true);
}

/**
 * Converts stored bytes whose presentation is text (BIG_DECIMAL serialisation, MAP frames) into UTF-8
 * text once, so a dictionary is converted once and gathered many times.
 */
export function presentBlock(dataType: DataType, block: ValueBlock): ValueBlock {
  if ((dataType !== 'BIG_DECIMAL' && dataType !== 'MAP') || block.kind !== 'BYTES') return block;
  if (dataType === 'BIG_DECIMAL') return { kind: 'BYTES', values: presentBigDecimals(block.values) };
  const { offsets, data } = block.values;
  const n = offsets.length - 1;
  const texts: Uint8Array[] = new Array<Uint8Array>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const bytes = utf8Encoder.encode(decodeMapValue(data.subarray(offsets[i]!, offsets[i + 1]!)));
    texts[i] = bytes;
    total += bytes.length;
  }
  const outOffsets = new Int32Array(n + 1);
  const out = new Uint8Array(total);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    out.set(texts[i]!, pos);
    pos += texts[i]!.length;
    outOffsets[i + 1] = pos;
  }
  return { kind: 'BYTES', values: { offsets: outOffsets, data: out } };
}

/** BIG_DECIMAL bytes → `bigDecimalToString` text (bigdecimal-text.ts writes it digit by digit, no BigInt for short values). */
function presentBigDecimals(values: VarBytes): VarBytes {
  return bigDecimalTexts(values);
}

/** Values of `block` at positions `ids` (dictionary lookup). */
export function gather(block: ValueBlock, ids: Int32Array): ValueBlock {
  switch (block.kind) {
    case 'INT': return { kind: 'INT', values: new Int32Array(gatherWords(block.values, 1, ids)) };
    case 'LONG': return { kind: 'LONG', values: new BigInt64Array(gatherWords(block.values, 2, ids)) };
    case 'FLOAT': return { kind: 'FLOAT', values: new Float32Array(gatherWords(block.values, 1, ids)) };
    case 'DOUBLE': return { kind: 'DOUBLE', values: new Float64Array(gatherWords(block.values, 2, ids)) };
    case 'BYTES': return { kind: 'BYTES', values: gatherVarBytes(block.values, ids) };
  }
}

/**
 * Gathers fixed-width values as 32-bit words: one monomorphic loop for every numeric type, no BigInt
 * allocated per LONG, and float bits (NaN payloads included) copied exactly.
 */
export function gatherWords(src: Int32Array | BigInt64Array | Float32Array | Float64Array, words: 1 | 2, ids: Int32Array): ArrayBuffer {
  const from = new Int32Array(src.buffer, src.byteOffset, src.length * words);
  const out = unfilledInt32(ids.length * words);
  if (words === 1) {
    for (let i = 0; i < ids.length; i++) out[i] = from[ids[i]!]!;
  } else {
    for (let i = 0, o = 0; i < ids.length; i++, o += 2) {
      const k = ids[i]! * 2;
      out[o] = from[k]!;
      out[o + 1] = from[k + 1]!;
    }
  }
  return out.buffer;
}

function gatherVarBytes(src: VarBytes, ids: Int32Array): VarBytes {
  const { offsets, data } = src;
  const outOffsets = unfilledInt32(ids.length + 1);
  outOffsets[0] = 0;
  let total = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    total += offsets[id + 1]! - offsets[id]!;
    outOffsets[i + 1] = total;
  }
  const out = unfilledBytes(total);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const from = offsets[id]!;
    const to = offsets[id + 1]!;
    let at = outOffsets[i]!;
    // Most dictionary values are short: a plain loop beats creating a subarray view per value.
    if (to - from <= 32) for (let k = from; k < to; k++) out[at++] = data[k]!;
    else out.set(data.subarray(from, to), at);
  }
  return { offsets: outOffsets, data: out };
}

/** Arrow validity bitmap (LSB-first, 1 = valid) for `length` rows with the given null row positions. */
export function validityFromNulls(length: number, nullRows: ArrayLike<number>): Uint8Array {
  const bitmap = new Uint8Array((length + 7) >> 3).fill(0xff);
  for (let i = 0; i < nullRows.length; i++) {
    const r = nullRows[i]!;
    bitmap[r >> 3]! &= ~(1 << (r & 7));
  }
  return bitmap;
}

export interface Validity {
  nullBitmap: Uint8Array;
  nullCount: number;
}

/** Arrow Data for a run of single values of `dataType` (already presented, see presentBlock). */
export function valuesToData(dataType: DataType, block: ValueBlock, validity?: Validity): Data {
  const length = blockLength(block);
  const nulls = validity && validity.nullCount > 0 ? { nullBitmap: validity.nullBitmap, nullCount: validity.nullCount } : {};
  const type = arrowValueType(dataType);
  switch (dataType) {
    case 'BOOLEAN': {
      const ints = expect(block, 'INT').values;
      const bits = new Uint8Array((length + 7) >> 3);
      for (let i = 0; i < length; i++) if (ints[i] !== 0) bits[i >> 3]! |= 1 << (i & 7);
      return makeData({ type: type as Bool, length, data: bits, ...nulls });
    }
    case 'INT': return makeData({ type: type as Int32, length, data: expect(block, 'INT').values, ...nulls });
    case 'LONG': return makeData({ type: type as Int64, length, data: expect(block, 'LONG').values, ...nulls });
    case 'TIMESTAMP': return makeData({ type: type as TimestampMillisecond, length, data: expect(block, 'LONG').values, ...nulls });
    case 'FLOAT': return makeData({ type: type as Float32, length, data: expect(block, 'FLOAT').values, ...nulls });
    case 'DOUBLE': return makeData({ type: type as Float64, length, data: expect(block, 'DOUBLE').values, ...nulls });
    case 'STRING': case 'JSON': case 'BIG_DECIMAL': case 'MAP': {
      const v = expect(block, 'BYTES').values;
      return makeData({ type: type as Utf8, length, valueOffsets: v.offsets, data: v.data, ...nulls });
    }
    case 'BYTES': {
      const v = expect(block, 'BYTES').values;
      return makeData({ type: type as Binary, length, valueOffsets: v.offsets, data: v.data, ...nulls });
    }
  }
}

/** Arrow List Data: row r holds child elements `offsets[r] .. offsets[r+1]`. */
export function listToData(dataType: DataType, offsets: Int32Array, child: Data, validity?: Validity): Data {
  const nulls = validity && validity.nullCount > 0 ? { nullBitmap: validity.nullBitmap, nullCount: validity.nullCount } : {};
  return makeData({
    type: new List(listElementField(dataType)),
    length: offsets.length - 1,
    valueOffsets: offsets,
    child,
    ...nulls,
  });
}

/** Arrow Dictionary Data that reuses a Pinot dictionary: indices are Pinot's dict ids. */
export function dictionaryToData(dictionary: Vector, dictType: Dictionary, ids: Int32Array, validity?: Validity): Data {
  const nulls = validity && validity.nullCount > 0 ? { nullBitmap: validity.nullBitmap, nullCount: validity.nullCount } : {};
  return makeData({ type: dictType, length: ids.length, data: ids, dictionary, ...nulls });
}

/** An Arrow Vector of the whole (presented) dictionary, for Dictionary-typed columns. */
export function dictionaryVector(dataType: DataType, presented: ValueBlock): Vector {
  return makeVector(valuesToData(dataType, presented));
}

export function blockLength(block: ValueBlock): number {
  return block.kind === 'BYTES' ? block.values.offsets.length - 1 : block.values.length;
}

function expect<K extends ValueBlock['kind']>(block: ValueBlock, kind: K): Extract<ValueBlock, { kind: K }> {
  if (block.kind !== kind) {
    throw new TypeError(`internal: expected a ${kind} block, got ${block.kind}`);
  }
  return block as Extract<ValueBlock, { kind: K }>;
}
