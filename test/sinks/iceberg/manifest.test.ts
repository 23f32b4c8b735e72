import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { avroMetadata, avroRead } from 'icebird';
import { describe, expect, it } from 'vitest';
import { writeOcf, type AvroRecord } from '../../../src/sinks/iceberg/avro.js';
import type { DataFile } from '../../../src/sinks/iceberg/data-file.js';
import { MANIFEST_ENTRY_SCHEMA_V2, manifestListRow, readManifest, writeManifest } from '../../../src/sinks/iceberg/manifest.js';
import { MANIFEST_LIST_SCHEMA_V2, readManifestList, writeManifestList } from '../../../src/sinks/iceberg/manifest-list.js';
import { describeFixtures } from '../../support/fixtures.js';
import { avscDecode, BUNNIES, JAVA_MANIFEST_LIST_SCHEMA_PATH, JAVA_MANIFEST_SCHEMA_PATH, readJson } from './avro-helpers.js';

function icebirdRead(bytes: Uint8Array): { metadata: Record<string, unknown>; rows: Record<string, unknown>[] } {
  const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
  const { metadata, syncMarker } = avroMetadata(reader);
  return { metadata, rows: avroRead({ reader, metadata, syncMarker }) };
}

const FILES: DataFile[] = [
  {
    filePath: 's3://lake/events/data/events__0__12__20261126T0000Z-6f1c.parquet',
    fileFormat: 'PARQUET',
    recordCount: 50_000n,
    fileSizeInBytes: 1_234_567n,
    columnSizes: new Map([[1, 1000n], [2, 2000n]]),
    valueCounts: new Map([[1, 50_000n], [2, 50_000n]]),
    nullValueCounts: new Map([[1, 0n], [2, 17n]]),
    nanValueCounts: new Map([[2, 3n]]),
    lowerBounds: new Map([[1, Uint8Array.of(1, 0, 0, 0)]]),
    upperBounds: new Map([[1, Uint8Array.of(9, 0, 0, 0)]]),
    splitOffsets: [4n, 600_000n],
    sortOrderId: 0,
  },
  { filePath: 's3://lake/events/data/b.parquet', fileFormat: 'PARQUET', recordCount: 7n, fileSizeInBytes: 99n, sortOrderId: null },
];
const SNAPSHOT_ID = 9_000_000_000_000_000_123n;
const SCHEMA_JSON = JSON.stringify({ type: 'struct', 'schema-id': 3, fields: [{ id: 1, name: 'a', required: false, type: 'int' }] });

describe('manifest and manifest-list schemas', () => {
  it('equal the Java-written schemas in shared/specs, field ids and docs included', () => {
    expect(MANIFEST_ENTRY_SCHEMA_V2).toEqual(readJson(JAVA_MANIFEST_SCHEMA_PATH));
    expect(MANIFEST_LIST_SCHEMA_V2).toEqual(readJson(JAVA_MANIFEST_LIST_SCHEMA_PATH));
  });
});

