/**
 * Each Parquet option on a real Pinot 1.5.1 REALTIME segment (events: nulls, JSON, BYTES, BIG_DECIMAL, MV,
 * TIMESTAMP, BOOLEAN), checked in the file metadata and in the rows hyparquet and DuckDB read back.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { toPlainDecimal } from '../../src/pipeline/decimal.js';
import { ParquetError } from '../../src/pipeline/parquet-error.js';
import { DEFAULT_PARQUET_OPTIONS, PARQUET_CODECS, type ParquetOptions } from '../../src/pipeline/parquet-options.js';
import { segmentBytesPerRow } from '../../src/pipeline/segment-export.js';
import { SegmentReader } from '../../src/sources/segment-reader.js';
import { describeFixtures } from '../support/fixtures.js';
import { readRows, stripTrailingZerosPlain, type Row } from '../support/rows.js';
import {
  closeDuckdb, convert, duckMetadata, duckQuery, duckRows, duckSchema, hyparquetRows, metadataOf, pageTypes, rejection, sqlString, withFile,
} from './helpers.js';

afterAll(() => closeDuckdb());

const parquet = (over: Partial<ParquetOptions> = {}): ParquetOptions => ({ ...DEFAULT_PARQUET_OPTIONS, ...over });

describeFixtures('Parquet options on the events segment', 'fixtures/pinot-generated/1.5.1', (dir) => {
  const events = join(dir, 'events__0__12__20261126T0000Z.tar.gz');
  let expected: Row[];
  beforeAll(async () => {
    expected = await readRows(events);
  });

  it.each(PARQUET_CODECS)('compressionCodec %s is on every column chunk and the rows read back', async (codec) => {
    const { bytes } = await convert(events, { parquet: parquet({ compressionCodec: codec }) });
    const codecs = metadataOf(bytes).row_groups.flatMap((g) => g.columns.map((c) => c.meta_data!.codec));
    expect(codecs).toHaveLength(13);
    expect(new Set(codecs)).toStrictEqual(new Set([codec]));
    expect(await hyparquetRows(bytes)).toStrictEqual(expected);
    await withFile(bytes, async (path) => {
      expect(new Set((await duckMetadata(path)).map((m) => m.compression))).toStrictEqual(new Set([codec]));
      expect(await duckRows(path)).toStrictEqual(expected);
    });
  });

  it('rowGroupSizeBytes: rows per group = bytes ÷ the segment\'s index bytes per doc, and no group past the bytes', async () => {
    const reader = await SegmentReader.open(events);
    const bytesPerRow = segmentBytesPerRow(reader, reader.segment.columns().map((c) => c.name));
    await reader.close();
    expect(bytesPerRow).toBeGreaterThan(50);
    for (const target of [32 * 1024, 100 * 1024, 128 * 1024 * 1024]) {
      const { bytes, summary } = await convert(events, { parquet: parquet({ rowGroupSizeBytes: target }) });
      const rows = Math.floor(target / bytesPerRow);
      expect(summary.rowsPerRowGroup).toBe(rows);
      const groups = metadataOf(bytes).row_groups;
      const byRows = Math.ceil(5000 / Math.min(rows, 5000));
      // The writer also closes a group when its encoded size reaches the target (checked between batches).
      expect(groups.length).toBeGreaterThanOrEqual(byRows);
      expect(groups.length).toBeLessThanOrEqual(byRows * 2);
      for (const g of groups) {
        expect(Number(g.num_rows)).toBeLessThanOrEqual(rows);
        expect(Number(g.total_compressed_size)).toBeLessThanOrEqual(target * 1.5);
      }
      expect(groups.reduce((n, g) => n + Number(g.num_rows), 0)).toBe(5000);
      expect(summary.rowGroups.map((g) => g.rows)).toStrictEqual(groups.map((g) => Number(g.num_rows)));
      await withFile(bytes, async (path) => {
        const duckGroups = new Set((await duckMetadata(path)).map((m) => m.row_group_id));
        expect(duckGroups.size).toBe(groups.length);
      });
    }
    const one = await convert(events, { parquet: parquet() });
    expect(metadataOf(one.bytes).row_groups).toHaveLength(1);
  });

  it('rowGroupSizeBytes also caps the encoded size when the rows estimate is too generous', async () => {
    const cap = 200 * 1024;
    const { bytes } = await convert(events, { parquet: parquet({ rowGroupSizeBytes: cap }), rowsPerRowGroup: 5000 });
    const groups = metadataOf(bytes).row_groups;
    expect(groups.length).toBeGreaterThan(1);
    // The writer checks the size between batches (here 1,024 rows), so a group passes the cap by < one batch.
    for (const g of groups) expect(Number(g.total_compressed_size)).toBeLessThan(cap * 1.5);
    expect(await hyparquetRows(bytes)).toStrictEqual(expected);
  });

  it('pageSizeBytes bounds the data pages of a column chunk', async () => {
    const pagesOf = async (pageSizeBytes: number): Promise<number> => {
      const { bytes } = await convert(events, { parquet: parquet({ pageSizeBytes, enableDictionary: false }) });
      const chunk = metadataOf(bytes).row_groups[0]!.columns.find((c) => c.meta_data!.path_in_schema[0] === 'session_id')!;
      return pageTypes(bytes, chunk.meta_data!).length;
    };
    expect(await pagesOf(1024 * 1024)).toBe(1);
    expect(await pagesOf(2048)).toBeGreaterThan(20);
  });

  it('enableDictionary: dictionary pages on Pinot dictionary columns only; none at all when false', async () => {
    const on = await convert(events, { parquet: parquet() });
    const dictOf = (bytes: Uint8Array) => new Map(metadataOf(bytes).row_groups[0]!.columns.map((c) => [c.meta_data!.path_in_schema.join('.'), c.meta_data!.dictionary_page_offset !== undefined]));
    expect(dictOf(on.bytes)).toStrictEqual(new Map([
      ['blob', true], ['country', true], ['is_active', false], ['payload', false], ['session_id', false],
      ['tags_int.list.element', true], ['tags_str.list.element', true], ['user_id', true], ['amount', true], ['clicks', true],
      ['revenue', true], ['score', true], ['ts', true],
    ]));
    const off = await convert(events, { parquet: parquet({ enableDictionary: false }) });
    expect([...dictOf(off.bytes).values()].every((d) => !d)).toBe(true);
    await withFile(off.bytes, async (path) => {
      const encodings = (await duckMetadata(path)).map((m) => String(m.encodings));
      expect(encodings.filter((e) => e.includes('DICTIONARY'))).toStrictEqual([]);
      expect(await duckRows(path)).toStrictEqual(expected);
    });
  });

  it('JSON stays a string column with the JSON logical type when json.maxDepth is unset', async () => {
    const { bytes } = await convert(events, { parquet: parquet() });
    const payload = metadataOf(bytes).schema.find((e) => e.name === 'payload')!;
    expect([payload.type, payload.logical_type?.type, payload.converted_type]).toStrictEqual(['BYTE_ARRAY', 'JSON', 'JSON']);
    await withFile(bytes, async (path) => {
      const types = await duckQuery(`SELECT column_name, column_type FROM (DESCRIBE SELECT payload FROM read_parquet(${sqlString(path)}))`);
      expect(types).toStrictEqual([{ column_name: 'payload', column_type: 'JSON' }]);
    });
  });

  it('json.maxDepth shreds JSON into groups inferred from the values; deeper values stay JSON text', async () => {
    const depth1 = await convert(events, { parquet: parquet({ jsonMaxDepth: 1 }) });
    const expectedPayload = (r: Row): unknown => {
      if (r.payload === null) return null;
      const p = JSON.parse(r.payload as string) as { k?: string; n?: number; v?: unknown };
      return { k: p.k ?? null, n: p.n ?? null, v: p.v === undefined ? null : JSON.stringify(p.v) };
    };
    expect((await hyparquetRows(depth1.bytes)).map((r) => r.payload)).toStrictEqual(expected.map(expectedPayload));
    await withFile(depth1.bytes, async (path) => {
      const schema = await duckSchema(path);
      expect(schema.filter((r) => ['payload', 'k', 'n', 'v'].includes(String(r.name))).map((r) => [r.name, r.type, r.converted_type]))
        .toStrictEqual([['payload', null, null], ['k', 'BYTE_ARRAY', 'UTF8'], ['n', 'INT64', null], ['v', 'BYTE_ARRAY', 'JSON']]);
      const rows = await duckQuery(`SELECT payload.k AS k, payload.n AS n, CAST(payload.v AS VARCHAR) AS v FROM read_parquet(${sqlString(path)})`);
      expect(rows.map((r) => (r.k === null && r.n === null && r.v === null ? null : { k: r.k, n: r.n === null ? null : Number(r.n), v: r.v })))
        .toStrictEqual(expected.map(expectedPayload));
    });
    const depth2 = await convert(events, { parquet: parquet({ jsonMaxDepth: 2 }) });
    await withFile(depth2.bytes, async (path) => {
      const types = await duckQuery(`SELECT column_type FROM (DESCRIBE SELECT payload FROM read_parquet(${sqlString(path)}))`);
      expect(types[0]!.column_type).toBe('STRUCT(k VARCHAR, n BIGINT, v BIGINT[])');
      const v = await duckQuery(`SELECT payload.v AS v FROM read_parquet(${sqlString(path)})`);
      expect(v.map((r) => (r.v === null ? null : (r.v as bigint[]).map(Number))))
        .toStrictEqual(expected.map((r) => (r.payload === null ? null : ((JSON.parse(r.payload as string) as { v?: number[] }).v ?? null))));
    });
  });

  it('decimal.precision/scale: BIG_DECIMAL becomes DECIMAL(P,S) with exact values', async () => {
    const { bytes } = await convert(events, { parquet: parquet({ decimal: { precision: 12, scale: 2 } }) });
    const amount = metadataOf(bytes).schema.find((e) => e.name === 'amount')!;
    expect([amount.logical_type, amount.type]).toStrictEqual([{ type: 'DECIMAL', precision: 12, scale: 2 }, 'INT64']);
    const hy = await hyparquetRows(bytes);
    expect(hy.map((r) => r.amount)).toStrictEqual(expected.map((r) => (r.amount === null ? null : Number(r.amount))));
    await withFile(bytes, async (path) => {
      const duck = await duckRows(path);
      expect(duck.map((r) => (r.amount === null ? null : stripTrailingZerosPlain(r.amount as string))))
        .toStrictEqual(expected.map((r) => (r.amount === null ? null : stripTrailingZerosPlain(r.amount as string))));
      expect(duck.map(({ amount: _a, ...rest }) => rest)).toStrictEqual(expected.map(({ amount: _a, ...rest }) => rest));
    });
  });

  it('a BIG_DECIMAL that does not fit DECIMAL(P,S) fails naming the value, column and row', async () => {
    const location = join(dir, 'sorted_bigdecimal.tar.gz');
    const rows = await readRows(location);
    const err = await rejection(convert(location, { parquet: parquet({ decimal: { precision: 38, scale: 10 } }) }));
    expect(err).toBeInstanceOf(ParquetError);
    const e = err as ParquetError;
    expect(e.code).toBe('PARQUET_VALUE_OUT_OF_RANGE');
    expect(e.context.segment).toBe('sorted_bigdecimal');
    expect(['price_dict', 'price_raw']).toContain(e.context.column);
    const value = rows[e.context.row!]![e.context.column!] as string;
    expect(e.message).toContain(`value ${value} does not fit DECIMAL(38,10)`);
    // Every value of that column before the named row fits (the first failure in the column is named).
    const fits = (s: string): boolean => {
      const [int = '', frac = ''] = stripTrailingZerosPlain(s).replace('-', '').split('.');
      return frac.length <= 10 && int.replace(/^0+/, '').length + 10 <= 38;
    };
    expect(rows.slice(0, e.context.row).every((r) => r[e.context.column!] === null || fits(r[e.context.column!] as string))).toBe(true);
    expect(fits(toPlainDecimal(value))).toBe(false);
  });

  it('Iceberg target: TIMESTAMP in MICROS (UTC) and field ids on every field, list elements included', async () => {
    const ids = new Map<string, number>();
    const fieldIds = (path: readonly string[]): number => {
      const key = path.join('.');
      if (!ids.has(key)) ids.set(key, ids.size + 1);
      return ids.get(key)!;
    };
    const { bytes } = await convert(events, { parquet: parquet(), target: 'iceberg', fieldIds });
    const schema = metadataOf(bytes).schema;
    const ts = schema.find((e) => e.name === 'ts')!;
    expect(ts.logical_type).toStrictEqual({ type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' });
    const named = schema.slice(1).filter((e) => e.name !== 'list');
    expect(named.map((e) => e.field_id)).toStrictEqual(named.map((_, i) => i + 1));
    expect(schema.find((e) => e.name === 'list')!.field_id).toBeUndefined();
    expect(ids.get('tags_str.element')).toBeDefined();
    const hy = await hyparquetRows(bytes);
    expect(hy.map((r) => r.ts)).toStrictEqual(expected.map((r) => (r.ts === null ? null : (r.ts as number) * 1000)));
    await withFile(bytes, async (path) => {
      const duckIds = (await duckSchema(path)).filter((r) => r.field_id !== null).map((r) => [r.name, Number(r.field_id)]);
      expect(duckIds).toStrictEqual(named.map((e, i) => [e.name, i + 1]));
      const us = await duckQuery(`SELECT epoch_us(ts) AS us FROM read_parquet(${sqlString(path)})`);
      expect(us.map((r) => (r.us === null ? null : Number(r.us)))).toStrictEqual(expected.map((r) => (r.ts === null ? null : (r.ts as number) * 1000)));
    });
  });

  it('a field id resolver that misses a field fails naming its path', async () => {
    const err = await rejection(convert(events, { parquet: parquet(), fieldIds: (path) => (path.length === 1 ? 1 : undefined) }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('no Iceberg field id for tags_int.element');
  });
});
