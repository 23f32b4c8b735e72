/**
 * Errors across a worker thread boundary. Structured clone keeps neither the class nor the own fields of an
 * ExporterError, so the worker sends them as plain data and the caller rebuilds the same class with the
 * same code, detail, context and retryable flag: retries, metrics and the CLI see what an in-process run
 * would have thrown.
 */
import { ConfigError, ExporterError, SegmentFormatError, SourceError, type ErrorCode, type ErrorContext } from '../../errors.js';
import { ParquetError, type ParquetErrorCode } from '../parquet-error.js';

export interface SerializedError {
  /** `name` of the thrown value (an ExporterError's class name). */
  name: string;
  message: string;
  stack?: string;
  /** Set for ExporterErrors only. */
  exporter?: { code: ErrorCode; detail: string; context: ErrorContext; retryable: boolean };
}

/** The ExporterError classes a column worker can throw (sources and pipeline; ParquetError below); others rebuild as ExporterError. */
const CLASSES: Record<string, new (code: ErrorCode, detail: string, options: { context: ErrorContext; retryable: boolean; cause?: unknown }) => ExporterError> = {
  ExporterError,
  SegmentFormatError,
  SourceError,
  ConfigError,
};

export function serializeError(err: unknown): SerializedError {
  if (err instanceof ExporterError) {
    return {
      name: err.name, message: err.message, stack: err.stack,
      exporter: { code: err.code, detail: err.detail, context: { ...err.context }, retryable: err.retryable },
    };
  }
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: 'Error', message: String(err) };
}

/** The error `s` describes; its cause carries the worker's stack. */
export function rebuildError(s: SerializedError): Error {
  const cause = new Error(`thrown in a worker thread: ${s.message}`);
  if (s.stack !== undefined) cause.stack = s.stack;
  if (s.exporter !== undefined) {
    const { code, detail, context, retryable } = s.exporter;
    if (s.name === 'ParquetError') return new ParquetError(code as ParquetErrorCode, detail, { context, retryable, cause });
    const Class = CLASSES[s.name];
    const err = new (Class ?? ExporterError)(code, detail, { context, retryable, cause });
    // A class this side cannot name (none today) keeps at least its name.
    if (Class === undefined) err.name = s.name;
    return err;
  }
  const err = new Error(s.message, { cause });
  err.name = s.name;
  return err;
}
