/**
 * The sink contract: publish one named file of bytes (a Parquet file) atomically and idempotently.
 *
 * - atomic: readers see the complete file under its final name or nothing; a failure or a crash mid-write
 *   leaves nothing under that name (a temporary file or an aborted multipart upload, both cleaned up).
 * - idempotent: publishing the same name again rewrites it; a sink that can tell that identical content
 *   is already there says so (`reused`).
 *
 * Two ways in: `publish(name, bytes, meta)` for an async iterable or Readable, and `open(name, meta)`, a
 * Writable for the end of a Node `pipeline`, which finishes only once the file is published. Backpressure
 * is honoured: a write is acknowledged only when the sink has room for it.
 */
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConfigError, ErrorCodes } from '../errors.js';

export interface PublishMeta {
  /** Segment name: object metadata and error context. */
  segment: string;
  /** Segment CRC (`segment.crc` / creation.meta): recorded with the file and part of "same content". */
  crc?: string | number | bigint;
  /** Hash of whatever else decides the bytes (Parquet options, exporter version); part of "same content". */
  fingerprint?: string;
  /** Rows in the file, recorded when known. */
  rows?: number;
  contentType?: string;
}

export interface PublishOptions {
  /** Write even when the sink can tell the same content is already there (default: keep it). */
  force?: boolean;
}

export interface PublishedFile {
  /** Where the file is: `file:///dir/name`, `s3://bucket/key`. */
  uri: string;
  name: string;
  bytes: number;
  etag?: string;
  versionId?: string;
  /** S3: parts of the multipart upload, 1 for a single PUT. */
  parts?: number;
  /** An object with the same segment CRC and fingerprint was already there and was kept as it is. */
  reused: boolean;
  seconds: number;
}

/** The Writable returned by `Sink.open`; `published` settles once the file is visible (or failed). */
export interface SinkWriter extends Writable {
  readonly published: Promise<PublishedFile>;
}

export interface Sink {
  /** The output directory as configured (`outputDirURI`). */
  readonly uri: string;
  /** The URI a file of this name gets. */
  uriFor(name: string): string;
  /** Cheap pre-flight: reachable, credentials accepted, directory writable. Throws ConfigError on bad config. */
  check(): Promise<void>;
  open(name: string, meta: PublishMeta, options?: PublishOptions): SinkWriter;
  /**
   * The published file under `name` if it already holds this content (same segment CRC and fingerprint),
   * so a re-run can skip the work; sinks that cannot tell leave this out (and simply rewrite).
   */
  existing?(name: string, meta: PublishMeta): Promise<PublishedFile | undefined>;
  publish(name: string, bytes: AsyncIterable<Uint8Array> | Readable, meta: PublishMeta, options?: PublishOptions): Promise<PublishedFile>;
  close(): Promise<void>;
}

/** One file being written: what a sink implements; `FileWriter` wraps it into a Writable. */
export interface WriteTarget {
  /** Resolves once the chunk is accepted and there is room for the next one. */
  write(chunk: Uint8Array): Promise<void>;
  /** After the last chunk: make the file visible under its final name. */
  commit(): Promise<PublishedFile>;
  /** Undo everything (temporary file, multipart upload); must not throw. */
  abort(reason: Error): Promise<void>;
}

/** `<segmentName>.parquet`. */
export function parquetFileName(segmentName: string): string {
  return `${segmentName}.parquet`;
}

/** A file name must stay inside the output directory. */
export function checkFileName(name: string): void {
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `file name ${JSON.stringify(name)} must be a single path segment without "/", "\\" or NUL`);
  }
}

class FileWriter extends Writable implements SinkWriter {
  readonly published: Promise<PublishedFile>;
  private resolve!: (file: PublishedFile) => void;
  private reject!: (err: Error) => void;
  private target: WriteTarget | undefined;
  private committed = false;

  constructor(private readonly start: () => Promise<WriteTarget>, private readonly wrapError: (err: unknown) => Error) {
    super({ highWaterMark: 64 * 1024 });
    this.published = new Promise<PublishedFile>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Callers that only await the pipeline must not get an unhandled rejection from this promise.
    this.published.catch(() => undefined);
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.start().then(
      (target) => {
        this.target = target;
        callback();
      },
      (err: unknown) => callback(this.wrapError(err)),
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.target!.write(chunk).then(() => callback(), (err: unknown) => callback(this.wrapError(err)));
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.target!.commit().then(
      (file) => {
        this.committed = true;
        this.resolve(file);
        callback();
      },
      (err: unknown) => callback(this.wrapError(err)),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.committed) {
      callback(error);
      return;
    }
    // Errors from our own operations arrive here already wrapped; anything else (the source failed, the
    // caller destroyed us) is passed on as it is, so the first cause keeps its code.
    const reason = error ?? this.wrapError(new Error('the writer was destroyed before the file was complete'));
    const aborted = this.target ? this.target.abort(reason) : Promise.resolve();
    aborted.then(() => {
      this.reject(reason);
      callback(error);
    });
  }
}

/** A Writable over a `WriteTarget` that is created (asynchronously) before the first write. */
export function fileWriter(start: () => Promise<WriteTarget>, wrapError: (err: unknown) => Error): SinkWriter {
  return new FileWriter(start, wrapError);
}

/** `publish` in terms of `open`: pipes the bytes in and waits for the file to be visible. */
export async function publishVia(
  sink: Sink, name: string, bytes: AsyncIterable<Uint8Array> | Readable, meta: PublishMeta, options?: PublishOptions,
): Promise<PublishedFile> {
  const writer = sink.open(name, meta, options);
  try {
    await pipeline(bytes, writer);
  } catch (err) {
    // The writer's own error (with its code and context) beats a premature-close error from the pipeline.
    throw await writer.published.then(() => err, (own: unknown) => own);
  }
  return writer.published;
}

/** The segment CRC as recorded in metadata: a decimal string. */
export function crcText(crc: PublishMeta['crc']): string | undefined {
  return crc === undefined ? undefined : String(crc);
}
