/**
 * The daemon's HTTP API on node:http, shaped after Pinot's controller task API (PinotTaskRestletResource) so
 * Pinot tooling and habits carry over. A thin translation of HTTP to `DaemonControl` calls:
 *
 * | method | path | answer |
 * |---|---|---|
 * | POST | `/tasks/schedule?taskType=DataExportTask&tableName=<t>` | `{"DataExportTask": "<task>,<task>"}` or `{"DataExportTask": null}` (Pinot: task type → comma-joined task names); without `tableName` every table |
 * | GET | `/tasks/tasktypes` | `["DataExportTask"]` |
 * | GET | `/tasks/DataExportTask/taskstates` | task name → Pinot TaskState, every table |
 * | GET | `/tasks/DataExportTask/<table>/taskstates` | task name → TaskState of the table |
 * | GET | `/tasks/DataExportTask/<table>/state` | the same map: Pinot's `getTaskStatesByTable` |
 * | GET | `/tasks/DataExportTask/<table>/metadata` | watermark, checkpoints (exported ranges), tasks, failures, recent completions, claims |
 * | DELETE | `/tasks/DataExportTask/<table>/metadata` | resets the table's state; refused (400) while its tasks run; `{"status": "Successfully deleted …"}` |
 * | GET | `/health` | HealthReport; 200 when ok, 503 otherwise |
 * | GET | `/metrics` | Prometheus text exposition (prom-client's content type) |
 *
 * Task names are the task ids (segment names). TaskState mapping: PENDING → NOT_STARTED (IN_PROGRESS once an
 * attempt ran and it waits for a retry), RUNNING → IN_PROGRESS, STAGED (iceberg-rest: written, waiting for the
 * Iceberg commit) → IN_PROGRESS, FAILED (parked) → FAILED, the table's recent completions → COMPLETED.
 * `/metadata` of an iceberg-rest table lists the staged files, the pending commit and the last commit. `<table>` is the name with or without `_REALTIME`.
 *
 * Errors are JSON `{"code": "<ExporterError code>", "status": <http status>, "error": "<message>",
 * "retryable": bool, "context": {…}}` (`error` as in Pinot's error bodies): unknown table or path 404
 * (API_NOT_FOUND), a task type other than DataExportTask 400 (API_BAD_REQUEST), a wrong method 405 with
 * `Allow`, missing or wrong bearer token 401 (API_UNAUTHORIZED), a schedule on an instance that is not the
 * generator's leader 409 (CONTROL_GENERATOR_CONTENDED, naming the leader), state store unreachable 503.
 *
 * Security: mutating endpoints (schedule, DELETE metadata) need `Authorization: Bearer <token>` when a token
 * is configured (compared in constant time); `startApi` refuses a non-loopback host without a token. Every
 * string of every response body passes through `redactText` (log.ts), so credentials that reach state (an
 * error message quoting a presigned URL or a config value, a download URL with userinfo) never leave in a
 * response. Key-based masking is off here: these maps are keyed by segment and table names.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIPv4, isIPv6, type AddressInfo } from 'node:net';
import { ConfigError, ErrorCodes, errorMessage, ExporterError, type ErrorCode } from '../errors.js';
import type { ClaimInfo } from '../state/store.js';
import type { TableState, TaskRecord, TaskStatus } from '../state/records.js';
import { rangesCount } from '../state/ranges.js';
import { TASK_TYPE } from '../state/zookeeper-store.js';
import type { DaemonControl, ScheduleResult, TableInfo } from './control-surface.js';
import type { Logger } from './log.js';
import { redact, redactText } from './log.js';
import type { ExportMetrics } from './metrics.js';

export const API_HOST_KEY = 'api.host';
export const API_TOKEN_KEY = 'api.token';
export const API_PORT_KEY = 'api.port';

export interface ApiOptions {
  /** Listen address (default 127.0.0.1). A non-loopback address needs `token`. */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Bearer token for the mutating endpoints. */
  token?: string;
  metrics?: ExportMetrics;
  log?: Logger;
  /** `close()` waits this long for requests in progress before cutting connections (default 5000 ms). */
  closeGraceMs?: number;
}

export interface ApiServer {
  /** `http://host:port`. */
  url: string;
  close(): Promise<void>;
}

