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
}

export function openLocalSegmentFiles(dir: string): LocalSegmentFiles {
  const names = fsCall(dir, undefined, () => listFiles(dir));
  const known = new Set(names);
  const open = new Map<string, OpenFile>();
  let closed = false;

  const openFile = (name: string): OpenFile => {
    if (closed) throw closedError(dir, name);
    let file = open.get(name);
    if (file === undefined) {
      if (!known.has(name)) {
        throw new SourceError(ErrorCodes.SOURCE_NOT_FOUND, `segment has no file ${JSON.stringify(name)}`, { context: { uri: dir, file: name } });
      }
      const fd = fsCall(dir, name, () => openSync(join(dir, name), 'r'));
      file = { fd, length: fstatSync(fd).size };
      open.set(name, file);
    }
    return file;
  };

  return {
    list: () => [...names],
    has: (name) => known.has(name),
    open(name) {
      const file = openFile(name);
      return fileRange(file, name, () => closed, dir);
    },
    close() {
      closed = true;
      for (const file of open.values()) closeSync(file.fd);
      open.clear();
    },
  };
}

function fileRange(file: OpenFile, name: string, isClosed: () => boolean, dir: string): ByteRange {
  return {
    length: file.length,
    read(start, end) {
      checkBounds(file, start, end, { file: name });
      // After close() the descriptor number may belong to another file; never read through it.
      if (isClosed()) throw closedError(dir, name);
      const out = Buffer.allocUnsafe(end - start);
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
