/** Errors of the Parquet stage; the codes are members of `ErrorCodes` in src/errors.ts. */
import { ErrorCodes, ExporterError, type ExporterErrorOptions } from '../errors.js';

export const ParquetErrorCodes = {
  /** A value cannot be written as the configured Parquet type (a BIG_DECIMAL that does not fit DECIMAL(P,S)). */
  PARQUET_VALUE_OUT_OF_RANGE: ErrorCodes.PARQUET_VALUE_OUT_OF_RANGE,
  /** The segment's columns cannot be mapped onto the table schema (e.g. STRING in the segment, INT in the schema). */
  PARQUET_SCHEMA_MISMATCH: ErrorCodes.PARQUET_SCHEMA_MISMATCH,
  /** The Parquet writer failed or wrote something other than what it was given (row counts differ). */
  PARQUET_WRITE_FAILED: ErrorCodes.PARQUET_WRITE_FAILED,
  /** The finished bytes could not be stored (local file system: missing directory, disk full, interrupted). */
  PARQUET_OUTPUT_FAILED: ErrorCodes.PARQUET_OUTPUT_FAILED,
} as const;

export type ParquetErrorCode = (typeof ParquetErrorCodes)[keyof typeof ParquetErrorCodes];

/** Converting Arrow record batches to Parquet failed. Never retryable: the same input fails the same way. */
export class ParquetError extends ExporterError {
  constructor(code: ParquetErrorCode, detail: string, options: ExporterErrorOptions = {}) {
    super(code, detail, options);
  }
}