/** Helix TaskState names, as Pinot's task endpoints report them. */
export type PinotTaskState = 'NOT_STARTED' | 'IN_PROGRESS' | 'FAILED' | 'COMPLETED';

export function pinotTaskState(task: Pick<TaskRecord, 'status' | 'attempts'>): PinotTaskState {
  // STAGED: the export is not done until the Iceberg commit lands, and it is not a failure.
  if (task.status === 'RUNNING' || task.status === 'STAGED') return 'IN_PROGRESS';
  if (task.status === 'FAILED') return 'FAILED';
  return task.attempts > 0 ? 'IN_PROGRESS' : 'NOT_STARTED';
}

export function isLoopbackHost(host: string): boolean {
  const h = host.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost') return true;
  if (isIPv4(h)) return h.startsWith('127.');
  if (isIPv6(h)) return h === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(h) || /^::ffff:127\./.test(h);
  return false;
}

export async function startApi(control: DaemonControl, options: ApiOptions = {}): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const token = options.token;
  if (token !== undefined && token.trim() === '') {
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `${API_TOKEN_KEY} is empty; accepted: a non-empty bearer token, or leave it unset on a loopback host`, { context: { key: API_TOKEN_KEY } });
  }
  if (token === undefined && !isLoopbackHost(host)) {
    throw new ConfigError(ErrorCodes.CONFIG_INVALID,
      `${API_HOST_KEY} = ${JSON.stringify(host)} is not a loopback address and ${API_TOKEN_KEY} is not set: anyone who can reach it could schedule tasks and reset state; set ${API_TOKEN_KEY}, or listen on 127.0.0.1`,
      { context: { key: API_TOKEN_KEY } });
  }
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `${API_PORT_KEY} = ${JSON.stringify(port)}; accepted: an integer 0 … 65535 (0: any free port)`, { context: { key: API_PORT_KEY } });
  }

  const api = new Api(control, token === undefined ? undefined : digest(token), options);
  const server = createServer((req, res) => {
    void api.handle(req, res);
  });
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 30_000;
  await listen(server, host, port);
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  options.log?.info('api listening', { url, auth: token !== undefined });
  return { url, close: () => closeServer(server, options.closeGraceMs ?? 5_000) };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new ConfigError(ErrorCodes.CONFIG_INVALID, `cannot listen on ${host}:${port}: ${err.code ?? err.message}`, { context: { key: err.code === 'EADDRINUSE' ? API_PORT_KEY : API_HOST_KEY }, cause: err }));
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

async function closeServer(server: Server, graceMs: number): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  timer.unref();
  await closed;
  clearTimeout(timer);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

// ---------------------------------------------------------------------------------------------------------
// Routing

type Method = 'GET' | 'POST' | 'DELETE';
type Handler = (ctx: RequestContext) => Promise<Reply>;

interface Route {
  /** Literal segments, or `:name` parameters. */
  pattern: string[];
  methods: Partial<Record<Method, Handler>>;
  /** Needs the bearer token (when one is configured). */
  mutating?: boolean;
}

interface RequestContext {
  params: Record<string, string>;
  query: URLSearchParams;
}

interface Reply {
  status: number;
  body?: unknown;
  /** Already-formatted text (metrics). */
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

class HttpError extends ExporterError {
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, readonly status: number, detail: string, options: { context?: ExporterError['context']; headers?: Record<string, string>; retryable?: boolean } = {}) {
    super(code, detail, { context: options.context, retryable: options.retryable });
    this.headers = options.headers ?? {};
  }
}

class Api {
  private readonly routes: Route[];

