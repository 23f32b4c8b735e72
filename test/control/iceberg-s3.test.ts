/**
 * The iceberg-rest target on an `s3://` table location: data files, manifests and manifest lists go to the
 * loopback S3 server (fauxqs behind the fault proxy, which accepts only the vended access key) with the
 * credentials the test catalog vends in LoadTable (`s3.endpoint`, `s3.path-style-access`, keys, session
 * token); short-lived vended credentials are refreshed from the catalog while the run goes on.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { parquetMetadata } from 'hyparquet';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ExportEvents } from '../../src/control/events.js';
import { IcebergTarget } from '../../src/control/iceberg-target.js';
import { ExportMetrics } from '../../src/daemon/metrics.js';
import { DEFAULT_PARQUET_OPTIONS } from '../../src/pipeline/parquet-options.js';
import { parseCatalogSettings } from '../../src/sinks/iceberg/catalog-config.js';
import { readManifest } from '../../src/sinks/iceberg/manifest.js';
import { readManifestList } from '../../src/sinks/iceberg/manifest-list.js';
import { FileStateStore } from '../../src/state/file-store.js';
import { describeFixtures } from '../support/fixtures.js';
import { OPENAPI_SPEC_FIXTURE, startIcebergCatalog, type IcebergCatalog } from '../support/iceberg-catalog.js';
import { startS3Server, type RequestRecord, type S3TestServer } from '../support/s3-server.js';
import { ICEBERG_SCHEMA, ICEBERG_TABLE, NS, TABLE, committedNames, makeSegments, runTasks, seedTasks, snapshotsOf } from './support/iceberg-env.js';

const VENDED_KEY = 'vended-access-key';

/** Answered normally: 2xx, or the 404 of the sink's existence check before it publishes a new object. */
const accepted = (r: RequestRecord): boolean => r.status !== undefined && (r.status < 300 || (r.op === 'HeadObject' && r.status === 404));

