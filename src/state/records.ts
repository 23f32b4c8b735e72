/**
 * The records the exporter keeps in its state store, with explicit schema versions and parse/validate
 * functions. Every payload written by a store goes through `encodeRecord` and every payload read through
 * `decodeRecord` + the record's `parse…` function, so a record is never trusted unchecked.
 *
 * Records (all JSON, `schemaVersion` 1):
 * - `TableState`, one per table (the ZooKeeper znode `…/DataExportTask/v1/state`, the file store's
 *   `tables/<table>/state/<n>.json`): progress (LLC sequence ranges per partition, names of other exported
 *   segments), the task set (PENDING / RUNNING / STAGED / FAILED), recent completions, the generator's last
 *   cycle, and the Iceberg staged-file queue with its pending commit (iceberg-rest tables only).
 * - `ClaimRecord`, one per claimed task (ZooKeeper: an ephemeral znode; file store: an entry with a lease).
 * - `LeaderRecord`, one per leader candidate (ZooKeeper) or the lease holder (file store).
 *
 * Compatibility: a reader refuses a `schemaVersion` above its own (`STATE_UNSUPPORTED_VERSION`) instead of
 * overwriting what a newer exporter wrote. New optional fields may be added within a version; anything a
 * v1 reader would misread needs version 2.
 *
 * The task status `STAGED` and `IcebergQueue.pendingCommit` were added within version 1: both are written only
 * for iceberg-rest tables, which no exporter before them could export, so no older v1 reader meets them.
 * (An older reader given such a record refuses it as STATE_CORRUPT naming the field — it never misreads it.)
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { StateError, StateErrorCodes } from './errors.js';
import { rangesProblem, type SeqRanges } from './ranges.js';

export const SCHEMA_VERSION = 1;

/** JSON payloads larger than this are gzip-compressed (readers detect gzip by its magic, as Helix does). */
export const COMPRESS_THRESHOLD_BYTES = 256 * 1024;

/**
 * PENDING: waiting for an executor (maybe after a backoff). RUNNING: claimed by `owner`. STAGED (iceberg-rest
 * only): its data file is written and staged, the task waits for the Iceberg commit — tasked (the segment is
 * not emitted again), not runnable, not failed. FAILED: parked after its last attempt, until an operator retries.
 */
export type TaskStatus = 'PENDING' | 'RUNNING' | 'STAGED' | 'FAILED';
export const TASK_STATUSES: readonly TaskStatus[] = ['PENDING', 'RUNNING', 'STAGED', 'FAILED'];

export interface TaskError {
  code: string;
  message: string;
  retryable: boolean;
  atMs: number;
}

/** One export task = one segment. Completed tasks leave the set and become progress (see TableState). */
export interface TaskRecord {
  /** Task id; the segment name (a segment is exported once, so the name is a natural idempotency key). */
  id: string;
  segment: string;
  /** LLC position when the name is `<table>__<partition>__<sequence>__<yyyyMMddTHHmmZ>`. */
  partition?: number;
  sequence?: number;
  startTimeMs?: number;
  endTimeMs?: number;
  downloadUrl: string;
  crc?: string;
  totalDocs?: number;
  status: TaskStatus;
  /** Attempts started (claims taken) so far. */
  attempts: number;
  createdAtMs: number;
  /** Instance that holds (RUNNING) or last held the task. */
  owner?: string;
  claimedAtMs?: number;
  /** A retry waits until then (backoff). */
  notBeforeMs?: number;
  lastError?: TaskError;
}

/** Kept for the API: the last completions, newest last, at most `RECENT_LIMIT`. */
export interface CompletionRecord {
  segment: string;
  completedAtMs: number;
  owner: string;
  attempts: number;
  /** Published files (URIs), as the sink reported them. */
  files?: string[];
  rows?: number;
}

export const RECENT_LIMIT = 50;

/** A data file written for the iceberg-rest target and waiting for an Iceberg commit. */
export interface StagedFile {
  path: string;
  segment: string;
  recordCount: number;
  fileSizeBytes: number;
  stagedAtMs: number;
  /** The Iceberg DataFile descriptor (column stats, field ids …), owned by the Iceberg sink. */
  dataFile?: Record<string, unknown>;
}

export interface IcebergCommitRecord {
  commitId: string;
  snapshotId?: string;
  committedAtMs: number;
  fileCount: number;
}

/**
 * A batch of staged files on its way into the catalog, recorded BEFORE the catalog call: after a crash the
 * committer looks for `commitId` in the table's `main` ancestry first, so a batch that landed is completed,
 * never appended twice. At most one per table.
 */