  constructor(private readonly control: DaemonControl, private readonly tokenDigest: Buffer | undefined, private readonly options: ApiOptions) {
    this.routes = [
      { pattern: ['tasks', 'schedule'], methods: { POST: (c) => this.schedule(c) }, mutating: true },
      { pattern: ['tasks', 'tasktypes'], methods: { GET: async () => ({ status: 200, body: [TASK_TYPE] }) } },
      { pattern: ['tasks', ':taskType', 'taskstates'], methods: { GET: (c) => this.allTaskStates(c) } },
      { pattern: ['tasks', ':taskType', ':table', 'taskstates'], methods: { GET: (c) => this.taskStates(c) } },
      { pattern: ['tasks', ':taskType', ':table', 'state'], methods: { GET: (c) => this.taskStates(c) } },
      { pattern: ['tasks', ':taskType', ':table', 'metadata'], methods: { GET: (c) => this.metadata(c), DELETE: (c) => this.deleteMetadata(c) }, mutating: true },
      { pattern: ['health'], methods: { GET: () => this.health() } },
      { pattern: ['metrics'], methods: { GET: () => this.metrics() } },
    ];
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    let reply: Reply;
    let path = '(unparsed)';
    let failure: unknown;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      path = url.pathname;
      reply = await this.dispatch(req, url);
    } catch (err) {
      failure = err;
      reply = errorReply(err);
    }
    this.send(res, reply);
    const fields = { method: req.method, path, status: reply.status, ms: Math.round(performance.now() - started) };
    if (reply.status >= 500) this.options.log?.error('api request failed', { ...fields, error: failure ?? reply.body });
    else this.options.log?.debug('api request', fields);
  }

  private async dispatch(req: IncomingMessage, url: URL): Promise<Reply> {
    const segments = url.pathname.split('/').filter((s) => s !== '').map((s) => decodeSegment(s));
    const matched = this.match(segments);
    if (matched === undefined) throw new HttpError(ErrorCodes.API_NOT_FOUND, 404, `no endpoint ${url.pathname}`);
    const { route, params } = matched;
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const handler = route.methods[method as Method];
    if (handler === undefined) {
      const allow = Object.keys(route.methods).flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])).join(', ');
      throw new HttpError(ErrorCodes.API_BAD_REQUEST, 405, `${req.method} is not allowed on ${url.pathname}; allowed: ${allow}`, { headers: { Allow: allow } });
    }
    if (route.mutating === true && method !== 'GET') this.authorize(req);
    if (params.taskType !== undefined && params.taskType !== TASK_TYPE) throw unknownTaskType(params.taskType);
    return handler({ params, query: url.searchParams });
  }

  private match(segments: string[]): { route: Route; params: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.pattern.length !== segments.length) continue;
      const params: Record<string, string> = {};
      const ok = route.pattern.every((p, i) => {
        if (p.startsWith(':')) {
          params[p.slice(1)] = segments[i]!;
          return true;
        }
        return p === segments[i];
      });
      if (ok) return { route, params };
    }
    return undefined;
  }

  private authorize(req: IncomingMessage): void {
    if (this.tokenDigest === undefined) return;
    const header = req.headers.authorization ?? '';
    const m = /^Bearer +(\S+) *$/i.exec(header);
    // Compare digests: equal lengths for timingSafeEqual, and no early exit on the first differing byte.
    const given = digest(m?.[1] ?? '');
    if (m === null || !timingSafeEqual(given, this.tokenDigest)) {
      throw new HttpError(ErrorCodes.API_UNAUTHORIZED, 401, m === null ? 'this endpoint needs an Authorization: Bearer <token> header' : 'the bearer token is not valid',
        { headers: { 'WWW-Authenticate': 'Bearer realm="pinot-export"' } });
    }
  }

  private send(res: ServerResponse, reply: Reply): void {
    const text = reply.text ?? `${JSON.stringify(redact(reply.body ?? null, { keys: false }))}\n`;
    res.statusCode = reply.status;
    res.setHeader('Content-Type', reply.contentType ?? 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
    res.end(text);
  }

  // -------------------------------------------------------------------------------------------------------
  // Endpoints

  private async schedule(c: RequestContext): Promise<Reply> {
    const taskType = c.query.get('taskType');
    if (taskType !== null && taskType !== TASK_TYPE) throw unknownTaskType(taskType);
    const tableName = c.query.get('tableName');
    const tables = tableName === null ? this.control.tables().map((t) => t.table) : [this.table(tableName).table];
    const results: ScheduleResult[] = [];
    for (const table of tables) results.push(await this.control.schedule(table));
    if (results.length > 0 && results.every((r) => !r.ran)) {
      const leader = results.find((r) => r.leader !== undefined)?.leader;
      throw new HttpError(ErrorCodes.CONTROL_GENERATOR_CONTENDED, 409,
        `instance ${this.control.instance} is not the generator's leader${leader === undefined ? '' : `; schedule on ${leader}`}`,
        // Retryable: leadership moves (or ask the leader named in the message).
        { context: tableName === null ? {} : { table: tables[0]! }, retryable: true });
    }
    const names = results.flatMap((r) => r.emitted);
    return { status: 200, body: { [TASK_TYPE]: names.length > 0 ? names.join(',') : null } };
  }

  private async allTaskStates(_c: RequestContext): Promise<Reply> {
    const out: Record<string, PinotTaskState> = {};
    for (const info of this.control.tables()) Object.assign(out, taskStates(await this.control.readState(info.table)));
    return { status: 200, body: out };
  }

  private async taskStates(c: RequestContext): Promise<Reply> {
    const info = this.table(c.params.table!);
    return { status: 200, body: taskStates(await this.control.readState(info.table)) };
  }

  private async metadata(c: RequestContext): Promise<Reply> {
    const info = this.table(c.params.table!);
    const [state, claims] = await Promise.all([this.control.readState(info.table), this.control.listClaims(info.table)]);
    return { status: 200, body: metadataView(info, state, claims) };
  }

  private async deleteMetadata(c: RequestContext): Promise<Reply> {
    const info = this.table(c.params.table!);
    await this.control.deleteMetadata(info.table);
    this.options.log?.warn('task metadata deleted through the API', { table: info.table });
    return { status: 200, body: { status: `Successfully deleted metadata for task type: ${TASK_TYPE} from table: ${info.table}` } };
  }

  private async health(): Promise<Reply> {
    const report = await this.control.health();
    return { status: report.ok ? 200 : 503, body: report };
  }

  private async metrics(): Promise<Reply> {
    const metrics = this.options.metrics;
    if (metrics === undefined) throw new HttpError(ErrorCodes.API_NOT_FOUND, 404, 'metrics are not enabled on this daemon');
    return { status: 200, text: await metrics.metrics(), contentType: metrics.contentType };
  }

  /** A configured table by name with or without `_REALTIME`; 404 otherwise. */
  private table(name: string): TableInfo {
    const tables = this.control.tables();
    const found = tables.find((t) => t.table === name) ?? tables.find((t) => t.table === `${name}_REALTIME`);
    if (found === undefined) {
      throw new HttpError(ErrorCodes.API_NOT_FOUND, 404, `table ${name} has no ${TASK_TYPE} configured on this daemon; known: ${tables.map((t) => t.table).join(', ') || '(none)'}`,
        { context: { table: name } });
    }
    return found;
  }
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(ErrorCodes.API_BAD_REQUEST, 400, `path segment ${JSON.stringify(s)} is not valid percent-encoding`);
  }
}

