/**
 * Types shared by the Pinot format decoders, the segment writer and the SegmentReader.
 * Everything here is plain data: no I/O, no Arrow.
 */
import type { ByteRange } from './bytes.js';

/** Pinot's logical data types (FieldSpec.DataType) that a column may declare. */
export type DataType =
  | 'INT' | 'LONG' | 'FLOAT' | 'DOUBLE' | 'BIG_DECIMAL' | 'BOOLEAN' | 'TIMESTAMP'
  | 'STRING' | 'JSON' | 'BYTES' | 'MAP';

/** How a value is physically stored (§4.1): BOOLEAN→INT, TIMESTAMP→LONG, JSON→STRING. */
export type StoredType = 'INT' | 'LONG' | 'FLOAT' | 'DOUBLE' | 'BIG_DECIMAL' | 'STRING' | 'BYTES' | 'MAP';

export type FieldType = 'DIMENSION' | 'METRIC' | 'TIME' | 'DATE_TIME' | 'COMPLEX';

export const STORED_TYPE: Readonly<Record<DataType, StoredType>> = {
  INT: 'INT', LONG: 'LONG', FLOAT: 'FLOAT', DOUBLE: 'DOUBLE', BIG_DECIMAL: 'BIG_DECIMAL',
  BOOLEAN: 'INT', TIMESTAMP: 'LONG', STRING: 'STRING', JSON: 'STRING', BYTES: 'BYTES', MAP: 'MAP',
};

/** Width in bytes of fixed-width stored types; undefined for variable-width ones. */
export const FIXED_WIDTH: Readonly<Partial<Record<StoredType, number>>> = { INT: 4, LONG: 8, FLOAT: 4, DOUBLE: 8 };

/** Index types in a v3 `index_map` (§5.1) that the exporter reads. */
export type IndexType = 'dictionary' | 'forward_index' | 'nullvalue_vector' | 'inverted_index';

/**
 * Variable-length values back to back: value i is `data[offsets[i] .. offsets[i+1])`.
 * `offsets.length = count + 1`. Used for STRING (UTF-8), JSON, BYTES, BIG_DECIMAL (Pinot's serialised
 * form, §4.1) and MAP (Pinot's frame, §4.1).
 */
export interface VarBytes {
  offsets: Int32Array;
  data: Uint8Array;
}

/** A run of values of one stored type, in doc (or dictionary) order. */
export type ValueBlock =
  | { kind: 'INT'; values: Int32Array }
  | { kind: 'LONG'; values: BigInt64Array }
  | { kind: 'FLOAT'; values: Float32Array }
  | { kind: 'DOUBLE'; values: Float64Array }
  | { kind: 'BYTES'; values: VarBytes };

/** Multi-value rows: row r holds elements `offsets[r] .. offsets[r+1]` (relative to the block). */
export interface MultiValueBlock<T> {
  /** `rows + 1` entries, first is 0. */
  offsets: Int32Array;
  values: T;
}

/** Forward index of a dictionary-encoded single-value column. */
export interface SVDictForwardReader {
  readonly kind: 'sv-dict';
  /**
   * Dict ids of docs `[start, end)`. Fast for ascending sequential calls. Each id is checked against the
   * cardinality unless `unchecked` (for callers that bound every id themselves, e.g. renumberIds; 32-bit ids
   * are checked regardless, as the caller may use −1 as a mark).
   */
  readDictIds(start: number, end: number, opts?: { unchecked?: boolean }): Int32Array;
}

/** Forward index of a dictionary-encoded multi-value column (fixed-bit MV or MV_ENTRY_DICT). */
export interface MVDictForwardReader {
  readonly kind: 'mv-dict';
  readDictIds(start: number, end: number): MultiValueBlock<Int32Array>;
}

/** Raw (no dictionary) single-value forward index. */
export interface SVRawForwardReader {
  readonly kind: 'sv-raw';
  read(start: number, end: number): ValueBlock;
}

/** Raw (no dictionary) multi-value forward index. */
export interface MVRawForwardReader {
  readonly kind: 'mv-raw';
  read(start: number, end: number): MultiValueBlock<ValueBlock>;
}

export type ForwardReader = SVDictForwardReader | MVDictForwardReader | SVRawForwardReader | MVRawForwardReader;

/**
 * The files of one segment directory, by path relative to the directory that holds
 * `metadata.properties` (e.g. `metadata.properties`, `index_map`, `columns.psf`, `col.dict`).
 * Implemented over a local directory by `src/sources/`, over a Map in tests.
 */
export interface SegmentFiles {
  list(): string[];
  has(name: string): boolean;
  open(name: string): ByteRange;
}
