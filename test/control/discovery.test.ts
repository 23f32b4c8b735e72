import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DeepStoreSegmentSource, ZkSegmentSource, segmentFromZnRecord } from '../../src/control/discovery.js';
import type { ZNRecord } from '../../src/control/znrecord.js';
import { SegmentReader } from '../../src/sources/segment-reader.js';
import { ZkClient } from '../../src/state/zk-client.js';
import { describeFixtures } from '../support/fixtures.js';
import { describeWithZooKeeper, ZooKeeperServer } from '../support/zookeeper.js';

function record(id: string, simpleFields: Record<string, string>): ZNRecord {
  return { id, simpleFields, mapFields: {}, listFields: {} };
}

/** Segment ZK metadata exactly as Pinot writes it (Jackson, pretty-printed, every value a string). */
function pinotJson(id: string, fields: Record<string, string>): string {
  const body = Object.entries(fields).map(([k, v]) => `    "${k}" : "${v}"`).join(',\n');
  return `{\n  "id" : "${id}",\n  "simpleFields" : {\n${body}\n  },\n  "mapFields" : { },\n  "listFields" : { }\n}`;
}

const DONE_FIELDS = {
  'segment.realtime.status': 'DONE',
  'segment.creation.time': '1736935200123',
  'segment.realtime.startOffset': '1500001',
  'segment.realtime.endOffset': '1750001',
  'segment.realtime.numReplicas': '2',
  'segment.flush.threshold.size': '250000',
  'segment.start.time': '1736935200000',
  'segment.end.time': '1736938799000',
  'segment.time.unit': 'MILLISECONDS',
  'segment.index.version': 'v3',
  'segment.total.docs': '250000',
  'segment.crc': '3810015968',
  'segment.data.crc': '1677886853',
  'segment.use.data.crc': 'true',
  'segment.download.url': 's3://bucket/pinot/events/events__3__41__20260115T1000Z',
  'segment.size.in.bytes': '73400320',
};

describe('segment ZK metadata', () => {
  it('reads a DONE record (pinot-segment-format.md §13.3 example)', () => {
    expect(segmentFromZnRecord(record('events__3__41__20260115T1000Z', DONE_FIELDS), '/p')).toEqual({
      name: 'events__3__41__20260115T1000Z', status: 'DONE', startTimeMs: 1736935200000, endTimeMs: 1736938799000,
      downloadUrl: 's3://bucket/pinot/events/events__3__41__20260115T1000Z', crc: '3810015968', totalDocs: 250000, sizeBytes: 73400320,
      partition: 3, sequence: 41,
    });
  });

  it('applies Pinot\'s rules: missing status = UPLOADED, times in their unit, 0 = unknown, legacy URL keys', () => {
    // SegmentZKMetadataTest: start 1000, end 2000, unit HOURS → 3 600 000 000 ms.
    expect(segmentFromZnRecord(record('s', { 'segment.start.time': '1000', 'segment.end.time': '2000', 'segment.time.unit': 'HOURS' }), '/p'))
      .toMatchObject({ status: 'UPLOADED', startTimeMs: 3_600_000_000, endTimeMs: 7_200_000_000, downloadUrl: '' });
    const zero = segmentFromZnRecord(record('s', { 'segment.realtime.status': 'IN_PROGRESS', 'segment.start.time': '0' }), '/p');
    expect(zero.startTimeMs).toBeUndefined();
    expect(zero.status).toBe('IN_PROGRESS');
    expect(segmentFromZnRecord(record('s', { 'segment.realtime.download.url': 'http://c/s' }), '/p').downloadUrl).toBe('http://c/s');
    expect(segmentFromZnRecord(record('s', { 'segment.offline.download.url': 'http://o/s' }), '/p').downloadUrl).toBe('http://o/s');
    const committing = segmentFromZnRecord(record('events__0__5__20260101T0000Z', { 'segment.realtime.status': 'COMMITTING', 'segment.realtime.endOffset': '9' }), '/p');
    expect(committing).toMatchObject({ status: 'COMMITTING', downloadUrl: '', partition: 0, sequence: 5 });
  });

  it('names the key, the value and what is accepted', () => {
    expect(() => segmentFromZnRecord(record('s', { 'segment.realtime.status': 'FROZEN' }), '/p')).toThrow(
      expect.objectContaining({ code: 'CONTROL_SEGMENT_METADATA_INVALID', message: expect.stringContaining('segment.realtime.status = "FROZEN": expected IN_PROGRESS, COMMITTING, DONE, UPLOADED') }));
    expect(() => segmentFromZnRecord(record('s', { 'segment.end.time': '12x' }), '/p')).toThrow(/segment.end.time = "12x": expected a decimal long/);
    expect(() => segmentFromZnRecord(record('s', { 'segment.time.unit': 'WEEKS' }), '/p')).toThrow(/segment.time.unit/);
    expect(() => segmentFromZnRecord(record('s', { 'segment.total.docs': '-1' }), '/p')).toThrow(/segment.total.docs/);
  });
});

