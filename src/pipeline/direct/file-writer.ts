/**
 * ParquetFileWriter: the direct writer's file layer. The caller hands it one column chunk at a time (row
 * group by row group, columns in schema order) and writes out every byte array it returns, in order; the
 * writer tracks the file position so the footer's offsets are absolute. Nothing is buffered here beyond
 * the footer's metadata: memory is one column's Data plus its encoded pages.
 */
import { DataType as ArrowTypes, type Data, type DataType, type Schema } from 'apache-arrow';
import { ParquetError, ParquetErrorCodes } from '../parquet-error.js';
import type { ParquetCodec } from '../parquet-options.js';
import {
  ChunkScratch, DEFAULT_DICTIONARY_PAGE_SIZE_LIMIT, encodeColumnChunk, type ChunkSettings, type EncodedChunk,
} from './column-chunk.js';
import { mergeEncodedChunks } from './chunk-merge.js';
import { pageCompressor } from './compress.js';
import { encodeFileMetaData, type ColumnChunk, type ColumnMetaData, type FileMetaData, type RowGroup } from './format.js';
import { directParquetSchema, type DirectParquetSchema, type LeafColumn } from './parquet-schema.js';

export interface DirectWriterSettings {
  codec: ParquetCodec;
  pageSizeBytes: number;
  /** Default 1 MiB (arrow-rs's default). */
  dictionaryPageSizeLimit?: number;
  /** Top-level column names; for a LIST column it means its element. */
  dictionaryColumns: readonly string[];
  /** Parquet paths of leaves with the JSON logical type, e.g. ['payload'] or ['tags', 'list', 'element']. */
  jsonPaths: readonly (readonly string[])[];
  keyValueMetadata: ReadonlyMap<string, string>;
  createdBy: string;
}

const MAGIC = new TextEncoder().encode('PAR1');

/** The chunk settings of `leaf` under the writer settings (shared with the column encoder pool's workers). */
export function chunkSettingsOf(
  settings: Pick<DirectWriterSettings, 'codec' | 'pageSizeBytes' | 'dictionaryPageSizeLimit'>, compress: (page: Uint8Array) => Uint8Array,
  dictionaryColumns: ReadonlySet<string>, leaf: LeafColumn, offset: number,
): ChunkSettings {
  return {
    codec: settings.codec,
    compress,
    pageSizeBytes: settings.pageSizeBytes,
    dictionaryPageSizeLimit: settings.dictionaryPageSizeLimit ?? DEFAULT_DICTIONARY_PAGE_SIZE_LIMIT,
    dictionary: dictionaryColumns.has(leaf.name),
    offset,
  };
}

/**
 * encodeColumnChunk with the writer's error contract: a ParquetError gains the column, anything else becomes
 * PARQUET_WRITE_FAILED naming `where` (e.g. the row group) and the column.
 */
export function encodeLeafChunk(leaf: LeafColumn, data: Data, settings: ChunkSettings, scratch: ChunkScratch, where: string): EncodedChunk {
  try {
    return encodeColumnChunk(leaf, data, settings, scratch);
  } catch (err) {
    if (err instanceof ParquetError) throw err.addContext({ column: leaf.name });
    throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, `${where}: encoding column ${leaf.name} failed: ${(err as Error).message}`, {
      context: { column: leaf.name }, cause: err,
    });
  } finally {
    scratch.trim();
  }
}

interface OpenRowGroup {
  rows: number;
  ordinal: number;
  fileOffset: number;
  /** By schema index; chunks added out of order (addEncodedColumn) fill their own slot. */
  columns: (ColumnChunk | undefined)[];
  added: number;
  uncompressed: number;
  compressed: number;
}

/**
 * Columns written in pieces: single-value columns whose source data is not dictionary data (raw columns,
 * BOOLEAN), which are written PLAIN, so a piece needs nothing from the others.
 */
