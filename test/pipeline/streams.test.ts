/**
 * The stage as stream components: backpressure end to end (a slow or stalled consumer keeps about one row
 * group in flight, measured), failures and early stops, empty input, the Node Transform and `pipeline`, and
 * a generous memory bound on wasm memory for an input many times the row group size.
 */
import type { ParquetFileSummary } from '../../src/pipeline/encoder.js';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Field, Float64, Int64, RecordBatch, Schema, Struct, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { ParquetError } from '../../src/pipeline/parquet-error.js';
import { DEFAULT_PARQUET_OPTIONS } from '../../src/pipeline/parquet-options.js';
import { ParquetTransform, parquetStage, toParquet, type ParquetStageOptions } from '../../src/pipeline/streams.js';
import { SegmentReader } from '../../src/sources/segment-reader.js';
import { describeFixtures } from '../support/fixtures.js';
import { readRows } from '../support/rows.js';
import { closeDuckdb, duckQuery, duckRows, hyparquetRows, metadataOf, sqlString, tempParquet } from './helpers.js';

afterAll(() => closeDuckdb());

const fields = [new Field('id', new Int64(), true), new Field('s', new Utf8(), true)];
const schema = new Schema(fields);

function makeBatch(start: number, rows: number): RecordBatch {
  const ids = new BigInt64Array(rows);
  for (let i = 0; i < rows; i++) ids[i] = BigInt(start + i);
  const s = vectorFromArray(Array.from({ length: rows }, (_, i) => `row-${start + i}`), new Utf8());
  return new RecordBatch(schema, makeData({
    type: new Struct(fields), length: rows, nullCount: 0,
    children: [makeData({ type: new Int64(), length: rows, data: ids }), s.data[0]!],
  }));
}

interface Tracker {
  pulled: number;
  closed: boolean;
}

async function* source(batches: number, rows: number, tracker: Tracker, failAt?: number): AsyncGenerator<RecordBatch> {
  try {
    for (let b = 0; b < batches; b++) {
      if (b === failAt) throw new Error(`source failed at batch ${b}`);
      tracker.pulled += rows;
      yield makeBatch(b * rows, rows);
    }
  } finally {
    tracker.closed = true;
  }
}

const options = (over: Partial<ParquetStageOptions> = {}): ParquetStageOptions => ({
  sourceSchema: schema, parquet: { ...DEFAULT_PARQUET_OPTIONS }, rowsPerRowGroup: 10_000, ...over,
});

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  for await (const c of chunks) out.push(c);
  return Buffer.concat(out);
}

