/**
 * v3 container, v1 file names and creation.meta against Pinot's own segments: fed a fixture's own index
 * buffers (in any order), assembleV3 must give back its index_map and columns.psf byte for byte.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCreationMeta } from '../../src/sources/pinot/creation-meta.js';
import { parseIndexMap } from '../../src/sources/pinot/index-map.js';
import { parseSegmentMetadata, type SegmentMetadata } from '../../src/sources/pinot/metadata.js';
import { parseProperties } from '../../src/sources/pinot/properties.js';
import type { IndexBuffer } from '../../src/sources/pinot/write/contracts.js';
import {
  V3_MAGIC_MARKER, assembleV3, computeDataCrc, creationMeta, indexMapLines, pinotBufferOrder, v1FileName, v1Files, type ColumnShape,
} from '../../src/sources/pinot/write/container-writer.js';
import { describeFixtures } from '../support/fixtures.js';
import { ExtractedFixtures, GENERATED_151, SEGMENTS_151, shuffled, v3Buffers } from './segment-files-helpers.js';

function sha256(parts: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

function shapes(meta: SegmentMetadata): (column: string) => ColumnShape {
  return (column) => {
    const c = meta.columns.get(column)!;
    return { singleValue: c.singleValue, sorted: c.isSorted, hasDictionary: c.hasDictionary };
  };
}

describeFixtures('assembleV3 rebuilds Pinot 1.5.1 containers byte for byte', GENERATED_151, (dir) => {
  const fixtures = new ExtractedFixtures(dir);
  afterAll(() => fixtures.cleanup());

  for (const [i, name] of SEGMENTS_151.entries()) {
    it(name, async () => {
      const segmentDir = await fixtures.dir(name);
      const buffers = await v3Buffers(segmentDir);
      const indexMap = await fixtures.text(name, 'v3/index_map');
      const psf = await fixtures.file(name, 'v3/columns.psf');
      const container = assembleV3(shuffled(buffers, i + 1));
      expect(container.indexMap).toBe(indexMap);
      expect(container.length).toBe(psf.length);
      expect(container.columnsPsf.reduce((n, p) => n + p.length, 0)).toBe(psf.length);
      expect(sha256(container.columnsPsf)).toBe(sha256([psf]));
      expect(container.entries).toEqual(parseIndexMap(indexMap));
      // Parts are the caller's buffers, not copies.
      expect(container.columnsPsf.filter((_, k) => k % 2 === 1).every((p) => buffers.some((b) => b.bytes === p))).toBe(true);
    });

    it(`${name}: data CRC of creation.meta recomputed from the buffers`, async () => {
      const meta = parseSegmentMetadata(await fixtures.text(name, 'v3/metadata.properties'));
      const created = parseCreationMeta(await fixtures.file(name, 'v3/creation.meta'));
      expect(created.dataCrc).toBeDefined();
      expect(BigInt(computeDataCrc(await v3Buffers(await fixtures.dir(name)), shapes(meta)))).toBe(created.dataCrc);
    });

    it(`${name}: creation.meta re-encoded`, async () => {
      const bytes = await fixtures.file(name, 'v3/creation.meta');
      const created = parseCreationMeta(bytes);
      expect(Buffer.from(creationMeta(Number(created.crc), created.creationTimeMs, created.dataCrc))).toEqual(bytes);
    });
  }
});

describeFixtures('assembleV3 on an older Pinot (1.3-era baseballStats)', 'fixtures/pinot-segments/baseballStats-v3', (dir) => {
  const fixtures = new ExtractedFixtures(dir);
  afterAll(() => fixtures.cleanup());
  it('baseballStats_OFFLINE_0.2024-10 index_map and columns.psf', async () => {
    const name = 'baseballStats_OFFLINE_0.2024-10';
    const segmentDir = await fixtures.dir(name);
    const container = assembleV3(shuffled(await v3Buffers(segmentDir), 99));
    expect(container.indexMap).toBe(await readFile(join(segmentDir, 'v3/index_map'), 'utf8'));
    expect(sha256(container.columnsPsf)).toBe(sha256([await readFile(join(segmentDir, 'v3/columns.psf'))]));
  });
});

describe('assembleV3 rules', () => {
  const buf = (column: string, indexType: IndexBuffer['indexType'], n: number): IndexBuffer => ({ column, indexType, bytes: new Uint8Array(n).fill(n) });

  it('orders by column then index id, markers back to back, no padding', () => {
    const c = assembleV3([buf('b', 'forward_index', 3), buf('a', 'nullvalue_vector', 1), buf('b', 'dictionary', 0), buf('a', 'forward_index', 5)]);
    expect(c.entries).toEqual([
      { column: 'a', indexType: 'forward_index', startOffset: 0, size: 13 },
      { column: 'a', indexType: 'nullvalue_vector', startOffset: 13, size: 9 },
      { column: 'b', indexType: 'dictionary', startOffset: 22, size: 8 },
      { column: 'b', indexType: 'forward_index', startOffset: 30, size: 11 },
    ]);
    expect(c.length).toBe(41);
    expect(c.columnsPsf.map((p) => p.length)).toEqual([8, 5, 8, 1, 8, 0, 8, 3]);
    expect(c.columnsPsf.filter((_, i) => i % 2 === 0).every((m) => m === V3_MAGIC_MARKER)).toBe(true);
    expect([...V3_MAGIC_MARKER]).toEqual([0xde, 0xad, 0xbe, 0xef, 0xde, 0xaf, 0xbe, 0xad]);
    expect(c.indexMap.split('\n').slice(0, 4)).toEqual([
      'a.forward_index.startOffset = 0', 'a.forward_index.size = 13', 'a.nullvalue_vector.startOffset = 13', 'a.nullvalue_vector.size = 9',
    ]);
  });

  it('sorts columns in Java string order (upper case first, by UTF-16 unit)', () => {
    const order = pinotBufferOrder([buf('é', 'dictionary', 1), buf('a', 'dictionary', 1), buf('B', 'dictionary', 1), buf('\u{1F600}', 'dictionary', 1), buf('\uFFFD', 'dictionary', 1)]);
    expect(order.map((b) => b.column)).toEqual(['B', 'a', 'é', '\u{1F600}', '\uFFFD']);
  });

  it('refuses a duplicate (column, index)', () => {
    expect(() => assembleV3([buf('a', 'dictionary', 1), buf('a', 'dictionary', 2)])).toThrow(/two dictionary buffers/);
  });

  it('writes index_map keys escaped as SingleFileIndexDirectoryTest expects', () => {
    const text = indexMapLines('foo', 'inverted_index', 0, 1024) + indexMapLines('bar', 'inverted_index', 1024, 100)
      + indexMapLines('=special', 'inverted_index', 1324, 200) + indexMapLines('period.:colon', 'inverted_index', 1524, 200);
    expect(text).toBe([
      'foo.inverted_index.startOffset = 0', 'foo.inverted_index.size = 1024',
      'bar.inverted_index.startOffset = 1024', 'bar.inverted_index.size = 100',
      '\\=special.inverted_index.startOffset = 1324', '\\=special.inverted_index.size = 200',
      'period.\\:colon.inverted_index.startOffset = 1524', 'period.\\:colon.inverted_index.size = 200', '',
    ].join('\n'));
    // …and the repo's reader gets the column names back.
    expect(parseIndexMap(text).map((e) => e.column)).toEqual(['foo', 'bar', '=special', 'period.:colon']);
  });
});

describe('v1FileName', () => {
  it.each([
    ['dictionary', { singleValue: true, sorted: false, hasDictionary: true }, 'c.dict'],
    ['nullvalue_vector', { singleValue: true, sorted: false, hasDictionary: false }, 'c.bitmap.nullvalue'],
    ['forward_index', { singleValue: true, sorted: false, hasDictionary: true }, 'c.sv.unsorted.fwd'],
    ['forward_index', { singleValue: true, sorted: true, hasDictionary: true }, 'c.sv.sorted.fwd'],
    ['forward_index', { singleValue: true, sorted: true, hasDictionary: false }, 'c.sv.raw.fwd'],
    ['forward_index', { singleValue: true, sorted: false, hasDictionary: false }, 'c.sv.raw.fwd'],
    ['forward_index', { singleValue: false, sorted: false, hasDictionary: true }, 'c.mv.fwd'],
    ['forward_index', { singleValue: false, sorted: false, hasDictionary: false }, 'c.mv.raw.fwd'],
  ] as const)('%s %j → %s', (indexType, shape, name) => {
    expect(v1FileName('c', indexType, shape)).toBe(name);
  });

  it('lists v1 files in name order (the CRC order)', () => {
    const shape = { singleValue: true, sorted: false, hasDictionary: true };
    expect(v1Files([{ column: 'b', indexType: 'dictionary', bytes: new Uint8Array(0) }, { column: 'a', indexType: 'forward_index', bytes: new Uint8Array(0) }], () => shape)
      .map((f) => f.name)).toEqual(['a.sv.unsorted.fwd', 'b.dict']);
  });
});

describeFixtures('v1FileName names the files of a real v1 segment', 'fixtures/pinot-segments/v1-2022-testTable-mv-raw', (dir) => {
  it('testTable_1756015683_1756015683', async () => {
    const segmentDir = join(dir, 'testTable_1756015683_1756015683');
    const present = new Set(readdirSync(segmentDir));
    const meta = parseSegmentMetadata(parseProperties(await readFile(join(segmentDir, 'metadata.properties'))));
    const shape = shapes(meta);
    let checked = 0;
    for (const column of meta.physicalColumns) {
      const fwd = v1FileName(column, 'forward_index', shape(column));
      expect(present.has(fwd), fwd).toBe(true);
      if (meta.columns.get(column)!.hasDictionary) expect(present.has(v1FileName(column, 'dictionary', shape(column)))).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });
});

describe('creationMeta', () => {
  it('encodes the worked example of §2 (16 bytes)', () => {
    expect([...creationMeta(3810015968, 1680183806422n)]).toEqual([
      0x00, 0x00, 0x00, 0x00, 0xe3, 0x18, 0x3a, 0xe0, 0x00, 0x00, 0x01, 0x87, 0x32, 0xc2, 0x49, 0xd6,
    ]);
  });

  it('adds the data CRC as a third long (24 bytes), Long.MIN_VALUE included', () => {
    const bytes = creationMeta(1, 2n, -(2n ** 63n));
    expect(bytes.length).toBe(24);
    expect(parseCreationMeta(bytes)).toEqual({ crc: 1n, creationTimeMs: 2n, dataCrc: -(2n ** 63n) });
  });

  it('refuses values that do not fit', () => {
    expect(() => creationMeta(-1, 0n)).toThrow(RangeError);
    expect(() => creationMeta(2 ** 32, 0n)).toThrow(RangeError);
    expect(() => creationMeta(1.5, 0n)).toThrow(RangeError);
    expect(() => creationMeta(0, 2n ** 63n)).toThrow(RangeError);
    expect(() => creationMeta(0, 0n, 2n ** 64n)).toThrow(RangeError);
  });
});
