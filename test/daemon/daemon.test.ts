import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportEvents, type ExportEventMap } from '../../src/control/events.js';
import { serializeZNRecord } from '../../src/control/znrecord.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { parseDaemonConfig, type DaemonConfig } from '../../src/daemon/daemon-config.js';
import type { GeneratedSegment } from '../../src/generate/generator.js';
import { FileStateStore } from '../../src/state/file-store.js';
import { emptyTableState } from '../../src/state/records.js';
import { updateTable } from '../../src/state/store.js';
import { ZkClient } from '../../src/state/zk-client.js';
import { describeWithZooKeeper, ZooKeeperServer } from '../support/zookeeper.js';
import { fileStateDaemonConfig, lakeFiles, makeDeepStore, recordEvents, until, writeTableConfig } from './helpers.js';

const TABLE = 'events_REALTIME';

let root: string;
let deep: string;
let segments: GeneratedSegment[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'daemon-test-'));
  deep = join(root, 'deepstore');
  segments = await makeDeepStore({ root: deep, segments: 5, rows: 30 });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
/** A fresh state dir and lake, and a table config file pointing at them. */
async function setup(task: Record<string, string> = {}): Promise<{ config: DaemonConfig; lake: string; stateDir: string }> {
  n++;
  const lake = join(root, `lake-${n}`);
  const stateDir = join(root, `state-${n}`);
  const tableFile = join(root, `table-${n}.json`);
  await writeTableConfig(tableFile, TABLE, { outputDirURI: lake, bufferTimePeriod: '0m', tableMaxNumTasks: '2', ...task });
  const config = fileStateDaemonConfig({ instanceId: `daemon-${n}`, stateDir, deepStore: deep, tableFile, workDir: join(root, 'work') });
  return { config, lake, stateDir };
}

const names = (list: Array<{ segment?: string }>) => list.map((x) => x.segment).sort();

