import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import type { DataFile } from '../../../src/sinks/iceberg/data-file.js';
import { readManifest } from '../../../src/sinks/iceberg/manifest.js';
import { readManifestList } from '../../../src/sinks/iceberg/manifest-list.js';
import {
  appendSummary, buildAppendCommit, commitRequestJson, commitViewFromMetadata, committedSegmentNames, committedSegments, dataDir, encodeSegments,
  findCommittedBatch, mainAncestry, metadataDir, newSnapshotId, prepareAppend, segmentsHash, SEGMENTS_INLINE_MAX_CHARS, type ExportMarkers,
  type SnapshotView, type TableView,
} from '../../../src/sinks/iceberg/snapshot.js';
import { parseTableMetadataJson } from '../../../src/sinks/iceberg/table-metadata.js';
import { describeFixtures, sharedPath } from '../../support/fixtures.js';
import { OpenApiValidator } from '../../support/openapi-validator.js';
import { avscDecode, BUNNIES, JAVA_MANIFEST_LIST_SCHEMA_PATH, JAVA_MANIFEST_SCHEMA_PATH, readJson } from './avro-helpers.js';

const FILES: DataFile[] = [1, 2, 3].map((i) => ({
  filePath: `s3a://hyperparam-iceberg/java/bunnies/data/pinot-${i}.parquet`, fileFormat: 'PARQUET', recordCount: BigInt(100 * i),
  fileSizeInBytes: BigInt(1000 * i), sortOrderId: 0, splitOffsets: [4n],
}));
const MARKERS: ExportMarkers = {
  commitId: 'c-0001', sourceTable: 'events_REALTIME', segments: ['events__0__12__20261126T0000Z', 'events__0__13__20261126T0100Z', 'events__1__7__20261126T0000Z'],
  highWaterMark: '1764118800000',
};

