/**
 * `pinot-export convert <segment> <out.parquet> [--config <table-config.json>] [--schema <schema.json>]
 * [--codec C] [--row-group-bytes N] [--writer W] [--threads N]`: one segment to one Parquet file.
 *
 * The file is written under a temporary name beside the target and renamed over it only when complete, so
 * a failed or interrupted conversion never leaves a partial file (and never clobbers an existing target).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { ConfigError, ErrorCodes, ExporterError } from '../errors.js';
import type { ParquetFileSummary } from '../pipeline/encoder.js';
import { ParquetError, ParquetErrorCodes } from '../pipeline/parquet-error.js';
import { PARQUET_KEYS, parseParquetOptions } from '../pipeline/parquet-options.js';
import { segmentToParquet } from '../pipeline/segment-export.js';
import { parseTableSchema, type TableSchema } from '../pipeline/table-schema.js';
import { SegmentReader } from '../sources/segment-reader.js';
import { legacyPaddingOption, parse, readerOptions, S3_OPTIONS, readJson } from './args.js';
import type { CliIo } from './program.js';

/** Flags that override a DataExportTask key. */
const FLAG_KEYS = {
  codec: PARQUET_KEYS.compressionCodec,
  'row-group-bytes': PARQUET_KEYS.rowGroupSizeBytes,
  writer: PARQUET_KEYS.writer,
  threads: PARQUET_KEYS.writerThreads,
} as const;


/**
 * `task.taskTypeConfigsMap.DataExportTask` of a table config (also inside the controller's
 * `{"REALTIME": {...}}` / `{"OFFLINE": {...}}` answer). Numbers and booleans become strings, as Pinot's
 * JSON mapping of `Map<String, String>` does.
 */
export function dataExportTaskConfig(tableConfig: unknown, file: string): Record<string, string> {
  const root = tableConfig as Record<string, unknown> | null;
  const config = (root && typeof root === 'object' && !('task' in root) ? (root.REALTIME ?? root.OFFLINE) : root) as
    { task?: { taskTypeConfigsMap?: { DataExportTask?: unknown } } } | null | undefined;
  const task = config?.task?.taskTypeConfigsMap?.DataExportTask;
  if (task === undefined || task === null || typeof task !== 'object' || Array.isArray(task)) {
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `${file} has no task.taskTypeConfigsMap.DataExportTask object`, {
      context: { file, key: 'task.taskTypeConfigsMap.DataExportTask' },
    });
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(task)) {
    out[k] = typeof v === 'number' || typeof v === 'boolean' ? String(v) : (v as string);
  }
  return out;
}

function describe(summary: ParquetFileSummary): string {
  const groups = summary.rowGroups.length;
  return `${summary.rows} rows, ${groups} row group${groups === 1 ? '' : 's'} (≤ ${summary.rowsPerRowGroup} rows each), ${summary.bytes} bytes`;
}

export async function runConvert(args: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parse(() => parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      schema: { type: 'string' },
      codec: { type: 'string' },
      'row-group-bytes': { type: 'string' },
      writer: { type: 'string' },
      threads: { type: 'string' },
      'legacy-padding': { type: 'string' },
      ...S3_OPTIONS,
    },
  }), ['segment', 'out.parquet']);
  const [location, target] = positionals as [string, string];

  const config = values.config === undefined ? {} : dataExportTaskConfig(await readJson(values.config, 'table config'), values.config);
  for (const [flag, key] of Object.entries(FLAG_KEYS)) {
    const v = values[flag as keyof typeof FLAG_KEYS];
    if (v !== undefined) config[key] = v;
  }
  let parquet;
  try {
    parquet = parseParquetOptions(config);
  } catch (err) {
    // Name the flag, not the key, when the bad value came from the command line.
    const flag = Object.entries(FLAG_KEYS).find(([f, key]) => err instanceof ExporterError && err.context.key === key && values[f as keyof typeof FLAG_KEYS] !== undefined);
    if (flag) throw new ConfigError(ErrorCodes.USAGE, `--${flag[0]}: ${(err as ExporterError).detail}`, { cause: err });
    throw err;
  }
  const tableSchema: TableSchema | undefined = values.schema === undefined ? undefined : parseTableSchema(await readJson(values.schema, 'schema'));
  const legacyPadding = legacyPaddingOption(values['legacy-padding']);

  await using reader = await SegmentReader.open(location, readerOptions(values));
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  // Ctrl-C / SIGTERM: stop, remove the temporary file, then report the interruption.
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => abort.abort(new ParquetError(ParquetErrorCodes.PARQUET_OUTPUT_FAILED, `interrupted by ${signal}`));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  let summary: ParquetFileSummary | undefined;
  try {
    const bytes = segmentToParquet(reader, {
      parquet, tableSchema, legacyPadding, signal: abort.signal,
      onWarning: (message) => io.stderr.write(`pinot-export convert: warning: ${message}\n`),
    });
    async function* tracked(): AsyncGenerator<Uint8Array> {
      summary = yield* bytes;
    }
    await pipeline(Readable.from(tracked(), { objectMode: false, highWaterMark: 1 }), createWriteStream(temp, { flags: 'wx' }), { signal: abort.signal });
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    if (abort.signal.aborted) throw abort.signal.reason;
    if (err instanceof ExporterError) throw err;
    throw new ParquetError(ParquetErrorCodes.PARQUET_OUTPUT_FAILED, `cannot write ${target}: ${(err as Error).message}`, { context: { file: target }, cause: err });
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
  io.stdout.write(`${target}: ${describe(summary!)}, ${parquet.compressionCodec}\n`);
}
