/**
 * Pinot's ingestion-side value rules, one column at a time: an input value (JSON row value, Arrow value, or what
 * a generator produces) → the value Pinot 1.5.1 stores. Follows the record transformers in their order
 * (`RecordTransformerUtils`): DataTypeTransformer (standardise arrays, convert types), SpecialValueTransformer
 * (NaN → null, −0.0 → 0.0, BIG_DECIMAL stripTrailingZeros), NullValueTransformer (null → the field's default,
 * MV → `[default]`, the doc remembered as null), SanitizationTransformer (STRING cut at NUL and truncated to
 * `maxLength` UTF-16 units; JSON/BYTES only with an explicit strategy).
 *
 * Input that Pinot would reject (a non-numeric string in an INT column, several values for a single-value
 * column, an object where a scalar belongs, a time-column null Pinot would replace with the wall clock) is a
 * ConfigError with code USAGE naming the column and the row: the caller supplied unusable input, which is not
 * retryable and, on the command line, exits like a bad argument.
 */
import { Buffer } from 'node:buffer';
import { ConfigError, ErrorCodes } from '../../../errors.js';
import type { ValueBlock } from '../types.js';
import { bigDecimalToString, stripTrailingZeros, type BigDecimalValue } from '../values.js';
import { javaDoubleToString } from './java-format.js';
import type { FieldDef } from './pinot-schema.js';
import { encodeBigDecimal, encodeMapValue } from './value-encoders.js';

/** A stored scalar before it is appended: INT/BOOLEAN number, LONG/TIMESTAMP bigint, FLOAT/DOUBLE number,
 * BIG_DECIMAL value, STRING/JSON string, BYTES bytes, MAP object. */
export type StoredScalar = number | bigint | string | Uint8Array | BigDecimalValue | Record<string, unknown>;

/** One column after ingestion, in input doc order. */
export interface IngestedColumn {
  field: FieldDef;
  totalDocs: number;
  /**
   * SV: one stored value per doc. MV: the elements of every row back to back. STRING/JSON as UTF-8,
   * BIG_DECIMAL and MAP in Pinot's serialised form (kind `BYTES`).
   */
  values: ValueBlock;
  /** MV only: `totalDocs + 1` element offsets. */
  rowOffsets?: Int32Array;
  /** Docs whose input was null (before the default was stored), ascending. */
  nullDocs: Int32Array;
}

export interface IngestOptions {
  /** The table's time column: a null there needs a default inside Pinot's valid time range. */
  isTimeColumn?: boolean;
}

/** Unix-ms bounds of `TimeUtils.timeValueInValidRange`: [1971-01-01, 2071-01-01). */
const VALID_MIN_MS = 31536000000;
const VALID_MAX_MS = 3155760000000;
const UNIT_MS: Readonly<Record<string, number>> = {
  NANOSECONDS: 1e-6, MICROSECONDS: 1e-3, MILLISECONDS: 1, SECONDS: 1e3, MINUTES: 6e4, HOURS: 3.6e6, DAYS: 8.64e7,
};

function usage(field: FieldDef, row: number | undefined, detail: string): ConfigError {
  return new ConfigError(ErrorCodes.USAGE, detail, {
    context: { column: field.name, ...(row === undefined ? {} : { row }) },
  });
}

const INT_TEXT = /^[+-]?\d+$/;
const FLOAT_TEXT = /^[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)[fFdD]?$/;
const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const HEX_TEXT = /^(?:[0-9a-fA-F]{2})*$/;

/** Java `new BigDecimal(text)`; undefined when Java would throw. */
export function parseJavaBigDecimal(text: string): BigDecimalValue | undefined {
  const m = DECIMAL_TEXT.exec(text);
  if (!m) return undefined;
  const int = m[2] ?? '';
  const frac = m[3] ?? '';
  if (int.length + frac.length === 0) return undefined;
  const exp = m[4] === undefined ? 0 : Number(m[4]);
  const unscaled = BigInt((m[1] === '-' ? '-' : '') + (int + frac));
  return { unscaled, scale: frac.length - exp };
}

/** The stored default null value of a field (`FieldSpec.getDefaultNullValue`), as a stored scalar. */
export function defaultStoredValue(field: FieldDef): StoredScalar {
  const text = field.defaultNullValueText;
  if (text === undefined) return typeDefault(field);
  const v = convertScalar(field, text, undefined);
  if (v === null) throw new ConfigError(ErrorCodes.CONFIG_INVALID, `defaultNullValue ${JSON.stringify(text)} of ${field.name} is not a ${field.dataType}`, { context: { column: field.name } });
  return v;
}

