/**
 * The rows every writer gets, prepared before any timing: the segment opened with our reader, the schema plan
 * our pipeline uses, and from it (a) the converted Arrow batches our encoder receives and (b) the same values
 * as plain JS columns for the JS writers. Rows per row group are derived exactly as segmentToParquet derives
 * them, so every writer is asked for the same row groups.
 */
import { DataType as ArrowTypes, type Data, type RecordBatch } from 'apache-arrow';
import { rowsPerRowGroup } from '../../src/pipeline/encoder.js';
import { DEFAULT_PARQUET_OPTIONS, type ParquetCodec, type ParquetOptions } from '../../src/pipeline/parquet-options.js';
import type { ParquetSchemaPlan } from '../../src/pipeline/schema-mapping.js';
import { defaultBatchRows, segmentBytesPerRow } from '../../src/pipeline/segment-export.js';
import { planFor } from '../../src/pipeline/streams.js';
import { SegmentReader } from '../../src/sources/segment-reader.js';

export interface PreparedSegment {
  reader: SegmentReader;
  parquet: ParquetOptions;
  plan: ParquetSchemaPlan;
  /** Rows the writers write (the segment's docs, or maxRows when smaller). */
  rows: number;
  rowsPerGroup: number;
  batchRows: number;
  /** Index bytes (forward index, dictionary, null vector) of the exported columns, for the rows written. */
  segmentIndexBytes: number;
}

export async function prepareSegment(location: string, codec: ParquetCodec, maxRows?: number): Promise<PreparedSegment> {
  const reader = await SegmentReader.open(location);
  try {
    const parquet: ParquetOptions = { ...DEFAULT_PARQUET_OPTIONS, compressionCodec: codec };
    const plan = planFor({ sourceSchema: reader.schema({ keepDictionaries: true }), parquet });
    const bytesPerRow = segmentBytesPerRow(reader, plan.sourceColumns);
    const docs = reader.segment.exportDocs;
    const rows = maxRows === undefined ? docs : Math.min(docs, maxRows);
    const rowsPerGroup = Math.min(rowsPerRowGroup(parquet.rowGroupSizeBytes, bytesPerRow), Math.max(1, rows));
    return {
      reader, parquet, plan, rows, rowsPerGroup,
      batchRows: defaultBatchRows(rowsPerRowGroup(parquet.rowGroupSizeBytes, bytesPerRow)),
      segmentIndexBytes: Math.round(bytesPerRow * rows),
    };
  } catch (err) {
    await reader.close();
    throw err;
  }
}

/** The Arrow batches our encoder receives (reader batches through the plan's conversion), first `rows` only. */
export async function convertedBatches(p: PreparedSegment): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  let firstRow = 0;
  for await (const batch of p.reader.batches({ columns: p.plan.sourceColumns, keepDictionaries: true, batchRows: p.batchRows })) {
    const take = Math.min(batch.numRows, p.rows - firstRow);
    out.push(p.plan.convert(take === batch.numRows ? batch : batch.slice(0, take), firstRow));
    firstRow += take;
    if (firstRow >= p.rows) break;
  }
  return out;
}

export type LeafKind = 'int32' | 'int64' | 'float' | 'double' | 'boolean' | 'string' | 'bytes' | 'timestamp-ms';

/** A column's Parquet-relevant shape: its leaf type, whether it is a list, whether it holds JSON text. */
export interface ColumnShape {
  name: string;
  leaf: LeafKind;
  list: boolean;
  json: boolean;
}

function leafOf(type: ArrowTypes, column: string): LeafKind {
  if (ArrowTypes.isDictionary(type)) return leafOf(type.dictionary, column);
  if (ArrowTypes.isInt(type)) {
    if (type.bitWidth === 32 && type.isSigned) return 'int32';
    if (type.bitWidth === 64 && type.isSigned) return 'int64';
  }
  if (ArrowTypes.isFloat(type)) return type.precision === 1 ? 'float' : 'double';
  if (ArrowTypes.isBool(type)) return 'boolean';
  if (ArrowTypes.isUtf8(type)) return 'string';
  if (ArrowTypes.isBinary(type)) return 'bytes';
  if (ArrowTypes.isTimestamp(type) && type.unit === 1) return 'timestamp-ms';
  throw new Error(`bench peers do not handle column ${column} of Arrow type ${String(type)}`);
}

