/**
 * Issue #6, "How we will know": the daemon against a ZooKeeper that misbehaves.
 *
 * - Session expiry mid-run: the ZooKeeper server is frozen (SIGSTOP) for longer than the daemon's session
 *   timeout while a task is in flight (its download held open by the segment server). The daemon's session
 *   ends, its claim goes with it, the attempt is given up; the daemon starts a new session, joins the
 *   election again, takes the orphaned task over and every segment lands exactly once.
 * - ZooKeeper unreachable at start: `pinot-export daemon --once` fails within the session timeout with an
 *   error naming the connect string, exit 1, nothing written.
 * - ZooKeeper down for a while in service mode: `GET /health` answers 503 naming the state store while it is
 *   down and 200 once it is back; the in-flight task and the rest are exported, none lost or doubled.
 *
 * Segments are seeded as Pinot writes their metadata (support/zk-cluster.ts) and downloaded over HTTP from a
 * loopback server that can hold one download open, so a task is reliably in flight when ZooKeeper goes.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { ExportEvents, type ExportEventMap } from '../../src/control/events.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { parseDaemonConfig, type DaemonConfig } from '../../src/daemon/daemon-config.js';
import { startApi, type ApiServer } from '../../src/daemon/http-api.js';
import { Logger, subscribeLogs } from '../../src/daemon/log.js';
import type { GeneratedSegment } from '../../src/generate/generator.js';
import { ZkClient } from '../../src/state/zk-client.js';
import { captureIo } from '../support/cli.js';
import { describeWithZooKeeper, ZooKeeperServer } from '../support/zookeeper.js';
import { hiddenFiles, lakeFiles, makeDeepStore, serveSegments, until, type SegmentServer } from './helpers.js';
import { allExported, claimedTasks, leaderCandidates, readState, seedCluster } from './support/zk-cluster.js';

const TABLE = 'events_REALTIME';
const COUNT = 20;
const ROWS = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every task event of a daemon, in order. */
class TaskLog {
  readonly started: Array<ExportEventMap['task.started']> = [];
  readonly completed: Array<ExportEventMap['task.completed']> = [];
  readonly released: Array<ExportEventMap['task.released']> = [];
  readonly failed: Array<ExportEventMap['task.failed']> = [];
  readonly leader: boolean[] = [];

  constructor(events: ExportEvents) {
    events.on('task.started', (e) => this.started.push(e));
    events.on('task.completed', (e) => this.completed.push(e));
    events.on('task.released', (e) => this.released.push(e));
    events.on('task.failed', (e) => this.failed.push(e));
    events.on('leader.changed', (e) => this.leader.push(e.leader));
  }

  attempts(segment: string): number[] {
    return this.started.filter((e) => e.segment === segment).map((e) => e.attempt);
  }
}