export function pieceableColumns(columns: readonly { name: string; inSource: boolean; singleValue: boolean }[], source: Schema): Set<string> {
  const types = new Map(source.fields.map((f) => [f.name, f.type as DataType]));
  return new Set(columns.filter((c) => {
    const type = types.get(c.name);
    return c.inSource && c.singleValue && type !== undefined && !ArrowTypes.isDictionary(type);
  }).map((c) => c.name));
}

/** Rows per piece of a column written in pieces. */
export const PIECE_ROWS = 131_072;

/** Consecutive row ranges of [start, end), at most PIECE_ROWS each, read as they are asked for. */
export function* columnPieces(start: number, end: number, read: (a: number, b: number) => Data): Generator<Data> {
  for (let a = start; a < end; a += PIECE_ROWS) yield read(a, Math.min(end, a + PIECE_ROWS));
}

/**
 * One PLAIN column chunk (at offset 0) from consecutive row ranges of it, each encoded as it arrives so only
 * one range's values are held; their rows must add up to `rows`.
 */
export function encodePieces(
  leaf: LeafColumn, pieces: Iterable<Data>, rows: number, settingsAt: (offset: number) => ChunkSettings, scratch: ChunkScratch, where: string,
): EncodedChunk {
  const encoded: EncodedChunk[] = [];
  let at = 0;
  let seen = 0;
  for (const data of pieces) {
    const chunk = encodeLeafChunk(leaf, data, settingsAt(at), scratch, where);
    if (chunk.metaData.dictionaryPageOffset !== undefined) {
      throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, `${where}: column ${leaf.name} cannot be written in pieces: it has dictionary data`, {
        context: { column: leaf.name },
      });
    }
    encoded.push(chunk);
    at += chunk.bytes;
    seen += data.length;
  }
  if (seen !== rows) {
    throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, `${where}: column ${leaf.name} has ${seen} rows, the row group ${rows}`, {
      context: { column: leaf.name },
    });
  }
  return mergeEncodedChunks(encoded);
}

/** The first schema index without a chunk in `group`. */
function nextMissing(group: OpenRowGroup): number {
  let i = 0;
  while (group.columns[i] !== undefined) i++;
  return i;
}

/** Why `chunk` (encoded at offset 0) cannot be `leaf`'s chunk in a row group of `rows` rows; undefined when it can. */
function chunkMismatch(leaf: LeafColumn, chunk: EncodedChunk, codec: string, rows: number): string | undefined {
  const meta = chunk.metaData;
  let size = 0;
  for (const page of chunk.pages) size += page.length;
  const path = meta.pathInSchema.join('.');
  if (path !== leaf.path.join('.')) return `its path is ${path}, the column's ${leaf.path.join('.')}`;
  if (meta.type !== leaf.physicalType) return `its type is ${meta.type}, the column's ${leaf.physicalType}`;
  if (meta.codec !== codec) return `its codec is ${meta.codec}, the file's ${codec}`;
  if (size !== chunk.bytes || size !== meta.totalCompressedSize) {
    return `its pages hold ${size} bytes, its metadata says ${chunk.bytes} (${meta.totalCompressedSize} compressed)`;
  }
  // Only a flat column has exactly one value (level) per row.
  if (leaf.maxRepetitionLevel === 0 && meta.numValues !== rows) return `it has ${meta.numValues} values, the row group ${rows} rows`;
  // Encoded at offset 0: a dictionary page comes first, at 0; the first data page lies within the chunk.
  if (!(meta.dataPageOffset >= 0 && meta.dataPageOffset < size && (meta.dictionaryPageOffset ?? 0) === 0)) {
    return `its page offsets (data ${meta.dataPageOffset}, dictionary ${meta.dictionaryPageOffset ?? 'none'}) are not within its ${size} bytes from 0`;
  }
  return undefined;
}

export class ParquetFileWriter {
  private readonly parquetSchema: DirectParquetSchema;
  private readonly compress: (page: Uint8Array) => Uint8Array;
  private readonly dictionary: ReadonlySet<string>;
  private readonly scratch = new ChunkScratch();
  private readonly rowGroups: RowGroup[] = [];
  private group: OpenRowGroup | undefined;
  private started = false;
  private finished = false;
  private written = 0;

