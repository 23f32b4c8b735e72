/**
 * `pinot-export export <segment> --config <table-config.json>`: reader → Parquet stage → sink in one
 * pipeline, to a local directory and to S3 (fauxqs on loopback); bad config fails before the segment is read.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExport } from '../../src/cli/export.js';
import { exportSegment } from '../../src/control/export-segment.js';
import { parseParquetOptions } from '../../src/pipeline/parquet-options.js';
import { createSink, parseOutputConfig } from '../../src/sinks/fs-config.js';
import { SegmentReader } from '../../src/sources/segment-reader.js';
import { ExporterError } from '../../src/errors.js';
import { generateSegments } from '../../src/generate/generator.js';
import { describeFixtures } from '../support/fixtures.js';
import { startS3Server, type S3TestServer } from '../support/s3-server.js';
import { captureIo } from '../support/cli.js';

const EVENTS = 'events__0__12__20261126T0000Z';

interface Run {
  stdout: string;
  stderr: string;
  error?: ExporterError;
}

async function run(args: string[], tty = false): Promise<Run> {
  const cap = captureIo({ tty });
  let error: ExporterError | undefined;
  try {
    await runExport(args, cap.io);
  } catch (e) {
    if (!(e instanceof ExporterError)) throw e;
    error = e;
  }
  return { stdout: cap.stdout(), stderr: cap.stderr(), error };
}

let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'ppe-export-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function tableConfig(task: Record<string, string>): string {
  const path = join(scratch, `table-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify({ tableName: 'events_REALTIME', task: { taskTypeConfigsMap: { DataExportTask: task } } }));
  return path;
}

async function duckdb<T>(path: string, sql: string): Promise<T[]> {
  const db = await DuckDBInstance.create();
  const conn = await db.connect();
  try {
    return (await conn.runAndReadAll(sql.replaceAll('$file', `'${path}'`))).getRowObjects() as T[];
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

describe('bad config fails before any segment is read', () => {
  const missingSegment = '/nonexistent/segment.tar.gz';
  const cases: [string, Record<string, string>, string, RegExp][] = [
    ['missing outputDirURI', { 'output.fs.className': 'org.apache.pinot.plugin.filesystem.S3PinotFS' }, 'outputDirURI', /s3:\/\/bucket/],
    ['unknown fs class', { outputDirURI: 's3://b-1/p', 'output.fs.className': 'com.acme.FS' }, 'output.fs.className', /S3PinotFS/],
    ['GCS', { outputDirURI: 'gs://b-1/p' }, 'outputDirURI', /not supported yet/],
    ['malformed URI', { outputDirURI: 's3:///no-bucket' }, 'outputDirURI', /s3:\/\/bucket/],
    ['half the credentials', { outputDirURI: 's3://b-1/p', 'output.fs.prop.accessKey': 'AK' }, 'output.fs.prop.secretKey', /go together/],
    ['bad Parquet key', { outputDirURI: '/tmp/x', 'fileFormat.parquet.compressionCodec': 'LZO' }, 'fileFormat.parquet.compressionCodec', /ZSTD/],
  ];
  for (const [what, task, key, message] of cases) {
    it(what, async () => {
      const r = await run([missingSegment, '--config', tableConfig(task)]);
      expect(r.error?.code, r.error?.message).toBe('CONFIG_INVALID');
      expect(r.error!.context.key).toBe(key);
      expect(r.error!.message).toMatch(message);
    });
  }

  it('bad credentials, found by the pre-flight request', async () => {
    const strict = await startS3Server({ accessKeyId: 'right-key' });
    try {
      const r = await run([missingSegment, '--config', tableConfig({
        outputDirURI: `s3://${strict.bucket}/x/`, 'output.fs.prop.endpoint': strict.endpoint, 'output.fs.prop.region': 'us-east-1',
        'output.fs.prop.accessKey': 'wrong', 'output.fs.prop.secretKey': 's', 'output.fs.prop.maxAttempts': '1',
      })]);
      expect(r.error?.code, r.error?.message).toBe('CONFIG_INVALID');
      expect(r.error!.context.key).toBe('output.fs.prop.accessKey');
      expect(r.error!.message).toContain('InvalidAccessKeyId');
      expect(strict.count('GetObject')).toBe(0);
    } finally {
      await strict.stop();
    }
  });

  it('a missing --config is a usage error', async () => {
    const r = await run([missingSegment]);
    expect(r.error?.code).toBe('USAGE');
  });
});

describeFixtures('export of a real segment', 'fixtures', (fixtures) => {
  const segment = join(fixtures, 'pinot-generated/1.5.1', `${EVENTS}.tar.gz`);

  it('to a local directory: prints URI, bytes, rows, row groups and seconds; DuckDB reads it back', async () => {
    const out = join(scratch, 'local-out');
    const r = await run([segment, '--config', tableConfig({ outputDirURI: `file://${out}/`, 'fileFormat.parquet.compressionCodec': 'ZSTD' }), '--progress', 'lines']);
    expect(r.error).toBeUndefined();
    const path = join(out, `${EVENTS}.parquet`);
    expect(r.stdout).toMatch(new RegExp(`^file://${path}: \\d+ bytes, 5000 rows, 1 row group, \\d+\\.\\d\\d s\\n$`));
    expect(r.stderr).toContain(`${EVENTS} → file://${path}`);
    expect(readdirSync(out)).toEqual([`${EVENTS}.parquet`]);
    const [row] = await duckdb<{ n: bigint }>(path, 'SELECT count(*)::BIGINT AS n FROM read_parquet($file)');
    expect(row!.n).toBe(5000n);
    const kv = await duckdb<{ v: string }>(path, "SELECT decode(value) AS v FROM parquet_kv_metadata($file) WHERE decode(key) = 'pinot.segment.crc'");
    expect(kv[0]?.v).toMatch(/^\d+$/);
  });

  it('draws a progress bar on a terminal', async () => {
    const out = join(scratch, 'tty-out');
    const r = await run([segment, '--config', tableConfig({ outputDirURI: out })], true);
    expect(r.error).toBeUndefined();
    expect(r.stdout).toContain(`${EVENTS}.parquet`);
    expect(r.stderr).not.toContain('→');
    expect(r.stderr).toMatch(/\r█+░* +\d+% \d+\/5000 rows/);
    expect(r.stderr.endsWith('\r\x1b[K')).toBe(true);
  });
});

describe('export to S3', () => {
  let server: S3TestServer;
  let segmentDir: string;
  let segmentName: string;

  beforeAll(async () => {
    server = await startS3Server();
    const [seg] = await generateSegments({ preset: 'events', rows: 100_000, seed: 11, out: join(scratch, 'generated'), archive: 'none' });
    segmentDir = seg!.dir;
    segmentName = seg!.name;
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  const s3Config = (extra: Record<string, string> = {}) => tableConfig({
    outputDirURI: `s3://${server.bucket}/exports/events`,
    'output.fs.className': 'org.apache.pinot.plugin.filesystem.S3PinotFS',
    'output.fs.prop.endpoint': server.endpoint,
    'output.fs.prop.region': 'us-east-1',
    'output.fs.prop.accessKey': 'test-key',
    'output.fs.prop.secretKey': 'test-secret',
    'output.fs.prop.multiPartUploadPartSize': '5MB',
    'fileFormat.parquet.compressionCodec': 'UNCOMPRESSED',
    'fileFormat.parquet.rowGroupSizeBytes': '2000000',
    ...extra,
  });

  it('uploads the Parquet file in parts; a re-run keeps it, --force rewrites it', async () => {
    const key = `exports/events/${segmentName}.parquet`;
    const r = await run([segmentDir, '--config', s3Config(), '--progress', 'lines']);
    expect(r.error, r.error?.message).toBeUndefined();
    const m = new RegExp(`^s3://${server.bucket}/${key}: (\\d+) bytes, 100000 rows, (\\d+) row groups, (\\d+) parts, \\d+\\.\\d\\d s\\n$`).exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const [bytes, groups, parts] = [Number(m![1]), Number(m![2]), Number(m![3])];
    expect(groups).toBeGreaterThan(1);
    expect(parts).toBe(Math.ceil(bytes / (5 * 1024 * 1024)));
    expect(parts).toBeGreaterThan(1);
    expect(server.count('UploadPart')).toBe(parts);

    const object = await server.getObject(key);
    expect(object!.length).toBe(bytes);
    const head = await server.headObject(key);
    expect(head!.metadata['pinot-segment']).toBe(segmentName);
    const file = join(scratch, 's3-copy.parquet');
    writeFileSync(file, object!);
    const [row] = await duckdb<{ n: bigint }>(file, 'SELECT count(*)::BIGINT AS n FROM read_parquet($file)');
    expect(row!.n).toBe(100_000n);
    const kv = await duckdb<{ v: string }>(file, "SELECT decode(value) AS v FROM parquet_kv_metadata($file) WHERE decode(key) = 'pinot.segment.crc'");
    expect(kv[0]?.v).toBe(head!.metadata['pinot-segment-crc']);

    server.log.length = 0;
    const again = await run([segmentDir, '--config', s3Config(), '--progress', 'none']);
    expect(again.stdout).toContain('already holds this segment');
    expect(server.count('UploadPart') + server.count('PutObject') + server.count('CreateMultipartUpload')).toBe(0);

    const forced = await run([segmentDir, '--config', s3Config(), '--progress', 'none', '--force']);
    expect(forced.error).toBeUndefined();
    expect(forced.stdout).toMatch(/ parts, /);
    expect(await server.listKeys()).toEqual([key]);
    // Same size; not byte-identical: parquet-wasm writes the key-value metadata in hash-map order.
    expect((await server.getObject(key))!.length).toBe(readFileSync(file).length);
  });

  it('an abort (Ctrl-C) mid-export stops the pipeline and aborts the upload', async () => {
    const config = { outputDirURI: `s3://${server.bucket}/aborted/`, 'output.fs.prop.endpoint': server.endpoint, 'output.fs.prop.accessKey': 'a', 'output.fs.prop.secretKey': 'b', 'output.fs.prop.multiPartUploadPartSize': '5MB' };
    const sink = await createSink(parseOutputConfig(config));
    server.log.length = 0;
    const controller = new AbortController();
    const reason = new Error('interrupted');
    try {
      await using reader = await SegmentReader.open(segmentDir);
      const exporting = exportSegment({
        reader, sink, parquet: parseParquetOptions({ 'fileFormat.parquet.compressionCodec': 'UNCOMPRESSED', 'fileFormat.parquet.rowGroupSizeBytes': '2000000' }),
        signal: controller.signal,
        onProgress: (p) => {
          if (p.bytes > 8 * 1024 * 1024) controller.abort(reason);
        },
      });
      const err = await exporting.then(() => undefined, (e: unknown) => e);
      expect((err as Error).name).toBe('AbortError');
      expect(server.count('CreateMultipartUpload')).toBe(1);
      expect(server.count('AbortMultipartUpload')).toBeGreaterThanOrEqual(1);
      expect(await server.listKeys('aborted/')).toEqual([]);
      expect(server.openUploads()).toEqual([]);
      expect(await server.danglingUploads()).toEqual([]);
    } finally {
      await sink.close();
    }
  });

  it('a failure mid-upload leaves no object and no open upload; the re-run succeeds', async () => {
    const key = `exports/events/${segmentName}-b.parquet`;
    expect(key).toBeDefined();
    server.inject({ op: 'UploadPart', partNumber: 2, times: Infinity, action: { status: 503, code: 'SlowDown' } });
    const config = s3Config({ outputDirURI: `s3://${server.bucket}/failing/`, 'output.fs.prop.maxAttempts': '2', 'output.fs.prop.retryBaseDelay': '5ms' });
    const r = await run([segmentDir, '--config', config, '--progress', 'none']);
    expect(r.error?.code).toBe('SINK_WRITE_FAILED');
    expect(r.error!.context).toMatchObject({ part: 2, segment: segmentName });
    expect(await server.listKeys('failing/')).toEqual([]);
    expect(server.openUploads()).toEqual([]);
    expect(await server.danglingUploads()).toEqual([]);
    server.clearFaults();
    const again = await run([segmentDir, '--config', config, '--progress', 'none']);
    expect(again.error).toBeUndefined();
    expect(await server.listKeys('failing/')).toEqual([`failing/${segmentName}.parquet`]);
  });
});
