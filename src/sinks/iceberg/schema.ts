/**
 * The table's Iceberg schema vs the segment's Pinot columns: what may be written, with which field ids.
 *
 * | Pinot column                 | Iceberg column type accepted                  | written as (pipeline TableSchema)          |
 * |------------------------------|-----------------------------------------------|--------------------------------------------|
 * | INT                          | int, long                                     | INT / LONG (widened)                       |
 * | LONG                         | long                                          | LONG                                       |
 * | FLOAT                        | float, double                                 | FLOAT / DOUBLE (widened)                   |
 * | DOUBLE                       | double                                        | DOUBLE                                     |
 * | BOOLEAN                      | boolean                                       | BOOLEAN                                    |
 * | TIMESTAMP                    | timestamp, timestamptz (µs)                   | TIMESTAMP (MICROS with target 'iceberg')   |
 * | STRING                       | string                                        | STRING                                     |
 * | JSON                         | string; struct (json.maxDepth set)            | STRING; JSON shredded to the table's shape |
 * | MAP                          | string                                        | MAP (JSON text)                            |
 * | BYTES                        | binary                                        | BYTES                                      |
 * | BIG_DECIMAL                  | decimal(P,S) = decimal.precision/scale; string without them | BIG_DECIMAL            |
 * | multi-value X                | list<element accepted for X>                  | multi-value                                |
 *
 * Refused up front: a partitioned table, a default file format other than Parquet, a format version other
 * than 2 (ICEBERG_TABLE_UNSUPPORTED); a type pair not in the table, a required Iceberg column the segment
 * lacks, a JSON struct deeper than json.maxDepth or with member types JSON cannot produce
 * (ICEBERG_SCHEMA_MISMATCH). Table columns the segment lacks are written as nulls (or, when the pipeline
 * cannot write a null column of that type — struct, map, date, uuid …, left out, which Iceberg readers also
 * read as null); segment columns the table lacks are dropped with a warning naming them.
 */
import { ErrorCodes, ExporterError } from '../../errors.js';
import type { JsonShape } from '../../pipeline/json-shredding.js';
import { DEFAULT_JSON_UNKNOWN_KEYS, type DecimalSpec, type JsonUnknownKeysBehavior } from '../../pipeline/parquet-options.js';
import type { FieldIdResolver } from '../../pipeline/schema-mapping.js';
import type { TableColumn, TableSchema } from '../../pipeline/table-schema.js';
import type { DataType } from '../../sources/pinot/types.js';
import { parsePrimitiveType, primitiveTypeName, type PrimitiveType } from './single-value.js';
import type {
  IcebergType as MdType, NestedField as MdField, Schema as MdSchema, TableMetadata,
} from './table-metadata.js';

// ---------------------------------------------------------------------------------------------------------
// Iceberg schema JSON (spec Appendix C), structural until table-metadata.ts exports its own types.

export type IcebergType = string | IcebergStructType | IcebergListType | IcebergMapType;

export interface IcebergField {
  id: number;
  name: string;
  required: boolean;
  type: IcebergType;
  doc?: string;
  'initial-default'?: unknown;
  'write-default'?: unknown;
}

export interface IcebergStructType {
  type: 'struct';
  fields: IcebergField[];
}

export interface IcebergListType {
  type: 'list';
  'element-id': number;
  'element-required': boolean;
  element: IcebergType;
}

export interface IcebergMapType {
  type: 'map';
  'key-id': number;
  key: IcebergType;
  'value-id': number;
  'value-required': boolean;
  value: IcebergType;
}

export interface IcebergSchema extends IcebergStructType {
  'schema-id': number;
  'identifier-field-ids'?: number[];
}

/** What schema checks need from the table metadata. */
export interface IcebergTableView {
  /** For messages: `namespace.table`. */
  name: string;
  formatVersion: number;
  schema: IcebergSchema;
  /** Fields of the default partition spec. */
  partitionFields: readonly unknown[];
  properties: Readonly<Record<string, string>>;
  /** The table has encryption keys (data files would need key metadata we do not write). */
  encrypted?: boolean;
}

export type JsonUnknownKeys = JsonUnknownKeysBehavior;

export interface SegmentColumn {
  name: string;
  dataType: DataType;
  singleValue: boolean;
}

