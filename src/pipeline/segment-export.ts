/**
 * One Pinot segment → one Parquet file: what the convert command and the export executor run. Adds what only
 * the segment knows to the batch-level stage (streams.ts): the file's key-value metadata, the bytes per row
 * that size the row groups, a first pass over the JSON columns when json.maxDepth shreds them (unless the
 * caller gives their shapes, e.g. from an Iceberg table's structs), and reading
 * only the columns the file will hold.
 */
import { DataType as ArrowTypes, type RecordBatch } from 'apache-arrow';
import { availableParallelism } from 'node:os';
import { setImmediate } from 'node:timers/promises';
import { ConfigError, ErrorCodes, ExporterError } from '../errors.js';
import { parseCreationMeta } from '../sources/pinot/creation-meta.js';
import type { SegmentReader } from '../sources/segment-reader.js';
import { concatBytes } from './concat-bytes.js';
import { ColumnEncoderPool, columnPoolAvailable } from './direct/column-pool.js';
import type { EncodedChunk } from './direct/column-chunk.js';
import { ParquetFileWriter, columnPieces, pieceableColumns } from './direct/file-writer.js';
import { ParquetError, ParquetErrorCodes } from './parquet-error.js';
import { directWriterSupports } from './direct/parquet-schema.js';
import { rowsPerRowGroup, type ParquetFileSummary, type RowGroupSummary } from './encoder.js';
import { textsOf } from './arrow-data.js';
import { JsonShapeInference, type JsonShape } from './json-shredding.js';
import { PARQUET_KEYS } from './parquet-options.js';
import type { ParquetSchemaPlan } from './schema-mapping.js';
import { segmentSchemaJson } from './table-schema.js';
import { DIRECT_CREATED_BY } from './version.js';
import { planFor, toParquet, type ParquetStageOptions } from './streams.js';

/** Key-value metadata keys of every file we write. */
export const FILE_METADATA_KEYS = {
  table: 'pinot.table.name',
  segment: 'pinot.segment.name',
  crc: 'pinot.segment.crc',
  creationTime: 'pinot.segment.creationTimeMs',
  startTime: 'pinot.segment.startTime',
  endTime: 'pinot.segment.endTime',
  timeUnit: 'pinot.segment.timeUnit',
  timeColumn: 'pinot.segment.timeColumn',
  totalDocs: 'pinot.segment.totalDocs',
  schema: 'pinot.schema',
} as const;

export type SegmentToParquetOptions = Omit<ParquetStageOptions, 'sourceSchema' | 'bytesPerRow' | 'segmentName'> & {
  signal?: AbortSignal;
  /** Reader batch size of the parquet-wasm writer (default: 65,536, or the rows per row group when smaller). */
  batchRows?: number;
  legacyPadding?: 'refuse' | 'strip';
  /** Called as rows are converted: rows read so far and row groups completed. */
  onProgress?: (progress: { rows: number; rowGroups: number }) => void;
  /** Memory the direct writer may keep whole Pinot dictionaries in (default: the reader's). */
  dictionaryBudgetBytes?: number;
  /**
   * Threads encoding the direct writer's column chunks (default: `parquet.writerThreads`, else 1 = in process;
   * at most the available cores). Without the compiled worker (columnPoolAvailable()) everything is encoded in
   * process, and so are segments under 200,000 docs unless this option asks for threads explicitly.
   */
  encoderThreads?: number;
};

