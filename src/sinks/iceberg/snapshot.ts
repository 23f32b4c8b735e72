/**
 * One fast-append commit as plain data: the manifest, the manifest list, the snapshot and the CommitTable
 * request. No I/O: the caller reads the parent manifest list, uploads the two Avro files and posts the
 * request (see the commit loop). Split in two so a 409 rebuilds only what depends on the table's head:
 *
 * 1. `prepareAppend` (once per batch): snapshot id, commit UUID, manifest bytes + path. The snapshot id is kept
 *    across retries, as Java's SnapshotProducer does, so the manifest's entries stay valid.
 * 2. `buildAppendCommit` (per attempt, on the metadata just loaded): manifest list (new manifest first, then
 *    the parent's rows unchanged), snapshot JSON (sequence number = last + 1, summary with totals), request
 *    with `assert-table-uuid` + `assert-ref-snapshot-id(main)` and `add-snapshot` + `set-snapshot-ref`.
 *
 * Exactly-once markers in the summary (all strings):
 * - `pinot-export.commit-id`: the batch id the committer stored before committing.
 * - `pinot-export.source-table`: the Pinot table (with type).
 * - `pinot-export.segments`: the batch's segment names as a JSON array when that is at most
 *   SEGMENTS_INLINE_MAX_CHARS characters, else `sha256:<hex>` over the sorted names joined by "\n";
 *   `pinot-export.segment-count` always holds the number of names. (Summaries stay in every metadata.json
 *   for the life of the snapshot, so they must stay small; the hash still identifies the batch.)
 * - `pinot-export.high-water-mark`: the caller's watermark after this commit (opaque string).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { stringify } from 'lossless-json';
import { ErrorCodes, ExporterError } from '../../errors.js';
import type { AvroCodec } from './avro.js';
import type { DataFile } from './data-file.js';
import { manifestListRow, writeManifest } from './manifest.js';
import { readManifestList, writeManifestList, type ManifestFileRow } from './manifest-list.js';
import { schemaFromMetadata } from './schema.js';
import type { TableMetadata } from './table-metadata.js';

export const SUMMARY_KEYS = {
  commitId: 'pinot-export.commit-id',
  sourceTable: 'pinot-export.source-table',
  segments: 'pinot-export.segments',
  segmentCount: 'pinot-export.segment-count',
  highWaterMark: 'pinot-export.high-water-mark',
} as const;

export const SEGMENTS_INLINE_MAX_CHARS = 2048;

/** A snapshot as the table metadata lists it (ids as bigint). */
export interface SnapshotView {
  snapshotId: bigint;
  parentSnapshotId?: bigint | null;
  sequenceNumber?: bigint;
  timestampMs?: number;
  manifestList: string;
  summary: Readonly<Record<string, string>>;
}

/** What a commit needs from the table metadata (structural until table-metadata.ts provides its type). */
export interface TableView {
  formatVersion: number;
  tableUuid: string;
  location: string;
  lastSequenceNumber: bigint;
  currentSchemaId: number;
  /** The current schema's JSON text (written into the manifest header). */
  currentSchemaJson: string;
  defaultSpecId: number;
  properties: Readonly<Record<string, string>>;
  /** The snapshot `main` points at (refs.main, else current-snapshot-id; −1 means none). */
  mainSnapshotId: bigint | null;
  snapshots: readonly SnapshotView[];
}

export interface ExportMarkers {
  commitId: string;
  sourceTable: string;
  segments: readonly string[];
  highWaterMark: string;
}

export interface PreparedAppend {
  snapshotId: bigint;
  commitUuid: string;
  manifestPath: string;
  manifestBytes: Uint8Array;
  dataFiles: readonly DataFile[];
  markers: ExportMarkers;
  schemaId: number;
  specId: number;
}

export interface AppendCommit {
  snapshotId: bigint;
  parentSnapshotId: bigint | null;
  sequenceNumber: bigint;
  manifestListPath: string;
  manifestListBytes: Uint8Array;
  /** The `add-snapshot` snapshot (ids as bigint; serialise with commitRequestJson). */
  snapshot: Record<string, unknown>;
  request: CommitTableRequest;
}

export interface CommitTableRequest {
  requirements: Record<string, unknown>[];
  updates: Record<string, unknown>[];
}

function invalid(detail: string): ExporterError {
  return new ExporterError(ErrorCodes.ICEBERG_METADATA_INVALID, detail);
}

/** `write.metadata.path`, else `<location>/metadata`, without a trailing slash. */
export function metadataDir(table: Pick<TableView, 'location' | 'properties'>): string {
  const base = table.properties['write.metadata.path'] ?? `${table.location.replace(/\/+$/, '')}/metadata`;
  return base.replace(/\/+$/, '');
}

