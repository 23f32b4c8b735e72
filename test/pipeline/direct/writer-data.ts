/**
 * Builds Arrow Data by hand for the direct writer's tests (plain, dictionary, list, list of dictionary),
 * writes it with ParquetFileWriter or with parquet-wasm, and gives the rows hyparquetRows should read back.
 */
import {
  Binary, Bool, DataType as ArrowTypes, Dictionary, Field, Float32, Float64, Int32, Int64, List, RecordBatch, Schema, Struct,
  TimestampMicrosecond, TimestampMillisecond, Utf8, makeData, makeVector, type Data, type DataType,
} from 'apache-arrow';
import { formatFloat32 } from '../../../src/cli/json-rows.js';
import { ParquetFileWriter, type DirectWriterSettings } from '../../../src/pipeline/direct/file-writer.js';
import type { EncoderSettings } from '../../../src/pipeline/encoder.js';
import { createParquetWasmEncoder } from '../../../src/pipeline/parquet-wasm-encoder.js';

export type Scalar = number | bigint | boolean | string | Uint8Array;
export type Cell = Scalar | null | (Scalar | null)[];

export const types = {
  int32: () => new Int32(),
  int64: () => new Int64(),
  float32: () => new Float32(),
  float64: () => new Float64(),
  bool: () => new Bool(),
  utf8: () => new Utf8(),
  binary: () => new Binary(),
  tsMs: () => new TimestampMillisecond('UTC'),
  tsMsLocal: () => new TimestampMillisecond(),
  tsUs: () => new TimestampMicrosecond('UTC'),
  tsUsLocal: () => new TimestampMicrosecond(),
};

const encoder = new TextEncoder();

function bitmapOf(values: readonly unknown[]): { nullBitmap?: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array((values.length + 7) >> 3);
  let nullCount = 0;
  values.forEach((v, i) => {
    if (v === null) nullCount++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  });
  return nullCount === 0 ? { nullCount } : { nullBitmap: bitmap, nullCount };
}

/** A plain column of `type` holding `values` (null → null). */
export function primitiveData(type: DataType, values: readonly (Scalar | null)[]): Data {
  const length = values.length;
  const validity = bitmapOf(values);
  const t = type as DataType;
  if (ArrowTypes.isUtf8(t) || ArrowTypes.isBinary(t)) {
    const parts = values.map((v) => (v === null ? new Uint8Array(0) : typeof v === 'string' ? encoder.encode(v) : (v as Uint8Array)));
    const valueOffsets = new Int32Array(length + 1);
    parts.forEach((p, i) => (valueOffsets[i + 1] = valueOffsets[i]! + p.length));
    const data = new Uint8Array(valueOffsets[length]!);
    parts.forEach((p, i) => data.set(p, valueOffsets[i]!));
    return makeData({ type: t as Utf8, length, valueOffsets, data, ...validity });
  }
  if (ArrowTypes.isBool(t)) {
    const data = new Uint8Array((length + 7) >> 3);
    values.forEach((v, i) => v === true && (data[i >> 3]! |= 1 << (i & 7)));
    return makeData({ type: t, length, data, ...validity });
  }
  if (ArrowTypes.isInt(t) && t.bitWidth === 64) {
    return makeData({ type: t as Int64, length, data: BigInt64Array.from(values, (v) => BigInt((v ?? 0) as number | bigint)), ...validity });
  }
  if (ArrowTypes.isTimestamp(t)) {
    const data = BigInt64Array.from(values, (v) => BigInt((v ?? 0) as number));
    return makeData({ type: t as TimestampMillisecond, length, data: data as unknown as Int32Array, ...validity });
  }
  if (ArrowTypes.isInt(t)) return makeData({ type: t as Int32, length, data: Int32Array.from(values, (v) => (v ?? 0) as number), ...validity });
  if (ArrowTypes.isFloat(t)) {
    const ArrayType = (t as Float32).ArrayType as unknown as { from(v: ArrayLike<number>): Float32Array };
    return makeData({ type: t as Float32, length, data: ArrayType.from(values.map((v) => (v ?? 0) as number)), ...validity });
  }
  throw new Error(`no builder for ${String(type)}`);
}

function keyOf(v: Scalar): string {
  return v instanceof Uint8Array ? Buffer.from(v).toString('hex') : `${typeof v}:${String(v)}`;
}

/**
 * Dictionary<Int32, type> data for `values`. The dictionary holds the distinct values in first-seen order,
 * reversed (so ids are not sorted), plus `unused` extra entries no row refers to.
 */