function unknownTaskType(taskType: string): HttpError {
  return new HttpError(ErrorCodes.API_BAD_REQUEST, 400, `unknown task type ${JSON.stringify(taskType)}; this daemon runs ${TASK_TYPE} only`);
}

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  API_BAD_REQUEST: 400,
  API_UNAUTHORIZED: 401,
  API_NOT_FOUND: 404,
  STATE_CONFLICT: 409,
  CONTROL_GENERATOR_CONTENDED: 409,
  STATE_UNAVAILABLE: 503,
  STATE_SESSION_EXPIRED: 503,
  STATE_CLOSED: 503,
  CONTROL_LISTING_FAILED: 503,
  TASK_SHUTDOWN: 503,
};

function errorReply(err: unknown): Reply {
  if (err instanceof ExporterError) {
    const status = err instanceof HttpError ? err.status : STATUS_BY_CODE[err.code] ?? 500;
    const headers = err instanceof HttpError ? { ...err.headers } : {};
    if (status === 503 && err.retryable) headers['Retry-After'] = '5';
    return { status, headers, body: { code: err.code, status, error: err.message, retryable: err.retryable, context: err.context } };
  }
  // Not ours: a bug. The message is redacted on the way out like every body; no stack leaves the process.
  const message = errorMessage(err);
  return { status: 500, body: { code: null, status: 500, error: `internal error: ${redactText(message)}`, retryable: false, context: {} } };
}

// ---------------------------------------------------------------------------------------------------------
// Views

