/**
 * Errors of the Iceberg REST target, all `IcebergError` (an `ExporterError`) with one of the ICEBERG_* codes
 * declared in src/errors.ts; configuration mistakes are `ConfigError(CONFIG_INVALID)` instead.
 *
 * Secrets (bearer tokens, client secrets, AWS keys) must never reach a message or context: `safeUri` drops
 * the query string and user-info of a URL, and `Redactor` scrubs known secret values from text a server
 * sent back (an OAuth server may echo the client id/secret in its error description).
 */
import { ErrorCodes, ExporterError, type ErrorContext } from '../../errors.js';

export class IcebergError extends ExporterError {}

export const IcebergErrorCodes = {
  ICEBERG_CATALOG_ERROR: ErrorCodes.ICEBERG_CATALOG_ERROR,
  ICEBERG_AUTH_FAILED: ErrorCodes.ICEBERG_AUTH_FAILED,
  ICEBERG_COMMIT_CONFLICT: ErrorCodes.ICEBERG_COMMIT_CONFLICT,
  ICEBERG_COMMIT_STATE_UNKNOWN: ErrorCodes.ICEBERG_COMMIT_STATE_UNKNOWN,
  ICEBERG_METADATA_INVALID: ErrorCodes.ICEBERG_METADATA_INVALID,
  ICEBERG_CREDENTIALS_EXPIRED: ErrorCodes.ICEBERG_CREDENTIALS_EXPIRED,
} as const;

/** A URL fit for logs and error context: scheme, host, port and path only. */
export function safeUri(url: URL | string): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return '<invalid URL>';
  }
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** Replaces every occurrence of the registered secret values with `***`. */
export class Redactor {
  private readonly secrets = new Set<string>();

  add(...values: (string | undefined)[]): this {
    // Very short values would blank out ordinary words; real secrets are never that short.
    for (const v of values) if (v !== undefined && v.length >= 4) this.secrets.add(v);
    return this;
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }
}

/** Builds an IcebergError; a shorthand so call sites stay one line. */
export function icebergError(
  code: (typeof IcebergErrorCodes)[keyof typeof IcebergErrorCodes],
  detail: string,
  context: ErrorContext,
  options: { cause?: unknown; retryable?: boolean } = {},
): IcebergError {
  return new IcebergError(code, detail, { context, ...options });
}
