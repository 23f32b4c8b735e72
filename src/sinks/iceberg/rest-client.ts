/**
 * Iceberg REST catalog client on the global `fetch`: `GET /v1/config`, LoadTable, CommitTable and the
 * optional credentials endpoint — the part of the protocol an appending exporter needs.
 *
 * - All bodies go through the lossless JSON of json.ts (63-bit snapshot ids stay exact).
 * - `/v1/config` is merged as Java does (server defaults → our properties → server overrides); the merged
 *   `prefix` is used verbatim, `header.*` become headers, `endpoints` gate what we call.
 * - Idempotent GETs are retried with backoff on 408/429/5xx and network errors; a commit only on 429 (the
 *   request was refused unprocessed). A 401/419 invalidates the token and the request is sent once more.
 * - Commit outcomes are typed: 409 → ICEBERG_COMMIT_CONFLICT (retryable: rebuild on the new parent);
 *   5xx, a timeout or a lost connection → ICEBERG_COMMIT_STATE_UNKNOWN (the commit may have landed: reload
 *   and look for our snapshot before anything else); 401/403 → ICEBERG_AUTH_FAILED.
 * - Errors name the table and the URL without its query; no header value ever reaches a message, and text
 *   from the server is scrubbed of our secrets.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCodes, type ErrorContext } from '../../errors.js';
import { backoffDelay, sleep, type RetryPolicy } from '../retry.js';
import { describeFetchError, type AuthProvider, type SignableRequest } from './auth.js';
import type { CatalogSettings } from './catalog-config.js';
import { IcebergError, Redactor, safeUri } from './errors.js';
import { parseJson, stringifyJson } from './json.js';
import { authProvider } from './sigv4.js';
import { parseTableMetadata, type TableMetadata } from './table-metadata.js';

export const CLIENT_VERSION = 'pinot-parquet-export (Iceberg REST client)';

export interface TableIdent {
  namespace: string[];
  name: string;
}

export interface StorageCredential {
  prefix: string;
  config: Record<string, string>;
}

export interface LoadTableResult {
  /** Absent only for staged creates. */
  metadataLocation?: string;
  metadata: TableMetadata;
  config: Record<string, string>;
  storageCredentials: StorageCredential[];
  etag?: string;
}

export interface CommitTableResult {
  metadataLocation: string;
  metadata: TableMetadata;
}

/** A CommitTable requirement (`assert-table-uuid`, `assert-ref-snapshot-id` …); ids as `bigint`. */
export type TableRequirement = { type: string } & Record<string, unknown>;
/** A CommitTable update (`add-snapshot`, `set-snapshot-ref` …); ids as `bigint`. */
export type TableUpdate = { action: string } & Record<string, unknown>;

export interface CommitTableRequest {
  requirements: TableRequirement[];
  updates: TableUpdate[];
}

export interface CatalogConfig {
  /** The merged properties: server defaults → client properties → server overrides. */
  properties: Record<string, string>;
  /** Base URL (an override may move it). */
  uri: string;
  prefix?: string;
  /** `undefined` = the server did not say (assume the spec's default set). */
  endpoints?: Set<string>;
  idempotencyKeyLifetime?: string;
}

export interface RestClientOptions {
  fetch?: typeof fetch;
  auth?: AuthProvider;
  now?: () => number;
  /** Backoff between retries; attempts come from `rest.client.max-retries`. */
  backoff?: { baseDelayMs: number; maxDelayMs: number };
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  redactor?: Redactor;
}

export const ENDPOINTS = {
  loadTable: 'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  commitTable: 'POST /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  loadCredentials: 'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}/credentials',
} as const;

/** The spec's default set when `/v1/config` lists no endpoints (only what we use). */
const DEFAULT_ENDPOINTS = new Set<string>([ENDPOINTS.loadTable, ENDPOINTS.commitTable]);

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);

interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
  url: URL;
}

interface CallOptions {
  operation: string;
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Resent on 5xx / network errors. */
  idempotent: boolean;
  context: ErrorContext;
  signal?: AbortSignal;
}