  /** Throws PARQUET_SCHEMA_MISMATCH when the schema has a type the direct writer does not write. */
  constructor(private readonly schema: Schema, private readonly settings: DirectWriterSettings) {
    this.parquetSchema = directParquetSchema(schema, settings.jsonPaths);
    if (!(Number.isSafeInteger(settings.pageSizeBytes) && settings.pageSizeBytes > 0)) {
      throw new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, `pageSizeBytes must be a positive whole number, got ${settings.pageSizeBytes}`);
    }
    this.compress = pageCompressor(settings.codec);
    this.dictionary = new Set(settings.dictionaryColumns);
  }

  /** Bytes returned so far. */
  get position(): number {
    return this.written;
  }

  private failure(detail: string, column?: string): ParquetError {
    return new ParquetError(ParquetErrorCodes.PARQUET_WRITE_FAILED, detail, column === undefined ? {} : { context: { column } });
  }

  /** The file's first bytes ('PAR1'). */
  start(): Uint8Array {
    if (this.started) throw this.failure('start() called twice');
    this.started = true;
    this.written += MAGIC.length;
    return MAGIC.slice();
  }

  beginRowGroup(rows: number): void {
    if (!this.started || this.finished) throw this.failure('beginRowGroup() outside start() … finish()');
    if (this.group !== undefined) throw this.failure(`row group ${this.group.ordinal} is still open`);
    if (!(Number.isSafeInteger(rows) && rows >= 0)) throw this.failure(`row group of ${rows} rows`);
    this.group = { rows, ordinal: this.rowGroups.length, fileOffset: this.written, columns: [], added: 0, uncompressed: 0, compressed: 0 };
  }

  /**
   * Encodes column `index` (schema order; every column exactly once per row group, in order) and returns
   * its bytes (pages, to be written in order right after everything returned before). The data's length
   * must equal the row group's rows.
   */
  writeColumn(index: number, data: Data): Uint8Array[] {
    const group = this.group;
    const field = this.schema.fields[index];
    const name = field?.name;
    if (group === undefined) throw this.failure(`column ${index} written outside a row group`, name);
    const where = `row group ${group.ordinal}`;
    const next = nextMissing(group);
    if (index !== next) {
      throw this.failure(`${where}: column ${index} (${name ?? 'no such column'}) written where column ${next} (${this.schema.fields[next]?.name ?? 'none left'}) is next`, name);
    }
    if (data.length !== group.rows) throw this.failure(`${where}: column ${name} has ${data.length} rows, the row group ${group.rows}`, name);
    const leaf = this.parquetSchema.leaves[index]!;
    const chunk = encodeLeafChunk(leaf, data, this.chunkSettings(leaf, this.written), this.scratch, where);
    this.record(group, index, chunk);
    return chunk.pages;
  }

  /**
   * Column `index` of the open row group from consecutive row ranges of it, each encoded as it arrives, so
   * only one range's values are held at a time. For columns written PLAIN (no dictionary data): each range
   * ends its last page, and the ranges' rows must add up to the row group's.
   */
  writeColumnPieces(index: number, pieces: Iterable<Data>): Uint8Array[] {
    const group = this.group;
    const name = this.schema.fields[index]?.name;
    if (group === undefined) throw this.failure(`column ${index} written outside a row group`, name);
    const where = `row group ${group.ordinal}`;
    const next = nextMissing(group);
    if (index !== next) {
      throw this.failure(`${where}: column ${index} (${name ?? 'no such column'}) written where column ${next} (${this.schema.fields[next]?.name ?? 'none left'}) is next`, name);
    }
    const leaf = this.parquetSchema.leaves[index]!;
    return this.addEncodedColumn(index, encodePieces(leaf, pieces, group.rows, (offset) => this.chunkSettings(leaf, offset), this.scratch, where));
  }

  /**
   * Adds column `index` of the open row group, encoded elsewhere at offset 0 (e.g. by the column encoder pool,
   * column-pool.ts): shifts its page offsets to the current file position, checks order and that the chunk is
   * the column's, records the metadata like writeColumn and returns its pages (to be written in order).
   */
  addEncodedColumn(index: number, chunk: EncodedChunk): Uint8Array[] {
    const group = this.group;
    const name = this.schema.fields[index]?.name;
    if (group === undefined) throw this.failure(`column ${index} added outside a row group`, name);
    const where = `row group ${group.ordinal}`;
    // Column chunks may sit in the file in any order (readers locate each through its metadata offsets): the
    // pool hands them over as they finish, so none waits in memory for a slower one.
    if (name === undefined || group.columns[index] !== undefined) {
      throw this.failure(`${where}: column ${index} (${name ?? 'no such column'}) added twice or does not exist`, name);
    }
    const leaf = this.parquetSchema.leaves[index]!;
    const meta = chunk.metaData;
    // A chunk encoded for another column, codec or row count would make a file that reads back wrong: refuse it.
    const mismatch = chunkMismatch(leaf, chunk, this.settings.codec, group.rows);
    if (mismatch !== undefined) throw this.failure(`${where}: encoded chunk for column ${leaf.name} does not fit: ${mismatch}`, leaf.name);
    const at = this.written;
    const shifted: ColumnMetaData = { ...meta, dataPageOffset: meta.dataPageOffset + at };
    if (meta.dictionaryPageOffset !== undefined) shifted.dictionaryPageOffset = meta.dictionaryPageOffset + at;
    this.record(group, index, { pages: chunk.pages, metaData: shifted, bytes: chunk.bytes });
    return chunk.pages;
  }

  private chunkSettings(leaf: LeafColumn, offset: number): ChunkSettings {
    return chunkSettingsOf(this.settings, this.compress, this.dictionary, leaf, offset);
  }

  private record(group: OpenRowGroup, index: number, chunk: EncodedChunk): void {
    const meta = chunk.metaData;
    // ColumnChunk.file_offset is deprecated (writers disagreed on its meaning); arrow-rs writes 0, so do we.
    group.columns[index] = { fileOffset: 0, metaData: meta };
    group.added++;
    group.uncompressed += meta.totalUncompressedSize;
    group.compressed += meta.totalCompressedSize;
    this.written += chunk.bytes;
  }

  endRowGroup(): { rows: number; bytes: number } {
    const group = this.group;
    if (group === undefined) throw this.failure('endRowGroup() without an open row group');
    if (group.added !== this.schema.fields.length) {
      const missing = this.schema.fields[nextMissing(group)]!.name;
      throw this.failure(`row group ${group.ordinal} ended after ${group.added} of ${this.schema.fields.length} columns (next: ${missing})`, missing);
    }
    this.rowGroups.push({
      columns: group.columns as ColumnChunk[], totalByteSize: group.uncompressed, numRows: group.rows,
      fileOffset: group.fileOffset, totalCompressedSize: group.compressed, ordinal: group.ordinal,
    });
    this.group = undefined;
    return { rows: group.rows, bytes: group.compressed };
  }

  /** Footer: FileMetaData, its 4-byte LE length, 'PAR1'. */
  finish(): Uint8Array {
    if (!this.started || this.finished) throw this.failure('finish() without start() or called twice');
    if (this.group !== undefined) throw this.failure(`row group ${this.group.ordinal} is still open`);
    this.finished = true;
    const meta: FileMetaData = {
      version: 1,
      schema: this.parquetSchema.elements,
      numRows: this.rowGroups.reduce((n, g) => n + g.numRows, 0),
      rowGroups: this.rowGroups,
      createdBy: this.settings.createdBy,
      columnOrders: this.parquetSchema.leaves.map(() => 'TYPE_DEFINED_ORDER' as const),
    };
    if (this.settings.keyValueMetadata.size > 0) meta.keyValueMetadata = [...this.settings.keyValueMetadata].map(([key, value]) => ({ key, value }));
    const body = encodeFileMetaData(meta);
    const out = new Uint8Array(body.length + 8);
    out.set(body, 0);
    new DataView(out.buffer).setUint32(body.length, body.length, true);
    out.set(MAGIC, body.length + 4);
    this.written += out.length;
    return out;
  }
}