function typeDefault(field: FieldDef): StoredScalar {
  const metric = field.fieldType === 'METRIC';
  switch (field.dataType) {
    case 'INT': return metric ? 0 : -2147483648;
    case 'LONG': return metric ? 0n : -9223372036854775808n;
    case 'FLOAT': case 'DOUBLE': return metric ? 0 : -Infinity;
    case 'BOOLEAN': return 0;
    case 'TIMESTAMP': return 0n;
    case 'STRING': case 'JSON': return 'null';
    case 'BYTES': return new Uint8Array(0);
    case 'BIG_DECIMAL': return { unscaled: 0n, scale: 0 };
    case 'MAP': return {};
  }
}

/** Marks an input the target type cannot take; `convertScalar` turns it into a USAGE error. */
const INVALID = Symbol('invalid');
type Converted<T> = T | typeof INVALID;

/**
 * Converts one scalar (already standardised, not an array) to the field's stored form; null for inputs that
 * become null (NaN). `row` undefined means the value is a config default.
 */
function convertScalar(field: FieldDef, v: unknown, row: number | undefined): StoredScalar | null {
  const type = field.dataType;
  let out: Converted<StoredScalar | null>;
  switch (type) {
    case 'INT': out = toInt(v); break;
    case 'BOOLEAN': out = toBooleanInt(v); break;
    case 'LONG': out = toLong(v); break;
    case 'TIMESTAMP': out = toTimestamp(v); break;
    case 'FLOAT': case 'DOUBLE': {
      const n = toFloating(v);
      if (n === INVALID) {
        out = n;
        break;
      }
      const x = type === 'FLOAT' ? Math.fround(n) : n;
      // SpecialValueTransformer: NaN → null, −0.0 → 0.0.
      out = Number.isNaN(x) ? null : x === 0 ? 0 : x;
      break;
    }
    case 'BIG_DECIMAL': out = toBigDecimal(v, !field.allowTrailingZeros && row !== undefined); break;
    case 'STRING': out = toText(v); break;
    case 'JSON': out = typeof v === 'string' ? v : jsonText(v); break;
    case 'BYTES': out = toBytes(v); break;
    case 'MAP': out = toMap(v); break;
  }
  if (out === INVALID) {
    throw usage(field, row, `${describe(v)} is not a valid ${type} value for column ${field.name}` + (row === undefined ? '' : ` (row ${row})`));
  }
  return out;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (typeof v === 'object') return v === null ? 'null' : Array.isArray(v) ? 'an array' : 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Java `double`/`long` → `int` (Number.intValue): doubles saturate, longs wrap. */
function toInt(v: unknown): Converted<number> {
  if (typeof v === 'number') return Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 ? v
    : Number.isNaN(v) ? 0 : Math.max(-2147483648, Math.min(2147483647, Math.trunc(v)));
  if (typeof v === 'bigint') return Number(BigInt.asIntN(32, v));
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const t = v.trim();
    const n = INT_TEXT.test(t) ? Number(t) : NaN;
    if (Number.isInteger(n) && n >= -2147483648 && n <= 2147483647) return n;
  }
  return INVALID;
}

function toBooleanInt(v: unknown): Converted<number> {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v) !== 0 ? 1 : 0;
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (t === 'true' || t === '1') return 1;
    if (t === 'false' || t === '0') return 0;
  }
  return INVALID;
}

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** LONG/TIMESTAMP: a safe-integer number stays a number (no BigInt per value); the builder stores both. */
function toLong(v: unknown): Converted<bigint | number> {
  if (typeof v === 'bigint') return BigInt.asIntN(64, v);
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return v;
    if (Number.isNaN(v)) return 0n;
    // Java's double → long cast saturates at ±2^63.
    if (v >= 2 ** 63) return LONG_MAX;
    if (v <= -(2 ** 63)) return LONG_MIN;
    return BigInt(Math.trunc(v));
  }
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'string') {
    const t = v.trim();
    if (INT_TEXT.test(t)) {
      const n = BigInt(t);
      if (n >= LONG_MIN && n <= LONG_MAX) return n;
    }
  }
  return INVALID;
}

