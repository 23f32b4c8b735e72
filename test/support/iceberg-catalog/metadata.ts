/**
 * Table metadata for the test catalog, as pure functions: build a new table, check commit requirements,
 * apply commit updates. Semantics follow Java's CatalogHandlers / UpdateRequirement / TableMetadata.Builder
 * (see ../shared/docs/iceberg-rest-and-manifests.md §1.4): a failed requirement is a 409 and changes nothing,
 * an update the server does not implement is a 400.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { clone, fromBig, isObject, toBig, type JsonObject } from './json.js';

export class CatalogHttpError extends Error {
  constructor(readonly status: number, readonly type: string, message: string) {
    super(message);
  }
}

const conflict = (message: string) => new CatalogHttpError(409, 'CommitFailedException', message);
const badRequest = (message: string) => new CatalogHttpError(400, 'BadRequestException', message);

export interface NewTableSpec {
  location: string;
  schema: JsonObject;
  partitionSpec?: JsonObject;
  sortOrder?: JsonObject;
  formatVersion?: 1 | 2 | 3;
  properties?: Record<string, string>;
  uuid?: string;
  nowMs?: number;
}

export function newTableMetadata(spec: NewTableSpec): JsonObject {
  const formatVersion = spec.formatVersion ?? 2;
  const schema = { 'schema-id': 0, ...clone(spec.schema), type: 'struct' };
  const partitionSpec = { 'spec-id': 0, fields: [], ...clone(spec.partitionSpec ?? {}) };
  const sortOrder = { 'order-id': 0, fields: [], ...clone(spec.sortOrder ?? {}) };
  const partitionIds = (partitionSpec.fields as JsonObject[]).map((f) => Number(f['field-id'] ?? 999));
  const meta: JsonObject = {
    'format-version': formatVersion,
    'table-uuid': spec.uuid ?? randomUUID(),
    location: spec.location.replace(/\/+$/, ''),
    'last-sequence-number': 0,
    'last-updated-ms': spec.nowMs ?? Date.now(),
    'last-column-id': maxFieldId(schema),
    'current-schema-id': schema['schema-id'],
    schemas: [schema],
    'default-spec-id': partitionSpec['spec-id'],
    'partition-specs': [partitionSpec],
    'last-partition-id': Math.max(999, ...partitionIds),
    'default-sort-order-id': sortOrder['order-id'],
    'sort-orders': [sortOrder],
    properties: { ...(spec.properties ?? {}) },
    // v1/v2 writers use -1 for "no snapshot"; for v3 the field is left out (the REST spec's TableMetadata
    // types it as a non-nullable integer).
    ...(formatVersion >= 3 ? {} : { 'current-snapshot-id': -1 }),
    refs: {},
    snapshots: [],
    statistics: [],
    'partition-statistics': [],
    'snapshot-log': [],
    'metadata-log': [],
  };
  if (formatVersion === 1) {
    delete meta['last-sequence-number'];
    meta.schema = schema;
    meta['partition-spec'] = partitionSpec.fields;
  }
  if (formatVersion >= 3) meta['next-row-id'] = 0;
  return meta;
}

/** Highest field id anywhere in a schema (struct fields, list elements, map keys and values). */
export function maxFieldId(type: unknown): number {
  if (!isObject(type)) return 0;
  let max = 0;
  for (const key of ['id', 'element-id', 'key-id', 'value-id']) {
    if (type[key] !== undefined) max = Math.max(max, Number(type[key]));
  }
  for (const key of ['fields']) {
    if (Array.isArray(type[key])) for (const f of type[key] as unknown[]) max = Math.max(max, maxFieldId(f));
  }
  for (const key of ['type', 'element', 'key', 'value']) max = Math.max(max, maxFieldId(type[key]));
  return max;
}

/** The snapshot `main` points at: refs.main, else (tables written without refs) current-snapshot-id. */
export function refSnapshotId(meta: JsonObject, ref: string): bigint | null {
  const refs = meta.refs;
  if (isObject(refs) && isObject(refs[ref])) return toBig((refs[ref] as JsonObject)['snapshot-id']);
  if (ref === 'main' && (!isObject(refs) || Object.keys(refs).length === 0)) {
    const current = toBig(meta['current-snapshot-id']);
    return current === null || current === -1n ? null : current;
  }
  return null;
}

