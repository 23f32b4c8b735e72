/**
 * An Iceberg REST catalog for tests, on node:http at 127.0.0.1 (no Iceberg REST server exists on npm or in
 * Debian; ../shared/docs/iceberg-rest-and-manifests.md §7.2).
 *
 * - Routes: `GET /v1/config`, `POST /v1/oauth/tokens`, namespaces (list, load, HEAD, create), create table,
 *   LoadTable (GET, with vended credentials on `X-Iceberg-Access-Delegation: vended-credentials`), HEAD
 *   table, CommitTable (POST) with real optimistic concurrency, and `GET …/tables/{t}/credentials`.
 * - Every request and response body is checked against ../shared/specs/iceberg-rest-catalog-open-api.yaml;
 *   a violation is answered with 500 and recorded in `violations` (tests assert it stays empty).
 * - JSON is lossless both ways: 63-bit snapshot ids are `bigint` in memory and bare digits on the wire.
 * - Each commit writes `<location>/metadata/<nnnnn>-<uuid>.metadata.json` (`write.metadata.path` if set),
 *   and for local tables also `v<n>.metadata.json` + `version-hint.text`, because icebird 0.3.1 resolves the
 *   version hint `n` to `v<n>.metadata.json` (Hadoop-table naming). The `<nnnnn>-<uuid>` file is the one
 *   `metadata-location` names.
 *
 * Imported Java tables (`importTable`, e.g. ../shared/fixtures/iceberg-java-1.8.1-bunnies): files are copied
 * byte for byte into `<warehouse>/<ns…>/<table>/`, so every path inside them still points at the original
 * writer's location (`s3a://hyperparam-iceberg/java/bunnies/…`). The catalog maps that location prefix onto
 * the copy: new metadata files land in the copy, `localPath(uri)` resolves any path of the table, and
 * `readerFetch()` is a `fetch` for readers (icebird, hyparquet) that turns those URIs — also in the
 * `https://<bucket>.s3.amazonaws.com/…` form icebird rewrites `s3a://` into — and `file://` URIs into URLs of
 * `serveWarehouse()`. A client under test that writes data/manifests must therefore write them where
 * `localPath()` says (or, for S3 locations, to the loopback S3 bucket of that name).
 */
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Authenticator } from './iceberg-catalog/auth.js';
import { emptyManifestList } from './iceberg-catalog/empty-manifest-list.js';
import { clone, fromBig, isObject, parseJson, toBig, toJson, type JsonObject } from './iceberg-catalog/json.js';
import {
  applyUpdates, CatalogHttpError, checkRequirements, findSnapshot, metadataVersion, newTableMetadata,
  randomSnapshotId, refSnapshotId, snapshots,
} from './iceberg-catalog/metadata.js';
import { IMPLEMENTED_ENDPOINTS, IMPLEMENTED_OPERATIONS, parseRoute, type Route } from './iceberg-catalog/routes.js';
import { serveDirectory, type StaticServer } from './iceberg-catalog/static-server.js';
import { TableStorage } from './iceberg-catalog/storage.js';
import type { CatalogOptions, CreateTableOptions, Fault, RequestRecord, TableState, Violation, VendedRecord } from './iceberg-catalog/types.js';
import { sharedPath } from './fixtures.js';
import { OpenApiValidator } from './openapi-validator.js';

export type { AuthOptions, OAuthClient } from './iceberg-catalog/auth.js';
export type {
  CatalogOptions, CreateTableOptions, Fault, RequestRecord, TableState, VendedCredentialOptions, VendedRecord, Violation,
} from './iceberg-catalog/types.js';
export { CatalogHttpError } from './iceberg-catalog/metadata.js';
export { parseJson, toJson, toBig } from './iceberg-catalog/json.js';

/** The spec every body is validated against, relative to ../shared: use it with `describeFixtures`. */
export const OPENAPI_SPEC_FIXTURE = 'specs/iceberg-rest-catalog-open-api.yaml';
export const OPENAPI_SPEC = sharedPath(OPENAPI_SPEC_FIXTURE);

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Destroy the socket instead of answering (after the work was done). */
  drop?: boolean;
  injected?: string;
}

