import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIndexMap, parseIndexMapKey, type IndexMapEntry } from '../../src/sources/pinot/index-map.js';
import { describeFixtures } from '../support/fixtures.js';
import { thrown } from '../support/errors.js';


describe('parseIndexMap', () => {
  it('reads the SingleFileIndexDirectoryTest index_map, unescaping = and : in column names', () => {
    const text = [
      'foo.inverted_index.startOffset = 0',
      'foo.inverted_index.size = 1024',
      'bar.inverted_index.startOffset = 1024',
      'bar.inverted_index.size = 100',
      'baz.inverted_index.startOffset = 1124',
      'baz.inverted_index.size = 200',
      '\\=special.inverted_index.startOffset = 1324',
      '\\=special.inverted_index.size = 200',
      'period.\\:colon.inverted_index.startOffset = 1524',
      'period.\\:colon.inverted_index.size = 200',
      '',
    ].join('\n');
    const entries = parseIndexMap(text);
    expect(entries).toEqual([
      { column: 'foo', indexType: 'inverted_index', startOffset: 0, size: 1024 },
      { column: 'bar', indexType: 'inverted_index', startOffset: 1024, size: 100 },
      { column: 'baz', indexType: 'inverted_index', startOffset: 1124, size: 200 },
      { column: '=special', indexType: 'inverted_index', startOffset: 1324, size: 200 },
      { column: 'period.:colon', indexType: 'inverted_index', startOffset: 1524, size: 200 },
    ]);
  });

  it('reads the §5.3 worked example in any line order', () => {
    const lines = [
      'score.dictionary.startOffset = 0', 'score.dictionary.size = 158',
      'score.forward_index.startOffset = 158', 'score.forward_index.size = 13',
      'round.dictionary.startOffset = 382', 'round.dictionary.size = 12',
      'round.forward_index.startOffset = 394', 'round.forward_index.size = 16',
      'matchTime.dictionary.startOffset = 661', 'matchTime.dictionary.size = 80',
    ];
    const shuffled = [lines[3], lines[9], lines[0], lines[5], lines[2], lines[8], lines[1], lines[7], lines[4], lines[6]].join('\n');
    const byKey = (es: IndexMapEntry[]): Record<string, [number, number]> =>
      Object.fromEntries(es.map((e) => [`${e.column}/${e.indexType}`, [e.startOffset, e.size]]));
    expect(byKey(parseIndexMap(shuffled))).toEqual({
      'score/dictionary': [0, 158], 'score/forward_index': [158, 13], 'round/dictionary': [382, 12],
      'round/forward_index': [394, 16], 'matchTime/dictionary': [661, 80],
    });
  });

  it('keeps unknown index types and dotted column names (key parsed from the right)', () => {
    const entries = parseIndexMap(new TextEncoder().encode('a.b.c.h3_index.startOffset=5\na.b.c.h3_index.size=9\n'));
    expect(entries).toEqual([{ column: 'a.b.c', indexType: 'h3_index', startOffset: 5, size: 9 }]);
    expect(parseIndexMapKey('x..size')).toEqual({ column: 'x', indexType: '', property: 'size' });
  });

  it('rejects an unknown property, naming column and key', () => {
    const err = thrown(() => parseIndexMap('col.forward_index.startOffset = 0\ncol.forward_index.endOffset = 8\n'));
    expect(err.code).toBe('PINOT_BAD_METADATA');
    expect(err.context).toMatchObject({ index: 'index_map', column: 'col', key: 'col.forward_index.endOffset' });
    expect(err.message).toContain('endOffset');
  });

  it('rejects a key without column and index parts', () => {
    expect(thrown(() => parseIndexMap('forward_index.size = 8\n')).context.key).toBe('forward_index.size');
    expect(thrown(() => parseIndexMap('size = 8\n')).code).toBe('PINOT_BAD_METADATA');
  });

  it('rejects a missing half of a pair, naming the missing key', () => {
    const err = thrown(() => parseIndexMap('c.dictionary.startOffset = 0\nc.dictionary.size = 8\nc.forward_index.size = 9\n'));
    expect(err.context).toMatchObject({ column: 'c', key: 'c.forward_index.startOffset' });
  });

  it('rejects negative, fractional, list and huge values', () => {
    for (const v of ['-8', '1.5', '8,16', '', '9007199254740993', '0x10']) {
      const err = thrown(() => parseIndexMap(`c.dictionary.startOffset = 0\nc.dictionary.size = ${v}\n`));
      expect(err.context.key, v).toBe('c.dictionary.size');
    }
  });
});

describeFixtures('index_map fixtures: airlineStats', 'fixtures/pinot-segments/metadata-only/airlineStats-startree-2023', (dir) => {
  it('parses 172 entries after the licence header; buffers are back to back with no padding', () => {
    const entries = parseIndexMap(readFileSync(join(dir, 'index_map')));
    expect(entries).toHaveLength(172);
    expect(entries[0]).toEqual({ column: '$ts$DAY', indexType: 'dictionary', startOffset: 0, size: 16 });
    const sorted = [...entries].sort((a, b) => a.startOffset - b.startOffset);
    for (let i = 1; i < sorted.length; i++) {
      expect(sorted[i]!.startOffset, `${sorted[i]!.column}.${sorted[i]!.indexType}`).toBe(sorted[i - 1]!.startOffset + sorted[i - 1]!.size);
    }
    expect(new Set(entries.map((e) => e.indexType))).toEqual(new Set(['dictionary', 'forward_index', 'range_index', 'inverted_index']));
  });
});

describeFixtures('index_map fixtures: v3-2017-views', 'fixtures/pinot-segments/v3-2017-views/segment_0/v3', (dir) => {
  it('covers columns.psf exactly', () => {
    const entries = parseIndexMap(readFileSync(join(dir, 'index_map')));
    expect(entries).toHaveLength(14);
    const end = Math.max(...entries.map((e) => e.startOffset + e.size));
    expect(end).toBe(readFileSync(join(dir, 'columns.psf')).length);
    expect(entries.reduce((n, e) => n + e.size, 0)).toBe(end);
  });
});
