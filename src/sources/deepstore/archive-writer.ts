/**
 * Packs a segment directory into a compressed tarball the way Pinot's `TarCompressionUtils
 * .createCompressedTarFile` does (Apache Commons Compress 1.28 `TarArchiveOutputStream`, §1.2):
 *
 * - entries: `<name>/`, then the directory's children recursively in file-system order (Java's
 *   `File.listFiles`), directories as `<path>/` entries before their children;
 * - headers: ustar magic, mode `040755` / `0100644` whatever the file's permissions, uid/gid and
 *   owner/group names of the file, mtime; star big-number mode (atime and ctime in the star fields,
 *   binary numbers when octal does not fit); GNU `././@LongLink` records for names of 100+ bytes;
 * - end: two zero records, no padding to a larger block;
 * - compression: gzip (header `1F 8B 08 00 00 00 00 00 00 FF`), zstd (one frame without content size nor
 *   checksum) or LZ4 frame (FLG `64`, BD `70`: independent 4 MiB blocks, content checksum).
 *
 * Everything streams with backpressure: file contents are read a chunk at a time and the archive is never
 * held in memory (the LZ4 encoder holds one 4 MiB block).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, opendir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { compressSync } from 'lz4-napi';
import { CompressStream } from 'zstd-napi';
import { ConfigError, ErrorCodes, SourceError } from '../../errors.js';
import { XXHash32, xxhash32 } from './xxhash32.js';

export type PackCompression = 'gzip' | 'zstd' | 'lz4';

export interface PackOptions {
  /** Default gzip, what Pinot servers write. */
  compression?: PackCompression;
  /** Name of the top directory in the archive; default the segment directory's own name. */
  name?: string;
  /**
   * `filesystem` (default): children in the order the OS lists them, as Java's `File.listFiles` does.
   * `sorted`: by name (byte order of UTF-16 code units), for reproducible archives.
   */
  order?: 'filesystem' | 'sorted';
  signal?: AbortSignal;
}

export interface PackResult {
  compression: PackCompression;
  /** Entry names in archive order (directories end with `/`). */
  entries: string[];
  /** Bytes of the uncompressed tar stream. */
  tarBytes: number;
  /** Bytes written to `out`. */
  archiveBytes: number;
}

export const RECORD_SIZE = 512;

/** Commons Compress `TarArchiveEntry.DEFAULT_DIR_MODE` / `DEFAULT_FILE_MODE`. */
export const DIR_MODE = 0o40755;
export const FILE_MODE = 0o100644;

/** The header fields Commons Compress writes (star mode). Times are whole seconds since the epoch. */
export interface TarHeaderFields {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: bigint;
  mtime: bigint;
  /** `0` file, `5` directory, `L` GNU long name. */
  typeflag: '0' | '5' | 'L';
  uname: string;
  gname: string;
  /** Star atime/ctime fields; undefined → zero-filled (as for the long-name record). */
  atime?: bigint;
  ctime?: bigint;
  /** `ustar\0` + `00` (POSIX) or `ustar ` + ` \0` (GNU, the long-name record). */
  magic?: 'posix' | 'gnu';
}

const MAXID = 0o7777777n;
const MAXSIZE = 0o77777777777n;
const LONG_LINK = '././@LongLink';
const NAME_LENGTH = 100;
const encoder = new TextEncoder();

/** `TarUtils.formatNameBytes`: UTF-8, cut (by chars) to fit, NUL-padded. */
function putName(buf: Uint8Array, offset: number, length: number, text: string): void {
  let chars = [...text];
  let bytes = encoder.encode(text);
  while (bytes.length > length && chars.length > 0) {
    chars = chars.slice(0, -1);
    bytes = encoder.encode(chars.join(''));
  }
  buf.set(bytes, offset);
}

function putAscii(buf: Uint8Array, offset: number, text: string): void {
  for (let i = 0; i < text.length; i++) buf[offset + i] = text.charCodeAt(i);
}

/**
 * `TarArchiveEntry.writeEntryHeaderField` in star mode (`TarUtils.formatLongOctalOrBinaryBytes`): octal
 * digits then a space when the value fits, else base-256 with a 0x80 (0xFF when negative) lead byte.
 */
