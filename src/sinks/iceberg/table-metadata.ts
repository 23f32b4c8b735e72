/**
 * Iceberg table metadata (spec "Table Metadata Fields", format versions 1–3) as the exporter reads it from
 * LoadTable / CommitTable responses or a metadata.json file, with a validating parser that names the bad
 * field (`schemas[1].fields[3].type`) and helpers for what an append needs.
 *
 * 64-bit values (snapshot ids, sequence numbers, row ids) are `bigint`; Java-written v1/v2 metadata uses
 * `current-snapshot-id: -1` for "no snapshot", which becomes `undefined`. No I/O here.
 */
import { ErrorCodes, type ErrorContext } from '../../errors.js';
import { IcebergError } from './errors.js';
import { parseJson } from './json.js';

export type FormatVersion = 1 | 2 | 3;

/** A primitive type in its JSON spelling: `long`, `decimal(9,2)`, `fixed[16]`, `timestamptz` … */
export type PrimitiveType = string;
export type IcebergType = PrimitiveType | StructType | ListType | MapType;

export interface NestedField {
  id: number;
  name: string;
  required: boolean;
  type: IcebergType;
  doc?: string;
  initialDefault?: unknown;
  writeDefault?: unknown;
}

export interface StructType {
  type: 'struct';
  fields: NestedField[];
}

export interface ListType {
  type: 'list';
  elementId: number;
  elementRequired: boolean;
  element: IcebergType;
}

export interface MapType {
  type: 'map';
  keyId: number;
  key: IcebergType;
  valueId: number;
  valueRequired: boolean;
  value: IcebergType;
}

export interface Schema extends StructType {
  schemaId: number;
  identifierFieldIds: number[];
}

export interface PartitionField {
  sourceId: number;
  fieldId?: number;
  name: string;
  transform: string;
}

export interface PartitionSpec {
  specId: number;
  fields: PartitionField[];
}

export interface SortOrder {
  orderId: number;
  fields: unknown[];
}

export interface Snapshot {
  snapshotId: bigint;
  parentSnapshotId?: bigint;
  /** 0 for v1 tables, which have no sequence numbers. */
  sequenceNumber: bigint;
  timestampMs: number;
  /** Absent only in old v1 snapshots that list `manifests` inline. */
  manifestList?: string;
  manifests?: string[];
  /** Always has `operation` (v1 snapshots without a summary get `append`, as Java assumes). */
  summary: Record<string, string>;
  schemaId?: number;
  firstRowId?: bigint;
  addedRows?: bigint;
}

export interface SnapshotRef {
  snapshotId: bigint;
  type: 'branch' | 'tag';
  maxRefAgeMs?: bigint;
  maxSnapshotAgeMs?: bigint;
  minSnapshotsToKeep?: number;
}

export interface SnapshotLogEntry {
  snapshotId: bigint;
  timestampMs: number;
}

export interface MetadataLogEntry {
  metadataFile: string;
  timestampMs: number;
}

export interface TableMetadata {
  formatVersion: FormatVersion;
  /** Required from v2; optional in v1. */
  tableUuid?: string;
  location: string;
  lastSequenceNumber: bigint;
  lastUpdatedMs: number;
  lastColumnId: number;
  schemas: Schema[];
  currentSchemaId: number;
  partitionSpecs: PartitionSpec[];
  defaultSpecId: number;
  lastPartitionId?: number;
  properties: Record<string, string>;
  currentSnapshotId?: bigint;
  snapshots: Snapshot[];
  /** Always has `main` when there is a current snapshot (v1 tables without refs get it derived). */
  refs: Record<string, SnapshotRef>;
  snapshotLog: SnapshotLogEntry[];
  metadataLog: MetadataLogEntry[];
  sortOrders: SortOrder[];
  defaultSortOrderId?: number;
  nextRowId?: bigint;
  /** True when the table has encryption keys (the exporter refuses to write to such tables). */
  encrypted: boolean;
}

const PRIMITIVES = new Set([
  'boolean', 'int', 'long', 'float', 'double', 'date', 'time', 'timestamp', 'timestamptz', 'timestamp_ns',
  'timestamptz_ns', 'string', 'uuid', 'binary', 'variant', 'unknown',
]);
const PARAMETERISED = [
  /^decimal\(\s*\d+\s*,\s*-?\d+\s*\)$/,
  /^fixed\[\s*\d+\s*\]$/,
  /^geometry(\(.*\))?$/,
  /^geography(\(.*\))?$/,
];