/** `write.data.path`, else `<location>/data`, without a trailing slash. */
export function dataDir(table: Pick<TableView, 'location' | 'properties'>): string {
  const base = table.properties['write.data.path'] ?? `${table.location.replace(/\/+$/, '')}/data`;
  return base.replace(/\/+$/, '');
}

/**
 * Avro codec for manifests and lists from `write.manifest.compression-codec` (Java default gzip = Avro
 * deflate): `uncompressed`/`none` → null; anything else → deflate (zstd/snappy Avro are not written here).
 */
export function manifestCodec(properties: Readonly<Record<string, string>>): AvroCodec {
  const v = properties['write.manifest.compression-codec']?.trim().toLowerCase();
  return v === 'uncompressed' || v === 'none' ? 'null' : 'deflate';
}

/** A random positive 63-bit id not in `used` (Java: random, AND Long.MAX_VALUE, retried on collision). */
export function newSnapshotId(used: Iterable<bigint> = [], random: (n: number) => Uint8Array = randomBytes): bigint {
  const taken = new Set(used);
  for (;;) {
    const b = random(8);
    const id = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0) & (2n ** 63n - 1n);
    if (id !== 0n && !taken.has(id)) return id;
  }
}

/** The summary value for a batch's segments (see the file header). */
export function encodeSegments(segments: readonly string[]): string {
  const inline = JSON.stringify(segments);
  if (inline.length <= SEGMENTS_INLINE_MAX_CHARS) return inline;
  return `sha256:${segmentsHash(segments)}`;
}

export function segmentsHash(segments: readonly string[]): string {
  return createHash('sha256').update([...segments].sort().join('\n')).digest('hex');
}

export interface PrepareAppendInput {
  table: TableView;
  dataFiles: readonly DataFile[];
  markers: ExportMarkers;
  /** Reuse these on a re-run of the same batch; fresh ones otherwise. */
  snapshotId?: bigint;
  commitUuid?: string;
}

/** Step 1: the snapshot id and the manifest of a batch. */
export function prepareAppend(input: PrepareAppendInput): PreparedAppend {
  const { table } = input;
  if (table.formatVersion !== 2) {
    throw new ExporterError(ErrorCodes.ICEBERG_TABLE_UNSUPPORTED, `format version ${table.formatVersion} is not supported; the exporter appends to format-version 2 tables`);
  }
  if (input.dataFiles.length === 0) throw new RangeError('an append needs at least one data file');
  const paths = new Set<string>();
  for (const f of input.dataFiles) {
    // A data file may be live only once in a table (spec "Scan Planning"); a batch must not repeat one.
    if (paths.has(f.filePath)) throw invalid(`data file ${f.filePath} appears twice in one append`);
    paths.add(f.filePath);
  }
  const snapshotId = input.snapshotId ?? newSnapshotId(table.snapshots.map((s) => s.snapshotId));
  const commitUuid = input.commitUuid ?? randomUUID();
  const manifestPath = `${metadataDir(table)}/${commitUuid}-m0.avro`;
  const manifestBytes = writeManifest({
    snapshotId,
    schemaJson: table.currentSchemaJson,
    schemaId: table.currentSchemaId,
    partitionSpecId: table.defaultSpecId,
    dataFiles: input.dataFiles,
    codec: manifestCodec(table.properties),
    where: manifestPath,
  });
  return {
    snapshotId, commitUuid, manifestPath, manifestBytes, dataFiles: input.dataFiles, markers: input.markers,
    schemaId: table.currentSchemaId, specId: table.defaultSpecId,
  };
}

const TOTALS: [total: string, added: string][] = [
  ['total-records', 'added-records'],
  ['total-files-size', 'added-files-size'],
  ['total-data-files', 'added-data-files'],
  ['total-delete-files', 'added-delete-files'],
  ['total-position-deletes', 'added-position-deletes'],
  ['total-equality-deletes', 'added-equality-deletes'],
];

