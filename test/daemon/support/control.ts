/**
 * A small, real DaemonControl for the API, metrics and log tests, built from the real parts: a
 * FileStateStore in a temp dir, a DeepStoreSegmentSource over segments written by src/generate, the real
 * Generator, the real state transitions (startTask / completeTask / failTask) and, in `runTask`, a real
 * export (SegmentReader → Parquet → LocalSink). It emits the ExportEvents a daemon would, so metrics and
 * logs see the same stream as in production. Not the daemon: no scheduler loop, no executor pool.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DeepStoreSegmentSource } from '../../../src/control/discovery.js';
import { ExportEvents } from '../../../src/control/events.js';
import { exportSegment } from '../../../src/control/export-segment.js';
import { Generator } from '../../../src/control/generator.js';
import type { DaemonControl, HealthReport, ScheduleResult, TableHealth, TableInfo } from '../../../src/daemon/control-surface.js';
import { parseDataExportTaskConfig, type DataExportTaskConfig } from '../../../src/daemon/config.js';
import { ErrorCodes, ExporterError } from '../../../src/errors.js';
import { generateSegments, type GeneratedSegment } from '../../../src/generate/generator.js';
import { createSink } from '../../../src/sinks/fs-config.js';
import { SegmentReader } from '../../../src/sources/segment-reader.js';
import { FileStateStore } from '../../../src/state/file-store.js';
import { emptyTableState, type TableState, type TaskRecord } from '../../../src/state/records.js';
import { updateTable, type ClaimInfo } from '../../../src/state/store.js';
import { completeTask, failTask, findTask, startTask } from '../../../src/state/table-state.js';

/** Credentials planted in the configs; no response, metric or log line may contain any of them. */
export const SECRETS = {
  s3AccessKey: 'PLANTEDACCESSKEY0001',
  s3SecretKey: 'planted/s3+secret=key/0002',
  s3SessionToken: 'planted-session-token-0003',
  catalogToken: 'planted-catalog-token-0004',
  catalogCredential: 'planted-client-id:planted-client-secret-0005',
  catalogPassword: 'planted-userinfo-pass-0006',
  presignedSignature: 'plantedsignature0007deadbeef',
} as const;

/** A clock past every generated segment's end, so all of them are eligible. */
export const NOW = Date.UTC(2027, 0, 1);

export interface TestControlOptions {
  /** Segments generated into the deep store (default 3). */
  segments?: number;
  rows?: number;
  /** tableMaxNumTasks of the events table (default 10). */
  maxTasks?: number;
}

export class TestDaemonControl implements DaemonControl {
  readonly instance = 'api-test-instance';
  readonly events = new ExportEvents();
  /** False: behave as a non-leader instance (schedule does not run a cycle). */
  leader = true;
  /** Set to fail the `state` health check (as an unreachable ZooKeeper would). */
  stateDown = false;
  readonly startedAtMs = Date.now();
  private readonly generator: Generator;
  private readonly infos: TableInfo[];

  private constructor(
    readonly dir: string,
    readonly store: FileStateStore,
    readonly segments: GeneratedSegment[],
    readonly configs: Map<string, DataExportTaskConfig>,
    readonly outputDir: string,
  ) {
    const source = new DeepStoreSegmentSource({ root: join(dir, 'deepstore'), workDir: join(dir, 'work') });
    this.generator = new Generator({ store, source, owner: this.instance, now: () => NOW });
    this.infos = [...configs.values()].map((c) => tableInfo(c));
  }

