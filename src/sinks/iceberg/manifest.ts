/**
 * Iceberg v2 data manifests: the `manifest_entry` Avro schema exactly as Java 1.8.1 writes it for an
 * unpartitioned table (field ids, docs, `r2`, `r102`, `k117_v118` … key/value arrays with logicalType map),
 * the writer for a fast append (every entry ADDED with the new snapshot id, sequence numbers null so they are
 * inherited from the manifest-list row) and a reader.
 */
import { ErrorCodes, ExporterError } from '../../errors.js';
import { readOcf, writeOcf, type AvroCodec, type AvroRecord } from './avro.js';
import type { DataFile } from './data-file.js';
import type { ManifestFileRow } from './manifest-list.js';

const optional = (type: unknown): unknown => ['null', type];

function intMap(fieldId: number, keyId: number, valueId: number, name: string, value: 'long' | 'bytes', doc: string): Record<string, unknown> {
  return {
    name,
    type: optional({
      type: 'array',
      items: {
        type: 'record',
        name: `k${keyId}_v${valueId}`,
        fields: [
          { name: 'key', type: 'int', 'field-id': keyId },
          { name: 'value', type: value, 'field-id': valueId },
        ],
      },
      logicalType: 'map',
    }),
    doc,
    default: null,
    'field-id': fieldId,
  };
}

/** The `manifest_entry` schema of a v2 manifest for an unpartitioned spec, as Java writes it (see shared/specs). */
export const MANIFEST_ENTRY_SCHEMA_V2: AvroRecord = {
  type: 'record',
  name: 'manifest_entry',
  fields: [
    { name: 'status', type: 'int', 'field-id': 0 },
    { name: 'snapshot_id', type: optional('long'), default: null, 'field-id': 1 },
    { name: 'sequence_number', type: optional('long'), default: null, 'field-id': 3 },
    { name: 'file_sequence_number', type: optional('long'), default: null, 'field-id': 4 },
    {
      name: 'data_file',
      type: {
        type: 'record',
        name: 'r2',
        fields: [
          { name: 'content', type: 'int', doc: 'Contents of the file: 0=data, 1=position deletes, 2=equality deletes', 'field-id': 134 },
          { name: 'file_path', type: 'string', doc: 'Location URI with FS scheme', 'field-id': 100 },
          { name: 'file_format', type: 'string', doc: 'File format name: avro, orc, or parquet', 'field-id': 101 },
          {
            name: 'partition',
            type: { type: 'record', name: 'r102', fields: [] },
            doc: 'Partition data tuple, schema based on the partition spec',
            'field-id': 102,
          },
          { name: 'record_count', type: 'long', doc: 'Number of records in the file', 'field-id': 103 },
          { name: 'file_size_in_bytes', type: 'long', doc: 'Total file size in bytes', 'field-id': 104 },
          intMap(108, 117, 118, 'column_sizes', 'long', 'Map of column id to total size on disk'),
          intMap(109, 119, 120, 'value_counts', 'long', 'Map of column id to total count, including null and NaN'),
          intMap(110, 121, 122, 'null_value_counts', 'long', 'Map of column id to null value count'),
          intMap(137, 138, 139, 'nan_value_counts', 'long', 'Map of column id to number of NaN values in the column'),
          intMap(125, 126, 127, 'lower_bounds', 'bytes', 'Map of column id to lower bound'),
          intMap(128, 129, 130, 'upper_bounds', 'bytes', 'Map of column id to upper bound'),
          { name: 'key_metadata', type: optional('bytes'), doc: 'Encryption key metadata blob', default: null, 'field-id': 131 },
          {
            name: 'split_offsets',
            type: optional({ type: 'array', items: 'long', 'element-id': 133 }),
            doc: 'Splittable offsets',
            default: null,
            'field-id': 132,
          },
          {
            name: 'equality_ids',
            type: optional({ type: 'array', items: 'int', 'element-id': 136 }),
            doc: 'Equality comparison field IDs',
            default: null,
            'field-id': 135,
          },
          { name: 'sort_order_id', type: optional('int'), doc: 'Sort order ID', default: null, 'field-id': 140 },
          {
            name: 'referenced_data_file',
            type: optional('string'),
            doc: 'Fully qualified location (URI with FS scheme) of a data file that all deletes reference',
            default: null,
            'field-id': 143,
          },
        ],
      },
      'field-id': 2,
    },
  ],
} as AvroRecord;

function kv<T>(m: ReadonlyMap<number, T> | undefined): { key: number; value: T }[] | null {
  return m && m.size > 0 ? [...m].map(([key, value]) => ({ key, value })) : null;
}

