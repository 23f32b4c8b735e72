/**
 * The Parquet keys of a table's `task.taskTypeConfigsMap.DataExportTask` config (string values, as Pinot
 * stores them) → typed options. Only these keys are read; other DataExportTask keys belong to other stages.
 * A key under `fileFormat.parquet.` that is not one of ours is refused, so a typo cannot silently fall back
 * to a default. Every error names the key, the value and what is accepted.
 */
import { ConfigError, ErrorCodes } from '../errors.js';

export const PARQUET_CODECS = ['SNAPPY', 'GZIP', 'ZSTD', 'UNCOMPRESSED'] as const;
export type ParquetCodec = (typeof PARQUET_CODECS)[number];

/** What to do with a JSON key that a prescribed (table-schema) struct shape lacks. */
export const JSON_UNKNOWN_KEYS_BEHAVIORS = ['warn', 'fail'] as const;
export type JsonUnknownKeysBehavior = (typeof JSON_UNKNOWN_KEYS_BEHAVIORS)[number];
/**
 * `fail`: a key the table's struct lacks would otherwise be dropped, i.e. data lost without anyone deciding
 * so; `warn` is the explicit opt-in to that loss.
 */
export const DEFAULT_JSON_UNKNOWN_KEYS: JsonUnknownKeysBehavior = 'fail';

/**
 * Which Parquet writer encodes the file: `direct` writes Pinot dictionaries and ids straight into Parquet pages
 * one column chunk at a time (fast, memory bounded by a column chunk); `parquet-wasm` is arrow-rs compiled to
 * WebAssembly, fed Arrow record batches; `auto` picks `direct` unless the file needs what only parquet-wasm
 * writes (JSON shredded into groups, DECIMAL(P,S)).
 */
export const PARQUET_WRITERS = ['auto', 'direct', 'parquet-wasm'] as const;
export type ParquetWriterName = (typeof PARQUET_WRITERS)[number];

export interface DecimalSpec {
  /** Total digits, 1–38 (Decimal128). */
  precision: number;
  /** Digits after the point, 0–precision. */
  scale: number;
}

export interface ParquetOptions {
  compressionCodec: ParquetCodec;
  /** Target row group size; rows per group are derived from it (see rowsPerRowGroup in the encoder). */
  rowGroupSizeBytes: number;
  pageSizeBytes: number;
  /** Parquet dictionary pages for columns Pinot dictionary-encodes; Pinot raw columns stay plain either way. */
  enableDictionary: boolean;
  /** Unset: JSON columns stay strings (JSON logical type). Set: shredded into groups up to this depth. */
  jsonMaxDepth?: number;
  /**
   * JSON keys a prescribed struct shape (an Iceberg struct column) lacks: `warn` logs and drops them, `fail`
   * aborts the file. Unset: DEFAULT_JSON_UNKNOWN_KEYS. Shapes inferred from the segment hold every key.
   */
  jsonUnknownKeys?: JsonUnknownKeysBehavior;
  /** Unset: BIG_DECIMAL is a lossless plain decimal string. Set: DECIMAL(P,S). */
  decimal?: DecimalSpec;
  /** Unset: `auto`. */
  writer?: ParquetWriterName;
  /**
   * Threads of the direct writer (unset: 1, in process). More encode column chunks in parallel on worker
   * threads — byte-identical output, faster, but each thread holds a column chunk of its own (see README).
   */
  writerThreads?: number;
}

export const PARQUET_KEYS = {
  fileFormat: 'fileFormat',
  compressionCodec: 'fileFormat.parquet.compressionCodec',
  rowGroupSizeBytes: 'fileFormat.parquet.rowGroupSizeBytes',
  pageSizeBytes: 'fileFormat.parquet.pageSizeBytes',
  enableDictionary: 'fileFormat.parquet.enableDictionary',
  jsonMaxDepth: 'fileFormat.parquet.json.maxDepth',
  jsonUnknownKeys: 'fileFormat.parquet.json.unknownKeysBehavior',
  decimalPrecision: 'fileFormat.parquet.decimal.precision',
  decimalScale: 'fileFormat.parquet.decimal.scale',
  writer: 'fileFormat.parquet.writer',
  writerThreads: 'fileFormat.parquet.writerThreads',
} as const;