export function columnShapes(p: PreparedSegment): ColumnShape[] {
  const json = new Set(p.plan.jsonPaths.filter((path) => path.length === 1).map((path) => path[0]!));
  return p.plan.schema.fields.map((f) => {
    const list = ArrowTypes.isList(f.type);
    const leafType = list ? (f.type as { children: { type: ArrowTypes }[] }).children[0]!.type : f.type;
    return { name: f.name, leaf: leafOf(leafType, f.name), list, json: json.has(f.name) };
  });
}

export type Scalar = number | bigint | boolean | string | Uint8Array;
export type JsValue = Scalar | Scalar[] | null;

/** `data` bit i (Arrow validity and boolean bitmaps are LSB first). */
export function bit(bits: Uint8Array, i: number): boolean {
  return ((bits[i >> 3]! >> (i & 7)) & 1) === 1;
}

export function isValid(data: Data, i: number): boolean {
  return data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0 || bit(data.nullBitmap, data.offset + i);
}

const utf8 = new TextDecoder();

/** Value i of a non-list, non-null leaf `data` (dictionary already resolved by the caller). */
function scalarAt(data: Data, leaf: LeafKind, i: number): Scalar {
  const j = data.offset + i;
  switch (leaf) {
    case 'boolean': return bit(data.values as Uint8Array, j);
    case 'string': case 'bytes': {
      const o = data.valueOffsets as Int32Array;
      const bytes = (data.values as Uint8Array).subarray(o[j]!, o[j + 1]!);
      return leaf === 'string' ? utf8.decode(bytes) : bytes;
    }
    default: return (data.values as ArrayLike<number | bigint>)[j]!;
  }
}

/** Resolver of a dictionary's values, decoded once per dictionary. */
function dictionaryValues(data: Data, leaf: LeafKind, cache: Map<unknown, Scalar[]>): Scalar[] {
  const dict = data.dictionary!;
  let values = cache.get(dict);
  if (!values) {
    values = [];
    for (const d of dict.data) for (let i = 0; i < d.length; i++) values.push(scalarAt(d, leaf, i));
    cache.set(dict, values);
  }
  return values;
}

/**
 * The rows as one JS array per column (nulls as null; lists as arrays; INT64 and timestamps as bigint).
 * Columns without nulls of a fixed-width type come back as typed arrays, the fastest input of the JS writers.
 */
export function jsColumns(batches: readonly RecordBatch[], shapes: readonly ColumnShape[], rows: number): (JsValue[] | Int32Array | BigInt64Array | Float32Array | Float64Array)[] {
  return shapes.map((shape, c) => {
    const chunks = batches.map((b) => b.getChildAt(c)!.data).flat();
    const nulls = chunks.some((d) => d.nullCount > 0);
    if (!shape.list && !nulls && ['int32', 'int64', 'float', 'double', 'timestamp-ms'].includes(shape.leaf) && chunks.every((d) => !ArrowTypes.isDictionary(d.type))) {
      const out = shape.leaf === 'int32' ? new Int32Array(rows) : shape.leaf === 'float' ? new Float32Array(rows)
        : shape.leaf === 'double' ? new Float64Array(rows) : new BigInt64Array(rows);
      let at = 0;
      for (const d of chunks) {
        (out as Int32Array).set((d.values as Int32Array).subarray(d.offset, d.offset + d.length), at);
        at += d.length;
      }
      return out;
    }
    const out = new Array<JsValue>(rows);
    const cache = new Map<unknown, Scalar[]>();
    let at = 0;
    for (const d of chunks) {
      if (shape.list) {
        const child = d.children[0]!;
        const o = d.valueOffsets as Int32Array;
        for (let i = 0; i < d.length; i++) {
          if (!isValid(d, i)) {
            out[at++] = null;
            continue;
          }
          const list: Scalar[] = [];
          for (let k = o[d.offset + i]!; k < o[d.offset + i + 1]!; k++) list.push(scalarAt(child, shape.leaf, k));
          out[at++] = list;
        }
      } else if (ArrowTypes.isDictionary(d.type)) {
        const values = dictionaryValues(d, shape.leaf, cache);
        const keys = d.values as Int32Array;
        for (let i = 0; i < d.length; i++) out[at++] = isValid(d, i) ? values[keys[d.offset + i]!]! : null;
      } else {
        for (let i = 0; i < d.length; i++) out[at++] = isValid(d, i) ? scalarAt(d, shape.leaf, i) : null;
      }
    }
    return out;
  });
}
