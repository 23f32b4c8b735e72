/**
 * The filesystem target: one segment → `<outputDirURI>/<segmentName>.parquet` on a local directory or S3, via
 * `exportSegment`. The file name is deterministic and the sink's publish is atomic and idempotent, so an
 * executor that takes over a dead owner's task re-publishes the same object (or finds it already there).
 */
import type { ParquetOptions } from '../pipeline/parquet-options.js';
import type { TableSchema } from '../pipeline/table-schema.js';
import { createSink, type OutputTarget } from '../sinks/fs-config.js';
import type { Sink } from '../sinks/sink.js';
import type { TaskRecord } from '../state/records.js';
import { exportSegment } from './export-segment.js';
import type { ExportTarget, ExportTaskContext, TaskExportResult } from './export-target.js';

export interface FilesystemTargetOptions {
  output: OutputTarget;
  parquet: ParquetOptions;
  /** The table's current Pinot schema: files follow it (schema evolution), else each segment's own columns. */
  tableSchema?: TableSchema;
  /** Sink events (S3 retries) as text; never carries credentials. */
  onSinkEvent?(message: string): void;
}

export class FilesystemTarget implements ExportTarget {
  readonly kind = 'filesystem' as const;
  private sink: Promise<Sink> | undefined;

  constructor(private readonly options: FilesystemTargetOptions) {}

  get destination(): string {
    return this.options.output.uri;
  }

  async check(): Promise<void> {
    await (await this.getSink()).check();
  }

  async exportTask(_task: TaskRecord, ctx: ExportTaskContext): Promise<TaskExportResult> {
    const sink = await this.getSink();
    const result = await exportSegment({
      reader: ctx.reader, sink, parquet: this.options.parquet, tableSchema: this.options.tableSchema, signal: ctx.signal,
      onWarning: (m) => ctx.warn(m),
    });
    return { rows: result.rows, bytes: result.file.bytes, files: [result.file.uri], reused: result.file.reused };
  }

  async close(): Promise<void> {
    const sink = this.sink;
    this.sink = undefined;
    if (sink !== undefined) await (await sink.catch(() => undefined))?.close();
  }

  private getSink(): Promise<Sink> {
    // One sink per table, created on first use (the S3 SDK loads only for S3 targets); a failed creation is retried next time.
    this.sink ??= createSink(this.options.output, { onEvent: (e) => this.options.onSinkEvent?.(e.message) }).catch((err: unknown) => {
      this.sink = undefined;
      throw err;
    });
    return this.sink;
  }
}
