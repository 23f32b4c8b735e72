/**
 * packSegmentArchive against Pinot's own tarballs: header bytes as Commons Compress writes them, the frame
 * headers §1.2 quotes for gzip/zstd/lz4, the same `tar -tv` listing, and round trips through the repo's
 * extractor and reader (and the system tar / zstd / lz4 tools when present).
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, readFileSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { decompressFrameSync } from 'lz4-napi';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { extractSegmentArchive } from '../../src/sources/deepstore/archive.js';
import {
  DIR_MODE, FILE_MODE, LZ4_BLOCK_SIZE, Lz4FrameEncoder, encodeTarHeader, packSegmentArchive, segmentTar, type PackCompression,
} from '../../src/sources/deepstore/archive-writer.js';
import { Lz4FrameDecoder } from '../../src/sources/deepstore/lz4-frame.js';
import { describeFixtures } from '../support/fixtures.js';
import { rng } from '../support/random.js';
import { readRows } from '../support/rows.js';
import { ExtractedFixtures, GENERATED_151 } from '../write/segment-files-helpers.js';
import { hasCli, readTree, rejectsWith, scratchDir } from './helpers.js';

const scratch: string[] = [];
afterEach(() => {
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(prefix: string): string {
  const d = scratchDir(prefix);
  scratch.push(d);
  return d;
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts);
}

async function decode(stream: NodeJS.ReadWriteStream, bytes: Uint8Array): Promise<Buffer> {
  return collect(Readable.from([bytes]).pipe(stream) as unknown as AsyncIterable<Uint8Array>);
}

/** A tar record as an independent reader sees it. */
interface Record512 {
  header: Buffer;
  name: string;
  data: Buffer;
}