describe('writeManifest', () => {
  const bytes = writeManifest({ snapshotId: SNAPSHOT_ID, schemaJson: SCHEMA_JSON, schemaId: 3, partitionSpecId: 0, dataFiles: FILES });

  it('is read by avsc with the Java schema as reader schema, every value as written', async () => {
    const { records, meta, codec, writerSchema } = await avscDecode(bytes, readJson(JAVA_MANIFEST_SCHEMA_PATH));
    expect(codec).toBe('deflate');
    expect(writerSchema).toEqual(readJson(JAVA_MANIFEST_SCHEMA_PATH));
    expect(meta).toMatchObject({ schema: SCHEMA_JSON, 'schema-id': '3', 'partition-spec': '[]', 'partition-spec-id': '0', 'format-version': '2', content: 'data' });
    expect(records).toHaveLength(2);
    type Entry = { data_file: Record<string, unknown> & { lower_bounds: { value: Uint8Array }[] } };
    const [a, b] = records as unknown as Entry[];
    expect(a).toMatchObject({ status: 1, snapshot_id: SNAPSHOT_ID, sequence_number: null, file_sequence_number: null });
    expect(a!.data_file).toMatchObject({
      content: 0, file_path: FILES[0]!.filePath, file_format: 'PARQUET', partition: {}, record_count: 50_000n, file_size_in_bytes: 1_234_567n,
      column_sizes: [{ key: 1, value: 1000n }, { key: 2, value: 2000n }],
      null_value_counts: [{ key: 1, value: 0n }, { key: 2, value: 17n }],
      nan_value_counts: [{ key: 2, value: 3n }],
      key_metadata: null, split_offsets: [4n, 600_000n], equality_ids: null, sort_order_id: 0, referenced_data_file: null,
    });
    expect([...a!.data_file.lower_bounds[0]!.value]).toEqual([1, 0, 0, 0]);
    expect(b!.data_file).toMatchObject({ column_sizes: null, lower_bounds: null, split_offsets: null, sort_order_id: null, record_count: 7n });
  });

  it('is read by icebird 0.3.1 (the reader of the end-to-end tests)', () => {
    const { metadata, rows } = icebirdRead(bytes);
    expect(metadata['avro.codec']).toBe('deflate');
    expect(rows.map((r) => (r.data_file as { file_path: string }).file_path)).toEqual(FILES.map((f) => f.filePath));
    expect(rows[0]!.snapshot_id).toBe(SNAPSHOT_ID);
  });

  it('reads back with readManifest', () => {
    const { entries, metadata } = readManifest(bytes, 'm.avro');
    expect(metadata.get('content')).toBe('data');
    expect(entries.map((e) => [e.status, e.snapshotId, e.sequenceNumber, e.filePath, e.recordCount])).toEqual([
      [1, SNAPSHOT_ID, null, FILES[0]!.filePath, 50_000n],
      [1, SNAPSHOT_ID, null, FILES[1]!.filePath, 7n],
    ]);
  });

  it('refuses an empty manifest', () => {
    expect(() => writeManifest({ snapshotId: 1n, schemaJson: '{}', schemaId: 0, partitionSpecId: 0, dataFiles: [] })).toThrow(/at least one data file/);
  });
});

