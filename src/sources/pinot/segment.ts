/**
 * A Pinot segment over its files: metadata, layout, Arrow schema and record batches in doc order.
 * No I/O of its own — `SegmentFiles` supplies the bytes (a local directory, or memory in tests).
 */
import { RecordBatch, Schema, Struct, makeData, type Data } from 'apache-arrow';
import { ConfigError, ErrorCodes, SegmentFormatError, enrich, withContext } from '../../errors.js';
import { arrowSchema, usesArrowDictionary, type KeepDictionaries } from './arrow-schema.js';
import { ColumnReader } from './column-reader.js';
import { decodedDictionaryBytes } from './dictionary-subset.js';
import { parseSegmentMetadata, type ColumnMetadata, type SegmentMetadata } from './metadata.js';
import { parseProperties } from './properties.js';
import { openSegmentLayout, type SegmentLayout } from './segment-layout.js';
import type { SegmentFiles } from './types.js';

export const DEFAULT_BATCH_ROWS = 65_536;
/**
 * Decoded dictionaries a ColumnChunkReader keeps whole, in total; larger ones are read per chunk. Kept
 * whole, a dictionary saves only the windowed reads of it: for the 10.6M-row bench segment's 27.5 MiB
 * TIMESTAMP dictionary (3.6M entries) a row group's chunk took 55-60 ms either way, while keeping it (32 MiB
 * budget) raised peak RSS by 40-60 MB (README, Benchmarks). Small dictionaries are kept so their chunks skip
 * the reads.
 */
export const DEFAULT_DICTIONARY_BUDGET_BYTES = 8 << 20;

export interface BatchOptions {
  /** Columns to read, in this order (default: every physical column in metadata order). */
  columns?: readonly string[];
  /** Rows per record batch (default 65,536). */
  batchRows?: number;
  /**
   * Keep Pinot dictionaries as Arrow Dictionary vectors: `true` (default) for SV text/binary columns,
   * `'all'` for every dictionary-encoded column but BOOLEAN (MV: List<Dictionary>), `false` for none.
   */
  keepDictionaries?: KeepDictionaries;
  /** Pre-08/2016 `%`-padded STRING dictionaries: refuse (default) or strip the padding. */
  legacyPadding?: 'refuse' | 'strip';
}

export interface ColumnChunkOptions {
  /** Columns to read (default: every physical column in metadata order); the schema follows this order. */
  columns?: readonly string[];
  /** Pre-08/2016 `%`-padded STRING dictionaries: refuse (default) or strip the padding. */
  legacyPadding?: 'refuse' | 'strip';
  /**
   * Bytes of decoded dictionaries kept whole for the reader's life (default 8 MiB); the smallest fit
   * first. Every other dictionary is read per call, only where the requested docs' entries are.
   */
  dictionaryBudgetBytes?: number;
}

/** Column-at-a-time reads for a columnar writer (one column chunk of one row group per call). */
export interface ColumnChunkReader {
  /** Arrow schema of the chunks (keepDictionaries 'all'), same field order as `columns`. */
  readonly schema: Schema;
  /**
   * Column `name`, docs [start, end): Arrow Data of the schema field's type. A dictionary column's Data
   * (an MV column's List child) is Dictionary data whose dictionary holds exactly the entries the non-null
   * docs use, in Pinot dictionary order, ids renumbered from 0; null docs have id 0.
   */
  read(name: string, start: number, end: number): Data;
}

export class PinotSegment {
  readonly metadata: SegmentMetadata;
  readonly layout: SegmentLayout;

  private constructor(metadata: SegmentMetadata, layout: SegmentLayout) {
    this.metadata = metadata;
    this.layout = layout;
  }

  /** Parses `metadata.properties` and the index layout. `name` labels errors before metadata is known. */
  static open(files: SegmentFiles, name?: string): PinotSegment {
    const context = name === undefined ? {} : { segment: name };
    try {
      if (!files.has('metadata.properties')) {
        throw new SegmentFormatError(ErrorCodes.PINOT_BAD_METADATA, 'segment has no metadata.properties', {
          context: { file: 'metadata.properties' },
        });
      }
      const propsRange = files.open('metadata.properties');
      const props = withContext({ file: 'metadata.properties' }, () => parseProperties(propsRange.read(0, propsRange.length)));
      const metadata = parseSegmentMetadata(props);
      const layout = withContext({ segment: metadata.name }, () => openSegmentLayout(files, metadata));
      return new PinotSegment(metadata, layout);
    } catch (err) {
      throw enrich(err, context);
    }
  }

  get name(): string {
    return this.metadata.name;
  }

  /**
   * Docs to export. A 2016-era star-tree v1 segment appends aggregated docs after the raw ones
   * (`segment.total.raw.docs` < `segment.total.docs`); only the raw docs are data.
   */
  get exportDocs(): number {
    const { totalDocs, totalRawDocs } = this.metadata;
    return totalRawDocs !== undefined && totalRawDocs < totalDocs ? totalRawDocs : totalDocs;
  }

