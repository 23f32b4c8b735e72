/**
 * The executor: runs the export tasks of the configured tables on this instance, at most `concurrency` at a
 * time (p-limit), following the protocol in src/state/store.ts:
 *
 *   claim → startTask (takeover when RUNNING without a live claim) → open the segment from its download URL
 *   → target.exportTask under the claim's signal → record the verdict (completeTask, retried on retryable
 *   state errors) → release the claim.
 *
 * - A failed attempt goes through `failTask` with the retry policy: back to PENDING after an exponential
 *   backoff while attempts remain and the error is retryable, else parked FAILED with its code in the state.
 * - A lost claim (session expired, lease taken over) stops the attempt with no verdict written: whoever holds
 *   the task now decides (`task.released`, reason `claim-lost`).
 * - `stop(graceMs)` stops claiming, lets in-flight tasks finish for up to the grace period, then aborts them
 *   and puts them back to PENDING without a penalty (`requeueTask`; reason `shutdown`).
 *
 * STAGED tasks (iceberg-rest: data file staged, waiting for the Iceberg commit) are never run or taken over
 * and are not part of the executor's backlog: the leader's commit completes them. FAILED tasks wait for an
 * operator.
 *
 * Work is found by polling the table records (every `pollIntervalMs`, and at once on `wake()`), so tasks
 * written by a generator on another instance are picked up without any message between instances.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { errorCode, ErrorCodes, errorMessage, ExporterError } from '../errors.js';
import type { S3Options } from '../sources/deepstore/s3.js';
import { SegmentReader } from '../sources/segment-reader.js';
import type { TableState, TaskError, TaskRecord } from '../state/records.js';
import { updateTable, type Claim, type StateStore } from '../state/store.js';
import { completeTask, failTask, findTask, isInFlight, isRunnable, requeueTask, startTask, type RetryPolicy } from '../state/table-state.js';
import type { ExportEvents, TaskEventBase } from './events.js';
import type { ExportTarget, TaskExportResult } from './export-target.js';

/** Code recorded for an error that is not an ExporterError (a bug or an unexpected library error). */

export interface ExecutorOptions {
  store: StateStore;
  /** This instance's id (claim owner, task owner). */
  instance: string;
  /** Table (name with type) → where its segments go. Only these tables' tasks are run. */
  targets: ReadonlyMap<string, ExportTarget>;
  events: ExportEvents;
  retry: RetryPolicy;
  /** Tasks run in parallel on this instance (default 2). */
  concurrency?: number;
  /** How often the table records are polled for runnable tasks (default 1000 ms). */
  pollIntervalMs?: number;
  /** Where segment archives are extracted (default the OS temp dir). */
  workDir?: string;
  /** S3 client settings for `s3://` download URLs. */
  s3?: S3Options;
  /** Attempts to record a verdict on retryable state errors (default 5). */
  recordAttempts?: number;
  now?: () => number;
}

export class Executor {
  private readonly limit: LimitFunction;
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private readonly now: () => number;
  private readonly running = new Map<string, Promise<void>>();
  private readonly shutdown = new AbortController();
  private readonly timers = new Set<NodeJS.Timeout>();
  private poller: NodeJS.Timeout | undefined;
  private passing: Promise<void> | undefined;
  private again = false;
  private stopping = false;
  private paused: ReadonlySet<string> = new Set();

