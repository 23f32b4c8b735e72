/**
 * The iceberg-rest target: each export task writes its segment as one Parquet data file under the table's data
 * location and stages its Iceberg DataFile in the state store (`TableState.iceberg.staged`) instead of
 * completing; the leader's `commit` hook (iceberg-commit.ts) appends staged files in batches, exactly once.
 *
 * - First use: `/v1/config` + LoadTable (vended credentials). Refused up front, naming the table and column:
 *   a partitioned table, a non-Parquet default format, a format version other than 2, a required column the
 *   segment cannot fill, a type the segment cannot write (schema.ts `planIcebergWrite`).
 * - The file: field ids from the table schema on every element, MICROS timestamps (UTC-adjusted for
 *   `timestamptz`, not for `timestamp`), JSON struct columns in the table's shape, decimals per
 *   fileFormat.parquet.decimal.*, named `<segment>-<hash>.parquet` where the hash covers the segment CRC, the
 *   table (uuid, schema id) and the Parquet settings — never a commit — so a takeover rewrites the same object.
 * - Storage: our S3 sink with the catalog's (vended, refreshed) credentials for s3:// locations, the local
 *   sink for file:// ones; both publish atomically.
 * - The DataFile (metrics, bounds) comes from the footer of the bytes written, not from a re-read.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorCodes, ExporterError } from '../errors.js';
import { unknownJsonKeyHandler } from '../pipeline/json-unknown-keys.js';
import { byteDecidingOptions, type ParquetOptions } from '../pipeline/parquet-options.js';
import { FILE_METADATA_KEYS, segmentFileMetadata, segmentToParquet } from '../pipeline/segment-export.js';
import { WRITER_BUILDS } from '../pipeline/version.js';
import type { CatalogSettings } from '../sinks/iceberg/catalog-config.js';
import { s3CredentialsForTable } from '../sinks/iceberg/credentials.js';
import { dataFileFromParquet, dataFileToJson } from '../sinks/iceberg/data-file.js';
import { IcebergRestClient, tableName, type LoadTableResult, type TableIdent } from '../sinks/iceberg/rest-client.js';
import { checkTableWritable, icebergSchemaJson, planIcebergWrite, tableViewFromMetadata, type IcebergWritePlan } from '../sinks/iceberg/schema.js';
import { dataLocation } from '../sinks/iceberg/table-metadata.js';
import type { Sink } from '../sinks/sink.js';
import type { SegmentReader } from '../sources/segment-reader.js';
import { icebergEmitRoom, stagedFileOf, stageFile } from '../state/iceberg-state.js';
import type { TableState, TaskRecord } from '../state/records.js';
import type { StateStore } from '../state/store.js';
import { DEFAULT_COMMIT_THRESHOLD, DEFAULT_MAX_COMMIT_WAIT_MS } from './committer.js';
import type { ExportEvents } from './events.js';
import type { ExportTarget, ExportTaskContext, TaskExportResult } from './export-target.js';
import { IcebergCommitLoop, type CommitCycleResult, type CommitStep } from './iceberg-commit.js';
import { isS3Location, localIO, s3TableIO, type TableIO } from './iceberg-io.js';

export type IcebergStep = 'uploaded' | CommitStep;

export interface IcebergTargetOptions {
  store: StateStore;
  /** State table (name with type), e.g. `events_REALTIME`. */
  table: string;
  /** Pinot table recorded in snapshot markers; default `table`. */
  sourceTable?: string;
  /** Iceberg table. */
  ident: TableIdent;
  /** Catalog settings (`catalog.iceberg-rest.*`), or a ready client. */
  catalog: CatalogSettings | IcebergRestClient;
  parquet: ParquetOptions;
  commitThreshold?: number;
  maxCommitWaitMs?: number;
  /** This instance's id. */
  owner: string;
  events?: ExportEvents;
  /** Table file access; default: local for file://, S3 with catalog credentials for s3://. */
  io?: TableIO;
  /** Reload the table for new tasks after this long (schema changes), default 60 s. */
  tableTtlMs?: number;
  commitAttempts?: number;
  commitBackoff?: { baseMs: number; maxMs: number };
  now?: () => number;
  /** Observation points (crash tests); awaited. */
  observe?: (step: IcebergStep, detail: Record<string, unknown>) => void | Promise<void>;
}

interface Loaded {
  result: LoadTableResult;
  atMs: number;
  io: TableIO;
}

export class IcebergTarget implements ExportTarget {
  readonly kind = 'iceberg-rest' as const;
  private readonly client: IcebergRestClient;
  private readonly now: () => number;
  private loaded: Promise<Loaded> | undefined;
  private readonly ios = new Set<TableIO>();
  private eligible = 0;
  private readonly loop: IcebergCommitLoop;

