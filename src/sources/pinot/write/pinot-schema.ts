/**
 * A Pinot schema JSON and the parts of a table config JSON that decide how a segment is laid out, turned into a
 * typed per-column `WriterPlan` (dictionary or raw, var-length dictionary, MV_ENTRY_DICT, raw writer version and
 * codec, null vector on/off). Rules follow Pinot 1.5.1: `FieldSpec` defaults, `DictionaryIndexType` /
 * `ForwardIndexType` legacy and `fieldConfigList[].indexes` configs, `ForwardIndexType.getDefaultCompressionType`,
 * `BaseSegmentCreator.isNullable`. Every decision can be overridden per column so tests can force any shape.
 * No I/O.
 */
import { ConfigError, ErrorCodes } from '../../../errors.js';
import { ChunkCodec, type ChunkCodecId } from '../codecs.js';
import type { TimeUnit } from '../metadata.js';
import { STORED_TYPE, type DataType, type FieldType, type StoredType } from '../types.js';
import type { RawForwardConfig } from './contracts.js';

export type MaxLengthExceedStrategy = 'TRIM_LENGTH' | 'ERROR' | 'SUBSTITUTE_DEFAULT_VALUE' | 'NO_ACTION';

/** One schema field (`FieldSpec`). */
export interface FieldDef {
  name: string;
  dataType: DataType;
  storedType: StoredType;
  fieldType: FieldType;
  singleValue: boolean;
  /** `defaultNullValue` text from the schema, when set (JSON scalars as text, objects/arrays as JSON). */
  defaultNullValueText?: string;
  /** Schema `maxLength` when declared; the effective value is `effectiveMaxLength`. */
  maxLength?: number;
  effectiveMaxLength: number;
  /** Declared `maxLengthExceedStrategy`, and the effective one (STRING → TRIM_LENGTH, others NO_ACTION). */
  maxLengthExceedStrategy?: MaxLengthExceedStrategy;
  effectiveMaxLengthExceedStrategy: MaxLengthExceedStrategy;
  /** `notNull` (column-based null handling). */
  notNull: boolean;
  /** BIG_DECIMAL `allowTrailingZeros` (skips Pinot's stripTrailingZeros). */
  allowTrailingZeros: boolean;
  /** DATE_TIME: format as Pinot keeps it (TIMESTAMP fields always `TIMESTAMP`) and granularity. */
  datetimeFormat?: string;
  datetimeGranularity?: string;
  /** Time unit of a DATE_TIME EPOCH/TIMESTAMP or TIME field (what `segment.time.unit` says). */
  timeUnit?: TimeUnit;
  /** Units per value of an EPOCH time (`5:MINUTES:EPOCH` → 5). */
  timeUnitSize?: number;
  /** SIMPLE_DATE_FORMAT DATE_TIME fields (start/end time would need date parsing; unsupported as time column). */
  simpleDateFormat?: boolean;
}

export interface PinotSchema {
  name: string;
  fields: FieldDef[];
  /** `enableColumnBasedNullHandling`: nullability comes from each field's `notNull` instead of the table. */
  columnBasedNullHandling: boolean;
}

/** Per-column entry of `fieldConfigList`, reduced to what segment creation reads. */
export interface FieldConfigEntry {
  encodingType?: 'RAW' | 'DICTIONARY';
  /** `indexes.forward` merged with the legacy top-level `compressionCodec` / `properties`. */
  forward: {
    compressionCodec?: string;
    rawIndexWriterVersion?: number;
    targetMaxChunkSizeBytes?: number;
    targetDocsPerChunk?: number;
    deriveNumDocsPerChunk?: boolean;
    disabled?: boolean;
  };
  dictionary: { disabled?: boolean; useVarLengthDictionary?: boolean };
}

export interface TableSettings {
  /** Raw table name (`_REALTIME` / `_OFFLINE` suffix removed). */
  tableName: string;
  tableType: 'OFFLINE' | 'REALTIME';
  timeColumn?: string;
  noDictionaryColumns: string[];
  varLengthDictionaryColumns: string[];
  /** First entry of `tableIndexConfig.sortedColumn`. */
  sortedColumn?: string;
  nullHandlingEnabled: boolean;
  segmentVersion: 'v1' | 'v3';
  fieldConfigs: Map<string, FieldConfigEntry>;
}

