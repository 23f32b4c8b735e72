/**
 * The parquet-wasm writer runs in a worker thread: its memory is reported and bounded per file, a failure
 * inside the thread is a typed error (never a valid-looking file), and the output is read back whole.
 */
import { Field, Float64, Int64, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import type { ParquetFileSummary } from '../../src/pipeline/encoder.js';
import { ParquetError } from '../../src/pipeline/parquet-error.js';
import { DEFAULT_PARQUET_OPTIONS } from '../../src/pipeline/parquet-options.js';
import { toParquet } from '../../src/pipeline/streams.js';
import { closeDuckdb, duckQuery, sqlString, tempParquet } from './helpers.js';

afterAll(() => closeDuckdb());

const fields = [new Field('a', new Int64(), true), new Field('b', new Float64(), true)];
const schema = new Schema(fields);
const ROWS = 65_536;
const batch = new RecordBatch(schema, makeData({
  type: new Struct(fields), length: ROWS, nullCount: 0,
  children: [
    makeData({ type: new Int64(), length: ROWS, data: BigInt64Array.from({ length: ROWS }, (_, i) => BigInt(i * 7919)) }),
    makeData({ type: new Float64(), length: ROWS, data: Float64Array.from({ length: ROWS }, (_, i) => Math.sin(i)) }),
  ],
}));

async function* copies(n: number): AsyncGenerator<RecordBatch> {
  for (let i = 0; i < n; i++) yield batch;
}

async function run(n: number, extra: { rowsPerRowGroup?: number } = {}): Promise<{ chunks: Uint8Array[]; summary: ParquetFileSummary }> {
  const parquet = { ...DEFAULT_PARQUET_OPTIONS, rowGroupSizeBytes: 4 * 1024 * 1024, enableDictionary: false };
  const gen = toParquet(copies(n), { sourceSchema: schema, parquet, ...extra });
  const chunks: Uint8Array[] = [];
  for (;;) {
    const r = await gen.next();
    if (r.done) return { chunks, summary: r.value };
    chunks.push(r.value);
  }
}

describe('parquet-wasm writer thread', () => {
  it('reports its wasm memory, which stays about one row group for an input many times larger', async () => {
    const small = await run(2);
    const large = await run(48); // 3.1M rows, ~50 MB of Arrow input, 4 MiB row groups
    expect(large.summary.rows).toBe(48 * ROWS);
    expect(large.summary.bytes).toBeGreaterThan(30 * 1024 * 1024);
    expect(small.summary.writerMemoryBytes).toBeGreaterThan(0);
    expect(large.summary.writerMemoryBytes! - small.summary.writerMemoryBytes!).toBeLessThan(48 * 1024 * 1024);
  });

  it('a file written through the thread reads back whole in DuckDB', async () => {
    const { chunks, summary } = await run(3);
    const file = tempParquet(Buffer.concat(chunks));
    try {
      const [row] = await duckQuery(`SELECT count(*)::INTEGER AS n, sum(a)::BIGINT AS s FROM read_parquet(${sqlString(file.path)})`);
      const n = 3 * ROWS;
      expect(row).toEqual({ n, s: BigInt(3 * 7919 * ((ROWS - 1) * ROWS) / 2) });
      expect(summary.rows).toBe(n);
    } finally {
      file.remove();
    }
  });

  it('a failure inside the thread (a writer setting arrow-rs rejects) is PARQUET_WRITE_FAILED, with no output', async () => {
    const chunks: Uint8Array[] = [];
    const parquet = { ...DEFAULT_PARQUET_OPTIONS, enableDictionary: false };
    const failing = async (): Promise<void> => {
      for await (const c of toParquet(copies(2), { sourceSchema: schema, parquet, rowsPerRowGroup: 0 })) chunks.push(c);
    };
    const err = await failing().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ParquetError);
    expect((err as ParquetError).code).toBe('PARQUET_WRITE_FAILED');
    expect(chunks).toEqual([]);
  });
});