/** Task name → TaskState: recent completions first, then the live task set (which wins on the same name). */
export function taskStates(state: TableState | undefined): Record<string, PinotTaskState> {
  const out: Record<string, PinotTaskState> = {};
  if (state === undefined) return out;
  for (const done of state.recent) out[done.segment] = 'COMPLETED';
  for (const task of state.tasks) out[task.id] = pinotTaskState(task);
  return out;
}

export interface TaskView {
  taskId: string;
  segment: string;
  state: PinotTaskState;
  status: TaskStatus;
  attempts: number;
  createdAtMs: number;
  partition?: number;
  sequence?: number;
  startTimeMs?: number;
  endTimeMs?: number;
  totalDocs?: number;
  crc?: string;
  downloadUrl: string;
  owner?: string;
  claimedAtMs?: number;
  notBeforeMs?: number;
  /** A live claim holds the task (an executor works on it now). */
  claimed: boolean;
  error?: { code: string; message: string; retryable: boolean; atMs: number };
}

/** GET …/metadata: the table's export state for people and scripts. */
export function metadataView(info: TableInfo, state: TableState | undefined, claims: readonly ClaimInfo[]): Record<string, unknown> {
  const live = new Set(claims.map((c) => c.taskId));
  const tasks: TaskView[] = (state?.tasks ?? []).map((t) => {
    const view: TaskView = {
      taskId: t.id, segment: t.segment, state: pinotTaskState(t), status: t.status, attempts: t.attempts, createdAtMs: t.createdAtMs,
      downloadUrl: t.downloadUrl, claimed: live.has(t.id),
    };
    for (const k of ['partition', 'sequence', 'startTimeMs', 'endTimeMs', 'totalDocs', 'crc', 'owner', 'claimedAtMs', 'notBeforeMs'] as const) {
      if (t[k] !== undefined) (view as unknown as Record<string, unknown>)[k] = t[k];
    }
    if (t.lastError !== undefined) view.error = { ...t.lastError };
    return view;
  });
  const failures = (state?.tasks ?? []).filter((t) => t.lastError !== undefined && t.status !== 'STAGED').map((t) => ({
    taskId: t.id, segment: t.segment, parked: t.status === 'FAILED', attempts: t.attempts, ...t.lastError!,
  }));
  const partitions = state?.partitions ?? {};
  const named = state?.named ?? {};
  const exportedByPartition = Object.fromEntries(Object.entries(partitions).map(([p, r]) => [p, rangesCount(r)]));
  const count = (s: TaskStatus): number => tasks.filter((t) => t.status === s).length;
  return {
    taskType: TASK_TYPE,
    table: info.table,
    sourceTable: info.sourceTable,
    target: info.target,
    destination: info.destination,
    schedule: info.schedule ?? null,
    exists: state !== undefined,
    watermarkMs: state?.watermarkMs ?? 0,
    watermark: state !== undefined && state.watermarkMs > 0 ? new Date(state.watermarkMs).toISOString() : null,
    progress: {
      exportedSegments: Object.values(exportedByPartition).reduce((a, b) => a + b, 0) + Object.keys(named).length,
      exportedByPartition,
      pending: count('PENDING'),
      running: count('RUNNING'),
      staged: count('STAGED'),
      failed: count('FAILED'),
    },
    checkpoints: { partitions, named },
    tasks,
    failures,
    recent: state?.recent ?? [],
    generator: state?.generator ?? null,
    iceberg: state?.iceberg === undefined ? null : icebergView(state),
    claims,
  };
}

/** The Iceberg queue for `/metadata`: staged files (without the DataFile stats), the pending and last commit. */
function icebergView(state: TableState): Record<string, unknown> {
  const queue = state.iceberg!;
  const pending = queue.pendingCommit;
  return {
    stagedCount: queue.staged.length,
    staged: queue.staged.map((f) => ({
      path: f.path, segment: f.segment, recordCount: f.recordCount, fileSizeBytes: f.fileSizeBytes, stagedAtMs: f.stagedAtMs,
      inPendingCommit: pending?.files.includes(f.path) ?? false,
    })),
    pendingCommit: pending ?? null,
    lastCommit: queue.lastCommit ?? null,
  };
}
