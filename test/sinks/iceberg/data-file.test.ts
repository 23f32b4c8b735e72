import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Binary, Bool, Field, Float64, Int32, List, makeData, RecordBatch, Schema, Struct, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PARQUET_OPTIONS } from '../../../src/pipeline/parquet-options.js';
import { toParquet } from '../../../src/pipeline/streams.js';
import {
  dataFileFromJson, dataFileFromParquet, dataFileToJson, truncateBinaryUpper, truncateStringLower, truncateStringUpper, type DataFile,
} from '../../../src/sinks/iceberg/data-file.js';
import { planIcebergWrite, type IcebergSchema } from '../../../src/sinks/iceberg/schema.js';
import { fromSingleValue, parsePrimitiveType } from '../../../src/sinks/iceberg/single-value.js';
import { emptyTableState, parseTableState } from '../../../src/state/records.js';
import { describeFixtures } from '../../support/fixtures.js';
import { BUNNIES } from './avro-helpers.js';

const SCHEMA: IcebergSchema = {
  type: 'struct', 'schema-id': 0, fields: [
    { id: 1, name: 'id', required: false, type: 'long' },
    { id: 2, name: 'name', required: false, type: 'string' },
    { id: 3, name: 'score', required: false, type: 'double' },
    { id: 4, name: 'ts', required: false, type: 'timestamptz' },
    { id: 5, name: 'tags', required: false, type: { type: 'list', 'element-id': 6, 'element-required': false, element: 'string' } },
    { id: 7, name: 'blob', required: false, type: 'binary' },
    { id: 8, name: 'flag', required: false, type: 'boolean' },
    { id: 9, name: 'extra', required: false, type: 'long' },
  ],
};

const ROWS = 40;
const LONG = 'abcdefghijklmnopqrstuvwxyz';
const names = Array.from({ length: ROWS }, (_, i) => (i % 7 === 3 ? null : `${i % 2 ? 'zz' : 'm'}${LONG.slice(0, i % 27)}-${i}`));
const scores = Array.from({ length: ROWS }, (_, i) => (i === 5 ? NaN : i === 6 ? -0 : i % 5 === 0 ? null : (i - 20) / 4));
const tsMs = Array.from({ length: ROWS }, (_, i) => 1_764_115_200_000n + BigInt(i) * 60_000n);
const blobs = Array.from({ length: ROWS }, (_, i) => (i % 9 === 0 ? null : Uint8Array.from({ length: 10 + i }, (_, k) => (i * 31 + k) % 256)));

function meta(type: string): Map<string, string> {
  return new Map([['pinot.dataType', type]]);
}

function batch(from: number, to: number): RecordBatch {
  const n = to - from;
  const tags = makeData({
    type: new List(new Field('element', new Utf8(), true)),
    length: n,
    valueOffsets: Int32Array.from({ length: n + 1 }, (_, k) => k),
    child: vectorFromArray(Array.from({ length: n }, (_, k) => `t${from + k}`), new Utf8()).data[0]!,
  });
  const children = [
    vectorFromArray(Array.from({ length: n }, (_, k) => from + k - 10), new Int32()).data[0]!,
    vectorFromArray(names.slice(from, to), new Utf8()).data[0]!,
    vectorFromArray(scores.slice(from, to), new Float64()).data[0]!,
    makeData({ type: new TimestampMillisecond('UTC'), length: n, data: BigInt64Array.from(tsMs.slice(from, to)) }),
    tags,
    vectorFromArray(blobs.slice(from, to), new Binary()).data[0]!,
    vectorFromArray(Array.from({ length: n }, (_, k) => (from + k) % 3 === 0), new Bool()).data[0]!,
    vectorFromArray(Array.from({ length: n }, () => 'x'), new Utf8()).data[0]!,
  ];
  const fields = [
    new Field('id', new Int32(), true, meta('INT')),
    new Field('name', new Utf8(), true, meta('STRING')),
    new Field('score', new Float64(), true, meta('DOUBLE')),
    new Field('ts', new TimestampMillisecond('UTC'), true, meta('TIMESTAMP')),
    new Field('tags', tags.type, true, meta('STRING')),
    new Field('blob', new Binary(), true, meta('BYTES')),
    new Field('flag', new Bool(), true, meta('BOOLEAN')),
    new Field('dropme', new Utf8(), true, meta('STRING')),
  ];
  const schema = new Schema(fields);
  return new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
}