const PARQUET_PREFIX = 'fileFormat.parquet.';

export const DEFAULT_PARQUET_OPTIONS: Readonly<ParquetOptions> = Object.freeze({
  compressionCodec: 'SNAPPY',
  rowGroupSizeBytes: 128 * 1024 * 1024,
  pageSizeBytes: 1024 * 1024,
  enableDictionary: true,
});

/**
 * Upper bound for rowGroupSizeBytes: the writer runs in wasm32 (4 GiB address space) and holds a row group
 * plus the batches being copied in, so larger groups would fail late with an out-of-memory trap.
 */
export const MAX_ROW_GROUP_BYTES = 1024 * 1024 * 1024;
export const MAX_PAGE_BYTES = 256 * 1024 * 1024;
/** Deeper shredding makes little sense and bounds recursion on hostile input. */
export const MAX_JSON_DEPTH = 32;
/** More column-encoding threads than this only add memory. */
export const MAX_WRITER_THREADS = 16;
/** Decimal128 holds 38 digits. */
export const MAX_DECIMAL_PRECISION = 38;

function invalid(key: string, value: string, accepted: string): ConfigError {
  return new ConfigError(ErrorCodes.CONFIG_INVALID, `${key} is ${JSON.stringify(value)}; accepted: ${accepted}`, { context: { key } });
}

function integerIn(key: string, value: string, min: number, max: number, what: string): number {
  const text = value.trim();
  const n = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalid(key, value, `${what} from ${min} to ${max}`);
  return n;
}

function textOf(config: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const v = config[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `${key} must be a string (Pinot stores task configs as strings), got ${JSON.stringify(v)}`, {
      context: { key },
    });
  }
  return v;
}

/**
 * Parses the Parquet keys of a DataExportTask config map. Missing keys take the defaults (SNAPPY, 128 MiB row
 * groups, 1 MiB pages, dictionaries on, JSON as strings, BIG_DECIMAL as strings; unknown JSON keys of a
 * prescribed struct fail — left unset so existing option sets, and the file names hashed from them, stay as they were).
 */
