import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeepStoreSegmentSource } from '../../src/control/discovery.js';
import { ExportEvents, type ExportEventMap } from '../../src/control/events.js';
import { Executor } from '../../src/control/executor.js';
import { FilesystemTarget } from '../../src/control/filesystem-target.js';
import { Generator } from '../../src/control/generator.js';
import type { GeneratedSegment } from '../../src/generate/generator.js';
import { parseParquetOptions } from '../../src/pipeline/parquet-options.js';
import { parseOutputConfig } from '../../src/sinks/fs-config.js';
import { FileStateStore } from '../../src/state/file-store.js';
import type { TaskRecord } from '../../src/state/records.js';
import { updateTable, type StateStore } from '../../src/state/store.js';
import { exponentialBackoff, type RetryPolicy } from '../../src/state/table-state.js';
import { ZkClient } from '../../src/state/zk-client.js';
import { ZooKeeperStateStore } from '../../src/state/zookeeper-store.js';
import { describeWithZooKeeper, ZooKeeperServer } from '../support/zookeeper.js';
import { hiddenFiles, lakeFiles, makeDeepStore, recordEvents, serveSegments, until, type SegmentServer } from '../daemon/helpers.js';

const TABLE = 'events_REALTIME';
const GEN = { table: TABLE, bufferMs: 0, initialWatermarkMs: 0, tableMaxNumTasks: 50 };

let root: string;
let deep: string;
let lake: string;
let work: string;
let segments: GeneratedSegment[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'executor-test-'));
  deep = join(root, 'deepstore');
  work = join(root, 'work');
  segments = await makeDeepStore({ root: deep, segments: 4, rows: 40 });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let run = 0;
beforeEach(() => {
  run++;
  lake = join(root, `lake-${run}`);
});

function target(): FilesystemTarget {
  return new FilesystemTarget({ output: parseOutputConfig({ outputDirURI: lake }), parquet: parseParquetOptions({}) });
}

function policy(maxAttempts = 3, baseMs = 100): RetryPolicy {
  return { maxAttempts, backoffMs: exponentialBackoff(baseMs, 10_000) };
}

function executor(store: StateStore, instance: string, events: ExportEvents, retry = policy(), t = target()): Executor {
  return new Executor({ store, instance, targets: new Map([[TABLE, t]]), events, retry, concurrency: 2, pollIntervalMs: 50, workDir: work });
}

/** A task as the generator writes it, for download URLs the deep-store listing would not offer. */
function task(segment: string, sequence: number, downloadUrl: string): TaskRecord {
  return { id: segment, segment, partition: 0, sequence, downloadUrl, status: 'PENDING', attempts: 0, createdAtMs: Date.now(), endTimeMs: Date.now() - 86_400_000 };
}

async function addTasks(store: StateStore, tasks: TaskRecord[]): Promise<void> {
  await updateTable(store, TABLE, (s) => ({ ...(s ?? { schemaVersion: 1, table: TABLE, watermarkMs: 0, partitions: {}, named: {}, tasks: [], recent: [] }), tasks: [...(s?.tasks ?? []), ...tasks] }));
}

function archiveOf(seg: GeneratedSegment): string {
  return seg.archivePath!;
}

/** The segment's archive served over HTTP (the file keeps the generator's `.tar.gz` name). */
function urlOf(server: SegmentServer, seg: GeneratedSegment): string {
  return server.url(basename(seg.archivePath!));
}

