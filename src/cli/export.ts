/**
 * `pinot-export export <segment> --config <table-config.json> [--schema <schema.json>] [--force]
 * [--progress auto|bar|lines|none]`: one segment → Parquet → the output of the table's DataExportTask
 * (`outputDirURI`, `output.fs.className`, `output.fs.prop.*`), as `<outputDirURI>/<segmentName>.parquet`.
 *
 * Everything that can be checked without the segment is checked first: the config keys, and the target
 * itself (credentials, bucket, directory). Then reader → Parquet stage → sink run as one Node `pipeline`
 * with backpressure end to end: the encoder pulls batches only as fast as the sink accepts bytes.
 * The file appears under its final name only when complete (local: rename; S3: CompleteMultipartUpload).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import type { RecordBatch } from 'apache-arrow';
import { ConfigError, ErrorCodes } from '../errors.js';
import type { ParquetFileSummary } from '../pipeline/encoder.js';
import { parseParquetOptions, type ParquetOptions } from '../pipeline/parquet-options.js';
import { FILE_METADATA_KEYS, segmentFileMetadata, segmentToParquet } from '../pipeline/segment-export.js';
import { parseTableSchema, type TableSchema } from '../pipeline/table-schema.js';
import { CREATED_BY } from '../pipeline/version.js';
import { SinkError, SinkErrorCodes } from '../sinks/errors.js';
import { createSink, parseOutputConfig } from '../sinks/fs-config.js';
import { parquetFileName, type PublishedFile, type PublishMeta, type Sink } from '../sinks/sink.js';
import { SegmentReader } from '../sources/segment-reader.js';
import { legacyPaddingOption, parse, readerOptions, S3_OPTIONS, readJson } from './args.js';
import { dataExportTaskConfig } from './convert.js';
import type { CliIo } from './program.js';

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
  const bytes = segmentToParquet(countingReader(reader, (rows) => {
    progress.rows = rows;
  }), {
    parquet, tableSchema, legacyPadding: options.legacyPadding, signal: options.signal, onWarning: options.onWarning,
  });
  let summary: ParquetFileSummary | undefined;
  async function* tracked(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const next = await bytes.next();
      if (next.done) {
        summary = next.value;
        return;
      }
      progress.bytes += next.value.byteLength;
      progress.rowGroups++;
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
function fingerprint(parquet: ParquetOptions, tableSchema: TableSchema | undefined): string {
  const basis = JSON.stringify({ parquet, schema: tableSchema?.json ?? null, createdBy: CREATED_BY });
  return createHash('sha256').update(basis).digest('hex').slice(0, 32);
}

/** The reader, with the rows of its current `batches()` pass counted as the encoder pulls them. */
function countingReader(reader: SegmentReader, onRows: (rows: number) => void): SegmentReader {
  const batches: SegmentReader['batches'] = async function* (opts) {
    let rows = 0;
    for await (const batch of reader.batches(opts) as AsyncIterable<RecordBatch>) {
      rows += batch.numRows;
      onRows(rows);
      yield batch;
    }
  };
  return Object.create(reader, { batches: { value: batches } }) as SegmentReader;
}

export async function runExport(args: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parse(() => parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      schema: { type: 'string' },
      force: { type: 'boolean' },
      progress: { type: 'string' },
      'legacy-padding': { type: 'string' },
      ...S3_OPTIONS,
    },
  }), ['segment']);
  if (values.config === undefined) throw new ConfigError(ErrorCodes.USAGE, '--config <table-config.json> is required: the table config with task.taskTypeConfigsMap.DataExportTask');
  const progressMode = progressOption(values.progress, io);
  const log = (line: string) => io.stderr.write(`pinot-export export: ${line}\n`);

  // Everything checkable without the segment, first.
  const config = dataExportTaskConfig(await readJson(values.config, 'table config'), values.config);
  const target = parseOutputConfig(config);
  const parquet = parseParquetOptions(config);
  const tableSchema = values.schema === undefined ? undefined : parseTableSchema(await readJson(values.schema, 'schema'));
  const legacyPadding = legacyPaddingOption(values['legacy-padding']);
  for (const w of target.warnings) log(`warning: ${w}`);
  const sink = await createSink(target, {
    onEvent: (e) => {
      if (e.type !== 'retry' || progressMode === 'lines') log(e.message);
    },
  });
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => abort.abort(new SinkError(SinkErrorCodes.SINK_WRITE_FAILED, `interrupted by ${signal}; nothing was published`, { retryable: true }));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  const bar = progressMode === 'bar' ? new ProgressBar(io) : undefined;
  try {
    await sink.check();
    await using reader = await SegmentReader.open(positionals[0]!, readerOptions(values));
    const uri = sink.uriFor(parquetFileName(reader.name));
    if (progressMode === 'lines') log(`${reader.name} → ${uri} (${reader.segment.exportDocs} rows)`);
    let lastLine = 0;
    const result = await exportSegment({
      reader, sink, parquet, tableSchema, legacyPadding, force: values.force, signal: abort.signal,
      onWarning: (m) => log(`warning: ${m}`),
      onProgress: (p) => {
        if (bar) bar.update(p);
        else if (progressMode === 'lines' && p.seconds - lastLine >= 1) {
          lastLine = p.seconds;
          log(`${reader.name}: ${p.rows}/${p.totalRows} rows read, ${p.rowGroups} row groups, ${mib(p.bytes)} written, ${p.seconds.toFixed(1)} s`);
        }
      },
    });
    bar?.done();
    io.stdout.write(describe(result) + '\n');
  } catch (err) {
    bar?.done();
    if (abort.signal.aborted) throw abort.signal.reason;
    throw err;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await sink.close();
  }
}

function describe(r: ExportResult): string {
  const f = r.file;
  if (f.reused || !r.summary) return `${f.uri}: already holds this segment (same CRC and settings), kept: ${f.bytes} bytes, ${r.rows} rows, ${r.seconds.toFixed(2)} s`;
  const groups = r.summary.rowGroups.length;
  const parts = f.parts !== undefined ? `, ${f.parts} part${f.parts === 1 ? '' : 's'}` : '';
  return `${f.uri}: ${f.bytes} bytes, ${r.rows} rows, ${groups} row group${groups === 1 ? '' : 's'}${parts}, ${r.seconds.toFixed(2)} s`;
}

function progressOption(value: string | undefined, io: CliIo): 'bar' | 'lines' | 'none' {
  if (value === undefined || value === 'auto') return (io.stderr as { isTTY?: boolean }).isTTY ? 'bar' : 'lines';
  if (value === 'bar' || value === 'lines' || value === 'none') return value;
  throw new ConfigError(ErrorCodes.USAGE, `--progress must be auto, bar, lines or none, got "${value}"`);
}


function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** One line on a terminal, redrawn at most 10 times a second. */
class ProgressBar {
  private last = 0;
  private drawn = false;

  constructor(private readonly io: CliIo) {}

  update(p: ExportProgress): void {
    const now = performance.now();
    if (now - this.last < 100) return;
    this.last = now;
    const fraction = p.totalRows > 0 ? Math.min(1, p.rows / p.totalRows) : 1;
    const width = 30;
    const filled = Math.round(fraction * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    this.io.stderr.write(`\r${bar} ${(fraction * 100).toFixed(0).padStart(3)}% ${p.rows}/${p.totalRows} rows, ${mib(p.bytes)}, ${p.seconds.toFixed(1)} s\x1b[K`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) this.io.stderr.write('\r\x1b[K');
    this.drawn = false;
  }
}
