import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { DeepStoreSegmentSource, ZkSegmentSource } from '../../src/control/discovery.js';
import { Generator, type GeneratorTableConfig } from '../../src/control/generator.js';
import { serializeZNRecord } from '../../src/control/znrecord.js';
import { FileStateStore } from '../../src/state/file-store.js';
import type { TableState, TaskRecord } from '../../src/state/records.js';
import { updateTable, type StateStore } from '../../src/state/store.js';
import { completeTask, startTask } from '../../src/state/table-state.js';
import { ZkClient } from '../../src/state/zk-client.js';
import { ZooKeeperStateStore } from '../../src/state/zookeeper-store.js';
import { describeFixtures } from '../support/fixtures.js';
import { describeWithZooKeeper, ZooKeeperServer } from '../support/zookeeper.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 0, 20);
const CLUSTER = 'PinotCluster';
const TABLE = 'events_REALTIME';
const SEGMENTS = `/${CLUSTER}/PROPERTYSTORE/SEGMENTS/${TABLE}`;

function segName(p: number, seq: number): string {
  return `events__${p}__${seq}__20260101T0000Z`;
}

/** Writes segment ZK metadata the way Pinot does; every fifth record gzip-compressed as Helix may do. */
async function seed(client: ZkClient, p: number, seq: number, status: string, endTimeMs?: number, url = true): Promise<void> {
  const name = segName(p, seq);
  const fields: Record<string, string> = { 'segment.realtime.status': status, 'segment.creation.time': String(NOW - 10 * DAY) };
  if (endTimeMs !== undefined) {
    Object.assign(fields, { 'segment.start.time': String(endTimeMs - HOUR), 'segment.end.time': String(endTimeMs), 'segment.time.unit': 'MILLISECONDS', 'segment.total.docs': '100' });
  }
  if (url && status === 'DONE') fields['segment.download.url'] = `s3://deep/events/${name}`;
  const data = serializeZNRecord({ id: name, simpleFields: fields, mapFields: {}, listFields: {} }, (p * 100 + seq) % 5 === 0);
  const path = `${SEGMENTS}/${name}`;
  const existing = await client.exists(path);
  if (existing === undefined) await client.create(path, data);
  else await client.setData(path, data, existing.version);
}

/**
 * What an executor does (the protocol in src/state/store.ts). `published` counts publishes per object name:
 * a re-publish after an unknown outcome writes the same object again (deterministic names), so the lake
 * holds one object per segment either way.
 */
