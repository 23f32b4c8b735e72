/**
 * Shared set-up for the Iceberg target tests: a small Pinot schema and the matching Iceberg table schema,
 * generated segments, tasks seeded into a FileStateStore, the executor run until drained, and readers
 * (icebird through the catalog's warehouse server, our own manifest reader) that count what is in the table.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { icebergRead } from 'icebird';
import { vi } from 'vitest';
import { newTask } from '../../../src/control/eligibility.js';
import { ExportEvents } from '../../../src/control/events.js';
import { Executor } from '../../../src/control/executor.js';
import type { ExportTarget } from '../../../src/control/export-target.js';
import { generateSegments, type GeneratedSegment } from '../../../src/generate/generator.js';
import { readManifest } from '../../../src/sinks/iceberg/manifest.js';
import { readManifestList } from '../../../src/sinks/iceberg/manifest-list.js';
import { SUMMARY_KEYS } from '../../../src/sinks/iceberg/snapshot.js';
import { emptyTableState, type TableState } from '../../../src/state/records.js';
import { updateTable, type StateStore } from '../../../src/state/store.js';
import { exponentialBackoff } from '../../../src/state/table-state.js';
import type { IcebergCatalog } from '../../support/iceberg-catalog.js';
import { toBig } from '../../support/iceberg-catalog.js';
import { readRows, type Row } from '../../support/rows.js';

export const TABLE = 'clicks_REALTIME';
export const NS = ['lake'];
export const ICEBERG_TABLE = 'clicks';

export const PINOT_SCHEMA = {
  schemaName: 'clicks',
  dimensionFieldSpecs: [
    { name: 'user', dataType: 'STRING' },
    { name: 'tags', dataType: 'STRING', singleValueField: false },
  ],
  metricFieldSpecs: [{ name: 'n', dataType: 'LONG' }, { name: 'score', dataType: 'DOUBLE' }],
  dateTimeFieldSpecs: [{ name: 'ts', dataType: 'TIMESTAMP', format: '1:MILLISECONDS:EPOCH', granularity: '1:MILLISECONDS' }],
};

export const ICEBERG_SCHEMA = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'ts', required: false, type: 'timestamptz' },
    { id: 2, name: 'user', required: false, type: 'string' },
    { id: 3, name: 'tags', required: false, type: { type: 'list', 'element-id': 6, 'element-required': false, element: 'string' } },
    { id: 4, name: 'n', required: false, type: 'long' },
    { id: 5, name: 'score', required: false, type: 'double' },
  ],
};

/** `count` consecutive segments of `rows` rows as directories under `dir`. */
export async function makeSegments(dir: string, count: number, rows: number, options: { firstSequence?: number; schema?: object; seed?: number } = {}): Promise<GeneratedSegment[]> {
  await mkdir(dir, { recursive: true });
  const schemaFile = join(dir, `schema-${options.firstSequence ?? 0}.json`);
  await writeFile(schemaFile, JSON.stringify(options.schema ?? PINOT_SCHEMA));
  return generateSegments({
    schemaFile, rows, seed: options.seed ?? 7, out: join(dir, 'segments'), segments: count, firstSequence: options.firstSequence ?? 0,
    creationTimeMs: Date.UTC(2026, 10, 26),
  });
}

/** PENDING tasks for the segments (as the generator creates them). */
export async function seedTasks(store: StateStore, table: string, segments: readonly GeneratedSegment[]): Promise<void> {
  await updateTable(store, table, (s) => {
    const base: TableState = s ?? emptyTableState(table);
    const have = new Set(base.tasks.map((t) => t.id));
    const tasks = segments.filter((g) => !have.has(g.name)).map((g) => newTask({
      name: g.name, status: 'DONE', downloadUrl: g.dir, startTimeMs: g.startMs, endTimeMs: g.endMs, partition: 0, sequence: g.sequence,
      totalDocs: g.totalDocs, crc: String(g.crc),
    }, 1));
    return tasks.length === 0 ? undefined : { ...base, tasks: [...base.tasks, ...tasks] };
  });
}

/** Runs every runnable task of `table` with `target` until drained. */
export async function runTasks(store: StateStore, table: string, target: ExportTarget, events = new ExportEvents(), instance = 'exec-1'): Promise<ExportEvents> {
  const executor = new Executor({
    store, instance, targets: new Map([[table, target]]), events, concurrency: 2, pollIntervalMs: 50,
    retry: { maxAttempts: 3, backoffMs: exponentialBackoff(10, 100) },
  });
  await executor.drain();
  await executor.stop(0);
  return events;
}

/** Rows of all segments, in segment then doc order, as `cat` prints them. */
export async function segmentRows(segments: readonly GeneratedSegment[]): Promise<Row[]> {
  const out: Row[] = [];
  for (const s of segments) out.push(...await readRows(s.dir));
  return out;
}

/** Every row of the table as icebird 0.3.1 reads it (metadata → manifest list → manifests → Parquet). */
export async function icebirdRows(catalog: IcebergCatalog, location: string): Promise<Record<string, unknown>[]> {
  await catalog.serveWarehouse();
  vi.stubGlobal('fetch', catalog.readerFetch());
  try {
    return await icebergRead({ tableUrl: catalog.httpUrl(location) });
  } finally {
    vi.unstubAllGlobals();
  }
}

export interface TableSnapshot {
  id: bigint;
  parent: bigint | null;
  summary: Record<string, string>;
  manifestList: string;
}

/** `main`'s ancestry from the catalog's current metadata, newest first. */
export function snapshotsOf(catalog: IcebergCatalog, ns = NS, name = ICEBERG_TABLE): TableSnapshot[] {
  const md = catalog.table(ns, name).metadata as Record<string, unknown>;
  const all = (md.snapshots as Record<string, unknown>[] | undefined ?? []).map((s) => ({
    id: toBig(s['snapshot-id'])!, parent: toBig(s['parent-snapshot-id']) ?? null, summary: s.summary as Record<string, string>, manifestList: String(s['manifest-list']),
  }));
  const out: TableSnapshot[] = [];
  let id = catalog.mainSnapshotId(ns, name);
  while (id !== null) {
    const s = all.find((x) => x.id === id);
    if (!s) break;
    out.push(s);
    id = s.parent;
  }
  return out;
}

/** Live data files of the current snapshot (our own manifest reader): path → added snapshot. */
export async function liveDataFiles(catalog: IcebergCatalog, ns = NS, name = ICEBERG_TABLE): Promise<{ path: string; records: bigint }[]> {
  const head = snapshotsOf(catalog, ns, name)[0];
  if (!head) return [];
  const { readFile } = await import('node:fs/promises');
  const list = readManifestList(await readFile(catalog.localPath(head.manifestList)), head.manifestList);
  const out: { path: string; records: bigint }[] = [];
  for (const row of list.rows) {
    if (row.content !== 0) continue;
    const m = readManifest(await readFile(catalog.localPath(row.manifest_path)), row.manifest_path);
    for (const e of m.entries) if (e.status !== 2 && e.content === 0) out.push({ path: e.filePath, records: e.recordCount });
  }
  return out;
}

/** Segment names committed by our snapshots in `main` (inline markers), one entry per commit. */
export function committedNames(catalog: IcebergCatalog, ns = NS, name = ICEBERG_TABLE): string[] {
  return snapshotsOf(catalog, ns, name).flatMap((s) => {
    const v = s.summary[SUMMARY_KEYS.segments];
    return v === undefined ? [] : JSON.parse(v) as string[];
  });
}
