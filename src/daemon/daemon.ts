/**
 * The daemon: one process that opens the state store, loads the DataExportTask table configs, joins the
 * generator's leader election and runs an executor.
 *
 * - Every instance executes (executor.ts polls the table records for runnable tasks).
 * - The leader runs each table's generator on its Quartz `schedule`, once right after it is elected (a fresh
 *   daemon does not wait for the first fire time), and again whenever a task finishes while the last cycle
 *   left eligible segments untasked because of `tableMaxNumTasks`; `schedule(table)` runs a cycle on demand.
 *   A cycle that failed on a retryable error is run again after the `retry` backoff (doubling per failure).
 * - `runOnce()` (the `--once` mode for cron and CI) does not campaign: it alternates "drain the backlog" and
 *   "run a cycle" until a cycle right after a drain emits nothing. The generator's compare-and-set keeps this
 *   correct next to a running leader (generator.ts: correctness does not depend on leadership). For an
 *   iceberg-rest table each cycle ends with the commit hook, and a round that committed staged files goes on
 *   (the commit made room for new tasks): the run ends only when a cycle emitted nothing and committed
 *   nothing, so STAGED tasks are outstanding until committed.
 * - iceberg-rest tables (iceberg-target.ts): a cycle creates at most `threshold − staged − in flight` new
 *   tasks (committer.ts row 4), and the commit hook is told how many eligible segments are still untasked.
 *
 * Everything observable goes out as ExportEvents (metrics and logs subscribe); `health()` and the rest of
 * DaemonControl serve the HTTP API.
 */
import { selectEligible } from '../control/eligibility.js';
import { DeepStoreSegmentSource, ZkSegmentSource, type ListOptions, type SegmentListing, type SegmentSource } from '../control/discovery.js';
import { ExportEvents } from '../control/events.js';
import { Executor } from '../control/executor.js';
import type { ExportTarget } from '../control/export-target.js';
import { FilesystemTarget } from '../control/filesystem-target.js';
import { IcebergTarget } from '../control/iceberg-target.js';
import { Generator, type GenerationReport, type GeneratorTableConfig } from '../control/generator.js';
import { Scheduler, type TriggerKind } from '../control/scheduler.js';
import { ConfigError, errorCode, ErrorCodes, errorMessage, ExporterError } from '../errors.js';
import { parseTableSchema } from '../pipeline/table-schema.js';
import { parseCatalogSettings } from '../sinks/iceberg/catalog-config.js';
import { FileStateStore } from '../state/file-store.js';
import { emptyTableState, type TableState } from '../state/records.js';
import { updateTable, type ClaimInfo, type Leadership, type StateStore } from '../state/store.js';
import { exponentialBackoff, isInFlight } from '../state/table-state.js';
import { ZkClient } from '../state/zk-client.js';
import { ZooKeeperStateStore } from '../state/zookeeper-store.js';
import {
  dataExportConfigFromTableConfig, listRealtimeTablesInZk, readTableConfigFiles, readTableConfigFromZk, realtimeName,
  type DataExportTaskConfig, type TableConfigSource,
} from './config.js';
import type { DaemonControl, HealthCheck, HealthReport, ScheduleResult, TableHealth, TableInfo } from './control-surface.js';
import type { DaemonConfig } from './daemon-config.js';

export type TargetFactory = (config: DataExportTaskConfig, events: ExportEvents) => ExportTarget;

/** A target that stages files and commits them in batches (iceberg-rest): the daemon caps and informs it. */
export interface BatchingTarget extends ExportTarget {
  /** New tasks the next cycle may create (threshold − staged − in flight). */
  emitRoom(state: TableState | undefined): number;
  /** Eligible segments not tasked yet, for the commit decision. */
  setEligibleSegments(count: number): void;
}

export function isBatchingTarget(t: ExportTarget): t is BatchingTarget {
  const b = t as Partial<BatchingTarget>;
  return typeof b.emitRoom === 'function' && typeof b.setEligibleSegments === 'function';
}

