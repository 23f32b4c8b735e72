/**
 * The DataExportTask configuration: `task.taskTypeConfigsMap.DataExportTask` of a REALTIME table config,
 * read from ZooKeeper (Pinot's property store: `CONFIGS/TABLE/<table>_REALTIME`, schema from
 * `SCHEMAS/<raw table>`) or from local JSON files, and validated key by key. Every problem names the key, the
 * value and what is accepted, and all problems of a config are reported together; unknown keys are warned
 * about by name. Values are strings, as Pinot stores task configs (numbers and booleans in local files are
 * accepted and read as their text).
 *
 * | key | default | accepted |
 * |---|---|---|
 * | `schedule` | none (on demand only) | Quartz cron with seconds, UTC, e.g. `0 0/15 * * * ?` |
 * | `sourceTableName` | the table itself | a REALTIME table name, with or without `_REALTIME` |
 * | `externalTable.target` | `filesystem` | `filesystem`, `iceberg-rest` |
 * | `bufferTimePeriod` | `2d` | Pinot period (`1d`, `6h`, `30m`, `1d12h` …): a segment is exported once it ended that long ago |
 * | `initialWatermarkMs` | `0` | epoch ms ≥ 0: segments that ended before it are never exported |
 * | `tableMaxNumTasks` | `10` | integer ≥ 1: new tasks per cycle, and the cap on pending + running tasks |
 * | `fileFormat`, `fileFormat.parquet.*` | `parquet`, see src/pipeline/parquet-options.ts | validated by `parseParquetOptions` |
 * | `outputDirURI`, `output.fs.className`, `output.fs.prop.*` | required for `filesystem` | validated by `parseOutputConfig` (src/sinks/fs-config.ts) |
 * | `externalTable.name` | required for `iceberg-rest` | Iceberg identifier `namespace[.namespace…].table` |
 * | `catalog.iceberg-rest.uri` | required for `iceberg-rest` | http(s) URL of the REST catalog |
 * | `catalog.iceberg-rest.*` | | catalog properties passed to the REST client (strings; `rest.sigv4-enabled` true/false) |
 * | `iceberg.commitThreshold` | `250` | integer ≥ 1: staged data files per Iceberg commit |
 * | `iceberg.maxCommitWaitMs` | `900000` (15 min) | integer ≥ 0: a staged file commits after this long even below the threshold |
 *
 * The bounds (bufferTimePeriod default as Pinot's RealtimeToOfflineSegmentsTask) are this exporter's choices.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, ErrorCodes, ExporterError } from '../errors.js';
import { parsePeriodMs, PERIOD_ACCEPTS } from '../control/period.js';
import { DEFAULT_COMMIT_THRESHOLD, DEFAULT_MAX_COMMIT_WAIT_MS } from '../control/committer.js';
import { SCHEDULE_ACCEPTS, scheduleProblem } from '../control/scheduler.js';
import { parseZNRecord, type ZNRecord } from '../control/znrecord.js';
import { PARQUET_KEYS, parseParquetOptions, type ParquetOptions } from '../pipeline/parquet-options.js';
import {
  OUTPUT_DIR_URI, OUTPUT_FS_CLASS, OUTPUT_FS_CLASS_NAME, OUTPUT_FS_PROP_PREFIX, parseOutputConfig, type OutputTarget,
} from '../sinks/fs-config.js';
import { catalogProperties, parseCatalogSettings } from '../sinks/iceberg/catalog-config.js';
import type { ZkClient } from '../state/zk-client.js';
import { TASK_TYPE } from '../state/zookeeper-store.js';

export { TASK_TYPE };

export const KEYS = {
  schedule: 'schedule',
  sourceTableName: 'sourceTableName',
  target: 'externalTable.target',
  bufferTimePeriod: 'bufferTimePeriod',
  initialWatermarkMs: 'initialWatermarkMs',
  tableMaxNumTasks: 'tableMaxNumTasks',
  externalTableName: 'externalTable.name',
  catalogUri: 'catalog.iceberg-rest.uri',
  commitThreshold: 'iceberg.commitThreshold',
  maxCommitWaitMs: 'iceberg.maxCommitWaitMs',
} as const;

export const CATALOG_PREFIX = 'catalog.iceberg-rest.';
export const DEFAULT_BUFFER_TIME_PERIOD = '2d';
export const DEFAULT_TABLE_MAX_NUM_TASKS = 10;
export const TARGETS = ['filesystem', 'iceberg-rest'] as const;
export type ExportTarget = (typeof TARGETS)[number];

/** Keys Pinot's controller reads from any task config; known, not ours. */
const PINOT_TASK_KEYS = ['minionInstanceTag'];

