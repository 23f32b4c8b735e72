/**
 * `writeSegment`: a Pinot segment directory (v3 by default, or v1) from a schema, a table config and a column
 * source, byte-compatible with what Pinot 1.5.1 writes for the same rows — the batch build
 * (`SegmentIndexCreationDriverImpl`) or a server's commit of a consuming segment (`RealtimeSegmentConverter`,
 * `realtime-commit`) — optionally packed as a tarball.
 *
 * Memory: one column at a time. The source hands out one column's input values on demand; the column is
 * ingested into typed arrays, profiled, encoded, and its buffers are appended to `columns.psf` (or written as
 * v1 files) before the next column is read. A large segment therefore holds one column's values and buffers,
 * never the whole segment. Columns are processed in Pinot's buffer order (Java string order of names), so
 * `columns.psf` and `index_map` come out in the order Pinot's v1→v3 converter writes them.
 *
 * Doc order: a realtime commit with a sorted column reorders docs by that column (`getSortedDocIdIterationOrder
 * WithSortedColumn`: ascending value, input order within a value); the permutation is computed from the sorted
 * column first and applied to every column as it is encoded. Batch builds keep the input order, as Pinot does.
 */
import { mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { DataType, type RecordBatch, type Vector } from 'apache-arrow';
import { ConfigError, ErrorCodes, ExporterError } from '../../../errors.js';
import { packSegmentArchive } from '../../deepstore/archive-writer.js';
import { ADLER32_INITIAL, adler32Update } from '../adler32.js';
import type { PinotSegment } from '../segment.js';
import { V3_MAGIC_MARKER } from '../segment-layout.js';
import type { ValueBlock } from '../types.js';
import {
  blockLength, columnStats, gatherVar, isSortedInOrder, javaBits, profileColumn, sortedDocOrder, UNKNOWN_CARDINALITY,
  type ColumnProfile,
} from './column-stats.js';
import { creationMeta, indexMapLines, v1FileName } from './container-writer.js';
import type { ColumnStats, IndexBuffer, SegmentInfo } from './contracts.js';
import { writeDictionary } from './dictionary-writer.js';
import { writeFixedBitMV, writeFixedBitSV, writeMVEntryDict, writeSortedSV } from './forward-dict-writer.js';
import { writeRawForward } from './forward-raw-writer.js';
import { ingestColumn, type IngestedColumn } from './ingest.js';
import { metadataProperties, type MetadataFlavour } from './metadata-writer.js';
import {
  parseSchema, parseTableConfig, planSegment, type ColumnPlan, type PinotSchema, type PlanOptions, type TableSettings,
  type WriterPlan,
} from './pinot-schema.js';
import { writeNullVector } from './roaring-writer.js';
import { llcSegmentName } from './segment-name.js';

/** Where a segment's values come from: one column's input values on demand, in input doc order. */
export interface ColumnSource {
  readonly totalDocs: number;
  /**
   * The input values of a column (JSON-style values: numbers, bigint, strings, booleans, null, arrays for MV,
   * Uint8Array for BYTES), as one array or in chunks. May be called more than once for a column (the sorted
   * column is read twice) and must then yield the same values.
   */
  column(name: string): Iterable<ArrayLike<unknown>>;
}

export type ArchiveCompressionName = 'gzip' | 'zstd' | 'lz4';

export interface WriteSegmentOptions {
  /** Pinot schema (parsed, or JSON text/object) and table config; or a ready `plan`. */
  schema?: PinotSchema | string | Record<string, unknown>;
  table?: TableSettings | string | Record<string, unknown>;
  plan?: WriterPlan;
  /** Per-column and sorted-column overrides of what the configs say (ignored with `plan`). */
  overrides?: PlanOptions;
  source: ColumnSource;
  /** Parent directory: the segment is written to `<outDir>/<segment name>`. */
  outDir: string;
  /** Segment name, or the LLC parts to build one (`<table>__<partition>__<sequence>__<yyyyMMdd'T'HHmm'Z'>`). */
  segmentName?: string;
  llc?: { partition: number; sequence: number; creationTimeMs: number };
  /** Container layout; default the table's `segmentFormatVersion` (v3). */
  layout?: 'v1' | 'v3';
  /** `batch` (default) or `realtime-commit` (a server committing a consuming segment). */
  flavour?: MetadataFlavour;
  /** Stream offsets written by a realtime commit. */
  offsets?: { start: string; end: string };
  /** Reorder docs by the sorted column (default: only for `realtime-commit`, as Pinot). */
  sortDocs?: boolean;
  /** Creation time in `creation.meta` (default now). */
  creationTimeMs?: number | bigint;
  /** `custom.*` properties of metadata.properties. */
  customProperties?: ReadonlyArray<readonly [string, string]>;
  /** Pack the directory as a tarball next to it (`<name>.tar.gz|.tar.zst|.tar.lz4`, or `archive.path`). */
  archive?: { compression: ArchiveCompressionName; path?: string };
  /** Remove the segment directory after packing it (default false). */
  removeDirectory?: boolean;
}

export interface WrittenSegment {
  name: string;
  /** The segment directory (`<outDir>/<name>`), removed when `removeDirectory` was set. */
  dir: string;
  archivePath?: string;
  totalDocs: number;
  crc: number;
  dataCrc: bigint;
  creationTimeMs: bigint;
  columns: ColumnStats[];
  /** Bytes written into the segment directory. */
  bytes: number;
}

/** Unix-ms interval Pinot accepts for a batch segment's time range (`TimeUtils.VALID_TIME_INTERVAL`). */
const VALID_MIN_MS = 31536000000;
const VALID_MAX_MS = 3155760000000;
const UNIT_MS: Readonly<Record<string, number>> = {
  NANOSECONDS: 1e-6, MICROSECONDS: 1e-3, MILLISECONDS: 1, SECONDS: 1e3, MINUTES: 6e4, HOURS: 3.6e6, DAYS: 8.64e7,
};
const ARCHIVE_SUFFIX: Readonly<Record<ArchiveCompressionName, string>> = { gzip: '.tar.gz', zstd: '.tar.zst', lz4: '.tar.lz4' };

function usage(detail: string, column?: string): ConfigError {
  return new ConfigError(ErrorCodes.USAGE, detail, { context: column === undefined ? {} : { column } });
}

function resolvePlan(o: WriteSegmentOptions): WriterPlan {
  if (o.plan) return o.plan;
  if (o.schema === undefined || o.table === undefined) throw usage('writeSegment needs a plan, or a schema and a table config');
  const schema = isSchema(o.schema) ? o.schema : parseSchema(o.schema);
  const table = isTable(o.table) ? o.table : parseTableConfig(o.table);
  return planSegment(schema, table, o.overrides);
}

function isSchema(v: unknown): v is PinotSchema {
  return typeof v === 'object' && v !== null && Array.isArray((v as PinotSchema).fields);
}

function isTable(v: unknown): v is TableSettings {
  return typeof v === 'object' && v !== null && (v as TableSettings).fieldConfigs instanceof Map;
}

/** Java string order (UTF-16 code units), Pinot's column order. */
function javaOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export async function writeSegment(options: WriteSegmentOptions): Promise<WrittenSegment> {
  const plan = resolvePlan(options);
  const flavour = options.flavour ?? 'batch';
  const layout = options.layout ?? plan.table.segmentVersion;
  const totalDocs = options.source.totalDocs;
  if (!Number.isInteger(totalDocs) || totalDocs < 1) throw usage(`a segment needs at least one doc, got ${totalDocs}`);
  for (const c of plan.columns) {
    if (c.field.fieldType === 'COMPLEX') throw usage(`column ${c.name}: COMPLEX (MAP) columns are not supported by the segment writer`, c.name);
  }
  const name = options.segmentName
    ?? (options.llc ? llcSegmentName(plan.table.tableName, options.llc.partition, options.llc.sequence, options.llc.creationTimeMs) : undefined);
  if (!name) throw usage('writeSegment needs a segmentName or llc parts');
  const creationTimeMs = BigInt(options.creationTimeMs ?? Date.now());
  const dir = join(options.outDir, name);

  const sortDocs = options.sortDocs ?? flavour === 'realtime-commit';
  const perm = sortDocs && plan.sortedColumn !== undefined ? docOrder(plan, options.source, totalDocs) : undefined;

  const container = await SegmentContainer.create(dir, layout);
  const stats: ColumnStats[] = [];
  let time: { min: string; max: string } | undefined;
  try {
    for (const col of [...plan.columns].sort((a, b) => javaOrder(a.name, b.name))) {
      const encoded = encodeColumn(col, options.source, totalDocs, perm, flavour);
      stats.push(encoded.stats);
      if (col.isTimeColumn) time = encoded.timeRange;
      await container.add(encoded.buffers, shapeOf(encoded.stats));
    }
    const info = segmentInfo(plan, name, totalDocs, time, options.offsets, flavour);
    const metadataText = metadataProperties(info, stats, { flavour, version: layout, customProperties: options.customProperties });
    const { crc, dataCrc, bytes } = await container.finish(metadataText, creationTimeMs);
    let archivePath: string | undefined;
    if (options.archive) {
      archivePath = options.archive.path ?? join(options.outDir, name + ARCHIVE_SUFFIX[options.archive.compression]);
      await packSegmentArchive(dir, archivePath, { compression: options.archive.compression, name });
      if (options.removeDirectory) await rm(dir, { recursive: true, force: true });
    }
    return { name, dir, archivePath, totalDocs, crc, dataCrc, creationTimeMs, columns: stats, bytes };
  } catch (err) {
    await container.abort();
    throw err instanceof ExporterError ? err.addContext({ segment: name }) : err;
  }
}

/** The committing-segment doc order: ascending sorted-column value, input order within a value. */
function docOrder(plan: WriterPlan, source: ColumnSource, totalDocs: number): Int32Array {
  const col = plan.columns.find((c) => c.isSortedColumn)!;
  if (col.encoding !== 'DICTIONARY') {
    // A consuming segment sorts through the sorted column's dictionary (and inverted index); it must have one.
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `sorted column ${col.name} must be dictionary-encoded to reorder docs`, { context: { column: col.name } });
  }
  const ingested = ingestColumn(col.field, totalDocs, source.column(col.name), { isTimeColumn: col.isTimeColumn });
  const profile = profileColumn(ingested, { dictionary: true, countDistinct: true });
  return sortedDocOrder(profile.dictIds!, blockLength(profile.dictionary!));
}

