/**
 * What a table schema (an Iceberg table) prescribes to the Parquet stage, on the real events segment: JSON
 * struct shapes given by the caller instead of inferred (with unknownKeysBehavior warn / fail), and TIMESTAMP
 * columns without a zone (isAdjustedToUTC=false). Read back with hyparquet and DuckDB.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ExporterError } from '../../src/errors.js';
import type { JsonShape } from '../../src/pipeline/json-shredding.js';
import { ParquetError } from '../../src/pipeline/parquet-error.js';
import { DEFAULT_PARQUET_OPTIONS, type ParquetOptions } from '../../src/pipeline/parquet-options.js';
import { describeFixtures } from '../support/fixtures.js';
import { readRows, type Row } from '../support/rows.js';
import { closeDuckdb, convert, duckQuery, hyparquetRows, metadataOf, rejection, sqlString, withFile } from './helpers.js';

afterAll(() => closeDuckdb());

const parquet = (over: Partial<ParquetOptions> = {}): ParquetOptions => ({ ...DEFAULT_PARQUET_OPTIONS, ...over });

/** payload as a struct of only `k` (the segment's values also have `n` and `v`). */
const K_ONLY: JsonShape = { kind: 'struct', fields: new Map([['k', { kind: 'string' }]]) };

describeFixtures('table-prescribed shapes and zones on the events segment', 'fixtures/pinot-generated/1.5.1', (dir) => {
  const events = join(dir, 'events__0__12__20261126T0000Z.tar.gz');
  let expected: Row[];
  let payloads: ({ k?: string; n?: number; v?: number[] } | null)[];
  beforeAll(async () => {
    expected = await readRows(events);
    payloads = expected.map((r) => (r.payload === null ? null : JSON.parse(r.payload as string) as { k?: string; n?: number; v?: number[] }));
  });

  it('a given struct shape is used as is (not inferred); with warn, keys it lacks are dropped and warned about once, naming the first row', async () => {
    const { bytes, warnings } = await convert(events, { parquet: parquet({ jsonMaxDepth: 2, jsonUnknownKeys: 'warn' }), jsonShapes: new Map([['payload', K_ONLY]]) });
    const firstWith = (key: 'n' | 'v'): number => payloads.findIndex((p) => p !== null && Object.hasOwn(p, key));
    const keyWarnings = warnings.filter((w) => w.startsWith('JSON column payload'));
    expect(keyWarnings).toHaveLength(2);
    expect(new Set(keyWarnings)).toStrictEqual(new Set([
      `JSON column payload: key "n" (first at row ${firstWith('n')}) is not in the struct of the table schema; dropped (fileFormat.parquet.json.unknownKeysBehavior=warn)`,
      `JSON column payload: key "v" (first at row ${firstWith('v')}) is not in the struct of the table schema; dropped (fileFormat.parquet.json.unknownKeysBehavior=warn)`,
    ]));
    const payloadLeaves = metadataOf(bytes).schema.filter((e) => e.name === 'payload' || e.name === 'k' || e.name === 'n' || e.name === 'v').map((e) => e.name);
    expect(payloadLeaves).toStrictEqual(['payload', 'k']);
    const want = payloads.map((p) => (p === null ? null : { k: p.k ?? null }));
    expect((await hyparquetRows(bytes)).map((r) => r.payload)).toStrictEqual(want);
    await withFile(bytes, async (path) => {
      const types = await duckQuery(`SELECT column_type FROM (DESCRIBE SELECT payload FROM read_parquet(${sqlString(path)}))`);
      expect(types[0]!.column_type).toBe('STRUCT(k VARCHAR)');
      const rows = await duckQuery(`SELECT payload.k AS k, payload IS NULL AS isnull FROM read_parquet(${sqlString(path)})`);
      expect(rows.map((r) => (r.isnull ? null : { k: r.k }))).toStrictEqual(want);
    });
  });

  it('with fail (the default), the first row holding a key the shape lacks aborts the file, naming column, key and row', async () => {
    const first = payloads.findIndex((p) => p !== null && Object.keys(p).some((k) => k !== 'k'));
    const firstKey = Object.keys(payloads[first]!).find((k) => k !== 'k')!;
    for (const jsonUnknownKeys of [undefined, 'fail'] as const) {
      const options = parquet({ jsonMaxDepth: 2, ...(jsonUnknownKeys === undefined ? {} : { jsonUnknownKeys }) });
      const err = await rejection(convert(events, { parquet: options, jsonShapes: new Map([['payload', K_ONLY]]) }));
      expect(err).toBeInstanceOf(ParquetError);
      const e = err as ParquetError;
      expect(e.code).toBe('PARQUET_SCHEMA_MISMATCH');
      expect(e.context).toMatchObject({ segment: 'events__0__12__20261126T0000Z', column: 'payload', key: `payload.${firstKey}`, row: first });
      expect(e.message).toContain(`JSON column payload has key "${firstKey}" at row ${first}`);
    }
  });

  it('the full shape (as the table would give it) keeps every value and warns about nothing', async () => {
    const shape: JsonShape = {
      kind: 'struct', fields: new Map<string, JsonShape>([['k', { kind: 'string' }], ['n', { kind: 'int64' }], ['v', { kind: 'list', element: { kind: 'int64' } }]]),
    };
    const { bytes, warnings } = await convert(events, { parquet: parquet({ jsonMaxDepth: 2 }), jsonShapes: new Map([['payload', shape]]) });
    expect(warnings.filter((w) => w.startsWith('JSON column'))).toStrictEqual([]);
    const got = (await hyparquetRows(bytes)).map((r) => r.payload as { k: string | null; n: number | null; v: number[] | null } | null);
    expect(got).toStrictEqual(payloads.map((p) => (p === null ? null : { k: p.k ?? null, n: p.n ?? null, v: p.v ?? null })));
  });

  it('a shape member whose values have another type fails naming the column and row', async () => {
    const wrong: JsonShape = { kind: 'struct', fields: new Map<string, JsonShape>([['k', { kind: 'int64' }], ['n', { kind: 'int64' }], ['v', { kind: 'json' }]]) };
    const err = await rejection(convert(events, { parquet: parquet({ jsonMaxDepth: 2, jsonUnknownKeys: 'warn' }), jsonShapes: new Map([['payload', wrong]]) }));
    expect(err).toBeInstanceOf(ExporterError);
    expect((err as ExporterError).code).toBe('PARQUET_SCHEMA_MISMATCH');
    const first = payloads.findIndex((p) => p !== null && p.k !== undefined);
    expect((err as ExporterError).context).toMatchObject({ column: 'payload', row: first });
    expect(err.message).toContain('is not int64');
  });

  it('timestampWithoutZone: TIMESTAMP(MICROS) with isAdjustedToUTC=false for Iceberg `timestamp`, same instants', async () => {
    const { bytes } = await convert(events, { parquet: parquet(), target: 'iceberg', timestampWithoutZone: ['ts'] });
    const ts = metadataOf(bytes).schema.find((e) => e.name === 'ts')!;
    expect(ts.logical_type).toStrictEqual({ type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' });
    expect(ts.type).toBe('INT64');
    const micros = expected.map((r) => (r.ts === null ? null : (r.ts as number) * 1000));
    expect((await hyparquetRows(bytes)).map((r) => r.ts)).toStrictEqual(micros);
    await withFile(bytes, async (path) => {
      const types = await duckQuery(`SELECT column_type FROM (DESCRIBE SELECT ts FROM read_parquet(${sqlString(path)}))`);
      expect(types[0]!.column_type).toBe('TIMESTAMP');
      const us = await duckQuery(`SELECT epoch_us(ts) AS us FROM read_parquet(${sqlString(path)})`);
      expect(us.map((r) => (r.us === null ? null : Number(r.us)))).toStrictEqual(micros);
    });
    // Without the option the same column stays UTC-adjusted.
    const utc = await convert(events, { parquet: parquet(), target: 'iceberg' });
    expect(metadataOf(utc.bytes).schema.find((e) => e.name === 'ts')!.logical_type).toStrictEqual({ type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' });
    // And a plain Parquet export (MILLIS) follows it too.
    const millis = await convert(events, { parquet: parquet(), timestampWithoutZone: ['ts'] });
    expect(metadataOf(millis.bytes).schema.find((e) => e.name === 'ts')!.logical_type).toStrictEqual({ type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MILLIS' });
  });
});