export interface IcebergTargetConfig {
  catalogUri: string;
  /** Every `catalog.iceberg-rest.*` key, prefix removed (uri included). */
  catalog: Record<string, string>;
  namespace: string[];
  tableName: string;
  commitThreshold: number;
  maxCommitWaitMs: number;
}

export interface DataExportTaskConfig {
  /** The table whose config this is (name with type), e.g. `events_REALTIME`. */
  table: string;
  /** The REALTIME table whose segments are exported (name with type). */
  sourceTable: string;
  schedule?: string;
  fileFormat: 'parquet';
  target: ExportTarget;
  bufferTimePeriod: string;
  bufferMs: number;
  initialWatermarkMs: number;
  tableMaxNumTasks: number;
  parquet: ParquetOptions;
  /** Filesystem output (required for `filesystem`; for `iceberg-rest` only when `outputDirURI` is set). */
  output?: OutputTarget;
  iceberg?: IcebergTargetConfig;
  /** `segmentsConfig.timeColumnName` of the table config, when read from a whole table config. */
  timeColumn?: string;
  /** The table's Pinot schema (JSON), when one was found. */
  schema?: Record<string, unknown>;
  /** The task config map as read. */
  raw: Readonly<Record<string, string>>;
}

export interface ConfigIssue {
  key: string;
  value?: string;
  message: string;
}

export interface ParsedDataExportConfig {
  config: DataExportTaskConfig;
  warnings: string[];
}

/** All problems of one table's DataExportTask config. */
export class DataExportConfigError extends ConfigError {
  readonly issues: ConfigIssue[];

  constructor(table: string, issues: ConfigIssue[]) {
    super(ErrorCodes.CONFIG_INVALID, `invalid ${TASK_TYPE} config: ${issues.map((i) => i.message).join('; ')}`, {
      context: { table, key: issues[0]?.key },
    });
    this.issues = issues;
  }
}

/**
 * Validates a DataExportTask config map of table `table` (name with or without `_REALTIME`). Throws
 * DataExportConfigError listing every problem; returns the typed config and warnings (unknown keys …).
 */
