/**
 * Real segments written by Pinot and found in public repositories (../shared/fixtures/pinot-segments,
 * see its SOURCES.md) decode, read in place: rows equal their source where we have it, and every
 * column's decoded min/max/distinct count agrees with what Pinot wrote into metadata.properties.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ErrorCodes, ExporterError } from '../../src/errors.js';
import { SegmentReader } from '../../src/sources/segment-reader.js';
import type { ColumnMetadata } from '../../src/sources/pinot/metadata.js';
import { describeFixtures } from '../support/fixtures.js';
import { readRows, type Row } from '../support/rows.js';

const NUMERIC = new Set(['INT', 'LONG', 'FLOAT', 'DOUBLE', 'TIMESTAMP']);

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'bigint' || typeof b === 'bigint') return BigInt(a as bigint) < BigInt(b as bigint) ? -1 : BigInt(a as bigint) > BigInt(b as bigint) ? 1 : 0;
  // Java String.compareTo order = UTF-16 code units, which is JS's default string order.
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** Decoded min, max, distinct count and MV stats of every column, compared with metadata.properties. */
async function checkAgainstMetadata(location: string): Promise<{ rows: Row[]; columns: ColumnMetadata[] }> {
  const reader = await SegmentReader.open(location);
  const columns = [...reader.metadata.columns.values()];
  await reader.close();
  const rows = await readRows(location);
  for (const c of columns) {
    const values: unknown[] = [];
    let entries = 0;
    let maxMv = 0;
    for (const row of rows) {
      const v = row[c.name];
      if (c.singleValue) values.push(v);
      else {
        const arr = v as unknown[];
        entries += arr.length;
        maxMv = Math.max(maxMv, arr.length);
        values.push(...arr);
      }
    }
    const norm = values.map((v) => (NUMERIC.has(c.dataType) && typeof v === 'string' ? BigInt(v) : v));
    const sorted = [...norm].sort(compare);
    const label = `${location} column ${c.name}`;
    if (c.minValue !== undefined && c.maxValue !== undefined) {
      if (NUMERIC.has(c.dataType)) {
        expect(Number(sorted[0]), label).toBe(Number(c.minValue));
        expect(Number(sorted[sorted.length - 1]), label).toBe(Number(c.maxValue));
      } else {
        expect(sorted[0], label).toBe(c.minValue);
        expect(sorted[sorted.length - 1], label).toBe(c.maxValue);
      }
    }
    if (c.forwardIndexEncoding === 'DICTIONARY') {
      expect(new Set(norm.map(String)).size, label).toBe(c.cardinality);
    }
    if (!c.singleValue) {
      expect(entries, label).toBe(c.totalNumberOfEntries);
      expect(maxMv, label).toBe(c.maxNumberOfMultiValues);
    }
  }
  return { rows, columns };
}

function csvRows(path: string): Row[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const names = header!.split(',');
  return lines.map((line) => {
    const cells = line.split('","').map((c) => c.replace(/^"|"$/g, ''));
    const row: Row = {};
    names.forEach((n, i) => (row[n] = cells[i]));
    // The recipe ingested "yyyy-MM-dd HH:mm:ss" as UTC epoch milliseconds.
    row.matchTime = Date.parse(String(row.matchTime).replace(' ', 'T') + 'Z');
    return row;
  });
}

