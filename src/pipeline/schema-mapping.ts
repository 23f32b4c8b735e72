/**
 * Pinot/Arrow schema → the Arrow schema parquet-wasm writes, and the per-batch conversion to it.
 *
 * | Pinot (reader's Arrow)              | written Arrow                          | Parquet                                 |
 * |-------------------------------------|----------------------------------------|-----------------------------------------|
 * | INT / LONG / FLOAT / DOUBLE         | Int32 / Int64 / Float32 / Float64      | INT32 / INT64 / FLOAT / DOUBLE          |
 * | BOOLEAN                             | Bool                                   | BOOLEAN                                 |
 * | TIMESTAMP (Timestamp ms UTC)        | Timestamp(ms, UTC); (µs, UTC) Iceberg  | INT64 TIMESTAMP(MILLIS|MICROS, UTC)     |
 * | TIMESTAMP in timestampWithoutZone   | Timestamp(ms; µs Iceberg), no zone     | INT64 TIMESTAMP(…), not UTC-adjusted    |
 * | STRING                              | Utf8 or Dictionary<Int32, Utf8>        | BYTE_ARRAY STRING                       |
 * | JSON, MAP (Utf8 JSON text)          | Utf8; Struct/List when json.maxDepth   | BYTE_ARRAY JSON (footer patch); groups  |
 * | BYTES                               | Binary or Dictionary<Int32, Binary>    | BYTE_ARRAY                              |
 * | BIG_DECIMAL (decimal text)          | Utf8 plain string; Decimal128(P,S)     | BYTE_ARRAY STRING; DECIMAL(P,S)         |
 * | multi-value (List<element>)         | List<element>                          | 3-level LIST                            |
 *
 * Every field is nullable (OPTIONAL). With a table schema the output has exactly its columns in its order
 * (missing ones as nulls, extra segment columns dropped), else the segment's columns in segment order.
 * Field ids (Iceberg) go into `PARQUET:field_id` metadata on every field, list elements and struct members
 * included.
 */
import {
  DataType as ArrowTypes, Dictionary, Field, Float32, Float64, Int32, Int64, List, RecordBatch, Schema, Struct,
  TimestampMicrosecond, TimestampMillisecond, makeData, makeVector, util, type Data, type DataType as ArrowType, type Utf8, type Vector,
} from 'apache-arrow';
import { ConfigError, ErrorCodes } from '../errors.js';
import { PINOT_CARDINALITY_KEY, PINOT_DATA_TYPE_KEY, PINOT_ENCODING_KEY } from '../sources/pinot/arrow-schema.js';
import { arrowValueType } from '../sources/pinot/arrow-values.js';
import type { DataType } from '../sources/pinot/types.js';
import { everyEntryUsed, markEveryEntryUsed } from '../sources/pinot/dictionary-subset.js';
import { materializeAny, nullData, rewriteUtf8, textsOf, validityOf } from './arrow-data.js';
import { decimalType, toPlainDecimal, utf8ToDecimalData } from './decimal.js';
import { JsonShapeError, jsonArrowType, jsonTextPaths, shredJson, type JsonShape } from './json-shredding.js';
import { unknownJsonKeyHandler, type ColumnUnknownJsonKeyHandler } from './json-unknown-keys.js';
import { ParquetError, ParquetErrorCodes } from './parquet-error.js';
import { PARQUET_KEYS, type ParquetOptions } from './parquet-options.js';
import type { TableSchema } from './table-schema.js';

export const FIELD_ID_KEY = 'PARQUET:field_id';

/** See SchemaMappingOptions.maxShippedDictionary. */
export const DEFAULT_MAX_SHIPPED_DICTIONARY = 65_536;

/** Iceberg field id of the field at `path` (column, then `element` for list elements, member names for structs). */
export type FieldIdResolver = (path: readonly string[]) => number | undefined;

