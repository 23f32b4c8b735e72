/**
 * Conformance: every real segment fixture converts with the default options, and two independent readers
 * (hyparquet and DuckDB) read back exactly the rows the SegmentReader decodes (`readRows`, the form `cat`
 * prints). The file metadata is checked too: codec per column chunk, OPTIONAL fields, dictionary pages on
 * exactly the Pinot dictionary columns, key-value metadata and created_by.
 */
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { DEFAULT_PARQUET_OPTIONS } from '../../src/pipeline/parquet-options.js';
import { FILE_METADATA_KEYS } from '../../src/pipeline/segment-export.js';
import { SegmentReader } from '../../src/sources/segment-reader.js';
import { describeFixtures } from '../support/fixtures.js';
import { readRows } from '../support/rows.js';
import { closeDuckdb, convert, duckMetadata, duckRows, hyparquetRows, metadataOf, tempParquet } from './helpers.js';

interface Case {
  name: string;
  path: string;
  legacyPadding?: 'strip';
}

const GENERATED = [
  'events__0__12__20261126T0000Z.tar.gz', 'events__0__13__20261126T0100Z.tar.gz', 'rawfwd_version2.tar.gz', 'rawfwd_version4.tar.gz',
  'rawfwd_version5.tar.gz', 'dictvar_mvraw.tar.gz', 'sorted_bigdecimal.tar.gz', 'sorted_bigdecimal.tar.lz4',
].map((f): Case => ({ name: f, path: join('pinot-generated/1.5.1', f) }));

const REAL: Case[] = [
  { name: 'baseballStats 2022', path: 'pinot-segments/baseballStats-v3/baseballStats_OFFLINE_0.2022-02.tar.gz' },
  { name: 'baseballStats 2024', path: 'pinot-segments/baseballStats-v3/baseballStats_OFFLINE_0.2024-10.tar.gz' },
  { name: 'recipes 0', path: 'pinot-segments/recipes-matches-v3/deepstore-layout/matches/matches_OFFLINE_1642417200000_1642433520000_0' },
  { name: 'recipes 1', path: 'pinot-segments/recipes-matches-v3/deepstore-layout/matches/matches_OFFLINE_1642417380000_1642443240000_1' },
  { name: 'v1 2022 MV raw', path: 'pinot-segments/v1-2022-testTable-mv-raw/testTable_1756015683_1756015683' },
  { name: 'v3 2017 views', path: 'pinot-segments/v3-2017-views/segment_0' },
  { name: 'legacy raw inverted', path: 'pinot-segments/legacyRawInverted-2026/legacyRawInverted_OFFLINE_0.v1.tar.gz' },
  { name: 'v1 2016 NUL padding', path: 'pinot-segments/v1-2016-padding/paddingNull.tar.gz' },
  { name: 'v1 2016 % padding', path: 'pinot-segments/v1-2016-padding/paddingPercent.tar.gz', legacyPadding: 'strip' },
  { name: 'v1 2016 star-tree', path: 'pinot-segments/v1-2016-starTreeSegment/starTreeSegment.tar.gz', legacyPadding: 'strip' },
];

afterAll(() => closeDuckdb());

const WRITERS = ['direct', 'parquet-wasm'] as const;

describeFixtures('every real segment converts and reads back equal in hyparquet and DuckDB', 'fixtures', (fixtures) => {
  for (const c of [...GENERATED, ...REAL]) for (const writer of WRITERS) {
    it(`${c.name} (${writer})`, async () => {
      const location = join(fixtures, c.path);
      const expected = await readRows(location, { legacyPadding: c.legacyPadding });
      const reader = await SegmentReader.open(location);
      const segmentName = reader.name;
      const columns = reader.segment.columns();
      await reader.close();

      const { bytes, summary } = await convert(location, { parquet: { ...DEFAULT_PARQUET_OPTIONS, writer }, legacyPadding: c.legacyPadding });
      expect(summary.rows).toBe(expected.length);
      expect(await hyparquetRows(bytes)).toStrictEqual(expected);
      const file = tempParquet(bytes);
      try {
        expect(await duckRows(file.path)).toStrictEqual(expected);

        // Codec on every column chunk, as both readers see it.
        const meta = metadataOf(bytes);
        const chunks = meta.row_groups.flatMap((g) => g.columns.map((col) => col.meta_data!));
        expect(chunks.length).toBeGreaterThan(0);
        expect(new Set(chunks.map((m) => m.codec))).toStrictEqual(new Set(['SNAPPY']));
        const duckChunks = await duckMetadata(file.path);
        expect(new Set(duckChunks.map((m) => m.compression))).toStrictEqual(new Set(['SNAPPY']));

        // Every field OPTIONAL (the 3-level LIST's middle group is REPEATED by definition).
        for (const e of meta.schema.slice(1)) expect([e.name, e.repetition_type]).toStrictEqual([e.name, e.name === 'list' ? 'REPEATED' : 'OPTIONAL']);

        // Dictionary pages exactly on the columns Pinot dictionary-encodes (BOOLEAN has no Parquet dictionary;
        // parquet-wasm has one dictionary setting for all list elements).
        const multiValueDict = columns.some((col) => !col.singleValue && col.forwardIndexEncoding === 'DICTIONARY');
        for (const col of columns) {
          const colChunks = chunks.filter((m) => m.path_in_schema[0] === col.name);
          expect(colChunks.length, col.name).toBe(meta.row_groups.length);
          const pinotDictionary = col.forwardIndexEncoding === 'DICTIONARY' && col.dataType !== 'BOOLEAN';
          const wantDictionary = col.singleValue || writer === 'direct' ? pinotDictionary : multiValueDict;
          for (const m of colChunks) expect([col.name, m.dictionary_page_offset !== undefined]).toStrictEqual([col.name, wantDictionary]);
        }

        const kv = new Map(meta.key_value_metadata?.map((e) => [e.key, e.value]));
        expect(kv.get(FILE_METADATA_KEYS.segment)).toBe(segmentName);
        expect(kv.get(FILE_METADATA_KEYS.totalDocs)).toBe(String(expected.length));
        expect(kv.has('ARROW:schema')).toBe(false);
        expect(JSON.parse(kv.get(FILE_METADATA_KEYS.schema)!)).toHaveProperty('schemaName');
        expect(meta.created_by).toMatch(writer === 'direct'
          ? /^pinot-parquet-export version \d+\.\d+\.\d+ \(build direct\)$/
          : /^pinot-parquet-export version \d+\.\d+\.\d+ \(build parquet-wasm 0\.8\.0\)$/);
        expect(meta.row_groups).toHaveLength(1);
      } finally {
        file.remove();
      }
    });
  }
});
