/**
 * Errors of the state layer (file and ZooKeeper stores, record schemas). Callers switch on `code`:
 *
 * | code | meaning | retryable |
 * |---|---|---|
 * | `STATE_CONFLICT` | a compare-and-set lost: the record (or claim) changed since it was read; re-read and recompute | yes |
 * | `STATE_UNAVAILABLE` | the store did not answer (connection loss, request watchdog); a write's outcome is unknown | yes |
 * | `STATE_SESSION_EXPIRED` | the ZooKeeper session ended (expired, or presumed lost by the watchdog): claims and leadership are gone | yes |
 * | `STATE_CORRUPT` | stored bytes do not parse or validate as the record they should be | no |
 * | `STATE_UNSUPPORTED_VERSION` | the record was written by a newer exporter (higher `schemaVersion`) | no |
 * | `STATE_TOO_LARGE` | an encoded record exceeds the store's limit (ZooKeeper: 1 MB per znode) | no |
 * | `STATE_CLOSED` | the store or client was closed | no |
 */
import { ErrorCodes, ExporterError, type ExporterErrorOptions } from '../errors.js';

export const StateErrorCodes = {
  STATE_CONFLICT: ErrorCodes.STATE_CONFLICT,
  STATE_UNAVAILABLE: ErrorCodes.STATE_UNAVAILABLE,
  STATE_SESSION_EXPIRED: ErrorCodes.STATE_SESSION_EXPIRED,
  STATE_CORRUPT: ErrorCodes.STATE_CORRUPT,
  STATE_UNSUPPORTED_VERSION: ErrorCodes.STATE_UNSUPPORTED_VERSION,
  STATE_TOO_LARGE: ErrorCodes.STATE_TOO_LARGE,
  STATE_CLOSED: ErrorCodes.STATE_CLOSED,
} as const;

export type StateErrorCode = (typeof StateErrorCodes)[keyof typeof StateErrorCodes];

const RETRYABLE: ReadonlySet<StateErrorCode> = new Set([
  StateErrorCodes.STATE_CONFLICT, StateErrorCodes.STATE_UNAVAILABLE, StateErrorCodes.STATE_SESSION_EXPIRED,
]);


export class StateError extends ExporterError {
  constructor(code: StateErrorCode, detail: string, options: ExporterErrorOptions = {}) {
    super(code, detail, { ...options, retryable: options.retryable ?? RETRYABLE.has(code) });
  }
}

/** A compare-and-set lost. `actualVersion` is the version found, when known (undefined: the record is absent). */
export class StateConflictError extends StateError {
  readonly actualVersion: number | undefined;

  constructor(detail: string, options: ExporterErrorOptions & { actualVersion?: number } = {}) {
    super(StateErrorCodes.STATE_CONFLICT, detail, options);
    this.actualVersion = options.actualVersion;
  }
}

export function isStateError(err: unknown, code?: StateErrorCode): err is StateError {
  return err instanceof StateError && (code === undefined || (err.code as string) === code);
}