export interface IcebergWriteOptions {
  /** `fileFormat.parquet.json.maxDepth`; JSON → struct needs it. */
  jsonMaxDepth?: number;
  /** `fileFormat.parquet.decimal.precision/scale`; BIG_DECIMAL → decimal needs them equal to the column's. */
  decimal?: DecimalSpec;
  /** `fileFormat.parquet.json.unknownKeysBehavior` (default fail): JSON keys the table's struct lacks. */
  jsonUnknownKeys?: JsonUnknownKeys;
}

export interface IcebergWritePlan {
  /** Give this to the Parquet stage (`tableSchema`): the file's columns in table order. */
  tableSchema: TableSchema;
  /** Give this to the Parquet stage (`fieldIds`). */
  fieldIds: FieldIdResolver;
  /** JSON columns written as structs: the shape the table prescribes (use instead of inferring one). */
  jsonShapes: Map<string, JsonShape>;
  /** What the Parquet stage does with JSON keys a struct of `jsonShapes` lacks (its `onUnknownJsonKey`). */
  jsonUnknownKeys: JsonUnknownKeys;
  /**
   * TIMESTAMP columns whose Iceberg type is `timestamp` (no zone): Parquet wants isAdjustedToUTC=false there,
   * `timestamptz` columns true. Give this to the Parquet stage (`timestampWithoutZone`).
   */
  timestampWithoutZone: string[];
  /** Segment columns the table lacks (not written). */
  dropped: string[];
  /** Table columns the segment lacks, written as all-null columns. */
  nullColumns: string[];
  /** Table columns the segment lacks whose type the pipeline cannot write as nulls: left out of the file. */
  omitted: string[];
  /** One line per dropped / omitted column, for the log. */
  warnings: string[];
}

function schemaError(table: string, column: string | undefined, detail: string): ExporterError {
  return new ExporterError(ErrorCodes.ICEBERG_SCHEMA_MISMATCH, `Iceberg table ${table}: ${detail}`, {
    context: column === undefined ? { table } : { table, column },
  });
}

function unsupported(table: string, detail: string, key?: string): ExporterError {
  return new ExporterError(ErrorCodes.ICEBERG_TABLE_UNSUPPORTED, `Iceberg table ${table}: ${detail}`, {
    context: key === undefined ? { table } : { table, key },
  });
}

export function typeText(t: IcebergType): string {
  if (typeof t === 'string') return t;
  if (t.type === 'list') return `list<${typeText(t.element)}>`;
  if (t.type === 'map') return `map<${typeText(t.key)}, ${typeText(t.value)}>`;
  return `struct<${t.fields.map((f) => `${f.name}: ${typeText(f.type)}`).join(', ')}>`;
}

/** Refuses tables this exporter cannot append to: partitioned, not Parquet, encrypted, format version other than 2. */
export function checkTableWritable(table: IcebergTableView): void {
  if (table.formatVersion !== 2) {
    throw unsupported(table.name, `format version ${table.formatVersion} is not supported; the exporter appends to format-version 2 tables`);
  }
  if (table.encrypted) throw unsupported(table.name, 'the table uses encryption keys; writing encrypted data files is not supported');
  if (table.partitionFields.length > 0) {
    throw unsupported(table.name, `the table is partitioned (${table.partitionFields.length} partition fields in the default spec); only unpartitioned tables are supported`);
  }
  const format = table.properties['write.format.default'];
  if (format !== undefined && format.trim().toLowerCase() !== 'parquet') {
    throw unsupported(table.name, `write.format.default is ${JSON.stringify(format)}; only parquet is supported`, 'write.format.default');
  }
}

/** Pinot types whose values fit an Iceberg primitive, and what the pipeline writes for them. */
function primitiveFor(pinot: DataType, t: PrimitiveType, options: IcebergWriteOptions): DataType | string {
  switch (pinot) {
    case 'INT':
      if (t.kind === 'int') return 'INT';
      if (t.kind === 'long') return 'LONG';
      break;
    case 'LONG': if (t.kind === 'long') return 'LONG'; break;
    case 'FLOAT':
      if (t.kind === 'float') return 'FLOAT';
      if (t.kind === 'double') return 'DOUBLE';
      break;
    case 'DOUBLE': if (t.kind === 'double') return 'DOUBLE'; break;
    case 'BOOLEAN': if (t.kind === 'boolean') return 'BOOLEAN'; break;
    case 'TIMESTAMP': if (t.kind === 'timestamp' || t.kind === 'timestamptz') return 'TIMESTAMP'; break;
    case 'STRING': if (t.kind === 'string') return 'STRING'; break;
    case 'JSON': if (t.kind === 'string') return 'STRING'; break;
    case 'MAP': if (t.kind === 'string') return 'MAP'; break;
    case 'BYTES': if (t.kind === 'binary') return 'BYTES'; break;
    case 'BIG_DECIMAL':
      if (t.kind === 'string' && !options.decimal) return 'BIG_DECIMAL';
      if (t.kind === 'decimal') {
        const d = options.decimal;
        if (d && d.precision === t.precision && d.scale === t.scale) return 'BIG_DECIMAL';
        return d
          ? `needs fileFormat.parquet.decimal.precision/scale = ${t.precision}/${t.scale} (configured: ${d.precision}/${d.scale})`
          : `needs fileFormat.parquet.decimal.precision = ${t.precision} and fileFormat.parquet.decimal.scale = ${t.scale}`;
      }
      break;
    default: break;
  }
  return '';
}

