/**
 * The daemon's own configuration file (JSON), as `pinot-export daemon --config <file>` reads it. Relative
 * paths are resolved against the file's directory. Every key is validated; a problem is CONFIG_INVALID
 * naming the key, the value and what is accepted (all problems of the file in one error); unknown keys are
 * warned about by name.
 *
 * | key | default | accepted / meaning |
 * |---|---|---|
 * | `instanceId` | `<hostname>-<pid>` | this daemon's name in claims, task owners and leader election (`[A-Za-z0-9._:-]`, ≤ 128) |
 * | `zookeeper.connect` | required when anything uses ZooKeeper | `host:port[,host:port…][/chroot]` |
 * | `zookeeper.cluster` | `PinotCluster` | the Helix cluster name (`/<cluster>/PROPERTYSTORE/…`) |
 * | `zookeeper.sessionTimeoutMs` | `30000` | 1000 … 600000 |
 * | `zookeeper.connectTimeoutMs` | `10000` | 500 … 600000: how long start-up waits for a first session before failing (`STATE_UNAVAILABLE`), so a cron `--once` against a down ZooKeeper fails fast |
 * | `state.type` | `file` | `file` (one node, embedded) or `zookeeper` (several daemons) |
 * | `state.dir` | `state` (beside the config file) | `file` state: the state directory |
 * | `state.claimTtlMs` | `30000` | `file` state: claim lease; a dead daemon's task is taken over after it (1000 … 3600000) |
 * | `tables.files` | `[]` | table config JSON files (Pinot table configs with `task.taskTypeConfigsMap.DataExportTask`) and schema files |
 * | `tables.zookeeper` | `false` | `true`: every REALTIME table config in ZooKeeper with a DataExportTask; or a list of table names |
 * | `discovery.type` | `zookeeper` with ZooKeeper state, else `deepstore` | `deepstore` (a directory `<root>/<rawTable>/`) or `zookeeper` (segment ZK metadata) |
 * | `discovery.root` | required for `deepstore` | the deep-store directory (path or `file://` URL) |
 * | `executor.concurrency` | `2` | tasks exported in parallel by this daemon (1 … 64) |
 * | `executor.pollIntervalMs` | `1000` | how often task records are polled for work (10 … 60000) |
 * | `retry.maxAttempts` | `3` | attempts per task, the first included, before it is parked FAILED (1 … 100) |
 * | `retry.backoffMs` | `30000` | delay before a task's 2nd attempt, and before the leader retries a generator cycle that failed on a transient error; doubled each further attempt (0 … 86400000) |
 * | `retry.maxBackoffMs` | `600000` | cap of that delay (≥ `retry.backoffMs`) |
 * | `api.host` | `127.0.0.1` | address the HTTP API listens on |
 * | `api.port` | API off | 0 … 65535 (0: any free port) |
 * | `api.token` | none | bearer token for mutating endpoints; required when `api.host` is not a loopback address |
 * | `api.tokenEnv` | none | name of an environment variable holding the token (instead of `api.token`) |
 * | `s3.region`, `s3.endpoint`, `s3.pathStyle` | AWS defaults | client settings for `s3://` download URLs (credentials from the AWS default chain) |
 * | `workDir` | `<os tmp>/pinot-export-<instanceId>` | where segment archives are extracted while exported |
 * | `shutdownGraceMs` | `30000` | on SIGTERM, how long in-flight tasks may finish before they are requeued (0 … 3600000) |
 * | `logLevel` | `info` | `debug`, `info`, `warn`, `error` (JSON lines on stderr) |
 */