export function parseDataExportTaskConfig(table: string, map: Readonly<Record<string, unknown>>): ParsedDataExportConfig {
  const tableWithType = realtimeName(table);
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const raw = stringValues(map, issues);
  const bad = (key: string, accepted: string, detail?: string): void => {
    const value = raw[key];
    issues.push({ key, value, message: `${key} = ${JSON.stringify(value)}${detail ? `: ${detail}` : ''}; accepted: ${accepted}` });
  };

  const schedule = raw[KEYS.schedule];
  if (schedule !== undefined) {
    const problem = scheduleProblem(schedule);
    if (problem !== undefined) bad(KEYS.schedule, SCHEDULE_ACCEPTS, problem);
  }

  let sourceTable = tableWithType;
  const source = raw[KEYS.sourceTableName];
  if (source !== undefined) {
    if (!/^[A-Za-z0-9_.-]+$/.test(source) || /_OFFLINE$/.test(source)) bad(KEYS.sourceTableName, 'a REALTIME table name such as events or events_REALTIME');
    else sourceTable = realtimeName(source);
  }

  let target: ExportTarget = 'filesystem';
  const targetText = raw[KEYS.target];
  if (targetText !== undefined) {
    if ((TARGETS as readonly string[]).includes(targetText.trim().toLowerCase())) target = targetText.trim().toLowerCase() as ExportTarget;
    else bad(KEYS.target, TARGETS.join(', '));
  }

  const bufferTimePeriod = raw[KEYS.bufferTimePeriod] ?? DEFAULT_BUFFER_TIME_PERIOD;
  const bufferMs = parsePeriodMs(bufferTimePeriod);
  if (bufferMs === undefined) bad(KEYS.bufferTimePeriod, PERIOD_ACCEPTS);

  const initialWatermarkMs = integer(raw, KEYS.initialWatermarkMs, 0, 0, 'epoch milliseconds, an integer ≥ 0 (e.g. 1735689600000 for 2025-01-01T00:00Z)', bad);
  const tableMaxNumTasks = integer(raw, KEYS.tableMaxNumTasks, DEFAULT_TABLE_MAX_NUM_TASKS, 1, 'an integer ≥ 1', bad);

  const parquet = delegate(issues, () => parseParquetOptions(raw));

  let output: OutputTarget | undefined;
  const hasOutputKeys = Object.keys(raw).some(isOutputKey);
  if (target === 'filesystem' || hasOutputKeys) {
    output = delegate(issues, () => parseOutputConfig(raw));
    if (output !== undefined) warnings.push(...output.warnings);
  }

  let iceberg: IcebergTargetConfig | undefined;
  const catalogKeys = Object.keys(raw).filter((k) => k.startsWith(CATALOG_PREFIX));
  if (target === 'iceberg-rest') {
    iceberg = icebergConfig(raw, catalogKeys, bad, issues);
  } else {
    for (const key of [...catalogKeys, KEYS.externalTableName, KEYS.commitThreshold, KEYS.maxCommitWaitMs]) {
      if (raw[key] !== undefined) warnings.push(`${key} is ignored: it applies to ${KEYS.target}=iceberg-rest, the target is ${target}`);
    }
  }

  for (const key of Object.keys(raw)) {
    if (!isKnownKey(key)) warnings.push(`unknown ${TASK_TYPE} key ${key} is ignored`);
  }

  if (issues.length > 0) throw new DataExportConfigError(tableWithType, issues);
  const config: DataExportTaskConfig = {
    table: tableWithType, sourceTable, fileFormat: 'parquet', target, bufferTimePeriod, bufferMs: bufferMs!, initialWatermarkMs: initialWatermarkMs!,
    tableMaxNumTasks: tableMaxNumTasks!, parquet: parquet!, raw,
  };
  if (schedule !== undefined) config.schedule = schedule;
  if (output !== undefined) config.output = output;
  if (iceberg !== undefined) config.iceberg = iceberg;
  return { config, warnings };
}

function icebergConfig(raw: Record<string, string>, catalogKeys: string[], bad: (key: string, accepted: string, detail?: string) => void, issues: ConfigIssue[]): IcebergTargetConfig | undefined {
  const before = issues.length;
  const uri = raw[KEYS.catalogUri];
  if (uri === undefined) issues.push({ key: KEYS.catalogUri, message: `${KEYS.catalogUri} is required for ${KEYS.target}=iceberg-rest; accepted: an http(s) URL such as https://glue.us-east-1.amazonaws.com/iceberg` });
  else if (!isHttpUrl(uri)) bad(KEYS.catalogUri, 'an http:// or https:// URL');
  const name = raw[KEYS.externalTableName];
  const parts = name?.split('.') ?? [];
  if (name === undefined) issues.push({ key: KEYS.externalTableName, message: `${KEYS.externalTableName} is required for ${KEYS.target}=iceberg-rest; accepted: namespace.table (e.g. analytics.events)` });
  else if (parts.length < 2 || parts.some((p) => p.trim() === '')) bad(KEYS.externalTableName, 'namespace.table, namespaces separated by dots (e.g. analytics.events)');
  const sigv4 = raw[`${CATALOG_PREFIX}rest.sigv4-enabled`];
  if (sigv4 !== undefined && !['true', 'false'].includes(sigv4.trim().toLowerCase())) bad(`${CATALOG_PREFIX}rest.sigv4-enabled`, 'true, false');
  const commitThreshold = integer(raw, KEYS.commitThreshold, DEFAULT_COMMIT_THRESHOLD, 1, 'an integer ≥ 1 (data files per Iceberg commit)', bad);
  const maxCommitWaitMs = integer(raw, KEYS.maxCommitWaitMs, DEFAULT_MAX_COMMIT_WAIT_MS, 0, 'an integer ≥ 0 (milliseconds a staged file may wait for a commit)', bad);
  if (issues.length > before) return undefined;
  const catalog = catalogProperties(raw);
  // Auth modes, signing and s3.* overrides are validated by the REST client's own parser, reported here with the rest.
  if (delegate(issues, () => parseCatalogSettings(catalog)) === undefined) return undefined;
  return { catalogUri: uri!, catalog, namespace: parts.slice(0, -1), tableName: parts.at(-1)!, commitThreshold: commitThreshold!, maxCommitWaitMs: maxCommitWaitMs! };
}

