/**
 * Streams a segment tarball into a directory. The compressor is chosen by magic number, never by file name,
 * as Pinot's own un-tar does (§1.2): controller deep-store objects have no extension at all.
 */
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { DecompressStream } from 'zstd-napi';
import { ErrorCodes, ExporterError, SourceError } from '../../errors.js';
import { Lz4FrameDecoder } from './lz4-frame.js';
import { writeTarEntries, type TarProgress } from './tar-entries.js';

export type ArchiveCompression = 'gzip' | 'zstd' | 'lz4' | 'none';

export interface ExtractOptions {
  /** The archive's URI or path, named in errors. */
  name?: string;
  signal?: AbortSignal;
}

export interface ExtractResult {
  compression: ArchiveCompression;
  /** Regular files written, relative to `destDir`, with `/`. */
  files: string[];
  /** Bytes read from `input`. */
  archiveBytes: number;
}

/** Bytes needed to recognise a plain tar (the ustar magic sits at 257). */
const SNIFF_BYTES = 512;
const USTAR_OFFSET = 257;

/** The archive's compressor from its first bytes; undefined when it is neither a known compressor nor a tar. */
export function detectCompression(head: Uint8Array): ArchiveCompression | undefined {
  const starts = (...magic: number[]) => magic.every((b, i) => head[i] === b);
  if (starts(0x1f, 0x8b)) return 'gzip';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (starts(0x04, 0x22, 0x4d, 0x18)) return 'lz4';
  // POSIX `ustar\0` and old GNU `ustar ` both start with these five bytes.
  const ustar = [0x75, 0x73, 0x74, 0x61, 0x72];
  if (ustar.every((b, i) => head[USTAR_OFFSET + i] === b)) return 'none';
  return undefined;
}

/**
 * Decompresses and un-tars `input` into `destDir` (created if missing), with backpressure from disk to
 * source. Failures are SourceErrors: ARCHIVE_INVALID for bad or truncated archives and unsafe entries
 * (naming the entry and the archive offset read so far), SOURCE_FETCH_FAILED (retryable) when `input`
 * itself fails. An abort rejects with the signal's reason. On failure, files already written stay in
 * `destDir`: the caller owns that directory and removes it.
 */
export async function extractSegmentArchive(
  input: Readable | AsyncIterable<Uint8Array>,
  destDir: string,
  opts: ExtractOptions = {},
): Promise<ExtractResult> {
  const source = new CountingSource(input, opts.name);
  const progress: TarProgress = { entry: undefined, tarOffset: undefined, files: [] };
  let compression: ArchiveCompression | undefined;
  try {
    const head = await source.sniff(SNIFF_BYTES);
    compression = detectCompression(head);
    if (compression === undefined) {
      throw new SourceError(ErrorCodes.ARCHIVE_INVALID, head.length === 0 ? 'archive is empty' : 'not a tar archive, nor gzip, zstd or lz4 compressed');
    }
    const extract = tar.extract();
    // tar-stream is a streamx Writable, which Node's pipeline drives like its own; the typings disagree.
    const stages = [source.stream(), ...decoders(compression), checkEndOfArchive, extract] as unknown as NodeJS.ReadWriteStream[];
    const pumping = pipeline(stages, { signal: opts.signal });
    const writing = writeTarEntries(extract, destDir, progress).catch((err: unknown) => {
      extract.destroy(err as Error); // stop reading input; the pipeline then rejects too
      throw err;
    });
    const [pumped, written] = await Promise.allSettled([pumping, writing]);
    const failure = pickError(pumped, written);
    if (failure !== undefined) throw failure;
    return { compression, files: progress.files, archiveBytes: source.bytes };
  } catch (err) {
    await source.close();
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw toSourceError(err, { uri: opts.name, file: progress.entry, offset: source.bytes, tarOffset: progress.tarOffset, compression });
  }
}

function decoders(compression: ArchiveCompression): Transform[] {
  switch (compression) {
    case 'gzip': return [createGunzip()];
    // zstd-napi streams frames without a content size (what Commons Compress writes).
    case 'zstd': return [new DecompressStream()];
    case 'lz4': return [new Lz4FrameDecoder()];
    case 'none': return [];
  }
}

