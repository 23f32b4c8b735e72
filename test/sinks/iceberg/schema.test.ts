import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTableSchema } from '../../../src/pipeline/table-schema.js';
import { parseTableMetadataJson } from '../../../src/sinks/iceberg/table-metadata.js';
import { describeFixtures } from '../../support/fixtures.js';
import { BUNNIES } from './avro-helpers.js';
import { fieldIdResolver, planIcebergWrite, primitiveFields, tableViewFromMetadata, type IcebergSchema, type IcebergTableView, type SegmentColumn } from '../../../src/sinks/iceberg/schema.js';

const SCHEMA: IcebergSchema = {
  type: 'struct', 'schema-id': 4, fields: [
    { id: 1, name: 'ts', required: true, type: 'timestamptz' },
    { id: 2, name: 'count', required: false, type: 'long' },
    { id: 3, name: 'ratio', required: false, type: 'double' },
    { id: 4, name: 'country', required: false, type: 'string' },
    { id: 5, name: 'payload', required: false, type: 'string' },
    { id: 6, name: 'tags', required: false, type: { type: 'list', 'element-id': 7, 'element-required': false, element: 'string' } },
    { id: 8, name: 'price', required: false, type: 'decimal(10, 2)' },
    { id: 9, name: 'raw', required: false, type: 'binary' },
    { id: 10, name: 'added_later', required: false, type: 'int' },
    { id: 11, name: 'ctx', required: false, type: { type: 'struct', fields: [{ id: 12, name: 'user', required: false, type: 'string' }] } },
    { id: 13, name: 'attrs', required: false, type: { type: 'map', 'key-id': 14, key: 'string', 'value-id': 15, 'value-required': false, value: 'long' } },
    { id: 16, name: 'day', required: false, type: 'date' },
  ],
};

const SEGMENT: SegmentColumn[] = [
  { name: 'ts', dataType: 'TIMESTAMP', singleValue: true },
  { name: 'count', dataType: 'INT', singleValue: true },
  { name: 'ratio', dataType: 'FLOAT', singleValue: true },
  { name: 'country', dataType: 'STRING', singleValue: true },
  { name: 'payload', dataType: 'JSON', singleValue: true },
  { name: 'tags', dataType: 'STRING', singleValue: false },
  { name: 'price', dataType: 'BIG_DECIMAL', singleValue: true },
  { name: 'raw', dataType: 'BYTES', singleValue: true },
  { name: 'legacy', dataType: 'LONG', singleValue: true },
];

function table(patch: Partial<IcebergTableView> = {}): IcebergTableView {
  return { name: 'lake.events', formatVersion: 2, schema: SCHEMA, partitionFields: [], properties: { 'write.format.default': 'PARQUET' }, ...patch };
}

const DECIMAL = { decimal: { precision: 10, scale: 2 } };