interface EncodedColumn {
  stats: ColumnStats;
  buffers: IndexBuffer[];
  timeRange?: { min: string; max: string };
}

function encodeColumn(col: ColumnPlan, source: ColumnSource, totalDocs: number, perm: Int32Array | undefined, flavour: MetadataFlavour): EncodedColumn {
  const name = col.name;
  const field = col.field;
  const ingested = ingestColumn(field, totalDocs, source.column(name), { isTimeColumn: col.isTimeColumn });
  const dict = col.encoding === 'DICTIONARY';
  const realtime = flavour === 'realtime-commit';
  const profile = profileColumn(ingested, { dictionary: dict, countDistinct: !realtime });
  const isSorted = realtime && !dict ? false : isSortedInOrder(ingested, profile, perm);
  const buffers: IndexBuffer[] = [];
  let lengthOfEachEntry = 0;
  let cardinality: number;
  if (dict) {
    const dictionary = profile.dictionary!;
    cardinality = blockLength(dictionary);
    const varType = dictionary.kind === 'BYTES';
    if (varType) lengthOfEachEntry = profile.maxLength;
    // BYTES/BIG_DECIMAL switch to the var-length form when lengths differ (DictionaryIndexType); STRING only by config.
    const varLength = col.varLengthDictionary
      || ((field.storedType === 'BYTES' || field.storedType === 'BIG_DECIMAL') && profile.minLength !== profile.maxLength);
    buffers.push({
      column: name, indexType: 'dictionary',
      bytes: writeDictionary({ storedType: field.storedType, values: dictionary, varLength, entryWidth: varType ? profile.maxLength : undefined }),
    });
    buffers.push({ column: name, indexType: 'forward_index', bytes: dictForward(col, ingested, profile, perm, cardinality, isSorted) });
  } else {
    cardinality = profile.cardinality ?? UNKNOWN_CARDINALITY;
    buffers.push({ column: name, indexType: 'forward_index', bytes: rawForward(col, ingested, profile, perm) });
  }
  if (col.nullHandling && ingested.nullDocs.length > 0) {
    buffers.push({ column: name, indexType: 'nullvalue_vector', bytes: writeNullVector(remapNulls(ingested.nullDocs, perm)) });
  }
  const stats = columnStats(field, profile, { totalDocs, realtime, hasDictionary: dict, isSorted, cardinality, lengthOfEachEntry });
  const timeRange = col.isTimeColumn && profile.min !== undefined && profile.max !== undefined
    ? { min: String(profile.min), max: String(profile.max) } : undefined;
  return { stats, buffers, timeRange };
}

