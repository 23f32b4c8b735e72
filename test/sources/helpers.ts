/** Builders and checks shared by the deep-store tests: tarballs made in memory, trees compared byte for byte. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { CompressStream } from 'zstd-napi';
import { expect } from 'vitest';
import { ExporterError, type ErrorCode } from '../../src/errors.js';

export interface TarEntry {
  name: string;
  data?: string | Uint8Array;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
  pax?: Record<string, string>;
}

export async function packTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const out = collect(pack as AsyncIterable<Uint8Array>);
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const header = { name: e.name, type: e.type ?? 'file', linkname: e.linkname, pax: e.pax, size: data.length, mode: 0o644, mtime: new Date(0) };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (header.type === 'file') pack.entry(header, data, done);
      else pack.entry(header, done);
    });
  }
  pack.finalize();
  return out;
}

/** The 512-byte header of an old-GNU tar record (magic `ustar  \0`), for record types tar-stream cannot write. */
export function gnuHeader(name: string, size: number, typeflag: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write(typeflag, 156);
  h.write('ustar  \0', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

/** Data padded to a whole number of 512-byte blocks. */
export function blocks(data: Uint8Array): Buffer {
  const out = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  out.set(data);
  return out;
}

/** Streaming zstd, so the frame has no content size (as Commons Compress writes it). */
export async function zstdStream(data: Uint8Array, opts: { checksum?: boolean } = {}): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from([data]), new CompressStream({ checksumFlag: opts.checksum ?? false }), async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) out.push(c);
  });
  return Buffer.concat(out);
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts);
}

/** Regular files under `dir` as relative path → bytes. */
export function readTree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path);
      else out.set(path, readFileSync(join(dir, path)));
    }
  };
  walk('');
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

export function hasCli(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Reference extraction by the system `tar`, for byte comparisons. */
export function cliExtract(archive: string): string {
  const dir = scratchDir('cli-');
  const r = spawnSync('tar', ['-xf', archive, '-C', dir]);
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr.toString()}`);
  return dir;
}

export function scratchDir(prefix = 'scratch-'): string {
  return mkdtempSync(join(tmpdir(), `ppe-test-${prefix}`));
}

export function isEmptyDir(dir: string): boolean {
  return statSync(dir).isDirectory() && readdirSync(dir).length === 0;
}

/** Awaits a rejection and checks it is an ExporterError with `code`. */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<ExporterError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err, 'expected a rejection').toBeInstanceOf(ExporterError);
  expect((err as ExporterError).code, (err as Error).message).toBe(code);
  return err as ExporterError;
}
