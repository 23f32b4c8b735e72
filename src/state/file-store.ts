/**
 * The embedded state store: one directory on local disk, for a single node (several processes on the same
 * directory stay correct, they just contend). Every record is a compare-and-set cell (file-cell.ts: temp +
 * fsync + exclusive link + directory fsync), so a write survives kill -9 and two processes can never both
 * win a compare-and-set.
 *
 * Layout (`<dir>` = the configured directory):
 *   <dir>/v1/tables/<table>/state/<n>.json    TableState, version n
 *   <dir>/v1/tables/<table>/claims/<n>.json   ClaimSet: the table's live claims, each a lease (expiresAtMs)
 *   <dir>/v1/leader/<n>.json                  LeaderRecord: the generator's leader lease
 * Table names are URI-encoded into directory names.
 *
 * Claims and leadership are leases of `claimTtlMs` / `leaderTtlMs`, renewed every third of the TTL. A
 * holder gives up (aborts its signal) when a renewal finds its lease taken or when it could not renew before
 * `ttl − ttl/5` elapsed, so it stops before anyone else may take over. After kill -9 a lease ends by expiry.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StateConflictError, StateError, StateErrorCodes, isStateError } from './errors.js';
import { FileCell } from './file-cell.js';
import {
  decodeRecord, encodeRecord, parseClaimSet, parseLeaderRecord, parseTableState, type ClaimRecord, type ClaimSet,
  type LeaderRecord, type TableState,
} from './records.js';
import type { Claim, ClaimInfo, Leadership, OnElected, StateStore, Versioned } from './store.js';

export interface FileStateStoreOptions {
  dir: string;
  /** Claim lease length (default 30 s). */
  claimTtlMs?: number;
  /** Leader lease length (default 15 s). */
  leaderTtlMs?: number;
  /** Clock for lease times (tests); default Date.now. */
  now?: () => number;
}

const CAS_ATTEMPTS = 16;

export class FileStateStore implements StateStore {
  readonly kind = 'file' as const;
  readonly dir: string;
  private readonly claimTtlMs: number;
  private readonly leaderTtlMs: number;
  private readonly now: () => number;
  private readonly holders = new Set<{ stop(): Promise<void> }>();
  private closed = false;

  private constructor(options: FileStateStoreOptions) {
    this.dir = resolve(options.dir);
    this.claimTtlMs = options.claimTtlMs ?? 30_000;
    this.leaderTtlMs = options.leaderTtlMs ?? 15_000;
    this.now = options.now ?? Date.now;
  }

  static async open(options: FileStateStoreOptions): Promise<FileStateStore> {
    const store = new FileStateStore(options);
    await mkdir(join(store.dir, 'v1'), { recursive: true }).catch((err: unknown) => {
      throw new StateError(StateErrorCodes.STATE_UNAVAILABLE, `cannot create ${store.dir}: ${(err as Error).message}`, { context: { file: store.dir }, cause: err });
    });
    return store;
  }

  async read(table: string): Promise<Versioned<TableState> | undefined> {
    this.assertOpen();
    const cell = this.stateCell(table);
    const got = await cell.read();
    if (got === undefined) return undefined;
    const value = parseTableState(decodeRecord(got.bytes, cell.dir), cell.dir);
    return { value, version: got.version };
  }

  async compareAndSet(table: string, next: TableState, expectedVersion: number | undefined): Promise<number> {
    this.assertOpen();
    if (next.table !== table) throw new StateError(StateErrorCodes.STATE_CORRUPT, `record of table ${next.table} written as ${table}`, { context: { table } });
    return this.stateCell(table).write(encodeRecord(next), expectedVersion);
  }