describe('Executor on a file state store', () => {
  let stateDir: string;
  let store: FileStateStore;
  let server: SegmentServer;
  beforeEach(async () => {
    stateDir = await mkdtemp(join(root, 'state-'));
    store = await FileStateStore.open({ dir: stateDir, claimTtlMs: 5000 });
    server = await serveSegments(join(deep, 'events'));
  });
  afterEach(async () => {
    server.release();
    await server.close();
    await store.close();
  });

  /** Queues segment `i` (its download held open after the headers when `stall`), starts executor "a" and waits until the task started. */
  async function startOne(i: number, o: { stall?: boolean } = {}) {
    const seg = segments[i]!;
    if (o.stall === true) server.faults.set(basename(archiveOf(seg)), { stall: true });
    await addTasks(store, [task(seg.name, i, urlOf(server, seg))]);
    const events = new ExportEvents();
    const seen = recordEvents(events, ['task.started', 'task.completed', 'task.failed', 'task.released']);
    const ex = executor(store, 'a', events);
    ex.start();
    await until(() => seen.some((e) => e.name === 'task.started'), 10_000, 'task started');
    return { ex, seen, name: seg.name };
  }

  it('two executors on one store export every segment exactly once', async () => {
    const gen = new Generator({ store, source: new DeepStoreSegmentSource({ root: deep, workDir: work }), owner: 'gen' });
    const report = await gen.generate(GEN);
    expect(report.emitted).toHaveLength(4);
    const events = new ExportEvents();
    const seen = recordEvents(events, ['task.started', 'task.completed', 'task.failed', 'task.released']);
    const other = await FileStateStore.open({ dir: stateDir, claimTtlMs: 5000 });
    try {
      await Promise.all([executor(store, 'a', events).drain(), executor(other, 'b', events).drain()]);
    } finally {
      await other.close();
    }
    const completed = seen.filter((e) => e.name === 'task.completed').map((e) => e.payload as ExportEventMap['task.completed']);
    expect(completed.map((c) => c.segment).sort()).toEqual(segments.map((s) => s.name).sort());
    expect(completed.every((c) => !c.reused && c.rows === 40 && c.files.length === 1)).toBe(true);
    expect(seen.filter((e) => e.name !== "task.completed" && e.name !== "task.started").map((e) => JSON.stringify(e.payload))).toEqual([]);

    const files = await lakeFiles(lake);
    expect(files.map((f) => f.segment).sort()).toEqual(segments.map((s) => s.name).sort());
    expect(files.every((f) => f.rows === 40)).toBe(true);
    const state = (await store.read(TABLE))!.value;
    expect(state.tasks).toEqual([]);
    expect(state.partitions).toEqual({ 0: [[0, 3]] });
    expect(state.recent.map((r) => r.segment).sort()).toEqual(segments.map((s) => s.name).sort());
    // A fresh cycle finds nothing left to do.
    expect((await gen.generate(GEN)).emitted).toEqual([]);
  });

  it('a 404 download URL and a corrupt archive are parked FAILED with their codes; the others are exported', async () => {
    const corrupt = join(root, `corrupt-${run}`);
    const bytes = await readFile(archiveOf(segments[0]!));
    // Keep the gzip header, destroy the deflate stream behind it.
    for (let i = 64; i < bytes.length - 16; i += 7) bytes[i] = bytes[i]! ^ 0x5a;
    await writeFile(corrupt, bytes);
    await addTasks(store, [
      task('events__0__20__20261101T0000Z', 20, server.url('events__0__20__20261101T0000Z')),
      task('events__0__21__20261101T0100Z', 21, pathToFileURL(corrupt).href),
      task(segments[1]!.name, 1, urlOf(server, segments[1]!)),
      task(segments[2]!.name, 2, pathToFileURL(archiveOf(segments[2]!)).href),
    ]);
    const events = new ExportEvents();
    const seen = recordEvents(events, ['task.completed', 'task.failed']);
    await executor(store, 'a', events).drain();

    const state = (await store.read(TABLE))!.value;
    const failed = Object.fromEntries(state.tasks.map((t) => [t.id, t]));
    expect(Object.keys(failed).sort()).toEqual(['events__0__20__20261101T0000Z', 'events__0__21__20261101T0100Z']);
    expect(failed['events__0__20__20261101T0000Z']).toMatchObject({ status: 'FAILED', attempts: 1, lastError: { code: 'SOURCE_NOT_FOUND', retryable: false } });
    expect(failed['events__0__20__20261101T0000Z']!.lastError!.message).toContain('404');
    expect(failed['events__0__21__20261101T0100Z']).toMatchObject({ status: 'FAILED', attempts: 1, lastError: { code: 'ARCHIVE_INVALID', retryable: false } });
    expect(state.partitions).toEqual({ 0: [[1, 2]] });
    const failures = seen.filter((e) => e.name === 'task.failed').map((e) => e.payload as ExportEventMap['task.failed']);
    expect(failures.map((f) => [f.code, f.parked]).sort()).toEqual([['ARCHIVE_INVALID', true], ['SOURCE_NOT_FOUND', true]]);
    expect((await lakeFiles(lake)).map((f) => f.segment).sort()).toEqual([segments[1]!.name, segments[2]!.name]);
    expect(await hiddenFiles(lake)).toEqual([]);
  });

  it('retries a transient failure after the backoff and succeeds; parks it once attempts run out', async () => {
    const ok = segments[1]!.name;
    const flaky = segments[2]!.name;
    server.faults.set(basename(archiveOf(segments[1]!)), { status: 503, times: 1 });
    server.faults.set(basename(archiveOf(segments[2]!)), { status: 503, times: 10 });
    await addTasks(store, [task(ok, 1, urlOf(server, segments[1]!)), task(flaky, 2, urlOf(server, segments[2]!))]);
    const events = new ExportEvents();
    const times: Array<{ name: string; segment: string; at: number; payload: unknown }> = [];
    for (const name of ['task.started', 'task.failed', 'task.completed'] as const) {
      // Date.now: the executor's clock, so "not before failure + backoff" compares like with like.
      events.on(name, (p) => times.push({ name, segment: p.segment, at: Date.now(), payload: p }));
    }
    await executor(store, 'a', events, policy(2, 150)).drain();

    const okEvents = times.filter((t) => t.segment === ok);
    expect(okEvents.map((e) => e.name)).toEqual(['task.started', 'task.failed', 'task.started', 'task.completed']);
    expect(okEvents[1]!.payload).toMatchObject({ code: 'SOURCE_FETCH_FAILED', retryable: true, parked: false, retryInMs: 150, attempt: 1 });
    expect(okEvents[3]!.payload).toMatchObject({ attempt: 2, rows: 40 });
    // The retry starts no earlier than failure + 150 ms, and the failure came after the first start.
    expect(okEvents[2]!.at - okEvents[0]!.at).toBeGreaterThanOrEqual(150);
    expect(server.hits.get(basename(archiveOf(segments[1]!)))).toBe(2);

    const state = (await store.read(TABLE))!.value;
    expect(state.recent.find((r) => r.segment === ok)).toMatchObject({ attempts: 2, owner: 'a' });
    expect(state.tasks).toHaveLength(1);
    expect(state.tasks[0]).toMatchObject({ id: flaky, status: 'FAILED', attempts: 2, lastError: { code: 'SOURCE_FETCH_FAILED' } });
    expect(server.hits.get(basename(archiveOf(segments[2]!)))).toBe(2);
    expect((await lakeFiles(lake)).map((f) => f.segment)).toEqual([ok]);
  });

  it('a claim lost mid-export stops the attempt: no file, no checkpoint, the task stays for its new holder', async () => {
    const { ex, seen, name } = await startOne(3, { stall: true });
    // Another instance whose clock runs a minute ahead sees the lease expired and takes the claim.
    const skewed = await FileStateStore.open({ dir: stateDir, claimTtlMs: 5000, now: () => Date.now() + 60_000 });
    try {
      const stolen = await skewed.claim(TABLE, name, 'b');
      expect(stolen).toBeDefined();
      await until(() => seen.some((e) => e.name === 'task.released'), 10_000, 'claim loss noticed');
      await ex.stop(0);
      await stolen!.release();
    } finally {
      await skewed.close();
    }
    expect(seen.map((e) => e.name)).toEqual(['task.started', 'task.released']);
    expect(seen[1]!.payload).toMatchObject({ reason: 'claim-lost', segment: name });
    const state = (await store.read(TABLE))!.value;
    expect(state.partitions).toEqual({});
    expect(state.recent).toEqual([]);
    expect(state.tasks).toEqual([expect.objectContaining({ id: name, status: 'RUNNING', owner: 'a' })]);
    expect(await lakeFiles(lake)).toEqual([]);
    expect(await hiddenFiles(lake)).toEqual([]);
  });

  it('shutdown lets an in-flight task finish within the grace period', async () => {
    const { ex, seen } = await startOne(0);
    await ex.stop(20_000);
    expect(seen.map((e) => e.name)).toEqual(['task.started', 'task.completed']);
    expect((await store.read(TABLE))!.value.partitions).toEqual({ 0: [[0, 0]] });
  });

  it('shutdown past the grace period aborts the task and requeues it without a penalty', async () => {
    const { ex, seen, name } = await startOne(3, { stall: true });
    await ex.stop(100);
    expect(seen.map((e) => e.name)).toEqual(['task.started', 'task.released']);
    expect(seen[1]!.payload).toMatchObject({ reason: 'shutdown' });
    const state = (await store.read(TABLE))!.value;
    expect(state.tasks).toEqual([expect.objectContaining({ id: name, status: 'PENDING', attempts: 0 })]);
    expect(await store.listClaims(TABLE)).toEqual([]);
    expect(await lakeFiles(lake)).toEqual([]);
  });

  it('takes over a RUNNING task whose owner died (no live claim) and exports it once', async () => {
    const name = segments[1]!.name;
    await addTasks(store, [{ ...task(name, 1, pathToFileURL(archiveOf(segments[1]!)).href), status: 'RUNNING', owner: 'dead', attempts: 1, claimedAtMs: Date.now() - 1000 }]);
    const events = new ExportEvents();
    const seen = recordEvents(events, ['task.started', 'task.completed']);
    await executor(store, 'a', events).drain();
    expect(seen.map((e) => e.name)).toEqual(['task.started', 'task.completed']);
    expect(seen[0]!.payload).toMatchObject({ attempt: 2, owner: 'a' });
    const state = (await store.read(TABLE))!.value;
    expect(state.tasks).toEqual([]);
    expect(state.recent).toEqual([expect.objectContaining({ segment: name, owner: 'a', attempts: 2 })]);
  });
});