export function snapshots(meta: JsonObject): JsonObject[] {
  return Array.isArray(meta.snapshots) ? (meta.snapshots as JsonObject[]) : [];
}

export function findSnapshot(meta: JsonObject, id: bigint): JsonObject | undefined {
  return snapshots(meta).find((s) => toBig(s['snapshot-id']) === id);
}

/** A positive 63-bit id of 19 digits (≥ 10^18), as Java's random ids usually are, so tests see JS precision loss. */
export function randomSnapshotId(meta?: JsonObject): bigint {
  for (;;) {
    const id = randomBytes(8).readBigUInt64BE() & (2n ** 63n - 1n);
    if (id < 10n ** 18n) continue;
    if (!meta || !findSnapshot(meta, id)) return id;
  }
}

/** Throws 409 (CommitFailedException) for the first requirement the current metadata does not meet. */
export function checkRequirements(meta: JsonObject, requirements: unknown[]): void {
  for (const r of requirements) {
    if (!isObject(r)) throw badRequest('requirement is not an object');
    const type = r.type;
    switch (type) {
      case 'assert-create':
        throw conflict('Requirement failed: table already exists');
      case 'assert-table-uuid': {
        const have = String(meta['table-uuid'] ?? '');
        if (have.toLowerCase() !== String(r.uuid).toLowerCase()) {
          throw conflict(`Requirement failed: UUID does not match: expected ${have} != ${String(r.uuid)}`);
        }
        break;
      }
      case 'assert-ref-snapshot-id': {
        const ref = String(r.ref);
        const want = toBig(r['snapshot-id']);
        const have = refSnapshotId(meta, ref);
        if (want === null && have !== null) throw conflict(`Requirement failed: branch or tag ${ref} was created concurrently`);
        if (want !== null && have === null) throw conflict(`Requirement failed: branch or tag ${ref} is missing, expected ${want}`);
        if (want !== have) throw conflict(`Requirement failed: branch ${ref} has changed: expected id ${want} != ${have}`);
        break;
      }
      case 'assert-last-assigned-field-id':
        expectSame('last assigned field id', meta['last-column-id'], r['last-assigned-field-id']);
        break;
      case 'assert-current-schema-id':
        expectSame('current schema id', meta['current-schema-id'], r['current-schema-id']);
        break;
      case 'assert-last-assigned-partition-id':
        expectSame('last assigned partition id', meta['last-partition-id'], r['last-assigned-partition-id']);
        break;
      case 'assert-default-spec-id':
        expectSame('default partition spec id', meta['default-spec-id'], r['default-spec-id']);
        break;
      case 'assert-default-sort-order-id':
        expectSame('default sort order id', meta['default-sort-order-id'], r['default-sort-order-id']);
        break;
      default:
        throw badRequest(`unknown requirement type: ${String(type)}`);
    }
  }
}

function expectSame(what: string, have: unknown, want: unknown): void {
  if (toBig(have) !== toBig(want)) {
    throw conflict(`Requirement failed: ${what} changed: expected id ${String(want)} != ${String(have)}`);
  }
}

/**
 * Applies updates to a copy of `base` and returns it. `nowMs` becomes last-updated-ms; metadata-log and
 * file naming are the caller's (it knows where the base was stored).
 */
export function applyUpdates(base: JsonObject, updates: unknown[], nowMs: number): JsonObject {
  const meta = clone(base);
  const formatVersion = Number(meta['format-version']);
  const added = new Set<bigint>();
  for (const u of updates) {
    if (!isObject(u)) throw badRequest('update is not an object');
    switch (u.action) {
      case 'add-snapshot':
        addSnapshot(meta, u.snapshot, formatVersion, added);
        break;
      case 'set-snapshot-ref':
        setSnapshotRef(meta, u, added, nowMs);
        break;
      case 'remove-snapshot-ref':
        removeSnapshotRef(meta, String(u['ref-name']), formatVersion);
        break;
      case 'set-properties':
        meta.properties = { ...(isObject(meta.properties) ? meta.properties : {}), ...(u.updates as JsonObject) };
        break;
      case 'remove-properties': {
        const props = { ...(isObject(meta.properties) ? meta.properties : {}) };
        for (const k of u.removals as string[]) delete props[k];
        meta.properties = props;
        break;
      }
      default:
        throw badRequest(`unsupported update action in the test catalog: ${String(u.action)}`);
    }
  }
  meta['last-updated-ms'] = nowMs;
  return meta;
}