export interface DaemonOptions {
  events?: ExportEvents;
  /** Target implementations by `externalTable.target`; `filesystem` is built in. */
  targets?: Partial<Record<DataExportTaskConfig['target'], TargetFactory>>;
  now?: () => number;
  /** How long a destination check result is reused by `health()` (default 60 s). */
  healthCacheMs?: number;
}

export interface ExportedSegment {
  table: string;
  segment: string;
  files: string[];
  rows: number;
  bytes: number;
  reused: boolean;
  attempt: number;
}

export interface FailedSegment {
  table: string;
  segment: string;
  code: string;
  message: string;
  attempts: number;
}

export interface StagedSegment {
  table: string;
  segment: string;
}

export interface CommittedSnapshot {
  table: string;
  snapshotId: string;
  files: number;
  rows: number;
}

export interface RunSummary {
  /** Completed by this run (iceberg-rest: the data file written and staged; see `commits`). */
  exported: ExportedSegment[];
  /** Iceberg snapshots appended by this run. */
  commits: CommittedSnapshot[];
  /** STAGED at the end of the run (written, not committed: a commit failed or the run was stopped). */
  staged: StagedSegment[];
  /** Parked FAILED in the state at the end of the run (this run's and earlier ones), needing an operator. */
  failed: FailedSegment[];
  /** Attempts that failed and were retried. */
  retries: number;
  generationErrors: Array<{ table: string; code: string; message: string }>;
  cycles: number;
  seconds: number;
}

interface TableEntry {
  config: DataExportTaskConfig;
  target: ExportTarget;
  generator: GeneratorTableConfig;
}

/** Keeps the last listing of each table, for backlog and lag figures between cycles. */
class RecordingSource implements SegmentSource {
  readonly last = new Map<string, SegmentListing>();

  constructor(private readonly inner: SegmentSource) {}

  async list(table: string, options?: ListOptions): Promise<SegmentListing> {
    const listing = await this.inner.list(table, options);
    this.last.set(table, listing);
    return listing;
  }
}

export class Daemon implements DaemonControl {
  readonly instance: string;
  readonly events: ExportEvents;
  readonly startedAtMs: number;
  private readonly now: () => number;
  private readonly executor: Executor;
  private readonly generator: Generator;
  private readonly cycles = new Map<string, Promise<unknown>>();
  private readonly lastSuccess = new Map<string, number>();
  /** The state records the last health check read, for figures while the store is unreachable. */
  private readonly lastReadStates = new Map<string, { state: TableState | undefined; atMs: number }>();
  /** Tables whose last cycle left eligible segments without a task because of `tableMaxNumTasks`. */
  private readonly capped = new Map<string, boolean>();
  private readonly destinationChecks = new Map<string, { atMs: number; check: HealthCheck }>();
  private readonly stopController = new AbortController();
  private schedulers: Scheduler[] = [];
  private leadership: Leadership | undefined;
  private started = false;
  private stopped: Promise<void> | undefined;

  private constructor(
    readonly config: DaemonConfig,
    private readonly store: StateStore,
    private readonly zk: ZkClient | undefined,
    private readonly source: RecordingSource,
    private readonly entries: ReadonlyMap<string, TableEntry>,
    events: ExportEvents,
    private readonly options: DaemonOptions,
  ) {
    this.instance = config.instanceId;
    this.events = events;
    this.now = options.now ?? Date.now;
    this.startedAtMs = this.now();
    this.generator = new Generator({ store, source, owner: this.instance, now: this.now });
    this.executor = new Executor({
      store, instance: this.instance, events,
      targets: new Map([...entries].map(([t, e]) => [t, e.target])),
      retry: { maxAttempts: config.retry.maxAttempts, backoffMs: exponentialBackoff(config.retry.backoffMs, config.retry.maxBackoffMs) },
      concurrency: config.executor.concurrency,
      pollIntervalMs: config.executor.pollIntervalMs,
      workDir: config.workDir,
      s3: config.s3 === undefined ? undefined : { region: config.s3.region, endpoint: config.s3.endpoint, forcePathStyle: config.s3.pathStyle },
      now: this.now,
    });
  }