export function dictionaryData(type: DataType, values: readonly (Scalar | null)[], unused: readonly Scalar[] = []): Data {
  const entries: Scalar[] = [];
  const ids = new Map<string, number>();
  for (const v of values) {
    if (v !== null && !ids.has(keyOf(v))) {
      ids.set(keyOf(v), -1);
      entries.push(v);
    }
  }
  entries.reverse();
  const all = [...unused.slice(0, 1), ...entries, ...unused.slice(1)];
  all.forEach((v, i) => ids.set(keyOf(v), i));
  const dictionary = primitiveData(type, all);
  const data = Int32Array.from(values, (v) => (v === null ? 0 : ids.get(keyOf(v))!));
  return makeData({ type: new Dictionary(type, new Int32()), length: values.length, data, dictionary: makeVector(dictionary), ...bitmapOf(values) });
}

/** List<element> data; `element` builds the child Data from the flattened values of the non-null lists. */
export function listData(rows: readonly ((Scalar | null)[] | null)[], element: (values: (Scalar | null)[]) => Data): Data {
  const flat: (Scalar | null)[] = [];
  const valueOffsets = new Int32Array(rows.length + 1);
  rows.forEach((r, i) => {
    if (r !== null) flat.push(...r);
    valueOffsets[i + 1] = flat.length;
  });
  const child = element(flat);
  const type = new List(new Field('element', child.type, true));
  return makeData({ type, length: rows.length, valueOffsets, child, ...bitmapOf(rows) });
}

/** A value as hyparquetRows prints it for a leaf of Arrow type `type`. */
function normalizeScalar(type: DataType, v: Scalar | null): unknown {
  if (v === null) return null;
  if (typeof v === 'bigint') return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (typeof v === 'number') {
    if (ArrowTypes.isFloat(type) && (type as Float32).precision === 1) return formatFloat32(Math.fround(v));
    return Number.isFinite(v) ? v : String(v);
  }
  return v;
}

/** The rows hyparquetRows reads for these columns (each a Cell per row). */
export function expectedRows(schema: Schema, columns: readonly (readonly Cell[])[]): Record<string, unknown>[] {
  const rows = columns[0]?.length ?? 0;
  const out: Record<string, unknown>[] = [];
  for (let r = 0; r < rows; r++) {
    out.push(Object.fromEntries(schema.fields.map((f, c) => {
      const cell = columns[c]![r]!;
      let type = f.type as DataType;
      if (ArrowTypes.isList(type)) type = type.children[0]!.type;
      if (ArrowTypes.isDictionary(type)) type = type.dictionary;
      return [f.name, Array.isArray(cell) ? cell.map((v) => normalizeScalar(type, v)) : normalizeScalar(type, cell as Scalar | null)];
    })));
  }
  return out;
}

export const baseSettings: DirectWriterSettings = {
  codec: 'SNAPPY',
  pageSizeBytes: 1024 * 1024,
  dictionaryColumns: [],
  jsonPaths: [],
  keyValueMetadata: new Map(),
  createdBy: 'pinot-parquet-export test',
};

/** Writes row groups (each: one Data per column) with the direct writer. */
export function writeDirect(schema: Schema, groups: readonly (readonly Data[])[], settings: Partial<DirectWriterSettings> = {}): Uint8Array {
  const writer = new ParquetFileWriter(schema, { ...baseSettings, ...settings });
  const parts: Uint8Array[] = [writer.start()];
  for (const group of groups) {
    writer.beginRowGroup(group[0]?.length ?? 0);
    group.forEach((data, i) => parts.push(...writer.writeColumn(i, data)));
    writer.endRowGroup();
  }
  parts.push(writer.finish());
  const bytes = Buffer.concat(parts);
  if (bytes.length !== writer.position) throw new Error(`position ${writer.position} but ${bytes.length} bytes written`);
  return bytes;
}

/** The same row groups written by parquet-wasm (one batch per row group; all groups but the last equally long). */
export async function writeWasm(schema: Schema, groups: readonly (readonly Data[])[], settings: Partial<DirectWriterSettings> = {}): Promise<Uint8Array> {
  const s = { ...baseSettings, ...settings };
  const encoderSettings: EncoderSettings = {
    codec: s.codec, rowGroupSizeBytes: 1 << 30, pageSizeBytes: s.pageSizeBytes, rowsPerRowGroup: Math.max(1, groups[0]?.[0]?.length ?? 1),
    dictionaryColumns: s.dictionaryColumns, nestedDictionary: true, jsonPaths: s.jsonPaths, keyValueMetadata: s.keyValueMetadata, createdBy: s.createdBy,
  };
  const batches = groups.map((g) => new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: g[0]?.length ?? 0, nullCount: 0, children: [...g] })));
  async function* source(): AsyncGenerator<RecordBatch> {
    yield* batches;
  }
  const chunks: Uint8Array[] = [];
  const gen = createParquetWasmEncoder(encoderSettings, schema).encode(source());
  for (;;) {
    const r = await gen.next();
    if (r.done) break;
    chunks.push(r.value);
  }
  return Buffer.concat(chunks);
}

export function fieldOf(name: string, data: Data, metadata?: Map<string, string>): Field {
  return new Field(name, data.type, true, metadata);
}

export { Schema };