/**
 * Passes the tar stream through and fails if it does not end with a zero block: tar-stream accepts a tar
 * cut exactly between two entries, which would silently drop files of an uncompressed archive.
 */
async function* checkEndOfArchive(tarStream: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let tail: Uint8Array = new Uint8Array(0);
  for await (const chunk of tarStream) {
    tail = chunk.length >= 512 ? chunk.subarray(chunk.length - 512) : concatTail(tail, chunk);
    yield chunk;
  }
  if (tail.length < 512 || tail.some((b) => b !== 0)) {
    throw new SourceError(ErrorCodes.ARCHIVE_INVALID, 'tar stream ends without an end-of-archive block (truncated)');
  }
}

function concatTail(tail: Uint8Array, chunk: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.min(512, tail.length + chunk.length));
  const keep = out.length - chunk.length;
  out.set(tail.subarray(tail.length - keep));
  out.set(chunk, keep);
  return out;
}

/** The input as an iterator that counts bytes, can be sniffed, and tags its own failures. */
class CountingSource {
  bytes = 0;
  private readonly iterator: AsyncIterator<Uint8Array>;
  private head: Uint8Array[] = [];

  constructor(input: AsyncIterable<Uint8Array>, private readonly name: string | undefined) {
    this.iterator = input[Symbol.asyncIterator]();
  }

  /** Reads until at least `n` bytes (or the end) are buffered; returns them. */
  async sniff(n: number): Promise<Uint8Array> {
    let have = 0;
    while (have < n) {
      const chunk = await this.next();
      if (chunk === undefined) break;
      this.head.push(chunk);
      have += chunk.length;
    }
    return Buffer.concat(this.head);
  }

  async *stream(): AsyncGenerator<Uint8Array> {
    try {
      yield* this.head;
      this.head = [];
      for (let chunk = await this.next(); chunk !== undefined; chunk = await this.next()) yield chunk;
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    try {
      await this.iterator.return?.();
    } catch {
      // the input failed already; that error is the one reported
    }
  }

  private async next(): Promise<Uint8Array | undefined> {
    let result: IteratorResult<Uint8Array>;
    try {
      result = await this.iterator.next();
    } catch (err) {
      if (err instanceof ExporterError) throw err;
      throw new SourceError(ErrorCodes.SOURCE_FETCH_FAILED, `reading the archive failed after ${this.bytes} bytes: ${describe(err)}`, {
        context: { uri: this.name, offset: this.bytes },
        cause: err,
        retryable: true,
      });
    }
    if (result.done) return undefined;
    const chunk: Uint8Array = typeof result.value === 'string' ? Buffer.from(result.value) : result.value;
    this.bytes += chunk.length;
    return chunk;
  }
}

/**
 * The error that explains the failure. A stage torn down because another one failed only reports a
 * premature close; the other stage's error is the cause.
 */
function pickError(...results: PromiseSettledResult<unknown>[]): unknown {
  const reasons = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  return reasons.find((e) => !isPrematureClose(e)) ?? reasons[0];
}

function isPrematureClose(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}

/** Local file-system failures while writing (disk full, permissions) are not the archive's fault. */
const LOCAL_IO_CODES = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EMFILE', 'ENFILE', 'EIO']);

function toSourceError(
  err: unknown,
  where: {
    uri: string | undefined;
    file: string | undefined;
    /** Archive bytes read when it failed. */
    offset: number;
    tarOffset: number | undefined;
    compression: ArchiveCompression | undefined;
  },
): ExporterError {
  const context = { uri: where.uri, file: where.file, offset: where.offset };
  if (err instanceof ExporterError) return err.addContext(context);
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && LOCAL_IO_CODES.has(code)) {
    return new SourceError(ErrorCodes.SOURCE_FETCH_FAILED, `writing the extracted segment failed: ${describe(err)}`, {
      context, cause: err, retryable: code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS',
    });
  }
  const what = where.compression === undefined || where.compression === 'none' ? 'tar' : `${where.compression} tar`;
  const at = where.tarOffset === undefined ? '' : ` (entry header at tar offset ${where.tarOffset})`;
  return new SourceError(ErrorCodes.ARCHIVE_INVALID, `corrupt or truncated ${what} archive: ${describe(err)}${at}`, { context, cause: err });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