/** Pinot type for a table column the segment lacks (written as nulls), or undefined when it cannot be. */
function nullColumnType(t: PrimitiveType, options: IcebergWriteOptions): DataType | undefined {
  switch (t.kind) {
    case 'int': return 'INT';
    case 'long': return 'LONG';
    case 'float': return 'FLOAT';
    case 'double': return 'DOUBLE';
    case 'boolean': return 'BOOLEAN';
    case 'timestamp': case 'timestamptz': return 'TIMESTAMP';
    case 'string': return 'STRING';
    case 'binary': return 'BYTES';
    case 'decimal': return options.decimal?.precision === t.precision && options.decimal.scale === t.scale ? 'BIG_DECIMAL' : undefined;
    default: return undefined;
  }
}

/** The JSON shape a struct column prescribes; throws naming the member when JSON cannot produce it. */
export function jsonShapeOf(table: string, column: string, t: IcebergType, depth: number, maxDepth: number, path: string): JsonShape {
  if (typeof t === 'string') {
    const p = parsePrimitiveType(t);
    switch (p?.kind) {
      case 'string': return { kind: 'string' };
      case 'boolean': return { kind: 'boolean' };
      case 'long': return { kind: 'int64' };
      case 'double': return { kind: 'double' };
      default:
        throw schemaError(table, column, `JSON member ${path} has Iceberg type ${t}; JSON shredding writes only string, boolean, long and double members`);
    }
  }
  if (t.type === 'map') throw schemaError(table, column, `JSON member ${path} is a map; JSON shredding writes structs and lists only`);
  if (depth >= maxDepth) {
    throw schemaError(table, column, `JSON member ${path} is a ${t.type} at depth ${depth}, deeper than fileFormat.parquet.json.maxDepth = ${maxDepth}`);
  }
  if (t.type === 'list') return { kind: 'list', element: jsonShapeOf(table, column, t.element, depth + 1, maxDepth, `${path}.element`) };
  const fields = new Map<string, JsonShape>();
  for (const f of t.fields) fields.set(f.name, jsonShapeOf(table, column, f.type, depth + 1, maxDepth, `${path}.${f.name}`));
  return { kind: 'struct', fields };
}

interface Mapped {
  dataType: DataType;
  singleValue: boolean;
  jsonShape?: JsonShape;
}

function mapPresent(table: string, seg: SegmentColumn, field: IcebergField, options: IcebergWriteOptions): Mapped {
  const mismatch = (why = ''): never => {
    throw schemaError(table, seg.name,
      `column ${seg.name} is ${seg.singleValue ? '' : 'multi-value '}${seg.dataType} in the segment but ${typeText(field.type)} in the table${why ? `: ${why}` : ''}`);
  };
  let valueType: IcebergType = field.type;
  if (!seg.singleValue) {
    if (typeof field.type === 'string' || field.type.type !== 'list') return mismatch('a multi-value column needs a list');
    valueType = field.type.element;
  }
  if (typeof valueType === 'string') {
    const p = parsePrimitiveType(valueType);
    if (!p) return mismatch(`unknown Iceberg type ${valueType}`);
    const r = primitiveFor(seg.dataType, p, options);
    if (r === '' || !isDataType(r)) return mismatch(r);
    return { dataType: r, singleValue: seg.singleValue };
  }
  if (valueType.type === 'struct' && seg.dataType === 'JSON' && seg.singleValue) {
    const depth = options.jsonMaxDepth;
    if (depth === undefined) return mismatch('writing JSON as a struct needs fileFormat.parquet.json.maxDepth');
    return { dataType: 'JSON', singleValue: true, jsonShape: jsonShapeOf(table, seg.name, valueType, 0, depth, seg.name) };
  }
  return mismatch();
}

