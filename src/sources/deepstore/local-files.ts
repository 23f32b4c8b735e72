/**
 * SegmentFiles over a directory on local disk: the only place segment bytes are read from a file.
 * Reads are positional (`readSync` at an offset), so decoders can pull one chunk of a large `columns.psf`
 * at a time without loading the file.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, SourceError } from '../../errors.js';
import { checkBounds, type ByteRange } from '../pinot/bytes.js';
import type { SegmentFiles } from '../pinot/types.js';

export interface LocalSegmentFiles extends SegmentFiles {
  /** Closes every open descriptor. Ranges opened before then fail on read; `open` fails too. */
  close(): void;
}

interface OpenFile {
  fd: number;
  length: number;
  /** Where the last `read` ended: a small read starting there is taken as sequential (see READ_AHEAD_BYTES). */
  lastEnd: number;
  /** Bytes [aheadStart, aheadStart + ahead.length) of the file, read ahead; empty until a sequential read. */
  ahead: Buffer;
  aheadStart: number;
  aheadBuffer?: Buffer;
}

export function openLocalSegmentFiles(dir: string): LocalSegmentFiles {
  const names = fsCall(dir, undefined, () => listFiles(dir));
  const known = new Set(names);
  const open = new Map<string, OpenFile>();
  let closed = false;
  // One buffer for every transient read of this segment: decoding is synchronous, so a window is consumed
  // before the next transient read, whichever file or column it is for.
  const scratch: Scratch = { bytes: Buffer.alloc(0) };

  const openFile = (name: string): OpenFile => {
    if (closed) throw closedError(dir, name);
    let file = open.get(name);
    if (file === undefined) {
      if (!known.has(name)) {
        throw new SourceError(ErrorCodes.SOURCE_NOT_FOUND, `segment has no file ${JSON.stringify(name)}`, { context: { uri: dir, file: name } });
      }
      const fd = fsCall(dir, name, () => openSync(join(dir, name), 'r'));
      file = { fd, length: fstatSync(fd).size, lastEnd: -1, ahead: Buffer.alloc(0), aheadStart: 0 };
      open.set(name, file);
    }
    return file;
  };

  return {
    list: () => [...names],
    has: (name) => known.has(name),
    open(name) {
      const file = openFile(name);
      return fileRange(file, name, () => closed, dir, scratch);
    },
    close() {
      closed = true;
      for (const file of open.values()) closeSync(file.fd);
      open.clear();
    },
  };
}

/**
 * Small reads that continue the previous one (a raw forward index's compressed chunks, ~14 KB each in the
 * bench's events segment: 23,755 reads per 10.6M-row conversion) are served from a block this big, read once:
 * a syscall per chunk cost ~7 µs, more than copying the chunk out of the block.
 */
const READ_AHEAD_BYTES = 1 << 20;
/** Reads above this size go straight to the file. */
const READ_AHEAD_MAX_READ = 64 << 10;

/** Transient reads larger than this get a buffer of their own rather than growing the shared one. */
const SCRATCH_MAX_BYTES = 16 << 20;

interface Scratch {
  bytes: Buffer;
}

function fileRange(file: OpenFile, name: string, isClosed: () => boolean, dir: string, scratch: Scratch): ByteRange {
  const fill = (out: Buffer, start: number): Buffer => {
    // After close() the descriptor number may belong to another file; never read through it.
    if (isClosed()) throw closedError(dir, name);
    let done = 0;
    while (done < out.length) {
      const n = readSync(file.fd, out, done, out.length - done, start + done);
      if (n === 0) {
        throw new SourceError(ErrorCodes.SOURCE_FETCH_FAILED, `file ended at ${start + done} bytes, ${file.length} expected (changed on disk?)`, {
          context: { uri: dir, file: name, offset: start + done },
        });
      }
      done += n;
    }
    return out;
  };
  return {
    length: file.length,
    read(start, end) {
      checkBounds(file, start, end, { file: name });
      const n = end - start;
      const sequential = start === file.lastEnd;
      file.lastEnd = end;
      if (n <= READ_AHEAD_MAX_READ) {
        let at = start - file.aheadStart;
        if (at < 0 || at + n > file.ahead.length) {
          if (!sequential || file.length - start <= n) return fill(Buffer.allocUnsafe(n), start);
          // One block buffer per file, refilled: callers get copies, so nothing still points into it (a fresh
          // 1 MiB block per refill left ~20 MB more peak RSS in garbage at 10.6M rows).
          if (file.aheadBuffer === undefined) file.aheadBuffer = Buffer.allocUnsafeSlow(READ_AHEAD_BYTES);
          file.ahead = fill(file.aheadBuffer.subarray(0, Math.min(READ_AHEAD_BYTES, file.length - start)), start);
          file.aheadStart = start;
          at = 0;
        } else if (isClosed()) {
          throw closedError(dir, name);
        }
        // A copy: the block is refilled by the next sequential miss, and callers keep headers and tables.
        return Buffer.from(file.ahead.subarray(at, at + n));
      }
      return fill(Buffer.allocUnsafe(n), start);
    },
    readTransient(start, end) {
      checkBounds(file, start, end, { file: name });
      const n = end - start;
      if (n > SCRATCH_MAX_BYTES) return fill(Buffer.allocUnsafe(n), start);
      // Grown geometrically so windows of varying sizes settle on one buffer after a few reads.
      if (scratch.bytes.length < n) scratch.bytes = Buffer.allocUnsafeSlow(Math.max(n, Math.min(SCRATCH_MAX_BYTES, 2 * scratch.bytes.length), 64 << 10));
      return fill(scratch.bytes.subarray(0, n), start);
    },
  };
}

/**
 * Every regular file under `dir`, as sorted relative paths with `/`. A symlink to a file counts (a segment
 * directory on local disk may be assembled that way); symlinked directories are not followed (no loops).
 */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() || (entry.isSymbolicLink() && statSync(join(dir, path), { throwIfNoEntry: false })?.isFile())) out.push(path);
    }
  };
  walk('');
  return out.sort();
}

/** Runs a file-system call, turning a missing path into SOURCE_NOT_FOUND and other failures into SourceErrors. */
function fsCall<T>(dir: string, file: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const missing = code === 'ENOENT' || code === 'ENOTDIR';
    throw new SourceError(missing ? ErrorCodes.SOURCE_NOT_FOUND : ErrorCodes.SOURCE_FETCH_FAILED, (err as Error).message, {
      context: { uri: dir, file },
      cause: err,
    });
  }
}

function closedError(dir: string, name: string): SourceError {
  return new SourceError(ErrorCodes.SOURCE_FETCH_FAILED, 'segment files are closed', { context: { uri: dir, file: name } });
}
