/**
 * What the control plane reports while it works. Metrics and logs subscribe to these events in the daemon;
 * nothing below the daemon imports prom-client or writes logs itself. Payloads carry names, counts and
 * error codes only — never credentials or full configs.
 */
import { EventEmitter } from 'node:events';

export interface TaskEventBase {
  /** Table whose config holds the task (name with type). */
  table: string;
  segment: string;
  taskId: string;
  /** Instance id of the executor. */
  owner: string;
  /** Attempt number (1 for the first). */
  attempt: number;
}

export interface ExportEventMap {
  'task.started': TaskEventBase;
  'task.completed': TaskEventBase & {
    rows: number;
    bytes: number;
    seconds: number;
    /** Published file URIs. */
    files: string[];
    /** The sink already held this content: nothing was written. */
    reused: boolean;
  };
  /** An attempt failed; `parked` = no attempts left (FAILED), else it is retried after `retryInMs`. */
  'task.failed': TaskEventBase & { code: string; message: string; retryable: boolean; parked: boolean; retryInMs?: number; seconds: number };
  /** An attempt was given up without a verdict: the claim was lost, or the daemon shuts down. */
  'task.released': TaskEventBase & { reason: 'claim-lost' | 'shutdown' };
  'generation.completed': {
    table: string;
    atMs: number;
    /** Tasks created by this cycle. */
    emitted: number;
    /** Eligible segments not yet exported (pending + running tasks, and eligible ones over the cap). */
    pending: number;
    /** Seconds since the oldest not-yet-exported eligible segment ended; 0 when there is none. */
    lagSeconds: number;
    watermarkMs: number;
    trigger: 'schedule' | 'demand' | 'once';
  };
  'generation.failed': { table: string; atMs: number; code: string; message: string };
  'leader.changed': { candidate: string; leader: boolean };
  /** Iceberg target: the committer's decision for one cycle, and a landed snapshot. */
  'iceberg.decision': { table: string; decision: 'EMIT' | 'WAIT' | 'COMMIT'; staged: number; reason: string };
  'iceberg.committed': { table: string; snapshotId: string; files: number; segments: number; rows: number; attempts: number };
  /** Anything worth a log line that has no event of its own. */
  'log': { level: 'debug' | 'info' | 'warn' | 'error'; message: string; fields?: Record<string, unknown> };
}

export type ExportEventName = keyof ExportEventMap;

/** A typed EventEmitter; listeners must not throw (a listener error is swallowed, not the work's). */
export class ExportEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  emit<K extends ExportEventName>(name: K, payload: ExportEventMap[K]): void {
    for (const listener of this.emitter.listeners(name)) {
      try {
        (listener as (p: ExportEventMap[K]) => void)(payload);
      } catch {
        // Observability must never break an export.
      }
    }
  }

  on<K extends ExportEventName>(name: K, listener: (payload: ExportEventMap[K]) => void): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }
}