describe('Daemon on the embedded default (file state, deep-store directory)', () => {
  it('runOnce drains the backlog across capped cycles, exporting every segment once; later runs export only new segments', async () => {
    const { config, lake } = await setup();
    const events = new ExportEvents();
    const seenGen: Array<ExportEventMap['generation.completed']> = [];
    events.on('generation.completed', (e) => seenGen.push(e));
    const daemon = await Daemon.open(config, { events });
    const startedAt = Date.now();
    const summary = await daemon.runOnce().finally(() => daemon.stop());

    expect(names(summary.exported)).toEqual(segments.map((s) => s.name).sort());
    expect(summary.exported.every((e) => !e.reused && e.rows === 30 && e.files[0] === pathToFileURL(join(lake, `${e.segment}.parquet`)).href)).toBe(true);
    expect(summary.failed).toEqual([]);
    expect(summary.generationErrors).toEqual([]);
    // Cap 2: cycles emit 2, 2, 1, then an empty one ends the run.
    expect(seenGen.map((g) => g.emitted)).toEqual([2, 2, 1, 0]);
    expect(summary.cycles).toBe(4);
    // The first cycle saw all five waiting; lag = since the oldest one ended.
    expect(seenGen[0]!.pending).toBe(5);
    // Since the oldest segment ended (its last row, within its hour): the newest would give ~4 h less.
    expect(seenGen[0]!.lagSeconds).toBeGreaterThanOrEqual(Math.floor((startedAt - segments[0]!.endMs) / 1000));
    expect(seenGen[0]!.lagSeconds).toBeLessThanOrEqual(Math.ceil((Date.now() - segments[0]!.startMs) / 1000));
    expect(seenGen.at(-1)).toMatchObject({ pending: 0, lagSeconds: 0, trigger: 'once' });
    expect(seenGen.at(-1)!.watermarkMs).toBeGreaterThanOrEqual(segments.at(-1)!.startMs);
    expect(seenGen.at(-1)!.watermarkMs).toBeLessThanOrEqual(segments.at(-1)!.endMs);

    expect(names(await lakeFiles(lake))).toEqual(segments.map((s) => s.name).sort());
    const store = await FileStateStore.open({ dir: (config.state as { dir: string }).dir });
    try {
      expect((await store.read(TABLE))!.value).toMatchObject({ partitions: { 0: [[0, 4]] }, tasks: [] });
    } finally {
      await store.close();
    }

    const again = await Daemon.open(config);
    const second = await again.runOnce().finally(() => again.stop());
    expect(second.exported).toEqual([]);
    expect(second.cycles).toBe(1);

    const late = await makeDeepStore({ root: deep, rawTable: 'events', segments: 2, rows: 30, firstSequence: 5, startMs: segments.at(-1)!.endMs });
    try {
      const third = await Daemon.open(config);
      const summary3 = await third.runOnce().finally(() => third.stop());
      expect(names(summary3.exported)).toEqual(late.map((s) => s.name).sort());
      expect((await lakeFiles(lake))).toHaveLength(7);
    } finally {
      for (const s of late) await rm(s.archivePath!, { force: true });
    }
  });

  it('runOnce parks a segment that cannot be downloaded with its code and exports the others', async () => {
    const { config, lake, stateDir } = await setup();
    const missing = 'events__0__40__20261101T0000Z';
    const store = await FileStateStore.open({ dir: stateDir });
    await updateTable(store, TABLE, () => ({
      ...emptyTableState(TABLE),
      tasks: [{ id: missing, segment: missing, partition: 0, sequence: 40, downloadUrl: pathToFileURL(join(root, 'gone', missing)).href, status: 'PENDING', attempts: 0, createdAtMs: Date.now(), endTimeMs: Date.now() - 3 * 86_400_000 }],
    }));
    await store.close();
    const daemon = await Daemon.open(config);
    const summary = await daemon.runOnce().finally(() => daemon.stop());
    expect(summary.failed).toEqual([expect.objectContaining({ table: TABLE, segment: missing, code: 'SOURCE_NOT_FOUND', attempts: 1 })]);
    expect(summary.failed[0]!.message).toContain(missing);
    expect(names(summary.exported)).toEqual(segments.map((s) => s.name).sort());
    expect(names(await lakeFiles(lake))).toEqual(segments.map((s) => s.name).sort());
  });

  it('as a service: elected leader, exports, reports health; schedule on demand, metadata reset re-exports under the same names', async () => {
    const { config, lake } = await setup({ schedule: '0 0 0 1 1 ? 2099' });
    const events = new ExportEvents();
    const seen = recordEvents(events, ['leader.changed', 'task.completed', 'generation.completed']);
    const daemon = await Daemon.open(config, { events });
    try {
      await daemon.start();
      await until(async () => (await lakeFiles(lake)).length === 5 && (await daemon.readState(TABLE))?.tasks.length === 0, 30_000, 'five exports');
      expect(seen[0]).toMatchObject({ name: 'leader.changed', payload: { candidate: config.instanceId, leader: true } });
      expect(daemon.tables()).toEqual([{ table: TABLE, sourceTable: TABLE, target: 'filesystem', schedule: '0 0 0 1 1 ? 2099', destination: lake }]);

      // The cycles that emitted work ran right after election and as tasks finished… on the schedule only later.
      const again = await daemon.schedule('events');
      expect(again).toEqual({ table: TABLE, emitted: [], ran: true, leader: config.instanceId });
      await expect(daemon.schedule('nope')).rejects.toMatchObject({ code: 'API_NOT_FOUND' });

      const health = await daemon.health();
      expect(health).toMatchObject({ ok: true, instance: config.instanceId, leader: true });
      expect(health.checks.state).toMatchObject({ ok: true });
      expect(health.checks[`destination:${TABLE}`]).toMatchObject({ ok: true });
      expect(health.tables[TABLE]).toMatchObject({ exportLagSeconds: 0, pending: 0, running: 0, failed: 0 });
      expect(health.tables[TABLE]!.lastSuccessfulCycleMs).toBeGreaterThan(daemon.startedAtMs - 1);

      // Reset: the next cycle starts over from initialWatermarkMs and exports everything again.
      await daemon.deleteMetadata(TABLE);
      expect((await daemon.readState(TABLE))!.partitions).toEqual({});
      const completedBefore = seen.filter((e) => e.name === 'task.completed').length;
      const redo = await daemon.schedule(TABLE);
      expect(redo.emitted).toHaveLength(2);
      await until(() => seen.filter((e) => e.name === 'task.completed').length === completedBefore + 5, 30_000, 're-export');
      expect((await daemon.readState(TABLE))!.partitions).toEqual({ 0: [[0, 4]] });
      const redone = seen.filter((e) => e.name === 'task.completed').slice(completedBefore).map((e) => e.payload as ExportEventMap['task.completed']);
      expect(redone).toHaveLength(5);
      // Deterministic names: the re-export replaced the same five objects (the local sink rewrites; S3 would keep them).
      expect(redone.map((c) => c.files[0]).sort()).toEqual(segments.map((x) => pathToFileURL(join(lake, `${x.name}.parquet`)).href).sort());
      expect(await lakeFiles(lake)).toHaveLength(5);
    } finally {
      await daemon.stop();
    }
    expect(seen.at(-1)).toMatchObject({ name: 'leader.changed', payload: { leader: false } });
  });

  it('as a service without a schedule: a cycle that failed on a transient error is retried with backoff until it succeeds', async () => {
    // Its own deep store: the table directory is replaced by a file, so listing it fails (retryable) until restored.
    const deepHere = join(root, 'deep-retry');
    const made = await makeDeepStore({ root: deepHere, segments: 3, rows: 30 });
    const tableDir = join(deepHere, 'events');
    await rename(tableDir, `${tableDir}.aside`);
    await writeFile(tableDir, 'not a directory');
    const { config, lake } = await setup({ tableMaxNumTasks: '1' });
    const daemon = await Daemon.open({ ...config, discovery: { type: 'deepstore', root: deepHere }, retry: { ...config.retry, backoffMs: 100, maxBackoffMs: 400 } }, { events: new ExportEvents() });
    const failures: Array<ExportEventMap['generation.failed']> = [];
    const retryLogs: string[] = [];
    daemon.events.on('generation.failed', (e) => failures.push(e));
    daemon.events.on('log', (e) => { if (e.fields?.retryInMs !== undefined) retryLogs.push(e.message); });
    try {
      await daemon.start();
      await until(() => failures.length >= 3, 10_000, 'three failed cycles');
      expect(failures.every((f) => f.code === 'CONTROL_LISTING_FAILED')).toBe(true);
      // Exponential: 100, 200, 400 (capped) ms.
      expect(retryLogs.slice(0, 3).map((m) => /retried in (\d+) ms/.exec(m)?.[1])).toEqual(['100', '200', '400']);
      await rm(tableDir);
      await rename(`${tableDir}.aside`, tableDir);
      // Nothing but the retry runs a cycle now: no schedule, no demand; then each completion makes room under the cap.
      await until(async () => (await lakeFiles(lake)).length === 3 && (await daemon.readState(TABLE))?.tasks.length === 0, 20_000, 'three exports after the listing recovered');
    } finally {
      await daemon.stop();
    }
    expect(names(await lakeFiles(lake))).toEqual(made.map((s) => s.name).sort());
  });

  it('an unusable destination: health names it, --once skips the table; deleteMetadata is refused while a task runs', async () => {
    const blocker = join(root, 'a-file');
    await writeFile(blocker, 'not a directory');
    const { config, stateDir } = await setup({ outputDirURI: join(blocker, 'lake') });
    const daemon = await Daemon.open(config);
    try {
      const health = await daemon.health();
      expect(health.ok).toBe(false);
      expect(health.checks.state).toMatchObject({ ok: true });
      expect(health.checks[`destination:${TABLE}`]!.ok).toBe(false);
      expect(health.checks[`destination:${TABLE}`]!.detail).toContain(blocker);

      // --once skips the table instead of parking every one of its tasks.
      const summary = await daemon.runOnce();
      expect(summary.exported).toEqual([]);
      expect(summary.failed).toEqual([]);
      expect(summary.generationErrors).toEqual([expect.objectContaining({ table: TABLE, message: expect.stringContaining(`destination ${join(blocker, 'lake')} is not usable`) })]);
      expect(await daemon.readState(TABLE)).toBeUndefined();

      const store = await FileStateStore.open({ dir: stateDir });
      await updateTable(store, TABLE, () => ({
        ...emptyTableState(TABLE),
        tasks: [{ id: segments[0]!.name, segment: segments[0]!.name, downloadUrl: 'file:///x', status: 'RUNNING', owner: 'other', attempts: 1, createdAtMs: 1 }],
      }));
      await store.close();
      await expect(daemon.deleteMetadata(TABLE)).rejects.toMatchObject({ code: 'API_BAD_REQUEST' });
      expect((await daemon.readState(TABLE))!.tasks).toHaveLength(1);
    } finally {
      await daemon.stop();
    }
  });
});