function dictForward(col: ColumnPlan, ing: IngestedColumn, profile: ColumnProfile, perm: Int32Array | undefined, cardinality: number, isSorted: boolean): Uint8Array {
  const bits = javaBits(cardinality);
  const ids = profile.dictIds!;
  if (col.field.singleValue) {
    const ordered = perm ? gatherInts(ids, perm) : ids;
    return isSorted ? writeSortedSV(ordered, cardinality) : writeFixedBitSV(ordered, bits);
  }
  const rows = perm ? permuteRows(ing.rowOffsets!, perm) : { offsets: ing.rowOffsets!, elements: undefined };
  const values = rows.elements ? gatherInts(ids, rows.elements) : ids;
  const block = { offsets: rows.offsets, values };
  return col.mvEntryDict ? writeMVEntryDict(block, bits) : writeFixedBitMV(block, bits);
}

function rawForward(col: ColumnPlan, ing: IngestedColumn, profile: ColumnProfile, perm: Int32Array | undefined): Uint8Array {
  const f = col.field;
  const config = col.raw;
  if (f.singleValue) {
    const values = perm ? gatherBlock(ing.values, perm) : ing.values;
    return writeRawForward({ storedType: f.storedType, singleValue: true, values, maxValueBytes: profile.maxLength, config });
  }
  const rows = perm ? permuteRows(ing.rowOffsets!, perm) : { offsets: ing.rowOffsets!, elements: undefined };
  const values = rows.elements ? gatherBlock(ing.values, rows.elements) : ing.values;
  return writeRawForward({
    storedType: f.storedType, singleValue: false, values: { offsets: rows.offsets, values },
    maxValueBytes: profile.maxRowLength, maxValuesPerRow: profile.maxValuesPerRow, config,
  });
}