  async claim(table: string, taskId: string, owner: string): Promise<Claim | undefined> {
    this.assertOpen();
    const token = randomBytes(9).toString('base64url');
    const cell = this.claimCell(table);
    const taken = await this.updateClaims(cell, (set, now) => {
      const held = set.claims[taskId];
      if (held !== undefined && (held.expiresAtMs ?? 0) > now) return undefined;
      const rec: ClaimRecord = { schemaVersion: 1, table, taskId, owner, claimedAtMs: now, expiresAtMs: now + this.claimTtlMs, token };
      return { ...set, claims: { ...set.claims, [taskId]: rec } };
    });
    if (taken === undefined) return undefined;
    const rec = taken.claims[taskId]!;
    const lease = new Lease(this.claimTtlMs, this.now, async () => {
      const renewed = await this.updateClaims(cell, (set, now) => {
        if (set.claims[taskId]?.token !== token) throw lost(`claim on ${taskId} was taken over`);
        return { ...set, claims: { ...set.claims, [taskId]: { ...set.claims[taskId]!, expiresAtMs: now + this.claimTtlMs } } };
      });
      return renewed!.claims[taskId]!.expiresAtMs!;
    }, async () => {
      await this.updateClaims(cell, (set) => {
        if (set.claims[taskId]?.token !== token) return undefined;
        const { [taskId]: _gone, ...rest } = set.claims;
        return { ...set, claims: rest };
      });
    });
    this.track(lease);
    lease.start(rec.expiresAtMs!);
    return {
      table, taskId, owner, claimedAtMs: rec.claimedAtMs,
      get expiresAtMs() { return lease.expiresAtMs; },
      signal: lease.signal,
      release: () => lease.stop(),
    };
  }

  async listClaims(table: string): Promise<ClaimInfo[]> {
    this.assertOpen();
    const cell = this.claimCell(table);
    const got = await cell.read();
    if (got === undefined) return [];
    const now = this.now();
    return Object.values(parseClaimSet(decodeRecord(got.bytes, cell.dir), cell.dir).claims)
      .filter((c) => (c.expiresAtMs ?? 0) > now)
      .map(({ table: t, taskId, owner, claimedAtMs, expiresAtMs }) => ({ table: t, taskId, owner, claimedAtMs, expiresAtMs }));
  }

  async campaign(candidate: string, onElected: OnElected): Promise<Leadership> {
    this.assertOpen();
    const campaign = new FileCampaign(this, candidate, onElected);
    this.track(campaign);
    await campaign.tick();
    return campaign;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.holders].map((h) => h.stop()));
  }

  // --- internals shared with FileCampaign -----------------------------------------------------------------

  get leaderTtl(): number {
    return this.leaderTtlMs;
  }

  clock(): number {
    return this.now();
  }

  leaderCell(): FileCell {
    return new FileCell(join(this.dir, 'v1', 'leader'));
  }

  untrack(holder: { stop(): Promise<void> }): void {
    this.holders.delete(holder);
  }

  private track(holder: { stop(): Promise<void> }): void {
    this.holders.add(holder);
  }

  private stateCell(table: string): FileCell {
    return new FileCell(join(this.dir, 'v1', 'tables', encodeURIComponent(table), 'state'));
  }

  private claimCell(table: string): FileCell {
    return new FileCell(join(this.dir, 'v1', 'tables', encodeURIComponent(table), 'claims'));
  }

  /** CAS loop on a claim set; `fn` returns undefined for "no change" (the result is then undefined). */
  private async updateClaims(cell: FileCell, fn: (set: ClaimSet, now: number) => ClaimSet | undefined): Promise<ClaimSet | undefined> {
    for (let i = 0; i < CAS_ATTEMPTS; i++) {
      const got = await cell.read();
      const set = got === undefined ? { schemaVersion: 1 as const, claims: {} } : parseClaimSet(decodeRecord(got.bytes, cell.dir), cell.dir);
      const now = this.now();
      const next = fn(set, now);
      if (next === undefined) return undefined;
      // Expired leases of others are dropped on every write, so the set stays as small as the live claims.
      const live = Object.fromEntries(Object.entries(next.claims).filter(([, c]) => (c.expiresAtMs ?? 0) > now));
      try {
        await cell.write(encodeRecord({ ...next, claims: live }), got?.version);
        return { ...next, claims: live };
      } catch (err) {
        if (!isStateError(err, StateErrorCodes.STATE_CONFLICT)) throw err;
      }
    }
    throw new StateConflictError(`claims in ${cell.dir}: gave up after ${CAS_ATTEMPTS} conflicting writes`, { context: { file: cell.dir } });
  }

  private assertOpen(): void {
    if (this.closed) throw new StateError(StateErrorCodes.STATE_CLOSED, 'the file state store is closed', { context: { file: this.dir } });
  }
}

function lost(detail: string): StateError {
  return new StateError(StateErrorCodes.STATE_CONFLICT, detail, { retryable: false });
}

/**
 * A renewed lease: `renew` returns the new expiry; the signal aborts when a renewal says the lease was taken,
 * or when no renewal succeeded before the safety margin (ttl/5) ahead of expiry.
 */
