/**
 * The direct writer behind the batch-level encoder contract: the stream components (`toParquet`,
 * `ParquetTransform`) with `encoder: createDirectEncoder` — one chunk per row group with the footer in the last,
 * rows read back equal by hyparquet and DuckDB, dictionary batches that share a dictionary keep it, batches with
 * different dictionaries are materialised, and the concatenation of sliced pieces.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Dictionary, Field, Int32, Int64, List, RecordBatch, Schema, Struct, Utf8, makeData, makeVector, vectorFromArray, type Data,
} from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { concatData } from '../../src/pipeline/direct/concat.js';
import { createDirectEncoder } from '../../src/pipeline/direct/encoder.js';
import { DEFAULT_PARQUET_OPTIONS } from '../../src/pipeline/parquet-options.js';
import { ParquetTransform, toParquet, type ParquetStageOptions } from '../../src/pipeline/streams.js';
import { closeDuckdb, duckRows, hyparquetRows, metadataOf, tempParquet } from './helpers.js';

afterAll(() => closeDuckdb());

const dictType = new Dictionary(new Utf8(), new Int32(), 0);
const fields = [
  new Field('id', new Int64(), true),
  new Field('s', new Utf8(), true),
  new Field('d', dictType, true),
  new Field('tags', new List(new Field('element', new Int32(), true)), true),
];
const schema = new Schema(fields);
const WORDS = ['alpha', 'beta', 'gamma', 'delta'];
const shared = makeVector(vectorFromArray(WORDS, new Utf8()).data[0]!);

function batch(start: number, rows: number, dictionary = shared): RecordBatch {
  const ids = new BigInt64Array(rows);
  const keys = new Int32Array(rows);
  const offsets = new Int32Array(rows + 1);
  const values: number[] = [];
  const valid = new Uint8Array((rows + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < rows; i++) {
    const r = start + i;
    ids[i] = BigInt(r);
    keys[i] = r % dictionary.length;
    if (r % 7 === 3) nulls++;
    else valid[i >> 3]! |= 1 << (i & 7);
    for (let k = 0; k < r % 3; k++) values.push(r + k);
    offsets[i + 1] = values.length;
  }
  const s = vectorFromArray(Array.from({ length: rows }, (_, i) => ((start + i) % 5 === 0 ? null : `row-${start + i}`)), new Utf8());
  const children: Data[] = [
    makeData({ type: new Int64(), length: rows, data: ids }),
    s.data[0]!,
    makeData({ type: dictType, length: rows, data: keys, dictionary, nullCount: nulls, nullBitmap: valid }),
    makeData({ type: fields[3]!.type as List, length: rows, valueOffsets: offsets, child: makeData({ type: new Int32(), length: values.length, data: Int32Array.from(values) }) }),
  ];
  return new RecordBatch(schema, makeData({ type: new Struct(fields), length: rows, nullCount: 0, children }));
}

function expectedRows(total: number, dictionaryOf: (r: number) => readonly string[] = () => WORDS): Record<string, unknown>[] {
  return Array.from({ length: total }, (_, r) => {
    const words = dictionaryOf(r);
    return {
      id: r,
      s: r % 5 === 0 ? null : `row-${r}`,
      d: r % 7 === 3 ? null : words[r % words.length],
      tags: Array.from({ length: r % 3 }, (_, k) => r + k),
    };
  });
}

const options = (over: Partial<ParquetStageOptions> = {}): ParquetStageOptions => ({
  sourceSchema: schema, parquet: { ...DEFAULT_PARQUET_OPTIONS }, rowsPerRowGroup: 1000, encoder: createDirectEncoder, ...over,
});

async function* batches(count: number, rows: number, dictionaryOf?: (b: number) => typeof shared): AsyncGenerator<RecordBatch> {
  for (let b = 0; b < count; b++) yield batch(b * rows, rows, dictionaryOf?.(b));
}

describe('the direct writer as a batch encoder', () => {
  it.each([[10, 300, 3], [9, 333, 3], [1, 1, 1], [4, 250, 1]])('%i batches of %i rows → %i chunks, one per row group, the footer in the last', async (count, rows, groups) => {
    const chunks: Uint8Array[] = [];
    const out = toParquet(batches(count, rows), options());
    let summary;
    for (;;) {
      const r = await out.next();
      if (r.done) {
        summary = r.value;
        break;
      }
      chunks.push(r.value);
    }
    expect(chunks).toHaveLength(groups);
    const bytes = Buffer.concat(chunks);
    expect(Buffer.from(bytes.subarray(0, 4)).toString()).toBe('PAR1');
    expect(Buffer.from(chunks[chunks.length - 1]!.subarray(-4)).toString()).toBe('PAR1');
    const meta = metadataOf(bytes);
    expect(meta.row_groups).toHaveLength(groups);
    expect(summary.rows).toBe(count * rows);
    expect(meta.created_by).toMatch(/\(build direct\)$/);
    // The shared dictionary became the Parquet dictionary of column d.
    const d = meta.row_groups.map((g) => g.columns[2]!.meta_data!);
    expect(d.every((m) => m.dictionary_page_offset !== undefined)).toBe(true);
    const want = expectedRows(count * rows);
    expect(await hyparquetRows(bytes)).toStrictEqual(want);
    const file = tempParquet(bytes);
    try {
      expect(await duckRows(file.path)).toStrictEqual(want);
    } finally {
      file.remove();
    }
  });

  it('batches with different dictionaries are written by value', async () => {
    const other = ['x', 'y', 'z'];
    const otherVector = makeVector(vectorFromArray(other, new Utf8()).data[0]!);
    const chunks: Uint8Array[] = [];
    for await (const c of toParquet(batches(4, 250, (b) => (b % 2 === 0 ? shared : otherVector)), options())) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    expect(await hyparquetRows(bytes)).toStrictEqual(expectedRows(1000, (r) => (Math.floor(r / 250) % 2 === 0 ? WORDS : other)));
  });

  it('runs as a Node Transform in a pipeline', async () => {
    const transform = new ParquetTransform(options());
    const chunks: Uint8Array[] = [];
    await pipeline(Readable.from(batches(5, 400), { objectMode: true }), transform, async (source: AsyncIterable<Uint8Array>) => {
      for await (const c of source) chunks.push(c);
    });
    expect(metadataOf(Buffer.concat(chunks)).num_rows).toBe(2000n);
    expect(transform.summary?.rowGroups.map((g) => g.rows)).toStrictEqual([1000, 1000]);
  });
});

/** Vector values as plain JS (list values are vectors themselves). */
function plain(values: ArrayLike<unknown>): unknown[] {
  return Array.from(values, (v) => (v !== null && typeof v === 'object' && 'toArray' in v ? Array.from((v as { toArray(): ArrayLike<unknown> }).toArray()) : v));
}

describe('concatData', () => {
  it('joins sliced pieces of every kind into the same values', () => {
    const whole = batch(0, 100);
    const pieces = [whole.slice(0, 13), whole.slice(13, 60), whole.slice(60, 100)];
    fields.forEach((_, i) => {
      const joined = concatData(pieces.map((p) => p.getChildAt(i)!.data[0]!));
      expect(plain(makeVector(joined).toArray()), fields[i]!.name).toStrictEqual(plain(whole.getChildAt(i)!.toArray()));
    });
  });
});