function addSnapshot(meta: JsonObject, snapshot: unknown, formatVersion: number, added: Set<bigint>): void {
  if (!isObject(snapshot)) throw badRequest('add-snapshot without a snapshot');
  const id = toBig(snapshot['snapshot-id'])!;
  if (findSnapshot(meta, id)) throw badRequest(`Snapshot already exists: ${id}`);
  const snap = clone(snapshot);
  if (formatVersion >= 2) {
    const seq = toBig(snap['sequence-number']) ?? 0n;
    const last = toBig(meta['last-sequence-number']) ?? 0n;
    const parent = toBig(snap['parent-snapshot-id']);
    // Java maps this ValidationException to 409 so the client rebuilds on fresh metadata.
    if (seq <= last && parent !== null) {
      throw conflict(`Cannot add snapshot with sequence number ${seq} older than last sequence number ${last}`);
    }
    meta['last-sequence-number'] = fromBig(seq > last ? seq : last);
  }
  if (formatVersion >= 3) {
    const firstRowId = toBig(snap['first-row-id']);
    const nextRowId = toBig(meta['next-row-id']) ?? 0n;
    if (firstRowId === null) throw badRequest('Cannot add a snapshot: first-row-id is null');
    if (firstRowId < nextRowId) {
      throw conflict(`Cannot add a snapshot, first-row-id is behind table next-row-id: ${firstRowId} < ${nextRowId}`);
    }
    meta['next-row-id'] = fromBig(nextRowId + (toBig(snap['added-rows']) ?? 0n));
  }
  meta.snapshots = [...snapshots(meta), snap];
  added.add(id);
}

function setSnapshotRef(meta: JsonObject, u: JsonObject, added: Set<bigint>, nowMs: number): void {
  const name = String(u['ref-name']);
  const id = toBig(u['snapshot-id'])!;
  const snap = findSnapshot(meta, id);
  if (!snap) throw badRequest(`Cannot set ${name} to unknown snapshot: ${id}`);
  const ref: JsonObject = { 'snapshot-id': fromBig(id), type: u.type };
  for (const k of ['max-ref-age-ms', 'max-snapshot-age-ms', 'min-snapshots-to-keep']) if (u[k] !== undefined) ref[k] = u[k];
  meta.refs = { ...(isObject(meta.refs) ? meta.refs : {}), [name]: ref };
  if (name === 'main') {
    meta['current-snapshot-id'] = fromBig(id);
    // Java logs a snapshot added in this commit with its own timestamp, an older one with the commit time.
    const ts = added.has(id) ? snap['timestamp-ms'] : nowMs;
    meta['snapshot-log'] = [...(Array.isArray(meta['snapshot-log']) ? meta['snapshot-log'] : []), { 'timestamp-ms': ts, 'snapshot-id': fromBig(id) }];
  }
}

function removeSnapshotRef(meta: JsonObject, name: string, formatVersion: number): void {
  const refs = { ...(isObject(meta.refs) ? meta.refs : {}) };
  delete refs[name];
  meta.refs = refs;
  if (name === 'main') {
    if (formatVersion >= 3) delete meta['current-snapshot-id'];
    else meta['current-snapshot-id'] = -1;
  }
}

/** Version number of a metadata file name: `v12.metadata.json` or `00012-<uuid>.metadata.json`. */
export function metadataVersion(fileName: string): number {
  const m = /^v(\d+)\.metadata\.json$/.exec(fileName) ?? /^(\d+)-[^/]*\.metadata\.json$/.exec(fileName);
  if (!m) throw new Error(`iceberg-catalog: cannot tell the version of metadata file ${fileName}`);
  return Number(m[1]);
}