function integer(raw: Record<string, string>, key: string, fallback: number, min: number, accepted: string, bad: (key: string, accepted: string) => void): number | undefined {
  const text = raw[key];
  if (text === undefined) return fallback;
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    bad(key, accepted);
    return undefined;
  }
  return n;
}

/** Runs a delegated parser (which throws its first ConfigError) and records its error as an issue. */
function delegate<T>(issues: ConfigIssue[], parse: () => T): T | undefined {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof ExporterError) || err.code !== ErrorCodes.CONFIG_INVALID) throw err;
    issues.push({ key: err.context.key ?? '(unknown)', message: err.detail });
    return undefined;
  }
}

function isOutputKey(key: string): boolean {
  return key === OUTPUT_DIR_URI || key === OUTPUT_FS_CLASS_NAME || key === OUTPUT_FS_CLASS || key.startsWith(OUTPUT_FS_PROP_PREFIX);
}

const GENERAL_KEYS = new Set<string>([...Object.values(KEYS), ...Object.values(PARQUET_KEYS), ...PINOT_TASK_KEYS]);

function isKnownKey(key: string): boolean {
  // fileFormat.parquet.* keys that are not Parquet keys are refused by parseParquetOptions already.
  return GENERAL_KEYS.has(key) || isOutputKey(key) || key.startsWith(CATALOG_PREFIX) || key.startsWith('fileFormat.parquet.');
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function stringValues(map: Readonly<Record<string, unknown>>, issues: ConfigIssue[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(map)) {
    if (typeof v === 'string') out[key] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[key] = String(v);
    else if (v !== null && v !== undefined) issues.push({ key, message: `${key} = ${JSON.stringify(v)}: accepted: a string (Pinot task configs are string maps)` });
  }
  return out;
}

/** `events` / `events_REALTIME` → `events_REALTIME`. */
export function realtimeName(table: string): string {
  return table.endsWith('_REALTIME') ? table : `${table}_REALTIME`;
}

// ---------------------------------------------------------------------------------------------------------
// Table configs: Pinot JSON (files, REST) and ZNRecords (ZooKeeper)

/**
 * A table config ZNRecord (`/<cluster>/PROPERTYSTORE/CONFIGS/TABLE/<table>`, pinot-segment-format.md §13.4)
 * → the table config JSON Pinot's REST API shows: `tableName`, `tableType` as they are, the other simple
 * fields (`segmentsConfig`, `task`, …) parsed from their JSON strings.
 */
export function tableConfigFromZnRecord(record: ZNRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record.simpleFields)) {
    if (key === 'tableName' || key === 'tableType') {
      out[key] = value;
      continue;
    }
    try {
      out[key] = JSON.parse(value) as unknown;
    } catch {
      out[key] = value;
    }
  }
  return out;
}

export interface TableConfigSource {
  /** The whole table config (Pinot JSON). */
  tableConfig: unknown;
  /** The table's schema (Pinot JSON), when found. */
  schema?: unknown;
  /** Where it came from, for messages. */
  where: string;
}

/** A whole table config → its validated DataExportTask config; undefined when the table has no such task. */
export function dataExportConfigFromTableConfig(source: TableConfigSource): ParsedDataExportConfig | undefined {
  const tc = source.tableConfig;
  if (!isRecord(tc)) throw new ConfigError(ErrorCodes.CONFIG_INVALID, `${source.where}: a table config must be a JSON object`, { context: { file: source.where } });
  const tableName = tc.tableName;
  if (typeof tableName !== 'string' || tableName === '') {
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `${source.where}: tableName is missing`, { context: { file: source.where, key: 'tableName' } });
  }
  const tableType = typeof tc.tableType === 'string' ? tc.tableType.toUpperCase() : tableName.endsWith('_REALTIME') ? 'REALTIME' : undefined;
  const task = isRecord(tc.task) && isRecord(tc.task.taskTypeConfigsMap) ? tc.task.taskTypeConfigsMap[TASK_TYPE] : undefined;
  if (task === undefined) return undefined;
  if (tableType !== 'REALTIME') {
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `${source.where}: ${TASK_TYPE} exports REALTIME tables; ${tableName} is ${tableType ?? 'of unknown type'}`, {
      context: { table: tableName, key: 'tableType' },
    });
  }
  if (!isRecord(task)) {
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `${source.where}: task.taskTypeConfigsMap.${TASK_TYPE} must be an object of string values`, {
      context: { table: tableName, key: `task.taskTypeConfigsMap.${TASK_TYPE}` },
    });
  }
  const parsed = parseDataExportTaskConfig(tableName.replace(/_REALTIME$/, ''), task);
  const segmentsConfig = isRecord(tc.segmentsConfig) ? tc.segmentsConfig : {};
  if (typeof segmentsConfig.timeColumnName === 'string') parsed.config.timeColumn = segmentsConfig.timeColumnName;
  if (isRecord(source.schema)) parsed.config.schema = source.schema;
  return parsed;
}

