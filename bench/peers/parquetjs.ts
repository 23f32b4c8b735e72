/**
 * @dsnp/parquetjs 1.8.8 from row objects (the only input it takes), SNAPPY only (it cannot write ZSTD). Rows
 * are built from the prepared JS columns inside the timed loop, as libraries.md measured it; `appendRow` is
 * awaited per row. JSON is declared UTF8: its JSON type would JSON.stringify the already-serialised text.
 */
import parquetjs from '@dsnp/parquetjs';
import type { FieldDefinition, ParquetType, SchemaDefinition } from '@dsnp/parquetjs';
import type { JsColumn } from './hyparquet.js';
import type { ColumnShape, LeafKind, PreparedSegment } from './input.js';
import { timed, type RunTiming } from './protocol.js';

const TYPES: Record<LeafKind, ParquetType> = {
  'int32': 'INT32', 'int64': 'INT64', 'float': 'FLOAT', 'double': 'DOUBLE', 'boolean': 'BOOLEAN',
  'string': 'UTF8', 'bytes': 'BYTE_ARRAY', 'timestamp-ms': 'TIMESTAMP_MILLIS',
};

function schemaOf(shapes: readonly ColumnShape[]): SchemaDefinition {
  const fields: SchemaDefinition = {};
  for (const s of shapes) {
    const leaf: FieldDefinition = { type: TYPES[s.leaf], optional: true };
    fields[s.name] = s.list ? { type: 'LIST', optional: true, fields: { list: { repeated: true, fields: { element: leaf } } } } : leaf;
  }
  return fields;
}

/** A value as parquetjs takes it: numbers for timestamps, Buffers for bytes, lists as `{list: [{element}]}`. */
function cell(shape: ColumnShape, v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (shape.list) return { list: (v as unknown[]).map((e) => ({ element: cell({ ...shape, list: false }, e) })) };
  if (shape.leaf === 'timestamp-ms') return Number(v);
  if (shape.leaf === 'bytes') return Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength);
  return v;
}

export async function runParquetjs(p: PreparedSegment, shapes: readonly ColumnShape[], columns: readonly JsColumn[], file: string): Promise<RunTiming> {
  if (p.parquet.compressionCodec !== 'SNAPPY') throw new Error('@dsnp/parquetjs 1.8.8 cannot write ' + p.parquet.compressionCodec);
  const schema = new parquetjs.ParquetSchema(Object.fromEntries(Object.entries(schemaOf(shapes)).map(([k, f]) => [k, { ...f, compression: 'SNAPPY' }])) as SchemaDefinition);
  const { seconds, cpuSeconds } = await timed(async () => {
    const writer = await parquetjs.ParquetWriter.openFile(schema, file, { rowGroupSize: p.rowsPerGroup });
    for (let r = 0; r < p.rows; r++) {
      const row: Record<string, unknown> = {};
      for (let c = 0; c < shapes.length; c++) {
        const v = cell(shapes[c]!, columns[c]![r]);
        if (v !== undefined) row[shapes[c]!.name] = v;
      }
      await writer.appendRow(row);
    }
    await writer.close();
  });
  return { seconds, cpuSeconds };
}
