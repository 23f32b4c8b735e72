import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { GeneratedSegment } from '../../src/generate/generator.js';
import { FileStateStore } from '../../src/state/file-store.js';
import { emptyTableState, type TaskRecord } from '../../src/state/records.js';
import { updateTable } from '../../src/state/store.js';
import { captureIo } from '../support/cli.js';
import { lakeFiles, makeDeepStore, serveSegments, until, writeTableConfig } from './helpers.js';

const TABLE = 'events_REALTIME';

let root: string;
let deep: string;
let segments: GeneratedSegment[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cli-daemon-test-'));
  deep = join(root, 'deepstore');
  segments = await makeDeepStore({ root: deep, segments: 3, rows: 20 });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
async function files(overrides: Record<string, unknown> = {}, discoveryRoot = deep): Promise<{ configFile: string; lake: string; stateDir: string }> {
  n++;
  const dir = join(root, `run-${n}`);
  await mkdir(dir, { recursive: true });
  const lake = join(dir, 'lake');
  await writeTableConfig(join(dir, 'table.json'), TABLE, { outputDirURI: lake, bufferTimePeriod: '0m' });
  const configFile = join(dir, 'daemon.json');
  await writeFile(configFile, JSON.stringify({
    instanceId: `cli-${n}`, state: { type: 'file', dir: 'state' }, discovery: { root: discoveryRoot }, tables: { files: ['table.json'] },
    executor: { pollIntervalMs: 50 }, retry: { maxAttempts: 1 }, workDir: 'work', ...overrides,
  }));
  return { configFile, lake, stateDir: join(dir, 'state') };
}

async function seedTask(stateDir: string, task: Partial<TaskRecord> & { id: string; downloadUrl: string }): Promise<void> {
  const store = await FileStateStore.open({ dir: stateDir });
  try {
    await updateTable(store, TABLE, () => ({ ...emptyTableState(TABLE), tasks: [{ segment: task.id, status: 'PENDING', attempts: 0, createdAtMs: Date.now(), ...task }] }));
  } finally {
    await store.close();
  }
}

describe('pinot-export daemon (in process)', () => {
  it('--once prints what it exported and exits 0; log lines on stderr are JSON', async () => {
    const { configFile, lake } = await files();
    const cap = captureIo();
    const code = await runCli(['daemon', '--config', configFile, '--once'], cap.io);
    expect(cap.stdout()).toMatch(/3 segment\(s\) exported \(0 already present\), 60 rows; 0 Iceberg commit\(s\); 0 staged; 0 parked FAILED/);
    for (const s of segments) {
      expect(cap.stdout()).toContain(`exported ${s.name} → ${pathToFileURL(join(lake, `${s.name}.parquet`)).href} (20 rows, `);
    }
    expect(code).toBe(0);
    const lines = cap.stderr().trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; segment?: string });
    expect(lines.filter((l) => l.msg === 'task completed').map((l) => l.segment).sort()).toEqual(segments.map((s) => s.name).sort());
    expect((await lakeFiles(lake)).map((f) => f.rows)).toEqual([20, 20, 20]);
  });

  it('--once exits 1 and names the parked segment and its error', async () => {
    const { configFile, stateDir } = await files();
    const missing = 'events__0__9__20261101T0000Z';
    await seedTask(stateDir, { id: missing, partition: 0, sequence: 9, downloadUrl: pathToFileURL(join(root, 'nowhere', missing)).href });
    const cap = captureIo();
    const code = await runCli(['daemon', '--config', configFile, '--once'], cap.io);
    expect(code).toBe(1);
    expect(cap.stdout()).toContain(`FAILED   ${missing} of ${TABLE} after 1 attempt(s): [SOURCE_NOT_FOUND]`);
    expect(cap.stdout()).toMatch(/3 segment\(s\) exported .*; 1 parked FAILED/);
  });

  it('usage and configuration errors', async () => {
    const usage = captureIo();
    expect(await runCli(['daemon'], usage.io)).toBe(2);
    expect(usage.stderr()).toContain('--config <daemon.json> is required');
    const { configFile } = await files({ executor: { concurrency: 'many' } });
    const bad = captureIo();
    expect(await runCli(['daemon', '--config', configFile, '--once'], bad.io)).toBe(1);
    expect(bad.stderr()).toContain('[CONFIG_INVALID] invalid daemon config: executor.concurrency = "many"');
  });
});