/** Parses and validates metadata JSON text (a metadata.json file). */
export function parseTableMetadataJson(text: string, context: ErrorContext = {}): TableMetadata {
  let raw: unknown;
  try {
    raw = parseJson(text);
  } catch (err) {
    throw new IcebergError(ErrorCodes.ICEBERG_METADATA_INVALID, `table metadata is not valid JSON: ${(err as Error).message}`, {
      context,
      cause: err,
    });
  }
  return parseTableMetadata(raw, context);
}

/** Validates already-parsed (lossless) metadata JSON. */
export function parseTableMetadata(raw: unknown, context: ErrorContext = {}): TableMetadata {
  return new Reader(context).tableMetadata(raw);
}

/** Reads one JSON document, keeping the path of the field being read for error messages. */
class Reader {
  constructor(private readonly context: ErrorContext) {}

  fail(path: string, message: string): never {
    throw new IcebergError(ErrorCodes.ICEBERG_METADATA_INVALID, `table metadata field ${path} ${message}`, {
      context: { ...this.context, key: path },
    });
  }

  object(v: unknown, path: string): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(path, `must be an object, got ${describe(v)}`);
    return v as Record<string, unknown>;
  }

  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `must be an array, got ${describe(v)}`);
    return v;
  }

  string(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, `must be a string, got ${describe(v)}`);
    return v;
  }

  boolean(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, `must be true or false, got ${describe(v)}`);
    return v;
  }

  /** A 32-bit integer (ids, counts). */
  int(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
      this.fail(path, `must be a 32-bit integer, got ${describe(v)}`);
    }
    return v;
  }

  /** A 64-bit integer (snapshot ids, sequence numbers). */
  long(v: unknown, path: string): bigint {
    if (typeof v === 'bigint') {
      if (v < -(2n ** 63n) || v >= 2n ** 63n) this.fail(path, `is outside the 64-bit range: ${v}`);
      return v;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(path, `must be a 64-bit integer, got ${describe(v)}`);
    return BigInt(v);
  }

  /** Epoch milliseconds: safe as a number for the next 285,000 years. */
  millis(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) this.fail(path, `must be epoch milliseconds, got ${describe(v)}`);
    return v;
  }

  stringMap(v: unknown, path: string): Record<string, string> {
    const o = this.object(v, path);
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(o)) out[k] = this.string(val, `${path}.${k}`);
    return out;
  }

  optional<T>(o: Record<string, unknown>, key: string, path: string, read: (v: unknown, p: string) => T): T | undefined {
    const v = o[key];
    return v === undefined || v === null ? undefined : read.call(this, v, `${path}${path ? '.' : ''}${key}`);
  }

  required<T>(o: Record<string, unknown>, key: string, path: string, read: (v: unknown, p: string) => T): T {
    const p = `${path}${path ? '.' : ''}${key}`;
    if (o[key] === undefined || o[key] === null) this.fail(p, 'is required but missing');
    return read.call(this, o[key], p);
  }

  type(v: unknown, path: string): IcebergType {
    if (typeof v === 'string') {
      const t = v.trim();
      if (!PRIMITIVES.has(t) && !PARAMETERISED.some((re) => re.test(t))) this.fail(path, `has unknown type ${JSON.stringify(v)}`);
      return t;
    }
    const o = this.object(v, path);
    switch (o.type) {
      case 'struct':
        return this.struct(o, path);
      case 'list':
        return {
          type: 'list',
          elementId: this.required(o, 'element-id', path, this.int),
          elementRequired: this.required(o, 'element-required', path, this.boolean),
          element: this.required(o, 'element', path, this.type),
        };
      case 'map':
        return {
          type: 'map',
          keyId: this.required(o, 'key-id', path, this.int),
          key: this.required(o, 'key', path, this.type),
          valueId: this.required(o, 'value-id', path, this.int),
          valueRequired: this.required(o, 'value-required', path, this.boolean),
          value: this.required(o, 'value', path, this.type),
        };
      default:
        return this.fail(`${path}.type`, `must be struct, list or map, got ${describe(o.type)}`);
    }
  }

  struct(o: Record<string, unknown>, path: string): StructType {
    const fields = this.required(o, 'fields', path, this.array).map((f, i) => this.field(f, `${path}.fields[${i}]`));
    return { type: 'struct', fields };
  }

  field(v: unknown, path: string): NestedField {
    const o = this.object(v, path);
    const field: NestedField = {
      id: this.required(o, 'id', path, this.int),
      name: this.required(o, 'name', path, this.string),
      required: this.required(o, 'required', path, this.boolean),
      type: this.required(o, 'type', path, this.type),
    };
    const doc = this.optional(o, 'doc', path, this.string);
    if (doc !== undefined) field.doc = doc;
    if (o['initial-default'] !== undefined) field.initialDefault = o['initial-default'];
    if (o['write-default'] !== undefined) field.writeDefault = o['write-default'];
    return field;
  }

  schema(v: unknown, path: string): Schema {
    const o = this.object(v, path);
    if (o.type !== undefined && o.type !== 'struct') this.fail(`${path}.type`, `must be "struct", got ${describe(o.type)}`);
    const ids = this.optional(o, 'identifier-field-ids', path, this.array) ?? [];
    return {
      ...this.struct(o, path),
      schemaId: this.optional(o, 'schema-id', path, this.int) ?? 0,
      identifierFieldIds: ids.map((id, i) => this.int(id, `${path}.identifier-field-ids[${i}]`)),
    };
  }

  partitionField(v: unknown, path: string): PartitionField {
    const o = this.object(v, path);
    const f: PartitionField = {
      sourceId: this.required(o, 'source-id', path, this.int),
      name: this.required(o, 'name', path, this.string),
      transform: this.required(o, 'transform', path, this.string),
    };
    const fieldId = this.optional(o, 'field-id', path, this.int);
    if (fieldId !== undefined) f.fieldId = fieldId;
    return f;
  }

  partitionSpec(v: unknown, path: string): PartitionSpec {
    const o = this.object(v, path);
    return {
      specId: this.required(o, 'spec-id', path, this.int),
      fields: this.required(o, 'fields', path, this.array).map((f, i) => this.partitionField(f, `${path}.fields[${i}]`)),
    };
  }

  snapshot(v: unknown, path: string, formatVersion: FormatVersion): Snapshot {
    const o = this.object(v, path);
    const s: Snapshot = {
      snapshotId: this.required(o, 'snapshot-id', path, this.long),
      sequenceNumber: formatVersion === 1
        ? this.optional(o, 'sequence-number', path, this.long) ?? 0n
        : this.required(o, 'sequence-number', path, this.long),
      timestampMs: this.required(o, 'timestamp-ms', path, this.millis),
      summary: this.optional(o, 'summary', path, this.stringMap) ?? { operation: 'append' },
    };
    if (s.summary.operation === undefined) this.fail(`${path}.summary.operation`, 'is required but missing');
    const parent = this.optional(o, 'parent-snapshot-id', path, this.long);
    if (parent !== undefined) s.parentSnapshotId = parent;
    const manifestList = this.optional(o, 'manifest-list', path, this.string);
    if (manifestList !== undefined) s.manifestList = manifestList;
    const manifests = this.optional(o, 'manifests', path, this.array);
    if (manifests !== undefined) s.manifests = manifests.map((m, i) => this.string(m, `${path}.manifests[${i}]`));
    if (s.manifestList === undefined && (formatVersion > 1 || s.manifests === undefined)) {
      this.fail(`${path}.manifest-list`, 'is required but missing');
    }
    const schemaId = this.optional(o, 'schema-id', path, this.int);
    if (schemaId !== undefined) s.schemaId = schemaId;
    const firstRowId = this.optional(o, 'first-row-id', path, this.long);
    if (firstRowId !== undefined) s.firstRowId = firstRowId;
    const addedRows = this.optional(o, 'added-rows', path, this.long);
    if (addedRows !== undefined) s.addedRows = addedRows;
    return s;
  }

  ref(v: unknown, path: string): SnapshotRef {
    const o = this.object(v, path);
    const type = this.required(o, 'type', path, this.string);
    if (type !== 'branch' && type !== 'tag') this.fail(`${path}.type`, `must be "branch" or "tag", got ${JSON.stringify(type)}`);
    const ref: SnapshotRef = { snapshotId: this.required(o, 'snapshot-id', path, this.long), type };
    const maxRefAge = this.optional(o, 'max-ref-age-ms', path, this.long);
    if (maxRefAge !== undefined) ref.maxRefAgeMs = maxRefAge;
    const maxSnapshotAge = this.optional(o, 'max-snapshot-age-ms', path, this.long);
    if (maxSnapshotAge !== undefined) ref.maxSnapshotAgeMs = maxSnapshotAge;
    const minKeep = this.optional(o, 'min-snapshots-to-keep', path, this.int);
    if (minKeep !== undefined) ref.minSnapshotsToKeep = minKeep;
    return ref;
  }

  list<T>(o: Record<string, unknown>, key: string, read: (v: unknown, p: string) => T): T[] {
    return (this.optional(o, key, '', this.array) ?? []).map((e, i) => read.call(this, e, `${key}[${i}]`));
  }

  tableMetadata(v: unknown): TableMetadata {
    const o = this.object(v, '(root)');
    const fv = this.required(o, 'format-version', '', this.int);
    if (fv !== 1 && fv !== 2 && fv !== 3) this.fail('format-version', `must be 1, 2 or 3, got ${fv}`);
    const formatVersion: FormatVersion = fv;
    const v1 = formatVersion === 1;

    const tableUuid = v1 ? this.optional(o, 'table-uuid', '', this.string) : this.required(o, 'table-uuid', '', this.string);
    const schemas = this.schemas(o, v1);
    const currentSchemaId = this.optional(o, 'current-schema-id', '', this.int) ?? (v1 ? schemas[0]!.schemaId : this.required(o, 'current-schema-id', '', this.int));
    if (!schemas.some((s) => s.schemaId === currentSchemaId)) this.fail('current-schema-id', `names schema ${currentSchemaId}, which is not in schemas`);

    const partitionSpecs = this.partitionSpecs(o, v1);
    const defaultSpecId = this.optional(o, 'default-spec-id', '', this.int) ?? (v1 ? partitionSpecs[0]!.specId : this.required(o, 'default-spec-id', '', this.int));
    if (!partitionSpecs.some((s) => s.specId === defaultSpecId)) this.fail('default-spec-id', `names spec ${defaultSpecId}, which is not in partition-specs`);

    const snapshots = this.list(o, 'snapshots', (s, p) => this.snapshot(s, p, formatVersion));
    let currentSnapshotId = this.optional(o, 'current-snapshot-id', '', this.long);
    if (currentSnapshotId === -1n) currentSnapshotId = undefined;
    const refs = this.refs(o, currentSnapshotId);
    for (const [name, ref] of Object.entries(refs)) {
      if (!snapshots.some((s) => s.snapshotId === ref.snapshotId)) this.fail(`refs.${name}.snapshot-id`, `names snapshot ${ref.snapshotId}, which is not in snapshots`);
    }

    const md: TableMetadata = {
      formatVersion,
      location: this.required(o, 'location', '', this.string),
      lastSequenceNumber: v1 ? this.optional(o, 'last-sequence-number', '', this.long) ?? 0n : this.required(o, 'last-sequence-number', '', this.long),
      lastUpdatedMs: this.required(o, 'last-updated-ms', '', this.millis),
      lastColumnId: this.required(o, 'last-column-id', '', this.int),
      schemas,
      currentSchemaId,
      partitionSpecs,
      defaultSpecId,
      properties: this.optional(o, 'properties', '', this.stringMap) ?? {},
      snapshots,
      refs,
      snapshotLog: this.list(o, 'snapshot-log', (e, p) => {
        const eo = this.object(e, p);
        return { snapshotId: this.required(eo, 'snapshot-id', p, this.long), timestampMs: this.required(eo, 'timestamp-ms', p, this.millis) };
      }),
      metadataLog: this.list(o, 'metadata-log', (e, p) => {
        const eo = this.object(e, p);
        return { metadataFile: this.required(eo, 'metadata-file', p, this.string), timestampMs: this.required(eo, 'timestamp-ms', p, this.millis) };
      }),
      sortOrders: this.list(o, 'sort-orders', (e, p) => {
        const eo = this.object(e, p);
        return { orderId: this.required(eo, 'order-id', p, this.int), fields: this.required(eo, 'fields', p, this.array) };
      }),
      encrypted: (this.optional(o, 'encryption-keys', '', this.array) ?? []).length > 0,
    };
    if (tableUuid !== undefined) md.tableUuid = tableUuid;
    if (currentSnapshotId !== undefined) md.currentSnapshotId = currentSnapshotId;
    const lastPartitionId = this.optional(o, 'last-partition-id', '', this.int);
    if (lastPartitionId !== undefined) md.lastPartitionId = lastPartitionId;
    const defaultSortOrderId = this.optional(o, 'default-sort-order-id', '', this.int);
    if (defaultSortOrderId !== undefined) md.defaultSortOrderId = defaultSortOrderId;
    const nextRowId = formatVersion === 3 ? this.required(o, 'next-row-id', '', this.long) : undefined;
    if (nextRowId !== undefined) md.nextRowId = nextRowId;
    return md;
  }

  schemas(o: Record<string, unknown>, v1: boolean): Schema[] {
    if (o.schemas === undefined && v1) return [this.required(o, 'schema', '', this.schema)];
    const schemas = this.required(o, 'schemas', '', this.array).map((s, i) => this.schema(s, `schemas[${i}]`));
    if (schemas.length === 0) this.fail('schemas', 'must not be empty');
    return schemas;
  }

  partitionSpecs(o: Record<string, unknown>, v1: boolean): PartitionSpec[] {
    if (o['partition-specs'] === undefined && v1) {
      const fields = this.required(o, 'partition-spec', '', this.array).map((f, i) => this.partitionField(f, `partition-spec[${i}]`));
      return [{ specId: 0, fields }];
    }
    const specs = this.required(o, 'partition-specs', '', this.array).map((s, i) => this.partitionSpec(s, `partition-specs[${i}]`));
    if (specs.length === 0) this.fail('partition-specs', 'must not be empty');
    return specs;
  }

  refs(o: Record<string, unknown>, currentSnapshotId: bigint | undefined): Record<string, SnapshotRef> {
    const refs: Record<string, SnapshotRef> = {};
    const raw = this.optional(o, 'refs', '', this.object) ?? {};
    for (const [name, r] of Object.entries(raw)) refs[name] = this.ref(r, `refs.${name}`);
    // Tables written before refs existed: `main` is the current snapshot (spec "Snapshot References").
    if (refs.main === undefined && currentSnapshotId !== undefined) refs.main = { snapshotId: currentSnapshotId, type: 'branch' };
    return refs;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return `${typeof v} ${String(v)}`;
}

