import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SegmentFormatError } from '../../src/errors.js';
import { readAll, type ByteRange } from '../../src/sources/pinot/bytes.js';
import { parseIndexMap } from '../../src/sources/pinot/index-map.js';
import { memoryFiles } from '../../src/sources/pinot/memory-files.js';
import { parseSegmentMetadata, type SegmentMetadata } from '../../src/sources/pinot/metadata.js';
import { V3_MAGIC_MARKER, openSegmentLayout, v1IndexFileName } from '../../src/sources/pinot/segment-layout.js';
import type { IndexType, SegmentFiles } from '../../src/sources/pinot/types.js';
import { describeFixtures } from '../support/fixtures.js';
import { thrown } from '../support/errors.js';

const MARKER = [0xde, 0xad, 0xbe, 0xef, 0xde, 0xaf, 0xbe, 0xad];


/** Metadata for columns given as name → extra keys (SV INT dictionary columns by default). */
function metadata(columns: Record<string, Record<string, string>>, version = 'v3'): SegmentMetadata {
  const lines = [
    'segment.name = s', 'segment.total.docs = 4', `segment.index.version = ${version}`,
    `segment.dimension.column.names = ${Object.keys(columns).join(',')}`,
  ];
  for (const [name, extra] of Object.entries(columns)) {
    const keys = { dataType: 'INT', columnType: 'DIMENSION', cardinality: '2', ...extra };
    for (const [k, v] of Object.entries(keys)) lines.push(`column.${name}.${k} = ${v}`);
  }
  return parseSegmentMetadata(lines.join('\n'));
}

interface Buffer {
  column: string;
  indexType: string;
  payload: number[];
  /** Overrides for corrupt cases. */
  size?: number;
  marker?: number[];
}

/** A v3 `columns.psf` + `index_map` built the way Pinot appends buffers (marker, payload, no padding). */
function v3Files(buffers: Buffer[], extra: Record<string, Uint8Array> = {}): { files: SegmentFiles; psf: Uint8Array } {
  const psf: number[] = [];
  const map: string[] = [];
  for (const b of buffers) {
    const start = psf.length;
    const size = b.size ?? (b.payload.length === 0 && b.marker?.length === 0 ? 0 : 8 + b.payload.length);
    if (size !== 0) psf.push(...(b.marker ?? MARKER), ...b.payload);
    map.push(`${b.column}.${b.indexType}.startOffset = ${start}`, `${b.column}.${b.indexType}.size = ${size}`);
  }
  const psfBytes = Uint8Array.from(psf);
  return {
    files: memoryFiles({ index_map: new TextEncoder().encode(`${map.join('\n')}\n`), 'columns.psf': psfBytes, ...extra }),
    psf: psfBytes,
  };
}

function bytesOf(range: ByteRange | undefined): number[] {
  expect(range).toBeDefined();
  return [...readAll(range!)];
}

