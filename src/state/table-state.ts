/**
 * Pure transitions of a TableState, shared by the generator and the executors. Each returns a new state (the
 * input is never mutated) or `undefined` when the transition does not apply, so a compare-and-set loop
 * (`updateTable` in store.ts) can re-run it against a fresher record without side effects.
 *
 * Task life cycle: PENDING --startTask--> RUNNING --completeTask--> (removed; the segment becomes progress)
 *                                         RUNNING --failTask--> PENDING (retry after backoff) | FAILED (parked)
 *                  FAILED --retryFailedTask--> PENDING        RUNNING --requeueTask--> PENDING
 * iceberg-rest:                           RUNNING --stageTask--> STAGED --completeTask (after the Iceberg
 *                  commit, iceberg-state.ts `completeCommitted`)--> (removed; progress)
 *
 * Who counts a status: PENDING and RUNNING are in flight (`isInFlight`: executors, drains, the task cap);
 * STAGED is tasked (the segment is not emitted again) but waits for a commit, not for an executor; FAILED is
 * parked for an operator. Only FAILED counts as failed.
 */
import { rangesAdd, rangesHas } from './ranges.js';
import { RECENT_LIMIT, type CompletionRecord, type TableState, type TaskError, type TaskRecord } from './records.js';

/** What identifies a segment's progress: its LLC position when it has one, else its name. */
export interface SegmentIdentity {
  segment: string;
  partition?: number;
  sequence?: number;
}

/** Whether the segment is recorded as exported (or as skipped for ending before `initialWatermarkMs`). */
export function isExported(state: TableState, seg: SegmentIdentity): boolean {
  if (seg.partition !== undefined && seg.sequence !== undefined) {
    const ranges = state.partitions[String(seg.partition)];
    return ranges !== undefined && rangesHas(ranges, seg.sequence);
  }
  return Object.hasOwn(state.named, seg.segment);
}

/** Records the segment as exported. `endTimeMs` is kept for named segments (−1 when unknown). */
export function markExported(state: TableState, seg: SegmentIdentity & { endTimeMs?: number }): TableState {
  if (seg.partition !== undefined && seg.sequence !== undefined) {
    const key = String(seg.partition);
    return { ...state, partitions: { ...state.partitions, [key]: rangesAdd(state.partitions[key] ?? [], seg.sequence) } };
  }
  return { ...state, named: { ...state.named, [seg.segment]: seg.endTimeMs ?? -1 } };
}

export function findTask(state: TableState, taskId: string): TaskRecord | undefined {
  return state.tasks.find((t) => t.id === taskId);
}

function replaceTask(state: TableState, task: TaskRecord): TableState {
  return { ...state, tasks: state.tasks.map((t) => (t.id === task.id ? task : t)) };
}

/** PENDING or RUNNING: work for an executor (STAGED waits for a commit, FAILED for an operator). */
export function isInFlight(task: Pick<TaskRecord, 'status'>): boolean {
  return task.status === 'PENDING' || task.status === 'RUNNING';
}

/** Whether an executor may start the task now (PENDING and past its backoff). */
export function isRunnable(task: TaskRecord, nowMs: number): boolean {
  return task.status === 'PENDING' && (task.notBeforeMs === undefined || task.notBeforeMs <= nowMs);
}

export interface StartOptions {
  /**
   * Take over a RUNNING task. Only after the caller holds the task's claim (store.claim succeeded), which
   * proves the previous owner's claim is gone (its session expired or its lease ran out).
   */
  takeover?: boolean;
}

/** PENDING (or, with `takeover`, RUNNING) → RUNNING by `owner`, one more attempt. */
export function startTask(state: TableState, taskId: string, owner: string, nowMs: number, options: StartOptions = {}): TableState | undefined {
  const task = findTask(state, taskId);
  if (task === undefined) return undefined;
  if (!isRunnable(task, nowMs) && !(options.takeover === true && task.status === 'RUNNING')) return undefined;
  const { notBeforeMs: _drop, ...rest } = task;
  return replaceTask(state, { ...rest, status: 'RUNNING', owner, claimedAtMs: nowMs, attempts: task.attempts + 1 });
}

