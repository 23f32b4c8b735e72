/**
 * Pure transitions of the Iceberg staged-file queue (`TableState.iceberg`), used by the iceberg-rest target's
 * executors (stage a data file) and by its commit loop (prepare a batch, complete a committed batch). Like
 * table-state.ts: each returns a new state or `undefined` when there is nothing (left) to change, so a
 * compare-and-set loop may re-run it.
 *
 * A staged task: after its data file is staged the task stays in the task set with status `STAGED` — so the
 * generator does not emit the segment again and the segment is not progress yet — out of the executors' way
 * (table-state.ts `stageTask`). Only `completeCommitted`, after the catalog confirmed the snapshot, removes it
 * and records the segment as exported.
 *
 * A batch: before the catalog call the commit loop records it as the queue's `pendingCommit` (commit id and
 * file paths). After a crash the same files are therefore committed again under the same id — and the loop
 * first looks for that id in the table's `main` ancestry, so a batch that did land is completed, never
 * appended twice.
 */
import { RECENT_LIMIT, type CompletionRecord, type IcebergCommitRecord, type PendingCommit, type StagedFile, type TableState, type TaskRecord } from './records.js';
import { findTask, isExported, isInFlight, markExported, stageTask } from './table-state.js';

export function isStagedTask(task: Pick<TaskRecord, 'status'>): boolean {
  return task.status === 'STAGED';
}

export function stagedFiles(state: TableState): StagedFile[] {
  return state.iceberg?.staged ?? [];
}

export function stagedFileOf(state: TableState, segment: string): StagedFile | undefined {
  return stagedFiles(state).find((f) => f.segment === segment);
}

/** Whether the staged file at `path` belongs to the pending commit. */
export function isInPendingCommit(state: TableState, path: string): boolean {
  return state.iceberg?.pendingCommit?.files.includes(path) ?? false;
}

/** The pending commit and its staged files (in the order recorded), if any. */
export function pendingBatch(state: TableState): { commit: PendingCommit; files: StagedFile[] } | undefined {
  const commit = state.iceberg?.pendingCommit;
  if (commit === undefined) return undefined;
  const byPath = new Map(stagedFiles(state).map((f) => [f.path, f]));
  return { commit, files: commit.files.map((p) => byPath.get(p)).filter((f): f is StagedFile => f !== undefined) };
}

function withStaged(state: TableState, staged: StagedFile[]): TableState {
  return { ...state, iceberg: { ...(state.iceberg ?? { staged: [] }), staged } };
}

/**
 * The executor's verdict for the iceberg-rest target: the task's data file is staged and the task STAGED.
 * Applies to a task RUNNING by `owner`, or to one already staged. Idempotent: the same file staged again
 * changes nothing. A file of a segment that is in the pending commit is kept as it is (the batch may be in the
 * catalog already); a new path replaces one that is not.
 */
export function stageFile(state: TableState, task: TaskRecord, owner: string, nowMs: number, file: Omit<StagedFile, 'stagedAtMs'>): TableState | undefined {
  const current = findTask(state, task.id);
  if (current === undefined) return undefined; // completed meanwhile, or removed by an operator
  const staged = stageTask(state, current.id, owner);
  if (staged === undefined) return undefined; // taken over: the new owner decides
  const existing = stagedFileOf(state, current.segment);
  if (existing !== undefined && (existing.path === file.path || isInPendingCommit(state, existing.path))) {
    return staged === state ? undefined : staged;
  }
  const files = [...stagedFiles(state).filter((f) => f.segment !== current.segment), { ...file, stagedAtMs: existing?.stagedAtMs ?? nowMs }];
  return withStaged(staged, files);
}

/**
 * Records the batch of staged files at `paths` as the pending commit `commitId` (before the catalog call).
 * Undefined when a commit is pending already (another committer prepared one) or none of the paths is staged.
 */
export function assignBatch(state: TableState, paths: readonly string[], commitId: string, nowMs: number): TableState | undefined {
  if (state.iceberg?.pendingCommit !== undefined) return undefined;
  const present = new Set(stagedFiles(state).map((f) => f.path));
  const files = paths.filter((p) => present.has(p));
  if (files.length === 0) return undefined;
  return { ...state, iceberg: { ...state.iceberg!, pendingCommit: { commitId, files, preparedAtMs: nowMs } } };
}

/** Notes the snapshot id of the attempt about to be sent on the pending commit `commitId` (for the API). */
export function notePendingSnapshot(state: TableState, commitId: string, snapshotId: string): TableState | undefined {
  const pending = state.iceberg?.pendingCommit;
  if (pending === undefined || pending.commitId !== commitId || pending.snapshotId === snapshotId) return undefined;
  return { ...state, iceberg: { ...state.iceberg!, pendingCommit: { ...pending, snapshotId } } };
}

/** Staged files not in the pending commit. */
export function unassignedFiles(state: TableState): StagedFile[] {
  return stagedFiles(state).filter((f) => !isInPendingCommit(state, f.path));
}

/**
 * The segments are in the table (our commit, or one found in `main`'s ancestry): their staged files leave the
 * queue and their tasks complete — the segment becomes progress, as `completeTask` records it. With `commit`
 * the queue's `lastCommit` is set. Undefined when none of the segments is staged or tasked any more.
 */
export function completeCommitted(state: TableState, segments: ReadonlySet<string>, owner: string, nowMs: number, commit?: IcebergCommitRecord): TableState | undefined {
  const files = stagedFiles(state).filter((f) => segments.has(f.segment));
  const tasks = state.tasks.filter((t) => segments.has(t.segment));
  if (files.length === 0 && tasks.length === 0) return undefined;
  let next: TableState = withStaged(state, stagedFiles(state).filter((f) => !segments.has(f.segment)));
  const recent: CompletionRecord[] = [];
  for (const t of tasks) {
    const file = files.find((f) => f.segment === t.segment);
    next = markExported(next, t);
    const rec: CompletionRecord = { segment: t.segment, completedAtMs: nowMs, owner, attempts: t.attempts };
    if (file !== undefined) {
      rec.files = [file.path];
      rec.rows = file.recordCount;
    }
    recent.push(rec);
  }
  next.tasks = next.tasks.filter((t) => !segments.has(t.segment));
  // A staged file whose task is gone (an operator removed it) still names the segment: record it by name.
  for (const f of files) {
    if (!tasks.some((t) => t.segment === f.segment) && !isExported(next, { segment: f.segment })) next = markExported(next, { segment: f.segment });
  }
  next.recent = [...state.recent, ...recent].slice(-RECENT_LIMIT);
  // The pending commit ends with its files; a remainder stays pending (its commit id is still looked for first).
  const pending = next.iceberg!.pendingCommit;
  if (pending !== undefined) {
    const rest = pending.files.filter((p) => !files.some((f) => f.path === p));
    const { pendingCommit: _done, ...queue } = next.iceberg!;
    next.iceberg = rest.length === 0 ? queue : { ...queue, pendingCommit: { ...pending, files: rest } };
  }
  if (commit !== undefined) next.iceberg = { ...next.iceberg!, lastCommit: commit };
  return next;
}

/**
 * How many new tasks a generator cycle may create for an iceberg table (committer.ts row 4): the batch's room,
 * `threshold − staged − in flight`, never negative. STAGED tasks are not in flight, so they do not count twice.
 */
export function icebergEmitRoom(state: TableState | undefined, commitThreshold: number): number {
  if (state === undefined) return commitThreshold;
  const inFlight = state.tasks.filter(isInFlight).length;
  return Math.max(0, commitThreshold - stagedFiles(state).length - inFlight);
}
