/**
 * Which segments to export next: pure functions from (segments, progress, tasks, now, config) to tasks.
 *
 * ## Progress and the watermark
 *
 * A table's progress (state/records.ts `TableState`) is kept by segment identity, not by time:
 * - `partitions[p]`: the LLC sequence numbers of partition p that are done, as ranges (`[[0, 41], [43, 45]]`).
 *   Done = exported, or completed and ended before `initialWatermarkMs`, or (complete listings only) deleted.
 * - `named[name]`: other exported segments (uploaded segments, non-LLC names).
 * - `tasks`: segments handed to executors and not finished: PENDING, RUNNING (here or on another instance),
 *   STAGED (iceberg-rest: data file staged, waiting for the Iceberg commit), FAILED (parked after the last
 *   attempt, until an operator retries it).
 * The watermark of partition p is the end of its first range: every sequence number up to it is done, and
 * pruning below the watermark is the merging of ranges. `TableState.watermarkMs` is only a summary for
 * people (every completed segment present at the last cycle that ended before it is done); it is never used
 * to skip a segment.
 *
 * ## Eligibility (`selectEligible`)
 *
 * A segment gets a task when all hold:
 * 1. completed: ZK status DONE or UPLOADED (never IN_PROGRESS or COMMITTING), and in deep store (a
 *    download URL; '' means peer download only, not yet uploaded);
 * 2. it ended before `now − bufferTimePeriod`;
 * 3. it did not end before `initialWatermarkMs`;
 * 4. it is not done (not in `partitions` / `named`);
 * 5. it has no task (pending, running anywhere, staged, or parked);
 * oldest end time first, and no more than `tableMaxNumTasks` minus the PENDING and RUNNING tasks per cycle
 * (so at most `tableMaxNumTasks` per cycle, and the outstanding task set stays bounded; STAGED tasks are bounded
 * by the Iceberg commit threshold instead, see daemon.ts). A segment whose end
 * time is unknown cannot be judged by rules 2 and 3 and is eligible once completed: exporting it is safe,
 * skipping it would break the invariant below.
 *
 * ## Invariant
 *
 * No completed segment is ever skipped — late segments and lagging partitions included — unless it ended
 * before `initialWatermarkMs`; and none is exported twice.
 * - Never skipped: a sequence number becomes done only (a) when the executor's compare-and-set records the
 *   published export, (b) for a completed segment that ended before `initialWatermarkMs`, or (c) when a
 *   *complete* listing (ZooKeeper) shows a higher number of the same partition while this one is absent:
 *   LLC segments are created in sequence order and a segment's znode exists from creation (IN_PROGRESS) on,
 *   so that number was deleted and cannot come back. Nothing is marked done because of its time alone, so a
 *   segment that completes after later ones were exported (a lagging partition, a late upload, old data) is
 *   still not done and still exported. Deep-store listings are not complete: their gaps stay open.
 * - Never twice: a task is added only for a segment that is neither done nor tasked, by a compare-and-set
 *   on the record that holds both; the executor removes the task and marks the segment done in one
 *   compare-and-set (state/table-state.ts `completeTask`); an executor that takes over a task whose owner
 *   died re-publishes under the same deterministic name, and completion is idempotent.
 * - Bounded: a partition costs one range plus one per open gap (segments pending, failed or still in the
 *   buffer; in deep-store mode also missing numbers); gaps of deleted segments are filled in ZooKeeper mode.
 *   Named entries live while their segment is listed and are pruned after it is gone. Tasks are at most
 *   `tableMaxNumTasks` plus the parked failures; 100k LLC segments fit in a few kilobytes.
 *
 * Limits of the model: a segment is exported once per name — a segment replaced (refreshed) after its
 * export is not exported again; a named segment deleted and later uploaded again under the same name is a
 * new segment and is exported again.
 */
import { rangesAdd, rangesCount } from '../state/ranges.js';
import type { TableState, TaskRecord } from '../state/records.js';
import { isExported, isInFlight, markExported } from '../state/table-state.js';
import { isCompleted, type DiscoveredSegment, type SegmentListing } from './discovery.js';

export interface EligibilityConfig {
  bufferMs: number;
  initialWatermarkMs: number;
  tableMaxNumTasks: number;
}

export type SkipReason =
  | 'not-completed'
  | 'not-in-deep-store'
  | 'in-buffer'
  | 'before-initial-watermark'
  | 'done'
  | 'has-task'
  | 'capped';

export interface SegmentDecision {
  segment: string;
  /** undefined: a task was emitted. */
  skipped?: SkipReason;
}

export interface EligibilityResult {
  /** New PENDING tasks, oldest end time first. */
  tasks: TaskRecord[];
  decisions: SegmentDecision[];
}

/** The eligibility rules above, applied to one listing. Pure. */
export function selectEligible(state: TableState, segments: readonly DiscoveredSegment[], config: EligibilityConfig, nowMs: number): EligibilityResult {
  const tasked = new Set(state.tasks.map((t) => t.id));
  const outstanding = state.tasks.filter(isInFlight).length;
  const decisions: SegmentDecision[] = [];
  const candidates: DiscoveredSegment[] = [];
  for (const seg of segments) {
    const skipped = skipReason(seg, state, tasked, config, nowMs);
    if (skipped === undefined) candidates.push(seg);
    else decisions.push({ segment: seg.name, skipped });
  }
  candidates.sort(oldestFirst);
  const room = Math.max(0, config.tableMaxNumTasks - outstanding);
  const tasks = candidates.slice(0, room).map((seg) => newTask(seg, nowMs));
  for (const t of tasks) decisions.push({ segment: t.segment });
  for (const seg of candidates.slice(room)) decisions.push({ segment: seg.name, skipped: 'capped' });
  return { tasks, decisions };
}

