/**
 * S3 sink: streams a file into `@aws-sdk/lib-storage` multipart upload.
 *
 * Memory is bounded: parts of `partSize` bytes, at most `queueSize` in flight, and a write is acknowledged
 * only when lib-storage has pulled the bytes, so the producer waits while the parts are busy (about
 * partSize × (queueSize + 1) bytes at most). A file no larger than one part goes up as a single PutObject.
 *
 * Failure handling. Each request is retried by the client's retry strategy (src/sinks/retry.ts). When a
 * request fails for good, the body is destroyed at once so no uploader starts another part; once every
 * request in flight has settled, the multipart upload is aborted (retried for `abortTimeout`), and, with
 * `cleanupStaleUploads`, any other upload still open for the key is aborted too: one whose Create reached
 * the store but whose answer was lost, or one left by a crashed earlier run. lib-storage's own abort is not
 * used: it rejects before the requests in flight settle and sends AbortMultipartUpload unawaited.
 *
 * Idempotence. The object records the segment CRC and the caller's fingerprint in its metadata. Before
 * uploading, a HEAD tells whether the key exists: with the same CRC and fingerprint the bytes are drained
 * and the object is kept (`reused`); otherwise the upload is conditional (`If-None-Match: *` for a new key,
 * `If-Match: <etag>` to replace what the HEAD saw), so a concurrent writer is detected (412) instead of
 * overwritten. Stores that ignore the headers simply get the object rewritten.
 */
import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ConfigError, ErrorCodes, ExporterError, type ErrorContext } from '../errors.js';
import { describeError, SinkError, SinkErrorCodes } from './errors.js';
import { backoffRetryStrategy, isRetryableError, withRetries } from './retry.js';
import { clientConfig, type S3SinkSettings } from './s3-config.js';
import {
  checkFileName, crcText, fileWriter, publishVia, type PublishedFile, type PublishMeta, type PublishOptions, type Sink, type SinkWriter, type WriteTarget,
} from './sink.js';

export const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet';
/** User metadata keys (sent as x-amz-meta-*). */
export const META_SEGMENT = 'pinot-segment';
export const META_CRC = 'pinot-segment-crc';
export const META_FINGERPRINT = 'pinot-export-fingerprint';
export const META_ROWS = 'pinot-rows';

export type S3SinkEvent =
  | { type: 'retry'; message: string; attempt: number; delayMs: number }
  | { type: 'reused'; message: string; key: string }
  | { type: 'upload-aborted'; message: string; key: string; uploadId: string; stale: boolean }
  | { type: 'abort-failed'; message: string; key: string; uploadId?: string }
  | { type: 'warning'; message: string };

export interface S3SinkOptions {
  bucket: string;
  /** Key prefix: empty or ending with "/". */
  prefix: string;
  settings: S3SinkSettings;
  /** `outputDirURI` as configured, for messages. */
  uri?: string;
  /** Use this client instead of building one from `settings` (its retry strategy is then the caller's). */
  client?: S3Client;
  /** Retries, aborts and warnings, for logs and metrics. */
  onEvent?: (event: S3SinkEvent) => void;
  /** Prefix of the config keys named in messages. */
  keyPrefix?: string;
}

interface ExistingObject {
  etag?: string;
  bytes: number;
  versionId?: string;
  metadata: Record<string, string>;
}

const AUTH_ERRORS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired', 'CredentialsProviderError']);

export class S3Sink implements Sink {
  readonly uri: string;
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  readonly settings: S3SinkSettings;
  private readonly ownsClient: boolean;
  private readonly active = new Set<string>();
  private readonly keyPrefix: string;

  constructor(private readonly options: S3SinkOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    this.settings = options.settings;
    this.uri = options.uri ?? `s3://${this.bucket}/${this.prefix}`;
    this.keyPrefix = options.keyPrefix ?? 'output.fs.prop.';
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? new S3Client({
      ...clientConfig(this.settings),
      retryStrategy: backoffRetryStrategy(this.settings.retry, ({ attempt, delayMs, error }) => this.emit({
        type: 'retry', attempt, delayMs, message: `S3 request failed (${describeError(error)}); attempt ${attempt + 1} in ${delayMs} ms`,
      })),
    });
    if (this.settings.legacyMd5 && this.ownsClient) addContentMd5(this.client);
  }