/** Java's append summary: added-* (when > 0), changed-partition-count, totals from the parent's, our markers. */
export function appendSummary(dataFiles: readonly DataFile[], parent: SnapshotView | undefined, markers: ExportMarkers): Record<string, string> {
  const added: Record<string, bigint> = {
    'added-data-files': BigInt(dataFiles.length),
    'added-records': dataFiles.reduce((s, f) => s + f.recordCount, 0n),
    'added-files-size': dataFiles.reduce((s, f) => s + f.fileSizeInBytes, 0n),
  };
  const summary: Record<string, string> = { operation: 'append' };
  for (const [k, v] of Object.entries(added)) if (v > 0n) summary[k] = v.toString();
  summary['changed-partition-count'] = '1';
  for (const [total, add] of TOTALS) {
    // No parent: totals start at 0. A parent without the total: Java leaves it out (unknown).
    const prev = parent === undefined ? '0' : parent.summary[total];
    if (prev === undefined || !/^\d+$/.test(prev)) continue;
    summary[total] = (BigInt(prev) + (added[add] ?? 0n)).toString();
  }
  summary[SUMMARY_KEYS.commitId] = markers.commitId;
  summary[SUMMARY_KEYS.sourceTable] = markers.sourceTable;
  summary[SUMMARY_KEYS.segments] = encodeSegments(markers.segments);
  summary[SUMMARY_KEYS.segmentCount] = String(markers.segments.length);
  summary[SUMMARY_KEYS.highWaterMark] = markers.highWaterMark;
  return summary;
}

export interface BuildAppendInput {
  prepared: PreparedAppend;
  /** The table as just loaded. */
  table: TableView;
  /** The bytes of the main snapshot's manifest list (required when main has a snapshot). */
  parentManifestList?: Uint8Array;
  nowMs: number;
  /** 1 for the first attempt; part of the manifest-list name so attempts never overwrite each other. */
  attempt?: number;
}