describeFixtures('real Pinot segments', 'fixtures/pinot-segments', (dir) => {
  it('recipes (Pinot 0.12, extension-less deep-store objects) equal their source CSV rows', async () => {
    const deep = join(dir, 'recipes-matches-v3/deepstore-layout/matches');
    for (const [segment, csv] of [
      ['matches_OFFLINE_1642417200000_1642433520000_0', 'matches0.csv'],
      ['matches_OFFLINE_1642417380000_1642443240000_1', 'matches1.csv'],
    ] as const) {
      const expected = csvRows(join(dir, 'recipes-matches-v3/input', csv));
      const { rows } = await checkAgainstMetadata(join(deep, segment));
      expect(rows).toStrictEqual(expected);
    }
  });

  it('baseballStats 2022 and 2024: min/max/cardinality per column, first rows as documented', async () => {
    const base = join(dir, 'baseballStats-v3');
    const a = await checkAgainstMetadata(join(base, 'baseballStats_OFFLINE_0.2022-02.tar.gz'));
    const b = await checkAgainstMetadata(join(base, 'baseballStats_OFFLINE_0.2024-10.tar.gz'));
    expect(a.rows.length).toBe(97889);
    expect(a.columns.length).toBe(25);
    expect(a.rows.slice(0, 3).map((r) => [r.playerID, r.yearID, r.teamID])).toStrictEqual([
      ['aardsda01', 2004, 'SFN'], ['aardsda01', 2006, 'CHN'], ['aardsda01', 2007, 'CHA'],
    ]);
    expect(a.rows[0]!.playerName).toBe('David Allan');
    expect(a.rows[0]!.hits).toBe(0);
    expect(b.rows).toStrictEqual(a.rows);
  });

  it('v1 segment with MV, sorted and raw LZ4 columns matches its metadata', async () => {
    const { rows, columns } = await checkAgainstMetadata(join(dir, 'v1-2022-testTable-mv-raw/testTable_1756015683_1756015683'));
    expect(rows.length).toBe(100000);
    expect(columns.map((c) => c.name).sort()).toContain('column6');
    // §9.3 worked example: doc 72 is the first row of column6 with two values.
    expect(rows[72]!.column6).toStrictEqual([3050, 336676]);
    expect(rows.slice(0, 72).every((r) => (r.column6 as unknown[]).length === 1)).toBe(true);
  });

  it('early v3 (2017) segment with old metadata keys decodes', async () => {
    const { rows } = await checkAgainstMetadata(join(dir, 'v3-2017-views/segment_0'));
    expect(rows.length).toBe(7);
  });

  it('legacy raw V4 LZ4_LENGTH_PREFIXED column: the 6-cycle of values, v1 tarball', async () => {
    const rows = await readRows(join(dir, 'legacyRawInverted-2026/legacyRawInverted_OFFLINE_0.v1.tar.gz'));
    const cycle = ['alpha', 'beta', 'alpha', 'gamma', 'alpha', 'delta'];
    expect(rows.map((r) => r.category)).toStrictEqual(Array.from({ length: 600 }, (_, i) => cycle[i % 6]));
  });

  it('star-tree v1 segment (%-padded): only the 1000 raw docs are exported, not the 31 aggregates', async () => {
    const location = join(dir, 'v1-2016-starTreeSegment/starTreeSegment.tar.gz');
    const refused = await readRows(location).then(() => undefined, (e: unknown) => e);
    expect((refused as ExporterError).code).toBe(ErrorCodes.PINOT_LEGACY_PADDING);
    const rows = await readRows(location, { legacyPadding: 'strip' });
    expect(rows.length).toBe(1000);
    // Aggregated star-tree docs carry the "ALL" placeholder in dimensions; raw docs never do.
    expect(rows.some((r) => Object.values(r).includes('ALL'))).toBe(false);
    expect(rows.every((r) => typeof r.d1 === 'string' && !String(r.d1).endsWith('%'))).toBe(true);
  });

  it('NUL-padded 2016 segment decodes; %-padded ones are refused by default, equal when stripped', async () => {
    const rows = await readRows(join(dir, 'v1-2016-padding/paddingNull.tar.gz'));
    expect(rows.length).toBe(5);
    expect(new Set(rows.map((r) => r.name))).toStrictEqual(new Set(['lynda', 'lynda 2.0']));
    for (const variant of ['paddingPercent', 'paddingOld']) {
      const location = join(dir, `v1-2016-padding/${variant}.tar.gz`);
      const err = await readRows(location).then(() => undefined, (e: unknown) => e);
      expect(err, variant).toBeInstanceOf(ExporterError);
      expect((err as ExporterError).code).toBe(ErrorCodes.PINOT_LEGACY_PADDING);
      expect((err as ExporterError).context.column).toBe('name');
      expect((err as ExporterError).context.segment).toBe('mySegment_0');
      expect(await readRows(location, { legacyPadding: 'strip' }), variant).toStrictEqual(rows);
    }
  });
});