/** How one column is written. */
export interface ColumnPlan {
  field: FieldDef;
  name: string;
  encoding: 'DICTIONARY' | 'RAW';
  /** Var-length (`.vl;`) dictionary forced by config; BYTES/BIG_DECIMAL also switch to it when lengths vary. */
  varLengthDictionary: boolean;
  /** Dictionary MV column written as MV_ENTRY_DICT. */
  mvEntryDict: boolean;
  /** Raw forward index settings (used when `encoding` is RAW). */
  raw: RawForwardConfig & { deriveNumDocsPerChunk: boolean };
  /** A null value vector is written (when the column has a null). */
  nullHandling: boolean;
  /** The table's `sortedColumn`. */
  isSortedColumn: boolean;
  isTimeColumn: boolean;
}

export interface WriterPlan {
  schema: PinotSchema;
  table: TableSettings;
  /** Columns in schema order (dimensions, metrics, date-times, time, complex as declared). */
  columns: ColumnPlan[];
  timeColumn?: string;
  sortedColumn?: string;
}

/** Per-column overrides applied after the configs are read. */
export interface ColumnOverride {
  encoding?: 'DICTIONARY' | 'RAW';
  varLengthDictionary?: boolean;
  mvEntryDict?: boolean;
  rawWriterVersion?: number;
  /** Codec name (`PASS_THROUGH`, `SNAPPY`, `ZSTANDARD`, `LZ4`, `GZIP`, `DELTA`, `DELTADELTA`). */
  codec?: string;
  targetDocsPerChunk?: number;
  targetMaxChunkSizeBytes?: number;
  nullHandling?: boolean;
}

export interface PlanOptions {
  columns?: Readonly<Record<string, ColumnOverride>>;
  /** Overrides the table's sorted column (null: none). */
  sortedColumn?: string | null;
  /** Overrides the table's null handling for every column without its own override. */
  nullHandling?: boolean;
}

const DATA_TYPES: ReadonlySet<string> = new Set(Object.keys(STORED_TYPE));
const TIME_UNITS: ReadonlySet<string> = new Set(['NANOSECONDS', 'MICROSECONDS', 'MILLISECONDS', 'SECONDS', 'MINUTES', 'HOURS', 'DAYS']);
const STRATEGIES: ReadonlySet<string> = new Set(['TRIM_LENGTH', 'ERROR', 'SUBSTITUTE_DEFAULT_VALUE', 'NO_ACTION']);
export const DEFAULT_MAX_LENGTH = 512;
/** `ForwardIndexConfig` defaults in 1.5.1. */
export const DEFAULT_RAW_WRITER_VERSION = 4;
export const DEFAULT_TARGET_DOCS_PER_CHUNK = 1000;
export const DEFAULT_TARGET_MAX_CHUNK_BYTES = 1024 * 1024;

/** Codec names a table config may give (`FieldConfig.CompressionCodec`) → chunk codec id. */
const CODECS: Readonly<Record<string, ChunkCodecId>> = {
  PASS_THROUGH: ChunkCodec.PASS_THROUGH,
  SNAPPY: ChunkCodec.SNAPPY,
  ZSTANDARD: ChunkCodec.ZSTANDARD,
  LZ4: ChunkCodec.LZ4,
  LZ4_LENGTH_PREFIXED: ChunkCodec.LZ4,
  GZIP: ChunkCodec.GZIP,
  DELTA: ChunkCodec.DELTA,
  DELTADELTA: ChunkCodec.DELTADELTA,
};

