/**
 * GetObject as a stream, for `s3://bucket/key` download URLs. The SDK is loaded on first use: local and
 * HTTP exports should not pay for it.
 */
import type { Readable } from 'node:stream';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { ErrorCodes, SourceError } from '../../errors.js';

/** The S3 client settings a deep-store reader needs (a MinIO or test server needs `endpoint` + `forcePathStyle`). */
export type S3Options = Pick<S3ClientConfig, 'endpoint' | 'region' | 'forcePathStyle' | 'credentials' | 'maxAttempts'>;

export interface S3Object {
  body: Readable;
  /** Releases the client if this call created it. */
  dispose(): void;
}

export interface GetS3ObjectOptions {
  s3?: S3Options;
  /** A shared client; when given, `s3` is ignored and the client is left open. */
  client?: S3Client;
  signal?: AbortSignal;
  uri: string;
}

export async function getS3Object(bucket: string, key: string, opts: GetS3ObjectOptions): Promise<S3Object> {
  const { S3Client, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const client = opts.client ?? new S3Client({ ...opts.s3 });
  const dispose = opts.client === undefined ? () => client.destroy() : () => undefined;
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: opts.signal });
    if (out.Body === undefined) throw new Error('GetObject returned no body');
    return { body: out.Body as Readable, dispose };
  } catch (err) {
    dispose();
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw s3Error(err, opts.uri, bucket, key);
  }
}

function s3Error(err: unknown, uri: string, bucket: string, key: string): SourceError {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  const status = e.$metadata?.httpStatusCode;
  const context = { uri, key: `${bucket}/${key}` };
  if (e.name === 'NoSuchKey' || e.name === 'NoSuchBucket' || e.name === 'NotFound' || status === 404) {
    return new SourceError(ErrorCodes.SOURCE_NOT_FOUND, `no S3 object (${e.name ?? status})`, { context, cause: err });
  }
  // No status means the request never got an answer (network, DNS, timeout): worth another try.
  const retryable = e.$retryable !== undefined || status === undefined || status >= 500 || status === 429 || status === 408;
  return new SourceError(ErrorCodes.SOURCE_FETCH_FAILED, `S3 GetObject failed: ${e.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? ''}`, {
    context, cause: err, retryable,
  });
}