describeFixtures('IcebergTarget on S3 with vended credentials', OPENAPI_SPEC_FIXTURE, () => {
  let work: string;
  let s3: S3TestServer;
  let catalog: IcebergCatalog | undefined;
  let catalogS3: S3Client | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ice-s3-'));
    s3 = await startS3Server({ bucket: 'lake', accessKeyId: VENDED_KEY });
  });
  afterEach(async () => {
    if (catalog) expect(catalog.violations).toEqual([]);
    await catalog?.close();
    catalogS3?.destroy();
    catalog = undefined;
  });
  afterAll(async () => {
    await s3?.stop();
    await rm(work, { recursive: true, force: true });
  });

  async function setup(prefix: string, ttlMs: number): Promise<{ location: string; store: FileStateStore; target: IcebergTarget; events: ExportEvents; metrics: ExportMetrics }> {
    // The catalog writes its metadata.json files straight to fauxqs; the exporter gets only vended credentials.
    catalogS3 = new S3Client(s3.clientConfig(true));
    catalog = await startIcebergCatalog({
      s3: catalogS3,
      vendedCredentials: { accessKeyId: VENDED_KEY, secretAccessKey: 'vended-secret', sessionToken: 'session', endpoint: s3.endpoint, pathStyle: true, region: 'us-east-1', ttlMs },
    });
    const location = `s3://lake/${prefix}`;
    await catalog.createTable(NS, ICEBERG_TABLE, { schema: ICEBERG_SCHEMA, location });
    const store = await FileStateStore.open({ dir: join(work, prefix, 'state') });
    const events = new ExportEvents();
    const metrics = new ExportMetrics();
    metrics.subscribe(events);
    const target = new IcebergTarget({
      store, table: TABLE, ident: { namespace: NS, name: ICEBERG_TABLE },
      catalog: parseCatalogSettings({ uri: catalog.uri }, { env: {} }), parquet: { ...DEFAULT_PARQUET_OPTIONS },
      commitThreshold: 250, owner: 'leader-1', events, commitBackoff: { baseMs: 1, maxMs: 5 },
    });
    return { location, store, target, events, metrics };
  }

  it('writes the data files, manifest and list to the bucket with vended credentials; the commit lands; metrics and events follow', async () => {
    const { location, store, target, events, metrics } = await setup('wh1/clicks', 3_600_000);
    const segments = await makeSegments(join(work, 'seg1'), 3, 60);
    const committed: unknown[] = [];
    events.on('iceberg.committed', (e) => committed.push(e));
    const completed: string[] = [];
    events.on('task.completed', (e) => completed.push(e.segment));
    try {
      await seedTasks(store, TABLE, segments);
      await runTasks(store, TABLE, target, events);
      const staged = (await store.read(TABLE))!.value;
      expect(staged.tasks.map((t) => t.status)).toEqual(['STAGED', 'STAGED', 'STAGED']);
      const result = await target.commitNow();
      expect(result.committed).toHaveLength(1);
    } finally {
      await target.close();
    }
    expect(completed.sort()).toEqual(segments.map((s) => s.name).sort());

    // data files in the bucket, each a Parquet file with its segment's rows
    const dataKeys = (await s3.listKeys('wh1/clicks/data/')).filter((k) => k.endsWith('.parquet'));
    expect(dataKeys).toHaveLength(3);
    for (const key of dataKeys) {
      const bytes = (await s3.getObject(key))!;
      expect(Number(parquetMetadata(new Uint8Array(bytes).buffer).num_rows)).toBe(60);
    }
    // the commit: one snapshot naming every segment; its manifest list and manifest are in the bucket and list the files
    const snaps = snapshotsOf(catalog!);
    expect(snaps).toHaveLength(1);
    expect(committedNames(catalog!).sort()).toEqual(segments.map((s) => s.name).sort());
    const key = (uri: string) => uri.replace(/^s3:\/\/lake\//, '');
    expect(snaps[0]!.manifestList.startsWith(`${location}/metadata/`)).toBe(true);
    const list = readManifestList((await s3.getObject(key(snaps[0]!.manifestList)))!, snaps[0]!.manifestList);
    expect(list.rows).toHaveLength(1);
    const manifest = readManifest((await s3.getObject(key(list.rows[0]!.manifest_path)))!, list.rows[0]!.manifest_path);
    expect(manifest.entries.map((e) => key(e.filePath)).sort()).toEqual(dataKeys.sort());

    // every request to the bucket was signed with the vended key (the proxy refuses any other with 403)
    const ours = s3.log.filter((r) => r.op !== 'Other');
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.every((r) => r.accessKeyId === VENDED_KEY && accepted(r))).toBe(true);
    expect(s3.count('PutObject')).toBeGreaterThanOrEqual(2); // manifest + list (data files may be single puts or multipart)

    expect(committed).toEqual([expect.objectContaining({ table: TABLE, files: 3, segments: 3, rows: 180, attempts: 1 })]);
    const text = await metrics.metrics();
    expect(text).toMatch(/pinot_export_iceberg_commits_total\{table="clicks_REALTIME"\} 1\b/);
    expect(text).toMatch(/pinot_export_iceberg_committed_rows_total\{table="clicks_REALTIME"\} 180\b/);
  });

  it('vended credentials that expire during the run are refreshed from the catalog before they are used again', async () => {
    // 1.5 s of life: inside the refresh margin at once, and past expiry while the run goes on
    const { store, target } = await setup('wh2/clicks', 1500);
    const segments = await makeSegments(join(work, 'seg2'), 2, 30);
    const before = s3.log.length;
    try {
      await seedTasks(store, TABLE, segments);
      await runTasks(store, TABLE, target);
      const afterExport = catalog!.vended.length;
      expect(afterExport).toBeGreaterThan(1); // the first LoadTable's, then refreshes
      // Let every credential vended so far expire for real, then commit (manifest + list are S3 writes).
      const last = Math.max(...catalog!.vended.map((v) => v.expiresAtMs));
      await new Promise((r) => setTimeout(r, Math.max(0, last - Date.now()) + 50));
      const result = await target.commitNow();
      expect(result.committed).toHaveLength(1);
      const fresh = catalog!.vended.slice(afterExport);
      expect(fresh.length).toBeGreaterThan(0);
      expect(fresh.every((v) => v.expiresAtMs > last)).toBe(true);
    } finally {
      await target.close();
    }
    const tokens = catalog!.vended.map((v) => v.sessionToken);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(s3.log.slice(before).filter((r) => r.op !== 'Other').every((r) => r.accessKeyId === VENDED_KEY && accepted(r))).toBe(true);
    expect(committedNames(catalog!).sort()).toEqual(segments.map((s) => s.name).sort());
    expect((await s3.listKeys('wh2/clicks/data/')).filter((k) => k.endsWith('.parquet'))).toHaveLength(2);
  });
});
