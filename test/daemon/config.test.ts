import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeZNRecord } from '../../src/control/znrecord.js';
import {
  DataExportConfigError, dataExportConfigFromTableConfig, listRealtimeTablesInZk, parseDataExportTaskConfig, readTableConfigFiles,
  readTableConfigFromZk, tableConfigFromZnRecord,
} from '../../src/daemon/config.js';
import { ZkClient } from '../../src/state/zk-client.js';
import { describeWithZooKeeper, ZooKeeperServer } from '../support/zookeeper.js';

const MINIMAL = { outputDirURI: 's3://bucket/exports/events/' };

function issues(map: Record<string, unknown>, table = 'events'): DataExportConfigError {
  try {
    parseDataExportTaskConfig(table, map);
  } catch (err) {
    expect(err).toBeInstanceOf(DataExportConfigError);
    return err as DataExportConfigError;
  }
  return expect.fail('expected a DataExportConfigError');
}

describe('DataExportTask config: general keys', () => {
  it('applies the defaults', () => {
    const { config, warnings } = parseDataExportTaskConfig('events', MINIMAL);
    expect(config).toMatchObject({
      table: 'events_REALTIME', sourceTable: 'events_REALTIME', fileFormat: 'parquet', target: 'filesystem', bufferTimePeriod: '2d',
      bufferMs: 2 * 86_400_000, initialWatermarkMs: 0, tableMaxNumTasks: 10,
      parquet: { compressionCodec: 'SNAPPY', enableDictionary: true },
      output: { kind: 's3', bucket: 'bucket', prefix: 'exports/events/' },
    });
    expect(config.schedule).toBeUndefined();
    expect(config.iceberg).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('reads every general key', () => {
    const { config } = parseDataExportTaskConfig('events_REALTIME', {
      ...MINIMAL, schedule: '0 0/15 * * * ?', sourceTableName: 'clicks', fileFormat: 'PARQUET', 'externalTable.target': 'filesystem',
      bufferTimePeriod: '6h', initialWatermarkMs: '1735689600000', tableMaxNumTasks: 25,
    });
    expect(config).toMatchObject({
      table: 'events_REALTIME', sourceTable: 'clicks_REALTIME', schedule: '0 0/15 * * * ?', bufferTimePeriod: '6h', bufferMs: 21_600_000,
      initialWatermarkMs: 1735689600000, tableMaxNumTasks: 25,
    });
  });

  it.each([
    ['schedule', '*/5 * * * *', 'Quartz cron expression with seconds'],
    ['bufferTimePeriod', '2 days', "'1d', '6h', '30m'"],
    ['bufferTimePeriod', '1w', 'days, hours, minutes, seconds'],
    ['initialWatermarkMs', '-5', 'epoch milliseconds'],
    ['initialWatermarkMs', '2025-01-01', 'epoch milliseconds'],
    ['tableMaxNumTasks', '0', 'an integer ≥ 1'],
    ['tableMaxNumTasks', 'many', 'an integer ≥ 1'],
    ['externalTable.target', 'delta', 'filesystem, iceberg-rest'],
    ['sourceTableName', 'events_OFFLINE', 'a REALTIME table name'],
  ])('%s = %j is refused naming the key, the value and what is accepted', (key, value, accepted) => {
    const err = issues({ ...MINIMAL, [key]: value });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatchObject({ key, value });
    expect(err.issues[0]!.message).toContain(`${key} = ${JSON.stringify(value)}`);
    expect(err.issues[0]!.message).toContain(accepted);
    expect(err.message).toContain(key);
  });

  it('reports every problem at once', () => {
    const err = issues({ ...MINIMAL, bufferTimePeriod: 'soon', tableMaxNumTasks: '-1', schedule: 'hourly' });
    expect(err.issues.map((i) => i.key).sort()).toEqual(['bufferTimePeriod', 'schedule', 'tableMaxNumTasks']);
  });

  it('warns about unknown keys by name', () => {
    const { warnings } = parseDataExportTaskConfig('events', { ...MINIMAL, bufferTimePeriode: '1d', minionInstanceTag: 'minion_untagged' });
    expect(warnings).toEqual(['unknown DataExportTask key bufferTimePeriode is ignored']);
  });

  it('refuses values that are not strings (Pinot task configs are string maps)', () => {
    expect(issues({ ...MINIMAL, tableMaxNumTasks: { n: 1 } }).issues[0]!.key).toBe('tableMaxNumTasks');
  });
});

describe('DataExportTask config: delegated Parquet and filesystem keys', () => {
  it('passes fileFormat.parquet.* to the Parquet options parser', () => {
    const { config } = parseDataExportTaskConfig('events', { ...MINIMAL, 'fileFormat.parquet.compressionCodec': 'zstd', 'fileFormat.parquet.pageSizeBytes': '65536' });
    expect(config.parquet).toMatchObject({ compressionCodec: 'ZSTD', pageSizeBytes: 65536 });
    const err = issues({ ...MINIMAL, 'fileFormat.parquet.compressionCodec': 'LZ5' });
    expect(err.issues[0]).toMatchObject({ key: 'fileFormat.parquet.compressionCodec' });
    expect(err.issues[0]!.message).toContain('LZ5');
    expect(err.issues[0]!.message).toContain('SNAPPY');
    expect(issues({ ...MINIMAL, fileFormat: 'orc' }).issues[0]!.key).toBe('fileFormat');
  });

  it('passes the filesystem keys to the sink config parser; outputDirURI is required for the filesystem target', () => {
    const { config, warnings } = parseDataExportTaskConfig('events', { outputDirURI: 'file:///data/exports', 'output.fs.prop.region': 'x' });
    expect(config.output).toMatchObject({ kind: 'local', dir: '/data/exports' });
    expect(warnings).toEqual([expect.stringContaining('output.fs.prop.region is ignored')]);
    expect(issues({}).issues[0]).toMatchObject({ key: 'outputDirURI' });
    expect(issues({ outputDirURI: 'gs://bucket/x' }).issues[0]!.message).toContain('not supported');
  });
});

describe('DataExportTask config: Iceberg REST target', () => {
  const ICEBERG = { 'externalTable.target': 'iceberg-rest', 'externalTable.name': 'analytics.events', 'catalog.iceberg-rest.uri': 'https://catalog.example.com/api' };

  it('reads the catalog keys, the table identifier and the commit threshold (default 250)', () => {
    const { config } = parseDataExportTaskConfig('events', {
      ...ICEBERG, 'catalog.iceberg-rest.warehouse': 's3://wh', 'catalog.iceberg-rest.rest.sigv4-enabled': 'true', 'catalog.iceberg-rest.rest.signing-region': 'eu-west-1',
    });
    expect(config.target).toBe('iceberg-rest');
    expect(config.output).toBeUndefined();
    expect(config.iceberg).toEqual({
      catalogUri: 'https://catalog.example.com/api', catalog: { uri: 'https://catalog.example.com/api', warehouse: 's3://wh', 'rest.sigv4-enabled': 'true', 'rest.signing-region': 'eu-west-1' },
      namespace: ['analytics'], tableName: 'events', commitThreshold: 250, maxCommitWaitMs: 900000,
    });
    expect(parseDataExportTaskConfig('events', { ...ICEBERG, 'externalTable.name': 'a.b.c', 'iceberg.commitThreshold': '10', 'iceberg.maxCommitWaitMs': '0' }).config.iceberg)
      .toMatchObject({ namespace: ['a', 'b'], tableName: 'c', commitThreshold: 10, maxCommitWaitMs: 0 });
  });

  it('validates the catalog properties with the REST client\'s parser (SigV4 needs a region)', () => {
    const saved = process.env.AWS_REGION;
    delete process.env.AWS_REGION;
    try {
      const err = issues({ ...ICEBERG, 'catalog.iceberg-rest.rest.sigv4-enabled': 'true' });
      expect(err.issues.map((i) => i.key)).toEqual(['catalog.iceberg-rest.rest.signing-region']);
    } finally {
      if (saved !== undefined) process.env.AWS_REGION = saved;
    }
  });

  it('requires the catalog URI and the table name, and checks their shape', () => {
    expect(issues({ 'externalTable.target': 'iceberg-rest' }).issues.map((i) => i.key).sort()).toEqual(['catalog.iceberg-rest.uri', 'externalTable.name']);
    const err = issues({ ...ICEBERG, 'catalog.iceberg-rest.uri': 'thrift://x', 'externalTable.name': 'events', 'iceberg.commitThreshold': '0', 'iceberg.maxCommitWaitMs': '-1', 'catalog.iceberg-rest.rest.sigv4-enabled': 'yes' });
    expect(Object.fromEntries(err.issues.map((i) => [i.key, i.value]))).toEqual({
      'catalog.iceberg-rest.uri': 'thrift://x', 'externalTable.name': 'events', 'iceberg.commitThreshold': '0', 'iceberg.maxCommitWaitMs': '-1', 'catalog.iceberg-rest.rest.sigv4-enabled': 'yes',
    });
  });

  it('warns that Iceberg keys do nothing for the filesystem target', () => {
    const { warnings } = parseDataExportTaskConfig('events', { ...MINIMAL, 'iceberg.commitThreshold': '5', 'catalog.iceberg-rest.uri': 'https://x' });
    expect(warnings).toHaveLength(2);
    expect(warnings.every((w) => w.includes('applies to externalTable.target=iceberg-rest'))).toBe(true);
  });
});

const TABLE_CONFIG = {
  tableName: 'events_REALTIME',
  tableType: 'REALTIME',
  segmentsConfig: { timeColumnName: 'ts', schemaName: 'events', replication: '1' },
  task: { taskTypeConfigsMap: { DataExportTask: { ...MINIMAL, schedule: '0 0 * * * ?' }, RealtimeToOfflineSegmentsTask: { bucketTimePeriod: '1d' } } },
};
const SCHEMA = { schemaName: 'events', dateTimeFieldSpecs: [{ name: 'ts', dataType: 'TIMESTAMP', format: '1:MILLISECONDS:EPOCH', granularity: '1:MILLISECONDS' }] };

describe('table configs', () => {
  it('takes the DataExportTask map out of a table config, with the time column and schema', () => {
    const parsed = dataExportConfigFromTableConfig({ tableConfig: TABLE_CONFIG, schema: SCHEMA, where: 'x' })!;
    expect(parsed.config).toMatchObject({ table: 'events_REALTIME', schedule: '0 0 * * * ?', timeColumn: 'ts', schema: SCHEMA });
    expect(dataExportConfigFromTableConfig({ tableConfig: { ...TABLE_CONFIG, task: {} }, where: 'x' })).toBeUndefined();
    expect(() => dataExportConfigFromTableConfig({ tableConfig: { ...TABLE_CONFIG, tableName: 'events_OFFLINE', tableType: 'OFFLINE' }, where: 'x' }))
      .toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('exports REALTIME tables') }));
  });

  it('reads local JSON files, pairing a schema file with its table', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'configs-'));
    try {
      await writeFile(join(dir, 'events.table.json'), JSON.stringify(TABLE_CONFIG));
      await writeFile(join(dir, 'events.schema.json'), JSON.stringify(SCHEMA));
      const sources = await readTableConfigFiles([join(dir, 'events.table.json'), join(dir, 'events.schema.json')]);
      expect(sources).toHaveLength(1);
      expect(dataExportConfigFromTableConfig(sources[0]!)!.config.schema).toEqual(SCHEMA);
      await writeFile(join(dir, 'bad.json'), '{');
      await expect(readTableConfigFiles([join(dir, 'bad.json')])).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describeWithZooKeeper('table configs from ZooKeeper', () => {
  let zk: ZooKeeperServer;
  let client: ZkClient;
  beforeAll(async () => {
    zk = await ZooKeeperServer.start();
    client = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 20_000 });
    // As Pinot stores them: simple fields, nested configs as JSON strings; the schema as schemaJSON.
    const simpleFields = Object.fromEntries(Object.entries(TABLE_CONFIG).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    await client.ensurePath('/PinotCluster/PROPERTYSTORE/CONFIGS/TABLE');
    await client.ensurePath('/PinotCluster/PROPERTYSTORE/SCHEMAS');
    await client.create('/PinotCluster/PROPERTYSTORE/CONFIGS/TABLE/events_REALTIME', serializeZNRecord({ id: 'events_REALTIME', simpleFields, mapFields: {}, listFields: {} }));
    await client.create('/PinotCluster/PROPERTYSTORE/CONFIGS/TABLE/events_OFFLINE', serializeZNRecord({ id: 'events_OFFLINE', simpleFields: { tableName: 'events_OFFLINE' }, mapFields: {}, listFields: {} }));
    await client.create('/PinotCluster/PROPERTYSTORE/SCHEMAS/events', serializeZNRecord({ id: 'events', simpleFields: { schemaJSON: JSON.stringify(SCHEMA) }, mapFields: {}, listFields: {} }, true));
  });
  afterAll(async () => {
    client?.close();
    await zk?.close();
  });

  it('reads CONFIGS/TABLE/<table>_REALTIME and SCHEMAS/<schema>', async () => {
    expect(await listRealtimeTablesInZk(client, 'PinotCluster')).toEqual(['events_REALTIME']);
    const source = (await readTableConfigFromZk(client, 'PinotCluster', 'events'))!;
    expect(source.schema).toEqual(SCHEMA);
    const parsed = dataExportConfigFromTableConfig(source)!;
    expect(parsed.config).toMatchObject({ table: 'events_REALTIME', schedule: '0 0 * * * ?', timeColumn: 'ts', output: { bucket: 'bucket' } });
    expect(await readTableConfigFromZk(client, 'PinotCluster', 'missing')).toBeUndefined();
  });

  it('turns a table config ZNRecord back into Pinot\'s JSON', () => {
    expect(tableConfigFromZnRecord({ id: 't', simpleFields: { tableName: 't_REALTIME', task: '{"a":1}', isDimTable: 'false', odd: '{nope' }, mapFields: {}, listFields: {} }))
      .toEqual({ tableName: 't_REALTIME', task: { a: 1 }, isDimTable: false, odd: '{nope' });
  });
});
