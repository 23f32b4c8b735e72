/**
 * The ZooKeeper state store, in Pinot's Helix property store next to Pinot's own minion task metadata.
 *
 * Layout (`<root>` = `/<cluster>/PROPERTYSTORE/MINION_TASK_METADATA`, the Pinot ≥ 0.11 convention
 * `MINION_TASK_METADATA/<tableNameWithType>/<taskType>`):
 *
 *   <root>/<table>/DataExportTask                  ZNRecord {id: <table>, simpleFields: {layout: "pinot-parquet-export/v1"}}
 *                                                  (a marker Pinot's task-metadata API can read; Pinot deletes it with the table)
 *   <root>/<table>/DataExportTask/v1/state         TableState JSON (records.ts); every write is setData with the
 *                                                  version read (compare-and-set), creation is create (fails if it exists)
 *   <root>/<table>/DataExportTask/v1/claims/<task> EPHEMERAL ClaimRecord JSON: the claim lives as long as the
 *                                                  claimer's session; task ids are URI-encoded
 *   <root>/DataExportTask/v1/leader/candidate-<n>  EPHEMERAL_SEQUENTIAL LeaderRecord JSON: lowest n leads
 *
 * Records above 256 KiB are gzip-compressed (readers detect the gzip magic, as for Helix ZNRecords); a
 * record that is still above ~1 MB is refused with STATE_TOO_LARGE before it reaches the server.
 */
import { randomBytes } from 'node:crypto';
import { StateError, StateErrorCodes, isStateError } from './errors.js';
import {
  decodeRecord, encodeRecord, parseClaimRecord, parseLeaderRecord, parseTableState, type ClaimRecord, type LeaderRecord,
  type TableState,
} from './records.js';
import type { Claim, ClaimInfo, Leadership, OnElected, StateStore, Versioned } from './store.js';
import { CreateMode, ZkError, type ZkClient } from './zk-client.js';

export const TASK_TYPE = 'DataExportTask';
export const LAYOUT = 'pinot-parquet-export/v1';
/** ZooKeeper's default jute.maxbuffer is 1 MiB (0xfffff); leave room for the request framing. */
export const MAX_ZNODE_BYTES = 1_000_000;

export interface ZooKeeperStateStoreOptions {
  /** A connected client; the store does not close it. */
  client: ZkClient;
  /** Helix cluster name: the store lives under `/<cluster>/PROPERTYSTORE`. */
  cluster: string;
  /** Task type segment of the paths (default `DataExportTask`). */
  taskType?: string;
}

export class ZooKeeperStateStore implements StateStore {
  readonly kind = 'zookeeper' as const;
  readonly client: ZkClient;
  readonly root: string;
  readonly taskType: string;
  private readonly campaigns = new Set<ZkCampaign>();
  private readonly claims = new Set<ZkClaim>();
  private closed = false;

  constructor(options: ZooKeeperStateStoreOptions) {
    this.client = options.client;
    this.root = `/${options.cluster}/PROPERTYSTORE/MINION_TASK_METADATA`;
    this.taskType = options.taskType ?? TASK_TYPE;
  }

  /** `<root>/<table>/DataExportTask` */
  tablePath(table: string): string {
    return `${this.root}/${table}/${this.taskType}`;
  }

  statePath(table: string): string {
    return `${this.tablePath(table)}/v1/state`;
  }

  claimsPath(table: string): string {
    return `${this.tablePath(table)}/v1/claims`;
  }

  leaderPath(): string {
    return `${this.root}/${this.taskType}/v1/leader`;
  }

  async read(table: string): Promise<Versioned<TableState> | undefined> {
    this.assertOpen();
    const path = this.statePath(table);
    const got = await this.client.getData(path);
    if (got === undefined) return undefined;
    return { value: parseTableState(decodeRecord(got.data, path), path), version: got.stat.version };
  }

  async compareAndSet(table: string, next: TableState, expectedVersion: number | undefined): Promise<number> {
    this.assertOpen();
    const path = this.statePath(table);
    if (next.table !== table) throw new StateError(StateErrorCodes.STATE_CORRUPT, `record of table ${next.table} written as ${table}`, { context: { table } });
    const data = sized(encodeRecord(next), path);
    if (expectedVersion === undefined) {
      await this.ensureTable(table);
      await this.client.create(path, data);
      return 0;
    }
    return (await this.client.setData(path, data, expectedVersion)).version;
  }