function octal(field: Buffer): bigint {
  if ((field[0]! & 0x80) !== 0) {
    let v = 0n;
    for (const b of field.subarray(1)) v = (v << 8n) | BigInt(b);
    return field[0] === 0xff ? v - (1n << BigInt((field.length - 1) * 8)) : v;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').trim();
  return text === '' ? 0n : BigInt(`0o${text}`);
}

function cstring(field: Buffer): string {
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}

/** Entries of an uncompressed tar; GNU long names folded into the following entry. */
function parseTar(tar: Buffer): { entries: Record512[]; end: number } {
  const entries: Record512[] = [];
  let pos = 0;
  let longName: string | undefined;
  while (pos + 512 <= tar.length) {
    const header = tar.subarray(pos, pos + 512);
    if (header.every((b) => b === 0)) break;
    const size = Number(octal(header.subarray(124, 136)));
    const data = tar.subarray(pos + 512, pos + 512 + size);
    pos += 512 + Math.ceil(size / 512) * 512;
    if (header[156] === 0x4c) {
      longName = cstring(data);
      continue;
    }
    entries.push({ header, name: longName ?? cstring(header.subarray(0, 100)), data });
    longName = undefined;
  }
  return { entries, end: pos };
}

/** The header fields of a record, for encodeTarHeader. */
function fieldsOf(header: Buffer) {
  const atime = header.subarray(476, 488);
  const ctime = header.subarray(488, 500);
  return {
    name: cstring(header.subarray(0, 100)),
    mode: Number(octal(header.subarray(100, 108))),
    uid: Number(octal(header.subarray(108, 116))),
    gid: Number(octal(header.subarray(116, 124))),
    size: octal(header.subarray(124, 136)),
    mtime: octal(header.subarray(136, 148)),
    typeflag: String.fromCharCode(header[156]!) as '0' | '5' | 'L',
    uname: cstring(header.subarray(265, 297)),
    gname: cstring(header.subarray(297, 329)),
    magic: header.subarray(257, 263).toString('latin1') === 'ustar ' ? 'gnu' as const : 'posix' as const,
    ...(atime.every((b) => b === 0) ? {} : { atime: octal(atime) }),
    ...(ctime.every((b) => b === 0) ? {} : { ctime: octal(ctime) }),
  };
}

function tarList(archive: string, flags: string[] = []): string[] {
  const r = spawnSync('tar', [...flags, '-tvf', archive], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split('\n');
}

/** `perm owner size name` of a `tar -tv` line (date and time dropped). */
function listingKey(line: string): string {
  const [perm, owner, size, , , ...name] = line.split(/\s+/);
  return `${perm} ${owner} ${size} ${name.join(' ')}`;
}

const ENTRIES = ['sorted_bigdecimal/', 'sorted_bigdecimal/v3/', 'sorted_bigdecimal/v3/columns.psf', 'sorted_bigdecimal/v3/creation.meta',
  'sorted_bigdecimal/v3/index_map', 'sorted_bigdecimal/v3/metadata.properties'];

describeFixtures('packSegmentArchive against Pinot 1.5.1 tarballs', GENERATED_151, (dir) => {
  const fixtures = new ExtractedFixtures(dir);
  afterAll(() => fixtures.cleanup());

  it('Commons Compress headers are re-encoded byte for byte (gzip and lz4 fixtures)', async () => {
    const tars = [gunzipSync(readFileSync(join(dir, 'sorted_bigdecimal.tar.gz'))),
      await decode(new Lz4FrameDecoder(), readFileSync(join(dir, 'sorted_bigdecimal.tar.lz4')))];
    for (const name of ['events__0__13__20261126T0100Z', 'dictvar_mvraw']) tars.push(gunzipSync(readFileSync(join(dir, `${name}.tar.gz`))));
    let headers = 0;
    for (const tar of tars) {
      for (const entry of parseTar(tar).entries) {
        expect(Buffer.from(encodeTarHeader(fieldsOf(entry.header))).equals(entry.header), entry.name).toBe(true);
        headers++;
      }
    }
    expect(headers).toBe(24);
  });

  it('the uncompressed tar matches Pinot\'s entry for entry (times set to the fixture\'s, ctime aside)', async () => {
    const pinot = parseTar(gunzipSync(readFileSync(join(dir, 'sorted_bigdecimal.tar.gz'))));
    const segmentDir = await fixtures.dir('sorted_bigdecimal');
    for (const e of pinot.entries) {
      const f = fieldsOf(e.header);
      utimesSync(join(segmentDir, '..', e.name), Number(f.atime), Number(f.mtime));
    }
    const entries: string[] = [];
    const mine = parseTar(await collect(segmentTar(segmentDir, 'sorted_bigdecimal', 'sorted', entries)));
    expect([...entries].sort()).toEqual(ENTRIES);
    const byName = new Map(mine.entries.map((e) => [e.name, e]));
    expect(mine.end).toBe(pinot.end);
    for (const theirs of pinot.entries) {
      const ours = byName.get(theirs.name)!;
      expect(ours.data.equals(theirs.data), theirs.name).toBe(true);
      const fields = fieldsOf(ours.header);
      expect(fields.uid).toBe(process.getuid?.() ?? fields.uid);
      expect(fields.mode).toBe(theirs.name.endsWith('/') ? DIR_MODE : FILE_MODE);
      // Owner and ctime are this machine's; with Pinot's put back, every other byte is Pinot's.
      const { uid, gid, uname, gname, ctime } = fieldsOf(theirs.header);
      const reencoded = encodeTarHeader({ ...fields, uid, gid, uname, gname, ctime });
      expect(Buffer.from(reencoded).equals(theirs.header), theirs.name).toBe(true);
    }
  });

  for (const compression of ['gzip', 'zstd', 'lz4'] as const) {
    it(`${compression}: frame header as §1.2 quotes, extracts to the same files, reads the same rows`, async () => {
      const segmentDir = await fixtures.dir('sorted_bigdecimal');
      const out = join(tmp('pack-'), `seg.${compression}`);
      const result = await packSegmentArchive(segmentDir, out, { compression });
      const bytes = readFileSync(out);
      expect(result.archiveBytes).toBe(bytes.length);
      expect(result.tarBytes).toBe(67072);
      expect([...result.entries].sort()).toEqual(ENTRIES);
      expect(result.entries.slice(0, 2)).toEqual(['sorted_bigdecimal/', 'sorted_bigdecimal/v3/']);
      const head = [...bytes.subarray(0, 10)];
      if (compression === 'gzip') expect(head).toEqual([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);
      if (compression === 'zstd') expect(head.slice(0, 6)).toEqual([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]);
      if (compression === 'lz4') expect(head.slice(0, 7)).toEqual([0x04, 0x22, 0x4d, 0x18, 0x64, 0x70, 0xb9]);
      const extracted = tmp('x-');
      const got = await extractSegmentArchive(createReadStream(out), extracted);
      expect(got.compression).toBe(compression);
      const theirs = readTree(segmentDir);
      const mine = readTree(join(extracted, 'sorted_bigdecimal'));
      expect([...mine.keys()]).toEqual([...theirs.keys()]);
      for (const [path, data] of theirs) expect(mine.get(path)!.equals(data), path).toBe(true);
      expect(await readRows(out)).toStrictEqual(await readRows(join(dir, 'sorted_bigdecimal.tar.gz')));
    });
  }

  it('tar -tv lists what it lists for Pinot\'s tarball (dates aside)', async () => {
    const segmentDir = await fixtures.dir('events__0__12__20261126T0000Z');
    const out = join(tmp('pack-'), 'events.tar.gz');
    await packSegmentArchive(segmentDir, out, { name: 'events__0__12__20261126T0000Z' });
    const mine = tarList(out).map(listingKey);
    const theirs = tarList(join(dir, 'events__0__12__20261126T0000Z.tar.gz')).map(listingKey);
    const ownerOf = (line: string) => line.split(' ')[1];
    const id = (flag: string) => spawnSync('id', [flag], { encoding: 'utf8' }).stdout.trim();
    expect(mine.every((l) => ownerOf(l) === `${id('-un')}/${id('-gn')}`)).toBe(true);
    const withoutOwner = (l: string) => l.split(' ').filter((_, i) => i !== 1).join(' ');
    expect(mine.map(withoutOwner).sort()).toEqual(theirs.map(withoutOwner).sort());
    expect(mine.slice(0, 2)).toEqual(theirs.slice(0, 2).map((l) => l.replace(/root\/root/, `${id('-un')}/${id('-gn')}`)));
  });

  it.runIf(hasCli('zstd') && hasCli('lz4'))('the zstd and lz4 command-line tools decode our archives to the same tar', async () => {
    const segmentDir = await fixtures.dir('dictvar_mvraw');
    const d = tmp('cli-');
    const tars: Buffer[] = [];
    for (const [compression, cmd] of [['gzip', 'gzip'], ['zstd', 'zstd'], ['lz4', 'lz4']] as const) {
      const out = join(d, `a.${compression}`);
      await packSegmentArchive(segmentDir, out, { compression, order: 'sorted' });
      const r = spawnSync(cmd, ['-dc', out], { maxBuffer: 1 << 30 });
      expect(r.status, r.stderr?.toString()).toBe(0);
      tars.push(r.stdout);
    }
    expect(tars[1]!.equals(tars[0]!)).toBe(true);
    expect(tars[2]!.equals(tars[0]!)).toBe(true);
  });
});

describe('tar headers', () => {
  it('uses GNU ././@LongLink records for names of 100 bytes or more', async () => {
    const root = tmp('long-');
    const seg = join(root, 'seg');
    const long = `${'x'.repeat(92)}étail.psf`; // 'seg/v3/' + this = 109 bytes; byte 100 is inside 'é'
    mkdirSync(join(seg, 'v3'), { recursive: true });
    writeFileSync(join(seg, 'v3', long), 'data');
    writeFileSync(join(seg, 'v3', 'short'), '');
    const tar = await collect(segmentTar(seg, 'seg', 'sorted'));
    const parsed = parseTar(tar);
    expect(parsed.entries.map((e) => e.name)).toEqual(['seg/', 'seg/v3/', 'seg/v3/short', `seg/v3/${long}`]);
    const linkAt = tar.indexOf('././@LongLink');
    const link = fieldsOf(tar.subarray(linkAt, linkAt + 512));
    expect(link).toMatchObject({ typeflag: 'L', magic: 'gnu', mode: FILE_MODE, uid: 0, gid: 0, uname: '', gname: '', size: BigInt(Buffer.byteLength(`seg/v3/${long}`) + 1) });
    expect(link.atime).toBeUndefined();
    // The entry's own name field holds the first 100 bytes (cut on a character boundary).
    expect(parsed.entries[3]!.header.subarray(0, 100).toString('utf8').replace(/\0+$/, '')).toBe(`seg/v3/${'x'.repeat(92)}`);
    const extracted = tmp('x-');
    const archive = join(root, 'a.tar.gz');
    await packSegmentArchive(seg, archive);
    await extractSegmentArchive(createReadStream(archive), extracted);
    expect(readFileSync(join(extracted, 'seg', 'v3', long), 'utf8')).toBe('data');
    expect(tarList(archive).some((l) => l.endsWith(`seg/v3/${long}`))).toBe(true);
  });

  it('writes numbers that do not fit octal in star base-256', () => {
    const h = Buffer.from(encodeTarHeader({
      name: 'big', mode: FILE_MODE, uid: 0o10000000, gid: 5, size: 0o100000000000n, mtime: -1n, typeflag: '0', uname: 'u', gname: 'g',
    }));
    expect([...h.subarray(124, 136)]).toEqual([0x80, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0]);
    expect([...h.subarray(108, 116)]).toEqual([0x80, 0, 0, 0, 0, 0x20, 0, 0]);
    expect([...h.subarray(136, 148)]).toEqual(Array(12).fill(0xff));
    expect(h.subarray(116, 124).toString('latin1')).toBe('0000005 ');
    expect(fieldsOf(h)).toMatchObject({ uid: 0o10000000, size: 0o100000000000n, mtime: -1n });
    expect(() => encodeTarHeader({ name: 'x', mode: 0, uid: 0, gid: 0, size: 2n ** 95n, mtime: 0n, typeflag: '0', uname: '', gname: '' })).toThrow(RangeError);
  });

  it('computes the checksum over the header with spaces in the checksum field', () => {
    const h = Buffer.from(encodeTarHeader({ name: 'a', mode: DIR_MODE, uid: 1, gid: 2, size: 0n, mtime: 3n, typeflag: '5', uname: 'x', gname: 'y', atime: 4n, ctime: 5n }));
    const copy = Buffer.from(h);
    copy.fill(0x20, 148, 156);
    const sum = copy.reduce((n, b) => n + b, 0);
    expect(h.subarray(148, 156).toString('latin1')).toBe(`${sum.toString(8).padStart(6, '0')}\0 `);
    expect(h.subarray(100, 108).toString('latin1')).toBe('0040755 ');
    expect(h.subarray(257, 265).toString('latin1')).toBe('ustar\x0000');
  });
});

describe('Lz4FrameEncoder', () => {
  it('writes 4 MiB blocks, stored when incompressible, readable by both LZ4 decoders', async () => {
    const next = rng(5);
    const random = Buffer.alloc(LZ4_BLOCK_SIZE + 1000);
    for (let i = 0; i < random.length; i++) random[i] = Math.floor(next() * 256);
    const input = Buffer.concat([random, Buffer.alloc(LZ4_BLOCK_SIZE * 2, 7), Buffer.from('tail')]);
    const chunks = [];
    for (let i = 0; i < input.length; i += 300_001) chunks.push(input.subarray(i, i + 300_001));
    const frame = await collect(Readable.from(chunks).pipe(new Lz4FrameEncoder()) as unknown as AsyncIterable<Uint8Array>);
    expect([...frame.subarray(0, 7)]).toEqual([0x04, 0x22, 0x4d, 0x18, 0x64, 0x70, 0xb9]);
    // Block sizes: stored (high bit) for the random first block, compressed after.
    const words: number[] = [];
    for (let pos = 7; ;) {
      const w = frame.readUInt32LE(pos);
      words.push(w);
      if (w === 0) break;
      pos += 4 + (w & 0x7fffffff);
    }
    expect(words[0]).toBe((LZ4_BLOCK_SIZE | 0x80000000) >>> 0);
    expect(words.length).toBe(5);
    expect(words.slice(1, 4).every((w) => w > 0 && w < 0x80000000)).toBe(true);
    expect((await decode(new Lz4FrameDecoder(), frame)).equals(input)).toBe(true);
    expect(decompressFrameSync(frame).equals(input)).toBe(true);
  });

  it('writes a valid frame for empty input', async () => {
    const frame = await collect(Readable.from([]).pipe(new Lz4FrameEncoder()) as unknown as AsyncIterable<Uint8Array>);
    expect(frame.length).toBe(15);
    expect(decompressFrameSync(frame).length).toBe(0);
  });
});

describe('packSegmentArchive behaviour', () => {
  it('streams with backpressure: a stalled sink stops the reading', async () => {
    const seg = join(tmp('big-'), 'seg');
    mkdirSync(join(seg, 'v3'), { recursive: true });
    writeFileSync(join(seg, 'v3', 'columns.psf'), '');
    truncateSync(join(seg, 'v3', 'columns.psf'), 64 * 1024 * 1024);
    const counter = { bytes: 0 };
    let written = 0;
    const stalled = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, done) {
        written += chunk.length;
        if (written < 64 * 1024) done();
        // else never call back: the sink is stuck
      },
    });
    const pumping = pipeline(Readable.from(segmentTar(seg, 'seg', 'sorted', [], counter)), stalled).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect(counter.bytes).toBeGreaterThan(64 * 1024);
    expect(counter.bytes).toBeLessThan(8 * 1024 * 1024);
    stalled.destroy();
    await pumping;
  });

  it('refuses bad options, an existing output file, and cleans up after an abort', async () => {
    const root = tmp('opts-');
    const seg = join(root, 'seg');
    mkdirSync(seg);
    writeFileSync(join(seg, 'f'), 'x');
    await rejectsWith(packSegmentArchive(seg, join(root, 'a'), { compression: 'bz2' as PackCompression }), ErrorCodes.USAGE);
    await rejectsWith(packSegmentArchive(seg, join(root, 'a'), { name: 'a/b' }), ErrorCodes.USAGE);
    await rejectsWith(packSegmentArchive(join(root, 'missing'), join(root, 'a')), ErrorCodes.SOURCE_NOT_FOUND);
    await rejectsWith(packSegmentArchive(join(seg, 'f'), join(root, 'a')), ErrorCodes.USAGE);
    writeFileSync(join(root, 'exists'), 'keep');
    await rejectsWith(packSegmentArchive(seg, join(root, 'exists')), ErrorCodes.SOURCE_FETCH_FAILED);
    expect(readFileSync(join(root, 'exists'), 'utf8')).toBe('keep');
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(packSegmentArchive(seg, join(root, 'aborted'), { signal: controller.signal })).rejects.toThrow('stop');
    expect(() => readFileSync(join(root, 'aborted'))).toThrow();
  });

  it('writes to a Writable and names the top directory as asked', async () => {
    const root = tmp('w-');
    const seg = join(root, 'whatever');
    mkdirSync(seg);
    writeFileSync(join(seg, 'metadata.properties'), 'k = v\n');
    const parts: Buffer[] = [];
    const sink = new Writable({ write(c: Buffer, _e, done) { parts.push(c); done(); } });
    const result = await packSegmentArchive(seg, sink, { name: 'mySegment', compression: 'zstd' });
    expect(result.entries).toEqual(['mySegment/', 'mySegment/metadata.properties']);
    expect(sink.writableFinished).toBe(true);
    const extracted = tmp('x-');
    await extractSegmentArchive(Readable.from([Buffer.concat(parts)]), extracted);
    expect(readFileSync(join(extracted, 'mySegment', 'metadata.properties'), 'utf8')).toBe('k = v\n');
  });
});
