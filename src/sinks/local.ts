/**
 * Local filesystem sink (Pinot's LocalPinotFS): each file is written to a hidden temporary name in the
 * target directory, fsynced, renamed into place and the directory fsynced. A crash at any point leaves
 * the final name untouched (absent, or the previous complete file); rename(2) replaces an existing file
 * atomically, so a re-run rewrites it. Temporary files left by a crashed process are removed by the next
 * publish of the same name once that process is gone.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { ConfigError, ErrorCodes, ExporterError } from '../errors.js';
import { SinkError, SinkErrorCodes } from './errors.js';
import { checkFileName, fileWriter, publishVia, type PublishedFile, type PublishMeta, type PublishOptions, type Sink, type SinkWriter, type WriteTarget } from './sink.js';

export interface LocalSinkOptions {
  /** Absolute path of the output directory (created when missing). */
  dir: string;
  /** `outputDirURI` as configured, for messages; defaults to the directory's file:// URL. */
  uri?: string;
  /** fsync the file and the directory before reporting success (default true). */
  fsync?: boolean;
}

const RETRYABLE_ERRNO = new Set(['EIO', 'EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'ENOSPC', 'EINTR']);
const TEMP_SUFFIX = /\.(\d+)\.[0-9a-f]{8}\.tmp$/;

export class LocalSink implements Sink {
  readonly uri: string;
  readonly dir: string;
  private readonly fsync: boolean;

  constructor(options: LocalSinkOptions) {
    this.dir = options.dir;
    this.uri = options.uri ?? pathToFileURL(options.dir).href;
    this.fsync = options.fsync ?? true;
  }

  uriFor(name: string): string {
    return pathToFileURL(join(this.dir, name)).href;
  }

  async check(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
      await access(this.dir, constants.W_OK);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new ConfigError(ErrorCodes.CONFIG_INVALID, `outputDirURI ${JSON.stringify(this.uri)} is not a writable directory (${e.code ?? e.message})`, {
        context: { uri: this.uri, key: 'outputDirURI' }, cause: err,
      });
    }
  }

  open(name: string, meta: PublishMeta): SinkWriter {
    checkFileName(name);
    const context = { segment: meta.segment, uri: this.uriFor(name) };
    return fileWriter(() => this.begin(name), (err) => wrap(err, context));
  }

  publish(name: string, bytes: AsyncIterable<Uint8Array> | Readable, meta: PublishMeta, options?: PublishOptions): Promise<PublishedFile> {
    return publishVia(this, name, bytes, meta, options);
  }

  async close(): Promise<void> {}

  private async begin(name: string): Promise<WriteTarget> {
    await mkdir(this.dir, { recursive: true });
    await this.removeStaleTemps(name);
    const temp = join(this.dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx');
    return new LocalFile(handle, temp, join(this.dir, name), name, this.uriFor(name), this.dir, this.fsync);
  }

  /** Temporary files of this name whose writer process no longer exists. */
  private async removeStaleTemps(name: string): Promise<void> {
    const prefix = `.${name}.`;
    for (const entry of await readdir(this.dir)) {
      if (!entry.startsWith(prefix)) continue;
      const m = TEMP_SUFFIX.exec(entry.slice(prefix.length - 1));
      if (m && !processAlive(Number(m[1]))) await rm(join(this.dir, entry), { force: true });
    }
  }
}

class LocalFile implements WriteTarget {
  private bytes = 0;
  private closed = false;
  private readonly started = performance.now();

  constructor(
    private readonly handle: FileHandle,
    private readonly temp: string,
    private readonly final: string,
    private readonly name: string,
    private readonly uri: string,
    private readonly dir: string,
    private readonly fsync: boolean,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.byteLength) {
      const { bytesWritten } = await this.handle.write(chunk, offset, chunk.byteLength - offset);
      offset += bytesWritten;
    }
    this.bytes += chunk.byteLength;
  }

  async commit(): Promise<PublishedFile> {
    if (this.fsync) await this.handle.sync();
    this.closed = true;
    await this.handle.close();
    await rename(this.temp, this.final);
    if (this.fsync) await syncDir(this.dir);
    return { uri: this.uri, name: this.name, bytes: this.bytes, reused: false, seconds: (performance.now() - this.started) / 1000 };
  }

  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.handle.close().catch(() => undefined);
    }
    await rm(this.temp, { force: true }).catch(() => undefined);
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    // Some filesystems cannot fsync a directory; the rename itself has happened.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL' && (err as NodeJS.ErrnoException).code !== 'EISDIR') throw err;
  } finally {
    await handle.close();
  }
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function wrap(err: unknown, context: { segment: string; uri: string }): Error {
  if (err instanceof ExporterError) return err.addContext(context);
  const e = err as NodeJS.ErrnoException;
  const retryable = e.code !== undefined && RETRYABLE_ERRNO.has(e.code);
  return new SinkError(SinkErrorCodes.SINK_WRITE_FAILED, `writing the local file failed: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`, {
    context, cause: err, retryable,
  });
}