function skipReason(seg: DiscoveredSegment, state: TableState, tasked: ReadonlySet<string>, config: EligibilityConfig, nowMs: number): SkipReason | undefined {
  if (!isCompleted(seg)) return 'not-completed';
  if (seg.downloadUrl === '') return 'not-in-deep-store';
  if (seg.endTimeMs !== undefined && seg.endTimeMs < config.initialWatermarkMs) return 'before-initial-watermark';
  if (isExported(state, identity(seg))) return 'done';
  if (tasked.has(seg.name)) return 'has-task';
  if (seg.endTimeMs !== undefined && seg.endTimeMs >= nowMs - config.bufferMs) return 'in-buffer';
  return undefined;
}

function oldestFirst(a: DiscoveredSegment, b: DiscoveredSegment): number {
  const ea = a.endTimeMs ?? Number.MAX_SAFE_INTEGER;
  const eb = b.endTimeMs ?? Number.MAX_SAFE_INTEGER;
  if (ea !== eb) return ea - eb;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function newTask(seg: DiscoveredSegment, nowMs: number): TaskRecord {
  const task: TaskRecord = { id: seg.name, segment: seg.name, downloadUrl: seg.downloadUrl, status: 'PENDING', attempts: 0, createdAtMs: nowMs };
  if (seg.partition !== undefined && seg.sequence !== undefined) {
    task.partition = seg.partition;
    task.sequence = seg.sequence;
  }
  if (seg.startTimeMs !== undefined) task.startTimeMs = seg.startTimeMs;
  if (seg.endTimeMs !== undefined) task.endTimeMs = seg.endTimeMs;
  if (seg.crc !== undefined) task.crc = seg.crc;
  if (seg.totalDocs !== undefined) task.totalDocs = seg.totalDocs;
  return task;
}

function identity(seg: DiscoveredSegment): { segment: string; partition?: number; sequence?: number } {
  return seg.partition === undefined ? { segment: seg.name } : { segment: seg.name, partition: seg.partition, sequence: seg.sequence! };
}

// ---------------------------------------------------------------------------------------------------------
// Progress maintenance: what the generator does to the record before selecting

export interface AdvanceReport {
  /** LLC sequence numbers marked done because their segment ended before `initialWatermarkMs`. */
  skippedBeforeInitial: number;
  /** Sequence numbers marked done as deleted (complete listings only). */
  filledGaps: number;
  /** Named entries pruned because their segment is no longer listed. */
  prunedNamed: number;
  /** PENDING tasks dropped because their segment is no longer listed. */
  droppedTasks: string[];
}

/**
 * Folds what the listing proves into the progress record (rules (b) and (c) of the invariant), prunes named
 * entries and pending tasks of segments that are gone, and recomputes the `watermarkMs` summary. Pure.
 */
export function advanceProgress(state: TableState, listing: SegmentListing, config: EligibilityConfig): { state: TableState; report: AdvanceReport } {
  const report: AdvanceReport = { skippedBeforeInitial: 0, filledGaps: 0, prunedNamed: 0, droppedTasks: [] };
  let next = state;
  const present = new Set(listing.segments.map((s) => s.name));
  const seqsByPartition = new Map<number, number[]>();
  for (const seg of listing.segments) {
    if (seg.partition === undefined || seg.sequence === undefined) continue;
    if (isCompleted(seg) && seg.endTimeMs !== undefined && seg.endTimeMs < config.initialWatermarkMs && !isExported(next, identity(seg))) {
      next = markExported(next, identity(seg));
      report.skippedBeforeInitial++;
    }
    let seqs = seqsByPartition.get(seg.partition);
    if (seqs === undefined) seqsByPartition.set(seg.partition, (seqs = []));
    seqs.push(seg.sequence);
  }
  if (listing.complete) {
    const partitions = { ...next.partitions };
    for (const [p, seqs] of seqsByPartition) {
      seqs.sort((a, b) => a - b);
      const before = partitions[String(p)] ?? [];
      let ranges = before;
      let prev = -1;
      for (const s of seqs) {
        if (s > prev + 1) ranges = rangesAdd(ranges, prev + 1, s - 1);
        prev = s;
      }
      report.filledGaps += rangesCount(ranges) - rangesCount(before);
      partitions[String(p)] = ranges;
    }
    next = { ...next, partitions };
  }
  const named = Object.fromEntries(Object.entries(next.named).filter(([name]) => present.has(name)));
  report.prunedNamed = Object.keys(next.named).length - Object.keys(named).length;
  const tasks = next.tasks.filter((t) => t.status !== 'PENDING' || present.has(t.segment));
  report.droppedTasks = next.tasks.filter((t) => !tasks.includes(t)).map((t) => t.id);
  next = { ...next, named, tasks };
  return { state: { ...next, watermarkMs: summaryWatermark(next, listing.segments, config, state.watermarkMs) }, report };
}

/**
 * The earliest end time among completed, listed segments that are not done (from `initialWatermarkMs` on);
 * when every one is done, one past the latest end time seen. Moves back when a late segment appears.
 */
function summaryWatermark(state: TableState, segments: readonly DiscoveredSegment[], config: EligibilityConfig, previous: number): number {
  let open = Number.POSITIVE_INFINITY;
  let latestDone = -1;
  for (const seg of segments) {
    if (!isCompleted(seg) || seg.endTimeMs === undefined || seg.endTimeMs < config.initialWatermarkMs) continue;
    if (isExported(state, identity(seg))) latestDone = Math.max(latestDone, seg.endTimeMs);
    else open = Math.min(open, seg.endTimeMs);
  }
  if (open !== Number.POSITIVE_INFINITY) return open;
  return latestDone >= 0 ? Math.max(previous, latestDone + 1) : previous;
}
