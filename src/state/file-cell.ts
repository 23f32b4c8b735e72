/**
 * A compare-and-set cell on a local file system: a directory of immutable record files `<n>.json`, where n
 * is the record's version and the highest n is the current value.
 *
 * Write of version n+1 (only when the caller read version n):
 *   temp file (same directory) → write → fsync → link(temp, `<n+1>.json`) → unlink temp → fsync directory.
 * `link(2)` fails with EEXIST when the target exists, so of two writers (threads or processes) that read
 * the same version exactly one wins: the exclusive link is the lock, and there is no lock file that could go
 * stale when its holder is killed with -9. A crash at any point leaves either the old version current or the
 * new one complete and durable (the file is fsynced before it gets its name); orphaned temp files are swept.
 *
 * Each file starts with a header line `{"version":n,"token":…,"parent":…}` naming the token of the version
 * it replaced. The last `KEEP_VERSIONS` versions are kept; a writer whose read is so old that its target
 * number was already pruned (≥ KEEP_VERSIONS writes during its own write) is caught after its link by the
 * parent token of the next version, and withdraws.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StateConflictError, StateError, StateErrorCodes } from './errors.js';

const VERSION_FILE = /^(0|[1-9]\d*)\.json$/;
const TEMP_PREFIX = '.tmp-';
const STALE_TEMP_MS = 60_000;
export const KEEP_VERSIONS = 8;

export interface CellValue {
  version: number;
  bytes: Buffer;
}

interface Header {
  version: number;
  token: string;
  parent: string | null;
}

export class FileCell {
  constructor(readonly dir: string) {}

  /** The current value, or undefined when the cell has never been written. */
  async read(): Promise<CellValue | undefined> {
    for (let attempt = 0; ; attempt++) {
      const version = (await this.versions()).at(-1);
      if (version === undefined) return undefined;
      try {
        const { bytes } = parseFile(await readFile(this.file(version)), this.file(version));
        return { version, bytes };
      } catch (err) {
        // Pruned between the listing and the read: a newer version exists, list again.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw ioError(err, this.file(version), 'read');
      }
    }
  }

  /**
   * Writes `bytes` as the version after `expected` (undefined: version 0 of a new cell) and returns the new
   * version. Throws StateConflictError when `expected` is not the current version.
   */
  async write(bytes: Uint8Array, expected: number | undefined): Promise<number> {
    const next = expected === undefined ? 0 : expected + 1;
    const current = (await this.versions()).at(-1);
    if (current !== expected) throw conflict(this.dir, expected, current);
    const parent = expected === undefined ? null : await this.tokenOf(expected);
    await mkdir(this.dir, { recursive: true }).catch((err: unknown) => { throw ioError(err, this.dir, 'create'); });
    const header: Header = { version: next, token: randomBytes(9).toString('base64url'), parent };
    const temp = join(this.dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    const target = this.file(next);
    try {
      await writeDurably(temp, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), bytes]));
      try {
        await link(temp, target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw conflict(this.dir, expected, undefined);
        throw ioError(err, target, 'link');
      }
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    await fsyncDir(this.dir);
    const after = await this.versions();
    if (after.at(-1)! > next) await this.checkLineage(header, after);
    await this.prune(after);
    return next;
  }

  /** The token of an existing version (a conflict when it is gone: a newer version replaced it). */
  private async tokenOf(version: number): Promise<string> {
    const path = this.file(version);
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw conflict(this.dir, version, undefined);
      throw ioError(err, path, 'read');
    }
    return parseFile(buf, path).header.token;
  }

  /** Versions above ours exist: fine if the next one was built on ours, a lost race otherwise. */
  private async checkLineage(ours: Header, versions: number[]): Promise<void> {
    const successor = ours.version + 1;
    if (!versions.includes(successor)) {
      throw new StateError(StateErrorCodes.STATE_UNAVAILABLE, `outcome unknown: more than ${KEEP_VERSIONS} writes raced this one; re-read`, {
        context: { file: this.dir },
      });
    }
    const path = this.file(successor);
    const { header } = parseFile(await readFile(path).catch((err: unknown) => { throw ioError(err, path, 'read'); }), path);
    if (header.parent !== ours.token) {
      // Our number had been pruned and re-created by us: nobody ever saw it as current. Withdraw it.
      await unlink(this.file(ours.version)).catch(() => undefined);
      throw conflict(this.dir, ours.version - 1, versions.at(-1));
    }
  }

  private async prune(versions: number[]): Promise<void> {
    for (const v of versions.slice(0, Math.max(0, versions.length - KEEP_VERSIONS))) await unlink(this.file(v)).catch(() => undefined);
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const now = Date.now();
    for (const name of names) {
      if (!name.startsWith(TEMP_PREFIX)) continue;
      const path = join(this.dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info !== undefined && now - info.mtimeMs > STALE_TEMP_MS) await unlink(path).catch(() => undefined);
    }
  }

  private async versions(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw ioError(err, this.dir, 'list');
    }
    const out: number[] = [];
    for (const name of names) {
      const m = VERSION_FILE.exec(name);
      if (m !== null) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  private file(version: number): string {
    return join(this.dir, `${version}.json`);
  }
}

function parseFile(buf: Buffer, path: string): { header: Header; bytes: Buffer } {
  const nl = buf.indexOf(0x0a);
  try {
    if (nl < 0) throw new Error('no header line');
    const header = JSON.parse(buf.subarray(0, nl).toString('utf8')) as Header;
    if (typeof header.token !== 'string' || typeof header.version !== 'number') throw new Error('bad header');
    return { header, bytes: buf.subarray(nl + 1) };
  } catch (err) {
    throw new StateError(StateErrorCodes.STATE_CORRUPT, `not a state cell file: ${(err as Error).message}`, { context: { file: path }, cause: err });
  }
}

async function writeDurably(path: string, bytes: Uint8Array): Promise<void> {
  const fh = await open(path, 'wx', 0o644).catch((err: unknown) => { throw ioError(err, path, 'create'); });
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (err) {
    throw ioError(err, path, 'write');
  } finally {
    await fh.close();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch((err: unknown) => { throw ioError(err, dir, 'open'); });
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function conflict(dir: string, expected: number | undefined, actual: number | undefined): StateConflictError {
  const want = expected === undefined ? 'no record' : `version ${expected}`;
  const got = actual === undefined ? 'a concurrent write' : `version ${actual}`;
  return new StateConflictError(`compare-and-set lost: expected ${want}, found ${got}`, { context: { file: dir }, actualVersion: actual });
}

function ioError(err: unknown, path: string, op: string): StateError {
  if (err instanceof StateError) return err;
  return new StateError(StateErrorCodes.STATE_UNAVAILABLE, `cannot ${op} ${path}: ${(err as Error).message}`, {
    context: { file: path }, cause: err,
  });
}
