/**
 * The plan's Arrow schema → the Parquet schema the direct writer writes (SchemaElement[], depth first) and
 * one leaf descriptor per column. Mirrors what arrow-rs (parquet-wasm) writes for the same schema: every
 * field OPTIONAL, lists as the 3-level `<name> (LIST) { repeated group list { optional element } }`, field
 * ids from `PARQUET:field_id`. Types the direct writer does not handle (structs, decimals, nested lists …)
 * are reported by `directWriterSupports` so the caller can use parquet-wasm instead.
 */
import { DataType as ArrowTypes, Precision, TimeUnit, type DataType, type Field, type Schema } from 'apache-arrow';
import { ParquetError, ParquetErrorCodes } from '../parquet-error.js';
import type { ConvertedType, LogicalType, PhysicalType, SchemaElement } from './format.js';

/** Arrow field metadata key holding the Parquet field id (as arrow-rs reads it). */
export const FIELD_ID_KEY = 'PARQUET:field_id';

/** What the column writer needs to know about one leaf column. */
export interface LeafColumn {
  /** Index of the top-level field (each supported field has exactly one leaf). */
  readonly index: number;
  /** Name of the top-level field. */
  readonly name: string;
  /** Parquet path, e.g. ['tags', 'list', 'element']. */
  readonly path: readonly string[];
  readonly physicalType: PhysicalType;
  /** Arrow type of the leaf's values (the dictionary's value type for dictionary fields). */
  readonly valueType: DataType;
  readonly maxDefinitionLevel: number;
  readonly maxRepetitionLevel: number;
  /** The leaf is the element of a LIST column. */
  readonly listElement: boolean;
  /** The leaf carries the JSON logical type. */
  readonly json: boolean;
  readonly fieldId?: number;
}

export interface DirectParquetSchema {
  /** Depth first, root first. */
  readonly elements: SchemaElement[];
  /** One per top-level field, in field order. */
  readonly leaves: LeafColumn[];
}

type Support = { ok: true } | { ok: false; reason: string };

/** The value type under an optional Dictionary<Int32, V> wrapper, or a reason it is not usable. */
function unwrapDictionary(type: DataType): DataType | string {
  if (!ArrowTypes.isDictionary(type)) return type;
  const indices = type.indices;
  if (indices.bitWidth !== 32 || !indices.isSigned) return `dictionary indices ${String(indices)} (only Int32)`;
  return type.dictionary;
}

/** Physical type of a primitive Arrow type, or undefined when the direct writer does not write it. */
function physicalTypeOf(type: DataType): PhysicalType | undefined {
  if (ArrowTypes.isInt(type)) {
    if (!type.isSigned) return undefined;
    return type.bitWidth === 32 ? 'INT32' : type.bitWidth === 64 ? 'INT64' : undefined;
  }
  if (ArrowTypes.isFloat(type)) {
    return type.precision === Precision.SINGLE ? 'FLOAT' : type.precision === Precision.DOUBLE ? 'DOUBLE' : undefined;
  }
  if (ArrowTypes.isBool(type)) return 'BOOLEAN';
  if (ArrowTypes.isUtf8(type) || ArrowTypes.isBinary(type)) return 'BYTE_ARRAY';
  if (ArrowTypes.isTimestamp(type)) return type.unit === TimeUnit.MILLISECOND || type.unit === TimeUnit.MICROSECOND ? 'INT64' : undefined;
  return undefined;
}

/** The leaf value type of a field (list element unwrapped), or why the direct writer cannot write it. */
function leafTypeOf(field: Field): { type: DataType; list: boolean } | string {
  let type: DataType = field.type;
  let list = false;
  if (ArrowTypes.isList(type)) {
    list = true;
    type = type.children[0]!.type;
    if (ArrowTypes.isList(type)) return 'a list of lists';
  }
  const value = unwrapDictionary(type);
  if (typeof value === 'string') return value;
  if (physicalTypeOf(value) === undefined) return `type ${String(list ? type : field.type)}`;
  return { type: value, list };
}

function fieldIdOf(field: Field): number | undefined | string {
  const text = field.metadata.get(FIELD_ID_KEY);
  if (text === undefined) return undefined;
  const id = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(id) || id > 0x7fffffff) return `${FIELD_ID_KEY} ${JSON.stringify(text)} (not an int32 id)`;
  return id;
}

/** Whether the direct writer can write `schema`; the reason names the first column it cannot write. */
export function directWriterSupports(schema: Schema): Support {
  for (const field of schema.fields) {
    const leaf = leafTypeOf(field);
    const ids = [fieldIdOf(field)];
    if (ArrowTypes.isList(field.type)) ids.push(fieldIdOf(field.type.children[0]!));
    const badId = ids.find((id) => typeof id === 'string');
    const problem = typeof leaf === 'string' ? leaf : badId;
    if (problem !== undefined) return { ok: false, reason: `column ${field.name}: the direct Parquet writer does not support ${problem}` };
  }
  return { ok: true };
}

