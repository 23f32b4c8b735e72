/**
 * hyparquet-writer 0.17.0 (pure JS) from columnar JS arrays built before timing: typed arrays where a column
 * has no nulls, else arrays with nulls; lists as arrays. ZSTD through a zstd-napi compressor (it has no ZSTD of
 * its own), SNAPPY built in. Explicit schema: every field OPTIONAL, 3-level lists, timestamps declared by
 * logical type only (a converted_type makes it convert every value through BigInt); JSON as UTF8 strings.
 */
import { fileWriter, parquetWrite } from 'hyparquet-writer';
import { compress as zstdCompress } from 'zstd-napi';
import { gzipSync } from 'node:zlib';
import type { ColumnShape, JsValue, LeafKind, PreparedSegment } from './input.js';
import { timed, type RunTiming } from './protocol.js';

/** hyparquet-writer's own (nested) hyparquet SchemaElement type. */
type SchemaElement = NonNullable<Parameters<typeof parquetWrite>[0]['schema']>[number];

function leafElement(name: string, leaf: LeafKind): SchemaElement {
  const e: SchemaElement = { name, repetition_type: 'OPTIONAL' };
  switch (leaf) {
    case 'int32': return { ...e, type: 'INT32' };
    case 'int64': return { ...e, type: 'INT64' };
    case 'float': return { ...e, type: 'FLOAT' };
    case 'double': return { ...e, type: 'DOUBLE' };
    case 'boolean': return { ...e, type: 'BOOLEAN' };
    // JSON stays a plain string: with the JSON type hyparquet-writer would JSON.stringify the text again.
    case 'string': return { ...e, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
    case 'bytes': return { ...e, type: 'BYTE_ARRAY' };
    case 'timestamp-ms': return { ...e, type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } };
  }
}

export function hyparquetSchema(shapes: readonly ColumnShape[]): SchemaElement[] {
  const schema: SchemaElement[] = [{ name: 'root', num_children: shapes.length }];
  for (const s of shapes) {
    if (s.list) {
      schema.push(
        { name: s.name, repetition_type: 'OPTIONAL', converted_type: 'LIST', logical_type: { type: 'LIST' }, num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        leafElement('element', s.leaf),
      );
    } else {
      schema.push(leafElement(s.name, s.leaf));
    }
  }
  return schema;
}

export type JsColumn = JsValue[] | Int32Array | BigInt64Array | Float32Array | Float64Array;

export async function runHyparquet(p: PreparedSegment, shapes: readonly ColumnShape[], columns: readonly JsColumn[], file: string): Promise<RunTiming> {
  const schema = hyparquetSchema(shapes);
  const { seconds, cpuSeconds } = await timed(async () => {
    await parquetWrite({
      writer: fileWriter(file),
      columnData: shapes.map((s, c) => ({ name: s.name, data: columns[c]! as never })),
      schema,
      codec: p.parquet.compressionCodec,
      compressors: { ZSTD: (b: Uint8Array) => zstdCompress(b), GZIP: (b: Uint8Array) => gzipSync(b) },
      rowGroupSize: p.rowsPerGroup,
      pageSize: p.parquet.pageSizeBytes,
    });
  });
  return { seconds, cpuSeconds };
}