const SEP = '\u001f';
let sharedValidator: OpenApiValidator | undefined;

/** One validator per process: compiling the spec's schemas costs seconds on a busy machine. */
function validator(): OpenApiValidator {
  sharedValidator ??= OpenApiValidator.fromFile(OPENAPI_SPEC);
  return sharedValidator;
}

export async function startIcebergCatalog(options: CatalogOptions = {}): Promise<IcebergCatalog> {
  const ownsDir = options.warehouseDir === undefined;
  const dir = resolve(options.warehouseDir ?? await mkdtemp(join(tmpdir(), 'iceberg-catalog-')));
  await mkdir(dir, { recursive: true });
  const catalog = new IcebergCatalog(options, dir, ownsDir);
  await catalog.listen();
  return catalog;
}

export class IcebergCatalog {
  /** Base URI for clients: `http://127.0.0.1:<port>` (routes are `<uri>/v1/…`). */
  uri = '';
  readonly prefix: string;
  readonly requests: RequestRecord[] = [];
  readonly violations: Violation[] = [];
  readonly vended: VendedRecord[] = [];
  readonly auth: Authenticator;
  readonly storage: TableStorage;
  private readonly server: http.Server;
  private readonly namespaces = new Map<string, Record<string, string>>();
  private readonly tables = new Map<string, TableState>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly faults = { conflicts: 0, failAfter: [] as number[], failBefore: [] as { status: number; retryAfter?: number }[], drop: 0 };
  /** Final replies by Idempotency-Key (only when `idempotencyKeyLifetime` is advertised). */
  private readonly idempotent = new Map<string, Reply>();
  private vendTtlMs: number;
  private vendCounter = 0;
  private warehouseServer: StaticServer | undefined;