export interface SchemaMappingOptions {
  parquet: Pick<ParquetOptions, 'enableDictionary' | 'jsonMaxDepth' | 'decimal'>;
  /** MICROS for Iceberg (`timestamp`, `timestamptz`), MILLIS (Pinot's unit) otherwise. */
  timestampUnit?: 'MILLIS' | 'MICROS';
  /**
   * TIMESTAMP columns written without a zone (Arrow timezone null → Parquet isAdjustedToUTC=false), as an
   * Iceberg `timestamp` column wants; the others are UTC-adjusted (`timestamptz`).
   */
  timestampWithoutZone?: readonly string[];
  /** The table's current Pinot schema; the output follows it when given. */
  tableSchema?: TableSchema;
  /** When given, every field (list elements and struct members too) must get an id. */
  fieldIds?: FieldIdResolver;
  /** Shapes of the JSON columns, inferred or the table's (required for JSON columns when json.maxDepth is set). */
  jsonShapes?: ReadonlyMap<string, JsonShape>;
  /**
   * JSON object keys a struct shape lacks (only a table's shape can lack one): dropped when this returns.
   * Default: fail with PARQUET_SCHEMA_MISMATCH. The row counts from the first row converted. The Parquet
   * stage's default follows `parquet.jsonUnknownKeys`.
   */
  onUnknownJsonKey?: ColumnUnknownJsonKeyHandler;
  /**
   * Dictionary columns whose dictionary has more entries than this (per `pinot.cardinality`) are sent to the
   * writer as plain values, because every batch carries its whole dictionary into wasm memory. Measured on a
   * 1M-row events segment (two ~900k-entry dictionaries, 16 MB row groups): plain values kept wasm memory at
   * 64 MB against 103 MB, at the same or better speed. The Parquet dictionary setting does not change.
   * Default DEFAULT_MAX_SHIPPED_DICTIONARY.
   */
  maxShippedDictionary?: number;
}

export interface ColumnPlan {
  name: string;
  dataType: DataType;
  singleValue: boolean;
  /** Present in the source batches (else written as nulls). */
  inSource: boolean;
  field: Field;
}

export interface ParquetSchemaPlan {
  /** The Arrow schema of the converted batches: what the Parquet file holds. */
  readonly schema: Schema;
  readonly columns: readonly ColumnPlan[];
  /** Source columns the conversion reads, in output order (read only these from the segment). */
  readonly sourceColumns: readonly string[];
  /** Segment columns the table schema no longer has (not written). */
  readonly dropped: readonly string[];
  /** Table-schema columns the segment does not have (written as nulls). */
  readonly added: readonly string[];
  /** Top-level leaf columns that get Parquet dictionary pages. */
  readonly dictionaryColumns: readonly string[];
  /** Dictionary setting for nested leaves (list elements, struct members); see the encoder. */
  readonly nestedDictionary: boolean;
  /** Parquet paths of the leaves written with the JSON logical type. */
  readonly jsonPaths: readonly (readonly string[])[];
  /** Converts a source batch (any column order; extra columns ignored). `firstRow` numbers rows in errors. */
  convert(batch: RecordBatch, firstRow?: number): RecordBatch;
  /**
   * Converts one column's source data (of the source field's type) to output column `index`'s type, for
   * writers that go column by column; `source` is ignored (may be undefined) for a column the segment lacks,
   * which comes out as `length` nulls.
   */
  convertColumn(index: number, source: Data | undefined, length: number, firstRow?: number): Data;
}

interface SourceColumn {
  dataType: DataType;
  singleValue: boolean;
  dictionaryEncoded: boolean;
  cardinality?: number;
  field: Field;
}

type Converter = (data: Data, firstRow: number) => Data;

interface Mapped {
  type: ArrowType;
  convert: Converter;
  jsonPaths: string[][];
}