function putNumber(buf: Uint8Array, offset: number, length: number, value: bigint): void {
  const maxOctal = length === 8 ? MAXID : MAXSIZE;
  if (value >= 0n && value <= maxOctal) {
    putAscii(buf, offset, value.toString(8).padStart(length - 1, '0') + ' ');
    return;
  }
  const bits = BigInt((length - 1) * 8);
  if (value >= 1n << bits || value < -(1n << bits)) throw new RangeError(`value ${value} is too large for a ${length}-byte tar field`);
  let v = BigInt.asUintN(Number(bits), value);
  for (let i = offset + length - 1; i > offset; i--) {
    buf[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  buf[offset] = value < 0n ? 0xff : 0x80;
}

/** One 512-byte header exactly as `TarArchiveEntry.writeEntryHeader(…, starMode = true)` writes it. */
export function encodeTarHeader(h: TarHeaderFields): Uint8Array {
  const buf = new Uint8Array(RECORD_SIZE);
  putName(buf, 0, NAME_LENGTH, h.name);
  putNumber(buf, 100, 8, BigInt(h.mode));
  putNumber(buf, 108, 8, BigInt(h.uid));
  putNumber(buf, 116, 8, BigInt(h.gid));
  putNumber(buf, 124, 12, h.size);
  putNumber(buf, 136, 12, h.mtime);
  buf.fill(0x20, 148, 156);
  buf[156] = h.typeflag.charCodeAt(0);
  // 157: link name, empty.
  putAscii(buf, 257, h.magic === 'gnu' ? 'ustar  \0' : 'ustar\x0000');
  putName(buf, 265, 32, h.uname);
  putName(buf, 297, 32, h.gname);
  putNumber(buf, 329, 8, 0n);
  putNumber(buf, 337, 8, 0n);
  // 345: star prefix (131 bytes, empty), then atime and ctime.
  if (h.atime !== undefined) putNumber(buf, 476, 12, h.atime);
  if (h.ctime !== undefined) putNumber(buf, 488, 12, h.ctime);
  let sum = 0;
  for (const b of buf) sum += b;
  putAscii(buf, 148, sum.toString(8).padStart(6, '0') + '\0 ');
  return buf;
}

/** Zero bytes that pad `size` up to a whole record. */
function padding(size: bigint): Uint8Array {
  const rest = Number(size % BigInt(RECORD_SIZE));
  return new Uint8Array(rest === 0 ? 0 : RECORD_SIZE - rest);
}

/** Owner and group names (Java `PosixFileAttributes.owner().getName()`; the number when unknown). */
class PrincipalNames {
  private users: Map<number, string> | undefined;
  private groups: Map<number, string> | undefined;

  async user(uid: number): Promise<string> {
    this.users ??= await readIdFile('/etc/passwd');
    return this.users.get(uid) ?? String(uid);
  }

  async group(gid: number): Promise<string> {
    this.groups ??= await readIdFile('/etc/group');
    return this.groups.get(gid) ?? String(gid);
  }
}

/** `name:x:id:…` lines; an unreadable file gives no names. */
async function readIdFile(path: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const text = await readFile(path, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id !== undefined && /^\d+$/.test(id) && !out.has(Number(id))) out.set(Number(id), name);
  }
  return out;
}

const SECOND_NS = 1_000_000_000n;

/** Floor of ns / 1e9 (Java `FileTime.to(SECONDS)`). */
function seconds(ns: bigint): bigint {
  const q = ns / SECOND_NS;
  return ns < 0n && q * SECOND_NS !== ns ? q - 1n : q;
}

interface WalkEntry {
  path: string;
  entryName: string;
  directory: boolean;
}

/** Children of a directory in the requested order. */
async function children(dir: string, order: 'filesystem' | 'sorted'): Promise<string[]> {
  if (order === 'sorted') return (await readdir(dir)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // Node's readdir sorts (libuv scandir); opendir hands entries over in the OS's own order.
  const names: string[] = [];
  for await (const entry of await opendir(dir)) names.push(entry.name);
  return names;
}

/** `addFileToCompressedTar`: the entry, then (for a directory) each child. */
async function* walk(path: string, entryName: string, order: 'filesystem' | 'sorted'): AsyncGenerator<WalkEntry> {
  const info = await stat(path);
  if (!info.isDirectory()) {
    yield { path, entryName, directory: false };
    return;
  }
  yield { path, entryName: `${entryName}/`, directory: true };
  for (const child of await children(path, order)) yield* walk(join(path, child), `${entryName}/${child}`, order);
}

const READ_CHUNK = 1 << 20;

/**
 * The uncompressed tar stream of `segmentDir`, entries named `<name>/…`. Records each entry name in
 * `entries` as it goes; `counter.bytes` counts the tar bytes produced.
 */
export async function* segmentTar(
  segmentDir: string,
  name: string,
  order: 'filesystem' | 'sorted',
  entries: string[] = [],
  counter: { bytes: number } = { bytes: 0 },
): AsyncGenerator<Uint8Array> {
  const principals = new PrincipalNames();
  const emit = (chunk: Uint8Array): Uint8Array => {
    counter.bytes += chunk.length;
    return chunk;
  };
  const zeros = (size: bigint): Uint8Array[] => {
    const pad = padding(size);
    return pad.length === 0 ? [] : [emit(pad)];
  };
  for await (const entry of walk(segmentDir, name, order)) {
    const info = await stat(entry.path, { bigint: true });
    const mtime = seconds(info.mtimeNs);
    const uid = Number(info.uid);
    const gid = Number(info.gid);
    const size = entry.directory ? 0n : info.size;
    const nameBytes = encoder.encode(entry.entryName);
    if (nameBytes.length >= NAME_LENGTH) {
      // LONGFILE_GNU: a `././@LongLink` record holding the name and a NUL, mtime copied when it fits.
      const linkSize = BigInt(nameBytes.length + 1);
      yield emit(encodeTarHeader({
        name: LONG_LINK, mode: FILE_MODE, uid: 0, gid: 0, size: linkSize,
        mtime: mtime < 0n || mtime > MAXSIZE ? 0n : mtime, typeflag: 'L', uname: '', gname: '', magic: 'gnu',
      }));
      const data = new Uint8Array(nameBytes.length + 1);
      data.set(nameBytes);
      yield emit(data);
      yield* zeros(linkSize);
    }
    yield emit(encodeTarHeader({
      name: entry.entryName,
      mode: entry.directory ? DIR_MODE : FILE_MODE,
      uid,
      gid,
      size,
      mtime,
      typeflag: entry.directory ? '5' : '0',
      uname: await principals.user(uid),
      gname: await principals.group(gid),
      atime: seconds(info.atimeNs),
      ctime: seconds(info.ctimeNs),
    }));
    entries.push(entry.entryName);
    if (!entry.directory) {
      yield* fileContent(entry.path, size, emit);
      yield* zeros(size);
    }
  }
  yield emit(new Uint8Array(2 * RECORD_SIZE));
}

/** Exactly `size` bytes of the file, a chunk at a time; fails if the file changed length meanwhile. */
async function* fileContent(path: string, size: bigint, emit: (c: Uint8Array) => Uint8Array): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    let done = 0n;
    while (done < size) {
      const want = Number(size - done < BigInt(READ_CHUNK) ? size - done : BigInt(READ_CHUNK));
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(buf, 0, want, Number(done));
      if (bytesRead === 0) {
        throw new SourceError(ErrorCodes.SOURCE_FETCH_FAILED, `file shrank while being archived (${done} of ${size} bytes)`, { context: { file: path } });
      }
      done += BigInt(bytesRead);
      yield emit(bytesRead === want ? buf : buf.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// Compressors
// ---------------------------------------------------------------------------------------------------

/** Gzip as Commons Compress writes it by default: Node's deflate, with OS = 255 (unknown) in the header. */
function gzipStage(): Transform[] {
  let seen = 0;
  const fixOs = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      // Byte 9 of the gzip header is the OS; zlib writes 3 (Unix), Commons Compress 255.
      if (seen <= 9 && seen + chunk.length > 9) {
        chunk = Buffer.from(chunk);
        chunk[9 - seen] = 0xff;
      }
      seen += chunk.length;
      done(null, chunk);
    },
  });
  return [createGzip(), fixOs];
}

/** LZ4 frame `FLG 0x64` (version 1, independent blocks, content checksum), `BD 0x70` (4 MiB blocks). */
export const LZ4_BLOCK_SIZE = 4 * 1024 * 1024;
const LZ4_MAGIC = Uint8Array.of(0x04, 0x22, 0x4d, 0x18);
const LZ4_FLG = 0x64;
const LZ4_BD = 0x70;
const LZ4_STORED = 0x80000000;

/**
 * Streaming LZ4 frame writer, block for block like Commons Compress `FramedLZ4CompressorOutputStream`:
 * each full 4 MiB of input becomes one block, compressed with lz4-napi's raw block compressor, or stored
 * (high bit of the size word) when compressing would make it larger; then the end mark and the xxHash32
 * of the content.
 */
export class Lz4FrameEncoder extends Transform {
  private readonly block = Buffer.allocUnsafe(LZ4_BLOCK_SIZE);
  private filled = 0;
  private readonly hash = new XXHash32();
  private started = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.start();
      this.hash.update(chunk);
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(chunk.length - offset, LZ4_BLOCK_SIZE - this.filled);
        chunk.copy(this.block, this.filled, offset, offset + n);
        this.filled += n;
        offset += n;
        if (this.filled === LZ4_BLOCK_SIZE) this.flushBlock();
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.start();
      this.flushBlock();
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(this.hash.digest(), 4);
      this.push(trailer);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    const descriptor = Uint8Array.of(LZ4_FLG, LZ4_BD);
    this.push(Buffer.concat([LZ4_MAGIC, descriptor, Uint8Array.of((xxhash32(descriptor) >>> 8) & 0xff)]));
  }

  private flushBlock(): void {
    if (this.filled === 0) return;
    const data = this.block.subarray(0, this.filled);
    // lz4-napi prefixes the raw block with the u32 LE uncompressed size.
    const compressed = compressSync(data).subarray(4);
    const size = Buffer.allocUnsafe(4);
    if (compressed.length > this.filled) {
      size.writeUInt32LE((this.filled | LZ4_STORED) >>> 0);
      this.push(Buffer.concat([size, data]));
    } else {
      size.writeUInt32LE(compressed.length);
      this.push(Buffer.concat([size, compressed]));
    }
    this.filled = 0;
  }
}

