/**
 * An Avro manifest list with no rows, for a simulated concurrent writer that appends to a table without a
 * parent snapshot (a snapshot must name a manifest list). Written with avsc, an implementation independent
 * of the exporter's own Avro writer. avsc drops Iceberg's `field-id` attributes from the header; with no
 * rows nobody needs them.
 */
import avro from 'avsc';

const FIELD_SUMMARY = {
  type: 'record', name: 'r508', fields: [
    { name: 'contains_null', type: 'boolean' },
    { name: 'contains_nan', type: ['null', 'boolean'], default: null },
    { name: 'lower_bound', type: ['null', 'bytes'], default: null },
    { name: 'upper_bound', type: ['null', 'bytes'], default: null },
  ],
};

const MANIFEST_FILE_V2 = {
  type: 'record', name: 'manifest_file', fields: [
    { name: 'manifest_path', type: 'string' },
    { name: 'manifest_length', type: 'long' },
    { name: 'partition_spec_id', type: 'int' },
    { name: 'content', type: 'int' },
    { name: 'sequence_number', type: 'long' },
    { name: 'min_sequence_number', type: 'long' },
    { name: 'added_snapshot_id', type: 'long' },
    { name: 'added_files_count', type: 'int' },
    { name: 'existing_files_count', type: 'int' },
    { name: 'deleted_files_count', type: 'int' },
    { name: 'added_rows_count', type: 'long' },
    { name: 'existing_rows_count', type: 'long' },
    { name: 'deleted_rows_count', type: 'long' },
    { name: 'partitions', type: ['null', { type: 'array', items: FIELD_SUMMARY }], default: null },
    { name: 'key_metadata', type: ['null', 'bytes'], default: null },
  ],
};

export async function emptyManifestList(meta: { snapshotId: bigint; parentId: bigint | null; sequenceNumber: bigint; formatVersion: number }): Promise<Buffer> {
  const encoder = new avro.streams.BlockEncoder(MANIFEST_FILE_V2 as avro.Schema, {
    codec: 'null',
    writeHeader: 'always',
    metadata: {
      'snapshot-id': Buffer.from(String(meta.snapshotId)),
      'parent-snapshot-id': Buffer.from(meta.parentId === null ? 'null' : String(meta.parentId)),
      'sequence-number': Buffer.from(String(meta.sequenceNumber)),
      'format-version': Buffer.from(String(meta.formatVersion)),
    },
  } as ConstructorParameters<typeof avro.streams.BlockEncoder>[1]);
  const chunks: Buffer[] = [];
  encoder.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((ok, fail) => {
    encoder.on('end', ok);
    encoder.on('error', fail);
  });
  encoder.end();
  await done;
  return Buffer.concat(chunks);
}
