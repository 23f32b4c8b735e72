/**
 * One segment → one published Parquet file: `SegmentReader` → `segmentToParquet` → `sink.open()` in one Node
 * `pipeline`, backpressured end to end. The unit the `export` command, the daemon's executor and the
 * end-to-end bench run.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ParquetFileSummary } from '../pipeline/encoder.js';
import { byteDecidingOptions, type ParquetOptions } from '../pipeline/parquet-options.js';
import { FILE_METADATA_KEYS, segmentFileMetadata, segmentToParquet } from '../pipeline/segment-export.js';
import type { TableSchema } from '../pipeline/table-schema.js';
import { WRITER_BUILDS } from '../pipeline/version.js';
import { parquetFileName, type PublishedFile, type PublishMeta, type Sink } from '../sinks/sink.js';
import type { SegmentReader } from '../sources/segment-reader.js';

export interface ExportProgress {
  /** Rows the encoder has pulled from the segment so far. */
  rows: number;
  totalRows: number;
  /** Parquet bytes handed to the sink so far. */
  bytes: number;
  rowGroups: number;
  seconds: number;
}

export interface ExportSegmentOptions {
  reader: SegmentReader;
  sink: Sink;
  parquet: ParquetOptions;
  tableSchema?: TableSchema;
  legacyPadding?: 'refuse' | 'strip';
  /** Rewrite even when the target already holds this segment CRC and settings. */
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: ExportProgress) => void;
  onWarning?: (message: string) => void;
}

export interface ExportResult {
  file: PublishedFile;
  /** Undefined when the file was already there and nothing was encoded. */
  summary?: ParquetFileSummary;
  rows: number;
  seconds: number;
}

/**
 * One segment → one published Parquet file. The unit the CLI, the executor and the end-to-end bench run:
 * `SegmentReader` → `segmentToParquet` → `sink.open()` in one `pipeline`.
 */
export async function exportSegment(options: ExportSegmentOptions): Promise<ExportResult> {
  const { reader, sink, parquet, tableSchema } = options;
  const started = performance.now();
  const name = parquetFileName(reader.name);
  const totalRows = reader.segment.exportDocs;
  const meta: PublishMeta = {
    segment: reader.name,
    crc: segmentFileMetadata(reader, null).get(FILE_METADATA_KEYS.crc),
    fingerprint: fingerprint(parquet, tableSchema),
    rows: totalRows,
  };
  if (!options.force && sink.existing) {
    const file = await sink.existing(name, meta);
    if (file) return { file, rows: totalRows, seconds: (performance.now() - started) / 1000 };
  }

  const progress: ExportProgress = { rows: 0, totalRows, bytes: 0, rowGroups: 0, seconds: 0 };
  const report = () => options.onProgress?.({ ...progress, seconds: (performance.now() - started) / 1000 });
  const bytes = segmentToParquet(reader, {
    parquet, tableSchema, legacyPadding: options.legacyPadding, signal: options.signal, onWarning: options.onWarning,
    onProgress: (p) => {
      progress.rows = p.rows;
      progress.rowGroups = p.rowGroups;
    },
  });
  let summary: ParquetFileSummary | undefined;
  async function* tracked(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const next = await bytes.next();
      if (next.done) {
        summary = next.value;
        progress.rowGroups = summary.rowGroups.length;
        return;
      }
      progress.bytes += next.value.byteLength;
      report();
      yield next.value;
    }
  }
  const writer = sink.open(name, meta, { force: options.force });
  try {
    // highWaterMark 1: at most one row group waits between the encoder and the sink.
    await pipeline(Readable.from(tracked(), { objectMode: false, highWaterMark: 1 }), writer, { signal: options.signal });
  } catch (err) {
    // The sink's own error (code, part, key) beats the pipeline's view of it.
    throw await writer.published.then(() => err, (own: unknown) => own);
  }
  const file = await writer.published;
  return { file, summary, rows: summary?.rows ?? totalRows, seconds: (performance.now() - started) / 1000 };
}

/** Segment CRC aside, what decides the file's bytes: the Parquet settings, the table schema, our version. */
function fingerprint(options: ParquetOptions, tableSchema: TableSchema | undefined): string {
  const basis = JSON.stringify({ parquet: byteDecidingOptions(options), schema: tableSchema?.json ?? null, createdBy: WRITER_BUILDS });
  return createHash('sha256').update(basis).digest('hex').slice(0, 32);
}