/** `TimestampUtils.toMillisSinceEpoch`: epoch ms, a `Date`, a numeric string or ISO-like text (UTC). */
function toTimestamp(v: unknown): Converted<bigint | number> {
  if (v instanceof Date) {
    const ms = v.getTime();
    return Number.isNaN(ms) ? INVALID : ms;
  }
  if (typeof v === 'string') {
    const t = v.trim();
    if (INT_TEXT.test(t)) return toLong(t);
    const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(:\d{2})?(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$/.exec(t);
    if (!m) return INVALID;
    const frac = m[4] ? m[4].slice(0, 4).padEnd(4, '0') : '';
    const ms = Date.parse(`${m[1]}T${m[2] ?? '00:00'}${m[3] ?? ':00'}${frac}${m[5] ?? 'Z'}`);
    return Number.isNaN(ms) ? INVALID : ms;
  }
  return toLong(v);
}

function toFloating(v: unknown): Converted<number> {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const t = v.trim();
    if (FLOAT_TEXT.test(t)) return Number(t.replace(/[fFdD]$/, ''));
  }
  return INVALID;
}

/** BIG_DECIMAL input → Java `BigDecimal` (stripped of trailing zeros when `strip`), as Pinot's serialised text. */
function toBigDecimal(v: unknown, strip: boolean): Converted<string> {
  let d: BigDecimalValue | undefined;
  if (typeof v === 'string') {
    const t = v.trim();
    const fast = strip ? fastStripped(t) : undefined;
    if (fast !== undefined) return fast;
    d = parseJavaBigDecimal(t);
  } else if (typeof v === 'bigint') {
    d = { unscaled: v, scale: 0 };
  } else if (typeof v === 'number' && Number.isFinite(v)) {
    // Integers arrive as Java longs (exact); other numbers as doubles: BigDecimal.valueOf(Double.toString).
    d = Number.isSafeInteger(v) ? { unscaled: BigInt(v), scale: 0 } : parseJavaBigDecimal(javaDoubleToString(v));
  } else if (typeof v === 'boolean') {
    d = { unscaled: v ? 1n : 0n, scale: 0 };
  }
  if (d === undefined) return INVALID;
  return bigDecimalToString(strip ? stripTrailingZeros(d) : d);
}

const SHORT_DECIMAL = /^(-?)(\d{1,15})(?:\.(\d{0,15}))?$/;

/**
 * `stripTrailingZeros` on plain decimal text of up to 15+15 digits without BigInt: the stripped value in a form
 * `encodeBigDecimal` reads back with the same unscaled value and scale (`1.5`, `12E+2`, `0`).
 */
function fastStripped(text: string): string | undefined {
  const m = SHORT_DECIMAL.exec(text);
  if (!m) return undefined;
  let int = m[2]!.replace(/^0+(?=\d)/, '');
  let frac = (m[3] ?? '').replace(/0+$/, '');
  if (frac.length > 0) return `${m[1]}${int === '0' ? '0' : int}.${frac}`;
  if (/^0+$/.test(int)) return '0';
  const zeros = int.length - int.replace(/0+$/, '').length;
  int = int.slice(0, int.length - zeros);
  frac = '';
  return zeros === 0 ? `${m[1]}${int}` : `${m[1]}${int}E+${zeros}`;
}

function toText(v: unknown): Converted<string> {
  switch (typeof v) {
    case 'string': return v;
    case 'number': return Number.isSafeInteger(v) ? String(v) : javaDoubleToString(v);
    case 'bigint': return v.toString();
    case 'boolean': return v ? 'true' : 'false';
    default:
      return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') : INVALID;
  }
}

function jsonText(v: unknown): Converted<string> {
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('base64'));
  try {
    const text = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x));
    if (text !== undefined) return text;
  } catch {
    // fall through
  }
  return INVALID;
}

/** BYTES: raw bytes, or hex text (`BytesUtils.toBytes`). */
function toBytes(v: unknown): Converted<Uint8Array> {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') {
    const t = v.trim();
    if (HEX_TEXT.test(t)) return Buffer.from(t, 'hex');
  }
  return INVALID;
}

function toMap(v: unknown): Converted<Record<string, unknown>> {
  let m = v;
  if (typeof v === 'string') {
    try {
      m = JSON.parse(v);
    } catch {
      return INVALID;
    }
  }
  return typeof m === 'object' && m !== null && !Array.isArray(m) && !(m instanceof Uint8Array) ? m as Record<string, unknown> : INVALID;
}

