/**
 * Several Arrow `Data` pieces of one type → one `Data` (what the direct encoder needs to turn the record batches of
 * a row group into one column chunk). Dictionary pieces that share their dictionary keep it (ids concatenated);
 * pieces with different dictionaries are materialised, since their ids mean different things.
 */
import { DataType as ArrowTypes, makeData, type Data, type DataType, type Dictionary, type Int32, type List, type Utf8 } from 'apache-arrow';
import { materializeAny } from '../arrow-data.js';

export function concatData(pieces: readonly Data[]): Data {
  if (pieces.length === 1) return pieces[0]!;
  if (pieces.length === 0) throw new Error('internal: nothing to concatenate');
  const type = pieces[0]!.type as DataType;
  const length = pieces.reduce((n, d) => n + d.length, 0);
  const { nullBitmap, nullCount } = concatValidity(pieces, length);
  const nulls = nullCount > 0 ? { nullBitmap, nullCount } : { nullCount: 0 };
  if (ArrowTypes.isDictionary(type)) {
    const dictionary = pieces[0]!.dictionary;
    if (pieces.every((d) => d.dictionary === dictionary)) {
      return makeData({ type: type as Dictionary, length, data: concatTyped(pieces, Int32Array), dictionary, ...nulls });
    }
    return concatData(pieces.map(materializeAny));
  }
  if (ArrowTypes.isUtf8(type) || ArrowTypes.isBinary(type)) {
    const { offsets, values } = concatVariable(pieces);
    return makeData({ type: type as Utf8, length, valueOffsets: offsets, data: values, ...nulls });
  }
  if (ArrowTypes.isList(type)) {
    const offsets = new Int32Array(length + 1);
    let at = 0;
    let base = 0;
    const children: Data[] = [];
    for (const d of pieces) {
      const o = d.valueOffsets as Int32Array;
      for (let i = 0; i < d.length; i++) offsets[++at] = base + o[i + 1]! - o[0]!;
      base += o[d.length]! - o[0]!;
      children.push(d.children[0]!.slice(o[0]!, o[d.length]! - o[0]!));
    }
    return makeData({ type: type as List, length, valueOffsets: offsets, child: concatData(children), ...nulls });
  }
  if (ArrowTypes.isBool(type)) {
    const bits = new Uint8Array((length + 7) >> 3);
    let at = 0;
    for (const d of pieces) {
      const src = d.values as Uint8Array;
      for (let i = 0; i < d.length; i++, at++) {
        const bit = d.offset + i;
        if (src[bit >> 3]! & (1 << (bit & 7))) bits[at >> 3]! |= 1 << (at & 7);
      }
    }
    return makeData({ type, length, data: bits, ...nulls });
  }
  if (ArrowTypes.isInt(type) || ArrowTypes.isFloat(type) || ArrowTypes.isTimestamp(type)) {
    const ArrayType = type.ArrayType as unknown as new (n: number) => Int32Array;
    return makeData({ type: type as Int32, length, data: concatTyped(pieces, ArrayType), ...nulls });
  }
  throw new Error(`cannot concatenate Arrow data of type ${String(type)}`);
}

function concatTyped<T extends ArrayLike<number> & { set(a: ArrayLike<number>, at: number): void }>(pieces: readonly Data[], ArrayType: new (n: number) => T): T {
  const out = new ArrayType(pieces.reduce((n, d) => n + d.length, 0));
  let at = 0;
  for (const d of pieces) {
    // arrow-js slices `values` with the Data, so each piece's values start at its row 0.
    const v = d.values as unknown as ArrayLike<number>;
    out.set(v.length === d.length ? v : (d.values as Int32Array).subarray(0, d.length), at);
    at += d.length;
  }
  return out;
}

function concatVariable(pieces: readonly Data[]): { offsets: Int32Array; values: Uint8Array } {
  const length = pieces.reduce((n, d) => n + d.length, 0);
  let bytes = 0;
  for (const d of pieces) {
    const o = d.valueOffsets as Int32Array;
    bytes += o[d.length]! - o[0]!;
  }
  const offsets = new Int32Array(length + 1);
  const values = new Uint8Array(bytes);
  let row = 0;
  let base = 0;
  for (const d of pieces) {
    const o = d.valueOffsets as Int32Array;
    const first = o[0]!;
    values.set((d.values as Uint8Array).subarray(first, o[d.length]!), base);
    for (let i = 1; i <= d.length; i++) offsets[row + i] = base + o[i]! - first;
    row += d.length;
    base += o[d.length]! - first;
  }
  return { offsets, values };
}

function concatValidity(pieces: readonly Data[], length: number): { nullBitmap?: Uint8Array; nullCount: number } {
  const nullCount = pieces.reduce((n, d) => n + d.nullCount, 0);
  if (nullCount === 0) return { nullCount: 0 };
  const bitmap = new Uint8Array((length + 7) >> 3);
  let at = 0;
  for (const d of pieces) {
    if (d.nullCount === 0) {
      for (let i = 0; i < d.length; i++, at++) bitmap[at >> 3]! |= 1 << (at & 7);
    } else {
      for (let i = 0; i < d.length; i++, at++) if (d.getValid(i)) bitmap[at >> 3]! |= 1 << (at & 7);
    }
  }
  return { nullBitmap: bitmap, nullCount };
}
