/**
 * Throughput of the direct Parquet writer (src/pipeline/direct) per column type, dictionary vs plain.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/direct-writer.js [--rows N] [--passes N] [--codec SNAPPY] [--group N]
 *
 * For each column shape: `rows` rows (10 % nulls) written as row groups of `group` rows, one column per
 * file, median of `passes` runs; prints rows/s, MB/s of output and the file size. Data is made up front
 * from a fixed seed, so only encoding (levels, values, statistics, compression, footer) is timed.
 */
import { parseArgs } from 'node:util';
import {
  Dictionary, Field, Float64, Int32, Int64, Schema, TimestampMillisecond, Utf8, makeData, makeVector, type Data, type DataType,
} from 'apache-arrow';
import { ParquetFileWriter } from '../src/pipeline/direct/file-writer.js';
import type { ParquetCodec } from '../src/pipeline/parquet-options.js';
import { median, random } from './support.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    passes: { type: 'string', default: '5' },
    codec: { type: 'string', default: 'SNAPPY' },
    group: { type: 'string', default: '1000000' },
  },
});
const rows = Number(args.rows);
const passes = Number(args.passes);
const codec = args.codec.toUpperCase() as ParquetCodec;
const groupRows = Number(args.group);
const r = random(42);

function validity(n: number): { nullBitmap: Uint8Array; nullCount: number } {
  const nullBitmap = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    if (r() < 0.1) nullCount++;
    else nullBitmap[i >> 3]! |= 1 << (i & 7);
  }
  return { nullBitmap, nullCount };
}

function utf8Entries(n: number, length: number): Data<Utf8> {
  const offsets = new Int32Array(n + 1);
  const bytes = new Uint8Array(n * length);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < length; j++) bytes[i * length + j] = 97 + Math.floor(r() * 26);
    offsets[i + 1] = (i + 1) * length;
  }
  return makeData({ type: new Utf8(), length: n, valueOffsets: offsets, data: bytes });
}

interface Shape {
  name: string;
  data: Data;
  dictionary: boolean;
}

function shapes(): Shape[] {
  const ints = Int32Array.from({ length: rows }, () => Math.floor(r() * 2 ** 31));
  const longs = BigInt64Array.from({ length: rows }, () => BigInt(Math.floor(r() * 2 ** 52)) - 2n ** 51n);
  const doubles = Float64Array.from({ length: rows }, () => r() * 1e6);
  const stamps = BigInt64Array.from({ length: rows }, (_, i) => 1_700_000_000_000n + BigInt(i * 7));
  const ids1k = Int32Array.from({ length: rows }, () => Math.floor(r() * 1000));
  const ids50k = Int32Array.from({ length: rows }, () => Math.floor(r() * 50_000));
  const dict = (ids: Int32Array, entries: Data): Data =>
    makeData({ type: new Dictionary(entries.type as DataType, new Int32()), length: rows, data: ids, dictionary: makeVector(entries), ...validity(rows) });
  const d1k = dict(ids1k, utf8Entries(1000, 12));
  const d50k = dict(ids50k, utf8Entries(50_000, 16));
  const plainText = utf8Entries(rows, 16);
  return [
    { name: 'int32', data: makeData({ type: new Int32(), length: rows, data: ints, ...validity(rows) }), dictionary: false },
    { name: 'int64', data: makeData({ type: new Int64(), length: rows, data: longs, ...validity(rows) }), dictionary: false },
    { name: 'float64', data: makeData({ type: new Float64(), length: rows, data: doubles, ...validity(rows) }), dictionary: false },
    { name: 'timestamp(ms), no nulls', data: makeData({ type: new TimestampMillisecond('UTC'), length: rows, data: stamps as unknown as Int32Array }), dictionary: false },
    { name: 'utf8 16 B plain', data: makeData({ ...plainText, type: new Utf8(), length: rows, valueOffsets: plainText.valueOffsets, data: plainText.values, ...validity(rows) }), dictionary: false },
    { name: 'utf8 dict 1k entries → dictionary', data: d1k, dictionary: true },
    { name: 'utf8 dict 1k entries → plain', data: d1k, dictionary: false },
    { name: 'utf8 dict 50k entries → dictionary', data: d50k, dictionary: true },
    { name: 'utf8 dict 50k entries → plain', data: d50k, dictionary: false },
  ];
}

function write(shape: Shape): number {
  const schema = new Schema([new Field('c', shape.data.type, true)]);
  const writer = new ParquetFileWriter(schema, {
    codec, pageSizeBytes: 1024 * 1024, dictionaryColumns: shape.dictionary ? ['c'] : [], jsonPaths: [], keyValueMetadata: new Map(), createdBy: 'bench',
  });
  let bytes = writer.start().length;
  for (let at = 0; at < rows; at += groupRows) {
    const n = Math.min(groupRows, rows - at);
    writer.beginRowGroup(n);
    for (const page of writer.writeColumn(0, shape.data.slice(at, n))) bytes += page.length;
    writer.endRowGroup();
  }
  return bytes + writer.finish().length;
}

console.log(`direct writer: ${rows.toLocaleString('en')} rows, ${codec}, row groups of ${groupRows.toLocaleString('en')}, median of ${passes}`);
console.log('| column | rows/s | output MB/s | file MB |');
console.log('|---|---:|---:|---:|');
for (const shape of shapes()) {
  const times: number[] = [];
  let size = 0;
  write(shape); // warm-up
  for (let p = 0; p < passes; p++) {
    const t0 = process.hrtime.bigint();
    size = write(shape);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const s = median(times);
  console.log(`| ${shape.name} | ${Math.round(rows / s).toLocaleString('en')} | ${(size / 1e6 / s).toFixed(1)} | ${(size / 1e6).toFixed(2)} |`);
}