/**
 * `DataTypeTransformerUtils.standardize`: arrays (and collections) lose their null elements; none left → null,
 * one left → that element, several → an array (an error for a single-value column).
 */
function standardize(field: FieldDef, v: unknown, row: number, singleValue: boolean): unknown {
  if (!Array.isArray(v)) return v;
  const kept: unknown[] = [];
  for (const x of v) {
    const s = standardize(field, x, row, true);
    if (s !== null && s !== undefined) kept.push(s);
  }
  if (kept.length === 0) return null;
  if (kept.length === 1) return kept[0];
  if (singleValue) {
    throw usage(field, row, `column ${field.name} is single-value but row ${row} holds ${kept.length} values`);
  }
  return kept;
}

/** Growable typed storage for one stored type. */
class ValueBuilder {
  private ints: Int32Array | undefined;
  private longs: BigInt64Array | undefined;
  private halves: Int32Array | undefined;
  private floats: Float32Array | undefined;
  private doubles: Float64Array | undefined;
  private bytes: Uint8Array | undefined;
  private buf: Buffer | undefined;
  private offsets: Int32Array | undefined;
  private byteLength = 0;
  count = 0;

  constructor(private readonly field: FieldDef, capacity: number) {
    const n = Math.max(16, capacity);
    switch (field.storedType) {
      case 'INT': this.ints = new Int32Array(n); break;
      case 'LONG':
        this.longs = new BigInt64Array(n);
        this.halves = new Int32Array(this.longs.buffer);
        break;
      case 'FLOAT': this.floats = new Float32Array(n); break;
      case 'DOUBLE': this.doubles = new Float64Array(n); break;
      default:
        this.offsets = new Int32Array(n + 1);
        this.bytes = new Uint8Array(Math.max(64, n * 8));
        this.buf = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    }
  }

  private grow(): void {
    const n = this.count * 2 + 16;
    if (this.ints) this.ints = growTyped(this.ints, new Int32Array(n));
    else if (this.longs) {
      this.longs = growTyped(this.longs, new BigInt64Array(n));
      this.halves = new Int32Array(this.longs.buffer);
    }
    else if (this.floats) this.floats = growTyped(this.floats, new Float32Array(n));
    else if (this.doubles) this.doubles = growTyped(this.doubles, new Float64Array(n));
    else this.offsets = growTyped(this.offsets!, new Int32Array(n + 1));
  }

  /** Appends a stored scalar of this column's stored type. */
  push(v: StoredScalar): void {
    const capacity = this.ints?.length ?? this.longs?.length ?? this.floats?.length ?? this.doubles?.length ?? this.offsets!.length - 1;
    if (this.count >= capacity) this.grow();
    const i = this.count++;
    switch (this.field.storedType) {
      case 'INT': this.ints![i] = v as number; return;
      case 'LONG':
        if (typeof v === 'number') {
          // Two 32-bit halves: no BigInt allocated for the common safe-integer case.
          this.halves![2 * i + LO] = v % 4294967296 | 0;
          this.halves![2 * i + HI] = Math.floor(v / 4294967296);
        } else {
          this.longs![i] = v as bigint;
        }
        return;
      case 'FLOAT': this.floats![i] = v as number; return;
      case 'DOUBLE': this.doubles![i] = v as number; return;
      case 'STRING': this.pushString(v as string); return;
      case 'BYTES': this.pushBytes(v as Uint8Array); return;
      case 'BIG_DECIMAL': this.pushBytes(encodeBigDecimal(typeof v === 'string' ? v : bigDecimalToString(v as BigDecimalValue))); return;
      case 'MAP': this.pushBytes(encodeMapValue(v as Record<string, unknown>)); return;
    }
  }

  private ensureBytes(extra: number): void {
    const need = this.byteLength + extra;
    if (need <= this.bytes!.length) return;
    if (need > 0x7fffffff) {
      throw usage(this.field, undefined, `column ${this.field.name} holds more than 2 GB of values, more than Pinot's int offsets allow`);
    }
    const next = new Uint8Array(Math.min(0x7fffffff, Math.max(need, this.bytes!.length * 2)));
    next.set(this.bytes!.subarray(0, this.byteLength));
    this.bytes = next;
    this.buf = Buffer.from(next.buffer, next.byteOffset, next.byteLength);
  }