function compressorStages(compression: PackCompression): Transform[] {
  switch (compression) {
    case 'gzip': return gzipStage();
    case 'zstd': return [new CompressStream()];
    case 'lz4': return [new Lz4FrameEncoder()];
  }
}

/** Counts bytes passing through. */
function counting(counter: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      counter.bytes += chunk.length;
      done(null, chunk);
    },
  });
}

/**
 * Writes the tarball of `segmentDir` to `out`: a Writable (ended when the archive is complete) or the path
 * of a new file (never overwritten; removed again if packing fails). `segmentDir` is the directory named
 * in the archive: for a v3 segment it holds `v3/`, for v1 the index files.
 */
export async function packSegmentArchive(segmentDir: string, out: Writable | string, options: PackOptions = {}): Promise<PackResult> {
  const compression = options.compression ?? 'gzip';
  if (!['gzip', 'zstd', 'lz4'].includes(compression)) {
    throw new ConfigError(ErrorCodes.USAGE, `unknown archive compression ${JSON.stringify(compression)} (gzip, zstd or lz4)`);
  }
  const name = options.name ?? basename(segmentDir);
  if (name === '' || name.includes('/') || name === '.' || name === '..') {
    throw new ConfigError(ErrorCodes.USAGE, `archive top directory name ${JSON.stringify(name)} is not a single path segment`);
  }
  const entries: string[] = [];
  const tarCounter = { bytes: 0 };
  const outCounter = { bytes: 0 };
  const info = await stat(segmentDir).catch((err: NodeJS.ErrnoException) => {
    throw new SourceError(ErrorCodes.SOURCE_NOT_FOUND, `cannot read segment directory: ${err.message}`, { context: { uri: segmentDir }, cause: err });
  });
  if (!info.isDirectory()) throw new ConfigError(ErrorCodes.USAGE, 'segment path is not a directory', { context: { uri: segmentDir } });
  options.signal?.throwIfAborted();
  const sink = typeof out === 'string' ? createWriteStream(out, { flags: 'wx' }) : out;
  const source = Readable.from(segmentTar(segmentDir, name, options.order ?? 'filesystem', entries, tarCounter), { objectMode: false });
  try {
    await pipeline([source, ...compressorStages(compression), counting(outCounter), sink], { signal: options.signal });
  } catch (err) {
    if (typeof out === 'string' && (err as NodeJS.ErrnoException).code !== 'EEXIST') {
      // The file stream opens asynchronously: removing the file before it has opened (and closed) would race.
      if (!(sink as WriteStream).closed) await new Promise<void>((resolve) => sink.once('close', () => resolve()));
      await rm(out, { force: true });
    }
    if (options.signal?.aborted) throw options.signal.reason;
    if (err instanceof SourceError || err instanceof ConfigError) throw err;
    throw new SourceError(ErrorCodes.SOURCE_FETCH_FAILED, `writing the segment archive failed: ${(err as Error).message}`, {
      context: { uri: typeof out === 'string' ? out : segmentDir }, cause: err,
    });
  }
  return { compression, entries, tarBytes: tarCounter.bytes, archiveBytes: outCounter.bytes };
}