/** Pinot type of a source field: its `pinot.dataType` metadata, else inferred from the Arrow type. */
function sourceColumn(field: Field): SourceColumn {
  const meta = field.metadata;
  const list = ArrowTypes.isList(field.type);
  const valueType = list ? field.type.children[0]!.type : field.type;
  const declared = meta.get(PINOT_DATA_TYPE_KEY) as DataType | undefined;
  const dataType = declared ?? pinotTypeOf(valueType, field.name);
  const cardinality = meta.has(PINOT_CARDINALITY_KEY) ? Number(meta.get(PINOT_CARDINALITY_KEY)) : undefined;
  const encoding = meta.get(PINOT_ENCODING_KEY);
  return {
    dataType,
    singleValue: !list,
    dictionaryEncoded: encoding === undefined ? ArrowTypes.isDictionary(field.type) : encoding === 'DICTIONARY',
    cardinality,
    field,
  };
}

function pinotTypeOf(type: ArrowType, column: string): DataType {
  const t = ArrowTypes.isDictionary(type) ? type.dictionary : type;
  if (ArrowTypes.isInt(t)) return t.bitWidth === 64 ? 'LONG' : 'INT';
  if (ArrowTypes.isFloat(t)) return t.precision === 1 ? 'FLOAT' : 'DOUBLE';
  if (ArrowTypes.isBool(t)) return 'BOOLEAN';
  if (ArrowTypes.isTimestamp(t)) return 'TIMESTAMP';
  if (ArrowTypes.isUtf8(t)) return 'STRING';
  if (ArrowTypes.isBinary(t)) return 'BYTES';
  throw new ParquetError(ParquetErrorCodes.PARQUET_SCHEMA_MISMATCH, `column ${column} has Arrow type ${String(type)}, which has no Pinot type`, {
    context: { column },
  });
}

const WIDENINGS: ReadonlySet<string> = new Set(['INT>LONG', 'FLOAT>DOUBLE', 'STRING>JSON', 'JSON>STRING']);

function identity(data: Data): Data {
  return data;
}

/** Builds the conversion plan. Pure: no I/O, no batches needed. */
export function planParquetSchema(source: Schema, options: SchemaMappingOptions): ParquetSchemaPlan {
  const sources = new Map(source.fields.map((f) => [f.name, sourceColumn(f)]));
  const wanted = options.tableSchema
    ? options.tableSchema.columns.map((c) => ({ name: c.name, dataType: c.dataType, singleValue: c.singleValue }))
    : [...sources.values()].map((s) => ({ name: s.field.name, dataType: s.dataType, singleValue: s.singleValue }));
  const wantedNames = new Set(wanted.map((w) => w.name));
  const dropped = [...sources.keys()].filter((n) => !wantedNames.has(n));
  const added: string[] = [];
  const maxShipped = options.maxShippedDictionary ?? DEFAULT_MAX_SHIPPED_DICTIONARY;
  const enableDictionary = options.parquet.enableDictionary;

  const plans: (ColumnPlan & { convert: Converter })[] = [];
  const dictionaryColumns: string[] = [];
  const jsonPaths: string[][] = [];
  let nestedDictionary = false;

  wanted.forEach((w, index) => {
    const src = sources.get(w.name);
    if (src) checkCompatible(w.name, src, w);
    else added.push(w.name);
    const mapped = mapColumn(w.name, w.dataType, w.singleValue, src, index, options, maxShipped);
    const field = withFieldIds(new Field(w.name, mapped.type, true), [w.name], options.fieldIds);
    const nested = ArrowTypes.isList(mapped.type) || ArrowTypes.isStruct(mapped.type);
    const wantsDictionary = enableDictionary && src !== undefined && src.dictionaryEncoded;
    if (wantsDictionary && nested) nestedDictionary = true;
    if (wantsDictionary && !nested) dictionaryColumns.push(w.name);
    jsonPaths.push(...mapped.jsonPaths);
    plans.push({ name: w.name, dataType: w.dataType, singleValue: w.singleValue, inSource: src !== undefined, field, convert: mapped.convert });
  });

  const schema = new Schema(plans.map((p) => p.field));
  const columns: ColumnPlan[] = plans.map(({ convert: _convert, ...p }) => p);
  return {
    schema,
    columns,
    sourceColumns: plans.filter((p) => p.inSource).map((p) => p.name),
    dropped,
    added,
    dictionaryColumns,
    nestedDictionary,
    jsonPaths,
    convertColumn(index: number, source: Data | undefined, length: number, firstRow = 0): Data {
      const p = plans[index];
      if (!p) throw new RangeError(`no output column ${index}`);
      if (!p.inSource) return nullData(p.field.type, length);
      if (!source || source.length !== length) {
        throw new ParquetError(ParquetErrorCodes.PARQUET_SCHEMA_MISMATCH, `column ${p.name}: expected ${length} source rows, got ${source?.length ?? 'none'}`, {
          context: { column: p.name },
        });
      }
      return p.convert(source, firstRow);
    },
    convert(batch: RecordBatch, firstRow = 0): RecordBatch {
      const length = batch.numRows;
      const children = plans.map((p) => {
        if (!p.inSource) return nullData(p.field.type, length);
        const i = batch.schema.fields.findIndex((f) => f.name === p.name);
        if (i < 0) {
          throw new ParquetError(ParquetErrorCodes.PARQUET_SCHEMA_MISMATCH, `the batch has no column ${p.name}`, { context: { column: p.name } });
        }
        const data = batch.getChildAt(i)!.data;
        if (data.length !== 1) throw new Error(`column ${p.name}: expected one Data chunk per batch column, got ${data.length}`);
        return p.convert(data[0]!, firstRow);
      });
      return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children }));
    },
  };
}