export class IcebergRestClient {
  private readonly fetchFn: typeof fetch;
  private readonly auth: AuthProvider;
  private readonly redactor: Redactor;
  private readonly policy: RetryPolicy;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private config: CatalogConfig | undefined;

  constructor(private readonly settings: CatalogSettings, options: RestClientOptions = {}) {
    this.fetchFn = options.fetch ?? fetch;
    this.redactor = options.redactor ?? new Redactor();
    const authOptions = { fetch: this.fetchFn, headers: settings.headers, requestTimeoutMs: settings.requestTimeoutMs, redactor: this.redactor };
    this.auth = options.auth ?? authProvider(settings.auth, options.now === undefined ? authOptions : { ...authOptions, now: options.now });
    this.policy = { maxAttempts: settings.maxRetries + 1, baseDelayMs: options.backoff?.baseDelayMs ?? 1000, maxDelayMs: options.backoff?.maxDelayMs ?? 64_000 };
    this.sleep = options.sleep ?? sleep;
  }

  /** `GET /v1/config` (once; cached). Every other call loads it first. */
  async loadConfig(signal?: AbortSignal): Promise<CatalogConfig> {
    if (this.config !== undefined) return this.config;
    const query: Record<string, string> = {};
    if (this.settings.warehouse !== undefined) query.warehouse = this.settings.warehouse;
    const reply = await this.call({
      operation: 'GetConfig', method: 'GET', path: 'v1/config', query, idempotent: true, context: {},
      ...(signal === undefined ? {} : { signal }),
    }, this.settings.uri, this.settings.headers);
    if (reply.status !== 200) throw this.httpError('GetConfig', reply, {});
    const body = this.expectObject(reply, 'GetConfig', {});
    const defaults = this.stringMap(body.defaults, 'defaults', reply, {});
    const overrides = this.stringMap(body.overrides, 'overrides', reply, {});
    const properties = { ...defaults, ...this.settings.properties, ...overrides };
    const config: CatalogConfig = { properties, uri: this.settings.uri };
    if (overrides.uri !== undefined && /^https?:\/\//.test(overrides.uri)) config.uri = overrides.uri.replace(/\/+$/, '');
    const prefix = properties.prefix?.replace(/^\/+|\/+$/g, '');
    if (prefix) config.prefix = prefix;
    if (body.endpoints !== undefined && body.endpoints !== null) {
      if (!Array.isArray(body.endpoints) || body.endpoints.some((e) => typeof e !== 'string')) {
        throw this.invalidReply('GetConfig', reply, 'endpoints must be a list of strings', {});
      }
      config.endpoints = new Set((body.endpoints as string[]).map((e) => e.trim().replace(/\s+/, ' ')));
    }
    if (typeof body['idempotency-key-lifetime'] === 'string') config.idempotencyKeyLifetime = body['idempotency-key-lifetime'];
    this.config = config;
    return config;
  }

  /** Whether the server serves `endpoint` (one of `ENDPOINTS`). */
  async supports(endpoint: string, signal?: AbortSignal): Promise<boolean> {
    const config = await this.loadConfig(signal);
    return (config.endpoints ?? DEFAULT_ENDPOINTS).has(endpoint);
  }

  /** LoadTable with all snapshots (ancestry walks need them) and vended credentials requested. */
  async loadTable(ident: TableIdent, options: { signal?: AbortSignal } = {}): Promise<LoadTableResult> {
    const context = { table: tableName(ident) };
    const reply = await this.tableCall(ident, {
      operation: 'LoadTable', method: 'GET', query: { snapshots: 'all' }, idempotent: true, context,
      headers: { 'x-iceberg-access-delegation': 'vended-credentials' },
    }, '', ENDPOINTS.loadTable, options.signal);
    if (reply.status !== 200) throw this.httpError('LoadTable', reply, context);
    const body = this.expectObject(reply, 'LoadTable', context);
    const result: LoadTableResult = {
      metadata: this.metadata(body.metadata, reply, context),
      config: body.config === undefined || body.config === null ? {} : this.stringMap(body.config, 'config', reply, context),
      storageCredentials: this.storageCredentials(body['storage-credentials'], reply, context),
    };
    if (typeof body['metadata-location'] === 'string') result.metadataLocation = body['metadata-location'];
    const etag = reply.headers.get('etag');
    if (etag !== null) result.etag = etag;
    return result;
  }

  /**
   * CommitTable. Throws ICEBERG_COMMIT_CONFLICT (a requirement failed: reload, rebuild, retry) or
   * ICEBERG_COMMIT_STATE_UNKNOWN (may have been applied: reload and look for the snapshot).
   */
  async commitTable(ident: TableIdent, request: CommitTableRequest, options: { signal?: AbortSignal } = {}): Promise<CommitTableResult> {
    const context = { table: tableName(ident) };
    const config = await this.loadConfig(options.signal);
    if (!(config.endpoints ?? DEFAULT_ENDPOINTS).has(ENDPOINTS.commitTable)) {
      throw new IcebergError(ErrorCodes.ICEBERG_CATALOG_ERROR, `the catalog does not support commits (no "${ENDPOINTS.commitTable}" in /v1/config endpoints)`, {
        context: { ...context, uri: safeUri(config.uri) },
      });
    }
    const headers: Record<string, string> = {};
    // One key per logical commit, reused by HTTP-level resends (spec: Idempotency-Key, UUIDv7).
    if (config.idempotencyKeyLifetime !== undefined) headers['idempotency-key'] = uuidv7(Date.now());
    const reply = await this.tableCall(ident, {
      operation: 'CommitTable', method: 'POST', idempotent: false, context, headers,
      body: { requirements: request.requirements, updates: request.updates },
    }, '', ENDPOINTS.commitTable, options.signal);
    if (reply.status !== 200) throw this.httpError('CommitTable', reply, context);
    const body = this.expectObject(reply, 'CommitTable', context);
    if (typeof body['metadata-location'] !== 'string') throw this.invalidReply('CommitTable', reply, 'metadata-location is missing', context);
    return { metadataLocation: body['metadata-location'], metadata: this.metadata(body.metadata, reply, context) };
  }

  /** `GET …/tables/{t}/credentials` when the server advertises it; otherwise `undefined`. */
  async loadCredentials(ident: TableIdent, options: { signal?: AbortSignal } = {}): Promise<StorageCredential[] | undefined> {
    if (!(await this.supports(ENDPOINTS.loadCredentials, options.signal))) return undefined;
    const context = { table: tableName(ident) };
    const reply = await this.tableCall(ident, {
      operation: 'LoadCredentials', method: 'GET', idempotent: true, context,
    }, '/credentials', ENDPOINTS.loadCredentials, options.signal);
    if (reply.status !== 200) throw this.httpError('LoadCredentials', reply, context);
    const body = this.expectObject(reply, 'LoadCredentials', context);
    return this.storageCredentials(body['storage-credentials'], reply, context);
  }

  /** The path of a table resource under the merged prefix (exported for tests and logs). */
  async tablePath(ident: TableIdent, signal?: AbortSignal): Promise<string> {
    const config = await this.loadConfig(signal);
    const sep = config.properties['namespace-separator'] ?? '%1F';
    const encodedSep = /%[0-9A-Fa-f]{2}/.test(sep) ? sep : encodeURIComponent(sep);
    const ns = ident.namespace.map(encodeURIComponent).join(encodedSep);
    return ['v1', config.prefix, 'namespaces', ns, 'tables', encodeURIComponent(ident.name)].filter((s) => s !== undefined && s !== '').join('/');
  }

  private async tableCall(ident: TableIdent, call: Omit<CallOptions, 'path' | 'signal'>, suffix: string, endpoint: string, signal?: AbortSignal): Promise<Reply> {
    if (ident.namespace.length === 0 || ident.name === '') {
      throw new IcebergError(ErrorCodes.ICEBERG_CATALOG_ERROR, 'a table identifier needs a namespace and a name', { context: call.context });
    }
    const config = await this.loadConfig(signal);
    if (config.endpoints !== undefined && !config.endpoints.has(endpoint)) {
      throw new IcebergError(ErrorCodes.ICEBERG_CATALOG_ERROR, `the catalog does not serve "${endpoint}" (not in /v1/config endpoints)`, {
        context: { ...call.context, uri: safeUri(config.uri) },
      });
    }
    const path = (await this.tablePath(ident, signal)) + suffix;
    return this.call({ ...call, path, ...(signal === undefined ? {} : { signal }) }, config.uri, headerProperties(config.properties));
  }

  /** One logical request with auth, timeouts and the retry policy; returns any HTTP reply it ends with. */
  private async call(c: CallOptions, base: string, extraHeaders: Record<string, string>): Promise<Reply> {
    const url = new URL(`${base}/${c.path}`);
    for (const [k, v] of Object.entries(c.query ?? {})) url.searchParams.set(k, v);
    const bodyText = c.body === undefined ? undefined : stringifyJson(c.body);
    const context = { ...c.context, uri: safeUri(url) };
    let reauthorized = false;
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = {
        ...lowerKeys(extraHeaders),
        accept: 'application/json',
        'content-type': 'application/json',
        'x-client-version': CLIENT_VERSION,
        ...c.headers,
      };
      const request: SignableRequest = { method: c.method, url, headers };
      if (bodyText !== undefined) request.body = bodyText;
      await this.auth.authorize(request, c.signal);
      const timeout = AbortSignal.timeout(this.settings.requestTimeoutMs);
      const signal = c.signal === undefined ? timeout : AbortSignal.any([c.signal, timeout]);
      let reply: Reply;
      try {
        const res = await this.fetchFn(url, { method: c.method, headers: request.headers, body: request.body ?? null, signal });
        const text = await res.text();
        reply = { status: res.status, headers: res.headers, text, body: parseLenient(text), url };
      } catch (err) {
        const what = `${c.operation} ${describeFetchError(err)}`;
        if (c.signal?.aborted === true && !c.idempotent) throw this.unknownState(`${what} (cancelled after the request was sent)`, context, err);
        if (c.signal?.aborted === true) throw err;
        if (!c.idempotent) throw this.unknownState(`${what}: the commit may or may not have been applied`, context, err);
        if (attempt < this.policy.maxAttempts) {
          await this.sleep(backoffDelay(this.policy, attempt), c.signal);
          continue;
        }
        throw new IcebergError(ErrorCodes.ICEBERG_CATALOG_ERROR, this.redactor.redact(`${what} after ${attempt} attempts`), { context, retryable: true });
      }
      if ((reply.status === 401 || reply.status === 419) && !reauthorized && this.auth.invalidate()) {
        // An expired token: the request was not applied, so resending it is safe even for a commit.
        reauthorized = true;
        attempt--;
        continue;
      }
      const retry = reply.status === 429 || (c.idempotent && RETRY_STATUS.has(reply.status));
      if (retry && attempt < this.policy.maxAttempts) {
        await this.sleep(retryAfterMs(reply.headers, this.policy.maxDelayMs) ?? backoffDelay(this.policy, attempt), c.signal);
        continue;
      }
      return reply;
    }
  }