  static async create(options: TestControlOptions = {}): Promise<TestDaemonControl> {
    const dir = await mkdtemp(join(tmpdir(), 'api-control-'));
    const segments = await generateSegments({ preset: 'events', rows: options.rows ?? 300, seed: 11, segments: options.segments ?? 3, out: join(dir, 'deepstore', 'events') });
    const store = await FileStateStore.open({ dir: join(dir, 'state') });
    const outputDir = join(dir, 'lake');
    const configs = new Map<string, DataExportTaskConfig>();
    const add = (table: string, map: Record<string, string>): void => {
      const { config } = parseDataExportTaskConfig(table, map);
      configs.set(config.table, config);
    };
    // A local lake: the table whose tasks really run.
    add('events', { bufferTimePeriod: '1h', tableMaxNumTasks: String(options.maxTasks ?? 10), outputDirURI: pathToFileURL(outputDir).href, schedule: '0 0/15 * * * ?' });
    // An S3 lake with static keys: never written to here; its config must not leak.
    add('clicks', {
      sourceTableName: 'events', bufferTimePeriod: '1h', outputDirURI: 's3://lake-bucket/exports/clicks/',
      'output.fs.className': 'org.apache.pinot.plugin.filesystem.S3PinotFS', 'output.fs.prop.region': 'us-east-1',
      'output.fs.prop.accessKey': SECRETS.s3AccessKey, 'output.fs.prop.secretKey': SECRETS.s3SecretKey, 'output.fs.prop.sessionToken': SECRETS.s3SessionToken,
    });
    // An Iceberg table whose properties hold a token, a credential and static S3 keys (userinfo in the catalog
    // URI is refused by config validation, so the password rides as the S3 secret).
    add('orders', {
      sourceTableName: 'events', bufferTimePeriod: '1h', 'externalTable.target': 'iceberg-rest', 'externalTable.name': 'analytics.orders',
      'catalog.iceberg-rest.uri': 'https://catalog.invalid/api/catalog',
      'catalog.iceberg-rest.s3.access-key-id': 'AKIAORDERSCATALOG001', 'catalog.iceberg-rest.s3.secret-access-key': SECRETS.catalogPassword,
      'catalog.iceberg-rest.token': SECRETS.catalogToken, 'catalog.iceberg-rest.credential': SECRETS.catalogCredential,
    });
    return new TestDaemonControl(dir, store, segments, configs, outputDir);
  }

  tables(): TableInfo[] {
    return this.infos.map((i) => ({ ...i }));
  }

  async schedule(table: string): Promise<ScheduleResult> {
    const config = this.config(table);
    if (!this.leader) return { table, emitted: [], ran: false, leader: 'api-test-leader' };
    const report = await this.generator.generate({ ...config, table: config.table, sourceTable: config.sourceTable });
    const state = (await this.store.read(config.table))?.value;
    const waiting = (state?.tasks ?? []).filter((t) => t.status !== 'FAILED');
    const oldestEnd = Math.min(...waiting.map((t) => t.endTimeMs ?? NOW));
    this.events.emit('generation.completed', {
      table: config.table, atMs: NOW, emitted: report.emitted.length, pending: waiting.length,
      lagSeconds: waiting.length === 0 ? 0 : Math.max(0, (NOW - oldestEnd) / 1000), watermarkMs: report.watermarkMs, trigger: 'demand',
    });
    return { table: config.table, emitted: report.emitted.map((t) => t.id), ran: true, leader: this.instance };
  }

  async readState(table: string): Promise<TableState | undefined> {
    return (await this.store.read(this.config(table).table))?.value;
  }

  listClaims(table: string): Promise<ClaimInfo[]> {
    return this.store.listClaims(this.config(table).table);
  }

  async deleteMetadata(table: string): Promise<void> {
    const name = this.config(table).table;
    const live = await this.store.listClaims(name);
    if (live.length > 0) {
      throw new ExporterError(ErrorCodes.API_BAD_REQUEST, `${live.length} task(s) of ${name} are running (${live.map((c) => c.taskId).join(', ')}); reset after they finish`, { context: { table: name } });
    }
    await updateTable(this.store, name, (s) => (s === undefined ? undefined : emptyTableState(name)));
  }

  async health(): Promise<HealthReport> {
    const tables: Record<string, TableHealth> = {};
    for (const info of this.infos) {
      const state = (await this.store.read(info.table))?.value;
      const tasks = state?.tasks ?? [];
      const waiting = tasks.filter((t) => t.status !== 'FAILED');
      tables[info.table] = {
        exportLagSeconds: waiting.length === 0 ? 0 : (NOW - Math.min(...waiting.map((t) => t.endTimeMs ?? NOW))) / 1000,
        pending: tasks.filter((t) => t.status === 'PENDING').length,
        running: tasks.filter((t) => t.status === 'RUNNING').length,
        failed: tasks.filter((t) => t.status === 'FAILED').length,
        ...(state?.generator === undefined ? {} : { lastSuccessfulCycleMs: state.generator.atMs }),
      };
    }
    // The detail quotes the catalog URI as a careless implementation might: the API must still redact it.
    const orders = this.configs.get('orders_REALTIME')!;
    const checks = {
      state: this.stateDown ? { ok: false, detail: `cannot reach ${join(this.dir, 'state')}` } : { ok: true },
      'destination:orders_REALTIME': { ok: true, detail: `catalog ${orders.iceberg!.catalogUri}` },
    };
    return { ok: Object.values(checks).every((c) => c.ok), checks, tables, instance: this.instance, leader: this.leader, startedAtMs: this.startedAtMs };
  }