  constructor(private readonly options: ExecutorOptions) {
    this.concurrency = options.concurrency ?? 2;
    this.limit = pLimit(this.concurrency);
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** Tasks being worked on by this instance. */
  get inFlight(): number {
    return this.running.size;
  }

  /** Starts polling for work. */
  start(): void {
    if (this.stopping || this.poller !== undefined) return;
    this.poller = setInterval(() => this.wake(), this.pollIntervalMs);
    this.poller.unref();
    this.wake();
  }

  /** Tables whose tasks are left alone (e.g. their destination is unusable: running them would park them all). */
  pause(tables: Iterable<string>): void {
    this.paused = new Set(tables);
  }

  /** Looks for runnable tasks now (e.g. right after a generator cycle emitted some). */
  wake(): void {
    void this.pass();
  }

  /**
   * Runs tasks until the tables' backlog is empty: no PENDING or RUNNING task left (FAILED parked tasks and
   * STAGED ones, which wait for a commit, do not count). Waits out backoffs and tasks running on other instances. Returns early when stopped.
   */
  async drain(): Promise<void> {
    while (!this.stopping) {
      await this.pass();
      if (this.running.size > 0) {
        await Promise.race(this.running.values());
        continue;
      }
      const waitMs = await this.backlogWait();
      if (waitMs === undefined) return;
      await this.sleep(Math.max(10, Math.min(waitMs, this.pollIntervalMs)));
    }
  }

  /**
   * Stops claiming; in-flight tasks may finish within `graceMs`, then they are aborted and requeued.
   * Resolves when no task of this instance runs any more.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearInterval(this.poller);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.passing;
    const all = Promise.allSettled([...this.running.values()]);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'grace'>((resolve) => { timer = setTimeout(() => resolve('grace'), Math.max(0, graceMs)); });
    const first = await Promise.race([all.then(() => 'done' as const), grace]);
    clearTimeout(timer);
    if (first === 'grace') {
      this.shutdown.abort(new ExporterError(ErrorCodes.TASK_SHUTDOWN, `the executor is shutting down; task requeued after a ${graceMs} ms grace period`, { retryable: true }));
    }
    await all;
  }

  // ---------------------------------------------------------------------------------------------------------

  /** One look at every table: starts runnable tasks while slots are free. Passes never overlap. */
  private pass(): Promise<void> {
    if (this.passing !== undefined) {
      this.again = true;
      return this.passing;
    }
    this.passing = (async () => {
      do {
        this.again = false;
        await this.findWork();
      } while (this.again && !this.stopping);
    })().finally(() => { this.passing = undefined; });
    return this.passing;
  }

  private async findWork(): Promise<void> {
    const { store, targets, events } = this.options;
    for (const table of targets.keys()) {
      if (this.stopping || this.running.size >= this.concurrency) return;
      if (this.paused.has(table)) continue;
      try {
        const got = await store.read(table);
        if (got === undefined) continue;
        const nowMs = this.now();
        const mine = (t: TaskRecord) => this.running.has(key(table, t.id));
        const orphanCandidates = got.value.tasks.filter((t) => t.status === 'RUNNING' && !mine(t));
        // A RUNNING task whose claim is gone lost its owner: take it over (store.claim below is the real test).
        const live = orphanCandidates.length === 0 ? new Set<string>() : new Set((await store.listClaims(table)).map((c) => c.taskId));
        const runnable = got.value.tasks
          .filter((t) => !mine(t) && (isRunnable(t, nowMs) || (t.status === 'RUNNING' && !live.has(t.id))))
          .sort(oldestFirst);
        for (const task of runnable) {
          if (this.stopping || this.running.size >= this.concurrency) return;
          this.launch(table, task);
        }
      } catch (err) {
        events.emit('log', { level: 'warn', message: `cannot look for tasks of ${table}: ${errorMessage(err)}`, fields: { table, code: errorCode(err) } });
      }
    }
  }

  private launch(table: string, task: TaskRecord): void {
    const k = key(table, task.id);
    const run = this.limit(() => this.runTask(table, task))
      .catch((err: unknown) => {
        this.options.events.emit('log', { level: 'error', message: `task ${task.id} of ${table}: ${errorMessage(err)}`, fields: { table, segment: task.segment, code: errorCode(err) } });
      })
      .finally(() => {
        this.running.delete(k);
        if (!this.stopping) this.wake();
      });
    this.running.set(k, run);
  }

  private async runTask(table: string, seen: TaskRecord): Promise<void> {
    const { store, instance: owner, events } = this.options;
    const target = this.options.targets.get(table)!;
    if (this.stopping) return;
    const claim = await store.claim(table, seen.id, owner);
    if (claim === undefined) return; // someone else works on it
    let reader: SegmentReader | undefined;
    try {
      const up = await updateTable(store, table, (s) => (s === undefined ? undefined : startTask(s, seen.id, owner, this.now(), { takeover: seen.status === 'RUNNING' })));
      if (up === undefined || !up.changed) return; // done, parked or taken meanwhile
      const task = findTask(up.state, seen.id)!;
      const base: TaskEventBase = { table, segment: task.segment, taskId: task.id, owner, attempt: task.attempts };
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      events.emit('task.started', base);
      const { signal, dispose } = linkedSignal(claim.signal, this.shutdown.signal);
      try {
        reader = await SegmentReader.open(task.downloadUrl, { workDir: this.options.workDir, s3: this.options.s3, signal });
        const result = await target.exportTask(task, {
          table, owner, attempt: task.attempts, reader, signal,
          warn: (message) => events.emit('log', { level: 'warn', message, fields: { table, segment: task.segment } }),
        });
        // Published, but the claim may have gone meanwhile: then the verdict belongs to the new holder. (A
        // shutdown past this point still records the completion: the work is done.)
        claim.signal.throwIfAborted();
        await this.record(table, task, result, claim);
        events.emit('task.completed', { ...base, rows: result.rows, bytes: result.bytes, seconds: seconds(), files: result.files, reused: result.reused });
      } catch (err) {
        await this.onFailure(table, task, base, err, claim, seconds());
      } finally {
        dispose();
      }
    } finally {
      await reader?.close().catch(() => undefined);
      await claim.release();
    }
  }

  /** Records the verdict; retryable state errors (ZooKeeper unreachable for a moment) are retried with backoff. */
  private async record(table: string, task: TaskRecord, result: TaskExportResult, claim: Claim): Promise<void> {
    const { store, instance: owner } = this.options;
    const transition = result.record ?? ((s: TableState, t: TaskRecord, o: string, nowMs: number) => {
      const next = completeTask(s, t, o, nowMs, { files: result.files, rows: result.rows });
      return next === s ? undefined : next;
    });
    const attempts = this.options.recordAttempts ?? 5;
    for (let i = 1; ; i++) {
      try {
        await updateTable(store, table, (s) => (s === undefined ? undefined : transition(s, task, owner, this.now())), { signal: claim.signal });
        return;
      } catch (err) {
        if (claim.signal.aborted || i >= attempts || !(err instanceof ExporterError && err.retryable)) throw err;
        await this.sleep(Math.min(5000, 100 * 2 ** i));
      }
    }
  }

  private async onFailure(table: string, task: TaskRecord, base: TaskEventBase, err: unknown, claim: Claim, seconds: number): Promise<void> {
    const { store, instance: owner, events, retry } = this.options;
    if (claim.signal.aborted) {
      events.emit('task.released', { ...base, reason: 'claim-lost' });
      return;
    }
    if (this.shutdown.signal.aborted) {
      await updateTable(store, table, (s) => (s === undefined ? undefined : requeueTask(s, task.id, owner)));
      events.emit('task.released', { ...base, reason: 'shutdown' });
      return;
    }
    const error = taskError(err);
    const nowMs = this.now();
    const up = await updateTable(store, table, (s) => (s === undefined ? undefined : failTask(s, task.id, owner, error, nowMs, retry)));
    const after = up?.changed === true ? findTask(up.state, task.id) : undefined;
    if (after === undefined) {
      // Not ours any more (an operator reset it, or it was taken over): no verdict of ours applies.
      events.emit('task.released', { ...base, reason: 'claim-lost' });
      return;
    }
    const parked = after.status === 'FAILED';
    const retryInMs = parked ? undefined : Math.max(0, (after.notBeforeMs ?? nowMs) - nowMs);
    events.emit('task.failed', { ...base, ...error, parked, seconds, ...(retryInMs === undefined ? {} : { retryInMs }) });
    if (retryInMs !== undefined && !this.stopping) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.wake();
      }, retryInMs + 5);
      timer.unref();
      this.timers.add(timer);
    }
  }

  /** Milliseconds until the backlog may move again; undefined when no PENDING or RUNNING task is left. */
  private async backlogWait(): Promise<number | undefined> {
    let wait: number | undefined;
    for (const table of this.options.targets.keys()) {
      if (this.paused.has(table)) continue;
      const got = await this.options.store.read(table);
      for (const t of got?.value.tasks ?? []) {
        if (!isInFlight(t)) continue;
        const ms = t.status === 'PENDING' && t.notBeforeMs !== undefined ? Math.max(0, t.notBeforeMs - this.now()) : this.pollIntervalMs;
        wait = wait === undefined ? ms : Math.min(wait, ms);
      }
    }
    return wait;
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.shutdown.signal;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/**
 * Aborted when either input is. Not AbortSignal.any: on Node 20 each call leaves a listener on the
 * long-lived shutdown signal (MaxListenersExceededWarning after ten tasks); this one is removed per task.
 */
function linkedSignal(a: AbortSignal, b: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onA = () => controller.abort(a.reason);
  const onB = () => controller.abort(b.reason);
  if (a.aborted) onA();
  else if (b.aborted) onB();
  a.addEventListener('abort', onA, { once: true });
  b.addEventListener('abort', onB, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      a.removeEventListener('abort', onA);
      b.removeEventListener('abort', onB);
    },
  };
}

function key(table: string, taskId: string): string {
  return `${table}\u0000${taskId}`;
}

function oldestFirst(a: TaskRecord, b: TaskRecord): number {
  return (a.endTimeMs ?? Number.MAX_SAFE_INTEGER) - (b.endTimeMs ?? Number.MAX_SAFE_INTEGER) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** What the state keeps about a failed attempt: the stable code decides retries, never the text. */
export function taskError(err: unknown): Omit<TaskError, 'atMs'> {
  if (err instanceof ExporterError) return { code: err.code, message: err.message, retryable: err.retryable };
  // Unknown failures are retried (bounded by maxAttempts): they may be transient (disk, sockets).
  return { code: ErrorCodes.INTERNAL, message: errorMessage(err), retryable: true };
}

