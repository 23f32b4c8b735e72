/** Public API of pinot-parquet-export (embeddable components). */
export * from './errors.js';
export { SegmentReader, type SegmentReaderOptions } from './sources/segment-reader.js';
export { PinotSegment, DEFAULT_BATCH_ROWS, type BatchOptions } from './sources/pinot/segment.js';
export type { SegmentMetadata, ColumnMetadata } from './sources/pinot/metadata.js';
export type { ByteRange } from './sources/pinot/bytes.js';
export type { DataType, StoredType, SegmentFiles } from './sources/pinot/types.js';
export { openSegment, type OpenSegmentOptions, type OpenedSegment } from './sources/deepstore/index.js';