describe('writeManifestList', () => {
  // A realistic path: icebird 0.3.1's inflater overflows its stack on some blocks that inflate to < ~50 bytes.
  const path = 's3://lake/warehouse/db/events/metadata/0d3c2f55-6f59-4c1b-9d4e-1c2b3a4d5e6f-m0.avro';
  const row = manifestListRow({ path, length: 7349, partitionSpecId: 0, snapshotId: SNAPSHOT_ID, sequenceNumber: 4n, dataFiles: FILES });

  it('writes the new manifest row with the real sequence number and counts, and "null" for no parent', async () => {
    const bytes = writeManifestList({ snapshotId: SNAPSHOT_ID, parentSnapshotId: null, sequenceNumber: 4n, added: [row], parent: [] });
    const { records, meta } = await avscDecode(bytes, readJson(JAVA_MANIFEST_LIST_SCHEMA_PATH));
    expect(meta).toMatchObject({ 'snapshot-id': SNAPSHOT_ID.toString(), 'parent-snapshot-id': 'null', 'sequence-number': '4', 'format-version': '2' });
    expect(records).toEqual([{
      manifest_path: path, manifest_length: 7349n, partition_spec_id: 0, content: 0, sequence_number: 4n, min_sequence_number: 4n,
      added_snapshot_id: SNAPSHOT_ID, added_files_count: 2, existing_files_count: 0, deleted_files_count: 0,
      added_rows_count: 50_007n, existing_rows_count: 0n, deleted_rows_count: 0n, partitions: [], key_metadata: null,
    }]);
    expect(icebirdRead(bytes).rows[0]!.sequence_number).toBe(4n);
  });

  it('reads a v1 list (no content or sequence numbers, old field names) as v2 rows with zeros', () => {
    const v1: AvroRecord = {
      type: 'record', name: 'manifest_file', fields: [
        { name: 'manifest_path', type: 'string', 'field-id': 500 },
        { name: 'manifest_length', type: 'long', 'field-id': 501 },
        { name: 'partition_spec_id', type: 'int', 'field-id': 502 },
        { name: 'added_snapshot_id', type: ['null', 'long'], 'field-id': 503 },
        { name: 'added_data_files_count', type: ['null', 'int'], 'field-id': 504 },
        { name: 'existing_data_files_count', type: ['null', 'int'], 'field-id': 505 },
        { name: 'deleted_data_files_count', type: ['null', 'int'], 'field-id': 506 },
        { name: 'partitions', type: ['null', { type: 'array', items: { type: 'record', name: 'r508', fields: [{ name: 'contains_null', type: 'boolean', 'field-id': 509 }] }, 'element-id': 508 }], 'field-id': 507 },
        { name: 'added_rows_count', type: ['null', 'long'], 'field-id': 512 },
        { name: 'existing_rows_count', type: ['null', 'long'], 'field-id': 513 },
        { name: 'deleted_rows_count', type: ['null', 'long'], 'field-id': 514 },
      ],
    };
    const bytes = writeOcf({
      schema: v1, metadata: { 'format-version': '1' },
      records: [{ manifest_path: 'x.avro', manifest_length: 10n, partition_spec_id: 0, added_snapshot_id: 5n, added_data_files_count: 1, existing_data_files_count: 0, deleted_data_files_count: 0, partitions: [], added_rows_count: 3n, existing_rows_count: 0n, deleted_rows_count: 0n }],
    });
    const { rows, formatVersion } = readManifestList(bytes, 'v1.avro');
    expect(formatVersion).toBe(1);
    expect(rows[0]).toMatchObject({ content: 0, sequence_number: 0n, min_sequence_number: 0n, added_files_count: 1, added_rows_count: 3n, added_snapshot_id: 5n });
    const missing = writeOcf({ schema: v1, metadata: { 'format-version': '1' }, records: [{ manifest_path: 'x.avro', manifest_length: 10n, partition_spec_id: 0, added_snapshot_id: 5n, partitions: null }] });
    expect(() => readManifestList(missing, 'v1.avro')).toThrow(expect.objectContaining({ code: 'ICEBERG_METADATA_INVALID', message: expect.stringMatching(/row 0 has no added_files_count.*v1\.avro/) }));
  });
});

describeFixtures('manifest lists on the Java-written bunnies table', BUNNIES, (dir) => {
  const lists = readdirSync(join(dir, 'metadata')).filter((f) => f.startsWith('snap-'));

  for (const name of lists) {
    it(`copies every row of ${name} unchanged behind a new manifest`, async () => {
      const javaBytes = readFileSync(join(dir, 'metadata', name));
      const javaRows = (await avscDecode(javaBytes)).records;
      const parent = readManifestList(javaBytes, name);
      expect(parent.rows).toHaveLength(javaRows.length);
      const row = manifestListRow({ path: 's3a://x/m0.avro', length: 100, partitionSpecId: 0, snapshotId: SNAPSHOT_ID, sequenceNumber: 9n, dataFiles: FILES });
      const parentId = BigInt(parent.metadata.get('snapshot-id')!);
      const ours = writeManifestList({ snapshotId: SNAPSHOT_ID, parentSnapshotId: parentId, sequenceNumber: 9n, added: [row], parent: parent.rows });
      const decoded = await avscDecode(ours, readJson(JAVA_MANIFEST_LIST_SCHEMA_PATH));
      expect(decoded.meta['parent-snapshot-id']).toBe(parentId.toString());
      expect(decoded.records).toHaveLength(javaRows.length + 1);
      expect(decoded.records[0]!.manifest_path).toBe('s3a://x/m0.avro');
      expect(decoded.records.slice(1)).toEqual(javaRows);
    });
  }
});
