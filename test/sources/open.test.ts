import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync, gunzipSync } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { ErrorCodes, ExporterError } from '../../src/errors.js';
import { openSegment, type OpenedSegment } from '../../src/sources/deepstore/index.js';
import { sharedPath, describeFixtures } from '../support/fixtures.js';
import { cliExtract, isEmptyDir, packTar, readTree, rejectsWith, scratchDir, zstdStream } from './helpers.js';

const MATCHES = 'matches_OFFLINE_1642417200000_1642433520000_0';
const matchesObject = () => sharedPath('fixtures/pinot-segments/recipes-matches-v3/deepstore-layout/matches', MATCHES);
const generated = (name: string) => sharedPath('fixtures/pinot-generated/1.5.1', name);

let workDir: string;
const scratch: string[] = [];

beforeEach(() => {
  workDir = scratchDir('work-');
});

afterEach(() => {
  // Every test, passing or failing, must leave the work dir as it found it.
  const left = readdirSync(workDir);
  rmSync(workDir, { recursive: true, force: true });
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
  expect(left, 'work dir must be empty after cleanup or failure').toEqual([]);
});

function scratchFile(name: string, bytes: Uint8Array): string {
  const d = scratchDir('in-');
  scratch.push(d);
  const path = join(d, name);
  writeFileSync(path, bytes);
  return path;
}

/** The files of `<seg>/v3/` as the tar CLI extracts them, keyed relative to `v3/`. */
function cliSegmentTree(archive: string, segDir: string): Map<string, Buffer> {
  const out = cliExtract(archive);
  scratch.push(out);
  return readTree(join(out, segDir));
}

function expectFiles(opened: OpenedSegment, expected: Map<string, Buffer>): void {
  expect(opened.files.list()).toEqual([...expected.keys()]);
  for (const [name, bytes] of expected) {
    expect(opened.files.has(name)).toBe(true);
    const range = opened.files.open(name);
    expect(range.length, name).toBe(bytes.length);
    expect(Buffer.from(range.read(0, range.length)).equals(bytes), name).toBe(true);
  }
}

async function withSegment<T>(location: string, fn: (s: OpenedSegment) => T | Promise<T>, options = {}): Promise<T> {
  const opened = await openSegment(location, { workDir, ...options });
  try {
    return await fn(opened);
  } finally {
    await opened.cleanup();
  }
}

const segmentTar = (top: string) => packTar([
  { name: `${top}metadata.properties`, data: 'segment.name = x\n' },
  { name: `${top}index_map`, data: 'i' },
  { name: `${top}columns.psf`, data: Buffer.alloc(1000, 7) },
]);

describeFixtures('openSegment: local directories, read in place', 'fixtures/pinot-segments', (segs) => {
  it('a v1 segment directory', async () => {
    const dir = join(segs, 'v1-2022-testTable-mv-raw/testTable_1756015683_1756015683');
    await withSegment(dir, (s) => {
      expect(s.name).toBe('testTable_1756015683_1756015683');
      expect(s.dir).toBe(dir);
      expect(s.location).toBe(dir);
      expectFiles(s, readTree(dir));
      expect(s.files.list()).toContain('column7.bitmap.inv');
      expect(isEmptyDir(workDir)).toBe(true); // nothing copied
    });
    expect(readdirSync(dir).length).toBe(31); // cleanup left the directory alone
  });

  it('a v3 segment directory, given as <seg> or as <seg>/v3', async () => {
    const seg = join(segs, 'v3-2017-views/segment_0');
    for (const location of [seg, join(seg, 'v3'), pathToFileURL(seg).href]) {
      await withSegment(location, (s) => {
        expect(s.name).toBe('segment_0');
        expect(s.dir).toBe(join(seg, 'v3'));
        expect(s.files.has('metadata.properties')).toBe(true);
        expect(s.files.has('columns.psf')).toBe(true);
      });
    }
  });

  it('file ranges are bounds-checked and closed by cleanup()', async () => {
    const dir = join(segs, 'v1-2022-testTable-mv-raw/testTable_1756015683_1756015683');
    const s = await openSegment(dir, { workDir });
    const range = s.files.open('column7.bitmap.inv');
    expect(Buffer.from(range.read(4, 8)).readUInt32BE(0)).toBe(0x5ec); // second offset of the inverted index
    expect(range.read(range.length, range.length).length).toBe(0);
    expect(() => range.read(range.length - 1, range.length + 1)).toThrow(expect.objectContaining({ code: ErrorCodes.PINOT_TRUNCATED }));
    expect(() => s.files.open('no.such.file')).toThrow(expect.objectContaining({ code: ErrorCodes.SOURCE_NOT_FOUND }));
    await s.cleanup();
    await s.cleanup(); // twice is fine
    expect(() => range.read(0, 4)).toThrow(ExporterError);
    expect(() => s.files.open('column7.dict')).toThrow(ExporterError);
  });
});