  /** Metadata of the requested columns, in request order; unknown names are a typed error. */
  columns(names?: readonly string[]): ColumnMetadata[] {
    const all = this.metadata.columns;
    if (!names) return [...all.values()];
    return names.map((n) => {
      const c = all.get(n);
      if (!c) {
        throw new SegmentFormatError(ErrorCodes.PINOT_UNKNOWN_COLUMN, `no column "${n}"; columns are: ${[...all.keys()].join(', ')}`, {
          context: { segment: this.name, column: n },
        });
      }
      return c;
    });
  }

  schema(options: Pick<BatchOptions, 'columns' | 'keepDictionaries'> = {}): Schema {
    return arrowSchema(this.metadata, this.columns(options.columns), options.keepDictionaries ?? true);
  }

  /** Record batches in doc order, each at most `batchRows` rows; one decoded chunk per column in memory. */
  *batches(options: BatchOptions = {}): Generator<RecordBatch, void, undefined> {
    const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
    if (!Number.isInteger(batchRows) || batchRows < 1) {
      throw new ConfigError(ErrorCodes.USAGE, `batchRows must be a positive integer, got ${batchRows}`);
    }
    const schema = this.schema(options);
    const readers = this.columns(options.columns).map((c, i) => {
      try {
        return ColumnReader.open(c, schema.fields[i]!, this.layout, this.metadata.totalDocs, options);
      } catch (err) {
        throw enrich(err, { segment: this.name });
      }
    });
    const total = this.exportDocs;
    for (let start = 0; start < total; start += batchRows) {
      const end = Math.min(total, start + batchRows);
      const children: Data[] = readers.map((r) => {
        try {
          return r.read(start, end);
        } catch (err) {
          throw enrich(err, { segment: this.name });
        }
      });
      yield new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: end - start, nullCount: 0, children }));
    }
  }

  /**
   * A reader of column chunks: any column, any doc range, in any order (ascending ranges per column are
   * fastest). Dictionaries are scoped to each read, so memory stays at one chunk plus the dictionary budget.
   */
  columnChunks(options: ColumnChunkOptions = {}): ColumnChunkReader {
    const budget = options.dictionaryBudgetBytes ?? DEFAULT_DICTIONARY_BUDGET_BYTES;
    if (typeof budget !== 'number' || !(budget >= 0)) {
      throw new ConfigError(ErrorCodes.USAGE, `dictionaryBudgetBytes must be a non-negative number, got ${budget}`);
    }
    const columns = this.columns(options.columns);
    const schema = arrowSchema(this.metadata, columns, 'all');
    const inMemory = this.dictionariesWithin(columns, budget);
    const readers = new Map<string, ColumnReader>();
    columns.forEach((c, i) => {
      if (readers.has(c.name)) return;
      try {
        readers.set(c.name, ColumnReader.open(c, schema.fields[i]!, this.layout, this.metadata.totalDocs, {
          legacyPadding: options.legacyPadding,
          chunkDictionary: inMemory.has(c.name) ? 'memory' : 'windowed',
        }));
      } catch (err) {
        throw enrich(err, { segment: this.name });
      }
    });
    const total = this.exportDocs;
    return {
      schema,
      read: (name, start, end) => {
        const reader = readers.get(name);
        if (!reader) {
          throw new SegmentFormatError(ErrorCodes.PINOT_UNKNOWN_COLUMN,
            `column "${name}" is not among the columns this chunk reader was opened for: ${[...readers.keys()].join(', ')}`,
            { context: { segment: this.name, column: name } });
        }
        if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > total) {
          throw new ConfigError(ErrorCodes.USAGE, `doc range [${start}, ${end}) is not within the segment's ${total} docs`, {
            context: { segment: this.name, column: name },
          });
        }
        try {
          return reader.read(start, end);
        } catch (err) {
          throw enrich(err, { segment: this.name });
        }
      },
    };
  }

  /** Names of the dictionary columns whose decoded dictionaries fit `budget` together, smallest first. */
  private dictionariesWithin(columns: readonly ColumnMetadata[], budget: number): Set<string> {
    const sized = columns
      .filter((c) => !c.unsupported && usesArrowDictionary(c, 'all'))
      .map((c) => {
        const stored = this.layout.indexRange(c.name, 'dictionary')?.length ?? 0;
        return { name: c.name, bytes: decodedDictionaryBytes(c.dataType, Math.max(0, c.cardinality), stored) };
      })
      .sort((a, b) => a.bytes - b.bytes);
    const chosen = new Set<string>();
    let left = budget;
    for (const { name, bytes } of sized) {
      if (bytes > left) break;
      chosen.add(name);
      left -= bytes;
    }
    return chosen;
  }
}