/** Step 2: manifest list, snapshot and CommitTable request on top of the table's current `main`. */
export function buildAppendCommit(input: BuildAppendInput): AppendCommit {
  const { prepared, table } = input;
  if (table.snapshots.some((s) => s.snapshotId === prepared.snapshotId)) {
    throw new ExporterError(ErrorCodes.ICEBERG_COMMIT_CONFLICT, `snapshot id ${prepared.snapshotId} is already in the table; prepare the append again`, {
      context: { snapshotId: prepared.snapshotId.toString() },
    });
  }
  const parentId = table.mainSnapshotId === -1n ? null : table.mainSnapshotId;
  const parent = parentId === null ? undefined : table.snapshots.find((s) => s.snapshotId === parentId);
  if (parentId !== null && !parent) throw invalid(`main points at snapshot ${parentId}, which the table metadata does not list`);
  let parentRows: ManifestFileRow[] = [];
  if (parent) {
    if (!input.parentManifestList) throw new RangeError(`the manifest list of parent snapshot ${parentId} (${parent.manifestList}) is needed`);
    parentRows = readManifestList(input.parentManifestList, parent.manifestList).rows;
  }
  const sequenceNumber = table.lastSequenceNumber + 1n;
  const attempt = input.attempt ?? 1;
  const manifestListPath = `${metadataDir(table)}/snap-${prepared.snapshotId}-${attempt}-${prepared.commitUuid}.avro`;
  const newRow = manifestListRow({
    path: prepared.manifestPath,
    length: prepared.manifestBytes.length,
    partitionSpecId: prepared.specId,
    snapshotId: prepared.snapshotId,
    sequenceNumber,
    dataFiles: prepared.dataFiles,
  });
  const manifestListBytes = writeManifestList({
    snapshotId: prepared.snapshotId,
    parentSnapshotId: parentId,
    sequenceNumber,
    added: [newRow],
    parent: parentRows,
    codec: manifestCodec(table.properties),
    where: manifestListPath,
  });
  const snapshot: Record<string, unknown> = {
    'snapshot-id': prepared.snapshotId,
    ...(parentId === null ? {} : { 'parent-snapshot-id': parentId }),
    'sequence-number': sequenceNumber,
    'timestamp-ms': input.nowMs,
    'manifest-list': manifestListPath,
    summary: appendSummary(prepared.dataFiles, parent, prepared.markers),
    'schema-id': prepared.schemaId,
  };
  const request: CommitTableRequest = {
    requirements: [
      { type: 'assert-table-uuid', uuid: table.tableUuid },
      { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': parentId },
    ],
    updates: [
      { action: 'add-snapshot', snapshot },
      { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': prepared.snapshotId },
    ],
  };
  return { snapshotId: prepared.snapshotId, parentSnapshotId: parentId, sequenceNumber, manifestListPath, manifestListBytes, snapshot, request };
}

/** The request body: bigint ids as bare JSON numbers, exactly. */
export function commitRequestJson(request: CommitTableRequest): string {
  return stringify(request) as string;
}

// ---------------------------------------------------------------------------------------------------------
// Ancestry and our markers

/** `main`'s ancestry, newest first (stops at a parent the metadata no longer lists, e.g. expired). */
export function mainAncestry(table: Pick<TableView, 'mainSnapshotId' | 'snapshots'>): SnapshotView[] {
  const byId = new Map(table.snapshots.map((s) => [s.snapshotId, s]));
  const out: SnapshotView[] = [];
  const seen = new Set<bigint>();
  let id = table.mainSnapshotId === -1n ? null : table.mainSnapshotId;
  while (id !== null && id !== undefined && !seen.has(id)) {
    const s = byId.get(id);
    if (!s) break;
    out.push(s);
    seen.add(id);
    id = s.parentSnapshotId ?? null;
  }
  return out;
}

export interface CommittedBatch {
  snapshotId: bigint;
  commitId: string;
  sourceTable: string;
  /** The names when they were stored inline; undefined when only the hash was. */
  segments?: string[];
  segmentsHash?: string;
  segmentCount: number;
  highWaterMark?: string;
}

/** Our markers in `ancestry` (newest first), optionally only those of `sourceTable`. Foreign snapshots are skipped. */
export function committedSegments(ancestry: readonly SnapshotView[], sourceTable?: string): CommittedBatch[] {
  const out: CommittedBatch[] = [];
  for (const s of ancestry) {
    const commitId = s.summary[SUMMARY_KEYS.commitId];
    const table = s.summary[SUMMARY_KEYS.sourceTable];
    if (commitId === undefined || table === undefined || (sourceTable !== undefined && table !== sourceTable)) continue;
    const raw = s.summary[SUMMARY_KEYS.segments] ?? '[]';
    const batch: CommittedBatch = {
      snapshotId: s.snapshotId,
      commitId,
      sourceTable: table,
      segmentCount: Number(s.summary[SUMMARY_KEYS.segmentCount] ?? '0'),
      highWaterMark: s.summary[SUMMARY_KEYS.highWaterMark],
    };
    if (raw.startsWith('sha256:')) batch.segmentsHash = raw.slice('sha256:'.length);
    else {
      let names: unknown;
      try {
        names = JSON.parse(raw);
      } catch {
        names = undefined;
      }
      if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
        throw new ExporterError(ErrorCodes.ICEBERG_METADATA_INVALID, `snapshot ${s.snapshotId} has a malformed ${SUMMARY_KEYS.segments} value`, {
          context: { snapshotId: s.snapshotId.toString(), key: SUMMARY_KEYS.segments },
        });
      }
      batch.segments = names as string[];
      batch.segmentsHash = segmentsHash(batch.segments);
    }
    out.push(batch);
  }
  return out;
}

/** The committed batch (if any) that holds the batch `commitId` or exactly these `segments`. */
export function findCommittedBatch(committed: readonly CommittedBatch[], batch: { commitId: string; segments: readonly string[] }): CommittedBatch | undefined {
  const hash = segmentsHash(batch.segments);
  return committed.find((c) => c.commitId === batch.commitId || (c.segmentsHash === hash && c.segmentCount === batch.segments.length));
}

/** Every segment name stored inline in `committed` (hash-only batches are matched with findCommittedBatch). */
export function committedSegmentNames(committed: readonly CommittedBatch[]): Set<string> {
  const names = new Set<string>();
  for (const c of committed) for (const n of c.segments ?? []) names.add(n);
  return names;
}

/** The commit's view of parsed table metadata (table-metadata.ts). */
export function commitViewFromMetadata(md: TableMetadata): TableView {
  const schema = md.schemas.find((s) => s.schemaId === md.currentSchemaId);
  if (!schema) throw invalid(`the current schema ${md.currentSchemaId} is not in the table metadata`);
  if (md.tableUuid === undefined) throw invalid('the table metadata has no table-uuid');
  const main = md.refs.main?.snapshotId ?? md.currentSnapshotId;
  return {
    formatVersion: md.formatVersion,
    tableUuid: md.tableUuid,
    location: md.location,
    lastSequenceNumber: md.lastSequenceNumber,
    currentSchemaId: md.currentSchemaId,
    currentSchemaJson: JSON.stringify(schemaFromMetadata(schema)),
    defaultSpecId: md.defaultSpecId,
    properties: md.properties,
    mainSnapshotId: main === undefined || main === -1n ? null : main,
    snapshots: md.snapshots.map((s) => ({
      snapshotId: s.snapshotId,
      parentSnapshotId: s.parentSnapshotId ?? null,
      sequenceNumber: s.sequenceNumber,
      timestampMs: s.timestampMs,
      // v1 snapshots with inline manifests have no list; a v2 append never uses them as parent.
      manifestList: s.manifestList ?? '',
      summary: s.summary,
    })),
  };
}