describeWithZooKeeper('Daemon on ZooKeeper (table config, schema and segment metadata as Pinot writes them)', () => {
  let zk: ZooKeeperServer;
  let client: ZkClient;
  beforeAll(async () => {
    zk = await ZooKeeperServer.start();
    client = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 10_000 });
  });
  afterAll(async () => {
    client?.close();
    await zk?.close();
  });

  it('runOnce exports every DONE segment once and keeps its checkpoints in ZooKeeper', async () => {
    const lake = join(root, 'zk-lake');
    const cluster = 'PinotCluster';
    const put = async (path: string, simpleFields: Record<string, string>, compress = false) => {
      await client.ensurePath(path.slice(0, path.lastIndexOf('/')));
      await client.create(path, serializeZNRecord({ id: basename(path), simpleFields, mapFields: {}, listFields: {} }, compress));
    };
    await put(`/${cluster}/PROPERTYSTORE/CONFIGS/TABLE/${TABLE}`, {
      tableName: TABLE, tableType: 'REALTIME',
      segmentsConfig: JSON.stringify({ timeColumnName: 'ts', schemaName: 'events' }),
      task: JSON.stringify({ taskTypeConfigsMap: { DataExportTask: { outputDirURI: lake, bufferTimePeriod: '0m' } } }),
    });
    for (const [i, s] of segments.entries()) {
      await put(`/${cluster}/PROPERTYSTORE/SEGMENTS/${TABLE}/${s.name}`, {
        'segment.realtime.status': 'DONE', 'segment.start.time': String(s.startMs), 'segment.end.time': String(s.endMs - 1),
        'segment.time.unit': 'MILLISECONDS', 'segment.download.url': pathToFileURL(s.archivePath!).href, 'segment.crc': String(s.crc), 'segment.total.docs': '30',
      }, i === 2);
    }
    // A consuming segment is never exported.
    await put(`/${cluster}/PROPERTYSTORE/SEGMENTS/${TABLE}/events__0__5__20261130T0000Z`, { 'segment.realtime.status': 'IN_PROGRESS', 'segment.start.time': String(Date.now()) });
    const { config } = parseDaemonConfig({
      instanceId: 'zk-daemon', zookeeper: { connect: zk.connectionString, cluster, sessionTimeoutMs: 10_000 },
      state: { type: 'zookeeper' }, tables: { zookeeper: true }, executor: { pollIntervalMs: 50 }, workDir: join(root, 'work'),
    });
    expect(config.discovery).toEqual({ type: 'zookeeper' });
    const daemon = await Daemon.open(config);
    const summary = await daemon.runOnce().finally(() => daemon.stop());
    expect(names(summary.exported)).toEqual(segments.map((s) => s.name).sort());
    expect(names(await lakeFiles(lake))).toEqual(segments.map((s) => s.name).sort());
    const raw = await client.getData(`/${cluster}/PROPERTYSTORE/MINION_TASK_METADATA/${TABLE}/DataExportTask/v1/state`);
    const state = JSON.parse(raw!.data.toString('utf8')) as { partitions: unknown; tasks: unknown[] };
    expect(state.partitions).toEqual({ 0: [[0, 4]] });
    expect(state.tasks).toEqual([]);
  });

  it('as a service, survives a ZooKeeper restart mid-run without operator action or duplicates', async () => {
    const cluster = 'RestartCluster';
    const lake = join(root, 'zk-restart-lake');
    const all = segments.map((s) => s.name);
    const put = async (path: string, simpleFields: Record<string, string>) => {
      await client.ensurePath(path.slice(0, path.lastIndexOf('/')));
      await client.create(path, serializeZNRecord({ id: basename(path), simpleFields, mapFields: {}, listFields: {} }));
    };
    await put(`/${cluster}/PROPERTYSTORE/CONFIGS/TABLE/${TABLE}`, {
      tableName: TABLE, tableType: 'REALTIME',
      task: JSON.stringify({ taskTypeConfigsMap: { DataExportTask: { outputDirURI: lake, bufferTimePeriod: '0m', tableMaxNumTasks: '1' } } }),
    });
    for (const s of segments) {
      await put(`/${cluster}/PROPERTYSTORE/SEGMENTS/${TABLE}/${s.name}`, {
        'segment.realtime.status': 'DONE', 'segment.start.time': String(s.startMs), 'segment.end.time': String(s.endMs - 1),
        'segment.time.unit': 'MILLISECONDS', 'segment.download.url': pathToFileURL(s.archivePath!).href,
      });
    }
    const { config } = parseDaemonConfig({
      instanceId: 'zk-restart', zookeeper: { connect: zk.connectionString, cluster, sessionTimeoutMs: 4000 },
      state: { type: 'zookeeper' }, tables: { zookeeper: true }, executor: { pollIntervalMs: 100, concurrency: 1 },
      retry: { maxAttempts: 5, backoffMs: 200 }, workDir: join(root, 'work'),
    });
    const events = new ExportEvents();
    const completed: string[] = [];
    events.on('task.completed', (e) => completed.push(e.segment));
    const daemon = await Daemon.open(config, { events });
    let atRestart = 0;
    try {
      await daemon.start();
      await until(() => completed.length >= 1, 20_000, 'first export');
      atRestart = completed.length;
      await zk.restart('kill', 1500);
      // Under the test's own timeout, so a stall fails with the state it stalled in rather than a bare timeout.
      let lastState = 'never read';
      await until(async () => {
        const raw = await client.getData(`/${cluster}/PROPERTYSTORE/MINION_TASK_METADATA/${TABLE}/DataExportTask/v1/state`).catch(() => undefined);
        if (raw !== undefined) lastState = raw.data.toString('utf8');
        const st = raw === undefined ? undefined : JSON.parse(raw.data.toString('utf8')) as { partitions: unknown; tasks: unknown[] };
        return st !== undefined && st.tasks.length === 0 && JSON.stringify(st.partitions) === JSON.stringify({ 0: [[0, 4]] });
      }, 50_000, 'all exported after the restart').catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; completed ${JSON.stringify(completed)}; last state ${lastState}`);
      });
    } finally {
      await daemon.stop();
    }
    expect(atRestart).toBeLessThan(segments.length); // the rest was exported after the restart
    expect(new Set(completed).size).toBe(completed.length);
    expect(completed.sort()).toEqual(all.sort());
    expect(names(await lakeFiles(lake))).toEqual(all.sort());
  }, 90_000);
});