/** The file's key-value metadata: table, segment, CRC, creation and start/end time, the Pinot schema. */
export function segmentFileMetadata(reader: SegmentReader, schemaJson: unknown): Map<string, string> {
  const m = reader.metadata;
  const kv = new Map<string, string>();
  const put = (k: string, v: unknown): void => {
    if (v !== undefined && v !== null) kv.set(k, String(v));
  };
  put(FILE_METADATA_KEYS.table, m.tableName);
  put(FILE_METADATA_KEYS.segment, m.name);
  let crc = m.crc;
  let created = m.creationTimeMs;
  if (reader.files.has('creation.meta')) {
    const r = reader.files.open('creation.meta');
    const meta = parseCreationMeta(r.read(0, r.length));
    crc ??= meta.crc;
    created ??= meta.creationTimeMs;
  }
  put(FILE_METADATA_KEYS.crc, crc);
  put(FILE_METADATA_KEYS.creationTime, created);
  put(FILE_METADATA_KEYS.startTime, m.startTime);
  put(FILE_METADATA_KEYS.endTime, m.endTime);
  put(FILE_METADATA_KEYS.timeUnit, m.timeUnit);
  put(FILE_METADATA_KEYS.timeColumn, m.timeColumn);
  put(FILE_METADATA_KEYS.totalDocs, reader.segment.exportDocs);
  kv.set(FILE_METADATA_KEYS.schema, JSON.stringify(schemaJson));
  return kv;
}

/** The segment's index bytes (forward index, dictionary, null vector) of `columns` per exported doc. */
export function segmentBytesPerRow(reader: SegmentReader, columns: readonly string[]): number {
  const docs = reader.segment.exportDocs;
  if (docs === 0) return 0;
  let bytes = 0;
  for (const c of columns) bytes += columnIndexBytes(reader, c);
  return bytes / docs;
}

/** The segment's index bytes (forward index, dictionary, null vector) of one column. */
function columnIndexBytes(reader: SegmentReader, column: string): number {
  let bytes = 0;
  for (const index of ['forward_index', 'dictionary', 'nullvalue_vector'] as const) bytes += reader.segment.layout.indexRange(column, index)?.length ?? 0;
  return bytes;
}

/** Shapes of the SV JSON `columns` over all docs; a dictionary column's shape comes from its dictionary. */
export async function inferJsonShapes(reader: SegmentReader, columns: readonly string[], maxDepth: number, batchRows?: number): Promise<Map<string, JsonShape>> {
  const shapes = new Map<string, JsonShape>();
  if (columns.length === 0) return shapes;
  const inference = columns.map(() => new JsonShapeInference(maxDepth));
  const seenDictionaries = new Set<unknown>();
  for await (const batch of reader.batches({ columns, keepDictionaries: true, batchRows })) {
    columns.forEach((_, i) => {
      const data = batch.getChildAt(i)!.data[0]!;
      if (ArrowTypes.isDictionary(data.type)) {
        if (seenDictionaries.has(data.dictionary)) return;
        seenDictionaries.add(data.dictionary);
        for (const t of textsOf(data.dictionary!.data[0]!)) inference[i]!.add(t);
      } else {
        for (const t of textsOf(data)) inference[i]!.add(t);
      }
    });
  }
  columns.forEach((c, i) => shapes.set(c, inference[i]!.result()));
  return shapes;
}

/**
 * Reader batches of at most 65,536 rows and about an eighth of a row group: the writer checks
 * rowGroupSizeBytes only between batches, so smaller batches let that cap cut a group the rows estimate
 * made too big, overshooting by at most one batch.
 */
export function defaultBatchRows(rowsPerGroup: number): number {
  return Math.min(65_536, Math.max(1024, Math.ceil(rowsPerGroup / 8)));
}

/** The Parquet file of one segment, one chunk per row group; returns its summary. */
export async function* segmentToParquet(reader: SegmentReader, options: SegmentToParquetOptions): AsyncGenerator<Uint8Array, ParquetFileSummary, undefined> {
  try {
    return yield* convertSegment(reader, options);
  } catch (err) {
    throw err instanceof ExporterError ? err.addContext({ segment: reader.name }) : err;
  }
}

