/**
 * The parts of a Pinot schema (`schema.json`, as the controller serves it) that decide the Parquet schema:
 * column names, data types, single/multi-value and field types, in Pinot's column order (dimensions,
 * metrics, the legacy time field, date-time fields, complex fields — the order segment metadata lists them).
 * Also the reverse: a Pinot schema JSON describing a segment's own columns, for the file metadata.
 */
import { ConfigError, ErrorCodes } from '../errors.js';
import type { ColumnMetadata, SegmentMetadata } from '../sources/pinot/metadata.js';
import type { DataType, FieldType } from '../sources/pinot/types.js';

export interface TableColumn {
  name: string;
  dataType: DataType;
  singleValue: boolean;
  fieldType: FieldType;
}

export interface TableSchema {
  name?: string;
  columns: TableColumn[];
  /** The schema JSON as given, written into the Parquet key-value metadata. */
  json: unknown;
}

const DATA_TYPES: ReadonlySet<string> = new Set<DataType>([
  'INT', 'LONG', 'FLOAT', 'DOUBLE', 'BIG_DECIMAL', 'BOOLEAN', 'TIMESTAMP', 'STRING', 'JSON', 'BYTES', 'MAP',
]);

type SpecJson = { name?: unknown; dataType?: unknown; singleValueField?: unknown; format?: unknown; granularity?: unknown };

function bad(detail: string, key?: string): ConfigError {
  return new ConfigError(ErrorCodes.CONFIG_INVALID, `Pinot schema: ${detail}`, key === undefined ? {} : { context: { key } });
}

function specsOf(json: Record<string, unknown>, key: string): SpecJson[] {
  const v = json[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(`${key} must be an array`, key);
  return v as SpecJson[];
}

function column(spec: SpecJson, fieldType: FieldType, key: string): TableColumn {
  if (typeof spec !== 'object' || spec === null || typeof spec.name !== 'string' || spec.name.length === 0) {
    throw bad(`an entry of ${key} has no name`, key);
  }
  const dataType = typeof spec.dataType === 'string' ? spec.dataType.toUpperCase() : undefined;
  if (dataType === undefined || !DATA_TYPES.has(dataType)) {
    throw bad(`column ${spec.name} has dataType ${JSON.stringify(spec.dataType)}; supported: ${[...DATA_TYPES].join(', ')}`, key);
  }
  const singleValue = spec.singleValueField === undefined ? true : spec.singleValueField === true || spec.singleValueField === 'true';
  return { name: spec.name, dataType: dataType as DataType, singleValue, fieldType };
}

/** Parses a Pinot schema JSON object. Errors name the offending entry; duplicate column names are refused. */
export function parseTableSchema(json: unknown): TableSchema {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('expected a JSON object');
  const obj = json as Record<string, unknown>;
  const columns: TableColumn[] = [
    ...specsOf(obj, 'dimensionFieldSpecs').map((s) => column(s, 'DIMENSION', 'dimensionFieldSpecs')),
    ...specsOf(obj, 'metricFieldSpecs').map((s) => column(s, 'METRIC', 'metricFieldSpecs')),
  ];
  const time = obj.timeFieldSpec as { incomingGranularitySpec?: SpecJson; outgoingGranularitySpec?: SpecJson } | undefined;
  if (time) {
    const spec = time.outgoingGranularitySpec ?? time.incomingGranularitySpec;
    if (!spec) throw bad('timeFieldSpec has no incomingGranularitySpec', 'timeFieldSpec');
    columns.push(column(spec, 'TIME', 'timeFieldSpec'));
  }
  columns.push(...specsOf(obj, 'dateTimeFieldSpecs').map((s) => column(s, 'DATE_TIME', 'dateTimeFieldSpecs')));
  columns.push(...specsOf(obj, 'complexFieldSpecs').map((s) => column(s, 'COMPLEX', 'complexFieldSpecs')));
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name)) throw bad(`column ${c.name} is declared twice`);
    seen.add(c.name);
  }
  if (columns.length === 0) throw bad('no columns');
  return { name: typeof obj.schemaName === 'string' ? obj.schemaName : undefined, columns, json };
}

const SPEC_LIST: Record<FieldType, string> = {
  DIMENSION: 'dimensionFieldSpecs', METRIC: 'metricFieldSpecs', TIME: 'dateTimeFieldSpecs', DATE_TIME: 'dateTimeFieldSpecs',
  COMPLEX: 'complexFieldSpecs',
};

/** A Pinot schema JSON for a segment's columns (when no table schema is given), in segment column order. */
export function segmentSchemaJson(segment: SegmentMetadata, columns: readonly ColumnMetadata[]): Record<string, unknown> {
  const out: Record<string, unknown[]> = {};
  for (const c of columns) {
    const spec: Record<string, unknown> = { name: c.name, dataType: c.dataType };
    if (!c.singleValue) spec.singleValueField = false;
    if (c.fieldType === 'TIME' || c.fieldType === 'DATE_TIME') {
      spec.format = c.datetimeFormat ?? (segment.timeUnit ? `1:${segment.timeUnit}:EPOCH` : undefined);
      spec.granularity = c.datetimeGranularity ?? (segment.timeUnit ? `1:${segment.timeUnit}` : undefined);
    }
    (out[SPEC_LIST[c.fieldType]] ??= []).push(spec);
  }
  return { schemaName: segment.tableName ?? segment.name, ...out };
}
