/**
 * Iceberg v2 manifest lists: the Avro schema exactly as Java 1.8.1 writes it (field ids, docs, `r508`), the
 * writer for a fast append (new manifests first, then every row of the parent's list unchanged) and a reader.
 *
 * Rows are kept as plain records by Avro field name with `bigint` longs, so a parent row is written back with
 * the same values it was read with. A parent list written for format v1 has no `content` / sequence numbers;
 * those rows are written with content 0 and sequence numbers 0, as spec Appendix E says.
 */
import { ErrorCodes, ExporterError } from '../../errors.js';
import { readOcf, writeOcf, type AvroCodec, type AvroRecord } from './avro.js';

/** One manifest-list row (`manifest_file`), Avro field names, longs as bigint. */
export interface ManifestFileRow {
  manifest_path: string;
  manifest_length: bigint;
  partition_spec_id: number;
  /** 0 data, 1 deletes. */
  content: number;
  sequence_number: bigint;
  min_sequence_number: bigint;
  added_snapshot_id: bigint;
  added_files_count: number;
  existing_files_count: number;
  deleted_files_count: number;
  added_rows_count: bigint;
  existing_rows_count: bigint;
  deleted_rows_count: bigint;
  partitions: { contains_null: boolean; contains_nan: boolean | null; lower_bound: Uint8Array | null; upper_bound: Uint8Array | null }[] | null;
  key_metadata: Uint8Array | null;
}

const optional = (type: unknown): unknown => ['null', type];

/** The `manifest_file` schema of a v2 manifest list, as Java writes it (see shared/specs). */
export const MANIFEST_LIST_SCHEMA_V2: AvroRecord = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', doc: 'Location URI with FS scheme', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', doc: 'Total file size in bytes', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', doc: 'Spec ID used to write', 'field-id': 502 },
    { name: 'content', type: 'int', doc: 'Contents of the manifest: 0=data, 1=deletes', 'field-id': 517 },
    { name: 'sequence_number', type: 'long', doc: 'Sequence number when the manifest was added', 'field-id': 515 },
    { name: 'min_sequence_number', type: 'long', doc: 'Lowest sequence number in the manifest', 'field-id': 516 },
    { name: 'added_snapshot_id', type: 'long', doc: 'Snapshot ID that added the manifest', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', doc: 'Added entry count', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', doc: 'Existing entry count', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', doc: 'Deleted entry count', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', doc: 'Added rows count', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', doc: 'Existing rows count', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', doc: 'Deleted rows count', 'field-id': 514 },
    {
      name: 'partitions',
      type: optional({
        type: 'array',
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            { name: 'contains_null', type: 'boolean', doc: 'True if any file has a null partition value', 'field-id': 509 },
            { name: 'contains_nan', type: optional('boolean'), doc: 'True if any file has a nan partition value', default: null, 'field-id': 518 },
            { name: 'lower_bound', type: optional('bytes'), doc: 'Partition lower bound for all files', default: null, 'field-id': 510 },
            { name: 'upper_bound', type: optional('bytes'), doc: 'Partition upper bound for all files', default: null, 'field-id': 511 },
          ],
        },
        'element-id': 508,
      }),
      doc: 'Summary for each partition',
      default: null,
      'field-id': 507,
    },
    { name: 'key_metadata', type: optional('bytes'), doc: 'Encryption key metadata blob', default: null, 'field-id': 519 },
  ],
} as AvroRecord;

export interface ManifestListInput {
  snapshotId: bigint;
  /** null: the first snapshot (written as the literal "null", like Java's String.valueOf(null)). */
  parentSnapshotId: bigint | null;
  sequenceNumber: bigint;
  /** New manifests, in order; they come first. */
  added: readonly ManifestFileRow[];
  /** Every row of the parent snapshot's manifest list (readManifestList), copied unchanged after `added`. */
  parent: readonly ManifestFileRow[];
  codec?: AvroCodec;
  where?: string;
}

