/**
 * File access for an Iceberg table's own files: a sink for data files under the data location, and whole-file
 * read/write for manifests and manifest lists. `file://` (and absolute-path) locations use the local sink and
 * the filesystem; `s3://` / `s3a://` locations use our S3 sink and an S3 client whose credentials come from
 * the catalog (vended, refreshed) or the static `catalog.iceberg-rest.s3.*` keys. Tests can map a table
 * location onto a local directory (`mappedLocalIO`).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { ErrorCodes, ExporterError } from '../errors.js';
import type { S3Access } from '../sinks/iceberg/credentials.js';
import type { Sink } from '../sinks/sink.js';

export interface TableIO {
  /** A sink whose files land in the directory `dirUri` (a file is then `<dirUri>/<name>`). */
  sinkFor(dirUri: string): Promise<Sink>;
  read(uri: string): Promise<Uint8Array>;
  /** Writes a whole file so that it appears complete or not at all. */
  write(uri: string, bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

function ioError(uri: string, op: string, err: unknown): ExporterError {
  const e = err as { code?: string; name?: string; message?: string };
  return new ExporterError(ErrorCodes.SINK_WRITE_FAILED, `${op} ${uri} failed: ${e.code ?? e.name ?? ''} ${e.message ?? String(err)}`.trim(), {
    context: { uri }, cause: err, retryable: true,
  });
}

/** Local files: `file://` URIs, absolute paths, or any URI `toLocal` maps (tests). */
export function mappedLocalIO(toLocal: (uri: string) => string): TableIO {
  return {
    async sinkFor(dirUri) {
      const { LocalSink } = await import('../sinks/local.js');
      return new LocalSink({ dir: toLocal(dirUri), uri: dirUri });
    },
    async read(uri) {
      try {
        return await readFile(toLocal(uri));
      } catch (err) {
        throw ioError(uri, 'reading', err);
      }
    },
    async write(uri, bytes) {
      const path = toLocal(uri);
      try {
        await mkdir(dirname(path), { recursive: true });
        const tmp = `${path}.${process.pid}.tmp`;
        await writeFile(tmp, bytes);
        await rename(tmp, path);
      } catch (err) {
        throw ioError(uri, 'writing', err);
      }
    },
    async close() {},
  };
}

function fileUriToPath(uri: string): string {
  if (uri.startsWith('file:')) return fileURLToPath(uri);
  if (uri.startsWith('/')) return uri;
  throw new ExporterError(ErrorCodes.ICEBERG_TABLE_UNSUPPORTED, `table location ${uri} is neither file:// nor s3://; this exporter writes to file:// and s3:// (s3a://) locations`, {
    context: { uri },
  });
}

export const localIO: TableIO = mappedLocalIO(fileUriToPath);

function s3Parts(uri: string): { bucket: string; key: string } {
  const m = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new ExporterError(ErrorCodes.ICEBERG_TABLE_UNSUPPORTED, `${uri} is not an s3:// location`, { context: { uri } });
  return { bucket: m[1]!, key: m[2]! };
}

/** S3 for the table's files, with the catalog's S3 settings and credentials. */
export async function s3TableIO(access: S3Access, provider: AwsCredentialIdentityProvider | undefined): Promise<TableIO> {
  const { S3Client, GetObjectCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const { S3Sink } = await import('../sinks/s3.js');
  const { parseS3Props, clientConfig } = await import('../sinks/s3-config.js');
  const { settings } = parseS3Props({}, 'catalog.iceberg-rest.s3.');
  if (access.region !== undefined) settings.region = access.region;
  if (access.endpoint !== undefined) {
    settings.endpoint = access.endpoint;
    settings.forcePathStyle = access.pathStyleAccess ?? true;
  } else if (access.pathStyleAccess !== undefined) settings.forcePathStyle = access.pathStyleAccess;
  // Data files are 8 MiB parts at most in flight × 4: bounded memory whatever the segment size.
  settings.partSize = 8 * 1024 * 1024;
  const client: S3Client = new S3Client({ ...clientConfig(settings), ...(provider === undefined ? {} : { credentials: provider }) });
  const sinks: Sink[] = [];
  return {
    async sinkFor(dirUri) {
      const { bucket, key } = s3Parts(dirUri);
      const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
      const sink = new S3Sink({ bucket, prefix, settings, uri: dirUri, client, keyPrefix: 'catalog.iceberg-rest.s3.' });
      sinks.push(sink);
      return sink;
    },
    async read(uri) {
      const { bucket, key } = s3Parts(uri);
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return await out.Body!.transformToByteArray();
      } catch (err) {
        throw ioError(uri, 'reading', err);
      }
    },
    async write(uri, bytes) {
      const { bucket, key } = s3Parts(uri);
      try {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
      } catch (err) {
        throw ioError(uri, 'writing', err);
      }
    },
    async close() {
      await Promise.all(sinks.map((s) => s.close().catch(() => undefined)));
      client.destroy();
    },
  };
}

export function isS3Location(uri: string): boolean {
  return /^s3a?:\/\//.test(uri);
}
