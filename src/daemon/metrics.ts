/**
 * Prometheus metrics of the daemon, on its own prom-client Registry (never the global one, so two daemons
 * in one process — tests — do not share counters). Everything is driven by ExportEvents; labels carry table
 * names (with type), stable error codes and small enums only — never URIs, messages or credentials.
 *
 * | metric | type | labels | meaning |
 * |---|---|---|---|
 * | `pinot_export_segments_exported_total` | counter | table | segments whose export completed (published, or already present in the sink) |
 * | `pinot_export_segments_reused_total` | counter | table | completed exports that found the content already published and wrote nothing |
 * | `pinot_export_rows_exported_total` | counter | table | rows in completed exports |
 * | `pinot_export_bytes_exported_total` | counter | table | bytes of published files of completed exports |
 * | `pinot_export_files_published_total` | counter | table | files reported by completed exports |
 * | `pinot_export_task_failures_total` | counter | table, code | failed task attempts, by ExporterError code |
 * | `pinot_export_tasks_parked_total` | counter | table, code | tasks parked as FAILED (no attempts left, or not retryable) |
 * | `pinot_export_task_retries_total` | counter | table | failed attempts that were scheduled for a retry |
 * | `pinot_export_tasks_released_total` | counter | table, reason | attempts given up without a verdict (`claim-lost`, `shutdown`) |
 * | `pinot_export_task_duration_seconds` | histogram | table, outcome | duration of finished attempts (`completed`, `failed`); buckets 0.5 s … 1 h |
 * | `pinot_export_tasks_in_flight` | gauge | table | attempts started on this instance and not finished yet |
 * | `pinot_export_pending_segments` | gauge | table | eligible segments not yet exported, at the last generator cycle |
 * | `pinot_export_lag_seconds` | gauge | table | seconds since the oldest eligible, not yet exported segment ended, at the last cycle (0: none) |
 * | `pinot_export_watermark_timestamp_seconds` | gauge | table | the table's watermark (epoch seconds) after the last cycle |
 * | `pinot_export_last_successful_generation_timestamp_seconds` | gauge | table | end of the last successful generator cycle (epoch seconds) |
 * | `pinot_export_generations_total` | counter | table, trigger | successful generator cycles (`schedule`, `demand`, `once`) |
 * | `pinot_export_generation_failures_total` | counter | table, code | failed generator cycles, by error code |
 * | `pinot_export_tasks_emitted_total` | counter | table | tasks created by generator cycles |
 * | `pinot_export_generator_leader` | gauge | | 1 while this instance is the generator's leader, else 0 |
 * | `pinot_export_iceberg_decisions_total` | counter | table, decision | Iceberg committer decisions (`EMIT`, `WAIT`, `COMMIT`) |
 * | `pinot_export_iceberg_staged_files` | gauge | table | data files staged and waiting for an Iceberg commit, at the last decision |
 * | `pinot_export_iceberg_commits_total` | counter | table | Iceberg snapshots committed |
 * | `pinot_export_iceberg_committed_files_total` | counter | table | data files added by committed snapshots |
 * | `pinot_export_iceberg_committed_rows_total` | counter | table | rows added by committed snapshots |
 * | `pinot_export_iceberg_commit_attempts_total` | counter | table | catalog commit requests made for committed snapshots (retries included) |
 *
 * With `defaultMetrics: true` prom-client's process metrics are added with the same prefix
 * (`pinot_export_process_cpu_seconds_total`, `pinot_export_nodejs_heap_size_used_bytes`, …).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ExportEvents } from '../control/events.js';

export const METRIC_PREFIX = 'pinot_export_';

/** Task durations: seconds for small segments up to an hour for 1 GB ones on a busy node. */
export const DURATION_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900, 1800, 3600];

export interface ExportMetricsOptions {
  /** Also collect prom-client's default process metrics (default false). */
  defaultMetrics?: boolean;
}

export class ExportMetrics {
  readonly registry = new Registry();
  private readonly inFlight = new Set<string>();

