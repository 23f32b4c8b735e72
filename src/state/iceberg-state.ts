/**
 * Pure transitions of the Iceberg staged-file queue (`TableState.iceberg`), used by the iceberg-rest target's
 * executors (stage a data file) and by its commit loop (assign a batch, complete a committed batch). Like
 * table-state.ts: each returns a new state or `undefined` when there is nothing (left) to change, so a
 * compare-and-set loop may re-run it.
 *
 * A staged task: after its data file is staged the task stays in the task set — so the generator does not
 * emit the segment again and the segment is not progress yet — but parked out of the executors' way as
 * FAILED with the marker error code `ICEBERG_STAGED` (`FAILED` is the one status no executor runs, no drain
 * waits for and the committer does not count as in flight). Only `completeCommitted`, after the catalog
 * confirmed the snapshot, removes it and records the segment as exported.
 *
 * A batch: before the catalog call the commit loop writes its commit id onto every staged file of the batch
 * (`dataFile[BATCH_KEY]`). After a crash the same files are therefore committed again under the same id —
 * and the loop first looks for that id in the table's `main` ancestry, so a batch that did land is completed,
 * never appended twice.
 */
import { RECENT_LIMIT, type CompletionRecord, type IcebergCommitRecord, type StagedFile, type TableState, type TaskRecord } from './records.js';
import { findTask, isExported, markExported } from './table-state.js';

/** `TaskRecord.lastError.code` of a task whose data file is staged (not an error: see the file header). */
export const STAGED_CODE = 'ICEBERG_STAGED';
/** Key in `StagedFile.dataFile` holding the commit id of the batch the file was assigned to. */
export const BATCH_KEY = 'pinotExportCommitId';

export function isStagedTask(task: TaskRecord): boolean {
  return task.status === 'FAILED' && task.lastError?.code === STAGED_CODE;
}

export function stagedFiles(state: TableState): StagedFile[] {
  return state.iceberg?.staged ?? [];
}

export function stagedFileOf(state: TableState, segment: string): StagedFile | undefined {
  return stagedFiles(state).find((f) => f.segment === segment);
}

/** The commit id a staged file was assigned to, if any. */
export function batchOf(file: StagedFile): string | undefined {
  const v = file.dataFile?.[BATCH_KEY];
  return typeof v === 'string' ? v : undefined;
}

/** The data file JSON without our batch key (what data-file.ts `dataFileFromJson` reads). */
export function dataFileJsonOf(file: StagedFile): Record<string, unknown> | undefined {
  if (file.dataFile === undefined) return undefined;
  const { [BATCH_KEY]: _batch, ...rest } = file.dataFile;
  return rest;
}

function withStaged(state: TableState, staged: StagedFile[]): TableState {
  return { ...state, iceberg: { ...(state.iceberg ?? { staged: [] }), staged } };
}

function parkAsStaged(task: TaskRecord, owner: string, nowMs: number, path: string): TaskRecord {
  const { notBeforeMs: _drop, ...rest } = task;
  return {
    ...rest, status: 'FAILED', owner,
    lastError: { code: STAGED_CODE, message: `data file ${path} staged; waiting for the Iceberg commit`, retryable: false, atMs: nowMs },
  };
}

/**
 * The executor's verdict for the iceberg-rest target: the task's data file is staged and the task parked as
 * staged. Applies to a task RUNNING by `owner`, or to one already staged (an operator's retry re-ran it).
 * Idempotent: the same file staged again changes nothing. A file of a segment that is already in a pending
 * batch is kept as it is (the batch may be in the catalog already); a new path replaces an unassigned one.
 */
export function stageFile(state: TableState, task: TaskRecord, owner: string, nowMs: number, file: Omit<StagedFile, 'stagedAtMs'>): TableState | undefined {
  const current = findTask(state, task.id);
  if (current === undefined) return undefined; // completed meanwhile, or removed by an operator
  const runningByOwner = current.status === 'RUNNING' && current.owner === owner;
  if (!runningByOwner && !isStagedTask(current)) return undefined; // taken over: the new owner decides
  const existing = stagedFileOf(state, current.segment);
  let staged = stagedFiles(state);
  if (existing === undefined || (batchOf(existing) === undefined && existing.path !== file.path)) {
    staged = [...staged.filter((f) => f.segment !== current.segment), { ...file, stagedAtMs: existing?.stagedAtMs ?? nowMs }];
  } else if (isStagedTask(current)) {
    return undefined;
  }
  const tasks = state.tasks.map((t) => (t.id === current.id ? parkAsStaged(current, owner, nowMs, (existing && batchOf(existing) !== undefined ? existing : file).path) : t));
  return withStaged({ ...state, tasks }, staged);
}

/** Writes `commitId` onto the staged files at `paths` that have no batch yet; undefined when none changes. */
export function assignBatch(state: TableState, paths: readonly string[], commitId: string): TableState | undefined {
  const wanted = new Set(paths);
  let changed = false;
  const staged = stagedFiles(state).map((f) => {
    if (!wanted.has(f.path) || batchOf(f) !== undefined) return f;
    changed = true;
    return { ...f, dataFile: { ...(f.dataFile ?? {}), [BATCH_KEY]: commitId } };
  });
  return changed ? withStaged(state, staged) : undefined;
}

/** Staged files by the commit id of their pending batch, oldest batch first. */
export function pendingBatches(state: TableState): Map<string, StagedFile[]> {
  const out = new Map<string, StagedFile[]>();
  for (const f of [...stagedFiles(state)].sort((a, b) => a.stagedAtMs - b.stagedAtMs)) {
    const id = batchOf(f);
    if (id === undefined) continue;
    const list = out.get(id) ?? [];
    list.push(f);
    out.set(id, list);
  }
  return out;
}

/** Staged files not assigned to a batch. */
export function unassignedFiles(state: TableState): StagedFile[] {
  return stagedFiles(state).filter((f) => batchOf(f) === undefined);
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
  if (commit !== undefined) next.iceberg = { ...next.iceberg!, lastCommit: commit };
  return next;
}

/**
 * How many new tasks a generator cycle may create for an iceberg table (committer.ts row 4): the batch's room,
 * `threshold − staged − in flight`, never negative. Staged tasks are parked, so they do not count twice.
 */
export function icebergEmitRoom(state: TableState | undefined, commitThreshold: number): number {
  if (state === undefined) return commitThreshold;
  const inFlight = state.tasks.filter((t) => t.status === 'PENDING' || t.status === 'RUNNING').length;
  return Math.max(0, commitThreshold - stagedFiles(state).length - inFlight);
}