import { hostname, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { ConfigError, ErrorCodes } from '../errors.js';

export interface ZooKeeperSettings {
  connect: string;
  cluster: string;
  sessionTimeoutMs: number;
  connectTimeoutMs: number;
}

export type StateSettings = { type: 'file'; dir: string; claimTtlMs: number } | { type: 'zookeeper' };
export type DiscoverySettings = { type: 'deepstore'; root: string } | { type: 'zookeeper' };

export interface ApiSettings {
  host: string;
  port: number;
  /** Never logged or shown. */
  token?: string;
}

export interface DaemonConfig {
  instanceId: string;
  zookeeper?: ZooKeeperSettings;
  state: StateSettings;
  tables: { files: string[]; zookeeper: boolean | string[] };
  discovery: DiscoverySettings;
  executor: { concurrency: number; pollIntervalMs: number };
  retry: { maxAttempts: number; backoffMs: number; maxBackoffMs: number };
  /** Undefined: no HTTP API. */
  api?: ApiSettings;
  s3?: { region?: string; endpoint?: string; pathStyle?: boolean };
  workDir: string;
  shutdownGraceMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export interface ParsedDaemonConfig {
  config: DaemonConfig;
  warnings: string[];
}

export const DEFAULT_CLUSTER = 'PinotCluster';

const KNOWN: Record<string, readonly string[] | null> = {
  instanceId: null,
  zookeeper: ['connect', 'cluster', 'sessionTimeoutMs', 'connectTimeoutMs'],
  state: ['type', 'dir', 'claimTtlMs'],
  tables: ['files', 'zookeeper'],
  discovery: ['type', 'root'],
  executor: ['concurrency', 'pollIntervalMs'],
  retry: ['maxAttempts', 'backoffMs', 'maxBackoffMs'],
  api: ['host', 'port', 'token', 'tokenEnv'],
  s3: ['region', 'endpoint', 'pathStyle'],
  workDir: null,
  shutdownGraceMs: null,
  logLevel: null,
};

export interface ParseOptions {
  /** Directory relative paths are resolved against (the config file's); default the working directory. */
  baseDir?: string;
  /** Environment for `api.tokenEnv` (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Validates a parsed daemon config JSON. Throws one ConfigError (CONFIG_INVALID) listing every problem. */
export function parseDaemonConfig(json: unknown, options: ParseOptions = {}): ParsedDaemonConfig {
  const baseDir = options.baseDir ?? process.cwd();
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const warnings: string[] = [];
  let firstKey: string | undefined;
  const bad = (key: string, value: unknown, accepted: string): undefined => {
    firstKey ??= key;
    problems.push(`${key} = ${show(key, value)}: accepted: ${accepted}`);
    return undefined;
  };
  if (!isRecord(json)) throw new ConfigError(ErrorCodes.CONFIG_INVALID, `the daemon config must be a JSON object, got ${kind(json)}`, { context: { key: '(root)' } });

  for (const [key, value] of Object.entries(json)) {
    if (!Object.hasOwn(KNOWN, key)) {
      warnings.push(`unknown daemon config key ${key} is ignored`);
      continue;
    }
    const children = KNOWN[key];
    if (children === null || children === undefined) continue;
    if (!isRecord(value)) {
      bad(key, value, 'an object');
      continue;
    }
    for (const sub of Object.keys(value)) if (!children.includes(sub)) warnings.push(`unknown daemon config key ${key}.${sub} is ignored`);
  }
  const section = (name: string): Record<string, unknown> => (isRecord(json[name]) ? json[name] : {});
  const str = (key: string, v: unknown, accepted: string): string | undefined => (v === undefined ? undefined : typeof v === 'string' && v.trim() !== '' ? v.trim() : bad(key, v, accepted));
  const int = (key: string, v: unknown, fallback: number, min: number, max: number): number | undefined => {
    if (v === undefined) return fallback;
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max ? v : bad(key, v, `an integer ${min} … ${max}`);
  };
  const path = (p: string): string => (isAbsolute(p) || p.startsWith('file:') ? p : resolve(baseDir, p));

  const instanceId = json.instanceId === undefined ? `${hostname()}-${process.pid}`
    : typeof json.instanceId === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(json.instanceId) ? json.instanceId
      : bad('instanceId', json.instanceId, 'letters, digits, ".", "_", ":", "-" (1 … 128 characters)');

  const zk = section('zookeeper');
  const connect = str('zookeeper.connect', zk.connect, 'host:port[,host:port…][/chroot], e.g. 127.0.0.1:2181');
  if (connect !== undefined && !/^[^\s,/]+:\d+(,[^\s,/]+:\d+)*(\/\S*)?$/.test(connect)) bad('zookeeper.connect', zk.connect, 'host:port[,host:port…][/chroot], e.g. 127.0.0.1:2181');
  const cluster = str('zookeeper.cluster', zk.cluster, 'a Helix cluster name such as PinotCluster') ?? DEFAULT_CLUSTER;
  if (!/^[A-Za-z0-9._-]+$/.test(cluster)) bad('zookeeper.cluster', zk.cluster, 'a Helix cluster name (letters, digits, ".", "_", "-")');
  const sessionTimeoutMs = int('zookeeper.sessionTimeoutMs', zk.sessionTimeoutMs, 30_000, 1000, 600_000);
  const connectTimeoutMs = int('zookeeper.connectTimeoutMs', zk.connectTimeoutMs, 10_000, 500, 600_000);

  const st = section('state');
  const stateType = st.type === undefined ? 'file' : st.type === 'file' || st.type === 'zookeeper' ? st.type : bad('state.type', st.type, 'file, zookeeper');
  let state: StateSettings | undefined;
  if (stateType === 'file') {
    const dir = str('state.dir', st.dir, 'a directory path') ?? 'state';
    const claimTtlMs = int('state.claimTtlMs', st.claimTtlMs, 30_000, 1000, 3_600_000);
    if (claimTtlMs !== undefined) state = { type: 'file', dir: path(dir), claimTtlMs };
  } else if (stateType === 'zookeeper') {
    state = { type: 'zookeeper' };
    for (const k of ['dir', 'claimTtlMs']) if (st[k] !== undefined) warnings.push(`state.${k} is ignored: it applies to state.type=file`);
  }

  const tb = section('tables');
  let files: string[] = [];
  if (tb.files !== undefined) {
    if (Array.isArray(tb.files) && tb.files.every((f) => typeof f === 'string' && f !== '')) files = (tb.files as string[]).map(path);
    else bad('tables.files', tb.files, 'a list of table config / schema JSON file paths');
  }
  let fromZk: boolean | string[] = false;
  if (tb.zookeeper !== undefined) {
    if (typeof tb.zookeeper === 'boolean') fromZk = tb.zookeeper;
    else if (Array.isArray(tb.zookeeper) && tb.zookeeper.every((t) => typeof t === 'string' && /^[A-Za-z0-9_.-]+$/.test(t))) fromZk = tb.zookeeper as string[];
    else bad('tables.zookeeper', tb.zookeeper, 'true, false, or a list of table names');
  }
  if (files.length === 0 && fromZk === false && tb.files !== undefined && problems.length === 0) {
    warnings.push('tables.files is empty and tables.zookeeper is off: there is nothing to export');
  }

  const dc = section('discovery');
  const defaultDiscovery = stateType === 'zookeeper' ? 'zookeeper' : 'deepstore';
  const discoveryType = dc.type === undefined ? defaultDiscovery : dc.type === 'deepstore' || dc.type === 'zookeeper' ? dc.type : bad('discovery.type', dc.type, 'deepstore, zookeeper');
  let discovery: DiscoverySettings | undefined;
  if (discoveryType === 'deepstore') {
    const root = str('discovery.root', dc.root, 'the deep-store directory holding <rawTable>/<segment> (a path or file:// URL)');
    if (root === undefined && dc.root === undefined) bad('discovery.root', undefined, 'the deep-store directory (required for discovery.type=deepstore)');
    else if (root !== undefined) discovery = { type: 'deepstore', root: path(root) };
  } else if (discoveryType === 'zookeeper') {
    discovery = { type: 'zookeeper' };
    if (dc.root !== undefined) warnings.push('discovery.root is ignored: it applies to discovery.type=deepstore');
  }

  const usesZk = stateType === 'zookeeper' || discoveryType === 'zookeeper' || fromZk !== false;
  let zookeeper: ZooKeeperSettings | undefined;
  if (usesZk && connect === undefined && zk.connect === undefined) {
    const users = [stateType === 'zookeeper' && 'state.type', discoveryType === 'zookeeper' && 'discovery.type', fromZk !== false && 'tables.zookeeper'].filter(Boolean).join(', ');
    bad('zookeeper.connect', undefined, `host:port of the Pinot cluster's ZooKeeper (required by ${users})`);
  } else if (connect !== undefined && sessionTimeoutMs !== undefined && connectTimeoutMs !== undefined) {
    zookeeper = { connect, cluster, sessionTimeoutMs, connectTimeoutMs };
  }

  const ex = section('executor');
  const concurrency = int('executor.concurrency', ex.concurrency, 2, 1, 64);
  const pollIntervalMs = int('executor.pollIntervalMs', ex.pollIntervalMs, 1000, 10, 60_000);

  const rt = section('retry');
  const maxAttempts = int('retry.maxAttempts', rt.maxAttempts, 3, 1, 100);
  const backoffMs = int('retry.backoffMs', rt.backoffMs, 30_000, 0, 86_400_000);
  const maxBackoffMs = int('retry.maxBackoffMs', rt.maxBackoffMs, Math.max(600_000, backoffMs ?? 0), 0, 86_400_000);
  if (backoffMs !== undefined && maxBackoffMs !== undefined && maxBackoffMs < backoffMs) bad('retry.maxBackoffMs', rt.maxBackoffMs, `an integer ≥ retry.backoffMs (${backoffMs})`);

  let api: ApiSettings | undefined;
  if (json.api !== undefined && isRecord(json.api)) {
    const a = json.api;
    const host = str('api.host', a.host, 'an IP address or host name, e.g. 127.0.0.1') ?? '127.0.0.1';
    const port = a.port === undefined ? bad('api.port', undefined, 'an integer 0 … 65535 (required to turn the API on; 0 = any free port)') : int('api.port', a.port, 0, 0, 65_535);
    let token = a.token === undefined ? undefined : typeof a.token === 'string' && a.token.length >= 16 ? a.token : bad('api.token', a.token, 'a string of at least 16 characters');
    if (a.tokenEnv !== undefined) {
      if (a.token !== undefined) bad('api.tokenEnv', a.tokenEnv, 'either api.token or api.tokenEnv, not both');
      else if (typeof a.tokenEnv !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(a.tokenEnv)) bad('api.tokenEnv', a.tokenEnv, 'an environment variable name');
      else {
        const fromEnv = env[a.tokenEnv];
        if (fromEnv === undefined || fromEnv.length < 16) bad('api.tokenEnv', a.tokenEnv, `the name of a set environment variable holding at least 16 characters (${a.tokenEnv} is ${fromEnv === undefined ? 'unset' : 'too short'})`);
        else token = fromEnv;
      }
    }
    if (token === undefined && !isLoopback(host) && a.token === undefined && a.tokenEnv === undefined) {
      bad('api.token', undefined, `a bearer token (api.token or api.tokenEnv) is required when api.host (${host}) is not a loopback address`);
    }
    if (port !== undefined) api = token === undefined ? { host, port } : { host, port, token };
  }

  let s3: DaemonConfig['s3'];
  if (json.s3 !== undefined && isRecord(json.s3)) {
    const region = str('s3.region', json.s3.region, 'an AWS region such as us-east-1');
    const endpoint = str('s3.endpoint', json.s3.endpoint, 'an http(s) URL of an S3-compatible endpoint');
    if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint)) bad('s3.endpoint', json.s3.endpoint, 'an http(s) URL of an S3-compatible endpoint');
    const pathStyle = json.s3.pathStyle === undefined ? undefined : typeof json.s3.pathStyle === 'boolean' ? json.s3.pathStyle : bad('s3.pathStyle', json.s3.pathStyle, 'true, false');
    s3 = {};
    if (region !== undefined) s3.region = region;
    if (endpoint !== undefined) s3.endpoint = endpoint;
    if (pathStyle !== undefined) s3.pathStyle = pathStyle;
  }

  const workDirText = str('workDir', json.workDir, 'a directory path');
  const shutdownGraceMs = int('shutdownGraceMs', json.shutdownGraceMs, 30_000, 0, 3_600_000);
  const levels = ['debug', 'info', 'warn', 'error'] as const;
  const logLevel = json.logLevel === undefined ? 'info'
    : typeof json.logLevel === 'string' && (levels as readonly string[]).includes(json.logLevel.toLowerCase()) ? json.logLevel.toLowerCase() as DaemonConfig['logLevel']
      : bad('logLevel', json.logLevel, levels.join(', '));

  if (problems.length > 0) {
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `invalid daemon config: ${problems.join('; ')}`, { context: { key: firstKey } });
  }
  const config: DaemonConfig = {
    instanceId: instanceId!,
    state: state!,
    tables: { files, zookeeper: fromZk },
    discovery: discovery!,
    executor: { concurrency: concurrency!, pollIntervalMs: pollIntervalMs! },
    retry: { maxAttempts: maxAttempts!, backoffMs: backoffMs!, maxBackoffMs: maxBackoffMs! },
    workDir: workDirText !== undefined ? path(workDirText) : join(tmpdir(), `pinot-export-${instanceId!.replace(/:/g, '_')}`),
    shutdownGraceMs: shutdownGraceMs!,
    logLevel: logLevel!,
  };
  if (zookeeper !== undefined) config.zookeeper = zookeeper;
  if (api !== undefined) config.api = api;
  if (s3 !== undefined) config.s3 = s3;
  return { config, warnings };
}

/** Reads and validates a daemon config file; relative paths are resolved against its directory. */
export async function readDaemonConfig(file: string, options: Omit<ParseOptions, 'baseDir'> = {}): Promise<ParsedDaemonConfig> {
  const text = await readFile(file, 'utf8').catch((err: unknown) => {
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `cannot read the daemon config ${file}: ${(err as Error).message}`, { context: { file }, cause: err });
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `the daemon config ${file} is not valid JSON: ${(err as Error).message}`, { context: { file }, cause: err });
  }
  try {
    return parseDaemonConfig(json, { ...options, baseDir: dirname(resolve(file)) });
  } catch (err) {
    if (err instanceof ConfigError) err.addContext({ file });
    throw err;
  }
}

/** A configuration for logs and the API: the token replaced. */
export function redactDaemonConfig(config: DaemonConfig): DaemonConfig {
  return config.api?.token === undefined ? config : { ...config, api: { ...config.api, token: '***' } };
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function show(key: string, value: unknown): string {
  if (value === undefined) return '(missing)';
  // A rejected token must not be echoed back.
  if (key === 'api.token') return typeof value === 'string' ? `(a string of ${value.length} characters)` : kind(value);
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
