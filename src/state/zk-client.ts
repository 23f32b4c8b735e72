/**
 * A small promise wrapper over node-zookeeper-client 1.1.3 that adds what the library lacks
 * (shared/docs/libraries.md §6):
 *
 * - Request watchdog. The library has no read timeout: a request to a frozen or partitioned server waits
 *   forever. Every request here fails with STATE_UNAVAILABLE after `requestTimeoutMs`, and idempotent reads
 *   are retried on CONNECTION_LOSS within that time. A write that timed out has an unknown outcome.
 * - Session watchdog. The library only notices an expired session after the server tells it. Here, when no
 *   reply has arrived for 2/3 of the session timeout (pings are sent when idle), the session is presumed
 *   lost: it is treated exactly like an expiry (below), so no caller keeps acting on a claim or on leadership
 *   the server may already have given away.
 * - Handshake watchdog. Once its TCP connection is up the library waits for the server's answer to its
 *   connect request forever (seen when a server restarts: a connection accepted while the server starts is
 *   never answered). While not connected for longer than `handshakeTimeoutMs`, the socket is dropped so the
 *   library reconnects, with the same session when it is still alive (what the Java client's connect timeout does).
 * - Re-creation on expiry. An expired client is dead (every call fails), so on EXPIRED (or a presumed loss)
 *   the wrapper aborts `sessionSignal()`, emits `expired`, closes the old client and connects a new one; it
 *   emits `session` once the new session is established. Ephemeral nodes of the old session are gone (or go
 *   with its timeout): owners of claims and candidates re-create what they need on `session`.
 * - Unparseable replies. The library throws out of its socket handler (an uncaught exception) on a reply it
 *   cannot parse; here such a reply drops the connection, so the library reconnects (guardReplies).
 * - `multi` with correct versions: the library's Transaction turns version 0 into −1 (`version || -1`), which
 *   makes a check/setData of a fresh node unconditional; the ops are patched after each call.
 *
 * Events: `connected`, `disconnected`, `expired` (reason: 'expired' | 'watchdog'), `session` (generation).
 */
import { EventEmitter } from 'node:events';
import {
  createClient, CreateMode, Exception, State, type Client, type Event as ZkEvent, type Stat, type Transaction,
} from 'node-zookeeper-client';
import { StateError, StateErrorCodes, type StateErrorCode } from './errors.js';

export { CreateMode };
export type { Stat, ZkEvent };

export interface ZkClientOptions {
  /** `host:port[,host:port…][/chroot]`. */
  connectionString: string;
  /** Requested session timeout (default 30 s); the server may clamp it to its min/max. */
  sessionTimeoutMs?: number;
  /** Per-request limit (default: a third of the session timeout, at least 1 s). */
  requestTimeoutMs?: number;
  /** How long `connect` waits for the first session (default: the session timeout). */
  connectTimeoutMs?: number;
  /** Longest wait for a connection handshake before the socket is dropped and retried (default: min(requestTimeoutMs, 3 s)). */
  handshakeTimeoutMs?: number;
}

/** Exception names of node-zookeeper-client, e.g. 'NO_NODE', 'NODE_EXISTS', 'BAD_VERSION', 'TIMEOUT'. */
export type ZkCode = string;

export class ZkError extends StateError {
  readonly zkCode: ZkCode;
  readonly path: string;

  constructor(code: StateErrorCode, zkCode: ZkCode, op: string, path: string, cause?: unknown, retryable?: boolean) {
    super(code, `ZooKeeper ${op} ${path}: ${zkCode}`, { context: { key: path }, cause, retryable });
    this.zkCode = zkCode;
    this.path = path;
  }
}

export type ZkOp =
  | { op: 'create'; path: string; data: Buffer; mode?: number }
  | { op: 'setData'; path: string; data: Buffer; version: number }
  | { op: 'check'; path: string; version: number }
  | { op: 'remove'; path: string; version: number };

type Callback = (error: Error | Exception | null, ...results: unknown[]) => void;

const CONFLICT_CODES = new Set(['NODE_EXISTS', 'BAD_VERSION', 'NO_NODE', 'NOT_EMPTY']);
const TRANSIENT_CODES = new Set(['CONNECTION_LOSS', 'OPERATION_TIMEOUT', 'TIMEOUT']);