class Lease {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private stopped = false;
  expiresAtMs = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly renew: () => Promise<number>,
    private readonly giveUp: () => Promise<void>,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  start(expiresAtMs: number): void {
    this.extended(expiresAtMs);
    this.timer = setInterval(() => void this.renewOnce(), Math.max(10, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  private extended(expiresAtMs: number): void {
    this.expiresAtMs = expiresAtMs;
    clearTimeout(this.deadline);
    const margin = Math.floor(this.ttlMs / 5);
    this.deadline = setTimeout(() => this.abort('lease not renewed in time'), Math.max(0, expiresAtMs - this.now() - margin));
    this.deadline.unref();
  }

  private async renewOnce(): Promise<void> {
    if (this.stopped || this.controller.signal.aborted) return;
    try {
      const expires = await this.renew();
      if (!this.stopped && !this.controller.signal.aborted) this.extended(expires);
    } catch (err) {
      // A conflict that is not retryable means the lease belongs to someone else now; anything else is
      // transient and left to the deadline timer.
      if (isStateError(err) && !err.retryable) this.abort(err.message);
    }
  }

  abort(reason: string): void {
    clearInterval(this.timer);
    clearTimeout(this.deadline);
    if (!this.controller.signal.aborted) this.controller.abort(new StateError(StateErrorCodes.STATE_CONFLICT, `lease lost: ${reason}`, { retryable: false }));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const held = !this.controller.signal.aborted;
    this.abort('released');
    if (held) await this.giveUp().catch(() => undefined);
  }
}

/** Leader election on one lease cell: the holder renews; others poll and take it over once it expired. */
class FileCampaign implements Leadership {
  private readonly token = randomBytes(9).toString('base64url');
  private lease: Lease | undefined;
  private poll: NodeJS.Timeout | undefined;
  private resigned = false;

  constructor(private readonly store: FileStateStore, readonly candidate: string, private readonly onElected: OnElected) {
    this.poll = setInterval(() => void this.tick().catch(() => undefined), Math.max(10, Math.floor(store.leaderTtl / 3)));
    this.poll.unref();
  }

  isLeader(): boolean {
    return this.lease !== undefined && !this.lease.signal.aborted;
  }

  get signal(): AbortSignal | undefined {
    return this.isLeader() ? this.lease!.signal : undefined;
  }

  /** Tries to take the lease when it is free or expired (no-op while leader: the lease renews itself). */
  async tick(): Promise<void> {
    if (this.resigned || this.isLeader()) return;
    const cell = this.store.leaderCell();
    const got = await cell.read();
    const now = this.store.clock();
    const current = got === undefined ? undefined : parseLeaderRecord(decodeRecord(got.bytes, cell.dir), cell.dir);
    if (current !== undefined && (current.expiresAtMs ?? 0) > now && current.token !== this.token) return;
    const rec: LeaderRecord = { schemaVersion: 1, candidate: this.candidate, sinceMs: now, expiresAtMs: now + this.store.leaderTtl, token: this.token };
    try {
      await cell.write(encodeRecord(rec), got?.version);
    } catch (err) {
      if (isStateError(err, StateErrorCodes.STATE_CONFLICT)) return;
      throw err;
    }
    if (this.resigned) return;
    this.lease = new Lease(this.store.leaderTtl, () => this.store.clock(), () => this.renew(), () => this.giveUp());
    this.lease.start(rec.expiresAtMs!);
    this.onElected(this.lease.signal);
  }

  private async renew(): Promise<number> {
    const cell = this.store.leaderCell();
    const got = await cell.read();
    const current = got === undefined ? undefined : parseLeaderRecord(decodeRecord(got.bytes, cell.dir), cell.dir);
    if (current?.token !== this.token) throw lost('leadership taken over');
    const expiresAtMs = this.store.clock() + this.store.leaderTtl;
    await cell.write(encodeRecord({ ...current, expiresAtMs }), got!.version);
    return expiresAtMs;
  }

  private async giveUp(): Promise<void> {
    const cell = this.store.leaderCell();
    const got = await cell.read();
    const current = got === undefined ? undefined : parseLeaderRecord(decodeRecord(got.bytes, cell.dir), cell.dir);
    if (current?.token === this.token) await cell.write(encodeRecord({ ...current, expiresAtMs: 0 }), got!.version).catch(() => undefined);
  }

  async resign(): Promise<void> {
    await this.stop();
  }

  async stop(): Promise<void> {
    this.resigned = true;
    clearInterval(this.poll);
    await this.lease?.stop();
    this.store.untrack(this);
  }
}