function checkCompatible(name: string, src: SourceColumn, wanted: { dataType: DataType; singleValue: boolean }): void {
  const sameShape = src.singleValue === wanted.singleValue;
  if (sameShape && (src.dataType === wanted.dataType || WIDENINGS.has(`${src.dataType}>${wanted.dataType}`))) return;
  const describe = (t: DataType, sv: boolean): string => `${sv ? '' : 'multi-value '}${t}`;
  throw new ParquetError(
    ParquetErrorCodes.PARQUET_SCHEMA_MISMATCH,
    `column ${name} is ${describe(src.dataType, src.singleValue)} in the segment but ${describe(wanted.dataType, wanted.singleValue)} in the table schema`,
    { context: { column: name } },
  );
}

function mapColumn(
  name: string, dataType: DataType, singleValue: boolean, src: SourceColumn | undefined, index: number,
  options: SchemaMappingOptions, maxShipped: number,
): Mapped {
  if (!singleValue) {
    const element = mapValue(name, dataType, src && { ...src, dictionaryEncoded: false, field: src.field.type.children[0]! }, index, options, maxShipped, true);
    const type = new List(new Field('element', element.type, true));
    const convert: Converter = (data, firstRow) => {
      const child = data.children[0]!;
      return makeData({ type, length: data.length, valueOffsets: data.valueOffsets as Int32Array, child: element.convert(child, firstRow), ...validityOf(data) });
    };
    return { type, convert, jsonPaths: element.jsonPaths.map((p) => [...p.slice(0, 1), 'list', 'element', ...p.slice(1)]) };
  }
  return mapValue(name, dataType, src, index, options, maxShipped, false);
}

