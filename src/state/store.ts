/**
 * The one interface over the exporter's coordination state. Two implementations: `FileStateStore` (one
 * directory, single node, survives kill -9) and `ZooKeeperStateStore` (Pinot's property store, several
 * daemons). Everything above this file (generator, executors, API, committer) sees only `StateStore`.
 *
 * What it holds, per table (name with type, e.g. `events_REALTIME`):
 * - one versioned `TableState` record, read and written only by compare-and-set on its version;
 * - claims: at most one live claim per task, with owner and expiry (ZooKeeper: ephemeral znodes that vanish
 *   with the owner's session; file store: leases that the holder renews);
 * and per cluster a leader election for the generator.
 *
 * Executor protocol (how items built on this stay exactly-once):
 * 1. `claim(table, task.id, me)`; undefined → someone else works on it, skip.
 * 2. `updateTable(store, table, s => startTask(s, id, me, now, { takeover: task.status === 'RUNNING' }))`.
 * 3. Export under `claim.signal` (aborted when the claim is lost: stop, publish nothing more).
 * 4. Publish with a deterministic name (a takeover that re-publishes writes the same object).
 * 5. `updateTable(store, table, s => completeTask(s, task, me, now, result))`, then `claim.release()`.
 * A RUNNING task without a live claim (its owner died) is claimable by anyone; `listClaims` shows which are live.
 */
import type { TableState } from './records.js';
import { StateConflictError, isStateError, StateErrorCodes } from './errors.js';

export interface Versioned<T> {
  value: T;
  /** Store-specific version (ZooKeeper znode version; file store: the record file's sequence number). */
  version: number;
}

export interface ClaimInfo {
  table: string;
  taskId: string;
  owner: string;
  claimedAtMs: number;
  /** File store: end of the lease unless renewed. ZooKeeper: undefined (valid while the session lives). */
  expiresAtMs?: number;
}

export interface Claim extends ClaimInfo {
  /** Aborted when the claim is lost (session expired, lease not renewed in time, removed) or released. */
  readonly signal: AbortSignal;
  /** Gives the claim up; safe to call twice and after loss. */
  release(): Promise<void>;
}

export interface Leadership {
  readonly candidate: string;
  isLeader(): boolean;
  /** While leader: aborted when leadership is lost. Undefined while not leader. */
  readonly signal: AbortSignal | undefined;
  /** Leaves the election (and leadership, if held). */
  resign(): Promise<void>;
}

/** Called each time this candidate becomes leader; `signal` aborts when that leadership ends. */
export type OnElected = (signal: AbortSignal) => void;

export interface StateStore {
  readonly kind: 'file' | 'zookeeper';
  /** The table's record and its version; undefined when the table has none yet. */
  read(table: string): Promise<Versioned<TableState> | undefined>;
  /**
   * Writes `next` if the record is still at `expectedVersion` (undefined: only if there is no record yet) and
   * returns the new version. Throws `StateConflictError` (STATE_CONFLICT) when it is not.
   */
  compareAndSet(table: string, next: TableState, expectedVersion: number | undefined): Promise<number>;
  /** Claims a task for `owner`; undefined when someone else holds a live claim on it. */
  claim(table: string, taskId: string, owner: string): Promise<Claim | undefined>;
  /** Live claims of a table. */
  listClaims(table: string): Promise<ClaimInfo[]>;
  /** Joins the generator's leader election (one leader per cluster). */
  campaign(candidate: string, onElected: OnElected): Promise<Leadership>;
  close(): Promise<void>;
}

export interface UpdateOptions {
  /** Compare-and-set attempts before giving up with the last conflict (default 8). */
  attempts?: number;
  /** Stops between attempts when aborted. */
  signal?: AbortSignal;
}

export interface UpdateResult {
  state: TableState;
  version: number;
  /** False when `update` returned undefined (nothing to change); `state` is then the current record. */
  changed: boolean;
}

/**
 * Read-modify-write with compare-and-set: runs `update` on the current record (undefined when absent) and
 * writes its result, re-reading and re-running `update` after each conflict. `update` must be pure (it may
 * run several times). Returns `changed: false` without writing when `update` returns undefined.
 */
export async function updateTable(
  store: StateStore,
  table: string,
  update: (current: TableState | undefined) => TableState | undefined,
  options: UpdateOptions = {},
): Promise<UpdateResult | undefined> {
  const attempts = options.attempts ?? 8;
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    options.signal?.throwIfAborted();
    const current = await store.read(table);
    const next = update(current?.value);
    if (next === undefined) return current === undefined ? undefined : { state: current.value, version: current.version, changed: false };
    try {
      const version = await store.compareAndSet(table, next, current?.version);
      return { state: next, version, changed: true };
    } catch (err) {
      if (!isStateError(err, StateErrorCodes.STATE_CONFLICT)) throw err;
      last = err;
    }
  }
  throw last instanceof StateConflictError ? last : new StateConflictError(`table ${table}: gave up after ${attempts} conflicting writes`, { context: { table } });
}
