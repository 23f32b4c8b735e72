/**
 * The Iceberg DataFile of a written Parquet file, derived from its footer as Java's `ParquetMetrics` does, and
 * its JSON-safe form for the state store (`StagedFile.dataFile`).
 *
 * Metrics (per field id, for leaves that carry a Parquet field_id):
 * - column_sizes: Σ compressed chunk sizes, every leaf (list elements too) unless the mode is `none`.
 * - value_counts / null_value_counts: Σ chunk value counts / statistics null counts, for leaves not inside a
 *   list or map; none when a chunk lacks statistics.
 * - lower/upper bounds (modes `truncate(N)` and `full`): min/max over the chunks' statistics converted to the
 *   Iceberg type; none when a min or max is NaN, for INT96, for NANOS timestamps, or when a chunk with values
 *   has no min/max. Strings (code points) and binary (bytes) are truncated to N, the upper bound incremented
 *   (no upper bound when that overflows).
 * - nan_value_counts: footers carry none; given by the caller when it counted them.
 * - split_offsets: each row group's first page offset, ascending.
 * Modes come from `write.metadata.metrics.default` / `write.metadata.metrics.column.<name>` (default
 * truncate(16); beyond `write.metadata.metrics.max-inferred-column-defaults` (100) primitive fields only the
 * first ones get the default and the rest `none`, unless a default is set).
 */
import { ErrorCodes, ExporterError } from '../../errors.js';
import { PhysicalType, readParquetMetadata, type ChunkStatistics, type ColumnChunkInfo, type ParquetMetadata, type SchemaElement } from './parquet-metadata.js';
import { primitiveFields, type IcebergStructType, type PrimitiveField } from './schema.js';
import { fromTwosComplement, toSingleValue, type PrimitiveType, type SingleValue } from './single-value.js';

export interface DataFile {
  /** Absolute URI of the data file. */
  filePath: string;
  fileFormat: 'PARQUET';
  recordCount: bigint;
  fileSizeInBytes: bigint;
  columnSizes?: Map<number, bigint>;
  valueCounts?: Map<number, bigint>;
  nullValueCounts?: Map<number, bigint>;
  nanValueCounts?: Map<number, bigint>;
  lowerBounds?: Map<number, Uint8Array>;
  upperBounds?: Map<number, Uint8Array>;
  splitOffsets?: bigint[];
  /** The table's default sort order id (0 = unsorted, as Java writes), or null. */
  sortOrderId: number | null;
}

export type MetricsMode = { kind: 'none' } | { kind: 'counts' } | { kind: 'truncate'; length: number } | { kind: 'full' };

export const DEFAULT_METRICS_MODE: MetricsMode = { kind: 'truncate', length: 16 };
export const DEFAULT_TRUNCATE_LENGTH = 16;
const MAX_INFERRED_DEFAULT = 100;

export function parseMetricsMode(text: string): MetricsMode | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'none' || t === 'counts' || t === 'full') return { kind: t };
  const m = /^truncate\(\s*(\d+)\s*\)$/.exec(t);
  if (m && Number(m[1]) > 0) return { kind: 'truncate', length: Number(m[1]) };
  return undefined;
}

export interface MetricsModes {
  /** Field id → mode (every primitive field of the schema). */
  byId: Map<number, MetricsMode>;
  /** Invalid mode properties, ignored as Java ignores them. */
  warnings: string[];
}

/** The metrics mode of every primitive field, from the table properties (Java `MetricsConfig.from`). */
export function metricsModes(schema: IcebergStructType, properties: Readonly<Record<string, string>> = {}): MetricsModes {
  const warnings: string[] = [];
  const read = (key: string): MetricsMode | undefined => {
    const v = properties[key];
    if (v === undefined) return undefined;
    const mode = parseMetricsMode(v);
    if (!mode) warnings.push(`ignoring table property ${key} = ${JSON.stringify(v)}: not none, counts, truncate(N) or full`);
    return mode;
  };
  const fields = primitiveFields(schema);
  const explicitDefault = read('write.metadata.metrics.default');
  const maxText = properties['write.metadata.metrics.max-inferred-column-defaults'];
  const maxInferred = maxText !== undefined && /^\d+$/.test(maxText.trim()) ? Number(maxText) : MAX_INFERRED_DEFAULT;
  const byId = new Map<number, MetricsMode>();
  fields.forEach((f, i) => {
    const base = explicitDefault ?? (fields.length > maxInferred && i >= maxInferred ? { kind: 'none' as const } : DEFAULT_METRICS_MODE);
    byId.set(f.id, read(`write.metadata.metrics.column.${f.name}`) ?? base);
  });
  return { byId, warnings };
}