  /**
   * Executes one runnable task of the table as an executor does (claim, start, export to the local lake,
   * complete) and emits task.started / task.completed. Returns the task and the published file, or
   * undefined when nothing was runnable.
   */
  async runTask(table: string): Promise<{ task: TaskRecord; rows: number; bytes: number; uri: string } | undefined> {
    const config = this.config(table);
    const state = (await this.store.read(config.table))?.value;
    const task = state?.tasks.find((t) => t.status === 'PENDING');
    if (task === undefined) return undefined;
    const claim = await this.store.claim(config.table, task.id, this.instance);
    if (claim === undefined) return undefined;
    try {
      const started = await updateTable(this.store, config.table, (s) => startTask(s!, task.id, this.instance, NOW));
      const attempt = findTask(started!.state, task.id)!.attempts;
      const base = { table: config.table, segment: task.segment, taskId: task.id, owner: this.instance, attempt };
      this.events.emit('task.started', base);
      await using reader = await SegmentReader.open(task.downloadUrl, { workDir: join(this.dir, 'work') });
      const sink = await createSink(config.output!);
      const result = await exportSegment({ reader, sink, parquet: config.parquet, signal: claim.signal });
      await updateTable(this.store, config.table, (s) => completeTask(s!, task, this.instance, NOW, { files: [result.file.uri], rows: result.rows }));
      this.events.emit('task.completed', { ...base, rows: result.rows, bytes: result.file.bytes, seconds: result.seconds, files: [result.file.uri], reused: result.file.reused });
      return { task, rows: result.rows, bytes: result.file.bytes, uri: result.file.uri };
    } finally {
      await claim.release();
    }
  }

  /**
   * Records a failed attempt of a pending task through the real state transitions, with `message` as the
   * executor would record a source error, and emits task.started / task.failed.
   */
  async failTask(table: string, code: string, message: string, options: { retryable?: boolean; maxAttempts?: number } = {}): Promise<TaskRecord> {
    const config = this.config(table);
    const task = (await this.store.read(config.table))!.value.tasks.find((t) => t.status === 'PENDING');
    if (task === undefined) throw new Error(`no pending task in ${config.table}`);
    const started = await updateTable(this.store, config.table, (s) => startTask(s!, task.id, this.instance, NOW));
    const attempt = findTask(started!.state, task.id)!.attempts;
    const base = { table: config.table, segment: task.segment, taskId: task.id, owner: this.instance, attempt };
    this.events.emit('task.started', base);
    const retryable = options.retryable ?? false;
    const policy = { maxAttempts: options.maxAttempts ?? 1, backoffMs: () => 60_000 };
    const after = await updateTable(this.store, config.table, (s) => failTask(s!, task.id, this.instance, { code, message, retryable }, NOW, policy));
    const parked = findTask(after!.state, task.id)!.status === 'FAILED';
    this.events.emit('task.failed', { ...base, code, message, retryable, parked, seconds: 0.25, ...(parked ? {} : { retryInMs: 60_000 }) });
    return findTask(after!.state, task.id)!;
  }

  /** Moves a pending task to RUNNING under a live claim (an executor busy with it); release to end. */
  async holdTask(table: string): Promise<{ task: TaskRecord; release(): Promise<void> }> {
    const config = this.config(table);
    const task = (await this.store.read(config.table))!.value.tasks.find((t) => t.status === 'PENDING')!;
    const claim = (await this.store.claim(config.table, task.id, this.instance))!;
    await updateTable(this.store, config.table, (s) => startTask(s!, task.id, this.instance, NOW));
    return { task, release: () => claim.release() };
  }

  async close(): Promise<void> {
    await this.store.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  private config(table: string): DataExportTaskConfig {
    const config = this.configs.get(table) ?? this.configs.get(`${table}_REALTIME`);
    if (config === undefined) throw new ExporterError(ErrorCodes.API_NOT_FOUND, `unknown table ${table}`, { context: { table } });
    return config;
  }
}

function tableInfo(c: DataExportTaskConfig): TableInfo {
  // Destination as a careless implementation would build it (raw catalog URI): the API redacts regardless.
  const destination = c.target === 'iceberg-rest' ? `${c.iceberg!.catalogUri} ${[...c.iceberg!.namespace, c.iceberg!.tableName].join('.')}` : c.output!.uri;
  const info: TableInfo = { table: c.table, sourceTable: c.sourceTable, target: c.target, destination };
  if (c.schedule !== undefined) info.schedule = c.schedule;
  return info;
}
