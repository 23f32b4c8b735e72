/**
 * DuckDB (@duckdb/node-api): the rows loaded into its own in-memory table, then `COPY … TO (FORMAT parquet)`
 * with the same codec and rows per row group. The load is the "bulk" path of libraries.md §3 — fixed-width
 * values and Arrow validity bitmaps memcpy'd into DuckDB vectors (`copy_data_to_vector[_validity]`), strings
 * and blobs assigned per value — and is timed separately: the headline compares the COPY alone.
 * Timestamps go in as TIMESTAMP_MS (the Arrow values copied as they are); JSON as VARCHAR.
 */
import { DuckDBDataChunk, DuckDBInstance, BIGINT, BLOB, BOOLEAN, DOUBLE, FLOAT, INTEGER, LIST, TIMESTAMP_MS, VARCHAR, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import { DataType as ArrowTypes, type Data, type RecordBatch } from 'apache-arrow';
import { bit, isValid, type ColumnShape, type LeafKind, type PreparedSegment } from './input.js';
import { timed, type RunTiming } from './protocol.js';

const LEAF_TYPES: Record<LeafKind, { type: DuckDBType; sql: string; width: number }> = {
  'int32': { type: INTEGER, sql: 'INTEGER', width: 4 },
  'int64': { type: BIGINT, sql: 'BIGINT', width: 8 },
  'float': { type: FLOAT, sql: 'FLOAT', width: 4 },
  'double': { type: DOUBLE, sql: 'DOUBLE', width: 8 },
  'boolean': { type: BOOLEAN, sql: 'BOOLEAN', width: 1 },
  'string': { type: VARCHAR, sql: 'VARCHAR', width: 0 },
  'bytes': { type: BLOB, sql: 'BLOB', width: 0 },
  'timestamp-ms': { type: TIMESTAMP_MS, sql: 'TIMESTAMP_MS', width: 8 },
};

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Per-value string/blob slices of a Utf8/Binary data, computed once per dictionary. */
function slices(data: Data): Uint8Array[] {
  const o = data.valueOffsets as Int32Array;
  const v = data.values as Uint8Array;
  const out = new Array<Uint8Array>(data.length);
  for (let i = 0; i < data.length; i++) out[i] = v.subarray(o[data.offset + i]!, o[data.offset + i + 1]!);
  return out;
}

/** The validity of rows [from, from + n) of `data` as a bitmap starting at bit 0. */
function validityOf(data: Data, from: number, n: number): Uint8Array {
  const bits = new Uint8Array(Math.ceil(n / 8));
  for (let i = 0; i < n; i++) if (isValid(data, from + i)) bits[i >> 3]! |= 1 << (i & 7);
  return bits;
}

function copyValidity(vector: duckdb.Vector, bits: Uint8Array, byteOffset: number, n: number): void {
  duckdb.vector_ensure_validity_writable(vector);
  duckdb.copy_data_to_vector_validity(vector, 0, bits.buffer as ArrayBuffer, bits.byteOffset + byteOffset, Math.ceil(n / 8));
}

/** Copies rows [from, from + n) of the flat leaf `data` into `vector` rows [0, n). */
function fillLeaf(vector: duckdb.Vector, data: Data, leaf: LeafKind, from: number, n: number, dictionaries: Map<unknown, Uint8Array[]>): void {
  const start = data.offset + from;
  if (data.nullCount > 0 && data.nullBitmap !== undefined && data.nullBitmap.length > 0) {
    const bits = data.nullBitmap;
    // Arrow and DuckDB validity are both LSB-first bitmaps: byte-aligned windows are a plain copy.
    if (start % 8 === 0) copyValidity(vector, bits, start / 8, n);
    else copyValidity(vector, validityOf(data, from, n), 0, n);
  }
  const { width } = LEAF_TYPES[leaf];
  if (ArrowTypes.isDictionary(data.type)) {
    let values = dictionaries.get(data.dictionary);
    if (!values) {
      values = data.dictionary!.data.flatMap(slices);
      dictionaries.set(data.dictionary, values);
    }
    const keys = data.values as Int32Array;
    for (let i = 0; i < n; i++) if (isValid(data, from + i)) duckdb.vector_assign_string_element_len(vector, i, values[keys[start + i]!]!);
  } else if (leaf === 'string' || leaf === 'bytes') {
    const o = data.valueOffsets as Int32Array;
    const v = data.values as Uint8Array;
    for (let i = 0; i < n; i++) if (isValid(data, from + i)) duckdb.vector_assign_string_element_len(vector, i, v.subarray(o[start + i]!, o[start + i + 1]!));
  } else if (leaf === 'boolean') {
    const bits = data.values as Uint8Array;
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = bit(bits, start + i) ? 1 : 0;
    duckdb.copy_data_to_vector(vector, 0, bytes.buffer, 0, n);
  } else {
    const values = data.values as Int32Array;
    duckdb.copy_data_to_vector(vector, 0, values.buffer as ArrayBuffer, values.byteOffset + start * width, n * width);
  }
}

/** Copies list rows [from, from + n) of `data` into the LIST `vector`: entries (offset, length), then the child. */
function fillList(vector: duckdb.Vector, data: Data, leaf: LeafKind, from: number, n: number, dictionaries: Map<unknown, Uint8Array[]>): void {
  const o = data.valueOffsets as Int32Array;
  const start = data.offset + from;
  const base = o[start]!;
  const total = o[start + n]! - base;
  const entries = new BigUint64Array(2 * n);
  for (let i = 0; i < n; i++) {
    entries[2 * i] = BigInt(o[start + i]! - base);
    entries[2 * i + 1] = BigInt(o[start + i + 1]! - o[start + i]!);
  }
  duckdb.copy_data_to_vector(vector, 0, entries.buffer, 0, entries.byteLength);
  if (data.nullCount > 0) copyValidity(vector, validityOf(data, from, n), 0, n);
  duckdb.list_vector_reserve(vector, total);
  if (total > 0) fillLeaf(duckdb.list_vector_get_child(vector), data.children[0]!, leaf, base, total, dictionaries);
  duckdb.list_vector_set_size(vector, total);
}

async function load(connection: DuckDBConnection, shapes: readonly ColumnShape[], batches: readonly RecordBatch[]): Promise<void> {
  const columns = shapes.map((s) => `${quote(s.name)} ${LEAF_TYPES[s.leaf].sql}${s.list ? '[]' : ''}`);
  await connection.run('DROP TABLE IF EXISTS t');
  await connection.run(`CREATE TABLE t (${columns.join(', ')})`);
  const types = shapes.map((s) => (s.list ? LIST(LEAF_TYPES[s.leaf].type) : LEAF_TYPES[s.leaf].type).toLogicalType().logical_type);
  const appender = await connection.createAppender('t');
  const size = duckdb.vector_size();
  const dictionaries = new Map<unknown, Uint8Array[]>();
  for (const batch of batches) {
    for (let from = 0; from < batch.numRows; from += size) {
      const n = Math.min(size, batch.numRows - from);
      const chunk = duckdb.create_data_chunk(types);
      shapes.forEach((s, c) => {
        const vector = duckdb.data_chunk_get_vector(chunk, c);
        const data = batch.getChildAt(c)!.data[0]!;
        if (s.list) fillList(vector, data, s.leaf, from, n, dictionaries);
        else fillLeaf(vector, data, s.leaf, from, n, dictionaries);
      });
      duckdb.data_chunk_set_size(chunk, n);
      appender.appendDataChunk(new DuckDBDataChunk(chunk));
    }
  }
  appender.closeSync();
}

export interface DuckDBPeer {
  threads: string;
  run(file: string): Promise<RunTiming>;
  close(): void;
}

export async function openDuckDB(p: PreparedSegment, shapes: readonly ColumnShape[], batches: readonly RecordBatch[]): Promise<DuckDBPeer> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const threads = String((await connection.runAndReadAll("SELECT current_setting('threads')")).getRows()[0]![0]);
  const codec = p.parquet.compressionCodec.toLowerCase();
  return {
    threads,
    async run(file) {
      const loaded = await timed(() => load(connection, shapes, batches));
      const copied = await timed(async () => {
        await connection.run(`COPY t TO '${file.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE ${p.rowsPerGroup})`);
      });
      return { seconds: copied.seconds, cpuSeconds: copied.cpuSeconds, loadSeconds: loaded.seconds };
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