  keyFor(name: string): string {
    return this.prefix + name;
  }

  uriFor(name: string): string {
    return `s3://${this.bucket}/${this.keyFor(name)}`;
  }

  async check(): Promise<void> {
    const k = this.keyPrefix;
    try {
      await this.client.config.region();
    } catch (err) {
      throw new ConfigError(ErrorCodes.CONFIG_INVALID, `no AWS region: set ${k}region (or AWS_REGION)`, { context: { key: `${k}region` }, cause: err });
    }
    if (!this.settings.anonymous) {
      try {
        await this.client.config.credentials();
      } catch (err) {
        throw new ConfigError(ErrorCodes.CONFIG_INVALID, `no AWS credentials: set ${k}accessKey and ${k}secretKey, or provide them through the AWS default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, instance role): ${describeError(err)}`, {
          context: { key: `${k}accessKey` }, cause: err,
        });
      }
    }
    try {
      await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, MaxKeys: 1 }));
    } catch (err) {
      const name = (err as { name?: string }).name;
      // Listing may legitimately be forbidden to a writer that may still PutObject.
      if (name === 'AccessDenied') {
        this.emit({ type: 'warning', message: `cannot list ${this.uri} (AccessDenied); continuing, uploads may still be allowed` });
        return;
      }
      throw this.wrap(err, { uri: this.uri }, 'ListObjectsV2 (pre-flight check)');
    }
  }

  open(name: string, meta: PublishMeta, options: PublishOptions = {}): SinkWriter {
    checkFileName(name);
    const context: ErrorContext = { segment: meta.segment, uri: this.uriFor(name), key: this.keyFor(name) };
    return fileWriter(() => this.begin(name, meta, options, context), (err) => this.wrap(err, context));
  }

  publish(name: string, bytes: AsyncIterable<Uint8Array> | Readable, meta: PublishMeta, options?: PublishOptions): Promise<PublishedFile> {
    return publishVia(this, name, bytes, meta, options);
  }

  /** The file under `name` if it holds this segment CRC and fingerprint (a re-run may then skip the work). */
  async existing(name: string, meta: PublishMeta): Promise<PublishedFile | undefined> {
    const found = await this.head(this.keyFor(name));
    return found && sameContent(found, meta) ? this.reusedFile(name, found, 0) : undefined;
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  private async begin(name: string, meta: PublishMeta, options: PublishOptions, context: ErrorContext): Promise<WriteTarget> {
    const key = this.keyFor(name);
    if (this.active.has(key)) {
      throw new SinkError(SinkErrorCodes.SINK_CONFLICT, 'this key is already being published by this process', { context, retryable: true });
    }
    this.active.add(key);
    try {
      const started = performance.now();
      const found = await this.head(key);
      if (found && !options.force && sameContent(found, meta)) {
        this.emit({ type: 'reused', key, message: `${this.uriFor(name)} already holds segment CRC ${crcText(meta.crc)}; kept as it is` });
        return new DrainTarget(this.reusedFile(name, found, started), () => this.active.delete(key));
      }
      if (this.settings.cleanupStaleUploads) await this.abortOpenUploads(key, true);
      const condition = !this.settings.conditionalWrites ? {} : found?.etag ? { IfMatch: found.etag } : found ? {} : { IfNoneMatch: '*' };
      return new S3Upload(this, name, key, meta, condition, started, () => this.active.delete(key));
    } catch (err) {
      this.active.delete(key);
      throw err;
    }
  }

  /** HEAD of `key`: undefined when absent (or when we may not look: then writes are unconditional). */
  async head(key: string): Promise<ExistingObject | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { etag: out.ETag, bytes: out.ContentLength ?? 0, versionId: out.VersionId, metadata: out.Metadata ?? {} };
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
      if (e.$metadata?.httpStatusCode === 403 && !AUTH_ERRORS.has(e.name ?? '')) {
        this.emit({ type: 'warning', message: `HEAD ${key} is forbidden; cannot tell whether it exists, so it is written unconditionally` });
        return undefined;
      }
      throw this.wrap(err, { key }, 'HeadObject');
    }
  }

  /** Buckets without ListMultipartUploads (or without the permission) are skipped with a warning. */
  async abortOpenUploads(key: string, stale: boolean): Promise<void> {
    let uploads: { Key?: string; UploadId?: string }[];
    try {
      const out = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: key }));
      uploads = out.Uploads ?? [];
    } catch (err) {
      this.emit({ type: 'warning', message: `cannot list multipart uploads of ${key} (${describeError(err)}); leftovers are not cleaned up` });
      return;
    }
    for (const u of uploads) {
      if (u.Key === key && u.UploadId) await this.abortUpload(key, u.UploadId, stale);
    }
  }

  /** AbortMultipartUpload, retried until `abortTimeout`; NoSuchUpload counts as done. Never throws. */
  async abortUpload(key: string, uploadId: string, stale: boolean): Promise<boolean> {
    try {
      await withRetries(async () => {
        try {
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
        } catch (err) {
          if ((err as { name?: string }).name !== 'NoSuchUpload') throw err;
        }
      }, { policy: { ...this.settings.retry, maxAttempts: Number.MAX_SAFE_INTEGER }, deadlineMs: this.settings.abortTimeoutMs });
      this.emit({ type: 'upload-aborted', key, uploadId, stale, message: `aborted ${stale ? 'a leftover' : 'the'} multipart upload ${uploadId} of ${key}` });
      return true;
    } catch (err) {
      this.emit({ type: 'abort-failed', key, uploadId, message: `could not abort multipart upload ${uploadId} of ${key}: ${describeError(err)}; the next publish of this key aborts it, or a bucket lifecycle rule (AbortIncompleteMultipartUpload) does` });
      return false;
    }
  }

  reusedFile(name: string, found: ExistingObject, started: number): PublishedFile {
    return {
      uri: this.uriFor(name), name, bytes: found.bytes, etag: found.etag, versionId: found.versionId, reused: true,
      seconds: started ? (performance.now() - started) / 1000 : 0,
    };
  }

  emit(event: S3SinkEvent): void {
    this.options.onEvent?.(event);
  }

  /** Any failure as an ExporterError with the code, retryability and the config key to look at. */
  wrap(err: unknown, context: ErrorContext, operation = 'request'): ExporterError {
    if (err instanceof ExporterError) return err.addContext(context);
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
    const name = e.name ?? '';
    const status = e.$metadata?.httpStatusCode;
    const k = this.keyPrefix;
    const cause = describeError(err);
    if (AUTH_ERRORS.has(name)) {
      const key = `${k}accessKey`;
      const where = this.settings.credentials ? `${k}accessKey / ${k}secretKey` : 'the AWS default credential chain (no keys configured)';
      return new ConfigError(ErrorCodes.CONFIG_INVALID, `S3 rejected the credentials from ${where}: ${cause}`, { context: { ...context, key }, cause: err });
    }
    if (name === 'NoSuchBucket') {
      return new ConfigError(ErrorCodes.CONFIG_INVALID, `bucket "${this.bucket}" of outputDirURI does not exist (${cause})`, { context: { ...context, key: 'outputDirURI' }, cause: err });
    }
    if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301) {
      return new ConfigError(ErrorCodes.CONFIG_INVALID, `bucket "${this.bucket}" is in another region than ${k}region says (${cause})`, { context: { ...context, key: `${k}region` }, cause: err });
    }
    if (name === 'NotImplemented' && this.settings.conditionalWrites) {
      return new SinkError(SinkErrorCodes.SINK_WRITE_FAILED, `the store rejected a request as NotImplemented, maybe the conditional write headers; set ${k}conditionalWrites=false (${cause})`, { context, cause: err });
    }
    const retryable = isRetryableError(err);
    const hint = status === undefined && retryable && this.settings.endpoint ? ` (endpoint ${this.settings.endpoint} from ${k}endpoint)` : '';
    const attempts = e.$metadata?.attempts;
    const tries = attempts !== undefined && attempts > 1 ? ` after ${attempts} attempts` : '';
    return new SinkError(SinkErrorCodes.SINK_WRITE_FAILED, `S3 ${operation} failed${tries}: ${cause}${hint}`, { context, cause: err, retryable });
  }
}