function bad(key: string, detail: string, column?: string): ConfigError {
  return new ConfigError(ErrorCodes.CONFIG_INVALID, detail, { context: { key, ...(column === undefined ? {} : { column }) } });
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Json, key: string, path: string, required: true): string;
function str(o: Json, key: string, path: string, required?: false): string | undefined;
function str(o: Json, key: string, path: string, required = false): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw bad(`${path}.${key}`, `schema/table config lacks ${path}.${key}`);
    return undefined;
  }
  if (typeof v !== 'string') throw bad(`${path}.${key}`, `${path}.${key} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function bool(o: Json, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  throw bad(`${path}.${key}`, `${path}.${key} must be a boolean, got ${JSON.stringify(v)}`);
}

function int(o: Json, key: string, path: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw bad(`${path}.${key}`, `${path}.${key} must be an integer, got ${JSON.stringify(v)}`);
  return n;
}

function strings(o: Json, key: string, path: string): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw bad(`${path}.${key}`, `${path}.${key} must be a list of column names`);
  }
  return v as string[];
}

function jsonText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

/** Parses a Pinot schema JSON (text or parsed). */
export function parseSchema(input: unknown): PinotSchema {
  const json = typeof input === 'string' ? parseJson(input, 'schema') : input;
  if (!isObject(json)) throw bad('schema', 'a Pinot schema must be a JSON object');
  const fields: FieldDef[] = [];
  const seen = new Set<string>();
  const add = (f: FieldDef): void => {
    if (seen.has(f.name)) throw bad(`schema.${f.name}`, `schema declares column ${JSON.stringify(f.name)} twice`, f.name);
    seen.add(f.name);
    fields.push(f);
  };
  const lists: [string, FieldType][] = [
    ['dimensionFieldSpecs', 'DIMENSION'], ['metricFieldSpecs', 'METRIC'], ['dateTimeFieldSpecs', 'DATE_TIME'],
    ['complexFieldSpecs', 'COMPLEX'],
  ];
  for (const [key, fieldType] of lists) {
    const specs = json[key];
    if (specs === undefined || specs === null) continue;
    if (!Array.isArray(specs)) throw bad(`schema.${key}`, `schema.${key} must be a list`);
    specs.forEach((spec, i) => add(parseField(spec, fieldType, `schema.${key}[${i}]`)));
  }
  if (json.timeFieldSpec !== undefined && json.timeFieldSpec !== null) add(parseTimeFieldSpec(json.timeFieldSpec));
  if (fields.length === 0) throw bad('schema', 'schema declares no columns');
  return {
    name: str(json, 'schemaName', 'schema') ?? '',
    fields,
    columnBasedNullHandling: bool(json, 'enableColumnBasedNullHandling', 'schema') ?? false,
  };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

function dataTypeOf(spec: Json, path: string): DataType {
  const t = str(spec, 'dataType', path, true);
  if (!DATA_TYPES.has(t)) throw bad(`${path}.dataType`, `unsupported dataType ${JSON.stringify(t)} (supported: ${[...DATA_TYPES].join(', ')})`);
  return t as DataType;
}

function parseField(spec: unknown, fieldType: FieldType, path: string): FieldDef {
  if (!isObject(spec)) throw bad(path, `${path} must be an object`);
  const name = str(spec, 'name', path, true);
  const dataType = dataTypeOf(spec, path);
  const singleValue = bool(spec, 'singleValueField', path) ?? true;
  if (fieldType === 'METRIC' && !singleValue) throw bad(path, `metric ${name} cannot be multi-value`, name);
  if (dataType === 'MAP' && (fieldType !== 'COMPLEX' || !singleValue)) {
    throw bad(path, `MAP column ${name} must be a single-value complex field`, name);
  }
  if (dataType === 'BIG_DECIMAL' && !singleValue) throw bad(path, `BIG_DECIMAL column ${name} cannot be multi-value`, name);
  const maxLength = int(spec, 'maxLength', path);
  const strategy = str(spec, 'maxLengthExceedStrategy', path);
  if (strategy !== undefined && !STRATEGIES.has(strategy)) throw bad(`${path}.maxLengthExceedStrategy`, `unknown maxLengthExceedStrategy ${strategy}`, name);
  const field: FieldDef = {
    name,
    dataType,
    storedType: STORED_TYPE[dataType],
    fieldType,
    singleValue,
    defaultNullValueText: jsonText(spec.defaultNullValue),
    maxLength,
    effectiveMaxLength: maxLength ?? DEFAULT_MAX_LENGTH,
    maxLengthExceedStrategy: strategy as MaxLengthExceedStrategy | undefined,
    effectiveMaxLengthExceedStrategy: (strategy as MaxLengthExceedStrategy | undefined) ?? (dataType === 'STRING' ? 'TRIM_LENGTH' : 'NO_ACTION'),
    notNull: bool(spec, 'notNull', path) ?? false,
    allowTrailingZeros: bool(spec, 'allowTrailingZeros', path) ?? false,
  };
  if (fieldType === 'DATE_TIME') Object.assign(field, dateTimeInfo(spec, dataType, path, name));
  return field;
}

/** `DateTimeFieldSpec`: TIMESTAMP fields keep the format `TIMESTAMP`; EPOCH units give `segment.time.unit`. */
function dateTimeInfo(spec: Json, dataType: DataType, path: string, name: string): Partial<FieldDef> {
  const format = str(spec, 'format', path, true);
  const granularity = str(spec, 'granularity', path, true);
  if (dataType === 'TIMESTAMP') {
    return { datetimeFormat: 'TIMESTAMP', datetimeGranularity: granularity, timeUnit: 'MILLISECONDS', timeUnitSize: 1 };
  }
  const parsed = parseDateTimeFormat(format);
  if (!parsed) throw bad(`${path}.format`, `cannot parse date-time format ${JSON.stringify(format)}`, name);
  return { datetimeFormat: format, datetimeGranularity: granularity, ...parsed };
}

/** `size:UNIT:EPOCH`, `size:UNIT:SIMPLE_DATE_FORMAT:pattern`, `EPOCH|UNIT[|size]`, `TIMESTAMP`, `SIMPLE_DATE_FORMAT|…`. */
export function parseDateTimeFormat(format: string): Pick<FieldDef, 'timeUnit' | 'timeUnitSize' | 'simpleDateFormat'> | undefined {
  const f = format.trim();
  if (f === 'TIMESTAMP') return { timeUnit: 'MILLISECONDS', timeUnitSize: 1 };
  if (f.includes('|')) {
    const [kind, unit, size] = f.split('|');
    if (kind === 'EPOCH') {
      const u = unit ?? 'MILLISECONDS';
      return TIME_UNITS.has(u) ? { timeUnit: u as TimeUnit, timeUnitSize: size ? Number(size) : 1 } : undefined;
    }
    if (kind === 'SIMPLE_DATE_FORMAT') return { timeUnit: 'MILLISECONDS', simpleDateFormat: true };
    if (kind === 'TIMESTAMP') return { timeUnit: 'MILLISECONDS', timeUnitSize: 1 };
    return undefined;
  }
  const parts = f.split(':');
  const [size, unit, kind] = parts;
  if (size === undefined || unit === undefined || kind === undefined || !/^\d+$/.test(size) || !TIME_UNITS.has(unit)) return undefined;
  if (kind === 'EPOCH') return { timeUnit: unit as TimeUnit, timeUnitSize: Number(size) };
  if (kind === 'SIMPLE_DATE_FORMAT') return { timeUnit: 'MILLISECONDS', simpleDateFormat: true };
  if (kind === 'TIMESTAMP') return { timeUnit: 'MILLISECONDS', timeUnitSize: 1 };
  return undefined;
}

/** Deprecated `timeFieldSpec`: the outgoing spec when present, else the incoming one; field type TIME. */
function parseTimeFieldSpec(spec: unknown): FieldDef {
  const path = 'schema.timeFieldSpec';
  if (!isObject(spec)) throw bad(path, `${path} must be an object`);
  const granularity = isObject(spec.outgoingGranularitySpec) ? spec.outgoingGranularitySpec : spec.incomingGranularitySpec;
  if (!isObject(granularity)) throw bad(`${path}.incomingGranularitySpec`, `${path} lacks incomingGranularitySpec`);
  const gpath = `${path}.${granularity === spec.outgoingGranularitySpec ? 'outgoing' : 'incoming'}GranularitySpec`;
  const name = str(granularity, 'name', gpath, true);
  const dataType = dataTypeOf(granularity, gpath);
  const timeType = str(granularity, 'timeType', gpath, true);
  if (!TIME_UNITS.has(timeType)) throw bad(`${gpath}.timeType`, `unknown timeType ${timeType}`, name);
  const timeFormat = str(granularity, 'timeFormat', gpath) ?? 'EPOCH';
  return {
    name,
    dataType,
    storedType: STORED_TYPE[dataType],
    fieldType: 'TIME',
    singleValue: true,
    defaultNullValueText: jsonText(spec.defaultNullValue),
    effectiveMaxLength: DEFAULT_MAX_LENGTH,
    effectiveMaxLengthExceedStrategy: dataType === 'STRING' ? 'TRIM_LENGTH' : 'NO_ACTION',
    notNull: false,
    allowTrailingZeros: false,
    timeUnit: timeType as TimeUnit,
    timeUnitSize: int(granularity, 'timeUnitSize', gpath) ?? 1,
    simpleDateFormat: timeFormat.startsWith('SIMPLE_DATE_FORMAT') ? true : undefined,
  };
}

/** Parses the parts of a table config JSON that segment creation reads. */
export function parseTableConfig(input: unknown): TableSettings {
  const json = typeof input === 'string' ? parseJson(input, 'table config') : input;
  if (!isObject(json)) throw bad('table', 'a table config must be a JSON object');
  const fullName = str(json, 'tableName', 'table', true);
  const tableType = (str(json, 'tableType', 'table') ?? (fullName.endsWith('_REALTIME') ? 'REALTIME' : 'OFFLINE')).toUpperCase();
  if (tableType !== 'OFFLINE' && tableType !== 'REALTIME') throw bad('table.tableType', `tableType must be OFFLINE or REALTIME, got ${tableType}`);
  const segmentsConfig = isObject(json.segmentsConfig) ? json.segmentsConfig : {};
  const index = isObject(json.tableIndexConfig) ? json.tableIndexConfig : {};
  for (const unsupported of ['optimizeDictionary', 'optimizeDictionaryForMetrics', 'optimizeDictionaryType']) {
    if (bool(index, unsupported, 'tableIndexConfig')) {
      throw bad(`tableIndexConfig.${unsupported}`, `tableIndexConfig.${unsupported} is not supported by this writer (it changes dictionary choices by size heuristics)`);
    }
  }
  const version = (str(index, 'segmentFormatVersion', 'tableIndexConfig') ?? 'v3').toLowerCase();
  if (version !== 'v1' && version !== 'v3') throw bad('tableIndexConfig.segmentFormatVersion', `segmentFormatVersion must be v1 or v3, got ${version}`);
  const noDictionaryColumns = strings(index, 'noDictionaryColumns', 'tableIndexConfig');
  if (isObject(index.noDictionaryConfig)) noDictionaryColumns.push(...Object.keys(index.noDictionaryConfig));
  return {
    tableName: fullName.replace(/_(REALTIME|OFFLINE)$/, ''),
    tableType,
    timeColumn: str(segmentsConfig, 'timeColumnName', 'segmentsConfig') || undefined,
    noDictionaryColumns,
    varLengthDictionaryColumns: strings(index, 'varLengthDictionaryColumns', 'tableIndexConfig'),
    sortedColumn: strings(index, 'sortedColumn', 'tableIndexConfig')[0],
    nullHandlingEnabled: bool(index, 'nullHandlingEnabled', 'tableIndexConfig') ?? false,
    segmentVersion: version,
    fieldConfigs: parseFieldConfigs(json.fieldConfigList, isObject(index.noDictionaryConfig) ? index.noDictionaryConfig : {}),
  };
}

function parseFieldConfigs(list: unknown, noDictionaryConfig: Json): Map<string, FieldConfigEntry> {
  const out = new Map<string, FieldConfigEntry>();
  // Legacy `noDictionaryConfig: {column: codec}` sets the raw codec.
  for (const [column, codec] of Object.entries(noDictionaryConfig)) {
    if (typeof codec === 'string') out.set(column, { forward: { compressionCodec: codec }, dictionary: {} });
  }
  if (list === undefined || list === null) return out;
  if (!Array.isArray(list)) throw bad('fieldConfigList', 'fieldConfigList must be a list');
  list.forEach((fc, i) => {
    const path = `fieldConfigList[${i}]`;
    if (!isObject(fc)) throw bad(path, `${path} must be an object`);
    const name = str(fc, 'name', path, true);
    const encodingType = str(fc, 'encodingType', path)?.toUpperCase();
    if (encodingType !== undefined && encodingType !== 'RAW' && encodingType !== 'DICTIONARY') {
      throw bad(`${path}.encodingType`, `encodingType must be RAW or DICTIONARY, got ${encodingType}`, name);
    }
    const entry: FieldConfigEntry = out.get(name) ?? { forward: {}, dictionary: {} };
    entry.encodingType = encodingType as FieldConfigEntry['encodingType'];
    const props = isObject(fc.properties) ? fc.properties : {};
    const legacyCodec = str(fc, 'compressionCodec', path);
    const indexes = isObject(fc.indexes) ? fc.indexes : {};
    const fwd = isObject(indexes.forward) ? indexes.forward : undefined;
    if (fwd) {
      // `indexes.forward` wins over the legacy keys (Pinot reads legacy configs only when it is absent).
      entry.forward = {
        compressionCodec: str(fwd, 'compressionCodec', `${path}.indexes.forward`)
          ?? str(fwd, 'chunkCompressionType', `${path}.indexes.forward`)
          ?? str(fwd, 'dictIdCompressionType', `${path}.indexes.forward`),
        rawIndexWriterVersion: int(fwd, 'rawIndexWriterVersion', `${path}.indexes.forward`),
        targetMaxChunkSizeBytes: dataSize(fwd.targetMaxChunkSize, `${path}.indexes.forward.targetMaxChunkSize`),
        targetDocsPerChunk: int(fwd, 'targetDocsPerChunk', `${path}.indexes.forward`),
        deriveNumDocsPerChunk: bool(fwd, 'deriveNumDocsPerChunk', `${path}.indexes.forward`),
        disabled: bool(fwd, 'disabled', `${path}.indexes.forward`),
      };
    } else {
      entry.forward = {
        compressionCodec: legacyCodec ?? entry.forward.compressionCodec,
        rawIndexWriterVersion: int(props, 'rawIndexWriterVersion', `${path}.properties`),
        targetMaxChunkSizeBytes: dataSize(props.targetMaxChunkSize, `${path}.properties.targetMaxChunkSize`),
        targetDocsPerChunk: int(props, 'targetDocsPerChunk', `${path}.properties`),
        deriveNumDocsPerChunk: bool(props, 'deriveNumDocsPerChunk', `${path}.properties`),
        disabled: bool(props, 'forwardIndexDisabled', `${path}.properties`),
      };
    }
    const dict = isObject(indexes.dictionary) ? indexes.dictionary : {};
    entry.dictionary = {
      disabled: bool(dict, 'disabled', `${path}.indexes.dictionary`),
      useVarLengthDictionary: bool(dict, 'useVarLengthDictionary', `${path}.indexes.dictionary`),
    };
    out.set(name, entry);
  });
  return out;
}

/** `DataSizeUtils.toBytes`: `1048576`, `1MB`, `512K`, `2G` (binary multiples). */
function dataSize(v: unknown, key: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*$/i.exec(v) : null;
  if (!m) throw bad(key, `${key} must be a data size such as 1MB, got ${JSON.stringify(v)}`);
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.floor(Number(m[1]) * mult);
}

/** Table config + schema (+ overrides) → how every column is written. */
export function planSegment(schema: PinotSchema, table: TableSettings, options: PlanOptions = {}): WriterPlan {
  const names = new Set(schema.fields.map((f) => f.name));
  const check = (list: Iterable<string>, key: string): void => {
    for (const c of list) if (!names.has(c)) throw bad(key, `${key} names column ${JSON.stringify(c)}, which is not in the schema`, c);
  };
  check(table.noDictionaryColumns, 'tableIndexConfig.noDictionaryColumns');
  check(table.varLengthDictionaryColumns, 'tableIndexConfig.varLengthDictionaryColumns');
  check(table.fieldConfigs.keys(), 'fieldConfigList');
  check(Object.keys(options.columns ?? {}), 'column overrides');
  const sortedColumn = options.sortedColumn === null ? undefined : options.sortedColumn ?? table.sortedColumn;
  if (sortedColumn !== undefined) check([sortedColumn], 'tableIndexConfig.sortedColumn');
  const timeColumn = table.timeColumn;
  if (timeColumn !== undefined) {
    check([timeColumn], 'segmentsConfig.timeColumnName');
    const f = schema.fields.find((x) => x.name === timeColumn)!;
    if (f.fieldType !== 'DATE_TIME' && f.fieldType !== 'TIME') {
      throw bad('segmentsConfig.timeColumnName', `time column ${timeColumn} must be a date-time field`, timeColumn);
    }
    if (f.simpleDateFormat) {
      throw bad('segmentsConfig.timeColumnName', `time column ${timeColumn} uses SIMPLE_DATE_FORMAT, which this writer does not support`, timeColumn);
    }
  }
  const columns = schema.fields.map((field) => planColumn(field, table, schema, options, sortedColumn, timeColumn));
  return { schema, table, columns, timeColumn, sortedColumn };
}

function planColumn(field: FieldDef, table: TableSettings, schema: PinotSchema, options: PlanOptions,
  sortedColumn: string | undefined, timeColumn: string | undefined): ColumnPlan {
  const name = field.name;
  const fc = table.fieldConfigs.get(name);
  const o = options.columns?.[name] ?? {};
  if (fc?.forward.disabled) throw bad(`fieldConfigList.${name}`, `column ${name} disables its forward index, which this writer does not support`, name);
  const rawByConfig = table.noDictionaryColumns.includes(name) || fc?.encodingType === 'RAW' || fc?.dictionary.disabled === true;
  // COMPLEX (MAP) fields never get a dictionary (BaseSegmentCreator.createDictionaryForColumn).
  const encoding = field.fieldType === 'COMPLEX' ? 'RAW' : o.encoding ?? (rawByConfig ? 'RAW' : 'DICTIONARY');
  if (o.encoding === 'DICTIONARY' && field.fieldType === 'COMPLEX') throw bad('column overrides', `MAP column ${name} cannot have a dictionary`, name);
  const codecName = (o.codec ?? fc?.forward.compressionCodec)?.toUpperCase();
  const mvEntryDict = o.mvEntryDict ?? codecName === 'MV_ENTRY_DICT';
  if (mvEntryDict && (field.singleValue || encoding !== 'DICTIONARY')) {
    throw bad(`fieldConfigList.${name}`, `MV_ENTRY_DICT applies only to dictionary-encoded multi-value columns (${name})`, name);
  }
  let codec: ChunkCodecId;
  if (codecName === undefined || codecName === 'MV_ENTRY_DICT') {
    codec = field.fieldType === 'METRIC' ? ChunkCodec.PASS_THROUGH : ChunkCodec.LZ4;
  } else {
    const id = CODECS[codecName];
    if (id === undefined) throw bad(`fieldConfigList.${name}.compressionCodec`, `unsupported compression codec ${codecName} for column ${name}`, name);
    codec = id;
  }
  const varLength = o.varLengthDictionary ?? (table.varLengthDictionaryColumns.includes(name) || fc?.dictionary.useVarLengthDictionary === true);
  if (varLength && encoding === 'DICTIONARY' && FIXED_STORED.has(field.storedType)) {
    throw bad('tableIndexConfig.varLengthDictionaryColumns', `column ${name} of fixed-width type ${field.storedType} cannot have a var-length dictionary`, name);
  }
  const writerVersion = o.rawWriterVersion ?? fc?.forward.rawIndexWriterVersion ?? DEFAULT_RAW_WRITER_VERSION;
  if (![2, 3, 4, 5, 6].includes(writerVersion)) throw bad(`fieldConfigList.${name}.rawIndexWriterVersion`, `raw index writer version ${writerVersion} is not one Pinot writes (2–6)`, name);
  const nullHandling = o.nullHandling ?? options.nullHandling ?? (schema.columnBasedNullHandling ? !field.notNull : table.nullHandlingEnabled);
  if (name === sortedColumn && !field.singleValue) throw bad('tableIndexConfig.sortedColumn', `sorted column ${name} must be single-value`, name);
  return {
    field,
    name,
    encoding,
    varLengthDictionary: varLength,
    mvEntryDict,
    raw: {
      writerVersion,
      codec,
      targetDocsPerChunk: o.targetDocsPerChunk ?? fc?.forward.targetDocsPerChunk ?? DEFAULT_TARGET_DOCS_PER_CHUNK,
      targetMaxChunkSizeBytes: o.targetMaxChunkSizeBytes ?? fc?.forward.targetMaxChunkSizeBytes ?? DEFAULT_TARGET_MAX_CHUNK_BYTES,
      deriveNumDocsPerChunk: fc?.forward.deriveNumDocsPerChunk ?? false,
    },
    nullHandling,
    isSortedColumn: name === sortedColumn,
    isTimeColumn: name === timeColumn,
  };
}

const FIXED_STORED: ReadonlySet<StoredType> = new Set(['INT', 'LONG', 'FLOAT', 'DOUBLE']);