  constructor(private readonly o: IcebergTargetOptions) {
    this.client = o.catalog instanceof IcebergRestClient ? o.catalog : new IcebergRestClient(o.catalog);
    this.now = o.now ?? Date.now;
    this.loop = new IcebergCommitLoop({
      store: o.store, table: o.table, sourceTable: o.sourceTable ?? o.table, client: this.client, ident: o.ident,
      io: lazyIO(() => this.table().then((t) => t.io)),
      committer: { commitThreshold: this.threshold, maxCommitWaitMs: o.maxCommitWaitMs ?? DEFAULT_MAX_COMMIT_WAIT_MS },
      owner: o.owner, eligibleSegments: () => this.eligible, now: this.now,
      ...(o.events === undefined ? {} : { events: o.events }),
      ...(o.commitAttempts === undefined ? {} : { maxAttempts: o.commitAttempts }),
      ...(o.commitBackoff === undefined ? {} : { backoff: o.commitBackoff }),
      ...(o.observe === undefined ? {} : { observe: o.observe }),
    });
  }

  get threshold(): number {
    return this.o.commitThreshold ?? DEFAULT_COMMIT_THRESHOLD;
  }

  get destination(): string {
    return `iceberg-rest ${tableName(this.o.ident)}`;
  }

  /** The generator's cap for this table (committer.ts row 4): new tasks ≤ threshold − staged − in flight. */
  emitRoom(state: TableState | undefined): number {
    return icebergEmitRoom(state, this.threshold);
  }

  /** Segments eligible for a task but not tasked yet (the daemon's last listing); the committer's "eligible". */
  setEligibleSegments(count: number): void {
    this.eligible = Math.max(0, count);
  }

  async check(): Promise<void> {
    await this.client.loadConfig();
    const t = await this.table(true);
    // The table must be writable at all (partitioned / format / version), whatever the segment holds.
    const view = tableViewFromMetadata(t.result.metadata, tableName(this.o.ident));
    checkTableWritable(view);
  }

  async exportTask(task: TaskRecord, ctx: ExportTaskContext): Promise<TaskExportResult> {
    const { reader } = ctx;
    // A task re-run after its file was staged (operator retry): keep the staged file, it may be in a batch.
    const state = (await this.o.store.read(this.o.table))?.value;
    const already = state === undefined ? undefined : stagedFileOf(state, task.segment);
    if (already !== undefined) {
      const file = { path: already.path, segment: already.segment, recordCount: already.recordCount, fileSizeBytes: already.fileSizeBytes, ...(already.dataFile === undefined ? {} : { dataFile: already.dataFile }) };
      return { rows: already.recordCount, bytes: already.fileSizeBytes, files: [already.path], reused: true, record: (s, t, owner, nowMs) => stageFile(s, t, owner, nowMs, file) };
    }
    const loaded = await this.table();
    const md = loaded.result.metadata;
    const label = tableName(this.o.ident);
    const plan = this.plan(loaded, reader);
    for (const w of plan.warnings) ctx.warn(w);
    const dir = dataLocation(md);
    const name = `${reader.name}-${this.fileHash(loaded, reader)}.parquet`;
    const uri = `${dir}/${name}`;
    const sink = await loaded.io.sinkFor(dir);
    const tail = new TailKeeper();
    const bytes = segmentToParquet(reader, {
      parquet: this.o.parquet, target: 'iceberg', tableSchema: plan.tableSchema, fieldIds: plan.fieldIds, signal: ctx.signal,
      // Struct columns take the table's shape, not one inferred from the values; keys it lacks per unknownKeysBehavior.
      jsonShapes: plan.jsonShapes,
      onUnknownJsonKey: unknownJsonKeyHandler({
        behavior: plan.jsonUnknownKeys, warn: (m) => ctx.warn(m), code: ErrorCodes.ICEBERG_SCHEMA_MISMATCH, context: { table: label }, owner: `Iceberg table ${label}`,
      }),
      timestampWithoutZone: plan.timestampWithoutZone,
      // As Java writers do: readers map field ids to names with it.
      keyValueMetadata: new Map([['iceberg.schema', icebergSchemaJson(tableViewFromMetadata(md, label).schema)]]),
      onWarning: (m) => ctx.warn(m),
    });
    const meta = { segment: reader.name, crc: segmentFileMetadata(reader, null).get(FILE_METADATA_KEYS.crc), rows: reader.segment.exportDocs };
    const writer = sink.open(name, meta, { force: true });
    try {
      await pipeline(Readable.from(tail.track(bytes), { objectMode: false, highWaterMark: 1 }), writer, { signal: ctx.signal });
    } catch (err) {
      throw await writer.published.then(() => err, (own: unknown) => own);
    }
    const published = await writer.published;
    await this.o.observe?.('uploaded', { segment: reader.name, uri });
    const schema = tableViewFromMetadata(md, label).schema;
    const dataFile = dataFileFromParquet({
      filePath: uri, fileSizeInBytes: published.bytes, footer: tail.bytes(), footerIsTail: true, schema, properties: md.properties,
      sortOrderId: md.defaultSortOrderId ?? 0,
    });
    const rows = Number(dataFile.recordCount);
    if (rows !== reader.segment.exportDocs) {
      throw new ExporterError(ErrorCodes.PARQUET_WRITE_FAILED, `data file ${uri} holds ${rows} rows, the segment ${reader.segment.exportDocs}`, { context: { segment: reader.name, uri } });
    }
    const file = { path: uri, segment: reader.name, recordCount: rows, fileSizeBytes: published.bytes, dataFile: dataFileToJson(dataFile) };
    return {
      rows, bytes: published.bytes, files: [uri], reused: false,
      record: (s, t, owner, nowMs) => stageFile(s, t, owner, nowMs, file),
    };
  }