export class ZkClient extends EventEmitter {
  readonly connectionString: string;
  readonly sessionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  private client!: Client;
  private generation = 0;
  private hadSession = false;
  private connected = false;
  private lastHeardMs = Date.now();
  /** When the current disconnected spell began (undefined while connected). */
  private disconnectedSince: number | undefined = Date.now();
  private sessionController = new AbortController();
  private readonly watchdog: NodeJS.Timeout;
  private pinging = false;
  private closed = false;

  private constructor(options: ZkClientOptions) {
    super();
    this.connectionString = options.connectionString;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? Math.max(1000, Math.floor(this.sessionTimeoutMs / 3));
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? Math.max(500, Math.min(this.requestTimeoutMs, 3000));
    this.createUnderlying();
    this.watchdog = setInterval(() => this.checkLiveness(), Math.max(100, Math.min(500, Math.floor(this.sessionTimeoutMs / 6))));
    this.watchdog.unref();
  }

  /** Connects and waits for the first session; STATE_UNAVAILABLE when none within `connectTimeoutMs`. */
  static async connect(options: ZkClientOptions): Promise<ZkClient> {
    const zk = new ZkClient(options);
    const limit = options.connectTimeoutMs ?? zk.sessionTimeoutMs;
    try {
      await zk.waitForSession(limit);
    } catch (err) {
      zk.close();
      throw err;
    }
    return zk;
  }

  /** Increments each time a new session replaces an expired (or presumed lost) one. */
  get sessionGeneration(): number {
    return this.generation;
  }