describeFixtures('openSegment: local archives', 'fixtures', () => {
  it('an extension-less controller object, by path and by file:// URL', async () => {
    const expected = cliSegmentTree(matchesObject(), `${MATCHES}/v3`);
    for (const location of [matchesObject(), pathToFileURL(matchesObject()).href]) {
      const s = await openSegment(location, { workDir });
      expect(s.name).toBe(MATCHES);
      expect(s.location).toBe(location);
      expect(s.dir.startsWith(workDir)).toBe(true);
      expect(basename(s.dir)).toBe('v3');
      expectFiles(s, expected);
      expect(readdirSync(workDir)).toHaveLength(1);
      await s.cleanup();
      expect(isEmptyDir(workDir)).toBe(true);
    }
  });

  it('baseballStats (gzip, v3): columns.psf has its listed size', async () => {
    await withSegment(sharedPath('fixtures/pinot-segments/baseballStats-v3/baseballStats_OFFLINE_0.2022-02.tar.gz'), (s) => {
      expect(s.name).toBe('baseballStats_OFFLINE_0');
      expect(s.files.list()).toEqual(['columns.psf', 'creation.meta', 'index_map', 'metadata.properties']);
      expect(s.files.open('columns.psf').length).toBe(2953668);
    });
  });

  it('a v1 tarball (files directly under <seg>/)', async () => {
    const path = sharedPath('fixtures/pinot-segments/v1-2016-padding/paddingNull.tar.gz');
    const expected = cliSegmentTree(path, 'paddingNull');
    await withSegment(path, (s) => {
      expect(s.name).toBe('paddingNull');
      expect(basename(s.dir)).toBe('paddingNull');
      expectFiles(s, expected);
    });
  });

  it('the LZ4-framed tarball gives the same files as the gzip one', async () => {
    const expected = cliSegmentTree(generated('sorted_bigdecimal.tar.gz'), 'sorted_bigdecimal/v3');
    await withSegment(generated('sorted_bigdecimal.tar.lz4'), (s) => {
      expect(s.name).toBe('sorted_bigdecimal');
      expectFiles(s, expected);
    });
  });

  it('a zstd tarball built here (streaming frame, no content size)', async () => {
    const tar = gunzipSync(readFileSync(generated('events__0__12__20261126T0000Z.tar.gz')));
    const path = scratchFile('events.tar.zst', await zstdStream(tar));
    const expected = cliSegmentTree(generated('events__0__12__20261126T0000Z.tar.gz'), 'events__0__12__20261126T0000Z/v3');
    await withSegment(path, (s) => {
      expect(s.name).toBe('events__0__12__20261126T0000Z');
      expectFiles(s, expected);
    });
  });

  it('an archive without a top directory is named after the file, archive suffix dropped', async () => {
    const path = scratchFile('events__0__1__20240101T0000Z.tar.gz', gzipSync(await segmentTar('')));
    await withSegment(path, (s) => {
      expect(s.name).toBe('events__0__1__20240101T0000Z');
      expect(s.files.list()).toEqual(['columns.psf', 'index_map', 'metadata.properties']);
    });
  });

  it('prefers <seg>/v3/ over <seg>/ when both hold metadata.properties', async () => {
    const tar = await packTar([
      { name: 'seg/metadata.properties', data: 'old' },
      { name: 'seg/v3/metadata.properties', data: 'new' },
    ]);
    await withSegment(scratchFile('both', gzipSync(tar)), (s) => {
      expect(s.name).toBe('seg');
      expect(basename(s.dir)).toBe('v3');
      expect(Buffer.from(s.files.open('metadata.properties').read(0, 3)).toString()).toBe('new');
    });
  });

  it('a workDir that does not exist yet is created', async () => {
    const nested = join(workDir, 'a', 'b');
    const s = await openSegment(matchesObject(), { workDir: nested });
    expect(s.dir.startsWith(nested)).toBe(true);
    await s.cleanup();
    expect(readdirSync(nested)).toEqual([]);
    rmSync(join(workDir, 'a'), { recursive: true });
  });
});