  private pushString(s: string): void {
    // Worst case 3 UTF-8 bytes per UTF-16 unit; Buffer#write encodes in place (Java writes a lone surrogate
    // as '?', Node as U+FFFD; Pinot's sanitised strings hold none in practice).
    this.ensureBytes(s.length * 3);
    this.byteLength += this.buf!.write(s, this.byteLength, 'utf8');
    this.offsets![this.count] = this.byteLength;
  }

  private pushBytes(b: Uint8Array): void {
    this.ensureBytes(b.length);
    this.bytes!.set(b, this.byteLength);
    this.byteLength += b.length;
    this.offsets![this.count] = this.byteLength;
  }

  finish(): ValueBlock {
    const n = this.count;
    if (this.ints) return { kind: 'INT', values: this.ints.slice(0, n) };
    if (this.longs) return { kind: 'LONG', values: this.longs.slice(0, n) };
    if (this.floats) return { kind: 'FLOAT', values: this.floats.slice(0, n) };
    if (this.doubles) return { kind: 'DOUBLE', values: this.doubles.slice(0, n) };
    return { kind: 'BYTES', values: { offsets: this.offsets!.slice(0, n + 1), data: this.bytes!.slice(0, this.byteLength) } };
  }
}

/** Int32 index of the low / high half of a BigInt64Array element (host byte order). */
const LO = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1 ? 0 : 1;
const HI = 1 - LO;

function growTyped<T extends Int32Array | BigInt64Array | Float32Array | Float64Array>(old: T, next: T): T {
  (next as Int32Array).set(old as Int32Array);
  return next;
}

/** Builds one ingested column from values fed row by row. */
export class ColumnIngestor {
  private readonly builder: ValueBuilder;
  private rowOffsetArray: Int32Array | undefined;
  private readonly nulls: number[] = [];
  private readonly defaultValue: StoredScalar;
  private readonly sanitize: ((s: string, row: number) => string) | undefined;
  private row = 0;

  constructor(readonly field: FieldDef, private readonly expectedDocs: number, private readonly options: IngestOptions = {}) {
    this.builder = new ValueBuilder(field, expectedDocs);
    if (!field.singleValue) this.rowOffsetArray = new Int32Array(expectedDocs + 1);
    this.defaultValue = sanitizeDefault(field, defaultStoredValue(field));
    this.sanitize = stringSanitizer(field);
    if (options.isTimeColumn) this.checkTimeDefault();
  }

  private timeDefaultError: string | undefined;

  /** Pinot replaces a time-column null with its default only when that is a sensible time; else with "now". */
  private checkTimeDefault(): void {
    const f = this.field;
    const v = this.defaultValue;
    const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : NaN;
    const ms = f.dataType === 'TIMESTAMP' ? n : n * (f.timeUnitSize ?? 1) * (UNIT_MS[f.timeUnit ?? 'MILLISECONDS'] ?? NaN);
    if (!(ms >= VALID_MIN_MS && ms < VALID_MAX_MS)) {
      this.timeDefaultError = `time column ${f.name} is null, and its default null value (${String(v)}) is not a time Pinot accepts `
        + '(1971–2071), so Pinot would store the current wall-clock time instead; set a valid defaultNullValue or fill the time';
    }
  }

  /** Appends the next row's input value. */
  add(input: unknown): void {
    const row = this.row++;
    const f = this.field;
    if (f.singleValue) {
      const v = this.convertSV(input, row);
      if (v === null) {
        this.nullRow(row);
        this.builder.push(this.defaultValue);
      } else {
        this.builder.push(v);
      }
      return;
    }
    const values = this.convertMV(input, row);
    if (values.length === 0) {
      this.nullRow(row);
      this.builder.push(this.defaultValue);
    } else {
      for (const v of values) this.builder.push(v);
    }
    if (row + 1 >= this.rowOffsetArray!.length) this.rowOffsetArray = growTyped(this.rowOffsetArray!, new Int32Array(row * 2 + 16));
    this.rowOffsetArray![row + 1] = this.builder.count;
  }

  private nullRow(row: number): void {
    if (this.timeDefaultError) throw usage(this.field, row, `${this.timeDefaultError} (row ${row})`);
    this.nulls.push(row);
  }

