/**
 * S3 sink against a real S3-protocol server on loopback (fauxqs behind the fault-injecting proxy of
 * test/support/s3-server.ts): multipart streaming, retries, aborts, conditional publish, pre-flight.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { Field, Float64, Int64, makeData, RecordBatch, Schema, Struct, Table, tableToIPC } from 'apache-arrow';
import { Compression, Table as WasmTable, writeParquet, WriterPropertiesBuilder } from 'parquet-wasm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes, ExporterError } from '../../src/errors.js';
import { SinkErrorCodes } from '../../src/sinks/errors.js';
import { S3Sink, type S3SinkEvent } from '../../src/sinks/s3.js';
import { parseS3Props, type S3SinkSettings } from '../../src/sinks/s3-config.js';
import { startS3Server, type S3TestServer } from '../support/s3-server.js';
import { rng } from '../support/random.js';

const MiB = 1024 * 1024;
let server: S3TestServer;
let parquet50: Uint8Array;
const sinks: S3Sink[] = [];

beforeAll(async () => {
  server = await startS3Server();
  parquet50 = parquetFile(2_300_000, 4242n);
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

afterEach(async () => {
  server.clearFaults();
  for (const s of sinks.splice(0)) await s.close();
  await server.revive();
  for (const key of await server.listKeys()) await server.direct.send(new DeleteObjectCommand({ Bucket: server.bucket, Key: key }));
  await server.danglingUploads();
  server.log.length = 0;
  expect(server.proxyErrors.splice(0)).toEqual([]);
});

/** A Parquet file of `rows` rows × 3 random columns (~24 bytes a row, incompressible), crc in its kv metadata. */
function parquetFile(rows: number, crc: bigint): Uint8Array {
  const random = rng(7);
  const a = new Float64Array(rows);
  const b = new Float64Array(rows);
  const c = new BigInt64Array(rows);
  for (let i = 0; i < rows; i++) {
    a[i] = random();
    b[i] = random() * 1e6;
    c[i] = BigInt(Math.floor(random() * 2 ** 48)) - 2n ** 47n;
  }
  const fields = [new Field('a', new Float64(), false), new Field('b', new Float64(), false), new Field('c', new Int64(), false)];
  const children = [
    makeData({ type: new Float64(), length: rows, data: a }),
    makeData({ type: new Float64(), length: rows, data: b }),
    makeData({ type: new Int64(), length: rows, data: c }),
  ];
  const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: rows, children }));
  const props = new WriterPropertiesBuilder()
    .setCompression(Compression.UNCOMPRESSED)
    .setDictionaryEnabled(false)
    .setMaxRowGroupSize(262_144)
    .setKeyValueMetadata(new Map([['pinot.segment.crc', String(crc)]]))
    .build();
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(new Table([batch]), 'stream')), props);
}

/** `data` in irregular slices, as a Parquet stage emits row groups. */
async function* slices(data: Uint8Array, seed = 1, max = 3 * MiB): AsyncGenerator<Uint8Array> {
  const random = rng(seed);
  for (let i = 0; i < data.length;) {
    const n = 1 + Math.floor(random() * max);
    yield data.subarray(i, i + n);
    i += n;
  }
}

function sink(props: Record<string, string> = {}, extra: Partial<S3SinkSettings> = {}, events?: S3SinkEvent[]): S3Sink {
  const { settings } = parseS3Props({
    endpoint: server.endpoint, region: 'us-east-1', accessKey: 'test-key', secretKey: 'test-secret',
    multiPartUploadPartSize: '8MB', retryBaseDelay: '5ms', retryMaxDelay: '50ms', abortTimeout: '10s', ...props,
  });
  const s = new S3Sink({ bucket: server.bucket, prefix: 'exports/events/', settings: { ...settings, ...extra }, onEvent: (e) => events?.push(e) });
  sinks.push(s);
  return s;
}

async function rejection(promise: Promise<unknown>): Promise<ExporterError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err, 'expected a rejection').toBeInstanceOf(ExporterError);
  return err as ExporterError;
}

async function expectNothingLeft(key: string): Promise<void> {
  expect(await server.getObject(key), `no object under ${key}`).toBeUndefined();
  expect(server.openUploads(), 'ledger: no open multipart upload').toEqual([]);
  expect(await server.danglingUploads(), 'fauxqs: no open multipart upload').toEqual([]);
}