  constructor(private readonly options: CatalogOptions, readonly warehouseDir: string, private readonly ownsDir: boolean) {
    this.prefix = options.prefix ?? 'test';
    this.auth = new Authenticator(options.auth ?? {});
    this.storage = new TableStorage(warehouseDir, options.s3);
    this.vendTtlMs = options.vendedCredentials?.ttlMs ?? 3_600_000;
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        // A bug in the test server itself: answer 500 and make it visible to the test.
        this.violations.push({ kind: 'response', method: req.method ?? '', path: req.url ?? '', operation: undefined, status: 500, errors: [`server error: ${String(err)}`] });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(errorBody(500, 'InternalServerError', String(err)));
        else res.destroy();
      });
    });
  }

  async listen(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.uri = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
    await this.warehouseServer?.close();
    if (this.ownsDir) await rm(this.warehouseDir, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------- test API

  inject(fault: Fault): void {
    if ('conflicts' in fault) this.faults.conflicts += fault.conflicts;
    else if ('failAfterCommit' in fault) for (let i = 0; i < fault.failAfterCommit; i++) this.faults.failAfter.push(fault.status);
    else if ('failBeforeCommit' in fault) {
      for (let i = 0; i < fault.failBeforeCommit; i++) this.faults.failBefore.push({ status: fault.status, retryAfter: fault.retryAfterSeconds });
    } else if ('dropResponse' in fault) this.faults.drop += fault.dropResponse;
    else if ('expireTokensNow' in fault) this.auth.expireAll();
    else this.vendTtlMs = fault.vendedCredentialsTtlMs;
  }

  /** Requests per operationId (`getConfig`, `getToken`, `loadTable`, `updateTable` …). */
  count(operation: string): number {
    return this.requests.filter((r) => r.operation === operation).length;
  }

  createNamespace(namespace: string[], properties: Record<string, string> = {}): void {
    for (let i = 1; i <= namespace.length; i++) {
      const key = namespace.slice(0, i).join(SEP);
      if (!this.namespaces.has(key)) this.namespaces.set(key, i === namespace.length ? { ...properties } : {});
    }
  }

  /** Seeds a table (namespace created as needed); returns its state. Default location: file://<warehouse>/<ns…>/<name>. */
  async createTable(namespace: string[], name: string, opts: CreateTableOptions): Promise<TableState> {
    this.createNamespace(namespace);
    const key = tableKey(namespace, name);
    if (this.tables.has(key)) throw new CatalogHttpError(409, 'AlreadyExistsException', `Table already exists: ${namespace.join('.')}.${name}`);
    const properties = { ...(opts.properties ?? {}) };
    const fv = opts.formatVersion ?? (properties['format-version'] ? Number(properties['format-version']) as 1 | 2 | 3 : undefined);
    delete properties['format-version'];
    const location = opts.location ?? `file://${join(this.warehouseDir, ...namespace, name)}`;
    const metadata = newTableMetadata({
      location, schema: opts.schema, partitionSpec: opts.partitionSpec, properties,
      formatVersion: fv ?? this.options.defaultFormatVersion ?? 2,
    });
    const state: TableState = { namespace, name, metadata, metadataLocation: '', version: -1, history: [] };
    await this.writeMetadata(state, metadata);
    this.tables.set(key, state);
    return state;
  }

  /**
   * Registers an existing table from its metadata JSON file (e.g. `…/bunnies/metadata/v2.metadata.json`):
   * copies that file, every manifest / manifest list of its metadata directory and the sibling `data/`
   * directory unchanged into the warehouse, and maps the table's location onto the copy (see the file header).
   */
  async importTable(namespace: string[], name: string, metadataJsonPath: string): Promise<TableState & { dir: string }> {
    this.createNamespace(namespace);
    const key = tableKey(namespace, name);
    if (this.tables.has(key)) throw new Error(`iceberg-catalog: table ${namespace.join('.')}.${name} exists`);
    const text = await readFile(metadataJsonPath, 'utf8');
    const metadata = parseJson(text) as JsonObject;
    const location = String(metadata.location).replace(/\/+$/, '');
    const dir = join(this.warehouseDir, ...namespace, name);
    const srcMeta = dirname(metadataJsonPath);
    const file = basename(metadataJsonPath);
    await mkdir(join(dir, 'metadata'), { recursive: true });
    for (const f of await readdir(srcMeta)) {
      // Other metadata versions stay behind: they would collide with the versions this catalog writes next.
      if (f === file || (!f.endsWith('.metadata.json') && f !== 'version-hint.text')) await cp(join(srcMeta, f), join(dir, 'metadata', f));
    }
    const srcData = join(dirname(srcMeta), 'data');
    await cp(srcData, join(dir, 'data'), { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    this.storage.map(location, dir);
    const version = metadataVersion(file);
    const state: TableState = {
      namespace, name, metadata, metadataLocation: `${location}/metadata/${file}`, version,
      history: [`${location}/metadata/${file}`],
    };
    if (this.options.versionHint !== false) await this.storage.write(`${location}/metadata/version-hint.text`, String(version));
    this.tables.set(key, state);
    return { ...state, dir };
  }

  table(namespace: string[], name: string): TableState {
    const t = this.tables.get(tableKey(namespace, name));
    if (!t) throw new Error(`iceberg-catalog: no table ${namespace.join('.')}.${name}`);
    return t;
  }

  /** Current `main` snapshot id of a table (null when main does not exist). */
  mainSnapshotId(namespace: string[], name: string): bigint | null {
    return refSnapshotId(this.table(namespace, name).metadata, 'main');
  }

  /**
   * Another writer appends a snapshot to `main` (same data: it reuses the parent's manifest list, or an
   * empty one when there is no parent), so a client's next `assert-ref-snapshot-id` fails. Returns its id.
   */
  async advanceMain(namespace: string[], name: string, opts: { summary?: Record<string, string>; manifestList?: string } = {}): Promise<bigint> {
    const state = this.table(namespace, name);
    return this.locked(tableKey(namespace, name), async () => {
      const base = state.metadata;
      const parentId = refSnapshotId(base, 'main');
      const parent = parentId === null ? undefined : findSnapshot(base, parentId);
      const id = randomSnapshotId(base);
      const formatVersion = Number(base['format-version']);
      const seq = (toBig(base['last-sequence-number']) ?? 0n) + 1n;
      let manifestList = opts.manifestList ?? (parent?.['manifest-list'] as string | undefined);
      if (manifestList === undefined) {
        manifestList = `${this.metadataDir(base)}/snap-${id}-1-${randomUUID()}.avro`;
        await this.storage.write(manifestList, await emptyManifestList({ snapshotId: id, parentId, sequenceNumber: seq, formatVersion }));
      }
      const parentSummary = isObject(parent?.summary) ? parent.summary : {};
      const snapshot: JsonObject = {
        'snapshot-id': id,
        ...(parentId === null ? {} : { 'parent-snapshot-id': parentId }),
        ...(formatVersion >= 2 ? { 'sequence-number': fromBig(seq) } : {}),
        'timestamp-ms': Date.now(),
        'manifest-list': manifestList,
        summary: { ...pickTotals(parentSummary), operation: 'append', 'test-catalog.concurrent-writer': 'true', ...(opts.summary ?? {}) },
        'schema-id': base['current-schema-id'],
        ...(formatVersion >= 3 ? { 'first-row-id': base['next-row-id'] ?? 0, 'added-rows': 0 } : {}),
      };
      const next = applyUpdates(base, [
        { action: 'add-snapshot', snapshot },
        { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': id },
      ], Date.now());
      await this.writeMetadata(state, next);
      return id;
    });
  }

  /** Local file path of a table URI (file://, or inside an imported table's mapped location). */
  localPath(uri: string): string {
    const p = this.storage.localPath(uri);
    if (p === undefined) throw new Error(`iceberg-catalog: ${uri} is not stored locally`);
    return p;
  }

  /** Serves the warehouse directory read-only over HTTP (for icebird); returns its base URL. */
  async serveWarehouse(): Promise<string> {
    this.warehouseServer ??= await serveDirectory(this.warehouseDir);
    return this.warehouseServer.url;
  }

  /** HTTP URL (under serveWarehouse()) of a local table URI. */
  httpUrl(uri: string): string {
    if (!this.warehouseServer) throw new Error('iceberg-catalog: call serveWarehouse() first');
    const rel = this.storage.warehouseRelative(uri);
    if (rel === undefined) throw new Error(`iceberg-catalog: ${uri} is not inside the warehouse ${this.warehouseDir}`);
    return `${this.warehouseServer.url}/${rel.split('/').map(encodeURIComponent).join('/')}`;
  }

  /**
   * A `fetch` for readers: file:// URIs, mapped table URIs and icebird's `https://<bucket>.s3.amazonaws.com/…`
   * rewrites of them go to serveWarehouse(); anything else is passed to the real fetch.
   */
  readerFetch(realFetch: typeof fetch = globalThis.fetch): typeof fetch {
    return (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const candidates = [url];
      const aws = /^https:\/\/([^./]+)\.s3\.amazonaws\.com\/(.*)$/.exec(url);
      if (aws) candidates.push(`s3a://${aws[1]}/${aws[2]}`, `s3://${aws[1]}/${aws[2]}`);
      for (const c of candidates) {
        if (this.storage.warehouseRelative(c) !== undefined) return realFetch(this.httpUrl(c), init);
      }
      return realFetch(input, init);
    };
  }

  // ---------------------------------------------------------------- HTTP

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const method = (req.method ?? 'GET').toUpperCase();
    const rawPath = req.url ?? '/';
    const url = new URL(rawPath, 'http://127.0.0.1');
    const route = parseRoute(method, url.pathname, this.prefix, this.namespaceSeparator());
    const operation = route ? validator().operation(method, route.template)?.operationId : undefined;
    const record: RequestRecord = { method, path: rawPath, operation, status: 0, headers: req.headers };
    this.requests.push(record);

    const send = (reply: Reply) => {
      record.status = reply.drop ? 0 : reply.status;
      if (reply.injected) record.injected = reply.injected;
      if (reply.drop) {
        res.destroy();
        return;
      }
      const headers: Record<string, string> = { ...(reply.headers ?? {}) };
      if (reply.body !== undefined) headers['content-type'] = 'application/json';
      res.writeHead(reply.status, headers);
      res.end(reply.body === undefined || method === 'HEAD' ? undefined : toJson(reply.body));
    };
    const violation = (kind: Violation['kind'], errors: string[], status?: number) => {
      this.violations.push({ kind, method, path: rawPath, operation, ...(status === undefined ? {} : { status }), errors });
      send({ status: 500, body: { error: { message: `OpenAPI ${kind} violation: ${errors.join('; ')}`, type: 'OpenApiViolation', code: 500 } } });
    };

    if (!route || !operation) {
      const errors = [`no route for ${method} ${url.pathname} (prefix ${JSON.stringify(this.prefix)})`];
      this.violations.push({ kind: 'route', method, path: rawPath, operation, errors });
      send({ status: 404, body: { error: { message: errors[0], type: 'NoSuchRouteException', code: 404 } } });
      return;
    }
    if (!IMPLEMENTED_OPERATIONS.has(operation)) {
      // In the spec but not here: loud, so a test never mistakes it for the client's fault or success.
      const errors = [`${operation} (${method} ${route.template}) is not implemented by the test catalog`];
      this.violations.push({ kind: 'route', method, path: rawPath, operation, errors });
      send({ status: 501, body: { error: { message: errors[0], type: 'NotImplementedException', code: 501 } } });
      return;
    }

    // Body: JSON (lossless) or, for the token endpoint, a form.
    const contentType = String(req.headers['content-type'] ?? '');
    let body: unknown;
    if (raw.length > 0) {
      if (contentType.startsWith('application/x-www-form-urlencoded')) {
        body = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
      } else {
        try {
          body = parseJson(raw.toString('utf8'));
        } catch (err) {
          violation('request', [`body is not JSON: ${String(err)}`]);
          return;
        }
      }
    }

    let reply: Reply;
    try {
      if (operation !== 'getToken') await this.auth.check(method, rawPath, req.headers, raw);
      const requestErrors = validator().validateRequest(method, route.template, contentType || 'application/json', body);
      if (requestErrors.length > 0) {
        violation('request', requestErrors);
        return;
      }
      const key = this.options.idempotencyKeyLifetime && method === 'POST' ? req.headers['idempotency-key'] : undefined;
      const replay = typeof key === 'string' ? this.idempotent.get(key) : undefined;
      if (replay) {
        reply = { ...replay, drop: false, injected: 'idempotentReplay' };
      } else {
        try {
          reply = await this.dispatch(operation, method, url, route, body as JsonObject, req);
        } catch (err) {
          if (!(err instanceof CatalogHttpError)) throw err;
          reply = { status: err.status, body: { error: { message: err.message, type: err.type, code: err.status } } };
        }
        // 2xx and 4xx are final and replayed for the same key; 5xx are not (the spec lets a retry run again).
        if (typeof key === 'string' && reply.status < 500) this.idempotent.set(key, reply);
      }
    } catch (err) {
      if (!(err instanceof CatalogHttpError)) throw err;
      reply = { status: err.status, body: { error: { message: err.message, type: err.type, code: err.status } } };
    }
    if (!reply.drop) {
      const responseErrors = validator().validateResponse(method, route.template, reply.status, reply.body);
      if (responseErrors.length > 0) {
        violation('response', responseErrors, reply.status);
        return;
      }
    }
    send(reply);
  }

  private async dispatch(operation: string, method: string, url: URL, route: Route, body: JsonObject, req: http.IncomingMessage): Promise<Reply> {
    const { namespace = [], table = '' } = route.params;
    switch (operation) {
      case 'getConfig':
        return this.config(url);
      case 'getToken': {
        const r = this.auth.issueToken(body as Record<string, string>, req.headers.authorization);
        return { status: r.status, body: r.body };
      }
      case 'listNamespaces':
        return this.listNamespaces(url);
      case 'createNamespace':
        return this.createNamespaceRoute(body);
      case 'loadNamespaceMetadata':
      case 'namespaceExists': {
        const props = this.namespaces.get(namespace.join(SEP));
        if (!props) throw noNamespace(namespace);
        return method === 'HEAD' ? { status: 204 } : { status: 200, body: { namespace, properties: props } };
      }
      case 'listTables': {
        if (!this.namespaces.has(namespace.join(SEP))) throw noNamespace(namespace);
        const identifiers = [...this.tables.values()].filter((t) => t.namespace.join(SEP) === namespace.join(SEP))
          .map((t) => ({ namespace: t.namespace, name: t.name }));
        return { status: 200, body: { identifiers } };
      }
      case 'createTable':
        return this.createTableRoute(namespace, body, req);
      case 'loadTable':
        return this.loadTable(namespace, table, url, req);
      case 'tableExists':
        this.existing(namespace, table);
        return { status: 204 };
      case 'updateTable':
        return this.commit(namespace, table, body);
      case 'loadCredentials': {
        const t = this.existing(namespace, table);
        return { status: 200, body: { 'storage-credentials': [this.vend(t).storageCredential] } };
      }
      default:
        throw new Error(`iceberg-catalog: no handler for ${operation}`);
    }
  }

  private config(url: URL): Reply {
    const warehouse = url.searchParams.get('warehouse');
    if (this.options.warehouse !== undefined && warehouse !== null && warehouse !== this.options.warehouse) {
      throw new CatalogHttpError(400, 'BadRequestException', `unknown warehouse ${warehouse}`);
    }
    const overrides: Record<string, string> = { ...(this.options.overrides ?? {}) };
    if (this.prefix !== '') overrides.prefix = this.prefix;
    const body: JsonObject = { defaults: { ...(this.options.defaults ?? {}) }, overrides };
    const endpoints = this.options.endpoints === undefined ? IMPLEMENTED_ENDPOINTS : this.options.endpoints;
    if (endpoints !== null) body.endpoints = endpoints;
    if (this.options.idempotencyKeyLifetime) body['idempotency-key-lifetime'] = this.options.idempotencyKeyLifetime;
    return { status: 200, body };
  }

  private listNamespaces(url: URL): Reply {
    const parentParam = url.searchParams.get('parent');
    const parent = parentParam === null ? [] : parentParam.split(SEP);
    if (parent.length > 0 && !this.namespaces.has(parent.join(SEP))) throw noNamespace(parent);
    const namespaces = [...this.namespaces.keys()].map((k) => k.split(SEP))
      .filter((ns) => ns.length === parent.length + 1 && parent.every((p, i) => ns[i] === p));
    return { status: 200, body: { namespaces } };
  }

  private createNamespaceRoute(body: JsonObject): Reply {
    const namespace = body.namespace as string[];
    const key = namespace.join(SEP);
    if (this.namespaces.has(key)) throw new CatalogHttpError(409, 'AlreadyExistsException', `Namespace already exists: ${namespace.join('.')}`);
    if (namespace.length > 1 && !this.namespaces.has(namespace.slice(0, -1).join(SEP))) throw noNamespace(namespace.slice(0, -1));
    const properties = (body.properties ?? {}) as Record<string, string>;
    this.namespaces.set(key, { ...properties });
    return { status: 200, body: { namespace, properties } };
  }

  private async createTableRoute(namespace: string[], body: JsonObject, req: http.IncomingMessage): Promise<Reply> {
    if (!this.namespaces.has(namespace.join(SEP))) throw noNamespace(namespace);
    if (body['stage-create'] === true) throw new CatalogHttpError(400, 'BadRequestException', 'staged create is not supported by the test catalog');
    const name = String(body.name);
    const state = await this.createTable(namespace, name, {
      schema: body.schema as JsonObject,
      ...(typeof body.location === 'string' ? { location: body.location } : {}),
      ...(isObject(body.properties) ? { properties: body.properties as Record<string, string> } : {}),
      ...(isObject(body['partition-spec']) ? { partitionSpec: body['partition-spec'] } : {}),
    });
    return this.loadResult(state, req, 'all');
  }

  private loadTable(namespace: string[], name: string, url: URL, req: http.IncomingMessage): Reply {
    const state = this.existing(namespace, name);
    const mode = url.searchParams.get('snapshots') ?? 'all';
    if (mode !== 'all' && mode !== 'refs') throw new CatalogHttpError(400, 'BadRequestException', `snapshots=${mode} is not valid`);
    const etag = etagOf(state.metadataLocation, mode);
    if (req.headers['if-none-match'] === etag) return { status: 304, headers: { etag } };
    return this.loadResult(state, req, mode);
  }

  private loadResult(state: TableState, req: http.IncomingMessage, mode: string): Reply {
    let metadata = state.metadata;
    if (mode === 'refs') {
      const referenced = new Set(Object.values(isObject(metadata.refs) ? metadata.refs : {}).map((r) => toBig((r as JsonObject)['snapshot-id'])));
      metadata = { ...metadata, snapshots: snapshots(metadata).filter((s) => referenced.has(toBig(s['snapshot-id']))) };
    }
    const config: Record<string, string> = { ...(this.options.tableConfig ?? {}) };
    const body: JsonObject = { 'metadata-location': state.metadataLocation, metadata, config };
    const delegation = String(req.headers['x-iceberg-access-delegation'] ?? '').split(',').map((s) => s.trim());
    if (delegation.includes('vended-credentials') && this.options.vendedCredentials) {
      const placement = this.options.vendedCredentials.placement ?? 'both';
      const v = this.vend(state);
      if (placement !== 'storage-credentials') Object.assign(config, v.storageCredential.config);
      if (placement !== 'config') body['storage-credentials'] = [v.storageCredential];
    }
    return { status: 200, body, headers: { etag: etagOf(state.metadataLocation, mode) } };
  }

  private vend(state: TableState): { storageCredential: { prefix: string; config: Record<string, string> } } {
    const v = this.options.vendedCredentials;
    if (!v) throw new CatalogHttpError(404, 'NoSuchTableException', 'this catalog vends no credentials');
    const sessionToken = `${v.sessionToken ?? 'vended-session'}-${++this.vendCounter}`;
    const expiresAtMs = Date.now() + this.vendTtlMs;
    this.vended.push({ table: `${state.namespace.join('.')}.${state.name}`, sessionToken, expiresAtMs });
    const config: Record<string, string> = {
      's3.access-key-id': v.accessKeyId,
      's3.secret-access-key': v.secretAccessKey,
      's3.session-token': sessionToken,
      's3.session-token-expires-at-ms': String(expiresAtMs),
      ...(v.endpoint ? { 's3.endpoint': v.endpoint } : {}),
      ...(v.region ? { 'client.region': v.region } : {}),
      ...(v.pathStyle ? { 's3.path-style-access': 'true' } : {}),
    };
    return { storageCredential: { prefix: String(state.metadata.location), config } };
  }

  private async commit(namespace: string[], name: string, body: JsonObject): Promise<Reply> {
    const state = this.existing(namespace, name);
    return this.locked(tableKey(namespace, name), async (): Promise<Reply> => {
      const before = this.faults.failBefore.shift();
      if (before) {
        return {
          status: before.status,
          body: { error: { message: `injected ${before.status} before commit`, type: stateType(before.status), code: before.status } },
          ...(before.retryAfter === undefined ? {} : { headers: { 'retry-after': String(before.retryAfter) } }),
          injected: 'failBeforeCommit',
        };
      }
      if (this.faults.conflicts > 0) {
        this.faults.conflicts--;
        throw new CatalogHttpError(409, 'CommitFailedException', 'injected conflict: Requirement failed');
      }
      const base = state.metadata;
      checkRequirements(base, body.requirements as unknown[]);
      const next = applyUpdates(base, body.updates as unknown[], Date.now());
      await this.writeMetadata(state, next);
      const after = this.faults.failAfter.shift();
      if (after !== undefined) {
        return {
          status: after,
          body: { error: { message: `injected ${after} after the commit was applied`, type: stateType(after), code: after } },
          injected: 'failAfterCommit',
        };
      }
      const ok: Reply = {
        status: 200,
        body: { 'metadata-location': state.metadataLocation, metadata: state.metadata },
        headers: { etag: etagOf(state.metadataLocation, 'all') },
      };
      if (this.faults.drop > 0) {
        this.faults.drop--;
        return { ...ok, drop: true, injected: 'dropResponse' };
      }
      return ok;
    });
  }

  /** Writes `next` as the table's new metadata file and makes it current (callers hold the table lock). */
  private async writeMetadata(state: TableState, next: JsonObject): Promise<void> {
    const version = state.version + 1;
    const meta = clone(next);
    if (state.metadataLocation !== '') {
      const log = Array.isArray(meta['metadata-log']) ? (meta['metadata-log'] as unknown[]) : [];
      meta['metadata-log'] = [...log, { 'timestamp-ms': state.metadata['last-updated-ms'], 'metadata-file': state.metadataLocation }];
    }
    const dir = this.metadataDir(meta);
    const location = `${dir}/${String(version).padStart(5, '0')}-${randomUUID()}.metadata.json`;
    const text = toJson(meta, 2);
    await this.storage.write(location, text);
    if (this.options.versionHint !== false && this.storage.localPath(location) !== undefined) {
      await this.storage.write(`${dir}/v${version}.metadata.json`, text);
      await this.storage.write(`${dir}/version-hint.text`, String(version));
    }
    state.metadata = meta;
    state.metadataLocation = location;
    state.version = version;
    state.history.push(location);
  }

  private metadataDir(meta: JsonObject): string {
    const props = isObject(meta.properties) ? meta.properties : {};
    const path = typeof props['write.metadata.path'] === 'string' ? props['write.metadata.path'] : `${String(meta.location)}/metadata`;
    return path.replace(/\/+$/, '');
  }

  private existing(namespace: string[], name: string): TableState {
    if (!this.namespaces.has(namespace.join(SEP))) throw noNamespace(namespace);
    const t = this.tables.get(tableKey(namespace, name));
    if (!t) throw new CatalogHttpError(404, 'NoSuchTableException', `Table does not exist: ${[...namespace, name].join('.')}`);
    return t;
  }

  private namespaceSeparator(): string | undefined {
    return this.options.overrides?.['namespace-separator'] ?? this.options.defaults?.['namespace-separator'];
  }

  /** Serialises work per table: the compare-and-swap of a commit must not interleave with another. */
  private locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    this.locks.set(key, run.catch(() => undefined));
    return run;
  }
}

const TOTAL_KEYS = ['total-records', 'total-files-size', 'total-data-files', 'total-delete-files', 'total-position-deletes', 'total-equality-deletes'];

function pickTotals(summary: JsonObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of TOTAL_KEYS) if (typeof summary[k] === 'string') out[k] = summary[k];
  return out;
}

function tableKey(namespace: string[], name: string): string {
  return `${namespace.join(SEP)}${SEP}${SEP}${name}`;
}

function noNamespace(namespace: string[]): CatalogHttpError {
  return new CatalogHttpError(404, 'NoSuchNamespaceException', `Namespace does not exist: ${namespace.join('.')}`);
}

function stateType(status: number): string {
  if (status === 503) return 'ServiceUnavailableException';
  if (status === 500 || status === 502 || status === 504) return 'CommitStateUnknownException';
  return 'InjectedFailure';
}

function etagOf(metadataLocation: string, mode: string): string {
  return `"${createHash('sha256').update(`${mode}:${metadataLocation}`).digest('hex').slice(0, 32)}"`;
}

function errorBody(code: number, type: string, message: string): string {
  return JSON.stringify({ error: { message, type, code } });
}