  /** Connects the state store (and ZooKeeper), loads and validates every table config, builds the targets. */
  static async open(config: DaemonConfig, options: DaemonOptions = {}): Promise<Daemon> {
    const events = options.events ?? new ExportEvents();
    let zk: ZkClient | undefined;
    let store: StateStore | undefined;
    const targets: ExportTarget[] = [];
    try {
      if (config.zookeeper !== undefined) {
        zk = await ZkClient.connect({
          connectionString: config.zookeeper.connect, sessionTimeoutMs: config.zookeeper.sessionTimeoutMs, connectTimeoutMs: config.zookeeper.connectTimeoutMs,
        });
      }
      const cluster = config.zookeeper?.cluster ?? 'PinotCluster';
      store = config.state.type === 'file'
        ? await FileStateStore.open({ dir: config.state.dir, claimTtlMs: config.state.claimTtlMs })
        : new ZooKeeperStateStore({ client: zk!, cluster });
      const inner: SegmentSource = config.discovery.type === 'deepstore'
        ? new DeepStoreSegmentSource({ root: config.discovery.root, workDir: config.workDir })
        : new ZkSegmentSource({ client: zk!, cluster });

      const entries = new Map<string, TableEntry>();
      for (const source of await loadTableConfigs(config, zk)) {
        const parsed = dataExportConfigFromTableConfig(source);
        if (parsed === undefined) {
          events.emit('log', { level: 'warn', message: `${source.where} has no DataExportTask config: skipped` });
          continue;
        }
        const c = parsed.config;
        for (const w of parsed.warnings) events.emit('log', { level: 'warn', message: `${c.table}: ${w}`, fields: { table: c.table } });
        if (entries.has(c.table)) {
          throw new ConfigError(ErrorCodes.CONFIG_INVALID, `table ${c.table} is configured twice (again in ${source.where})`, { context: { table: c.table, file: source.where } });
        }
        const target = makeTarget(c, events, options, config, store);
        targets.push(target);
        entries.set(c.table, {
          config: c, target,
          generator: { table: c.table, sourceTable: c.sourceTable, bufferMs: c.bufferMs, initialWatermarkMs: c.initialWatermarkMs, tableMaxNumTasks: c.tableMaxNumTasks },
        });
        events.emit('log', { level: 'info', message: `table ${c.table}: ${c.target} → ${target.destination}`, fields: { table: c.table, schedule: c.schedule ?? null } });
      }
      if (entries.size === 0) {
        throw new ConfigError(ErrorCodes.CONFIG_INVALID, 'no table with a DataExportTask config was found (tables.files / tables.zookeeper)', { context: { key: 'tables' } });
      }
      return new Daemon(config, store, zk, new RecordingSource(inner), entries, events, options);
    } catch (err) {
      await Promise.all(targets.map((t) => t.close().catch(() => undefined)));
      await store?.close().catch(() => undefined);
      zk?.close();
      throw err;
    }
  }

