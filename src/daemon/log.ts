/**
 * Structured logs for the daemon: one JSON object per line, `{"time", "level", "msg", …fields}`, filtered by
 * level, with secrets masked before anything is serialised. Redaction is recursive and applies to field
 * names (any key matching `SECRET_KEY`) and to text (URL userinfo, signature/credential query parameters,
 * `Bearer`/`Basic` credentials, AWS access key ids), so an error message that quotes a presigned URL or a
 * config map that holds `output.fs.prop.secretKey` is safe to log. The HTTP API reuses `redact` for its
 * responses.
 *
 * `subscribeLogs` turns the control plane's ExportEvents into log lines; nothing below the daemon logs.
 */
import { ConfigError, ErrorCodes, ExporterError } from '../errors.js';
import type { ExportEvents } from '../control/events.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Field names whose values are never shown. */
export const SECRET_KEY = /secret|password|passwd|token|credential|accesskey|session|authorization|signature|api[-_]?key|private[-_]?key/i;
export const MASK = '[REDACTED]';

const RESERVED = new Set(['time', 'level', 'msg']);
const MAX_DEPTH = 8;

// ---------------------------------------------------------------------------------------------------------
// Redaction

/** URL query parameters whose values are credentials (presigned S3/GCS/Azure URLs, OAuth tokens). */
const SECRET_PARAM = /signature|^sig$|credential|token|secret|password|key|session/i;

