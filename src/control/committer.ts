/**
 * The generator's per-cycle decision for an iceberg-rest table: EMIT new export tasks, WAIT for running ones,
 * or COMMIT the staged data files as one Iceberg snapshot. Pure: state in, decision out; the I/O commit loop
 * acts on it.
 *
 * Terms: staged = data files waiting in the state's Iceberg queue; in flight = tasks PENDING or RUNNING
 * (FAILED tasks are parked and do not hold a commit back); eligible = segments that could get a task now;
 * threshold = `iceberg.commitThreshold` (default 250); maxWait = the longest a staged file may wait.
 * (StarTree's public DataExportTask page does not publish its table; this is ours.)
 *
 * | # | condition (first match wins)                                        | decision | why                                      |
 * |---|---------------------------------------------------------------------|----------|------------------------------------------|
 * | 1 | staged ≥ threshold                                                  | COMMIT   | a full batch                             |
 * | 2 | staged > 0 and the oldest staged file waited ≥ maxWait              | COMMIT   | a quiet table still commits              |
 * | 3 | staged > 0, nothing in flight, nothing eligible                     | COMMIT   | drained: no more files are coming        |
 * | 4 | eligible > 0 and staged + in flight < threshold                     | EMIT     | room in the batch (emit ≤ the room left) |
 * | 5 | in flight > 0                                                       | WAIT     | the batch fills as tasks finish          |
 * | 6 | otherwise (nothing staged, running or eligible)                     | WAIT     | idle                                     |
 *
 * Row 4 caps new tasks at `threshold − staged − in flight`, so one batch never exceeds the threshold and 1,000
 * segments with threshold 250 become exactly 4 commits.
 */
import type { StagedFile, TableState, TaskStatus } from '../state/records.js';

export type CommitDecision = 'EMIT' | 'WAIT' | 'COMMIT';

export interface CommitterView {
  /** When each staged file was staged. */
  staged: readonly { stagedAtMs: number }[];
  /** Tasks of the table; PENDING and RUNNING count as in flight (STAGED files count as staged, FAILED are parked). */
  tasks: readonly { status: TaskStatus }[];
  /** Segments eligible for a new task this cycle. */
  eligibleSegments: number;
}

export interface CommitterConfig {
  /** `iceberg.commitThreshold`: staged files per commit, ≥ 1. */
  commitThreshold: number;
  /** The oldest staged file commits after this long even below the threshold, ≥ 0. */
  maxCommitWaitMs: number;
}

export const DEFAULT_COMMIT_THRESHOLD = 250;
export const DEFAULT_MAX_COMMIT_WAIT_MS = 15 * 60 * 1000;

export interface CommitterOutcome {
  decision: CommitDecision;
  reason: string;
  /** EMIT: how many tasks may be created (≥ 1). */
  emitLimit?: number;
  /** COMMIT: how many staged files go into the snapshot (oldest first; at most the threshold). */
  commitCount?: number;
}

export function decide(state: CommitterView, config: CommitterConfig, nowMs: number): CommitterOutcome {
  const threshold = config.commitThreshold;
  if (!Number.isSafeInteger(threshold) || threshold < 1) throw new RangeError(`commitThreshold must be an integer ≥ 1, got ${threshold}`);
  if (!(config.maxCommitWaitMs >= 0)) throw new RangeError(`maxCommitWaitMs must be ≥ 0, got ${config.maxCommitWaitMs}`);
  const staged = state.staged.length;
  const inFlight = state.tasks.filter((t) => t.status === 'PENDING' || t.status === 'RUNNING').length;
  const eligible = Math.max(0, state.eligibleSegments);
  const commit = (reason: string): CommitterOutcome => ({ decision: 'COMMIT', reason, commitCount: Math.min(staged, threshold) });

  if (staged >= threshold) return commit(`${staged} staged files reached the commit threshold ${threshold}`);
  if (staged > 0) {
    const oldest = Math.min(...state.staged.map((s) => s.stagedAtMs));
    const waited = nowMs - oldest;
    if (waited >= config.maxCommitWaitMs) return commit(`the oldest of ${staged} staged files waited ${waited} ms (max ${config.maxCommitWaitMs} ms)`);
    if (inFlight === 0 && eligible === 0) return commit(`${staged} staged files and no task running or segment eligible`);
  }
  const room = threshold - staged - inFlight;
  if (eligible > 0 && room > 0) {
    const emitLimit = Math.min(room, eligible);
    return { decision: 'EMIT', reason: `${eligible} eligible segments, room for ${room} more files in this batch`, emitLimit };
  }
  if (inFlight > 0) return { decision: 'WAIT', reason: `${inFlight} tasks in flight, ${staged} of ${threshold} files staged` };
  return { decision: 'WAIT', reason: 'idle: nothing staged, running or eligible' };
}

/** The view `decide` needs, from the table state and this cycle's eligible-segment count. */
export function committerView(state: Pick<TableState, 'tasks' | 'iceberg'>, eligibleSegments: number): CommitterView {
  return { staged: state.iceberg?.staged ?? [], tasks: state.tasks, eligibleSegments };
}

/** The staged files a COMMIT takes: the `count` oldest (by stagedAtMs, then path, so retries pick the same set). */
export function filesToCommit(staged: readonly StagedFile[], count: number): StagedFile[] {
  return [...staged].sort((a, b) => a.stagedAtMs - b.stagedAtMs || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).slice(0, count);
}