export function parseParquetOptions(config: Readonly<Record<string, string>>): ParquetOptions {
  const known = new Set<string>(Object.values(PARQUET_KEYS));
  for (const key of Object.keys(config)) {
    if (key.startsWith(PARQUET_PREFIX) && !known.has(key)) {
      throw new ConfigError(
        ErrorCodes.CONFIG_INVALID,
        `unknown key ${key}; the Parquet keys are ${Object.values(PARQUET_KEYS).filter((k) => k.startsWith(PARQUET_PREFIX)).join(', ')}`,
        { context: { key } },
      );
    }
  }
  const format = textOf(config, PARQUET_KEYS.fileFormat);
  if (format !== undefined && format.trim().toLowerCase() !== 'parquet') throw invalid(PARQUET_KEYS.fileFormat, format, 'parquet');

  const options: ParquetOptions = { ...DEFAULT_PARQUET_OPTIONS };
  const codec = textOf(config, PARQUET_KEYS.compressionCodec);
  if (codec !== undefined) {
    const upper = codec.trim().toUpperCase();
    if (!(PARQUET_CODECS as readonly string[]).includes(upper)) throw invalid(PARQUET_KEYS.compressionCodec, codec, PARQUET_CODECS.join(', '));
    options.compressionCodec = upper as ParquetCodec;
  }
  const rowGroup = textOf(config, PARQUET_KEYS.rowGroupSizeBytes);
  if (rowGroup !== undefined) {
    options.rowGroupSizeBytes = integerIn(PARQUET_KEYS.rowGroupSizeBytes, rowGroup, 1, MAX_ROW_GROUP_BYTES, 'a whole number of bytes');
  }
  const page = textOf(config, PARQUET_KEYS.pageSizeBytes);
  if (page !== undefined) options.pageSizeBytes = integerIn(PARQUET_KEYS.pageSizeBytes, page, 1, MAX_PAGE_BYTES, 'a whole number of bytes');
  const dictionary = textOf(config, PARQUET_KEYS.enableDictionary);
  if (dictionary !== undefined) {
    const v = dictionary.trim().toLowerCase();
    if (v !== 'true' && v !== 'false') throw invalid(PARQUET_KEYS.enableDictionary, dictionary, 'true, false');
    options.enableDictionary = v === 'true';
  }
  const depth = textOf(config, PARQUET_KEYS.jsonMaxDepth);
  if (depth !== undefined) options.jsonMaxDepth = integerIn(PARQUET_KEYS.jsonMaxDepth, depth, 1, MAX_JSON_DEPTH, 'a depth');
  const unknownKeys = textOf(config, PARQUET_KEYS.jsonUnknownKeys);
  if (unknownKeys !== undefined) {
    const v = unknownKeys.trim().toLowerCase();
    if (!(JSON_UNKNOWN_KEYS_BEHAVIORS as readonly string[]).includes(v)) throw invalid(PARQUET_KEYS.jsonUnknownKeys, unknownKeys, JSON_UNKNOWN_KEYS_BEHAVIORS.join(', '));
    options.jsonUnknownKeys = v as JsonUnknownKeysBehavior;
  }
  const writer = textOf(config, PARQUET_KEYS.writer);
  if (writer !== undefined) {
    const v = writer.trim().toLowerCase();
    if (!(PARQUET_WRITERS as readonly string[]).includes(v)) throw invalid(PARQUET_KEYS.writer, writer, PARQUET_WRITERS.join(', '));
    options.writer = v as ParquetWriterName;
  }
  const threads = textOf(config, PARQUET_KEYS.writerThreads);
  if (threads !== undefined) options.writerThreads = integerIn(PARQUET_KEYS.writerThreads, threads, 1, MAX_WRITER_THREADS, 'a number of threads');
  options.decimal = parseDecimal(config);
  if (options.decimal === undefined) delete options.decimal;
  if (options.jsonMaxDepth === undefined) delete options.jsonMaxDepth;
  return options;
}

/** `decimal.precision` alone means scale 0 (as SQL's DECIMAL(P)); `decimal.scale` alone is an error. */
function parseDecimal(config: Readonly<Record<string, string>>): DecimalSpec | undefined {
  const p = textOf(config, PARQUET_KEYS.decimalPrecision);
  const s = textOf(config, PARQUET_KEYS.decimalScale);
  if (p === undefined) {
    if (s !== undefined) {
      throw new ConfigError(ErrorCodes.CONFIG_INVALID, `${PARQUET_KEYS.decimalScale} is set (${JSON.stringify(s)}) but ${PARQUET_KEYS.decimalPrecision} is not; set both`, {
        context: { key: PARQUET_KEYS.decimalPrecision },
      });
    }
    return undefined;
  }
  const precision = integerIn(PARQUET_KEYS.decimalPrecision, p, 1, MAX_DECIMAL_PRECISION, 'a number of digits');
  const scale = s === undefined ? 0 : integerIn(PARQUET_KEYS.decimalScale, s, 0, precision, `a number of digits (at most ${PARQUET_KEYS.decimalPrecision} = ${precision})`);
  return { precision, scale };
}

/** The options that decide a file's bytes (for fingerprints and file names): all but the writer's threads. */
export function byteDecidingOptions(options: ParquetOptions): Omit<ParquetOptions, 'writerThreads'> {
  const { writerThreads: _threads, ...rest } = options;
  return rest;
}