  private unknownState(detail: string, context: ErrorContext, cause: unknown): IcebergError {
    return new IcebergError(ErrorCodes.ICEBERG_COMMIT_STATE_UNKNOWN, this.redactor.redact(detail), { context, cause: redactCause(cause) });
  }

  /** Maps a non-200 reply to the error code the caller acts on. */
  private httpError(operation: string, reply: Reply, context: ErrorContext): IcebergError {
    const ctx = { ...context, uri: safeUri(reply.url) };
    const s = reply.status;
    const detail = this.redactor.redact(`${operation} failed: HTTP ${s}${serverMessage(reply)}`);
    if (s === 401 || s === 403 || s === 419) return new IcebergError(ErrorCodes.ICEBERG_AUTH_FAILED, detail, { context: ctx });
    if (operation === 'CommitTable') {
      if (s === 409) return new IcebergError(ErrorCodes.ICEBERG_COMMIT_CONFLICT, detail, { context: ctx, retryable: true });
      if (s >= 500) return new IcebergError(ErrorCodes.ICEBERG_COMMIT_STATE_UNKNOWN, `${detail}; the commit may or may not have been applied`, { context: ctx });
    }
    if (s === 404) {
      const what = context.table === undefined ? 'resource' : `table ${context.table}`;
      return new IcebergError(ErrorCodes.ICEBERG_CATALOG_ERROR, `${detail} (${what} not found)`, { context: ctx });
    }
    return new IcebergError(ErrorCodes.ICEBERG_CATALOG_ERROR, detail, { context: ctx, retryable: s >= 500 || s === 429 || s === 408 });
  }