async function* convertSegment(reader: SegmentReader, options: SegmentToParquetOptions): AsyncGenerator<Uint8Array, ParquetFileSummary, undefined> {
  const { signal, batchRows, legacyPadding, onProgress, dictionaryBudgetBytes, encoderThreads, ...stage } = options;
  const { jsonShapes: given, ...rest } = stage;
  let jsonShapes: Map<string, JsonShape> | undefined = given === undefined ? undefined : new Map(given);
  const maxDepth = options.parquet.jsonMaxDepth;
  if (maxDepth !== undefined) {
    // Given shapes (a table schema's structs) win; only the other JSON columns need a pass over the values.
    const wanted = options.tableSchema ? new Set(options.tableSchema.columns.filter((c) => c.dataType === 'JSON' && c.singleValue).map((c) => c.name)) : undefined;
    const jsonColumns = reader.segment.columns()
      .filter((c) => c.dataType === 'JSON' && c.singleValue && (wanted === undefined || wanted.has(c.name)) && !given?.has(c.name))
      .map((c) => c.name);
    const inferred = await inferJsonShapes(reader, jsonColumns, maxDepth, batchRows);
    jsonShapes = new Map([...inferred, ...(given ?? [])]);
  }
  const choice = options.parquet.writer ?? 'auto';
  if (choice !== 'parquet-wasm' && options.encoder === undefined) {
    const sourceSchema = reader.schema({ keepDictionaries: 'all' });
    const base: ParquetStageOptions = { ...rest, sourceSchema, segmentName: reader.name, jsonShapes };
    const plan = planFor(base, { maxShippedDictionary: Infinity });
    const support = directWriterSupports(plan.schema);
    if (support.ok) {
      return yield* directSegment(reader, plan, base, { signal, legacyPadding, onProgress, dictionaryBudgetBytes, encoderThreads });
    }
    if (choice === 'direct') {
      throw new ConfigError(ErrorCodes.CONFIG_INVALID, `${PARQUET_KEYS.writer} is direct, but ${support.reason}; use auto or parquet-wasm`, {
        context: { key: PARQUET_KEYS.writer },
      });
    }
  }
  const sourceSchema = reader.schema({ keepDictionaries: true });
  const base: ParquetStageOptions = { ...rest, sourceSchema, segmentName: reader.name, jsonShapes };
  const plan = planFor(base);
  const { rows, keyValueMetadata, bytesPerRow } = fileLayout(reader, plan, base);
  const batches = new ProgressBatches(reader.batches({
    columns: plan.sourceColumns,
    keepDictionaries: true,
    batchRows: batchRows ?? defaultBatchRows(rows),
    legacyPadding,
  }), onProgress);
  const out = toParquet(batches.batches, { ...base, bytesPerRow, rowsPerRowGroup: rows, keyValueMetadata, signal }, plan);
  for (;;) {
    const next = await out.next();
    if (next.done) return next.value;
    batches.rowGroups++;
    yield next.value;
  }
}

/** Rows per row group, key-value metadata and bytes per row of the file, from the segment and the plan. */
function fileLayout(reader: SegmentReader, plan: ParquetSchemaPlan, options: ParquetStageOptions): { rows: number; keyValueMetadata: Map<string, string>; bytesPerRow: number } {
  const bytesPerRow = segmentBytesPerRow(reader, plan.sourceColumns);
  const rows = options.rowsPerRowGroup ?? rowsPerRowGroup(options.parquet.rowGroupSizeBytes, bytesPerRow);
  const schemaJson = options.tableSchema?.json ?? segmentSchemaJson(reader.metadata, reader.segment.columns(plan.sourceColumns));
  const keyValueMetadata = new Map([...segmentFileMetadata(reader, schemaJson), ...(options.keyValueMetadata ?? [])]);
  return { rows, keyValueMetadata, bytesPerRow };
}

/** Batches with progress reported as they are pulled; the caller counts `rowGroups` as they come out. */
class ProgressBatches {
  rowGroups = 0;
  readonly batches: AsyncGenerator<RecordBatch>;

  constructor(source: AsyncIterable<RecordBatch>, onProgress: SegmentToParquetOptions['onProgress']) {
    this.batches = this.pull(source, onProgress);
  }