/** The v2 manifest list file for a fast append. */
export function writeManifestList(input: ManifestListInput): Uint8Array {
  return writeOcf({
    schema: MANIFEST_LIST_SCHEMA_V2,
    records: [...input.added, ...input.parent],
    metadata: {
      'snapshot-id': input.snapshotId.toString(),
      'parent-snapshot-id': input.parentSnapshotId === null ? 'null' : input.parentSnapshotId.toString(),
      'sequence-number': input.sequenceNumber.toString(),
      'format-version': '2',
    },
    codec: input.codec ?? 'deflate',
    where: input.where,
  });
}

export interface ManifestListFile {
  metadata: Map<string, string>;
  formatVersion: number;
  rows: ManifestFileRow[];
}

function bad(detail: string, where: string | undefined): ExporterError {
  return new ExporterError(ErrorCodes.ICEBERG_METADATA_INVALID, detail, { context: where === undefined ? {} : { uri: where } });
}

/**
 * Reads a manifest list (v1 or v2 writer schema) into v2 rows. Fields are taken by name (Java and icebird
 * resolve the same way); v1 rows get content 0 and sequence numbers 0. A row missing a field v2 requires
 * (a v1 list without file counts) is refused rather than invented.
 */
export function readManifestList(bytes: Uint8Array, where?: string): ManifestListFile {
  const file = readOcf(bytes, where);
  const formatVersion = Number(file.metadata.get('format-version') ?? '1');
  if (!(formatVersion === 1 || formatVersion === 2)) {
    throw bad(`manifest list format-version ${JSON.stringify(file.metadata.get('format-version'))} is not supported (1 and 2 are read)`, where);
  }
  // Resolve by field id as Java does (old writers named 504 `added_data_files_count`), by name without ids.
  const nameById = new Map(file.schema.fields.filter((f) => f['field-id'] !== undefined).map((f) => [f['field-id']!, f.name]));
  const idByName = new Map(MANIFEST_LIST_SCHEMA_V2.fields.map((f) => [f.name, f['field-id']!]));
  const rows = file.records.map((raw, i): ManifestFileRow => {
    const rec = (name: string): unknown => raw[nameById.get(idByName.get(name)!) ?? name];
    const need = <T>(name: string, kind: 'bigint' | 'number' | 'string', fallback?: T): T => {
      const v = rec(name);
      if (v === undefined || v === null) {
        if (fallback !== undefined) return fallback;
        throw bad(`manifest list row ${i} has no ${name}`, where);
      }
      if (typeof v !== kind) throw bad(`manifest list row ${i}: ${name} is ${typeof v}, expected ${kind}`, where);
      return v as T;
    };
    return {
      manifest_path: need<string>('manifest_path', 'string'),
      manifest_length: need<bigint>('manifest_length', 'bigint'),
      partition_spec_id: need<number>('partition_spec_id', 'number'),
      content: need<number>('content', 'number', formatVersion === 1 ? 0 : undefined),
      sequence_number: need<bigint>('sequence_number', 'bigint', formatVersion === 1 ? 0n : undefined),
      min_sequence_number: need<bigint>('min_sequence_number', 'bigint', formatVersion === 1 ? 0n : undefined),
      added_snapshot_id: need<bigint>('added_snapshot_id', 'bigint'),
      added_files_count: need<number>('added_files_count', 'number'),
      existing_files_count: need<number>('existing_files_count', 'number'),
      deleted_files_count: need<number>('deleted_files_count', 'number'),
      added_rows_count: need<bigint>('added_rows_count', 'bigint'),
      existing_rows_count: need<bigint>('existing_rows_count', 'bigint'),
      deleted_rows_count: need<bigint>('deleted_rows_count', 'bigint'),
      partitions: (rec('partitions') ?? null) as ManifestFileRow['partitions'],
      key_metadata: (rec('key_metadata') ?? null) as Uint8Array | null,
    };
  });
  return { metadata: file.metadata, formatVersion, rows };
}