describeWithZooKeeper('daemon and its ZooKeeper session', () => {
  let zk: ZooKeeperServer;
  let client: ZkClient;
  let root: string;
  let segments: GeneratedSegment[];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'zk-session-test-'));
    [zk, segments] = await Promise.all([
      ZooKeeperServer.start(),
      makeDeepStore({ root: join(root, 'deep'), segments: COUNT, rows: ROWS }),
    ]);
    client = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 10_000 });
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await zk?.close();
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  /** A segment server whose `stalled` download is held open until `resume()`; the cluster seeded to use it. */
  async function cluster(name: string, count: number, stalled: GeneratedSegment, task: Record<string, string>): Promise<SegmentServer> {
    const server = await serveSegments(join(root, 'deep', 'events'));
    server.faults.set(basename(stalled.archivePath!), { stall: true });
    await seedCluster(client, {
      cluster: name, table: TABLE, task: { bufferTimePeriod: '0m', ...task }, segments: segments.slice(0, count), rows: ROWS,
      downloadUrl: (s) => server.url(basename(s.archivePath!)),
    });
    return server;
  }

  function daemonConfig(name: string, cluster: string, sessionTimeoutMs: number, extra: Record<string, unknown> = {}): DaemonConfig {
    return parseDaemonConfig({
      instanceId: name, zookeeper: { connect: zk.connectionString, cluster, sessionTimeoutMs },
      state: { type: 'zookeeper' }, tables: { zookeeper: true }, executor: { concurrency: 1, pollIntervalMs: 100 },
      retry: { maxAttempts: 5, backoffMs: 200 }, workDir: join(root, `work-${name}`), shutdownGraceMs: 2000, ...extra,
    }).config;
  }

  it('session expiry mid-run: new session, election re-joined, the orphaned task re-claimed, every segment exported once', async () => {
    const name = 'ExpiryCluster';
    const lake = join(root, 'expiry-lake');
    const stalled = segments[6]!;
    const server = await cluster(name, COUNT, stalled, { outputDirURI: lake, tableMaxNumTasks: '4' });
    const events = new ExportEvents();
    const log = new TaskLog(events);
    const daemon = await Daemon.open(daemonConfig('expiry-daemon', name, 2000), { events });
    let before: Awaited<ReturnType<typeof leaderCandidates>>;
    let doneBeforeExpiry: number;
    try {
      await daemon.start();
      await until(() => log.attempts(stalled.name).length === 1, 20_000, 'the held task started');
      // In flight under a claim of the daemon's first session, which also holds the leadership.
      expect(await claimedTasks(client, name, TABLE)).toEqual([stalled.name]);
      before = await leaderCandidates(client, name);
      expect(before.map((c) => c.candidate)).toEqual(['expiry-daemon']);
      expect(log.leader).toEqual([true]);
      doneBeforeExpiry = log.completed.length;

      // Frozen for longer than the 2 s session: the session cannot survive (the server expires it once it runs
      // again, and the client gives it up after 2/3 of the timeout without a reply).
      await zk.pause();
      await sleep(3000);
      zk.resume();

      await until(() => log.released.some((r) => r.segment === stalled.name), 10_000, 'the in-flight attempt given up');
      await until(async () => {
        const now = await leaderCandidates(client, name).catch(() => []);
        return now.length === 1 && now[0]!.session !== before[0]!.session;
      }, 15_000, 'a candidate node of a new session');
      await until(() => log.leader.length >= 3, 10_000, 'leadership lost and regained');
      // The held download is released only now: the retry must come from the re-claim, not the first attempt.
      server.resume();
      await until(async () => allExported(await readState(client, name, TABLE), COUNT), 40_000, 'every segment exported');
    } finally {
      await daemon.stop();
      await server.close();
    }

    expect(doneBeforeExpiry).toBeLessThan(COUNT);
    expect(log.leader.slice(0, 3)).toEqual([true, false, true]);
    // The orphaned task: given up when the claim vanished, taken over by the new session as attempt 2.
    expect(log.released.filter((r) => r.segment === stalled.name)).toEqual([expect.objectContaining({ reason: 'claim-lost', attempt: 1 })]);
    expect(log.attempts(stalled.name)).toEqual([1, 2]);
    expect(log.completed.filter((c) => c.segment === stalled.name).map((c) => c.attempt)).toEqual([2]);
    expect(log.failed.filter((f) => f.parked)).toEqual([]);

    // Exactly once: one completion per segment, one object per segment, one checkpoint range covering all.
    const done = log.completed.map((c) => c.segment);
    expect(new Set(done).size).toBe(done.length);
    expect(done.sort()).toEqual(segments.map((s) => s.name).sort());
    const files = await lakeFiles(lake);
    expect(files.map((f) => f.segment)).toEqual(segments.map((s) => s.name).sort());
    expect(files.every((f) => f.rows === ROWS)).toBe(true);
    expect(await hiddenFiles(lake)).toEqual([]);
    const state = (await readState(client, name, TABLE))!;
    expect(state.partitions).toEqual({ 0: [[0, COUNT - 1]] });
    expect(state.tasks).toEqual([]);
    expect(await claimedTasks(client, name, TABLE)).toEqual([]);
  }, 60_000);

  it('--once with ZooKeeper unreachable (closed port, or a port that never answers): a clear error naming it, exit 1, nothing written', async () => {
    const closed = await closedPort();
    const silent = await silentServer();
    try {
      for (const [what, port] of [['closed port', closed], ['silent listener', silent.port]] as const) {
        const dir = join(root, `unreachable-${port}`);
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'table.json'), JSON.stringify({
          tableName: TABLE, tableType: 'REALTIME',
          task: { taskTypeConfigsMap: { DataExportTask: { outputDirURI: join(dir, 'lake'), bufferTimePeriod: '0m' } } },
        }));
        await writeFile(join(dir, 'daemon.json'), JSON.stringify({
          // The default 30 s session timeout stays: start-up is bounded by connectTimeoutMs alone.
          instanceId: 'unreachable', zookeeper: { connect: `127.0.0.1:${port}`, cluster: 'PinotCluster', connectTimeoutMs: 4000 },
          state: { type: 'zookeeper' }, discovery: { type: 'zookeeper' }, tables: { files: [join(dir, 'table.json')] },
          workDir: join(dir, 'work'),
        }));
        const cap = captureIo();
        const t0 = Date.now();
        const code = await runCli(['daemon', '--config', join(dir, 'daemon.json'), '--once'], cap.io);
        const ms = Date.now() - t0;
        expect(code, what).toBe(1);
        expect(cap.stderr(), what).toContain('[STATE_UNAVAILABLE]');
        expect(cap.stderr(), what).toContain(`127.0.0.1:${port}`);
        expect(cap.stderr(), what).toMatch(/ZooKeeper/);
        expect(cap.stdout(), what).toBe('');
        // Bounded by zookeeper.connectTimeoutMs (4 s), not the 30 s session timeout; room for a slow machine.
        expect(ms, what).toBeGreaterThanOrEqual(3900);
        expect(ms, what).toBeLessThan(9000);
        expect((await readdir(dir)).sort(), what).toEqual(['daemon.json', 'table.json']);
      }
      // The silent listener was tried (and dropped) more than once: the handshake watchdog reconnects.
      expect(silent.connections()).toBeGreaterThanOrEqual(2);
    } finally {
      await silent.close();
    }
  }, 30_000);

  it('service mode with the API: /health is 503 naming the state store while ZooKeeper is down, 200 after; nothing lost', async () => {
    const name = 'HealthCluster';
    const lake = join(root, 'health-lake');
    const count = 6;
    const stalled = segments[2]!;
    const server = await cluster(name, count, stalled, { outputDirURI: lake, tableMaxNumTasks: '10' });
    const events = new ExportEvents();
    const log = new TaskLog(events);
    const lines: Array<Record<string, unknown>> = [];
    subscribeLogs(events, new Logger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }));
    const daemon = await Daemon.open(daemonConfig('health-daemon', name, 3000), { events, healthCacheMs: 0 });
    let api: ApiServer | undefined;
    const health = async () => {
      const res = await fetch(`${api!.url}/health`);
      return {
        status: res.status,
        body: await res.json() as {
          ok: boolean; leader: boolean; checks: Record<string, { ok: boolean; detail: string }>;
          tables: Record<string, { running: number; stateAsOfMs?: number | null }>;
        },
      };
    };
    try {
      await daemon.start();
      api = await startApi(daemon, { port: 0 });
      await until(() => log.attempts(stalled.name).length === 1, 20_000, 'the held task started');
      const up = await health();
      expect(up.status).toBe(200);
      expect(up.body.checks.state).toEqual({ ok: true, detail: 'zookeeper' });
      expect(up.body.tables[TABLE]!.running).toBe(1);
      expect(up.body.tables[TABLE]!.stateAsOfMs).toBeUndefined();

      await zk.stop();
      const linesAtStop = lines.length;
      const t0 = Date.now();
      const down = await health();
      // Answered within the state check's bound, not hanging on the dead server.
      expect(Date.now() - t0).toBeLessThan(6000);
      expect(down.status).toBe(503);
      expect(down.body.ok).toBe(false);
      expect(down.body.checks.state!.ok).toBe(false);
      expect(down.body.checks.state!.detail).toContain(`zookeeper ${zk.connectionString}: `);
      expect(down.body.checks.state!.detail).toContain('STATE_UNAVAILABLE');
      // The table figures are the last ones read (the held task still running), marked with their age.
      expect(down.body.tables[TABLE]!.running).toBe(1);
      expect(down.body.tables[TABLE]!.stateAsOfMs).toBeGreaterThanOrEqual(t0 - 60_000);
      expect(down.body.tables[TABLE]!.stateAsOfMs).toBeLessThanOrEqual(t0);
      // The destination is fine: only the state check fails.
      expect(down.body.checks[`destination:${TABLE}`]).toMatchObject({ ok: true });
      // The logs say why work stalls: the executor cannot read the table's state.
      await until(() => lines.slice(linesAtStop).some((l) => l.level === 'warn' && String(l.msg).startsWith(`cannot look for tasks of ${TABLE}`) && l.code === 'STATE_UNAVAILABLE'), 10_000, 'a warning naming the state problem');

      await sleep(1000);
      expect((await health()).status).toBe(503);
      await zk.restart();
      await until(async () => (await health()).status === 200, 20_000, '/health ok again');
      expect((await health()).body.checks.state).toEqual({ ok: true, detail: 'zookeeper' });
      // Still (or again) the generator's leader: it is the only candidate.
      await until(async () => (await health()).body.leader, 10_000, 'leader again');
      server.resume();
      await until(async () => allExported(await readState(client, name, TABLE), count), 30_000, 'every segment exported');
    } finally {
      await api?.close();
      await daemon.stop();
      await server.close();
    }

    const done = log.completed.map((c) => c.segment);
    expect(new Set(done).size).toBe(done.length);
    expect(done.sort()).toEqual(segments.slice(0, count).map((s) => s.name).sort());
    expect((await lakeFiles(lake)).map((f) => f.segment)).toEqual(segments.slice(0, count).map((s) => s.name).sort());
    expect(await hiddenFiles(lake)).toEqual([]);
    expect(log.failed.filter((f) => f.parked)).toEqual([]);
    expect((await readState(client, name, TABLE))!.partitions).toEqual({ 0: [[0, count - 1]] });
  }, 60_000);
});

/** A loopback port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Accepts TCP connections and never answers (a hung server or a black-holing proxy). */
async function silentServer(): Promise<{ port: number; connections(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