describeWithZooKeeper('Executor on ZooKeeper', () => {
  let zk: ZooKeeperServer;
  const clients: ZkClient[] = [];
  beforeAll(async () => {
    zk = await ZooKeeperServer.start();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await zk?.close();
  });

  it('two instances with their own sessions export every segment exactly once', async () => {
    const connect = async () => {
      const c = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 10_000 });
      clients.push(c);
      return new ZooKeeperStateStore({ client: c, cluster: 'PinotCluster' });
    };
    const [a, b] = [await connect(), await connect()];
    const gen = new Generator({ store: a, source: new DeepStoreSegmentSource({ root: deep, workDir: work }), owner: 'gen' });
    expect((await gen.generate(GEN)).emitted).toHaveLength(4);
    const events = new ExportEvents();
    const seen = recordEvents(events, ['task.completed', 'task.failed', 'task.released']);
    await Promise.all([executor(a, 'a', events).drain(), executor(b, 'b', events).drain()]);
    expect(seen.every((e) => e.name === 'task.completed')).toBe(true);
    expect(seen.map((e) => (e.payload as ExportEventMap['task.completed']).segment).sort()).toEqual(segments.map((s) => s.name).sort());
    expect((await lakeFiles(lake)).map((f) => f.segment).sort()).toEqual(segments.map((s) => s.name).sort());
    const state = (await a.read(TABLE))!.value;
    expect(state.partitions).toEqual({ 0: [[0, 3]] });
    expect(state.tasks).toEqual([]);
    expect(await a.listClaims(TABLE)).toEqual([]);
    await a.close();
    await b.close();
  });
});