describe('openSegmentLayout: v3', () => {
  const meta = metadata({ a: {}, b: { hasDictionary: 'false' }, c: {}, r: {}, n: {} });
  const { files } = v3Files([
    { column: 'a', indexType: 'dictionary', payload: [0, 0, 0, 1, 0, 0, 0, 2] },
    { column: 'a', indexType: 'forward_index', payload: [0x50] },
    { column: 'a', indexType: 'nullvalue_vector', payload: [0x3a, 0x30, 0, 0, 0, 0, 0, 0] },
    { column: 'b', indexType: 'forward_index', payload: [1, 2, 3] },
    { column: 'c', indexType: 'dictionary', payload: [] },
    { column: 'c', indexType: 'inverted_index', payload: [9, 9] },
    { column: 'r', indexType: 'forward_index', payload: [], marker: [] },
    { column: 'n', indexType: 'text_index', payload: [7] },
  ]);
  const layout = openSegmentLayout(files, meta);

  it('is v3 and slices each index after its marker', () => {
    expect(layout.version).toBe('v3');
    expect(bytesOf(layout.indexRange('a', 'dictionary'))).toEqual([0, 0, 0, 1, 0, 0, 0, 2]);
    expect(bytesOf(layout.indexRange('a', 'forward_index'))).toEqual([0x50]);
    expect(bytesOf(layout.indexRange('a', 'nullvalue_vector'))).toEqual([0x3a, 0x30, 0, 0, 0, 0, 0, 0]);
    expect(bytesOf(layout.indexRange('b', 'forward_index'))).toEqual([1, 2, 3]);
    expect(bytesOf(layout.indexRange('c', 'inverted_index'))).toEqual([9, 9]);
  });

  it('keeps each range inside its own buffer', () => {
    const range = layout.indexRange('a', 'forward_index')!;
    expect(range.length).toBe(1);
    expect(() => range.read(0, 2)).toThrow(SegmentFormatError);
  });

  it('gives a marker-only (size 8) dictionary as an empty range', () => {
    expect(layout.indexRange('c', 'dictionary')!.length).toBe(0);
  });

  it('returns undefined for absent indexes and zero-size placeholders', () => {
    expect(layout.indexRange('b', 'dictionary')).toBeUndefined();
    expect(layout.indexRange('b', 'nullvalue_vector')).toBeUndefined();
    expect(layout.indexRange('r', 'forward_index')).toBeUndefined();
  });

  it('tells present, disabled and remote forward indexes apart', () => {
    expect(layout.forwardIndexState('a')).toBe('present');
    expect(layout.forwardIndexState('c')).toBe('disabled');
    expect(layout.forwardIndexState('n')).toBe('disabled');
    expect(layout.forwardIndexState('r')).toBe('remote');
  });

  it('rejects columns the metadata does not describe', () => {
    const err = thrown(() => layout.indexRange('zzz', 'forward_index'));
    expect(err.code).toBe('PINOT_UNKNOWN_COLUMN');
    expect(err.context.column).toBe('zzz');
    expect(thrown(() => layout.forwardIndexState('zzz')).code).toBe('PINOT_UNKNOWN_COLUMN');
  });

  it('exports the marker constant Pinot writes', () => {
    expect([...V3_MAGIC_MARKER]).toEqual(MARKER);
  });
});

describe('openSegmentLayout: v3 corruption', () => {
  const meta = metadata({ a: {}, b: {} });

  it('reports a flipped marker byte with column, index and offset', () => {
    const { files } = v3Files([
      { column: 'a', indexType: 'dictionary', payload: [1, 2, 3, 4] },
      { column: 'b', indexType: 'forward_index', payload: [5], marker: [0xde, 0xad, 0xbe, 0xef, 0xde, 0xaf, 0xbe, 0xac] },
    ]);
    const layout = openSegmentLayout(files, meta);
    // The healthy buffer still reads: markers are checked per index, when it is asked for.
    expect(bytesOf(layout.indexRange('a', 'dictionary'))).toEqual([1, 2, 3, 4]);
    const err = thrown(() => layout.indexRange('b', 'forward_index'));
    expect(err.code).toBe('PINOT_BAD_MAGIC');
    expect(err.context).toMatchObject({ column: 'b', index: 'forward_index', offset: 12 });
    expect(err.message).toContain('de ad be ef de af be ac');
    expect(err.message).toContain('offset=12');
  });

  it('reports an entry past the end of columns.psf as truncation, when the layout is opened', () => {
    const { files } = v3Files([
      { column: 'a', indexType: 'dictionary', payload: [1, 2] },
      { column: 'b', indexType: 'forward_index', payload: [5, 6], size: 40 },
    ]);
    const err = thrown(() => openSegmentLayout(files, meta));
    expect(err.code).toBe('PINOT_TRUNCATED');
    expect(err.context).toMatchObject({ column: 'b', index: 'forward_index', offset: 10 });
    expect(err.message).toContain('columns.psf (20 bytes)');
  });

  it('reports a missing columns.psf as truncation at the first entry', () => {
    const { files } = v3Files([{ column: 'a', indexType: 'dictionary', payload: [1] }]);
    const withoutPsf = memoryFiles({ index_map: readAll(files.open('index_map')) });
    const err = thrown(() => openSegmentLayout(withoutPsf, meta));
    expect(err.code).toBe('PINOT_TRUNCATED');
    expect(err.context).toMatchObject({ column: 'a', index: 'dictionary', offset: 0 });
  });

  it('rejects an entry too small to hold its marker', () => {
    const { files } = v3Files([{ column: 'a', indexType: 'dictionary', payload: [1, 2, 3, 4], size: 5 }]);
    const err = thrown(() => openSegmentLayout(files, meta));
    expect(err.code).toBe('PINOT_CORRUPT');
    expect(err.context).toMatchObject({ column: 'a', index: 'dictionary' });
  });

  it('passes index_map errors through with their code', () => {
    const files = memoryFiles({ index_map: new TextEncoder().encode('a.dictionary.length = 3\n'), 'columns.psf': new Uint8Array(0) });
    const err = thrown(() => openSegmentLayout(files, meta));
    expect(err.code).toBe('PINOT_BAD_METADATA');
    expect(err.context).toMatchObject({ index: 'index_map', key: 'a.dictionary.length' });
  });

  it('rejects columns.psf without index_map, and v3 metadata without either', () => {
    expect(thrown(() => openSegmentLayout(memoryFiles({ 'columns.psf': new Uint8Array(8) }), meta)).code).toBe('PINOT_CORRUPT');
    expect(thrown(() => openSegmentLayout(memoryFiles({ 'a.dict': new Uint8Array(8) }), meta)).code).toBe('PINOT_CORRUPT');
  });
});