describe('planIcebergWrite', () => {
  it('maps segment columns onto the table schema in table order, with widenings', () => {
    const plan = planIcebergWrite(table(), SEGMENT, DECIMAL);
    expect(plan.tableSchema.columns.map((c) => [c.name, c.dataType, c.singleValue])).toEqual([
      ['ts', 'TIMESTAMP', true], ['count', 'LONG', true], ['ratio', 'DOUBLE', true], ['country', 'STRING', true], ['payload', 'STRING', true],
      ['tags', 'STRING', false], ['price', 'BIG_DECIMAL', true], ['raw', 'BYTES', true], ['added_later', 'INT', true],
    ]);
    expect(parseTableSchema(plan.tableSchema.json).columns).toEqual(plan.tableSchema.columns);
    expect(plan.nullColumns).toEqual(['added_later']);
    expect(plan.omitted).toEqual(['ctx', 'attrs', 'day']);
    expect(plan.dropped).toEqual(['legacy']);
    expect(plan.warnings.join('\n')).toMatch(/no column legacy; not written/);
    expect(plan.warnings.join('\n')).toMatch(/column ctx \(struct<user: string>\) is not in the segment/);
    expect(plan.jsonUnknownKeys).toBe('fail'); // default: an unknown JSON key is never dropped silently
    expect(plan.timestampWithoutZone).toEqual([]);
    const local = planIcebergWrite(table({ schema: { ...SCHEMA, fields: [{ ...SCHEMA.fields[0]!, type: 'timestamp' }] } }), SEGMENT, DECIMAL);
    expect(local.timestampWithoutZone).toEqual(['ts']);
  });

  it('resolves field ids for columns, list elements, struct members and map keys/values', () => {
    const ids = planIcebergWrite(table(), SEGMENT, DECIMAL).fieldIds;
    expect(ids(['ts'])).toBe(1);
    expect(ids(['tags'])).toBe(6);
    expect(ids(['tags', 'element'])).toBe(7);
    expect(ids(['ctx', 'user'])).toBe(12);
    expect(ids(['attrs', 'key'])).toBe(14);
    expect(ids(['attrs', 'value'])).toBe(15);
    expect(ids(['legacy'])).toBeUndefined();
    expect(ids(['ctx', 'nope'])).toBeUndefined();
    expect(ids(['tags', 'key'])).toBeUndefined();
  });

  it('writes JSON as the table\'s struct when json.maxDepth allows it', () => {
    const schema: IcebergSchema = {
      type: 'struct', 'schema-id': 1, fields: [{
        id: 1, name: 'payload', required: false, type: {
          type: 'struct', fields: [
            { id: 2, name: 'user', required: false, type: 'string' },
            { id: 3, name: 'n', required: false, type: 'long' },
            { id: 4, name: 'scores', required: false, type: { type: 'list', 'element-id': 5, 'element-required': false, element: 'double' } },
          ],
        },
      }],
    };
    const plan = planIcebergWrite(table({ schema }), [{ name: 'payload', dataType: 'JSON', singleValue: true }], { jsonMaxDepth: 2, jsonUnknownKeys: 'warn' });
    expect(plan.tableSchema.columns).toEqual([{ name: 'payload', dataType: 'JSON', singleValue: true, fieldType: 'DIMENSION' }]);
    expect(plan.jsonShapes.get('payload')).toEqual({
      kind: 'struct', fields: new Map<string, unknown>([['user', { kind: 'string' }], ['n', { kind: 'int64' }], ['scores', { kind: 'list', element: { kind: 'double' } }]]),
    });
    expect(plan.jsonUnknownKeys).toBe('warn');
    expect(plan.fieldIds(['payload', 'scores', 'element'])).toBe(5);
    const seg = [{ name: 'payload', dataType: 'JSON' as const, singleValue: true }];
    expect(() => planIcebergWrite(table({ schema }), seg, {})).toThrow(/needs fileFormat\.parquet\.json\.maxDepth/);
    expect(() => planIcebergWrite(table({ schema }), seg, { jsonMaxDepth: 1 })).toThrow(/payload\.scores is a list at depth 1, deeper than fileFormat\.parquet\.json\.maxDepth = 1/);
  });

  const refusals: [string, () => unknown, string, RegExp, Record<string, string>][] = [
    ['a partitioned table', () => planIcebergWrite(table({ partitionFields: [{ name: 'day' }] }), SEGMENT, DECIMAL), 'ICEBERG_TABLE_UNSUPPORTED', /partitioned/, { table: 'lake.events' }],
    ['an ORC table', () => planIcebergWrite(table({ properties: { 'write.format.default': 'orc' } }), SEGMENT, DECIMAL), 'ICEBERG_TABLE_UNSUPPORTED', /write\.format\.default is "orc"/, { key: 'write.format.default' }],
    ['an encrypted table', () => planIcebergWrite(table({ encrypted: true }), SEGMENT, DECIMAL), 'ICEBERG_TABLE_UNSUPPORTED', /encryption keys/, {}],
    ['a v1 table', () => planIcebergWrite(table({ formatVersion: 1 }), SEGMENT, DECIMAL), 'ICEBERG_TABLE_UNSUPPORTED', /format version 1/, {}],
    ['a required column the segment lacks', () => planIcebergWrite(table(), SEGMENT.slice(1), DECIMAL), 'ICEBERG_SCHEMA_MISMATCH', /required column ts \(timestamptz\) is not in the segment/, { column: 'ts' }],
    ['an incompatible type', () => planIcebergWrite(table(), [...SEGMENT.slice(0, 3), { name: 'country', dataType: 'LONG', singleValue: true }], DECIMAL),
      'ICEBERG_SCHEMA_MISMATCH', /column country is LONG in the segment but string in the table/, { column: 'country' }],
    ['a narrowing', () => planIcebergWrite(table(), [SEGMENT[0]!, { name: 'count', dataType: 'DOUBLE', singleValue: true }], DECIMAL),
      'ICEBERG_SCHEMA_MISMATCH', /count is DOUBLE in the segment but long/, { column: 'count' }],
    ['a multi-value column into a scalar', () => planIcebergWrite(table(), [SEGMENT[0]!, { name: 'country', dataType: 'STRING', singleValue: false }], DECIMAL),
      'ICEBERG_SCHEMA_MISMATCH', /multi-value STRING in the segment but string in the table: a multi-value column needs a list/, { column: 'country' }],
    ['a decimal without the matching precision/scale', () => planIcebergWrite(table(), SEGMENT, { decimal: { precision: 12, scale: 2 } }),
      'ICEBERG_SCHEMA_MISMATCH', /price is BIG_DECIMAL in the segment but decimal\(10, 2\).*precision\/scale = 10\/2 \(configured: 12\/2\)/, { column: 'price' }],
    ['a decimal without precision/scale', () => planIcebergWrite(table(), SEGMENT, {}),
      'ICEBERG_SCHEMA_MISMATCH', /needs fileFormat\.parquet\.decimal\.precision = 10 and fileFormat\.parquet\.decimal\.scale = 2/, { column: 'price' }],
  ];
  for (const [what, run, code, message, context] of refusals) {
    it(`refuses ${what} up front, naming table, column and types`, () => {
      expect(run).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message), context: expect.objectContaining({ table: 'lake.events', ...context }) }));
    });
  }
});

