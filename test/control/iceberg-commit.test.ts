/**
 * The commit loop against the test catalog with staged DataFiles fed straight into the state (no segments:
 * the loop only reads the state and writes Avro files): batching, 409 storms from a concurrent writer, the
 * unknown-state cases, and the generator's emit cap.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { IcebergCommitLoop } from '../../src/control/iceberg-commit.js';
import { localIO } from '../../src/control/iceberg-io.js';
import { ErrorCodes } from '../../src/errors.js';
import { parseCatalogSettings } from '../../src/sinks/iceberg/catalog-config.js';
import { IcebergRestClient } from '../../src/sinks/iceberg/rest-client.js';
import { SUMMARY_KEYS } from '../../src/sinks/iceberg/snapshot.js';
import { assignBatch, icebergEmitRoom, stageFile } from '../../src/state/iceberg-state.js';
import { FileStateStore } from '../../src/state/file-store.js';
import { emptyTableState, type TableState, type TaskRecord } from '../../src/state/records.js';
import { updateTable } from '../../src/state/store.js';
import { describeFixtures } from '../support/fixtures.js';
import { OPENAPI_SPEC_FIXTURE, startIcebergCatalog, type IcebergCatalog } from '../support/iceberg-catalog.js';
import { ICEBERG_SCHEMA, ICEBERG_TABLE, NS, TABLE, liveDataFiles, snapshotsOf } from './support/iceberg-env.js';

describeFixtures('Iceberg commit loop', OPENAPI_SPEC_FIXTURE, () => {
  let work: string;
  let catalog: IcebergCatalog;
  let store: FileStateStore;
  let location: string;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'ice-commit-'));
    catalog = await startIcebergCatalog({ warehouseDir: join(work, 'wh') });
    location = String((await catalog.createTable(NS, ICEBERG_TABLE, { schema: ICEBERG_SCHEMA })).metadata.location);
    store = await FileStateStore.open({ dir: join(work, 'state') });
  });
  afterEach(async () => {
    expect(catalog.violations).toEqual([]);
    await catalog.close();
    await rm(work, { recursive: true, force: true });
  });

  const segName = (i: number) => `clicks__0__${i}__20261126T0000Z`;

  /** `count` segments whose data files are staged (tasks parked as staged), stagedAt = i. */
  async function stage(count: number, from = 0): Promise<void> {
    await updateTable(store, TABLE, (s) => {
      let st: TableState = s ?? emptyTableState(TABLE);
      for (let i = from; i < from + count; i++) {
        const task: TaskRecord = { id: segName(i), segment: segName(i), downloadUrl: 'x', partition: 0, sequence: i, status: 'RUNNING', owner: 'e', attempts: 1, createdAtMs: 0 };
        st = { ...st, tasks: [...st.tasks, task] };
        const path = `${location}/data/${segName(i)}-0000.parquet`;
        st = stageFile(st, task, 'e', i, {
          path, segment: segName(i), recordCount: 2, fileSizeBytes: 100,
          dataFile: { filePath: path, fileFormat: 'PARQUET', recordCount: '2', fileSizeInBytes: '100', sortOrderId: 0 },
        })!;
      }
      return st;
    });
  }

  function loop(over: Partial<ConstructorParameters<typeof IcebergCommitLoop>[0]> = {}): IcebergCommitLoop {
    const client = new IcebergRestClient(parseCatalogSettings({ uri: catalog.uri, 'rest.client.max-retries': '0' }, { env: {} }), { backoff: { baseDelayMs: 1, maxDelayMs: 2 } });
    return new IcebergCommitLoop({
      store, table: TABLE, sourceTable: TABLE, client, ident: { namespace: NS, name: ICEBERG_TABLE }, io: localIO,
      committer: { commitThreshold: 250, maxCommitWaitMs: 3_600_000 }, owner: 'leader', backoff: { baseMs: 1, maxMs: 4 }, ...over,
    });
  }

  const state = async () => (await store.read(TABLE))!.value;

  it('1,000 staged files at threshold 250 → exactly 4 snapshots, every segment once', async () => {
    await stage(1000);
    const r = await loop().run();
    expect(r.decision.decision).toBe('COMMIT');
    expect(r.committed.map((c) => c.files)).toEqual([250, 250, 250, 250]);
    const snaps = snapshotsOf(catalog);
    expect(snaps).toHaveLength(4);
    expect(snaps.map((s) => s.summary[SUMMARY_KEYS.segmentCount])).toEqual(['250', '250', '250', '250']);
    expect(snaps[0]!.summary['total-data-files']).toBe('1000');
    const files = await liveDataFiles(catalog);
    expect(files).toHaveLength(1000);
    expect(new Set(files.map((f) => f.path)).size).toBe(1000);
    const st = await state();
    expect(st.tasks).toEqual([]);
    expect(st.iceberg!.staged).toEqual([]);
    expect(st.partitions).toEqual({ 0: [[0, 999]] });
  });

  it('below the threshold with more segments coming it waits; the max wait commits a quiet table', async () => {
    await stage(3);
    expect((await loop({ eligibleSegments: () => 10, now: () => 10 }).run()).decision.decision).toBe('EMIT');
    expect(snapshotsOf(catalog)).toHaveLength(0);
    const r = await loop({ eligibleSegments: () => 10, committer: { commitThreshold: 250, maxCommitWaitMs: 1000 }, now: () => 5000 }).run();
    expect(r.decision.decision).toBe('COMMIT');
    expect(snapshotsOf(catalog)).toHaveLength(1);
  });

  it('a 409 storm from a concurrent writer: rebuilt on the new head, everything committed exactly once', async () => {
    await stage(5);
    let writes = 0;
    const l = loop({
      maxAttempts: 8,
      // The other writer lands a snapshot between our attempts (the catalog also answers 409 twice by injection).
      observe: undefined,
    });
    catalog.inject({ conflicts: 2 });
    const other = setInterval(() => {
      if (writes < 2) void catalog.advanceMain(NS, ICEBERG_TABLE).then(() => writes++);
    }, 1);
    let r;
    try {
      r = await l.run();
    } finally {
      clearInterval(other);
    }
    expect(r.committed).toHaveLength(1);
    expect(r.committed[0]!.attempts).toBeGreaterThanOrEqual(3);
    const ours = snapshotsOf(catalog).filter((s) => s.summary[SUMMARY_KEYS.commitId] !== undefined);
    expect(ours).toHaveLength(1);
    expect((await liveDataFiles(catalog)).length).toBe(5);
    expect((await state()).tasks).toEqual([]);
  });

  it('5xx after the commit was applied: the reload finds our snapshot, no second snapshot, tasks completed', async () => {
    await stage(4);
    catalog.inject({ failAfterCommit: 1, status: 502 });
    const r = await loop().run();
    expect(r.committed).toHaveLength(1);
    expect(snapshotsOf(catalog)).toHaveLength(1);
    expect(catalog.count('updateTable')).toBe(1);
    expect((await state()).tasks).toEqual([]);
    expect((await state()).iceberg!.lastCommit!.snapshotId).toBe(snapshotsOf(catalog)[0]!.id.toString());
  });

  it('a dropped response: same outcome, one snapshot', async () => {
    await stage(4);
    catalog.inject({ dropResponse: 1 });
    const r = await loop().run();
    expect(r.committed).toHaveLength(1);
    expect(snapshotsOf(catalog)).toHaveLength(1);
    expect((await liveDataFiles(catalog)).length).toBe(4);
    expect((await state()).tasks).toEqual([]);
  });

  it('5xx before the commit: unresolved after the attempts, the batch stays pending and staged; the next cycle commits it once', async () => {
    await stage(3);
    catalog.inject({ failBeforeCommit: 3, status: 503 });
    const err = await loop({ maxAttempts: 3 }).run().then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.ICEBERG_COMMIT_STATE_UNKNOWN });
    const st = await state();
    expect(st.iceberg!.staged).toHaveLength(3);
    expect(st.tasks).toHaveLength(3);
    expect(snapshotsOf(catalog)).toHaveLength(0);
    await loop().run();
    expect(snapshotsOf(catalog)).toHaveLength(1);
    expect((await state()).tasks).toEqual([]);
    expect((await state()).iceberg!.pendingCommit).toBeUndefined();
  });

  it('a pending batch found in main (crash after the catalog commit) is completed without a new snapshot', async () => {
    await stage(2);
    // First committer lands the snapshot but "dies" before the checkpoint: replay its state without completion.
    const before = await store.read(TABLE);
    await loop({ observe: () => { throw new Error('crash'); } }).run().catch(() => undefined);
    expect(snapshotsOf(catalog)).toHaveLength(1);
    const pending = (await state()).iceberg!.staged;
    expect(pending).toHaveLength(2);
    expect(before).toBeDefined();
    // the batch was recorded before the catalog call: the commit id the snapshot carries, its files, its snapshot id
    const landed = snapshotsOf(catalog)[0]!;
    expect((await state()).iceberg!.pendingCommit).toEqual({
      commitId: landed.summary[SUMMARY_KEYS.commitId], snapshotId: landed.id.toString(), files: pending.map((f) => f.path).sort(), preparedAtMs: expect.any(Number),
    });
    expect((await state()).tasks.map((t) => t.status)).toEqual(['STAGED', 'STAGED']);
    const r = await loop().run();
    expect(r.recovered).toHaveLength(1);
    expect(r.committed).toHaveLength(0);
    expect(snapshotsOf(catalog)).toHaveLength(1);
    expect((await state()).tasks).toEqual([]);
  });

  it('the emit cap: threshold − staged − in flight, never negative', () => {
    let s = emptyTableState(TABLE);
    expect(icebergEmitRoom(s, 250)).toBe(250);
    s = { ...s, tasks: [{ id: 'a', segment: 'a', downloadUrl: '', status: 'PENDING', attempts: 0, createdAtMs: 0 }] };
    s = { ...s, iceberg: { staged: Array.from({ length: 200 }, (_, i) => ({ path: `p${i}`, segment: `s${i}`, recordCount: 1, fileSizeBytes: 1, stagedAtMs: 0 })) } };
    expect(icebergEmitRoom(s, 250)).toBe(49);
    expect(icebergEmitRoom(s, 100)).toBe(0);
    const prepared = assignBatch(s, ['p0', 'p1', 'not-staged'], 'c1', 5);
    expect(prepared!.iceberg!.pendingCommit).toEqual({ commitId: 'c1', files: ['p0', 'p1'], preparedAtMs: 5 });
    // one pending commit per table: a second batch waits until the first is resolved
    expect(assignBatch(prepared!, ['p2'], 'c2', 6)).toBeUndefined();
    expect(assignBatch(s, ['nothing'], 'c3', 6)).toBeUndefined();
  });
});