// ---- helpers for an append ----

export function currentSchema(md: TableMetadata): Schema {
  // The parser guarantees the current schema exists.
  return md.schemas.find((s) => s.schemaId === md.currentSchemaId)!;
}

export function defaultSpec(md: TableMetadata): PartitionSpec {
  return md.partitionSpecs.find((s) => s.specId === md.defaultSpecId)!;
}

export function snapshotById(md: TableMetadata, id: bigint): Snapshot | undefined {
  return md.snapshots.find((s) => s.snapshotId === id);
}

/** The snapshot the `main` branch points at; `undefined` for a table without data. */
export function mainSnapshot(md: TableMetadata): Snapshot | undefined {
  const ref = md.refs.main;
  return ref === undefined ? undefined : snapshotById(md, ref.snapshotId);
}

/**
 * Walks `main` (or `from`) back through `parent-snapshot-id`: the snapshot itself first, then its parent, …
 * Stops where a parent is no longer in the metadata (expired), and refuses to loop on a corrupt cycle.
 */
export function* ancestry(md: TableMetadata, from: bigint | undefined = md.refs.main?.snapshotId): Generator<Snapshot> {
  const seen = new Set<bigint>();
  let id = from;
  while (id !== undefined && !seen.has(id)) {
    seen.add(id);
    const s = snapshotById(md, id);
    if (s === undefined) return;
    yield s;
    id = s.parentSnapshotId;
  }
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}

/** Where data files go: `write.data.path` (absolute), else `<location>/data`. No trailing slash. */
export function dataLocation(md: TableMetadata): string {
  const p = md.properties['write.data.path'];
  return p !== undefined && p !== '' ? trimSlash(p) : `${trimSlash(md.location)}/data`;
}

/** Where manifests and manifest lists go: `write.metadata.path`, else `<location>/metadata`. */
export function metadataLocation(md: TableMetadata): string {
  const p = md.properties['write.metadata.path'];
  return p !== undefined && p !== '' ? trimSlash(p) : `${trimSlash(md.location)}/metadata`;
}

/** Only a default spec without fields counts (void-transform specs would need null partition values). */
export function isUnpartitioned(md: TableMetadata): boolean {
  return defaultSpec(md).fields.length === 0;
}

/** `write.format.default`, lower-cased; Iceberg's default is parquet. */
export function defaultFileFormat(md: TableMetadata): string {
  return (md.properties['write.format.default'] ?? 'parquet').trim().toLowerCase();
}
