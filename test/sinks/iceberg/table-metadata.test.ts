/** Table metadata parser and append helpers, against Java-written metadata and hand-made edge cases. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { IcebergError } from '../../../src/sinks/iceberg/errors.js';
import { parseJson } from '../../../src/sinks/iceberg/json.js';
import {
  ancestry, currentSchema, dataLocation, defaultFileFormat, isUnpartitioned, mainSnapshot, metadataLocation,
  parseTableMetadata, parseTableMetadataJson, type TableMetadata,
} from '../../../src/sinks/iceberg/table-metadata.js';
import { describeFixtures } from '../../support/fixtures.js';

function invalid(raw: unknown): IcebergError {
  try {
    parseTableMetadata(raw, { file: 'mem://v9.metadata.json' });
  } catch (err) {
    expect(err).toBeInstanceOf(IcebergError);
    expect((err as IcebergError).code).toBe(ErrorCodes.ICEBERG_METADATA_INVALID);
    return err as IcebergError;
  }
  return expect.fail('expected ICEBERG_METADATA_INVALID');
}

/** A minimal valid v2 document; tests change one thing at a time. */
function v2(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'format-version': 2,
    'table-uuid': '9c12d441-03fe-4693-9a96-a0705ddf69c1',
    location: 's3://bucket/warehouse/db/t/',
    'last-sequence-number': 0,
    'last-updated-ms': 1700000000000,
    'last-column-id': 7,
    'current-schema-id': 0,
    schemas: [{
      type: 'struct',
      'schema-id': 0,
      'identifier-field-ids': [1],
      fields: [
        { id: 1, name: 'id', required: true, type: 'long', doc: 'row id' },
        { id: 2, name: 'tags', required: false, type: { type: 'list', 'element-id': 3, 'element-required': false, element: 'string' } },
        { id: 4, name: 'attrs', required: false, type: { type: 'map', 'key-id': 5, key: 'string', 'value-id': 6, 'value-required': true, value: 'decimal(9, 2)' } },
        { id: 7, name: 'loc', required: false, type: { type: 'struct', fields: [{ id: 8, name: 'lat', required: true, type: 'double' }] } },
      ],
    }],
    'default-spec-id': 0,
    'partition-specs': [{ 'spec-id': 0, fields: [] }],
    'last-partition-id': 999,
    'default-sort-order-id': 0,
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    ...extra,
  };
}

describeFixtures('Java-written metadata (Iceberg 1.8.1 "bunnies")', 'fixtures/iceberg-java-1.8.1-bunnies', (dir) => {
  const load = (v: number): TableMetadata => parseTableMetadataJson(readFileSync(`${dir}/metadata/v${v}.metadata.json`, 'utf8'));

  it('v5: 63-bit snapshot ids are exact bigints and main is the current snapshot', () => {
    const md = load(5);
    expect(md.formatVersion).toBe(2);
    expect(md.tableUuid).toBe('eee3ca77-1713-442c-8c2f-ad98d8d36a9b');
    expect(md.currentSnapshotId).toBe(9158179788527662767n);
    expect(md.refs.main).toEqual({ snapshotId: 9158179788527662767n, type: 'branch' });
    expect(mainSnapshot(md)?.snapshotId).toBe(9158179788527662767n);
    expect(md.lastSequenceNumber).toBe(3n);
    expect(md.snapshots.map((s) => s.sequenceNumber)).toEqual([1n, 2n, 3n]);
    expect(md.snapshotLog.map((e) => e.snapshotId)).toEqual([4951213507629824583n, 6458828015811002920n, 9158179788527662767n]);
    expect(md.metadataLog).toHaveLength(4);
    expect(md.metadataLog[0]).toEqual({ metadataFile: 's3a://hyperparam-iceberg/java/bunnies/metadata/v1.metadata.json', timestampMs: 1743410776222 });
  });

  it('v5: the ancestry of main walks parent ids back to the first append', () => {
    const md = load(5);
    const chain = [...ancestry(md)];
    expect(chain.map((s) => s.snapshotId)).toEqual([9158179788527662767n, 6458828015811002920n, 4951213507629824583n]);
    expect(chain.map((s) => s.summary.operation)).toEqual(['overwrite', 'delete', 'append']);
    expect(chain[2]!.manifestList).toBe('s3a://hyperparam-iceberg/java/bunnies/metadata/snap-4951213507629824583-1-583a45a0-7389-4d71-9305-ac3a8725c38b.avro');
    expect(chain[0]!.parentSnapshotId).toBe(6458828015811002920n);
    expect(chain[2]!.parentSnapshotId).toBeUndefined();
  });

  it('v5: current schema, spec and write settings', () => {
    const md = load(5);
    const schema = currentSchema(md);
    expect(schema.schemaId).toBe(1);
    expect(schema.fields.map((f) => [f.id, f.name, f.type])).toEqual([
      [1, 'Breed Name', 'string'], [2, 'Average Weight', 'double'], [3, 'Fur Length', 'double'], [4, 'Lifespan', 'long'],
      [5, 'Origin Country', 'string'], [6, 'Ear Type', 'string'], [7, 'Temperament', 'string'], [8, 'Popularity Rank', 'long'],
      [9, '__happy__', 'boolean'],
    ]);
    expect(isUnpartitioned(md)).toBe(true);
    expect(defaultFileFormat(md)).toBe('parquet');
    expect(dataLocation(md)).toBe('s3a://hyperparam-iceberg/java/bunnies/data');
    expect(metadataLocation(md)).toBe('s3a://hyperparam-iceberg/java/bunnies/metadata');
    expect(md.properties).toEqual({ 'write.parquet.compression-codec': 'zstd' });
  });

  it('v1 (no snapshot yet): no main, empty ancestry; every version parses', () => {
    const md = load(1);
    expect(md.currentSnapshotId).toBeUndefined();
    expect(md.refs.main).toBeUndefined();
    expect(mainSnapshot(md)).toBeUndefined();
    expect([...ancestry(md)]).toEqual([]);
    for (const v of [2, 3, 4]) expect(mainSnapshot(load(v))?.snapshotId).toBe(load(v).currentSnapshotId);
  });
});

