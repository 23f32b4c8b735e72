/**
 * What the HTTP API may ask of a running daemon. The daemon (daemon.ts) implements it; the API (http-api.ts)
 * only sees this interface, so the API stays a thin translation of HTTP to these calls.
 */
import type { ClaimInfo } from '../state/store.js';
import type { TableState } from '../state/records.js';

export interface TableInfo {
  /** Table whose config holds the task (name with type), e.g. `events_REALTIME`. */
  table: string;
  sourceTable: string;
  target: 'filesystem' | 'iceberg-rest';
  schedule?: string;
  /** Where files go, credentials removed (`s3://bucket/prefix/`, `file:///…`, the catalog URI + table). */
  destination: string;
}

export interface ScheduleResult {
  table: string;
  /** Task ids (segment names) created by this cycle; empty when nothing was eligible. */
  emitted: string[];
  /** False when this instance is not the generator's leader and did not run the cycle. */
  ran: boolean;
  leader?: string;
}

export interface HealthCheck {
  ok: boolean;
  detail?: string;
}

export interface TableHealth {
  /** Last generator cycle that succeeded for the table (epoch ms). */
  lastSuccessfulCycleMs?: number;
  /** Seconds since the oldest eligible, not yet exported segment ended (0: nothing waiting). */
  exportLagSeconds: number;
  pending: number;
  running: number;
  failed: number;
  /** iceberg-rest tables: tasks whose data file is staged, waiting for the Iceberg commit. */
  staged?: number;
  /**
   * Set only while the state store cannot be read: the figures are from the state read at this time
   * (epoch ms), or null when none was ever read (then they are zeros, not knowledge).
   */
  stateAsOfMs?: number | null;
}

export interface HealthReport {
  ok: boolean;
  /** `state` (ZooKeeper or the state directory), `destination:<table>` (output reachable), … */
  checks: Record<string, HealthCheck>;
  tables: Record<string, TableHealth>;
  instance: string;
  leader: boolean;
  startedAtMs: number;
}

export interface DaemonControl {
  readonly instance: string;
  tables(): TableInfo[];
  /** Runs a generator cycle for the table now (Pinot's POST /tasks/schedule). Throws API_NOT_FOUND for an unknown table. */
  schedule(table: string): Promise<ScheduleResult>;
  /** The table's state record (watermark, progress, tasks), undefined when it has none yet. */
  readState(table: string): Promise<TableState | undefined>;
  listClaims(table: string): Promise<ClaimInfo[]>;
  /**
   * Removes the table's state (Pinot's DELETE …/metadata): the next cycle starts from `initialWatermarkMs`.
   * Refused (API_BAD_REQUEST) while tasks of the table are running.
   */
  deleteMetadata(table: string): Promise<void>;
  health(): Promise<HealthReport>;
}