const KEY = 'exports/events/seg_0.parquet';

describe('S3Sink uploads', () => {
  it('a 50 MB+ Parquet file goes up in several parts and comes back byte-identical and readable by DuckDB', async () => {
    expect(parquet50.length).toBeGreaterThan(50 * MiB);
    const s = sink({ multiPartUploadQueueSize: '3' });
    const file = await s.publish('seg_0.parquet', slices(parquet50), { segment: 'seg_0', crc: 4242n, rows: 2_300_000 });
    const parts = Math.ceil(parquet50.length / (8 * MiB));
    expect(file).toMatchObject({ uri: `s3://${server.bucket}/${KEY}`, bytes: parquet50.length, parts, reused: false });
    expect(file.etag).toMatch(new RegExp(`-${parts}"$`));
    expect(server.count('CreateMultipartUpload')).toBe(1);
    expect(server.count('UploadPart')).toBe(parts);
    expect(server.count('PutObject')).toBe(0);

    const back = await server.getObject(KEY);
    expect(back!.equals(Buffer.from(parquet50))).toBe(true);
    const head = await server.headObject(KEY);
    expect(head!.metadata).toMatchObject({ 'pinot-segment': 'seg_0', 'pinot-segment-crc': '4242', 'pinot-rows': '2300000' });
    expect(server.openUploads()).toEqual([]);

    const tmp = mkdtempSync(join(tmpdir(), 'ppe-s3-duckdb-'));
    try {
      const path = join(tmp, 'seg_0.parquet');
      writeFileSync(path, back!);
      const db = await DuckDBInstance.create();
      const conn = await db.connect();
      const rows = (await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n, min(a) >= 0 AND max(a) < 1 AS ok FROM read_parquet('${path}')`)).getRowObjects();
      expect(rows[0]).toEqual({ n: 2_300_000n, ok: true });
      const kv = (await conn.runAndReadAll(`SELECT decode(value) AS v FROM parquet_kv_metadata('${path}') WHERE decode(key) = 'pinot.segment.crc'`)).getRowObjects();
      expect(kv[0]?.v).toBe('4242');
      conn.closeSync();
      db.closeSync();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a file no larger than one part goes up as a single PutObject', async () => {
    const data = parquet50.subarray(0, 3 * MiB);
    const file = await sink().publish('seg_0.parquet', slices(data, 2, 256 * 1024), { segment: 'seg_0', crc: 1 });
    expect(file).toMatchObject({ bytes: data.length, parts: 1 });
    expect(server.count('PutObject')).toBe(1);
    expect(server.count('CreateMultipartUpload')).toBe(0);
    expect((await server.getObject(KEY))!.equals(Buffer.from(data))).toBe(true);
  });

  it('bounds memory: while parts are stuck, the producer is held back at about part size × (queue + 1)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    server.before('UploadPart', () => gate);
    let produced = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of slices(parquet50.subarray(0, 40 * MiB), 3, MiB)) {
        produced += chunk.length;
        yield chunk;
      }
    }
    const s = sink({ multiPartUploadPartSize: '5MB', multiPartUploadQueueSize: '1' });
    const publishing = s.publish('seg_0.parquet', counted(), { segment: 'seg_0' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(produced).toBeGreaterThan(5 * MiB);
    expect(produced).toBeLessThanOrEqual(2 * 5 * MiB + 2 * MiB);
    release();
    const file = await publishing;
    expect(file.bytes).toBe(40 * MiB);
  });

  it('retries 503 SlowDown and 500 on parts and a 200-with-error CompleteMultipartUpload, then succeeds', async () => {
    const events: S3SinkEvent[] = [];
    server.inject({ op: 'UploadPart', partNumber: 2, times: 2, action: { status: 503, code: 'SlowDown' } });
    server.inject({ op: 'UploadPart', partNumber: 4, action: { status: 500, code: 'InternalError' } });
    server.inject({ op: 'UploadPart', partNumber: 5, action: 'reset' });
    server.inject({ op: 'CompleteMultipartUpload', action: 'error-200' });
    server.inject({ op: 'CreateMultipartUpload', action: { status: 503, code: 'SlowDown' } });
    const data = parquet50.subarray(0, 45 * MiB);
    const file = await sink({}, {}, events).publish('seg_0.parquet', slices(data), { segment: 'seg_0', crc: 7 });
    expect(file.bytes).toBe(data.length);
    expect((await server.getObject(KEY))!.equals(Buffer.from(data))).toBe(true);
    expect(server.log.filter((r) => r.injected).map((r) => `${r.op}:${r.injected}`).sort()).toEqual([
      'CompleteMultipartUpload:error-200', 'CreateMultipartUpload:503 SlowDown', 'UploadPart:500 InternalError',
      'UploadPart:503 SlowDown', 'UploadPart:503 SlowDown', 'UploadPart:reset',
    ]);
    expect(server.count('CompleteMultipartUpload')).toBe(2);
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(6);
    expect(server.openUploads()).toEqual([]);
  });
});

describe('S3Sink failures leave no object and no open multipart upload', () => {
  it('503 on a part beyond the retry budget: a retryable error naming the part', async () => {
    server.inject({ op: 'UploadPart', partNumber: 3, times: Infinity, action: { status: 503, code: 'SlowDown' } });
    const err = await rejection(sink({ maxAttempts: '3' }).publish('seg_0.parquet', slices(parquet50), { segment: 'seg_0' }));
    expect(err.code).toBe(SinkErrorCodes.SINK_WRITE_FAILED);
    expect(err.retryable).toBe(true);
    expect(err.context).toMatchObject({ segment: 'seg_0', key: KEY, part: 3 });
    expect(err.message).toContain('SlowDown');
    expect(server.count('UploadPart', (r) => r.partNumber === 3)).toBe(3);
    expect(server.count('AbortMultipartUpload')).toBeGreaterThanOrEqual(1);
    await expectNothingLeft(KEY);
  });

  it('a rejected part fails at once (not retried, no more parts started) with a non-retryable error', async () => {
    server.inject({ op: 'UploadPart', partNumber: 2, action: { status: 400, code: 'BadDigest', message: 'The Content-MD5 you specified did not match what we received.' } });
    const err = await rejection(sink({ multiPartUploadQueueSize: '1' }).publish('seg_0.parquet', slices(parquet50), { segment: 'seg_0' }));
    expect(err.code).toBe(SinkErrorCodes.SINK_WRITE_FAILED);
    expect(err.retryable).toBe(false);
    expect(err.context.part).toBe(2);
    expect(err.message).toContain('BadDigest');
    expect(server.count('UploadPart')).toBe(2);
    await expectNothingLeft(KEY);
  });

  it('a Parquet stage that fails mid-stream: its own error comes through and the upload is aborted', async () => {
    const boom = new ExporterError(ErrorCodes.PINOT_CORRUPT, 'chunk 7 is corrupt');
    async function* failing(): AsyncGenerator<Uint8Array> {
      let n = 0;
      for await (const chunk of slices(parquet50)) {
        yield chunk;
        if ((n += chunk.length) > 20 * MiB) throw boom;
      }
    }
    await expect(sink().publish('seg_0.parquet', failing(), { segment: 'seg_0' })).rejects.toBe(boom);
    expect(server.count('CreateMultipartUpload')).toBe(1);
    await expectNothingLeft(KEY);
  });

  it('server killed mid-upload and back within the abort window: upload aborted; a re-run yields one object', async () => {
    server.inject({ op: 'UploadPart', partNumber: 3, action: 'kill' });
    const events: S3SinkEvent[] = [];
    const s = sink({ maxAttempts: '2' }, {}, events);
    const publishing = rejection(s.publish('seg_0.parquet', slices(parquet50), { segment: 'seg_0', crc: 5 }));
    // Back up after the parts have given up but while the abort is still being retried.
    const revived = (async () => {
      while (!server.log.some((r) => r.injected === 'kill')) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 400));
      await server.revive();
    })();
    const err = await publishing;
    await revived;
    expect(err.code).toBe(SinkErrorCodes.SINK_WRITE_FAILED);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/ECONNRE(SET|FUSED)|EPIPE|socket hang up/);
    expect(events.some((e) => e.type === 'upload-aborted' && !e.stale)).toBe(true);
    await expectNothingLeft(KEY);

    const file = await sink().publish('seg_0.parquet', slices(parquet50, 9), { segment: 'seg_0', crc: 5 });
    expect(file.bytes).toBe(parquet50.length);
    expect(await server.listKeys()).toEqual([KEY]);
    expect((await server.getObject(KEY))!.equals(Buffer.from(parquet50))).toBe(true);
    expect(await server.danglingUploads()).toEqual([]);
  });

  it('server down for longer than the abort window: the first error is reported; the re-run aborts the leftover', async () => {
    server.inject({ op: 'UploadPart', partNumber: 2, action: 'kill' });
    const events: S3SinkEvent[] = [];
    const err = await rejection(sink({ maxAttempts: '2', abortTimeout: '200ms' }, {}, events).publish('seg_0.parquet', slices(parquet50), { segment: 'seg_0' }));
    expect(err.code).toBe(SinkErrorCodes.SINK_WRITE_FAILED);
    expect(err.retryable).toBe(true);
    expect(events.some((e) => e.type === 'abort-failed')).toBe(true);
    await server.revive();
    expect(server.openUploads(KEY)).toHaveLength(1);
    expect(await server.getObject(KEY)).toBeUndefined();

    const rerun: S3SinkEvent[] = [];
    const file = await sink({}, {}, rerun).publish('seg_0.parquet', slices(parquet50), { segment: 'seg_0' });
    expect(file.bytes).toBe(parquet50.length);
    expect(rerun.some((e) => e.type === 'upload-aborted' && e.stale)).toBe(true);
    expect(await server.listKeys()).toEqual([KEY]);
    expect(server.openUploads()).toEqual([]);
    expect(await server.danglingUploads()).toEqual([]);
  });
});

describe('S3Sink publish is idempotent', () => {
  const small = () => parquet50.subarray(0, 12 * MiB);

  it('a re-run with the same segment CRC keeps the object and uploads nothing', async () => {
    await sink().publish('seg_0.parquet', slices(small()), { segment: 'seg_0', crc: 99n, fingerprint: 'f1' });
    const before = await server.headObject(KEY);
    server.log.length = 0;
    const again = await sink().publish('seg_0.parquet', slices(small()), { segment: 'seg_0', crc: 99n, fingerprint: 'f1' });
    expect(again).toMatchObject({ reused: true, bytes: small().length, etag: before!.etag });
    expect(server.count('CreateMultipartUpload') + server.count('PutObject') + server.count('UploadPart')).toBe(0);
    expect(await sink().existing('seg_0.parquet', { segment: 'seg_0', crc: 99n, fingerprint: 'f1' })).toMatchObject({ reused: true });
    expect(await sink().existing('seg_0.parquet', { segment: 'seg_0', crc: 99n, fingerprint: 'f2' })).toBeUndefined();
  });

  it('a re-run with other content rewrites the key, conditionally on the ETag it replaces', async () => {
    await sink().publish('seg_0.parquet', slices(small()), { segment: 'seg_0', crc: 1 });
    const etag = (await server.headObject(KEY))!.etag;
    const next = parquet50.subarray(MiB, 20 * MiB);
    const file = await sink().publish('seg_0.parquet', slices(next), { segment: 'seg_0', crc: 2 });
    expect(file.reused).toBe(false);
    expect((await server.getObject(KEY))!.equals(Buffer.from(next))).toBe(true);
    expect((await server.headObject(KEY))!.metadata['pinot-segment-crc']).toBe('2');
    expect(etag).toBeDefined();
    expect(await server.listKeys()).toEqual([KEY]);
  });

  it('a concurrent write of the same content found by If-None-Match counts as published', async () => {
    const data = parquet50.subarray(0, 9 * MiB); // two parts, and small enough for fauxqs' single PUT
    server.before('CompleteMultipartUpload', () => server.putObject(KEY, data, { 'pinot-segment': 'seg_0', 'pinot-segment-crc': '31' }));
    const file = await sink().publish('seg_0.parquet', slices(data), { segment: 'seg_0', crc: 31 });
    expect(file.reused).toBe(true);
    expect(server.log.find((r) => r.op === 'CompleteMultipartUpload')?.status).toBe(412);
    expect(await server.listKeys()).toEqual([KEY]);
    expect(server.openUploads()).toEqual([]);
    expect(await server.danglingUploads()).toEqual([]);
  });

  it('a concurrent write of other content is a retryable conflict, and the other object is left alone', async () => {
    const theirs = new Uint8Array(1000).fill(1);
    server.before('PutObject', () => server.putObject(KEY, theirs, { 'pinot-segment-crc': '8' }));
    const err = await rejection(sink().publish('seg_0.parquet', slices(parquet50.subarray(0, MiB)), { segment: 'seg_0', crc: 31 }));
    expect(err.code).toBe(SinkErrorCodes.SINK_CONFLICT);
    expect(err.retryable).toBe(true);
    expect((await server.getObject(KEY))!.equals(Buffer.from(theirs))).toBe(true);
  });
});

describe('S3PinotFS settings reach the requests', () => {
  it('ACL, server-side encryption, storage class, metadata and conditions on a multipart upload', async () => {
    await sink({
      disableAcl: 'false', serverSideEncryption: 'aws:kms', ssekmsKeyId: 'key-1', ssekmsEncryptionContext: 'e30=', storageClass: 'STANDARD_IA',
    }).publish('seg_0.parquet', slices(parquet50.subarray(0, 9 * MiB)), { segment: 'seg_0', crc: 3 });
    const create = server.log.find((r) => r.op === 'CreateMultipartUpload')!;
    expect(create.headers).toMatchObject({
      'x-amz-acl': 'bucket-owner-full-control', 'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': 'key-1', 'x-amz-server-side-encryption-context': 'e30=',
      'x-amz-storage-class': 'STANDARD_IA', 'content-type': 'application/vnd.apache.parquet',
      'x-amz-meta-pinot-segment': 'seg_0', 'x-amz-meta-pinot-segment-crc': '3',
    });
    expect(server.log.find((r) => r.op === 'CompleteMultipartUpload')!.headers['if-none-match']).toBe('*');
    expect(create.accessKeyId).toBe('test-key');
  });

  it('useLegacyMd5Plugin sends Content-MD5; anonymousCredentialsProvider sends unsigned requests', async () => {
    const data = parquet50.subarray(0, MiB);
    await sink({ useLegacyMd5Plugin: 'true' }).publish('seg_0.parquet', slices(data), { segment: 'seg_0' });
    const put = server.log.find((r) => r.op === 'PutObject')!;
    expect(put.headers['content-md5']).toBe(createHash('md5').update(data).digest('base64'));
    server.log.length = 0;
    await sink({ accessKey: '', secretKey: '', anonymousCredentialsProvider: 'true' }).publish('seg_1.parquet', slices(data), { segment: 'seg_1' });
    expect(server.log.find((r) => r.op === 'PutObject')!.accessKeyId).toBeUndefined();
    expect(await server.listKeys()).toEqual([KEY, 'exports/events/seg_1.parquet']);
  });
});

describe('S3Sink.check', () => {
  it('passes on a reachable bucket', async () => {
    await sink().check();
  });

  it('bad credentials are a ConfigError naming the access key setting', async () => {
    const strict = await startS3Server({ accessKeyId: 'right-key' });
    try {
      const { settings } = parseS3Props({ endpoint: strict.endpoint, region: 'us-east-1', accessKey: 'wrong-key', secretKey: 's', maxAttempts: '1' });
      const s = new S3Sink({ bucket: strict.bucket, prefix: '', settings });
      const err = await rejection(s.check());
      await s.close();
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.context.key).toBe('output.fs.prop.accessKey');
      expect(err.message).toContain('InvalidAccessKeyId');
      expect(err.message).toContain('output.fs.prop.secretKey');
    } finally {
      await strict.stop();
    }
  });

  it('a missing bucket is a ConfigError naming outputDirURI', async () => {
    const { settings } = parseS3Props({ endpoint: server.endpoint, region: 'us-east-1', accessKey: 'a', secretKey: 'b' });
    const s = new S3Sink({ bucket: 'no-such-bucket', prefix: '', settings });
    sinks.push(s);
    const err = await rejection(s.check());
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.context.key).toBe('outputDirURI');
  });

  it('an unreachable endpoint is a retryable error naming the endpoint setting', async () => {
    const { settings } = parseS3Props({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', accessKey: 'a', secretKey: 'b', maxAttempts: '1' });
    const s = new S3Sink({ bucket: 'b-1', prefix: '', settings });
    sinks.push(s);
    const err = await rejection(s.check());
    expect(err.code).toBe(SinkErrorCodes.SINK_WRITE_FAILED);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('output.fs.prop.endpoint');
  });
});