describe('nested types and optional parts', () => {
  it('struct/list/map with ids, required flags and doc', () => {
    const md = parseTableMetadata(v2());
    const [id, tags, attrs, loc] = currentSchema(md).fields;
    expect(id).toEqual({ id: 1, name: 'id', required: true, type: 'long', doc: 'row id' });
    expect(tags!.type).toEqual({ type: 'list', elementId: 3, elementRequired: false, element: 'string' });
    expect(attrs!.type).toEqual({ type: 'map', keyId: 5, key: 'string', valueId: 6, valueRequired: true, value: 'decimal(9, 2)' });
    expect(loc!.type).toEqual({ type: 'struct', fields: [{ id: 8, name: 'lat', required: true, type: 'double' }] });
    expect(currentSchema(md).identifierFieldIds).toEqual([1]);
    expect(md.snapshots).toEqual([]);
    expect(dataLocation(md)).toBe('s3://bucket/warehouse/db/t/data');
  });

  it('write.data.path and write.format.default from properties', () => {
    const md = parseTableMetadata(v2({ properties: { 'write.data.path': 's3://other/data/', 'write.format.default': 'ORC' } }));
    expect(dataLocation(md)).toBe('s3://other/data');
    expect(defaultFileFormat(md)).toBe('orc');
  });

  it('a partitioned default spec is reported', () => {
    const md = parseTableMetadata(v2({
      'partition-specs': [{ 'spec-id': 0, fields: [] }, { 'spec-id': 1, fields: [{ 'source-id': 1, 'field-id': 1000, name: 'id_bucket', transform: 'bucket[16]' }] }],
      'default-spec-id': 1,
    }));
    expect(isUnpartitioned(md)).toBe(false);
  });

  it('v1 metadata: single schema/partition-spec, current-snapshot-id -1 means none, no sequence numbers', () => {
    const raw = parseJson(JSON.stringify({
      'format-version': 1,
      location: 'file:///t',
      'last-updated-ms': 1,
      'last-column-id': 1,
      schema: { type: 'struct', fields: [{ id: 1, name: 'a', required: false, type: 'int' }] },
      'partition-spec': [],
      'current-snapshot-id': -1,
    }));
    const md = parseTableMetadata(raw);
    expect(md.currentSnapshotId).toBeUndefined();
    expect(md.lastSequenceNumber).toBe(0n);
    expect(currentSchema(md).fields[0]!.name).toBe('a');
    expect(isUnpartitioned(md)).toBe(true);
    expect(md.tableUuid).toBeUndefined();
  });

  it('a v1 table without refs gets main from current-snapshot-id', () => {
    const raw = parseJson(`{"format-version":1,"location":"file:///t","last-updated-ms":1,"last-column-id":1,
      "schema":{"type":"struct","fields":[]},"partition-spec":[],"current-snapshot-id":9158179788527662767,
      "snapshots":[{"snapshot-id":9158179788527662767,"timestamp-ms":5,"manifest-list":"file:///t/m.avro"}]}`);
    const md = parseTableMetadata(raw);
    expect(mainSnapshot(md)?.snapshotId).toBe(9158179788527662767n);
    expect(mainSnapshot(md)?.sequenceNumber).toBe(0n);
    expect(mainSnapshot(md)?.summary).toEqual({ operation: 'append' });
  });

  it('ancestry stops at an expired parent and survives a corrupt cycle', () => {
    const snap = (id: number, parent?: number) => ({
      'snapshot-id': id, ...(parent === undefined ? {} : { 'parent-snapshot-id': parent }), 'sequence-number': id,
      'timestamp-ms': id, 'manifest-list': `m${id}`, summary: { operation: 'append' },
    });
    const expired = parseTableMetadata(v2({ 'current-snapshot-id': 3, snapshots: [snap(2, 1), snap(3, 2)], refs: { main: { 'snapshot-id': 3, type: 'branch' } } }));
    expect([...ancestry(expired)].map((s) => s.snapshotId)).toEqual([3n, 2n]);
    const cyclic = parseTableMetadata(v2({ 'current-snapshot-id': 3, snapshots: [snap(2, 3), snap(3, 2)], refs: { main: { 'snapshot-id': 3, type: 'branch' } } }));
    expect([...ancestry(cyclic)].map((s) => s.snapshotId)).toEqual([3n, 2n]);
    expect([...ancestry(cyclic, 2n)].map((s) => s.snapshotId)).toEqual([2n, 3n]);
  });
});