describe('openSegmentLayout: v1', () => {
  const meta = metadata({
    sorted: { isSorted: 'true' },
    unsorted: {},
    mv: { isSingleValues: 'false' },
    raw: { hasDictionary: 'false' },
    mvraw: { hasDictionary: 'false', isSingleValues: 'false' },
    enc: { hasDictionary: 'true', forwardIndexEncoding: 'RAW' },
    gone: {},
  }, 'v1');

  it('names forward index files after the column shape (§6)', () => {
    const name = (c: string, t: IndexType): string => v1IndexFileName(meta.columns.get(c)!, t);
    expect(name('sorted', 'forward_index')).toBe('sorted.sv.sorted.fwd');
    expect(name('unsorted', 'forward_index')).toBe('unsorted.sv.unsorted.fwd');
    expect(name('mv', 'forward_index')).toBe('mv.mv.fwd');
    expect(name('raw', 'forward_index')).toBe('raw.sv.raw.fwd');
    expect(name('mvraw', 'forward_index')).toBe('mvraw.mv.raw.fwd');
    expect(name('enc', 'forward_index')).toBe('enc.sv.raw.fwd');
    expect(name('mv', 'dictionary')).toBe('mv.dict');
    expect(name('mv', 'nullvalue_vector')).toBe('mv.bitmap.nullvalue');
    expect(name('mv', 'inverted_index')).toBe('mv.bitmap.inv');
  });

  it('opens the files, and reports a missing forward index as disabled', () => {
    const files = memoryFiles({
      'metadata.properties': new Uint8Array(1),
      'sorted.sv.sorted.fwd': Uint8Array.of(1),
      'sorted.dict': Uint8Array.of(2, 2),
      'unsorted.sv.unsorted.fwd': Uint8Array.of(3),
      'unsorted.bitmap.nullvalue': Uint8Array.of(4),
      // A file for the wrong shape must not be picked up.
      'mv.sv.unsorted.fwd': Uint8Array.of(5),
      'gone.dict': Uint8Array.of(6),
      'gone.bitmap.inv': Uint8Array.of(7),
    });
    const layout = openSegmentLayout(files, meta);
    expect(layout.version).toBe('v1');
    expect(bytesOf(layout.indexRange('sorted', 'forward_index'))).toEqual([1]);
    expect(bytesOf(layout.indexRange('sorted', 'dictionary'))).toEqual([2, 2]);
    expect(bytesOf(layout.indexRange('unsorted', 'nullvalue_vector'))).toEqual([4]);
    expect(bytesOf(layout.indexRange('gone', 'inverted_index'))).toEqual([7]);
    expect(layout.indexRange('mv', 'forward_index')).toBeUndefined();
    expect(layout.indexRange('sorted', 'nullvalue_vector')).toBeUndefined();
    expect(layout.forwardIndexState('sorted')).toBe('present');
    expect(layout.forwardIndexState('mv')).toBe('disabled');
    expect(layout.forwardIndexState('gone')).toBe('disabled');
    expect(thrown(() => layout.indexRange('nope', 'dictionary')).code).toBe('PINOT_UNKNOWN_COLUMN');
  });
});