  private readonly segments = this.counter('segments_exported_total', 'Segments whose export completed (published, or already present in the sink).', ['table']);
  private readonly reused = this.counter('segments_reused_total', 'Completed exports that found the content already published and wrote nothing.', ['table']);
  private readonly rows = this.counter('rows_exported_total', 'Rows in completed exports.', ['table']);
  private readonly bytes = this.counter('bytes_exported_total', 'Bytes of files published by completed exports.', ['table']);
  private readonly files = this.counter('files_published_total', 'Files reported by completed exports.', ['table']);
  private readonly failures = this.counter('task_failures_total', 'Failed task attempts, by error code.', ['table', 'code']);
  private readonly parked = this.counter('tasks_parked_total', 'Tasks parked as FAILED, by error code.', ['table', 'code']);
  private readonly retries = this.counter('task_retries_total', 'Failed task attempts scheduled for a retry.', ['table']);
  private readonly released = this.counter('tasks_released_total', 'Task attempts given up without a verdict, by reason.', ['table', 'reason']);
  private readonly duration = new Histogram({
    name: `${METRIC_PREFIX}task_duration_seconds`, help: 'Duration of finished task attempts in seconds, by outcome.',
    labelNames: ['table', 'outcome'], buckets: DURATION_BUCKETS, registers: [this.registry],
  });
  private readonly running = this.gauge('tasks_in_flight', 'Task attempts started on this instance and not finished yet.', ['table']);
  private readonly pending = this.gauge('pending_segments', 'Eligible segments not yet exported, at the last generator cycle.', ['table']);
  private readonly lag = this.gauge('lag_seconds', 'Seconds since the oldest eligible, not yet exported segment ended, at the last generator cycle.', ['table']);
  private readonly watermark = this.gauge('watermark_timestamp_seconds', 'The table watermark after the last generator cycle, in epoch seconds.', ['table']);
  private readonly lastGeneration = this.gauge('last_successful_generation_timestamp_seconds', 'End of the last successful generator cycle, in epoch seconds.', ['table']);
  private readonly generations = this.counter('generations_total', 'Successful generator cycles, by trigger.', ['table', 'trigger']);
  private readonly generationFailures = this.counter('generation_failures_total', 'Failed generator cycles, by error code.', ['table', 'code']);
  private readonly emitted = this.counter('tasks_emitted_total', 'Tasks created by generator cycles.', ['table']);
  private readonly leader = this.gauge('generator_leader', '1 while this instance is the generator leader, else 0.', []);
  private readonly decisions = this.counter('iceberg_decisions_total', 'Iceberg committer decisions.', ['table', 'decision']);
  private readonly staged = this.gauge('iceberg_staged_files', 'Data files staged for an Iceberg commit, at the last committer decision.', ['table']);
  private readonly commits = this.counter('iceberg_commits_total', 'Iceberg snapshots committed.', ['table']);
  private readonly commitFiles = this.counter('iceberg_committed_files_total', 'Data files added by committed Iceberg snapshots.', ['table']);
  private readonly commitRows = this.counter('iceberg_committed_rows_total', 'Rows added by committed Iceberg snapshots.', ['table']);
  private readonly commitAttempts = this.counter('iceberg_commit_attempts_total', 'Catalog commit requests made for committed Iceberg snapshots.', ['table']);

  constructor(options: ExportMetricsOptions = {}) {
    this.leader.set(0);
    if (options.defaultMetrics === true) collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** Updates the metrics from `events`; returns the unsubscribe function. */
  subscribe(events: ExportEvents): () => void {
    const offs = [
      events.on('task.started', (e) => {
        const key = attemptKey(e);
        if (this.inFlight.has(key)) return;
        this.inFlight.add(key);
        this.running.inc({ table: e.table });
      }),
      events.on('task.completed', (e) => {
        this.finish(e);
        const t = { table: e.table };
        this.segments.inc(t);
        if (e.reused) this.reused.inc(t);
        this.rows.inc(t, nonNegative(e.rows));
        this.bytes.inc(t, nonNegative(e.bytes));
        this.files.inc(t, e.files.length);
        this.duration.observe({ table: e.table, outcome: 'completed' }, nonNegative(e.seconds));
      }),
      events.on('task.failed', (e) => {
        this.finish(e);
        this.failures.inc({ table: e.table, code: e.code });
        if (e.parked) this.parked.inc({ table: e.table, code: e.code });
        else this.retries.inc({ table: e.table });
        this.duration.observe({ table: e.table, outcome: 'failed' }, nonNegative(e.seconds));
      }),
      events.on('task.released', (e) => {
        this.finish(e);
        this.released.inc({ table: e.table, reason: e.reason });
      }),
      events.on('generation.completed', (e) => {
        const t = { table: e.table };
        this.generations.inc({ table: e.table, trigger: e.trigger });
        this.emitted.inc(t, nonNegative(e.emitted));
        this.pending.set(t, nonNegative(e.pending));
        this.lag.set(t, nonNegative(e.lagSeconds));
        this.watermark.set(t, nonNegative(e.watermarkMs) / 1000);
        this.lastGeneration.set(t, e.atMs / 1000);
      }),
      events.on('generation.failed', (e) => this.generationFailures.inc({ table: e.table, code: e.code })),
      events.on('leader.changed', (e) => this.leader.set(e.leader ? 1 : 0)),
      events.on('iceberg.decision', (e) => {
        this.decisions.inc({ table: e.table, decision: e.decision });
        this.staged.set({ table: e.table }, nonNegative(e.staged));
      }),
      events.on('iceberg.committed', (e) => {
        const t = { table: e.table };
        this.commits.inc(t);
        this.commitFiles.inc(t, nonNegative(e.files));
        this.commitRows.inc(t, nonNegative(e.rows));
        this.commitAttempts.inc(t, nonNegative(e.attempts));
      }),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  /** An attempt ended: drop it from the in-flight gauge once (a duplicate end event changes nothing). */
  private finish(e: { table: string; taskId: string; owner: string; attempt: number }): void {
    if (this.inFlight.delete(attemptKey(e))) this.running.dec({ table: e.table });
  }

  private counter<T extends string>(name: string, help: string, labelNames: T[]): Counter<T> {
    return new Counter<T>({ name: `${METRIC_PREFIX}${name}`, help, labelNames, registers: [this.registry] });
  }

  private gauge<T extends string>(name: string, help: string, labelNames: T[]): Gauge<T> {
    return new Gauge<T>({ name: `${METRIC_PREFIX}${name}`, help, labelNames, registers: [this.registry] });
  }
}

function attemptKey(e: { table: string; taskId: string; owner: string; attempt: number }): string {
  return JSON.stringify([e.table, e.taskId, e.owner, e.attempt]);
}

/** prom-client throws on a negative counter increment; a bad event value must not break the listener chain. */
function nonNegative(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : 0;
}
