/**
 * Crash tests: an exporter process (executor + commit loop) is killed with SIGKILL right after a data file was
 * uploaded, right after a file was staged, and right after the catalog accepted a commit but before the
 * checkpoint; a fresh process then finishes. Every segment must be in the table exactly once.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FileStateStore } from '../../src/state/file-store.js';
import { describeFixtures } from '../support/fixtures.js';
import { OPENAPI_SPEC_FIXTURE, startIcebergCatalog, type IcebergCatalog } from '../support/iceberg-catalog.js';
import { buildChild } from './support/iceberg-build.js';
import { CRASH_CHILD } from './support/iceberg-crash-child.js';
import { ICEBERG_SCHEMA, ICEBERG_TABLE, NS, TABLE, committedNames, icebirdRows, liveDataFiles, makeSegments, seedTasks, snapshotsOf } from './support/iceberg-env.js';

function run(child: string, args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  const proc = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  return new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal, out })));
}

describeFixtures('Iceberg target crash tests (kill -9)', OPENAPI_SPEC_FIXTURE, () => {
  let work: string;
  let child: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ice-crash-'));
    child = await buildChild(join(work, 'build'), 'child.js', CRASH_CHILD);
  }, 60_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  for (const step of ['uploaded', 'staged', 'catalog-committed'] as const) {
    it(`killed after ${step}: a fresh process finishes and every segment is in the table exactly once`, async () => {
      const catalog: IcebergCatalog = await startIcebergCatalog({ warehouseDir: join(work, step, 'wh') });
      try {
        const location = String((await catalog.createTable(NS, ICEBERG_TABLE, { schema: ICEBERG_SCHEMA })).metadata.location);
        const segments = await makeSegments(join(work, step), 3, 40);
        const stateDir = join(work, step, 'state');
        const store = await FileStateStore.open({ dir: stateDir });
        await seedTasks(store, TABLE, segments);
        await store.close();

        const crashed = await run(child, [stateDir, catalog.uri, step]);
        expect(crashed.signal, crashed.out).toBe('SIGKILL');
        if (step === 'catalog-committed') expect(snapshotsOf(catalog)).toHaveLength(1); // landed, not checkpointed
        else expect(snapshotsOf(catalog)).toHaveLength(0);

        const finished = await run(child, [stateDir, catalog.uri, 'none']);
        expect(finished.out).toContain('done');
        expect(finished.code).toBe(0);

        const names = segments.map((s) => s.name).sort();
        expect(committedNames(catalog).sort()).toEqual(names); // each segment in exactly one of our snapshots
        const files = await liveDataFiles(catalog);
        expect(files.map((f) => f.path.slice(location.length + '/data/'.length).replace(/-[0-9a-f]{16}\.parquet$/, '')).sort()).toEqual(names);
        expect(files.reduce((s, f) => s + f.records, 0n)).toBe(120n);
        expect(await icebirdRows(catalog, location)).toHaveLength(120);
        const after = await FileStateStore.open({ dir: stateDir });
        const st = (await after.read(TABLE))!.value;
        await after.close();
        expect(st.tasks).toEqual([]);
        expect(st.iceberg!.staged).toEqual([]);
        expect(st.partitions).toEqual({ 0: [[0, 2]] });
        expect(catalog.violations).toEqual([]);
      } finally {
        await catalog.close();
      }
    }, 60_000);
  }
});
