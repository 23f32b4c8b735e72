/**
 * One error hierarchy for the whole exporter. Retries, metrics and the CLI switch on `code`, never on
 * message text; `context` names the input that was bad (segment, column, offset, key, URI …).
 */

export const ErrorCodes = {
  // Pinot segment format (decoders; never retryable: the bytes will not change)
  PINOT_TRUNCATED: 'PINOT_TRUNCATED',
  PINOT_BAD_MAGIC: 'PINOT_BAD_MAGIC',
  PINOT_UNSUPPORTED_VERSION: 'PINOT_UNSUPPORTED_VERSION',
  PINOT_UNSUPPORTED_CODEC: 'PINOT_UNSUPPORTED_CODEC',
  PINOT_UNSUPPORTED_TYPE: 'PINOT_UNSUPPORTED_TYPE',
  PINOT_BAD_METADATA: 'PINOT_BAD_METADATA',
  PINOT_CORRUPT: 'PINOT_CORRUPT',
  PINOT_NO_FORWARD_INDEX: 'PINOT_NO_FORWARD_INDEX',
  PINOT_UNKNOWN_COLUMN: 'PINOT_UNKNOWN_COLUMN',
  PINOT_LEGACY_PADDING: 'PINOT_LEGACY_PADDING',
  // Deep store and archives
  ARCHIVE_INVALID: 'ARCHIVE_INVALID',
  SOURCE_NOT_FOUND: 'SOURCE_NOT_FOUND',
  SOURCE_UNSUPPORTED: 'SOURCE_UNSUPPORTED',
  SOURCE_FETCH_FAILED: 'SOURCE_FETCH_FAILED',
  // Parquet stage
  PARQUET_SCHEMA_MISMATCH: 'PARQUET_SCHEMA_MISMATCH',
  PARQUET_VALUE_OUT_OF_RANGE: 'PARQUET_VALUE_OUT_OF_RANGE',
  PARQUET_WRITE_FAILED: 'PARQUET_WRITE_FAILED',
  PARQUET_OUTPUT_FAILED: 'PARQUET_OUTPUT_FAILED',
  // Sinks
  SINK_WRITE_FAILED: 'SINK_WRITE_FAILED',
  SINK_CONFLICT: 'SINK_CONFLICT',
  // State stores
  STATE_CONFLICT: 'STATE_CONFLICT',
  STATE_CORRUPT: 'STATE_CORRUPT',
  STATE_UNSUPPORTED_VERSION: 'STATE_UNSUPPORTED_VERSION',
  STATE_TOO_LARGE: 'STATE_TOO_LARGE',
  STATE_UNAVAILABLE: 'STATE_UNAVAILABLE',
  STATE_SESSION_EXPIRED: 'STATE_SESSION_EXPIRED',
  STATE_CLOSED: 'STATE_CLOSED',
  // Control plane
  CONTROL_GENERATOR_CONTENDED: 'CONTROL_GENERATOR_CONTENDED',
  CONTROL_LISTING_FAILED: 'CONTROL_LISTING_FAILED',
  CONTROL_SEGMENT_METADATA_INVALID: 'CONTROL_SEGMENT_METADATA_INVALID',
  CONTROL_ZNRECORD_INVALID: 'CONTROL_ZNRECORD_INVALID',
  // Executors and the daemon
  TASK_SHUTDOWN: 'TASK_SHUTDOWN',
  API_BAD_REQUEST: 'API_BAD_REQUEST',
  API_UNAUTHORIZED: 'API_UNAUTHORIZED',
  API_NOT_FOUND: 'API_NOT_FOUND',
  // Iceberg REST target
  ICEBERG_CATALOG_ERROR: 'ICEBERG_CATALOG_ERROR',
  ICEBERG_AUTH_FAILED: 'ICEBERG_AUTH_FAILED',
  ICEBERG_COMMIT_CONFLICT: 'ICEBERG_COMMIT_CONFLICT',
  ICEBERG_COMMIT_STATE_UNKNOWN: 'ICEBERG_COMMIT_STATE_UNKNOWN',
  ICEBERG_TABLE_UNSUPPORTED: 'ICEBERG_TABLE_UNSUPPORTED',
  ICEBERG_SCHEMA_MISMATCH: 'ICEBERG_SCHEMA_MISMATCH',
  ICEBERG_METADATA_INVALID: 'ICEBERG_METADATA_INVALID',
  ICEBERG_CREDENTIALS_EXPIRED: 'ICEBERG_CREDENTIALS_EXPIRED',
  // Configuration and usage
  CONFIG_INVALID: 'CONFIG_INVALID',
  USAGE: 'USAGE',
  // A failure that is not an ExporterError (a bug, or an error from a library we did not classify)
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** What the error is about. Every field is optional; decoders fill what they know, callers add the rest. */
export interface ErrorContext {
  segment?: string;
  column?: string;
  /** Index structure, e.g. `forward_index`, `dictionary`, `metadata.properties`. */
  index?: string;
  /** Byte offset inside the named index buffer or file. */
  offset?: number;
  /** Row (doc id) the value belongs to. */
  row?: number;
  key?: string;
  uri?: string;
  file?: string;
  part?: number;
  table?: string;
  snapshotId?: string;
}

export interface ExporterErrorOptions {
  context?: ErrorContext;
  cause?: unknown;
  retryable?: boolean;
}

const CONTEXT_ORDER: (keyof ErrorContext)[] = [
  'segment', 'table', 'column', 'index', 'file', 'uri', 'key', 'offset', 'row', 'part', 'snapshotId',
];

function describe(context: ErrorContext): string {
  const parts: string[] = [];
  for (const k of CONTEXT_ORDER) {
    const v = context[k];
    if (v !== undefined) parts.push(`${k}=${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
  }
  return parts.join(' ');
}

export class ExporterError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly context: ErrorContext;
  /** The message without the context prefix, kept so context can be added later. */
  readonly detail: string;

  constructor(code: ErrorCode, detail: string, options: ExporterErrorOptions = {}) {
    const context = { ...options.context };
    super(ExporterError.format(code, detail, context), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.detail = detail;
    this.context = context;
    this.retryable = options.retryable ?? false;
  }

  private static format(code: ErrorCode, detail: string, context: ErrorContext): string {
    const where = describe(context);
    return where ? `[${code}] ${detail} (${where})` : `[${code}] ${detail}`;
  }

  /** Adds context the thrower did not know (e.g. the segment name); existing fields win. */
  addContext(extra: ErrorContext): this {
    for (const k of CONTEXT_ORDER) {
      if (this.context[k] === undefined && extra[k] !== undefined) {
        (this.context as Record<string, unknown>)[k] = extra[k];
      }
    }
    this.message = ExporterError.format(this.code, this.detail, this.context);
    return this;
  }
}

/** The bytes of a Pinot segment do not match the format (or use a feature we do not read). */
export class SegmentFormatError extends ExporterError {}

/** Fetching or unpacking a segment from deep store failed. */
export class SourceError extends ExporterError {}

/** A configuration key or command-line argument is invalid. */
export class ConfigError extends ExporterError {}

/**
 * Wraps anything thrown below into an ExporterError carrying `context`; ExporterErrors keep their code
 * and only gain context, so the most specific thrower decides the code.
 */
/** The stable code of any thrown value: an ExporterError's own, else INTERNAL (a bug or an unclassified library error). */
export function errorCode(err: unknown): ErrorCode {
  return err instanceof ExporterError ? err.code : ErrorCodes.INTERNAL;
}

/** The message of any thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function withContext<T>(context: ErrorContext, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw enrich(err, context);
  }
}

export function enrich(err: unknown, context: ErrorContext): ExporterError {
  if (err instanceof ExporterError) return err.addContext(context);
  const detail = errorMessage(err);
  if (err instanceof RangeError) {
    // Typed-array or DataView access past the end: the buffer is shorter than its headers claim.
    return new SegmentFormatError(ErrorCodes.PINOT_TRUNCATED, detail, { context, cause: err });
  }
  return new SegmentFormatError(ErrorCodes.PINOT_CORRUPT, detail, { context, cause: err });
}