function gatherInts(src: Int32Array, positions: Int32Array): Int32Array {
  const out = new Int32Array(positions.length);
  for (let i = 0; i < positions.length; i++) out[i] = src[positions[i]!]!;
  return out;
}

function gatherBlock(block: ValueBlock, positions: Int32Array): ValueBlock {
  switch (block.kind) {
    case 'BYTES': return { kind: 'BYTES', values: gatherVar(block.values, positions) };
    case 'INT': return { kind: 'INT', values: gatherTyped(block.values, positions, new Int32Array(positions.length)) };
    case 'LONG': return { kind: 'LONG', values: gatherTyped(block.values, positions, new BigInt64Array(positions.length)) };
    case 'FLOAT': return { kind: 'FLOAT', values: gatherTyped(block.values, positions, new Float32Array(positions.length)) };
    case 'DOUBLE': return { kind: 'DOUBLE', values: gatherTyped(block.values, positions, new Float64Array(positions.length)) };
  }
}

function gatherTyped<T extends Int32Array | BigInt64Array | Float32Array | Float64Array>(src: T, positions: Int32Array, out: T): T {
  const s = src as unknown as ArrayLike<number>;
  const o = out as unknown as number[];
  for (let i = 0; i < positions.length; i++) o[i] = s[positions[i]!]!;
  return out;
}

/** MV rows in the new doc order: new row offsets and, per new element, its input element index. */
function permuteRows(offsets: Int32Array, perm: Int32Array): { offsets: Int32Array; elements: Int32Array } {
  const n = perm.length;
  const out = new Int32Array(n + 1);
  for (let k = 0; k < n; k++) out[k + 1] = out[k]! + offsets[perm[k]! + 1]! - offsets[perm[k]!]!;
  const elements = new Int32Array(out[n]!);
  for (let k = 0; k < n; k++) {
    const from = offsets[perm[k]!]!;
    const len = out[k + 1]! - out[k]!;
    for (let j = 0; j < len; j++) elements[out[k]! + j] = from + j;
  }
  return { offsets: out, elements };
}

/** Null docs in the new doc order, ascending (a committing segment remaps its null vector the same way). */
function remapNulls(nullDocs: Int32Array, perm: Int32Array | undefined): Uint32Array {
  if (!perm) return Uint32Array.from(nullDocs);
  const inverse = new Int32Array(perm.length);
  for (let k = 0; k < perm.length; k++) inverse[perm[k]!] = k;
  return Uint32Array.from(nullDocs, (d) => inverse[d]!).sort();
}

function shapeOf(stats: ColumnStats): { singleValue: boolean; sorted: boolean; hasDictionary: boolean } {
  return { singleValue: stats.singleValue, sorted: stats.isSorted, hasDictionary: stats.hasDictionary };
}