/** One (element) value of a column; `src` undefined for a column the segment lacks. */
function mapValue(
  name: string, dataType: DataType, src: SourceColumn | undefined, index: number, options: SchemaMappingOptions,
  maxShipped: number, element: boolean,
): Mapped {
  switch (dataType) {
    case 'INT': case 'FLOAT': case 'DOUBLE': case 'BOOLEAN': case 'BYTES': case 'STRING':
      return mapPlain(dataType, src, index, maxShipped);
    case 'LONG':
      if (src?.dataType === 'INT') return mapValues(src, new Int64(), index, maxShipped, (d) => widen(d, new Int64(), (v) => BigInt(v as number)));
      return mapValues(src, new Int64(), index, maxShipped);
    case 'TIMESTAMP': {
      const zone = options.timestampWithoutZone?.includes(name) ? null : 'UTC';
      if (options.timestampUnit !== 'MICROS') return mapValues(src, new TimestampMillisecond(zone), index, maxShipped, retype(new TimestampMillisecond(zone)));
      const type = new TimestampMicrosecond(zone);
      return mapValues(src, type, index, maxShipped, (d) => widen(d, type, (v) => (v as bigint) * 1000n));
    }
    case 'BIG_DECIMAL':
      return mapDecimal(name, src, index, options, maxShipped);
    case 'JSON': case 'MAP': {
      const depth = options.parquet.jsonMaxDepth;
      if (dataType === 'JSON' && depth !== undefined && src && !element) {
        const shape = options.jsonShapes?.get(name);
        if (!shape) {
          throw new ConfigError(ErrorCodes.USAGE, `${PARQUET_KEYS.jsonMaxDepth} is set but no shape was given for JSON column ${name} (segmentToParquet infers them)`, {
            context: { column: name },
          });
        }
        if (shape.kind !== 'json') return mapShredded(name, shape, options.onUnknownJsonKey ?? unknownJsonKeyHandler());
      }
      const m = mapPlain('STRING', src, index, maxShipped);
      return { ...m, jsonPaths: [[name]] };
    }
  }
}

function retype(type: ArrowType): Converter {
  return (d) => (util.compareTypes(d.type, type) ? d : d.clone(type));
}

/** Columns written as read (possibly re-typed: FLOAT→DOUBLE, a new dictionary id, materialised dictionary). */
function mapPlain(dataType: DataType, src: SourceColumn | undefined, index: number, maxShipped: number): Mapped {
  const valueType = dataType === 'STRING' ? arrowValueType('STRING') : arrowValueType(dataType);
  if (dataType === 'DOUBLE' && src?.dataType === 'FLOAT') {
    return mapValues(src, new Float64(), index, maxShipped, (d) => widen(d, new Float64(), (v) => v as number));
  }
  return mapValues(src, valueType, index, maxShipped, retype(valueType));
}

/**
 * Values of `valueType` made by `convertValues`. A dictionary source stays a Dictionary (its entries are
 * converted, once per dictionary, not per row) unless its cardinality exceeds `maxShipped`, when it is
 * materialised first.
 */
function mapValues(src: SourceColumn | undefined, valueType: ArrowType, index: number, maxShipped: number, convertValues: Converter = identity): Mapped {
  if (src && ArrowTypes.isDictionary(src.field.type)) {
    if (src.cardinality === undefined || src.cardinality <= maxShipped) {
      const type = new Dictionary(valueType, new Int32(), index);
      // Batches sharing a dictionary keep sharing one (converted once): writers key dictionaries by identity.
      const converted = new WeakMap<Data, Vector>();
      const convert: Converter = (d, firstRow) => {
        const source = d.dictionary!.data[0]!;
        let dictionary = converted.get(source);
        if (dictionary === undefined) {
          const values = convertValues(source, firstRow);
          // Converting values one for one keeps every entry used.
          if (everyEntryUsed(source)) markEveryEntryUsed(values);
          dictionary = makeVector(values);
          converted.set(source, dictionary);
        }
        return withDictionary(d, dictionary, type);
      };
      return { type, convert, jsonPaths: [] };
    }
    return { type: valueType, convert: (d, firstRow) => convertValues(materializeAny(d), firstRow), jsonPaths: [] };
  }
  return { type: valueType, convert: convertValues, jsonPaths: [] };
}

function widen(data: Data, type: Int64 | Float64 | TimestampMicrosecond | Float32, f: (v: unknown) => unknown): Data {
  const src = data.values as ArrayLike<unknown>;
  const out = new (type.ArrayType as unknown as new (n: number) => unknown[])(data.length);
  for (let i = 0; i < data.length; i++) out[i] = f(src[i]);
  return makeData({ type: type as Int64, length: data.length, data: out as unknown as BigInt64Array, ...validityOf(data) });
}

