/**
 * The Parquet encoder contract: Arrow record batches of one schema in, Parquet bytes out, one chunk per row
 * group (the first chunk starts with the magic, the last one ends with the footer). Implementations pull
 * batches only as fast as their output is consumed, so a slow consumer bounds what is in flight.
 */
import type { RecordBatch, Schema } from 'apache-arrow';
import type { ParquetCodec } from './parquet-options.js';

export interface EncoderSettings {
  codec: ParquetCodec;
  /** Target row group size (also a hard cap on the writer's estimate of the encoded group size). */
  rowGroupSizeBytes: number;
  pageSizeBytes: number;
  /**
   * Rows per row group. Default: rowGroupSizeBytes ÷ bytesPerRow, or ÷ the Arrow bytes per row of the first
   * batch when bytesPerRow is not given either.
   */
  rowsPerRowGroup?: number;
  /** Expected encoded bytes per row (e.g. the segment's index bytes ÷ docs). */
  bytesPerRow?: number;
  /** Top-level leaf columns that get dictionary pages; every other top-level leaf is written plain. */
  dictionaryColumns: readonly string[];
  /** Dictionary setting shared by all nested leaves (list elements, struct members). */
  nestedDictionary: boolean;
  /** Leaves (Parquet paths) to annotate with the JSON logical type. */
  jsonPaths: readonly (readonly string[])[];
  /** File key-value metadata. */
  keyValueMetadata: ReadonlyMap<string, string>;
  /** The footer's `created_by` (default: the encoder's own, naming us, our version and the writer). */
  createdBy?: string;
}

export interface RowGroupSummary {
  rows: number;
  /** Compressed bytes of the row group's column chunks. */
  bytes: number;
}

export interface ParquetFileSummary {
  rows: number;
  /** Total bytes of the file. */
  bytes: number;
  rowsPerRowGroup: number;
  rowGroups: RowGroupSummary[];
  /**
   * Bytes of memory the writer itself held at the end (parquet-wasm: its wasm memory, which only grows, so
   * this is its peak), when the encoder can tell; released when the file is done.
   */
  writerMemoryBytes?: number;
}

export interface EncodeOptions {
  /** Aborting stops pulling batches and ends the output with the abort reason. */
  signal?: AbortSignal;
}

export interface ParquetEncoder {
  /**
   * The Parquet file for `batches` (each of the encoder's schema), one chunk per row group. Completes only
   * after the writer's footer has been checked against the rows sent; a failure of `batches` is rethrown.
   */
  encode(batches: AsyncIterable<RecordBatch>, options?: EncodeOptions): AsyncGenerator<Uint8Array, ParquetFileSummary, undefined>;
}

/** Makes an encoder for batches of `schema` (the Arrow schema to write, see schema-mapping). */
export type ParquetEncoderFactory = (settings: EncoderSettings, schema: Schema) => ParquetEncoder;

/** rowGroupSizeBytes ÷ bytes per row, at least 1 row (and at most 2^31 − 1). */
export function rowsPerRowGroup(rowGroupSizeBytes: number, bytesPerRow: number): number {
  if (!(bytesPerRow > 0)) return 1_048_576;
  return Math.max(1, Math.min(2 ** 31 - 1, Math.floor(rowGroupSizeBytes / bytesPerRow)));
}