function segmentInfo(plan: WriterPlan, name: string, totalDocs: number, time: { min: string; max: string } | undefined,
  offsets: WriteSegmentOptions['offsets'], flavour: MetadataFlavour): SegmentInfo {
  const byType = (t: string): string[] => plan.columns.filter((c) => c.field.fieldType === t).map((c) => c.name);
  const timeColumn = plan.timeColumn;
  const timeField = timeColumn === undefined ? undefined : plan.columns.find((c) => c.name === timeColumn)!.field;
  if (timeField && time && flavour === 'batch') {
    // Batch builds check the time range (realtime commits skip the check, §12).
    const toMs = (t: string): number => Number(t) * (timeField.dataType === 'TIMESTAMP' ? 1 : UNIT_MS[timeField.timeUnit ?? 'MILLISECONDS']!);
    if (!(toMs(time.min) >= VALID_MIN_MS && toMs(time.max) <= VALID_MAX_MS)) {
      throw usage(`time column ${timeColumn} spans ${time.min} … ${time.max} ${timeField.timeUnit}, outside the 1971–2071 range Pinot accepts for a batch segment`, timeColumn);
    }
  }
  return {
    name,
    tableName: plan.table.tableName,
    totalDocs,
    timeColumn,
    startTime: time?.min,
    endTime: time?.max,
    timeUnit: timeField?.timeUnit,
    realtimeStartOffset: offsets?.start,
    realtimeEndOffset: offsets?.end,
    dimensions: byType('DIMENSION'),
    metrics: byType('METRIC'),
    dateTimes: byType('DATE_TIME'),
    complex: byType('COMPLEX'),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Streaming container: buffers go to disk as each column is encoded.

interface FileCrc {
  name: string;
  adler: number;
  length: number;
}

/**
 * Adler-32 of A‖B from adler(A), adler(B) and |B| (zlib `adler32_combine`), so per-file checksums can be
 * chained in Pinot's path order whatever order the files were written in.
 */
export function adler32Combine(adler1: number, adler2: number, len2: number): number {
  const BASE = 65521;
  const rem = len2 % BASE;
  let sum1 = adler1 & 0xffff;
  let sum2 = (rem * sum1) % BASE;
  sum1 += (adler2 & 0xffff) + BASE - 1;
  sum2 += ((adler1 >>> 16) & 0xffff) + ((adler2 >>> 16) & 0xffff) + BASE - rem;
  if (sum1 >= BASE) sum1 -= BASE;
  if (sum1 >= BASE) sum1 -= BASE;
  if (sum2 >= BASE * 2) sum2 -= BASE * 2;
  if (sum2 >= BASE) sum2 -= BASE;
  return (sum1 + sum2 * 65536) >>> 0;
}

function chainCrcs(files: FileCrc[]): number {
  let crc = ADLER32_INITIAL;
  for (const f of [...files].sort((a, b) => javaOrder(a.name, b.name))) crc = adler32Combine(crc, f.adler, f.length);
  return crc;
}

class SegmentContainer {
  private psf: FileHandle | undefined;
  private psfLength = 0;
  private psfAdler = ADLER32_INITIAL;
  private indexMap = '';
  /** v1 files (and, for the data CRC, every `.dict` / `.fwd` in v1 naming whatever the layout). */
  private readonly files: FileCrc[] = [];
  private readonly dataFiles: FileCrc[] = [];
  private bytes = 0;

  private constructor(readonly dir: string, readonly layout: 'v1' | 'v3', readonly base: string) {}

  static async create(dir: string, layout: 'v1' | 'v3'): Promise<SegmentContainer> {
    await mkdir(dir, { recursive: true });
    if ((await readdir(dir)).length > 0) throw usage(`segment output directory ${dir} is not empty`);
    const base = layout === 'v3' ? join(dir, 'v3') : dir;
    const c = new SegmentContainer(dir, layout, base);
    if (layout === 'v3') {
      await mkdir(base);
      c.psf = await open(join(base, 'columns.psf'), 'wx');
    }
    return c;
  }

  /** Appends one column's buffers (dictionary, forward index, null vector — Pinot's index-id order). */
  async add(buffers: IndexBuffer[], shape: { singleValue: boolean; sorted: boolean; hasDictionary: boolean }): Promise<void> {
    const order = ['dictionary', 'forward_index', 'nullvalue_vector'];
    for (const b of [...buffers].sort((x, y) => order.indexOf(x.indexType) - order.indexOf(y.indexType))) {
      const fileName = v1FileName(b.column, b.indexType, shape);
      const adler = adler32Update(ADLER32_INITIAL, b.bytes);
      if (fileName.endsWith('.dict') || fileName.endsWith('.fwd')) this.dataFiles.push({ name: fileName, adler, length: b.bytes.length });
      if (this.psf) {
        const size = V3_MAGIC_MARKER.length + b.bytes.length;
        this.indexMap += indexMapLines(b.column, b.indexType, this.psfLength, size);
        await writeAll(this.psf, V3_MAGIC_MARKER as Uint8Array);
        await writeAll(this.psf, b.bytes);
        this.psfAdler = adler32Combine(adler32Update(this.psfAdler, V3_MAGIC_MARKER as Uint8Array), adler, b.bytes.length);
        this.psfLength += size;
      } else {
        await writeFile(join(this.base, fileName), b.bytes);
        this.files.push({ name: fileName, adler, length: b.bytes.length });
        this.bytes += b.bytes.length;
      }
    }
  }

  /** Writes index_map, metadata.properties and creation.meta; returns the CRCs. */
  async finish(metadataText: string, creationTimeMs: bigint): Promise<{ crc: number; dataCrc: bigint; bytes: number }> {
    const enc = new TextEncoder();
    const metadata = enc.encode(metadataText);
    let crc: number;
    if (this.psf) {
      await this.psf.close();
      this.psf = undefined;
      const indexMap = enc.encode(this.indexMap);
      await writeFile(join(this.base, 'index_map'), indexMap);
      await writeFile(join(this.base, 'metadata.properties'), metadata);
      // Path order: v3/columns.psf, v3/index_map, v3/metadata.properties.
      crc = adler32Update(adler32Update(this.psfAdler, indexMap), metadata);
      this.bytes = this.psfLength + indexMap.length + metadata.length;
    } else {
      await writeFile(join(this.base, 'metadata.properties'), metadata);
      this.files.push({ name: 'metadata.properties', adler: adler32Update(ADLER32_INITIAL, metadata), length: metadata.length });
      this.bytes += metadata.length;
      crc = chainCrcs(this.files);
    }
    const dataCrc = BigInt(chainCrcs(this.dataFiles));
    const meta = creationMeta(crc, creationTimeMs, dataCrc);
    await writeFile(join(this.base, 'creation.meta'), meta);
    this.bytes += meta.length;
    return { crc, dataCrc, bytes: this.bytes };
  }

  async abort(): Promise<void> {
    await this.psf?.close().catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}

async function writeFile(path: string, bytes: Uint8Array): Promise<void> {
  const h = await open(path, 'wx');
  try {
    await writeAll(h, bytes);
  } finally {
    await h.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Column sources

/** Small inputs: rows as objects (a missing key is null). */
export function rowsSource(rows: readonly Readonly<Record<string, unknown>>[]): ColumnSource {
  return {
    totalDocs: rows.length,
    column: (name) => [rows.map((r) => r[name] ?? null)],
  };
}

/** Arrow record batches (e.g. from `SegmentReader`): Arrow values as JS values, lists as arrays, nulls as null. */
export function arrowSource(batches: readonly RecordBatch[]): ColumnSource {
  return {
    totalDocs: batches.reduce((n, b) => n + b.numRows, 0),
    *column(name) {
      for (const b of batches) {
        const v = b.getChild(name);
        if (!v) throw usage(`the record batches have no column ${JSON.stringify(name)}`, name);
        yield vectorValues(v);
      }
    },
  };
}

/**
 * Re-encoding: a decoded segment as a column source, read one column at a time (Arrow values as `arrowSource`
 * gives them; nulls from null vectors come back as null and so get their null vector again).
 */
export function segmentSource(segment: PinotSegment, batchRows = 65_536): ColumnSource {
  return {
    totalDocs: segment.exportDocs,
    *column(name) {
      for (const b of segment.batches({ columns: [name], batchRows, keepDictionaries: false })) yield vectorValues(b.getChildAt(0)!);
    },
  };
}

function vectorValues(v: Vector): unknown[] {
  const list = DataType.isList(v.type);
  const out = new Array<unknown>(v.length);
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v.get(i);
    out[i] = list && x != null ? Array.from(x as Vector) : x;
  }
  return out;
}