const DATA_TYPES = new Set(['INT', 'LONG', 'FLOAT', 'DOUBLE', 'BIG_DECIMAL', 'BOOLEAN', 'TIMESTAMP', 'STRING', 'JSON', 'BYTES', 'MAP']);
function isDataType(s: string): s is DataType {
  return DATA_TYPES.has(s);
}

function mapMissing(table: string, field: IcebergField, options: IcebergWriteOptions): Mapped | undefined {
  if (field.required) {
    throw schemaError(table, field.name, `required column ${field.name} (${typeText(field.type)}) is not in the segment, so it cannot be filled`);
  }
  if (typeof field.type === 'string') {
    const p = parsePrimitiveType(field.type);
    const t = p && nullColumnType(p, options);
    return t && { dataType: t, singleValue: true };
  }
  if (field.type.type === 'list' && typeof field.type.element === 'string') {
    const p = parsePrimitiveType(field.type.element);
    const t = p && nullColumnType(p, options);
    return t && { dataType: t, singleValue: false };
  }
  return undefined;
}

/** Resolves `path` (column, then `element` / `key` / `value` / struct member names) to an Iceberg field id. */
export function fieldIdResolver(schema: IcebergStructType): FieldIdResolver {
  return (path) => {
    let fields: IcebergField[] | undefined = schema.fields;
    let type: IcebergType | undefined;
    let id: number | undefined;
    for (const [i, part] of path.entries()) {
      if (i === 0 || (type !== undefined && typeof type !== 'string' && type.type === 'struct')) {
        const f: IcebergField | undefined = (i === 0 ? fields : (type as IcebergStructType).fields)?.find((x) => x.name === part);
        if (!f) return undefined;
        id = f.id;
        type = f.type;
        fields = undefined;
      } else if (type !== undefined && typeof type !== 'string' && type.type === 'list' && part === 'element') {
        id = type['element-id'];
        type = type.element;
      } else if (type !== undefined && typeof type !== 'string' && type.type === 'map' && (part === 'key' || part === 'value')) {
        id = part === 'key' ? type['key-id'] : type['value-id'];
        type = part === 'key' ? type.key : type.value;
      } else {
        return undefined;
      }
    }
    return id;
  };
}

/**
 * Checks the segment's columns against the table's current schema and plans the file: columns in table order
 * with the table's field ids. Throws ICEBERG_TABLE_UNSUPPORTED / ICEBERG_SCHEMA_MISMATCH naming the table,
 * column and both types.
 */
export function planIcebergWrite(table: IcebergTableView, segment: readonly SegmentColumn[], options: IcebergWriteOptions = {}): IcebergWritePlan {
  checkTableWritable(table);
  const bySegment = new Map(segment.map((c) => [c.name, c]));
  const tableNames = new Set(table.schema.fields.map((f) => f.name));
  const columns: TableColumn[] = [];
  const jsonShapes = new Map<string, JsonShape>();
  const nullColumns: string[] = [];
  const omitted: string[] = [];
  const warnings: string[] = [];
  for (const field of table.schema.fields) {
    const seg = bySegment.get(field.name);
    const mapped = seg ? mapPresent(table.name, seg, field, options) : mapMissing(table.name, field, options);
    if (!mapped) {
      omitted.push(field.name);
      warnings.push(`Iceberg table ${table.name}: column ${field.name} (${typeText(field.type)}) is not in the segment; it is left out of the file and reads as null`);
      continue;
    }
    if (!seg) nullColumns.push(field.name);
    if (mapped.jsonShape) jsonShapes.set(field.name, mapped.jsonShape);
    columns.push({ name: field.name, dataType: mapped.dataType, singleValue: mapped.singleValue, fieldType: 'DIMENSION' });
  }
  const dropped = segment.filter((c) => !tableNames.has(c.name)).map((c) => c.name);
  if (dropped.length > 0) warnings.push(`Iceberg table ${table.name} has no column ${dropped.join(', ')}; not written`);
  if (columns.length === 0) throw schemaError(table.name, undefined, 'no column of the table can be written from the segment');
  return {
    // `json` becomes the file's `pinot.schema` entry: a Pinot schema of what the file holds.
    tableSchema: {
      name: table.name,
      columns,
      json: {
        schemaName: table.name,
        dimensionFieldSpecs: columns.map((c) => ({ name: c.name, dataType: c.dataType, ...(c.singleValue ? {} : { singleValueField: false }) })),
      },
    },
    fieldIds: fieldIdResolver(table.schema),
    jsonShapes,
    jsonUnknownKeys: options.jsonUnknownKeys ?? DEFAULT_JSON_UNKNOWN_KEYS,
    timestampWithoutZone: table.schema.fields
      .filter((f) => columns.some((c) => c.name === f.name && c.dataType === 'TIMESTAMP'))
      .filter((f) => (typeof f.type === 'string' ? f.type : typeof f.type === 'object' && f.type.type === 'list' ? f.type.element : '') === 'timestamp')
      .map((f) => f.name),
    dropped,
    nullColumns,
    omitted,
    warnings,
  };
}