  async claim(table: string, taskId: string, owner: string): Promise<Claim | undefined> {
    this.assertOpen();
    const path = `${this.claimsPath(table)}/${encodeURIComponent(taskId)}`;
    const rec: ClaimRecord = { schemaVersion: 1, table, taskId, owner, claimedAtMs: Date.now(), token: randomBytes(9).toString('base64url') };
    const signal = this.client.sessionSignal();
    const session = this.client.sessionId;
    try {
      await this.client.create(path, encodeRecord(rec), CreateMode.EPHEMERAL);
    } catch (err) {
      if (err instanceof ZkError && err.zkCode === 'NO_NODE') {
        await this.ensureTable(table);
        return this.claim(table, taskId, owner);
      }
      if (!(err instanceof ZkError && err.zkCode === 'NODE_EXISTS')) throw err;
      // Ours when a create whose reply was lost did land (same session, same owner): adopt it.
      const got = await this.client.getData(path);
      if (got === undefined) return this.claim(table, taskId, owner);
      const existing = parseClaimRecord(decodeRecord(got.data, path), path);
      if (got.stat.ephemeralOwner.toString('hex') !== session || existing.owner !== owner) return undefined;
      rec.token = existing.token;
      rec.claimedAtMs = existing.claimedAtMs;
    }
    const claim = new ZkClaim(this, path, rec, signal);
    this.claims.add(claim);
    await claim.watch();
    return claim;
  }

  async listClaims(table: string): Promise<ClaimInfo[]> {
    this.assertOpen();
    const dir = this.claimsPath(table);
    const names = (await this.client.getChildren(dir)) ?? [];
    const out: ClaimInfo[] = [];
    for (const name of names) {
      const got = await this.client.getData(`${dir}/${name}`);
      if (got === undefined) continue;
      const { table: t, taskId, owner, claimedAtMs } = parseClaimRecord(decodeRecord(got.data, `${dir}/${name}`), `${dir}/${name}`);
      out.push({ table: t, taskId, owner, claimedAtMs });
    }
    return out;
  }

  async campaign(candidate: string, onElected: OnElected): Promise<Leadership> {
    this.assertOpen();
    const campaign = new ZkCampaign(this, candidate, onElected);
    this.campaigns.add(campaign);
    await campaign.join();
    return campaign;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.campaigns].map((c) => c.resign().catch(() => undefined)));
    await Promise.all([...this.claims].map((c) => c.release().catch(() => undefined)));
    this.closed = true;
  }

  forget(item: ZkClaim | ZkCampaign): void {
    if (item instanceof ZkClaim) this.claims.delete(item);
    else this.campaigns.delete(item);
  }

  /** The marker ZNRecord and the v1 parents of a table. */
  private async ensureTable(table: string): Promise<void> {
    const marker = this.tablePath(table);
    await this.client.ensurePath(`${this.root}/${table}`);
    const znRecord = { id: table, simpleFields: { layout: LAYOUT }, mapFields: {}, listFields: {} };
    await this.client.create(marker, Buffer.from(JSON.stringify(znRecord, null, 2))).catch(ignoreExists);
    await this.client.create(`${marker}/v1`, Buffer.alloc(0)).catch(ignoreExists);
    await this.client.create(`${marker}/v1/claims`, Buffer.alloc(0)).catch(ignoreExists);
  }

  private assertOpen(): void {
    if (this.closed) throw new StateError(StateErrorCodes.STATE_CLOSED, 'the ZooKeeper state store is closed');
  }
}

function ignoreExists(err: unknown): void {
  if (!(err instanceof ZkError && err.zkCode === 'NODE_EXISTS')) throw err;
}

function sized(data: Buffer, path: string): Buffer {
  if (data.length > MAX_ZNODE_BYTES) {
    throw new StateError(StateErrorCodes.STATE_TOO_LARGE, `record is ${data.length} bytes after compression, ZooKeeper takes at most ${MAX_ZNODE_BYTES}`, { context: { key: path } });
  }
  return data;
}

/** An ephemeral claim znode; lost with the session, or when someone deletes the node. */
class ZkClaim implements Claim {
  readonly table: string;
  readonly taskId: string;
  readonly owner: string;
  readonly claimedAtMs: number;
  private readonly controller = new AbortController();
  private released = false;
  private readonly session: AbortSignal;
  private readonly onSessionEnd: () => void;