describeWithZooKeeper('ZkSegmentSource', () => {
  let zk: ZooKeeperServer;
  let client: ZkClient;
  const dir = '/PinotCluster/PROPERTYSTORE/SEGMENTS/events_REALTIME';
  beforeAll(async () => {
    zk = await ZooKeeperServer.start();
    client = await ZkClient.connect({ connectionString: zk.connectionString, sessionTimeoutMs: 20_000 });
    await client.ensurePath(dir);
    await client.create(`${dir}/events__3__41__20260115T1000Z`, Buffer.from(pinotJson('events__3__41__20260115T1000Z', DONE_FIELDS)));
    // Helix gzip-compresses large records: the same kind of record, compressed.
    const big = { ...DONE_FIELDS, 'segment.download.url': 's3://bucket/pinot/events/events__3__40__20260115T0900Z', 'segment.end.time': '1736935199000' };
    await client.create(`${dir}/events__3__40__20260115T0900Z`, gzipSync(Buffer.from(pinotJson('events__3__40__20260115T0900Z', big))));
    await client.create(`${dir}/events__3__42__20260115T1100Z`, Buffer.from(pinotJson('events__3__42__20260115T1100Z', {
      'segment.realtime.status': 'IN_PROGRESS', 'segment.creation.time': '1736938800000', 'segment.realtime.startOffset': '1750001',
    })));
    await client.create(`${dir}/garbage`, Buffer.from('not a znrecord'));
  });
  afterAll(async () => {
    client?.close();
    await zk?.close();
  });

  it('lists every segment, plain and gzip-compressed, as a complete listing; unreadable ones as UNKNOWN problems', async () => {
    const source = new ZkSegmentSource({ client, cluster: 'PinotCluster' });
    const listing = await source.list('events_REALTIME');
    expect(listing.complete).toBe(true);
    const byName = Object.fromEntries(listing.segments.map((s) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual(['events__3__40__20260115T0900Z', 'events__3__41__20260115T1000Z', 'events__3__42__20260115T1100Z', 'garbage']);
    expect(byName['events__3__40__20260115T0900Z']).toMatchObject({ status: 'DONE', endTimeMs: 1736935199000, sequence: 40 });
    expect(byName['events__3__42__20260115T1100Z']).toMatchObject({ status: 'IN_PROGRESS', downloadUrl: '' });
    expect(byName.garbage!.status).toBe('UNKNOWN');
    expect(listing.problems.map((p) => p.segment)).toEqual(['garbage']);
    expect(await source.list('nothing_REALTIME')).toEqual({ table: 'nothing_REALTIME', segments: [], complete: true, problems: [] });
  });

  it('reads a completed segment once, and re-reads segments that may still change', async () => {
    const source = new ZkSegmentSource({ client, cluster: 'PinotCluster' });
    await source.list('events_REALTIME');
    const spy = vi.spyOn(client, 'getData');
    try {
      await client.setData(`${dir}/events__3__42__20260115T1100Z`, Buffer.from(pinotJson('events__3__42__20260115T1100Z', {
        ...DONE_FIELDS, 'segment.download.url': 's3://bucket/x',
      })), 0);
      const listing = await source.list('events_REALTIME');
      expect(spy.mock.calls.map((c) => c[0].slice(dir.length + 1)).sort()).toEqual(['events__3__42__20260115T1100Z', 'garbage']);
      expect(listing.segments.find((s) => s.name === 'events__3__42__20260115T1100Z')!.status).toBe('DONE');
    } finally {
      spy.mockRestore();
    }
  });
});

describeFixtures('DeepStoreSegmentSource on segments written by Pinot 1.5.1', 'fixtures/pinot-generated/1.5.1', (fixtures) => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'deepstore-'));
    await mkdir(join(root, 'events'));
    // Pinot's controller data dir: <root>/<rawTable>/<segment> (archives without extension, or .tar.gz).
    await symlink(join(fixtures, 'events__0__12__20261126T0000Z.tar.gz'), join(root, 'events', 'events__0__12__20261126T0000Z'));
    await symlink(join(fixtures, 'events__0__13__20261126T0100Z.tar.gz'), join(root, 'events', 'events__0__13__20261126T0100Z.tar.gz'));
    await writeFile(join(root, 'events', 'half-copied.tar.gz'), Buffer.from([0x1f, 0x8b, 8, 0]));
    await writeFile(join(root, 'events', '.hidden'), 'x');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('lists the segments with times from their own metadata, as an incomplete listing', async () => {
    const source = new DeepStoreSegmentSource({ root: pathToFileURL(root).href });
    const listing = await source.list('events_REALTIME');
    expect(listing.complete).toBe(false);
    const done = listing.segments.filter((s) => s.status === 'DONE').sort((a, b) => a.name.localeCompare(b.name));
    expect(done).toEqual([
      { name: 'events__0__12__20261126T0000Z', status: 'DONE', downloadUrl: pathToFileURL(join(root, 'events', 'events__0__12__20261126T0000Z')).href,
        totalDocs: 5000, startTimeMs: 1795651200486, endTimeMs: 1795656199344, partition: 0, sequence: 12 },
      { name: 'events__0__13__20261126T0100Z', status: 'DONE', downloadUrl: pathToFileURL(join(root, 'events', 'events__0__13__20261126T0100Z.tar.gz')).href,
        totalDocs: 5000, startTimeMs: 1795651200486, endTimeMs: 1795656199344, partition: 0, sequence: 13 },
    ]);
    expect(listing.problems.map((p) => p.segment)).toEqual(['half-copied.tar.gz']);
    expect(listing.segments.find((s) => s.name === 'half-copied')!.status).toBe('UNKNOWN');
    expect((await source.list('absent_REALTIME')).segments).toEqual([]);
  });

  it('opens each segment once while it is unchanged', async () => {
    const source = new DeepStoreSegmentSource({ root });
    const spy = vi.spyOn(SegmentReader, 'open');
    try {
      await source.list('events_REALTIME');
      expect(spy).toHaveBeenCalledTimes(3); // two segments and the half-copied archive
      const listing = await source.list('events_REALTIME');
      expect(spy).toHaveBeenCalledTimes(4); // only the unreadable one again
      expect(listing.segments.filter((s) => s.status === 'DONE')).toHaveLength(2);
    } finally {
      spy.mockRestore();
    }
  });
});