const SECRET_ASSIGNMENT = /(["']?)([A-Za-z0-9_.-]*(?:secret|password|passwd|token|credential|accesskey|session)[A-Za-z0-9_.-]*)\1(\s*[:=]\s*)(?:"(?:[^"\\]|\\.)*"|'[^']*'|[^\s,;&}"']+)/gi;

/** Masks credentials inside free text: URL userinfo, secret query values, auth headers, AWS key ids. */
export function redactText(text: string): string {
  return text
    // scheme://user:password@host → scheme://[REDACTED]@host
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi, `$1${MASK}@`)
    // ?X-Amz-Signature=… &token=…
    .replace(/([?&;])([^=&\s#"'<>]+)=([^&\s#"'<>]*)/g, (all, sep: string, name: string) => {
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // keep the raw name
      }
      return SECRET_PARAM.test(decoded) ? `${sep}${name}=${MASK}` : all;
    })
    // secretKey = "…", "token": "…", password=… (config echoes, JSON dumps inside messages)
    .replace(SECRET_ASSIGNMENT, (_all, quote: string, name: string, sep: string) => `${quote}${name}${quote}${sep}${MASK}`)
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${MASK}`)
    .replace(/\b(AKIA|ASIA)[0-9A-Z]{16}\b/g, MASK);
}

/**
 * A JSON-safe copy of `value` with secrets masked: keys matching SECRET_KEY, and credentials inside strings.
 * Errors become `{name, code, message, retryable, context}`; bigints become strings; cycles and depth are cut.
 */
export function redact(value: unknown, options: RedactOptions = {}): unknown {
  return redactValue(value, 0, new WeakSet(), options.keys ?? true);
}

export interface RedactOptions {
  /**
   * Mask values under secret-looking keys (default true). The API turns it off: its bodies are typed views
   * whose maps are keyed by data (segment and table names such as `user_sessions_REALTIME`), never configs.
   */
  keys?: boolean;
}

function redactValue(value: unknown, depth: number, seen: WeakSet<object>, keys: boolean): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
    return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
  }
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  try {
    if (value instanceof Error) return redactValue(errorFields(value), depth, seen, keys);
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
    if (value instanceof URL) return redactText(value.href);
    if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
    if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1, seen, keys) ?? null);
    if (value instanceof Map) return redactValue(Object.fromEntries(value), depth, seen, keys);
    if (value instanceof Set) return redactValue([...value], depth, seen, keys);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      out[k] = keys && SECRET_KEY.test(k) && v !== null && v !== '' && typeof v !== 'boolean' ? MASK : redactValue(v, depth + 1, seen, keys);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function errorFields(err: Error): Record<string, unknown> {
  if (err instanceof ExporterError) {
    return { name: err.name, code: err.code, message: err.message, retryable: err.retryable, context: err.context };
  }
  // An unexpected error is a bug: keep its stack (redacted like everything else).
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}), stack: err.stack };
}

// ---------------------------------------------------------------------------------------------------------
// Logger

export interface LoggerOptions {
  /** Lowest level written (default `info`). */
  level?: LogLevel;
  /** Receives each line without its newline (default: process.stderr). */
  write?: (line: string) => void;
  /** Fields added to every line (e.g. the instance id). */
  fields?: Record<string, unknown>;
  now?: () => number;
}

export class Logger {
  readonly level: LogLevel;
  private readonly write: (line: string) => void;
  private readonly fields: Record<string, unknown>;
  private readonly now: () => number;

  constructor(options: LoggerOptions = {}) {
    this.level = options.level ?? 'info';
    this.write = options.write ?? ((line) => { process.stderr.write(`${line}\n`); });
    this.fields = options.fields ?? {};
    this.now = options.now ?? Date.now;
  }

  /** A logger that adds `fields` to every line (same sink and level). */
  child(fields: Record<string, unknown>): Logger {
    return new Logger({ level: this.level, write: this.write, fields: { ...this.fields, ...fields }, now: this.now });
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.level];
  }

  debug(msg: string, fields?: Record<string, unknown>): void { this.log('debug', msg, fields); }
  info(msg: string, fields?: Record<string, unknown>): void { this.log('info', msg, fields); }
  warn(msg: string, fields?: Record<string, unknown>): void { this.log('warn', msg, fields); }
  error(msg: string, fields?: Record<string, unknown>): void { this.log('error', msg, fields); }

  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    const line: Record<string, unknown> = { time: new Date(this.now()).toISOString(), level, msg: redactText(msg) };
    const extra = redact({ ...this.fields, ...fields }) as Record<string, unknown>;
    // A field named like a reserved key must not overwrite it.
    for (const [k, v] of Object.entries(extra)) line[RESERVED.has(k) ? `field.${k}` : k] = v;
    try {
      this.write(JSON.stringify(line));
    } catch {
      // A broken log sink must not break the work being logged.
    }
  }
}

/** `debug|info|warn|error` (any case) → LogLevel; ConfigError naming `key` otherwise. */
export function parseLogLevel(text: string, key = 'log.level'): LogLevel {
  const level = text.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new ConfigError(ErrorCodes.CONFIG_INVALID, `${key} = ${JSON.stringify(text)}; accepted: ${LOG_LEVELS.join(', ')}`, { context: { key } });
}

// ---------------------------------------------------------------------------------------------------------
// Events → log lines

/** Writes one log line per ExportEvent; returns the unsubscribe function. */
export function subscribeLogs(events: ExportEvents, logger: Logger): () => void {
  const offs = [
    events.on('task.started', (e) => logger.info('task started', { ...e })),
    events.on('task.completed', (e) => logger.info(e.reused ? 'task completed (already published)' : 'task completed', {
      table: e.table, segment: e.segment, taskId: e.taskId, owner: e.owner, attempt: e.attempt,
      rows: e.rows, bytes: e.bytes, seconds: e.seconds, files: e.files, reused: e.reused,
    })),
    events.on('task.failed', (e) => logger.log(e.parked ? 'error' : 'warn', e.parked ? 'task failed and parked' : 'task attempt failed, will retry', { ...e })),
    events.on('task.released', (e) => logger.info('task released', { ...e })),
    events.on('generation.completed', (e) => logger.log(e.emitted > 0 ? 'info' : 'debug', 'generation completed', {
      ...e, watermark: isoOrNull(e.watermarkMs),
    })),
    events.on('generation.failed', (e) => logger.error('generation failed', { ...e })),
    events.on('leader.changed', (e) => logger.info(e.leader ? 'became generator leader' : 'not generator leader', { ...e })),
    events.on('iceberg.decision', (e) => logger.debug('iceberg commit decision', { ...e })),
    events.on('iceberg.committed', (e) => logger.info('iceberg snapshot committed', { ...e })),
    events.on('log', (e) => logger.log(e.level, e.message, e.fields)),
  ];
  return () => {
    for (const off of offs) off();
  };
}

function isoOrNull(ms: number): string | null {
  return ms > 0 && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}