const bin = resolve('dist/src/cli/main.js');

describe.skipIf(!existsSync(bin))('pinot-export daemon (child process, built dist/)', () => {
  /** Starts the daemon; resolves lines of its stderr as they come. */
  function start(configFile: string): { lines: Array<Record<string, unknown>>; exited: Promise<number | null>; signal(s: NodeJS.Signals): void } {
    const child = spawn(process.execPath, [bin, 'daemon', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Array<Record<string, unknown>> = [];
    let buf = '';
    child.stderr.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const p of parts) if (p.trim() !== '') lines.push(JSON.parse(p) as Record<string, unknown>);
    });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    return { lines, exited, signal: (s) => child.kill(s) };
  }

  async function stalledDaemon(graceMs: number) {
    const server = await serveSegments(join(deep, 'events'));
    const seg = segments[1]!;
    server.faults.set(basename(seg.archivePath!), { stall: true });
    // A deep store holding just this segment: the generator keeps a PENDING task only while its segment is
    // listed; the task itself points at the stalling HTTP server.
    const only = join(root, `deep-${n}`);
    await mkdir(join(only, 'events'), { recursive: true });
    await copyFile(seg.archivePath!, join(only, 'events', basename(seg.archivePath!)));
    const { configFile, lake, stateDir } = await files({ shutdownGraceMs: graceMs, api: { port: 0 } }, only);
    await seedTask(stateDir, { id: seg.name, partition: 0, sequence: 1, downloadUrl: server.url(basename(seg.archivePath!)) });
    const daemon = start(configFile);
    await until(() => daemon.lines.some((l) => l.msg === 'task started'), 20_000, 'task started in the child').catch((err: unknown) => { throw new Error(`${String(err)}: ${JSON.stringify(daemon.lines)}`); });
    return { server, seg, daemon, lake, stateDir };
  }

  it('SIGTERM within the grace period: the in-flight task finishes, then exit 0', async () => {
    const { server, seg, daemon, lake, stateDir } = await stalledDaemon(20_000);
    try {
      // The configured API is up (loopback, any free port) and answers for this instance.
      const url = String(daemon.lines.find((l) => l.msg === 'HTTP API listening')?.url);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await (await fetch(`${url}/health`)).json() as { instance: string; tables: Record<string, { running: number }> };
      expect(health.instance).toMatch(/^cli-\d+$/);
      expect(health.tables[TABLE]!.running).toBe(1);
      daemon.signal('SIGTERM');
      await until(() => daemon.lines.some((l) => l.msg === 'stopping'), 10_000, 'stopping logged');
      server.resume();
      expect(await daemon.exited).toBe(0);
    } finally {
      await server.close();
    }
    expect(daemon.lines.filter((l) => String(l.msg).startsWith('task ')).map((l) => [l.msg, l.segment, l.code]), JSON.stringify(daemon.lines.slice(-4))).toEqual([['task started', seg.name, undefined], ['task completed', seg.name, undefined]]);
    expect((await lakeFiles(lake)).map((f) => f.segment)).toEqual([seg.name]);
    const store = await FileStateStore.open({ dir: stateDir });
    expect((await store.read(TABLE))!.value).toMatchObject({ tasks: [], partitions: { 0: [[1, 1]] } });
    await store.close();
  });

  it('SIGTERM past the grace period: the in-flight task is requeued, then exit 0', async () => {
    const { server, seg, daemon, lake, stateDir } = await stalledDaemon(200);
    try {
      daemon.signal('SIGTERM');
      expect(await daemon.exited).toBe(0);
    } finally {
      await server.close();
    }
    expect(daemon.lines.find((l) => l.msg === 'task released')).toMatchObject({ segment: seg.name, reason: 'shutdown' });
    expect(await lakeFiles(lake)).toEqual([]);
    const store = await FileStateStore.open({ dir: stateDir });
    expect((await store.read(TABLE))!.value.tasks).toEqual([expect.objectContaining({ id: seg.name, status: 'PENDING', attempts: 0 })]);
    expect(await store.listClaims(TABLE)).toEqual([]);
    await store.close();
  });
});