async function execute(store: StateStore, task: TaskRecord, owner: string, now: number, published: Map<string, number>): Promise<boolean> {
  const claim = await store.claim(TABLE, task.id, owner);
  if (claim === undefined) return false;
  try {
    const started = await updateTable(store, TABLE, (s) => startTask(s!, task.id, owner, now, { takeover: task.status === 'RUNNING' }));
    if (started === undefined || !started.changed) return false;
    claim.signal.throwIfAborted();
    published.set(task.segment, (published.get(task.segment) ?? 0) + 1);
    // A completion whose outcome is unknown (connection lost) is retried: completeTask is idempotent.
    for (let attempt = 0; ; attempt++) {
      try {
        await updateTable(store, TABLE, (s) => { const next = completeTask(s!, task, owner, now); return next === s ? undefined : next; });
        return true;
      } catch (err) {
        if (!(err as { retryable?: boolean }).retryable || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await claim.release();
  }
}

/** Runs the pending tasks, and takes over running ones whose owner holds no live claim any more. */
async function drain(store: StateStore, owner: string, now: number, published: Map<string, number>): Promise<void> {
  const current = (await store.read(TABLE))!.value;
  const live = new Set((await store.listClaims(TABLE)).map((c) => c.taskId));
  for (const task of current.tasks.filter((t) => t.status === 'PENDING' || (t.status === 'RUNNING' && !live.has(t.id)))) {
    await execute(store, task, owner, now, published);
  }
}

/** Retries a test-side ZooKeeper write while the server comes back (an existing node from a landed attempt is fine). */
async function retrying(fn: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err as { retryable?: boolean }).retryable || attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const config = (extra: Partial<GeneratorTableConfig> = {}): GeneratorTableConfig => ({
  table: TABLE, bufferMs: DAY, initialWatermarkMs: Date.UTC(2026, 0, 2), tableMaxNumTasks: 4, ...extra,
});

describeWithZooKeeper('Generator on ZooKeeper', () => {
  let zk: ZooKeeperServer;
  let client: ZkClient;
  let store: ZooKeeperStateStore;
  let source: ZkSegmentSource;

  beforeEach(async () => {
    zk = await ZooKeeperServer.start();
    client = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 20_000, requestTimeoutMs: 1500 });
    store = new ZooKeeperStateStore({ client, cluster: CLUSTER });
    source = new ZkSegmentSource({ client, cluster: CLUSTER });
    await client.ensurePath(SEGMENTS);
  });
  afterEach(async () => {
    await store?.close();
    client?.close();
    await zk?.close();
  });

  it('emits tasks for eligible segments, writes them by compare-and-set, and resumes from the checkpoints', async () => {
    await seed(client, 0, 0, 'DONE', Date.UTC(2026, 0, 1)); // before initialWatermarkMs
    for (let seq = 1; seq <= 5; seq++) await seed(client, 0, seq, 'DONE', Date.UTC(2026, 0, 2 + seq));
    await seed(client, 0, 6, 'DONE', NOW - HOUR); // in the buffer
    await seed(client, 0, 7, 'IN_PROGRESS');
    await seed(client, 1, 0, 'COMMITTING', Date.UTC(2026, 0, 3), false);
    await seed(client, 1, 1, 'IN_PROGRESS');
    const generator = new Generator({ store, source, owner: 'gen-1', now: () => NOW });

    const first = await generator.generate(config());
    expect(first.written).toBe(true);
    expect(first.emitted.map((t) => t.segment)).toEqual([1, 2, 3, 4].map((s) => segName(0, s)));
    expect(first.decisions.find((d) => d.segment === segName(0, 0))!.skipped).toBe('before-initial-watermark');
    expect(first.decisions.find((d) => d.segment === segName(0, 6))!.skipped).toBe('in-buffer');
    expect(first.decisions.find((d) => d.segment === segName(1, 0))!.skipped).toBe('not-completed');
    const stored = (await store.read(TABLE))!;
    expect(stored.version).toBe(first.version);
    expect(stored.value.partitions).toEqual({ 0: [[0, 0]], 1: [] });
    expect(stored.value.generator).toMatchObject({ cycle: 1, owner: 'gen-1' });

    // Nothing changed: no new write; the cap keeps the fifth segment waiting.
    const idle = await generator.generate(config());
    expect(idle.written).toBe(false);
    expect(idle.decisions.find((d) => d.segment === segName(0, 5))!.skipped).toBe('capped');

    const exported = new Map<string, number>();
    await drain(store, 'minion-1', NOW, exported);
    const second = await generator.generate(config());
    expect(second.emitted.map((t) => t.segment)).toEqual([segName(0, 5)]);
    expect((await store.read(TABLE))!.value.partitions).toEqual({ 0: [[0, 4]], 1: [] });

    // Partition 1 was lagging: its segment completes now, with data older than everything exported.
    await seed(client, 1, 0, 'DONE', Date.UTC(2026, 0, 3));
    await drain(store, 'minion-1', NOW, exported);
    const third = await generator.generate(config());
    expect(third.emitted.map((t) => t.segment)).toEqual([segName(1, 0)]);
    expect(third.watermarkMs).toBe(Date.UTC(2026, 0, 3));
    await drain(store, 'minion-1', NOW, exported);
    expect([...exported.keys()].sort()).toEqual([segName(0, 1), segName(0, 2), segName(0, 3), segName(0, 4), segName(0, 5), segName(1, 0)].sort());
    expect([...exported.values()].every((n) => n === 1)).toBe(true);

    // Retention deletes old segments: the gap is filled, the ranges stay one per partition.
    await client.remove(`${SEGMENTS}/${segName(0, 0)}`);
    await client.remove(`${SEGMENTS}/${segName(0, 1)}`);
    await generator.generate(config());
    expect((await store.read(TABLE))!.value.partitions).toEqual({ 0: [[0, 5]], 1: [[0, 0]] });
  });

  it('two generators running at once never emit a segment twice', async () => {
    for (let seq = 0; seq < 30; seq++) await seed(client, seq % 3, Math.floor(seq / 3), 'DONE', Date.UTC(2026, 0, 5) + seq * HOUR);
    const client2 = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 20_000 });
    const store2 = new ZooKeeperStateStore({ client: client2, cluster: CLUSTER });
    try {
      const g1 = new Generator({ store, source, owner: 'g1', now: () => NOW, casAttempts: 20 });
      const g2 = new Generator({ store: store2, source: new ZkSegmentSource({ client: client2, cluster: CLUSTER }), owner: 'g2', now: () => NOW, casAttempts: 20 });
      const exported = new Map<string, number>();
      for (let round = 0; round < 8; round++) {
        const [a, b] = await Promise.all([g1.generate(config({ tableMaxNumTasks: 5 })), g2.generate(config({ tableMaxNumTasks: 5 }))]);
        const emitted = [...a.emitted, ...b.emitted].map((t) => t.segment);
        expect(new Set(emitted).size).toBe(emitted.length);
        const tasks = (await store.read(TABLE))!.value.tasks;
        expect(tasks.length).toBeLessThanOrEqual(5);
        await drain(round % 2 ? store : store2, 'minion', NOW, exported);
      }
      expect(exported.size).toBe(30);
      expect([...exported.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await store2.close();
      client2.close();
    }
  });

  it('recovers from a ZooKeeper restart mid-run without operator action and without duplicates', async () => {
    for (let seq = 0; seq < 12; seq++) await seed(client, 0, seq, 'DONE', Date.UTC(2026, 0, 5) + seq * HOUR);
    const generator = new Generator({ store, source, owner: 'gen', now: () => NOW });
    const exported = new Map<string, number>();
    const failures: string[] = [];
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        try {
          await generator.generate(config({ tableMaxNumTasks: 3 }));
          await drain(store, 'minion', NOW, exported);
        } catch (err) {
          failures.push((err as { code?: string }).code ?? String(err));
          if (!(err as { retryable?: boolean }).retryable) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 200));
      await zk.restart('kill', 800);
      await new Promise((r) => setTimeout(r, 300));
      // Pinot's controller keeps committing segments after the restart (retrying on its side too).
      for (let seq = 12; seq < 16; seq++) await retrying(() => seed(client, 0, seq, 'DONE', Date.UTC(2026, 0, 5) + seq * HOUR));
    } catch (err) {
      stop = true;
      await loop.catch(() => undefined);
      throw err;
    }
    const deadline = Date.now() + 30_000;
    const finished = async (): Promise<boolean> => {
      const s = await store.read(TABLE).catch(() => undefined);
      return s !== undefined && JSON.stringify(s.value.partitions) === JSON.stringify({ 0: [[0, 15]] }) && s.value.tasks.length === 0;
    };
    while (!(await finished()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await loop;
    const final = (await store.read(TABLE))!.value;
    expect(final.partitions).toEqual({ 0: [[0, 15]] });
    expect(final.tasks).toEqual([]);
    // One object per segment in the lake, one completion per segment in the record.
    expect(exported.size).toBe(16);
    expect(new Set(final.recent.map((r) => r.segment)).size).toBe(16);
    expect(final.recent).toHaveLength(16);
    // Failures during the outage, if any, were all retryable (no operator action needed).
    expect(failures.every((c) => ['STATE_UNAVAILABLE', 'CONTROL_LISTING_FAILED', 'STATE_SESSION_EXPIRED'].includes(c))).toBe(true);
  });

  it('after an executor\'s session expires its task is taken over by another instance and exported once', async () => {
    for (let seq = 0; seq < 3; seq++) await seed(client, 0, seq, 'DONE', Date.UTC(2026, 0, 5) + seq * HOUR);
    await new Generator({ store, source, owner: 'gen', now: () => NOW }).generate(config());
    const victimClient = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 2000 });
    const victim = new ZooKeeperStateStore({ client: victimClient, cluster: CLUSTER });
    const exported = new Map<string, number>();
    try {
      const task = (await store.read(TABLE))!.value.tasks[0]!;
      const claim = (await victim.claim(TABLE, task.id, 'victim'))!;
      await updateTable(victim, TABLE, (s) => startTask(s!, task.id, 'victim', NOW));
      // The victim's ZooKeeper goes silent mid-export: its claim is gone, it must stop.
      await zk.pause();
      await new Promise((r) => setTimeout(r, 3000));
      zk.resume();
      expect(claim.signal.aborted).toBe(true);
      // The survivor sees a RUNNING task with no live claim: it takes it over.
      const state: TableState = (await store.read(TABLE))!.value;
      const running = state.tasks.find((t) => t.id === task.id)!;
      expect(running).toMatchObject({ status: 'RUNNING', owner: 'victim' });
      let live = await store.listClaims(TABLE);
      const deadline = Date.now() + 10_000;
      while (live.some((c) => c.taskId === task.id) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        live = await store.listClaims(TABLE);
      }
      expect(live.some((c) => c.taskId === task.id)).toBe(false);
      expect(await execute(store, running, 'survivor', NOW, exported)).toBe(true);
      // The victim comes back and finishes late: completion is idempotent, nothing changes.
      const before = (await store.read(TABLE))!;
      const late = await updateTable(victim, TABLE, (s) => { const next = completeTask(s!, task, 'victim', NOW); return next === s ? undefined : next; });
      expect(late!.changed).toBe(false);
      expect((await store.read(TABLE))!.version).toBe(before.version);
      await drain(store, 'survivor', NOW, exported);
      expect(exported).toEqual(new Map([[segName(0, 0), 1], [segName(0, 1), 1], [segName(0, 2), 1]]));
      expect((await store.read(TABLE))!.value.recent.find((r) => r.segment === task.segment)).toMatchObject({ owner: 'survivor', attempts: 2 });
    } finally {
      zk.resume();
      await victim.close();
      victimClient.close();
    }
  });

  it('does not write once its leadership signal is aborted', async () => {
    await seed(client, 0, 0, 'DONE', Date.UTC(2026, 0, 5));
    const controller = new AbortController();
    controller.abort(new Error('leadership lost'));
    await expect(new Generator({ store, source, owner: 'gen', now: () => NOW }).generate(config(), { signal: controller.signal })).rejects.toThrow('leadership lost');
    expect(await store.read(TABLE)).toBeUndefined();
  });
});