  private invalidReply(operation: string, reply: Reply, what: string, context: ErrorContext): IcebergError {
    return new IcebergError(ErrorCodes.ICEBERG_CATALOG_ERROR, `${operation} response is invalid: ${what}`, { context: { ...context, uri: safeUri(reply.url) } });
  }

  private expectObject(reply: Reply, operation: string, context: ErrorContext): Record<string, unknown> {
    if (reply.body === null || typeof reply.body !== 'object' || Array.isArray(reply.body)) {
      throw this.invalidReply(operation, reply, 'the body is not a JSON object', context);
    }
    return reply.body as Record<string, unknown>;
  }

  private stringMap(v: unknown, name: string, reply: Reply, context: ErrorContext): Record<string, string> {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
      throw this.invalidReply('response', reply, `${name} must be a map of strings`, context);
    }
    return { ...(v as Record<string, string>) };
  }

  private metadata(v: unknown, reply: Reply, context: ErrorContext): TableMetadata {
    if (v === undefined || v === null) throw this.invalidReply('response', reply, 'metadata is missing', context);
    return parseTableMetadata(v, { ...context, uri: safeUri(reply.url) });
  }

  private storageCredentials(v: unknown, reply: Reply, context: ErrorContext): StorageCredential[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw this.invalidReply('response', reply, 'storage-credentials must be a list', context);
    return v.map((e, i) => {
      const o = e as Record<string, unknown> | null;
      if (o === null || typeof o !== 'object' || typeof o.prefix !== 'string') {
        throw this.invalidReply('response', reply, `storage-credentials[${i}].prefix must be a string`, context);
      }
      return { prefix: o.prefix, config: this.stringMap(o.config, `storage-credentials[${i}].config`, reply, context) };
    });
  }
}

