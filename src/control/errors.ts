/**
 * Errors of the control plane (discovery, generator, scheduler). Callers switch on `code`:
 *
 * | code | meaning | retryable |
 * |---|---|---|
 * | `CONTROL_ZNRECORD_INVALID` | a znode's bytes are not a Helix ZNRecord (bad gzip, bad JSON, wrong shape) | no |
 * | `CONTROL_SEGMENT_METADATA_INVALID` | a segment's ZK metadata or deep-store metadata has an unusable value | no |
 * | `CONTROL_LISTING_FAILED` | listing the segments of a table failed (store or deep store unreachable) | yes |
 * | `CONTROL_GENERATOR_CONTENDED` | the generator lost every compare-and-set of a cycle to concurrent writers | yes |
 *
 * Invalid configuration (including a bad `schedule`) is a `ConfigError` with `CONFIG_INVALID`.
 */
import { ErrorCodes, ExporterError, type ExporterErrorOptions } from '../errors.js';

export const ControlErrorCodes = {
  CONTROL_ZNRECORD_INVALID: ErrorCodes.CONTROL_ZNRECORD_INVALID,
  CONTROL_SEGMENT_METADATA_INVALID: ErrorCodes.CONTROL_SEGMENT_METADATA_INVALID,
  CONTROL_LISTING_FAILED: ErrorCodes.CONTROL_LISTING_FAILED,
  CONTROL_GENERATOR_CONTENDED: ErrorCodes.CONTROL_GENERATOR_CONTENDED,
} as const;

export type ControlErrorCode = (typeof ControlErrorCodes)[keyof typeof ControlErrorCodes];

const RETRYABLE: ReadonlySet<ControlErrorCode> = new Set([
  ControlErrorCodes.CONTROL_LISTING_FAILED, ControlErrorCodes.CONTROL_GENERATOR_CONTENDED,
]);


export class ControlError extends ExporterError {
  constructor(code: ControlErrorCode, detail: string, options: ExporterErrorOptions = {}) {
    super(code, detail, { ...options, retryable: options.retryable ?? RETRYABLE.has(code) });
  }
}