/** One multipart (or single PUT) upload in progress. */
class S3Upload implements WriteTarget {
  private readonly body = new PassThrough({ highWaterMark: 256 * 1024 });
  private readonly upload: Upload;
  private readonly done: Promise<unknown>;
  private failure: unknown;
  private failedPart: number | undefined;
  private failedOperation: string | undefined;
  private bytes = 0;
  private aborted = false;

  constructor(
    private readonly sink: S3Sink,
    private readonly name: string,
    private readonly key: string,
    private readonly meta: PublishMeta,
    condition: { IfNoneMatch?: string; IfMatch?: string },
    private readonly started: number,
    private readonly release: () => void,
  ) {
    const s = sink.settings;
    const params: PutObjectCommandInput = {
      Bucket: sink.bucket,
      Key: key,
      Body: this.body,
      ContentType: meta.contentType ?? PARQUET_CONTENT_TYPE,
      Metadata: objectMetadata(meta),
      ...condition,
    };
    if (s.acl) params.ACL = s.acl;
    if (s.serverSideEncryption) params.ServerSideEncryption = s.serverSideEncryption;
    if (s.sseKmsKeyId) params.SSEKMSKeyId = s.sseKmsKeyId;
    if (s.sseKmsEncryptionContext) params.SSEKMSEncryptionContext = s.sseKmsEncryptionContext;
    if (s.storageClass) params.StorageClass = s.storageClass as PutObjectCommandInput['StorageClass'];
    this.upload = new Upload({
      client: failFast(sink.client, (err, operation, part) => this.fail(err, operation, part)),
      params,
      partSize: s.partSize,
      queueSize: s.queueSize,
      leavePartsOnError: true,
    });
    this.done = this.upload.done();
    this.done.catch(() => undefined);
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.failure !== undefined) throw this.failureError();
    this.bytes += chunk.byteLength;
    if (!this.body.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          this.body.off('close', onClose);
          resolve();
        };
        const onClose = () => {
          this.body.off('drain', onDrain);
          reject(this.failure === undefined ? new Error('the upload stream closed') : this.failureError());
        };
        this.body.once('drain', onDrain);
        this.body.once('close', onClose);
      });
    }
    if (this.failure !== undefined) throw this.failureError();
  }

  async commit(): Promise<PublishedFile> {
    this.body.end();
    let out: { ETag?: string; VersionId?: string };
    try {
      out = (await this.done) as { ETag?: string; VersionId?: string };
    } catch (err) {
      if (this.failure === undefined) this.failure = err;
      if (isConditionFailure(this.failure)) return this.settleConflict(this.failure);
      throw this.failureError();
    }
    this.release();
    const partSize = this.sink.settings.partSize;
    return {
      uri: this.sink.uriFor(this.name), name: this.name, bytes: this.bytes, etag: out.ETag, versionId: out.VersionId,
      parts: Math.max(1, Math.ceil(this.bytes / partSize)), reused: false, seconds: (performance.now() - this.started) / 1000,
    };
  }

  async abort(reason: Error): Promise<void> {
    if (this.aborted) return;
    this.aborted = true;
    this.fail(reason);
    // Every request in flight settles before done() does (lib-storage awaits all its uploaders).
    await this.done.catch(() => undefined);
    await this.cleanUp();
    this.release();
  }

  private async cleanUp(): Promise<void> {
    const uploadId = this.upload.uploadId;
    if (uploadId) await this.sink.abortUpload(this.key, uploadId, false);
    // A Create whose answer was lost leaves an upload we have no id for.
    if (this.sink.settings.cleanupStaleUploads) await this.sink.abortOpenUploads(this.key, false);
  }

  /** The conditional write failed: someone wrote the key meanwhile. Same content is success, else a conflict. */
  private async settleConflict(err: unknown): Promise<PublishedFile> {
    this.aborted = true;
    await this.cleanUp();
    this.release();
    const found = await this.sink.head(this.key).catch(() => undefined);
    if (found && sameContent(found, this.meta)) {
      this.sink.emit({ type: 'reused', key: this.key, message: `${this.sink.uriFor(this.name)} was written meanwhile with the same segment CRC; kept as it is` });
      return this.sink.reusedFile(this.name, found, this.started);
    }
    throw new SinkError(SinkErrorCodes.SINK_CONFLICT, `${this.sink.uriFor(this.name)} was written by someone else during this upload (${describeError(err)}); a re-run rewrites it`, {
      context: { segment: this.meta.segment, uri: this.sink.uriFor(this.name), key: this.key }, cause: err, retryable: true,
    });
  }

  /** First failure wins; destroying the body stops lib-storage from starting more parts. */
  private fail(err: unknown, operation?: string, part?: number): void {
    if (this.failure === undefined) {
      this.failure = err;
      this.failedOperation = operation;
      this.failedPart = part;
    }
    if (!this.body.destroyed) this.body.destroy(err instanceof Error ? err : new Error(String(err)));
  }

  /** The first failure, naming the request (and the part of an UploadPart) that failed. */
  private failureError(): unknown {
    if (this.failedOperation === undefined) return this.failure;
    return this.sink.wrap(this.failure, this.failedPart === undefined ? {} : { part: this.failedPart }, this.failedOperation);
  }
}