  /** Long-running mode: executes tasks, and generates them while leader. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.executor.start();
    this.leadership = await this.store.campaign(this.instance, (signal) => this.onElected(signal));
  }

  /** Generates and executes until the backlog is drained and nothing is left STAGED; FAILED (parked) tasks do not block. */
  async runOnce(): Promise<RunSummary> {
    const started = performance.now();
    const summary: RunSummary = { exported: [], commits: [], staged: [], failed: [], retries: 0, generationErrors: [], cycles: 0, seconds: 0 };
    const offs = [
      this.events.on('iceberg.committed', (e) => summary.commits.push({ table: e.table, snapshotId: e.snapshotId, files: e.files, rows: e.rows })),
      this.events.on('task.completed', (e) => summary.exported.push({ table: e.table, segment: e.segment, files: e.files, rows: e.rows, bytes: e.bytes, reused: e.reused, attempt: e.attempt })),
      this.events.on('task.failed', (e) => { if (!e.parked) summary.retries++; }),
    ];
    const broken = new Set<string>();
    try {
      // An unreachable destination would park every task of the table: check first, skip such a table.
      for (const [table, e] of this.entries) {
        try {
          await e.target.check();
        } catch (err) {
          broken.add(table);
          summary.generationErrors.push({ table, code: errorCode(err), message: `destination ${e.target.destination} is not usable: ${errorMessage(err)}` });
          this.events.emit('log', { level: 'error', message: `${table}: destination ${e.target.destination} is not usable; the table is skipped`, fields: { table, code: errorCode(err) } });
        }
      }
      this.executor.pause(broken);
      for (;;) {
        await this.executor.drain();
        if (this.stopController.signal.aborted) break;
        let emitted = 0;
        let committed = 0;
        for (const table of this.entries.keys()) {
          if (broken.has(table)) continue;
          try {
            const before = await this.stagedCount(table);
            emitted += (await this.cycle(table, 'once', this.stopController.signal)).emitted.length;
            // A commit frees room in the batch: the next round's cycle may emit again.
            if (before > 0) committed += Math.max(0, before - await this.stagedCount(table));
          } catch (err) {
            broken.add(table);
            summary.generationErrors.push({ table, code: errorCode(err), message: errorMessage(err) });
          }
        }
        summary.cycles++;
        if (emitted === 0 && committed === 0) break;
      }
      // Stopped by a signal: the store is closing; the summary says what was done up to then.
      for (const table of this.stopController.signal.aborted ? [] : this.entries.keys()) {
        const state = await this.store.read(table);
        for (const t of state?.value.tasks ?? []) {
          if (t.status === 'STAGED') summary.staged.push({ table, segment: t.segment });
          if (t.status === 'FAILED') summary.failed.push({ table, segment: t.segment, code: t.lastError?.code ?? 'UNKNOWN', message: t.lastError?.message ?? '', attempts: t.attempts });
        }
      }
    } finally {
      for (const off of offs) off();
    }
    summary.seconds = (performance.now() - started) / 1000;
    return summary;
  }