async function writeFile(): Promise<{ bytes: Uint8Array; warnings: string[] }> {
  const segment = batch(0, 1).schema;
  const plan = planIcebergWrite(
    { name: 'db.events', formatVersion: 2, schema: SCHEMA, partitionFields: [], properties: {} },
    segment.fields.map((f) => ({ name: f.name, dataType: f.metadata.get('pinot.dataType') as never, singleValue: f.name !== 'tags' })),
  );
  async function* batches(): AsyncGenerator<RecordBatch> {
    for (let i = 0; i < ROWS; i += 10) yield batch(i, i + 10);
  }
  const chunks: Uint8Array[] = [];
  const gen = toParquet(batches(), {
    sourceSchema: segment, parquet: { ...DEFAULT_PARQUET_OPTIONS, compressionCodec: 'ZSTD' }, target: 'iceberg',
    tableSchema: plan.tableSchema, fieldIds: plan.fieldIds, rowsPerRowGroup: 16,
  });
  for (;;) {
    const r = await gen.next();
    if (r.done) break;
    chunks.push(r.value);
  }
  return { bytes: Buffer.concat(chunks), warnings: plan.warnings };
}

const s = (t: string) => parsePrimitiveType(t)!;
const bound = (f: DataFile, which: 'lowerBounds' | 'upperBounds', id: number, type: string) => {
  const b = f[which]?.get(id);
  return b === undefined ? undefined : fromSingleValue(s(type), b);
};