  /** Session id (16 hex digits) of the current session; meaningful while connected. */
  get sessionId(): string {
    return this.client.getSessionId().toString('hex');
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Aborted when the current session ends (expiry, watchdog, close); a new signal per session. */
  sessionSignal(): AbortSignal {
    return this.sessionController.signal;
  }

  /** Resolves once a session is established (immediately when connected). */
  async waitForSession(timeoutMs = this.sessionTimeoutMs): Promise<void> {
    if (this.connected) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connected', onConnected);
        reject(new StateError(StateErrorCodes.STATE_UNAVAILABLE, `no ZooKeeper session within ${timeoutMs} ms`, { context: { uri: this.connectionString } }));
      }, timeoutMs);
      const onConnected = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.once('connected', onConnected);
    });
  }

  /** Data and stat, or undefined when the node does not exist. */
  async getData(path: string, watcher?: (event: ZkEvent) => void): Promise<{ data: Buffer; stat: Stat } | undefined> {
    return this.read('getData', path, (c, cb) => (watcher ? c.getData(path, watcher, cb) : c.getData(path, cb)),
      (data, stat) => ({ data: (data as Buffer | undefined) ?? Buffer.alloc(0), stat: stat as Stat }));
  }

  async getChildren(path: string, watcher?: (event: ZkEvent) => void): Promise<string[] | undefined> {
    return this.read('getChildren', path, (c, cb) => (watcher ? c.getChildren(path, watcher, cb) : c.getChildren(path, cb)), (children) => children as string[]);
  }

  async exists(path: string, watcher?: (event: ZkEvent) => void): Promise<Stat | undefined> {
    return this.read('exists', path, (c, cb) => (watcher ? c.exists(path, watcher, cb) : c.exists(path, cb)), (stat) => (stat ?? undefined) as Stat | undefined);
  }

  /** Creates a node; returns its path (with the sequence suffix for sequential modes). */
  async create(path: string, data: Buffer, mode: number = CreateMode.PERSISTENT): Promise<string> {
    return this.write('create', path, (c, cb) => c.create(path, data, mode, cb), (created) => created as string);
  }

  async setData(path: string, data: Buffer, version: number): Promise<Stat> {
    return this.write('setData', path, (c, cb) => c.setData(path, data, version, cb), (stat) => stat as Stat);
  }

  async remove(path: string, version = -1): Promise<void> {
    await this.write('remove', path, (c, cb) => c.remove(path, version, cb), () => undefined);
  }

  /** Creates `path` and missing parents as empty persistent nodes; existing nodes are fine. */
  async ensurePath(path: string): Promise<void> {
    const parts = path.split('/').filter((p) => p.length > 0);
    let at = '';
    for (const part of parts) {
      at += `/${part}`;
      if ((await this.exists(at)) !== undefined) continue;
      try {
        await this.create(at, Buffer.alloc(0));
      } catch (err) {
        if (!(err instanceof ZkError && err.zkCode === 'NODE_EXISTS')) throw err;
      }
    }
  }

  /** Atomic multi-op; a failing op fails all, reported as a ZkError naming that op's path and code. */
  async multi(ops: readonly ZkOp[]): Promise<void> {
    const path = ops[0]?.path ?? '/';
    await this.write('multi', path, (c, cb) => {
      const tx = c.transaction();
      for (const op of ops) addOp(tx, op);
      tx.commit((error, results) => {
        if (error === null || error === undefined) return cb(null);
        const failed = Array.isArray(results) ? (results as { err?: number }[]).findIndex((r) => r.err !== undefined && r.err !== 0 && r.err !== -2) : -1;
        const where = failed >= 0 ? ops[failed]?.path : undefined;
        (error as Exception & { path?: string }).path = where;
        cb(error);
      });
    }, () => undefined);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    this.connected = false;
    this.sessionController.abort(new StateError(StateErrorCodes.STATE_CLOSED, 'ZooKeeper client closed'));
    this.client.close();
  }

  // --- internals --------------------------------------------------------------------------------------

  private createUnderlying(): void {
    const client = createClient(this.connectionString, { sessionTimeout: this.sessionTimeoutMs, spinDelay: 200, retries: 0 });
    this.client = client;
    let established = false;
    client.on('state', (state: State) => {
      if (client !== this.client || this.closed) return;
      if (state === State.SYNC_CONNECTED || state === State.CONNECTED_READ_ONLY) {
        this.connected = true;
        this.disconnectedSince = undefined;
        this.lastHeardMs = Date.now();
        this.hadSession = true;
        if (!established) {
          established = true;
          if (this.generation > 0) this.emit('session', this.generation);
        }
        this.emit('connected');
      } else if (state === State.DISCONNECTED) {
        this.connected = false;
        this.disconnectedSince = Date.now();
        this.emit('disconnected');
      } else if (state === State.EXPIRED) {
        this.sessionLost('expired');
      }
    });
    guardReplies(client);
    client.connect();
  }

  /** Treats the current session as gone and starts a new one. */
  private sessionLost(reason: 'expired' | 'watchdog'): void {
    if (this.closed) return;
    const old = this.client;
    this.generation += 1;
    this.connected = false;
    this.hadSession = false;
    this.lastHeardMs = Date.now();
    this.disconnectedSince = Date.now();
    const ended = this.sessionController;
    this.sessionController = new AbortController();
    ended.abort(new StateError(StateErrorCodes.STATE_SESSION_EXPIRED,
      reason === 'expired' ? 'ZooKeeper session expired' : 'no reply from ZooKeeper for 2/3 of the session timeout: session presumed lost',
      { context: { uri: this.connectionString } }));
    this.createUnderlying();
    // Closing tells a still-reachable server to end the old session now (its ephemerals go at once).
    old.close();
    this.emit('expired', reason);
  }

  private checkLiveness(): void {
    if (this.closed) return;
    const now = Date.now();
    if (this.disconnectedSince !== undefined && now - this.disconnectedSince > this.handshakeTimeoutMs) {
      this.disconnectedSince = now;
      this.dropSocket();
    }
    if (!this.hadSession) return;
    // The server may have granted a shorter session than asked for: judge by what it granted.
    const timeout = this.client.getSessionTimeout() || this.sessionTimeoutMs;
    const silence = now - this.lastHeardMs;
    if (silence > (timeout * 2) / 3) {
      this.sessionLost('watchdog');
    } else if (silence >= Math.floor(timeout / 6) && this.connected && !this.pinging) {
      this.pinging = true;
      this.exists('/').catch(() => undefined).finally(() => { this.pinging = false; });
    }
  }

  /** Closes the library's socket (internal field) so that it reconnects; a no-op if the internals differ. */
  private dropSocket(): void {
    try {
      connectionManagerOf(this.client)?.socket?.destroy?.();
    } catch {
      // nothing to drop
    }
  }

  private async read<T>(op: string, path: string, call: (c: Client, cb: Callback) => void, result: (...r: unknown[]) => T): Promise<T | undefined> {
    const deadline = Date.now() + this.requestTimeoutMs;
    for (;;) {
      try {
        return await this.request(op, path, call, result, deadline - Date.now());
      } catch (err) {
        if (err instanceof ZkError && err.zkCode === 'NO_NODE') return undefined;
        const again = err instanceof ZkError && err.zkCode === 'CONNECTION_LOSS' && Date.now() + 100 < deadline && !this.closed;
        if (!again) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private async write<T>(op: string, path: string, call: (c: Client, cb: Callback) => void, result: (...r: unknown[]) => T): Promise<T> {
    return this.request(op, path, call, result, this.requestTimeoutMs);
  }

  private request<T>(op: string, path: string, call: (c: Client, cb: Callback) => void, result: (...r: unknown[]) => T, timeoutMs: number): Promise<T> {
    if (this.closed) return Promise.reject(new ZkError(StateErrorCodes.STATE_CLOSED, 'CLOSED', op, path, undefined, false));
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        reject(new ZkError(StateErrorCodes.STATE_UNAVAILABLE, 'TIMEOUT', op, path, undefined, true));
      }, Math.max(1, timeoutMs));
      call(this.client, (error, ...results) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (error === null || error === undefined) {
          this.lastHeardMs = Date.now();
          resolve(result(...results));
          return;
        }
        const zkCode = error instanceof Exception ? error.getName() : 'CLIENT_ERROR';
        // A local CONNECTION_LOSS is not news from the server; anything else (NO_NODE, BAD_VERSION …) is.
        if (zkCode !== 'CONNECTION_LOSS') this.lastHeardMs = Date.now();
        const where = (error as { path?: string }).path ?? path;
        reject(toZkError(zkCode, op, where, error));
      });
    });
  }
}