  /** Graceful shutdown: no new cycles or claims; in-flight tasks finish within the grace period or are requeued. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopController.abort(new ExporterError(ErrorCodes.TASK_SHUTDOWN, 'the daemon is stopping', { retryable: true }));
      await Promise.all(this.schedulers.map((s) => s.stop()));
      this.schedulers = [];
      await this.executor.stop(this.config.shutdownGraceMs);
      await this.leadership?.resign().catch(() => undefined);
      await Promise.allSettled([...this.cycles.values()]);
      await Promise.all([...this.entries.values()].map((e) => e.target.close().catch(() => undefined)));
      await this.store.close().catch(() => undefined);
      this.zk?.close();
    })();
    return this.stopped;
  }

  // --- DaemonControl ----------------------------------------------------------------------------------------

  tables(): TableInfo[] {
    return [...this.entries.values()].map(({ config: c, target }) => {
      const info: TableInfo = { table: c.table, sourceTable: c.sourceTable, target: c.target, destination: target.destination };
      if (c.schedule !== undefined) info.schedule = c.schedule;
      return info;
    });
  }

  async schedule(table: string): Promise<ScheduleResult> {
    const name = this.entry(table).config.table;
    const leader = this.leadership?.isLeader() ?? false;
    if (this.started && !leader) return { table: name, emitted: [], ran: false };
    const signal = this.leadership?.signal ?? this.stopController.signal;
    const report = await this.cycle(name, 'demand', signal);
    return { table: name, emitted: report.emitted.map((t) => t.id), ran: true, leader: this.instance };
  }

  async readState(table: string): Promise<TableState | undefined> {
    return (await this.store.read(this.entry(table).config.table))?.value;
  }

  async listClaims(table: string): Promise<ClaimInfo[]> {
    return this.store.listClaims(this.entry(table).config.table);
  }

  async deleteMetadata(table: string): Promise<void> {
    const name = this.entry(table).config.table;
    await updateTable(this.store, name, (s) => {
      if (s === undefined) return undefined;
      const running = s.tasks.filter((t) => t.status === 'RUNNING');
      if (running.length > 0) {
        throw new ExporterError(ErrorCodes.API_BAD_REQUEST, `${running.length} task(s) of ${name} are running (${running.slice(0, 3).map((t) => t.id).join(', ')}${running.length > 3 ? ', …' : ''}); retry when they have finished`, {
          context: { table: name },
        });
      }
      return emptyTableState(name);
    });
    this.lastSuccess.delete(name);
  }

  async health(): Promise<HealthReport> {
    const checks: Record<string, HealthCheck> = {};
    const tables: Record<string, TableHealth> = {};
    const states = new Map<string, TableState | undefined>();
    let stateReadable = true;
    try {
      for (const name of this.entries.keys()) states.set(name, (await withTimeout(this.store.read(name), 5000, 'the state store did not answer within 5 s'))?.value);
      const now = Date.now();
      for (const [name, state] of states) this.lastReadStates.set(name, { state, atMs: now });
      checks.state = { ok: true, detail: this.store.kind };
    } catch (err) {
      stateReadable = false;
      // Name where the state lives (ZooKeeper connect string, or the state directory), not only the znode.
      const where = this.config.state.type === 'file' ? this.config.state.dir : this.config.zookeeper?.connect ?? '';
      checks.state = { ok: false, detail: `${this.store.kind} ${where}: ${errorMessage(err)}` };
    }
    await Promise.all([...this.entries.values()].map(async (e) => {
      checks[`destination:${e.config.table}`] = await this.destinationCheck(e);
    }));
    for (const name of this.entries.keys()) {
      // State store unreachable: report the last figures read, marked with their age, not an empty table.
      const known = stateReadable ? undefined : this.lastReadStates.get(name);
      const state = stateReadable ? states.get(name) : known?.state;
      const tasks = state?.tasks ?? [];
      const backlog = this.backlog(name, state);
      const running = tasks.filter((t) => t.status === 'RUNNING').length;
      // `staged` is not in TableHealth's type (control-surface.ts); it is reported for iceberg-rest tables.
      const h: TableHealth & { staged?: number } = {
        exportLagSeconds: backlog.lagSeconds,
        pending: backlog.pending - running - backlog.staged,
        running,
        failed: tasks.filter((t) => t.status === 'FAILED').length,
      };
      if (this.entries.get(name)!.config.target === 'iceberg-rest') h.staged = backlog.staged;
      const last = this.lastSuccess.get(name) ?? state?.generator?.atMs;
      if (last !== undefined) h.lastSuccessfulCycleMs = last;
      if (!stateReadable) h.stateAsOfMs = known?.atMs ?? null;
      tables[name] = h;
    }
    return {
      ok: Object.values(checks).every((c) => c.ok), checks, tables, instance: this.instance,
      leader: this.leadership?.isLeader() ?? false, startedAtMs: this.startedAtMs,
    };
  }

  // --- internals -------------------------------------------------------------------------------------------

  private entry(table: string): TableEntry {
    const e = this.entries.get(realtimeName(table));
    if (e === undefined) {
      throw new ExporterError(ErrorCodes.API_NOT_FOUND, `no DataExportTask is configured for table ${table}; configured: ${[...this.entries.keys()].join(', ')}`, { context: { table } });
    }
    return e;
  }

  private onElected(signal: AbortSignal): void {
    if (this.stopController.signal.aborted) return;
    this.events.emit('leader.changed', { candidate: this.instance, leader: true });
    // A cycle that failed on a transient error (ZooKeeper or the deep store away for a moment) is retried
    // with the task backoff: without a schedule nothing else would run it again while this instance stays leader.
    const backoff = exponentialBackoff(this.config.retry.backoffMs, this.config.retry.maxBackoffMs);
    const retryTimers = new Map<string, NodeJS.Timeout>(); // at most one pending retry per table
    const failures = new Map<string, number>();
    const byTable: Map<string, Scheduler> = new Map([...this.entries.values()].map((e) => {
      const table = e.config.table;
      return [table, new Scheduler({
        schedule: e.config.schedule,
        run: async (kind: TriggerKind) => {
          await this.cycle(table, kind, signal);
          failures.delete(table);
        },
        onError: (err) => { // already reported as generation.failed by runCycle()
          if (signal.aborted || !(err instanceof ExporterError && err.retryable) || retryTimers.has(table)) return;
          const n = (failures.get(table) ?? 0) + 1;
          failures.set(table, n);
          const delayMs = backoff(n);
          this.events.emit('log', { level: 'warn', message: `generator cycle of ${table} failed (${err.code}); retried in ${delayMs} ms`, fields: { table, code: err.code, retryInMs: delayMs, failures: n } });
          const timer = setTimeout(() => {
            retryTimers.delete(table);
            if (!signal.aborted) void byTable.get(table)?.trigger('schedule');
          }, delayMs);
          timer.unref(); // never what keeps a stopping process alive
          retryTimers.set(table, timer);
        },
      })];
    }));
    const schedulers = [...byTable.values()];
    this.schedulers.push(...schedulers);
    for (const s of schedulers) {
      s.start();
      void s.trigger('schedule');
    }
    // tableMaxNumTasks bounds the tasks outstanding, not the export rate: when the last cycle left eligible
    // segments untasked because of the cap, a finished task makes room, so the next cycle runs right away.
    const off = this.events.on('task.completed', (e) => {
      if (this.capped.get(e.table) === true) void byTable.get(e.table)?.trigger('schedule');
    });
    // Likewise an Iceberg commit empties the batch (threshold − staged − in flight grows back).
    const offCommit = this.events.on('iceberg.committed', (e) => {
      if (this.capped.get(e.table) === true) void byTable.get(e.table)?.trigger('schedule');
    });
    signal.addEventListener('abort', () => {
      off();
      offCommit();
      for (const t of retryTimers.values()) clearTimeout(t);
      retryTimers.clear();
      this.events.emit('leader.changed', { candidate: this.instance, leader: false });
      this.schedulers = this.schedulers.filter((s) => !schedulers.includes(s));
      for (const s of schedulers) void s.stop();
    }, { once: true });
  }

  /** One generator cycle of a table (cycles of one table never overlap), then the target's commit hook. */
  private cycle(table: string, trigger: 'schedule' | 'demand' | 'once', signal: AbortSignal): Promise<GenerationReport> {
    const previous = this.cycles.get(table) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.runCycle(table, trigger, signal));
    this.cycles.set(table, run.catch(() => undefined));
    return run;
  }

  private async runCycle(table: string, trigger: 'schedule' | 'demand' | 'once', signal: AbortSignal): Promise<GenerationReport> {
    const e = this.entry(table);
    let report: GenerationReport;
    try {
      signal.throwIfAborted();
      let config = e.generator;
      if (isBatchingTarget(e.target)) {
        // committer.ts row 4: new tasks ≤ threshold − staged − in flight, so one batch never exceeds the threshold.
        const before = (await this.store.read(table))?.value;
        const inFlight = before?.tasks.filter(isInFlight).length ?? 0;
        config = { ...config, tableMaxNumTasks: Math.min(config.tableMaxNumTasks, inFlight + e.target.emitRoom(before)) };
      }
      report = await this.generator.generate(config, { signal });
    } catch (err) {
      this.events.emit('generation.failed', { table, atMs: this.now(), code: errorCode(err), message: errorMessage(err) });
      throw err;
    }
    const atMs = this.now();
    this.lastSuccess.set(table, atMs);
    for (const p of report.problems) {
      this.events.emit('log', { level: 'warn', message: `segment ${p.segment} of ${e.config.sourceTable} is not readable and is not exported yet: ${p.error.message}`, fields: { table, segment: p.segment, code: errorCode(p.error) } });
    }
    const state = await this.store.read(table).then((v) => v?.value, () => undefined);
    const { pending, lagSeconds, untasked } = this.backlog(table, state);
    this.capped.set(table, untasked > 0);
    this.events.emit('generation.completed', { table, atMs, emitted: report.emitted.length, pending, lagSeconds, watermarkMs: report.watermarkMs, trigger });
    if (report.emitted.length > 0) this.executor.wake();
    if (isBatchingTarget(e.target)) e.target.setEligibleSegments(untasked);
    if (e.target.commit !== undefined) await e.target.commit(signal);
    return report;
  }

  /**
   * Eligible segments not yet exported (pending, running and staged tasks, plus eligible ones not tasked yet
   * because of the cap) and the seconds since the oldest of them ended, from the state and the last listing.
   */
  private backlog(table: string, state: TableState | undefined): { pending: number; lagSeconds: number; untasked: number; staged: number } {
    const e = this.entries.get(table)!;
    const st = state ?? emptyTableState(table);
    const nowMs = this.now();
    const outstanding = st.tasks.filter((t) => t.status !== 'FAILED');
    const listing = this.source.last.get(e.config.sourceTable);
    const untasked = listing === undefined ? [] : selectEligible(st, listing.segments, { ...e.generator, tableMaxNumTasks: Number.MAX_SAFE_INTEGER }, nowMs).tasks;
    const ends = [...outstanding, ...untasked].map((t) => t.endTimeMs).filter((v): v is number => v !== undefined && v > 0);
    const oldest = ends.length === 0 ? undefined : Math.min(...ends);
    return {
      pending: outstanding.length + untasked.length, untasked: untasked.length, staged: outstanding.filter((t) => t.status === 'STAGED').length,
      lagSeconds: oldest === undefined ? 0 : Math.max(0, Math.round((nowMs - oldest) / 1000)),
    };
  }

  /** STAGED tasks of the table (0 when the state cannot be read: the cycle reports that). */
  private async stagedCount(table: string): Promise<number> {
    const state = await this.store.read(table).then((v) => v?.value, () => undefined);
    return state?.tasks.filter((t) => t.status === 'STAGED').length ?? 0;
  }

  private async destinationCheck(e: TableEntry): Promise<HealthCheck> {
    const cached = this.destinationChecks.get(e.config.table);
    const ttl = this.options.healthCacheMs ?? 60_000;
    if (cached !== undefined && this.now() - cached.atMs < ttl) return cached.check;
    let check: HealthCheck;
    try {
      await withTimeout(e.target.check(), 10_000, 'the destination check did not finish within 10 s');
      check = { ok: true, detail: e.target.destination };
    } catch (err) {
      check = { ok: false, detail: errorMessage(err) };
    }
    this.destinationChecks.set(e.config.table, { atMs: this.now(), check });
    return check;
  }
}