describe('dataFileFromParquet on a file written by the Parquet stage for Iceberg', async () => {
  const { bytes, warnings } = await writeFile();
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const hy = parquetMetadata(ab);
  const rows = await parquetReadObjects({ file: ab, compressors }) as Record<string, unknown>[];
  const file = dataFileFromParquet({ filePath: 's3://lake/t/data/a.parquet', fileSizeInBytes: bytes.length, footer: bytes, footerIsTail: true, schema: SCHEMA });

  it('counts records, size and row-group split offsets as the footer says (hyparquet)', () => {
    expect(warnings.join('\n')).toContain('no column dropme');
    expect(rows).toHaveLength(ROWS);
    expect(hy.row_groups.length).toBeGreaterThan(1);
    expect(file.recordCount).toBe(BigInt(ROWS));
    expect(file.fileSizeInBytes).toBe(BigInt(bytes.length));
    const starts = hy.row_groups.map((g) => {
      const m = g.columns[0]!.meta_data!;
      return m.dictionary_page_offset !== undefined && m.dictionary_page_offset > 0n ? m.dictionary_page_offset : m.data_page_offset;
    });
    expect(file.splitOffsets).toEqual(starts.map(BigInt));
    expect(file.sortOrderId).toBe(0);
  });

  it('sums compressed sizes per leaf field id, list elements included', () => {
    const leafIds = new Map<string, number>([['id', 1], ['name', 2], ['score', 3], ['ts', 4], ['tags.list.element', 6], ['blob', 7], ['flag', 8], ['extra', 9]]);
    const expected = new Map<number, bigint>();
    for (const g of hy.row_groups) {
      for (const c of g.columns) {
        const id = leafIds.get(c.meta_data!.path_in_schema.join('.'))!;
        expected.set(id, (expected.get(id) ?? 0n) + BigInt(c.meta_data!.total_compressed_size));
      }
    }
    expect(new Map([...file.columnSizes!].sort((a, b) => a[0] - b[0]))).toEqual(new Map([...expected].sort((a, b) => a[0] - b[0])));
  });

  it('counts values and nulls of non-repeated columns from the statistics, as the rows confirm', () => {
    const nulls = (col: string) => BigInt(rows.filter((r) => r[col] === null || r[col] === undefined).length);
    for (const [id, col] of [[1, 'id'], [2, 'name'], [3, 'score'], [4, 'ts'], [7, 'blob'], [8, 'flag'], [9, 'extra']] as const) {
      expect(file.valueCounts!.get(id), col).toBe(BigInt(ROWS));
      expect(file.nullValueCounts!.get(id), col).toBe(nulls(col));
    }
    expect(file.nullValueCounts!.get(9)).toBe(BigInt(ROWS));
    expect(file.valueCounts!.has(6)).toBe(false);
    expect(file.nullValueCounts!.has(6)).toBe(false);
  });

  it('writes bounds in the Iceberg type: widened long, µs timestamps, booleans', () => {
    expect(bound(file, 'lowerBounds', 1, 'long')).toBe(-10n);
    expect(bound(file, 'upperBounds', 1, 'long')).toBe(BigInt(ROWS - 11));
    expect(bound(file, 'lowerBounds', 4, 'timestamptz')).toBe(tsMs[0]! * 1000n);
    expect(bound(file, 'upperBounds', 4, 'timestamptz')).toBe(tsMs[ROWS - 1]! * 1000n);
    expect(bound(file, 'lowerBounds', 8, 'boolean')).toBe(false);
    expect(bound(file, 'upperBounds', 8, 'boolean')).toBe(true);
    for (const id of [5, 6, 9]) expect(file.lowerBounds!.has(id) || file.upperBounds!.has(id), `id ${id}`).toBe(false);
  });

  it('never stores NaN as a double bound', () => {
    const values = scores.filter((v): v is number => v !== null && !Number.isNaN(v));
    const lo = bound(file, 'lowerBounds', 3, 'double');
    const hi = bound(file, 'upperBounds', 3, 'double');
    // arrow-rs leaves NaN out of its statistics; when a writer does not, the bound is dropped instead.
    expect([lo, hi]).toEqual([Math.min(...values), Math.max(...values)]);
  });

  it('truncates string and binary bounds to 16 with an incremented upper bound', () => {
    const present = names.filter((n): n is string => n !== null).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(bound(file, 'lowerBounds', 2, 'string')).toBe(truncateStringLower(present[0]!, 16));
    expect(bound(file, 'upperBounds', 2, 'string')).toBe(truncateStringUpper(present.at(-1)!, 16));
    expect((bound(file, 'upperBounds', 2, 'string') as string) > present.at(-1)!).toBe(true);
    const bl = blobs.filter((b) => b !== null).sort((a, b) => Buffer.compare(a, b));
    expect(Buffer.from(file.lowerBounds!.get(7)!)).toEqual(Buffer.from(bl[0]!.subarray(0, 16)));
    expect(Buffer.from(file.upperBounds!.get(7)!)).toEqual(Buffer.from(truncateBinaryUpper(bl.at(-1)!, 16)!));
  });

  it('follows the metrics-mode table properties', () => {
    const counts = dataFileFromParquet({ filePath: 'x', fileSizeInBytes: 1, footer: bytes, footerIsTail: true, schema: SCHEMA, properties: {
      'write.metadata.metrics.default': 'counts', 'write.metadata.metrics.column.name': 'full', 'write.metadata.metrics.column.blob': 'none',
    } });
    expect(counts.lowerBounds?.has(1)).toBeFalsy();
    expect(counts.valueCounts!.get(1)).toBe(BigInt(ROWS));
    const longest = names.filter((n): n is string => n !== null).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))).at(-1)!;
    expect(bound(counts, 'upperBounds', 2, 'string')).toBe(longest);
    expect(counts.columnSizes!.has(7)).toBe(false);
    expect(counts.valueCounts!.has(7)).toBe(false);
    const few = dataFileFromParquet({ filePath: 'x', fileSizeInBytes: 1, footer: bytes, footerIsTail: true, schema: SCHEMA, properties: {
      'write.metadata.metrics.max-inferred-column-defaults': '2',
    } });
    expect([...few.columnSizes!.keys()]).toEqual([1, 2]);
  });

  it('round-trips through the JSON form for the state store', () => {
    const json = dataFileToJson(file);
    const text = JSON.stringify(json);
    expect(text).not.toMatch(/\d{17}n/);
    expect(dataFileFromJson(JSON.parse(text), 'staged[0]')).toEqual(file);
    // It fits the state store's StagedFile.dataFile and survives its validation.
    const state = emptyTableState('events_REALTIME');
    state.iceberg = { staged: [{ path: file.filePath, segment: 's', recordCount: ROWS, fileSizeBytes: bytes.length, stagedAtMs: 1, dataFile: json }] };
    const back = parseTableState(JSON.parse(JSON.stringify(state)), 'state');
    expect(dataFileFromJson(back.iceberg!.staged[0]!.dataFile, 'staged[0]')).toEqual(file);
  });
});