function toZkError(zkCode: string, op: string, path: string, cause: unknown): ZkError {
  if (CONFLICT_CODES.has(zkCode)) return new ZkError(StateErrorCodes.STATE_CONFLICT, zkCode, op, path, cause);
  if (zkCode === 'SESSION_EXPIRED') return new ZkError(StateErrorCodes.STATE_SESSION_EXPIRED, zkCode, op, path, cause);
  if (TRANSIENT_CODES.has(zkCode)) return new ZkError(StateErrorCodes.STATE_UNAVAILABLE, zkCode, op, path, cause, true);
  return new ZkError(StateErrorCodes.STATE_UNAVAILABLE, zkCode, op, path, cause, false);
}

/** Adds an op to a library Transaction, then restores the version the library rewrote (0 → −1). */
function addOp(tx: Transaction, op: ZkOp): void {
  switch (op.op) {
    case 'create':
      tx.create(op.path, op.data, op.mode ?? CreateMode.PERSISTENT);
      return;
    case 'setData':
      tx.setData(op.path, op.data, op.version);
      break;
    case 'check':
      tx.check(op.path, op.version);
      break;
    case 'remove':
      tx.remove(op.path, op.version);
      break;
  }
  const ops = (tx as unknown as { ops: { version?: number }[] }).ops;
  ops[ops.length - 1]!.version = op.version;
}

/** The library's connection manager (internal field), or undefined if its internals differ. */
interface ConnectionManagerInternals {
  socket?: { destroy?: () => void };
  pendingBuffer?: unknown;
  onSocketData?: (buffer: Buffer) => void;
}

function connectionManagerOf(client: Client): ConnectionManagerInternals | undefined {
  return (client as unknown as { connectionManager?: ConnectionManagerInternals }).connectionManager;
}

/**
 * A reply the library cannot parse (seen once in CI: "Unknown code: 128122886" thrown from its socket 'data'
 * handler, so an uncaught exception) means the byte stream is out of step. Drop the connection instead, as the
 * library itself does for an unknown op code: it reconnects and the requests in flight fail with
 * CONNECTION_LOSS, which the callers already handle.
 */
function guardReplies(client: Client): void {
  const manager = connectionManagerOf(client);
  const onSocketData = manager?.onSocketData;
  if (manager === undefined || typeof onSocketData !== 'function') return;
  // The socket's 'data' listener is bound when it connects, from this property.
  manager.onSocketData = function guarded(this: ConnectionManagerInternals, buffer: Buffer): void {
    try {
      onSocketData.call(this, buffer);
    } catch {
      this.pendingBuffer = null;
      this.socket?.destroy?.();
    }
  };
}
