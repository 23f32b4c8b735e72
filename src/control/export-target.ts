/**
 * The per-target step of an export task, behind one interface so the executor loop (executor.ts) does not
 * know where data goes. The executor opens the segment, hands the reader to `exportTask` under the claim's
 * signal, then records the verdict with the transition the result carries (default: `completeTask`, the
 * segment becomes progress and its task leaves the set).
 *
 * Targets:
 * - filesystem (filesystem-target.ts): `exportSegment` into a local directory or S3; the default verdict.
 * - iceberg-rest (iceberg-target.ts): writes the data file under the table's data location and stages it in
 *   `TableState.iceberg.staged` through its own `record` transition (task → STAGED) instead of completing;
 *   its `commit` hook (run by the leader after each generator cycle) commits staged files to the catalog as
 *   one snapshot and only then completes their tasks.
 */
import type { TableState, TaskRecord } from '../state/records.js';
import type { SegmentReader } from '../sources/segment-reader.js';

export interface ExportTaskContext {
  /** Table whose config holds the task (name with type). */
  table: string;
  /** Instance id of this executor. */
  owner: string;
  /** Attempt number (1 for the first). */
  attempt: number;
  /** The segment, opened from the task's download URL; the executor closes it. */
  reader: SegmentReader;
  /** Aborted when the claim is lost or the daemon stops waiting (shutdown): stop, publish nothing more. */
  signal: AbortSignal;
  /** Non-fatal notes (schema drift, S3 retries); the executor turns them into `log` events. */
  warn(message: string): void;
}

export interface TaskExportResult {
  rows: number;
  /** Bytes of the published files. */
  bytes: number;
  /** Published file URIs. */
  files: string[];
  /** The destination already held this content: nothing was written. */
  reused: boolean;
  /**
   * The state transition that records the verdict, run inside the executor's compare-and-set loop; must be
   * pure and idempotent, and return undefined when there is nothing (left) to change. Absent: `completeTask`.
   */
  record?: (state: TableState, task: TaskRecord, owner: string, nowMs: number) => TableState | undefined;
}

export interface ExportTarget {
  readonly kind: 'filesystem' | 'iceberg-rest';
  /** Where files go, without credentials (for the API and logs). */
  readonly destination: string;
  /** Cheap reachability check (sink pre-flight, catalog ping); throws an ExporterError naming the problem. */
  check(): Promise<void>;
  exportTask(task: TaskRecord, ctx: ExportTaskContext): Promise<TaskExportResult>;
  /** Leader only, after each generator cycle of the table (Iceberg: commit staged files). */
  commit?(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