/**
 * Reads a REALTIME table's config and schema from Pinot's property store (`CONFIGS/TABLE/<table>_REALTIME`,
 * `SCHEMAS/<schemaName or raw table>`). Undefined when the table config does not exist.
 */
export async function readTableConfigFromZk(client: ZkClient, cluster: string, table: string): Promise<TableConfigSource | undefined> {
  const tableWithType = realtimeName(table);
  const path = `/${cluster}/PROPERTYSTORE/CONFIGS/TABLE/${tableWithType}`;
  const got = await client.getData(path);
  if (got === undefined) return undefined;
  const tableConfig = tableConfigFromZnRecord(parseZNRecord(got.data, path));
  const segmentsConfig = isRecord(tableConfig.segmentsConfig) ? tableConfig.segmentsConfig : {};
  const schemaName = typeof segmentsConfig.schemaName === 'string' ? segmentsConfig.schemaName : tableWithType.replace(/_REALTIME$/, '');
  const schemaPath = `/${cluster}/PROPERTYSTORE/SCHEMAS/${schemaName}`;
  const schemaNode = await client.getData(schemaPath);
  const source: TableConfigSource = { tableConfig, where: path };
  if (schemaNode !== undefined) {
    const json = parseZNRecord(schemaNode.data, schemaPath).simpleFields.schemaJSON;
    if (json !== undefined) source.schema = parseJson(json, schemaPath);
  }
  return source;
}

/** Names of the REALTIME tables that have a table config in ZooKeeper. */
export async function listRealtimeTablesInZk(client: ZkClient, cluster: string): Promise<string[]> {
  const names = (await client.getChildren(`/${cluster}/PROPERTYSTORE/CONFIGS/TABLE`)) ?? [];
  return names.filter((n) => n.endsWith('_REALTIME')).sort();
}

/**
 * Local JSON files: each is a Pinot table config (has `tableName`) or a schema (has `schemaName`); a schema is
 * paired with the table configs whose schema (or raw table name) it names.
 */
export async function readTableConfigFiles(paths: readonly string[]): Promise<TableConfigSource[]> {
  const configs: TableConfigSource[] = [];
  const schemas = new Map<string, Record<string, unknown>>();
  for (const path of paths) {
    const text = await readFile(path, 'utf8').catch((err: unknown) => {
      throw new ConfigError(ErrorCodes.CONFIG_INVALID, `cannot read ${path}: ${(err as Error).message}`, { context: { file: path }, cause: err });
    });
    const json = parseJson(text, path);
    if (isRecord(json) && typeof json.schemaName === 'string' && json.tableName === undefined) schemas.set(json.schemaName, json);
    else configs.push({ tableConfig: json, where: path });
  }
  for (const source of configs) {
    const tc = source.tableConfig;
    if (!isRecord(tc) || typeof tc.tableName !== 'string') continue;
    const segmentsConfig = isRecord(tc.segmentsConfig) ? tc.segmentsConfig : {};
    const name = typeof segmentsConfig.schemaName === 'string' ? segmentsConfig.schemaName : tc.tableName.replace(/_(REALTIME|OFFLINE)$/, '');
    const schema = schemas.get(name);
    if (schema !== undefined) source.schema = schema;
  }
  return configs;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `${where} is not valid JSON: ${(err as Error).message}`, { context: { file: where }, cause: err });
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
