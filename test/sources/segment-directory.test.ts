/**
 * writeSegmentDirectory from a Pinot 1.5.1 fixture's own buffers: the v3 directory is the fixture's, file
 * for file and byte for byte (creation.meta included); CRCs agree with the reader's computeSegmentCrc; the
 * reader decodes the same rows from the written v3 and v1 directories as from the original tarball.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { openLocalSegmentFiles } from '../../src/sources/deepstore/local-files.js';
import { writeSegmentDirectory } from '../../src/sources/deepstore/segment-directory.js';
import { computeSegmentCrc, parseCreationMeta } from '../../src/sources/pinot/creation-meta.js';
import { metadataProperties } from '../../src/sources/pinot/write/metadata-writer.js';
import { describeFixtures } from '../support/fixtures.js';
import { readRows } from '../support/rows.js';
import { ExtractedFixtures, GENERATED_151, SEGMENTS_151, shuffled, v3Buffers, writerInputs } from '../write/segment-files-helpers.js';
import { readTree, rejectsWith, scratchDir } from './helpers.js';

const scratch: string[] = [];
afterEach(() => {
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
});

function outDir(): string {
  const d = scratchDir('segdir-');
  scratch.push(d);
  return join(d, 'out');
}

describeFixtures('writeSegmentDirectory with Pinot 1.5.1 fixtures', GENERATED_151, (dir) => {
  const fixtures = new ExtractedFixtures(dir);
  afterAll(() => fixtures.cleanup());

  for (const [i, name] of SEGMENTS_151.entries()) {
    it(`${name}: v3 directory identical to Pinot's, rows identical`, async () => {
      const original = await fixtures.dir(name);
      const created = parseCreationMeta(await fixtures.file(name, 'v3/creation.meta'));
      const out = outDir();
      const written = await writeSegmentDirectory(out, {
        version: 'v3',
        buffers: shuffled(await v3Buffers(original), i + 5),
        metadataText: await fixtures.text(name, 'v3/metadata.properties'),
        creationTimeMs: created.creationTimeMs,
        dataCrc: 'compute',
      });
      expect(written.files).toEqual(['v3/columns.psf', 'v3/index_map', 'v3/metadata.properties', 'v3/creation.meta']);
      expect(BigInt(written.crc)).toBe(created.crc);
      expect(written.dataCrc).toBe(created.dataCrc);
      const mine = readTree(out);
      const theirs = readTree(original);
      expect([...mine.keys()]).toEqual([...theirs.keys()]);
      for (const [path, bytes] of theirs) expect(mine.get(path)!.equals(bytes), path).toBe(true);
      const files = openLocalSegmentFiles(join(out, 'v3'));
      try {
        expect(computeSegmentCrc(files)).toBe(written.crc);
      } finally {
        files.close();
      }
      expect(await readRows(out, { batchRows: 1000 })).toStrictEqual(await readRows(join(dir, `${name}.tar.gz`), { batchRows: 1000 }));
    });
  }

  for (const name of ['events__0__12__20261126T0000Z', 'dictvar_mvraw', 'sorted_bigdecimal', 'rawfwd_version5']) {
    it(`${name}: v1 directory (one file per index) decodes to the same rows`, async () => {
      const original = await fixtures.dir(name);
      const created = parseCreationMeta(await fixtures.file(name, 'v3/creation.meta'));
      const { info, stats, meta } = writerInputs(await fixtures.text(name, 'v3/metadata.properties'), join(dir, `${name}.schema.json`));
      const out = outDir();
      const written = await writeSegmentDirectory(out, {
        version: 'v1',
        buffers: await v3Buffers(original),
        metadataText: metadataProperties(info, stats, { version: 'v1' }),
        creationTimeMs: 1700000000000n,
        dataCrc: 'compute',
      });
      // Same v1 .fwd/.dict bytes as Pinot had before its v3 conversion: same data CRC.
      expect(written.dataCrc).toBe(created.dataCrc);
      const names = readdirSync(out).sort();
      expect(names).toEqual([...written.files].sort());
      expect(written.files.at(-1)).toBe('creation.meta');
      expect(written.files.slice(0, -1)).toEqual([...written.files.slice(0, -1)].sort());
      expect(names).toContain('metadata.properties');
      expect(names.some((n) => n.endsWith('.sv.sorted.fwd'))).toBe(true);
      expect(names.filter((n) => n.endsWith('.dict')).length).toBe([...meta.columns.values()].filter((c) => c.hasDictionary).length);
      const files = openLocalSegmentFiles(out);
      try {
        expect(computeSegmentCrc(files)).toBe(written.crc);
        expect(parseCreationMeta(files.open('creation.meta').read(0, 24))).toEqual({
          crc: BigInt(written.crc), creationTimeMs: 1700000000000n, dataCrc: created.dataCrc,
        });
      } finally {
        files.close();
      }
      expect(await readRows(out, { batchRows: 999 })).toStrictEqual(await readRows(join(dir, `${name}.tar.gz`), { batchRows: 999 }));
    });
  }
});

describe('writeSegmentDirectory rules', () => {
  const metadataText = metadataProperties(
    { name: 's', tableName: 't', totalDocs: 1, dimensions: ['c'], metrics: [], dateTimes: [], complex: [] },
    [{
      name: 'c', dataType: 'INT', fieldType: 'DIMENSION', singleValue: true, hasDictionary: true, isSorted: true, cardinality: 1,
      bitsPerElement: 1, lengthOfEachEntry: 0, maxNumberOfMultiValues: 0, totalNumberOfEntries: 1, minValue: '7', maxValue: '7',
      defaultNullValue: '-2147483648', isAutoGenerated: false,
    }],
  );
  const buffers = [
    { column: 'c', indexType: 'dictionary' as const, bytes: Uint8Array.of(0, 0, 0, 7) },
    { column: 'c', indexType: 'forward_index' as const, bytes: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0) },
  ];

  it('writes a 16-byte creation.meta without a data CRC', async () => {
    const out = outDir();
    const written = await writeSegmentDirectory(out, { version: 'v3', buffers, metadataText, creationTimeMs: 5n });
    expect(written.dataCrc).toBeUndefined();
    const tree = readTree(out);
    expect(tree.get('v3/creation.meta')!.length).toBe(16);
    expect(parseCreationMeta(tree.get('v3/creation.meta')!)).toEqual({ crc: BigInt(written.crc), creationTimeMs: 5n });
    expect(await readRows(out)).toEqual([{ c: 7 }]);
  });

  it('takes an explicit data CRC as given', async () => {
    const out = outDir();
    const written = await writeSegmentDirectory(out, { version: 'v1', buffers, metadataText, creationTimeMs: 5n, dataCrc: -(2n ** 63n) });
    expect(written.files).toEqual(['c.dict', 'c.sv.sorted.fwd', 'metadata.properties', 'creation.meta']);
    expect(parseCreationMeta(readTree(out).get('creation.meta')!).dataCrc).toBe(-(2n ** 63n));
  });

  it('refuses a non-empty output directory and buffers of undescribed columns', async () => {
    const out = outDir();
    await writeSegmentDirectory(out, { version: 'v3', buffers, metadataText, creationTimeMs: 5n });
    await rejectsWith(writeSegmentDirectory(out, { version: 'v3', buffers, metadataText, creationTimeMs: 5n }), ErrorCodes.USAGE);
    const other = outDir();
    await rejectsWith(writeSegmentDirectory(other, {
      version: 'v1', buffers: [...buffers, { column: 'ghost', indexType: 'dictionary', bytes: new Uint8Array(1) }], metadataText, creationTimeMs: 5n,
    }), ErrorCodes.USAGE);
  });

  it('reports local I/O failures as SOURCE_FETCH_FAILED', async () => {
    const parent = outDir();
    writeFileSync(`${parent}-file`, 'x');
    scratch.push(`${parent}-file`);
    await rejectsWith(writeSegmentDirectory(join(`${parent}-file`, 'sub'), { version: 'v3', buffers, metadataText, creationTimeMs: 5n }), ErrorCodes.SOURCE_FETCH_FAILED);
  });
});
