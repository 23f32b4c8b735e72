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
import { GENERATED_SEGMENTS, REAL_SEGMENTS } from '../support/segment-cases.js';
import { readRows } from '../support/rows.js';
import { closeDuckdb, convert, duckMetadata, duckRows, hyparquetRows, metadataOf, tempParquet } from './helpers.js';

const GENERATED = GENERATED_SEGMENTS;
const REAL = REAL_SEGMENTS;

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