// ---------------------------------------------------------------------------------------------------------
// Truncation (Java UnicodeUtil / BinaryUtil)

/** First `n` code points. */
export function truncateStringLower(s: string, n: number): string {
  const cps = Array.from(s);
  return cps.length <= n ? s : cps.slice(0, n).join('');
}

/** Smallest string of ≤ n code points that is ≥ every string with `s`'s first n code points; undefined if none. */
export function truncateStringUpper(s: string, n: number): string | undefined {
  const cps = Array.from(s, (c) => c.codePointAt(0)!);
  if (cps.length <= n) return s;
  const out = cps.slice(0, n);
  for (let i = out.length - 1; i >= 0; i--) {
    let next = out[i]! + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000; // skip surrogates: not valid code points
    if (next <= 0x10ffff) {
      out[i] = next;
      return String.fromCodePoint(...out.slice(0, i + 1));
    }
  }
  return undefined;
}

export function truncateBinaryLower(b: Uint8Array, n: number): Uint8Array {
  return b.length <= n ? b : b.slice(0, n);
}

export function truncateBinaryUpper(b: Uint8Array, n: number): Uint8Array | undefined {
  if (b.length <= n) return b;
  for (let i = n - 1; i >= 0; i--) {
    if (b[i]! !== 0xff) {
      const out = b.slice(0, i + 1);
      out[i] = b[i]! + 1;
      return out;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Statistics → Iceberg values

type Comparable = number | bigint | string | Uint8Array | boolean;

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function compare(a: Comparable, b: Comparable): number {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return compareBytes(a, b);
  if (typeof a === 'string' && typeof b === 'string') return compareBytes(new TextEncoder().encode(a), new TextEncoder().encode(b));
  if (typeof a === 'number' && typeof b === 'number') {
    if (a === 0 && b === 0) return Object.is(a, -0) === Object.is(b, -0) ? 0 : Object.is(a, -0) ? -1 : 1; // −0 < +0
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return (a as bigint) < (b as bigint) ? -1 : (a as bigint) > (b as bigint) ? 1 : 0;
}

const NUMERIC_PHYSICAL = new Set<number>([PhysicalType.BOOLEAN, PhysicalType.INT32, PhysicalType.INT64, PhysicalType.FLOAT, PhysicalType.DOUBLE]);

/** A statistics value (Parquet plain encoding) as the Iceberg type's value; undefined when it cannot be used. */
function statValue(raw: Uint8Array, physical: number, element: SchemaElement, type: PrimitiveType): Comparable | undefined {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const int32 = (): number | undefined => (raw.length === 4 ? view.getInt32(0, true) : undefined);
  const int64 = (): bigint | undefined => (raw.length === 8 ? view.getBigInt64(0, true) : undefined);
  switch (type.kind) {
    case 'boolean': return physical === PhysicalType.BOOLEAN && raw.length >= 1 ? raw[0] !== 0 : undefined;
    case 'int': case 'date': return physical === PhysicalType.INT32 ? int32() : undefined;
    case 'long':
      if (physical === PhysicalType.INT64) return int64();
      if (physical === PhysicalType.INT32) {
        const v = int32();
        return v === undefined ? undefined : BigInt(v);
      }
      return undefined;
    case 'time': case 'timestamp': case 'timestamptz': {
      if (physical !== PhysicalType.INT64) return undefined;
      const v = int64();
      const unit = element.logicalType?.unit ?? (element.convertedType === 9 || element.convertedType === 7 ? 'MILLIS' : 'MICROS');
      if (v === undefined || unit === 'NANOS') return undefined;
      return unit === 'MILLIS' ? v * 1000n : v;
    }
    case 'float': case 'double': {
      let v: number | undefined;
      if (physical === PhysicalType.FLOAT && raw.length === 4) v = view.getFloat32(0, true);
      else if (physical === PhysicalType.DOUBLE && raw.length === 8 && type.kind === 'double') v = view.getFloat64(0, true);
      return v === undefined || Number.isNaN(v) ? undefined : v;
    }
    case 'string': return physical === PhysicalType.BYTE_ARRAY ? raw : undefined;
    case 'binary': case 'uuid': case 'fixed':
      return physical === PhysicalType.BYTE_ARRAY || physical === PhysicalType.FIXED_LEN_BYTE_ARRAY ? raw : undefined;
    case 'decimal':
      if (physical === PhysicalType.INT32) {
        const v = int32();
        return v === undefined ? undefined : BigInt(v);
      }
      if (physical === PhysicalType.INT64) return int64();
      if (physical === PhysicalType.FIXED_LEN_BYTE_ARRAY || physical === PhysicalType.BYTE_ARRAY) return fromTwosComplement(raw);
      return undefined;
    default: return undefined;
  }
}

function chunkMinMax(stats: ChunkStatistics, physical: number): { min?: Uint8Array; max?: Uint8Array } {
  if (stats.minValue !== undefined || stats.maxValue !== undefined) return { min: stats.minValue, max: stats.maxValue };
  // The deprecated fields used signed comparison, right only for numeric physical types.
  return NUMERIC_PHYSICAL.has(physical) ? { min: stats.min, max: stats.max } : {};
}

function serialise(type: PrimitiveType, v: Comparable, mode: MetricsMode, upper: boolean): Uint8Array | undefined {
  const n = mode.kind === 'truncate' ? mode.length : undefined;
  if (type.kind === 'string') {
    const text = new TextDecoder().decode(v as Uint8Array);
    const t = n === undefined ? text : upper ? truncateStringUpper(text, n) : truncateStringLower(text, n);
    return t === undefined ? undefined : toSingleValue(type, t);
  }
  if (type.kind === 'binary') {
    const b = v as Uint8Array;
    return n === undefined ? Uint8Array.from(b) : upper ? truncateBinaryUpper(b, n) : truncateBinaryLower(b, n);
  }
  if (type.kind === 'float' || type.kind === 'double') return toSingleValue(type, v as number);
  return toSingleValue(type, v as SingleValue);
}

// ---------------------------------------------------------------------------------------------------------

export interface DataFileInput {
  filePath: string;
  /** Exact byte length of the file. */
  fileSizeInBytes: number | bigint;
  /** The FileMetaData bytes, or (footerIsTail) a tail of the file holding the footer and trailer. */
  footer: Uint8Array;
  footerIsTail?: boolean;
  /** The table schema the file was written for (field ids → types). */
  schema: IcebergStructType;
  /** Table properties (metrics modes). */
  properties?: Readonly<Record<string, string>>;
  /** NaN counts per float/double field id, when the writer counted them. */
  nanValueCounts?: ReadonlyMap<number, bigint>;
  /** Default 0 (Java: the table's default sort order id; 0 = unsorted). */
  sortOrderId?: number | null;
}

interface Acc {
  field: PrimitiveField;
  mode: MetricsMode;
  size: bigint;
  values: bigint;
  nulls: bigint;
  countsOk: boolean;
  boundsOk: boolean;
  min?: Comparable;
  max?: Comparable;
}

/** The DataFile for a written Parquet file. Throws PARQUET_WRITE_FAILED on an unreadable footer. */
export function dataFileFromParquet(input: DataFileInput): DataFile {
  const meta: ParquetMetadata = readParquetMetadata(input.footer, { tail: input.footerIsTail, where: input.filePath });
  const fields = new Map(primitiveFields(input.schema).map((f) => [f.id, f]));
  const modes = metricsModes(input.schema, input.properties ?? {}).byId;
  const elements = new Map(meta.schema.map((e) => [e.path.join('\u0000'), e]));
  const accs = new Map<number, Acc>();

  for (const group of meta.rowGroups) {
    for (const chunk of group.columns) {
      const element = elements.get(chunk.path.join('\u0000'));
      const id = element?.fieldId;
      const field = id === undefined ? undefined : fields.get(id);
      if (!element || id === undefined || !field) continue;
      const mode = modes.get(id) ?? DEFAULT_METRICS_MODE;
      if (mode.kind === 'none') continue;
      let acc = accs.get(id);
      if (!acc) {
        acc = { field, mode, size: 0n, values: 0n, nulls: 0n, countsOk: true, boundsOk: true };
        accs.set(id, acc);
      }
      addChunk(acc, chunk, element);
    }
  }

  const columnSizes = new Map<number, bigint>();
  const valueCounts = new Map<number, bigint>();
  const nullValueCounts = new Map<number, bigint>();
  const nanValueCounts = new Map<number, bigint>();
  const lowerBounds = new Map<number, Uint8Array>();
  const upperBounds = new Map<number, Uint8Array>();
  for (const [id, acc] of [...accs].sort((a, b) => a[0] - b[0])) {
    columnSizes.set(id, acc.size);
    if (acc.field.repeated || !acc.countsOk) continue;
    valueCounts.set(id, acc.values);
    nullValueCounts.set(id, acc.nulls);
    const nan = input.nanValueCounts?.get(id);
    if (nan !== undefined && (acc.field.type.kind === 'float' || acc.field.type.kind === 'double')) nanValueCounts.set(id, nan);
    if (acc.mode.kind === 'counts' || !acc.boundsOk || acc.min === undefined || acc.max === undefined) continue;
    const lower = serialise(acc.field.type, acc.min, acc.mode, false);
    const upper = serialise(acc.field.type, acc.max, acc.mode, true);
    if (lower) lowerBounds.set(id, lower);
    if (upper) upperBounds.set(id, upper);
  }

  const splitOffsets = meta.rowGroups
    .map((g) => {
      const first = g.columns[0];
      if (!first) return undefined;
      const dict = first.dictionaryPageOffset;
      return BigInt(dict !== undefined && dict > 0 && dict < first.dataPageOffset ? dict : first.dataPageOffset);
    })
    .filter((v): v is bigint => v !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  const file: DataFile = {
    filePath: input.filePath,
    fileFormat: 'PARQUET',
    recordCount: meta.rowGroups.reduce((s, g) => s + BigInt(g.numRows), 0n),
    fileSizeInBytes: BigInt(input.fileSizeInBytes),
    sortOrderId: input.sortOrderId === undefined ? 0 : input.sortOrderId,
  };
  if (columnSizes.size > 0) file.columnSizes = columnSizes;
  if (valueCounts.size > 0) file.valueCounts = valueCounts;
  if (nullValueCounts.size > 0) file.nullValueCounts = nullValueCounts;
  if (nanValueCounts.size > 0) file.nanValueCounts = nanValueCounts;
  if (lowerBounds.size > 0) file.lowerBounds = lowerBounds;
  if (upperBounds.size > 0) file.upperBounds = upperBounds;
  if (splitOffsets.length > 0) file.splitOffsets = splitOffsets;
  return file;
}

function addChunk(acc: Acc, chunk: ColumnChunkInfo, element: SchemaElement): void {
  acc.size += BigInt(chunk.totalCompressedSize);
  acc.values += BigInt(chunk.numValues);
  const stats = chunk.statistics;
  if (!stats || stats.nullCount === undefined) {
    acc.countsOk = false;
    acc.boundsOk = false;
    return;
  }
  acc.nulls += BigInt(stats.nullCount);
  if (chunk.type === PhysicalType.INT96) {
    acc.boundsOk = false;
    return;
  }
  const nonNull = chunk.numValues - stats.nullCount;
  const { min, max } = chunkMinMax(stats, chunk.type);
  if (min === undefined || max === undefined) {
    if (nonNull > 0) acc.boundsOk = false; // values without a min/max (e.g. all NaN): no bounds at all
    return;
  }
  const lo = statValue(min, chunk.type, element, acc.field.type);
  const hi = statValue(max, chunk.type, element, acc.field.type);
  if (lo === undefined || hi === undefined) {
    acc.boundsOk = false;
    return;
  }
  if (acc.min === undefined || compare(lo, acc.min) < 0) acc.min = lo;
  if (acc.max === undefined || compare(hi, acc.max) > 0) acc.max = hi;
}

// ---------------------------------------------------------------------------------------------------------
// JSON-safe form for the state store: longs as decimal strings, bytes as base64, maps as {"<id>": value}.

/** A type alias (not an interface) so it is assignable to `StagedFile.dataFile` (Record<string, unknown>). */
export type DataFileJson = {
  filePath: string;
  fileFormat: 'PARQUET';
  recordCount: string;
  fileSizeInBytes: string;
  columnSizes?: Record<string, string>;
  valueCounts?: Record<string, string>;
  nullValueCounts?: Record<string, string>;
  nanValueCounts?: Record<string, string>;
  lowerBounds?: Record<string, string>;
  upperBounds?: Record<string, string>;
  splitOffsets?: string[];
  sortOrderId: number | null;
};

const LONG_MAPS = ['columnSizes', 'valueCounts', 'nullValueCounts', 'nanValueCounts'] as const;
const BYTE_MAPS = ['lowerBounds', 'upperBounds'] as const;

export function dataFileToJson(f: DataFile): DataFileJson {
  const out: DataFileJson = {
    filePath: f.filePath,
    fileFormat: f.fileFormat,
    recordCount: f.recordCount.toString(),
    fileSizeInBytes: f.fileSizeInBytes.toString(),
    sortOrderId: f.sortOrderId,
  };
  for (const k of LONG_MAPS) {
    const m = f[k];
    if (m) out[k] = Object.fromEntries([...m].map(([id, v]) => [String(id), v.toString()]));
  }
  for (const k of BYTE_MAPS) {
    const m = f[k];
    if (m) out[k] = Object.fromEntries([...m].map(([id, v]) => [String(id), Buffer.from(v).toString('base64')]));
  }
  if (f.splitOffsets) out.splitOffsets = f.splitOffsets.map(String);
  return out;
}

const LONG_RE = /^-?(0|[1-9]\d{0,18})$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const ID_RE = /^(0|[1-9]\d{0,9})$/;

/**
 * Validates and decodes a JSON-safe DataFile (as read back from the state store). Throws STATE_CORRUPT
 * naming `where` (the staged file) and the bad key.
 */
export function dataFileFromJson(value: unknown, where: string): DataFile {
  const fail = (path: string, detail: string): never => {
    throw new ExporterError(ErrorCodes.STATE_CORRUPT, `staged Iceberg data file: ${path}: ${detail}`, { context: { key: where } });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('dataFile', 'expected an object');
  const o = value as Record<string, unknown>;
  const long = (v: unknown, path: string, min = 0n): bigint => {
    if (typeof v !== 'string' || !LONG_RE.test(v)) return fail(path, `expected a 64-bit integer as a decimal string, got ${JSON.stringify(v)}`);
    const n = BigInt(v);
    if (n < min || n > 2n ** 63n - 1n) return fail(path, `out of range: ${v}`);
    return n;
  };
  const idMap = <T>(key: string, conv: (v: unknown, path: string) => T): Map<number, T> | undefined => {
    const m = o[key];
    if (m === undefined) return undefined;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return fail(key, 'expected an object keyed by field id');
    const out = new Map<number, T>();
    for (const [id, v] of Object.entries(m)) {
      if (!ID_RE.test(id) || Number(id) > 2 ** 31 - 1) fail(`${key}.${id}`, 'keys must be field ids (non-negative 32-bit integers)');
      out.set(Number(id), conv(v, `${key}.${id}`));
    }
    return out;
  };
  const bytes = (v: unknown, path: string): Uint8Array => {
    if (typeof v !== 'string' || v.length % 4 !== 0 || !BASE64_RE.test(v)) return fail(path, 'expected base64 bytes');
    return Uint8Array.from(Buffer.from(v, 'base64'));
  };
  if (typeof o.filePath !== 'string' || o.filePath.length === 0) return fail('filePath', 'expected a non-empty string');
  if (o.fileFormat !== 'PARQUET') return fail('fileFormat', `expected "PARQUET", got ${JSON.stringify(o.fileFormat)}`);
  const sortOrderId = o.sortOrderId;
  if (sortOrderId !== null && (typeof sortOrderId !== 'number' || !Number.isInteger(sortOrderId) || sortOrderId < 0 || sortOrderId > 2 ** 31 - 1)) {
    return fail('sortOrderId', `expected null or a non-negative 32-bit integer, got ${JSON.stringify(sortOrderId)}`);
  }
  const f: DataFile = {
    filePath: o.filePath,
    fileFormat: 'PARQUET',
    recordCount: long(o.recordCount, 'recordCount'),
    fileSizeInBytes: long(o.fileSizeInBytes, 'fileSizeInBytes'),
    sortOrderId: sortOrderId as number | null,
  };
  for (const k of LONG_MAPS) {
    const m = idMap(k, (v, p) => long(v, p));
    if (m) f[k] = m;
  }
  for (const k of BYTE_MAPS) {
    const m = idMap(k, bytes);
    if (m) f[k] = m;
  }
  if (o.splitOffsets !== undefined) {
    if (!Array.isArray(o.splitOffsets)) return fail('splitOffsets', 'expected an array');
    f.splitOffsets = o.splitOffsets.map((v, i) => long(v, `splitOffsets[${i}]`));
  }
  const known = new Set(['filePath', 'fileFormat', 'recordCount', 'fileSizeInBytes', 'sortOrderId', 'splitOffsets', ...LONG_MAPS, ...BYTE_MAPS]);
  for (const k of Object.keys(o)) if (!known.has(k)) fail(k, 'unknown key');
  return f;
}
