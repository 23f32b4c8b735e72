/**
 * A Pinot segment over its files: metadata, layout, Arrow schema and record batches in doc order.
 * No I/O of its own — `SegmentFiles` supplies the bytes (a local directory, or memory in tests).
 */
import { RecordBatch, Schema, Struct, makeData, type Data } from 'apache-arrow';
import { ConfigError, ErrorCodes, SegmentFormatError, enrich, withContext } from '../../errors.js';
import { arrowSchema } from './arrow-schema.js';
import { ColumnReader } from './column-reader.js';
import { parseSegmentMetadata, type ColumnMetadata, type SegmentMetadata } from './metadata.js';
import { parseProperties } from './properties.js';
import { openSegmentLayout, type SegmentLayout } from './segment-layout.js';
import type { SegmentFiles } from './types.js';

export const DEFAULT_BATCH_ROWS = 65_536;

export interface BatchOptions {
  /** Columns to read, in this order (default: every physical column in metadata order). */
  columns?: readonly string[];
  /** Rows per record batch (default 65,536). */
  batchRows?: number;
  /** Keep Pinot dictionaries as Arrow Dictionary vectors for SV text/binary columns (default true). */
  keepDictionaries?: boolean;
  /** Pre-08/2016 `%`-padded STRING dictionaries: refuse (default) or strip the padding. */
  legacyPadding?: 'refuse' | 'strip';
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
}
