/**
 * The daemon with an iceberg-rest table against the spec-validating test catalog (local warehouse): `runOnce`
 * batches exports into snapshots of `iceberg.commitThreshold` files, STAGED tasks are outstanding until
 * committed, and the HTTP API shows staged tasks as IN_PROGRESS with their files in /metadata.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ExportEvents } from '../../src/control/events.js';
import { Daemon } from '../../src/daemon/daemon.js';
import type { DaemonConfig } from '../../src/daemon/daemon-config.js';
import { startApi } from '../../src/daemon/http-api.js';
import { generateSegments, type GeneratedSegment } from '../../src/generate/generator.js';
import { SUMMARY_KEYS } from '../../src/sinks/iceberg/snapshot.js';
import { FileStateStore } from '../../src/state/file-store.js';
import { describeFixtures } from '../support/fixtures.js';
import { OPENAPI_SPEC_FIXTURE, startIcebergCatalog, type IcebergCatalog } from '../support/iceberg-catalog.js';
import {
  ICEBERG_SCHEMA, ICEBERG_TABLE, NS, PINOT_SCHEMA, TABLE, committedNames, icebirdRows, liveDataFiles, segmentRows, snapshotsOf,
} from '../control/support/iceberg-env.js';
import { fileStateDaemonConfig, HOUR, writeTableConfig } from './helpers.js';

const ROWS = 40;

describeFixtures('Daemon with an iceberg-rest table', OPENAPI_SPEC_FIXTURE, () => {
  let root: string;
  let catalog: IcebergCatalog;
  let n = 0;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ice-daemon-'));
  });
  afterEach(async () => {
    if (catalog) expect(catalog.violations).toEqual([]);
    await catalog?.close();
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** `count` clicks segments as gzip archives in a deep store, past any buffer; a daemon config for them. */
  async function setup(count: number, task: Record<string, string> = {}): Promise<{ config: DaemonConfig; segments: GeneratedSegment[]; stateDir: string }> {
    n++;
    const dir = join(root, `run-${n}`);
    const deep = join(dir, 'deepstore');
    const schemaFile = join(dir, 'schema.json');
    await mkdir(dir, { recursive: true });
    await writeFile(schemaFile, JSON.stringify(PINOT_SCHEMA));
    const segments = await generateSegments({
      schemaFile, rows: ROWS, seed: 11, out: join(deep, 'clicks'), segments: count, archive: 'gzip',
      startMs: Math.floor((Date.now() - 2 * 24 * HOUR) / HOUR) * HOUR,
    });
    const tableFile = join(dir, 'table.json');
    await writeTableConfig(tableFile, TABLE, {
      'externalTable.target': 'iceberg-rest', 'externalTable.name': `${NS.join('.')}.${ICEBERG_TABLE}`,
      'catalog.iceberg-rest.uri': catalog.uri, 'catalog.iceberg-rest.rest.client.max-retries': '0',
      'iceberg.commitThreshold': '3', 'iceberg.maxCommitWaitMs': '3600000',
      bufferTimePeriod: '0m', tableMaxNumTasks: '10', ...task,
    });
    const stateDir = join(dir, 'state');
    const config = fileStateDaemonConfig({ instanceId: `ice-daemon-${n}`, stateDir, deepStore: deep, tableFile, workDir: join(dir, 'work') });
    return { config, segments, stateDir };
  }

  it('runOnce: 7 segments at threshold 3 → exactly 3 snapshots (3 + 3 + 1), every segment once, nothing left staged', async () => {
    catalog = await startIcebergCatalog();
    const location = String((await catalog.createTable(NS, ICEBERG_TABLE, { schema: ICEBERG_SCHEMA })).metadata.location);
    const { config, segments, stateDir } = await setup(7);
    const events = new ExportEvents();
    const decisions: string[] = [];
    events.on('iceberg.decision', (e) => decisions.push(e.decision));
    const emitted: number[] = [];
    events.on('generation.completed', (e) => emitted.push(e.emitted));
    const daemon = await Daemon.open(config, { events });
    const summary = await daemon.runOnce().finally(() => daemon.stop());

    const all = segments.map((s) => s.name).sort();
    expect(summary.generationErrors).toEqual([]);
    expect(summary.failed).toEqual([]);
    expect(summary.staged).toEqual([]);
    expect(summary.exported.map((e) => e.segment).sort()).toEqual(all);
    expect(summary.exported.every((e) => e.rows === ROWS && e.files.length === 1 && e.files[0]!.startsWith(`${location}/data/`))).toBe(true);
    expect(summary.commits.map((c) => c.files)).toEqual([3, 3, 1]);
    expect(summary.commits.map((c) => c.rows)).toEqual([3 * ROWS, 3 * ROWS, ROWS]);
    // the cap: no cycle emits more than the batch has room for
    expect(emitted.every((e) => e <= 3)).toBe(true);
    expect(emitted.reduce((a, b) => a + b, 0)).toBe(7);
    expect(decisions.filter((d) => d === 'COMMIT')).toHaveLength(3);

    const snaps = snapshotsOf(catalog);
    expect(snaps).toHaveLength(3);
    expect(snaps.map((s) => s.summary[SUMMARY_KEYS.segmentCount]).reverse()).toEqual(['3', '3', '1']);
    expect(snaps.map((s) => s.id.toString()).reverse()).toEqual(summary.commits.map((c) => c.snapshotId));
    // every segment exactly once, by our summary keys and by the live data files
    expect(committedNames(catalog).sort()).toEqual(all);
    const files = await liveDataFiles(catalog);
    expect(files).toHaveLength(7);
    expect(files.every((f) => f.records === BigInt(ROWS))).toBe(true);

    const rows = await icebirdRows(catalog, location);
    expect(rows).toHaveLength(7 * ROWS);
    const key = (r: Record<string, unknown>) => JSON.stringify([r.user ?? null, r.n === null || r.n === undefined ? null : Number(r.n), r.score ?? null]);
    expect(rows.map(key).sort()).toEqual((await segmentRows(segments.map((s) => ({ ...s, dir: s.archivePath! })))).map(key).sort());

    const store = await FileStateStore.open({ dir: stateDir });
    try {
      const state = (await store.read(TABLE))!.value;
      expect(state.tasks).toEqual([]);
      expect(state.iceberg!.staged).toEqual([]);
      expect(state.iceberg!.pendingCommit).toBeUndefined();
      expect(state.partitions).toEqual({ 0: [[0, 6]] });
      expect(state.iceberg!.lastCommit).toMatchObject({ snapshotId: summary.commits[2]!.snapshotId, fileCount: 1 });
    } finally {
      await store.close();
    }
  });

  it('a failed commit leaves STAGED tasks: the summary lists them, the API shows IN_PROGRESS and the staged files; the next run commits them', async () => {
    catalog = await startIcebergCatalog();
    await catalog.createTable(NS, ICEBERG_TABLE, { schema: ICEBERG_SCHEMA });
    const { config, segments } = await setup(2);
    const all = segments.map((s) => s.name).sort();
    catalog.inject({ failBeforeCommit: 1, status: 400 });

    const first = await Daemon.open(config, { events: new ExportEvents() });
    const api = await startApi(first, {});
    try {
      const summary = await first.runOnce();
      expect(summary.commits).toEqual([]);
      expect(summary.failed).toEqual([]); // staged is not failed
      expect(summary.staged.map((s) => s.segment).sort()).toEqual(all);
      expect(summary.generationErrors).toHaveLength(1);
      expect(summary.generationErrors[0]).toMatchObject({ table: TABLE });
      expect(snapshotsOf(catalog)).toEqual([]);

      const states = await (await fetch(`${api.url}/tasks/DataExportTask/clicks/taskstates`)).json() as Record<string, string>;
      expect(states).toEqual(Object.fromEntries(all.map((s) => [s, 'IN_PROGRESS'])));
      const md = await (await fetch(`${api.url}/tasks/DataExportTask/clicks/metadata`)).json() as {
        progress: Record<string, number>; tasks: Array<{ status: string; state: string }>; failures: unknown[];
        iceberg: { stagedCount: number; staged: Array<{ segment: string; path: string; recordCount: number; inPendingCommit: boolean }>; pendingCommit: { commitId: string; files: string[] } | null; lastCommit: unknown };
      };
      expect(md.progress).toMatchObject({ pending: 0, running: 0, staged: 2, failed: 0, exportedSegments: 0 });
      expect(md.tasks.map((t) => [t.status, t.state])).toEqual([['STAGED', 'IN_PROGRESS'], ['STAGED', 'IN_PROGRESS']]);
      expect(md.failures).toEqual([]);
      expect(md.iceberg.stagedCount).toBe(2);
      expect(md.iceberg.staged.map((f) => f.segment).sort()).toEqual(all);
      expect(md.iceberg.staged.every((f) => f.recordCount === ROWS && f.path.endsWith('.parquet') && f.inPendingCommit)).toBe(true);
      // the batch was recorded before the refused catalog call, so a retry recognises it
      expect(md.iceberg.pendingCommit!.files.sort()).toEqual(md.iceberg.staged.map((f) => f.path).sort());
      expect(md.iceberg.lastCommit).toBeNull();
      const health = await (await fetch(`${api.url}/health`)).json() as { tables: Record<string, Record<string, number>> };
      expect(health.tables[TABLE]).toMatchObject({ pending: 0, running: 0, staged: 2, failed: 0 });
    } finally {
      await api.close();
      await first.stop();
    }

    const second = await Daemon.open(config, { events: new ExportEvents() });
    const api2 = await startApi(second, {});
    try {
      const summary = await second.runOnce();
      expect(summary.generationErrors).toEqual([]);
      expect(summary.exported).toEqual([]); // nothing re-exported: the staged files are committed as they are
      expect(summary.commits.map((c) => c.files)).toEqual([2]);
      expect(summary.staged).toEqual([]);
      expect(committedNames(catalog).sort()).toEqual(all);
      const states = await (await fetch(`${api2.url}/tasks/DataExportTask/clicks/taskstates`)).json() as Record<string, string>;
      expect(states).toEqual(Object.fromEntries(all.map((s) => [s, 'COMPLETED'])));
      const md = await (await fetch(`${api2.url}/tasks/DataExportTask/clicks/metadata`)).json() as { iceberg: { stagedCount: number; pendingCommit: unknown; lastCommit: { snapshotId: string; fileCount: number } } };
      expect(md.iceberg.stagedCount).toBe(0);
      expect(md.iceberg.pendingCommit).toBeNull();
      expect(md.iceberg.lastCommit).toMatchObject({ snapshotId: summary.commits[0]!.snapshotId, fileCount: 2 });
    } finally {
      await api2.close();
      await second.stop();
    }
  });
});