describe('fieldIdResolver and primitiveFields', () => {
  it('lists primitive fields depth first with Java metric names, marking repeated ones', () => {
    expect(primitiveFields(SCHEMA).filter((f) => f.id >= 6).map((f) => [f.id, f.name, f.repeated])).toEqual([
      [7, 'tags.element', true], [8, 'price', false], [9, 'raw', false], [10, 'added_later', false], [12, 'ctx.user', false],
      [14, 'attrs.key', true], [15, 'attrs.value', true], [16, 'day', false],
    ]);
  });

  it('does not resolve a path through a primitive', () => {
    expect(fieldIdResolver(SCHEMA)(['country', 'x'])).toBeUndefined();
  });
});

describeFixtures('schema plan from parsed Java table metadata', BUNNIES, (dir) => {
  it('plans a write into the bunnies table by column name with its field ids', () => {
    const md = parseTableMetadataJson(readFileSync(join(dir, 'metadata', 'v5.metadata.json'), 'utf8'));
    const view = tableViewFromMetadata(md, 'java.bunnies');
    expect(view.schema['schema-id']).toBe(1);
    const plan = planIcebergWrite(view, [
      { name: 'Breed Name', dataType: 'STRING', singleValue: true },
      { name: 'Lifespan', dataType: 'INT', singleValue: true },
      { name: '__happy__', dataType: 'BOOLEAN', singleValue: true },
    ]);
    expect(plan.tableSchema.columns.map((c) => [c.name, c.dataType])).toEqual([
      ['Breed Name', 'STRING'], ['Average Weight', 'DOUBLE'], ['Fur Length', 'DOUBLE'], ['Lifespan', 'LONG'], ['Origin Country', 'STRING'],
      ['Ear Type', 'STRING'], ['Temperament', 'STRING'], ['Popularity Rank', 'LONG'], ['__happy__', 'BOOLEAN'],
    ]);
    expect(plan.fieldIds(['Popularity Rank'])).toBe(8);
    expect(plan.fieldIds(['__happy__'])).toBe(9);
  });
});