describeFixtures('openSegment: failures leave nothing behind', 'fixtures', () => {
  it('a truncated archive is ARCHIVE_INVALID naming the archive', async () => {
    const full = readFileSync(sharedPath('fixtures/pinot-segments/baseballStats-v3/baseballStats_OFFLINE_0.2024-10.tar.gz'));
    const path = scratchFile('baseball.tar.gz', full.subarray(0, 700_000));
    const err = await rejectsWith(openSegment(path, { workDir }), ErrorCodes.ARCHIVE_INVALID);
    expect(err.context.uri).toBe(path);
    expect(err.context.file).toBe('baseballStats_OFFLINE_0/v3/columns.psf');
  });

  it('a corrupted gzip is ARCHIVE_INVALID', async () => {
    const bytes = Buffer.from(readFileSync(matchesObject()));
    bytes.fill(0, 100, 140);
    await rejectsWith(openSegment(scratchFile('bad', bytes), { workDir }), ErrorCodes.ARCHIVE_INVALID);
  });

  it('an archive with a ../ entry is ARCHIVE_INVALID and writes nothing beside the temp dir', async () => {
    const tar = await packTar([{ name: 'seg/v3/metadata.properties', data: 'x' }, { name: '../evil', data: 'pwned' }]);
    const err = await rejectsWith(openSegment(scratchFile('evil.tar', tar), { workDir }), ErrorCodes.ARCHIVE_INVALID);
    expect(err.context.file).toBe('../evil');
  });

  it('an archive without metadata.properties, or with two segments, is ARCHIVE_INVALID', async () => {
    const none = await packTar([{ name: 'seg/v3/columns.psf', data: 'x' }]);
    await rejectsWith(openSegment(scratchFile('none.tar', none), { workDir }), ErrorCodes.ARCHIVE_INVALID);
    const two = Buffer.concat([(await segmentTar('a/v3/')).subarray(0, -1024), await segmentTar('b/')]);
    const err = await rejectsWith(openSegment(scratchFile('two.tar', two), { workDir }), ErrorCodes.ARCHIVE_INVALID);
    expect(err.message).toContain('a, b');
  });

  it('a missing path is SOURCE_NOT_FOUND, an unknown scheme SOURCE_UNSUPPORTED, an empty URL SOURCE_NOT_FOUND', async () => {
    await rejectsWith(openSegment(join(workDir, 'nope.tar.gz'), { workDir }), ErrorCodes.SOURCE_NOT_FOUND);
    await rejectsWith(openSegment(pathToFileURL(join(workDir, 'nope')).href, { workDir }), ErrorCodes.SOURCE_NOT_FOUND);
    await rejectsWith(openSegment('gs://bucket/table/seg', { workDir }), ErrorCodes.SOURCE_UNSUPPORTED);
    await rejectsWith(openSegment('hdfs://nn/segments/seg', { workDir }), ErrorCodes.SOURCE_UNSUPPORTED);
    const peer = await rejectsWith(openSegment('', { workDir }), ErrorCodes.SOURCE_NOT_FOUND);
    expect(peer.message).toContain('peer download');
  });

  it('a local directory without a segment is ARCHIVE_INVALID; an unusable workDir SOURCE_FETCH_FAILED', async () => {
    const empty = scratchDir('noseg-');
    scratch.push(empty);
    writeFileSync(join(empty, 'README'), 'not a segment');
    const err = await rejectsWith(openSegment(empty, { workDir }), ErrorCodes.ARCHIVE_INVALID);
    expect(err.message).toContain('metadata.properties');
    const file = scratchFile('a-file', Buffer.from('x'));
    await rejectsWith(openSegment(matchesObject(), { workDir: join(file, 'sub') }), ErrorCodes.SOURCE_FETCH_FAILED);
  });

  it('an aborted signal rejects with its reason', async () => {
    const ac = new AbortController();
    ac.abort(new Error('shutting down'));
    await expect(openSegment(matchesObject(), { workDir, signal: ac.signal })).rejects.toThrow('shutting down');
  });
});