describeFixtures('Generator embedded: file store and deep-store listing', 'fixtures/pinot-generated/1.5.1', (fixtures) => {
  let root: string;
  let stateDir: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'deepstore-gen-'));
    stateDir = await mkdtemp(join(tmpdir(), 'state-gen-'));
    await mkdir(join(root, 'events'));
    await symlink(join(fixtures, 'events__0__13__20261126T0100Z.tar.gz'), join(root, 'events', 'events__0__13__20261126T0100Z.tar.gz'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  it('exports what is in deep store, and a segment that arrives late with a lower sequence number too', async () => {
    const store = await FileStateStore.open({ dir: stateDir });
    const source = new DeepStoreSegmentSource({ root });
    const now = Date.UTC(2026, 11, 1);
    const generator = new Generator({ store, source, owner: 'single', now: () => now });
    const cfg = config({ initialWatermarkMs: 0 });
    const first = await generator.generate(cfg);
    expect(first.emitted.map((t) => t.segment)).toEqual(['events__0__13__20261126T0100Z']);
    expect(first.emitted[0]!.downloadUrl).toMatch(/^file:\/\/.*events__0__13__20261126T0100Z\.tar\.gz$/);
    const exported = new Map<string, number>();
    await drain(store, 'single', now, exported);
    expect((await generator.generate(cfg)).emitted).toEqual([]);
    // Sequence 12 shows up in deep store only now (a late upload): it is exported, not skipped.
    await symlink(join(fixtures, 'events__0__12__20261126T0000Z.tar.gz'), join(root, 'events', 'events__0__12__20261126T0000Z.tar.gz'));
    expect((await generator.generate(cfg)).emitted.map((t) => t.segment)).toEqual(['events__0__12__20261126T0000Z']);
    await drain(store, 'single', now, exported);
    expect((await store.read(TABLE))!.value.partitions).toEqual({ 0: [[12, 13]] });
    expect([...exported.values()]).toEqual([1, 1]);
    await store.close();
  });
});
