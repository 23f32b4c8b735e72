/** Public API of pinot-parquet-export (embeddable components). */
export * from './errors.js';
export { SegmentReader, type SegmentReaderOptions } from './sources/segment-reader.js';
export { PinotSegment, DEFAULT_BATCH_ROWS, type BatchOptions } from './sources/pinot/segment.js';
export type { SegmentMetadata, ColumnMetadata } from './sources/pinot/metadata.js';
export type { ByteRange } from './sources/pinot/bytes.js';
export type { DataType, StoredType, SegmentFiles } from './sources/pinot/types.js';
export { openSegment, type OpenSegmentOptions, type OpenedSegment } from './sources/deepstore/index.js';
export { writeSegment, rowsSource, arrowSource, segmentSource, type ColumnSource, type WriteSegmentOptions, type WrittenSegment } from './sources/pinot/write/segment-writer.js';
export { generateSegments, type GenerateOptions, type GeneratedSegment } from './generate/generator.js';
export { parseParquetOptions, DEFAULT_PARQUET_OPTIONS, type ParquetOptions } from './pipeline/parquet-options.js';
export { toParquet, parquetStage, ParquetTransform, createParquetTransform, type ParquetStageOptions } from './pipeline/streams.js';
export { segmentToParquet } from './pipeline/segment-export.js';
export type { ParquetEncoder } from './pipeline/encoder.js';
export { parseOutputConfig, createSink, type OutputTarget } from './sinks/fs-config.js';
export type { Sink, PublishMeta, PublishedFile } from './sinks/sink.js';
export { exportSegment } from './control/export-segment.js';
export type { ExportProgress, ExportResult, ExportSegmentOptions } from './control/export-segment.js';