/** A target that accepts and drops the bytes: the same content is already published. */
class DrainTarget implements WriteTarget {
  constructor(private readonly file: PublishedFile, private readonly release: () => void) {}
  async write(): Promise<void> {}
  async commit(): Promise<PublishedFile> {
    this.release();
    return this.file;
  }
  async abort(): Promise<void> {
    this.release();
  }
}

/**
 * The client lib-storage sees: the same client, but a request that fails for good (after its retries) is
 * reported at once, with the part number if it was an UploadPart.
 */
function failFast(client: S3Client, onFailure: (err: unknown, operation: string, part?: number) => void): S3Client {
  const facade = Object.create(client) as S3Client;
  const send = (command: { input?: { PartNumber?: number } }, options?: unknown) =>
    (client.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options).catch((err: unknown) => {
      onFailure(err, command.constructor.name.replace(/Command$/, ''), command.input?.PartNumber);
      throw err;
    });
  Object.defineProperty(facade, 'send', { value: send });
  return facade;
}

function objectMetadata(meta: PublishMeta): Record<string, string> {
  const out: Record<string, string> = { [META_SEGMENT]: headerSafe(meta.segment) };
  const crc = crcText(meta.crc);
  if (crc !== undefined) out[META_CRC] = crc;
  if (meta.fingerprint !== undefined) out[META_FINGERPRINT] = headerSafe(meta.fingerprint);
  if (meta.rows !== undefined) out[META_ROWS] = String(meta.rows);
  return out;
}

/** Same segment CRC and fingerprint recorded on the object; without a CRC nothing is "the same". */
function sameContent(found: ExistingObject, meta: PublishMeta): boolean {
  const crc = crcText(meta.crc);
  if (crc === undefined || found.metadata[META_CRC] !== crc) return false;
  const fingerprint = meta.fingerprint === undefined ? undefined : headerSafe(meta.fingerprint);
  return found.metadata[META_FINGERPRINT] === fingerprint;
}

/** Metadata travels in HTTP headers: printable ASCII as is, anything else percent-encoded. */
function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

function isConditionFailure(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'PreconditionFailed' || e.name === 'ConditionalRequestConflict' || e.$metadata?.httpStatusCode === 412 || e.$metadata?.httpStatusCode === 409;
}

/** `useLegacyMd5Plugin`: Content-MD5 on every request with an in-memory body (PutObject, UploadPart). */
function addContentMd5(client: S3Client): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      if (request.headers && (request.body instanceof Uint8Array || typeof request.body === 'string')) {
        request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
      }
      return next(args);
    },
    { step: 'build', name: 'pinotExportContentMd5', override: true },
  );
}
