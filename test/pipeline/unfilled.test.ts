/**
 * Arrays allocated without zero-filling (`unfilledBytes`, `unfilledInt32`) must be written in full before
 * anything reads them. Poisoning them with different bytes must not change a conversion's output: a reader
 * or writer that read an element it never wrote would carry the poison into the file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { generateSegments } from '../../src/generate/generator.js';
import { DEFAULT_PARQUET_OPTIONS, type ParquetOptions } from '../../src/pipeline/parquet-options.js';
import { poisonUnfilled, unfilledBytes, unfilledInt32 } from '../../src/sources/pinot/bytes.js';
import { describeFixtures } from '../support/fixtures.js';
import { readRows } from '../support/rows.js';
import { GENERATED_SEGMENTS, REAL_SEGMENTS } from '../support/segment-cases.js';
import { convert, hyparquetRows, metadataOf } from './helpers.js';

const POISONS = [0x00, 0xa5, 0xff];

afterEach(() => poisonUnfilled(undefined));

describe('unfilled arrays', () => {
  it('start as the poison byte when one is set, small and large, as plain typed arrays of the asked length', () => {
    for (const poison of [0xa5, 0x01]) {
      poisonUnfilled(poison);
      for (const n of [1, 100, 70_000, 1 << 20]) {
        const bytes = unfilledBytes(n);
        expect(bytes.constructor).toBe(Uint8Array);
        expect(bytes.length).toBe(n);
        expect(bytes.every((b) => b === poison)).toBe(true);
        const ints = unfilledInt32(n);
        expect(ints.constructor).toBe(Int32Array);
        expect(ints.length).toBe(n);
        expect(new Uint8Array(ints.buffer, ints.byteOffset, ints.byteLength).every((b) => b === poison)).toBe(true);
      }
    }
  });

  it('without a poison: small arrays are zeroed, large ones own their whole buffer', () => {
    poisonUnfilled(0xee);
    poisonUnfilled(undefined);
    expect(unfilledBytes(100).every((b) => b === 0)).toBe(true);
    expect(unfilledInt32(100).every((b) => b === 0)).toBe(true);
    const big = unfilledBytes(1 << 20);
    expect([big.constructor, big.byteOffset, big.buffer.byteLength]).toStrictEqual([Uint8Array, 0, 1 << 20]);
    const ints = unfilledInt32(1 << 18);
    expect([ints.constructor, ints.byteOffset, ints.buffer.byteLength]).toStrictEqual([Int32Array, 0, 1 << 20]);
  });
});

/**
 * The file of each poison, which must all be the same bytes, with dictionaries kept whole (the default budget)
 * and with every dictionary read in windows per row group (budget 0); returns the files of the two budgets.
 */
async function samePerPoison(location: string, parquet: ParquetOptions, legacyPadding?: 'strip'): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const dictionaryBudgetBytes of [undefined, 0]) {
    const files: Uint8Array[] = [];
    for (const poison of POISONS) {
      poisonUnfilled(poison);
      files.push((await convert(location, { parquet, legacyPadding, dictionaryBudgetBytes })).bytes);
    }
    poisonUnfilled(undefined);
    for (let i = 1; i < files.length; i++) {
      expect(Buffer.compare(files[i]!, files[0]!), `budget ${dictionaryBudgetBytes}, poison 0x${POISONS[i]!.toString(16)}`).toBe(0);
    }
    out.push(files[0]!);
  }
  return out;
}

describe('a conversion does not depend on what its unfilled arrays held', () => {
  const temp = mkdtempSync(join(tmpdir(), 'pinot-unfilled-'));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it('events segment in small row groups (row-group dictionaries of near-unique columns, nulls, lists, BIG_DECIMAL text)', async () => {
    const [segment] = await generateSegments({ preset: 'events', rows: 6000, seed: 7, out: temp, archive: 'none', creationTimeMs: 0 });
    const location = segment!.dir;
    for (const compressionCodec of ['SNAPPY', 'UNCOMPRESSED'] as const) {
      const expected = await readRows(location);
      for (const bytes of await samePerPoison(location, { ...DEFAULT_PARQUET_OPTIONS, compressionCodec, rowGroupSizeBytes: 64 * 1024 })) {
        expect(metadataOf(bytes).row_groups.length).toBeGreaterThan(3);
        expect(await hyparquetRows(bytes)).toStrictEqual(expected);
      }
    }
  });
});

describeFixtures('every fixture segment converts to the same bytes whatever its unfilled arrays held', 'fixtures', (fixtures) => {
  for (const c of [...GENERATED_SEGMENTS, ...REAL_SEGMENTS]) {
    it(c.name, async () => {
      await samePerPoison(join(fixtures, c.path), DEFAULT_PARQUET_OPTIONS, c.legacyPadding);
    });
  }
});
