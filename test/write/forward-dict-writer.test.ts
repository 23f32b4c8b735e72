/**
 * Dictionary-encoded forward index writers (§9.1–§9.4): the spec's vectors, a seeded round trip through the
 * existing readers for every bit width, bad input, and every dictionary-encoded forward index of the
 * Pinot-written fixture segments re-encoded byte for byte.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bitsFor } from '../../src/sources/pinot/bitpack.js';
import { bytesRange } from '../../src/sources/pinot/bytes.js';
import { MV_ENTRY_DICT_MAGIC, openDictForward, openFixedBitMV, openFixedBitSV, openMVEntryDict, openSortedSV } from '../../src/sources/pinot/forward-dict.js';
import type { MVDictForwardReader, MultiValueBlock, SVDictForwardReader } from '../../src/sources/pinot/types.js';
import { writeFixedBitMV, writeFixedBitSV, writeMVEntryDict, writeSortedSV } from '../../src/sources/pinot/write/forward-dict-writer.js';
import { describeFixtures } from '../support/fixtures.js';
import {
  GENERATED_DIR, GENERATED_SEGMENTS, REAL_DIR, REAL_SEGMENTS, SEED, firstDifference, hex, randInt, rng, toHex, withSegment, expectUsage,
} from './fixture-segments.js';


function rowsOf(rows: number[][]): MultiValueBlock<Int32Array> {
  const offsets = new Int32Array(rows.length + 1);
  rows.forEach((r, i) => (offsets[i + 1] = offsets[i]! + r.length));
  return { offsets, values: Int32Array.from(rows.flat()) };
}

describe('spec §9 vectors', () => {
  it('§9.1 fixed-bit SV, 4 bits: 7,6,8,9,1,5,0,3,2,4 → 76 89 15 03 24', () => {
    expect(toHex(writeFixedBitSV(Int32Array.of(7, 6, 8, 9, 1, 5, 0, 3, 2, 4), 4))).toBe('7689150324');
  });

  it('§9.2 sorted SV: dict id 0 for docs 0–9 → 00000000 00000009', () => {
    expect(toHex(writeSortedSV(new Int32Array(10), 1))).toBe('0000000000000009');
    expect(toHex(writeSortedSV(Int32Array.of(0, 0, 1, 2, 2, 2), 3))).toBe(toHex(hex('00000000 00000001 00000002 00000002 00000003 00000005')));
  });

  it('§9.3 fixed-bit MV (derived): [1], [2, 3], [0] at 2 bits → chunk offset 0, bitmap D0, values 6C', () => {
    expect(toHex(writeFixedBitMV(rowsOf([[1], [2, 3], [0]]), 2))).toBe(toHex(hex('00000000 | D0 | 6C')));
  });

  it('§9.3 docs per chunk uses Pinot\'s integer average: ⌈2048 / ⌊T/N⌋⌉', () => {
    // 3000 docs of 2 values: average 2 → 1024 docs per chunk → 3 chunks at value indexes 0, 2048, 4096.
    const out = writeFixedBitMV(rowsOf(Array.from({ length: 3000 }, () => [1, 0])), 1);
    expect(toHex(out.subarray(0, 12))).toBe(toHex(hex('00000000 00000800 00001000')));
    expect(out.length).toBe(12 + 6000 / 8 + 6000 / 8);
  });

  it('§9.4 MV_ENTRY_DICT testAllEmptyValues: 1000 empty rows, 1 bit (150 bytes)', () => {
    const out = writeMVEntryDict({ offsets: new Int32Array(1001), values: new Int32Array(0) }, 1);
    expect(toHex(out)).toBe(toHex(new Uint8Array([
      ...hex('FF AB CD EF 00 01 01 01 00 00 00 01 00 00 00 00 00 00 00 95 00 00 00 96'), ...new Uint8Array(126)])));
  });

  it('§9.4 MV_ENTRY_DICT [0,1], [2], [0,1], [1,2,2] at 2 bits (29 bytes)', () => {
    expect(toHex(writeMVEntryDict(rowsOf([[0, 1], [2], [0, 1], [1, 2, 2]]), 2))).toBe(toHex(hex(
      'FF AB CD EF 00 01 02 02 00 00 00 03 00 00 00 06 00 00 00 19 00 00 00 1B | 12 | 09 E0 | 19 A0')));
  });
});

describe('bad input', () => {
  it('rejects a dict id ≥ 2^bits or negative', () => {
    expectUsage(() => writeFixedBitSV(Int32Array.of(0, 16), 4), /value 16 at index 1 does not fit in 4 bits/);
    expectUsage(() => writeFixedBitSV(Int32Array.of(-1), 31), /does not fit in 31 bits/);
    expectUsage(() => writeFixedBitSV(Int32Array.of(-1), 32), /dict id -1 at index 0 is negative/);
    expectUsage(() => writeFixedBitMV(rowsOf([[1], [4]]), 2), /value 4 at index 1 does not fit in 2 bits/);
    expectUsage(() => writeMVEntryDict(rowsOf([[1], [4]]), 2), /does not fit in 2 bits/);
    expectUsage(() => writeFixedBitSV(Int32Array.of(0), 0), /bits per dict id 0/);
  });

  it('rejects unsorted input, gaps and out-of-range ids for the sorted writer', () => {
    expectUsage(() => writeSortedSV(Int32Array.of(0, 1, 0), 2), /non-decreasing dict ids: doc 2 has 0 after 1/);
    expectUsage(() => writeSortedSV(Int32Array.of(0, 2), 3), /doc 1 jumps from 0 to 2/);
    expectUsage(() => writeSortedSV(Int32Array.of(1, 1), 2), /must start at 0/);
    expectUsage(() => writeSortedSV(Int32Array.of(0, 1), 1), /not below the cardinality 1/);
    expectUsage(() => writeSortedSV(Int32Array.of(0, 0), 2), /cardinality is 2/);
  });

  it('rejects an empty row for the fixed-bit MV format and broken offsets', () => {
    expectUsage(() => writeFixedBitMV(rowsOf([[1], []]), 1), /doc 1 has no values/);
    expectUsage(() => writeFixedBitMV({ offsets: Int32Array.of(0, 3), values: Int32Array.of(1) }, 1), /offsets reach 3, only 1 values/);
  });
});

describe(`round trip through the readers (seed ${SEED})`, () => {
  it('fixed-bit SV and sorted SV, every width 1…31', () => {
    const r = rng(SEED);
    for (let bits = 1; bits <= 31; bits++) {
      for (const docs of [0, 1, 7, randInt(r, 8, 3000)]) {
        const max = 2 ** bits;
        const ids = Int32Array.from({ length: docs }, () => Math.floor(r() * max));
        const reader = openFixedBitSV(bytesRange(writeFixedBitSV(ids, bits)), { bits, totalDocs: docs });
        expect(Array.from(reader.readDictIds(0, docs)), `bits ${bits} docs ${docs}`).toEqual(Array.from(ids));
      }
    }
    for (let iter = 0; iter < 30; iter++) {
      const cardinality = randInt(r, 1, 500);
      const runs = Array.from({ length: cardinality }, () => randInt(r, 1, 20));
      const ids = Int32Array.from(runs.flatMap((n, d) => Array<number>(n).fill(d)));
      const reader = openSortedSV(bytesRange(writeSortedSV(ids, cardinality)), { cardinality, totalDocs: ids.length });
      expect(Array.from(reader.readDictIds(0, ids.length))).toEqual(Array.from(ids));
    }
  });

  it('fixed-bit MV and MV_ENTRY_DICT, every width 1…31', () => {
    const r = rng(SEED + 1);
    for (let bits = 1; bits <= 31; bits++) {
      const docs = randInt(r, 1, 2500);
      const pool = Array.from({ length: randInt(r, 1, 40) }, () =>
        Array.from({ length: randInt(r, 0, r() < 0.05 ? 300 : 4) }, () => Math.floor(r() * 2 ** bits)));
      const rows = Array.from({ length: docs }, () => pool[randInt(r, 0, pool.length - 1)]!);
      const nonEmpty = rows.map((row) => (row.length === 0 ? [0] : row));
      const block = rowsOf(nonEmpty);
      const T = block.offsets[docs]!;
      const mv = openFixedBitMV(bytesRange(writeFixedBitMV(block, bits)), { bits, totalDocs: docs, totalEntries: T });
      const same = (a: Int32Array, b: Int32Array, what: string): void =>
        expect(firstDifference(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), new Uint8Array(b.buffer, b.byteOffset, b.byteLength)), `bits ${bits} ${what}`).toBeUndefined();
      const back = mv.readDictIds(0, docs);
      same(back.offsets, block.offsets, 'fixed-bit MV offsets');
      same(back.values, block.values, 'fixed-bit MV values');
      const withEmpty = rowsOf(rows);
      const ed = openMVEntryDict(bytesRange(writeMVEntryDict(withEmpty, bits)), { bits, totalDocs: docs });
      const back2 = ed.readDictIds(0, docs);
      same(back2.offsets, withEmpty.offsets, 'MV_ENTRY_DICT offsets');
      same(back2.values, withEmpty.values, 'MV_ENTRY_DICT values');
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

async function compareForwardIndexes(location: string): Promise<string[]> {
  return withSegment(location, ({ segment, columns, index }) => {
    const matched: string[] = [];
    const totalDocs = segment.metadata.totalDocs;
    for (const col of columns.filter((c) => c.forwardIndexEncoding === 'DICTIONARY')) {
      const pinot = index(col.name, 'forward_index')!;
      const reader = openDictForward(bytesRange(pinot), {
        singleValue: col.singleValue, isSorted: col.isSorted, bits: col.bitsPerElement, cardinality: col.cardinality,
        totalDocs, totalEntries: col.totalNumberOfEntries, column: col.name,
      });
      // The writers take Pinot's bit width bits(cardinality − 1), as the creators compute it.
      const bits = bitsFor(Math.max(0, col.cardinality - 1));
      expect(bits, `${col.name} bitsPerElement`).toBe(col.bitsPerElement);
      let ours: Uint8Array;
      let kind: string;
      if (col.singleValue) {
        const ids = (reader as SVDictForwardReader).readDictIds(0, totalDocs);
        ours = col.isSorted ? writeSortedSV(ids, col.cardinality) : writeFixedBitSV(ids, bits);
        kind = col.isSorted ? 'sorted' : 'fixed-bit SV';
      } else {
        const rows = (reader as MVDictForwardReader).readDictIds(0, totalDocs);
        const entryDict = new DataView(pinot.buffer, pinot.byteOffset).getUint32(0) === MV_ENTRY_DICT_MAGIC;
        ours = entryDict ? writeMVEntryDict(rows, bits) : writeFixedBitMV(rows, bits);
        kind = entryDict ? 'MV_ENTRY_DICT' : 'fixed-bit MV';
      }
      expect(firstDifference(ours, pinot), `${location} ${col.name} (${kind})`).toBeUndefined();
      matched.push(`${col.name} (${kind})`);
    }
    return matched;
  });
}

describeFixtures('dictionary-encoded forward indexes of Pinot 1.5.1 segments re-encode byte for byte', GENERATED_DIR, (dir) => {
  for (const name of GENERATED_SEGMENTS) {
    it(name, async () => {
      const matched = await compareForwardIndexes(join(dir, name));
      console.log(`[forward dict] ${name}: ${matched.join(', ')}`);
      expect(matched.length).toBeGreaterThan(0);
    });
  }
});

describeFixtures('dictionary-encoded forward indexes of real segments re-encode byte for byte', REAL_DIR, (dir) => {
  for (const name of REAL_SEGMENTS.filter((s) => !s.startsWith('legacyRawInverted'))) {
    it(name, async () => {
      const matched = await compareForwardIndexes(join(dir, name));
      console.log(`[forward dict] ${name}: ${matched.join(', ')}`);
      expect(matched.length).toBeGreaterThan(0);
    });
  }
});
