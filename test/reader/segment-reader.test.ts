/** SegmentReader: schema, column subsets, bounded batches, the backpressured Readable, cleanup. */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataType, type RecordBatch } from 'apache-arrow';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ErrorCodes, ExporterError } from '../../src/errors.js';
import { SegmentReader } from '../../src/sources/segment-reader.js';
import { describeFixtures } from '../support/fixtures.js';

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'reader-'));
});
afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

describeFixtures('SegmentReader', 'fixtures/pinot-generated/1.5.1', (dir) => {
  const events = join(dir, 'events__0__12__20261126T0000Z.tar.gz');

  it('maps Pinot types to the documented Arrow types, with Pinot facts in field metadata', async () => {
    await using reader = await SegmentReader.open(events, { workDir: work });
    const schema = reader.schema();
    const byName = new Map(schema.fields.map((f) => [f.name, f]));
    expect(DataType.isInt(byName.get('user_id')!.type)).toBe(true);
    expect(DataType.isBool(byName.get('is_active')!.type)).toBe(true);
    const ts = byName.get('ts')!.type;
    expect(DataType.isTimestamp(ts) && ts.unit === 1 && ts.timezone === 'UTC').toBe(true); // 1 = MILLISECOND
    expect(DataType.isDictionary(byName.get('country')!.type)).toBe(true);
    expect(DataType.isUtf8(byName.get('session_id')!.type)).toBe(true); // raw: no dictionary to reuse
    expect(byName.get('payload')!.metadata.get('pinot.dataType')).toBe('JSON');
    expect(byName.get('amount')!.metadata.get('pinot.dataType')).toBe('BIG_DECIMAL');
    const tags = byName.get('tags_int')!.type;
    expect(DataType.isList(tags) && DataType.isInt(tags.children[0]!.type)).toBe(true);
    expect(schema.fields.every((f) => f.nullable)).toBe(true);
    expect(schema.metadata.get('pinot.segment.name')).toBe('events__0__12__20261126T0000Z');
    // The batches carry the same schema the reader announced.
    const first = await reader.batches({ batchRows: 10 }).next();
    expect((first.value as RecordBatch).schema.fields.map((f) => String(f.type))).toStrictEqual(schema.fields.map((f) => String(f.type)));
  });

  it('reads a subset of columns in the requested order, in bounded batches', async () => {
    await using reader = await SegmentReader.open(events, { workDir: work });
    const sizes: number[] = [];
    for await (const batch of reader.batches({ columns: ['ts', 'country'], batchRows: 1200 })) {
      expect(batch.schema.fields.map((f) => f.name)).toStrictEqual(['ts', 'country']);
      sizes.push(batch.numRows);
    }
    expect(sizes).toStrictEqual([1200, 1200, 1200, 1200, 200]);
  });

  it('nulls come from the null vector as Arrow validity', async () => {
    await using reader = await SegmentReader.open(events, { workDir: work });
    let nulls = 0;
    for await (const batch of reader.batches({ columns: ['blob', 'score'] })) {
      nulls += batch.getChild('blob')!.nullCount;
      expect(batch.getChild('score')!.nullCount).toBe(0); // score has no null vector
    }
    expect(nulls).toBeGreaterThan(0);
  });

  it('the Readable decodes only as fast as its consumer reads (backpressure)', async () => {
    await using reader = await SegmentReader.open(events, { workDir: work });
    const readable = reader.toReadable({ batchRows: 100 });
    readable.read(0); // ask it to fill its buffer, then consume nothing for a while
    await new Promise((r) => setTimeout(r, 200));
    expect(readable.readableLength).toBeLessThanOrEqual(1); // highWaterMark 1, not all 50 batches
    let batches = 0;
    let rows = 0;
    await pipeline(readable, new Writable({
      objectMode: true,
      highWaterMark: 1,
      write(batch: RecordBatch, _enc, cb) {
        batches++;
        rows += batch.numRows;
        setImmediate(cb);
      },
    }));
    expect(rows).toBe(5000);
    expect(batches).toBe(50);
  });

  it('close() removes the extraction directory; a closed reader refuses to read', async () => {
    const reader = await SegmentReader.open(events, { workDir: work });
    expect(readdirSync(work).length).toBe(1);
    expect(existsSync(reader.dir)).toBe(true);
    await reader.close();
    expect(readdirSync(work)).toStrictEqual([]);
    await expect(reader.batches().next()).rejects.toThrow(/closed/);
  });

  it('a segment that fails to open leaves nothing behind and names the segment', async () => {
    const err = await SegmentReader.open(join(dir, 'rawfwd_version2.schema.json'), { workDir: work }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ExporterError);
    expect((err as ExporterError).code).toBe(ErrorCodes.ARCHIVE_INVALID);
    expect((err as ExporterError).message).toContain('rawfwd_version2.schema.json');
    expect(readdirSync(work)).toStrictEqual([]);
  });

  it('an unknown column is a typed error naming the segment and column', async () => {
    await using reader = await SegmentReader.open(events, { workDir: work });
    expect(() => reader.schema({ columns: ['nope'] })).toThrow(expect.objectContaining({
      code: ErrorCodes.PINOT_UNKNOWN_COLUMN,
      context: expect.objectContaining({ segment: 'events__0__12__20261126T0000Z', column: 'nope' }),
    }));
  });
});