export interface PendingCommit {
  commitId: string;
  /** Snapshot id of the attempt last sent, when recorded (decimal string: 64-bit). */
  snapshotId?: string;
  /** Paths of the staged files in the batch. */
  files: string[];
  preparedAtMs: number;
}

/** The iceberg-rest target's staged-file queue, its pending commit and its last commit. */
export interface IcebergQueue {
  staged: StagedFile[];
  pendingCommit?: PendingCommit;
  lastCommit?: IcebergCommitRecord;
}

export interface GeneratorRun {
  cycle: number;
  atMs: number;
  owner: string;
}

export interface TableState {
  schemaVersion: 1;
  /** Table name with type, e.g. `events_REALTIME`. */
  table: string;
  /**
   * Summary for people: every completed segment present at the last cycle that ended before this time was
   * exported or ended before `initialWatermarkMs`. Never used to skip a segment (see control/eligibility.ts).
   * 0 before the first cycle.
   */
  watermarkMs: number;
  /** LLC segments exported (or skipped as older than `initialWatermarkMs`), as sequence ranges per partition id. */
  partitions: Record<string, SeqRanges>;
  /** Other exported segments (uploaded or non-LLC names) → end time in ms (−1: unknown). */
  named: Record<string, number>;
  tasks: TaskRecord[];
  recent: CompletionRecord[];
  generator?: GeneratorRun;
  iceberg?: IcebergQueue;
}

export interface ClaimRecord {
  schemaVersion: 1;
  table: string;
  taskId: string;
  /** Instance id of the claimer. */
  owner: string;
  claimedAtMs: number;
  /** File store: the lease ends here unless renewed. ZooKeeper: absent (the session is the lease). */
  expiresAtMs?: number;
  /** Random token distinguishing two claims by the same owner (file store renewals check it). */
  token: string;
}

export interface LeaderRecord {
  schemaVersion: 1;
  candidate: string;
  sinceMs: number;
  /** ZooKeeper session id (hex) of the candidate node's creator; file store: absent. */
  session?: string;
  /** File store lease end. */
  expiresAtMs?: number;
  token: string;
}

export function emptyTableState(table: string): TableState {
  return { schemaVersion: 1, table, watermarkMs: 0, partitions: {}, named: {}, tasks: [], recent: [] };
}

// ---------------------------------------------------------------------------------------------------------
// Bytes

export function encodeRecord(value: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(value), 'utf8');
  return json.length > COMPRESS_THRESHOLD_BYTES ? gzipSync(json) : json;
}