export interface CompletionResult {
  files?: string[];
  rows?: number;
}

/**
 * The task's segment was published: remove the task and record the segment as exported. Idempotent: a
 * second completion of the same segment (a takeover that also finished) changes nothing.
 */
export function completeTask(state: TableState, task: TaskRecord, owner: string, nowMs: number, result: CompletionResult = {}): TableState {
  const current = findTask(state, task.id);
  if (current === undefined && isExported(state, task)) return state;
  let next: TableState = { ...state, tasks: state.tasks.filter((t) => t.id !== task.id) };
  next = markExported(next, task);
  const rec: CompletionRecord = { segment: task.segment, completedAtMs: nowMs, owner, attempts: current?.attempts ?? task.attempts };
  if (result.files !== undefined) rec.files = result.files;
  if (result.rows !== undefined) rec.rows = result.rows;
  next.recent = [...state.recent, rec].slice(-RECENT_LIMIT);
  return next;
}

/**
 * RUNNING by `owner` → STAGED (iceberg-rest: the data file is staged and waits for the commit). Also applies to
 * a task already STAGED (idempotent: the same state comes back). Undefined when the task is gone or is not
 * `owner`'s any more (taken over: the new owner decides).
 */
export function stageTask(state: TableState, taskId: string, owner: string): TableState | undefined {
  const task = findTask(state, taskId);
  if (task === undefined) return undefined;
  if (task.status === 'STAGED') return state;
  if (task.status !== 'RUNNING' || task.owner !== owner) return undefined;
  // Earlier failed attempts are history now: a staged task is not a failure (the API lists lastError as one).
  const { notBeforeMs: _drop, lastError: _error, ...rest } = task;
  return replaceTask(state, { ...rest, status: 'STAGED', owner });
}

export interface RetryPolicy {
  /** Attempts in all, the first included (≥ 1). */
  maxAttempts: number;
  /** Delay before attempt `attempt + 1`, given the attempts made so far. */
  backoffMs(attempts: number): number;
}

/** Exponential backoff: base × 2^(attempts−1), capped. */
export function exponentialBackoff(baseMs: number, maxMs: number): (attempts: number) => number {
  return (attempts) => Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

/**
 * The owner's attempt failed: back to PENDING after a backoff while attempts remain and the error is
 * retryable, else parked as FAILED with the error. A no-op (undefined) when the task is not RUNNING by
 * `owner` any more (taken over, or reset by an operator).
 */
export function failTask(state: TableState, taskId: string, owner: string, error: Omit<TaskError, 'atMs'>, nowMs: number, policy: RetryPolicy): TableState | undefined {
  const task = findTask(state, taskId);
  if (task === undefined || task.status !== 'RUNNING' || task.owner !== owner) return undefined;
  const lastError: TaskError = { ...error, message: truncate(error.message, 2000), atMs: nowMs };
  if (error.retryable && task.attempts < policy.maxAttempts) {
    return replaceTask(state, { ...task, status: 'PENDING', notBeforeMs: nowMs + policy.backoffMs(task.attempts), lastError });
  }
  return replaceTask(state, { ...task, status: 'FAILED', lastError });
}

/** RUNNING by `owner` → PENDING without a penalty (graceful shutdown before the work started). */
export function requeueTask(state: TableState, taskId: string, owner: string): TableState | undefined {
  const task = findTask(state, taskId);
  if (task === undefined || task.status !== 'RUNNING' || task.owner !== owner) return undefined;
  return replaceTask(state, { ...task, status: 'PENDING', attempts: Math.max(0, task.attempts - 1) });
}

/** An operator's retry of a parked task: FAILED → PENDING with a fresh attempt budget. */
export function retryFailedTask(state: TableState, taskId: string): TableState | undefined {
  const task = findTask(state, taskId);
  if (task === undefined || task.status !== 'FAILED') return undefined;
  const { notBeforeMs: _drop, ...rest } = task;
  return replaceTask(state, { ...rest, status: 'PENDING', attempts: 0 });
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