/** Field id → primitive type of every primitive field (nested ones too), with whether it sits under a list/map. */
export interface PrimitiveField {
  id: number;
  /** Dotted name as Java's MetricsConfig uses it (`a.b`, lists/maps as `a.element`, `m.key`). */
  name: string;
  type: PrimitiveType;
  /** Inside a list or map: repeated, so Java keeps no counts or bounds for it. */
  repeated: boolean;
}

/** Every primitive field in schema order (depth first), as Java's metrics visit them. */
export function primitiveFields(schema: IcebergStructType): PrimitiveField[] {
  const out: PrimitiveField[] = [];
  const visit = (t: IcebergType, id: number, name: string, repeated: boolean): void => {
    if (typeof t === 'string') {
      const p = parsePrimitiveType(t);
      if (p) out.push({ id, name, type: p, repeated });
      return;
    }
    if (t.type === 'struct') for (const f of t.fields) visit(f.type, f.id, `${name}.${f.name}`, repeated);
    else if (t.type === 'list') visit(t.element, t['element-id'], `${name}.element`, true);
    else {
      visit(t.key, t['key-id'], `${name}.key`, true);
      visit(t.value, t['value-id'], `${name}.value`, true);
    }
  };
  for (const f of schema.fields) visit(f.type, f.id, f.name, false);
  return out;
}

export { primitiveTypeName };

/** The Iceberg schema JSON for the Parquet key-value entry `iceberg.schema` (icebird maps ids to names with it). */
export function icebergSchemaJson(schema: IcebergSchema): string {
  return JSON.stringify(schema);
}

// ---------------------------------------------------------------------------------------------------------
// Adapters from the parsed table metadata (table-metadata.ts, camelCase) to the JSON spelling used here.

function typeFromMetadata(t: MdType): IcebergType {
  if (typeof t === 'string') return t;
  if (t.type === 'struct') return { type: 'struct', fields: t.fields.map(fieldFromMetadata) };
  if (t.type === 'list') return { type: 'list', 'element-id': t.elementId, 'element-required': t.elementRequired, element: typeFromMetadata(t.element) };
  return {
    type: 'map', 'key-id': t.keyId, key: typeFromMetadata(t.key), 'value-id': t.valueId, 'value-required': t.valueRequired, value: typeFromMetadata(t.value),
  };
}

function fieldFromMetadata(f: MdField): IcebergField {
  const out: IcebergField = { id: f.id, name: f.name, required: f.required, type: typeFromMetadata(f.type) };
  if (f.doc !== undefined) out.doc = f.doc;
  if (f.initialDefault !== undefined) out['initial-default'] = f.initialDefault;
  if (f.writeDefault !== undefined) out['write-default'] = f.writeDefault;
  return out;
}

/** A parsed metadata schema in its JSON spelling (as the manifest header and `iceberg.schema` carry it). */
export function schemaFromMetadata(s: MdSchema): IcebergSchema {
  const out: IcebergSchema = { type: 'struct', 'schema-id': s.schemaId, fields: s.fields.map(fieldFromMetadata) };
  if (s.identifierFieldIds.length > 0) out['identifier-field-ids'] = [...s.identifierFieldIds];
  return out;
}

/** The view planIcebergWrite needs, from parsed table metadata. `name` is for messages (`namespace.table`). */
export function tableViewFromMetadata(md: TableMetadata, name: string): IcebergTableView {
  const schema = md.schemas.find((s) => s.schemaId === md.currentSchemaId);
  const spec = md.partitionSpecs.find((s) => s.specId === md.defaultSpecId);
  if (!schema || !spec) {
    throw new ExporterError(ErrorCodes.ICEBERG_METADATA_INVALID, `Iceberg table ${name}: the current schema or default partition spec is missing`, { context: { table: name } });
  }
  return {
    name, formatVersion: md.formatVersion, schema: schemaFromMetadata(schema), partitionFields: spec.fields, properties: md.properties, encrypted: md.encrypted,
  };
}