export function tableName(ident: TableIdent): string {
  return [...ident.namespace, ident.name].join('.');
}

function headerProperties(props: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) if (k.startsWith('header.') && k.length > 7) out[k.slice(7)] = v;
  return out;
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

function parseLenient(text: string): unknown {
  if (text === '') return undefined;
  try {
    return parseJson(text);
  } catch {
    return undefined;
  }
}

/** `: <type>: <message>` from the spec's ErrorModel, or a short excerpt of a non-JSON body. */
function serverMessage(reply: Reply): string {
  const err = (reply.body as { error?: { message?: unknown; type?: unknown } } | undefined)?.error;
  if (err !== undefined && err !== null && typeof err === 'object') {
    const parts = [err.type, err.message].filter((x): x is string => typeof x === 'string' && x !== '');
    if (parts.length > 0) return ` ${parts.join(': ')}`;
  }
  const text = reply.text.trim().replace(/\s+/g, ' ');
  return text === '' ? '' : ` ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

function retryAfterMs(headers: Headers, cap: number): number | undefined {
  const v = headers.get('retry-after');
  if (v === null) return undefined;
  const seconds = Number(v);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, cap);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.min(Math.max(0, at - Date.now()), cap);
}

/** Network errors carry no secrets, but keep only name/message/code so nothing else rides along. */
function redactCause(err: unknown): Error {
  const e = err as { name?: string; message?: string };
  const out = new Error(describeFetchError(err));
  out.name = e?.name ?? 'Error';
  return out;
}

/** RFC 9562 UUIDv7: 48-bit Unix ms, version 7, variant 10, random rest. */
export function uuidv7(nowMs: number): string {
  const b = randomBytes(16);
  b.writeUIntBE(nowMs, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
