/**
 * Test helpers for the Parquet stage: convert a segment in memory, and read Parquet back with two
 * independent readers (hyparquet, DuckDB) into the row form `pinot-export cat` prints, so both can be
 * compared with `readRows` (the reader's own decoding) value for value.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { expect } from 'vitest';
import { deserializeTCompactProtocol } from 'hyparquet/src/thrift.js';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import type { FileMetaData, SchemaTree } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { formatFloat32 } from '../../src/cli/json-rows.js';
import type { ParquetFileSummary } from '../../src/pipeline/encoder.js';
import { segmentToParquet, type SegmentToParquetOptions } from '../../src/pipeline/segment-export.js';
import { SegmentReader, type SegmentReaderOptions } from '../../src/sources/segment-reader.js';
import type { Row } from '../support/rows.js';

export interface Converted {
  bytes: Uint8Array;
  chunks: Uint8Array[];
  summary: ParquetFileSummary;
  warnings: string[];
}

/** Converts one segment to Parquet in memory. */
export async function convert(location: string, options: SegmentToParquetOptions, readerOptions: SegmentReaderOptions = {}): Promise<Converted> {
  const warnings: string[] = [];
  const reader = await SegmentReader.open(location, readerOptions);
  try {
    const gen = segmentToParquet(reader, { onWarning: (w) => warnings.push(w), ...options });
    const chunks: Uint8Array[] = [];
    for (;;) {
      const r = await gen.next();
      if (r.done) return { bytes: Buffer.concat(chunks), chunks, summary: r.value, warnings };
      chunks.push(r.value);
    }
  } finally {
    await reader.close();
  }
}

export function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

export function metadataOf(bytes: Uint8Array): FileMetaData {
  return parquetMetadata(arrayBufferOf(bytes));
}

const decoder = new TextDecoder();

function formatLong(v: bigint): number | string {
  return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v.toString();
}

/** A hyparquet value of the Parquet field `node` in the form `cat` prints (decimals as numbers). */
function hyNormalizer(node: SchemaTree): (v: unknown) => unknown {
  const e = node.element;
  if (e.converted_type === 'LIST' || e.logical_type?.type === 'LIST') {
    const element = hyNormalizer(node.children[0]!.children[0]!);
    return (v) => (v == null ? null : (v as unknown[]).map(element));
  }
  if (node.children.length > 0) {
    const members = node.children.map((c) => [c.element.name, hyNormalizer(c)] as const);
    return (v) => (v == null ? null : Object.fromEntries(members.map(([k, f]) => [k, f((v as Record<string, unknown>)[k])])));
  }
  return (v) => {
    if (v == null) return null;
    if (typeof v === 'bigint') return formatLong(v);
    if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
    if (typeof v === 'number') {
      if (e.type === 'FLOAT') return formatFloat32(v);
      return Number.isFinite(v) ? v : String(v);
    }
    return v;
  };
}

/** Rows read by hyparquet: BYTES as hex, TIMESTAMP as epoch numbers (unit of the file), JSON as text. */
export async function hyparquetRows(bytes: Uint8Array): Promise<Row[]> {
  const file = arrayBufferOf(bytes);
  const metadata = parquetMetadata(file);
  const tree = parquetSchema(metadata);
  const rows = await parquetReadObjects({
    file, metadata, compressors, utf8: false,
    parsers: {
      timestampFromMilliseconds: (v: bigint) => Number(v),
      timestampFromMicroseconds: (v: bigint) => Number(v),
      jsonFromBytes: (b: Uint8Array) => decoder.decode(b),
    },
  });
  const columns = tree.children.map((c) => [c.element.name, hyNormalizer(c)] as const);
  return rows.map((r) => Object.fromEntries(columns.map(([k, f]) => [k, f(r[k])])));
}

let duck: { instance: DuckDBInstance; connection: DuckDBConnection } | undefined;

export async function duckdb(): Promise<DuckDBConnection> {
  if (!duck) {
    const instance = await DuckDBInstance.create();
    duck = { instance, connection: await instance.connect() };
  }
  return duck.connection;
}

export function closeDuckdb(): void {
  duck?.connection.closeSync();
  duck?.instance.closeSync();
  duck = undefined;
}