async function loadTableConfigs(config: DaemonConfig, zk: ZkClient | undefined): Promise<TableConfigSource[]> {
  const sources = await readTableConfigFiles(config.tables.files);
  if (config.tables.zookeeper !== false && zk !== undefined) {
    const cluster = config.zookeeper!.cluster;
    const names = config.tables.zookeeper === true ? await listRealtimeTablesInZk(zk, cluster) : config.tables.zookeeper.map(realtimeName);
    for (const name of names) {
      const source = await readTableConfigFromZk(zk, cluster, name);
      if (source === undefined) {
        throw new ConfigError(ErrorCodes.CONFIG_INVALID, `table ${name} (tables.zookeeper) has no table config in ZooKeeper`, { context: { table: name, key: 'tables.zookeeper' } });
      }
      sources.push(source);
    }
  }
  return sources;
}

function makeTarget(c: DataExportTaskConfig, events: ExportEvents, options: DaemonOptions, config: DaemonConfig, store: StateStore): ExportTarget {
  const factory = options.targets?.[c.target];
  if (factory !== undefined) return factory(c, events);
  if (c.target === 'iceberg-rest') {
    const ice = c.iceberg!; // config.ts requires it for this target
    return new IcebergTarget({
      store, table: c.table, sourceTable: c.sourceTable, ident: { namespace: ice.namespace, name: ice.tableName },
      catalog: parseCatalogSettings(ice.catalog), parquet: c.parquet, commitThreshold: ice.commitThreshold, maxCommitWaitMs: ice.maxCommitWaitMs,
      owner: config.instanceId, events,
    });
  }
  return new FilesystemTarget({
    output: c.output!,
    parquet: c.parquet,
    tableSchema: c.schema === undefined ? undefined : parseTableSchema(c.schema),
    onSinkEvent: (message) => events.emit('log', { level: 'info', message, fields: { table: c.table } }),
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
