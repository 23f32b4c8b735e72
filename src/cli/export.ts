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
import { parseArgs } from 'node:util';
import { ConfigError, ErrorCodes } from '../errors.js';
import { exportSegment, type ExportProgress, type ExportResult } from '../control/export-segment.js';
import { parseParquetOptions } from '../pipeline/parquet-options.js';
import { parseTableSchema } from '../pipeline/table-schema.js';
import { SinkError, SinkErrorCodes } from '../sinks/errors.js';
import { createSink, parseOutputConfig } from '../sinks/fs-config.js';
import { parquetFileName } from '../sinks/sink.js';
import { SegmentReader } from '../sources/segment-reader.js';
import { legacyPaddingOption, parse, readerOptions, S3_OPTIONS, readJson } from './args.js';
import { dataExportTaskConfig } from './convert.js';
import type { CliIo } from './program.js';

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
  private completeDrawn = false;

  constructor(private readonly io: CliIo) {}

  update(p: ExportProgress): void {
    const now = performance.now();
    // At most 10 frames a second, but the first frame at 100 % is always drawn.
    const complete = p.rows >= p.totalRows;
    if (now - this.last < 100 && !(complete && !this.completeDrawn)) return;
    this.completeDrawn ||= complete;
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