describe('truncation as Java UnicodeUtil / BinaryUtil', () => {
  it('counts code points, not UTF-16 units, and keeps short values', () => {
    const emoji = '🐇'.repeat(20);
    expect(truncateStringLower(emoji, 16)).toBe('🐇'.repeat(16));
    expect(truncateStringUpper(emoji, 16)).toBe(`${'🐇'.repeat(15)}🐈`);
    expect(truncateStringUpper('short', 16)).toBe('short');
    expect(truncateStringUpper('a'.repeat(16), 16)).toBe('a'.repeat(16));
  });

  it('skips the surrogate range and drops code points that overflow', () => {
    expect(truncateStringUpper(`${'a'.repeat(15)}\ud7ffzz`, 16)).toBe(`${'a'.repeat(15)}\ue000`);
    expect(truncateStringUpper(`ab${'\u{10ffff}'.repeat(20)}`, 16)).toBe('ac');
    expect(truncateStringUpper('\u{10ffff}'.repeat(17), 16)).toBeUndefined();
  });

  it('increments the last byte that does not overflow', () => {
    expect([...truncateBinaryUpper(Uint8Array.of(1, 2, 0xff, 9), 3)!]).toEqual([1, 3]);
    expect(truncateBinaryUpper(Uint8Array.of(0xff, 0xff, 1), 2)).toBeUndefined();
    expect([...truncateBinaryUpper(Uint8Array.of(1, 2), 2)!]).toEqual([1, 2]);
  });
});

describe('dataFileFromJson validation', () => {
  const good = dataFileToJson({
    filePath: 's3://b/f.parquet', fileFormat: 'PARQUET', recordCount: 2n ** 62n, fileSizeInBytes: 10n, sortOrderId: null,
    columnSizes: new Map([[1, 5n]]), lowerBounds: new Map([[1, Uint8Array.of(0, 1, 2)]]), splitOffsets: [4n],
  });

  it('keeps 64-bit counts exact', () => {
    expect(dataFileFromJson(JSON.parse(JSON.stringify(good)), 'k').recordCount).toBe(2n ** 62n);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['a numeric recordCount', { recordCount: 5 }, /recordCount: expected a 64-bit integer as a decimal string/],
    ['a negative size', { fileSizeInBytes: '-1' }, /fileSizeInBytes: out of range/],
    ['a non-id map key', { columnSizes: { a: '1' } }, /columnSizes\.a: keys must be field ids/],
    ['bad base64', { lowerBounds: { 1: '***' } }, /lowerBounds\.1: expected base64/],
    ['another format', { fileFormat: 'ORC' }, /fileFormat: expected "PARQUET"/],
    ['an unknown key', { partition: {} }, /partition: unknown key/],
    ['a bad split offset', { splitOffsets: ['x'] }, /splitOffsets\[0\]/],
  ];
  for (const [what, patch, message] of bad) {
    it(`refuses ${what}, naming the staged file and key`, () => {
      expect(() => dataFileFromJson({ ...good, ...patch }, 'iceberg.staged[3]')).toThrow(
        expect.objectContaining({ code: 'STATE_CORRUPT', message: expect.stringMatching(message), context: { key: 'iceberg.staged[3]' } }),
      );
    });
  }
});

describeFixtures('dataFileFromParquet on a Java-written Parquet file', BUNNIES, (dir) => {
  it('agrees with the record count and size Java put in its manifest', () => {
    const bytes = readFileSync(join(dir, 'data', 'bunnies-initial.parquet'));
    const v5 = JSON.parse(readFileSync(join(dir, 'metadata', 'v5.metadata.json'), 'utf8')) as { schemas: IcebergSchema[] };
    const f = dataFileFromParquet({ filePath: 's3a://x', fileSizeInBytes: bytes.length, footer: bytes, footerIsTail: true, schema: v5.schemas[0]! });
    expect(f.recordCount).toBe(21n);
    expect(f.fileSizeInBytes).toBe(3407n);
    expect(f.splitOffsets).toEqual([4n]);
    expect(f.valueCounts!.get(1)).toBe(21n);
    expect(typeof bound(f, 'lowerBounds', 1, 'string')).toBe('string');
    expect((bound(f, 'lowerBounds', 4, 'long') as bigint) <= (bound(f, 'upperBounds', 4, 'long') as bigint)).toBe(true);
  });
});
