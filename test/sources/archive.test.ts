import { createReadStream, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { detectCompression, extractSegmentArchive } from '../../src/sources/deepstore/archive.js';
import { describeFixtures } from '../support/fixtures.js';
import { blocks, cliExtract, gnuHeader, packTar, readTree, rejectsWith, scratchDir, zstdStream } from './helpers.js';

const cleanup: string[] = [];
afterEach(() => {
  for (const d of cleanup.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dir(prefix?: string): string {
  const d = scratchDir(prefix);
  cleanup.push(d);
  return d;
}

function streamOf(bytes: Uint8Array, chunk = 7919): Readable {
  // Odd chunk sizes so magic numbers and headers straddle chunk boundaries.
  return Readable.from((function* () {
    for (let i = 0; i < bytes.length; i += chunk) yield Buffer.from(bytes.subarray(i, i + chunk));
  })());
}

async function extractBytes(bytes: Uint8Array, name = 'mem://archive') {
  const out = dir('out-');
  const result = await extractSegmentArchive(streamOf(bytes), out, { name });
  return { out, result, tree: readTree(out) };
}

function expectSameTree(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [path, bytes] of expected) expect(actual.get(path)!.equals(bytes), path).toBe(true);
}

describe('detectCompression', () => {
  const tarHead = (magic: string) => {
    const h = new Uint8Array(512);
    h.set(Buffer.from(magic, 'latin1'), 257);
    return h;
  };

  it('recognises gzip, zstd and LZ4-frame magic numbers', () => {
    expect(detectCompression(Uint8Array.of(0x1f, 0x8b, 0x08, 0))).toBe('gzip');
    expect(detectCompression(Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58))).toBe('zstd');
    expect(detectCompression(Uint8Array.of(0x04, 0x22, 0x4d, 0x18, 0x64, 0x70, 0xb9))).toBe('lz4');
  });

  it('recognises a plain tar by its POSIX or GNU ustar magic at offset 257', () => {
    expect(detectCompression(tarHead('ustar\u000000'))).toBe('none');
    expect(detectCompression(tarHead('ustar  \u0000'))).toBe('none');
  });

  it('returns undefined for anything else, including short input', () => {
    expect(detectCompression(new Uint8Array(0))).toBeUndefined();
    expect(detectCompression(Uint8Array.of(0x1f))).toBeUndefined();
    expect(detectCompression(Uint8Array.of(0x28, 0xb5, 0x2f, 0xfe))).toBeUndefined();
    expect(detectCompression(Buffer.from('PK\u0003\u0004 a zip file'))).toBeUndefined();
    expect(detectCompression(tarHead('ustaR\u000000'))).toBeUndefined();
  });
});

describeFixtures('extractSegmentArchive on real gzip tarballs', 'fixtures', (fixtures) => {
  const archives = [
    'pinot-generated/1.5.1/events__0__12__20261126T0000Z.tar.gz',
    'pinot-generated/1.5.1/dictvar_mvraw.tar.gz',
    'pinot-generated/1.5.1/sorted_bigdecimal.tar.gz',
    'pinot-segments/baseballStats-v3/baseballStats_OFFLINE_0.2022-02.tar.gz',
    'pinot-segments/baseballStats-v3/baseballStats_OFFLINE_0.2024-10.tar.gz',
    'pinot-segments/legacyRawInverted-2026/legacyRawInverted_OFFLINE_0.v1.tar.gz',
    'pinot-segments/v1-2016-padding/paddingNull.tar.gz',
    'pinot-segments/v1-2016-starTreeSegment/starTreeSegment.tar.gz',
    'pinot-segments/recipes-matches-v3/deepstore-layout/matches/matches_OFFLINE_1642417200000_1642433520000_0',
  ];

  for (const rel of archives) {
    it(`${rel}: same files and bytes as the tar CLI`, async () => {
      const path = join(fixtures, rel);
      const out = dir('out-');
      const result = await extractSegmentArchive(createReadStream(path, { highWaterMark: 16 * 1024 }), out, { name: path });
      const reference = cliExtract(path);
      cleanup.push(reference);
      const expected = readTree(reference);
      expect(expected.size).toBeGreaterThan(3);
      expectSameTree(readTree(out), expected);
      expect(result.compression).toBe('gzip');
      expect(result.files.sort()).toEqual([...expected.keys()]);
      expect(result.archiveBytes).toBe(readFileSync(path).length);
    });
  }

  it('baseballStats: columns.psf has the size the tar listing gives (2953668 bytes)', async () => {
    const { tree } = await extractBytes(readFileSync(join(fixtures, 'pinot-segments/baseballStats-v3/baseballStats_OFFLINE_0.2024-10.tar.gz')));
    expect(tree.get('baseballStats_OFFLINE_0/v3/columns.psf')!.length).toBe(2953668);
    expect(tree.get('baseballStats_OFFLINE_0/v3/creation.meta')!.length).toBe(16);
  });
});

describeFixtures('extractSegmentArchive: zstd, lz4 and plain tar', 'fixtures/pinot-generated/1.5.1', (gen) => {
  const gz = () => readFileSync(join(gen, 'sorted_bigdecimal.tar.gz'));
  const gzTree = async () => (await extractBytes(gz())).tree;

  it('the LZ4-framed tarball holds the same files as its gzip twin', async () => {
    const lz4 = readFileSync(join(gen, 'sorted_bigdecimal.tar.lz4'));
    const { result, tree } = await extractBytes(lz4);
    expect(result.compression).toBe('lz4');
    expect(tree.get('sorted_bigdecimal/v3/columns.psf')!.length).toBe(57731);
    expectSameTree(tree, await gzTree());
  });

  it('a zstd tarball without a content size (streaming frame) extracts to the same files', async () => {
    const zst = await zstdStream(gunzipSync(gz()));
    expect(zst[4]! & 0xe0).toBe(0); // frame header: no content-size field, not single-segment
    const { result, tree } = await extractBytes(zst);
    expect(result.compression).toBe('zstd');
    expectSameTree(tree, await gzTree());
  });

  it('two concatenated zstd frames are one tar stream', async () => {
    const tarBytes = gunzipSync(gz());
    const cut = 30_001;
    const zst = Buffer.concat([await zstdStream(tarBytes.subarray(0, cut)), await zstdStream(tarBytes.subarray(cut))]);
    expectSameTree((await extractBytes(zst)).tree, await gzTree());
  });

  it('an uncompressed tar extracts as "none"', async () => {
    const { result, tree } = await extractBytes(gunzipSync(gz()));
    expect(result.compression).toBe('none');
    expectSameTree(tree, await gzTree());
  });

  it('a truncated zstd or lz4 archive is ARCHIVE_INVALID', async () => {
    const zst = await zstdStream(gunzipSync(gz()));
    await rejectsWith(extractBytes(zst.subarray(0, zst.length - 10)), ErrorCodes.ARCHIVE_INVALID);
    const lz4 = readFileSync(join(gen, 'sorted_bigdecimal.tar.lz4'));
    const err = await rejectsWith(extractBytes(lz4.subarray(0, 30_000), 'x.tar.lz4'), ErrorCodes.ARCHIVE_INVALID);
    expect(err.context.uri).toBe('x.tar.lz4');
  });

  it('a corrupted zstd or lz4 archive is ARCHIVE_INVALID', async () => {
    // Commons Compress writes zstd without a checksum, so only structural damage is detectable there…
    const zst = Buffer.from(await zstdStream(gunzipSync(gz())));
    zst.fill(0xff, 6, 9); // first block header
    await rejectsWith(extractBytes(zst), ErrorCodes.ARCHIVE_INVALID);
    // …while a frame with a checksum catches damage to the data too.
    const summed = Buffer.from(await zstdStream(gunzipSync(gz()), { checksum: true }));
    summed[summed.length - 1]! ^= 0x01;
    await rejectsWith(extractBytes(summed), ErrorCodes.ARCHIVE_INVALID);
    const lz4 = Buffer.from(readFileSync(join(gen, 'sorted_bigdecimal.tar.lz4')));
    lz4[lz4.length - 2]! ^= 0xff; // content checksum
    const err = await rejectsWith(extractBytes(lz4), ErrorCodes.ARCHIVE_INVALID);
    expect(err.message).toContain('content checksum');
  });

  it('a plain tar cut between two entries (no end-of-archive block) is ARCHIVE_INVALID', async () => {
    const tarBytes = gunzipSync(gz());
    // Entries are 512-byte aligned: cut right after the index_map entry (header + 700 bytes → 2 blocks).
    const cut = 512 * 2 + 512 + 1024;
    expect(tarBytes.subarray(cut + 257, cut + 262).toString()).toBe('ustar'); // the next header starts here
    const err = await rejectsWith(extractBytes(tarBytes.subarray(0, cut)), ErrorCodes.ARCHIVE_INVALID);
    expect(err.message).toContain('end-of-archive');
  });
});

describeFixtures('extractSegmentArchive: broken gzip archives', 'fixtures/pinot-generated/1.5.1', (gen) => {
  const path = () => join(gen, 'events__0__12__20261126T0000Z.tar.gz');

  for (const n of [5, 600, 100_000, 369_000]) {
    it(`the first ${n} bytes are ARCHIVE_INVALID naming the archive and the offset`, async () => {
      const bytes = readFileSync(path()).subarray(0, n);
      const err = await rejectsWith(extractBytes(bytes, 's3://b/events'), ErrorCodes.ARCHIVE_INVALID);
      expect(err.context.uri).toBe('s3://b/events');
      expect(err.context.offset).toBe(n);
      expect(err.retryable).toBe(false);
    });
  }

  it('a corrupted deflate stream is ARCHIVE_INVALID and names the entry being written', async () => {
    const bytes = Buffer.from(readFileSync(path()));
    bytes.fill(0x55, 200_000, 200_200);
    const err = await rejectsWith(extractBytes(bytes), ErrorCodes.ARCHIVE_INVALID);
    expect(err.context.file).toBe('events__0__12__20261126T0000Z/v3/columns.psf');
    expect(err.message).toMatch(/gzip tar archive/);
  });

  it('a wrong gzip CRC trailer is ARCHIVE_INVALID', async () => {
    const bytes = Buffer.from(readFileSync(path()));
    bytes[bytes.length - 6]! ^= 0x01;
    await rejectsWith(extractBytes(bytes), ErrorCodes.ARCHIVE_INVALID);
  });

  it('an input stream that fails mid-way is SOURCE_FETCH_FAILED and retryable', async () => {
    const bytes = readFileSync(path());
    const input = Readable.from((async function* () {
      yield bytes.subarray(0, 50_000);
      throw new Error('socket hang up');
    })());
    const err = await rejectsWith(extractSegmentArchive(input, dir(), { name: 'http://x/y' }), ErrorCodes.SOURCE_FETCH_FAILED);
    expect(err.retryable).toBe(true);
    expect(err.context).toMatchObject({ uri: 'http://x/y', offset: 50_000 });
  });

  it('stops on abort with the signal reason', async () => {
    const ac = new AbortController();
    const bytes = readFileSync(path());
    const input = Readable.from((async function* () {
      yield bytes.subarray(0, 1000);
      ac.abort(new Error('stop now'));
      await new Promise((r) => setTimeout(r, 20));
      yield bytes.subarray(1000);
    })());
    await expect(extractSegmentArchive(input, dir(), { signal: ac.signal })).rejects.toThrow('stop now');
  });
});

describe('extractSegmentArchive: archive content rules', () => {
  const meta = { name: 'seg/v3/metadata.properties', data: 'segment.name = seg\n' };

  it('empty input and non-archives are ARCHIVE_INVALID', async () => {
    const empty = await rejectsWith(extractBytes(new Uint8Array(0)), ErrorCodes.ARCHIVE_INVALID);
    expect(empty.message).toContain('empty');
    await rejectsWith(extractBytes(Buffer.from('hello, this is not a tarball at all'.repeat(30))), ErrorCodes.ARCHIVE_INVALID);
  });

  const evilEntries: [string, string][] = [
    ['../evil', 'escapes'], ['seg/../../evil', 'escapes'], ['seg/v3/..', 'escapes'],
    ['/tmp/evil-absolute', 'absolute path'], ['C:/evil', 'absolute path'], ['seg\\..\\..\\evil', 'backslash'],
  ];
  for (const [evil, why] of evilEntries) {
    it(`refuses the entry ${JSON.stringify(evil)} (${why}) and writes nothing outside destDir`, async () => {
      const parent = dir('parent-');
      const dest = join(parent, 'dest');
      const bytes = await packTar([meta, { name: evil, data: 'pwned' }]);
      const err = await rejectsWith(extractSegmentArchive(streamOf(bytes), dest, { name: 'evil.tar' }), ErrorCodes.ARCHIVE_INVALID);
      expect(err.context).toMatchObject({ file: evil, uri: 'evil.tar' });
      expect(err.message).toContain(why);
      expect(readdirSync(parent)).toEqual(['dest']);
      expect(existsSync('/tmp/evil-absolute')).toBe(false);
    });
  }

  for (const type of ['symlink', 'link'] as const) {
    it(`refuses a ${type} entry`, async () => {
      const bytes = await packTar([meta, { name: 'seg/v3/columns.psf', type, linkname: '/etc/passwd' }]);
      const err = await rejectsWith(extractBytes(bytes), ErrorCodes.ARCHIVE_INVALID);
      expect(err.context.file).toBe('seg/v3/columns.psf');
    });
  }

  it('refuses entry types it cannot write faithfully (GNU sparse)', async () => {
    const data = Buffer.from('x');
    const bytes = Buffer.concat([gnuHeader('seg/v3/columns.psf', 1, 'S'), blocks(data), Buffer.alloc(1024)]);
    await rejectsWith(extractBytes(bytes), ErrorCodes.ARCHIVE_INVALID);
  });

  it('applies PAX path records, ignores macOS xattr records and AppleDouble files', async () => {
    const bytes = await packTar([
      { name: 'seg/', type: 'directory' },
      { name: 'ignored-name', data: 'k = v\n', pax: { path: 'seg/v3/metadata.properties', 'LIBARCHIVE.xattr.com.apple.quarantine': 'MDA4MTs=', 'SCHILY.xattr.com.apple.provenance': 'AQ==' } },
      { name: 'seg/v3/._metadata.properties', data: 'AppleDouble junk' },
      { name: 'seg/v3/index_map', data: 'idx' },
    ]);
    const { tree, result } = await extractBytes(bytes);
    expect([...tree.keys()]).toEqual(['seg/v3/index_map', 'seg/v3/metadata.properties']);
    expect(tree.get('seg/v3/metadata.properties')!.toString()).toBe('k = v\n');
    expect(result.files).toEqual(['seg/v3/metadata.properties', 'seg/v3/index_map']);
  });

  it('applies GNU long names (type L records)', async () => {
    const long = `seg/v3/${'c'.repeat(150)}.lucene.v912.index/segments_1`;
    const body = Buffer.from('lucene bytes');
    const name = Buffer.from(`${long}\0`);
    const bytes = Buffer.concat([
      gnuHeader('././@LongLink', name.length, 'L'), blocks(name),
      gnuHeader(long.slice(0, 100), body.length, '0'), blocks(body),
      Buffer.alloc(1024),
    ]);
    const { tree } = await extractBytes(bytes);
    expect([...tree.keys()]).toEqual([long]);
    expect(tree.get(long)!.equals(body)).toBe(true);
  });

  it('a later entry for the same path wins, as tar does', async () => {
    const bytes = await packTar([meta, { name: 'seg/v3/metadata.properties', data: 'second' }]);
    expect((await extractBytes(bytes)).tree.get('seg/v3/metadata.properties')!.toString()).toBe('second');
  });

  it('a file where the archive expects a directory is ARCHIVE_INVALID', async () => {
    const bytes = await packTar([{ name: 'seg', data: 'a file' }, meta]);
    await rejectsWith(extractBytes(bytes), ErrorCodes.ARCHIVE_INVALID);
  });
});

describeFixtures('extractSegmentArchive with the deep-store object of a controller', 'fixtures/pinot-segments/recipes-matches-v3', (recipes) => {
  it('an extension-less object is sniffed as gzip', async () => {
    const path = join(recipes, 'deepstore-layout/matches/matches_OFFLINE_1642417380000_1642443240000_1');
    expect(path.endsWith('.gz')).toBe(false);
    const { result, tree } = await extractBytes(readFileSync(path));
    expect(result.compression).toBe('gzip');
    expect(tree.get('matches_OFFLINE_1642417380000_1642443240000_1/v3/columns.psf')!.length).toBe(425);
  });
});
