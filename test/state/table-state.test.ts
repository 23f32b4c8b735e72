import { describe, expect, it } from 'vitest';
import { emptyTableState, RECENT_LIMIT, type TableState, type TaskRecord } from '../../src/state/records.js';
import {
  completeTask, exponentialBackoff, failTask, isExported, isInFlight, isRunnable, markExported, requeueTask, retryFailedTask, stageTask, startTask,
} from '../../src/state/table-state.js';

const policy = { maxAttempts: 3, backoffMs: exponentialBackoff(1000, 60_000) };

function task(id: string, extra: Partial<TaskRecord> = {}): TaskRecord {
  return { id, segment: id, downloadUrl: `s3://b/${id}`, status: 'PENDING', attempts: 0, createdAtMs: 0, ...extra };
}

function withTasks(...tasks: TaskRecord[]): TableState {
  return { ...emptyTableState('t_REALTIME'), tasks };
}

describe('task transitions', () => {
  it('start → complete removes the task and records the segment as exported (LLC and named)', () => {
    const llc = task('t__0__5__20260101T0000Z', { partition: 0, sequence: 5 });
    const named = task('uploaded-a');
    let s = withTasks(llc, named);
    s = startTask(s, llc.id, 'me', 100)!;
    expect(s.tasks[0]).toMatchObject({ status: 'RUNNING', owner: 'me', attempts: 1, claimedAtMs: 100 });
    s = completeTask(s, llc, 'me', 200, { files: ['s3://o/x.parquet'], rows: 7 });
    expect(s.tasks.map((t) => t.id)).toEqual(['uploaded-a']);
    expect(s.partitions).toEqual({ 0: [[5, 5]] });
    expect(isExported(s, llc)).toBe(true);
    expect(s.recent).toEqual([{ segment: llc.id, completedAtMs: 200, owner: 'me', attempts: 1, files: ['s3://o/x.parquet'], rows: 7 }]);
    s = completeTask(startTask(s, named.id, 'me', 300)!, named, 'me', 400);
    expect(s.named).toEqual({ 'uploaded-a': -1 });
    expect(s.tasks).toEqual([]);
  });

  it('a second completion (a takeover that also finished) changes nothing', () => {
    const t = task('x', { partition: 1, sequence: 2 });
    const done = completeTask(startTask(withTasks(t), 'x', 'a', 1)!, t, 'a', 2);
    expect(completeTask(done, t, 'b', 3)).toBe(done);
  });

  it('does not start a task that is running, backing off, failed or unknown — unless taking over a running one', () => {
    const running = startTask(withTasks(task('x')), 'x', 'a', 1)!;
    expect(startTask(running, 'x', 'b', 2)).toBeUndefined();
    expect(startTask(running, 'x', 'b', 2, { takeover: true })!.tasks[0]).toMatchObject({ owner: 'b', attempts: 2 });
    expect(startTask(withTasks(task('x', { notBeforeMs: 50 })), 'x', 'a', 49)).toBeUndefined();
    expect(startTask(withTasks(task('x', { notBeforeMs: 50 })), 'x', 'a', 50)!.tasks[0]).not.toHaveProperty('notBeforeMs');
    expect(startTask(withTasks(task('x', { status: 'FAILED' })), 'x', 'a', 1, { takeover: true })).toBeUndefined();
    expect(startTask(withTasks(), 'x', 'a', 1)).toBeUndefined();
    expect(isRunnable(task('x', { status: 'RUNNING' }), 0)).toBe(false);
  });

  it('retries a retryable failure with exponential backoff, then parks it as FAILED with the error', () => {
    const err = { code: 'SOURCE_FETCH_FAILED', message: 'HTTP 503', retryable: true };
    let s = startTask(withTasks(task('x')), 'x', 'a', 0)!;
    s = failTask(s, 'x', 'a', err, 1000, policy)!;
    expect(s.tasks[0]).toMatchObject({ status: 'PENDING', attempts: 1, notBeforeMs: 2000, lastError: { ...err, atMs: 1000 } });
    s = failTask(startTask(s, 'x', 'a', 2000)!, 'x', 'a', err, 3000, policy)!;
    expect(s.tasks[0]).toMatchObject({ status: 'PENDING', attempts: 2, notBeforeMs: 5000 });
    s = failTask(startTask(s, 'x', 'a', 5000)!, 'x', 'a', err, 6000, policy)!;
    expect(s.tasks[0]).toMatchObject({ status: 'FAILED', attempts: 3, lastError: { code: 'SOURCE_FETCH_FAILED' } });
    s = retryFailedTask(s, 'x')!;
    expect(s.tasks[0]).toMatchObject({ status: 'PENDING', attempts: 0 });
  });

  it('parks a non-retryable failure at once; ignores failures of an owner that lost the task', () => {
    const s = startTask(withTasks(task('x')), 'x', 'a', 0)!;
    expect(failTask(s, 'x', 'a', { code: 'PINOT_CORRUPT', message: 'bad', retryable: false }, 1, policy)!.tasks[0]!.status).toBe('FAILED');
    expect(failTask(s, 'x', 'someone-else', { code: 'X', message: 'm', retryable: true }, 1, policy)).toBeUndefined();
    const long = failTask(s, 'x', 'a', { code: 'X', message: 'm'.repeat(5000), retryable: false }, 1, policy)!;
    expect(long.tasks[0]!.lastError!.message.length).toBe(2000);
  });

  it('requeues without using up an attempt', () => {
    const s = requeueTask(startTask(withTasks(task('x')), 'x', 'a', 0)!, 'x', 'a')!;
    expect(s.tasks[0]).toMatchObject({ status: 'PENDING', attempts: 0 });
    expect(requeueTask(s, 'x', 'a')).toBeUndefined();
  });

  it('STAGED: staged from RUNNING by its owner only, never run, failed, requeued or retried; completed after the commit', () => {
    const running = withTasks(task('x', { status: 'RUNNING', owner: 'a', attempts: 2, lastError: { code: 'SOURCE_FETCH_FAILED', message: 'm', retryable: true, atMs: 1 } }));
    expect(stageTask(running, 'x', 'b')).toBeUndefined(); // not b's task
    expect(stageTask(withTasks(task('x')), 'x', 'a')).toBeUndefined(); // PENDING
    expect(stageTask(running, 'gone', 'a')).toBeUndefined();
    const staged = stageTask(running, 'x', 'a')!;
    expect(staged.tasks[0]).toEqual({ id: 'x', segment: 'x', downloadUrl: 's3://b/x', status: 'STAGED', owner: 'a', attempts: 2, createdAtMs: 0 });
    expect(stageTask(staged, 'x', 'a')).toBe(staged); // idempotent
    const t = staged.tasks[0]!;
    expect(isRunnable(t, 1e15)).toBe(false);
    expect(isInFlight(t)).toBe(false);
    expect(startTask(staged, 'x', 'c', 1, { takeover: true })).toBeUndefined();
    expect(failTask(staged, 'x', 'a', { code: 'X', message: 'm', retryable: true }, 1, policy)).toBeUndefined();
    expect(requeueTask(staged, 'x', 'a')).toBeUndefined();
    expect(retryFailedTask(staged, 'x')).toBeUndefined();
    const done = completeTask(staged, t, 'leader', 5);
    expect(done.tasks).toEqual([]);
    expect(isExported(done, t)).toBe(true);
  });

  it('keeps only the last completions', () => {
    let s = emptyTableState('t_REALTIME');
    for (let i = 0; i < RECENT_LIMIT + 10; i++) s = completeTask({ ...s, tasks: [task(`s${i}`)] }, task(`s${i}`), 'a', i);
    expect(s.recent).toHaveLength(RECENT_LIMIT);
    expect(s.recent.at(-1)!.segment).toBe(`s${RECENT_LIMIT + 9}`);
  });

  it('never mutates its input', () => {
    const s = withTasks(task('x', { partition: 0, sequence: 1 }));
    const copy = JSON.parse(JSON.stringify(s)) as TableState;
    startTask(s, 'x', 'a', 1);
    completeTask(s, s.tasks[0]!, 'a', 2);
    markExported(s, { segment: 'y' });
    expect(s).toEqual(copy);
  });
});