/** JSON (or gzip-compressed JSON) → value. `where` names the znode or file for the error. */
export function decodeRecord(bytes: Uint8Array, where: string): unknown {
  let buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch (err) {
    throw new StateError(StateErrorCodes.STATE_CORRUPT, `record is not valid JSON: ${(err as Error).message}`, {
      context: { key: where }, cause: err,
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Validation

class Check {
  constructor(private readonly where: string) {}

  fail(path: string, detail: string): never {
    throw new StateError(StateErrorCodes.STATE_CORRUPT, `${path}: ${detail}`, { context: { key: this.where } });
  }

  object(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `expected an object, got ${kind(v)}`);
    return v as Record<string, unknown>;
  }

  string(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${kind(v)}`);
    return v;
  }

  int(v: unknown, path: string, min = 0): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) this.fail(path, `expected an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return v;
  }

  bool(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, `expected a boolean, got ${kind(v)}`);
    return v;
  }

  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `expected an array, got ${kind(v)}`);
    return v;
  }

  optString(o: Record<string, unknown>, key: string, path: string): string | undefined {
    return o[key] === undefined ? undefined : this.string(o[key], `${path}.${key}`);
  }

  optInt(o: Record<string, unknown>, key: string, path: string, min = 0): number | undefined {
    return o[key] === undefined ? undefined : this.int(o[key], `${path}.${key}`, min);
  }

  version(o: Record<string, unknown>, what: string): 1 {
    const v = o.schemaVersion;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v > SCHEMA_VERSION) {
      throw new StateError(StateErrorCodes.STATE_UNSUPPORTED_VERSION,
        `${what} has schemaVersion ${v}, this exporter reads up to ${SCHEMA_VERSION}: upgrade the exporter`, { context: { key: this.where } });
    }
    if (v !== 1) this.fail('schemaVersion', `expected 1, got ${JSON.stringify(v)}`);
    return 1;
  }
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}` : typeof v;
}

function assign<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

function parseTask(c: Check, v: unknown, path: string): TaskRecord {
  const o = c.object(v, path);
  const status = c.string(o.status, `${path}.status`);
  if (!TASK_STATUSES.includes(status as TaskStatus)) c.fail(`${path}.status`, `expected one of ${TASK_STATUSES.join(', ')}, got ${JSON.stringify(status)}`);
  const task: TaskRecord = {
    id: c.string(o.id, `${path}.id`),
    segment: c.string(o.segment, `${path}.segment`),
    downloadUrl: c.string(o.downloadUrl, `${path}.downloadUrl`),
    status: status as TaskStatus,
    attempts: c.int(o.attempts, `${path}.attempts`),
    createdAtMs: c.int(o.createdAtMs, `${path}.createdAtMs`),
  };
  assign(task, 'partition', c.optInt(o, 'partition', path));
  assign(task, 'sequence', c.optInt(o, 'sequence', path));
  assign(task, 'startTimeMs', c.optInt(o, 'startTimeMs', path, -1));
  assign(task, 'endTimeMs', c.optInt(o, 'endTimeMs', path, -1));
  assign(task, 'crc', c.optString(o, 'crc', path));
  assign(task, 'totalDocs', c.optInt(o, 'totalDocs', path));
  assign(task, 'owner', c.optString(o, 'owner', path));
  assign(task, 'claimedAtMs', c.optInt(o, 'claimedAtMs', path));
  assign(task, 'notBeforeMs', c.optInt(o, 'notBeforeMs', path));
  if (o.lastError !== undefined) {
    const e = c.object(o.lastError, `${path}.lastError`);
    task.lastError = {
      code: c.string(e.code, `${path}.lastError.code`),
      message: c.string(e.message, `${path}.lastError.message`),
      retryable: c.bool(e.retryable, `${path}.lastError.retryable`),
      atMs: c.int(e.atMs, `${path}.lastError.atMs`),
    };
  }
  if ((task.partition === undefined) !== (task.sequence === undefined)) c.fail(path, 'partition and sequence must be both present or both absent');
  return task;
}

function parseCompletion(c: Check, v: unknown, path: string): CompletionRecord {
  const o = c.object(v, path);
  const rec: CompletionRecord = {
    segment: c.string(o.segment, `${path}.segment`),
    completedAtMs: c.int(o.completedAtMs, `${path}.completedAtMs`),
    owner: c.string(o.owner, `${path}.owner`),
    attempts: c.int(o.attempts, `${path}.attempts`),
  };
  if (o.files !== undefined) rec.files = c.array(o.files, `${path}.files`).map((f, i) => c.string(f, `${path}.files[${i}]`));
  assign(rec, 'rows', c.optInt(o, 'rows', path));
  return rec;
}

function parseIceberg(c: Check, v: unknown, path: string): IcebergQueue {
  const o = c.object(v, path);
  const staged = c.array(o.staged, `${path}.staged`).map((f, i): StagedFile => {
    const p = `${path}.staged[${i}]`;
    const s = c.object(f, p);
    const file: StagedFile = {
      path: c.string(s.path, `${p}.path`),
      segment: c.string(s.segment, `${p}.segment`),
      recordCount: c.int(s.recordCount, `${p}.recordCount`),
      fileSizeBytes: c.int(s.fileSizeBytes, `${p}.fileSizeBytes`),
      stagedAtMs: c.int(s.stagedAtMs, `${p}.stagedAtMs`),
    };
    if (s.dataFile !== undefined) file.dataFile = c.object(s.dataFile, `${p}.dataFile`);
    return file;
  });
  const queue: IcebergQueue = { staged };
  if (o.pendingCommit !== undefined) {
    const p = `${path}.pendingCommit`;
    const pc = c.object(o.pendingCommit, p);
    const pending: PendingCommit = {
      commitId: c.string(pc.commitId, `${p}.commitId`),
      files: c.array(pc.files, `${p}.files`).map((f, i) => c.string(f, `${p}.files[${i}]`)),
      preparedAtMs: c.int(pc.preparedAtMs, `${p}.preparedAtMs`),
    };
    const snapshotId = c.optString(pc, 'snapshotId', p);
    if (snapshotId !== undefined && !/^-?\d+$/.test(snapshotId)) c.fail(`${p}.snapshotId`, `expected a decimal snapshot id, got ${JSON.stringify(snapshotId)}`);
    assign(pending, 'snapshotId', snapshotId);
    if (pending.files.length === 0) c.fail(`${p}.files`, 'a pending commit names at least one staged file');
    const paths = new Set(staged.map((f) => f.path));
    const missing = pending.files.find((f) => !paths.has(f));
    if (missing !== undefined) c.fail(`${p}.files`, `${JSON.stringify(missing)} is not a staged file`);
    queue.pendingCommit = pending;
  }
  if (o.lastCommit !== undefined) {
    const l = c.object(o.lastCommit, `${path}.lastCommit`);
    const commit: IcebergCommitRecord = {
      commitId: c.string(l.commitId, `${path}.lastCommit.commitId`),
      committedAtMs: c.int(l.committedAtMs, `${path}.lastCommit.committedAtMs`),
      fileCount: c.int(l.fileCount, `${path}.lastCommit.fileCount`),
    };
    assign(commit, 'snapshotId', c.optString(l, 'snapshotId', `${path}.lastCommit`));
    queue.lastCommit = commit;
  }
  return queue;
}

/** Validates a decoded TableState; throws STATE_CORRUPT naming the bad field, STATE_UNSUPPORTED_VERSION for newer records. */
export function parseTableState(value: unknown, where: string): TableState {
  const c = new Check(where);
  const o = c.object(value, '(record)');
  c.version(o, 'table state');
  const partitions: Record<string, SeqRanges> = {};
  for (const [p, ranges] of Object.entries(c.object(o.partitions, 'partitions'))) {
    if (!/^(0|[1-9]\d*)$/.test(p)) c.fail(`partitions.${p}`, 'partition ids must be non-negative integers');
    const problem = rangesProblem(ranges);
    if (problem !== undefined) c.fail(`partitions.${p}`, problem);
    partitions[p] = ranges as SeqRanges;
  }
  const named: Record<string, number> = {};
  for (const [name, end] of Object.entries(c.object(o.named, 'named'))) named[name] = c.int(end, `named.${name}`, -1);
  const tasks = c.array(o.tasks, 'tasks').map((t, i) => parseTask(c, t, `tasks[${i}]`));
  const ids = new Set<string>();
  for (const t of tasks) {
    if (ids.has(t.id)) c.fail('tasks', `duplicate task id ${JSON.stringify(t.id)}`);
    ids.add(t.id);
  }
  const state: TableState = {
    schemaVersion: 1,
    table: c.string(o.table, 'table'),
    watermarkMs: c.int(o.watermarkMs, 'watermarkMs'),
    partitions,
    named,
    tasks,
    recent: c.array(o.recent, 'recent').map((r, i) => parseCompletion(c, r, `recent[${i}]`)),
  };
  if (o.generator !== undefined) {
    const g = c.object(o.generator, 'generator');
    state.generator = { cycle: c.int(g.cycle, 'generator.cycle'), atMs: c.int(g.atMs, 'generator.atMs'), owner: c.string(g.owner, 'generator.owner') };
  }
  if (o.iceberg !== undefined) state.iceberg = parseIceberg(c, o.iceberg, 'iceberg');
  return state;
}

export function parseClaimRecord(value: unknown, where: string): ClaimRecord {
  const c = new Check(where);
  const o = c.object(value, '(record)');
  c.version(o, 'claim');
  const claim: ClaimRecord = {
    schemaVersion: 1,
    table: c.string(o.table, 'table'),
    taskId: c.string(o.taskId, 'taskId'),
    owner: c.string(o.owner, 'owner'),
    claimedAtMs: c.int(o.claimedAtMs, 'claimedAtMs'),
    token: c.string(o.token, 'token'),
  };
  assign(claim, 'expiresAtMs', c.optInt(o, 'expiresAtMs', '(record)'));
  return claim;
}

export function parseLeaderRecord(value: unknown, where: string): LeaderRecord {
  const c = new Check(where);
  const o = c.object(value, '(record)');
  c.version(o, 'leader record');
  const rec: LeaderRecord = {
    schemaVersion: 1,
    candidate: c.string(o.candidate, 'candidate'),
    sinceMs: c.int(o.sinceMs, 'sinceMs'),
    token: c.string(o.token, 'token'),
  };
  assign(rec, 'session', c.optString(o, 'session', '(record)'));
  assign(rec, 'expiresAtMs', c.optInt(o, 'expiresAtMs', '(record)'));
  return rec;
}

/** The file store keeps all claims of a table in one record (one compare-and-set cell). */
export interface ClaimSet {
  schemaVersion: 1;
  claims: Record<string, ClaimRecord>;
}

export function parseClaimSet(value: unknown, where: string): ClaimSet {
  const c = new Check(where);
  const o = c.object(value, '(record)');
  c.version(o, 'claim set');
  const claims: Record<string, ClaimRecord> = {};
  for (const [id, rec] of Object.entries(c.object(o.claims, 'claims'))) claims[id] = parseClaimRecord(rec, where);
  return { schemaVersion: 1, claims };
}
