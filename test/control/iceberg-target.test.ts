/**
 * The iceberg-rest target end to end against the spec-validating test catalog (local-directory warehouse):
 * generated segments → tasks → executor → staged data files → one commit, read back by icebird, DuckDB and
 * avsc; a fast append on the Java-written bunnies table; tables refused up front.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata } from 'hyparquet';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ExportEvents } from '../../src/control/events.js';
import { mappedLocalIO } from '../../src/control/iceberg-io.js';
import { IcebergTarget } from '../../src/control/iceberg-target.js';
import { ErrorCodes, ExporterError } from '../../src/errors.js';
import { DEFAULT_PARQUET_OPTIONS } from '../../src/pipeline/parquet-options.js';
import { parseCatalogSettings } from '../../src/sinks/iceberg/catalog-config.js';
import { readManifestList } from '../../src/sinks/iceberg/manifest-list.js';
import { SUMMARY_KEYS } from '../../src/sinks/iceberg/snapshot.js';
import { SegmentReader } from '../../src/sources/segment-reader.js';
import { isStagedTask } from '../../src/state/iceberg-state.js';
import { FileStateStore } from '../../src/state/file-store.js';
import { describeFixtures, sharedPath } from '../support/fixtures.js';
import { OPENAPI_SPEC_FIXTURE, startIcebergCatalog, type IcebergCatalog } from '../support/iceberg-catalog.js';
import { avscDecode, JAVA_MANIFEST_LIST_SCHEMA_PATH, JAVA_MANIFEST_SCHEMA_PATH, readJson } from '../sinks/iceberg/avro-helpers.js';
import {
  ICEBERG_SCHEMA, ICEBERG_TABLE, NS, TABLE, committedNames, icebirdRows, liveDataFiles, makeSegments, runTasks, seedTasks, segmentRows, snapshotsOf,
} from './support/iceberg-env.js';

describeFixtures('IcebergTarget end to end', OPENAPI_SPEC_FIXTURE, () => {
  let work: string;
  let catalog: IcebergCatalog;
  const targets: IcebergTarget[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ice-target-'));
  });
  afterEach(async () => {
    for (const t of targets.splice(0)) await t.close();
    if (catalog) expect(catalog.violations).toEqual([]);
    await catalog?.close();
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  async function target(store: FileStateStore, over: Partial<ConstructorParameters<typeof IcebergTarget>[0]> = {}): Promise<IcebergTarget> {
    const t = new IcebergTarget({
      store, table: TABLE, ident: { namespace: NS, name: ICEBERG_TABLE },
      catalog: parseCatalogSettings({ uri: catalog.uri }, { env: {} }), parquet: { ...DEFAULT_PARQUET_OPTIONS },
      commitThreshold: 250, owner: 'leader-1', commitBackoff: { baseMs: 1, maxMs: 5 }, ...over,
    });
    targets.push(t);
    return t;
  }

  it('N segments → tasks → staged → one commit that icebird, DuckDB and avsc read back exactly', async () => {
    catalog = await startIcebergCatalog();
    const table = await catalog.createTable(NS, ICEBERG_TABLE, { schema: ICEBERG_SCHEMA });
    const location = String(table.metadata.location);
    const dir = join(work, 'e2e');
    const store = await FileStateStore.open({ dir: join(dir, 'state') });
    const segments = await makeSegments(dir, 3, 200);
    await seedTasks(store, TABLE, segments);
    const events = new ExportEvents();
    const decisions: string[] = [];
    events.on('iceberg.decision', (e) => decisions.push(e.decision));
    const t = await target(store, { events });

    await runTasks(store, TABLE, t, events);
    const staged = (await store.read(TABLE))!.value;
    expect(staged.iceberg!.staged.map((f) => f.segment).sort()).toEqual(segments.map((s) => s.name).sort());
    expect(staged.tasks.every(isStagedTask)).toBe(true);
    expect(staged.partitions).toEqual({}); // nothing is progress before the commit
    expect(snapshotsOf(catalog)).toEqual([]);

    const result = await t.commitNow();
    expect(result.committed).toHaveLength(1);
    expect(decisions).toEqual(['COMMIT']);
    const after = (await store.read(TABLE))!.value;
    expect(after.tasks).toEqual([]);
    expect(after.iceberg!.staged).toEqual([]);
    expect(after.partitions).toEqual({ 0: [[0, 2]] });
    expect(after.iceberg!.lastCommit).toMatchObject({ commitId: result.committed[0]!.commitId, snapshotId: result.committed[0]!.snapshotId.toString(), fileCount: 3 });

    const snaps = snapshotsOf(catalog);
    expect(snaps).toHaveLength(1);
    expect(snaps[0]!.summary).toMatchObject({
      operation: 'append', 'added-data-files': '3', 'added-records': '600', 'total-records': '600',
      [SUMMARY_KEYS.sourceTable]: TABLE, [SUMMARY_KEYS.commitId]: result.committed[0]!.commitId, [SUMMARY_KEYS.segmentCount]: '3',
    });
    expect(committedNames(catalog).sort()).toEqual(segments.map((s) => s.name).sort());

    // icebird reads every exported row; compare with the segment reader's rows (timestamps as ms, LONG as number/bigint)
    const expected = await segmentRows(segments);
    const got = await icebirdRows(catalog, location);
    expect(got).toHaveLength(600);
    const norm = (r: Record<string, unknown>) => ({
      ts: r.ts === null || r.ts === undefined ? null : r.ts instanceof Date ? r.ts.getTime() : Number(r.ts),
      user: r.user ?? null, n: r.n === null || r.n === undefined ? null : Number(r.n), score: r.score ?? null,
      tags: r.tags ?? null,
    });
    const key = (r: ReturnType<typeof norm>) => JSON.stringify(r);
    expect(got.map(norm).map(key).sort()).toEqual(expected.map(norm).map(key).sort());

    // DuckDB: field ids on every element of the data files (list element included), MICROS timestamps
    const files = await liveDataFiles(catalog);
    expect(files).toHaveLength(3);
    for (const f of files) expect(f.path).toMatch(new RegExp(`^${location}/data/clicks__0__\\d+__\\d{8}T\\d{4}Z-[0-9a-f]{16}\\.parquet$`));
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const schemaRows = (await duck.runAndReadAll(`SELECT name, field_id, logical_type::VARCHAR AS lt FROM parquet_schema('${catalog.localPath(files[0]!.path)}')`)).getRowObjects();
    const ids = Object.fromEntries(schemaRows.filter((r) => r.field_id !== null).map((r) => [String(r.name), Number(r.field_id)]));
    expect(ids).toEqual({ ts: 1, user: 2, tags: 3, element: 6, n: 4, score: 5 });
    expect(String(schemaRows.find((r) => r.name === 'ts')!.lt)).toMatch(/MICROS/);
    duck.closeSync();

    // manifests parse with avsc against the Java-written schemas
    const list = await avscDecode(await readFile(catalog.localPath(snaps[0]!.manifestList)), readJson(JAVA_MANIFEST_LIST_SCHEMA_PATH));
    expect(list.records).toHaveLength(1);
    expect(list.records[0]).toMatchObject({ added_files_count: 3, added_rows_count: 600n, content: 0 });
    const manifest = await avscDecode(await readFile(catalog.localPath(String(list.records[0]!.manifest_path))), readJson(JAVA_MANIFEST_SCHEMA_PATH));
    expect(manifest.records.map((r) => (r.data_file as { file_path: string }).file_path).sort()).toEqual(files.map((f) => f.path).sort());
    expect(manifest.records.every((r) => r.status === 1 && r.sequence_number === null)).toBe(true);
    expect(catalog.count('updateTable')).toBe(1);
  });

  it('a JSON struct column takes the table\'s shape (unknown keys per unknownKeysBehavior), `timestamp` is not UTC-adjusted, iceberg.schema is in the file', async () => {
    catalog = await startIcebergCatalog();
    const pinot = {
      schemaName: 'events', dimensionFieldSpecs: [{ name: 'payload', dataType: 'JSON' }],
      dateTimeFieldSpecs: [{ name: 'ts', dataType: 'TIMESTAMP', format: '1:MILLISECONDS:EPOCH', granularity: '1:MILLISECONDS' }],
    };
    // The generator's JSON values are {"k": <string>, "n": <int>}; the table knows only `k`.
    const schema = {
      type: 'struct', 'schema-id': 0, fields: [
        { id: 1, name: 'ts', required: false, type: 'timestamp' },
        { id: 2, name: 'payload', required: false, type: { type: 'struct', fields: [{ id: 3, name: 'k', required: false, type: 'string' }] } },
      ],
    };
    const table = await catalog.createTable(NS, 'structs', { schema });
    const location = String(table.metadata.location);
    const dir = join(work, 'structs');
    const segments = await makeSegments(dir, 1, 40, { schema: pinot });
    const expected = await segmentRows(segments);
    const payloads = expected.map((r) => (r.payload === null ? null : JSON.parse(r.payload as string) as { k: string; n: number }));
    const firstN = payloads.findIndex((p) => p !== null);
    const ident = { namespace: NS, name: 'structs' };

    // Default (fail): the first row with `n` aborts the task naming table, column, key and row; nothing is staged.
    const failStore = await FileStateStore.open({ dir: join(dir, 'state-fail') });
    const failing = await target(failStore, { ident, parquet: { ...DEFAULT_PARQUET_OPTIONS, jsonMaxDepth: 1 } });
    const reader = await SegmentReader.open(segments[0]!.dir);
    const err = await failing.exportTask({ id: segments[0]!.name, segment: segments[0]!.name, downloadUrl: segments[0]!.dir, status: 'RUNNING', attempts: 1, createdAtMs: 1 }, {
      table: 'events_REALTIME', owner: 'x', attempt: 1, reader, signal: new AbortController().signal, warn: () => undefined,
    }).then(() => undefined, (e: unknown) => e as ExporterError);
    await reader.close();
    expect(err).toBeInstanceOf(ExporterError);
    expect(err!.code).toBe(ErrorCodes.ICEBERG_SCHEMA_MISMATCH);
    expect(err!.context).toMatchObject({ table: 'lake.structs', column: 'payload', key: 'payload.n', row: firstN, segment: segments[0]!.name });

    // warn: `n` dropped with one warning, `k` written into the struct; commit and read back.
    const store = await FileStateStore.open({ dir: join(dir, 'state') });
    await seedTasks(store, 'events_REALTIME', segments);
    const events = new ExportEvents();
    const warnings: string[] = [];
    events.on('log', (e) => {
      if (e.level === 'warn') warnings.push(e.message);
    });
    const t = await target(store, { table: 'events_REALTIME', ident, parquet: { ...DEFAULT_PARQUET_OPTIONS, jsonMaxDepth: 1, jsonUnknownKeys: 'warn' }, events });
    await runTasks(store, 'events_REALTIME', t, events);
    expect(warnings.filter((w) => w.includes('key "n"'))).toStrictEqual([
      `JSON column payload: key "n" (first at row ${firstN}) is not in the struct of Iceberg table lake.structs; dropped (fileFormat.parquet.json.unknownKeysBehavior=warn)`,
    ]);
    expect((await t.commitNow()).committed).toHaveLength(1);

    const got = await icebirdRows(catalog, location);
    const norm = (ts: unknown, payload: unknown) => JSON.stringify([ts === null || ts === undefined ? null : ts instanceof Date ? ts.getTime() : Number(ts), payload ?? null]);
    expect(got.map((r) => norm(r.ts, r.payload)).sort())
      .toEqual(expected.map((r, i) => norm(r.ts, payloads[i] === null ? null : { k: payloads[i]!.k })).sort());

    const [file] = await liveDataFiles(catalog, NS, 'structs');
    const path = catalog.localPath(file!.path);
    const bytes = await readFile(path);
    const md = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    expect(md.schema.find((e) => e.name === 'ts')!.logical_type).toStrictEqual({ type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' });
    expect(md.schema.filter((e) => ['payload', 'k', 'n'].includes(e.name)).map((e) => [e.name, e.field_id])).toStrictEqual([['payload', 2], ['k', 3]]);
    const kv = new Map((md.key_value_metadata ?? []).map((e) => [e.key, e.value]));
    expect(JSON.parse(kv.get('iceberg.schema')!)).toStrictEqual(schema);
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const types = (await duck.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE SELECT ts, payload FROM read_parquet('${path}'))`)).getRowObjects();
    duck.closeSync();
    expect(types.map((r) => [r.column_name, r.column_type])).toStrictEqual([['ts', 'TIMESTAMP'], ['payload', 'STRUCT(k VARCHAR)']]);
  });

  it('a takeover re-exports a segment to the same object name (the name does not depend on a commit)', async () => {
    catalog = await startIcebergCatalog();
    await catalog.createTable(NS, ICEBERG_TABLE, { schema: ICEBERG_SCHEMA });
    const dir = join(work, 'name');
    const store = await FileStateStore.open({ dir: join(dir, 'state') });
    const [seg] = await makeSegments(dir, 1, 50);
    const names: string[] = [];
    for (let i = 0; i < 2; i++) {
      const t = await target(store);
      const reader = await SegmentReader.open(seg!.dir);
      const r = await t.exportTask({ id: seg!.name, segment: seg!.name, downloadUrl: seg!.dir, status: 'RUNNING', attempts: 1, createdAtMs: 1 }, {
        table: TABLE, owner: 'x', attempt: 1, reader, signal: new AbortController().signal, warn: () => undefined,
      });
      await reader.close();
      names.push(r.files[0]!);
    }
    expect(names[0]).toBe(names[1]);
  });

  it('refuses a partitioned table and a required column the segment lacks, naming table and column', async () => {
    catalog = await startIcebergCatalog();
    await catalog.createTable(NS, 'parted', {
      schema: ICEBERG_SCHEMA, partitionSpec: { 'spec-id': 0, fields: [{ 'source-id': 4, 'field-id': 1000, name: 'n_b', transform: 'bucket[4]' }] },
    });
    await catalog.createTable(NS, 'strict', {
      schema: { ...ICEBERG_SCHEMA, fields: [...ICEBERG_SCHEMA.fields, { id: 7, name: 'region', required: true, type: 'string' }] },
    });
    const dir = join(work, 'refuse');
    const store = await FileStateStore.open({ dir: join(dir, 'state') });
    const [seg] = await makeSegments(dir, 1, 20);
    const attempt = async (name: string) => {
      const t = await target(store, { ident: { namespace: NS, name } });
      const reader = await SegmentReader.open(seg!.dir);
      try {
        return await t.exportTask({ id: seg!.name, segment: seg!.name, downloadUrl: seg!.dir, status: 'RUNNING', attempts: 1, createdAtMs: 1 }, {
          table: TABLE, owner: 'x', attempt: 1, reader, signal: new AbortController().signal, warn: () => undefined,
        }).then(() => undefined, (e: unknown) => e);
      } finally {
        await reader.close();
      }
    };
    const parted = await attempt('parted') as ExporterError;
    expect(parted).toBeInstanceOf(ExporterError);
    expect(parted.code).toBe(ErrorCodes.ICEBERG_TABLE_UNSUPPORTED);
    expect(parted.message).toContain('lake.parted');
    const strict = await attempt('strict') as ExporterError;
    expect(strict.code).toBe(ErrorCodes.ICEBERG_SCHEMA_MISMATCH);
    expect(strict.context).toMatchObject({ column: 'region', segment: seg!.name });
    // nothing was written for either table
    expect(snapshotsOf(catalog, NS, 'parted')).toEqual([]);
  });
});

describeFixtures('IcebergTarget on the Java-written bunnies table', 'fixtures/iceberg-java-1.8.1-bunnies', (fixture) => {
  let work: string;
  let catalog: IcebergCatalog;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ice-bunnies-'));
  });
  afterAll(async () => {
    await catalog?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('a fast append keeps every existing manifest and icebird reads old and new rows', async () => {
    expect(sharedPath(OPENAPI_SPEC_FIXTURE)).toBeTruthy();
    catalog = await startIcebergCatalog();
    await catalog.importTable(['zoo'], 'bunnies', join(fixture, 'metadata', 'v2.metadata.json'));
    const location = 's3a://hyperparam-iceberg/java/bunnies';
    const parent = snapshotsOf(catalog, ['zoo'], 'bunnies')[0]!;
    const parentRows = readManifestList(await readFile(catalog.localPath(parent.manifestList))).rows;

    const schema = {
      schemaName: 'bunnies',
      dimensionFieldSpecs: [{ name: 'Temperament', dataType: 'STRING' }],
      metricFieldSpecs: [{ name: 'Lifespan', dataType: 'LONG' }],
    };
    const segments = await makeSegments(work, 2, 10, { schema });
    const store = await FileStateStore.open({ dir: join(work, 'state') });
    await seedTasks(store, 'bunnies_REALTIME', segments);
    const t = new IcebergTarget({
      store, table: 'bunnies_REALTIME', ident: { namespace: ['zoo'], name: 'bunnies' },
      catalog: parseCatalogSettings({ uri: catalog.uri }, { env: {} }), parquet: { ...DEFAULT_PARQUET_OPTIONS },
      owner: 'leader-1', io: mappedLocalIO((uri) => catalog.localPath(uri)),
    });
    try {
      await runTasks(store, 'bunnies_REALTIME', t);
      const r = await t.commitNow();
      expect(r.committed).toHaveLength(1);
    } finally {
      await t.close();
    }
    const snaps = snapshotsOf(catalog, ['zoo'], 'bunnies');
    expect(snaps).toHaveLength(2);
    expect(snaps[0]!.parent).toBe(parent.id);
    expect(snaps[0]!.summary).toMatchObject({ 'added-records': '20', 'total-records': '41', 'total-data-files': '3' });
    const rows = readManifestList(await readFile(catalog.localPath(snaps[0]!.manifestList))).rows;
    expect(rows).toHaveLength(parentRows.length + 1);
    expect(rows.slice(1)).toEqual(parentRows); // every parent manifest carried unchanged, after ours
    const read = await icebirdRows(catalog, location);
    expect(read).toHaveLength(41);
    const ours = read.filter((r) => r['Breed Name'] === null || r['Breed Name'] === undefined);
    expect(ours).toHaveLength(20);
    const expected = await segmentRows(segments);
    const key = (r: Record<string, unknown>) => JSON.stringify([r.Temperament ?? null, r.Lifespan === null || r.Lifespan === undefined ? null : Number(r.Lifespan)]);
    expect(ours.map(key).sort()).toEqual(expected.map(key).sort());
    expect(catalog.violations).toEqual([]);
  });
});