function mapDecimal(name: string, src: SourceColumn | undefined, index: number, options: SchemaMappingOptions, maxShipped: number): Mapped {
  const spec = options.parquet.decimal;
  if (!spec) {
    // Lossless string: the plain decimal text (`<unscaled>E+<n>` → digits and zeros). Only values with an
    // exponent change; a dictionary is converted once (it is the same object in every batch of a segment).
    const m = mapPlain('STRING', src, index, maxShipped);
    const cache = new WeakMap<Data, Vector | undefined>();
    const plainText = (d: Data): Data | undefined => {
      const rewritten = rewriteUtf8(d as Data<Utf8>, E_UPPER, E_LOWER, toPlainDecimal);
      return rewritten === d ? undefined : rewritten;
    };
    const convert: Converter = (d, firstRow) => {
      if (ArrowTypes.isDictionary(d.type)) {
        const dict = d.dictionary!.data[0]!;
        if (!cache.has(dict)) {
          const text = plainText(dict);
          if (text !== undefined && everyEntryUsed(dict)) markEveryEntryUsed(text);
          cache.set(dict, text && makeVector(text));
        }
        const converted = cache.get(dict);
        return m.convert(converted ? withDictionary(d, converted) : d, firstRow);
      }
      return m.convert(plainText(d) ?? d, firstRow);
    };
    return { type: m.type, convert, jsonPaths: [] };
  }
  const type = decimalType(spec);
  const fail = (column: string, firstRow: number) => (row: number, text: string, reason: string): never => {
    throw new ParquetError(
      ParquetErrorCodes.PARQUET_VALUE_OUT_OF_RANGE,
      `BIG_DECIMAL value ${text} does not fit DECIMAL(${spec.precision},${spec.scale}) set by ${PARQUET_KEYS.decimalPrecision}/${PARQUET_KEYS.decimalScale}: ${reason}`,
      { context: { column, row: firstRow + row, key: PARQUET_KEYS.decimalPrecision } },
    );
  };
  const convert: Converter = (d, firstRow) => {
    const text = ArrowTypes.isDictionary(d.type) ? materializeAny(d) : d;
    return utf8ToDecimalData(text as Data<Utf8>, spec, fail(name, firstRow));
  };
  return { type, convert, jsonPaths: [] };
}

const E_UPPER = 0x45;
const E_LOWER = 0x65;

function withDictionary(d: Data, dictionary: Vector, type = d.type as Dictionary): Data {
  if (type === d.type && dictionary === d.dictionary) return d;
  return makeData({ type, length: d.length, data: d.values as Int32Array, ...validityOf(d), dictionary });
}

function mapShredded(name: string, shape: JsonShape, onUnknownKey: ColumnUnknownJsonKeyHandler): Mapped {
  const type = jsonArrowType(shape);
  const convert: Converter = (d, firstRow) => {
    try {
      return shredJson(textsOf(d), shape, (u) => onUnknownKey({ ...u, column: name, row: firstRow + u.row }));
    } catch (err) {
      if (!(err instanceof JsonShapeError)) throw err;
      throw new ParquetError(ParquetErrorCodes.PARQUET_SCHEMA_MISMATCH, `JSON value ${err.text} of column ${name} does not fit its shape: ${err.reason}`, {
        context: { column: name, row: firstRow + err.row },
      });
    }
  };
  return { type, convert, jsonPaths: jsonTextPaths(shape, [name]) };
}

/** Adds `PARQUET:field_id` to the field and every child field (list element, struct members). */
function withFieldIds(field: Field, path: string[], resolve: FieldIdResolver | undefined): Field {
  if (!resolve) return field;
  const id = resolve(path);
  if (id === undefined || !Number.isSafeInteger(id) || id < 0) {
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `no Iceberg field id for ${path.join('.')} (got ${String(id)})`, { context: { column: path[0] } });
  }
  let type = field.type as ArrowType;
  if (ArrowTypes.isList(type)) {
    type = new List(withFieldIds(type.children[0]!, [...path, 'element'], resolve));
  } else if (ArrowTypes.isStruct(type)) {
    type = new Struct(type.children.map((c) => withFieldIds(c, [...path, c.name], resolve)));
  }
  return new Field(field.name, type, field.nullable, new Map([[FIELD_ID_KEY, String(id)]]));
}