describe('toParquet backpressure', () => {
  it.each([[100, 10], [95, 10], [3, 1]])('%i batches of 1,000 rows → %i chunks, one per row group, the footer in the last', async (batches, groups) => {
    const chunks = [];
    for await (const c of toParquet(source(batches, 1000, { pulled: 0, closed: false }), options())) chunks.push(c);
    expect(chunks).toHaveLength(groups);
    const meta = metadataOf(Buffer.concat(chunks));
    expect(meta.row_groups).toHaveLength(groups);
    // Each chunk ends where its row group ends (the first also holds the magic, the last the footer).
    let offset = 0;
    chunks.forEach((c, i) => {
      const g = meta.row_groups[i]!;
      expect(Number(g.file_offset) + Number(g.total_compressed_size)).toBeLessThanOrEqual(offset + c.length);
      expect(Number(g.file_offset)).toBeGreaterThanOrEqual(i === 0 ? 4 : offset);
      offset += c.length;
    });
    expect(Buffer.from(chunks[chunks.length - 1]!.subarray(-4)).toString()).toBe('PAR1');
  });

  it('a slow consumer keeps at most about one row group in flight, and gets one chunk per row group', async () => {
    const tracker: Tracker = { pulled: 0, closed: false };
    const inFlight: number[] = [];
    const chunks: Uint8Array[] = [];
    for await (const chunk of toParquet(source(100, 1000, tracker), options())) {
      chunks.push(chunk);
      // Rows decoded beyond what this consumer has received so far.
      inFlight.push(tracker.pulled - Math.min(100_000, chunks.length * 10_000));
      await sleep(15);
      inFlight.push(tracker.pulled - Math.min(100_000, chunks.length * 10_000));
    }
    // One chunk per row group: the last one carries the footer too.
    expect(chunks).toHaveLength(10);
    const meta = metadataOf(Buffer.concat(chunks));
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toStrictEqual(Array(10).fill(10_000));
    // Beyond what the consumer holds: the next group (10,000 rows), the batch the writer may ask for before
    // it is stopped, and one batch of lookahead.
    expect(Math.max(...inFlight)).toBeLessThanOrEqual(12_000);
    expect(Math.max(...inFlight)).toBeGreaterThan(0);
    expect(tracker.closed).toBe(true);
  });

  it('a stalled consumer stops decoding: the source is not drained while nobody reads', async () => {
    const tracker: Tracker = { pulled: 0, closed: false };
    const out = toParquet(source(100, 1000, tracker), options());
    const first = await out.next();
    expect(first.done).toBe(false);
    const atFirst = tracker.pulled;
    await sleep(300);
    expect(tracker.pulled).toBeLessThanOrEqual(atFirst + 11_000);
    expect(tracker.pulled).toBeLessThanOrEqual(22_000);
    await out.return(undefined as never);
    expect(tracker.closed).toBe(true);
    expect(tracker.pulled).toBeLessThan(100_000);
  });

  it('a consumer that stops early closes the source', async () => {
    const tracker: Tracker = { pulled: 0, closed: false };
    for await (const _chunk of toParquet(source(100, 1000, tracker), options())) break;
    expect(tracker.closed).toBe(true);
    expect(tracker.pulled).toBeLessThan(30_000);
  });

  it('a failing source ends the output with its error (no footer is ever produced)', async () => {
    const tracker: Tracker = { pulled: 0, closed: false };
    const chunks: Uint8Array[] = [];
    const err = await (async () => {
      for await (const c of toParquet(source(100, 1000, tracker, 25), options())) chunks.push(c);
    })().then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toBe('source failed at batch 25');
    // Row groups finished before the failure may have been handed out; the file was never completed.
    expect(chunks.length).toBeLessThanOrEqual(3);
    const bytes = Buffer.concat(chunks);
    expect(bytes.length === 0 || bytes.subarray(-4).toString() !== 'PAR1').toBe(true);
  });

  it('an abort signal stops the stage with its reason', async () => {
    const tracker: Tracker = { pulled: 0, closed: false };
    const controller = new AbortController();
    const reason = new Error('stop now');
    const out = toParquet(source(100, 1000, tracker), { ...options(), signal: controller.signal });
    await out.next();
    controller.abort(reason);
    await expect(out.next()).rejects.toBe(reason);
    expect(tracker.closed).toBe(true);
  });

  it('a batch that does not have the source schema is refused, not silently skipped', async () => {
    async function* wrong(): AsyncGenerator<RecordBatch> {
      yield makeBatch(0, 10);
      const other = [new Field('x', new Float64(), true)];
      yield new RecordBatch(new Schema(other), makeData({ type: new Struct(other), length: 1, nullCount: 0, children: [makeData({ type: new Float64(), length: 1, data: new Float64Array(1) })] }));
    }
    const err = await collect(toParquet(wrong(), options())).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ParquetError);
    expect((err as ParquetError).message).toContain('the batch has no column id');
  });

  it('no batches at all is a valid Parquet file with the schema and 0 rows', async () => {
    const bytes = await collect(toParquet(source(0, 1000, { pulled: 0, closed: false }), options()));
    const meta = metadataOf(bytes);
    expect(Number(meta.num_rows)).toBe(0);
    expect(meta.schema.slice(1).map((e) => e.name)).toStrictEqual(['id', 's']);
    expect(await hyparquetRows(bytes)).toStrictEqual([]);
    const t = tempParquet(bytes);
    try {
      expect(await duckQuery(`SELECT count(*) AS n FROM read_parquet(${sqlString(t.path)})`)).toStrictEqual([{ n: 0n }]);
    } finally {
      t.remove();
    }
  });

  it('wasm memory stays bounded for an input many times the row group size (generous sanity bound)', async () => {
    const big = [new Field('a', new Int64(), true), new Field('b', new Float64(), true)];
    const rows = 65_536;
    const batch = new RecordBatch(new Schema(big), makeData({
      type: new Struct(big), length: rows, nullCount: 0,
      children: [
        makeData({ type: new Int64(), length: rows, data: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i * 7919)) }),
        makeData({ type: new Float64(), length: rows, data: Float64Array.from({ length: rows }, (_, i) => Math.sin(i)) }),
      ],
    }));
    async function* many(n: number): AsyncGenerator<RecordBatch> {
      for (let i = 0; i < n; i++) yield batch;
    }
    const run = async (n: number): Promise<ParquetFileSummary> => {
      const parquet = { ...DEFAULT_PARQUET_OPTIONS, rowGroupSizeBytes: 4 * 1024 * 1024, enableDictionary: false };
      const gen = toParquet(many(n), { sourceSchema: new Schema(big), parquet });
      for (;;) {
        const r = await gen.next();
        if (r.done) return r.value;
      }
    };
    const small = await run(8);
    const large = await run(160); // 10.5M rows, 168 MB of Arrow input, ~170 MB of Parquet
    // The writer runs in its own thread: its wasm memory (which only grows) comes back in the summary.
    expect(large.bytes).toBeGreaterThan(100 * 1024 * 1024);
    expect(large.writerMemoryBytes! - small.writerMemoryBytes!).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('ParquetTransform and parquetStage', () => {
  it('in stream.pipeline: batches in, the same rows out, summary set, the writable side backpressured', async () => {
    const tracker: Tracker = { pulled: 0, closed: false };
    const transform = new ParquetTransform(options());
    const chunks: Buffer[] = [];
    const maxAhead: number[] = [];
    const slowSink = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        maxAhead.push(tracker.pulled - chunks.length * 10_000);
        setTimeout(cb, 15);
      },
    });
    await pipeline(Readable.from(source(50, 1000, tracker), { objectMode: true, highWaterMark: 1 }), transform, slowSink);
    const bytes = Buffer.concat(chunks);
    expect(transform.summary?.rows).toBe(50_000);
    expect(transform.summary?.rowGroups).toHaveLength(5);
    const rows = await hyparquetRows(bytes);
    expect(rows).toHaveLength(50_000);
    expect(rows[12_345]).toStrictEqual({ id: 12_345, s: 'row-12345' });
    // Beyond what the sink has: the chunk buffered in the Transform's readable side, the group being built,
    // and the batches buffered on the writable side (Readable.from, the write buffer, the lookahead).
    expect(Math.max(...maxAhead)).toBeLessThanOrEqual(24_000);
  });

  it('destroying the Transform stops the source', async () => {
    const tracker: Tracker = { pulled: 0, closed: false };
    const transform = new ParquetTransform(options());
    const input = Readable.from(source(100, 1000, tracker), { objectMode: true, highWaterMark: 1 });
    const sink = new PassThrough();
    const done = pipeline(input, transform, sink);
    await new Promise((resolve) => sink.once('data', resolve));
    transform.destroy(new Error('cancelled'));
    await expect(done).rejects.toThrow('cancelled');
    await sleep(50);
    expect(tracker.closed).toBe(true);
    expect(tracker.pulled).toBeLessThan(100_000);
  });

  it('an error inside the stage errors the Transform', async () => {
    const bad = [new Field('d', new Utf8(), true, new Map([['pinot.dataType', 'BIG_DECIMAL']]))];
    const batch = new RecordBatch(new Schema(bad), makeData({ type: new Struct(bad), length: 1, nullCount: 0, children: [vectorFromArray(['1234'], new Utf8()).data[0]!] }));
    const stage = new ParquetTransform({ ...options({ parquet: { ...DEFAULT_PARQUET_OPTIONS, decimal: { precision: 3, scale: 0 } } }), sourceSchema: new Schema(bad) });
    const err = await pipeline(Readable.from([batch], { objectMode: true }), stage, new PassThrough().resume()).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ParquetError);
    expect((err as Error).message).toContain('BIG_DECIMAL value 1234 does not fit DECIMAL(3,0)');
  });
});

describeFixtures('parquetStage in a pipeline from a SegmentReader', 'fixtures/pinot-generated/1.5.1', (dir) => {
  it('reader.toReadable() → parquetStage → file: DuckDB reads the segment rows', async () => {
    const location = join(dir, 'events__0__13__20261126T0100Z.tar.gz');
    const reader = await SegmentReader.open(location);
    const out = mkdtempSync(join(tmpdir(), 'pq-stage-'));
    try {
      const path = join(out, 'events.parquet');
      await pipeline(reader.toReadable({ batchRows: 1000 }), parquetStage({ sourceSchema: reader.schema(), parquet: { ...DEFAULT_PARQUET_OPTIONS } }), createWriteStream(path));
      expect(await duckRows(path)).toStrictEqual(await readRows(location));
      expect(readFileSync(path).subarray(0, 4).toString()).toBe('PAR1');
    } finally {
      await reader.close();
      rmSync(out, { recursive: true, force: true });
    }
  });
});
