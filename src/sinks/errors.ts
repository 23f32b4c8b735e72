/**
 * Errors of the sinks. Configuration mistakes are `ConfigError(CONFIG_INVALID)` from src/errors.ts; what
 * goes wrong while publishing is a `SinkError` with one of the codes below.
 *
 * SINK_WRITE_FAILED: writing or uploading failed (disk error, network error, HTTP 5xx after retries, 403 on
 * a part…). SINK_CONFLICT: the target changed under us — a conditional write found an object with other
 * content (412) or a concurrent write to the same key (409); a re-run rewrites the key, so it is retryable.
 */
import { ErrorCodes, ExporterError } from '../errors.js';

export const SinkErrorCodes = {
  SINK_WRITE_FAILED: ErrorCodes.SINK_WRITE_FAILED,
  SINK_CONFLICT: ErrorCodes.SINK_CONFLICT,
} as const;

export type SinkErrorCode = (typeof SinkErrorCodes)[keyof typeof SinkErrorCodes];

export class SinkError extends ExporterError {}

/** The first line of an error, for messages that wrap another error. */
export function describeError(err: unknown): string {
  if (err instanceof ExporterError) return err.message;
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  const name = e?.name && e.name !== 'Error' ? e.name : e?.code;
  const message = e?.message ?? String(err);
  return [name, status ? `HTTP ${status}` : undefined].filter(Boolean).join(' ') + (message && message !== name ? `: ${message}` : '');
}