  private convertSV(input: unknown, row: number): StoredScalar | null {
    const f = this.field;
    const v = f.dataType === 'JSON' || f.dataType === 'MAP' ? input : standardize(f, input, row, true);
    if (v === null || v === undefined) return null;
    const stored = convertScalar(f, v, row);
    if (stored !== null && this.sanitize) return this.sanitize(stored as string, row);
    if (stored instanceof Uint8Array) return sanitizeBytes(f, stored, row, this.defaultValue);
    return stored;
  }

  private convertMV(input: unknown, row: number): StoredScalar[] {
    const f = this.field;
    const v = standardize(f, input, row, false);
    if (v === null || v === undefined) return [];
    const list = Array.isArray(v) ? v : [v];
    const out: StoredScalar[] = [];
    for (const x of list) {
      let stored = convertScalar(f, x, row);
      if (stored === null) continue; // NaN elements are dropped (SpecialValueTransformerUtils.transformValues)
      if (this.sanitize) stored = this.sanitize(stored as string, row);
      else if (stored instanceof Uint8Array) stored = sanitizeBytes(f, stored, row, this.defaultValue);
      out.push(stored);
    }
    return out;
  }

  finish(): IngestedColumn {
    if (this.row !== this.expectedDocs) {
      throw usage(this.field, undefined, `column ${this.field.name} produced ${this.row} values for ${this.expectedDocs} docs`);
    }
    return {
      field: this.field,
      totalDocs: this.row,
      values: this.builder.finish(),
      rowOffsets: this.field.singleValue ? undefined : this.rowOffsetArray!.slice(0, this.row + 1),
      nullDocs: Int32Array.from(this.nulls),
    };
  }
}

/** Ingests a whole column: values as one array or as chunks (arrays) in doc order. */
export function ingestColumn(field: FieldDef, totalDocs: number, chunks: Iterable<ArrayLike<unknown>>, options: IngestOptions = {}): IngestedColumn {
  const ing = new ColumnIngestor(field, totalDocs, options);
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) ing.add(chunk[i]);
  }
  return ing.finish();
}

/** STRING (and JSON/BYTES with a strategy) sanitisation per `SanitizationTransformerUtils`. */
function stringSanitizer(field: FieldDef): ((s: string, row: number) => string) | undefined {
  const strategy = field.effectiveMaxLengthExceedStrategy;
  if (field.dataType !== 'STRING' && !(field.dataType === 'JSON' && strategy !== 'NO_ACTION')) return undefined;
  const max = field.effectiveMaxLength;
  let dflt: string | undefined;
  return (s, row) => {
    const nul = s.indexOf('\0');
    if (nul < 0 && s.length <= max) return s;
    const cut = nul < 0 ? s.slice(0, max) : s.slice(0, Math.min(nul, max));
    switch (strategy) {
      case 'TRIM_LENGTH': return cut;
      case 'SUBSTITUTE_DEFAULT_VALUE':
        dflt ??= String(defaultStoredValue(field));
        return dflt;
      case 'ERROR':
        throw usage(field, row, nul < 0
          ? `value of column ${field.name} (row ${row}) is longer than its maxLength ${max}`
          : `value of column ${field.name} (row ${row}) contains a NUL character`);
      case 'NO_ACTION': return nul < 0 ? s : cut;
    }
  };
}

function sanitizeBytes(field: FieldDef, b: Uint8Array, row: number, dflt: StoredScalar): Uint8Array {
  const strategy = field.effectiveMaxLengthExceedStrategy;
  if (strategy === 'NO_ACTION' || b.length <= field.effectiveMaxLength) return b;
  switch (strategy) {
    case 'TRIM_LENGTH': return b.subarray(0, field.effectiveMaxLength);
    case 'SUBSTITUTE_DEFAULT_VALUE': return dflt as Uint8Array;
    case 'ERROR': throw usage(field, row, `value of column ${field.name} (row ${row}) is longer than its maxLength ${field.effectiveMaxLength}`);
  }
}

/** The default goes through SanitizationTransformer like any value (it runs after NullValueTransformer). */
function sanitizeDefault(field: FieldDef, v: StoredScalar): StoredScalar {
  if (field.dataType === 'STRING' && typeof v === 'string') {
    const nul = v.indexOf('\0');
    const cut = nul < 0 ? v : v.slice(0, nul);
    return cut.length <= field.effectiveMaxLength ? cut : cut.slice(0, field.effectiveMaxLength);
  }
  return v;
}
