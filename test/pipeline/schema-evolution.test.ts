/**
 * The output follows the table's current Pinot schema when one is given: its columns in its order, a column
 * added after the segment was built written as nulls, a column the schema dropped left out with a warning
 * naming it, allowed widenings applied, incompatible changes refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { ParquetError } from '../../src/pipeline/parquet-error.js';
import { DEFAULT_PARQUET_OPTIONS } from '../../src/pipeline/parquet-options.js';
import { FILE_METADATA_KEYS } from '../../src/pipeline/segment-export.js';
import { parseTableSchema } from '../../src/pipeline/table-schema.js';
import { describeFixtures } from '../support/fixtures.js';
import { readRows, type Row } from '../support/rows.js';
import { closeDuckdb, convert, duckQuery, duckRows, hyparquetRows, metadataOf, sqlString, tempParquet } from './helpers.js';

afterAll(() => closeDuckdb());

interface SchemaJson {
  schemaName: string;
  dimensionFieldSpecs: { name: string; dataType: string; singleValueField?: boolean }[];
  metricFieldSpecs: { name: string; dataType: string }[];
  dateTimeFieldSpecs: { name: string; dataType: string; format: string; granularity: string }[];
}

describeFixtures('schema evolution against the table schema', 'fixtures/pinot-generated/1.5.1', (dir) => {
  const events = join(dir, 'events__0__12__20261126T0000Z.tar.gz');
  const original = JSON.parse(readFileSync(join(dir, 'events__0__12__20261126T0000Z.schema.json'), 'utf8')) as SchemaJson;
  let expected: Row[];
  beforeAll(async () => {
    expected = await readRows(events);
  });

  it('follows the schema: its order, a new column as nulls, a dropped column left out with a warning naming it', async () => {
    const schema: SchemaJson = structuredClone(original);
    schema.dimensionFieldSpecs = schema.dimensionFieldSpecs.filter((f) => f.name !== 'blob');
    schema.dimensionFieldSpecs.push({ name: 'region', dataType: 'STRING' }, { name: 'labels', dataType: 'INT', singleValueField: false });
    schema.metricFieldSpecs.push({ name: 'discount', dataType: 'BIG_DECIMAL' });
    const tableSchema = parseTableSchema(schema);
    const order = tableSchema.columns.map((c) => c.name);
    expect(order).toStrictEqual([
      'user_id', 'is_active', 'country', 'session_id', 'payload', 'tags_int', 'tags_str', 'region', 'labels',
      'clicks', 'score', 'revenue', 'amount', 'discount', 'ts',
    ]);

    const { bytes, warnings } = await convert(events, { parquet: { ...DEFAULT_PARQUET_OPTIONS, decimal: { precision: 12, scale: 2 } }, tableSchema });
    expect(warnings).toStrictEqual(['column blob is in the segment but not in the table schema: not written']);
    const meta = metadataOf(bytes);
    expect(meta.schema[0]!.num_children).toBe(order.length);
    expect(JSON.parse(new Map(meta.key_value_metadata!.map((e) => [e.key, e.value])).get(FILE_METADATA_KEYS.schema)!)).toStrictEqual(schema);

    const want: Row[] = expected.map(({ blob: _b, ...r }) => ({ ...r, region: null, labels: null, discount: null }));
    const hy = await hyparquetRows(bytes);
    expect(Object.keys(hy[0]!)).toStrictEqual(order);
    expect(hy.map(({ amount: _a, ...r }) => r)).toStrictEqual(want.map(({ amount: _a, ...r }) => r));
    const t = tempParquet(bytes);
    try {
      const described = await duckQuery(`DESCRIBE SELECT * FROM read_parquet(${sqlString(t.path)})`);
      expect(described.map((d) => [d.column_name, d.column_type])).toStrictEqual([
        ['user_id', 'INTEGER'], ['is_active', 'BOOLEAN'], ['country', 'VARCHAR'], ['session_id', 'VARCHAR'], ['payload', 'JSON'],
        ['tags_int', 'INTEGER[]'], ['tags_str', 'VARCHAR[]'], ['region', 'VARCHAR'], ['labels', 'INTEGER[]'], ['clicks', 'BIGINT'],
        ['score', 'FLOAT'], ['revenue', 'DOUBLE'], ['amount', 'DECIMAL(12,2)'], ['discount', 'DECIMAL(12,2)'], ['ts', 'TIMESTAMP WITH TIME ZONE'],
      ]);
      const duck = await duckRows(t.path);
      expect(duck.map(({ amount: _a, ...r }) => r)).toStrictEqual(want.map(({ amount: _a, ...r }) => r));
    } finally {
      t.remove();
    }
  });

  it('widens INT → LONG and FLOAT → DOUBLE when the schema changed the type', async () => {
    const schema: SchemaJson = structuredClone(original);
    schema.dimensionFieldSpecs.find((f) => f.name === 'user_id')!.dataType = 'LONG';
    schema.dimensionFieldSpecs.find((f) => f.name === 'tags_int')!.dataType = 'LONG';
    schema.metricFieldSpecs.find((f) => f.name === 'score')!.dataType = 'DOUBLE';
    const { bytes } = await convert(events, { parquet: DEFAULT_PARQUET_OPTIONS, tableSchema: parseTableSchema(schema) });
    const types = new Map(metadataOf(bytes).row_groups[0]!.columns.map((c) => [c.meta_data!.path_in_schema.join('.'), c.meta_data!.type]));
    expect([types.get('user_id'), types.get('tags_int.list.element'), types.get('score')]).toStrictEqual(['INT64', 'INT64', 'DOUBLE']);
    const hy = await hyparquetRows(bytes);
    expect(hy.map((r) => [r.user_id, r.tags_int, r.score])).toStrictEqual(expected.map((r) => [r.user_id, r.tags_int, r.score === null ? null : Number(r.score)]));
  });

  it('refuses a type change it cannot apply, naming the column and both types', async () => {
    const schema: SchemaJson = structuredClone(original);
    schema.dimensionFieldSpecs.find((f) => f.name === 'country')!.dataType = 'INT';
    const err = await convert(events, { parquet: DEFAULT_PARQUET_OPTIONS, tableSchema: parseTableSchema(schema) }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ParquetError);
    expect((err as ParquetError).code).toBe('PARQUET_SCHEMA_MISMATCH');
    expect((err as ParquetError).context).toMatchObject({ column: 'country', segment: 'events__0__12__20261126T0000Z' });
    expect((err as Error).message).toContain('column country is STRING in the segment but INT in the table schema');

    const mv: SchemaJson = structuredClone(original);
    delete mv.dimensionFieldSpecs.find((f) => f.name === 'tags_str')!.singleValueField;
    const err2 = await convert(events, { parquet: DEFAULT_PARQUET_OPTIONS, tableSchema: parseTableSchema(mv) }).then(() => undefined, (e: unknown) => e);
    expect((err2 as Error).message).toContain('column tags_str is multi-value STRING in the segment but STRING in the table schema');
  });

  it('a schema with an unsupported type, a duplicate or a nameless column is a config error', () => {
    expect(() => parseTableSchema({ dimensionFieldSpecs: [{ name: 'a', dataType: 'UUID' }] })).toThrow(ConfigError);
    expect(() => parseTableSchema({ dimensionFieldSpecs: [{ name: 'a', dataType: 'INT' }], metricFieldSpecs: [{ name: 'a', dataType: 'LONG' }] })).toThrow(/declared twice/);
    expect(() => parseTableSchema({ dimensionFieldSpecs: [{ dataType: 'INT' }] })).toThrow(/has no name/);
    expect(() => parseTableSchema([])).toThrow(/JSON object/);
  });
});