function annotate(element: SchemaElement, type: DataType, json: boolean): void {
  if (ArrowTypes.isUtf8(type) || (json && ArrowTypes.isBinary(type))) {
    const converted: ConvertedType = json ? 'JSON' : 'UTF8';
    element.convertedType = converted;
    element.logicalType = json ? { type: 'JSON' } : { type: 'STRING' };
  } else if (ArrowTypes.isTimestamp(type)) {
    const unit = type.unit === TimeUnit.MILLISECOND ? 'MILLIS' : 'MICROS';
    const utc = type.timezone !== null && type.timezone !== undefined;
    const logical: LogicalType = { type: 'TIMESTAMP', isAdjustedToUTC: utc, unit };
    element.logicalType = logical;
    // The legacy converted type too, zone or not: that is what parquet-wasm (arrow-rs) writes, and readers
    // that know the logical type (DuckDB, hyparquet, Iceberg) go by isAdjustedToUTC.
    element.convertedType = unit === 'MILLIS' ? 'TIMESTAMP_MILLIS' : 'TIMESTAMP_MICROS';
  }
}

function withId(element: SchemaElement, id: number | undefined): SchemaElement {
  if (id !== undefined) element.fieldId = id;
  return element;
}

const pathKey = (path: readonly string[]): string => JSON.stringify(path);

/**
 * The Parquet schema for `schema`. `jsonPaths` are the Parquet paths of string leaves written with the
 * JSON logical type. Throws PARQUET_SCHEMA_MISMATCH for a schema `directWriterSupports` refuses, or a JSON
 * path that names no string leaf.
 */
export function directParquetSchema(schema: Schema, jsonPaths: readonly (readonly string[])[] = []): DirectParquetSchema {
  const support = directWriterSupports(schema);
  if (!support.ok) throw new ParquetError(ParquetErrorCodes.PARQUET_SCHEMA_MISMATCH, support.reason);
  const json = new Set(jsonPaths.map(pathKey));
  const used = new Set<string>();
  const elements: SchemaElement[] = [{ name: 'schema', numChildren: schema.fields.length }];
  const leaves: LeafColumn[] = [];
  schema.fields.forEach((field, index) => {
    const leaf = leafTypeOf(field) as { type: DataType; list: boolean };
    const physicalType = physicalTypeOf(leaf.type)!;
    const path = leaf.list ? [field.name, 'list', 'element'] : [field.name];
    const isJson = json.has(pathKey(path));
    if (isJson) {
      if (physicalType !== 'BYTE_ARRAY') {
        throw new ParquetError(ParquetErrorCodes.PARQUET_SCHEMA_MISMATCH, `JSON path ${path.join('.')} is a ${String(leaf.type)} leaf, not a string`, {
          context: { column: field.name },
        });
      }
      used.add(pathKey(path));
    }
    const leafElement: SchemaElement = { name: path[path.length - 1]!, type: physicalType, repetitionType: 'OPTIONAL' };
    annotate(leafElement, leaf.type, isJson);
    const fieldId = fieldIdOf(field) as number | undefined;
    let leafId = fieldId;
    if (leaf.list) {
      const elementField = (field.type as DataType).children[0]!;
      leafId = fieldIdOf(elementField) as number | undefined;
      elements.push(
        withId({ name: field.name, repetitionType: 'OPTIONAL', numChildren: 1, convertedType: 'LIST', logicalType: { type: 'LIST' } }, fieldId),
        { name: 'list', repetitionType: 'REPEATED', numChildren: 1 },
      );
    }
    elements.push(withId(leafElement, leafId));
    const descriptor: LeafColumn = {
      index, name: field.name, path, physicalType, valueType: leaf.type,
      maxDefinitionLevel: leaf.list ? 3 : 1, maxRepetitionLevel: leaf.list ? 1 : 0, listElement: leaf.list, json: isJson,
      ...(leafId === undefined ? {} : { fieldId: leafId }),
    };
    leaves.push(descriptor);
  });
  const unmatched = jsonPaths.find((p) => !used.has(pathKey(p)));
  if (unmatched !== undefined) {
    throw new ParquetError(ParquetErrorCodes.PARQUET_SCHEMA_MISMATCH, `JSON path ${unmatched.join('.')} names no column of the schema`, {
      context: { column: unmatched[0] },
    });
  }
  return { elements, leaves };
}
