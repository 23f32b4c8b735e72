/**
 * segmentToParquet with the direct writer's column chunks encoded on worker threads: the same bytes as in
 * process (chunks are placed in the file as they finish, so the placement may differ — the rows and every
 * column chunk's pages may not), read back equal by hyparquet and DuckDB, and the options that pick the
 * writer and its threads.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { columnPoolAvailable } from '../../src/pipeline/direct/column-pool.js';
import { DEFAULT_PARQUET_OPTIONS, parseParquetOptions } from '../../src/pipeline/parquet-options.js';
import { ConfigError } from '../../src/errors.js';
import { describeFixtures } from '../support/fixtures.js';
import { readRows } from '../support/rows.js';
import { closeDuckdb, convert, duckRows, hyparquetRows, metadataOf, pageTypes, tempParquet } from './helpers.js';

afterAll(() => closeDuckdb());

/** Each column chunk's bytes (dictionary page through last data page), by schema path. */
function chunkHashes(bytes: Uint8Array): string[] {
  return metadataOf(bytes).row_groups.flatMap((g) => g.columns.map((c) => {
    const m = c.meta_data!;
    const start = Number(m.dictionary_page_offset ?? m.data_page_offset);
    return `${m.path_in_schema.join('.')}:${createHash('sha256').update(bytes.subarray(start, start + Number(m.total_compressed_size))).digest('hex')}`;
  }));
}

/** Each column chunk's byte range in the file, as `start+length`. */
function chunkRanges(bytes: Uint8Array): string[] {
  return metadataOf(bytes).row_groups.flatMap((g) => g.columns.map((c) => {
    const m = c.meta_data!;
    return `${Number(m.dictionary_page_offset ?? m.data_page_offset)}+${Number(m.total_compressed_size)}`;
  }));
}

/** The byte range of every output chunk between the leading magic and the footer chunk. */
function outputRanges(chunks: readonly Uint8Array[]): string[] {
  const ranges: string[] = [];
  let at = chunks[0]!.length;
  for (const chunk of chunks.slice(1, -1)) {
    ranges.push(`${at}+${chunk.length}`);
    at += chunk.length;
  }
  return ranges;
}

describeFixtures('the direct writer on worker threads', 'fixtures', (fixtures) => {
  for (const name of ['events__0__12__20261126T0000Z.tar.gz', 'dictvar_mvraw.tar.gz']) {
    it(`${name}: 2 threads write the same column chunks and rows as 1`, async () => {
      expect(columnPoolAvailable(), 'the compiled worker (npm run build) is needed').toBe(true);
      const location = join(fixtures, 'pinot-generated/1.5.1', name);
      const parquet = { ...DEFAULT_PARQUET_OPTIONS, writer: 'direct' as const, pageSizeBytes: 4096 };
      const one = await convert(location, { parquet, rowsPerRowGroup: 1500, encoderThreads: 1 });
      const two = await convert(location, { parquet, rowsPerRowGroup: 1500, encoderThreads: 2 });
      expect(metadataOf(one.bytes).row_groups.length).toBeGreaterThan(1);
      expect(chunkHashes(two.bytes)).toStrictEqual(chunkHashes(one.bytes));
      // One output chunk per column chunk (not per page), so a sink writes a column while the next is encoded.
      for (const run of [one, two]) {
        expect(new TextDecoder().decode(run.chunks[0])).toBe('PAR1');
        expect(outputRanges(run.chunks).sort()).toStrictEqual(chunkRanges(run.bytes).sort());
        expect(run.chunks.length).toBe(2 + chunkRanges(run.bytes).length);
      }
      const expected = await readRows(location);
      expect(await hyparquetRows(two.bytes)).toStrictEqual(expected);
      const file = tempParquet(two.bytes);
      try {
        expect(await duckRows(file.path)).toStrictEqual(expected);
      } finally {
        file.remove();
      }
      // Every chunk is whole where its metadata says: its pages walk exactly to its end.
      for (const g of metadataOf(two.bytes).row_groups) for (const c of g.columns) expect(pageTypes(two.bytes, c.meta_data!).length).toBeGreaterThan(0);
    }, 60_000);
  }
});

it('fileFormat.parquet.writer and writerThreads are read and checked', () => {
  expect(parseParquetOptions({ 'fileFormat.parquet.writer': 'Parquet-Wasm', 'fileFormat.parquet.writerThreads': '2' }))
    .toMatchObject({ writer: 'parquet-wasm', writerThreads: 2 });
  expect(parseParquetOptions({})).not.toHaveProperty('writer');
  for (const [key, value] of [['fileFormat.parquet.writer', 'arrow'], ['fileFormat.parquet.writerThreads', '0'], ['fileFormat.parquet.writerThreads', '17']]) {
    const err = (() => {
      try {
        parseParquetOptions({ [key!]: value! });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).context.key).toBe(key);
    expect((err as Error).message).toContain(value!);
  }
});