/** All files directly in `dir` (the fixtures used here have no subfolders), in memory. */
function dirFiles(dir: string): SegmentFiles {
  const map = new Map<string, Uint8Array>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile()) map.set(entry.name, readFileSync(join(dir, entry.name)));
  }
  return memoryFiles(map);
}

describeFixtures('segment layout fixtures: v3-2017-views', 'fixtures/pinot-segments/v3-2017-views/segment_0/v3', (dir) => {
  it('opens every index of a real v3 segment, markers checked, sizes as the metadata implies', () => {
    const files = dirFiles(dir);
    const meta = parseSegmentMetadata(readAll(files.open('metadata.properties')));
    const layout = openSegmentLayout(files, meta);
    expect(layout.version).toBe('v3');
    const entries = parseIndexMap(readAll(files.open('index_map')));
    for (const e of entries) {
      const range = layout.indexRange(e.column, e.indexType as IndexType);
      expect(range?.length, `${e.column}.${e.indexType}`).toBe(e.size - 8);
    }
    for (const c of meta.columns.values()) {
      expect(layout.forwardIndexState(c.name)).toBe('present');
      // Fixed-width dictionaries: cardinality × entry width.
      expect(layout.indexRange(c.name, 'dictionary')!.length, c.name).toBe(c.cardinality * c.dictionaryElementSize!);
      // Fixed-bit SV forward index: 7 docs × 3 bits, rounded up to bytes.
      expect(layout.indexRange(c.name, 'forward_index')!.length).toBe(Math.ceil((meta.totalDocs * c.bitsPerElement) / 8));
    }
    // INT dictionaries are sorted big-endian ints.
    const score = readAll(layout.indexRange('Score', 'dictionary')!);
    const ints = [...Array(7).keys()].map((i) => Buffer.from(score).readInt32BE(i * 4));
    expect(ints).toEqual([...ints].sort((x, y) => x - y));
  });
});

describeFixtures('segment layout fixtures: v1-2022', 'fixtures/pinot-segments/v1-2022-testTable-mv-raw/testTable_1756015683_1756015683', (dir) => {
  it('finds the per-index files of a real v1 segment', () => {
    const files = dirFiles(dir);
    const meta = parseSegmentMetadata(readAll(files.open('metadata.properties')));
    const layout = openSegmentLayout(files, meta);
    expect(layout.version).toBe('v1');
    for (const c of meta.columns.values()) {
      expect(layout.forwardIndexState(c.name), c.name).toBe('present');
      expect(layout.indexRange(c.name, 'nullvalue_vector')).toBeUndefined();
      if (c.forwardIndexEncoding === 'DICTIONARY' && c.storedType === 'INT') {
        expect(layout.indexRange(c.name, 'dictionary')!.length, c.name).toBe(c.cardinality * 4);
      }
    }
    expect(layout.indexRange('column4', 'dictionary')).toBeUndefined();
    expect(layout.indexRange('column4', 'forward_index')!.length).toBe(files.open('column4.sv.raw.fwd').length);
    // Sorted forward index: (start, end) doc-id pairs of i32, one pair per dictionary entry (§9.2).
    expect(layout.indexRange('daysSinceEpoch', 'forward_index')!.length).toBe(8 * meta.columns.get('daysSinceEpoch')!.cardinality);
    expect(layout.indexRange('column6', 'forward_index')!.length).toBe(files.open('column6.mv.fwd').length);
    expect(layout.indexRange('column7', 'inverted_index')).toBeDefined();
    expect(layout.indexRange('column6', 'inverted_index')).toBeUndefined();
  });
});
