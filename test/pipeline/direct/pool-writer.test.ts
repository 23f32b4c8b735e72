/**
 * ParquetFileWriter.addEncodedColumn, the main-thread half of the column encoder pool: chunks encoded
 * elsewhere at offset 0 placed at the file position. No worker threads here (pool.test.ts runs them).
 */
import { describe, expect, it } from 'vitest';
import type { Data } from 'apache-arrow';
import { ChunkScratch, type EncodedChunk } from '../../../src/pipeline/direct/column-chunk.js';
import { pageCompressor } from '../../../src/pipeline/direct/compress.js';
import { chunkSettingsOf, encodeLeafChunk, ParquetFileWriter, type DirectWriterSettings } from '../../../src/pipeline/direct/file-writer.js';
import { directParquetSchema } from '../../../src/pipeline/direct/parquet-schema.js';
import { ParquetError } from '../../../src/pipeline/parquet-error.js';
import { hyparquetRows } from '../helpers.js';
import {
  Schema, baseSettings, dictionaryData, expectedRows, fieldOf, listData, primitiveData, types, writeDirect, type Cell,
} from './writer-data.js';

const ints: Cell[] = Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? null : i * 31 - 4000));
const words: Cell[] = Array.from({ length: 300 }, (_, i) => (i % 5 === 0 ? null : ['alpha', 'beta', 'gamma', 'δέλτα'][i % 4]!));
const lists: Cell[] = Array.from({ length: 300 }, (_, i) => (i % 9 === 0 ? null : Array.from({ length: i % 4 }, (_, j) => (j === 1 ? null : `e${(i + j) % 6}`))));

function columns(from: number, to: number): Data[] {
  return [
    primitiveData(types.int32(), ints.slice(from, to) as (number | null)[]),
    dictionaryData(types.utf8(), words.slice(from, to) as (string | null)[]),
    listData(lists.slice(from, to) as ((string | null)[] | null)[], (v) => dictionaryData(types.utf8(), v)),
  ];
}

const schema = new Schema(columns(0, 1).map((d, i) => fieldOf(['n', 'word', 'tags'][i]!, d)));
const settings: DirectWriterSettings = { ...baseSettings, codec: 'ZSTD', pageSizeBytes: 256, dictionaryColumns: ['word', 'tags'] };
const groups = [[0, 120], [120, 250], [250, 300]] as const;

/** Column `index` of rows [from, to) encoded at offset 0, as a pool worker does. */
function encodedAtZero(index: number, from: number, to: number, scratch = new ChunkScratch()): EncodedChunk {
  const leaf = directParquetSchema(schema, settings.jsonPaths).leaves[index]!;
  const chunkSettings = chunkSettingsOf(settings, pageCompressor(settings.codec), new Set(settings.dictionaryColumns), leaf, 0);
  return encodeLeafChunk(leaf, columns(from, to)[index]!, chunkSettings, scratch, 'test');
}

describe('ParquetFileWriter.addEncodedColumn', () => {
  it('writes the same bytes as writeColumn, with offsets shifted to the file position', async () => {
    const expected = writeDirect(schema, groups.map(([a, b]) => columns(a, b)), settings);
    const writer = new ParquetFileWriter(schema, settings);
    const parts = [writer.start()];
    const chunks: EncodedChunk[] = [];
    for (const [a, b] of groups) {
      writer.beginRowGroup(b - a);
      for (let i = 0; i < 3; i++) {
        const chunk = encodedAtZero(i, a, b);
        chunks.push(chunk);
        parts.push(...writer.addEncodedColumn(i, chunk));
      }
      writer.endRowGroup();
    }
    parts.push(writer.finish());
    const actual = Buffer.concat(parts);
    expect(actual.equals(Buffer.from(expected))).toBe(true);
    expect(writer.position).toBe(actual.length);
    // Several pages and dictionary pages, so the shift is not trivially 0.
    expect(chunks.some((c) => c.metaData.dictionaryPageOffset === 0 && c.metaData.dataPageOffset > 0)).toBe(true);
    expect(await hyparquetRows(actual)).toEqual(expectedRows(schema, [ints, words, lists]));
  });

  it('does not change the chunk it is given', () => {
    const writer = new ParquetFileWriter(schema, settings);
    writer.start();
    writer.beginRowGroup(120);
    const chunk = encodedAtZero(1, 0, 120);
    const before = structuredClone(chunk.metaData);
    writer.addEncodedColumn(0, encodedAtZero(0, 0, 120));
    writer.addEncodedColumn(1, chunk);
    expect(chunk.metaData).toEqual(before);
  });

  function failure(fn: () => unknown): ParquetError {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ParquetError);
      return err as ParquetError;
    }
    throw new Error('expected a ParquetError');
  }

  it('takes chunks in any order but refuses one twice, of another column, codec or row count, or not encoded at 0', () => {
    const open = (): ParquetFileWriter => {
      const w = new ParquetFileWriter(schema, settings);
      w.start();
      w.beginRowGroup(120);
      return w;
    };
    const first = encodedAtZero(0, 0, 120);
    expect(failure(() => new ParquetFileWriter(schema, settings).addEncodedColumn(0, first)).detail).toMatch(/outside a row group/);
    // Out of order is fine (chunks are placed as they finish); twice is not.
    const twice = open();
    expect(twice.addEncodedColumn(1, encodedAtZero(1, 0, 120)).length).toBeGreaterThan(0);
    expect(failure(() => twice.addEncodedColumn(1, encodedAtZero(1, 0, 120))).detail).toMatch(/column 1 \(word\) added twice/);
    const other = failure(() => open().addEncodedColumn(0, encodedAtZero(1, 0, 120)));
    expect(other.detail).toMatch(/its path is word, the column's n/);
    expect(other.context.column).toBe('n');
    expect(failure(() => open().addEncodedColumn(0, { ...first, metaData: { ...first.metaData, codec: 'SNAPPY' } })).detail).toMatch(/its codec is SNAPPY, the file's ZSTD/);
    expect(failure(() => open().addEncodedColumn(0, encodedAtZero(0, 0, 100))).detail).toMatch(/it has 100 values, the row group 120 rows/);
    expect(failure(() => open().addEncodedColumn(0, { ...first, pages: first.pages.slice(1) })).detail).toMatch(/its pages hold \d+ bytes/);
    expect(failure(() => open().addEncodedColumn(0, { ...first, metaData: { ...first.metaData, dataPageOffset: 4 + first.bytes } })).detail)
      .toMatch(/page offsets .* not within/);
    // A LIST column's values are levels, not rows: its count is not checked against the rows, the rest is.
    const w = open();
    w.addEncodedColumn(0, first);
    w.addEncodedColumn(1, encodedAtZero(1, 0, 120));
    expect(() => w.addEncodedColumn(2, encodedAtZero(2, 0, 120))).not.toThrow();
    expect(() => w.endRowGroup()).not.toThrow();
  });
});