  /** Leader only, after each generator cycle: commit staged files per the committer's decision. */
  async commit(signal: AbortSignal): Promise<void> {
    await this.commitNow(signal);
  }

  /** `commit` with its result (tests, `--once` reporting). */
  commitNow(signal?: AbortSignal): Promise<CommitCycleResult> {
    return this.loop.run(signal);
  }

  async close(): Promise<void> {
    const loaded = this.loaded;
    this.loaded = undefined;
    await loaded?.catch(() => undefined);
    await Promise.all([...this.ios].map((io) => io.close().catch(() => undefined)));
    this.ios.clear();
  }

  private plan(loaded: Loaded, reader: SegmentReader): IcebergWritePlan {
    const view = tableViewFromMetadata(loaded.result.metadata, tableName(this.o.ident));
    const columns = reader.segment.columns().map((c) => ({ name: c.name, dataType: c.dataType, singleValue: c.singleValue }));
    try {
      return planIcebergWrite(view, columns, {
        ...(this.o.parquet.jsonMaxDepth === undefined ? {} : { jsonMaxDepth: this.o.parquet.jsonMaxDepth }),
        ...(this.o.parquet.decimal === undefined ? {} : { decimal: this.o.parquet.decimal }),
        ...(this.o.parquet.jsonUnknownKeys === undefined ? {} : { jsonUnknownKeys: this.o.parquet.jsonUnknownKeys }),
      });
    } catch (err) {
      throw err instanceof ExporterError ? err.addContext({ segment: reader.name }) : err;
    }
  }

  /** What decides the file's bytes, apart from the segment data: never a commit or snapshot id. */
  private fileHash(loaded: Loaded, reader: SegmentReader): string {
    const md = loaded.result.metadata;
    const basis = JSON.stringify({
      crc: segmentFileMetadata(reader, null).get(FILE_METADATA_KEYS.crc) ?? null, docs: reader.segment.exportDocs,
      table: md.tableUuid ?? md.location, schema: md.currentSchemaId, parquet: byteDecidingOptions(this.o.parquet), createdBy: WRITER_BUILDS,
    });
    return createHash('sha256').update(basis).digest('hex').slice(0, 16);
  }

  /** The loaded table (cached for tableTtlMs) and the IO for its location. */
  private table(fresh = false): Promise<Loaded> {
    const ttl = this.o.tableTtlMs ?? 60_000;
    const current = this.loaded;
    if (current !== undefined && !fresh) {
      return current.then((l) => (this.now() - l.atMs < ttl ? l : this.reloadTable()));
    }
    return this.reloadTable();
  }

  private reloadTable(): Promise<Loaded> {
    const previous = this.loaded;
    const next = (async (): Promise<Loaded> => {
      const result = await this.client.loadTable(this.o.ident);
      const prev = await previous?.catch(() => undefined);
      const io = prev?.io ?? this.o.io ?? await this.ioFor(result);
      return { result, atMs: this.now(), io };
    })();
    this.loaded = next.catch((err: unknown) => {
      this.loaded = undefined;
      throw err;
    });
    return this.loaded;
  }

  private async ioFor(result: LoadTableResult): Promise<TableIO> {
    const location = dataLocation(result.metadata);
    if (!isS3Location(location)) return localIO;
    const settings = this.o.catalog instanceof IcebergRestClient ? undefined : this.o.catalog;
    const { access, provider } = s3CredentialsForTable({
      client: this.client, ident: this.o.ident, path: location, loaded: result,
      ...(settings === undefined ? {} : { overrides: settings.s3 }),
    });
    const io = await s3TableIO(access, provider);
    this.ios.add(io);
    return io;
  }
}

/** Keeps the last bytes of a stream (the Parquet footer and trailer), whatever the chunking. */
class TailKeeper {
  private chunks: Uint8Array[] = [];
  private size = 0;

  constructor(private readonly keep = 16 * 1024 * 1024) {}

  async *track(source: AsyncGenerator<Uint8Array, unknown, undefined>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.chunks.push(chunk);
      this.size += chunk.byteLength;
      while (this.chunks.length > 1 && this.size - this.chunks[0]!.byteLength >= this.keep) this.size -= this.chunks.shift()!.byteLength;
      yield chunk;
    }
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}

/** A TableIO resolved on first use (the commit loop is built before the table is loaded). */
function lazyIO(get: () => Promise<TableIO>): TableIO {
  return {
    sinkFor: async (dir): Promise<Sink> => (await get()).sinkFor(dir),
    read: async (uri) => (await get()).read(uri),
    write: async (uri, bytes) => (await get()).write(uri, bytes),
    async close() {},
  };
}
