/**
 * One Pinot segment → one Parquet file: what the convert command and the export executor run. Adds what only
 * the segment knows to the batch-level stage (streams.ts): the file's key-value metadata, the bytes per row
 * that size the row groups, a first pass over the JSON columns when json.maxDepth shreds them (unless the
 * caller gives their shapes, e.g. from an Iceberg table's structs), and reading
 * only the columns the file will hold.
 */
import { DataType as ArrowTypes } from 'apache-arrow';
import { ExporterError } from '../errors.js';
import { parseCreationMeta } from '../sources/pinot/creation-meta.js';
import type { SegmentReader } from '../sources/segment-reader.js';
import { rowsPerRowGroup, type ParquetFileSummary } from './encoder.js';
import { textsOf } from './arrow-data.js';
import { JsonShapeInference, type JsonShape } from './json-shredding.js';
import { segmentSchemaJson } from './table-schema.js';
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
  /** Reader batch size (default: 65,536, or the rows per row group when smaller). */
  batchRows?: number;
  legacyPadding?: 'refuse' | 'strip';
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
  for (const c of columns) {
    for (const index of ['forward_index', 'dictionary', 'nullvalue_vector'] as const) {
      bytes += reader.segment.layout.indexRange(c, index)?.length ?? 0;
    }
  }
  return bytes / docs;
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
  const { signal, batchRows, legacyPadding, ...stage } = options;
  const sourceSchema = reader.schema({ keepDictionaries: true });
  const { jsonShapes: given, ...rest } = stage;
  const base: ParquetStageOptions = { ...rest, sourceSchema, segmentName: reader.name };
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
  const plan = planFor({ ...base, jsonShapes });
  const bytesPerRow = segmentBytesPerRow(reader, plan.sourceColumns);
  const rows = options.rowsPerRowGroup ?? rowsPerRowGroup(options.parquet.rowGroupSizeBytes, bytesPerRow);
  const schemaJson = options.tableSchema?.json ?? segmentSchemaJson(reader.metadata, reader.segment.columns(plan.sourceColumns));
  const keyValueMetadata = new Map([...segmentFileMetadata(reader, schemaJson), ...(options.keyValueMetadata ?? [])]);
  const batches = reader.batches({
    columns: plan.sourceColumns,
    keepDictionaries: true,
    batchRows: batchRows ?? defaultBatchRows(rows),
    legacyPadding,
  });
  return yield* toParquet(batches, { ...base, jsonShapes, bytesPerRow, rowsPerRowGroup: rows, keyValueMetadata, signal }, plan);
}