  constructor(private readonly store: ZooKeeperStateStore, private readonly path: string, rec: ClaimRecord, session: AbortSignal) {
    this.table = rec.table;
    this.taskId = rec.taskId;
    this.owner = rec.owner;
    this.claimedAtMs = rec.claimedAtMs;
    // Kept to remove on release: a session lives for many claims, one listener each would leak.
    this.session = session;
    this.onSessionEnd = (): void => this.lose(session.reason);
    if (session.aborted) this.onSessionEnd();
    else session.addEventListener('abort', this.onSessionEnd, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Watches the node: deleted (by an operator, or the session ended) → lost. */
  async watch(): Promise<void> {
    const stat = await this.store.client.exists(this.path, (event) => {
      if (event.getName() === 'NODE_DELETED') this.lose(new StateError(StateErrorCodes.STATE_CONFLICT, `claim node ${this.path} was deleted`, { retryable: false }));
      else if (!this.signal.aborted && !this.released) void this.watch().catch(() => undefined);
    });
    if (stat === undefined) this.lose(new StateError(StateErrorCodes.STATE_CONFLICT, `claim node ${this.path} is gone`, { retryable: false }));
  }

  private lose(reason: unknown): void {
    this.session.removeEventListener('abort', this.onSessionEnd);
    if (!this.controller.signal.aborted) this.controller.abort(reason);
    this.store.forget(this);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const held = !this.controller.signal.aborted;
    this.lose(new StateError(StateErrorCodes.STATE_CONFLICT, 'claim released', { retryable: false }));
    if (held) await this.store.client.remove(this.path).catch((err: unknown) => { if (!(err instanceof ZkError && err.zkCode === 'NO_NODE')) throw err; });
  }
}

/**
 * Leader election with ephemeral sequential nodes (ZooKeeper recipe): the lowest sequence number leads; the
 * others watch their predecessor. On session loss the leader's signal aborts at once and the candidate
 * re-joins with a new node when the next session is established.
 */
class ZkCampaign implements Leadership {
  private node: string | undefined;
  private leading: AbortController | undefined;
  private resigned = false;
  private readonly onSession = (): void => void this.join().catch(() => undefined);
  private readonly onExpired = (): void => this.lost();

  constructor(private readonly store: ZooKeeperStateStore, readonly candidate: string, private readonly onElected: OnElected) {
    store.client.on('session', this.onSession);
    store.client.on('expired', this.onExpired);
  }

  isLeader(): boolean {
    return this.leading !== undefined && !this.leading.signal.aborted;
  }

  get signal(): AbortSignal | undefined {
    return this.isLeader() ? this.leading!.signal : undefined;
  }

  async join(): Promise<void> {
    if (this.resigned) return;
    const client = this.store.client;
    const dir = this.store.leaderPath();
    await client.ensurePath(dir);
    const session = client.sessionId;
    const rec: LeaderRecord = { schemaVersion: 1, candidate: this.candidate, sinceMs: Date.now(), session, token: randomBytes(9).toString('base64url') };
    this.node = await client.create(`${dir}/candidate-`, encodeRecord(rec), CreateMode.EPHEMERAL_SEQUENTIAL);
    await this.check();
  }

  /** Leads when our node is the lowest, else watches the predecessor and checks again when it goes. */
  private async check(): Promise<void> {
    if (this.resigned || this.node === undefined) return;
    const client = this.store.client;
    const dir = this.store.leaderPath();
    const mine = this.node.slice(dir.length + 1);
    const children = ((await client.getChildren(dir)) ?? []).filter((c) => c.startsWith('candidate-')).sort(bySequence);
    // Nodes of this session other than ours: creates whose reply was lost. They would lead with nobody behind them.
    for (const other of children) {
      if (other === mine) continue;
      const got = await client.getData(`${dir}/${other}`);
      if (got !== undefined && got.stat.ephemeralOwner.toString('hex') === client.sessionId) {
        const rec = parseLeaderRecord(decodeRecord(got.data, `${dir}/${other}`), `${dir}/${other}`);
        if (rec.candidate === this.candidate) await client.remove(`${dir}/${other}`).catch(() => undefined);
      }
    }
    const live = ((await client.getChildren(dir)) ?? []).filter((c) => c.startsWith('candidate-')).sort(bySequence);
    const at = live.indexOf(mine);
    if (at < 0) return this.lost();
    if (at === 0) return this.elected();
    const predecessor = `${dir}/${live[at - 1]!}`;
    const stat = await client.exists(predecessor, () => void this.check().catch(() => undefined));
    if (stat === undefined) await this.check();
  }

  private elected(): void {
    if (this.isLeader() || this.resigned) return;
    const controller = new AbortController();
    this.leading = controller;
    const session = this.store.client.sessionSignal();
    session.addEventListener('abort', () => controller.abort(session.reason), { once: true });
    this.onElected(controller.signal);
  }

  private lost(reason: unknown = new StateError(StateErrorCodes.STATE_SESSION_EXPIRED, 'leadership lost with the ZooKeeper session')): void {
    this.node = undefined;
    if (this.leading !== undefined && !this.leading.signal.aborted) this.leading.abort(reason);
  }

  async resign(): Promise<void> {
    if (this.resigned) return;
    this.resigned = true;
    this.store.client.off('session', this.onSession);
    this.store.client.off('expired', this.onExpired);
    const node = this.node;
    this.lost(new StateError(StateErrorCodes.STATE_CONFLICT, 'resigned', { retryable: false }));
    this.store.forget(this);
    if (node !== undefined) await this.store.client.remove(node).catch((err: unknown) => { if (!isStateError(err)) throw err; });
  }
}

function bySequence(a: string, b: string): number {
  return Number(a.slice(a.lastIndexOf('-') + 1)) - Number(b.slice(b.lastIndexOf('-') + 1));
}