describeFixtures('a fast append on the Java-written bunnies table', BUNNIES, (dir) => {
  const load = (v: number) => commitViewFromMetadata(parseTableMetadataJson(readFileSync(join(dir, 'metadata', `v${v}.metadata.json`), 'utf8')));
  const listBytes = (path: string) => readFileSync(join(dir, 'metadata', path.split('/').pop()!));
  const v5 = load(5);
  const PARENT = 9158179788527662767n;

  it('reads main and its 63-bit id exactly', () => {
    expect(v5.mainSnapshotId).toBe(PARENT);
    expect(v5.lastSequenceNumber).toBe(3n);
    expect(mainAncestry(v5).map((s) => s.snapshotId)).toEqual([PARENT, 6458828015811002920n, 4951213507629824583n]);
  });

  const prepared = prepareAppend({ table: v5, dataFiles: FILES, markers: MARKERS, commitUuid: '11111111-2222-4333-8444-555555555555' });
  const parent = v5.snapshots.find((s) => s.snapshotId === PARENT)!;
  const commit = buildAppendCommit({ prepared, table: v5, parentManifestList: listBytes(parent.manifestList), nowMs: 1_764_119_000_000 });

  it('writes the manifest under the metadata dir with ADDED entries of the new snapshot', async () => {
    expect(prepared.manifestPath).toBe('s3a://hyperparam-iceberg/java/bunnies/metadata/11111111-2222-4333-8444-555555555555-m0.avro');
    expect(prepared.snapshotId > 0n && prepared.snapshotId < 2n ** 63n).toBe(true);
    const { records, meta } = await avscDecode(prepared.manifestBytes, readJson(JAVA_MANIFEST_SCHEMA_PATH));
    expect(records.map((r) => [r.status, r.snapshot_id, r.sequence_number, (r.data_file as { file_path: string }).file_path])).toEqual(
      FILES.map((f) => [1, prepared.snapshotId, null, f.filePath]),
    );
    expect(JSON.parse(meta.schema!)).toMatchObject({ 'schema-id': 1, fields: expect.arrayContaining([{ id: 9, name: '__happy__', required: false, type: 'boolean' }]) });
    expect(meta['schema-id']).toBe('1');
  });

  it('lists the new manifest first and keeps every existing manifest-list row as Java wrote it', async () => {
    expect(commit.manifestListPath).toBe(`s3a://hyperparam-iceberg/java/bunnies/metadata/snap-${prepared.snapshotId}-1-11111111-2222-4333-8444-555555555555.avro`);
    const ours = await avscDecode(commit.manifestListBytes, readJson(JAVA_MANIFEST_LIST_SCHEMA_PATH));
    const java = await avscDecode(listBytes(parent.manifestList));
    expect(ours.meta).toMatchObject({ 'snapshot-id': String(prepared.snapshotId), 'parent-snapshot-id': String(PARENT), 'sequence-number': '4', 'format-version': '2' });
    expect(ours.records[0]).toMatchObject({
      manifest_path: prepared.manifestPath, manifest_length: BigInt(prepared.manifestBytes.length), content: 0, sequence_number: 4n, min_sequence_number: 4n,
      added_snapshot_id: prepared.snapshotId, added_files_count: 3, added_rows_count: 600n, existing_files_count: 0, deleted_files_count: 0,
    });
    expect(ours.records.slice(1)).toEqual(java.records);
    expect(java.records.length).toBeGreaterThan(1);
  });

  it('builds the snapshot with Java\'s summary totals and our markers', () => {
    expect(commit.sequenceNumber).toBe(4n);
    expect(commit.snapshot).toMatchObject({
      'snapshot-id': prepared.snapshotId, 'parent-snapshot-id': PARENT, 'sequence-number': 4n, 'timestamp-ms': 1_764_119_000_000,
      'manifest-list': commit.manifestListPath, 'schema-id': 1,
    });
    expect(commit.snapshot.summary).toEqual({
      operation: 'append', 'added-data-files': '3', 'added-records': '600', 'added-files-size': '6000', 'changed-partition-count': '1',
      'total-records': '622', 'total-files-size': '16274', 'total-data-files': '5', 'total-delete-files': '2', 'total-position-deletes': '6',
      'total-equality-deletes': '1',
      'pinot-export.commit-id': 'c-0001', 'pinot-export.source-table': 'events_REALTIME', 'pinot-export.segments': JSON.stringify(MARKERS.segments),
      'pinot-export.segment-count': '3', 'pinot-export.high-water-mark': '1764118800000',
    });
  });

  it('asks for the table uuid and main = parent, and serialises ids as exact bare numbers', () => {
    const body = commitRequestJson(commit.request);
    expect(body).toContain(`"snapshot-id":${PARENT}`);
    expect(body).toContain(`"parent-snapshot-id":${PARENT}`);
    const back = parse(body, undefined, (v) => BigInt(v)) as { requirements: Record<string, unknown>[]; updates: Record<string, unknown>[] };
    expect(back.requirements).toEqual([
      { type: 'assert-table-uuid', uuid: 'eee3ca77-1713-442c-8c2f-ad98d8d36a9b' },
      { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': PARENT },
    ]);
    expect(back.updates.map((u) => u.action)).toEqual(['add-snapshot', 'set-snapshot-ref']);
    expect(back.updates[1]).toEqual({ action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': prepared.snapshotId });
    // The published contract, independently of our reading of it.
    const spec = OpenApiValidator.fromFile(sharedPath('specs', 'iceberg-rest-catalog-open-api.yaml'));
    expect(spec.validateSchema('CommitTableRequest', back)).toEqual([]);
    const broken = { ...back, requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main' }] };
    expect(spec.validateSchema('CommitTableRequest', broken)).not.toEqual([]);
  });

  it('rebuilds only the list and snapshot on a moved head (409), keeping the snapshot id and manifest', () => {
    const moved: TableView = {
      ...v5, lastSequenceNumber: 7n, mainSnapshotId: 42n,
      snapshots: [...v5.snapshots, { snapshotId: 42n, parentSnapshotId: PARENT, manifestList: parent.manifestList, summary: { operation: 'append' } }],
    };
    const retry = buildAppendCommit({ prepared, table: moved, parentManifestList: listBytes(parent.manifestList), nowMs: 2, attempt: 2 });
    expect(retry.snapshotId).toBe(prepared.snapshotId);
    expect(retry.parentSnapshotId).toBe(42n);
    expect(retry.sequenceNumber).toBe(8n);
    expect(retry.manifestListPath).toContain(`snap-${prepared.snapshotId}-2-`);
    expect(retry.request.requirements[1]).toEqual({ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': 42n });
    // The parent has no totals in its summary: Java leaves them out.
    expect(Object.keys(retry.snapshot.summary as object).filter((k) => k.startsWith('total-'))).toEqual([]);
    expect(readManifestList(retry.manifestListBytes).rows[0]!.sequence_number).toBe(8n);
  });

  it('refuses a snapshot id the table already has, and a missing parent list', () => {
    const again = prepareAppend({ table: v5, dataFiles: FILES, markers: MARKERS, snapshotId: PARENT });
    expect(() => buildAppendCommit({ prepared: again, table: v5, parentManifestList: listBytes(parent.manifestList), nowMs: 1 })).toThrow(
      expect.objectContaining({ code: 'ICEBERG_COMMIT_CONFLICT' }),
    );
    expect(() => buildAppendCommit({ prepared, table: v5, nowMs: 1 })).toThrow(/manifest list of parent snapshot 9158179788527662767/);
  });

  it('starts an empty table: no parent, totals from zero, "null" parent in the list, main asserted null', async () => {
    const v1 = load(1);
    expect(v1.mainSnapshotId).toBeNull();
    const p = prepareAppend({ table: v1, dataFiles: FILES.slice(0, 1), markers: MARKERS });
    const c = buildAppendCommit({ prepared: p, table: v1, nowMs: 5 });
    expect(c.snapshot['parent-snapshot-id']).toBeUndefined();
    expect(c.sequenceNumber).toBe(1n);
    expect(c.request.requirements[1]).toEqual({ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null });
    expect(commitRequestJson(c.request)).toContain('"snapshot-id":null');
    const spec = OpenApiValidator.fromFile(sharedPath('specs', 'iceberg-rest-catalog-open-api.yaml'));
    expect(spec.validateSchema('CommitTableRequest', parse(commitRequestJson(c.request), undefined, (v) => BigInt(v)))).toEqual([]);
    expect(c.snapshot.summary).toMatchObject({ 'total-records': '100', 'total-data-files': '1', 'total-delete-files': '0' });
    const decoded = await avscDecode(c.manifestListBytes, readJson(JAVA_MANIFEST_LIST_SCHEMA_PATH));
    expect(decoded.meta['parent-snapshot-id']).toBe('null');
    expect(decoded.records).toHaveLength(1);
    expect(readManifest(p.manifestBytes).entries).toHaveLength(1);
  });
});

describe('snapshot helpers', () => {
  it('draws positive 63-bit ids avoiding used ones', () => {
    const draws = [Uint8Array.of(0xff, 0, 0, 0, 0, 0, 0, 5), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0), Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 9)];
    const id = newSnapshotId([(2n ** 63n - 1n) & 0xff00000000000005n], () => draws.shift()!);
    expect(id).toBe(9n); // first collides with a used id, second is 0, third has the sign bit cleared
    for (let i = 0; i < 50; i++) {
      const r = newSnapshotId();
      expect(r > 0n && r < 2n ** 63n).toBe(true);
    }
  });

  it('keeps the segments marker bounded: inline JSON when short, a hash otherwise', () => {
    const short = encodeSegments(['a', 'b']);
    expect(short).toBe('["a","b"]');
    const many = Array.from({ length: 1000 }, (_, i) => `events__${i % 4}__${i}__20261126T0000Z`);
    const long = encodeSegments(many);
    expect(long).toBe(`sha256:${segmentsHash(many)}`);
    expect(long.length).toBeLessThan(SEGMENTS_INLINE_MAX_CHARS);
    expect(segmentsHash([...many].reverse())).toBe(segmentsHash(many));
  });

  it('reads our markers back from the ancestry and finds committed batches by id or content', () => {
    const many = Array.from({ length: 500 }, (_, i) => `events__0__${i}__20261126T0000Z`);
    const snap = (id: bigint, parent: bigint | null, summary: Record<string, string>): SnapshotView => ({ snapshotId: id, parentSnapshotId: parent, manifestList: '', summary });
    const table = {
      mainSnapshotId: 3n,
      snapshots: [
        snap(1n, null, appendSummary(FILES, undefined, MARKERS)),
        snap(2n, 1n, { operation: 'append', 'spark.app.id': 'x' }),
        snap(3n, 2n, appendSummary(FILES, undefined, { ...MARKERS, commitId: 'c-0002', segments: many })),
        snap(4n, 3n, appendSummary(FILES, undefined, { ...MARKERS, commitId: 'c-9' })), // not on main
        snap(5n, null, appendSummary(FILES, undefined, { ...MARKERS, commitId: 'c-x', sourceTable: 'other_REALTIME' })),
      ],
    };
    const committed = committedSegments(mainAncestry(table), 'events_REALTIME');
    expect(committed.map((c) => [c.snapshotId, c.commitId, c.segmentCount, c.segments?.length])).toEqual([[3n, 'c-0002', 500, undefined], [1n, 'c-0001', 3, 3]]);
    expect(committedSegmentNames(committed)).toEqual(new Set(MARKERS.segments));
    expect(findCommittedBatch(committed, { commitId: 'c-0002', segments: [] })?.snapshotId).toBe(3n);
    expect(findCommittedBatch(committed, { commitId: 'c-new', segments: [...many].reverse() })?.snapshotId).toBe(3n);
    expect(findCommittedBatch(committed, { commitId: 'c-new', segments: many.slice(1) })).toBeUndefined();
    const broken = { mainSnapshotId: 1n, snapshots: [snap(1n, null, { ...appendSummary(FILES, undefined, MARKERS), 'pinot-export.segments': '[oops' })] };
    expect(() => committedSegments(mainAncestry(broken))).toThrow(expect.objectContaining({ code: 'ICEBERG_METADATA_INVALID', context: expect.objectContaining({ snapshotId: '1' }) }));
  });

  it('honours write.metadata.path and write.data.path', () => {
    expect(metadataDir({ location: 's3://b/t/', properties: {} })).toBe('s3://b/t/metadata');
    expect(metadataDir({ location: 's3://b/t', properties: { 'write.metadata.path': 's3://m/x/' } })).toBe('s3://m/x');
    expect(dataDir({ location: 's3://b/t', properties: {} })).toBe('s3://b/t/data');
    expect(dataDir({ location: 's3://b/t', properties: { 'write.data.path': 's3://d/y' } })).toBe('s3://d/y');
  });

  it('refuses an append with the same data file twice or no files', () => {
    const table = { formatVersion: 2, tableUuid: 'u', location: 's3://b/t', lastSequenceNumber: 0n, currentSchemaId: 0, currentSchemaJson: '{}', defaultSpecId: 0, properties: {}, mainSnapshotId: null, snapshots: [] };
    expect(() => prepareAppend({ table, dataFiles: [FILES[0]!, FILES[0]!], markers: MARKERS })).toThrow(/appears twice/);
    expect(() => prepareAppend({ table, dataFiles: [], markers: MARKERS })).toThrow(/at least one data file/);
    expect(() => prepareAppend({ table: { ...table, formatVersion: 3 }, dataFiles: FILES, markers: MARKERS })).toThrow(expect.objectContaining({ code: 'ICEBERG_TABLE_UNSUPPORTED' }));
  });
});
