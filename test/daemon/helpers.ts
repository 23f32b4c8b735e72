/**
 * Shared by the executor and daemon tests: small generated REALTIME segments in a deep-store layout, a
 * loopback HTTP server that serves them with injected faults (503 first, 404, a stalled body), table and
 * daemon config files, and readers of what landed in the lake (Parquet footers read back with hyparquet).
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { generateSegments, type GeneratedSegment } from '../../src/generate/generator.js';
import type { ExportEventMap, ExportEventName, ExportEvents } from '../../src/control/events.js';
import { parseDaemonConfig, type DaemonConfig } from '../../src/daemon/daemon-config.js';

export const HOUR = 3_600_000;

export interface DeepStoreOptions {
  /** Deep-store root; segments go to `<root>/<rawTable>/`. */
  root: string;
  rawTable?: string;
  segments: number;
  rows?: number;
  firstSequence?: number;
  partition?: number;
  /** Start of the first segment (default: two days ago, so every segment is past any small buffer). */
  startMs?: number;
}

/** `events` preset segments as gzip archives named like the controller stores them (no extension). */
export async function makeDeepStore(o: DeepStoreOptions): Promise<GeneratedSegment[]> {
  const startMs = o.startMs ?? Math.floor((Date.now() - 2 * 24 * HOUR) / HOUR) * HOUR;
  return generateSegments({
    preset: 'events', rows: o.rows ?? 50, seed: 7, out: join(o.root, o.rawTable ?? 'events'), segments: o.segments,
    archive: 'gzip', firstSequence: o.firstSequence, partition: o.partition, startMs,
  });
}

export interface Fault {
  /** Answer this status instead of the file for the first `times` requests. */
  status?: number;
  times?: number;
  /** Send the headers, then hold the body until `resume()` (or `release()`, which cuts it off). */
  stall?: boolean;
}

export interface SegmentServer {
  url(name: string): string;
  /** Requests seen per path. */
  hits: Map<string, number>;
  faults: Map<string, Fault>;
  /** Cuts stalled responses off, as a dead server would. */
  release(): void;
  /** Sends the held bodies of stalled responses, and stops stalling. */
  resume(): void;
  close(): Promise<void>;
}

/** Serves `<dir>/<name>` on 127.0.0.1; unknown names are 404. */
export async function serveSegments(dir: string): Promise<SegmentServer> {
  const hits = new Map<string, number>();
  const faults = new Map<string, Fault>();
  const stalled = new Map<ServerResponse, string>();
  let resumed = false;
  const server: Server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    const n = (hits.get(name) ?? 0) + 1;
    hits.set(name, n);
    const fault = faults.get(name);
    if (fault?.status !== undefined && n <= (fault.times ?? 1)) {
      res.writeHead(fault.status).end('injected');
      return;
    }
    const path = join(dir, name);
    stat(path).then((info) => {
      res.writeHead(200, { 'content-length': info.size });
      if (fault?.stall === true && !resumed) {
        stalled.set(res, path);
        res.flushHeaders();
        return;
      }
      createReadStream(path).pipe(res);
    }, () => res.writeHead(404).end('not found'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (name) => `http://127.0.0.1:${port}/${encodeURIComponent(name)}`,
    hits,
    faults,
    release: () => {
      for (const res of stalled.keys()) res.destroy();
      stalled.clear();
    },
    resume: () => {
      resumed = true; // a request still on its way is served too
      for (const [res, path] of stalled) createReadStream(path).pipe(res);
      stalled.clear();
    },
    close: async () => {
      for (const res of stalled.keys()) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface LakeFile {
  name: string;
  rows: number;
  segment: string | undefined;
}

/** The published Parquet files of a local lake directory (hidden temporaries excluded), footers read by hyparquet. */
export async function lakeFiles(dir: string): Promise<LakeFile[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.parquet') && !n.startsWith('.')).sort();
  const out: LakeFile[] = [];
  for (const name of names) {
    const bytes = await readFile(join(dir, name));
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const segment = meta.key_value_metadata?.find((kv) => kv.key === 'pinot.segment.name')?.value;
    out.push({ name, rows: Number(meta.num_rows), segment });
  }
  return out;
}

/** Everything hidden in a directory (temporary files a failed publish must not leave behind). */
export async function hiddenFiles(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith('.'));
}

/** Records events of the given names in order. */
export function recordEvents(events: ExportEvents, names: ExportEventName[]): Array<{ name: ExportEventName; payload: ExportEventMap[ExportEventName] }> {
  const seen: Array<{ name: ExportEventName; payload: ExportEventMap[ExportEventName] }> = [];
  for (const name of names) events.on(name, (payload) => seen.push({ name, payload }));
  return seen;
}

export async function until(cond: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Writes a REALTIME table config whose `DataExportTask` holds `task` (all values strings, as in Pinot). */
export async function writeTableConfig(file: string, tableName: string, task: Record<string, string>): Promise<void> {
  await writeFile(file, JSON.stringify({ tableName, tableType: 'REALTIME', task: { taskTypeConfigsMap: { DataExportTask: task } } }));
}

/** A daemon on file state and deep-store discovery, polling and retrying fast enough for tests. */
export function fileStateDaemonConfig(o: { instanceId: string; stateDir: string; deepStore: string; tableFile: string; workDir: string }): DaemonConfig {
  return parseDaemonConfig({
    instanceId: o.instanceId,
    state: { type: 'file', dir: o.stateDir, claimTtlMs: 5000 },
    discovery: { type: 'deepstore', root: o.deepStore },
    tables: { files: [o.tableFile] },
    executor: { concurrency: 2, pollIntervalMs: 50 },
    retry: { maxAttempts: 2, backoffMs: 50 },
    workDir: o.workDir,
    shutdownGraceMs: 5000,
  }).config;
}