function dataFileRecord(f: DataFile): Record<string, unknown> {
  return {
    content: 0,
    file_path: f.filePath,
    file_format: f.fileFormat,
    partition: {},
    record_count: f.recordCount,
    file_size_in_bytes: f.fileSizeInBytes,
    column_sizes: kv(f.columnSizes),
    value_counts: kv(f.valueCounts),
    null_value_counts: kv(f.nullValueCounts),
    nan_value_counts: kv(f.nanValueCounts),
    lower_bounds: kv(f.lowerBounds),
    upper_bounds: kv(f.upperBounds),
    key_metadata: null,
    split_offsets: f.splitOffsets && f.splitOffsets.length > 0 ? f.splitOffsets : null,
    equality_ids: null,
    sort_order_id: f.sortOrderId,
    referenced_data_file: null,
  };
}

export interface ManifestInput {
  /** The new snapshot's id (every entry is ADDED by it). */
  snapshotId: bigint;
  /** The table's current schema JSON text (Java writes it with its schema-id inside). */
  schemaJson: string;
  schemaId: number;
  partitionSpecId: number;
  dataFiles: readonly DataFile[];
  codec?: AvroCodec;
  where?: string;
}

/** A v2 data manifest listing `dataFiles` as ADDED entries. */
export function writeManifest(input: ManifestInput): Uint8Array {
  if (input.dataFiles.length === 0) throw new RangeError('a manifest needs at least one data file');
  return writeOcf({
    schema: MANIFEST_ENTRY_SCHEMA_V2,
    records: input.dataFiles.map((f) => ({
      status: 1,
      snapshot_id: input.snapshotId,
      sequence_number: null,
      file_sequence_number: null,
      data_file: dataFileRecord(f),
    })),
    metadata: {
      schema: input.schemaJson,
      'schema-id': String(input.schemaId),
      'partition-spec': '[]',
      'partition-spec-id': String(input.partitionSpecId),
      'format-version': '2',
      content: 'data',
    },
    codec: input.codec ?? 'deflate',
    where: input.where,
  });
}

/**
 * The manifest-list row for a manifest written by writeManifest. The sequence numbers are the new snapshot's
 * (entries inherit them), so the row is built per commit attempt.
 */
export function manifestListRow(input: {
  path: string; length: number | bigint; partitionSpecId: number; snapshotId: bigint; sequenceNumber: bigint; dataFiles: readonly DataFile[];
}): ManifestFileRow {
  return {
    manifest_path: input.path,
    manifest_length: BigInt(input.length),
    partition_spec_id: input.partitionSpecId,
    content: 0,
    sequence_number: input.sequenceNumber,
    min_sequence_number: input.sequenceNumber,
    added_snapshot_id: input.snapshotId,
    added_files_count: input.dataFiles.length,
    existing_files_count: 0,
    deleted_files_count: 0,
    added_rows_count: input.dataFiles.reduce((s, f) => s + f.recordCount, 0n),
    existing_rows_count: 0n,
    deleted_rows_count: 0n,
    partitions: [],
    key_metadata: null,
  };
}

export interface ManifestEntry {
  status: number;
  snapshotId: bigint | null;
  sequenceNumber: bigint | null;
  fileSequenceNumber: bigint | null;
  content: number;
  filePath: string;
  fileFormat: string;
  recordCount: bigint;
  fileSizeInBytes: bigint;
  /** The whole data_file record by Avro field name. */
  dataFile: Record<string, unknown>;
}

/** Reads a manifest's entries (by Avro field name). */
export function readManifest(bytes: Uint8Array, where?: string): { metadata: Map<string, string>; entries: ManifestEntry[] } {
  const file = readOcf(bytes, where);
  const entries = file.records.map((rec, i): ManifestEntry => {
    const df = rec.data_file as Record<string, unknown> | undefined;
    if (typeof rec.status !== 'number' || !df || typeof df.file_path !== 'string' || typeof df.record_count !== 'bigint') {
      throw new ExporterError(ErrorCodes.ICEBERG_METADATA_INVALID, `manifest entry ${i} lacks status, data_file.file_path or data_file.record_count`, {
        context: where === undefined ? {} : { uri: where },
      });
    }
    return {
      status: rec.status,
      snapshotId: (rec.snapshot_id ?? null) as bigint | null,
      sequenceNumber: (rec.sequence_number ?? null) as bigint | null,
      fileSequenceNumber: (rec.file_sequence_number ?? null) as bigint | null,
      content: typeof df.content === 'number' ? df.content : 0,
      filePath: df.file_path,
      fileFormat: String(df.file_format),
      recordCount: df.record_count,
      fileSizeInBytes: df.file_size_in_bytes as bigint,
      dataFile: df,
    };
  });
  return { metadata: file.metadata, entries };
}