export async function duckQuery(sql: string): Promise<Record<string, unknown>[]> {
  const r = await (await duckdb()).runAndReadAll(sql);
  return r.getRowObjectsJS() as Record<string, unknown>[];
}

/** Writes `bytes` to a temporary .parquet file for DuckDB; the returned function removes it. */
export function tempParquet(bytes: Uint8Array): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pq-test-'));
  const path = join(dir, 'f.parquet');
  writeFileSync(path, bytes);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function ident(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** A DuckDB expression turning a column of `type` into cat's form (hex, epoch, exact decimal text). */
function duckExpression(expr: string, type: string): string {
  if (type.endsWith('[]')) {
    const element = type.slice(0, -2);
    const inner = duckExpression('x', element);
    return inner === 'x' ? expr : `list_transform(${expr}, x -> ${inner})`;
  }
  if (type === 'BLOB') return `lower(hex(${expr}))`;
  if (type.startsWith('DECIMAL')) return `CAST(${expr} AS VARCHAR)`;
  if (type === 'TIMESTAMP WITH TIME ZONE') return `epoch_ms(${expr})`;
  if (type === 'JSON') return `CAST(${expr} AS VARCHAR)`;
  return expr;
}

/** Rows read by DuckDB (`read_parquet`), in the form `cat` prints; DECIMAL as DuckDB's exact text. */
export async function duckRows(path: string): Promise<Row[]> {
  const described = await duckQuery(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`);
  const columns = described.map((d) => ({ name: String(d.column_name), type: String(d.column_type) }));
  const select = columns.map((c) => `${duckExpression(ident(c.name), c.type)} AS ${ident(c.name)}`).join(', ');
  const rows = await duckQuery(`SELECT ${select} FROM read_parquet(${sqlString(path)})`);
  const float = new Set(columns.filter((c) => c.type === 'FLOAT' || c.type === 'FLOAT[]').map((c) => c.name));
  const norm = (v: unknown, isFloat: boolean): unknown => {
    if (v == null) return null;
    if (Array.isArray(v)) return v.map((x) => norm(x, isFloat));
    if (typeof v === 'bigint') return formatLong(v);
    if (typeof v === 'number') return isFloat ? formatFloat32(v) : Number.isFinite(v) ? v : String(v);
    return v;
  };
  return rows.map((r) => Object.fromEntries(columns.map((c) => [c.name, norm(r[c.name], float.has(c.name))])));
}

/** DuckDB's `parquet_metadata` rows (one per row group and column chunk). */
export async function duckMetadata(path: string): Promise<Record<string, unknown>[]> {
  return duckQuery(`SELECT * FROM parquet_metadata(${sqlString(path)}) ORDER BY row_group_id, column_id`);
}

export async function duckSchema(path: string): Promise<Record<string, unknown>[]> {
  return duckQuery(`SELECT * FROM parquet_schema(${sqlString(path)})`);
}

export { sqlString };

/** Writes `bytes` to a temporary .parquet file for `fn` (DuckDB reads paths) and removes it afterwards. */
export async function withFile<T>(bytes: Uint8Array, fn: (path: string) => Promise<T>): Promise<T> {
  const t = tempParquet(bytes);
  try {
    return await fn(t.path);
  } finally {
    t.remove();
  }
}

/** The error `p` rejects with; fails the test when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  return expect.fail('expected the conversion to fail');
}

/**
 * Page types of a column chunk, walked header by header with hyparquet's own Thrift reader (works for files
 * with and without a page index): 0 DATA_PAGE, 2 DICTIONARY_PAGE, 3 DATA_PAGE_V2.
 */
export function pageTypes(bytes: Uint8Array, chunk: { dictionary_page_offset?: bigint; data_page_offset: bigint; total_compressed_size: bigint }): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = Number(chunk.dictionary_page_offset ?? chunk.data_page_offset);
  const end = start + Number(chunk.total_compressed_size);
  const types: number[] = [];
  const reader = { view, offset: start };
  while (reader.offset < end) {
    const header = deserializeTCompactProtocol(reader);
    types.push(header.field_1 as number);
    reader.offset += header.field_3 as number;
  }
  return types;
}