describeFixtures('openSegment over s3:// (fauxqs on loopback)', 'fixtures', () => {
  let server: FauxqsServer;
  let s3: { endpoint: string; region: string; forcePathStyle: boolean; credentials: { accessKeyId: string; secretAccessKey: string } };

  beforeAll(async () => {
    server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
    server.createBucket('deepstore');
    s3 = { endpoint: `http://127.0.0.1:${server.port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    const client = new S3Client(s3);
    await client.send(new PutObjectCommand({ Bucket: 'deepstore', Key: `matches/${MATCHES}`, Body: readFileSync(matchesObject()) }));
    await client.send(new PutObjectCommand({ Bucket: 'deepstore', Key: 'events/seg name+1', Body: gzipSync(await segmentTar('')) }));
    client.destroy();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('streams the object into a temp dir and opens the segment', async () => {
    const expected = cliSegmentTree(matchesObject(), `${MATCHES}/v3`);
    await withSegment(`s3://deepstore/matches/${MATCHES}`, (s) => {
      expect(s.name).toBe(MATCHES);
      expectFiles(s, expected);
    }, { s3 });
  });

  it('decodes the key of a URL-encoded location and names the segment after it', async () => {
    await withSegment(`s3://deepstore/events/${encodeURIComponent('seg name+1')}`, (s) => {
      expect(s.name).toBe('seg name+1');
      expect(s.files.has('metadata.properties')).toBe(true);
    }, { s3 });
  });

  it('uses a shared client when given one, and leaves it open', async () => {
    const client = new S3Client(s3);
    try {
      for (let i = 0; i < 2; i++) {
        await withSegment(`s3://deepstore/matches/${MATCHES}`, (s) => expect(s.name).toBe(MATCHES), { s3Client: client });
      }
    } finally {
      client.destroy();
    }
  });

  it('a missing key or bucket is SOURCE_NOT_FOUND', async () => {
    const key = await rejectsWith(openSegment('s3://deepstore/matches/nope', { workDir, s3 }), ErrorCodes.SOURCE_NOT_FOUND);
    expect(key.context).toMatchObject({ uri: 's3://deepstore/matches/nope', key: 'deepstore/matches/nope' });
    await rejectsWith(openSegment('s3://no-such-bucket/x', { workDir, s3 }), ErrorCodes.SOURCE_NOT_FOUND);
  });

  it('an unreachable endpoint is SOURCE_FETCH_FAILED and retryable', async () => {
    const closed = await closedPort();
    const err = await rejectsWith(openSegment(`s3://deepstore/matches/${MATCHES}`, {
      workDir, s3: { ...s3, endpoint: `http://127.0.0.1:${closed}`, maxAttempts: 1 },
    }), ErrorCodes.SOURCE_FETCH_FAILED);
    expect(err.retryable).toBe(true);
  });
});

describeFixtures('openSegment over http:// (controller download URL)', 'fixtures', () => {
  let server: Server;
  let base: string;
  const big = () => readFileSync(generated('events__0__12__20261126T0000Z.tar.gz'));

  beforeAll(async () => {
    const noTop = gzipSync(await segmentTar(''));
    server = createServer((req, res) => {
      const url = req.url ?? '';
      if (url === `/segments/matches/${MATCHES}`) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(matchesObject()));
      } else if (url === '/moved') {
        res.writeHead(302, { location: `/segments/matches/${MATCHES}` }).end();
      } else if (url === `/segments/events/${encodeURIComponent('events__0__7__20240101T0000Z %x')}`) {
        res.writeHead(200).end(noTop);
      } else if (url === '/boom') {
        res.writeHead(500).end('internal error');
      } else if (url === '/forbidden') {
        res.writeHead(403).end('no');
      } else if (url === '/drop') {
        const body = big();
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, 100_000), () => setTimeout(() => res.socket?.destroy(), 20));
      } else {
        res.writeHead(404).end('not found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('200: streams the body into extraction', async () => {
    const expected = cliSegmentTree(matchesObject(), `${MATCHES}/v3`);
    await withSegment(`${base}/segments/matches/${MATCHES}`, (s) => {
      expect(s.name).toBe(MATCHES);
      expectFiles(s, expected);
    });
  });

  it('follows redirects', async () => {
    await withSegment(`${base}/moved`, (s) => expect(s.name).toBe(MATCHES));
  });

  it('URL-decodes the segment name taken from the URL', async () => {
    await withSegment(`${base}/segments/events/${encodeURIComponent('events__0__7__20240101T0000Z %x')}`, (s) => {
      expect(s.name).toBe('events__0__7__20240101T0000Z %x');
    });
  });

  it('404 is SOURCE_NOT_FOUND; 500 SOURCE_FETCH_FAILED retryable; 403 not retryable', async () => {
    const missing = await rejectsWith(openSegment(`${base}/segments/matches/nope`, { workDir }), ErrorCodes.SOURCE_NOT_FOUND);
    expect(missing.context.uri).toBe(`${base}/segments/matches/nope`);
    expect((await rejectsWith(openSegment(`${base}/boom`, { workDir }), ErrorCodes.SOURCE_FETCH_FAILED)).retryable).toBe(true);
    expect((await rejectsWith(openSegment(`${base}/forbidden`, { workDir }), ErrorCodes.SOURCE_FETCH_FAILED)).retryable).toBe(false);
  });

  it('a connection dropped mid-body is SOURCE_FETCH_FAILED, retryable, after partial extraction', async () => {
    const err = await rejectsWith(openSegment(`${base}/drop`, { workDir }), ErrorCodes.SOURCE_FETCH_FAILED);
    expect(err.retryable).toBe(true);
    expect(err.context.uri).toBe(`${base}/drop`);
    expect(err.context.offset).toBeGreaterThan(0);
    expect(err.context.offset).toBeLessThanOrEqual(100_000);
  });

  it('a refused connection is SOURCE_FETCH_FAILED and retryable', async () => {
    const err = await rejectsWith(openSegment(`http://127.0.0.1:${await closedPort()}/x`, { workDir }), ErrorCodes.SOURCE_FETCH_FAILED);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('ECONNREFUSED');
  });
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