  private async *pull(source: AsyncIterable<RecordBatch>, onProgress: SegmentToParquetOptions['onProgress']): AsyncGenerator<RecordBatch> {
    let rows = 0;
    for await (const batch of source) {
      rows += batch.numRows;
      onProgress?.({ rows, rowGroups: this.rowGroups });
      yield batch;
    }
  }
}

/** Segments with fewer docs are encoded in process: starting a worker costs about 0.4 s of CPU (module load, segment open). */
const POOL_MIN_DOCS = 200_000;

/**
 * The direct writer: per row group, per column, the column's docs as one Arrow Data (dictionary columns with
 * only the entries those docs use), converted by the plan, encoded into pages and handed on at once. Holds one
 * column chunk at a time, never a whole dictionary beyond the reader's budget. With `encoderThreads` > 1 the
 * chunks are read, converted and encoded on worker threads (direct/column-pool.ts), byte-identical, while this
 * thread only places them in order; every column of a row group is asked for at once so a big column does not
 * leave a worker idle (what waits is compressed pages: at most the compressed row group).
 */
async function* directSegment(
  reader: SegmentReader, plan: ParquetSchemaPlan, options: ParquetStageOptions,
  run: Pick<SegmentToParquetOptions, 'signal' | 'legacyPadding' | 'onProgress' | 'dictionaryBudgetBytes' | 'encoderThreads'>,
): AsyncGenerator<Uint8Array, ParquetFileSummary, undefined> {
  for (const column of plan.dropped) options.onWarning?.(`column ${column} is in the segment but not in the table schema: not written`);
  const { rows: rowsPerGroup, keyValueMetadata, bytesPerRow } = fileLayout(reader, plan, options);
  const total = reader.segment.exportDocs;
  const dictionaryColumns = plan.dictionaryColumns.concat(plan.nestedDictionary ? plan.columns.filter((c) => !c.singleValue).map((c) => c.name) : []);
  const threads = Math.min(run.encoderThreads ?? options.parquet.writerThreads ?? 1, availableParallelism());
  const pool = threads > 1 && (run.encoderThreads !== undefined || total >= POOL_MIN_DOCS) && columnPoolAvailable()
    ? await ColumnEncoderPool.start({
      segmentDir: reader.dir,
      plan: { parquet: options.parquet, target: options.target, timestampWithoutZone: options.timestampWithoutZone, tableSchema: options.tableSchema, jsonShapes: options.jsonShapes },
      legacyPadding: run.legacyPadding,
      dictionaryBudgetBytes: run.dictionaryBudgetBytes,
      writer: { codec: options.parquet.compressionCodec, pageSizeBytes: options.parquet.pageSizeBytes, dictionaryColumns, jsonPaths: plan.jsonPaths },
      threads,
    })
    : undefined;
  try {
    if (pool !== undefined && pool.columns.join('\0') !== plan.columns.map((c) => c.name).join('\0')) {
      throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, `the column encoder workers planned columns ${pool.columns.join(', ')}, this thread ${plan.columns.map((c) => c.name).join(', ')}`);
    }
    const chunks = pool === undefined ? reader.columnChunks({ columns: plan.sourceColumns, legacyPadding: run.legacyPadding, dictionaryBudgetBytes: run.dictionaryBudgetBytes }) : undefined;
    // Raw (and BOOLEAN) single-value columns are written PLAIN: read and encoded a piece at a time, so their
    // values (e.g. 1.6M JSON texts) are never all in memory at once.
    const pieceable = chunks === undefined ? new Set<string>() : pieceableColumns(plan.columns, chunks.schema);
    const writer = new ParquetFileWriter(plan.schema, {
      codec: options.parquet.compressionCodec,
      pageSizeBytes: options.parquet.pageSizeBytes,
      dictionaryColumns,
      jsonPaths: plan.jsonPaths,
      keyValueMetadata,
      createdBy: DIRECT_CREATED_BY,
    });
    const bySize = plan.columns.map((c, i) => ({ i, bytes: c.inSource ? columnIndexBytes(reader, c.name) : 0 }))
      .sort((x, y) => y.bytes - x.bytes).map((x) => x.i);
    const rowGroups: RowGroupSummary[] = [];
    // rowGroupSizeBytes also caps what a group really encodes to: the first group is sized by the segment's bytes
    // per row, later ones by what the groups before them measured, never beyond rowsPerGroup.
    const cap = options.parquet.rowGroupSizeBytes;
    let next = Math.min(rowsPerGroup, rowsPerRowGroup(cap, bytesPerRow));
    let written = 0;
    let writtenBytes = 0;
    yield writer.start();
    for (let start = 0; start < total; start += next) {
      if (written > 0 && writtenBytes > 0) next = Math.min(rowsPerGroup, rowsPerRowGroup(cap, writtenBytes / written));
      const end = Math.min(total, start + next);
      writer.beginRowGroup(end - start);
      if (pool !== undefined) {
        // Largest columns first (the usual longest-job-first balance), a few jobs ahead so no worker waits for
        // this thread; each chunk goes out as soon as it is done, so finished chunks never pile up here.
        const pending = new Map<number, Promise<{ index: number; chunk: EncodedChunk }>>();
        let launched = 0;
        let done = 0;
        const launch = (): void => {
          while (pending.size < pool.threads + 1 && launched < bySize.length) {
            const index = bySize[launched++]!;
            const job = pool.encode(index, start, end).then((chunk) => ({ index, chunk }));
            job.catch(() => undefined); // awaited through the race below; a failure is never unhandled
            pending.set(index, job);
          }
        };
        launch();
        while (pending.size > 0) {
          run.signal?.throwIfAborted();
          const { index, chunk } = await Promise.race(pending.values());
          run.signal?.throwIfAborted();
          pending.delete(index);
          launch();
          const pages = writer.addEncodedColumn(index, chunk);
          run.onProgress?.({ rows: start + Math.floor(((end - start) * ++done) / plan.columns.length), rowGroups: rowGroups.length });
          yield concatBytes(pages);
        }
      } else {
        for (let i = 0; i < plan.columns.length; i++) {
          run.signal?.throwIfAborted();
          const column = plan.columns[i]!;
          const pages = pieceable.has(column.name)
            ? writer.writeColumnPieces(i, columnPieces(start, end, (a, b) => plan.convertColumn(i, chunks!.read(column.name, a, b), b - a, a)))
            : writer.writeColumn(i, plan.convertColumn(i, column.inSource ? chunks!.read(column.name, start, end) : undefined, end - start, start));
          // Rows "read" advance column by column: the group's rows in proportion to the columns done.
          run.onProgress?.({ rows: start + Math.floor(((end - start) * (i + 1)) / plan.columns.length), rowGroups: rowGroups.length });
          // One chunk per column chunk, not one per page: the consumer's write (a file, an upload part) then runs
          // while the next column is encoded. Page by page, each page waited for the one before it to be written
          // (a sink takes one write at a time and this thread is busy between column chunks): 10.6M rows spent
          // ~1.5 s of 22 waiting on 1,902 writes; the copy costs ~0.4 s of profile.
          yield concatBytes(pages);
          // Encoding is synchronous: one turn of the event loop per column chunk keeps timers, sockets (the
          // daemon's /metrics) and native finalizers running; without it a consumer that does no I/O of its
          // own would let the compressors' freed page buffers pile up until the file ends (1.7 GB at 10M rows).
          await setImmediate();
        }
      }
      const group = writer.endRowGroup();
      rowGroups.push(group);
      written += group.rows;
      writtenBytes += group.bytes;
      run.onProgress?.({ rows: end, rowGroups: rowGroups.length });
    }
    const footer = writer.finish();
    yield footer;
    return { rows: total, bytes: writer.position, rowsPerRowGroup: rowsPerGroup, rowGroups };
  } finally {
    // Also on failure, abort or an early return() of the consumer: workers end and close their files.
    await pool?.close();
  }
}