describe('invalid metadata names the field', () => {
  it('unknown primitive type deep in a schema', () => {
    const raw = v2();
    ((raw.schemas as Record<string, unknown>[])[0]!.fields as Record<string, unknown>[])[3] = {
      id: 7, name: 'loc', required: false, type: { type: 'struct', fields: [{ id: 8, name: 'lat', required: true, type: 'dubble' }] },
    };
    const err = invalid(raw);
    expect(err.context.key).toBe('schemas[0].fields[3].type.fields[0].type');
    expect(err.message).toContain('"dubble"');
    expect(err.message).toContain('mem://v9.metadata.json');
  });

  it('missing required fields per format version', () => {
    const noUuid = v2();
    delete noUuid['table-uuid'];
    expect(invalid(noUuid).context.key).toBe('table-uuid');
    const noSeq = v2();
    delete noSeq['last-sequence-number'];
    expect(invalid(noSeq).context.key).toBe('last-sequence-number');
    expect(invalid(v2({ 'format-version': 4 })).context.key).toBe('format-version');
    expect(invalid(v2({ 'format-version': 3 })).context.key).toBe('next-row-id');
  });

  it('dangling references and wrong kinds', () => {
    expect(invalid(v2({ 'current-schema-id': 5 })).context.key).toBe('current-schema-id');
    expect(invalid(v2({ refs: { main: { 'snapshot-id': 77, type: 'branch' } } })).context.key).toBe('refs.main.snapshot-id');
    expect(invalid(v2({ refs: { main: { 'snapshot-id': 77, type: 'twig' } } })).context.key).toBe('refs.main.type');
    expect(invalid(v2({ snapshots: [{ 'snapshot-id': '12', 'sequence-number': 1, 'timestamp-ms': 1, 'manifest-list': 'x', summary: { operation: 'append' } }] })).context.key)
      .toBe('snapshots[0].snapshot-id');
    expect(invalid(v2({ snapshots: [{ 'snapshot-id': 12, 'sequence-number': 1, 'timestamp-ms': 1, summary: { operation: 'append' } }] })).context.key)
      .toBe('snapshots[0].manifest-list');
    expect(invalid(v2({ properties: { a: 1 } })).context.key).toBe('properties.a');
    expect(invalid([]).context.key).toBe('(root)');
  });

  it('malformed JSON text is ICEBERG_METADATA_INVALID with the file named', () => {
    let err: unknown;
    try {
      parseTableMetadataJson('{"format-version": 2,', { file: 's3://b/t/metadata/v3.metadata.json' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IcebergError);
    expect((err as IcebergError).code).toBe(ErrorCodes.ICEBERG_METADATA_INVALID);
    expect((err as IcebergError).message).toContain('s3://b/t/metadata/v3.metadata.json');
  });
});
