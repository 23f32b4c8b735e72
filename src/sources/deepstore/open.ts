/**
 * Opens a segment from wherever it is: a local directory (read in place), or an archive on local disk,
 * S3 or HTTP, streamed straight into a fresh temporary directory (no temporary archive file).
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { ErrorCodes, SourceError } from '../../errors.js';
import type { SegmentFiles } from '../pinot/types.js';
import { extractSegmentArchive } from './archive.js';
import { getHttpObject } from './http.js';
import { openLocalSegmentFiles, type LocalSegmentFiles } from './local-files.js';
import { locateSegmentDir } from './locate.js';
import { nameFromLocation, parseLocation, type Location } from './location.js';
import { getS3Object, type S3Options } from './s3.js';

export interface OpenSegmentOptions {
  /** Where archives are extracted (a fresh `mkdtemp` directory inside it); default `os.tmpdir()`. */
  workDir?: string;
  /** Settings for a client created per call, for `s3://` locations. */
  s3?: S3Options;
  /** A shared S3 client (takes precedence over `s3`); left open. */
  s3Client?: S3Client;
  signal?: AbortSignal;
}

export interface OpenedSegment {
  /** Segment name: the segment directory's name, else the object's base name (URL-decoded, archive suffix dropped). */
  name: string;
  location: string;
  /** The directory holding `metadata.properties`. */
  dir: string;
  files: SegmentFiles;
  /** Closes the files and removes the extracted copy, if any. Safe to call twice. */
  cleanup(): Promise<void>;
}

const TEMP_PREFIX = 'pinot-segment-';

export async function openSegment(location: string, options: OpenSegmentOptions = {}): Promise<OpenedSegment> {
  options.signal?.throwIfAborted();
  const where = parseLocation(location);
  if (where.kind === 'local') {
    const path = resolve(where.path);
    const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
      throw new SourceError(err.code === 'ENOENT' || err.code === 'ENOTDIR' ? ErrorCodes.SOURCE_NOT_FOUND : ErrorCodes.SOURCE_FETCH_FAILED,
        `cannot read ${path}: ${err.message}`, { context: { uri: location }, cause: err });
    });
    if (info.isDirectory()) return openInPlace(path, location);
    return openArchive(location, where, options, async () => ({ body: createReadStream(path, { signal: options.signal }) }));
  }
  if (where.kind === 's3') {
    const s3 = { s3: options.s3, client: options.s3Client, signal: options.signal, uri: location };
    return openArchive(location, where, options, () => getS3Object(where.bucket, where.key, s3));
  }
  return openArchive(location, where, options, async () => ({ body: await getHttpObject(where.url, options.signal) }));
}

/** A segment directory on local disk: nothing copied, cleanup only closes descriptors. */
async function openInPlace(path: string, location: string): Promise<OpenedSegment> {
  const located = await locateSegmentDir(path, location);
  const files = openLocalSegmentFiles(located.dir);
  return {
    name: basename(located.segmentDir),
    location,
    dir: located.dir,
    files,
    cleanup: async () => files.close(),
  };
}

interface Body {
  body: Readable;
  /** Releases what produced the body (an S3 client), once the body is consumed or abandoned. */
  dispose?(): void;
}

async function openArchive(location: string, where: Location, options: OpenSegmentOptions, fetchBody: () => Promise<Body>): Promise<OpenedSegment> {
  const temp = await makeTempDir(resolve(options.workDir ?? tmpdir()), location);
  let files: LocalSegmentFiles | undefined;
  try {
    const fetched = await fetchBody();
    try {
      await extractSegmentArchive(fetched.body, temp, { name: location, signal: options.signal });
    } finally {
      fetched.dispose?.();
    }
    const located = await locateSegmentDir(temp, location);
    files = openLocalSegmentFiles(located.dir);
    const opened = files;
    let done: Promise<void> | undefined;
    return {
      name: located.segmentDir === temp ? nameFromLocation(where) : basename(located.segmentDir),
      location,
      dir: located.dir,
      files,
      cleanup: () => (done ??= removeExtracted(opened, temp)),
    };
  } catch (err) {
    await removeExtracted(files, temp);
    throw err;
  }
}

async function makeTempDir(workDir: string, location: string): Promise<string> {
  try {
    await mkdir(workDir, { recursive: true });
    return await mkdtemp(join(workDir, TEMP_PREFIX));
  } catch (err) {
    throw new SourceError(ErrorCodes.SOURCE_FETCH_FAILED, `cannot create a work directory in ${workDir}: ${(err as Error).message}`, {
      context: { uri: location }, cause: err,
    });
  }
}

async function removeExtracted(files: LocalSegmentFiles | undefined, temp: string): Promise<void> {
  files?.close();
  await rm(temp, { recursive: true, force: true });
}
